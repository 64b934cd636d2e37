"""The narrow interface through which collectors read a Windows machine.

Collectors never import ``winreg`` or ``ctypes``: they read through a :class:`WindowsSource`.
Three implementations share the interface:

- :class:`LiveWindowsSource` reads the machine it runs on (Windows only; the module still
  imports elsewhere);
- :class:`FixtureWindowsSource` reads a JSON document in the *Windows evidence format* below;
- :class:`RecordingWindowsSource` wraps another source and remembers every read, so that
  :func:`dump_evidence` turns what the collectors read into that same format.

The Windows evidence format (``docs/windows.md`` documents it for other producers)::

    {
      "format": "egov-probe-windows-evidence/1",
      "_origin": "where the data came from",
      "registry": {"HKLM\\\\SOFTWARE\\\\...": {"view64": {"values": {"name": "text or number"},
                                                         "subkeys": ["..."]},
                                              "view32": {...}}},
      "files": {"C:\\\\...\\\\chrome.exe": {"version": "120.0.6099.224", "machine": "x64"}},
      "environment": {"ProgramFiles": "C:\\\\Program Files"},
      "profiles": [{"sid": "S-1-5-21-...", "path": "C:\\\\Users\\\\lan", "loaded": true,
                    "load_error": null}]
    }

Registry keys are written ``HKLM\\<path>`` or ``HKU\\<SID>\\<path>``; a user's hive is always
written under its SID, even when the probe had to load it under another name. ``view64`` and
``view32`` are the ``KEY_WOW64_64KEY`` and ``KEY_WOW64_32KEY`` views of the same logical key.
A key, value or file absent from the document is absent from the machine.
"""

from __future__ import annotations

import contextlib
import os
import re
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ContextManager, Iterator, List, Protocol, Union

FORMAT = "egov-probe-windows-evidence/1"

# What a registry value reads as: REG_SZ/REG_EXPAND_SZ -> str, REG_DWORD/REG_QWORD -> int,
# REG_MULTI_SZ -> list of str, anything else -> its bytes in hex.
RegValue = Union[str, int, List[str]]

_PE_MACHINES = {0x014C: "x86", 0x8664: "x64", 0xAA64: "arm64", 0x01C4: "arm"}


class HiveUnavailable(Exception):
    """A user's registry hive could not be read (not loaded, and loading it failed)."""


@dataclass(frozen=True)
class Profile:
    """One user profile from ``HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\ProfileList``.

    ``loaded``: its hive is mounted at ``HKEY_USERS\\<sid>`` (the user is logged on, or a service
    runs as that user); otherwise it can only be read by loading ``hive_file``.
    """

    sid: str
    path: str
    loaded: bool

    @property
    def hive_file(self) -> str:
        return join_path(self.path, "NTUSER.DAT")

    @property
    def user(self) -> str:
        """The account name as Windows spells the profile folder, else the SID."""
        return leaf(self.path) or self.sid


class WindowsSource(Protocol):
    """Everything a Windows collector may read. Missing keys, values and files read as None."""

    def subkeys(self, hive: str, path: str, view: int = 64) -> list[str]:
        """Names of the subkeys of ``hive\\path`` in that view; [] when the key is absent."""

    def value(self, hive: str, path: str, name: str, view: int = 64) -> RegValue | None:
        """One value of ``hive\\path`` (``name`` "" is the default value)."""

    def exists(self, path: str) -> bool:
        """Whether a file exists."""

    def file_version(self, path: str) -> str | None:
        """The FileVersion (else ProductVersion) of an executable's version resource."""

    def file_machine(self, path: str) -> str | None:
        """The machine type in an executable's PE header: x86, x64, arm64 or arm."""

    def environ(self, name: str) -> str | None:
        """An environment variable of the probe's process."""

    def profiles(self) -> list[Profile]:
        """The user profiles of the machine (accounts of people, not services)."""

    def user_hive(self, profile: Profile) -> ContextManager[str]:
        """Context giving the name under HKU where the profile's hive can be read.

        Loads ``NTUSER.DAT`` when the hive is not loaded (and unloads it on exit); raises
        :class:`HiveUnavailable` with the reason when that is not possible.
        """


# --- paths -----------------------------------------------------------------------------------


def join_path(*parts: str) -> str:
    """Join Windows path or registry key parts with single backslashes."""
    return "\\".join(p.strip("\\") for p in parts if p)


def leaf(path: str) -> str:
    """Last component of a Windows path or registry key."""
    return path.rstrip("\\").rsplit("\\", 1)[-1]


def fold(path: str) -> str:
    """Case- and separator-insensitive form of a Windows path or registry key."""
    return path.replace("/", "\\").rstrip("\\").casefold()


def registry_location(hive: str, path: str, view: int = 64) -> str:
    """Where a human finds a key in regedit: the 32-bit view of HKLM\\SOFTWARE is WOW6432Node."""
    if view == 32 and hive == "HKLM" and fold(path).startswith("software\\"):
        path = "SOFTWARE\\WOW6432Node\\" + path.split("\\", 1)[1]
    return join_path(hive, path)


def pe_machine(header: bytes) -> str | None:
    """Machine type from the first bytes of a PE file (needs the DOS and PE headers)."""
    if header[:2] != b"MZ" or len(header) < 0x40:
        return None
    offset = struct.unpack_from("<I", header, 0x3C)[0]
    if len(header) < offset + 6 or header[offset:offset + 4] != b"PE\0\0":
        return None
    return _PE_MACHINES.get(struct.unpack_from("<H", header, offset + 4)[0])


def version_prefix(text: str | None) -> str | None:
    """The leading dotted number of a version string ("11.00.19041.1 (WinBuild...)" -> ...)."""
    match = re.match(r"\s*(\d+(?:\.\d+)*)", text or "")
    return match.group(1) if match else None


# --- fixtures --------------------------------------------------------------------------------


class FixtureWindowsSource:
    """Reads a document in the Windows evidence format (a fixture, a dump, a WinRM answer)."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.origin = document.get("_origin")
        self._keys = {fold(k): v for k, v in document.get("registry", {}).items()}
        self._files = {fold(k): v for k, v in document.get("files", {}).items()}
        self._env = {k.casefold(): v for k, v in document.get("environment", {}).items()}
        self._profiles = list(document.get("profiles", []))

    @classmethod
    def from_file(cls, path: str | Path) -> FixtureWindowsSource:
        from ..core.yamlsource import COLLECTOR_LIMITS, load_json

        return cls(load_json(path, COLLECTOR_LIMITS))

    def _view(self, hive: str, path: str, view: int) -> dict[str, Any]:
        return self._keys.get(fold(join_path(hive, path)), {}).get(f"view{view}", {})

    def subkeys(self, hive: str, path: str, view: int = 64) -> list[str]:
        return list(self._view(hive, path, view).get("subkeys", []))

    def value(self, hive: str, path: str, name: str, view: int = 64) -> RegValue | None:
        values = self._view(hive, path, view).get("values", {})
        return next((v for k, v in values.items() if k.casefold() == name.casefold()), None)

    def exists(self, path: str) -> bool:
        return fold(path) in self._files

    def file_version(self, path: str) -> str | None:
        return (self._files.get(fold(path)) or {}).get("version")

    def file_machine(self, path: str) -> str | None:
        return (self._files.get(fold(path)) or {}).get("machine")

    def environ(self, name: str) -> str | None:
        return self._env.get(name.casefold())

    def profiles(self) -> list[Profile]:
        return [Profile(p["sid"], p["path"], bool(p.get("loaded"))) for p in self._profiles]

    @contextlib.contextmanager
    def user_hive(self, profile: Profile) -> Iterator[str]:
        entry = next((p for p in self._profiles if p["sid"] == profile.sid), {})
        if entry.get("load_error"):
            raise HiveUnavailable(entry["load_error"])
        yield profile.sid


# --- recording -------------------------------------------------------------------------------


class RecordingWindowsSource:
    """Passes every read to ``inner`` and remembers what was found, for :func:`dump_evidence`."""

    def __init__(self, inner: WindowsSource, origin: str = "recorded by egov-probe evidence"):
        self.inner = inner
        self.origin = origin
        self.registry: dict[str, dict[str, dict[str, Any]]] = {}
        self.files: dict[str, dict[str, str | None]] = {}
        self.environment: dict[str, str] = {}
        self.profile_entries: dict[str, dict[str, Any]] = {}
        self._mounts: dict[str, str] = {}  # temporary HKU name -> SID

    def _entry(self, hive: str, path: str, view: int) -> dict[str, Any]:
        key = join_path(hive, self._canonical(hive, path))
        return self.registry.setdefault(key, {}).setdefault(f"view{view}", {})

    def _canonical(self, hive: str, path: str) -> str:
        root, _, rest = path.partition("\\")
        if hive == "HKU" and root in self._mounts:
            return join_path(self._mounts[root], rest)
        return path

    def subkeys(self, hive: str, path: str, view: int = 64) -> list[str]:
        names = self.inner.subkeys(hive, path, view)
        if names:
            self._entry(hive, path, view)["subkeys"] = list(names)
        return names

    def value(self, hive: str, path: str, name: str, view: int = 64) -> RegValue | None:
        found = self.inner.value(hive, path, name, view)
        if found is not None:
            self._entry(hive, path, view).setdefault("values", {})[name] = found
        return found

    def exists(self, path: str) -> bool:
        found = self.inner.exists(path)
        if found:
            self.files.setdefault(path, {})
        return found

    def file_version(self, path: str) -> str | None:
        return self._file_fact(path, "version", self.inner.file_version(path))

    def file_machine(self, path: str) -> str | None:
        return self._file_fact(path, "machine", self.inner.file_machine(path))

    def _file_fact(self, path: str, name: str, found: str | None) -> str | None:
        if found is not None:
            self.files.setdefault(path, {})[name] = found
        return found

    def environ(self, name: str) -> str | None:
        found = self.inner.environ(name)
        if found is not None:
            self.environment[name] = found
        return found

    def profiles(self) -> list[Profile]:
        found = self.inner.profiles()
        for p in found:
            self.profile_entries[p.sid] = {"sid": p.sid, "path": p.path, "loaded": p.loaded,
                                           "load_error": None}
        return found

    @contextlib.contextmanager
    def user_hive(self, profile: Profile) -> Iterator[str]:
        try:
            with self.inner.user_hive(profile) as root:
                self._mounts[root] = profile.sid
                yield root
        except HiveUnavailable as error:
            entry = self.profile_entries.setdefault(
                profile.sid, {"sid": profile.sid, "path": profile.path, "loaded": profile.loaded})
            entry["load_error"] = str(error) or "not readable"
            raise


def dump_evidence(source: RecordingWindowsSource) -> dict[str, Any]:
    """What a recording source read, in the Windows evidence format."""
    return {
        "format": FORMAT,
        "_origin": source.origin,
        "registry": source.registry,
        "files": source.files,
        "environment": source.environment,
        "profiles": list(source.profile_entries.values()),
    }


def load_fixture(path: str | Path) -> FixtureWindowsSource:
    """A fixture, a dump or a WinRM answer saved to a file, as a source."""
    return FixtureWindowsSource.from_file(path)


# --- the live machine (Windows only; never run on Linux) --------------------------------------

try:
    import winreg  # type: ignore[import-not-found]
except ImportError:  # not Windows: the live source cannot be built, the rest works
    winreg = None  # type: ignore[assignment]

_PROFILE_LIST = r"SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList"
MOUNT_PREFIX = "egov-probe-"  # HKU name of a hive the probe loaded: egov-probe-<SID>
UNLOAD_ATTEMPTS = 5
_HIVE_PRIVILEGES = ("SeRestorePrivilege", "SeBackupPrivilege")


class LiveWindowsSource:
    """Reads the Windows machine the probe runs on: ``winreg`` and ``version.dll``."""

    def __init__(self) -> None:
        if winreg is None:
            raise OSError("LiveWindowsSource needs Windows (no winreg module here)")

    def _open(self, hive: str, path: str, view: int) -> Any:
        root = winreg.HKEY_LOCAL_MACHINE if hive == "HKLM" else winreg.HKEY_USERS
        flag = winreg.KEY_WOW64_32KEY if view == 32 else winreg.KEY_WOW64_64KEY
        return winreg.OpenKey(root, path, 0, winreg.KEY_READ | flag)

    def subkeys(self, hive: str, path: str, view: int = 64) -> list[str]:
        try:
            with self._open(hive, path, view) as key:
                count = winreg.QueryInfoKey(key)[0]
                return [winreg.EnumKey(key, i) for i in range(count)]
        except OSError:
            return []

    def value(self, hive: str, path: str, name: str, view: int = 64) -> RegValue | None:
        try:
            with self._open(hive, path, view) as key:
                data, _kind = winreg.QueryValueEx(key, name)
        except OSError:
            return None
        return _plain_value(data)

    def exists(self, path: str) -> bool:
        return Path(path).is_file()

    def file_version(self, path: str) -> str | None:
        try:
            return _file_version_info(path)
        except OSError:
            return None

    def file_machine(self, path: str) -> str | None:
        try:
            with open(path, "rb") as handle:
                return pe_machine(handle.read(4096))
        except OSError:
            return None

    def environ(self, name: str) -> str | None:
        return os.environ.get(name)

    def profiles(self) -> list[Profile]:
        loaded = {fold(s) for s in self.subkeys("HKU", "")}
        found = []
        for sid in self.subkeys("HKLM", _PROFILE_LIST):
            path = self.value("HKLM", join_path(_PROFILE_LIST, sid), "ProfileImagePath")
            if is_person_sid(sid) and isinstance(path, str):
                found.append(Profile(sid, os.path.expandvars(path), fold(sid) in loaded))
        return found

    @contextlib.contextmanager
    def user_hive(self, profile: Profile) -> Iterator[str]:
        """The hive of a user not logged on is loaded under ``HKU\\egov-probe-<SID>`` for the
        reads and always unloaded after, also when the reads fail: a hive left loaded gives
        that user a temporary profile at the next logon. A mount of that name left by an
        earlier run that was killed is unloaded first."""
        if profile.loaded:
            yield profile.sid
            return
        name = MOUNT_PREFIX + profile.sid
        try:
            _enable_privileges(_HIVE_PRIVILEGES)
            if fold(name) in {fold(s) for s in self.subkeys("HKU", "")}:
                unload_hive(name)
            winreg.LoadKey(winreg.HKEY_USERS, name, profile.hive_file)
        except OSError as error:
            raise HiveUnavailable(f"cannot load {profile.hive_file}: {error}") from error
        try:
            yield name
        finally:
            unload_hive(name)


def is_person_sid(sid: str) -> bool:
    """Local and domain accounts (S-1-5-21-...) and Entra ID accounts (S-1-12-1-...)."""
    return sid.startswith(("S-1-5-21-", "S-1-12-1-"))


def _plain_value(data: Any) -> RegValue:
    if isinstance(data, (str, int)):
        return data
    if isinstance(data, list):
        return [str(item) for item in data]
    return bytes(data or b"").hex()


def _winapi(dll: str, name: str, restype: Any, *argtypes: Any) -> Any:
    """A Windows API function with its signature declared (never rely on ctypes defaults)."""
    import ctypes

    function = getattr(ctypes.WinDLL(dll, use_last_error=True), name)
    function.restype = restype
    function.argtypes = list(argtypes)
    return function


def _enable_privileges(names: tuple[str, ...]) -> None:
    """Enable privileges the process token holds; OSError naming the first one it lacks."""
    import ctypes
    from ctypes import wintypes

    class Luid(ctypes.Structure):
        _fields_ = [("low", wintypes.DWORD), ("high", wintypes.LONG)]

    class TokenPrivilege(ctypes.Structure):
        _fields_ = [("count", wintypes.DWORD), ("luid", Luid), ("attributes", wintypes.DWORD)]

    handle = wintypes.HANDLE
    current = _winapi("kernel32", "GetCurrentProcess", handle)
    close = _winapi("kernel32", "CloseHandle", wintypes.BOOL, handle)
    open_token = _winapi("advapi32", "OpenProcessToken", wintypes.BOOL, handle, wintypes.DWORD,
                         ctypes.POINTER(handle))
    lookup = _winapi("advapi32", "LookupPrivilegeValueW", wintypes.BOOL, wintypes.LPCWSTR,
                     wintypes.LPCWSTR, ctypes.POINTER(Luid))
    adjust = _winapi("advapi32", "AdjustTokenPrivileges", wintypes.BOOL, handle, wintypes.BOOL,
                     ctypes.POINTER(TokenPrivilege), wintypes.DWORD, ctypes.c_void_p,
                     ctypes.c_void_p)
    token = handle()
    if not open_token(current(), 0x0028, ctypes.byref(token)):  # ADJUST_PRIVILEGES | QUERY
        raise ctypes.WinError(ctypes.get_last_error())
    try:
        for name in names:
            luid = Luid()
            if not lookup(None, name, ctypes.byref(luid)):
                raise ctypes.WinError(ctypes.get_last_error())
            wanted = TokenPrivilege(1, luid, 0x2)  # SE_PRIVILEGE_ENABLED
            done = adjust(token, False, ctypes.byref(wanted), 0, None, None)
            if not done or ctypes.get_last_error() == 1300:  # ERROR_NOT_ALL_ASSIGNED
                raise OSError(f"the probe's account does not hold {name}")
    finally:
        close(token)


class HiveNotUnloaded(OSError):
    """A hive the probe loaded could not be unloaded: the user's next logon is at risk."""


def unload_hive(name: str) -> None:
    """Unload ``HKU\\name``, checking the result; a key handle still open (a finalizer not
    yet run) makes Windows refuse, so collect garbage and retry before giving up loudly."""
    import ctypes
    import gc
    import time
    from ctypes import wintypes

    unload = _winapi("advapi32", "RegUnLoadKeyW", wintypes.LONG, wintypes.HKEY,
                     wintypes.LPCWSTR)
    users = wintypes.HKEY(ctypes.c_int32(0x80000003).value)  # HKEY_USERS, sign-extended
    code = 0
    for attempt in range(UNLOAD_ATTEMPTS):
        code = unload(users, name)
        if code == 0:
            return
        if code == 2:  # ERROR_FILE_NOT_FOUND: nothing of that name is loaded
            break
        gc.collect()
        time.sleep(0.1 * (attempt + 1))
    raise HiveNotUnloaded(
        code, f"HKU\\{name} is still loaded ({ctypes.FormatError(code).strip()}); unload it "
              f"as an administrator with: reg unload \"HKU\\{name}\" (or restart the machine) "
              f"before that user logs on")


def _file_version_info(path: str) -> str | None:
    """FileVersion, else ProductVersion, else the fixed file version of an executable."""
    import ctypes
    from ctypes import wintypes

    size_of = _winapi("version", "GetFileVersionInfoSizeW", wintypes.DWORD, wintypes.LPCWSTR,
                      ctypes.POINTER(wintypes.DWORD))
    read = _winapi("version", "GetFileVersionInfoW", wintypes.BOOL, wintypes.LPCWSTR,
                   wintypes.DWORD, wintypes.DWORD, ctypes.c_void_p)
    query = _winapi("version", "VerQueryValueW", wintypes.BOOL, ctypes.c_void_p,
                    wintypes.LPCWSTR, ctypes.POINTER(ctypes.c_void_p),
                    ctypes.POINTER(wintypes.UINT))
    size = size_of(path, None)
    if not size:
        return None
    block = ctypes.create_string_buffer(size)
    if not read(path, 0, size, block):
        return None

    def lookup(sub_block: str) -> tuple[int, int] | None:
        pointer, length = ctypes.c_void_p(), wintypes.UINT()
        if query(block, sub_block, ctypes.byref(pointer), ctypes.byref(length)) and length.value:
            return pointer.value or 0, length.value
        return None

    for lang, codepage in _translations(lookup(r"\VarFileInfo\Translation")):
        for field in ("FileVersion", "ProductVersion"):
            found = lookup(f"\\StringFileInfo\\{lang:04x}{codepage:04x}\\{field}")
            text = ctypes.wstring_at(*found).rstrip("\0").strip() if found else ""
            if version_prefix(text):
                return text
    fixed = lookup("\\")  # VS_FIXEDFILEINFO: signature, struct version, version MS, version LS
    if not fixed:
        return None
    _sig, _struct, high, low = (wintypes.DWORD * 4).from_address(fixed[0])
    return f"{high >> 16}.{high & 0xFFFF}.{low >> 16}.{low & 0xFFFF}"


def _translations(found: tuple[int, int] | None) -> list[tuple[int, int]]:
    """Language and code page pairs of a version resource, then US English Unicode."""
    from ctypes import wintypes

    pairs = []
    if found:
        words = (wintypes.WORD * (found[1] // 2)).from_address(found[0])
        pairs = [(words[i], words[i + 1]) for i in range(0, len(words) - 1, 2)]
    return pairs + [(0x0409, 0x04B0)]


__all__ = [
    "FORMAT", "HiveUnavailable", "HiveNotUnloaded", "MOUNT_PREFIX", "unload_hive", "Profile", "WindowsSource", "FixtureWindowsSource",
    "RecordingWindowsSource", "LiveWindowsSource", "dump_evidence", "load_fixture",
    "registry_location", "pe_machine", "version_prefix", "join_path", "leaf", "fold",
    "is_person_sid",
]
