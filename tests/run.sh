#!/bin/bash
# tests/run.sh - the test runner behind `make test`.  Builds nothing.
#
#   tests/run.sh [-j N] [--list] [NAME...]
#
# Runs every unit test (one binary per tests/unit_*.c, built by make) and
# every tests/t_*.sh script, N at a time (2), each under a timeout.
# NAMEs pick some of them: t_sh, t_sh.sh, tests/t_sh.sh, unit_buf.
# Collects the "ok - " / "not ok - " lines, prints each failing one with
# its script's name, and ends with one line "N passed, N failed" (plus
# ", N skipped" when cases were skipped).  Exits 1 if a case failed, a
# script or binary exited non-zero, reported nothing, or timed out.
#
# Environment:
#   SLOW=1             run the slow cases too (CI does)
#   REMOWT=path        the remowt binary the scripts test (./remowt)
#   REMOWT_WRAP=cmd    prefix every remowt run (e.g. valgrind ...)
#   SANITIZE=1         a sanitizer build (make sanitize): skips the
#                      valgrind-only unit tests
#   UNIT_WRAP=cmd      prefix every unit test binary
#   SCRIPT_TMO=secs    per-script limit (900, or 2400 with SLOW=1)
#   UNIT_TMO=secs      per-binary limit (300)
#   VERBOSE=1          print every case line, not only failures
#   KEEP_LOGS=1        keep the per-script output (kept anyway on failure)
set -u -o pipefail

TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$TESTS_DIR")
cd "$ROOT" || exit 2

JOBS=2
LIST=0
NAMES=()
while [ $# -gt 0 ]; do
	case $1 in
	-j) JOBS=$2; shift 2 ;;
	-j*) JOBS=${1#-j}; shift ;;
	--list) LIST=1; shift ;;
	-h | --help) sed -n '2,/^set /p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	-*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
	*) NAMES+=("$1"); shift ;;
	esac
done

export SLOW=${SLOW:-0}
UNIT_WRAP=${UNIT_WRAP:-}
if [ "$SLOW" = 1 ]; then
	SCRIPT_TMO=${SCRIPT_TMO:-2400}
else
	SCRIPT_TMO=${SCRIPT_TMO:-900}
fi
UNIT_TMO=${UNIT_TMO:-300}
VERBOSE=${VERBOSE:-0}
KEEP_LOGS=${KEEP_LOGS:-0}

# ---- discovery ----------------------------------------------------------------
# Unit tests: the Makefile's UNIT_TESTS (read with make --eval, which
# builds nothing), which `make test` builds first.  A listed binary that
# is missing is a failure, never a test silently not run.  Exceptions:
#  - one in UNIT_HELPERS, or named in a tests/t_*.sh script, needs set-up
#    (e.g. unit_sshkey takes a directory of keys) and is run by that
#    script, not here;
#  - one whose name ends in _ct is run under valgrind --error-exitcode=1
#    (a constant-time check), and skipped under SANITIZE=1.
# Without make, every tests/unit_*.c is expected as tests/unit_*.
# Scripts: every tests/t_*.sh.

declare -A UNIT_PATH=()
mk=$(make -s --no-print-directory -C "$ROOT" \
	--eval '_print_unit_tests: ; @echo "$(UNIT_TESTS)|$(UNIT_HELPERS)"' \
	_print_unit_tests 2>/dev/null) || mk=
all=()
if [ -n "$mk" ]; then
	units=${mk%%|*}
	helpers=" ${mk#*|} "
else
	units=
	helpers=" "
	for f in tests/unit_*.c; do
		[ -e "$f" ] && units="$units ${f%.c}"
	done
fi
for u in $units; do
	n=$(basename "$u")
	case $helpers in *" $u "* | *" $n "*) continue ;; esac
	if grep -qlw -- "$n" tests/t_*.sh 2>/dev/null; then
		continue
	fi
	UNIT_PATH[$n]=$u
	all+=("$n")
done
for f in tests/t_*.sh; do
	[ -e "$f" ] || continue
	all+=("$(basename "$f" .sh)")
done

sel=()
if [ ${#NAMES[@]} = 0 ]; then
	sel=("${all[@]}")
else
	for n in "${NAMES[@]}"; do
		n=$(basename "$n")
		n=${n%.sh}
		n=${n%.c}
		found=0
		for a in "${all[@]}"; do
			if [ "$a" = "$n" ]; then
				found=1
				case " ${sel[*]} " in
				*" $a "*) ;;
				*) sel+=("$a") ;;
				esac
			fi
		done
		if [ $found = 0 ]; then
			echo "run.sh: no test named '$n' (have: ${all[*]})" >&2
			exit 2
		fi
	done
fi

if [ $LIST = 1 ]; then
	printf '%s\n' "${sel[@]}"
	exit 0
fi
if [ ${#sel[@]} = 0 ]; then
	echo "run.sh: no tests found"
	echo "0 passed, 1 failed"
	exit 1
fi

LOGS=$(mktemp -d "${TMPDIR:-/tmp}/remowt-run.XXXXXX")

# ---- running --------------------------------------------------------------

declare -A PID2I=()
running=()
n_pass=0
n_fail=0
n_skip=0
bad=0
devnull_ok=1
if [ ! -c /dev/null ]; then
	echo "run.sh: /dev/null is not a character device; restore it first (mknod -m 666 /dev/null c 1 3)"
	echo "0 passed, 1 failed"
	exit 1
fi

_stop_all() {
	local p
	for p in "${!PID2I[@]}"; do
		# timeout leads its own process group: that takes the script
		# and everything it started
		kill -TERM -- "-$p" 2>/dev/null || kill -TERM "$p" 2>/dev/null
	done
	sleep 1
	for p in "${!PID2I[@]}"; do
		kill -KILL -- "-$p" 2>/dev/null || true
	done
	wait 2>/dev/null
}
trap '_stop_all; echo "run.sh: interrupted"; exit 130' INT TERM HUP

start() { # index
	local i=$1 name=${sel[$1]} tmo cmd
	case $name in
	unit_*)
		tmo=$UNIT_TMO
		local path=${UNIT_PATH[$name]}
		if [ ! -x "$path" ]; then
			echo "not ok - $name: not built ($path missing; make test builds it)" >"$LOGS/$name.out"
			: >"$LOGS/$name.err"
			return 1
		fi
		# shellcheck disable=SC2206
		cmd=($UNIT_WRAP "$path")
		case $name in
		*_ct)
			if [ "${SANITIZE:-0}" = 1 ]; then
				echo "ok - $name # SKIP valgrind check, not with sanitizers" >"$LOGS/$name.out"
				: >"$LOGS/$name.err"
				return 2
			fi
			cmd=(valgrind -q --error-exitcode=1 "$path")
			;;
		esac
		;;
	*)
		tmo=$SCRIPT_TMO
		cmd=(bash "tests/$name.sh")
		;;
	esac
	date +%s >"$LOGS/$name.t0"
	echo "$tmo" >"$LOGS/$name.tmo"
	timeout -k 15 "$tmo" "${cmd[@]}" </dev/null >"$LOGS/$name.out" 2>"$LOGS/$name.err" &
	PID2I[$!]=$i
	return 0
}

# report INDEX RC: fold one finished test into the totals
report() {
	local i=$1 rc=$2 name=${sel[$1]} p=0 f=0 s=0 line secs tmo why=
	while IFS= read -r line; do
		case $line in
		"ok "*"# SKIP"* | "ok "*"# skip"*)
			s=$((s + 1))
			[ "$VERBOSE" = 1 ] && echo "  $name: $line"
			;;
		"ok - "* | "ok "[0-9]*)
			p=$((p + 1))
			[ "$VERBOSE" = 1 ] && echo "  $name: $line"
			;;
		"not ok - "* | "not ok "[0-9]*)
			f=$((f + 1))
			echo "  $name: $line"
			;;
		esac
	done < <(tr -d '\r' <"$LOGS/$name.out")
	secs=0
	if [ -f "$LOGS/$name.t0" ]; then
		secs=$(($(date +%s) - $(cat "$LOGS/$name.t0")))
	fi
	tmo=$(cat "$LOGS/$name.tmo" 2>/dev/null || echo "?")
	if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
		why="timed out after ${tmo}s"
	elif [ "$rc" != 0 ] && [ $f = 0 ]; then
		why="exited $rc with no failing case"
	elif [ $((p + f + s)) = 0 ]; then
		if [[ $name = unit_* ]] && [ "$rc" = 0 ]; then
			# a unit binary that prints no case lines is one case
			p=1
		else
			why="reported no test case"
		fi
	fi
	if [ -n "$why" ]; then
		f=$((f + 1))
		echo "  $name: not ok - $name: $why"
		tail -n 8 "$LOGS/$name.err" 2>/dev/null | sed "s/^/  $name: stderr: /"
	fi
	# Tests run as root: one that replaces /dev/null (say, by renaming a
	# file onto it) breaks everything after it, so catch it here.
	if [ $devnull_ok = 1 ] && [ ! -c /dev/null ]; then
		devnull_ok=0
		f=$((f + 1))
		echo "  $name: not ok - /dev/null is no longer a character device after $name (or a test running beside it): a test replaced it"
	fi
	n_pass=$((n_pass + p))
	n_fail=$((n_fail + f))
	n_skip=$((n_skip + s))
	if [ $f -gt 0 ]; then
		bad=1
		printf 'FAIL %s: %d passed, %d failed (%ss)\n' "$name" $p $f "$secs"
	else
		printf 'PASS %s: %d passed%s (%ss)\n' "$name" $p \
			"$([ $s = 0 ] || echo ", $s skipped")" "$secs"
	fi
}

echo "run.sh: ${#sel[@]} tests, $JOBS at a time, SLOW=$SLOW${REMOWT:+, REMOWT=$REMOWT}${REMOWT_WRAP:+, REMOWT_WRAP=$REMOWT_WRAP}"
next=0
active=0
while [ $next -lt ${#sel[@]} ] || [ $active -gt 0 ]; do
	while [ $active -lt "$JOBS" ] && [ $next -lt ${#sel[@]} ]; do
		rc=0
		start $next || rc=$?
		case $rc in
		0) active=$((active + 1)) ;;
		1) report $next 1 ;;
		*) report $next 0 ;;
		esac
		next=$((next + 1))
	done
	[ $active -gt 0 ] || continue
	dp=
	rc=0
	wait -n -p dp || rc=$?
	if [ -z "$dp" ] || [ -z "${PID2I[$dp]:-}" ]; then
		continue
	fi
	i=${PID2I[$dp]}
	unset "PID2I[$dp]"
	active=$((active - 1))
	report "$i" "$rc"
done

if [ $bad = 1 ] || [ "$KEEP_LOGS" = 1 ]; then
	echo "run.sh: output of each test kept in $LOGS"
else
	rm -rf "$LOGS"
fi
if [ $n_skip -gt 0 ]; then
	echo "$n_pass passed, $n_fail failed, $n_skip skipped"
else
	echo "$n_pass passed, $n_fail failed"
fi
[ $bad = 0 ] && [ $n_fail = 0 ]
