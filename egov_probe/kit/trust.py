"""Where the kit's interpreter came from: Authenticode signatures checked with osslsigncode.

Every executable and DLL of the embeddable CPython must carry a valid Authenticode signature
whose signer is a pinned Python Software Foundation certificate (``data/kit_trust.yml``); the
Visual C++ runtime DLLs, signed by Microsoft whose root Debian lacks, must have a pinned
SHA-256. Otherwise the build is refused, unless the sysadmin pins the zip's own SHA-256.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
from importlib import resources
from pathlib import Path

import yaml

from ..core.errors import InputError

SIGNED_SUFFIXES = (".exe", ".dll", ".pyd")


def trust_list() -> dict:
    text = resources.files("egov_probe.data").joinpath("kit_trust.yml").read_text("utf-8")
    return yaml.safe_load(text)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def verify_members(members: dict[str, bytes], pinned_zip: str | None, zip_digest: str) -> str:
    """Check the interpreter's files; returns how it was trusted (for the manifest)."""
    if pinned_zip:
        if pinned_zip.lower() != zip_digest:
            raise InputError(f"the embeddable CPython's SHA-256 is {zip_digest}, not the pinned "
                             f"{pinned_zip.lower()}: refusing to build the kit",
                             field="--python-sha256")
        return f"SHA-256 {zip_digest} pinned by the sysadmin (--python-sha256)"
    osslsigncode = shutil.which("osslsigncode")
    if osslsigncode is None:
        raise InputError("osslsigncode is not installed (apt-get install osslsigncode): the "
                         "interpreter's signatures cannot be checked; install it, or pin the "
                         "zip's SHA-256 with --python-sha256", field="--python-zip")
    trust = trust_list()
    runtime = {(r["file"].casefold(), r["sha256"]) for r in trust["microsoft_runtime"]}
    signers = [s["sha256"] for s in trust["psf_signers"]]
    options = _offline_options(osslsigncode)
    checked, pinned = 0, 0
    with tempfile.TemporaryDirectory(prefix="egov-kit-sig-") as work:
        for name, data in sorted(members.items()):
            if "/" in name or not name.casefold().endswith(SIGNED_SUFFIXES):
                continue
            base = name.casefold()
            if base.startswith("vcruntime"):
                if (base, sha256(data)) not in runtime:
                    raise InputError(f"{name}: SHA-256 {sha256(data)} is not a pinned Microsoft "
                                     "runtime (data/kit_trust.yml): refusing to build the kit",
                                     field="--python-zip")
                pinned += 1
            else:
                _verify_signed([osslsigncode, "verify", *options], Path(work) / name, data,
                               signers)
                checked += 1
    if not checked or "python.exe" not in members:
        raise InputError("no python.exe to verify", field="--python-zip")
    return (f"Authenticode: {checked} executables and DLLs signed by the pinned Python Software "
            f"Foundation certificate (osslsigncode); {pinned} Visual C++ runtime DLLs by pinned "
            f"SHA-256")


def _offline_options(osslsigncode: str) -> list[str]:
    """osslsigncode 2.6+ fetches CRLs online unless told not to (the build is offline and
    trusts the pinned leaf); Debian 12's 2.5 never fetches them and lacks the options."""
    usage = subprocess.run([osslsigncode, "--help"], capture_output=True, text=True,
                           timeout=60, check=False)
    text = usage.stdout + usage.stderr
    return [option for option in ("-ignore-crl", "-ignore-cdp") if option in text]


def _verify_signed(verify: list[str], path: Path, data: bytes, signers: list[str]) -> None:
    path.write_bytes(data)
    reasons = []
    for leaf in signers:
        result = subprocess.run(
            [*verify, "-in", str(path), "-require-leaf-hash", f"sha256:{leaf}"],
            capture_output=True, text=True, timeout=120, check=False)
        if result.returncode == 0 and "Signature verification: ok" in result.stdout:
            return
        reasons.append(next((line.strip() for line in (result.stdout + result.stderr)
                             .splitlines() if "failed" in line.lower() or "error" in line.lower()),
                            f"exit {result.returncode}"))
    raise InputError(f"{path.name}: no valid Authenticode signature by a pinned Python Software "
                     f"Foundation certificate ({'; '.join(reasons)}): refusing to build the kit; "
                     "use the official zip from python.org, or pin its SHA-256 with "
                     "--python-sha256 after checking it", field="--python-zip")
