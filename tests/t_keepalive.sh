#!/bin/bash
# t_keepalive.sh - ServerAliveInterval/ServerAliveCountMax: a server that
# stops answering mid-session is given up on, with a clear message and
# exit 255, within interval x count (plus a little).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/servers.sh"
require_remowt
require_cmd pgrep

rig_init
start_sshd openssh || exit 1
P=$SRV_PORT
kh_add "$P" "$SRV_HOSTKEYS"
SRV=$SRV_PID

# Every process below the server's namespace init but the listener.
sessions() {
	local listener
	listener=$(pgrep -P "$SRV" | head -1)
	pgrep -P "$listener" || true
}

tcase "a server that stops answering is given up on (exit 255)"
(
	rsh "$P" 'sleep 60' -o ServerAliveInterval=1 -o ServerAliveCountMax=2
	exit "$RC"
) &
run=$!
for i in $(seq 100); do [ -n "$(sessions)" ] && break; sleep 0.1; done
sleep 1
frozen=$(sessions)
[ -n "$frozen" ] || fail "no session process to freeze"
t0=$(now_us)
# shellcheck disable=SC2086
kill -STOP $frozen $(for p in $frozen; do pgrep -P "$p"; done) 2>/dev/null
RC=0; wait $run || RC=$?
secs=$((($(now_us) - t0) / 1000000))
# shellcheck disable=SC2086
kill -CONT $frozen 2>/dev/null
exp_rc 255
exp_err_match "not answered|keepalive"
[ "$secs" -le 8 ] || fail "took ${secs}s to give up (interval 1 s x 2)"
tend

tcase "keepalives keep a quiet but live session going"
rsh "$P" 'sleep 4; echo still here' -o ServerAliveInterval=1 \
	-o ServerAliveCountMax=2
exp_rc 0
exp_out_str $'still here\n'
tend
