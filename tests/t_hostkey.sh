#!/bin/bash
# t_hostkey.sh - host key checking against known_hosts: unknown, accepted,
# changed, hashed, revoked and several keys per host.  The sshd logs at
# DEBUG1, so a test can tell that no authentication was attempted after a
# refused host key.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/servers.sh"
require_remowt
rig_init
require_cmd setsid

start_sshd openssh DEBUG1 || exit 1
P=$SRV_PORT
SD=$SRV_DIR
SLOG=$SRV_LOG
HOST="[127.0.0.1]:$P"

# an old ed25519 host key, for "changed key" cases
ssh-keygen -q -t ed25519 -N '' -C '' -f "$T/old_host_key"
OLD_PUB=$(cut -d' ' -f1,2 "$T/old_host_key.pub")
ED_PUB=$(cut -d' ' -f1,2 "$SD/ssh_host_ed25519_key.pub")
EC_PUB=$(cut -d' ' -f1,2 "$SD/ssh_host_ecdsa_key.pub")
RSA_PUB=$(cut -d' ' -f1,2 "$SD/ssh_host_rsa_key.pub")
fp() { ssh-keygen -lf "$1" | awk '{ print $2 }'; }
ED_FP=$(fp "$SD/ssh_host_ed25519_key.pub")
OLD_FP=$(fp "$T/old_host_key.pub")

# hk KNOWN_HOSTS CMD [options...]: remowt sh with that known_hosts file
# and no terminal (a new session, so no controlling tty either)
hk() {
	local kh=$1 cmd=$2
	shift 2
	REMOWT_WRAP="setsid -w $REMOWT_WRAP" remowt_run sh -F "$T/ssh_config" \
		-o "UserKnownHostsFile=$kh" "${KEY[@]}" "$@" -p "$P" root@127.0.0.1 "$cmd"
}

# log_mark / log_new MARK: the part of the sshd log written after MARK,
# once the server has noticed that the connection ended; in $T/lognew
log_mark() { wc -c <"$SLOG"; }
log_new() {
	local i
	for i in $(seq 60); do
		tail -c +$(($1 + 1)) "$SLOG" >"$T/lognew"
		if grep -aqE 'Connection closed|Disconnected from|Connection reset|Received disconnect|kex_exchange_identification|banner exchange' "$T/lognew"; then
			break
		fi
		sleep 0.05
	done
}

# exp_no_auth MARK: the server saw no authentication attempt since MARK
exp_no_auth() {
	log_new "$1"
	if grep -aqE 'userauth-request|Accepted|Failed publickey|Postponed' "$T/lognew"; then
		fail "the client went on to authenticate after the host key was refused: $(grep -aE 'userauth-request|Accepted|Failed' "$T/lognew" | head -1 | _oneline)"
	fi
}

# exp_not_ran FILE: the remote command (which touches FILE) did not run
exp_not_ran() {
	if [ -e "$1" ]; then
		fail "the remote command ran"
	fi
}

# ---- unknown host --------------------------------------------------------------

: >"$T/kh.empty"
tcase "unknown host, StrictHostKeyChecking=yes: refused, exit 255"
m=$(log_mark)
hk "$T/kh.empty" "touch $T/ran.1" -o StrictHostKeyChecking=yes
exp_rc 255
exp_out_empty
exp_err_match 'host key|known|authenticity|verif' "the unknown host key"
exp_no_auth "$m"
exp_not_ran "$T/ran.1"
if [ -s "$T/kh.empty" ]; then
	fail "known_hosts was written"
fi
tend

tcase "unknown host, StrictHostKeyChecking=ask without a terminal: refused, exit 255"
m=$(log_mark)
hk "$T/kh.empty" "touch $T/ran.2" -o StrictHostKeyChecking=ask
exp_rc 255
exp_out_empty
exp_err_nonempty
exp_no_auth "$m"
exp_not_ran "$T/ran.2"
if [ -s "$T/kh.empty" ]; then
	fail "known_hosts was written"
fi
tend

# ---- accept-new -------------------------------------------------------------

tcase "accept-new: an unknown host is accepted and its key recorded"
m=$(log_mark)
hk "$T/kh.new" 'echo hello' -o StrictHostKeyChecking=accept-new
exp_rc 0
exp_out_str $'hello\n'
if [ ! -s "$T/kh.new" ]; then
	fail "nothing recorded in known_hosts"
else
	# ssh-keygen -F finds plain and hashed entries alike
	rec=$(ssh-keygen -F "$HOST" -f "$T/kh.new" 2>/dev/null | grep -v '^#' | awk '{ print $2, $3 }' || true)
	if [ -z "$rec" ]; then
		fail "no entry for $HOST: '$(_oneline <"$T/kh.new")'"
	elif ! grep -qxF -- "$rec" "$SD/hostkeys.pub"; then
		fail "recorded key is not one of the server's: '$rec'"
	fi
fi
# the control for exp_no_auth: a login does show up in the server log
log_new "$m"
if ! grep -aq 'userauth-request' "$T/lognew"; then
	fail "the server log shows no userauth-request for a login (is it at DEBUG1?)"
fi
tend

tcase "accept-new: the next login works with StrictHostKeyChecking=yes"
cp "$T/kh.new" "$T/kh.new.before"
hk "$T/kh.new" 'echo again' -o StrictHostKeyChecking=yes
exp_rc 0
exp_out_str $'again\n'
if ! cmp -s "$T/kh.new" "$T/kh.new.before"; then
	fail "known_hosts changed on a known host"
fi
tend

tcase "accept-new: the file is created when missing"
mkdir -p "$T/sub"
hk "$T/sub/known_hosts" 'echo created' -o StrictHostKeyChecking=accept-new
exp_rc 0
exp_out_str $'created\n'
if [ ! -s "$T/sub/known_hosts" ]; then
	fail "$T/sub/known_hosts not written"
fi
tend

# ---- changed key -----------------------------------------------------------

{
	echo "# a comment line"
	echo "[127.0.0.1]:1 $ED_PUB"
	echo "$HOST $OLD_PUB"
} >"$T/kh.changed"
cp "$T/kh.changed" "$T/kh.changed.orig"

for mode in yes accept-new no; do
	tcase "changed key, StrictHostKeyChecking=$mode: refused, both fingerprints and file:line, nothing sent after"
	m=$(log_mark)
	hk "$T/kh.changed" "touch $T/ran.c.$mode" -o "StrictHostKeyChecking=$mode" \
		-o HostKeyAlgorithms=ssh-ed25519
	exp_rc 255
	exp_out_empty
	if ! grep -aqF -- "$ED_FP" "$ERR"; then
		fail "stderr lacks the server key's fingerprint $ED_FP$(_errhint)"
	fi
	if ! grep -aqF -- "$OLD_FP" "$ERR"; then
		fail "stderr lacks the known key's fingerprint $OLD_FP$(_errhint)"
	fi
	if ! grep -aqF -- "$T/kh.changed:3" "$ERR"; then
		fail "stderr lacks the old entry's place $T/kh.changed:3$(_errhint)"
	fi
	exp_no_auth "$m"
	exp_not_ran "$T/ran.c.$mode"
	if ! cmp -s "$T/kh.changed" "$T/kh.changed.orig"; then
		fail "known_hosts was modified"
	fi
	tend
done

# ---- hashed entries -----------------------------------------------------------

{
	echo "$HOST $ED_PUB"
	echo "$HOST $EC_PUB"
	echo "$HOST $RSA_PUB"
} >"$T/kh.hashed"
ssh-keygen -q -H -f "$T/kh.hashed" >/dev/null 2>&1
rm -f "$T/kh.hashed.old"

tcase "hashed known_hosts entries (ssh-keygen -H) are matched"
if grep -qF '127.0.0.1' "$T/kh.hashed"; then
	fail "rig: ssh-keygen -H did not hash the file"
fi
hk "$T/kh.hashed" 'echo hashed' -o StrictHostKeyChecking=yes
exp_rc 0
exp_out_str $'hashed\n'
tend

echo "$HOST $OLD_PUB" >"$T/kh.hashed-changed"
ssh-keygen -q -H -f "$T/kh.hashed-changed" >/dev/null 2>&1
rm -f "$T/kh.hashed-changed.old"
tcase "a hashed entry with a changed key is refused"
m=$(log_mark)
hk "$T/kh.hashed-changed" "touch $T/ran.h" -o StrictHostKeyChecking=yes \
	-o HostKeyAlgorithms=ssh-ed25519
exp_rc 255
exp_no_auth "$m"
exp_not_ran "$T/ran.h"
tend

# ---- @revoked --------------------------------------------------------------

{
	echo "$HOST $ED_PUB"
	echo "@revoked * $ED_PUB"
} >"$T/kh.revoked"
tcase "a key marked @revoked is refused even though it is also known"
m=$(log_mark)
hk "$T/kh.revoked" "touch $T/ran.r" -o StrictHostKeyChecking=yes \
	-o HostKeyAlgorithms=ssh-ed25519
exp_rc 255
exp_out_empty
exp_err_match 'revoked' "the revocation"
exp_no_auth "$m"
exp_not_ran "$T/ran.r"
tend

tcase "a key marked @revoked is refused with accept-new too"
hk "$T/kh.revoked" "touch $T/ran.r2" -o StrictHostKeyChecking=accept-new \
	-o HostKeyAlgorithms=ssh-ed25519
exp_rc 255
exp_not_ran "$T/ran.r2"
tend

# ---- several keys per host ----------------------------------------------------

{
	echo "other.example.org $OLD_PUB"
	echo "$HOST $ED_PUB"
	echo "$HOST $EC_PUB"
	echo "$HOST $RSA_PUB"
} >"$T/kh.multi"
for alg in ssh-ed25519 ecdsa-sha2-nistp256 rsa-sha2-512 rsa-sha2-256; do
	tcase "several keys for one host: $alg matches its own entry"
	hk "$T/kh.multi" 'echo multi' -o StrictHostKeyChecking=yes -o "HostKeyAlgorithms=$alg"
	exp_rc 0
	exp_out_str $'multi\n'
	tend
done

{
	echo "$HOST $OLD_PUB"
	echo "$HOST $ED_PUB"
} >"$T/kh.two-ed"
tcase "two ed25519 keys listed for one host: the matching one is accepted"
hk "$T/kh.two-ed" 'echo two' -o StrictHostKeyChecking=yes -o HostKeyAlgorithms=ssh-ed25519
exp_rc 0
exp_out_str $'two\n'
tend

echo "other.example.org,$HOST $ED_PUB" >"$T/kh.list"
tcase "an entry naming several hosts (comma list) matches"
hk "$T/kh.list" 'echo list' -o StrictHostKeyChecking=yes -o HostKeyAlgorithms=ssh-ed25519
exp_rc 0
exp_out_str $'list\n'
tend
