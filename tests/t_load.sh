#!/bin/bash
# t_load.sh - 64 remowt sessions at once against one sshd, then against
# one dropbear: each a loop of agent operations (put, stat, ls, sum, get,
# exec with stdin, rm) on files of its own for 10 s (60 s with SLOW=1),
# every result checked (content hashes, sizes, listings, exit statuses),
# nothing lost.  Reports the peak RSS of the agents (their VmHWM, sampled
# from /proc while they run) and of the client (GNU time's %M), and holds
# the agent to 1 MiB.
#
# A server may turn a connection away before its SSH version when too
# many are unauthenticated at once (dropbear allows 5 per address, sshd
# MaxStartups): nothing was done then, so that attempt is made again and
# counted; any other failure fails the case.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/servers.sh"
require_remowt
require_cmd python3 /usr/bin/time timeout sha256sum
rig_init

SESSIONS=${LOAD_SESSIONS:-64}
if [ "$SLOW" = 1 ]; then
	DURATION=${LOAD_SECS:-60}
else
	DURATION=${LOAD_SECS:-10}
fi
ROUNDS=$((DURATION * 4))        # a bound even on a fast machine
AGENT_MAX_KB=1024
D=root@127.0.0.1
CACHE=$T/cache                  # one for the run: the agents' path is known

if [ -n "$REMOWT_WRAP" ]; then
	skip "$SCRIPT" "not under REMOWT_WRAP ($REMOWT_WRAP): $SESSIONS sessions at once"
	exit 0
fi

# ---- the agent's peak RSS, sampled from /proc --------------------------------

# sampler.py AGENT STOPFILE OUT: every 50 ms until STOPFILE appears, the
# VmHWM of every process running AGENT; then "peak_kb pids samples
# most_at_once dynamic" in OUT (dynamic: 1 if an agent mapped a shared
# library, as the host's fallback agent does).
cat >"$T/sampler.py" <<'EOF_PY'
import os, sys, time
agent, stop, out = os.path.realpath(sys.argv[1]), sys.argv[2], sys.argv[3]
peak = samples = most = dynamic = 0
seen = set()
while not os.path.exists(stop):
    live = 0
    for pid in os.listdir('/proc'):
        if not pid.isdigit():
            continue
        try:
            if os.readlink('/proc/%s/exe' % pid) != agent:
                continue
            status = open('/proc/%s/status' % pid).read()
            if not dynamic and '.so' in open('/proc/%s/maps' % pid).read():
                dynamic = 1
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith('VmHWM:'):
                peak = max(peak, int(line.split()[1]))
        live += 1
        samples += 1
        seen.add(pid)
    most = max(most, live)
    time.sleep(0.05)
with open(out, 'w') as f:
    f.write('%d %d %d %d %d\n' % (peak, len(seen), samples, most, dynamic))
EOF_PY

# ---- one session ---------------------------------------------------------------

# wop W ARGS...: remowt ARGS for worker W with stdin from $WIN; status in
# WRC, output in $T/w/W.out and .err, client peak RSS appended to
# $T/w/W.rss.  A connection turned away before the SSH version is tried
# again (a line in $T/w/W.turned each time).
wop() {
	local w=$1 try
	shift
	for try in $(seq 200); do
		WRC=0
		timeout -k 5 120 /usr/bin/time -a -o "$T/w/$w.rss" -f 'rss %M' \
			"$REMOWT" "${COMMON[@]}" "${KEY[@]}" -p "$PORT" \
			--cache "$CACHE" "$@" <"${WIN:-$IN}" >"$T/w/$w.out" \
			2>"$T/w/$w.err" || WRC=$?
		if [ "$WRC" = 255 ] && grep -q 'before the server sent an SSH version' \
			"$T/w/$w.err"; then
			echo "$try" >>"$T/w/$w.turned"
			sleep "0.$((RANDOM % 9 + 1))"
			continue
		fi
		cat "$T/w/$w.err" >>"$T/w/$w.allerr"
		return 0
	done
}

# check W OP OK WHAT: one line per operation in $T/w/W.log
check() {
	if [ "$3" = 1 ]; then
		echo "ok $2" >>"$T/w/$1.log"
	else
		echo "FAIL $2: $4 (exit $WRC: $(_oneline <"$T/w/$1.err"))" >>"$T/w/$1.log"
	fi
}

OPS=(stat ls sum get exec exec-status)

# op W OP FILE SIZE SUM: one checked operation on FILE (SIZE bytes of
# sha256 SUM, a copy in $T/w/W.src) in the worker's directory
op() {
	local w=$1 f=$3 size=$4 sum=$5 src=$T/w/$1.src back=$T/w/$1.back
	case $2 in
	stat)
		wop "$w" --json stat "$D:$f"
		check "$w" stat "$([ "$WRC" = 0 ] && grep -q "\"size\":$size," "$T/w/$w.out" && echo 1)" \
			"stat of $size bytes: $(_oneline <"$T/w/$w.out")"
		;;
	ls)
		wop "$w" ls "$D:${f%/*}"
		check "$w" ls "$([ "$WRC" = 0 ] && grep -qx "${f##*/}" "$T/w/$w.out" && echo 1)" \
			"${f##*/} not listed: $(_oneline <"$T/w/$w.out")"
		;;
	sum)
		wop "$w" sum "$D:$f"
		check "$w" sum "$([ "$WRC" = 0 ] && [ "$(cut -c1-64 "$T/w/$w.out")" = "$sum" ] && echo 1)" \
			"sum differs: $(_oneline <"$T/w/$w.out")"
		;;
	get)
		rm -f "$back"
		wop "$w" get "$D:$f" "$back"
		check "$w" get "$([ "$WRC" = 0 ] && [ "$(sha256sum <"$back" | cut -c1-64)" = "$sum" ] && echo 1)" \
			"the file came back different"
		;;
	exec)
		WIN=$src wop "$w" exec "$D" -- sha256sum
		check "$w" exec "$([ "$WRC" = 0 ] && [ "$(cat "$T/w/$w.out")" = "$sum  -" ] && echo 1)" \
			"sha256sum of stdin: $(_oneline <"$T/w/$w.out")"
		;;
	exec-status)
		# the agent waits a second here: time for the sampler to see it
		WIN=$src wop "$w" exec "$D" -- sh -c 'cat >/dev/null; sleep 1; exit 7'
		check "$w" exec-status "$([ "$WRC" = 7 ] && echo 1)" "exit status 7 expected"
		;;
	esac
}

# worker W DIR: once $T/go holds the deadline, rounds on files of its
# own in DIR until then (or ROUNDS rounds): put a file, the other
# operations on it (the first round of worker W starting at the W-th, so
# that short runs see them all), rm.  The deadline is looked at before
# each operation.
worker() {
	local w=$1 dir=$2 n=0 i size sum f src=$T/w/$1.src deadline=
	mkdir -p "$dir"
	while [ ! -s "$T/go" ]; do
		sleep 0.1
	done
	read -r deadline <"$T/go"
	sleep "0.$((RANDOM % 10))"
	while [ $n -lt $ROUNDS ] && [ "$EPOCHSECONDS" -lt "$deadline" ]; do
		n=$((n + 1))
		f=$dir/f$n
		size=$(((RANDOM * 32768 + RANDOM + w * 7919) % 196608))
		head -c "$size" /dev/urandom >"$src"
		sum=$(sha256sum <"$src" | cut -c1-64)
		wop "$w" put "$src" "$D:$f"
		check "$w" put "$([ "$WRC" = 0 ] && echo 1)" "put $size bytes"
		for i in $(seq 0 $((${#OPS[@]} - 1))); do
			[ "$EPOCHSECONDS" -lt "$deadline" ] || return 0
			op "$w" "${OPS[$(((i + w) % ${#OPS[@]}))]}" "$f" "$size" "$sum"
		done
		[ "$EPOCHSECONDS" -lt "$deadline" ] || return 0
		wop "$w" rm "$D:$f"
		check "$w" rm "$([ "$WRC" = 0 ] && [ ! -e "$f" ] && echo 1)" "still there"
	done
}

# ---- per server ----------------------------------------------------------------

# forget PID...: ended and reaped, so not to be killed at exit (the pid
# may be someone else's by then)
forget() {
	local p q keep=()
	for p in "${_bg_pids[@]}"; do
		for q in "$@"; do
			[ "$p" != "$q" ] || continue 2
		done
		keep+=("$p")
	done
	_bg_pids=("${keep[@]}")
}

# counts FILES...: "put N, stat N, ..." over the workers' logs
counts() {
	cat "$@" 2>/dev/null | awk '{ n[$2]++ } END {
		split("put stat ls sum get exec exec-status rm", op, " ")
		for (i = 1; i <= 8; i++)
			printf "%s%s %d", (i > 1 ? ", " : ""), op[i], n[op[i] ":"] + n[op[i]] }'
}

# load NAME: SESSIONS workers against the server on $PORT, then the
# report and the cases
load() {
	local s=$1 i pids=() hash ops fails turned rss sampler name
	local peak=0 agents=0 samples=0 most=0 dyn=0
	rm -rf "$T/w"
	mkdir -p "$T/w" "$T/remote-$s"
	# first contact: the agent goes into the cache once
	wop first --json info "$D"
	hash=$(sed -n 's/.*"agent_sha256":"\([0-9a-f]*\)".*/\1/p' "$T/w/first.out")
	if [ "$WRC" != 0 ] || [ -z "$hash" ] || [ ! -x "$CACHE/$hash" ]; then
		not_ok "$s: first contact puts the agent in $CACHE" \
			"exit $WRC: $(_oneline <"$T/w/first.err")"
		return
	fi
	bg_start "$T/sampler-$s.log" python3 "$T/sampler.py" "$CACHE/$hash" \
		"$T/sampler-$s.stop" "$T/sampler-$s.out"
	sampler=$BG_PID

	rm -f "$T/go"
	for i in $(seq "$SESSIONS"); do
		(
			renice -n 5 "$BASHPID" >/dev/null 2>&1
			worker "$i" "$T/remote-$s/w$i"
		) </dev/null >/dev/null 2>&1 &
		pids+=($!)
		_bg_pids+=($!)
	done
	# all at once, from now on
	echo $((EPOCHSECONDS + DURATION)) >"$T/go.new"
	mv "$T/go.new" "$T/go"
	for i in "${pids[@]}"; do
		wait "$i" 2>/dev/null || true
	done
	forget "${pids[@]}"
	touch "$T/sampler-$s.stop"
	wait "$sampler" 2>/dev/null || true
	forget "$sampler"

	ops=$(cat "$T"/w/[0-9]*.log 2>/dev/null | wc -l)
	fails=$(cat "$T"/w/[0-9]*.log 2>/dev/null | grep -c '^FAIL' || true)
	turned=$(cat "$T"/w/[0-9]*.turned 2>/dev/null | wc -l)
	if [ -s "$T/sampler-$s.out" ]; then
		read -r peak agents samples most dyn <"$T/sampler-$s.out"
	fi
	rss=$(cat "$T"/w/*.rss 2>/dev/null | sed -n 's/^rss //p' | sort -n | tail -1)
	echo "# $s: $SESSIONS sessions for ${DURATION}s: $ops operations" \
		"($(counts "$T"/w/[0-9]*.log)), $fails failed; $turned" \
		"connections turned away before the SSH version, tried again"
	echo "# $s: agent peak RSS $peak KiB (VmHWM of $agents agent" \
		"processes, $samples samples, at most $most at once$([ "$dyn" = 1 ] &&
		echo ", dynamically linked")); client peak RSS ${rss:-?} KiB"

	tcase "$s: $SESSIONS concurrent sessions, $ops operations, every result checked, none lost"
	if [ "$fails" != 0 ]; then
		fail "$fails failed: $(grep -h '^FAIL' "$T"/w/[0-9]*.log | head -3 | _oneline)"
	fi
	for i in $(seq "$SESSIONS"); do
		if [ ! -s "$T/w/$i.log" ]; then
			fail "session $i did nothing"
			break
		fi
	done
	if grep -aqE "$_SAN_RE" "$T"/w/*.allerr 2>/dev/null; then
		fail "sanitizer report: $(grep -ahE "$_SAN_RE" "$T"/w/*.allerr | head -1 | _oneline)"
	fi
	tend

	name="$s: agent peak RSS $peak KiB <= $AGENT_MAX_KB KiB ($agents agents); client peak RSS ${rss:-?} KiB"
	if [ "$agents" = 0 ]; then
		not_ok "$name" "no process running $CACHE/$hash was seen"
	elif [ "$dyn" = 1 ] || [ "${SANITIZE:-0}" = 1 ]; then
		skip "$name" "the agent is the host's dynamically linked fallback (no make cross) or a sanitizer build, whose libc pages count"
	elif [ "$peak" -gt "$AGENT_MAX_KB" ]; then
		not_ok "$name" "an agent reached $peak KiB"
	else
		ok "$name"
	fi
}

start_sshd sshd || exit 1
kh_add "$SRV_PORT" "$SRV_HOSTKEYS"
PORT=$SRV_PORT
load sshd
server_stop "$SRV_PID"

start_dropbear dropbear || exit 1
kh_add "$SRV_PORT" "$SRV_HOSTKEYS"
PORT=$SRV_PORT
load dropbear
server_stop "$SRV_PID"
