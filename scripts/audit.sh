#!/usr/bin/env bash
# Install what the probe itself needs to run on this Debian 12 machine (Python and a venv:
# scripts/apt-packages.txt, never anything the audit judges), then audit the machine as found:
# the report goes to ./egov-reports/ (or --out), the summary to the terminal (Vietnamese).
# Any arguments are passed to `egov-probe audit` (e.g. --unit xa-ma-thanh --officer "Nguyễn Văn A").
set -euo pipefail
source "$(dirname "$0")/lib.sh"
apt_install "$ROOT/scripts/apt-packages.txt"
make_venv ""
exec "$VENV/bin/egov-probe" audit "$@"
