"""The package's layers (docs/architecture.md): imports point down only, and the DIC's server
builds the matrix without anything that reads the local machine."""

from __future__ import annotations

import ast
import collections
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.test_store_factory import make_report, write_report

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "egov_probe"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(project: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    """``lint-imports`` on ``project`` (its pyproject.toml holds the contracts)."""
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=project, capture_output=True,
                          text=True, env={**os.environ, "COLUMNS": "200", **(env or {})},
                          timeout=300, check=False)


def test_every_import_keeps_to_the_layers():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def package_copy(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(ROOT / "pyproject.toml", project)
    shutil.copytree(PACKAGE, project / "egov_probe",
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    return project


def add_import(module: Path, line: str) -> None:
    text = module.read_text(encoding="utf-8")
    anchor = "from __future__ import annotations\n"
    assert anchor in text
    module.write_text(text.replace(anchor, anchor + line + "\n", 1), encoding="utf-8")


@pytest.mark.parametrize(("module", "bad_import", "contract", "chain"), [
    # The clock reading the machine again (the tie issue 12 cut): an upward import of the core.
    ("core/clock.py", "from ..facts.system import utc_offset_fact", "Layers",
     "egov_probe.core.clock -> egov_probe.facts.system"),
    # A renderer asking psutil: the DIC's server would need it to build the matrix.
    ("render/matrix_table.py", "import psutil", "The DIC's server",
     "egov_probe.render.matrix_table -> psutil"),
    # The store's database module opening the migrations again (a cycle issue 12 cut).
    ("store/db.py", "from .migrations import migrate", "No import cycles",
     "No cycles are allowed in egov_probe.store"),
    # A command reaching into another command.
    ("commands/report.py", "from .matrix import add_arguments", "Commands are independent",
     "egov_probe.commands.report -> egov_probe.commands.matrix"),
])
def test_a_bad_import_breaks_a_contract(tmp_path: Path, module: str, bad_import: str,
                                        contract: str, chain: str):
    project = package_copy(tmp_path)
    env = {"PYTHONPATH": str(project)}
    where = subprocess.run([sys.executable, "-c", "import egov_probe; print(egov_probe.__file__)"],
                           cwd=project, env={**os.environ, **env}, capture_output=True, text=True,
                           check=True).stdout
    assert where.startswith(str(project)), "the linter must read the copy, not the project"
    assert lint_imports(project, env).returncode == 0, "the copy starts clean"

    add_import(project / "egov_probe" / module, bad_import)
    result = lint_imports(project, env)
    assert result.returncode == 1, result.stdout + result.stderr
    broken = result.stdout.split("Broken contracts", 1)[-1]
    assert contract in broken and chain in broken, result.stdout


DIC_PACKAGES = ("egov_probe.store", "egov_probe.matrix", "egov_probe.render")
NO_PSUTIL = textwrap.dedent("""
    import sys

    class NoPsutil:
        '''Fail any import of psutil, as on a server where it is not installed.'''
        def find_spec(self, name, path=None, target=None):
            if name == "psutil" or name.startswith("psutil."):
                raise ImportError("psutil is not installed on this server")
            return None

    sys.meta_path.insert(0, NoPsutil())
""")


def test_the_store_matrix_and_renderers_load_nothing_that_reads_the_machine():
    code = NO_PSUTIL + textwrap.dedent(f"""
        import importlib, pkgutil
        for name in {DIC_PACKAGES!r}:
            package = importlib.import_module(name)
            for info in pkgutil.walk_packages(package.__path__, name + "."):
                importlib.import_module(info.name)
        loaded = sorted(m for m in sys.modules
                        if m == "psutil" or m.startswith(("egov_probe.facts", "egov_probe.judge",
                                                          "egov_probe.audit")))
        print("imported", len([m for m in sys.modules if m.startswith("egov_probe.")]))
        print("reads the machine:", loaded)
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=ROOT, check=False)
    assert result.returncode == 0, result.stderr
    assert "reads the machine: []" in result.stdout, result.stdout
    assert int(result.stdout.split()[1]) > 20  # the walk did reach the modules


def test_importing_reports_and_building_the_matrix_need_no_psutil(tmp_path: Path):
    code = NO_PSUTIL + textwrap.dedent("""
        from egov_probe.commands.main import main
        status = main(sys.argv[1:])
        assert "psutil" not in sys.modules and "egov_probe.facts" not in sys.modules
        sys.exit(status)
    """)
    reports, store = tmp_path / "usb", tmp_path / "store.sqlite"
    write_report(make_report(statuses={"system.ram": "fail"}), reports)
    outputs = []
    for args in (["import", str(reports), "--store", str(store)],
                 ["matrix", "--store", str(store), "--out", str(tmp_path / "m"),
                  "--format", "csv,json,html"]):
        result = subprocess.run([sys.executable, "-c", code, *args], capture_output=True,
                                text=True, cwd=tmp_path, check=False)
        assert result.returncode == 0, result.stdout + result.stderr
        outputs.append(result.stdout)
    assert "imported 1," in outputs[0]
    assert sorted(p.suffix for p in (tmp_path / "m").iterdir()) == [".csv", ".html", ".json"]


def python_modules() -> dict[str, ast.Module]:
    return {str(path.relative_to(ROOT)): ast.parse(path.read_text(encoding="utf-8"))
            for path in sorted(PACKAGE.rglob("*.py"))}


def test_no_two_classes_share_a_name():
    where = collections.defaultdict(list)
    for path, tree in python_modules().items():
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                where[node.name].append(path)
    shared = {name: paths for name, paths in where.items() if len(paths) > 1}
    assert shared == {}


def test_no_module_imports_another_modules_private_names():
    reaching = []
    for path, tree in python_modules().items():
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                private = [a.name for a in node.names
                           if a.name.startswith("_") and not a.name.startswith("__")]
                if private:
                    reaching.append(f"{path}:{node.lineno} {private}")
    assert reaching == []
