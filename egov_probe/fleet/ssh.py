"""SSH transport (paramiko): connect, check the host key strictly, log in, run one command.

It only moves bytes: the collector script goes in on stdin, its output comes back as text.
An unknown or changed host key is the host's failure with the key's fingerprint; only
``SshOptions.check_host_keys=False`` (the loud ``--insecure-skip-host-key-check``) accepts it.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Optional

import paramiko
from paramiko.ssh_exception import IncompatiblePeer

from ..core.model import Outcome
from .host import Endpoint, HostFailure, InventoryHost, Job

DEFAULT_KEYS = ("id_ed25519", "id_ecdsa", "id_rsa")


class HostKeyStore:
    """The known_hosts files, read once per run (not once per host)."""

    def __init__(self, paths: tuple[str, ...]) -> None:
        self.paths = paths
        self._files: list[paramiko.HostKeys] | None = None
        self._lock = threading.Lock()

    def lookup(self, name: str) -> dict[str, paramiko.PKey]:
        with self._lock:
            if self._files is None:
                self._files = [paramiko.HostKeys(p) for p in self.paths if os.path.exists(p)]
        known: dict[str, paramiko.PKey] = {}
        for host_keys in self._files:
            known.update(dict(host_keys.lookup(name) or {}))
        return known


@dataclass(frozen=True)
class SshOptions:
    known_hosts: tuple[str, ...] = ()
    check_host_keys: bool = True
    connect_timeout: float = 10.0
    retries: int = 3
    backoff: float = 0.5
    host_keys: HostKeyStore = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "host_keys", HostKeyStore(self.known_hosts))


def default_known_hosts() -> tuple[str, ...]:
    return (str(Path.home() / ".ssh/known_hosts"), "/etc/ssh/ssh_known_hosts")


def fingerprint(key: paramiko.PKey) -> str:
    """OpenSSH's form: ``SHA256:`` and the unpadded base64 of the key's SHA-256."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def run_ssh(target: InventoryHost, command: str, stdin: str, options: SshOptions, job: Job) -> str:
    """Run ``command`` on the target with ``stdin``; returns what it printed on stdout."""
    with ssh_session(target, options, job) as session:
        return session.run(command, stdin)


class SshSession:
    """One logged-in connection to a host: each ``run`` is one more command over it."""

    def __init__(self, transport: paramiko.Transport, job: Job) -> None:
        self.transport = transport
        self.job = job

    def run(self, command: str, stdin: str | bytes) -> str:
        """What ``command`` printed on stdout, fed ``stdin``."""
        return _exec(self.transport, command, stdin, self.job)

    def converse(self, command: str, reply: Callable[[str], Optional[bytes]],
                 early: Optional[bytes] = None) -> tuple[str, str]:
        """Run ``command`` with ``early`` sent on its stdin at once; once it printed its first
        line, ``reply(line)`` gives the rest of its stdin (None: nothing more). Returns that
        first line and what it printed after it on stdout."""
        return _converse(self.transport, command, reply, self.job, early=early)


@contextlib.contextmanager
def ssh_session(target: InventoryHost, options: SshOptions, job: Job) -> Iterator[SshSession]:
    """A session to the target (through its jump host if any), closed on leaving."""
    transports = []
    try:
        sock: object = None
        if target.jump:
            jump = _open(target.jump, target, options, job, None)
            transports.append(jump)
            sock = _channel_through(jump, target.endpoint, options, job)
        transport = _open(target.endpoint, target, options, job, sock)
        transports.append(transport)
        yield SshSession(transport, job)
    finally:
        for transport in reversed(transports):
            transport.close()


def _open(endpoint: Endpoint, target: InventoryHost, options: SshOptions, job: Job,
          sock: object) -> paramiko.Transport:
    """A logged-in transport, with connect retries and backoff while the deadline allows."""
    delay = options.backoff
    for attempt in range(1, options.retries + 1):
        job.check()
        job.attempts += 1
        try:
            transport = _handshake(endpoint, options, job, sock)
        except (OSError, EOFError, paramiko.SSHException) as exc:
            job.check()
            if attempt == options.retries or sock is not None or job.remaining() < delay:
                raise HostFailure(Outcome.UNREACHABLE,
                                  f"{endpoint.address}:{endpoint.port}: {_reason(exc)}") from exc
            time.sleep(delay)
            delay *= 2
            continue
        _login(transport, endpoint, target, job)
        return transport
    raise AssertionError("unreachable")


def _handshake(endpoint: Endpoint, options: SshOptions, job: Job,
               sock: object) -> paramiko.Transport:
    timeout = max(0.1, min(options.connect_timeout, job.remaining()))
    if sock is None:
        sock = socket.create_connection((endpoint.address, endpoint.port), timeout=timeout)
    transport = paramiko.Transport(sock)
    job.on_abort(transport.close)
    transport.banner_timeout = timeout
    transport.handshake_timeout = timeout
    known = _known_keys(endpoint, options)
    if known:
        transport.get_security_options().key_types = [t for t in _key_order(transport) if t in known]
    try:
        transport.start_client(timeout=timeout)
        _verify_host_key(transport.get_remote_server_key(), known, endpoint, options)
    except IncompatiblePeer as exc:
        transport.close()
        if known and "host key" in str(exc):
            raise HostFailure(Outcome.HOST_KEY_MISMATCH,
                              f"{_host_key_name(endpoint)} offers none of the key types that "
                              f"known_hosts has for it ({', '.join(sorted(known))})") from exc
        raise
    except BaseException:
        transport.close()
        raise
    return transport


def _key_order(transport: paramiko.Transport) -> tuple[str, ...]:
    return tuple(transport.get_security_options().key_types)


def _host_key_name(endpoint: Endpoint) -> str:
    if endpoint.port == 22:
        return endpoint.address
    return f"[{endpoint.address}]:{endpoint.port}"


def _known_keys(endpoint: Endpoint, options: SshOptions) -> dict[str, paramiko.PKey]:
    return options.host_keys.lookup(_host_key_name(endpoint))


def _verify_host_key(key: paramiko.PKey, known: dict[str, paramiko.PKey], endpoint: Endpoint,
                     options: SshOptions) -> None:
    if not options.check_host_keys:
        return
    name = _host_key_name(endpoint)
    expected = known.get(key.get_name())
    if expected is None:
        raise HostFailure(Outcome.HOST_KEY_MISMATCH,
                          f"host key of {name} is not in known_hosts ({key.get_name()})",
                          fingerprint=fingerprint(key))
    if expected.asbytes() != key.asbytes():
        raise HostFailure(Outcome.HOST_KEY_MISMATCH,
                          f"host key of {name} has CHANGED (known_hosts has "
                          f"{fingerprint(expected)})", fingerprint=fingerprint(key))


def _login(transport: paramiko.Transport, endpoint: Endpoint, target: InventoryHost,
           job: Job) -> None:
    user = endpoint.user or target.endpoint.user or os.environ.get("USER") or "root"
    errors = []
    for pkey in _keys(target):
        job.check()
        try:
            transport.auth_publickey(user, pkey)
            return
        except paramiko.AuthenticationException as exc:
            errors.append(f"key {pkey.get_name()}: {exc}")
        except paramiko.SSHException as exc:
            raise HostFailure(Outcome.UNREACHABLE, f"session broke during login: {exc}") from exc
    if target.password is not None:
        try:
            transport.auth_password(user, target.password.reveal())
            return
        except paramiko.AuthenticationException as exc:
            errors.append(f"password: {exc}")
        except paramiko.SSHException as exc:
            raise HostFailure(Outcome.UNREACHABLE, f"session broke during login: {exc}") from exc
    job.check()
    raise HostFailure(Outcome.AUTH_FAILED,
                      f"login as {user} refused ({'; '.join(errors) or 'no key or password given'})")


def _keys(target: InventoryHost) -> list[paramiko.PKey]:
    paths = [target.key_file] if target.key_file else \
        [str(Path.home() / ".ssh" / name) for name in DEFAULT_KEYS]
    keys = []
    for path in paths:
        if path and os.path.exists(path):
            try:
                keys.append(paramiko.PKey.from_path(path))
            except (OSError, paramiko.SSHException) as exc:
                raise HostFailure(Outcome.AUTH_FAILED, f"cannot read key {path}: {exc}") from exc
    return keys


def _channel_through(jump: paramiko.Transport, endpoint: Endpoint, options: SshOptions,
                     job: Job) -> paramiko.Channel:
    try:
        return jump.open_channel("direct-tcpip", (endpoint.address, endpoint.port),
                                 ("127.0.0.1", 0),
                                 timeout=max(0.1, min(options.connect_timeout, job.remaining())))
    except (OSError, EOFError, paramiko.SSHException) as exc:
        job.check()
        raise HostFailure(Outcome.UNREACHABLE, f"jump host cannot reach {endpoint.address}:"
                                               f"{endpoint.port}: {_reason(exc)}") from exc


def _exec(transport: paramiko.Transport, command: str, stdin: str | bytes, job: Job) -> str:
    data = stdin.encode("utf-8") if isinstance(stdin, str) else stdin
    return "".join(_converse(transport, command, lambda _first: data, job, first_line=False))


def _converse(transport: paramiko.Transport, command: str,
              reply: Callable[[str], Optional[bytes]], job: Job,
              first_line: bool = True, early: Optional[bytes] = None) -> tuple[str, str]:
    chunks: list[bytes] = []
    try:
        channel = transport.open_session(timeout=max(0.1, job.remaining()))
        channel.exec_command(command)
        sender = _EarlySender(channel, early) if early else None
        first = _read(channel, chunks, job, until_line=True) if first_line else ""
        data = reply(first)
        if sender is not None:
            sender.wait(needed=bool(data))
        if data:
            channel.sendall(data)
        channel.shutdown_write()
        _read(channel, chunks, job)
    except (OSError, EOFError, paramiko.SSHException) as exc:
        _stop_if_late(job, chunks)
        raise HostFailure(Outcome.PARTIAL, f"session broke: {_reason(exc)}",
                          partial_output=_text(chunks)) from exc
    _stop_if_late(job, chunks)
    return first, _text(chunks)


class _EarlySender:
    """Sends the first part of a command's stdin while its first line is awaited (the bytes
    are on their way while the command starts, instead of one round trip later)."""

    def __init__(self, channel: paramiko.Channel, data: bytes) -> None:
        self._error: Optional[BaseException] = None
        self._thread = threading.Thread(target=self._send, args=(channel, data),
                                        name="egov-ssh-stdin", daemon=True)
        self._thread.start()

    def _send(self, channel: paramiko.Channel, data: bytes) -> None:
        try:
            channel.sendall(data)
        except (OSError, EOFError, paramiko.SSHException) as exc:
            self._error = exc

    def wait(self, needed: bool) -> None:
        """Wait until sent; a failure counts only if the command still ``needed`` its stdin
        (one that ended at once, e.g. a refusal, may close the channel under it)."""
        self._thread.join()
        if self._error is not None and needed:
            raise self._error


def _read(channel: paramiko.Channel, chunks: list[bytes], job: Job,
          until_line: bool = False) -> str:
    """Read stdout into ``chunks`` until the end (or, ``until_line``, the first line's end:
    that line is taken out of ``chunks`` and returned)."""
    while not (until_line and b"\n" in b"".join(chunks)):
        channel.settimeout(max(0.05, job.remaining()))
        data = channel.recv(65536)
        if not data:
            break
        chunks.append(data)
    if not until_line:
        return ""
    line, _, rest = b"".join(chunks).partition(b"\n")
    chunks[:] = [rest] if rest else []
    return line.decode("utf-8", errors="replace")


def _text(chunks: list[bytes]) -> str:
    return b"".join(chunks).decode("utf-8", errors="replace")


def _stop_if_late(job: Job, chunks: list[bytes]) -> None:
    """A session cut by the deadline (or Ctrl-C) is timed out, with what it printed so far."""
    if job.aborted or job.remaining() <= 0:
        raise HostFailure(Outcome.TIMED_OUT, f"no answer within {job.deadline_s:g} s",
                          partial_output=_text(chunks))


def _reason(exc: BaseException) -> str:
    if isinstance(exc, socket.timeout):
        return "connection timed out"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
