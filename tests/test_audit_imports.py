"""The audit's path imports only what the audit needs: each import costs a cold start on a
field PC (and under Wine, bench/bench_kit.py). cryptography is loaded only when a report is
signed; templates, schema validation and DNS are for other commands and ``--network``."""

from __future__ import annotations

import json
import os
import subprocess
import sys

# Top-level packages the plain audit (no --network, no enrolled identity) must not import.
NOT_ON_THE_AUDIT_PATH = ("cryptography", "jinja2", "jsonschema", "dns", "paramiko", "winrm",
                         "openpyxl", "psycopg", "ldap3", "starlette", "uvicorn")

PROBE = """
import json, sys
from egov_probe.commands.main import main
code = main(sys.argv[1:])
print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))
sys.exit(code)
"""


def test_plain_audit_imports_no_library_it_does_not_use(tmp_path):
    env = {**os.environ, "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "XDG_DATA_HOME": str(tmp_path / "data"), "APPDATA": str(tmp_path / "appdata")}
    result = subprocess.run([sys.executable, "-c", PROBE, "audit", "--unit", "thi-tran-yen-thanh",
                             "--officer", "Kiểm thử", "--out", str(tmp_path / "out"), "--json"],
                            capture_output=True, text=True, timeout=120, env=env, check=False)
    assert result.returncode in (0, 1), result.stderr[-2000:]
    imported = set(json.loads(result.stdout.strip().splitlines()[-1]))
    assert not imported & set(NOT_ON_THE_AUDIT_PATH), sorted(imported & set(NOT_ON_THE_AUDIT_PATH))
