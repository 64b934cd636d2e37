"""The probe's code as ``fleet --network`` sends it to a Linux host, and the bootstrap that runs it.

The host's ``python3 -I -S`` gets a short bootstrap on its command line; it prints its bytecode
version and version (3.10 or newer needed), then reads from stdin a bundle of the probe's
pure-Python code and imports from it in memory: nothing is installed or written on the host,
nothing left behind.

A bundle is one zlib-compressed ``marshal`` dictionary, ``{"pkg/module.py": bytes}``, behind a
header (the bytecode version it is compiled for, or ``SOURCES_KIND``; its size). Two kinds:

- **compiled**, for hosts whose python3 has the controller's bytecode version (the usual case:
  the same Debian): exactly the modules the host imports, compiled without docstrings or
  column tables, about 230 KB. The host compiles nothing. Which modules those are is not
  guessed: a child of the controller's own Python, isolated as the host's is (``-I -S``, only
  the standard library and the bundle), imports what the host runs (``PRELOAD``) from the
  sources through the very importer the host uses, and hands back each module's code.
- **sources**, for a host with another Python: the sources of the probe's host-side part and
  of dnspython (the host compiles what it imports).

The bundle crosses slow commune links, so it carries nothing the host does not run: no
PyYAML, no data files (the message catalogue and the policy arrive parsed, in the request).
"""

from __future__ import annotations

import importlib.util
import json
import marshal
import shlex
import subprocess
import sys
import threading
import zlib
from pathlib import Path
from typing import Optional

from ..core import messages
from ..judge.policy import Policy

SECTIONS = ("network", "signature")
# What a host with another Python gets as sources: the probe without its controller-side
# parts (hosts are Linux) and dnspython without DNSSEC, zones and the other async backends.
BUNDLED: dict[str, tuple[str, ...]] = {
    "egov_probe": ("render/", "store/", "matrix/", "mailboxes/", "kit/", "commands/", "schema/",
                   "collector/", "upload/", "data/", "__main__.py", "core/report_file.py",
                   "core/atomic.py", "core/signing.py", "audit/evidence.py", "audit/run.py",
                   "fleet/"),
    "dns": ("_trio_backend.py", "asyncresolver.py", "dnssec", "zone", "versioned.py",
            "win32util.py"),
}
KEEP = ("fleet/__init__.py", "fleet/onhost.py")
# What the host imports: the entry point, and what the sections import when they run (their
# collectors and judges, and the record types dnspython loads when an answer arrives).
PRELOAD = ("egov_probe.fleet.onhost", "egov_probe.facts.network", "egov_probe.judge.network",
           "egov_probe.facts.signature", "egov_probe.judge.signature", "dns.resolver",
           "dns.query", "dns.rdtypes.IN.A", "dns.rdtypes.IN.AAAA", "dns.rdtypes.ANY.CNAME")
SIZE_DIGITS = 12
SOURCES_KIND = b"00000000"  # a bundle's header: the bytecode version it is compiled for, or this
MIN_PYTHON = (3, 10)
MAGIC = importlib.util.MAGIC_NUMBER.hex()  # this Python's bytecode version
COMPILE_FLAGS = ("-X", "no_debug_ranges")  # no column tables: a smaller bundle
OPTIMIZE = 2  # no docstrings, no asserts: a smaller bundle

# The importer, shared by the host's bootstrap and the child that compiles the bundle: finds
# ``name`` in the bundle's files; runs compiled code as is, compiles sources (and, given
# ``made``, keeps what it compiled). Kept to the syntax of any python3.
IMPORTER = """\
class Bundle:
    def __init__(self, files, compiled, made=None):
        self.files, self.compiled, self.made = files, compiled, made
    def find_spec(self, name, path=None, target=None):
        base = name.replace(".", "/")
        for origin, package in ((base + "/__init__.py", True), (base + ".py", False)):
            if origin in self.files:
                return importlib.util.spec_from_loader(name, self, origin=origin,
                                                       is_package=package)
        return None
    def create_module(self, spec):
        return None
    def exec_module(self, module):
        origin = module.__spec__.origin
        if self.compiled:
            code = marshal.loads(self.files[origin])
        else:
            code = compile(self.files[origin], "egov-probe/" + origin, "exec",
                           optimize=%(optimize)d)
            if self.made is not None:
                self.made[origin] = marshal.dumps(code)
        exec(code, module.__dict__)
""" % {"optimize": OPTIMIZE}

# Runs on the host, in the one python3 the session starts: first says which Python it is (the
# controller then knows what to send, or sends nothing), then imports the probe from the
# bundle read from stdin (one compiled for another bytecode version is passed over). Ends with
# ``os._exit`` once the answer is written: nothing left to wait for (a network step cut off
# by the section's deadline) and no interpreter teardown.
BOOTSTRAP = """\
import sys, importlib.util
print(importlib.util.MAGIC_NUMBER.hex(), sys.version.split()[0], flush=True)
if sys.version_info < %(minimum)r:
    sys.exit(0)
stdin = sys.stdin.buffer
mine = importlib.util.MAGIC_NUMBER.hex().encode()
kind = None
while kind not in (mine, %(sources)r):
    head = stdin.read(%(head)d)
    if not head:
        sys.exit(0)
    kind, data = head[:8], stdin.read(int(head[8:]))
import marshal, os, zlib
%(importer)s
sys.dont_write_bytecode = True
sys.meta_path.insert(0, Bundle(marshal.loads(zlib.decompress(data)), kind == mine))
del data
from egov_probe.fleet.onhost import main
main(stdin.read())
os._exit(0)
""" % {"head": 8 + SIZE_DIGITS, "minimum": MIN_PYTHON, "sources": SOURCES_KIND,
       "importer": IMPORTER}

# The child that compiles the bundle: the sources on stdin, what the host imports compiled on
# stdout.
COMPILER = """\
import sys, importlib, importlib.util, marshal, zlib
%(importer)s
bundle = Bundle(marshal.loads(zlib.decompress(sys.stdin.buffer.read())), False, {})
sys.dont_write_bytecode = True
sys.meta_path.insert(0, bundle)
for name in %(preload)r:
    importlib.import_module(name)
sys.stdout.buffer.write(marshal.dumps(bundle.made))
""" % {"importer": IMPORTER, "preload": PRELOAD}

NO_PYTHON = "no python3 on the host"
# One command: is there a python3 (else say so); if so, the bootstrap in it (-S: nothing of
# the host's site-packages is needed, the bundle brings it all).
RUN_PROBE = (f"command -v python3 >/dev/null 2>&1 || {{ echo {shlex.quote(NO_PYTHON)}; "
             f"exit 0; }}; exec python3 -I -S -c {shlex.quote(BOOTSTRAP)}")


class ProbeBundle:
    """The bundles sent to the hosts, built once per run and kind (compiled for the
    controller's bytecode version: at once, before the hosts start; sources: when a host's
    python3 is another), and each policy's request, encoded once.

    The compiled bundle is sent as soon as the host's python3 starts, before it says which
    Python it is (no round trip lost), unless a host of this run already was another Python;
    such a host passes over it and gets the sources."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # the hosts' threads ask at once
        self._bundles: dict[bool, bytes] = {}
        self._requests: dict[int, tuple[Policy, bytes]] = {}  # kept: ids stay unique
        self._other_python_seen = False
        self.bundle(compiled=True)

    def bundle(self, compiled: bool) -> bytes:
        """With its header: the bytecode version it is compiled for (else sources), its size."""
        with self._lock:
            if compiled not in self._bundles:
                payload = build_bundle(compiled)
                kind = MAGIC.encode() if compiled else SOURCES_KIND
                self._bundles[compiled] = (kind + f"{len(payload):0{SIZE_DIGITS}d}".encode()
                                           + payload)
            return self._bundles[compiled]

    def early(self) -> Optional[bytes]:
        """What to send before the host said which Python it is."""
        return None if self._other_python_seen else self.bundle(compiled=True)

    def rest(self, policy: Policy, compiled: bool, sent_early: bool) -> bytes:
        """What the host still needs once it said which Python it is: the bundle for it
        (unless sent early), then the request."""
        if not compiled:
            self._other_python_seen = True
        payload = b"" if compiled and sent_early else self.bundle(compiled)
        with self._lock:
            if id(policy) not in self._requests:
                self._requests[id(policy)] = (policy, request(policy))
            return payload + self._requests[id(policy)][1]


def build_bundle(compiled: bool) -> bytes:
    """The payload of a bundle (no header): compressed ``{"pkg/module.py": code or source}``."""
    sources = host_sources()
    files = compile_for_host(sources) if compiled else sources
    return zlib.compress(marshal.dumps(files), 9)


def host_sources() -> dict[str, bytes]:
    """The sources a host may import, by path in their package (``dns/query.py``)."""
    files = {}
    for package, left_out in BUNDLED.items():
        for path, name in _package_files(package):
            inside = name.split("/", 1)[1]
            if inside in KEEP or not any(inside.startswith(x) for x in left_out):
                files[name] = path.read_bytes()
    return files


def compile_for_host(sources: dict[str, bytes]) -> dict[str, bytes]:
    """What the host imports, compiled by this Python in a child isolated as the host's is."""
    done = subprocess.run([sys.executable, "-I", "-S", *COMPILE_FLAGS, "-c", COMPILER],
                          input=zlib.compress(marshal.dumps(sources), 1), capture_output=True,
                          check=False)
    if done.returncode != 0:
        raise RuntimeError("cannot compile the probe for the hosts: "
                           + done.stderr.decode("utf-8", "replace").strip()[-500:])
    return marshal.loads(done.stdout)


def _package_files(package: str) -> list[tuple[Path, str]]:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"cannot bundle {package}: not installed here")
    root = Path(list(spec.submodule_search_locations)[0])
    return [(path, f"{package}/{path.relative_to(root).as_posix()}")
            for path in sorted(root.rglob("*.py")) if "__pycache__" not in path.parts]


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
