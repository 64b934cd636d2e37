#!/usr/bin/env bash
# Install what the probe needs on this Debian 12 machine, then audit it:
# the report goes to ./egov-reports/ (or --out), the summary to the terminal (Vietnamese).
# Any arguments are passed to `egov-probe audit` (e.g. --unit xa-ma-thanh --officer "Nguyễn Văn A").
set -euo pipefail
source "$(dirname "$0")/lib.sh"
apt_install "$ROOT/scripts/apt-packages.txt"
make_venv ""
exec "$VENV/bin/egov-probe" audit "$@"
