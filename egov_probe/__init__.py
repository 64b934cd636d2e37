"""egov_probe: readiness probe for the Nghệ An e-government core pilot (HCM Egov Framework 2.0).

The sub-packages are the layers, each importing only those below it (docs/architecture.md):
``commands`` on top; ``fleet``, ``mailboxes``, ``render``; ``matrix``; ``store``; ``audit``;
``judge``; ``facts``; ``core`` at the bottom. Facts are collected (``facts``), judged against a
policy (``judge``), kept in a report (``core.model``) and rendered (``render``).
"""

__version__ = "0.1.0"
