"""A test certificate authority: a root, and server certificates valid, expired or for any name."""

from __future__ import annotations

import datetime
import ipaddress
import subprocess
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_NOW = datetime.datetime.now(datetime.timezone.utc)


@dataclass(frozen=True)
class Issued:
    """A certificate and its key, written as PEM files."""

    cert: Path
    key: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "egov-probe tests"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write(folder: Path, stem: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey
           ) -> Issued:
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = folder / f"{stem}.crt", folder / f"{stem}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o644)  # read by the servers' unprivileged workers; test keys only
    return Issued(cert_path, key_path)


def _alt_names(names: tuple[str, ...]) -> x509.SubjectAlternativeName:
    entries: list[x509.GeneralName] = []
    for name in names:
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            entries.append(x509.DNSName(name))
    return x509.SubjectAlternativeName(entries)


class TestCA:
    """A root CA in ``folder`` (``ca.crt``) that issues server certificates."""

    __test__ = False  # not a pytest class

    def __init__(self, folder: Path, common_name: str = "egov-probe Test Root CA") -> None:
        self.folder = Path(folder)
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.name = _name(common_name)
        cert = (x509.CertificateBuilder().subject_name(self.name).issuer_name(self.name)
                .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(_NOW - datetime.timedelta(days=1))
                .not_valid_after(_NOW + datetime.timedelta(days=3650))
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                             False), critical=True)
                .sign(self.key, hashes.SHA256()))
        self.cert = cert
        self.root = _write(self.folder, "ca", cert, self.key)

    def issue_weak(self, stem: str, address: str, digest: str = "sha1") -> Issued:
        """A certificate for the IP ``address`` signed with a weak ``digest`` (SHA-1, MD5), by
        Debian's ``openssl`` (the cryptography package refuses to make one)."""
        key = ec.generate_private_key(ec.SECP256R1())
        key_path = self.folder / f"{stem}.key"
        key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                               serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        key_path.chmod(0o644)
        csr = (x509.CertificateSigningRequestBuilder().subject_name(_name(address))
               .sign(key, hashes.SHA256()))
        csr_path, ext_path = self.folder / f"{stem}.csr", self.folder / f"{stem}.ext"
        csr_path.write_bytes(csr.public_bytes(serialization.Encoding.PEM))
        ext_path.write_text(f"subjectAltName=IP:{address}\nextendedKeyUsage=serverAuth\n")
        cert_path = self.folder / f"{stem}.crt"
        subprocess.run(["openssl", "x509", "-req", "-in", str(csr_path), "-CA",
                        str(self.root.cert), "-CAkey", str(self.root.key), "-CAcreateserial",
                        "-days", "30", f"-{digest}", "-extfile", str(ext_path), "-out",
                        str(cert_path)], check=True, capture_output=True)
        return Issued(cert_path, key_path)

    def issue(self, stem: str, *names: str, days: int = 365, expired: bool = False) -> Issued:
        """A server certificate for ``names`` (DNS names or IP addresses)."""
        key = ec.generate_private_key(ec.SECP256R1())
        start = _NOW - datetime.timedelta(days=30 if expired else 1)
        end = _NOW - datetime.timedelta(days=2) if expired else _NOW + datetime.timedelta(days=days)
        cert = (x509.CertificateBuilder().subject_name(_name(names[0])).issuer_name(self.name)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(start).not_valid_after(end)
                .add_extension(_alt_names(names), critical=False)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                               critical=False)
                .sign(self.key, hashes.SHA256()))
        return _write(self.folder, stem, cert, key)


def self_signed(folder: Path, stem: str, *names: str) -> Issued:
    """A certificate signed by its own key (no CA vouches for it)."""
    return TestCA(folder / f"{stem}-own", common_name=names[0]).root
