"""``egov-probe fleet --network``: the network and signature checks run on each Linux host.

Reachability is the unit's own (its DNS, routes, proxy and firewall), so the checks run on the
workstation, not on the controller. Over the SSH session the collector uses, one more command
starts the host's ``python3`` (``-I -S``) with a bootstrap that first prints its bytecode
version and version (3.10 or newer needed), then reads from stdin a zip of the probe's
pure-Python code (what the host needs of egov_probe and dnspython, PyYAML's sources in case;
the modules it surely runs compiled for the controller's bytecode version, about 700 KB; a
host with another Python passes over that zip and gets the sources, about 450 KB) and imports
from it in memory: nothing is installed or written on the host, nothing is left behind. The
compiled zip is built before the hosts start and sent as soon as the command starts; the
request that follows is the host's effective policy (its CA file's content instead of the
controller's path) and the message catalogue. ``fleet/onhost.py`` runs there and answers with
each section's facts and checks, which join the host's report as if the local audit had run
them. This runs on its own channel of the session while the collector runs on another, so
``--network`` adds to a host's time only what the network checks take beyond the collector.

Where that cannot be done, the report says so: one ``skipped`` check per section
("not checked") with the reason: no python3, a python3 older than 3.10, a Windows host, the
host's deadline reached.
"""

from __future__ import annotations

import importlib
import importlib.util
import io
import json
import marshal
import re
import shlex
import sys
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from ..audit.section import SectionResult
from ..core import messages
from ..core.model import CheckResult, Status, check_from_dict
from ..judge.policy import Policy
from .host import HostFailure
from .ssh import SshSession

SECTIONS = ("network", "signature")
# What the host needs, and only that (the zip crosses slow commune links): the probe without
# its controller-side parts (hosts are Linux), dnspython without DNSSEC and zones, and
# PyYAML's pure-Python part (never imported by the network sections: sources, in case).
# Sources: the host compiles only what it imports.
BUNDLED: dict[str, tuple[str, ...]] = {
    "egov_probe": ("render/", "store/", "matrix/", "mailboxes/", "kit/", "commands/", "schema/",
                   "collector/", "upload/", "__main__.py", "core/report_file.py",
                   "core/atomic.py", "core/signing.py", "audit/evidence.py", "audit/run.py",
                   "fleet/"),
    "dns": ("_trio_backend.py", "asyncresolver.py", "dnssec", "zone", "versioned.py",
            "win32util.py"),
    "yaml": (),
}
KEEP = ("fleet/__init__.py", "fleet/onhost.py")
SOURCE_SUFFIXES = (".py", ".yml")
# What the host runs for sure: sent compiled when its python3 has this Python's bytecode
# version (the host then compiles nothing of it: most of the probe's own CPU time there).
# The sections import their collectors and judges when they run: named here.
PRELOAD = ("egov_probe.fleet.onhost", "egov_probe.facts.network", "egov_probe.judge.network",
           "egov_probe.facts.signature", "egov_probe.judge.signature", "dns.resolver",
           "dns.query", "dns.rdtypes.IN.A", "dns.rdtypes.IN.AAAA", "dns.rdtypes.ANY.CNAME")
# Imported by the controller, never on the host (the catalogue and the policy arrive parsed):
# sent as sources only, in case.
NOT_PRELOADED = ("yaml",)
SIZE_DIGITS = 12
SOURCES_KIND = b"00000000"  # a zip's header: the bytecode version it is compiled for, or this
MIN_PYTHON = (3, 10)

# Runs on the host, in the one python3 the session starts: first says which Python it is
# (bytecode version and version: the controller then knows what to send, or sends nothing),
# then imports the probe from the zip read from stdin (``<module>.pyc``: code compiled by the
# controller for this very bytecode version; ``.py``: sources). Kept to the syntax of any
# python3, so an old one can still say its version. Ends with ``os._exit`` once the answer is
# written: nothing left to wait for (a network step cut off by the section's deadline) and no
# interpreter teardown.
BOOTSTRAP = """\
import sys, importlib.util
print(importlib.util.MAGIC_NUMBER.hex(), sys.version.split()[0], flush=True)
if sys.version_info < %(minimum)r:
    sys.exit(0)
stdin = sys.stdin.buffer
mine = importlib.util.MAGIC_NUMBER.hex().encode()
kind = None
while kind not in (mine, %(sources)r):  # a zip compiled for another Python is passed over
    head = stdin.read(%(head)d)
    if not head:
        sys.exit(0)
    kind, data = head[:8], stdin.read(int(head[8:]))
import io, marshal, os, zipfile
archive = zipfile.ZipFile(io.BytesIO(data))
names = set(archive.namelist())

class Resources:
    def __init__(self, at):
        self.at = at
    def files(self):
        return zipfile.Path(archive, self.at)

class Bundle:
    def find_spec(self, name, path=None, target=None):
        base = name.replace(".", "/")
        for origin, package in ((base + "/__init__.py", True), (base + ".py", False)):
            if origin in names or origin + "c" in names:
                return importlib.util.spec_from_loader(name, self, origin=origin,
                                                       is_package=package)
        return None
    def create_module(self, spec):
        return None
    def exec_module(self, module):
        origin = module.__spec__.origin
        if origin + "c" in names:
            code = marshal.loads(archive.read(origin + "c"))
        else:
            code = compile(archive.read(origin), "egov-probe/" + origin, "exec")
        exec(code, module.__dict__)
    def get_resource_reader(self, name):
        return Resources(name.replace(".", "/") + "/")

sys.dont_write_bytecode = True
sys.meta_path.insert(0, Bundle())
from egov_probe.fleet.onhost import main
main(stdin.read())
os._exit(0)
""" % {"head": 8 + SIZE_DIGITS, "minimum": MIN_PYTHON, "sources": SOURCES_KIND}

MAGIC = importlib.util.MAGIC_NUMBER.hex()  # this Python's bytecode version
NO_PYTHON = "no python3 on the host"
# One command: is there a python3 (else say so); if so, the bootstrap in it (-S: nothing of
# the host's site-packages is needed, the zip brings it all).
RUN_PROBE = (f"command -v python3 >/dev/null 2>&1 || {{ echo {shlex.quote(NO_PYTHON)}; "
             f"exit 0; }}; exec python3 -I -S -c {shlex.quote(BOOTSTRAP)}")


class ProbeBundle:
    """The zip of the probe's code sent to each host, built once per run and kind (compiled
    for the controller's bytecode version: at once, before the hosts start; sources: when a
    host's python3 is another), and each policy's request, encoded once.

    The compiled zip is sent as soon as the host's python3 starts, before it says which Python
    it is (no round trip lost), unless a host of this run already was another Python; such a
    host passes over it and gets the sources."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # the hosts' threads ask at once
        self._zips: dict[bool, bytes] = {}
        self._requests: dict[int, tuple[Policy, bytes]] = {}  # kept: ids stay unique
        self._other_python_seen = False
        self.zip(compiled=True)

    def zip(self, compiled: bool) -> bytes:
        """With its header: the bytecode version it is compiled for (else sources), its size."""
        with self._lock:
            if compiled not in self._zips:
                payload = build_zip(compiled)
                kind = MAGIC.encode() if compiled else SOURCES_KIND
                self._zips[compiled] = kind + f"{len(payload):0{SIZE_DIGITS}d}".encode() + payload
            return self._zips[compiled]

    def early(self) -> Optional[bytes]:
        """What to send before the host said which Python it is."""
        return None if self._other_python_seen else self.zip(compiled=True)

    def rest(self, policy: Policy, compiled: bool, sent_early: bool) -> bytes:
        """What the host still needs once it said which Python it is: the zip for it (unless
        sent early), then the request."""
        if not compiled:
            self._other_python_seen = True
        payload = b"" if compiled and sent_early else self.zip(compiled)
        with self._lock:
            if id(policy) not in self._requests:
                self._requests[id(policy)] = (policy, request(policy))
            return payload + self._requests[id(policy)][1]


def build_zip(compiled: bool) -> bytes:
    ready = _preloaded_files() if compiled else set()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for package, left_out in BUNDLED.items():
            for path, name in _package_files(package):
                inside = name.split("/", 1)[1]
                if inside not in KEEP and any(inside.startswith(x) for x in left_out):
                    continue
                if path.resolve() in ready:
                    code = compile(path.read_bytes(), f"egov-probe/{name}", "exec")
                    archive.writestr(name + "c", marshal.dumps(code))
                else:
                    archive.write(path, name)
    return buffer.getvalue()


def _preloaded_files() -> set[Path]:
    for name in PRELOAD:
        importlib.import_module(name)
    return {Path(module.__file__).resolve() for name, module in list(sys.modules.items())
            if name.split(".")[0] in BUNDLED and name.split(".")[0] not in NOT_PRELOADED
            and getattr(module, "__file__", None)}


def _package_files(package: str) -> list[tuple[Path, str]]:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"cannot bundle {package}: not installed here")
    root = Path(list(spec.submodule_search_locations)[0])
    return [(path, f"{package}/{path.relative_to(root).as_posix()}")
            for path in sorted(root.rglob("*"))
            if path.suffix in SOURCE_SUFFIXES and "__pycache__" not in path.parts]


def request(policy: Policy) -> bytes:
    """The host's effective policy (a CA file travels as its content) and the messages."""
    sections = {name: dict(policy.section(name)) for name in SECTIONS}
    ca_file = sections["network"].pop("ca_file", None)
    if ca_file:
        sections["network"]["ca_pem"] = Path(ca_file).read_text(encoding="utf-8")
    data = {"policy": {"policy_id": policy.policy_id, "version": policy.version,
                       "path": policy.path, "sha256": policy.sha256, "sections": sections},
            "messages": messages.catalogue()}
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


class HostSections:
    """The host's network sections, started at once on their own channel of the session, so
    that they run while the collector runs; :meth:`result` waits for them."""

    def __init__(self, session: SshSession, policy: Policy, probe: ProbeBundle) -> None:
        self._result: list[SectionResult] = []
        self._thread = threading.Thread(target=self._run, args=(session, policy, probe),
                                        name="egov-fleet-network", daemon=True)
        self._thread.start()

    def _run(self, session: SshSession, policy: Policy, probe: ProbeBundle) -> None:
        try:
            self._result = host_sections(session, policy, probe)
        except Exception as exc:  # noqa: BLE001 - the host keeps its report, without these
            self._result = not_checked(f"probe error: {type(exc).__name__}: {exc}")

    def result(self) -> list[SectionResult]:
        self._thread.join()
        return self._result


@dataclass
class _HostPython:
    """What the host's python3 said of itself (its first line), and why it cannot run the
    probe, if it cannot."""

    version: str = ""
    compiled: bool = False
    refused: Optional[str] = None


def host_sections(session: SshSession, policy: Policy, probe: ProbeBundle) -> list[SectionResult]:
    """The network and signature sections, run on the host (or "not checked", with why), in
    one python3 started once: it says its version, then gets the zip and the request."""
    python = _HostPython()

    def reply(first_line: str) -> Optional[bytes]:
        found = first_line.split()
        if found == NO_PYTHON.split():
            python.refused = NO_PYTHON
        elif len(found) != 2:
            python.refused = "python3 on the host did not answer"
        elif _version(found[1]) < MIN_PYTHON:
            python.refused = (f"python3 {found[1]} on the host is older than "
                              f"{'.'.join(map(str, MIN_PYTHON))}")
        else:
            python.version = found[1]
            python.compiled = found[0] == MAGIC
            return probe.rest(policy, python.compiled, sent_early=early is not None)
        return None

    early = probe.early()
    try:
        _first, text = session.converse(RUN_PROBE, reply, early)
    except HostFailure as exc:
        return not_checked(f"the session broke during the network checks: {exc.message}")
    if python.refused:
        return not_checked(python.refused)
    try:
        answer = json.loads(text)
    except json.JSONDecodeError:
        return not_checked("python3 on the host could not run the probe"
                           + (f": {text.strip()[-300:]}" if text.strip() else ""))
    on_host = {"python": answer.get("python", python.version), "seconds": answer.get("seconds"),
               "compiled": python.compiled}
    return [_section(item, on_host) for item in answer.get("sections", [])]


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:2])


def _section(item: dict[str, Any], on_host: dict[str, Any]) -> SectionResult:
    name = item.get("name", "network")
    if "error" in item:
        return not_checked(f"probe error on the host: {item['error']}", (name,))[0]
    facts = item.get("facts")
    if isinstance(facts, dict):
        facts = {**facts, "run_on_host": on_host}
    return SectionResult(name, facts, [check_from_dict(c) for c in item.get("checks", [])])


def not_checked(reason: str, names: tuple[str, ...] = SECTIONS) -> list[SectionResult]:
    """One ``skipped`` check per section, saying why it was not checked on the host."""
    return [SectionResult(name, {"not_checked": reason}, [CheckResult(
        id=f"{name}.not_checked", category=name,
        title=messages.text(f"fleet.not_checked.{name}"), status=Status.SKIPPED,
        observed=reason, expected=messages.text("fleet.not_checked", "expected").en,
        remedy=messages.text("fleet.not_checked", "remedy", reason=reason),
        details={"reason": reason})]) for name in names]

