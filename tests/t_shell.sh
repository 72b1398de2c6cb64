#!/bin/bash
# t_shell.sh - remowt shell and exec -t, typed at through tmux and read
# back from its screen: the agent's terminal on --local, real sshd and
# real dropbear (tty, stty size following the window, ~? ~~ ~. and -e,
# exit statuses, the terminal restored on every way out), exec -t, the
# server's own terminal session with --no-agent and when the stager
# fails, and an sshd with PermitTTY no where only the agent's terminal
# works.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/servers.sh"
require_remowt
require_cmd tmux

rig_init

# ---- tmux -----------------------------------------------------------------

# A tmux server of our own, in the foreground so that lib.sh stops it.
TM=(tmux -S "$T/tmux.sock" -f /dev/null)
bg_start "$T/tmux.log" "${TM[@]}" -D
for _ in $(seq 50); do
	[ -S "$T/tmux.sock" ] && break
	sleep 0.1
done
[ -S "$T/tmux.sock" ] || bail "tmux server would not start: $(_oneline <"$T/tmux.log")"

# tm_start NAME ARGS...: remowt ARGS in a new 80x24 window NAME, with
# TM_ENV (NAME=VALUE words) in its environment.  Its stderr goes to
# $T/NAME.err, its exit status to $T/NAME.rc and the terminal's modes
# after it to $T/NAME.stty; $T/NAME.pid has the pid remowt runs as.
tm_start() {
	local name=$1 cmd
	shift
	rm -f "$T/$name".{rc,err,stty,pid,screen}
	cmd="echo \$\$ >$T/$name.pid; exec env ${TM_ENV:-} $REMOWT_WRAP $(printf '%q ' "$REMOWT" "$@") 2>$T/$name.err"
	"${TM[@]}" new-session -d -s "$name" -x 80 -y 24 \
		"timeout --foreground -k 5 60 sh -c $(printf '%q' "$cmd"); echo \$? >$T/$name.rc.new;
		stty -a >$T/$name.stty; mv $T/$name.rc.new $T/$name.rc; sleep 600"
	"${TM[@]}" set -t "$name" window-size manual >/dev/null
}

tm_keys() { # NAME KEYS...: as tmux send-keys takes them
	local name=$1
	shift
	"${TM[@]}" send-keys -t "$name" "$@"
}

tm_type() { # NAME TEXT: TEXT typed literally
	"${TM[@]}" send-keys -t "$1" -l -- "$2"
}

tm_screen() { "${TM[@]}" capture-pane -p -t "$1" 2>/dev/null; }

# tm_wait NAME ERE [SECS]: until the screen shows ERE (10 s).
tm_wait() {
	local name=$1 re=$2 secs=${3:-10} i
	for i in $(seq $((secs * 10))); do
		tm_screen "$name" >"$T/$name.screen"
		grep -qE -- "$re" "$T/$name.screen" && return 0
		sleep 0.1
	done
	fail "screen of $name never showed /$re/: '$(_oneline <"$T/$name.screen")'"
	return 1
}

# tm_rc NAME [SECS]: wait for remowt to end; its status in RC, its
# stderr in ERR (so that lib.sh's expectations read it).
tm_rc() {
	local name=$1 secs=${2:-15} i
	RC=none
	TIMED_OUT=0
	ERR=$T/$name.err
	for i in $(seq $((secs * 10))); do
		if [ -f "$T/$name.rc" ]; then
			RC=$(cat "$T/$name.rc")
			break
		fi
		sleep 0.1
	done
	if [ "$RC" = none ]; then
		TIMED_OUT=1
		_last_tmo=$secs
	fi
	if grep -aqE "$_SAN_RE" "$ERR" 2>/dev/null; then
		fail "sanitizer/valgrind report: $(grep -aE "$_SAN_RE" "$ERR" | head -1 | _oneline)"
	fi
}

# exp_sane NAME: the terminal is back in its usual modes after remowt.
exp_sane() {
	local m
	if [ ! -f "$T/$1.stty" ]; then
		fail "remowt did not end, terminal modes unknown"
		return
	fi
	m=$(tr ' ;' '\n\n' <"$T/$1.stty" | grep -xE -- '-?(icanon|echo|isig|opost|icrnl)' | sort | tr '\n' ' ')
	exp_eq "terminal modes after remowt" "echo icanon icrnl isig opost " "$m"
}

# The remote shell's prompt (capture-pane drops trailing blanks).
PROMPT='[#$] ?$'

tm_stop() { "${TM[@]}" kill-session -t "$1" 2>/dev/null || true; }

# tm_resize NAME COLS ROWS: resize the window, give SIGWINCH a moment.
tm_resize() {
	if ! "${TM[@]}" resize-window -t "$1" -x "$2" -y "$3"; then
		fail "tmux could not resize $1"
		return 1
	fi
	sleep 0.3
}

# exp_raw NAME: the window's terminal is in raw mode (remowt runs there).
exp_raw() {
	local tty m
	tty=$("${TM[@]}" display -p -t "$1" '#{pane_tty}')
	m=$(stty -a -F "$tty" 2>&1 | tr ' ;' '\n\n' | grep -xE -- '-?(icanon|echo|isig|opost|icrnl)' | sort | tr '\n' ' ')
	exp_eq "terminal modes under remowt" "-echo -icanon -icrnl -isig -opost " "$m"
}

# Commands whose output, unlike their echo, holds the answer: the typed
# line shows "$((6*7))", only the output shows 42.
CHECK_TTY='tty | sed "s/^/TTY=/"; echo "ZERO=$0 SUM=$((6*7))"'
TTY_RE='TTY=/dev/pts/[0-9]+'
SIZE_CMD='stty size | sed "s/^/SIZE=/"'

# ---- the agent's terminal on this machine (no SSH server) ---------------

tcase "local: a login shell on a terminal that follows the window"
TM_ENV=SHELL=/bin/sh tm_start loc --local shell
tm_wait loc "$PROMPT" && exp_raw loc &&
	tm_type loc "$CHECK_TTY" && tm_keys loc Enter &&
	tm_wait loc "$TTY_RE" && tm_wait loc 'ZERO=-sh SUM=42' &&
	tm_type loc "$SIZE_CMD" && tm_keys loc Enter &&
	tm_wait loc 'SIZE=24 80' &&
	tm_resize loc 100 30 && tm_type loc "$SIZE_CMD" && tm_keys loc Enter &&
	tm_wait loc 'SIZE=30 100' &&
	tm_type loc 'exit 7' && tm_keys loc Enter || true
tm_rc loc
exp_rc 7
exp_sane loc
tm_stop loc
tend

# ---- servers ----------------------------------------------------------------

start_sshd openssh || exit 1
OS_PORT=$SRV_PORT
kh_add "$OS_PORT" "$SRV_HOSTKEYS"
start_dropbear dropbear || exit 1
DB_PORT=$SRV_PORT
kh_add "$DB_PORT" "$SRV_HOSTKEYS"
start_sshd notty VERBOSE "PermitTTY no" || exit 1
NT_PORT=$SRV_PORT
kh_add "$NT_PORT" "$SRV_HOSTKEYS"

H=root@127.0.0.1
# R PORT ARGS...: remowt with the rig's options, as remowt_run runs it.
R() {
	local port=$1
	shift
	remowt_run "${COMMON[@]}" "${KEY[@]}" -p "$port" "$@"
}
# TS NAME PORT ARGS...: remowt with the rig's options in tmux window NAME.
TS() {
	local name=$1 port=$2
	shift 2
	tm_start "$name" "${COMMON[@]}" "${KEY[@]}" -p "$port" "$@"
}

for S in openssh dropbear; do
	[ $S = openssh ] && P=$OS_PORT || P=$DB_PORT
	C=$T/cache-$S

	tcase "$S: the login shell runs on the agent's terminal, sized as the window"
	TS sh1 "$P" --cache "$C" shell "$H"
	tm_wait sh1 "$PROMPT" 20 &&
		tm_type sh1 "$CHECK_TTY" && tm_keys sh1 Enter &&
		tm_wait sh1 "$TTY_RE" && tm_wait sh1 'ZERO=-sh SUM=42' &&
		tm_type sh1 "$SIZE_CMD" && tm_keys sh1 Enter &&
		tm_wait sh1 'SIZE=24 80' && exp_raw sh1 || true
	[ -d "$C" ] || fail "no agent cache: the agent did not run"
	tend

	tcase "$S: stty size follows the window"
	tm_resize sh1 100 30 && tm_type sh1 "$SIZE_CMD" && tm_keys sh1 Enter &&
		tm_wait sh1 'SIZE=30 100' &&
		tm_resize sh1 60 20 && tm_type sh1 "$SIZE_CMD" &&
		tm_keys sh1 Enter && tm_wait sh1 'SIZE=20 60' || true
	tend

	tcase "$S: ~? lists the escapes and sends nothing"
	tm_keys sh1 Enter && tm_type sh1 '~?' &&
		tm_type sh1 'echo "AFTER=$((1+1))"' && tm_keys sh1 Enter &&
		tm_wait sh1 'AFTER=2' || true
	grep -q 'Supported escape sequences' "$T/sh1.err" ||
		fail "no escape help on stderr: '$(_oneline <"$T/sh1.err")'"
	grep -q '~\.   - disconnect' "$T/sh1.err" || fail "help lacks ~."
	tend

	tcase "$S: ~~ sends one ~, only after a newline"
	tm_type sh1 "cat >$T/tilde-$S" && tm_keys sh1 Enter &&
		tm_type sh1 '~~x a~.b' && tm_keys sh1 Enter C-d &&
		tm_type sh1 'echo "DONE=$((2+2))"' && tm_keys sh1 Enter &&
		tm_wait sh1 'DONE=4' || true
	exp_eq "bytes typed" "~x a~.b" "$(cat "$T/tilde-$S" 2>&1)"
	tend

	tcase "$S: the exit status of the shell is remowt's"
	tm_type sh1 'exit 7' && tm_keys sh1 Enter || true
	tm_rc sh1
	exp_rc 7
	exp_err_nomatch 'disconnected'
	exp_sane sh1
	tm_stop sh1
	tend

	tcase "$S: ~. disconnects, exit 255, terminal restored"
	TS sh2 "$P" --cache "$C" shell "$H"
	tm_wait sh2 "$PROMPT" 20 && tm_keys sh2 Enter && tm_type sh2 '~.' || true
	tm_rc sh2
	exp_rc 255
	exp_err_match 'disconnected'
	exp_sane sh2
	tm_stop sh2
	tend

	tcase "$S: -e % takes the place of ~, -e none sends every byte"
	TS sh3 "$P" --cache "$C" shell -e % "$H"
	tm_wait sh3 "$PROMPT" 20 && tm_type sh3 "cat >$T/esc-$S" &&
		tm_keys sh3 Enter && tm_type sh3 '~.' && tm_keys sh3 Enter C-d &&
		tm_type sh3 'echo "CAT=$((3+4))"' && tm_keys sh3 Enter &&
		tm_wait sh3 'CAT=7' && tm_keys sh3 Enter && tm_type sh3 '%.' || true
	tm_rc sh3
	exp_rc 255
	exp_eq "bytes typed" "~." "$(cat "$T/esc-$S" 2>&1)"
	tm_stop sh3
	TS sh4 "$P" --cache "$C" shell -e none "$H"
	tm_wait sh4 "$PROMPT" 20 && tm_type sh4 "cat >$T/none-$S" &&
		tm_keys sh4 Enter && tm_type sh4 '~.' && tm_keys sh4 Enter &&
		tm_type sh4 '~?' && tm_keys sh4 Enter C-d &&
		tm_type sh4 'exit 3' && tm_keys sh4 Enter || true
	tm_rc sh4
	exp_rc 3
	exp_eq "bytes typed" "~.|~?" "$(tr '\n' '|' <"$T/none-$S" 2>&1 | sed 's/|$//')"
	tm_stop sh4
	tend

	tcase "$S: SIGTERM to remowt ends the session and restores the terminal"
	TS sh5 "$P" --cache "$C" shell "$H"
	tm_wait sh5 "$PROMPT" 20 && kill -TERM "$(cat "$T/sh5.pid")" || true
	tm_rc sh5
	exp_rc 143
	exp_sane sh5
	tm_stop sh5
	tend

	tcase "$S: a shell killed by a signal gives 128+N"
	IN=$T/kill.in
	printf 'kill -KILL $$\n' >"$IN"
	R "$P" --cache "$C" shell -t "$H"
	exp_rc 137
	exp_err_match 'killed by signal KILL'
	IN=$T/empty
	tend

	tcase "$S: exec -t gives the program a terminal, plain exec does not"
	R "$P" --cache "$C" exec -t "$H" -- tty
	exp_rc 0
	exp_out_match '^/dev/pts/[0-9]+'$'\r''$'
	R "$P" --cache "$C" exec -t "$H" -- sh -c 'echo out; echo err >&2; exit 5'
	exp_rc 5
	exp_out_str "out"$'\r\n'"err"$'\r\n'
	exp_err_empty
	R "$P" --cache "$C" exec "$H" -- tty
	exp_rc 1
	exp_out_str "not a tty"$'\n'
	tend

	tcase "$S: exec -t in tmux: raw mode, size, escapes"
	TS ex1 "$P" --cache "$C" exec -t "$H" -- sh -c 'stty size; read x; echo "GOT=$x"; read y; exit 4'
	tm_wait ex1 '^24 80' 20 && exp_raw ex1 && tm_type ex1 'abc' &&
		tm_keys ex1 Enter && tm_wait ex1 'GOT=abc' && tm_type ex1 '~.' || true
	tm_rc ex1
	exp_rc 255
	exp_sane ex1
	tm_stop ex1
	tend

	tcase "$S: shell -t with stdin from a file; without -t no terminal, no escapes"
	IN=$T/script.in
	printf '%s\n' "$CHECK_TTY" 'exit 6' >"$IN"
	R "$P" --cache "$C" shell -t "$H"
	exp_rc 6
	exp_out_match "$TTY_RE"
	exp_out_match 'ZERO=-sh SUM=42'
	printf '%s\n' "$CHECK_TTY" '~.' 'echo "LAST=$((1+2))"' >"$IN"
	R "$P" --cache "$C" shell "$H"
	exp_rc 0
	exp_out_match '^TTY=not a tty$'
	exp_out_match '^ZERO=-sh SUM=42$'
	exp_out_match '^LAST=3$'
	IN=$T/empty
	tend

	tcase "$S: --no-agent: the server's own terminal, sized and followed"
	TS fb1 "$P" --cache "$T/nocache-$S" shell --no-agent "$H"
	tm_wait fb1 "$PROMPT" 20 && exp_raw fb1 &&
		tm_type fb1 "$CHECK_TTY" && tm_keys fb1 Enter &&
		tm_wait fb1 "$TTY_RE" && tm_wait fb1 'SUM=42' &&
		tm_type fb1 "$SIZE_CMD" && tm_keys fb1 Enter &&
		tm_wait fb1 'SIZE=24 80' &&
		tm_resize fb1 100 30 &&
		tm_type fb1 "$SIZE_CMD" && tm_keys fb1 Enter &&
		tm_wait fb1 'SIZE=30 100' &&
		tm_keys fb1 Enter && tm_type fb1 '~?' &&
		tm_type fb1 'exit 7' && tm_keys fb1 Enter || true
	tm_rc fb1
	exp_rc 7
	exp_err_match 'Supported escape sequences'
	exp_sane fb1
	[ ! -e "$T/nocache-$S" ] || fail "the agent was deployed"
	tm_stop fb1
	TS fb2 "$P" shell --no-agent "$H"
	tm_wait fb2 "$PROMPT" 20 && tm_keys fb2 Enter && tm_type fb2 '~.' || true
	tm_rc fb2
	exp_rc 255
	exp_err_match 'disconnected'
	exp_sane fb2
	tm_stop fb2
	tend

	tcase "$S: where the stager fails, the server's terminal is used"
	IN=$T/script.in
	printf '%s\n' "$CHECK_TTY" 'exit 4' >"$IN"
	R "$P" --cache /proc/no-such-dir/cache shell -t "$H"
	exp_rc 4
	exp_out_match "$TTY_RE"
	exp_err_match "cannot create the cache directory"
	exp_err_match "using the server's own terminal"
	R "$P" shell --no-agent -t "$H" -- sh -c 'tty; exit 9'
	exp_rc 9
	exp_out_match '^/dev/pts/[0-9]+'
	R "$P" shell --no-agent "$H" -- printf '[%s]' "a b" "it's" '$HOME' ''
	exp_rc 0
	exp_out_str "[a b][it's][\$HOME][]"
	IN=$T/empty
	tend
done

tcase "PermitTTY no: the agent's terminal works, the server's is refused"
IN=$T/script.in
printf '%s\n' "$CHECK_TTY" 'exit 5' >"$IN"
R "$NT_PORT" shell -t "$H"
exp_rc 5
exp_out_match "$TTY_RE"
R "$NT_PORT" shell -t --no-agent "$H"
exp_rc 5
exp_out_match '^TTY=not a tty'
exp_err_match 'refused a terminal'
IN=$T/empty
tend

tcase "PermitTTY no: in tmux, the agent's terminal follows the window"
TS nt1 "$NT_PORT" shell "$H"
tm_wait nt1 "$PROMPT" 20 &&
	tm_type nt1 "$CHECK_TTY" && tm_keys nt1 Enter && tm_wait nt1 "$TTY_RE" &&
	tm_resize nt1 90 28 &&
	tm_type nt1 "$SIZE_CMD" && tm_keys nt1 Enter && tm_wait nt1 'SIZE=28 90' &&
	tm_type nt1 'exit 2' && tm_keys nt1 Enter || true
tm_rc nt1
exp_rc 2
exp_sane nt1
tm_stop nt1
tend

tcase "usage: bad -e, --json, --no-agent with --local"
R "$OS_PORT" shell -e xy "$H"
exp_rc 2
exp_err_match "bad escape character"
R "$OS_PORT" --json shell "$H"
exp_rc 2
remowt_run --local shell --no-agent
exp_rc 2
remowt_run --local --json exec -t -- true
exp_rc 2
tend
