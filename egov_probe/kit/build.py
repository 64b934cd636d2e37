"""``egov-probe kit windows``: the portable Windows kit, ``egov-probe-win64.zip``.

The zip holds one folder ``egov-probe\\`` to copy to a USB stick: ``python\\`` (the official
embeddable CPython, its signatures checked, with the probe and its win_amd64 wheels in
``Lib\\site-packages``), ``egov-probe.cmd`` (the command line), ``khao-sat.cmd`` (double-click:
asks the unit and the officer in Vietnamese, writes the report beside itself), ``DOC-TRUOC.txt``
(a short README in Vietnamese) and ``manifest.json`` (every file with its SHA-256, and where the
interpreter came from). No pip, no installation, no administrator rights for the basic audit.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import zipfile
from pathlib import Path

from .. import __version__
from ..core.atomic import write_atomic_with
from ..core.clock import utc_now, utc_text
from . import runtime
from .trust import sha256, verify_members

ZIP_NAME = "egov-probe-win64.zip"
TOP = "egov-probe"

EGOV_PROBE_CMD = """@echo off
rem egov-probe: Windows command line of the portable kit (no installation needed).
rem   egov-probe.cmd audit --unit MA-DON-VI --officer "Ho ten"
setlocal
"%~dp0python\\python.exe" -I -B -X utf8 -m egov_probe %*
exit /b %ERRORLEVEL%
"""

KHAO_SAT_CMD = """@echo off
rem Nhap dup vao day de khao sat may nay. Bao cao ghi vao thu muc bao-cao canh tep nay.
rem Double-click to audit this machine; the report goes to bao-cao\\ beside this file.
setlocal
chcp 65001 >nul
"%~dp0python\\python.exe" -I -B -X utf8 -m egov_probe.kit.wizard "%~dp0bao-cao"
set CODE=%ERRORLEVEL%
exit /b %CODE%
"""

README_VI = """BỘ CÔNG CỤ KHẢO SÁT MÁY TRẠM egov-probe {version} (Windows 64-bit)
Phần mềm lõi HCM Egov Framework 2.0 — thí điểm tại Nghệ An

1. Chép cả thư mục egov-probe (trong tệp zip) vào USB hoặc ổ đĩa máy cần khảo sát.
   Không cần cài đặt, không cần quyền quản trị, không cần mạng Internet.
2. Nháy đúp tệp khao-sat.cmd, nhập mã đơn vị (ví dụ thi-tran-yen-thanh) và họ tên cán bộ
   dùng máy. Báo cáo (tệp .json) được ghi vào thư mục bao-cao cạnh tệp khao-sat.cmd.
3. Nộp các tệp trong bao-cao cho Sở TT&TT (nhập bằng: egov-probe import bao-cao).

Dòng lệnh (cửa sổ cmd, trong thư mục egov-probe):
   egov-probe.cmd audit --unit thi-tran-yen-thanh --officer "Nguyễn Thị Lan" --out bao-cao
   egov-probe.cmd units        (danh sách mã đơn vị)
   egov-probe.cmd evidence --out du-lieu.json   (dữ liệu thô để gửi kỹ thuật)

Gửi báo cáo qua mạng (khi Sở đã cấp mã đăng ký cho đơn vị; Windows 10 trở lên):
   set EGOV_ENROLL_TOKEN=egt_...   (mã do Sở cấp; không gõ mã trên dòng lệnh)
   egov-probe.cmd enroll --server https://thu-thap.egov.nghean.gov.vn
   egov-probe.cmd upload bao-cao   (báo cáo chưa gửi được sẽ tự gửi lại ở lần chạy sau)

Chạy với quyền quản trị (chuột phải > Run as administrator) để đọc được trình duyệt của
những người dùng khác trên máy; nếu không, họ được ghi là "không đọc được".

Nguồn gốc: python\\ là bản CPython nhúng chính thức cho Windows, chữ ký số đã được kiểm tra
khi đóng gói (xem manifest.json: mọi tệp kèm mã băm SHA-256).
"""


def build_kit(out: Path, python_zip: Path | None = None, wheels: Path | None = None,
              python_sha256: str | None = None) -> Path:
    """Build ``out/egov-probe-win64.zip``; returns its path. Refuses an interpreter whose
    signatures (or pinned SHA-256) do not check out."""
    with tempfile.TemporaryDirectory(prefix="egov-kit-") as work_dir:
        work = Path(work_dir)
        python_zip = python_zip or runtime.fetch_embed(work / "embed")
        wheel_files = runtime.wheels_for(wheels) if wheels else \
            runtime.fetch_wheels(work / "wheels")
        members = runtime.embed_members(python_zip)
        zip_digest = sha256(python_zip.read_bytes())
        trusted = verify_members(members, python_sha256, zip_digest)
        folder = work / "kit" / TOP
        runtime.assemble(python_zip, wheel_files, folder / "python")
        for name, text in (("egov-probe.cmd", EGOV_PROBE_CMD), ("khao-sat.cmd", KHAO_SAT_CMD),
                           ("DOC-TRUOC.txt", README_VI.format(version=__version__))):
            (folder / name).write_bytes(text.replace("\n", "\r\n").encode("utf-8"))
        manifest = {
            "kit": f"egov-probe {__version__} for Windows x64",
            "built_at": utc_text(utc_now()),
            "python": {"source": python_zip.name, "sha256": zip_digest, "trust": trusted},
            "wheels": sorted(w.name for w in wheel_files),
            "files": {p.relative_to(folder).as_posix(): _file_digest(p)
                      for p in sorted(folder.rglob("*")) if p.is_file()},
        }
        (folder / "manifest.json").write_text(
            json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        out.mkdir(parents=True, exist_ok=True)
        return write_atomic_with(out / ZIP_NAME, lambda part: _zip(folder, part))


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _zip(folder: Path, target: Path) -> None:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, f"{TOP}/{path.relative_to(folder).as_posix()}")


def verify_manifest(folder: Path) -> list[str]:
    """Files of an unzipped kit that are missing, changed or not in its manifest."""
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    listed = manifest["files"]
    present = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    present.discard("manifest.json")
    problems = [f"missing {n}" for n in listed if n not in present]
    problems += [f"changed {n}" for n in listed if n in present
                 and _file_digest(folder / n) != listed[n]]
    problems += [f"not listed {n}" for n in sorted(present - set(listed))]
    return problems


__all__ = ["build_kit", "verify_manifest", "ZIP_NAME", "TOP"]
