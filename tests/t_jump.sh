#!/bin/bash
# t_jump.sh - reaching a host through jump hosts (-J, ProxyJump) and
# through a ProxyCommand, against real sshd and dropbear: one and two
# hops, ProxyJump from the config file, host keys checked at every hop,
# jumps that fail (closed port, silent peer, forwarding refused, login
# refused) ending quickly with a message, and 10 MiB through a jump.
#
# That a hop was really used is read from the servers' logs: sshd at
# DEBUG1 logs each direct-tcpip request with its target port, dropbear
# logs each login.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/servers.sh"
require_remowt
require_cmd socat python3
rig_init
TMO=${JUMP_TMO:-60}

unset SSH_AUTH_SOCK SSH_AGENT_PID SSH_ASKPASS SSH_ASKPASS_REQUIRE
export HOME=$T/client
mkdir -m 0700 "$HOME"

start_sshd target VERBOSE || exit 1
TP=$SRV_PORT
TKEYS=$SRV_HOSTKEYS
start_sshd jump1 DEBUG1 || exit 1
J1=$SRV_PORT
J1KEYS=$SRV_HOSTKEYS
J1LOG=$SRV_LOG
start_dropbear dbjump || exit 1
DB=$SRV_PORT
DBKEYS=$SRV_HOSTKEYS
DBLOG=$SRV_LOG
# a dropbear that refuses port forwarding (-j)
start_dropbear nofwd -j || exit 1
NF=$SRV_PORT
NFKEYS=$SRV_HOSTKEYS
for p in "$TP $TKEYS" "$J1 $J1KEYS" "$DB $DBKEYS" "$NF $NFKEYS"; do
	# shellcheck disable=SC2086
	kh_add $p
done
CLOSED=$(free_port)
R=root@127.0.0.1

# J ARGS...: remowt sh with the rig's options and key
J() {
	remowt_run sh "${COMMON[@]}" "${KEY[@]}" "$@"
}

# JK KNOWN_HOSTS ARGS...: the same with another known_hosts file
JK() {
	local kh=$1
	shift
	remowt_run sh -F "$T/ssh_config" -o "UserKnownHostsFile=$kh" \
		-o StrictHostKeyChecking=yes "${KEY[@]}" "$@"
}

# mark LOG / new_since LOG MARK: the part of a log written after MARK
mark() { wc -c <"$1"; }
new_since() { tail -c +$(($2 + 1)) "$1"; }

# exp_forwarded LOGMARK PORT: sshd jump1 opened a direct-tcpip channel
# to 127.0.0.1:PORT since LOGMARK (sshd may log a moment later)
exp_forwarded() {
	local i
	for i in $(seq 50); do
		if new_since "$J1LOG" "$1" | tr -d '\r' |
			grep -aqE "server_request_direct_tcpip: .*target 127\.0\.0\.1 port $2\$"; then
			return 0
		fi
		sleep 0.1
	done
	fail "jump1's log shows no direct-tcpip to port $2"
}

# exp_db_login LOGMARK: dropbear dbjump accepted a login since LOGMARK
exp_db_login() {
	local i
	for i in $(seq 50); do
		if new_since "$DBLOG" "$1" | grep -aq "auth succeeded for 'root'"; then
			return 0
		fi
		sleep 0.1
	done
	fail "dbjump's log shows no login"
}

# exp_one_line ERE WHAT: exit 255 with one line on stderr matching ERE
exp_one_line() {
	exp_rc 255
	exp_out_empty
	exp_err_lines 1
	exp_err_match "$1" "$2"
}

# exp_hop_failure PORT ERE WHAT [OTHER-ERE]: exit 255, nothing on stdout,
# and a line that names the hop [127.0.0.1]:PORT says ERE.  Other lines
# may only be those of the connections through that hop pointing back
# to it ("see above"), or match OTHER-ERE.
exp_hop_failure() {
	local port=$1 re=$2 what=$3 other=${4:-see above} rest
	exp_rc 255
	exp_out_empty
	if ! grep -aqiE "^remowt: \[127\.0\.0\.1\]:$port: .*($re)" "$T/err"; then
		fail "no message names the hop [127.0.0.1]:$port with $what: '$(_oneline <"$T/err")'"
	fi
	rest=$(grep -avE "^remowt: \[127\.0\.0\.1\]:$port: " "$T/err" | grep -aviE -- "$other" || true)
	if [ -n "$rest" ]; then
		fail "other messages besides the failing hop's: '$(printf '%s' "$rest" | _oneline)'"
	fi
}

# ---- one and two hops ---------------------------------------------------------------

tcase "-J root@127.0.0.1:DBPORT (dropbear) reaches the sshd target"
m=$(mark "$DBLOG")
J -J "$R:$DB" -p "$TP" "$R" 'id -un; echo "$SSH_CONNECTION" | cut -d" " -f4'
exp_rc 0
exp_out_str $'root\n'"$TP"$'\n'
exp_err_empty
exp_db_login "$m"
tend

tcase "-J root@127.0.0.1:SSHDPORT reaches the dropbear target"
m=$(mark "$J1LOG")
J -J "$R:$J1" -p "$DB" "$R" 'echo through'
exp_rc 0
exp_out_str $'through\n'
exp_forwarded "$m" "$DB"
tend

tcase "two hops: -J sshd,dropbear to the sshd target"
m=$(mark "$J1LOG")
m2=$(mark "$DBLOG")
J -v -J "$R:$J1,$R:$DB" -p "$TP" "$R" 'echo two hops'
exp_rc 0
exp_out_str $'two hops\n'
exp_forwarded "$m" "$DB"
exp_db_login "$m2"
exp_err_match "connecting through $R:$J1,$R:$DB" "the jump list in -v"
tend

tcase "a jump given as ssh://user@host:port"
m=$(mark "$DBLOG")
J -J "ssh://$R:$DB" -p "$TP" "$R" 'echo ok'
exp_rc 0
exp_out_str $'ok\n'
exp_db_login "$m"
tend

# ---- ProxyJump in the config file -----------------------------------------------------

cat >"$T/jump.conf" <<EOF
Host jumpbox
	HostName 127.0.0.1
	Port $DB
	User root
Host inner
	HostName 127.0.0.1
	Port $TP
	User root
	ProxyJump jumpbox
Host inner-direct-blocked
	HostName 127.0.0.1
	Port $TP
	User root
	ProxyJump root@127.0.0.1:$CLOSED
EOF
JC=(-F "$T/jump.conf" -o "UserKnownHostsFile=$T/known_hosts" -o StrictHostKeyChecking=yes
	"${KEY[@]}")

tcase "ProxyJump in the config file, the jump host an alias of the same file"
m=$(mark "$DBLOG")
remowt_run sh "${JC[@]}" inner 'echo via config'
exp_rc 0
exp_out_str $'via config\n'
exp_db_login "$m"
tend

tcase "-o ProxyJump=none on the command line beats the file"
remowt_run sh "${JC[@]}" -o ProxyJump=none inner-direct-blocked 'echo direct'
exp_rc 0
exp_out_str $'direct\n'
tend

tcase "-J on the command line beats ProxyJump in the file"
m=$(mark "$DBLOG")
remowt_run sh "${JC[@]}" -J "$R:$DB" inner-direct-blocked 'echo jumped'
exp_rc 0
exp_out_str $'jumped\n'
exp_db_login "$m"
tend

# ---- host keys at every hop -----------------------------------------------------------

# known_hosts files with one server left out
: >"$T/kh.nojump"
kh_add "$TP" "$TKEYS" "$T/kh.nojump"
: >"$T/kh.notarget"
kh_add "$DB" "$DBKEYS" "$T/kh.notarget"
# and one where the jump host's keys are another server's
: >"$T/kh.wrongjump"
kh_add "$TP" "$TKEYS" "$T/kh.wrongjump"
sed "s/^/[127.0.0.1]:$DB /" "$J1KEYS" >>"$T/kh.wrongjump"

tcase "unknown jump host, StrictHostKeyChecking=yes: 255 naming the jump host, nothing run"
JK "$T/kh.nojump" -J "$R:$DB" -p "$TP" "$R" "touch $T/ran.1"
exp_hop_failure "$DB" 'not known|unknown' "the unknown host key"
[ ! -e "$T/ran.1" ] || fail "the remote command ran"
tend

tcase "jump host with a changed key: 255 naming the jump host, nothing run"
JK "$T/kh.wrongjump" -J "$R:$DB" -p "$TP" "$R" "touch $T/ran.2"
exp_hop_failure "$DB" 'mismatch|changed' "the changed key" 'see above|WARNING|intercepting|known .* key|offered .* key'
[ ! -e "$T/ran.2" ] || fail "the remote command ran"
tend

tcase "known jump host, unknown target: 255 naming the target, nothing run"
JK "$T/kh.notarget" -J "$R:$DB" -p "$TP" "$R" "touch $T/ran.3"
exp_one_line "\[127\.0\.0\.1\]:$TP: .*(not known|unknown)" "the target [127.0.0.1]:$TP's unknown key"
[ ! -e "$T/ran.3" ] || fail "the remote command ran"
tend

# ---- jumps that fail: quickly, with a message ----------------------------------------

tcase "jump to a closed port: 255 within 15 s, with a message"
J -J "$R:$CLOSED" -p "$TP" "$R" 'echo should not run'
exp_hop_failure "$CLOSED" 'refused' "the refused connection"
exp_secs_le 15
tend

tcase "jump fine, target port closed: 255 within 15 s, with a message"
J -J "$R:$DB" -p "$CLOSED" "$R" 'echo should not run'
exp_hop_failure "$DB" "refused|$CLOSED" "the refused channel"
exp_secs_le 15
tend

tcase "a jump host that forbids forwarding (dropbear -j): 255 within 15 s, with a message"
J -J "$R:$NF" -p "$TP" "$R" 'echo should not run'
exp_hop_failure "$NF" 'forward|refused|prohibited|channel' "the refused channel"
exp_secs_le 15
tend

tcase "a jump host that refuses the login: 255 within 15 s naming the jump host"
J -J "nosuchuser@127.0.0.1:$DB" -p "$TP" "$R" 'echo should not run'
exp_hop_failure "$DB" 'denied' "the refused login"
exp_secs_le 15
tend

tcase "second of two hops closed: 255 within 15 s"
J -J "$R:$J1,$R:$CLOSED" -p "$TP" "$R" 'echo should not run'
exp_hop_failure "$J1" "refused|$CLOSED" "the refused channel"
exp_secs_le 15
tend

# a jump that accepts TCP but never speaks: ConnectTimeout must reach it
mkdir -p "$T/silent"
LIFETIME=300 bg_start "$T/silent/stderr" python3 "$TESTS_DIR/evilpeer.py" \
	serve silent "$T/silent/port" "$T/silent/log"
for i in $(seq 100); do
	[ -s "$T/silent/port" ] && break
	sleep 0.05
done
tcase "ConnectTimeout=3 reaches a jump host that never speaks: 255 within 15 s"
if [ ! -s "$T/silent/port" ]; then
	fail "the silent peer did not start"
else
	SP=$(cat "$T/silent/port")
	J -o ConnectTimeout=3 -J "$R:$SP" -p "$TP" "$R" 'echo should not run'
	exp_hop_failure "$SP" 'timed out' "the time-out" "see above|timed out"
	exp_secs_le 15
fi
tend

# ---- ProxyCommand ------------------------------------------------------------------------

tcase "-o ProxyCommand='socat - TCP:%h:%p'"
J -v -o 'ProxyCommand=socat - TCP:%h:%p' -p "$TP" "$R" 'echo proxied'
exp_rc 0
exp_out_str $'proxied\n'
exp_err_match 'connecting through ProxyCommand' "the ProxyCommand in -v"
tend

# a wrapper that records how it was called, then does the same
cat >"$T/pc.sh" <<EOF
#!/bin/sh
echo "\$*" >>"$T/pc.log"
exec socat - "TCP:\$1:\$2"
EOF
chmod 0755 "$T/pc.sh"
cat >"$T/pc.conf" <<EOF
Host pc-target
	HostName 127.0.0.1
	Port $TP
	User root
	ProxyCommand $T/pc.sh %h %p
EOF

tcase "ProxyCommand in the config file, %h and %p expanded"
: >"$T/pc.log"
remowt_run sh -F "$T/pc.conf" -o "UserKnownHostsFile=$T/known_hosts" \
	-o StrictHostKeyChecking=yes "${KEY[@]}" pc-target 'echo proxied'
exp_rc 0
exp_out_str $'proxied\n'
exp_eq "the proxy command's arguments" "127.0.0.1 $TP" "$(cat "$T/pc.log")"
tend

tcase "a ProxyCommand that fails: 255 within 15 s, with a message"
J -o 'ProxyCommand=false' -p "$TP" "$R" 'echo should not run'
exp_rc 255
exp_out_empty
exp_err_lines 1
exp_secs_le 15
tend

# ---- bulk data through jumps -----------------------------------------------------------------

head -c $((10 * 1024 * 1024)) /dev/urandom >"$T/in10"

tcase "10 MiB through a jump (dropbear) and back, sha256 equal"
IN=$T/in10 OUT=$T/out10 TMO=180 J -J "$R:$DB" -p "$TP" "$R" cat
exp_rc 0
exp_same_sha "$T/in10" "$T/out10" "stdout"
exp_err_empty
tend

tcase "10 MiB through two hops (sshd, dropbear), checksummed remotely"
IN=$T/in10 TMO=180 J -J "$R:$J1,$R:$DB" -p "$TP" "$R" sha256sum
exp_rc 0
exp_out_str "$(sha "$T/in10")  -"$'\n'
tend

tcase "10 MiB through a ProxyCommand and back, sha256 equal"
IN=$T/in10 OUT=$T/out10 TMO=180 J -o 'ProxyCommand=socat - TCP:%h:%p' -p "$TP" "$R" cat
exp_rc 0
exp_same_sha "$T/in10" "$T/out10" "stdout"
tend
rm -f "$T/out10"
