#!/bin/bash
# t_secrets.sh - secrets do not outlive their use, against real sshd and
# dropbear:
#   - a core image (gcore) of remowt taken while its session is open,
#     after it logged in with a passphrase-protected key of each type, an
#     unencrypted PEM or PKCS#8 key, or a password after a refused
#     passphrase-protected key, holds neither the passphrase, the
#     password, 16 bytes of any private key part nor a line of the key
#     file; the server's host key in the same image is the control;
#   - with -v -v -v, stderr holds neither the passphrase, the password,
#     the private key in hex or base64, nor any other run of 20 or more
#     base64 or hex characters (where a session key would show) but the
#     SHA256 fingerprints of the keys involved.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/servers.sh"
require_remowt
require_cmd setsid python3 ssh-keygen openssl
rig_init
TMO=${SECRETS_TMO:-60}

unset SSH_AUTH_SOCK SSH_AGENT_PID SSH_ASKPASS SSH_ASKPASS_REQUIRE DISPLAY \
	WAYLAND_DISPLAY
export HOME=$T/client
mkdir -m 0700 "$HOME"

PW='Pl4in horse#staple'         # rwtest's password on both servers
PP='quiet ph0ne-glass'          # passphrase of the protected keys

# ---- secrets.py: private parts of a key, and searches for them ---------------

cat >"$T/secrets.py" <<'EOF_PY'
import base64, re, sys
from cryptography.hazmat.primitives import serialization as ser
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

WINDOW = 16

def load_key(path):
    data = open(path, 'rb').read()
    if b'OPENSSH PRIVATE KEY' in data:
        return ser.load_ssh_private_key(data, None)
    return ser.load_pem_private_key(data, None)

def be(x):
    return x.to_bytes((x.bit_length() + 7) // 8, 'big')

def dump(path):
    """label hex, one line per private part; then the file's base64
    lines (an unencrypted key file is a rendering of the key)."""
    k = load_key(path)
    if isinstance(k, ed25519.Ed25519PrivateKey):
        parts = {'seed': k.private_bytes(ser.Encoding.Raw,
            ser.PrivateFormat.Raw, ser.NoEncryption())}
    elif isinstance(k, ec.EllipticCurvePrivateKey):
        parts = {'d': k.private_numbers().private_value.to_bytes(32, 'big')}
    elif isinstance(k, rsa.RSAPrivateKey):
        n = k.private_numbers()
        parts = {'p': be(n.p), 'q': be(n.q), 'd': be(n.d),
                 'dp': be(n.dmp1), 'dq': be(n.dmq1), 'iq': be(n.iqmp)}
    else:
        sys.exit('unknown key type')
    for name, v in parts.items():
        print('key-%s %s' % (name, v.hex()))
    for line in file_lines(path, parts.values()):
        print('file-line %s' % line.encode().hex())

def file_lines(path, parts):
    """The base64 lines of a PEM file that hold 16 bytes of a private
    part (others hold only the public key, which may lie about)."""
    lines = [l.strip() for l in open(path)]
    body = [l for l in lines if l and not l.startswith('-----')]
    if not lines[0].startswith('-----BEGIN') or any(':' in l for l in body):
        return []
    raw = base64.b64decode(''.join(body))
    out, c = [], 0
    for l in body:
        lo, hi = (c * 3 + 3) // 4, (c + len(l)) * 3 // 4
        if any(w in raw[lo:hi] for v in parts for w in windows(v)):
            out.append(l)
        c += len(l)
    return out

def secrets(files, texts):
    out = []
    for f in files:
        for line in open(f):
            label, hx = line.split()
            out.append((label, bytes.fromhex(hx)))
    for t in texts:
        out.append(('text', t.encode()))
    return out

def windows(v):
    if len(v) <= WINDOW:
        return [v]
    offs = list(range(0, len(v) - WINDOW + 1, WINDOW // 2))
    if offs[-1] != len(v) - WINDOW:
        offs.append(len(v) - WINDOW)
    return [v[o:o + WINDOW] for o in offs]

def scan(core, files, texts):
    """Print what of the secrets the image holds."""
    data = open(core, 'rb').read()
    for label, v in secrets(files, texts):
        whole = label in ('file-line', 'text')
        if any(data.find(w) >= 0 for w in ([v] if whole else windows(v))):
            print('%s (%d bytes)' % (label, len(v)))

def has_blob(core, hostkeys):
    """Does the image hold one of the server's host key blobs?"""
    data = open(core, 'rb').read()
    for line in open(hostkeys):
        if data.find(base64.b64decode(line.split()[1])) >= 0:
            return True
    return False

def renderings(v):
    """Hex and base64 (at each alignment) of v, trimmed to what any
    rendering of a longer string holding v also shows."""
    r = [v.hex(), v.hex().upper()]
    for shift in range(3):
        for enc in (base64.b64encode, base64.urlsafe_b64encode):
            s = enc(b'\0' * shift + v).decode().rstrip('=')
            lead = (shift * 8 + 5) // 6 + 1
            r.append(s[lead:len(s) - 2])
    return [x for x in r if len(x) >= 8]

def text(errfile, allowed, files, texts):
    """Print what of the secrets, or of long base64/hex runs other than
    the allowed fingerprints, the text holds."""
    t = open(errfile, 'rb').read().decode('utf-8', 'replace')
    for label, v in secrets(files, texts):
        if label in ('file-line', 'text'):
            if v.decode() in t:
                print('a secret text' if label == 'text' else label)
        elif any(x in t for x in renderings(v)):
            print('%s rendered in hex or base64' % label)
    ok = set(open(allowed).read().split())
    for run in re.findall(r'[A-Za-z0-9+/=]{20,}', t):
        if run.rstrip('=') not in ok:
            print('a long base64 or hex run: %s' % run)

if __name__ == '__main__':
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == 'dump':
        dump(args[0])
    elif cmd == 'scan':
        n = int(args[1])
        scan(args[0], args[2:2 + n], args[2 + n:])
    elif cmd == 'has-blob':
        sys.exit(0 if has_blob(args[0], args[1]) else 1)
    elif cmd == 'text':
        n = int(args[2])
        text(args[0], args[1], args[3:3 + n], args[3 + n:])
EOF_PY
SECRETS() { python3 "$T/secrets.py" "$@"; }

# ---- keys ----------------------------------------------------------------------

# key NAME PASSPHRASE|'' SSH-KEYGEN-OPTIONS...: $T/NAME (+ .pub) and its
# private parts in $T/NAME.sec, taken before the passphrase is set
key() {
	local n=$1 pp=$2
	shift 2
	ssh-keygen -q -N '' -C "$n" -f "$T/$n" "$@" </dev/null >/dev/null ||
		bail "ssh-keygen $n $*"
	SECRETS dump "$T/$n" >"$T/$n.sec" || bail "cannot read the private parts of $n"
	if [ -n "$pp" ]; then
		ssh-keygen -q -p -P '' -N "$pp" -a 4 -f "$T/$n" >/dev/null ||
			bail "ssh-keygen -p $n"
	fi
}
key s_ed25519 "$PP" -t ed25519
key s_ecdsa "$PP" -t ecdsa -b 256
key s_rsa "$PP" -t rsa -b 2048
key s_pem_rsa '' -t rsa -b 2048 -m PEM
key s_pem_ecdsa '' -t ecdsa -b 256 -m PEM
key s_refused "$PP" -t ed25519
openssl genpkey -algorithm ed25519 -out "$T/s_p8_ed25519" 2>/dev/null &&
	chmod 600 "$T/s_p8_ed25519" || bail "openssl genpkey ed25519"
# ssh-keygen reads no PKCS#8 Ed25519: the public key from openssl's
printf 'ssh-ed25519 %s s_p8_ed25519\n' "$({
	printf '\000\000\000\013ssh-ed25519\000\000\000\040'
	openssl pkey -in "$T/s_p8_ed25519" -pubout -outform DER | tail -c 32
} | base64 -w0)" >"$T/s_p8_ed25519.pub"
SECRETS dump "$T/s_p8_ed25519" >"$T/s_p8_ed25519.sec" ||
	bail "cannot read the private parts of s_p8_ed25519"
grep -q 'BEGIN RSA PRIVATE KEY' "$T/s_pem_rsa" || bail "s_pem_rsa is not PKCS#1"
grep -q 'BEGIN EC PRIVATE KEY' "$T/s_pem_ecdsa" || bail "s_pem_ecdsa is not SEC1"
grep -q 'BEGIN PRIVATE KEY' "$T/s_p8_ed25519" || bail "s_p8_ed25519 is not PKCS#8"

for k in s_ed25519 s_ecdsa s_rsa s_pem_rsa s_pem_ecdsa s_p8_ed25519; do
	cat "$T/$k.pub" >>"$T/home/root/.ssh/authorized_keys"
done

# ---- servers -------------------------------------------------------------------

rig_shadow "$RIG_USER" "$PW"
SERVERS=()
if start_sshd sshd VERBOSE "Match all" "PasswordAuthentication yes"; then
	kh_add "$SRV_PORT" "$SRV_HOSTKEYS"
	PORT_sshd=$SRV_PORT
	KEYS_sshd=$SRV_HOSTKEYS
	SERVERS+=(sshd)
fi
if DROPBEAR_PASSWORDS=1 start_dropbear dropbear; then
	kh_add "$SRV_PORT" "$SRV_HOSTKEYS"
	PORT_dropbear=$SRV_PORT
	KEYS_dropbear=$SRV_HOSTKEYS
	SERVERS+=(dropbear)
fi

# The fingerprints -v may show: every host key and client key here.
for f in "$T"/*.pub "$T"/sshd/*.pub; do
	ssh-keygen -lf "$f" 2>/dev/null | awk '{ sub(/^SHA256:/, "", $2); print $2 }'
done >"$T/fingerprints"
for S in "${SERVERS[@]}"; do
	kv=KEYS_$S
	while read -r type b64; do
		echo "$type $b64" | ssh-keygen -lf - 2>/dev/null |
			awk '{ sub(/^SHA256:/, "", $2); print $2 }'
	done <"${!kv}"
done >>"$T/fingerprints"

# An askpass program: the passphrase when asked for one, else the password.
cat >"$T/askpass" <<EOF
#!/bin/sh
case \$1 in
*assphrase*) printf '%s\n' '$PP' ;;
*) printf '%s\n' '$PW' ;;
esac
EOF
chmod 0755 "$T/askpass"

# ---- core images of live sessions ------------------------------------------------

# live_core NAME PORT DEST REMOWT-OPTIONS...: remowt sh DEST in the
# background until the remote command says "up"; then a core image of
# it in $T/NAME.core and remowt stopped.  0 with the image there, 1 (and
# a reason in $WHY) if not.  SSH_ASKPASS_REQUIRE=force: the askpass
# program answers even where there is a terminal, and $! is remowt.
live_core() {
	local name=$1 port=$2 dest=$3 pid i
	shift 3
	WHY=
	rm -f "$T/$name.core"*
	SSH_ASKPASS=$T/askpass SSH_ASKPASS_REQUIRE=force \
		"$REMOWT" sh "${COMMON[@]}" "$@" -p "$port" "$dest" \
		'echo up; exec sleep 20' <"$IN" >"$T/$name.out" 2>"$T/$name.err" &
	pid=$!
	for i in $(seq $((TMO * 10))); do
		grep -q '^up$' "$T/$name.out" 2>/dev/null && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if ! grep -q '^up$' "$T/$name.out" 2>/dev/null; then
		WHY="the session did not start: $(_oneline <"$T/$name.err")"
	elif ! gcore -o "$T/$name.core" "$pid" >"$T/$name.gcore" 2>&1; then
		WHY="gcore failed: $(tail -2 "$T/$name.gcore" | _oneline)"
	fi
	kill -TERM "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	[ -z "$WHY" ] || return 1
	mv "$T/$name.core.$pid" "$T/$name.core" 2>/dev/null ||
		{ WHY="no core file"; return 1; }
	return 0
}

# exp_core_clean NAME SERVER SECRET-FILES... -- TEXTS...: the image holds
# the server's host key (the control) and none of the secrets
exp_core_clean() {
	local name=$1 srv=$2 files=() texts=() found kv=KEYS_$2
	shift 2
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		files+=("$1")
		shift
	done
	[ $# = 0 ] || shift
	texts=("$@")
	if ! SECRETS has-blob "$T/$name.core" "${!kv}"; then
		fail "the image does not hold the server's host key: the search sees nothing"
		return
	fi
	found=$(SECRETS scan "$T/$name.core" ${#files[@]} "${files[@]}" "${texts[@]}")
	if [ -n "$found" ]; then
		fail "the image of the live session holds: $(echo "$found" | _oneline)"
	fi
}

if [ -n "$REMOWT_WRAP" ]; then
	skip "core images" "remowt runs under $REMOWT_WRAP"
elif [ "${SANITIZE:-0}" = 1 ]; then
	# ASan maps terabytes of shadow memory: gcore would write all of it
	skip "core images" "a sanitizer build"
elif ! command -v gcore >/dev/null 2>&1; then
	not_ok "core images" "gcore not installed (gdb; run tests/deps.sh)"
else
	for S in "${SERVERS[@]}"; do
		pv=PORT_$S
		P=${!pv}
		R=root@127.0.0.1
		U=$RIG_USER@127.0.0.1

		for k in s_ed25519 s_ecdsa s_rsa; do
			tcase "$S: logged in with ${k#s_} under a passphrase: the live process holds neither the passphrase nor the key"
			if live_core "$S-$k" "$P" "$R" -i "$T/$k"; then
				exp_core_clean "$S-$k" "$S" "$T/$k.sec" -- "$PP"
			else
				fail "$WHY"
			fi
			tend
		done

		for k in s_pem_rsa s_pem_ecdsa s_p8_ed25519; do
			tcase "$S: logged in with the unencrypted ${k#s_} key: the live process holds neither the key nor its file"
			if live_core "$S-$k" "$P" "$R" -i "$T/$k"; then
				exp_core_clean "$S-$k" "$S" "$T/$k.sec"
			else
				fail "$WHY"
			fi
			tend
		done

		tcase "$S: a passphrase-protected key refused, then a password: the live process holds none of the three"
		if live_core "$S-password" "$P" "$U" -i "$T/s_refused"; then
			exp_core_clean "$S-password" "$S" "$T/s_refused.sec" -- "$PP" "$PW"
		else
			fail "$WHY"
		fi
		tend
	done
fi
rm -f "$T"/*.core*

# ---- -v output -----------------------------------------------------------------

# exp_err_clean SECRET-FILES... -- TEXTS...: stderr shows none of them, in
# hex or base64 either, and no other long base64 or hex run
exp_err_clean() {
	local files=() found
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		files+=("$1")
		shift
	done
	[ $# = 0 ] || shift
	found=$(SECRETS text "$ERR" "$T/fingerprints" ${#files[@]} "${files[@]}" "$@")
	if [ -n "$found" ]; then
		fail "stderr shows: $(echo "$found" | _oneline)"
	fi
}

# askrun PORT DEST 'CMD' OPTIONS...: no terminal, askpass answering
askrun() {
	local port=$1 dest=$2 cmd=$3
	shift 3
	SSH_ASKPASS=$T/askpass SSH_ASKPASS_REQUIRE=force \
		REMOWT_WRAP="setsid -w $REMOWT_WRAP" remowt_run sh "${COMMON[@]}" "$@" \
		-p "$port" "$dest" "$cmd"
}

for S in "${SERVERS[@]}"; do
	pv=PORT_$S
	P=${!pv}

	tcase "$S: -v -v -v, a passphrase-protected key refused, then a password: no secret in the output"
	askrun "$P" "$RIG_USER@127.0.0.1" 'echo in' -v -v -v -i "$T/s_refused"
	exp_rc 0
	exp_out_str $'in\n'
	exp_err_match '^debug1: offering ssh-ed25519 key' "the key offered"
	exp_err_match '^debug1: authenticated' "the login"
	exp_err_clean "$T/s_refused.sec" -- "$PP" "$PW"
	tend

	for k in s_ed25519 s_rsa s_pem_ecdsa; do
		tcase "$S: -v -v -v with the ${k#s_} key: no secret in the output"
		askrun "$P" root@127.0.0.1 'echo in' -v -v -v -i "$T/$k"
		exp_rc 0
		exp_out_str $'in\n'
		exp_err_match '^debug1: authenticated' "the login"
		exp_err_clean "$T/$k.sec" -- "$PP"
		tend
	done

	tcase "$S: -v -v -v with a wrong password: no secret in the output"
	cat >"$T/askpass-wrong" <<EOF
#!/bin/sh
printf '%s\n' 'Wr0ng but s3cret'
EOF
	chmod 0755 "$T/askpass-wrong"
	SSH_ASKPASS=$T/askpass-wrong SSH_ASKPASS_REQUIRE=force \
		REMOWT_WRAP="setsid -w $REMOWT_WRAP" remowt_run sh "${COMMON[@]}" \
		-v -v -v -o PubkeyAuthentication=no -p "$P" "$RIG_USER@127.0.0.1" 'echo in'
	exp_rc 255
	exp_out_empty
	exp_err_clean -- 'Wr0ng but s3cret'
	tend
done
