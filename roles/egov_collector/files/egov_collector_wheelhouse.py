#!/usr/bin/env python3
"""The collector's wheelhouse, made on the controller (role egov_collector).

Builds egov-probe's own wheel from the repository (in a scratch copy, so the source tree gets
no build/ or egg-info, with SOURCE_DATE_EPOCH fixed so the same source gives the same bytes),
downloads the wheels of its dependencies for the server's Python and platform (once per set of
requirements), and writes SHA256SUMS. The server then installs offline from these files only.
Prints one JSON line: {"changed": bool, "wheels": N}; exits 1 with the reason on failure.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

PROJECT_FILES = ("pyproject.toml", "README.md", "egov_probe")
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc")
EPOCH = "315532800"  # 1980-01-01, the earliest time a zip file can record


def run(cmd: list[str], **kwargs) -> None:
    result = subprocess.run(cmd, capture_output=True, text=True, check=False, **kwargs)
    if result.returncode != 0:
        sys.exit(f"{' '.join(cmd[:6])} ... failed ({result.returncode}):\n"
                 f"{(result.stdout + result.stderr)[-3000:]}")


def sums(folder: Path) -> str:
    lines = [f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.name}\n"
             for p in sorted(folder.glob("*.whl"))]
    return "".join(lines)


def source_digest(source: Path) -> str:
    """SHA-256 over the project's files (names and contents) that go into the wheel."""
    digest = hashlib.sha256()
    for name in PROJECT_FILES:
        path = source / name
        files = sorted(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts
                       and p.suffix != ".pyc") if path.is_dir() else [path]
        for item in files:
            digest.update(str(item.relative_to(source)).encode() + b"\0" + item.read_bytes())
    return digest.hexdigest()[:16]


def build_own_wheel(source: Path, out: Path) -> Path:
    """egov-probe's wheel, built in a scratch copy of the project's files; kept when the files
    are the ones it was built from (the marker .source-<digest>)."""
    marker = out / f".source-{source_digest(source)}"
    built_before = sorted(out.glob("egov_probe-*.whl"))
    if marker.exists() and len(built_before) == 1:
        return built_before[0]
    wheel = _build(source, out)
    for old in out.glob(".source-*"):
        old.unlink()
    marker.touch()
    return wheel


def _build(source: Path, out: Path) -> Path:
    with tempfile.TemporaryDirectory(prefix="egov-collector-build-") as scratch:
        tree = Path(scratch) / "src"
        tree.mkdir()
        for name in PROJECT_FILES:
            path = source / name
            if path.is_dir():
                shutil.copytree(path, tree / name, ignore=IGNORED)
            else:
                shutil.copy2(path, tree / name)
        built = Path(scratch) / "dist"
        env = {**os.environ, "SOURCE_DATE_EPOCH": EPOCH, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
        run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--wheel-dir", str(built),
             str(tree)], env=env)
        [wheel] = built.glob("egov_probe-*.whl")
        for old in out.glob("egov_probe-*.whl"):
            if old.name != wheel.name:
                old.unlink()
        target = out / wheel.name
        if not target.exists() or target.read_bytes() != wheel.read_bytes():
            shutil.copyfile(wheel, target)
        return target


def download_dependencies(wheel: Path, out: Path, args: argparse.Namespace) -> None:
    """Every dependency as a wheel for the server; skipped when this requirement set is there."""
    metadata = subprocess.run([sys.executable, "-c", "import sys, zipfile; z = zipfile.ZipFile"
                               "(sys.argv[1]); print(next(z.read(n).decode() for n in z.namelist()"
                               " if n.endswith('.dist-info/METADATA')))", str(wheel)],
                              capture_output=True, text=True, check=True).stdout
    requires = sorted(line for line in metadata.splitlines() if line.startswith("Requires-Dist"))
    key = hashlib.sha256(json.dumps([requires, args.extra, args.requirement, args.platform,
                                     args.python_version]).encode()).hexdigest()[:16]
    marker = out / f".dependencies-{key}"
    if marker.exists():
        return
    platforms = [item for tag in args.platform for item in ("--platform", tag)]
    spec = f"{wheel}[{','.join(args.extra)}]" if args.extra else str(wheel)
    run([sys.executable, "-m", "pip", "download", "-q", "--dest", str(out),
         "--only-binary=:all:", "--python-version", args.python_version,
         "--implementation", "cp", *platforms, spec, *args.requirement],
        env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    for old in out.glob(".dependencies-*"):
        old.unlink()
    marker.write_text(json.dumps(requires) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, required=True, help="the egov-probe repository")
    parser.add_argument("--out", type=Path, required=True, help="the wheelhouse folder")
    parser.add_argument("--extra", action="append", default=[], help="egov-probe's extras")
    parser.add_argument("--requirement", action="append", default=[],
                        help="another requirement installed beside egov-probe")
    parser.add_argument("--python-version", required=True, help="the server's Python, e.g. 3.11")
    parser.add_argument("--platform", action="append", required=True,
                        help="a wheel platform tag the server runs, e.g. manylinux_2_17_x86_64")
    args = parser.parse_args()
    if not (args.source / "pyproject.toml").is_file():
        sys.exit(f"{args.source}: no pyproject.toml (egov_collector_source must be the "
                 "egov-probe repository)")
    args.out.mkdir(parents=True, exist_ok=True)
    before = (args.out / "SHA256SUMS").read_text() if (args.out / "SHA256SUMS").exists() else ""
    wheel = build_own_wheel(args.source, args.out)
    download_dependencies(wheel, args.out, args)
    after = sums(args.out)
    if after != before:
        (args.out / "SHA256SUMS").write_text(after)
    print(json.dumps({"changed": after != before, "wheels": after.count("\n")}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
