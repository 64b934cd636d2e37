"""The per-unit readiness matrix and the monthly report built from the store."""

from __future__ import annotations

from .build import Matrix, MatrixFilter, build_matrix
from .inventory import UnitInfo, load_unit_infos

__all__ = ["Matrix", "MatrixFilter", "build_matrix", "UnitInfo", "load_unit_infos"]
