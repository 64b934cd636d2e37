"""Digital-signature readiness: VGCA roots by fingerprint in every store a browser uses (real
NSS databases made and read with Debian's certutil, real OpenSSL bundles, Windows registry
blobs), the local signing service (a real listening server started by the test) and a CRL
endpoint served by nginx."""

from __future__ import annotations

import hashlib
import json
import os
import pwd
import shutil
import ssl
import subprocess
import tempfile
from pathlib import Path

import pytest

from egov_probe.core.model import Status
from egov_probe.facts.cert_stores import (fingerprint, openssl_store, read_nss_store,
                                          windows_store, WINDOWS_ROOT_KEYS)
from egov_probe.facts.net_proxy import NO_PROXY
from egov_probe.facts.signature import collect_signature, probe_signing_service, read_cert_stores
from egov_probe.facts.winsource import FixtureWindowsSource, RecordingWindowsSource, dump_evidence
from egov_probe.judge.policy import load_policy
from egov_probe.judge.signature import judge_signature, judge_signing_service, judge_vgca_root
from tests.servers.ca import TestCA
from tests.servers.nginx import Nginx
from tests.servers.ports import free_port

ROOT_NAME = "egov-probe VGCA Test Root"


def _unused_uid(start: int = 61000) -> int:
    """A uid with no account on this machine: the test user owns files, nothing else."""
    for uid in range(start, 65000):
        try:
            pwd.getpwuid(uid)
        except KeyError:
            return uid
    raise RuntimeError("no free uid")


USER_UID = _unused_uid()
OTHER_UID = _unused_uid(USER_UID + 1)


def der(path: Path) -> bytes:
    return ssl.PEM_cert_to_DER_cert(path.read_text("ascii"))


def sha256_of(path: Path) -> str:
    return fingerprint(der(path))


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sig")
    vgca = TestCA(folder / "vgca", common_name=ROOT_NAME)
    lookalike = TestCA(folder / "lookalike", common_name=ROOT_NAME)  # same name, other key
    return vgca, TestCA(folder / "other"), lookalike


def rules_for(*cas: TestCA, confirmed: bool = True, **extra) -> dict:
    return {"vgca_roots": [{"name": ROOT_NAME, "sha256": sha256_of(ca.root.cert),
                            "confirmed": confirmed} for ca in cas], **extra}


def bundle(folder: Path, *cas: TestCA) -> str:
    """An OpenSSL bundle (PEM) holding these roots."""
    path = folder / "bundle.pem"
    path.write_text("".join(ca.root.cert.read_text("ascii") for ca in cas), "ascii")
    return str(path)


class Home:
    """A user's home with a Firefox profile and a Chromium NSS database, owned by an account
    that is not root, under a folder everyone may traverse (like /home)."""

    def __init__(self) -> None:
        self.base = Path(tempfile.mkdtemp(prefix="egov-nss-"))
        self.base.chmod(0o755)
        self.path = self.base / "lan"
        self.firefox = self.path / ".mozilla/firefox/x1y2z3.default-release"
        self.chromium = self.path / ".pki/nssdb"
        for folder in (self.firefox, self.chromium):
            folder.mkdir(parents=True)
            certutil("-N", "-d", f"sql:{folder}", "--empty-password")

    def add(self, folder: Path, ca: TestCA, nickname: str = ROOT_NAME,
            trust: str = "C,,") -> None:
        certutil("-A", "-d", f"sql:{folder}", "-n", nickname, "-t", trust, "-i",
                 str(ca.root.cert))

    def hand_over(self, uid: int = USER_UID) -> None:
        """Give the home to the user, as on a real machine (0700 folders, user-writable db)."""
        for folder, _dirs, files in os.walk(self.path):
            os.chown(folder, uid, uid)
            for name in files:
                os.chown(os.path.join(folder, name), uid, uid)
        self.path.chmod(0o700)

    def digests(self) -> dict:
        return {str(p): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(self.path.rglob("*")) if p.is_file()}

    def stores(self, system: str) -> list:
        return read_cert_stores(system, homes=[("lan", str(self.path))],
                                system_nssdb=str(self.base / "no-system-nssdb"))

    def remove(self) -> None:
        shutil.rmtree(self.base)


def certutil(*args: str) -> None:
    subprocess.run(["certutil", *args], check=True, capture_output=True)


@pytest.fixture
def home():
    made = Home()
    yield made
    made.remove()


def test_a_root_added_to_the_browsers_nss_databases_is_found_in_each(pki, home, tmp_path):
    vgca, _other, _lookalike = pki
    home.add(home.firefox, vgca)
    home.add(home.chromium, vgca, nickname="VGCA", trust="CT,C,C")
    home.hand_over()
    before = home.digests()
    stores = home.stores(bundle(tmp_path, vgca))
    assert home.digests() == before  # read only: not a byte of the user's files changed
    check = judge_vgca_root(stores, rules_for(vgca))
    assert check.status is Status.PASS, (check.observed, check.remedy)
    [root] = check.details["roots"]
    assert [label.split(":")[0] for label in root["trusted_in"]] == [
        "system", "firefox (lan)", "chromium (lan)"]
    assert root["missing_from"] == [] and root["sha256"] == sha256_of(vgca.root.cert)
    nss = [s for s in check.details["stores"] if s["kind"] == "nss"]
    assert [s["path"] for s in nss] == [str(home.firefox), str(home.chromium)]
    assert all(s["read_as"] == f"uid {USER_UID}" and s["count"] == 1 for s in nss)


def test_a_root_only_in_the_openssl_bundle_is_a_warning_naming_the_browsers(pki, home,
                                                                            tmp_path):
    vgca, other, _lookalike = pki
    home.add(home.firefox, other, nickname="Some other root")  # the databases are not empty
    home.hand_over()
    check = judge_vgca_root(home.stores(bundle(tmp_path, vgca)), rules_for(vgca))
    assert check.status is Status.WARN
    assert "chỉ có trong kho OpenSSL" in check.remedy.vi and str(home.firefox) in check.remedy.vi
    assert "Firefox and Chromium do not use it" in check.remedy.en
    [root] = check.details["roots"]
    assert [label.split(":")[0] for label in root["missing_from"]] == [
        "firefox (lan)", "chromium (lan)"]
    # Without any browser database the same bundle is all there is: it passes.
    assert judge_vgca_root([openssl_store(bundle(tmp_path, vgca), None, kind="file")],
                           rules_for(vgca)).status is Status.PASS


def test_a_lookalike_with_the_same_name_and_another_key_is_not_accepted(pki, home, tmp_path):
    vgca, _other, lookalike = pki
    home.add(home.firefox, lookalike)  # same CN, same nickname, different key
    home.add(home.chromium, lookalike)
    home.hand_over()
    check = judge_vgca_root(home.stores(bundle(tmp_path, lookalike)), rules_for(vgca))
    assert check.status is Status.FAIL
    assert check.details["roots"][0]["trusted_in"] == []
    assert sha256_of(vgca.root.cert) in check.remedy.vi
    assert judge_vgca_root(home.stores(bundle(tmp_path, lookalike)),
                           rules_for(vgca, vgca_root_required=False)).status is Status.WARN


def test_without_the_nss_tools_the_databases_are_reported_unread(pki, home, tmp_path):
    vgca, _other, _lookalike = pki
    home.add(home.firefox, vgca)
    home.hand_over()
    store = read_nss_store(str(home.firefox), ("firefox",), "lan",
                           certutil="egov-no-such-certutil")  # looked up in PATH
    assert "install libnss3-tools" in store.error
    check = judge_vgca_root([openssl_store(bundle(tmp_path, vgca), None, kind="file"), store],
                            rules_for(vgca))
    assert check.status is Status.WARN and str(home.firefox) in check.remedy.vi


def test_a_root_present_but_not_trusted_for_websites_does_not_count(pki, home, tmp_path):
    vgca, _other, _lookalike = pki
    home.add(home.firefox, vgca, trust=",,")       # stored, e.g. seen once, never trusted
    home.add(home.chromium, vgca)
    home.hand_over()
    check = judge_vgca_root(home.stores(bundle(tmp_path, vgca)), rules_for(vgca))
    assert check.status is Status.WARN and "chưa được tin cậy" in check.remedy.vi
    [root] = check.details["roots"]
    assert [label.split(":")[0] for label in root["present_untrusted_in"]] == ["firefox (lan)"]


def test_unconfirmed_or_missing_fingerprints_never_pass(pki, home, tmp_path):
    vgca, _other, _lookalike = pki
    home.add(home.firefox, vgca)
    home.add(home.chromium, vgca)
    home.hand_over()
    stores = home.stores(bundle(tmp_path, vgca))
    unconfirmed = judge_vgca_root(stores, rules_for(vgca, confirmed=False))
    assert unconfirmed.status is Status.WARN
    assert "chưa được Sở TT&TT xác nhận" in unconfirmed.remedy.vi
    assert "not confirmed" in unconfirmed.observed[0]
    placeholder = judge_vgca_root(stores, {"vgca_roots": [
        {"name": ROOT_NAME, "sha256": None, "confirmed": False}]})
    assert placeholder.status is Status.WARN and "chưa có vân tay" in placeholder.remedy.vi
    # The shipped policy holds placeholders only: on any machine the check is "not confirmed".
    shipped = load_policy().section("signature")
    assert all(root["sha256"] is None and root["confirmed"] is False
               for root in shipped["vgca_roots"])
    assert judge_vgca_root(stores, shipped).status is Status.WARN


@pytest.mark.skipif(os.geteuid() != 0, reason="reading as the owner needs root")
def test_as_root_certutil_runs_as_the_databases_owner(pki, home, tmp_path):
    """A database owned by the user, behind a folder only root may enter: root could read it,
    its owner cannot. That it is reported unreadable shows certutil did not run as root."""
    vgca, _other, _lookalike = pki
    home.add(home.firefox, vgca)
    home.hand_over()
    locked = Path(tempfile.mkdtemp(prefix="egov-nss-locked-"))  # 0700, root's
    try:
        moved = locked / "profile"
        shutil.move(str(home.firefox), moved)
        store = read_nss_store(str(moved), ("firefox",), "lan")
        assert store.error and f"certutil as uid {USER_UID}" in store.error, store.error
        assert store.read_as == f"uid {USER_UID}" and store.roots == []
        os.chown(locked, USER_UID, USER_UID)  # now the owner can reach it
        assert read_nss_store(str(moved), ("firefox",), "lan").find(sha256_of(vgca.root.cert))
    finally:
        shutil.rmtree(locked)
    check = judge_vgca_root([openssl_store(bundle(tmp_path, vgca), None, kind="file"), store],
                            rules_for(vgca))
    assert check.status is Status.WARN and "Không đọc được các kho tin cậy sau" in check.remedy.vi


@pytest.mark.skipif(os.geteuid() != 0, reason="switching accounts needs root")
def test_run_as_another_user_the_homes_it_cannot_read_are_reported_not_skipped(pki, home):
    """The probe run by a user who cannot look into another's home says that home's browsers
    were not checked (a forked child drops to a third account and reads the stores)."""
    vgca, _other, _lookalike = pki
    home.add(home.firefox, vgca)
    home.hand_over()  # 0700: only its owner (and root) may enter
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: another account, no groups
        try:
            os.setgroups([])
            os.setgid(OTHER_UID)
            os.setuid(OTHER_UID)
            stores = home.stores(None)
            os.write(writer, json.dumps([s.as_dict() for s in stores]).encode())
        finally:
            os._exit(0)
    os.close(writer)
    with os.fdopen(reader, "rb") as pipe:
        seen = json.loads(pipe.read() or b"[]")
    os.waitpid(pid, 0)
    assert [s["kind"] for s in seen] == ["openssl", "nss"], seen
    assert seen[1]["path"] == str(home.path) and seen[1]["owner"] == "lan"
    assert f"cannot be read as uid {OTHER_UID}" in seen[1]["error"]


@pytest.mark.skipif(os.geteuid() != 0, reason="a root-owned database needs root")
def test_the_system_wide_nss_database_is_read(pki, tmp_path):
    """/etc/pki/nssdb's stand-in: root's, in a folder only root may change (/run), read as root."""
    vgca, _other, _lookalike = pki
    folder = Path(tempfile.mkdtemp(prefix="egov-nss-system-", dir="/run"))
    try:
        folder.chmod(0o755)
        certutil("-N", "-d", f"sql:{folder}", "--empty-password")
        certutil("-A", "-d", f"sql:{folder}", "-n", "VGCA", "-t", "C,,", "-i",
                 str(vgca.root.cert))
        stores = read_cert_stores(bundle(tmp_path, vgca), homes=[], system_nssdb=str(folder))
    finally:
        shutil.rmtree(folder)
    assert [(s.kind, s.used_by, s.read_as) for s in stores] == [
        ("file", ("system",), None), ("nss", ("chromium", "firefox"), "root (uid 0)")]
    assert judge_vgca_root(stores, rules_for(vgca)).status is Status.PASS


def test_a_root_owned_database_that_others_can_write_is_not_read_as_root(pki, tmp_path):
    if os.geteuid() != 0:
        pytest.skip("root only")
    folder = Path(tempfile.mkdtemp(prefix="egov-nss-shared-"))
    try:
        folder.chmod(0o755)
        certutil("-N", "-d", f"sql:{folder}", "--empty-password")
        (folder / "pkcs11.txt").chmod(0o666)  # anyone could make NSS load their library
        store = read_nss_store(str(folder), ("chromium", "firefox"))
        assert store.error and "another account can change it" in store.error
    finally:
        shutil.rmtree(folder)


def test_the_windows_machine_root_stores_are_read_from_the_registry(pki):
    vgca, other, lookalike = pki

    def entry(ca: TestCA) -> tuple[str, dict]:
        thumbprint = hashlib.sha1(der(ca.root.cert)).hexdigest().upper()
        return thumbprint, {"view64": {"values": {"Blob": certificate_blob(der(ca.root.cert),
                                                                           "VGCA").hex()}}}

    root_key, auth_key = (f"HKLM\\{key}" for key in WINDOWS_ROOT_KEYS[:2])
    registry = {}
    for key, cas in ((root_key, [other, lookalike]), (auth_key, [vgca])):
        entries = dict(entry(ca) for ca in cas)
        registry[key] = {"view64": {"subkeys": list(entries)}}
        registry.update({f"{key}\\{thumb}": value for thumb, value in entries.items()})
    source = FixtureWindowsSource({"format": "egov-probe-windows-evidence/1",
                                   "registry": registry})
    recorder = RecordingWindowsSource(source)  # what `egov-probe evidence` does in the field
    store = windows_store(recorder)
    assert {r.sha256 for r in store.roots} == {sha256_of(ca.root.cert)
                                               for ca in (vgca, other, lookalike)}
    replayed = windows_store(FixtureWindowsSource(dump_evidence(recorder)))
    assert {r.sha256 for r in replayed.roots} == {r.sha256 for r in store.roots}
    assert judge_vgca_root([store], rules_for(vgca)).status is Status.PASS
    without = FixtureWindowsSource({"registry": {k: v for k, v in registry.items()
                                                 if not k.startswith(auth_key)}})
    assert judge_vgca_root([windows_store(without)], rules_for(vgca)).status is Status.FAIL


def certificate_blob(der_bytes: bytes, name: str) -> bytes:
    """A SystemCertificates ``Blob`` as Windows writes it: properties id·1·length·data
    (friendly name, property 11, UTF-16; the certificate, property 32)."""
    import struct

    parts = [(11, (name + "\0").encode("utf-16-le")), (32, der_bytes)]
    return b"".join(struct.pack("<III", pid, 1, len(data)) + data for pid, data in parts)


def test_unreadable_system_store_is_an_error(tmp_path, pki):
    vgca, _other, _lookalike = pki
    check = judge_vgca_root([openssl_store(str(tmp_path / "none.pem"), None, kind="file")],
                            rules_for(vgca))
    assert check.status is Status.ERROR and "FileNotFoundError" in check.remedy.en
    assert judge_vgca_root([], {}).status is Status.SKIPPED  # no root given


def test_system_trust_store_is_read():
    store = openssl_store()
    assert store.error is None and len(store.roots) > 50  # Debian's ca-certificates
    assert "/etc/ssl/certs" in store.path


@pytest.mark.services
def test_signing_service_answering_or_not(tmp_path):
    web = Nginx(tmp_path / "svc")
    port = web.add_tls_server(None, body="vgca")
    with web.start():
        up = judge_signing_service(probe_signing_service(port, 2),
                                   {"signing_service_required": True, "signing_service_port": port})
    assert up.status is Status.PASS
    down_port = free_port()
    rules = {"signing_service_required": True, "signing_service_port": down_port}
    down = judge_signing_service(probe_signing_service(down_port, 2), rules)
    assert (down.status, down.details["failed_step"]) == (Status.FAIL, "signing_service")
    assert f"127.0.0.1 cổng {down_port}" in down.remedy.vi
    optional = judge_signing_service(probe_signing_service(down_port, 2),
                                     {**rules, "signing_service_required": False})
    assert optional.status is Status.SKIPPED and optional.remedy is None


@pytest.mark.services
def test_crl_endpoint_answering_404_is_reachable_and_a_dead_ocsp_is_not(tmp_path, pki):
    vgca, _other, _lookalike = pki
    web = Nginx(tmp_path / "crl")
    port = web.add_tls_server(None, status=404)
    dead = free_port()
    network = {"step_timeout_s": 2, "endpoints": [
        {"id": "crl", "url": f"http://127.0.0.1:{port}/vgca.crl", "kind": "crl",
         "name": {"vi": "Danh sách thu hồi (CRL)", "en": "CRL"}},
        {"id": "ocsp", "url": f"http://127.0.0.1:{dead}/", "kind": "ocsp", "required": True},
        {"id": "portal", "url": f"http://127.0.0.1:{dead}/", "kind": "http"}]}
    rules = {"trust_store": str(vgca.root.cert), "signing_service_port": dead,
             **rules_for(vgca)}
    with web.start():
        checks = {c.id: c for c in judge_signature(collect_signature(rules, network, NO_PROXY),
                                                   rules, network)}
    assert set(checks) == {"signature.vgca_root", "signature.signing_service",
                           "signature.crl", "signature.ocsp"}  # not the portal
    assert checks["signature.crl"].status is Status.PASS
    assert checks["signature.crl"].title.vi == "Dịch vụ chữ ký số: Danh sách thu hồi (CRL)"
    ocsp = checks["signature.ocsp"]
    assert (ocsp.status, ocsp.details["failed_step"], ocsp.details["error"]) == (
        Status.FAIL, "tcp_ipv4", "refused")
    assert ocsp.category == "signature"
