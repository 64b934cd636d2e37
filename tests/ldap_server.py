"""A real OpenLDAP server (Debian's slapd) for tests: own CA, own config, own mdb database.

``LdapServer.start(workdir, ldif)`` writes a slapd.conf, loads ``ldif`` with slapadd, starts
slapd on free loopback ports (ldap:// with StartTLS and ldaps://) and waits until it answers;
``stop()`` ends it. TLS is required for every operation (``security tls=1``).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

SLAPD = "/usr/sbin/slapd"
SLAPADD = "/usr/sbin/slapadd"
SCHEMAS = ("core", "cosine", "inetorgperson", "nis")
SUFFIX = "dc=nghean,dc=gov,dc=vn"
ADMIN_DN = f"cn=admin,{SUFFIX}"
READER_DN = f"cn=reader,{SUFFIX}"
WRITER_DN = f"cn=writer,{SUFFIX}"
START_ATTEMPTS = 5


@dataclass(frozen=True)
class CertificateAuthority:
    cert_file: Path
    key_file: Path

    @classmethod
    def create(cls, directory: Path, name: str) -> "CertificateAuthority":
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes
        from cryptography.x509.oid import NameOID

        key = _new_key()
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        cert = (_builder(subject, subject, key.public_key())
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False,
                                             False), critical=True)
                .sign(key, hashes.SHA256()))
        return cls(*_write_pair(directory, name, cert, key))

    def issue_server(self, directory: Path, host: str = "127.0.0.1") -> tuple[Path, Path]:
        """A server certificate for ``host`` (IP or name), signed by this CA."""
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

        ca_cert = x509.load_pem_x509_certificate(self.cert_file.read_bytes())
        ca_key = serialization.load_pem_private_key(self.key_file.read_bytes(), None)
        key = _new_key()
        try:
            alt = x509.IPAddress(ipaddress.ip_address(host))
        except ValueError:
            alt = x509.DNSName(host)
        cert = (_builder(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]),
                         ca_cert.subject, key.public_key())
                .add_extension(x509.SubjectAlternativeName([alt]), critical=False)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                               critical=False)
                .sign(ca_key, hashes.SHA256()))
        return _write_pair(directory, f"server-{host}", cert, key)


def _new_key():
    from cryptography.hazmat.primitives.asymmetric import ec

    return ec.generate_private_key(ec.SECP256R1())


def _builder(subject, issuer, public_key):
    from cryptography import x509

    now = dt.datetime.now(dt.timezone.utc)
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
            .public_key(public_key).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=2)))


def _write_pair(directory: Path, name: str, cert, key) -> tuple[Path, Path]:
    from cryptography.hazmat.primitives import serialization

    directory.mkdir(parents=True, exist_ok=True)
    cert_file, key_file = directory / f"{name}.crt", directory / f"{name}.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_file.chmod(0o600)
    return cert_file, key_file


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _config(workdir: Path, cert: Path, key: Path, ca: Path, passwords: dict[str, str]) -> str:
    includes = "\n".join(f"include /etc/ldap/schema/{name}.schema" for name in SCHEMAS)
    return f"""{includes}
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload ppolicy
pidfile {workdir}/slapd.pid
argsfile {workdir}/slapd.args
TLSCACertificateFile {ca}
TLSCertificateFile {cert}
TLSCertificateKeyFile {key}
security tls=1
sizelimit 1000

database mdb
maxsize 33554432
suffix "{SUFFIX}"
rootdn "{ADMIN_DN}"
rootpw {passwords['admin']}
directory {workdir}/db
overlay ppolicy
access to attrs=userPassword
    by anonymous auth
    by * none
access to *
    by dn.exact="{WRITER_DN}" write
    by dn.exact="{READER_DN}" read
    by * none
"""


def base_ldif(passwords: dict[str, str]) -> str:
    """The suffix, ou=people and the reader and writer accounts (plain-text test passwords)."""
    return f"""dn: {SUFFIX}
objectClass: dcObject
objectClass: organization
dc: nghean
o: UBND tinh Nghe An

dn: ou=people,{SUFFIX}
objectClass: organizationalUnit
ou: people

dn: {READER_DN}
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: reader
userPassword: {passwords['reader']}

dn: {WRITER_DN}
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: writer
userPassword: {passwords['writer']}

"""


@dataclass
class LdapServer:
    workdir: Path
    port: int
    ldaps_port: int
    ca: CertificateAuthority
    passwords: dict
    process: subprocess.Popen

    @property
    def url(self) -> str:
        return f"ldap://127.0.0.1:{self.port}"

    @property
    def ldaps_url(self) -> str:
        return f"ldaps://127.0.0.1:{self.ldaps_port}"

    @classmethod
    def start(cls, workdir: Path, people_ldif: str, passwords: dict[str, str]) -> "LdapServer":
        """``passwords``: admin, reader and writer."""
        ca = CertificateAuthority.create(workdir / "tls", "egov-probe-test-ca")
        cert, key = ca.issue_server(workdir / "tls")
        (workdir / "db").mkdir(parents=True)
        conf = workdir / "slapd.conf"
        conf.write_text(_config(workdir, cert, key, ca.cert_file, passwords), encoding="utf-8")
        data = workdir / "data.ldif"
        data.write_text(base_ldif(passwords) + people_ldif, encoding="utf-8")
        subprocess.run([SLAPADD, "-f", str(conf), "-l", str(data)], check=True,
                       capture_output=True)
        for _ in range(START_ATTEMPTS):  # another test may take a free port before slapd does
            server = cls._launch(workdir, conf, ca, passwords)
            if server is not None:
                return server
        raise RuntimeError("slapd did not start")

    @classmethod
    def _launch(cls, workdir: Path, conf: Path, ca: CertificateAuthority, passwords: dict):
        port, ldaps_port = free_port(), free_port()
        log = open(workdir / "slapd.log", "ab")
        process = subprocess.Popen(
            [SLAPD, "-d", "0", "-f", str(conf),
             "-h", f"ldap://127.0.0.1:{port}/ ldaps://127.0.0.1:{ldaps_port}/"],
            stdout=log, stderr=log, start_new_session=True)
        log.close()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if process.poll() is not None:
                return None
            if all(_answers(p) for p in (port, ldaps_port)):
                return cls(workdir, port, ldaps_port, ca, passwords, process)
            time.sleep(0.05)
        process.kill()
        process.wait()
        return None

    def pause(self) -> None:
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self.process.pid, signal.SIGCONT)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.resume()
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False
