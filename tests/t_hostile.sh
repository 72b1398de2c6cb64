#!/bin/bash
# t_hostile.sh - remowt against hostile SSH servers (tests/evilpeer.py).
# The peer completes a real key exchange (curve25519-sha256, an ed25519
# host key, strict KEX, each cipher remowt has) and then breaks the rules:
# packet lengths, padding and tags; KEX messages out of order and a
# Terrapin prefix; garbage, endless and overlong banners; a server that
# sends one byte a second or never takes the connection; channel games
# after authentication.  Each must end in one line on stderr naming the
# problem, exit status 255, in bounded time and memory (the client's peak
# RSS is measured).  And a server whose host key changed is sent no
# password and no signature.
. "$(dirname "$0")/lib.sh"
require_remowt
require_cmd python3 ssh-keygen
python3 -c 'import cryptography' 2>/dev/null ||
	bail "python3-cryptography not installed (run tests/deps.sh)"
# GNU time measures the peak RSS: a small program, so what its child
# inherits at fork (and keeps in its maximum across exec) is small too
[ -x /usr/bin/time ] || bail "/usr/bin/time not installed (run tests/deps.sh)"

PEER=$TESTS_DIR/evilpeer.py
# The client's buffers are fixed: the transport's, plus 4 MiB per
# channel stream, touched only as far as data arrives.  Under a
# sanitizer or a wrapper the measurement would be of those: not checked.
RSS_MAX_KB=16384
CHECK_RSS=1
if [ "${SANITIZE:-0}" = 1 ] || [ -n "$REMOWT_WRAP" ]; then
	CHECK_RSS=0
fi
RSS_PEAK=0
RSS_RUNS=0

unset SSH_AUTH_SOCK
export SSH_ASKPASS_REQUIRE=never
ssh-keygen -q -t ed25519 -N '' -C '' -f "$T/hostkey"
ssh-keygen -q -t ed25519 -N '' -C '' -f "$T/newhostkey"
ssh-keygen -q -t ed25519 -N '' -C client -f "$T/id_ed25519"
ssh-keygen -q -t ed25519 -N 'pass phrase' -C client -f "$T/id_locked"
: >"$T/ssh_config"
: >"$T/known_hosts"
BASE=(-F "$T/ssh_config" -o "UserKnownHostsFile=$T/known_hosts"
	-o StrictHostKeyChecking=yes)
# no keys, no prompts: the peers take "none" unless told otherwise
OPTS=("${BASE[@]}" -o BatchMode=yes -o PubkeyAuthentication=no)

# peer MODE: start a peer playing MODE, its host key in known_hosts.
# The peer's host key is $PEER_KEY ($T/hostkey), its cipher $CIPHER and
# MAC $MAC (chacha20-poly1305 when unset); it stops after $PEER_LIFE
# seconds (60).  Sets PEER_PORT, PEER_LOG and PEER_PID.
_npeer=0
PEER_PID=
peer() {
	local d i
	_npeer=$((_npeer + 1))
	d=$T/peer$_npeer-$1
	mkdir -p "$d"
	bg_start "$d/stderr" env LIFETIME="${PEER_LIFE:-60}" PEER_HOSTKEY="${PEER_KEY:-$T/hostkey}" \
		PEER_CIPHER="${CIPHER:-chacha20-poly1305@openssh.com}" \
		PEER_MAC="${MAC:-hmac-sha2-256-etm@openssh.com}" \
		python3 "$PEER" serve "$1" "$d/port" "$d/log"
	PEER_PID=$BG_PID
	for i in $(seq 200); do
		[ -s "$d/port" ] && break
		kill -0 "$PEER_PID" 2>/dev/null || break
		sleep 0.05
	done
	if [ ! -s "$d/port" ]; then
		not_ok "$SCRIPT: peer $1" "did not start: $(_oneline <"$d/stderr")"
		return 1
	fi
	PEER_PORT=$(cat "$d/port")
	PEER_LOG=$d/log
	echo "[127.0.0.1]:$PEER_PORT $(cut -d' ' -f1,2 "$T/hostkey.pub")" \
		>>"$T/known_hosts"
}

peer_stop() {
	[ -z "$PEER_PID" ] || _kill_wait "$PEER_PID"
	PEER_PID=
}

# The peer's log settles a moment after the client has gone.
peer_log_has() { # ERE
	local i
	for i in $(seq 60); do
		grep -qE -- "$1" "$PEER_LOG" && return 0
		sleep 0.05
	done
	return 1
}

# hrun [remowt options...]: `remowt sh ... true` against the peer, with
# ConnectTimeout=$CT (10; empty: none) and its peak RSS in RSS_KB.  The
# first value of an option wins: the caller's come before OPTS.
hrun() {
	local args
	args=("$@")
	[ -z "${CT-10}" ] || args+=(-o "ConnectTimeout=${CT-10}")
	args+=("${OPTS[@]}" -p "$PEER_PORT" root@127.0.0.1 true)
	rm -f "$T/rss"
	if [ "$CHECK_RSS" = 1 ]; then
		REMOWT_WRAP="/usr/bin/time -q -f %M -o $T/rss" remowt_run sh "${args[@]}"
	else
		remowt_run sh "${args[@]}"
	fi
	RSS_KB=$(cat "$T/rss" 2>/dev/null || echo 0)
}

exp_rss() {
	[ "$CHECK_RSS" = 1 ] || return 0
	if [ "$RSS_KB" = 0 ]; then
		fail "peak RSS not measured"
	elif [ "$RSS_KB" -gt "$RSS_MAX_KB" ]; then
		fail "peak RSS ${RSS_KB} KiB, limit ${RSS_MAX_KB} KiB"
	fi
	RSS_RUNS=$((RSS_RUNS + 1))
	[ "$RSS_KB" -le "$RSS_PEAK" ] || RSS_PEAK=$RSS_KB
}

# exp_refused ERE: exit 255, one line on stderr that matches, no output,
# bounded memory
exp_refused() {
	exp_rc 255
	exp_err_lines 1
	exp_err_match "$1"
	exp_out_empty
	exp_rss
}

# hostile NAME MODE ERE [remowt options...]: a case where the client
# must give up at once (the peers hold the connection 10 s after their
# trick, so a client that waits for more is caught too).
hostile() {
	local name=$1 mode=$2 re=$3
	shift 3
	peer "$mode" || return 0
	tcase "$name"
	TMO=20 hrun "$@"
	exp_refused "$re"
	exp_secs_le 8
	tend
	peer_stop
}

# ---- the peer itself ----------------------------------------------------------

for CIPHER in chacha20-poly1305@openssh.com aes256-gcm@openssh.com aes128-ctr; do
	peer serve || continue
	tcase "control: a well-behaved peer, $CIPHER"
	TMO=20 hrun -o PubkeyAuthentication=yes -i "$T/id_ed25519"
	exp_rc 0
	exp_out_str $'hello from evilpeer\n'
	exp_err_empty
	exp_rss
	if ! peer_log_has '^userauth publickey signed'; then
		fail "the peer saw no signed publickey request"
	fi
	tend
	peer_stop
done
CIPHER=

# ---- binary packets before the key exchange --------------------------------

hostile "plain: a packet length over 256 KiB" plain-oversize \
	'bad packet length 262148'
hostile "plain: a packet length of 4 GiB - 4" plain-huge \
	'bad packet length 4294967292'
hostile "plain: padding shorter than 4 bytes" plain-pad-short \
	'bad padding length'
hostile "plain: a length that is not a multiple of the block size" \
	plain-misaligned 'bad packet length'
hostile "banner: text after the version line" banner-then-garbage \
	'bad packet length'
hostile "banner: a version line of 300 bytes" version-too-long \
	'version string too long'
hostile "banner: endless lines, no version" endless-banner \
	'more than 64 lines before its SSH version'
hostile "banner: one endless line" long-line 'overlong line'
hostile "banner: an HTTP server" garbage \
	'closed before the server sent an SSH version'

# ---- binary packets under the new keys ---------------------------------------

for cm in chacha20-poly1305@openssh.com: aes256-gcm@openssh.com: \
	aes128-ctr:hmac-sha2-256-etm@openssh.com aes256-ctr:hmac-sha2-256; do
	CIPHER=${cm%%:*}
	MAC=${cm#*:}
	w=$CIPHER${MAC:+ + $MAC}
	hostile "$w: an encrypted packet length of 2 GiB" enc-oversize \
		'bad packet length 2147483632'
	hostile "$w: padding of 2 bytes, authentic" enc-pad-short \
		'bad padding length'
	hostile "$w: a length not a multiple of the block size, authentic" \
		enc-misaligned 'bad packet length'
	hostile "$w: a wrong ${MAC:+MAC}${MAC:-tag}" enc-bad-tag \
		'message authentication failed'
done
CIPHER=
MAC=

# ---- the key exchange ------------------------------------------------------------

hostile "kex: the KEX reply before the server's KEXINIT" kex-reply-first \
	'KEX message 31 before KEXINIT'
hostile "kex: NEWKEYS instead of the KEX reply" kex-newkeys-early \
	'unexpected NEWKEYS'
hostile "kex: a second KEXINIT instead of the KEX reply" kex-kexinit-twice \
	'unexpected KEXINIT'
hostile "kex: the KEX reply twice" kex-reply-twice 'unexpected KEX reply'
hostile "kex: USERAUTH_SUCCESS during the exchange (strict)" kex-auth-early \
	'strict KEX violation: unexpected message 52'
hostile "kex: USERAUTH_SUCCESS during the exchange (not strict)" \
	kex-auth-early-nonstrict 'unexpected message 52 during key exchange'
hostile "kex: a bad host key signature" kex-bad-signature \
	'host key signature is invalid'
hostile "kex: an all-zero curve25519 public value" kex-zero-point \
	'public value is invalid'
hostile "terrapin: SSH_MSG_IGNORE before NEWKEYS under strict KEX" \
	terrapin-newkeys 'strict KEX violation: unexpected message 2 '

# ---- slow and silent servers ---------------------------------------------------

# slow NAME MODE ERE SECS [CT]: the client must give up at its deadline,
# SECS s, with ConnectTimeout=CT (SECS; empty: none)
slow() {
	local name=$1 mode=$2 re=$3 secs=$4 ct=${5-$4}
	PEER_LIFE=$((secs + 30)) peer "$mode" || return 0
	tcase "$name"
	CT=$ct TMO=$((secs + 30)) hrun
	exp_refused "$re"
	exp_secs_le $((secs + 3))
	if awk -v s="$SECS" -v m="$secs" 'BEGIN { exit !(s < m - 0.5) }'; then
		fail "gave up after ${SECS}s, before its deadline of ${secs}s"
	fi
	tend
	peer_stop
}

slow "slow-loris: the version line one byte a second (ConnectTimeout=3)" \
	slow-version "timed out waiting for the server's SSH version" 3
slow "slow-loris: KEXINIT one byte a second (ConnectTimeout=3)" \
	slow-kexinit 'timed out during the SSH handshake' 3
slow "a server that never answers the exec request (ConnectTimeout=3)" \
	chan-silent 'timed out during the SSH handshake' 3
slow "a connect that is never answered (ConnectTimeout=2)" blackhole \
	'cannot connect to 127.0.0.1 port [0-9]+: connection timed out' 2
if [ "$SLOW" = 1 ]; then
	slow "a connect that is never answered, no ConnectTimeout (60 s)" \
		blackhole 'cannot connect to .*timed out' 60 ''
	slow "slow-loris: the version line one byte a second, no ConnectTimeout (60 s)" \
		slow-version "timed out waiting for the server's SSH version" 60 ''

else
	skip "no ConnectTimeout: a connect never answered, one byte a second" \
		"60 s each; SLOW=1"
fi

# ---- channels, after authentication ---------------------------------------------

hostile "channel: data for a channel never opened" chan-unknown \
	'message 94 for unknown channel 1'
hostile "channel: data for channel 4294967295" chan-unknown-big \
	'message 94 for unknown channel 4294967295'
hostile "channel: a window adjust beyond 2^32 - 1" chan-window-overflow \
	'window adjust.*overflow'
hostile "channel: one byte beyond the window" chan-beyond-window \
	'more than the channel window allows'
hostile "channel: data after EOF" chan-data-after-eof 'data after EOF'
hostile "channel: CLOSE twice" chan-close-twice 'message 97 after channel close'
hostile "channel: data after CLOSE" chan-data-after-close \
	'message 94 after channel close'
hostile "channel: EOF after CLOSE" chan-eof-after-close \
	'message 96 after channel close'
hostile "channel: CLOSE without an exit status" chan-close-no-status \
	'reported no exit status'
hostile "channel: CLOSE instead of the exec reply" chan-close-before-reply \
	'closed the channel'
hostile "channel: a second open confirmation" chan-confirm-twice \
	'channel confirmed twice'
hostile "channel: a reply nobody asked for" chan-unsolicited \
	'unsolicited channel reply'
hostile "channel: the server opens a channel" chan-server-open \
	'tried to open a channel'

if peer chan-window-exact; then
	tcase "channel: exactly the window, unread, is taken whole"
	TMO=20 hrun
	exp_rc 0
	exp_err_empty
	if [ "$(wc -c <"$OUT")" != $((4 * 1024 * 1024)) ] ||
		[ -n "$(tr -d w <"$OUT" | head -c 1)" ]; then
		fail "stdout: $(wc -c <"$OUT") bytes, expected 4 MiB of 'w'"
	fi
	exp_rss
	tend
	peer_stop
fi

# ---- a changed host key --------------------------------------------------------
# The peer offers $T/newhostkey; known_hosts has $T/hostkey for it.  From
# the peer's own log: after the KEX reply the client sends nothing (no
# NEWKEYS, SERVICE_REQUEST or USERAUTH_REQUEST), and the askpass program,
# which would be asked for a password or passphrase, leaves no trace.

cat >"$T/askpass" <<EOF
#!/bin/sh
echo "\$1" >>"$T/askpass.trace"
echo 'pass phrase'
EOF
chmod 0755 "$T/askpass"

# changed NAME [remowt options...]
changed() {
	local name=$1
	shift
	PEER_KEY=$T/newhostkey peer serve || return 0
	tcase "changed host key, $name: no password, no signature"
	rm -f "$T/askpass.trace"
	SSH_ASKPASS=$T/askpass SSH_ASKPASS_REQUIRE=force TMO=20 \
		hrun -o BatchMode=no "$@"
	exp_rc 255
	exp_out_empty
	exp_err_match 'host key of .* has CHANGED'
	exp_err_match "host key mismatch.*remove line [0-9]+ of $T/known_hosts"
	exp_rss
	if ! peer_log_has '^end '; then
		fail "the peer did not see the client go"
	elif ! grep -q '^client-msg 30$' "$PEER_LOG"; then
		fail "the client never reached the key exchange"
	elif grep -qE '^(client-msg (21|5|50)|userauth|newkeys)' "$PEER_LOG"; then
		fail "after the changed host key the client sent: $(grep -E '^(client-msg|userauth)' "$PEER_LOG" | tail -n +3 | tr '\n' ' ')"
	fi
	if [ -e "$T/askpass.trace" ]; then
		fail "SSH_ASKPASS was run for: $(_oneline <"$T/askpass.trace")"
	fi
	tend
	peer_stop
}

# control NAME ERE [remowt options...]: the same with the right host key:
# the peer's log shows what the client sends when all is well.
control() {
	local name=$1 re=$2
	shift 2
	peer serve || return 0
	tcase "control: the right host key, $name"
	rm -f "$T/askpass.trace"
	SSH_ASKPASS=$T/askpass SSH_ASKPASS_REQUIRE=force TMO=20 \
		hrun -o BatchMode=no "$@"
	exp_rc 0
	if ! peer_log_has "$re"; then
		fail "the peer's log has no /$re/"
	fi
	tend
	peer_stop
}

KEYAUTH=(-o PubkeyAuthentication=yes -i "$T/id_ed25519"
	-o PasswordAuthentication=no)
LOCKED=(-o PubkeyAuthentication=yes -i "$T/id_locked"
	-o PasswordAuthentication=no)
PWAUTH=(-o PubkeyAuthentication=no -o PasswordAuthentication=yes)
control "a key" '^userauth publickey signed' "${KEYAUTH[@]}"
control "a key with a passphrase" '^userauth publickey signed' "${LOCKED[@]}"
control "a password" '^userauth password' "${PWAUTH[@]}"
changed "a key" "${KEYAUTH[@]}"
changed "a key with a passphrase" "${LOCKED[@]}"
changed "a password" "${PWAUTH[@]}"

if [ "$CHECK_RSS" = 1 ]; then
	echo "# peak RSS: at most $RSS_PEAK KiB over $RSS_RUNS runs (limit $RSS_MAX_KB KiB)"
fi
