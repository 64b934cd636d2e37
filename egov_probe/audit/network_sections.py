"""The network and signature sections: reachability of the policy's endpoints, the clock,
the certificate stores and the signing service, as seen from this machine.

Light to import on purpose (each section imports its collectors and judges when it runs):
``egov-probe fleet --network`` runs these two on each workstation (``fleet/onhost.py``), in a
python3 started for them, where every module imported at start is time the host waits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .section import SectionResult

if TYPE_CHECKING:
    from ..judge.effective_policy import Policy


def network_section(policy: Policy) -> SectionResult:
    """The endpoints (DNS, TCP v4/v6, TLS, HTTP), IPv6 and the clock (category ``clock``)."""
    from ..facts.network import collect_network, local_proxy_settings
    from ..judge.network import judge_network

    facts = collect_network(policy.section("network"), local_proxy_settings())
    return SectionResult("network", facts.as_dict(),
                         judge_network(facts, policy.section("network")))


def signature_section(policy: Policy) -> SectionResult:
    from ..facts.network import local_proxy_settings
    from ..facts.signature import collect_signature
    from ..judge.signature import judge_signature

    facts = collect_signature(policy.section("signature"), policy.section("network"),
                              local_proxy_settings())
    return SectionResult("signature", facts.as_dict(), judge_signature(
        facts, policy.section("signature"), policy.section("network")))
