"""A local APT repository that says it is Debian's security archive, for the unattended-upgrades
test: a package in two versions, the newer one published in a flat repository whose Release
names Origin Debian, Label Debian-Security and the suite <codename>-security."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

PACKAGE = "egov-security-fixture"


def build_deb(out_dir: Path, version: str) -> Path:
    """A tiny architecture-independent package holding /usr/share/doc/<name>/VERSION."""
    root = out_dir / f"build-{version}"
    (root / "DEBIAN").mkdir(parents=True)
    doc = root / "usr" / "share" / "doc" / PACKAGE
    doc.mkdir(parents=True)
    (doc / "VERSION").write_text(f"{version}\n")
    (root / "DEBIAN" / "control").write_text(
        f"Package: {PACKAGE}\nVersion: {version}\nArchitecture: all\n"
        "Maintainer: egov-probe tests <tests@egov.test>\nSection: misc\nPriority: optional\n"
        "Description: fixture of the unattended security upgrade test\n")
    deb = out_dir / f"{PACKAGE}_{version}_all.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "-Zgzip", "--build", str(root), str(deb)],
                   check=True, capture_output=True)
    return deb


def publish(repo: Path, deb: Path, codename: str) -> None:
    """A flat repository (deb file:/... ./) holding deb, its Release naming the security origin."""
    repo.mkdir(parents=True, exist_ok=True)
    target = repo / deb.name
    target.write_bytes(deb.read_bytes())
    control = subprocess.run(["dpkg-deb", "-f", str(target)], check=True, capture_output=True,
                             text=True).stdout.strip()
    data = target.read_bytes()
    packages = (f"{control}\nFilename: ./{deb.name}\nSize: {len(data)}\n"
                f"SHA256: {hashlib.sha256(data).hexdigest()}\n\n")
    (repo / "Packages").write_text(packages)
    digest = hashlib.sha256(packages.encode()).hexdigest()
    (repo / "Release").write_text(
        f"Origin: Debian\nLabel: Debian-Security\nSuite: {codename}-security\n"
        f"Codename: {codename}-security\nArchitectures: all amd64\nComponents: main\n"
        f"Date: Mon, 30 Nov 2026 00:00:00 UTC\n"
        f"SHA256:\n {digest} {len(packages.encode())} Packages\n")
