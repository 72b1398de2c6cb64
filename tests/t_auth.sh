#!/bin/bash
# t_auth.sh - user authentication against real sshd and dropbear:
# passwords from SSH_ASKPASS, key types and formats, passphrases,
# default identities, a real ssh-agent (including one that refuses to
# sign) and OpenSSH user certificates.
#
# Every run has no controlling terminal (setsid), an empty HOME of its
# own unless a case sets one, and no SSH_AUTH_SOCK unless a case gives
# one, so nothing of the machine's own (keys, agent, ~/.ssh) takes part.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/servers.sh"
require_remowt
require_cmd setsid ssh-agent ssh-add openssl
rig_init
TMO=${AUTH_TMO:-60}

unset SSH_AUTH_SOCK SSH_AGENT_PID SSH_ASKPASS SSH_ASKPASS_REQUIRE DISPLAY \
	WAYLAND_DISPLAY
export HOME=$T/client
mkdir -m 0700 "$HOME"

PW='Corr3ct horse#battery'     # rwtest's password on both servers
PP='pass phrase'               # passphrase of the protected keys

# ---- keys ----------------------------------------------------------------------

# key NAME SSH-KEYGEN-OPTIONS...: a key $T/NAME (+ .pub), comment NAME
key() {
	local n=$1
	shift
	ssh-keygen -q -N '' -C "$n" -f "$T/$n" "$@" </dev/null >/dev/null ||
		bail "ssh-keygen $n $*"
}
key k_ed25519 -t ed25519
key k_ecdsa -t ecdsa -b 256
key k_rsa -t rsa -b 3072
key k_pem_rsa -t rsa -b 2048 -m PEM
key k_pem_ecdsa -t ecdsa -b 256 -m PEM
key k_p8_rsa -t rsa -b 2048 -m PKCS8
key k_p8_ecdsa -t ecdsa -b 256 -m PKCS8
key k_agent -t ed25519
key k_confirm -t ecdsa -b 256
key k_fallback -t ed25519
ssh-keygen -q -N "$PP" -a 4 -C k_pp -t ed25519 -f "$T/k_pp" </dev/null >/dev/null ||
	bail "ssh-keygen k_pp"
ssh-keygen -q -N "$PP" -m PEM -C k_pem_enc -t rsa -b 2048 -f "$T/k_pem_enc" \
	</dev/null >/dev/null || bail "ssh-keygen k_pem_enc"
# each key is in the format its name says
has() { grep -q -- "$2" "$T/$1" || bail "$1 is not in the expected format: no '$2'"; }
has k_pem_rsa 'BEGIN RSA PRIVATE KEY'
has k_pem_ecdsa 'BEGIN EC PRIVATE KEY'
has k_p8_rsa 'BEGIN PRIVATE KEY'
has k_p8_ecdsa 'BEGIN PRIVATE KEY'
has k_pem_enc 'Proc-Type: 4,ENCRYPTED'
has k_pp 'BEGIN OPENSSH PRIVATE KEY'

# a HOME whose only key is ~/.ssh/id_ecdsa
mkdir -p "$T/defhome/.ssh"
chmod 0700 "$T/defhome" "$T/defhome/.ssh"
ssh-keygen -q -N '' -C default-ecdsa -t ecdsa -b 256 -f "$T/defhome/.ssh/id_ecdsa" ||
	bail "ssh-keygen default id_ecdsa"

# root and the rig user take all of them (not id_wrong)
for u in root "$RIG_USER"; do
	for k in k_ed25519 k_ecdsa k_rsa k_pem_rsa k_pem_ecdsa k_p8_rsa k_p8_ecdsa \
		k_agent k_confirm k_fallback k_pp k_pem_enc; do
		cat "$T/$k.pub"
	done >>"$T/home/$u/.ssh/authorized_keys"
	cat "$T/defhome/.ssh/id_ecdsa.pub" >>"$T/home/$u/.ssh/authorized_keys"
done

# ---- servers -------------------------------------------------------------------

# the rig user has a password (inside the servers' namespaces only)
rig_shadow "$RIG_USER" "$PW"

SERVERS=()
if start_sshd sshd VERBOSE "Match all" "PasswordAuthentication yes"; then
	kh_add "$SRV_PORT" "$SRV_HOSTKEYS"
	PORT_sshd=$SRV_PORT
	SERVERS+=(sshd)
fi
if DROPBEAR_PASSWORDS=1 start_dropbear dropbear; then
	kh_add "$SRV_PORT" "$SRV_HOSTKEYS"
	PORT_dropbear=$SRV_PORT
	SERVERS+=(dropbear)
fi

# ---- helpers -------------------------------------------------------------------

# An askpass program that writes each question to a log and answers with
# the contents of a file.
cat >"$T/askpass" <<EOF
#!/bin/sh
printf '%s\n' "\$1" >>"$T/askpass.log"
cat "$T/askpass.answer"
EOF
chmod 0755 "$T/askpass"
# the same, after thinking for 3 seconds
printf '#!/bin/sh\nsleep 3\nexec %q "$@"\n' "$T/askpass" >"$T/askpass-slow"
chmod 0755 "$T/askpass-slow"

# ask_set ANSWER: what the askpass program answers from now on; clears
# its log
ask_set() {
	printf '%s\n' "$1" >"$T/askpass.answer"
	: >"$T/askpass.log"
}
ask_calls() { wc -l <"$T/askpass.log"; }

# exp_asked N [ERE]: the askpass program ran N times (and was asked ERE)
exp_asked() {
	local n
	n=$(ask_calls)
	if [ "$n" != "$1" ]; then
		fail "the askpass program ran $n times, expected $1: '$(_oneline <"$T/askpass.log")'"
	elif [ -n "${2:-}" ] && ! grep -qiE -- "$2" "$T/askpass.log"; then
		fail "the askpass program was not asked for /$2/: '$(_oneline <"$T/askpass.log")'"
	fi
}

# run PORT DEST 'CMD' [options...]: remowt sh with the rig's options, in
# a new session (no controlling terminal)
run() {
	local port=$1 dest=$2 cmd=$3
	shift 3
	REMOWT_WRAP="setsid -w $REMOWT_WRAP" remowt_run sh "${COMMON[@]}" "$@" \
		-p "$port" "$dest" "$cmd"
}

# askrun ...: run with SSH_ASKPASS=our program, SSH_ASKPASS_REQUIRE=force
askrun() {
	SSH_ASKPASS=$T/askpass SSH_ASKPASS_REQUIRE=force run "$@"
}

# exp_secret_hidden SECRET: neither stdout nor stderr contains it
exp_secret_hidden() {
	if grep -aqF -- "$1" "$T/out" "$T/err"; then
		fail "the secret '$1' appears in the output: '$(grep -ahF -- "$1" "$T/out" "$T/err" | head -1 | _oneline)'"
	fi
}

# exp_message ERE WHAT: apart from the notes after each wrong try
# ("Permission denied, please try again.", "...: incorrect passphrase"),
# stderr is exactly one line, and it matches ERE
exp_message() {
	local n
	grep -av -e '^Permission denied, please try again\.$' \
		-e '^remowt: .*: incorrect passphrase$' "$T/err" >"$T/err.msg" || true
	n=$(wc -l <"$T/err.msg")
	if [ "$n" != 1 ]; then
		fail "stderr has $n message lines, expected one: '$(_oneline <"$T/err")'"
	elif ! grep -aqiE -- "$1" "$T/err.msg"; then
		fail "the message does not mention $2: '$(_oneline <"$T/err.msg")'"
	fi
}

# exp_offered ALG KIND LABEL: -v output says remowt offered that
exp_offered() {
	if ! grep -aqF -- "offering $1 $2 $3" "$T/err"; then
		fail "-v output has no 'offering $1 $2 $3': '$(grep -a offering "$T/err" | _oneline)'"
	fi
}

# ---- agents --------------------------------------------------------------------

# wait_sock PATH: until a socket is there
wait_sock() {
	local i
	for i in $(seq 100); do
		[ -S "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

# a real ssh-agent holding k_agent; one holding nothing; and one holding
# k_confirm under confirmation (ssh-add -c) whose own askpass always says
# no, so it refuses every signature with that key
bg_start "$T/agent.log" ssh-agent -D -a "$T/agent.sock"
bg_start "$T/agent-empty.log" ssh-agent -D -a "$T/agent-empty.sock"
bg_start "$T/agent-confirm.log" env SSH_ASKPASS=/bin/false SSH_ASKPASS_REQUIRE=force \
	DISPLAY=:999 ssh-agent -D -a "$T/agent-confirm.sock"
for s in agent agent-empty agent-confirm; do
	wait_sock "$T/$s.sock" || bail "ssh-agent $s did not start: $(_oneline <"$T/$s.log")"
done
SSH_AUTH_SOCK=$T/agent.sock ssh-add -q "$T/k_agent" 2>/dev/null ||
	bail "ssh-add k_agent failed"
SSH_AUTH_SOCK=$T/agent-confirm.sock ssh-add -q -c "$T/k_confirm" 2>/dev/null ||
	bail "ssh-add -c k_confirm failed"
SSH_AUTH_SOCK=$T/agent.sock ssh-add -l | grep -q k_agent || bail "the agent does not list k_agent"
if SSH_AUTH_SOCK=$T/agent-empty.sock ssh-add -l >/dev/null 2>&1; then
	bail "the empty agent lists keys"
fi

# ---- per server ----------------------------------------------------------------

for S in "${SERVERS[@]}"; do
	pv=PORT_$S
	P=${!pv}
	U=$RIG_USER@127.0.0.1
	R=root@127.0.0.1

	# -- passwords --

	tcase "$S: password from SSH_ASKPASS (SSH_ASKPASS_REQUIRE=force) logs in"
	ask_set "$PW"
	askrun "$P" "$U" 'id -un'
	exp_rc 0
	exp_out_str "$RIG_USER"$'\n'
	exp_err_empty
	exp_asked 1 "password"
	tend

	# ConnectTimeout and the handshake deadline are for the network: a
	# person slower to answer than that still logs in.
	tcase "$S: a password typed after ConnectTimeout has passed still logs in"
	ask_set "$PW"
	SSH_ASKPASS=$T/askpass-slow SSH_ASKPASS_REQUIRE=force \
		run "$P" "$U" 'id -un' -o ConnectTimeout=1
	exp_rc 0
	exp_out_str "$RIG_USER"$'\n'
	exp_asked 1 "password"
	tend

	tcase "$S: -v never shows the password"
	ask_set "$PW"
	askrun "$P" "$U" 'echo in' -v
	exp_rc 0
	exp_out_str $'in\n'
	exp_err_match '^debug1: ' "debug lines"
	exp_secret_hidden "$PW"
	tend

	tcase "$S: wrong password: exit 255, one 'permission denied' message, asked 3 times"
	ask_set 'Wr0ng guess, surely'
	askrun "$P" "$U" 'echo should not run'
	exp_rc 255
	exp_out_empty
	exp_message 'permission denied' "permission denied"
	exp_asked 3
	exp_secret_hidden 'Wr0ng guess, surely'
	tend

	tcase "$S: wrong password with -v: the password is never shown"
	ask_set 'Wr0ng guess, surely'
	askrun "$P" "$U" 'echo should not run' -v
	exp_rc 255
	exp_out_empty
	exp_err_match 'permission denied' "permission denied"
	exp_secret_hidden 'Wr0ng guess, surely'
	tend

	tcase "$S: NumberOfPasswordPrompts=1: asked once"
	ask_set 'Wr0ng guess, surely'
	askrun "$P" "$U" 'echo should not run' -o NumberOfPasswordPrompts=1
	exp_rc 255
	exp_message 'permission denied' "permission denied"
	exp_asked 1
	tend

	tcase "$S: PasswordAuthentication=no KbdInteractiveAuthentication=no: 255, askpass never run"
	ask_set "$PW"
	askrun "$P" "$U" 'echo should not run' -o PasswordAuthentication=no \
		-o KbdInteractiveAuthentication=no
	exp_rc 255
	exp_out_empty
	exp_err_lines 1
	exp_asked 0
	tend

	tcase "$S: BatchMode=yes: no prompt, exit 255"
	ask_set "$PW"
	askrun "$P" "$U" 'echo should not run' -o BatchMode=yes
	exp_rc 255
	exp_out_empty
	exp_err_lines 1
	exp_asked 0
	tend

	tcase "$S: SSH_ASKPASS_REQUIRE=never and no terminal: 255, askpass not run, SSH_ASKPASS named"
	ask_set "$PW"
	SSH_ASKPASS=$T/askpass SSH_ASKPASS_REQUIRE=never run "$P" "$U" 'echo should not run'
	exp_rc 255
	exp_out_empty
	exp_err_lines 1
	exp_err_match 'SSH_ASKPASS' "SSH_ASKPASS"
	exp_asked 0
	tend

	tcase "$S: SSH_ASKPASS_REQUIRE=prefer uses the program"
	ask_set "$PW"
	SSH_ASKPASS=$T/askpass SSH_ASKPASS_REQUIRE=prefer run "$P" "$U" 'id -un'
	exp_rc 0
	exp_out_str "$RIG_USER"$'\n'
	exp_asked 1 "password"
	tend

	tcase "$S: an askpass program that fails: exit 255 at once"
	SSH_ASKPASS=/bin/false SSH_ASKPASS_REQUIRE=force run "$P" "$U" 'echo should not run'
	exp_rc 255
	exp_out_empty
	exp_err_lines 1
	exp_secs_le 20
	tend

	# -- key types --

	tcase "$S: ed25519 identity file logs in"
	run "$P" "$R" 'echo ok' -i "$T/k_ed25519" -v
	exp_rc 0
	exp_out_str $'ok\n'
	exp_offered ssh-ed25519 key "$T/k_ed25519"
	tend

	tcase "$S: ecdsa identity file logs in"
	run "$P" "$R" 'echo ok' -i "$T/k_ecdsa" -v
	exp_rc 0
	exp_out_str $'ok\n'
	exp_offered ecdsa-sha2-nistp256 key "$T/k_ecdsa"
	tend

	tcase "$S: rsa identity file logs in with the rsa-sha2 signature server-sig-algs names"
	run "$P" "$R" 'echo ok' -i "$T/k_rsa" -v
	exp_rc 0
	exp_out_str $'ok\n'
	sigalgs=$(sed -n 's/^debug1: server-sig-algs: //p' "$T/err" | head -1)
	if [ -z "$sigalgs" ]; then
		fail "-v output shows no server-sig-algs"
	else
		case ",$sigalgs," in
		*,rsa-sha2-512,*) want=rsa-sha2-512 ;;
		*,rsa-sha2-256,*) want=rsa-sha2-256 ;;
		*) want="(none: the server names no rsa-sha2 algorithm)" ;;
		esac
		exp_offered "$want" key "$T/k_rsa"
		case $S in
		# what these servers are known to send: OpenSSH both, dropbear
		# 2022.83 only rsa-sha2-256
		sshd) exp_eq "rsa signature for sshd" rsa-sha2-512 "$want" ;;
		dropbear) exp_eq "rsa signature for dropbear" rsa-sha2-256 "$want" ;;
		esac
	fi
	if grep -aq 'offering ssh-rsa ' "$T/err"; then
		fail "offered an ssh-rsa (SHA-1) signature"
	fi
	tend

	# -- passphrases and formats --

	tcase "$S: passphrase-protected key, passphrase from SSH_ASKPASS"
	ask_set "$PP"
	askrun "$P" "$R" 'echo ok' -i "$T/k_pp" -v
	exp_rc 0
	exp_out_str $'ok\n'
	exp_asked 1 "passphrase.*k_pp"
	exp_offered ssh-ed25519 key "$T/k_pp"
	exp_secret_hidden "$PP"
	tend

	tcase "$S: wrong passphrase: exit 255, the message mentions the passphrase"
	ask_set 'not the phrase'
	askrun "$P" "$R" 'echo should not run' -i "$T/k_pp" -o PasswordAuthentication=no
	exp_rc 255
	exp_out_empty
	exp_message 'passphrase' "the passphrase"
	n=$(ask_calls)
	if [ "$n" -lt 1 ] || [ "$n" -gt 3 ]; then
		fail "asked for the passphrase $n times, expected 1 to 3"
	fi
	exp_secret_hidden 'not the phrase'
	tend

	tcase "$S: passphrase-protected key in BatchMode: not asked, 255"
	ask_set "$PP"
	askrun "$P" "$R" 'echo should not run' -i "$T/k_pp" -o BatchMode=yes
	exp_rc 255
	exp_err_lines 1
	exp_asked 0
	tend

	for k in k_pem_rsa k_pem_ecdsa k_p8_rsa k_p8_ecdsa; do
		case $k in
		k_pem_*) what="-m PEM" ;;
		*) what="-m PKCS8" ;;
		esac
		tcase "$S: ${k#k_} key (ssh-keygen $what) logs in"
		run "$P" "$R" 'echo ok' -i "$T/$k"
		exp_rc 0
		exp_out_str $'ok\n'
		exp_err_empty
		tend
	done

	# remowt may not read encrypted PEM: then it must say how to convert
	tcase "$S: passphrase-protected PEM RSA key: logs in, or 255 with advice to convert it"
	ask_set "$PP"
	askrun "$P" "$R" 'echo ok' -i "$T/k_pem_enc" -o PasswordAuthentication=no
	if [ "$RC" = 0 ]; then
		exp_out_str $'ok\n'
		exp_asked 1 "passphrase"
	else
		exp_rc 255
		exp_out_empty
		exp_err_match 'ssh-keygen -p' "how to convert the key (ssh-keygen -p)"
	fi
	tend

	# -- default identities --

	tcase "$S: no -i: the default ~/.ssh/id_ecdsa logs in"
	HOME=$T/defhome run "$P" "$R" 'echo ok' -v
	exp_rc 0
	exp_out_str $'ok\n'
	exp_offered ecdsa-sha2-nistp256 key "$T/defhome/.ssh/id_ecdsa"
	tend

	tcase "$S: no -i and an empty ~/.ssh: exit 255 (the control for the above)"
	run "$P" "$R" 'echo should not run' -o PasswordAuthentication=no
	exp_rc 255
	exp_out_empty
	exp_err_lines 1
	tend

	# -- ssh-agent --

	tcase "$S: the ssh-agent's key, no -i, logs in"
	SSH_AUTH_SOCK=$T/agent.sock run "$P" "$R" 'echo ok' -v
	exp_rc 0
	exp_out_str $'ok\n'
	exp_offered ssh-ed25519 key k_agent
	tend

	tcase "$S: IdentityAgent=PATH without SSH_AUTH_SOCK uses that agent"
	run "$P" "$R" 'echo ok' -o "IdentityAgent=$T/agent.sock"
	exp_rc 0
	exp_out_str $'ok\n'
	tend

	tcase "$S: IdentityAgent=none: the agent in SSH_AUTH_SOCK is not used"
	SSH_AUTH_SOCK=$T/agent.sock run "$P" "$R" 'echo should not run' -v \
		-o IdentityAgent=none -o PasswordAuthentication=no
	exp_rc 255
	exp_out_empty
	exp_err_nomatch 'offering .* k_agent'
	tend

	tcase "$S: agent key first, then -i: logs in although -i names an unknown key"
	SSH_AUTH_SOCK=$T/agent.sock run "$P" "$R" 'echo ok' -i "$T/id_wrong"
	exp_rc 0
	exp_out_str $'ok\n'
	tend

	tcase "$S: IdentitiesOnly=yes -i an unknown key: the agent's key is not offered, 255"
	SSH_AUTH_SOCK=$T/agent.sock run "$P" "$R" 'echo should not run' -v \
		-o IdentitiesOnly=yes -i "$T/id_wrong" -o PasswordAuthentication=no
	exp_rc 255
	exp_out_empty
	exp_offered ssh-ed25519 key "$T/id_wrong"
	exp_err_nomatch 'offering .* k_agent'
	tend

	tcase "$S: an agent with no keys: exit 255, the message names the agent"
	SSH_AUTH_SOCK=$T/agent-empty.sock run "$P" "$R" 'echo should not run' \
		-o PasswordAuthentication=no
	exp_rc 255
	exp_out_empty
	exp_err_lines 1
	exp_err_match 'agent' "the agent"
	tend

	tcase "$S: the agent refuses to sign: 'the agent refused', then the -i key logs in"
	SSH_AUTH_SOCK=$T/agent-confirm.sock run "$P" "$R" 'echo ok' -v -i "$T/k_fallback"
	exp_rc 0
	exp_out_str $'ok\n'
	exp_err_match 'the agent refused.*k_confirm' "the agent's refusal"
	exp_offered ecdsa-sha2-nistp256 key k_confirm
	exp_offered ssh-ed25519 key "$T/k_fallback"
	tend
done

# ---- certificates (OpenSSH only: dropbear has no user certificates) -------------

ssh-keygen -q -N '' -C ca -t ed25519 -f "$T/ca" || bail "ssh-keygen ca"
ssh-keygen -q -N '' -C other-ca -t ed25519 -f "$T/ca_other" || bail "ssh-keygen ca_other"
: >"$T/authorized_keys.empty"
mkdir -p "$T/certs"

# cert KEYNAME TYPE SIGNING-OPTIONS...: key $T/KEYNAME and its
# certificate $T/KEYNAME-cert.pub, signed by the CA
cert() {
	local n=$1 t=$2
	shift 2
	case $t in
	ecdsa) key "$n" -t ecdsa -b 256 ;;
	rsa) key "$n" -t rsa -b 3072 ;;
	*) key "$n" -t "$t" ;;
	esac
	ssh-keygen -q -s "$T/ca" -I "id-$n" "$@" "$T/$n.pub" 2>/dev/null ||
		bail "ssh-keygen -s for $n"
	[ -s "$T/$n-cert.pub" ] || bail "no certificate for $n"
}

certalg() {
	case $1 in
	ed25519) echo ssh-ed25519-cert-v01@openssh.com ;;
	ecdsa) echo ecdsa-sha2-nistp256-cert-v01@openssh.com ;;
	rsa) echo rsa-sha2-512-cert-v01@openssh.com ;;
	esac
}

if start_sshd certs VERBOSE "TrustedUserCAKeys $T/ca.pub" "Match all" \
	"AuthorizedKeysFile $T/authorized_keys.empty"; then
	kh_add "$SRV_PORT" "$SRV_HOSTKEYS"
	P=$SRV_PORT
	CLOG=$SRV_LOG
	R=root@127.0.0.1

	for t in ed25519 ecdsa rsa; do
		cert "c_$t" "$t" -n root -V +5m
		# the same key with its certificate elsewhere, for CertificateFile
		cp "$T/c_$t" "$T/c2_$t"
		cp "$T/c_$t.pub" "$T/c2_$t.pub"
		cp "$T/c_$t-cert.pub" "$T/certs/$t.cert"

		tcase "certs: $t key with KEY-cert.pub beside it logs in"
		before=$(grep -ac "Accepted publickey for root .* ID id-c_$t " "$CLOG" || true)
		run "$P" "$R" 'echo ok' -i "$T/c_$t" -v
		exp_rc 0
		exp_out_str $'ok\n'
		exp_offered "$(certalg "$t")" certificate "$T/c_$t-cert.pub"
		after=$(grep -ac "Accepted publickey for root .* ID id-c_$t " "$CLOG" || true)
		if [ "$after" -le "$before" ]; then
			fail "the server log shows no login with certificate id-c_$t"
		fi
		tend

		tcase "certs: $t key with -o CertificateFile= logs in"
		run "$P" "$R" 'echo ok' -i "$T/c2_$t" -o "CertificateFile=$T/certs/$t.cert" -v
		exp_rc 0
		exp_out_str $'ok\n'
		exp_offered "$(certalg "$t")" certificate "$T/certs/$t.cert"
		tend
	done

	tcase "certs: the same key without its certificate is refused (only certificates work)"
	run "$P" "$R" 'echo should not run' -i "$T/c2_ed25519"
	exp_rc 255
	exp_out_empty
	exp_err_lines 1
	tend

	tcase "certs: expired certificate: exit 255, the message says expired"
	cert c_expired ed25519 -n root -V -10m:-5m
	run "$P" "$R" 'echo should not run' -i "$T/c_expired"
	exp_rc 255
	exp_out_empty
	exp_err_lines 1
	exp_err_match 'expired' "the expiry"
	tend

	tcase "certs: certificate not valid yet: exit 255, the message says so"
	cert c_future ed25519 -n root -V +5m:+10m
	run "$P" "$R" 'echo should not run' -i "$T/c_future"
	exp_rc 255
	exp_out_empty
	exp_err_lines 1
	exp_err_match 'not valid yet|not yet valid' "the validity period"
	tend

	tcase "certs: certificate for principal alice, login as root: exit 255, the principal named"
	cert c_alice ed25519 -n alice -V +5m
	run "$P" "$R" 'echo should not run' -i "$T/c_alice"
	exp_rc 255
	exp_out_empty
	exp_err_lines 1
	exp_err_match 'principal' "the principal"
	tend

	tcase "certs: certificate from a CA the server does not trust: exit 255, the certificate named"
	key c_untrusted -t ed25519
	ssh-keygen -q -s "$T/ca_other" -I id-untrusted -n root -V +5m "$T/c_untrusted.pub" 2>/dev/null
	run "$P" "$R" 'echo should not run' -i "$T/c_untrusted"
	exp_rc 255
	exp_out_empty
	exp_err_lines 1
	exp_err_match 'certificate' "the certificate"
	tend
fi

# ---- keyboard-interactive: sshd with PAM asking the questions ----------------

# A PAM stack of its own for sshd (inside the server's namespace only):
# pam_unix against the rig's shadow, nothing that needs a real login.
mkdir -p "$T/pam.d"
cat >"$T/pam.d/sshd" <<'EOF_PAM'
auth required pam_unix.so
account required pam_unix.so
session required pam_permit.so
password required pam_deny.so
EOF_PAM
if SSHD_KBDINT=yes start_sshd kbdint VERBOSE; then
	kh_add "$SRV_PORT" "$SRV_HOSTKEYS"
	P=$SRV_PORT
	U="$RIG_USER@127.0.0.1"

	tcase "sshd keyboard-interactive: PAM's question answered through askpass"
	ask_set "$PW"
	askrun "$P" "$U" 'id -un' -o PubkeyAuthentication=no -v
	exp_rc 0
	exp_out_str "$RIG_USER"$'\n'
	exp_asked 1 'password'
	exp_secret_hidden "$PW"
	tend

	tcase "sshd keyboard-interactive: a wrong answer is 255, one message"
	ask_set "not-$PW"
	askrun "$P" "$U" 'echo should not run' -o PubkeyAuthentication=no \
		-o NumberOfPasswordPrompts=1
	exp_rc 255
	exp_out_empty
	exp_message 'permission denied' "the refusal"
	exp_secret_hidden "not-$PW"
	tend

	tcase "sshd keyboard-interactive: KbdInteractiveAuthentication=no asks nothing"
	ask_set "$PW"
	askrun "$P" "$U" 'echo should not run' -o PubkeyAuthentication=no \
		-o KbdInteractiveAuthentication=no
	exp_rc 255
	exp_asked 0
	tend
fi

# ---- prompts at a real terminal (tmux gives remowt a pty) ----------------------

if command -v tmux >/dev/null && [ -n "${PORT_sshd:-}" ]; then
	tcase "terminal: the passphrase is asked at the tty and never echoed"
	TS=remowt-auth-$$
	tmux -L "$TS" new-session -d -x 200 -y 20 \
		"$REMOWT sh $(printf '%q ' "${COMMON[@]}") -o PasswordAuthentication=no \
		-i $T/k_pp -p $PORT_sshd root@127.0.0.1 'echo logged-in-at-tty'; \
		echo rc=\$?; sleep 30"
	for i in $(seq 100); do
		tmux -L "$TS" capture-pane -p >"$T/pane" 2>/dev/null || true
		grep -q 'passphrase' "$T/pane" && break
		sleep 0.1
	done
	tmux -L "$TS" send-keys "$PP" Enter
	for i in $(seq 100); do
		tmux -L "$TS" capture-pane -p >"$T/pane" 2>/dev/null || true
		grep -q '^rc=' "$T/pane" && break
		sleep 0.1
	done
	tmux -L "$TS" kill-server 2>/dev/null || true
	grep -q "Enter passphrase for key '$T/k_pp'" "$T/pane" ||
		fail "no passphrase prompt on the terminal: '$(_oneline <"$T/pane")'"
	grep -q 'logged-in-at-tty' "$T/pane" ||
		fail "no login: '$(_oneline <"$T/pane")'"
	grep -q '^rc=0' "$T/pane" || fail "exit status: '$(grep rc= "$T/pane")'"
	! grep -qF "$PP" "$T/pane" || fail "the passphrase was echoed"
	tend
fi
