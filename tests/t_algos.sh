#!/bin/bash
# t_algos.sh - every key exchange x host key x cipher (x MAC, for the CTR
# ciphers) that both remowt and the server support, each forced with -o,
# against OpenSSH sshd and dropbear.  -v must name the negotiated
# algorithms, which proves the forced ones were used.
#
# The server's side is read from its own KEXINIT (tests/evilpeer.py
# probe), so only combinations the server offers are forced; the lists
# found are printed as comments.  ALGO_JOBS=N sets the concurrency (3).
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/servers.sh"
require_remowt
require_cmd python3
rig_init

# What remowt implements.
R_KEX="curve25519-sha256 curve25519-sha256@libssh.org ecdh-sha2-nistp256 diffie-hellman-group14-sha256"
R_HOSTKEY="ssh-ed25519 ecdsa-sha2-nistp256 rsa-sha2-512 rsa-sha2-256"
R_CIPHER="chacha20-poly1305@openssh.com aes256-gcm@openssh.com aes128-gcm@openssh.com aes128-ctr aes256-ctr"
R_MAC="hmac-sha2-256 hmac-sha2-512 hmac-sha2-256-etm@openssh.com hmac-sha2-512-etm@openssh.com"
JOBS=${ALGO_JOBS:-3}

# common WANTED OFFERED(comma list): the words of WANTED found in OFFERED
common() {
	local w out=
	for w in $1; do
		case ",$2," in
		*",$w,"*) out="$out $w" ;;
		esac
	done
	echo "${out# }"
}

# a name as an ERE matching it as a whole word (not as part of a longer
# algorithm name such as curve25519-sha256 in curve25519-sha256@libssh.org)
word_re() {
	printf '(^|[^[:alnum:]@.-])%s([^[:alnum:]@.-]|$)' "$(printf '%s' "$1" | sed 's/[.]/[.]/g')"
}

# combo IDX SERVER PORT KEX HOSTKEY CIPHER [MAC]: one forced connection;
# its ok / not ok line goes to $T/res/IDX
combo() {
	local i=$1 S=$2 P=$3 K=$4 H=$5 C=$6 M=${7:-} opts name a
	OUT=$T/res/$i.out
	ERR=$T/res/$i.err
	opts=(-v -o "KexAlgorithms=$K" -o "HostKeyAlgorithms=$H" -o "Ciphers=$C")
	name="$S: kex=$K hostkey=$H cipher=$C"
	if [ -n "$M" ]; then
		opts+=(-o "MACs=$M")
		name="$name mac=$M"
	fi
	{
		tcase "$name"
		rsh "$P" "echo $i" "${opts[@]}"
		exp_rc 0
		exp_out_str "$i"$'\n'
		for a in "$K" "$H" "$C" $M; do
			if ! grep -aqE "$(word_re "$a")" "$ERR"; then
				fail "-v output does not name $a$(_errhint)"
			fi
		done
		tend
	} >"$T/res/$i" 2>&1
}

mkdir -p "$T/res"
idx=0
combo_pids=()

# _ndone: combos finished so far (each leaves IDX.done behind)
_ndone() {
	local f n=0
	for f in "$T"/res/*.done; do
		n=$((n + 1))
	done
	echo $n
}

# launch CMD...: run a combo in the background, at most $JOBS at once.
# (Not `wait -n`: the servers are background jobs of this shell too.)
launch() {
	local i=$idx
	idx=$((idx + 1))
	{
		"$@" || true
		: >"$T/res/$i.done"
	} &
	combo_pids+=($!)
	while [ $((idx - $(_ndone))) -ge "$JOBS" ]; do
		sleep 0.02
	done
}

plan() { # server port
	local S=$1 P=$2 kex hk ciph mac k h c m n=0
	if ! python3 "$TESTS_DIR/evilpeer.py" probe "$P" >"$T/$S.kexinit" 2>"$T/$S.probe.err"; then
		not_ok "$S: read the server's KEXINIT" "$(_oneline <"$T/$S.probe.err")"
		return 0
	fi
	kex=$(common "$R_KEX" "$(sed -n 's/^kex //p' "$T/$S.kexinit")")
	hk=$(common "$R_HOSTKEY" "$(sed -n 's/^hostkey //p' "$T/$S.kexinit")")
	ciph=$(common "$R_CIPHER" "$(sed -n 's/^cipher_c2s //p' "$T/$S.kexinit")")
	mac=$(common "$R_MAC" "$(sed -n 's/^mac_c2s //p' "$T/$S.kexinit")")
	echo "# $S offers, of remowt's: kex: $kex; host keys: $hk; ciphers: $ciph; MACs: $mac"
	if [ -z "$kex" ] || [ -z "$hk" ] || [ -z "$ciph" ]; then
		not_ok "$S: algorithms in common" "none for some kind: kex '$kex' hostkey '$hk' cipher '$ciph'"
		return 0
	fi
	for k in $kex; do
		for h in $hk; do
			for c in $ciph; do
				case $c in
				*-ctr)
					for m in $mac; do
						launch combo "$idx" "$S" "$P" "$k" "$h" "$c" "$m"
						n=$((n + 1))
					done
					;;
				*)
					launch combo "$idx" "$S" "$P" "$k" "$h" "$c"
					n=$((n + 1))
					;;
				esac
			done
		done
	done
	echo "# $S: $n combinations"
}

if start_sshd openssh; then
	kh_add "$SRV_PORT" "$SRV_HOSTKEYS"
	PORT_openssh=$SRV_PORT
	plan openssh "$SRV_PORT"
fi
if start_dropbear dropbear; then
	kh_add "$SRV_PORT" "$SRV_HOSTKEYS"
	PORT_dropbear=$SRV_PORT
	plan dropbear "$SRV_PORT"
fi
for p in "${combo_pids[@]}"; do
	wait "$p" || true
done

# report in a stable order, counted here in the parent
for i in $(seq 0 $((idx - 1))); do
	f=$T/res/$i
	if [ ! -s "$f" ]; then
		not_ok "combination $i" "no result"
		continue
	fi
	while IFS= read -r line; do
		case $line in
		"ok - "*) ok "${line#ok - }" ;;
		"not ok - "*)
			line=${line#not ok - }
			not_ok "${line%%: *}" "${line#*: }"
			;;
		*) echo "$line" ;;
		esac
	done <"$f"
done

# ---- refusals -------------------------------------------------------------

if [ -n "${PORT_dropbear:-}" ]; then
	tcase "dropbear: a cipher the server lacks (aes256-gcm) fails: exit 255, one line"
	rsh "$PORT_dropbear" 'echo should not run' -o Ciphers=aes256-gcm@openssh.com
	exp_rc 255
	exp_out_empty
	exp_err_lines 1
	tend

	tcase "dropbear: a host key type the server lacks (rsa-sha2-512) fails: exit 255, one line"
	rsh "$PORT_dropbear" 'echo should not run' -o HostKeyAlgorithms=rsa-sha2-512
	exp_rc 255
	exp_out_empty
	exp_err_lines 1
	tend
fi

if [ -n "${PORT_openssh:-}" ]; then
	tcase "an unknown cipher name is refused before connecting"
	rsh "$PORT_openssh" 'echo should not run' -o Ciphers=rot13-cbc
	exp_rc_fail
	exp_out_empty
	exp_err_nonempty
	tend

	tcase "openssh: -v names the default algorithms too"
	rsh "$PORT_openssh" true -v
	exp_rc 0
	exp_err_match 'curve25519|ecdh|diffie' "a key exchange"
	tend
fi
