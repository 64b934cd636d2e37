"""The collector: the DIC's HTTPS service (``egov-probe serve``) that takes reports from the
communes' probes and shows the live readiness page (docs/collector.md)."""
