# Shared steps of audit.sh and test.sh: apt packages and the project's virtualenv.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${EGOV_VENV:-$ROOT/.venv}"

log() { printf '==> %s\n' "$*" >&2; }

# apt_install FILE...: install the packages listed in FILEs that are missing.
apt_install() {
    local wanted missing=()
    wanted=$(grep -hEv '^\s*(#|$)' "$@" | awk '{print $1}' | sort -u)
    for pkg in $wanted; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        log "missing Debian packages: ${missing[*]} (run as root, or install them first)"
        return 1
    fi
    log "apt-get install ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # Installing a server package (sshd, nginx, postfix, ...) must not start it on this host:
    # the tests start their own instances. A policy-rc.d that denies starts exists only while
    # apt runs, and only if the host has none of its own.
    (
        policy=/usr/sbin/policy-rc.d
        if [ ! -e "$policy" ]; then
            trap 'rm -f "$policy"' EXIT
            printf '#!/bin/sh\n# egov-probe scripts/lib.sh: no service starts during apt-get install\nexit 101\n' >"$policy"
            chmod 755 "$policy"
        fi
        # Wait for another apt/dpkg run (a second test run, unattended-upgrades) instead of failing.
        apt-get -o DPkg::Lock::Timeout=900 update -qq
        apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    )
}

# pip_quiet ARGS: pip into the venv; its chatter goes to $VENV/pip.log, shown only on failure.
pip_quiet() {
    if ! "$VENV/bin/python" -m pip "$@" >"$VENV/pip.log" 2>&1; then
        tail -n 40 "$VENV/pip.log" >&2
        log "pip $* failed (full log: $VENV/pip.log)"
        return 1
    fi
}

# make_venv EXTRAS: the project's virtualenv with the package and the extras installed.
make_venv() {
    local extras="$1" python
    python="$(command -v python3)"
    if [ ! -x "$VENV/bin/python" ]; then
        log "creating virtualenv $VENV"
        "$python" -m venv "$VENV"
        pip_quiet install -q --upgrade pip
    fi
    local spec="$ROOT"
    [ -n "$extras" ] && spec="$ROOT[$extras]"
    log "installing egov-probe${extras:+[$extras]} into $VENV"
    pip_quiet install -q -e "$spec"
}
