"""``egov-probe matrix``: the per-unit readiness matrix from the store (HTML, XLSX, CSV, JSON)."""

from __future__ import annotations

import argparse

from .common import EXIT_READY
from .store_options import add_output_args, add_store_args, label, open_store, parse_formats

NAME = "matrix"
HELP = "ma trận sẵn sàng theo đơn vị (HTML, XLSX, CSV, JSON) / the per-unit readiness matrix"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ..render.matrix_files import FORMATS

    add_store_args(parser)
    add_output_args(parser, FORMATS)
    parser.add_argument("--phase", type=int, help="chỉ giai đoạn / only this phase")
    parser.add_argument("--district", help="chỉ huyện (tên hoặc mã) / only this district (name or GSO code)")
    parser.add_argument("--as-of", metavar="YYYY-MM-DD",
                        help="tình trạng đến hết ngày / the state at the end of this day (Vietnam time)")
    parser.add_argument("--since", metavar="YYYY-MM-DD",
                        help="chỉ tính báo cáo từ ngày / only reports from this day on")


def run(args: argparse.Namespace) -> int:
    from ..core.plan import load_plan
    from ..matrix import MatrixFilter, load_unit_infos
    from ..matrix.periods import parse_day
    from ..matrix.service import matrix_from_store
    from ..render.matrix_files import FORMATS, write_matrix

    formats = parse_formats(args.format, FORMATS)
    filters = MatrixFilter(phase=args.phase, district=args.district,
                           as_of=parse_day(args.as_of, "--as-of") if args.as_of else None,
                           since=parse_day(args.since, "--since") if args.since else None)
    infos = load_unit_infos(args.inventory)
    database = open_store(args)
    try:
        matrix = matrix_from_store(database, infos, load_plan(), filters)
    finally:
        database.close()
    _check_filter_matches(matrix, filters)
    stem = f"matrix-{(filters.as_of.isoformat() if filters.as_of else matrix.generated_at[:10])}"
    for path in write_matrix(matrix, args.out, stem, formats, args.lang):
        print(path)
    counts = matrix.status_counts()
    print(" · ".join(f"{label(s, args.lang)}: {n}" for s, n in counts.items()))
    return EXIT_READY


def _check_filter_matches(matrix, filters) -> None:
    from ..core.errors import InputError

    if not matrix.rows and (filters.phase is not None or filters.district):
        option = "--district" if filters.district else "--phase"
        raise InputError("no unit of the inventory matches this filter", field=option)
