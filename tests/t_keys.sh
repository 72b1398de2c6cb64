#!/bin/sh
# t_keys.sh - run unit_sshkey and unit_hostkeys on keys made by ssh-keygen
# and openssl: openssh-key-v1 clear and under a passphrase (every cipher
# ssh-keygen offers), PEM PKCS#1, SEC1 and PKCS#8, encrypted PEM.
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
command -v openssl >/dev/null 2>&1 || fail "t_keys setup" "openssl not found"
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

# Passphrase-protected copies: enc-* at ssh-keygen's default 16 rounds of
# bcrypt_pbkdf and cipher aes256-ctr, z-* with each other cipher at 2.
# Each must name its cipher in the clear header.
enc() { # NAME FROM ROUNDS [CIPHER]
	name=$1 from=$2 rounds=$3 cipher=${4:-aes256-ctr}
	cp "$tmp/$from" "$tmp/$name" && cp "$tmp/$from.pub" "$tmp/$name.pub" &&
	ssh-keygen -q -p -P '' -N 'pass phrase' -a "$rounds" -Z "$cipher" \
	    -f "$tmp/$name" >/dev/null 2>&1 &&
	sed '1d;$d' "$tmp/$name" | base64 -d | grep -aq "$cipher" ||
	    fail "t_keys setup" "ssh-keygen -p -Z $cipher $name"
}
enc enc-ed25519 ed25519 16
enc enc-ecdsa ecdsa 16
enc enc-rsa rsa 16
enc z-aes128-ctr ed25519 2 aes128-ctr
enc z-aes192-ctr ed25519 2 aes192-ctr
enc z-aes128-cbc ed25519 2 aes128-cbc
enc z-aes192-cbc ed25519 2 aes192-cbc
enc z-aes256-cbc rsa1024 2 aes256-cbc
enc z-aes128-gcm ecdsa 2 aes128-gcm@openssh.com
enc z-aes256-gcm ecdsa 2 aes256-gcm@openssh.com
enc z-chacha ed25519 2 chacha20-poly1305@openssh.com

# has FILE TEXT: the file is in the format the tests take it for.
has() {
	grep -q -- "$2" "$tmp/$1" || fail "t_keys setup" "$1 lacks '$2'"
}

# PEM copies by ssh-keygen: -m PEM is PKCS#1 or SEC1, -m PKCS8 PKCS#8.
pem() { # NAME FROM FORMAT [PASSPHRASE]
	cp "$tmp/$2" "$tmp/$1" &&
	ssh-keygen -q -p -P '' -N "${4:-}" -m "$3" -f "$tmp/$1" \
	    >/dev/null 2>&1 || fail "t_keys setup" "ssh-keygen -p -m $3 $1"
	[ -n "${4:-}" ] || ssh-keygen -y -f "$tmp/$1" >"$tmp/$1.pub" ||
	    fail "t_keys setup" "ssh-keygen -y $1"
}
pem pem-rsa rsa PEM
pem pem-rsabig rsabig PEM
pem pem-ecdsa ecdsa PEM
pem p8-rsa rsa PKCS8
pem p8-ecdsa ecdsa PKCS8
pem pem-enc-rsa rsa1024 PEM 'pass phrase'
pem p8-enc-ecdsa ecdsa PKCS8 'pass phrase'
has pem-rsa 'BEGIN RSA PRIVATE KEY'
has pem-ecdsa 'BEGIN EC PRIVATE KEY'
has p8-rsa 'BEGIN PRIVATE KEY'
has p8-ecdsa 'BEGIN PRIVATE KEY'
has pem-enc-rsa 'Proc-Type: 4,ENCRYPTED'
has p8-enc-ecdsa 'BEGIN ENCRYPTED PRIVATE KEY'

# PEM keys by openssl; public halves by ssh-keygen -y, or for Ed25519
# (which ssh-keygen does not read in PEM) from openssl's own.
ossl() { # NAME OPENSSL-ARGS...
	name=$1
	shift
	openssl "$@" -out "$tmp/$name" >/dev/null 2>&1 &&
	chmod 600 "$tmp/$name" || fail "t_keys setup" "openssl $name"
}
ossl ossl-rsa genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048
ossl ossl-rsa1 rsa -in "$tmp/ossl-rsa" -traditional
ossl ossl-ec genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256
ossl ossl-ecparam ecparam -genkey -name prime256v1
ossl ossl-ed25519 genpkey -algorithm ed25519
ossl ossl-p384 genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384
ossl ossl-enc genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
    -aes256 -pass 'pass:pass phrase'
has ossl-rsa 'BEGIN PRIVATE KEY'
has ossl-rsa1 'BEGIN RSA PRIVATE KEY'
has ossl-ec 'BEGIN PRIVATE KEY'
has ossl-ecparam 'BEGIN EC PARAMETERS'
has ossl-ed25519 'BEGIN PRIVATE KEY'
has ossl-enc 'BEGIN ENCRYPTED PRIVATE KEY'
for k in ossl-rsa ossl-rsa1 ossl-ec ossl-ecparam; do
	ssh-keygen -y -f "$tmp/$k" >"$tmp/$k.pub" ||
	    fail "t_keys setup" "ssh-keygen -y $k"
done
edpub=$({ printf '\000\000\000\013ssh-ed25519\000\000\000\040'
	openssl pkey -in "$tmp/ossl-ed25519" -pubout -outform DER | tail -c 32
} | base64 -w0) || fail "t_keys setup" "openssl pkey -pubout"
echo "ssh-ed25519 $edpub" >"$tmp/ossl-ed25519.pub"

# RSA public keys for openssl dgst -verify.
for k in rsa rsabig; do
	ssh-keygen -e -m PKCS8 -f "$tmp/$k.pub" >"$tmp/$k.pub.pem" ||
	    fail "t_keys setup" "ssh-keygen -e $k"
done

printf 'remowt signed message\nsecond line\n' >"$tmp/msg"
for k in ed25519 ecdsa rsa rsabig; do
	ssh-keygen -lf "$tmp/$k.pub" | awk '{ print $2 }' >"$tmp/$k.fp"
	[ -s "$tmp/$k.fp" ] || fail "t_keys setup" "ssh-keygen -lf $k"
	ssh-keygen -q -Y sign -n file -f "$tmp/$k" "$tmp/msg" >/dev/null 2>&1 &&
	mv "$tmp/msg.sig" "$tmp/$k.sshsig" ||
	    fail "t_keys setup" "ssh-keygen -Y sign $k"
done

for v in ed25519-nopsw ed25519-psw ecdsa-nopsw ecdsa-psw rsa-nopsw rsa-psw; do
	cp "$vectors/$v.key" "$tmp/vec-$v" &&
	cp "$vectors/$v.key.pub" "$tmp/vec-$v.pub" &&
	chmod 600 "$tmp/vec-$v" || fail "t_keys setup" "copy vector $v"
done

status=0
"$unit_sshkey" "$tmp" || status=1
"$unit_hostkeys" "$tmp" || status=1
exit $status
