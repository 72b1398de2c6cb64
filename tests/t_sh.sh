#!/bin/bash
# t_sh.sh - `remowt sh` against real servers (OpenSSH sshd and dropbear):
# stdio byte for byte, exit statuses, signals, bulk data, destination
# forms and failures.  SLOW=1 adds > 1 GiB transfers that cross a rekey.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/servers.sh"
require_remowt
rig_init

SERVERS=()
if start_sshd openssh DEBUG1; then
	kh_add "$SRV_PORT" "$SRV_HOSTKEYS"
	PORT_openssh=$SRV_PORT
	LOG_openssh=$SRV_LOG
	SERVERS+=(openssh)
fi
if start_dropbear dropbear; then
	kh_add "$SRV_PORT" "$SRV_HOSTKEYS"
	PORT_dropbear=$SRV_PORT
	SERVERS+=(dropbear)
fi
# an sshd that rekeys every MiB, so a modest transfer crosses many rekeys
# started by the server
if start_sshd rekey DEBUG1 "RekeyLimit 1M"; then
	kh_add "$SRV_PORT" "$SRV_HOSTKEYS"
	PORT_rekey=$SRV_PORT
	LOG_rekey=$SRV_LOG
fi

# test data
printf 'line one\nbinary:\000\001\002\177\200\376\377 \r\n\ttab and no newline at the end' >"$T/bytes"
head -c $((64 * 1024 * 1024)) /dev/urandom >"$T/in64"
head -c $((4 * 1024 * 1024)) /dev/urandom >"$T/in4"
printf 'short input\nwithout final newline' >"$T/small"

# The remote printf gets the same format as the local one above, so the
# two must produce the same bytes.
FMT='line one\nbinary:\000\001\002\177\200\376\377 \r\n\ttab and no newline at the end'

for S in "${SERVERS[@]}"; do
	pv=PORT_$S
	P=${!pv}

	tcase "$S: true: exit 0, no output"
	rsh "$P" true
	exp_rc 0
	exp_out_empty
	exp_err_empty
	tend

	tcase "$S: stdout byte for byte (NUL, high bytes, CR, no final newline)"
	rsh "$P" "printf '$FMT'"
	exp_rc 0
	exp_out_file "$T/bytes"
	exp_err_empty
	tend

	tcase "$S: stderr byte for byte"
	rsh "$P" "printf '$FMT' >&2"
	exp_rc 0
	exp_out_empty
	exp_err_file "$T/bytes"
	tend

	tcase "$S: stdout and stderr kept apart"
	rsh "$P" 'echo out1; echo err1 >&2; printf out2; printf err2 >&2'
	exp_rc 0
	exp_out_str $'out1\nout2'
	exp_err_str $'err1\nerr2'
	tend

	tcase "$S: the line runs through the login shell"
	rsh "$P" 'x="a  b"; printf "[%s]" $x; echo; echo "$HOME"; echo $((6 * 7)) | tr 4 X; exit 0'
	exp_rc 0
	exp_out_str "[a][b]"$'\n'"$T/home/root"$'\n'"X2"$'\n'
	exp_err_empty
	tend

	for code in 1 42 255; do
		tcase "$S: remote exit $code becomes the exit status"
		rsh "$P" "echo before; exit $code"
		exp_rc "$code"
		exp_out_str $'before\n'
		exp_err_empty
		tend
	done

	tcase "$S: remote death by SIGTERM: exit 143 and a message"
	rsh "$P" 'echo alive; kill -TERM $$; echo survived'
	exp_rc 143
	exp_out_str $'alive\n'
	exp_err_match 'TERM|signal' "the signal"
	tend

	tcase "$S: remote death by SIGKILL: exit 137 and a message"
	rsh "$P" 'kill -KILL $$'
	exp_rc 137
	exp_out_empty
	exp_err_match 'KILL|signal' "the signal"
	tend

	tcase "$S: empty stdin reaches the remote as EOF"
	rsh "$P" 'wc -c; echo done'
	exp_rc 0
	exp_out_str $'0\ndone\n'
	exp_err_empty
	tend

	tcase "$S: stdin then EOF, output after the EOF still arrives"
	IN=$T/small rsh "$P" 'cat; echo; echo done'
	exp_rc 0
	exp_out_str $'short input\nwithout final newline\ndone\n'
	tend

	tcase "$S: 64 MiB through stdin and back (cat)"
	IN=$T/in64 OUT=$T/out64 TMO=240 rsh "$P" cat
	exp_rc 0
	exp_same_sha "$T/in64" "$T/out64" "stdout"
	exp_err_empty
	tend
	rm -f "$T/out64"

	tcase "$S: 64 MiB upload, checksummed remotely"
	IN=$T/in64 TMO=240 rsh "$P" 'sha256sum'
	exp_rc 0
	exp_out_str "$(sha "$T/in64")  -"$'\n'
	tend

	tcase "$S: 4 MiB back through stderr"
	IN=$T/in4 OUT=$T/out4 ERR=$T/err4 TMO=120 rsh "$P" 'cat >&2; echo end'
	exp_rc 0
	OUT=$T/out4 exp_out_str $'end\n'
	exp_same_sha "$T/in4" "$T/err4" "stderr"
	tend

	tcase "$S: user@host:port destination"
	remowt_run sh "${COMMON[@]}" "${KEY[@]}" "$RIG_USER@127.0.0.1:$P" 'id -un; echo "$HOME"'
	exp_rc 0
	exp_out_str "$RIG_USER"$'\n'"$T/home/$RIG_USER"$'\n'
	tend

	tcase "$S: ssh://user@host:port destination"
	remowt_run sh "${COMMON[@]}" "${KEY[@]}" "ssh://$RIG_USER@127.0.0.1:$P" 'id -un'
	exp_rc 0
	exp_out_str "$RIG_USER"$'\n'
	tend

	tcase "$S: -p PORT -l USER"
	remowt_run sh "${COMMON[@]}" "${KEY[@]}" -p "$P" -l "$RIG_USER" 127.0.0.1 'id -un'
	exp_rc 0
	exp_out_str "$RIG_USER"$'\n'
	tend

	tcase "$S: -o Port= -o User= -o IdentityFile="
	remowt_run sh "${COMMON[@]}" -o "Port=$P" -o "User=$RIG_USER" \
		-o "IdentityFile=$T/id_ed25519" 127.0.0.1 'id -un'
	exp_rc 0
	exp_out_str "$RIG_USER"$'\n'
	tend

	tcase "$S: host:port with no user logs in as the local user"
	remowt_run sh "${COMMON[@]}" "${KEY[@]}" "127.0.0.1:$P" 'id -un'
	exp_rc 0
	exp_out_str "$(id -un)"$'\n'
	tend

	tcase "$S: a key the server does not know: exit 255, one line"
	remowt_run sh "${COMMON[@]}" -i "$T/id_wrong" -p "$P" root@127.0.0.1 'echo should not run'
	exp_rc 255
	exp_out_empty
	exp_err_lines 1
	exp_err_match 'auth|denied|permission|publickey' "the authentication failure"
	tend

	tcase "$S: an unknown user: exit 255, one line"
	remowt_run sh "${COMMON[@]}" "${KEY[@]}" -p "$P" nosuchuser@127.0.0.1 'echo should not run'
	exp_rc 255
	exp_out_empty
	exp_err_lines 1
	tend
done

# ---- server-initiated rekeys --------------------------------------------

if [ -n "${PORT_rekey:-}" ]; then
	tcase "openssh RekeyLimit 1M: 16 MiB each way across server-initiated rekeys"
	head -c $((16 * 1024 * 1024)) "$T/in64" >"$T/in16"
	before=$(grep -c 'SSH2_MSG_NEWKEYS received' "$LOG_rekey" || true)
	IN=$T/in16 OUT=$T/out16 TMO=120 rsh "$PORT_rekey" cat
	exp_rc 0
	exp_same_sha "$T/in16" "$T/out16" "stdout"
	after=$(grep -c 'SSH2_MSG_NEWKEYS received' "$LOG_rekey" || true)
	if [ $((after - before)) -lt 8 ]; then
		fail "the server logged only $((after - before)) key exchanges"
	fi
	tend
fi

# ---- failures before any server ----------------------------------------

tcase "connection refused: exit 255, one line, at once"
P=$(free_port)
TMO=30 rsh "$P" true
exp_rc 255
exp_out_empty
exp_err_lines 1
exp_secs_le 5
tend

tcase "ConnectTimeout=2 against a peer that never speaks: exit 255 in time"
mkdir -p "$T/silent"
LIFETIME=120 bg_start "$T/silent/stderr" python3 "$TESTS_DIR/evilpeer.py" \
	serve silent "$T/silent/port" "$T/silent/log"
for i in $(seq 100); do
	[ -s "$T/silent/port" ] && break
	sleep 0.05
done
if [ ! -s "$T/silent/port" ]; then
	fail "the silent peer did not start"
else
	TMO=30 rsh "$(cat "$T/silent/port")" true -o ConnectTimeout=2
	exp_rc 255
	exp_out_empty
	exp_err_lines 1
	exp_secs_le 8
fi
tend

tcase "a malformed destination: fails with a message"
remowt_run sh "${COMMON[@]}" "${KEY[@]}" 'ssh://root@127.0.0.1:notaport' true
exp_rc_fail
exp_err_nonempty
tend

# ---- slow: > 1 GiB each way, crossing a rekey -------------------------------

# KEXINITs an sshd at LogLevel DEBUG1 received after authentication
post_auth_kexinits() {
	grep -a 'SSH2_MSG_KEXINIT received' "$1" | grep -vc preauth || true
}

# slow_cat NAME PORT [remowt options...]: 1100 MiB of random data through
# `cat`, both ends checksummed as it streams.
slow_cat() {
	local name=$1 port=$2 mib=1100 gen
	shift 2
	rm -f "$T/fifo"
	mkfifo "$T/fifo"
	sha256sum <"$T/fifo" >"$T/slow.in" &
	gen=$!
	RC=0
	# shellcheck disable=SC2086
	head -c $((mib * 1024 * 1024)) /dev/urandom | tee "$T/fifo" |
		timeout --foreground -k 5 900 $REMOWT_WRAP "$REMOWT" sh "${COMMON[@]}" \
			"${KEY[@]}" "$@" -p "$port" root@127.0.0.1 cat 2>"$T/err" |
		sha256sum >"$T/slow.out" || RC=$?
	wait "$gen" || true
	TIMED_OUT=0
	[ "$RC" != 124 ] || TIMED_OUT=1
	_last_tmo=900
	exp_rc 0
	exp_eq "sha256 of $mib MiB after the round trip" "$(cat "$T/slow.in")" "$(cat "$T/slow.out")"
}

if [ "$SLOW" = 1 ]; then
	if [ -n "${PORT_openssh:-}" ]; then
		tcase "openssh: 1100 MiB through cat, aes256-gcm, rekey started by remowt [slow]"
		before=$(post_auth_kexinits "$LOG_openssh")
		slow_cat openssh "$PORT_openssh" -o Ciphers=aes256-gcm@openssh.com
		# with AES-GCM sshd itself would wait for 64 GiB: the new key
		# exchange can only come from remowt
		after=$(post_auth_kexinits "$LOG_openssh")
		if [ "$after" -le "$before" ]; then
			fail "no key re-exchange in the server log"
		fi
		tend
	fi
	if [ -n "${PORT_dropbear:-}" ]; then
		tcase "dropbear: 1100 MiB through cat across a rekey [slow]"
		slow_cat dropbear "$PORT_dropbear"
		tend
	fi
else
	skip "1100 MiB through cat across a rekey" "slow (SLOW=1 runs it)"
fi
