#!/bin/bash
# t_faults.sh - real faults on real servers (sshd and dropbear): the
# server's session killed mid-put, mid-get and mid-exec, a server that
# freezes mid-put (as when a link goes down), a full disk, a read-only
# file system, permission denied, and names with newlines and invalid
# UTF-8.  Each must end in one clear message and the documented exit
# status, with remote and local files whole or absent, and the agent
# gone with its temporary files.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/servers.sh"
require_remowt
require_cmd pgrep mount umount python3

rig_init

# A 1 MiB tmpfs and a read-only view, mounted before the servers start so
# that their private mount namespaces inherit them.
mkdir -p "$T/small" "$T/ro-src" "$T/ro"
mount -t tmpfs -o size=1m,mode=0755 remowt-test-small "$T/small"
mount --bind "$T/ro-src" "$T/ro"
mount -o remount,bind,ro "$T/ro"
trap 'umount -l "$T/small" "$T/ro" 2>/dev/null; _on_exit' EXIT

start_sshd openssh || exit 1
OS_PORT=$SRV_PORT OS_PID=$SRV_PID
kh_add "$OS_PORT" "$SRV_HOSTKEYS"
start_dropbear dropbear || exit 1
DB_PORT=$SRV_PORT DB_PID=$SRV_PID
kh_add "$DB_PORT" "$SRV_HOSTKEYS"

# R PORT ARGS...: remowt with the rig's options; the agent cache is the
# script's own, so its agents can be found by their path.
R() {
	local port=$1
	shift
	remowt_run "${COMMON[@]}" "${KEY[@]}" -p "$port" --cache "$T/cache" \
		-o ServerAliveInterval=1 -o ServerAliveCountMax=3 "$@"
}

# The processes of a server's sessions: the listener's children (one per
# connection) and, for OpenSSH, their unprivileged sshd child; not what
# the sessions run (the agent must notice the loss itself).
session_pids() {
	local listener p
	listener=$(pgrep -P "$1" | head -1) || return 0
	for p in $(pgrep -P "$listener" || true); do
		echo "$p"
		pgrep -P "$p" -x 'sshd|dropbear' || true
	done
}
agents_running() { pgrep -f "^$T/cache/" || true; }

# wait_for COND-COMMAND: up to 10 s for it to succeed.
wait_for() {
	local i
	for i in $(seq 100); do
		eval "$1" && return 0
		sleep 0.1
	done
	return 1
}

# leftovers DIR: names in DIR other than the ones given.
leftovers() {
	local d=$1
	shift
	ls -A "$d" | grep -vxF "$(printf '%s\n' "$@")" || true
}

for S in openssh dropbear; do
	if [ $S = openssh ]; then P=$OS_PORT SPID=$OS_PID; else P=$DB_PORT SPID=$DB_PID; fi
	D=$T/dst-$S
	mkdir -p "$D"

	tcase "$S: session killed mid-put: 255, the old file intact, no temp left"
	echo old >"$D/f"
	rm -f "$T/fifo"
	mkfifo "$T/fifo"
	( IN=$T/fifo OUT=$T/put.out ERR=$T/put.err R "$P" put - "root@127.0.0.1:$D/f"
		echo "$RC" >"$T/put.rc" ) &
	bg=$!
	exec 3>"$T/fifo"
	head -c 1048576 /dev/urandom >&3
	wait_for '[ -n "$(leftovers "$D" f)" ]' || fail "no temporary file appeared"
	# shellcheck disable=SC2046
	kill -KILL $(session_pids "$SPID") 2>/dev/null
	wait "$bg"
	exec 3>&-
	exp_eq "exit status" 255 "$(cat "$T/put.rc")"
	grep -qiE "connection|closed|lost" "$T/put.err" ||
		fail "no clear message: $(_oneline <"$T/put.err")"
	exp_eq "old file" old "$(cat "$D/f")"
	wait_for '[ -z "$(agents_running)" ]' || fail "the agent is still running"
	wait_for '[ -z "$(leftovers "$D" f)" ]' || fail "left behind: $(leftovers "$D" f)"
	tend

	tcase "$S: server frozen mid-put: 255 within the keepalive limit, old file intact"
	( IN=$T/fifo OUT=$T/put.out ERR=$T/put.err R "$P" put - "root@127.0.0.1:$D/f"
		echo "$RC" >"$T/put.rc" ) &
	bg=$!
	exec 3>"$T/fifo"
	head -c 1048576 /dev/urandom >&3
	wait_for '[ -n "$(leftovers "$D" f)" ]' || fail "no temporary file appeared"
	frozen=$(session_pids "$SPID")
	t0=$(now_us)
	# shellcheck disable=SC2086
	kill -STOP $frozen 2>/dev/null
	# the writer stays open: only the keepalives can tell the client
	wait "$bg"
	secs=$((($(now_us) - t0) / 1000000))
	exec 3>&-
	# shellcheck disable=SC2086
	kill -CONT $frozen 2>/dev/null
	exp_eq "exit status" 255 "$(cat "$T/put.rc")"
	grep -qiE "not answered|keepalive" "$T/put.err" ||
		fail "no clear message: $(_oneline <"$T/put.err")"
	[ "$secs" -le 8 ] || fail "took ${secs}s to give up (1 s x 3)"
	exp_eq "old file" old "$(cat "$D/f")"
	wait_for '[ -z "$(agents_running)" ]' || fail "the agent is still running"
	wait_for '[ -z "$(leftovers "$D" f)" ]' || fail "left behind: $(leftovers "$D" f)"
	tend

	tcase "$S: session killed mid-get: 255, no file and no temp left here"
	truncate -s 512M "$D/big"
	mkdir -p "$T/local-$S"
	( OUT=$T/get.out ERR=$T/get.err TMO=60 R "$P" get "root@127.0.0.1:$D/big" \
		"$T/local-$S/big"; echo "$RC" >"$T/get.rc" ) &
	bg=$!
	wait_for '[ -n "$(ls -A "$T/local-$S")" ]' || fail "no temporary file appeared"
	# shellcheck disable=SC2046
	kill -KILL $(session_pids "$SPID") 2>/dev/null
	wait "$bg"
	rm -f "$D/big"
	if [ "$(cat "$T/get.rc")" = 0 ]; then
		fail "the get finished before the session was killed"
	else
		exp_eq "exit status" 255 "$(cat "$T/get.rc")"
		exp_eq "local directory" "" "$(ls -A "$T/local-$S")"
	fi
	wait_for '[ -z "$(agents_running)" ]' || fail "the agent is still running"
	tend

	tcase "$S: session killed mid-exec: 255, the remote program ended too"
	marker=remowt-fault-$S-$$
	( OUT=$T/exec.out ERR=$T/exec.err R "$P" exec root@127.0.0.1 -- \
		sh -c "sleep 60; : $marker"; echo "$RC" >"$T/exec.rc" ) &
	bg=$!
	wait_for 'pgrep -xf "sh -c sleep 60; : $marker" >/dev/null' || fail "the program never started"
	# shellcheck disable=SC2046
	kill -KILL $(session_pids "$SPID") 2>/dev/null
	wait "$bg"
	exp_eq "exit status" 255 "$(cat "$T/exec.rc")"
	wait_for '! pgrep -xf "sh -c sleep 60; : $marker" >/dev/null' || fail "the remote program lives on"
	wait_for '[ -z "$(agents_running)" ]' || fail "the agent is still running"
	tend

	tcase "$S: session killed while a program floods stdout: it ends too"
	marker=remowt-flood-$S-$$
	( OUT=/dev/null ERR=$T/exec.err R "$P" exec root@127.0.0.1 -- \
		sh -c "yes; : $marker"; echo "$RC" >"$T/exec.rc" ) &
	bg=$!
	wait_for 'pgrep -xf "sh -c yes; : $marker" >/dev/null' || fail "the program never started"
	sleep 0.5
	# shellcheck disable=SC2046
	kill -KILL $(session_pids "$SPID") 2>/dev/null
	wait "$bg"
	exp_eq "exit status" 255 "$(cat "$T/exec.rc")"
	wait_for '! pgrep -xf "sh -c yes; : $marker" >/dev/null' || fail "the remote program lives on"
	wait_for '[ -z "$(agents_running)" ]' || fail "the agent is still running"
	pkill -KILL -f "sh -c yes; : $marker" || true
	tend

	tcase "$S: a full disk: exit 1, ENOSPC named, the old file intact, no temp"
	echo old >"$T/small/f"
	head -c 2000000 /dev/urandom >"$T/two-megs"
	R "$P" put "$T/two-megs" "root@127.0.0.1:$T/small/f"
	exp_rc 1
	exp_err_match "$T/small/f: No space left on device"
	exp_eq "old file" old "$(cat "$T/small/f")"
	exp_eq "left behind" "" "$(leftovers "$T/small" f)"
	tend

	tcase "$S: a read-only file system: exit 1, EROFS named"
	R "$P" put "$T/two-megs" "root@127.0.0.1:$T/ro/f"
	exp_rc 1
	exp_err_match "Read-only file system"
	R "$P" mkdir "root@127.0.0.1:$T/ro/d"
	exp_rc 1
	exp_err_match "$T/ro/d: Read-only file system"
	exp_eq "nothing written" "" "$(ls -A "$T/ro-src")"
	tend

	tcase "$S: permission denied: exit 1, EACCES named, nothing written"
	mkdir -p "$T/rootonly-$S"
	chmod 0755 "$T/rootonly-$S"
	remowt_run "${COMMON[@]}" "${KEY[@]}" -p "$P" put "$T/two-megs" \
		"$RIG_USER@127.0.0.1:$T/rootonly-$S/f"
	exp_rc 1
	exp_err_match "Permission denied"
	exp_eq "nothing written" "" "$(ls -A "$T/rootonly-$S")"
	tend

	tcase "$S: names with a newline and invalid UTF-8 round trip"
	odd=$(printf 'new\nline \377\376 end')
	printf 'odd\n' >"$T/oddsrc"
	R "$P" put "$T/oddsrc" "root@127.0.0.1:$D/$odd"
	exp_rc 0
	exp_eq "on the server" odd "$(cat "$D/$odd" 2>&1)"
	R "$P" --json ls "root@127.0.0.1:$D"
	exp_rc 0
	# \udcXX in the JSON stands for byte XX, as Python's surrogateescape
	python3 -c '
import json, os, sys
names = [json.loads(l)["name"] for l in open(sys.argv[1])]
sys.exit(0 if any(os.fsencode(n) == os.fsencode(sys.argv[2]) for n in names) else 1)' \
		"$T/out" "$odd" 2>/dev/null || fail "ls --json does not show the name: $(_oneline <"$T/out")"
	rm -f "$T/oddback"
	R "$P" get "root@127.0.0.1:$D/$odd" "$T/oddback"
	exp_rc 0
	exp_eq "back here" odd "$(cat "$T/oddback" 2>&1)"
	R "$P" rm "root@127.0.0.1:$D/$odd"
	exp_rc 0
	[ ! -e "$D/$odd" ] || fail "rm left it"
	tend
done
