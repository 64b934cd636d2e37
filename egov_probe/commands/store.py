"""``egov-probe store migrate|status``: the store's schema, for deployments where the account
that builds the matrix may only read."""

from __future__ import annotations

import argparse

from .common import EXIT_INPUT, EXIT_READY
from .store_options import STORE_ENV, open_store

NAME = "store"
HELP = ("cập nhật lược đồ kho / bring the store's schema up to date (store migrate), for "
        "deployments where the reading account may not change it")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=("migrate", "status"),
                        help="migrate: apply the missing schema migrations; status: list them")
    parser.add_argument("--store", metavar="FILE|URL",
                        help=f"kho báo cáo / the store (default: ${STORE_ENV} or "
                             f"egov-store.sqlite)")


def run(args: argparse.Namespace) -> int:
    from ..store.migrations import MIGRATIONS, applied_versions, migrate, pending

    database = open_store(args, migrate=False)
    try:
        if args.action == "migrate":
            done = migrate(database)
            print(f"Kho / store {database.location}: đã áp dụng / applied "
                  f"{', '.join(map(str, done)) or '-'}; lược đồ / schema version "
                  f"{max(applied_versions(database))}")
            return EXIT_READY
        missing = pending(database)
        for migration in MIGRATIONS:
            state = "missing" if migration.version in missing else "applied"
            print(f"{migration.version}\t{state}\t{migration.name}")
        return EXIT_INPUT if missing else EXIT_READY
    finally:
        database.close()
