"""egov_probe: readiness probe for the Nghệ An e-government core pilot (HCM Egov Framework 2.0).

Facts are collected (``egov_probe.facts``), judged against a policy (``egov_probe.checks``),
kept in a report (``egov_probe.model``) and rendered (``egov_probe.render``).
"""

__version__ = "0.1.0"
