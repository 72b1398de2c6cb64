#!/bin/bash
# t_oldrouter.sh - an old router's SSH server: Debian's dropbear source
# built with tests/oldrouter/localoptions.h, which leaves only the SHA-1
# era algorithms (host key ssh-rsa, kex diffie-hellman-group14-sha1,
# cipher aes128-ctr, MAC hmac-sha1; no ext-info, so no server-sig-algs).
#
# remowt must refuse it by default, name the exact -o options that let
# it in (each missing one), and with them (on the command line or in a
# config file) log in and run commands over exactly those algorithms.
#
# The build is cached in build/oldrouter/KEY/ (KEY: a hash of
# localoptions.h, the configure flags and the source package version),
# so CI builds it once per run.  Getting the source needs a deb-src
# entry: when apt has none, /etc/apt/sources.list.d/remowt-src.list is
# added with the machine's own Debian mirror.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/servers.sh"
require_remowt
require_cmd setsid python3 sha256sum apt-get dpkg-source make cc flock
rig_init
TMO=${OLDROUTER_TMO:-60}

unset SSH_AUTH_SOCK SSH_AGENT_PID SSH_ASKPASS SSH_ASKPASS_REQUIRE DISPLAY \
	WAYLAND_DISPLAY
export HOME=$T/client
mkdir -m 0700 "$HOME"

OPTS_H=$TESTS_DIR/oldrouter/localoptions.h
OLD_DIR=$ROOT/build/oldrouter
CONFIGURE_FLAGS="--disable-zlib --enable-bundled-libtom --disable-pam \
--disable-syslog --disable-lastlog --disable-utmp --disable-utmpx \
--disable-wtmp --disable-wtmpx"

# ---- the source and the build ---------------------------------------------------

# deb_src_line: "deb-src URI SUITE main" for this machine's own Debian
# mirror, read from its sources (one-line or deb822 format)
deb_src_line() {
	local suite uri signed=
	suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
	# deb822: the stanza of Types deb whose Suites has the release itself
	uri=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk -v s="$suite" '
		/^[[:space:]]*$/ { if (deb && hit && uri != "") { print uri; exit }
			deb = 0; hit = 0; uri = ""; next }
		/^Types:/ { for (i = 2; i <= NF; i++) if ($i == "deb") deb = 1 }
		/^URIs:/ { uri = $2 }
		/^Suites:/ { for (i = 2; i <= NF; i++) if ($i == s) hit = 1 }
		END { if (deb && hit && uri != "") print uri }' | head -1)
	if [ -z "$uri" ]; then
		uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
			awk -v s="$suite" '$1 == "deb" {
				for (i = 2; i <= NF; i++) if ($i !~ /^\[/ && $i ~ /:\/\//) {
					if ($(i + 1) == s) { print $i; exit } } }')
	fi
	uri=${uri:-http://deb.debian.org/debian}
	if [ -f /usr/share/keyrings/debian-archive-keyring.gpg ]; then
		signed=" [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg]"
	fi
	echo "deb-src$signed $uri $suite main"
}

# ensure_deb_src: a deb-src entry exists (adding ours if none does) and
# apt has read the source indexes
ensure_deb_src() {
	local update=0
	if ! grep -rqsE '^[[:space:]]*(Types:.*deb-src|deb-src[[:space:]])' \
		/etc/apt/sources.list /etc/apt/sources.list.d/; then
		[ "$(id -u)" = 0 ] || return 1
		{
			echo "# added by remowt tests/t_oldrouter.sh: Debian sources for dropbear"
			deb_src_line
		} >/etc/apt/sources.list.d/remowt-src.list
		echo "# added /etc/apt/sources.list.d/remowt-src.list: $(tail -1 /etc/apt/sources.list.d/remowt-src.list)"
		update=1
	fi
	if ! ls /var/lib/apt/lists/*_Sources* >/dev/null 2>&1; then
		update=1
	fi
	if [ $update = 1 ]; then
		apt-get -q -o DPkg::Lock::Timeout=600 update >"$OLD_DIR/apt-update.log" 2>&1 || {
			tail -5 "$OLD_DIR/apt-update.log" >&2
			return 1
		}
	fi
}

# fetch_source: Debian's dropbear source, unpacked (patches applied)
# under $OLD_DIR/src; its directory in SRC
fetch_source() {
	local d
	SRC=
	for d in "$OLD_DIR"/src/dropbear-[0-9]*/; do
		[ -f "$d/.unpacked" ] && SRC=${d%/}
	done
	[ -z "$SRC" ] || return 0
	rm -rf "$OLD_DIR/src"
	mkdir -p "$OLD_DIR/src"
	if ! (cd "$OLD_DIR/src" && apt-get -q source --only-source dropbear) \
		>"$OLD_DIR/source.log" 2>&1; then
		ensure_deb_src || return 1
		rm -rf "$OLD_DIR/src"
		mkdir -p "$OLD_DIR/src"
		(cd "$OLD_DIR/src" && apt-get -q source --only-source dropbear) \
			>"$OLD_DIR/source.log" 2>&1 || return 1
	fi
	for d in "$OLD_DIR"/src/dropbear-[0-9]*/; do
		SRC=${d%/}
	done
	[ -n "$SRC" ] && [ -f "$SRC/default_options.h" ] || return 1
	touch "$SRC/.unpacked"
}

# build_oldrouter: the cached binaries, built if needed; BIN and KEYGEN
build_oldrouter() {
	local key b ver d
	mkdir -p "$OLD_DIR"
	fetch_source || return 1
	# the source package's version (e.g. dropbear_2022.83-1+deb12u3.dsc)
	ver=$(basename "$SRC")
	for d in "$OLD_DIR"/src/*.dsc; do
		ver=$(basename "$d")
	done
	key=$({ cat "$OPTS_H"; echo "$CONFIGURE_FLAGS"; echo "$ver"; } | sha256sum | cut -c1-16)
	b=$OLD_DIR/$key
	BIN=$b/dropbear
	KEYGEN=$b/dropbearkey
	if [ -x "$BIN" ] && [ -x "$KEYGEN" ]; then
		echo "# old router dropbear: cached $b"
		return 0
	fi
	echo "# old router dropbear: building $ver with $OPTS_H into $b"
	rm -rf "$b.tmp"
	mkdir -p "$b.tmp"
	cp -a "$SRC" "$b.tmp/src"
	cp "$OPTS_H" "$b.tmp/src/localoptions.h"
	# shellcheck disable=SC2086
	if ! (cd "$b.tmp/src" && ./configure $CONFIGURE_FLAGS &&
		make -j2 PROGRAMS="dropbear dropbearkey") >"$b.tmp/build.log" 2>&1; then
		cp "$b.tmp/build.log" "$OLD_DIR/build-failed.log"
		tail -20 "$b.tmp/build.log" >&2
		return 1
	fi
	cp "$b.tmp/src/dropbear" "$b.tmp/src/dropbearkey" "$b.tmp/src/localoptions.h" \
		"$b.tmp/"
	rm -rf "$b.tmp/src"
	rm -rf "$b"
	mv "$b.tmp" "$b"
}

mkdir -p "$OLD_DIR"
# one build at a time, also across scripts running at once
exec 9>"$OLD_DIR/.lock"
flock -w 900 9 || bail "build/oldrouter is locked by another build"
t0=$(now_us)
build_oldrouter || bail "cannot build the old router dropbear (see $OLD_DIR/*.log)"
flock -u 9
exec 9>&-
echo "# old router dropbear ready after $((($(now_us) - t0) / 1000000)) s: $BIN"

# ---- the server -------------------------------------------------------------------

PW='r0uter pass'                 # root's password on the router
rig_shadow root "$PW" "$RIG_USER" "$PW"

# an RSA user key (the only kind this build knows) for root
ssh-keygen -q -t rsa -b 3072 -N '' -C old-rsa -f "$T/id_rsa" || bail "ssh-keygen rsa"
cat "$T/id_rsa.pub" >>"$T/home/root/.ssh/authorized_keys"

# start_oldrouter NAME [dropbear args...]: like start_dropbear, with the
# old router build and an RSA host key only
start_oldrouter() {
	local name=$1 d=$T/$1 t port
	shift
	mkdir -p "$d"
	if [ ! -f "$d/rsa" ]; then
		"$KEYGEN" -t rsa -s 2048 -f "$d/rsa" >/dev/null 2>&1 || return 1
		"$KEYGEN" -y -f "$d/rsa" | grep '^ssh-rsa ' | cut -d' ' -f1,2 >"$d/hostkeys.pub"
	fi
	for t in 1 2 3 4 5; do
		port=$(free_port)
		ns_start "$d/log" "$BIN" -F -p "127.0.0.1:$port" -P "$d/dropbear.pid" \
			-r "$d/rsa" "$@"
		if wait_listen "$port" "$NS_PID" 10; then
			SRV_PORT=$port SRV_DIR=$d SRV_LOG=$d/log SRV_PID=$NS_PID
			SRV_HOSTKEYS=$d/hostkeys.pub
			return 0
		fi
		server_stop "$NS_PID"
	done
	not_ok "$name server" "the old router dropbear would not start: $(tail -3 "$d/log" | _oneline)"
	return 1
}

start_oldrouter oldrouter || exit 1
OP=$SRV_PORT
OLOG=$SRV_LOG
kh_add "$OP" "$SRV_HOSTKEYS"

# ---- helpers ------------------------------------------------------------------------

cat >"$T/askpass" <<EOF
#!/bin/sh
printf '%s\n' "\$1" >>"$T/askpass.log"
printf '%s\n' '$PW'
EOF
chmod 0755 "$T/askpass"

HK='HostKeyAlgorithms=+ssh-rsa'
KX='KexAlgorithms=+diffie-hellman-group14-sha1'
MC='MACs=+hmac-sha1'
ALL3=(-o "$HK" -o "$KX" -o "$MC")

# run 'CMD' [options...]: remowt sh to root@ the router, no terminal,
# its password from our askpass program
run() {
	local cmd=$1
	shift
	: >"$T/askpass.log"
	SSH_ASKPASS=$T/askpass SSH_ASKPASS_REQUIRE=force \
		REMOWT_WRAP="setsid -w $REMOWT_WRAP" remowt_run sh "${COMMON[@]}" "$@" \
		-p "$OP" root@127.0.0.1 "$cmd"
}

# named_options: the -o X=+Y options the message names, one a line
named_options() {
	grep -aoE -- '-o (HostKeyAlgorithms|KexAlgorithms|MACs|Ciphers)=\+[A-Za-z0-9@.-]+' "$T/err" |
		sed 's/^-o //' | sort -u
}

# exp_names OPTION: 255, one line, naming -o OPTION and no other
exp_names() {
	local got
	exp_rc 255
	exp_out_empty
	exp_err_lines 1
	got=$(named_options | tr '\n' ' ' | sed 's/ $//')
	exp_eq "the -o option named" "$1" "$got"
	[ ! -s "$T/askpass.log" ] || fail "asked for a password before the algorithms were agreed"
}

# exp_exactly: -v shows the four legacy algorithms, both ways
exp_exactly() {
	local l
	for l in 'kex: diffie-hellman-group14-sha1, host key ssh-rsa' \
		'kex: client->server cipher aes128-ctr MAC hmac-sha1' \
		'kex: server->client cipher aes128-ctr MAC hmac-sha1'; do
		if ! grep -aqxF "debug1: $l" "$T/err"; then
			fail "-v does not show exactly '$l': '$(grep -a 'kex: ' "$T/err" | _oneline)'"
		fi
	done
}

# ---- what the build offers ---------------------------------------------------------

tcase "the old router offers only ssh-rsa, diffie-hellman-group14-sha1, aes128-ctr, hmac-sha1"
if python3 "$TESTS_DIR/evilpeer.py" probe "$OP" >"$T/kexinit" 2>"$T/probe.err"; then
	# kexguess2 and kex-strict are markers, not methods
	kex=$(sed -n 's/^kex //p' "$T/kexinit" | tr ',' '\n' |
		grep -vE '^(kexguess2@matt\.ucc\.asn\.au|kex-strict-s-v00@openssh\.com|ext-info-s)$' |
		tr '\n' ',' | sed 's/,$//')
	exp_eq "kex" diffie-hellman-group14-sha1 "$kex"
	exp_eq "host key" ssh-rsa "$(sed -n 's/^hostkey //p' "$T/kexinit")"
	exp_eq "cipher c2s" aes128-ctr "$(sed -n 's/^cipher_c2s //p' "$T/kexinit")"
	exp_eq "cipher s2c" aes128-ctr "$(sed -n 's/^cipher_s2c //p' "$T/kexinit")"
	exp_eq "MAC c2s" hmac-sha1 "$(sed -n 's/^mac_c2s //p' "$T/kexinit")"
	exp_eq "MAC s2c" hmac-sha1 "$(sed -n 's/^mac_s2c //p' "$T/kexinit")"
else
	fail "cannot read the server's KEXINIT: $(_oneline <"$T/probe.err")"
fi
tend

# ---- refusals that say what to add -------------------------------------------------

tcase "default: exit 255, one line naming a -o X=+Y option"
run 'echo should not run'
exp_rc 255
exp_out_empty
exp_err_lines 1
n=$(named_options | wc -l)
[ "$n" = 1 ] || fail "the message names $n -o options: '$(_oneline <"$T/err")'"
exp_err_match 'SHA-1' "SHA-1"
tend

tcase "given kex and MAC: names -o $HK"
run 'echo should not run' -o "$KX" -o "$MC"
exp_names "$HK"
tend

tcase "given host key and MAC: names -o $KX"
run 'echo should not run' -o "$HK" -o "$MC"
exp_names "$KX"
tend

tcase "given host key and kex: names -o $MC"
run 'echo should not run' -o "$HK" -o "$KX"
exp_names "$MC"
tend

tcase "following the advice, one option at a time, reaches the router"
opts=()
steps=0
named=()
while [ $steps -lt 4 ]; do
	run 'echo reached' "${opts[@]}"
	[ "$RC" = 255 ] || break
	o=$(named_options | head -1)
	if [ -z "$o" ]; then
		fail "step $((steps + 1)) failed without naming an option: '$(_oneline <"$T/err")'"
		break
	fi
	case " ${named[*]} " in
	*" $o "*)
		fail "named $o again"
		break
		;;
	esac
	named+=("$o")
	opts+=(-o "$o")
	steps=$((steps + 1))
done
exp_rc 0
exp_out_str $'reached\n'
exp_eq "the options named, in turn" "$(printf '%s\n' "$HK" "$KX" "$MC" | sort | tr '\n' ' ')" \
	"$(printf '%s\n' "${named[@]}" | sort | tr '\n' ' ')"
tend

# ---- logging in -----------------------------------------------------------------------

tcase "with the three -o options: logs in (password), runs the command, its exit status"
run 'echo "hi from $(id -un)"; echo err >&2; exit 3' "${ALL3[@]}"
exp_rc 3
exp_out_str $'hi from root\n'
exp_err_str $'err\n'
if ! grep -aq 'password' "$T/askpass.log"; then
	fail "the password was not asked for: '$(_oneline <"$T/askpass.log")'"
fi
tend

tcase "with the three -o options: -v shows exactly those algorithms"
run true -v "${ALL3[@]}"
exp_rc 0
exp_exactly
tend

tcase "1 MiB through cat over aes128-ctr + hmac-sha1"
head -c $((1024 * 1024)) /dev/urandom >"$T/in1"
IN=$T/in1 OUT=$T/out1 TMO=120 run cat "${ALL3[@]}"
exp_rc 0
exp_same_sha "$T/in1" "$T/out1" "stdout"
tend

cat >"$T/router.conf" <<EOF
Host oldrouter
	HostName 127.0.0.1
	Port $OP
	User root
	HostKeyAlgorithms +ssh-rsa
	KexAlgorithms +diffie-hellman-group14-sha1
	MACs +hmac-sha1
EOF
tcase "a config file Host block with the three lines: logs in, exactly those algorithms"
: >"$T/askpass.log"
SSH_ASKPASS=$T/askpass SSH_ASKPASS_REQUIRE=force REMOWT_WRAP="setsid -w $REMOWT_WRAP" \
	remowt_run sh -v -F "$T/router.conf" -o "UserKnownHostsFile=$T/known_hosts" \
	-o StrictHostKeyChecking=yes oldrouter 'id -un; exit 7'
exp_rc 7
exp_out_str $'root\n'
exp_exactly
tend

tcase "the config lines the messages suggest, added under Host, reach the router"
printf 'Host 127.0.0.1\n\tPort %s\n' "$OP" >"$T/suggested.conf"
steps=0
while [ $steps -lt 4 ]; do
	: >"$T/askpass.log"
	SSH_ASKPASS=$T/askpass SSH_ASKPASS_REQUIRE=force REMOWT_WRAP="setsid -w $REMOWT_WRAP" \
		remowt_run sh -F "$T/suggested.conf" -o "UserKnownHostsFile=$T/known_hosts" \
		-o StrictHostKeyChecking=yes root@127.0.0.1 'echo reached'
	[ "$RC" = 255 ] || break
	line=$(grep -aoE "the line '[A-Za-z]+ \+[A-Za-z0-9@.-]+'" "$T/err" | head -1 |
		sed "s/^the line '//; s/'\$//")
	if [ -z "$line" ]; then
		fail "no config line suggested: '$(_oneline <"$T/err")'"
		break
	fi
	printf '\t%s\n' "$line" >>"$T/suggested.conf"
	steps=$((steps + 1))
done
exp_rc 0
exp_out_str $'reached\n'
exp_eq "lines added" 3 "$steps"
tend

# ---- an RSA user key ---------------------------------------------------------------------

# With no server-sig-algs the server takes only "ssh-rsa" (SHA-1)
# signatures for RSA user keys.  remowt must either make one, or say
# plainly that this is why the key cannot be used.
tcase "RSA user key on the router (no server-sig-algs): logs in, or 255 naming ssh-rsa"
run 'echo key login' -v "${ALL3[@]}" -i "$T/id_rsa" -o PasswordAuthentication=no
if [ "$RC" = 0 ]; then
	exp_out_str $'key login\n'
	if ! grep -aq 'offering ssh-rsa key' "$T/err"; then
		fail "logged in, but -v shows no ssh-rsa signature offered: '$(grep -a offering "$T/err" | _oneline)'"
	fi
else
	exp_rc 255
	exp_out_empty
	if ! grep -av '^debug1: ' "$T/err" | grep -aq 'ssh-rsa'; then
		fail "refused without saying why: '$(grep -av '^debug1: ' "$T/err" | _oneline)' (offered: '$(grep -a offering "$T/err" | _oneline)')"
	fi
fi
tend
