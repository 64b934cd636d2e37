# egov-probe Linux collector (POSIX sh and one awk; no Python, no sudo needed).
# It only READS and PRINTS raw evidence; the controller parses it with the same code as the
# local audit. The controller puts these variables before this text (see egov_probe/fleet/linux.py):
#   EGOV_MARK      the record mark, new for every run   EGOV_PACKAGES   browser package names
#   EGOV_FILES     absolute files to print               EGOV_EXES       executable candidates
#   EGOV_HOME_FILES files relative to each home          EGOV_HOME_EXES  executables relative to homes
#   EGOV_VERSION_FILES files beside an executable that tell its version   EGOV_FC_CHARSET
# Output: records, each introduced by a line "::egov-probe:MARK:: KIND ARG", then "end".
# Safe as root on a machine with hostile users:
# - no executable found in a home or in /opt is ever run: versions come from files beside it;
# - a user's files are printed only as the lines that matter (a release or version line), and
#   only regular files are opened (no FIFO, no device);
# - MARK is random and never shown to other users (not on a command line: awk gets it in its
#   environment, readable by its owner only), so no file content can start a record.
# Cheap: one awk reads every file in one pass; the few commands left are those only a command
# can answer (statfs, the UTC offset, the localtime link, fc-list, rpm, symlink resolution).
PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin
export PATH
nl='
'
rec() { printf '\n::egov-probe:%s:: %s %s\n' "$EGOV_MARK" "$1" "$2"; }
have() { command -v "$1" >/dev/null 2>&1; }
readable() { [ -f "$1" ] && [ -r "$1" ]; }
pick() { case "$nl$lines" in *"$nl$1$nl"*) ;; *) if readable "$1"; then lines="$lines$1$nl"; fi ;; esac; }

# Machine files, printed whole.
whole=""
for f in /etc/os-release /usr/lib/os-release /proc/meminfo /proc/cpuinfo /proc/uptime \
         /proc/sys/kernel/osrelease /proc/sys/kernel/hostname /proc/sys/kernel/arch \
         /etc/timezone /etc/passwd /etc/default/locale /etc/locale.conf $EGOV_FILES; do
  if readable "$f"; then whole="$whole$f$nl"; fi
done
lists=""
for p in $EGOV_PACKAGES; do
  for f in /var/lib/dpkg/info/"$p".list /var/lib/dpkg/info/"$p":*.list; do
    if readable "$f"; then lists="$lists$f$nl"; fi
  done
done

# Homes: every existing home directory (from /etc/passwd, read by the shell itself).
homes=""
if readable /etc/passwd; then
  while IFS=: read -r _name _pw _uid _gid _gecos h _shell || [ -n "$h" ]; do
    case "$nl$homes" in *"$nl${h%/}$nl"*) continue ;; esac
    if [ -n "$h" ] && [ -d "$h" ]; then rec dir "$h"; homes="$homes${h%/}$nl"; fi
  done < /etc/passwd
fi

# Files in homes and beside executables: only the lines that matter are printed.
lines=""
home_exes=""
IFS=$nl
for h in $homes; do
  IFS=' '
  for f in $EGOV_HOME_FILES; do pick "$h/$f"; done
  for e in $EGOV_HOME_EXES; do home_exes="$home_exes$h/$e$nl"; done
  IFS=$nl
done
IFS=' '

# Executables: where each really is (read, never run) and the version files beside it.
exe() {
  rec exe "$1"; printf '%s' "$2"
  case "$2" in
    /*"$nl"*) ;;
    /*) for f in $EGOV_VERSION_FILES; do pick "${2%/*}/$f"; done ;;
  esac
}
resolve() { real=$(readlink -f -- "$1" 2>/dev/null) || real=$1; exe "$1" "$real"; }
set --
for e in $EGOV_EXES; do if [ -f "$e" ] && [ -x "$e" ]; then set -- "$@" "$e"; fi; done
if [ $# -gt 0 ] && reals=$(realpath -- "$@" 2>/dev/null); then  # one process for them all
  IFS=$nl
  for r in $reals; do
    [ $# -gt 0 ] || break
    IFS=' '; exe "$1" "$r"; shift; IFS=$nl
  done
  IFS=' '
fi
for e in "$@"; do resolve "$e"; done
IFS=$nl
for e in $home_exes; do
  IFS=' '
  if [ -f "$e" ] && [ -x "$e" ]; then resolve "$e"; fi
  IFS=$nl
done
IFS=' '

EGOV_MARK=$EGOV_MARK EGOV_WHOLE=$whole EGOV_LISTS=$lists EGOV_LINES=$lines \
EGOV_WANT=" $EGOV_PACKAGES " awk '
function rec(kind, arg) { printf "\n::egov-probe:%s:: %s %s\n", ENVIRON["EGOV_MARK"], kind, arg }
function whole(kind, arg, file,    line) {
  rec(kind, arg)
  while ((getline line < file) > 0) print line
  close(file)
}
function picked(file,    line, n, keep) {
  rec("file", file)
  n = 0
  while (n++ < 10000 && (getline line < file) > 0) {
    if (file ~ /\.metainfo\.xml$/) keep = line ~ /<release[ \t>]/
    else if (file ~ /\.ini$/) keep = line ~ /^(Version|Milestone)=/
    else keep = line ~ /app\.update\.channel/
    if (keep) print line
  }
  close(file)
}
BEGIN {
  n = split(ENVIRON["EGOV_WHOLE"], files, "\n")
  for (i = 1; i <= n; i++) if (files[i] != "") whole("file", files[i], files[i])
  n = split(ENVIRON["EGOV_LISTS"], files, "\n")
  for (i = 1; i <= n; i++) if (files[i] != "") {
    name = files[i]; sub(/^.*\//, "", name); sub(/\.list$/, "", name)
    whole("list", name, files[i])
  }
  n = split(ENVIRON["EGOV_LINES"], files, "\n")
  for (i = 1; i <= n; i++) if (files[i] != "") picked(files[i])
  status = "/var/lib/dpkg/status"
  if ((getline line < status) >= 0) {
    close(status)
    rec("file", status)
    RS = ""
    while ((getline stanza < status) > 0) {
      name = stanza; sub(/\n.*/, "", name); sub(/^Package: /, "", name)
      if (index(ENVIRON["EGOV_WANT"], " " name " ")) printf "%s\n\n", stanza
    }
    close(status)
  }
}'

rec cmd date; date '+%s %z'
if ! readable /proc/sys/kernel/arch; then rec cmd uname-m; uname -m; fi
if [ -L /etc/localtime ]; then rec cmd localtime-link; readlink /etc/localtime; fi
if have stat; then rec cmd statfs-root; stat -f -c '%a %S' /; fi
if [ -n "${TZ:-}" ]; then rec env TZ; printf '%s' "$TZ"; fi
if have fc-list; then rec cmd fc-list; fc-list ":charset=$EGOV_FC_CHARSET" family 2>/dev/null; fi
if have rpm && { [ -d /var/lib/rpm ] || [ -d /usr/lib/sysimage/rpm ]; }; then
  rec cmd rpm; rpm -q --qf '%{NAME} %{VERSION}-%{RELEASE} %{ARCH}\n' $EGOV_PACKAGES 2>/dev/null
fi
rec end 0
