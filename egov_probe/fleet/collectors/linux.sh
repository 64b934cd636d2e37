# egov-probe Linux collector (POSIX sh, no Python, no sudo needed).
# It only READS and PRINTS raw evidence; the controller parses it with the same code as the
# local audit. The controller puts these variables before this text (see egov_probe/fleet/linux.py):
#   EGOV_PACKAGES  browser package names          EGOV_FILES       absolute files to print
#   EGOV_EXES      absolute executable candidates  EGOV_HOME_FILES  files relative to each home
#   EGOV_HOME_EXES executables relative to homes   EGOV_FC_CHARSET  the Vietnamese charset
# Output: records, each introduced by a line "::egov-probe:: KIND ARG", then "end".
PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin:$PATH
export PATH
rec() { printf '\n::egov-probe:: %s %s\n' "$1" "$2"; }
have() { command -v "$1" >/dev/null 2>&1; }
show_file() { if [ -f "$1" ] && [ -r "$1" ]; then rec file "$1"; cat "$1" 2>/dev/null; fi; }
show_cmd() { name=$1; shift; if have "$1"; then rec cmd "$name"; "$@" 2>/dev/null; fi; }
run_limited() { if have timeout; then timeout 10 "$@"; else "$@"; fi; }

for f in /etc/os-release /usr/lib/os-release /proc/meminfo /proc/cpuinfo /proc/uptime \
         /etc/timezone /etc/passwd /etc/default/locale /etc/locale.conf $EGOV_FILES; do
  show_file "$f"
done
show_cmd uname-r uname -r
show_cmd uname-m uname -m
show_cmd uname-n uname -n
show_cmd now date +%s
show_cmd date-z date +%z
if [ -L /etc/localtime ]; then rec cmd localtime-link; readlink /etc/localtime; fi
show_cmd statfs-root stat -f -c '%a %S' /
if [ -n "${TZ:-}" ]; then rec env TZ; printf '%s' "$TZ"; fi
show_cmd fc-list fc-list ":charset=$EGOV_FC_CHARSET" family
if have rpm && { [ -d /var/lib/rpm ] || [ -d /usr/lib/sysimage/rpm ]; }; then
  rec cmd rpm; rpm -q --qf '%{NAME} %{VERSION}-%{RELEASE} %{ARCH}\n' $EGOV_PACKAGES 2>/dev/null
fi

# dpkg: only the stanzas of the browser packages, and their file lists.
if [ -f /var/lib/dpkg/status ]; then
  rec file /var/lib/dpkg/status
  awk -v want=" $EGOV_PACKAGES " 'BEGIN { RS = ""; ORS = "\n\n" }
    { split($0, lines, "\n"); name = lines[1]; sub(/^Package: /, "", name)
      if (index(want, " " name " ")) print }' /var/lib/dpkg/status
fi
lists=""
for p in $EGOV_PACKAGES; do
  for f in /var/lib/dpkg/info/"$p".list /var/lib/dpkg/info/"$p":*.list; do
    if [ -f "$f" ]; then rec list "$(basename "$f" .list)"; cat "$f"; lists="$lists $f"; fi
  done
done

# Homes: every existing home directory, then the files and executables under it.
homes=""
for h in $(awk -F: '{ print $6 }' /etc/passwd 2>/dev/null | sort -u); do
  if [ -d "$h" ]; then rec dir "$h"; homes="$homes ${h%/}"; fi
done
home_exes=""
for h in $homes; do
  for f in $EGOV_HOME_FILES; do show_file "$h/$f"; done
  for e in $EGOV_HOME_EXES; do home_exes="$home_exes $h/$e"; done
done

# Executables: where each resolves; --version only for those no browser package owns.
for e in $EGOV_EXES $home_exes; do
  if [ -f "$e" ] && [ -x "$e" ]; then
    real=$(readlink -f "$e" 2>/dev/null || printf '%s' "$e")
    rec exe "$e"; printf '%s' "$real"
    if [ -z "$lists" ] || ! grep -qxF -e "$e" -e "$real" $lists 2>/dev/null; then
      rec version "$e"; run_limited "$e" --version 2>/dev/null | head -n 1
    fi
  fi
done
rec end 0
