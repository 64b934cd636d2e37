"""Digital-signature readiness judged against the policy's ``signature`` section."""

from __future__ import annotations

from typing import Mapping

from ..core import messages
from ..core.model import CheckResult, Evidence, Status
from ..facts.net_types import Step
from ..facts.signature import SignatureFacts, TrustStore
from .network import judge_endpoint

def judge_vgca_root(store: TrustStore, rules: Mapping) -> CheckResult:
    names = list(rules.get("vgca_root_names") or [])
    check = CheckResult(id="signature.vgca_root", category="signature",
                        title=messages.text("signature.vgca_root"), status=Status.PASS,
                        expected=" / ".join(names),
                        evidence=[Evidence("platform" if store.source.startswith("Windows")
                                           else "file", store.source)],
                        details={"store": store.as_dict()})
    if not names:
        check.status = Status.SKIPPED  # the policy names no root to look for
        return check
    if store.error:
        check.status = Status.ERROR
        check.remedy = messages.text("signature.vgca_root", "unknown", message=store.error)
        return check
    found = store.matching(names)
    check.observed = [root["cn"] or root["o"] for root in found]
    if not found:
        check.status = Status.FAIL if rules.get("vgca_root_required", True) else Status.WARN
        check.remedy = messages.text("signature.vgca_root", "remedy", store=store.source,
                                     expected=" / ".join(names))
    return check


def judge_signing_service(step: Step, rules: Mapping) -> CheckResult:
    port = rules.get("signing_service_port", 8987)
    required = rules.get("signing_service_required", False)
    check = CheckResult(id="signature.signing_service", category="signature",
                        title=messages.text("signature.signing_service", port=port),
                        status=Status.PASS,
                        observed="answering" if step.ok else step.error,
                        expected="answering" if required else "optional",
                        evidence=[Evidence("network", f"127.0.0.1:{port}")],
                        duration_ms=round(step.ms, 3), details={"steps": [step.as_dict()]})
    if not step.ok:
        check.status = Status.FAIL if required else Status.SKIPPED
        check.details.update(failed_step="signing_service", error=step.error)
        if required:
            check.remedy = messages.text("signature.signing_service", "remedy", port=port,
                                         message=step.message or step.error)
    return check


def judge_signature(facts: SignatureFacts, rules: Mapping, network_rules: Mapping
                    ) -> list[CheckResult]:
    """The VGCA root, the signing service, and each CRL/OCSP/timestamp endpoint (reachable:
    any HTTP answer will do, as these services answer a plain GET with an error)."""
    by_id = {e["id"]: e for e in network_rules.get("endpoints", [])}
    checks = [judge_vgca_root(facts.store, rules),
              judge_signing_service(facts.signing_service, rules)]
    checks += [judge_endpoint(r, by_id[r.endpoint_id], network_rules, category="signature",
                              check_id=f"signature.{r.endpoint_id}",
                              title_key="signature.endpoint", any_status=True)
               for r in facts.endpoints]
    return checks
