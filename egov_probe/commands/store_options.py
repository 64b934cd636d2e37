"""What the store's commands (``import``, ``matrix``, ``report``) share: the store and
inventory options, the output options, opening the store."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

STORE_ENV = "EGOV_STORE"
DEFAULT_MATRIX_OUT = "egov-matrix"


def add_store_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", metavar="FILE|URL",
                        help=f"kho báo cáo: tệp SQLite hoặc postgresql://... / the store "
                             f"(default: ${STORE_ENV} or egov-store.sqlite; a PostgreSQL password "
                             f"comes from PGPASSWORD or ~/.pgpass, never the command line)")
    parser.add_argument("-i", "--inventory", type=Path,
                        help="Ansible YAML inventory with the unit groups (default: ./inventory "
                             "if present, else the shipped units)")


def add_output_args(parser: argparse.ArgumentParser, formats: tuple[str, ...]) -> None:
    parser.add_argument("--out", type=Path, default=Path(DEFAULT_MATRIX_OUT), metavar="DIR",
                        help=f"thư mục ghi / output folder (default: {DEFAULT_MATRIX_OUT})")
    parser.add_argument("--format", default=",".join(formats),
                        help=f"định dạng, cách nhau dấu phẩy / formats (default: {','.join(formats)})")
    parser.add_argument("--lang", choices=("vi", "en"), default="vi", help="ngôn ngữ / language")


def open_store(args: argparse.Namespace, migrate: bool = True):
    """The store, migrated when behind; ``migrate=False``: as it is (``store``)."""
    from urllib.parse import urlsplit

    from ..core.errors import InputError
    from ..store import open_database
    from ..store.db import connect, redact_url

    if args.store and "://" in args.store and urlsplit(args.store).password is not None:
        raise InputError(f"a password on the command line shows in the process list: remove it "
                         f"from {redact_url(args.store)} and use PGPASSWORD, ~/.pgpass or "
                         f"${STORE_ENV}", field="--store")
    target = store_target(args)
    return open_database(target) if migrate else connect(target)


def store_target(args: argparse.Namespace):
    """The store named by ``--store``, else ``$EGOV_STORE``, else None (the default file)."""
    return args.store or os.environ.get(STORE_ENV) or None


def parse_formats(value: str, allowed: tuple[str, ...]) -> list[str]:
    from ..core.errors import InputError

    formats = [f.strip().lower() for f in value.split(",") if f.strip()]
    unknown = [f for f in formats if f not in allowed]
    if unknown or not formats:
        raise InputError(f"expected formats among {', '.join(allowed)}, found {value!r}",
                         field="--format")
    return formats


def label(key: str, lang: str) -> str:
    from ..render.matrix_table import label as matrix_label

    return matrix_label(key, lang)
