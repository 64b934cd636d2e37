"""What ``fleet --network`` sends a host (``egov_probe/fleet/probe_bundle.py``), run for real: the
bootstrap in ``python3 -I -S`` as the host runs it (here, this machine's Python, isolated the
same way), fed the bundle and the request on stdin, against a real dnsmasq and nginx on
loopback, so that every module the sections import while they run (dnspython's record types
among them) must be in the bundle."""

from __future__ import annotations

import json
import marshal
import subprocess
import sys
import types
import zlib

import pytest

from egov_probe.fleet import probe_bundle
from egov_probe.fleet.probe_bundle import MAGIC, SIZE_DIGITS, SOURCES_KIND, ProbeBundle, request
from tests.servers.ca import TestCA
from tests.servers.dnsmasq import Dnsmasq
from tests.servers.nginx import Nginx
from tests.servers.policyfile import network_rules, policy_with, quiet_signature

pytestmark = pytest.mark.services
NAME = "qlvb.egov.test"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bundle")
    ca = TestCA(folder / "ca")
    web = Nginx(folder / "nginx")
    port = web.add_tls_server(ca.issue("portal", NAME))
    dns = Dnsmasq(folder / "dns", {NAME: ["127.0.0.1"]})
    with web.start(), dns.start():
        network = network_rules([
            {"id": "portal", "url": f"https://{NAME}:{port}/", "kind": "https",
             "name": {"vi": "Cổng", "en": "Portal"}},
            {"id": "nowhere", "url": f"https://khong-co.egov.test:{port}/", "kind": "https",
             "name": {"vi": "Không có", "en": "Nowhere"}}],
            resolvers=[dns.resolver], ca_file=str(ca.root.cert))
        yield policy_with(folder, network=network, signature=quiet_signature())


def host_run(stdin: bytes) -> tuple[str, dict]:
    """The bootstrap as the host runs it: its first line, and its answer."""
    done = subprocess.run([sys.executable, "-I", "-S", "-c", probe_bundle.BOOTSTRAP],
                          input=stdin, capture_output=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr.decode()
    first, _, rest = done.stdout.decode("utf-8").partition("\n")
    return first, json.loads(rest)


def headed(kind: bytes, payload: bytes) -> bytes:
    return kind + f"{len(payload):0{SIZE_DIGITS}d}".encode() + payload


def checks_of(answer: dict) -> dict[str, dict]:
    assert [s["name"] for s in answer["sections"]] == ["network", "signature"]
    assert not [s for s in answer["sections"] if "error" in s], answer
    return {c["id"]: c for s in answer["sections"] for c in s["checks"]}


def test_the_compiled_bundle_holds_only_what_the_host_runs_and_runs_there(site):
    bundle = ProbeBundle()
    sent = bundle.early()
    assert sent is not None and sent.startswith(MAGIC.encode())
    files = marshal.loads(zlib.decompress(sent[8 + SIZE_DIGITS:]))
    assert all(isinstance(marshal.loads(code), types.CodeType) for code in files.values())
    assert "egov_probe/fleet/onhost.py" in files and "dns/resolver.py" in files
    # nothing the host never runs crosses the link: no YAML, no data, no controller side
    assert not [f for f in files if f.startswith(("yaml/", "egov_probe/data/",
                                                  "egov_probe/store/", "egov_probe/render/"))]
    assert len(sent) < 400_000

    first, answer = host_run(sent + bundle.rest(site, compiled=True, sent_early=True))
    assert first.split() == [MAGIC, sys.version.split()[0]]
    checks = checks_of(answer)
    assert checks["network.portal"]["status"] == "pass", checks["network.portal"]
    nowhere = json.dumps(checks["network.nowhere"], ensure_ascii=False)
    assert checks["network.nowhere"]["status"] == "fail" and "NXDOMAIN" in nowhere
    assert answer["python"] == sys.version.split()[0] and answer["seconds"] > 0


def test_a_host_of_another_python_passes_over_the_compiled_bundle_and_gets_the_sources(site):
    other = headed(b"0d0d0a0d", b"not for this Python")  # compiled for some other bytecode
    sources = ProbeBundle().bundle(compiled=False)
    assert sources.startswith(SOURCES_KIND)
    files = marshal.loads(zlib.decompress(sources[8 + SIZE_DIGITS:]))
    assert "egov_probe/fleet/onhost.py" in files and "dns/rdtypes/ANY/MX.py" in files
    assert not [f for f in files if f.startswith(("yaml/", "egov_probe/data/"))]

    _first, answer = host_run(other + sources + request(site))
    assert checks_of(answer)["network.portal"]["status"] == "pass"


def test_a_bundle_that_cannot_be_compiled_is_said_before_any_host_starts(monkeypatch):
    monkeypatch.setattr(probe_bundle, "COMPILER", probe_bundle.COMPILER.replace(
        "egov_probe.fleet.onhost", "egov_probe.fleet.no_such_module"))
    with pytest.raises(RuntimeError, match="no_such_module"):
        probe_bundle.build_bundle(compiled=True)
