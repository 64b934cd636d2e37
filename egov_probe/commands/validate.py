"""``egov-probe validate``: check report files against the published schema."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..core.errors import InputError
from .common import EXIT_INPUT, EXIT_READY

NAME = "validate"
HELP = "kiểm tra tệp báo cáo theo lược đồ / validate report files against the schema"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", type=Path, metavar="REPORT")
    parser.add_argument("-i", "--inventory", type=Path,
                        help="Ansible YAML inventory with the unit groups, as for `import` "
                             "(default: ./inventory if present, else the shipped units)")


def run(args: argparse.Namespace) -> int:
    """Judge each file exactly as ``import`` would (the same rules, the same units)."""
    from ..core.clock import utc_now
    from ..core.yamlsource import DOCUMENT_LIMITS, read_limited
    from ..matrix.inventory import load_unit_infos
    from ..store.prepare import Rejected, Rules, prepare_document

    rules = Rules(frozenset(info.unit.unit_id for info in load_unit_infos(args.inventory)),
                  utc_now())
    failed = 0
    for path in args.files:
        try:
            prepare_document(read_limited(path, DOCUMENT_LIMITS, "report"), str(path), rules)
            print(f"OK  {path}")
        except (InputError, Rejected) as exc:
            failed += 1
            print(f"BAD {exc}" if isinstance(exc, InputError) else f"BAD {path}: {exc}",
                  file=sys.stderr)
    return EXIT_INPUT if failed else EXIT_READY
