"""The provincial directory over LDAP v3, always encrypted (StartTLS or LDAPS).

This module only moves data: it reads entries (and with ``--apply`` adds them); judging them
against the roster is ``review``'s job. Certificates are verified unless the caller explicitly
turns that off; the password is handed to ldap3 only for the bind and dropped right after.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from typing import Iterable, Optional
from urllib.parse import urlsplit

from ..core.messages import text
from ..core.secret import Secret
from ..core.units import Unit
from .config import DirectoryLayout

DEFAULT_PORTS = {"ldap": 389, "ldaps": 636}
PAGE_SIZE = 200


class DirectoryError(Exception):
    """The directory could not be reached, its certificate was refused, or a bind failed."""


@dataclass(frozen=True)
class DirectoryAddress:
    """Where the directory is: ``ldap://host:port`` (StartTLS) or ``ldaps://host:port``."""

    scheme: str
    host: str
    port: int

    @classmethod
    def parse(cls, url: str) -> "DirectoryAddress":
        parts = urlsplit(url)
        if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
            raise ValueError(f"expected ldap://HOST[:PORT] (StartTLS) or ldaps://HOST[:PORT], "
                             f"found {url!r}")
        if parts.path not in ("", "/") or parts.query:
            raise ValueError(f"expected no path or query in the directory URL, found {url!r}")
        return cls(parts.scheme, parts.hostname, parts.port or DEFAULT_PORTS[parts.scheme])

    def url(self) -> str:
        """The URL without credentials, as recorded in the review."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"


@dataclass(frozen=True)
class TlsSettings:
    ca_file: Optional[str] = None   # None: the system's trusted CAs
    verify: bool = True


@dataclass(frozen=True)
class DirectoryEntry:
    dn: str
    attributes: dict[str, tuple[str, ...]]  # lower-case attribute name → values

    def values(self, attribute: str) -> tuple[str, ...]:
        return self.attributes.get(attribute.lower(), ())

    def first(self, attribute: str) -> Optional[str]:
        values = self.values(attribute)
        return values[0] if values else None


@dataclass(frozen=True)
class NewEntry:
    dn: str
    object_classes: tuple[str, ...]
    attributes: dict[str, str]


@dataclass(frozen=True)
class NewMail:
    """A mail address added to an existing entry (an LDIF ``changetype: modify``)."""

    dn: str
    attribute: str
    address: str


class Directory:
    """An open, bound connection with the searches the review needs."""

    def __init__(self, connection, layout: DirectoryLayout, extra_attributes: Iterable[str] = ()):
        self._connection = connection
        self.layout = layout
        self.last_error = ""
        self._attributes = sorted({layout.name_attribute, layout.mail_attribute,
                                   layout.uid_attribute, *extra_attributes}
                                  | ({layout.unit_attribute} if layout.unit_attribute else set()))

    def people_of(self, unit: Unit) -> list[DirectoryEntry]:
        """The people whose unit attribute names ``unit`` (by id or name); everyone if no such
        attribute is configured."""
        layout = self.layout
        if not layout.unit_attribute:
            return self._search(layout.person_filter)
        unit_filter = "".join(f"({layout.unit_attribute}={escape_filter(v)})"
                              for v in (unit.unit_id, unit.name_vi))
        return self._search(f"(&{layout.person_filter}(|{unit_filter}))")

    def entry_with_mail(self, address: str) -> Optional[DirectoryEntry]:
        found = self._search(f"(&{self.layout.person_filter}"
                             f"({self.layout.mail_attribute}={escape_filter(address)}))")
        return found[0] if found else None

    def local_part_taken(self, local_part: str, domain: str) -> bool:
        return bool(self.holders(local_part, domain))

    def holders(self, local_part: str, domain: str) -> list[DirectoryEntry]:
        """The entries using ``local_part``: as their uid, or in their address at ``domain``
        (not the reservations, see ``reservations``)."""
        layout, local = self.layout, escape_filter(local_part)
        return [e for e in self._search(f"(|({layout.uid_attribute}={local})"
                                        f"({layout.mail_attribute}={local}@{escape_filter(domain)}))")
                if not self.is_reservation(e.dn)]

    def is_reservation(self, dn: str) -> bool:
        under = self.layout.reservations_dn
        return bool(under) and dn.lower().endswith("," + under.lower())

    def search_under(self, base: str, ldap_filter: str, attributes: Iterable[str]
                     ) -> list[DirectoryEntry]:
        return self._search(ldap_filter, base=base, attributes=list(attributes))

    def delete(self, dn: str) -> bool:
        """Delete the entry at ``dn`` (a reservation); True also if it was already gone."""
        if self._connection.delete(dn) or self._connection.result.get("description") == \
                "noSuchObject":
            return True
        self.last_error = f"cannot delete {dn}: {_result_text(self._connection.result)}"
        return False

    def read(self, dn: str) -> Optional[DirectoryEntry]:
        """The entry at ``dn``, or None if there is none."""
        found = self._search("(objectClass=*)", base=dn, scope="BASE")
        return found[0] if found else None

    def add(self, entry: NewEntry) -> bool:
        """Add ``entry``; False (and ``last_error`` says why) if the directory refuses it."""
        if self._connection.add(entry.dn, list(entry.object_classes), dict(entry.attributes)):
            return True
        self.last_error = f"cannot add {entry.dn}: {_result_text(self._connection.result)}"
        return False

    def add_mail(self, dn: str, address: str) -> bool:
        """Give the entry at ``dn`` the mail ``address``, only if it still has no mail (an LDAP
        assertion, RFC 4528, checked by the server in the same operation); False (and
        ``last_error`` says why) if refused."""
        from ldap3 import MODIFY_ADD

        attribute = self.layout.mail_attribute
        if self._connection.modify(dn, {attribute: [(MODIFY_ADD, [address])]},
                                   controls=[_assertion(f"(!({attribute}=*))")]):
            return True
        self.last_error = f"cannot add {address} to {dn}: {_result_text(self._connection.result)}"
        return False

    def close(self) -> None:
        self._connection.unbind()

    def _search(self, ldap_filter: str, base: Optional[str] = None, scope: str = "SUBTREE",
                attributes: Optional[list[str]] = None) -> list[DirectoryEntry]:
        """Every entry under the base matching ``ldap_filter``, page by page, sorted by DN."""
        import ldap3

        items = self._connection.extend.standard.paged_search(
            base or self.layout.base_dn, ldap_filter, search_scope=getattr(ldap3, scope),
            attributes=attributes or self._attributes, paged_size=PAGE_SIZE, generator=False)
        result = self._connection.result or {}
        if result.get("description") not in ("success", "noSuchObject"):
            raise DirectoryError(f"search {ldap_filter} failed: {_result_text(result)}")
        return sorted((_entry(item) for item in items or ()
                       if item.get("type") == "searchResEntry"), key=lambda e: e.dn)


def _result_text(result: dict) -> str:
    return f"{result.get('description')} {result.get('message') or ''}".strip()


def _entry(item: dict) -> DirectoryEntry:
    attributes = {name.lower(): tuple(v.decode("utf-8", "replace") for v in values)
                  for name, values in item.get("raw_attributes", {}).items()}
    return DirectoryEntry(dn=item["dn"], attributes=attributes)


def _assertion(ldap_filter: str) -> tuple[str, bool, bytes]:
    """The LDAP assertion control (RFC 4528): the server refuses the operation unless the entry
    matches ``ldap_filter``."""
    from ldap3.operation.search import compile_filter, parse_filter
    from pyasn1.codec.ber import encoder

    node = parse_filter(ldap_filter, None, auto_escape=True, auto_encode=True, validator=None,
                        check_names=False)
    return ("1.3.6.1.1.12", True, encoder.encode(compile_filter(node.elements[0])))


def escape_filter(value: str) -> str:
    from ldap3.utils.conv import escape_filter_chars

    return escape_filter_chars(value)


def open_directory(address: DirectoryAddress, tls: TlsSettings, bind_dn: str, password: Secret,
                   layout: DirectoryLayout, *, write: bool = False,
                   extra_attributes: Iterable[str] = ()) -> Directory:
    """Connect, encrypt (LDAPS, or StartTLS before anything else), verify, then bind."""
    from ldap3 import NONE, SIMPLE, Connection, Server, Tls
    from ldap3.core.exceptions import LDAPException
    from ldap3.utils.log import set_library_log_hide_sensitive_data

    set_library_log_hide_sensitive_data(True)
    tls_options = Tls(validate=ssl.CERT_REQUIRED if tls.verify else ssl.CERT_NONE,
                      ca_certs_file=tls.ca_file)
    server = Server(address.host, port=address.port, use_ssl=address.scheme == "ldaps",
                    tls=tls_options, get_info=NONE, connect_timeout=int(layout.timeout_seconds))
    connection = Connection(server, user=bind_dn, authentication=SIMPLE, read_only=not write,
                            receive_timeout=int(layout.timeout_seconds), raise_exceptions=False)
    try:
        connection.open()
        _encrypt(connection, address)
        connection.password = password.reveal()
        bound = connection.bind()
    except LDAPException as exc:
        _close(connection)
        raise DirectoryError(_tls_hint(f"{address.url()}: {exc}")) from None
    except DirectoryError:
        _close(connection)
        raise
    finally:
        connection.password = None
    if not bound:
        description = connection.result.get("description")
        connection.unbind()
        raise DirectoryError(f"{address.url()}: bind as {bind_dn} refused ({description})")
    return Directory(connection, layout, extra_attributes)


def _close(connection) -> None:
    """Close a connection that failed; it may be broken already."""
    from ldap3.core.exceptions import LDAPException

    try:
        connection.unbind()
    except (LDAPException, OSError):
        pass


def _encrypt(connection, address: DirectoryAddress) -> None:
    """StartTLS on ``ldap://`` (LDAPS is encrypted from the start), then make sure the socket
    really is TLS: the password is only ever sent over an encrypted connection."""
    if address.scheme == "ldap" and not connection.start_tls():
        raise DirectoryError(f"{address.url()}: StartTLS did not start — {_no_tls()}")
    encrypted = isinstance(getattr(connection, "socket", None), ssl.SSLSocket) and (
        address.scheme == "ldaps" or connection.tls_started)
    if not encrypted:
        raise DirectoryError(f"{address.url()}: the connection is not encrypted — {_no_tls()}")


def _no_tls() -> str:
    said = text("mailboxes.no_tls")
    return f"{said.vi} / {said.en}"


def _tls_hint(message: str) -> str:
    lower = message.lower()
    if "certificate" in lower or "ssl" in lower:
        return (message + " — chứng chỉ máy chủ thư mục không được tin cậy: dùng --ca-file với "
                "chứng chỉ CA của tỉnh / the directory's certificate is not trusted: pass the "
                "province's CA with --ca-file")
    if "starttls" in lower:
        return f"{message} — {_no_tls()}"
    return message
