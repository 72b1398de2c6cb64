# tests/lib.sh - shared helpers for the tests/t_*.sh scripts.  Source it
# first thing:   . "$(dirname "$0")/lib.sh"
#
# What it gives a script:
#   $T            a private temp dir (mode 0711), removed on exit
#                 (KEEP_TMP=1 keeps it and prints where it is)
#   $ROOT         the source tree;  $REMOWT the binary under test
#   reporting     ok NAME / not_ok NAME REASON / skip NAME REASON, or a
#                 case built from several expectations:
#                   tcase NAME; exp_rc 0; exp_out_str "x"; tend
#                 Any not ok makes the script exit 1.
#   running       remowt_run ARGS...  runs $REMOWT under a timeout with
#                 stdin from $IN (default: an empty file), stdout to $OUT,
#                 stderr to $ERR; leaves the exit status in $RC and the
#                 wall time in $SECS.  `IN=f TMO=60 remowt_run sh ...`.
#   processes     bg_start LOG CMD... starts a helper in the background;
#                 everything started that way is stopped on exit.
#   ports         free_port prints a loopback TCP port nobody listens on.
#
# Environment knobs (all optional):
#   REMOWT=path       binary to test (default: $ROOT/remowt)
#   REMOWT_WRAP=cmd   prefix for every remowt run, e.g. "valgrind -q
#                     --error-exitcode=99 --leak-check=full"
#   TMO=secs          default per-command timeout (20)
#   SLOW=1            also run slow cases
#   KEEP_TMP=1        keep the temp dir
#   VERBOSE=1         print the stderr of failing remowt runs

set -eu -o pipefail
shopt -s nullglob

TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$TESTS_DIR")
REMOWT=${REMOWT:-$ROOT/remowt}
REMOWT_WRAP=${REMOWT_WRAP:-}
TMO=${TMO:-20}
SLOW=${SLOW:-0}
KEEP_TMP=${KEEP_TMP:-0}
VERBOSE=${VERBOSE:-0}
SCRIPT=$(basename "$0" .sh)

_n_fail=0
_n_pass=0
_last_tmo=$TMO
RC=
SECS=0
TIMED_OUT=0
_bg_pids=()
_ns_pids=()

T=$(mktemp -d "${TMPDIR:-/tmp}/remowt-$SCRIPT.XXXXXX")
# where remowt_run reads and writes unless told otherwise; stdin is an
# empty file of our own rather than /dev/null, which a buggy program
# running as root can replace
IN=$T/empty
OUT=$T/out
ERR=$T/err
: >"$IN"
: >"$OUT"
: >"$ERR"
# 0711: users other than root (the rig has one) may cross it to reach
# their home directory, but not list it.
chmod 0711 "$T"

# ---- process management -------------------------------------------------

# bg_start LOG CMD...: start CMD in the background, output to LOG.
# Its pid is left in $BG_PID; it is killed on exit.
bg_start() {
	local log=$1
	shift
	"$@" </dev/null >"$log" 2>&1 &
	BG_PID=$!
	_bg_pids+=("$BG_PID")
}

# _kill_wait PID...: TERM, up to 3 s of grace, then KILL; reap.
_kill_wait() {
	local p i alive
	[ $# -gt 0 ] || return 0
	kill -TERM "$@" 2>/dev/null || true
	for i in $(seq 30); do
		alive=0
		for p in "$@"; do
			kill -0 "$p" 2>/dev/null && alive=1
		done
		[ $alive = 1 ] || break
		sleep 0.1
	done
	kill -KILL "$@" 2>/dev/null || true
	for p in "$@"; do
		wait "$p" 2>/dev/null || true
	done
}

# The children of a pid (for namespaced servers: the namespace's init).
_children() {
	cat /proc/"$1"/task/*/children 2>/dev/null || true
}

# ns_stop PID: stop a server started by ns_start (servers.sh).  unshare
# itself ignores TERM; its child is the namespace's init (the server):
# once that dies, the kernel kills everything else in the namespace.
ns_stop() {
	local u=$1 kids
	kids=$(_children "$u")
	# shellcheck disable=SC2086
	[ -z "$kids" ] || _kill_wait $kids
	kill -KILL "$u" 2>/dev/null || true
	wait "$u" 2>/dev/null || true
}

_cleanup() {
	local p
	set +e
	for p in "${_ns_pids[@]}"; do
		ns_stop "$p"
	done
	[ ${#_bg_pids[@]} = 0 ] || _kill_wait "${_bg_pids[@]}"
	if [ "$KEEP_TMP" = 1 ]; then
		echo "# kept temp dir: $T" >&2
	else
		rm -rf "$T"
	fi
}

_on_exit() {
	local rc=$?
	trap - EXIT
	_cleanup
	if [ $rc = 0 ] && [ $_n_fail -gt 0 ]; then
		rc=1
	fi
	exit $rc
}
trap _on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# ---- reporting ------------------------------------------------------------

ok() {
	_n_pass=$((_n_pass + 1))
	echo "ok - $1"
}

not_ok() {
	_n_fail=$((_n_fail + 1))
	echo "not ok - $1: $2"
}

skip() {
	echo "ok - $1 # SKIP $2"
}

# bail REASON: the script cannot go on at all (e.g. nothing built).
bail() {
	not_ok "$SCRIPT" "$1"
	exit 1
}

# A case made of several expectations.  The first failed expectation
# gives the reason; later ones are only counted.
_case=
_why=
_nwhy=0
tcase() {
	_case=$1
	_why=
	_nwhy=0
}

fail() {
	if [ $_nwhy = 0 ]; then
		_why=$1
	fi
	_nwhy=$((_nwhy + 1))
}

tend() {
	if [ $_nwhy = 0 ]; then
		ok "$_case"
	elif [ $_nwhy = 1 ]; then
		not_ok "$_case" "$_why"
	else
		not_ok "$_case" "$_why (+$((_nwhy - 1)) more)"
	fi
	if [ $_nwhy != 0 ] && [ "$VERBOSE" = 1 ] && [ -s "${ERR:-$T/err}" ]; then
		sed 's/^/#   stderr: /' "${ERR:-$T/err}" | head -20 >&2
	fi
	_case=
}

# One line of text, for messages: non-printing bytes escaped, cut short.
_oneline() {
	head -c 300 | tr -d '\r' | tr '\n' '|' | cat -v | cut -c1-160
}

# First line of stderr of the last run, for reasons.
_errhint() {
	local e=${ERR:-$T/err}
	if [ -s "$e" ]; then
		printf ' (stderr: %s)' "$(_oneline <"$e")"
	fi
}

# ---- running remowt ------------------------------------------------------

# Words that only a sanitizer or valgrind prints.
_SAN_RE='ERROR: (Address|Leak|Memory|Thread)Sanitizer|runtime error: |SUMMARY: (Address|Undefined|Leak)|==[0-9]+== (Invalid (read|write|free)|Conditional jump|Use of uninitialised|Syscall param)|definitely lost: [1-9]'

# remowt_run ARGS...: see the header.  Never fails itself.
remowt_run() {
	local in=${IN:-$T/empty} out=${OUT:-$T/out} err=${ERR:-$T/err}
	local tmo=${TMO:-20} t0 t1
	t0=${EPOCHREALTIME/./}
	_last_tmo=$tmo
	RC=0
	# --foreground keeps the command in our process group, so that
	# run.sh can stop a whole script and all it started at once.
	# shellcheck disable=SC2086
	timeout --foreground -k 5 "$tmo" $REMOWT_WRAP "$REMOWT" "$@" \
		<"$in" >"$out" 2>"$err" || RC=$?
	t1=${EPOCHREALTIME/./}
	# microseconds -> seconds with 2 decimals
	SECS=$(awk -v d=$((t1 - t0)) 'BEGIN { printf "%.2f", d / 1e6 }')
	# 124: timeout's TERM did it; 137 only counts as a time-out when
	# the limit was reached (a remote SIGKILL also gives 137)
	TIMED_OUT=0
	if [ $RC = 124 ]; then
		TIMED_OUT=1
	elif [ $RC = 137 ] && [ $((t1 - t0)) -ge $((tmo * 1000000)) ]; then
		TIMED_OUT=1
	fi
	if grep -aqE "$_SAN_RE" "$err" 2>/dev/null; then
		SAN_HIT=1
		if [ -n "$_case" ]; then
			fail "sanitizer/valgrind report: $(grep -aE "$_SAN_RE" "$err" | head -1 | _oneline)"
		else
			not_ok "$SCRIPT: sanitizer" "$(grep -aE "$_SAN_RE" "$err" | head -1 | _oneline)"
		fi
	else
		SAN_HIT=0
	fi
}

# ---- expectations (use between tcase and tend) ----------------------------

exp_rc() {
	if [ "$TIMED_OUT" = 1 ]; then
		fail "timed out after ${_last_tmo}s (exit $RC)$(_errhint)"
	elif [ "$RC" != "$1" ]; then
		fail "exit $RC, expected $1$(_errhint)"
	fi
}

# exp_rc_fail: any failure status, but not a timeout or a crash
exp_rc_fail() {
	if [ "$TIMED_OUT" = 1 ]; then
		fail "timed out after ${_last_tmo}s (exit $RC)$(_errhint)"
	elif [ "$RC" = 0 ] || [ "$RC" -ge 128 ] && [ "$RC" != 255 ]; then
		fail "exit $RC, expected a failure status (1-127 or 255)$(_errhint)"
	fi
}

# exp_rc_in "0 1": the status is one of a list
exp_rc_in() {
	case " $1 " in
	*" $RC "*) ;;
	*) fail "exit $RC, expected one of: $1$(_errhint)" ;;
	esac
}

_cmp() { # what file-expected file-actual
	if ! cmp -s "$2" "$3"; then
		fail "$1 differs: expected '$(_oneline <"$2")' ($(wc -c <"$2") bytes), got '$(_oneline <"$3")' ($(wc -c <"$3") bytes)"
	fi
}

exp_out_str() {
	printf '%s' "$1" >"${OUT:-$T/out}.exp"
	_cmp stdout "${OUT:-$T/out}.exp" "${OUT:-$T/out}"
}

exp_err_str() {
	printf '%s' "$1" >"${ERR:-$T/err}.exp"
	_cmp stderr "${ERR:-$T/err}.exp" "${ERR:-$T/err}"
}

exp_out_file() { _cmp stdout "$1" "${OUT:-$T/out}"; }
exp_err_file() { _cmp stderr "$1" "${ERR:-$T/err}"; }

exp_out_empty() {
	if [ -s "${OUT:-$T/out}" ]; then
		fail "stdout not empty: '$(_oneline <"${OUT:-$T/out}")'"
	fi
}

exp_err_empty() {
	if [ -s "${ERR:-$T/err}" ]; then
		fail "stderr not empty: '$(_oneline <"${ERR:-$T/err}")'"
	fi
}

exp_err_nonempty() {
	if [ ! -s "${ERR:-$T/err}" ]; then
		fail "nothing on stderr"
	fi
}

# exp_err_match ERE [what]: stderr has a line matching (case-insensitive)
exp_err_match() {
	if ! grep -aqiE -- "$1" "${ERR:-$T/err}"; then
		fail "stderr does not mention ${2:-/$1/}: '$(_oneline <"${ERR:-$T/err}")'"
	fi
}

exp_err_nomatch() {
	if grep -aqiE -- "$1" "${ERR:-$T/err}"; then
		fail "stderr should not match /$1/: '$(grep -aiE -- "$1" "${ERR:-$T/err}" | head -1 | _oneline)'"
	fi
}

exp_out_match() {
	if ! grep -aqE -- "$1" "${OUT:-$T/out}"; then
		fail "stdout does not match /$1/: '$(_oneline <"${OUT:-$T/out}")'"
	fi
}

# exp_err_lines N: stderr is exactly N lines (each newline-terminated)
exp_err_lines() {
	local n
	n=$(wc -l <"${ERR:-$T/err}")
	if [ "$n" != "$1" ]; then
		fail "stderr has $n lines, expected $1: '$(_oneline <"${ERR:-$T/err}")'"
	fi
}

# exp_secs_le MAX: the last run took at most MAX seconds
exp_secs_le() {
	if awk -v s="$SECS" -v m="$1" 'BEGIN { exit !(s > m) }'; then
		fail "took ${SECS}s, limit ${1}s"
	fi
}

# exp_same_sha EXPECTED_FILE ACTUAL_FILE [what]
exp_same_sha() {
	local a b
	a=$(sha256sum <"$1" | cut -c1-64)
	b=$(sha256sum <"$2" | cut -c1-64)
	if [ "$a" != "$b" ]; then
		fail "${3:-data} sha256 differs: expected ${a:0:16}.. ($(wc -c <"$1") bytes), got ${b:0:16}.. ($(wc -c <"$2") bytes)"
	fi
}

exp_eq() { # what expected actual
	if [ "$2" != "$3" ]; then
		fail "$1: expected '$2', got '$3'"
	fi
}

# ---- misc -----------------------------------------------------------------

# require_remowt: a script that tests the binary fails clearly (instead
# of passing or hanging) when it has not been built.
require_remowt() {
	if [ ! -x "$REMOWT" ]; then
		bail "remowt not built: $REMOWT missing (run make)"
	fi
}

# require_cmd CMD...: tools the rig needs (tests/deps.sh installs them)
require_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || bail "$c not installed (run tests/deps.sh)"
	done
}

_port_busy() {
	[ -n "$(ss -Htan "( sport = :$1 )" 2>/dev/null)" ]
}

# free_port: a TCP port with no socket bound on it right now.  Chosen at
# random below the kernel's ephemeral range, so that parallel scripts
# rarely collide; callers that bind retry on a collision anyway.
free_port() {
	local p i
	for i in $(seq 200); do
		p=$((10000 + (RANDOM * 32768 + RANDOM) % 22000))
		if ! _port_busy "$p"; then
			echo "$p"
			return 0
		fi
	done
	echo "free_port: no free port found" >&2
	return 1
}

# listening_pid PORT: host pid of the process listening on 127.0.0.1:PORT
listening_pid() {
	ss -Hltnp "( sport = :$1 )" 2>/dev/null |
		sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -1
}

# wait_listen PORT PID [SECS]: until PID (or one of its children, for
# namespaced servers) listens on PORT.  Fails if PID dies first.
wait_listen() {
	local port=$1 pid=$2 secs=${3:-10} i lp
	for i in $(seq $((secs * 20))); do
		kill -0 "$pid" 2>/dev/null || return 1
		lp=$(listening_pid "$port")
		if [ -n "$lp" ]; then
			if [ "$lp" = "$pid" ] || grep -qw "$lp" <<<"$(_children "$pid")"; then
				return 0
			fi
		fi
		sleep 0.05
	done
	return 1
}

# sha FILE: sha256 hex
sha() { sha256sum <"$1" | cut -c1-64; }

# now_us: wall clock in microseconds
now_us() { echo "${EPOCHREALTIME/./}"; }
