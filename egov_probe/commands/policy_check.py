"""``egov-probe policy-check``: validate a policy file."""

from __future__ import annotations

import argparse
from pathlib import Path

from .common import EXIT_READY

NAME = "policy-check"
HELP = "kiểm tra tệp chính sách / validate a policy file"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("policy", type=Path, metavar="FILE")


def run(args: argparse.Namespace) -> int:
    from ..judge.policy import load_policy

    policy = load_policy(args.policy)
    print(f"OK  {args.policy}: {policy.policy_id} v{policy.version} sha256 {policy.sha256}")
    return EXIT_READY
