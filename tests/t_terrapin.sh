#!/bin/bash
# t_terrapin.sh - remowt against scripted hostile peers (tests/evilpeer.py):
# strict KEX (the Terrapin countermeasure) and the version exchange.
. "$(dirname "$0")/lib.sh"
require_remowt
require_cmd python3

PEER=$TESTS_DIR/evilpeer.py
: >"$T/ssh_config"
: >"$T/known_hosts"
OPTS=(-F "$T/ssh_config" -o "UserKnownHostsFile=$T/known_hosts"
	-o StrictHostKeyChecking=yes -o ConnectTimeout=10 -i /dev/null)

# peer MODE: start a peer playing MODE; sets PEER_PORT and PEER_LOG.
_npeer=0
peer() {
	local d i
	_npeer=$((_npeer + 1))
	d=$T/peer$_npeer-$1
	mkdir -p "$d"
	LIFETIME=90 bg_start "$d/stderr" python3 "$PEER" serve "$1" "$d/port" "$d/log"
	for i in $(seq 100); do
		[ -s "$d/port" ] && break
		sleep 0.05
	done
	if [ ! -s "$d/port" ]; then
		not_ok "$SCRIPT: peer $1" "did not start: $(_oneline <"$d/stderr")"
		return 1
	fi
	PEER_PORT=$(cat "$d/port")
	PEER_LOG=$d/log
}

# The peer's log settles a moment after the client has gone.
peer_log_has() { # ERE
	local i
	for i in $(seq 40); do
		grep -qE -- "$1" "$PEER_LOG" && return 0
		sleep 0.05
	done
	return 1
}

# A failure: 255, one line on stderr, nothing on stdout.
exp_failure() {
	exp_rc 255
	exp_err_lines 1
	exp_out_empty
}

# ---- strict KEX -----------------------------------------------------------

peer strict-ignore
tcase "strict kex: SSH_MSG_IGNORE before the KEX reply aborts the connection"
TMO=25 remowt_run sh "${OPTS[@]}" -p "$PEER_PORT" root@127.0.0.1 true
exp_failure
exp_err_match 'strict' "strict KEX"
# the peer holds the connection 10 s: a client that swallowed the IGNORE
# and waited for the KEX reply takes that long
exp_secs_le 8
tend

tcase "strict kex: the client offers kex-strict-c-v00@openssh.com"
if ! peer_log_has '^client-kexinit'; then
	fail "no KEXINIT from the client reached the peer"
elif ! grep -q '^client-kexinit.*kex-strict-c-v00@openssh.com' "$PEER_LOG"; then
	fail "client KEXINIT: $(grep '^client-kexinit' "$PEER_LOG" | head -1)"
fi
tend

peer strict-ignore-first
tcase "strict kex: SSH_MSG_IGNORE before the server's KEXINIT aborts the connection"
TMO=25 remowt_run sh "${OPTS[@]}" -p "$PEER_PORT" root@127.0.0.1 true
exp_failure
exp_err_match 'strict' "strict KEX"
exp_secs_le 8
tend

# ---- version exchange ------------------------------------------------------

peer banner-lines
tcase "banner: text lines before the version line are skipped"
TMO=25 remowt_run sh "${OPTS[@]}" -p "$PEER_PORT" root@127.0.0.1 true
# the peer hangs up after the client's KEXINIT: that is the failure
exp_failure
if ! peer_log_has '^(got-kexinit|no-kexinit)'; then
	fail "the client's KEXINIT never reached the peer (stuck in the banner?)$(_errhint)"
elif ! grep -q '^got-kexinit' "$PEER_LOG"; then
	fail "the client sent no KEXINIT after the version line"
fi
exp_err_nomatch 'banner|version|identification|protocol mismatch' 
tend

peer endless-banner
tcase "banner: endless lines and no version line give a clear error"
TMO=40 remowt_run sh "${OPTS[@]}" -p "$PEER_PORT" root@127.0.0.1 true
exp_failure
exp_secs_le 30
tend

peer long-line
tcase "banner: one endless line without a newline gives a clear error"
TMO=40 remowt_run sh "${OPTS[@]}" -p "$PEER_PORT" root@127.0.0.1 true
exp_failure
exp_secs_le 30
tend

peer garbage
tcase "banner: a peer that is not an SSH server"
TMO=25 remowt_run sh "${OPTS[@]}" -p "$PEER_PORT" root@127.0.0.1 true
exp_failure
exp_secs_le 10
tend
