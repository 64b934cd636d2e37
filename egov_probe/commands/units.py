"""``egov-probe units``: list the pilot units."""

from __future__ import annotations

import argparse

from .common import EXIT_READY, add_unit_source_args, load_units

NAME = "units"
HELP = "liệt kê đơn vị thí điểm / list the pilot units"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--phase", type=int, choices=(1, 2))
    add_unit_source_args(parser)


def run(args: argparse.Namespace) -> int:
    for unit in load_units(args.inventory):
        if args.phase in (None, unit.phase):
            print(f"{unit.unit_id}\t{unit.phase}\t{unit.gso_code or '-'}\t{unit.name_vi}")
    return EXIT_READY
