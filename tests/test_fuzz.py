"""About 2,100 generated policies, inventories and reports through policy-check, units -i,
validate and one import (``tests/fuzz_inputs.py``, a fixed seed): no traceback, no internal
error, every error names its file, no case beyond 5 s (a hang guard, not a speed target),
``validate`` and ``import`` agree on every report, no input file changed, and the whole run
stays under 300 MB of resident memory (the child's ``getrusage`` peak, reported by it)."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT

SEED, COUNT = 20261130, 2100
PEAK_MB = 300


def test_generated_hostile_inputs_get_clear_errors_within_bounds(tmp_path):
    result = subprocess.run([sys.executable, "-m", "tests.fuzz_inputs", str(SEED), str(COUNT),
                             str(tmp_path / "cases")], cwd=ROOT, capture_output=True,
                            text=True, timeout=900, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(result.stdout)
    assert summary["cases"] >= 2000
    assert summary["problems"] == []
    assert summary["valid_reports"] > 50  # good ones were among them, and were stored
    assert 0 < summary["peak_mb"] < PEAK_MB  # the child's own peak resident memory
