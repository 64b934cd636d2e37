"""The human summary of one report, Vietnamese by default, English on request."""

from __future__ import annotations

from ..core.model import Report, Status

LABELS = {
    "vi": {
        "title": "KẾT QUẢ KHẢO SÁT MÁY TRẠM",
        "host": "Máy", "unit": "Đơn vị", "officer": "Cán bộ", "os": "Hệ điều hành",
        "policy": "Chính sách", "result": "Kết luận", "report": "Báo cáo lưu tại",
        "counts": "Đạt {pass} · Cảnh báo {warn} · Không đạt {fail} · Lỗi {error} · Bỏ qua {skipped}",
        "problems": "Các mục cần xử lý:", "none": "Không có mục nào cần xử lý.",
        "fix": "Cách khắc phục", "seen": "thực tế", "want": "yêu cầu",
        "ready": "SẴN SÀNG", "ready_with_conditions": "SẴN SÀNG CÓ ĐIỀU KIỆN",
        "not_ready": "CHƯA SẴN SÀNG", "no_unit": "(chưa chọn)",
        "status": {"fail": "KHÔNG ĐẠT", "error": "LỖI", "warn": "CẢNH BÁO"},
    },
    "en": {
        "title": "WORKSTATION AUDIT", "host": "Host", "unit": "Unit", "officer": "Officer",
        "os": "Operating system", "policy": "Policy", "result": "Result",
        "report": "Report written to",
        "counts": "Pass {pass} · Warn {warn} · Fail {fail} · Error {error} · Skipped {skipped}",
        "problems": "To fix:", "none": "Nothing to fix.", "fix": "Remedy",
        "seen": "observed", "want": "expected",
        "ready": "READY", "ready_with_conditions": "READY WITH CONDITIONS",
        "not_ready": "NOT READY", "no_unit": "(not given)",
        "status": {"fail": "FAIL", "error": "ERROR", "warn": "WARN"},
    },
}
_ORDER = {Status.FAIL: 0, Status.ERROR: 1, Status.WARN: 2}


def render_summary(report: Report, lang: str = "vi", report_path: str | None = None,
                   unit_name: str | None = None) -> str:
    labels = LABELS["en" if lang == "en" else "vi"]
    host = report.host
    os_text = f"{host.os.name} {host.os.version} ({host.os.build}, {host.os.arch})" if host.os else "?"
    lines = [labels["title"], "=" * len(labels["title"]),
             f"{labels['host']}: {host.hostname}",
             f"{labels['unit']}: {unit_name or host.unit_id or labels['no_unit']}"]
    if host.officer:
        lines.append(f"{labels['officer']}: {host.officer}")
    lines += [f"{labels['os']}: {os_text}",
              f"{labels['policy']}: {report.policy.id} ({report.policy.sha256[:12]})",
              f"{labels['result']}: {labels[report.readiness()]}",
              labels["counts"].format(**report.counts()), ""]
    lines += _problems(report, lang, labels)
    if report_path:
        lines += ["", f"{labels['report']}: {report_path}"]
    return "\n".join(lines) + "\n"


def _problems(report: Report, lang: str, labels: dict) -> list[str]:
    problems = sorted((c for c in report.checks if c.status in _ORDER),
                      key=lambda c: (_ORDER[c.status], c.id))
    if not problems:
        return [labels["none"]]
    lines = [labels["problems"]]
    for check in problems:
        lines.append(f"[{labels['status'][check.status.value]}] {check.title.get(lang)}"
                     f" — {labels['seen']}: {_show(check.observed)}; {labels['want']}: {_show(check.expected)}")
        if check.remedy:
            lines.append(f"    → {labels['fix']}: {check.remedy.get(lang)}")
    return lines


def _show(value: object) -> str:
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "—"
    return "—" if value is None else str(value)
