"""Digital-signature readiness judged against the policy's ``signature`` section."""

from __future__ import annotations

from typing import Mapping, Optional, Sequence

from ..core import messages
from ..core.model import CheckResult, Evidence, Status, Text
from ..facts.cert_stores import CertStore, normalise_fingerprint
from ..facts.net_types import Step
from ..facts.signature import SignatureFacts
from .network import judge_endpoint

_ORDER = (Status.PASS, Status.SKIPPED, Status.WARN, Status.FAIL, Status.ERROR)


def judge_vgca_root(stores: Sequence[CertStore], rules: Mapping) -> CheckResult:
    """Each VGCA root of the policy, by fingerprint, in every store a browser here trusts.

    Pass only when every root's fingerprint is confirmed by the DIC and the root is trusted in
    every store read; a root only in the OpenSSL bundle is a warning (Firefox and Chromium do
    not use it); a root in no store fails (warns when the policy does not require it)."""
    roots = list(rules.get("vgca_roots") or [])
    check = CheckResult(id="signature.vgca_root", category="signature",
                        title=messages.text("signature.vgca_root"), status=Status.PASS,
                        expected=" / ".join(root["name"] for root in roots),
                        evidence=[Evidence(_evidence_kind(s), s.path) for s in stores],
                        details={"stores": [s.as_dict() for s in stores]})
    if not roots:
        check.status = Status.SKIPPED  # the policy names no root to look for
        return check
    broken = [s for s in stores if s.error and s.kind != "nss"]
    if broken:
        check.status = Status.ERROR
        check.remedy = messages.text("signature.vgca_root", "unknown",
                                     message="; ".join(f"{s.path}: {s.error}" for s in broken))
        return check
    readable = [s for s in stores if not s.error]
    judged = [_judge_root(root, readable, rules.get("vgca_root_required", True))
              for root in roots]
    unread = [s for s in stores if s.error]
    if unread:
        judged.append((Status.WARN, "", messages.text(
            "signature.vgca_root", "unread", stores=_labels(unread))))
    check.details["roots"] = [_root_details(root, readable) for root in roots]
    check.observed = [note for _status, note, _remedy in judged if note]
    check.status = max((status for status, _note, _remedy in judged), key=_ORDER.index)
    remedies = [remedy for _status, _note, remedy in judged if remedy]
    if remedies:
        check.remedy = Text(vi=" ".join(r.vi for r in remedies),
                            en=" ".join(r.en for r in remedies))
    return check


def _evidence_kind(store: CertStore) -> str:
    return "platform" if store.kind == "windows" else "file"


def _labels(stores: Sequence[CertStore]) -> str:
    return "; ".join(store.label for store in stores)


def _judge_root(root: Mapping, stores: Sequence[CertStore],
                required: bool) -> tuple[Status, str, Optional[Text]]:
    """(status, what was observed, remedy) for one root of the policy. While the DIC has not
    confirmed its fingerprint, a root is at best (and at worst) a warning."""
    name, sha256 = root["name"], normalise_fingerprint(root.get("sha256") or "")
    if sha256 is None:
        return (Status.WARN, f"{name}: chưa xác nhận / not confirmed (no fingerprint)",
                messages.text("signature.vgca_root", "placeholder", root=name))
    holding = [s for s in stores if s.trusts(sha256)]
    missing = [s for s in stores if s not in holding]
    values = {"root": name, "sha256": sha256, "store": _labels(stores),
              "missing": _labels(missing), "found": _labels(holding)}
    note = f"{name}: {', '.join(s.label for s in holding) or '—'}"
    status, remedy = Status.PASS, None
    if not holding:
        status = Status.FAIL if required else Status.WARN
        remedy = messages.text("signature.vgca_root", "remedy", **values)
    elif missing:
        only_openssl = all(s.kind in ("openssl", "file") for s in holding)
        status = Status.WARN
        remedy = messages.text("signature.vgca_root",
                               "openssl_only" if only_openssl else "partial", **values)
    if root.get("confirmed"):
        return status, note, remedy
    unconfirmed = messages.text("signature.vgca_root", "unconfirmed", **values)
    return (Status.WARN, f"{note} (chưa xác nhận / not confirmed)",
            Text(vi=f"{remedy.vi} {unconfirmed.vi}", en=f"{remedy.en} {unconfirmed.en}")
            if remedy else unconfirmed)


def _root_details(root: Mapping, stores: Sequence[CertStore]) -> dict:
    sha256 = normalise_fingerprint(root.get("sha256") or "")
    found = {s.label: s.find(sha256) for s in stores} if sha256 else {}  # label → hit
    return {"name": root["name"], "sha256": sha256, "confirmed": bool(root.get("confirmed")),
            "trusted_in": [label for label, hit in found.items() if hit and hit.trusted],
            "present_untrusted_in": [label for label, hit in found.items()
                                     if hit and not hit.trusted],
            "missing_from": [label for label, hit in found.items() if not hit]}


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
    checks = [judge_vgca_root(facts.stores, rules),
              judge_signing_service(facts.signing_service, rules)]
    checks += [judge_endpoint(r, by_id[r.endpoint_id], network_rules, category="signature",
                              check_id=f"signature.{r.endpoint_id}",
                              title_key="signature.endpoint", any_status=True)
               for r in facts.endpoints]
    return checks
