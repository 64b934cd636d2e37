"""What every command shares: exit codes, the default report folder, where units come from."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Optional

EXIT_READY, EXIT_NOT_READY, EXIT_INPUT = 0, 1, 2
DEFAULT_OUT = "egov-reports"  # one default folder for reports and mailbox reviews


def add_unit_source_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-i", "--inventory", type=Path,
                        help="Ansible YAML inventory (file or folder) with the unit groups; "
                             "default: the units shipped with the probe")


def load_units(inventory: Optional[Path]):
    from ..core.units import load_units_csv, units_from_inventory
    return units_from_inventory(inventory) if inventory else load_units_csv()
