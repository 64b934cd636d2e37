"""A real OpenLDAP server (Debian's slapd) for tests: own CA, own config, own mdb database.

``LdapServer.start(workdir, ldif)`` writes a slapd.conf, loads ``ldif`` with slapadd, starts
slapd on free loopback ports (ldap:// with StartTLS and ldaps://) and waits until it answers;
``stop()`` ends it. TLS is required for every operation (``security tls=1``), unless started
with ``tls=False``: then slapd has no certificate, offers no StartTLS and no ldaps:// port (a
misconfigured directory, to show that the tool never sends a password in clear).
"""

from __future__ import annotations

import os
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.servers.ca import TestCA
from tests.servers.ports import free_port, wait_listening
from tests.servers.procs import Server

SLAPD = "/usr/sbin/slapd"
SLAPADD = "/usr/sbin/slapadd"
SCHEMAS = ("core", "cosine", "inetorgperson", "nis")
SUFFIX = "dc=nghean,dc=gov,dc=vn"
ADMIN_DN = f"cn=admin,{SUFFIX}"
READER_DN = f"cn=reader,{SUFFIX}"
WRITER_DN = f"cn=writer,{SUFFIX}"
START_ATTEMPTS = 5


def _config(workdir: Path, cert: Path, key: Path, ca: Path, passwords: dict[str, str],
            tls: bool = True) -> str:
    includes = "\n".join(f"include /etc/ldap/schema/{name}.schema" for name in SCHEMAS)
    tls_lines = f"""TLSCACertificateFile {ca}
TLSCertificateFile {cert}
TLSCertificateKeyFile {key}
security tls=1
""" if tls else ""
    return f"""{includes}
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload ppolicy
pidfile {workdir}/slapd.pid
argsfile {workdir}/slapd.args
{tls_lines}sizelimit 1000

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
    ca: TestCA
    passwords: dict
    server: Server

    @property
    def url(self) -> str:
        return f"ldap://127.0.0.1:{self.port}"

    @property
    def ldaps_url(self) -> str:
        return f"ldaps://127.0.0.1:{self.ldaps_port}"

    @property
    def ca_file(self) -> Path:
        return self.ca.root.cert

    @classmethod
    def start(cls, workdir: Path, people_ldif: str, passwords: dict[str, str],
              tls: bool = True) -> "LdapServer":
        """``passwords``: admin, reader and writer; ``tls=False``: no TLS at all."""
        ca = TestCA(workdir / "tls")
        issued = ca.issue("slapd", "127.0.0.1")
        (workdir / "db").mkdir(parents=True)
        conf = workdir / "slapd.conf"
        conf.write_text(_config(workdir, issued.cert, issued.key, ca.root.cert, passwords, tls),
                        encoding="utf-8")
        data = workdir / "data.ldif"
        data.write_text(base_ldif(passwords) + people_ldif, encoding="utf-8")
        subprocess.run([SLAPADD, "-f", str(conf), "-l", str(data)], check=True,
                       capture_output=True)
        for _ in range(START_ATTEMPTS):  # another test may take a free port before slapd does
            server = cls._launch(workdir, conf, ca, passwords, tls)
            if server is not None:
                return server
        raise RuntimeError(f"slapd did not start; see {workdir / 'slapd.log'}")

    @classmethod
    def _launch(cls, workdir: Path, conf: Path, ca: TestCA, passwords: dict, tls: bool):
        port, ldaps_port = free_port(), free_port()
        urls = f"ldap://127.0.0.1:{port}/" + (f" ldaps://127.0.0.1:{ldaps_port}/" if tls else "")
        server = Server([SLAPD, "-d", "0", "-f", str(conf), "-h", urls],
                        workdir / "slapd.log").start()
        try:
            for listening in (port, ldaps_port) if tls else (port,):
                wait_listening("127.0.0.1", listening, timeout=15)
        except RuntimeError:
            server.stop()
            return None
        if not server.alive():  # the port was someone else's
            return None
        return cls(workdir, port, ldaps_port, ca, passwords, server)

    def pause(self) -> None:
        os.kill(self.server.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self.server.process.pid, signal.SIGCONT)

    def stop(self) -> None:
        if self.server.alive():
            self.resume()
        self.server.stop()
