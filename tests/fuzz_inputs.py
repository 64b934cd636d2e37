"""Generated hostile inputs run through the real command line, in one process.

``python -m tests.fuzz_inputs SEED COUNT FOLDER`` writes COUNT mutated policies, inventories and
reports (a fixed seed: the same files every run) into FOLDER, runs each through
``egov-probe policy-check``, ``units -i``, ``validate`` (in this process, through
``egov_probe.commands.main.main``) and all the reports through one ``import``, and prints a JSON
summary:
the cases, what went wrong (a traceback, an "internal error", a message that does not name its
file, a case slower than the limit, ``validate`` and ``import`` disagreeing) and the slowest case.
``tests/test_fuzz.py`` runs it in a subprocess to measure its peak memory.
"""

from __future__ import annotations

import contextlib
import io
import json
import random
import sys
import time
from pathlib import Path
from typing import Any, Callable

import yaml

from egov_probe.commands.main import build_parser, main
from egov_probe.judge.policy import default_policy_path
from tests.test_store_factory import make_report, make_review

CASE_LIMIT_S = 5.0
HOSTILE_SCALARS = [
    "0", "-1", "70000", "65536", ".inf", "-.inf", ".nan", "1e400", "9" * 5000, "999.1.1.1",
    "'[::1]:99999'", "null", "~", "true", "''", "'\\ud800'", '"\\ud800"', "[]", "{}",
    "[[[[[[[[[[[[]]]]]]]]]]]]", "{a: {b: {c: 1}}}", "2015-09-31", "0000-01-01", "*nope",
    "&a [*a]", "!!binary aGVsbG8=", "!!python/object:os.system ''", "'1'", "1.0", "0x10",
    "0o777", "'Mã Thành'", "\t", "|\n  multi", "? {a: 1}", "[1, [2, [3]]]",
]
JSON_VALUES: list[Any] = [
    None, "", 0, -1, 1.5, 2 ** 70, True, [], {}, "x" * 300, "2015-09-31T08:00:00Z",
    "0000-01-01T00:00:00Z", "2999-01-01T00:00:00Z", "2015-11-10T02:00:00Z", "1", 1, "1.0",
    "xa-ma-thahn", [[[[[[]]]]]], {"a": {"b": {}}}, "\u0000", "Nguyễn",
]


def _policy_cases(rng: random.Random, count: int) -> list[bytes]:
    base = default_policy_path().read_text(encoding="utf-8")
    data = yaml.safe_load(base)
    lines = base.splitlines()
    cases = []
    for i in range(count):
        kind = i % 4
        if kind == 0:  # a scalar replaced in the text
            index = rng.choice([n for n, line in enumerate(lines) if ": " in line])
            key = lines[index].split(": ", 1)[0]
            mutated = lines[:index] + [f"{key}: {rng.choice(HOSTILE_SCALARS)}"] + lines[index + 1:]
            cases.append("\n".join(mutated).encode("utf-8"))
        elif kind == 1:  # lines deleted, duplicated or moved
            mutated = list(lines)
            for _ in range(rng.randint(1, 3)):
                n = rng.randrange(len(mutated))
                op = rng.choice(("delete", "duplicate", "indent"))
                if op == "delete":
                    del mutated[n]
                elif op == "duplicate":
                    mutated.insert(n, mutated[n])
                else:
                    mutated[n] = " " * rng.randint(1, 5) + mutated[n]
            cases.append("\n".join(mutated).encode("utf-8"))
        elif kind == 2:  # a value of the data replaced, dumped again
            copy = json.loads(json.dumps(data))
            _mutate_data(rng, copy)
            cases.append(yaml.safe_dump(copy, allow_unicode=True).encode("utf-8"))
        else:
            cases.append(_byte_mutation(rng, base.encode("utf-8")))
    return cases


def _inventory_cases(rng: random.Random, count: int) -> list[bytes]:
    base = {"all": {"children": {"unit_xa_ma_thanh": {
        "vars": {"unit_id": "xa-ma-thanh", "unit_name_vi": "Xã Mã Thành", "unit_kind": "xa",
                 "unit_phase": 1, "unit_planned_trainees": 3, "unit_expected_workstations": 2},
        "hosts": {"ws1": {"ansible_host": "127.0.0.1"}}}}}}
    text = yaml.safe_dump(base, allow_unicode=True)
    lines = text.splitlines()
    cases = []
    for i in range(count):
        if i % 3 == 0:
            copy = json.loads(json.dumps(base))
            _mutate_data(rng, copy)
            cases.append(yaml.safe_dump(copy, allow_unicode=True).encode("utf-8"))
        elif i % 3 == 1:
            index = rng.choice([n for n, line in enumerate(lines) if ": " in line])
            key = lines[index].split(": ", 1)[0]
            mutated = lines[:index] + [f"{key}: {rng.choice(HOSTILE_SCALARS)}"] + lines[index + 1:]
            cases.append("\n".join(mutated).encode("utf-8"))
        else:
            cases.append(_byte_mutation(rng, text.encode("utf-8")))
    return cases


def _report_cases(rng: random.Random, count: int) -> list[bytes]:
    cases = []
    for i in range(count):
        if i % 10 == 0:
            data = make_review()
        else:
            data = make_report(hostname=f"ws{i}").to_dict()
        kind = i % 5
        if kind in (0, 1):
            _mutate_data(rng, data)
            cases.append(json.dumps(data, ensure_ascii=rng.random() < 0.5).encode("utf-8"))
        elif kind == 2:
            cases.append(_byte_mutation(rng, json.dumps(data).encode("utf-8")))
        elif kind == 3:
            cases.append(_special_report(rng, data))
        else:  # a good one, now and then with a byte order mark
            raw = json.dumps(data, ensure_ascii=False).encode("utf-8")
            cases.append(b"\xef\xbb\xbf" + raw if rng.random() < 0.3 else raw)
    return cases


def _special_report(rng: random.Random, data: dict) -> bytes:
    choice = rng.randrange(6)
    raw = json.dumps(data).encode("utf-8")
    if choice == 0:
        depth = rng.choice((70, 500, 5000, 50000))
        return raw[:-1] + b', "deep": ' + b"[" * depth + b"]" * depth + b"}"
    if choice == 1:
        return raw.replace(b'"schema_version": "1.0"', b'"schema_version": ' +
                           b"7" * rng.choice((41, 4301, 5000)))
    if choice == 2:
        return raw.replace(b'"schema_version": "1.0"', b'"schema_version": "\\udc00"')
    if choice == 3 and "checks" in data:
        data["checks"].append(dict(data["checks"][0]))
        return json.dumps(data).encode("utf-8")
    if choice == 4:
        return raw.replace(b'"1.0"', b"1", 1)
    return raw[:-1] + b', "n": NaN}'


def _mutate_data(rng: random.Random, data: Any) -> None:
    """Replace, delete or add one value somewhere in ``data`` (a dict or list)."""
    node = data
    for _ in range(rng.randint(0, 4)):
        children = list(node.values()) if isinstance(node, dict) else \
            node if isinstance(node, list) else []
        children = [c for c in children if isinstance(c, (dict, list)) and c]
        if not children:
            break
        node = rng.choice(children)
    if isinstance(node, dict) and node:
        key = rng.choice(list(node))
        op = rng.randrange(3)
        if op == 0:
            del node[key]
        elif op == 1:
            node[key] = rng.choice(JSON_VALUES)
        else:
            node[rng.choice(("extra", "1", "id", "port"))] = rng.choice(JSON_VALUES)
    elif isinstance(node, list) and node:
        node[rng.randrange(len(node))] = rng.choice(JSON_VALUES)


def _byte_mutation(rng: random.Random, raw: bytes) -> bytes:
    op = rng.randrange(5)
    if op == 0:
        return raw[:rng.randrange(len(raw))]
    if op == 1:
        n = rng.randrange(len(raw))
        return raw[:n] + bytes([rng.randrange(256)]) + raw[n + 1:]
    if op == 2:
        return raw.decode("utf-8").encode("latin-1", "replace")
    if op == 3:
        return b"\xef\xbb\xbf" + raw
    n = rng.randrange(len(raw))
    return raw[:n] + rng.choice((b"&a ", b"*a", b"\x00", b"{", b"]", b"\\ud800", b"\t")) + raw[n:]


def run_cli(*args: str, parser=None) -> tuple[int, str, float]:
    """``egov-probe ARGS`` in this process: exit code, everything printed, seconds taken."""
    out = io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        try:
            code = main(list(args), parser)
        except SystemExit as exc:  # argparse
            code = exc.code if isinstance(exc.code, int) else 2
    return code, out.getvalue(), time.perf_counter() - start


def fuzz(seed: int, count: int, folder: Path) -> dict:
    rng = random.Random(seed)
    per_kind = count // 3 + 1
    groups: list[tuple[str, str, list[bytes], Callable[[Path], tuple[str, ...]]]] = [
        ("policy", ".yml", _policy_cases(rng, per_kind), lambda p: ("policy-check", str(p))),
        ("inventory", ".yml", _inventory_cases(rng, per_kind), lambda p: ("units", "-i", str(p))),
        ("report", ".json", _report_cases(rng, per_kind),
         lambda p: ("validate", str(p), "-i", str(folder.parent / "units.yml"))),
    ]
    folder.mkdir(parents=True, exist_ok=True)
    _write_units(folder.parent / "units.yml")
    parser = build_parser()
    problems: list[str] = []
    slowest = (0.0, "")
    valid_reports: set[str] = set()
    cases = 0
    for kind, suffix, contents, command in groups:
        target = folder / kind
        target.mkdir(parents=True, exist_ok=True)
        for n, content in enumerate(contents):
            path = target / f"{kind}-{n:04d}{suffix}"
            path.write_bytes(content)
            code, text, seconds = run_cli(*command(path), parser=parser)
            cases += 1
            slowest = max(slowest, (seconds, str(path)))
            problems += _judge(path, code, text, seconds)
            if kind == "report" and code == 0:
                valid_reports.add(str(path))
    before = {str(p): p.read_bytes() for p in (folder / "report").iterdir()}
    code, text, seconds = run_cli("import", str(folder / "report"), "--store",
                                  str(folder.parent / "fuzz.sqlite"), "-i",
                                  str(folder.parent / "units.yml"), "--quarantine",
                                  str(folder.parent / "quarantine"))
    problems += _judge(folder / "report", code, text, seconds, limit=120)
    imported = _imported(folder.parent / "fuzz.sqlite")
    if imported != valid_reports:
        problems.append(f"validate and import disagree: only validate: "
                        f"{sorted(valid_reports - imported)[:5]}, only import: "
                        f"{sorted(imported - valid_reports)[:5]}")
    changed = [p for p, raw in before.items() if Path(p).read_bytes() != raw]
    if changed:
        problems.append(f"import changed its input: {changed[:5]}")
    import resource

    return {"cases": cases, "problems": problems, "slowest": slowest,
            "valid_reports": len(valid_reports), "import_seconds": seconds,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def _write_units(path: Path) -> None:
    groups = {f"unit_{u}".replace("-", "_"): {"vars": {
        "unit_id": u, "unit_name_vi": u, "unit_kind": "xa", "unit_phase": 1,
        "unit_planned_trainees": 2}} for u in ("xa-ma-thanh", "xa-tien-thanh")}
    path.write_text(yaml.safe_dump({"all": {"children": groups}}), encoding="utf-8")


def _imported(store: Path) -> set[str]:
    """The files the import stored (their origin, as recorded in the store)."""
    import sqlite3

    with contextlib.closing(sqlite3.connect(store)) as connection:
        return {row[0] for table in ("reports", "mailbox_reviews")
                for row in connection.execute(f"SELECT source FROM {table}")}


def _judge(path: Path, code: int, text: str, seconds: float, limit: float = CASE_LIMIT_S
           ) -> list[str]:
    found = []
    if "Traceback" in text:
        found.append(f"{path}: traceback: {text[-400:]}")
    if "internal error" in text or "lỗi nội bộ" in text:
        found.append(f"{path}: internal error: {text[-300:]}")
    if code not in (0, 1, 2):
        found.append(f"{path}: exit code {code}")
    if code == 2 and str(path) not in text:
        found.append(f"{path}: the error does not name the file: {text[-300:]}")
    if seconds > limit:
        found.append(f"{path}: took {seconds:.1f} s")
    return found


if __name__ == "__main__":
    result = fuzz(int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3]))
    print(json.dumps(result, ensure_ascii=False))
