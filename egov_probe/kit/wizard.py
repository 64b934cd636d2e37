"""``khao-sat.cmd``: asks the unit and the officer in Vietnamese, audits, writes the report
into the folder given (beside the .cmd on the USB stick)."""

from __future__ import annotations

import sys
import unicodedata

import subprocess

from ..core.units import load_units_csv

ASK_UNIT = "Mã đơn vị (gõ ? để xem danh sách): "
ASK_OFFICER = "Họ tên cán bộ sử dụng máy: "


def ask(prompt: str) -> str:
    print(prompt, end="", flush=True)
    line = sys.stdin.readline()
    if not line:
        raise EOFError
    return unicodedata.normalize("NFC", line.strip())


def main(argv: list[str] | None = None) -> int:
    out = (argv or sys.argv[1:] or ["bao-cao"])[0]
    units = {u.unit_id: u for u in load_units_csv()}
    print("KHẢO SÁT MÁY TRẠM — phần mềm lõi HCM Egov Framework 2.0 (Nghệ An)\n")
    try:
        unit = ask(ASK_UNIT)
        while unit not in units:
            if unit == "?":
                for u in units.values():
                    print(f"  {u.unit_id:32} {u.name_vi}")
            else:
                print(f"Không có đơn vị '{unit}'. Gõ ? để xem danh sách.")
            unit = ask(ASK_UNIT)
        officer = ask(ASK_OFFICER)
        while not officer:
            officer = ask(ASK_OFFICER)
    except EOFError:
        print("\nĐã dừng: chưa nhập đủ thông tin / stopped: missing input", file=sys.stderr)
        return 2
    print(f"\nĐang khảo sát cho {units[unit].name_vi}, cán bộ {officer}...\n", flush=True)
    code = subprocess.run([sys.executable, "-I", "-B", "-X", "utf8", "-m", "egov_probe", "audit",
                           "--unit", unit, "--officer", officer, "--out", out],
                          check=False).returncode
    print(f"\nBáo cáo đã ghi vào thư mục: {out}")
    print("Nhấn Enter để đóng cửa sổ.", flush=True)
    sys.stdin.readline()
    return code


if __name__ == "__main__":
    raise SystemExit(main())
