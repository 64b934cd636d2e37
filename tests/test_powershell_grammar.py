"""The fleet's PowerShell collector, parsed by a real PowerShell grammar (tree-sitter).

No PowerShell runs on this Debian machine (docs/windows.md): the grammar is what catches a
syntax error before a Windows host does. The script checked is the one the fleet sends, with
the controller's lists on top (``windows_script()``)."""

from __future__ import annotations

import re

import tree_sitter
import tree_sitter_powershell

from egov_probe.fleet.windows import windows_script


def syntax_errors(source: str) -> list[str]:
    """Every ERROR and MISSING node of the parse, with its line and text."""
    parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_powershell.language()))
    data = source.encode("utf-8")
    tree = parser.parse(data)
    found, stack = [], [tree.root_node]
    while stack:
        node = stack.pop()
        if node.type == "ERROR" or node.is_missing:
            text = data[node.start_byte:node.end_byte].decode("utf-8", "replace")[:60]
            found.append(f"line {node.start_point[0] + 1}: {node.type} {text!r}")
        stack.extend(node.children)
    return found


def test_the_collector_the_fleet_sends_parses_without_an_error() -> None:
    script = windows_script()
    assert "ConvertTo-Json" in script and "$EgovKeys = @(" in script
    assert syntax_errors(script) == []


def test_a_broken_copy_is_caught() -> None:
    script = windows_script()
    broken = {
        "an unclosed block": script.replace("foreach ($view in 64, 32) {",
                                            "foreach ($view in 64, 32) ", 1),
        "an unclosed string": script.replace("'egov-probe-windows-evidence/1'",
                                             "'egov-probe-windows-evidence/1", 1),
        "an unclosed call": script.replace("[Console]::Out.Write((ConvertTo-Json",
                                           "[Console]::Out.Write((ConvertTo-Json ("),
    }
    for what, text in broken.items():
        assert text != script, what
        assert syntax_errors(text), what


def test_the_collector_checks_its_powershell_version_first() -> None:
    script = windows_script()
    body = script[script.index("$EgovEnv = @("):].split("\n", 1)[1]
    first = next(line for line in body.splitlines() if line.strip()
                 and not line.lstrip().startswith("#"))
    assert first.startswith("if (-not $PSVersionTable -or $PSVersionTable.PSVersion -lt "
                            "[Version]'5.1')")
    check = body[:body.index("\n}\n")]
    assert re.search(r"exit 3", check) and "5.1" in check and "quá cũ" in check
