"""Every role documents its variables: meta/argument_specs.yml lists exactly the variables of
defaults/main.yml, each with a description of its own, and every default sits under a comment."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from serverstack import ROOT

pytestmark = pytest.mark.servers

ROLES_DIR = ROOT / "roles"
ROLES = sorted(path.name for path in ROLES_DIR.iterdir() if path.is_dir())
TOP_LEVEL_KEY = re.compile(r"^([A-Za-z_]\w*):(\s|$)")


def load_yaml(path: Path):
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def main_options(role: str) -> dict:
    """The options of the role's main entry point; fails the test when there are none."""
    path = ROLES_DIR / role / "meta" / "argument_specs.yml"
    assert path.is_file(), f"{role}: no meta/argument_specs.yml"
    specs = (load_yaml(path) or {}).get("argument_specs") or {}
    options = (specs.get("main") or {}).get("options")
    assert isinstance(options, dict), f"{role}: argument_specs.main.options is not a mapping"
    return {name: spec or {} for name, spec in options.items()}


def defaults_path(role: str) -> Path:
    return ROLES_DIR / role / "defaults" / "main.yml"


def defaults(role: str) -> dict:
    path = defaults_path(role)
    return (load_yaml(path) or {}) if path.is_file() else {}


def description_text(spec: dict) -> str:
    text = spec.get("description") or ""
    return " ".join(text) if isinstance(text, list) else str(text)


def under_comment(lines: list[str], index: int) -> bool:
    """Whether the key at lines[index] belongs to a group headed by a comment: going up, past the
    other keys of the group and the indented lines of their values, the first line is a comment.
    A blank line or the document start ends the group without one."""
    for line in reversed(lines[:index]):
        if line.startswith("#"):
            return True
        if not line.strip() or line.startswith("---"):
            return False
    return False


@pytest.mark.parametrize("role", ROLES)
def test_argument_specs_have_main_options(role):
    main_options(role)


@pytest.mark.parametrize("role", ROLES)
def test_options_match_defaults(role):
    options = main_options(role)
    default_names = set(defaults(role))
    required_only = {name for name, spec in options.items()
                     if spec.get("required") is True and name not in default_names}
    not_in_specs = sorted(default_names - set(options))
    without_default = sorted(set(options) - default_names - required_only)
    assert not not_in_specs and not without_default, (
        f"{role}: defaults without an option: {not_in_specs}; "
        f"options without a default (and not required): {without_default}")


@pytest.mark.parametrize("role", ROLES)
def test_options_have_real_descriptions(role):
    placeholders = sorted(name for name, spec in main_options(role).items()
                          if description_text(spec).strip().rstrip(".") in ("", name))
    assert not placeholders, f"{role}: options without a description of their own: {placeholders}"


@pytest.mark.parametrize("role", ROLES)
def test_options_are_prefixed_with_the_role_name(role):
    unprefixed = sorted(name for name in main_options(role) if not name.startswith(f"{role}_"))
    assert not unprefixed, f"{role}: options not starting with {role}_: {unprefixed}"


@pytest.mark.parametrize("role", ROLES)
def test_defaults_are_commented(role):
    path = defaults_path(role)
    lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
    uncommented = []
    for index, line in enumerate(lines):
        key = TOP_LEVEL_KEY.match(line)
        if key and not under_comment(lines, index):
            uncommented.append(key.group(1))
    assert not uncommented, f"{role}: defaults/main.yml keys under no comment: {uncommented}"
