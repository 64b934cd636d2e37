"""The probe's side of the collector: its own key (enrollment), the outbox on disk and the
sender that empties it (docs/collector.md)."""
