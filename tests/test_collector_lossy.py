"""Probes upload through a link that loses 30 % of its packets (root; marker ``netns``).

The real ``egov-probe serve`` (uvicorn, TLS with a TestCA certificate) runs in the DIC's
namespace; five communes' probes, each in its own namespace, each enrolled for its own unit,
run the real ``egov-probe upload`` with 20 reports each, all at once, through a bridge where
every namespace's own nft table drops 30 % of the packets it receives (tests/netns/lossy.py).
Every report must arrive exactly once, signed by its probe's key, and no outbox keeps any.
"""

from __future__ import annotations

import json
import os

import pytest

from tests.collector_e2e import logs, pilot_units, stored, wait_all, write_reports
from tests.netns.lossy import LossyLink, leftovers
from tests.servers.ca import TestCA
from tests.servers.collector import CollectorServer, Probe

pytestmark = [pytest.mark.netns,
              pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root")]

PROBES, REPORTS, LOSS = 5, 20, 30
# Generous: at 30 % loss a TLS handshake often waits for a retransmitted SYN (1 s, 3 s...).
UPLOAD_TIMEOUT_S = 900


def _key_id(probe: Probe) -> str:
    record = json.loads((probe.identity / f"{probe.unit_id}.json").read_text(encoding="utf-8"))
    return record["key_id"]


def test_every_report_crosses_a_lossy_link_exactly_once(tmp_path):
    units = pilot_units(PROBES)
    store = str(tmp_path / "store.sqlite")
    ca = TestCA(tmp_path / "ca")
    link = LossyLink(PROBES, loss_percent=LOSS).start()
    tag = link.tag
    probes: list[Probe] = []
    try:
        server = CollectorServer(store, tmp_path / "server", ca, site=link.server).start()
        try:
            probes += [Probe(tmp_path / f"probe-{i}", unit, server, site=link.sites[i])
                       for i, unit in enumerate(units)]
            link.set_loss(0)  # enrolment is a technician's one-off step: on a clean link
            for probe in probes:
                enrolled = probe.enroll(server.token(probe.unit_id))
                assert enrolled.returncode == 0, enrolled.stderr
            link.set_loss(LOSS)
            expected = {probe.unit_id: write_reports(tmp_path / "reports" / probe.unit_id,
                                                     probe.unit_id, REPORTS) for probe in probes}
            runs = [probe.upload(sorted(expected[probe.unit_id].values())) for probe in probes]
            codes = wait_all(runs, UPLOAD_TIMEOUT_S)
            dropped = link.dropped()
        finally:
            for probe in probes:
                probe.kill()
            server.stop()
    finally:
        link.close()
    assert leftovers(tag) == []
    assert dropped > 50  # the link did lose packets (counted by the nft rules)
    assert codes == [0] * PROBES, logs(probes)
    assert [probe.waiting() for probe in probes] == [[]] * PROBES
    assert [probe.rejected() for probe in probes] == [[]] * PROBES
    assert all(f"sent {REPORTS}/{REPORTS}" in probe.log() for probe in probes), logs(probes)
    rows = stored(store)
    assert len(rows) == PROBES * REPORTS  # nothing twice
    assert {row[0] for row in rows} == {rid for reports in expected.values() for rid in reports}
    keys = {probe.unit_id: _key_id(probe) for probe in probes}
    for report_id, unit_id, key_id in rows:  # each signed by its own unit's probe
        assert report_id in expected[unit_id]
        assert key_id == keys[unit_id]
