#!/bin/sh
# t_keys.sh - run unit_sshkey and unit_hostkeys on keys made by ssh-keygen.
#
# Usage: tests/t_keys.sh   (after building tests/unit_sshkey and
# tests/unit_hostkeys; UNIT_SSHKEY / UNIT_HOSTKEYS override their paths)
set -u

here=$(cd "$(dirname "$0")" && pwd)
unit_sshkey=${UNIT_SSHKEY:-$here/unit_sshkey}
unit_hostkeys=${UNIT_HOSTKEYS:-$here/unit_hostkeys}
vectors=/usr/lib/python3/dist-packages/cryptography_vectors/asymmetric/OpenSSH

fail() {
	echo "not ok - $1: $2"
	exit 1
}

command -v ssh-keygen >/dev/null 2>&1 ||
    fail "t_keys setup" "ssh-keygen not found"
[ -x "$unit_sshkey" ] || fail "t_keys setup" "$unit_sshkey not built"
[ -x "$unit_hostkeys" ] || fail "t_keys setup" "$unit_hostkeys not built"
[ -d "$vectors" ] ||
    fail "t_keys setup" "$vectors missing (python3-cryptography-vectors)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/t_keys.XXXXXX") || fail "t_keys setup" "mktemp"
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
# A common umask, so that the modes hostkeys_add() sets are checked.
umask 022

# gen NAME SSH-KEYGEN-OPTIONS...: an unencrypted key in $tmp/NAME{,.pub}.
gen() {
	name=$1
	shift
	ssh-keygen -q -N '' -C "$name@remowt.test" -f "$tmp/$name" "$@" \
	    >/dev/null 2>&1 || fail "t_keys setup" "ssh-keygen $name $*"
}

# rsabig is just past BearSSL's 4096-bit RSA limit.
gen ed25519 -t ed25519
gen ed25519b -t ed25519
gen ed25519c -t ed25519
gen ecdsa -t ecdsa -b 256
gen rsa -t rsa -b 3072
gen rsa1024 -t rsa -b 1024
gen rsabig -t rsa -b 4104
ssh-keygen -q -N 'correct horse' -C enc -t ed25519 -f "$tmp/ed25519_enc" \
    >/dev/null 2>&1 || fail "t_keys setup" "ssh-keygen encrypted key"

# The 1024-bit key in PKCS#1 PEM form, for signatures made by mbedtls.
cp "$tmp/rsa1024" "$tmp/rsa1024.pem" &&
ssh-keygen -q -p -N '' -P '' -m PEM -f "$tmp/rsa1024.pem" >/dev/null 2>&1 ||
    fail "t_keys setup" "ssh-keygen -p -m PEM"

printf 'remowt signed message\nsecond line\n' >"$tmp/msg"
for k in ed25519 ecdsa rsa rsabig; do
	ssh-keygen -lf "$tmp/$k.pub" | awk '{ print $2 }' >"$tmp/$k.fp"
	[ -s "$tmp/$k.fp" ] || fail "t_keys setup" "ssh-keygen -lf $k"
	ssh-keygen -q -Y sign -n file -f "$tmp/$k" "$tmp/msg" >/dev/null 2>&1 &&
	mv "$tmp/msg.sig" "$tmp/$k.sshsig" ||
	    fail "t_keys setup" "ssh-keygen -Y sign $k"
done

for v in ed25519-nopsw ed25519-psw ecdsa-nopsw rsa-nopsw; do
	cp "$vectors/$v.key" "$tmp/vec-$v" &&
	cp "$vectors/$v.key.pub" "$tmp/vec-$v.pub" &&
	chmod 600 "$tmp/vec-$v" || fail "t_keys setup" "copy vector $v"
done

status=0
"$unit_sshkey" "$tmp" || status=1
"$unit_hostkeys" "$tmp" || status=1
exit $status
