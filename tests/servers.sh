# tests/servers.sh - real SSH servers on 127.0.0.1 for the tests.  Source
# it after lib.sh.  Nothing here touches /etc/ssh, /root/.ssh, the real
# known_hosts or the machine's own sshd: each server runs in a private
# mount + pid namespace where /etc/passwd and /etc/group are bind-mounted
# copies that give the login users a home directory inside $T and
# /bin/sh as login shell.  Killing the server (the namespace's init)
# kills every session process it started.
#
#   rig_init            client keys, users, empty ssh config, known_hosts
#   start_sshd NAME [LOGLEVEL [sshd_config lines...]]
#   start_dropbear NAME [dropbear args...]   (DROPBEAR_PASSWORDS=1: no -s)
#   rig_shadow [USER PASSWORD]...   passwords, for servers started after it
#        both set SRV_PORT, SRV_DIR, SRV_LOG, SRV_PID (unshare's pid) and
#        SRV_HOSTKEYS (a file of "type base64" lines, one per host key)
#        and return 1 after printing a not ok line if the server would
#        not start.
#   server_stop PID     stop one early (all are stopped on exit anyway)
#   kh_add PORT HOSTKEYS_FILE [KNOWN_HOSTS [TYPE_ERE]]
#   rsh PORT 'COMMAND LINE' [remowt options...]
#        remowt sh with the rig's options (known_hosts checking on) as
#        root@127.0.0.1; results as for remowt_run.
#
# Users: root (home $T/home/root) and $RIG_USER (uid 4242, home
# $T/home/$RIG_USER); both take the key $T/id_ed25519.

SSHD=${SSHD:-/usr/sbin/sshd}
RIG_USER=rwtest
RIG_UID=4242

rig_init() {
	require_cmd ssh-keygen unshare ss timeout sha256sum
	ssh-keygen -q -t ed25519 -N '' -C remowt-test -f "$T/id_ed25519"
	# a key no server knows
	ssh-keygen -q -t ed25519 -N '' -C remowt-wrong -f "$T/id_wrong"

	mkdir -p "$T/home"
	chmod 0711 "$T/home"
	_rig_home root 0 0
	_rig_home "$RIG_USER" "$RIG_UID" "$RIG_UID"

	if grep -q "^$RIG_USER:" /etc/passwd; then
		grep -v "^$RIG_USER:" /etc/passwd >"$T/passwd"
	else
		cat /etc/passwd >"$T/passwd"
	fi
	sed -i "s#^root:[^:]*:0:0:[^:]*:[^:]*:.*#root:x:0:0:root:$T/home/root:/bin/sh#" "$T/passwd"
	echo "$RIG_USER:x:$RIG_UID:$RIG_UID:remowt test:$T/home/$RIG_USER:/bin/sh" >>"$T/passwd"
	grep -v "^$RIG_USER:" /etc/group >"$T/group" || true
	echo "$RIG_USER:x:$RIG_UID:" >>"$T/group"
	chmod 0644 "$T/passwd" "$T/group"

	: >"$T/ssh_config"
	: >"$T/known_hosts"
	# what every remowt run of the tests gets (the key goes separately)
	COMMON=(-F "$T/ssh_config" -o "UserKnownHostsFile=$T/known_hosts"
		-o StrictHostKeyChecking=yes)
	KEY=(-i "$T/id_ed25519")
}

_rig_home() { # user uid gid
	local h=$T/home/$1
	mkdir -p "$h/.ssh"
	cp "$T/id_ed25519.pub" "$h/.ssh/authorized_keys"
	chmod 0700 "$h" "$h/.ssh"
	chmod 0600 "$h/.ssh/authorized_keys"
	chown -R "$2:$3" "$h"
}

# ns_start LOG CMD...: run CMD as init of a new pid + mount namespace
# with the rig's passwd/group (and, when the script made one with
# rig_shadow, its shadow file); unshare's pid in NS_PID.
ns_start() {
	local log=$1 shadow= pam=
	shift
	[ ! -f "$T/shadow" ] || shadow=$T/shadow
	[ ! -d "$T/pam.d" ] || pam=$T/pam.d
	unshare -m -p -f --kill-child --propagation private --mount-proc \
		/bin/sh -c 'mount --bind "$1" /etc/passwd &&
			mount --bind "$2" /etc/group &&
			{ [ -z "$3" ] || mount --bind "$3" /etc/shadow; } &&
			{ [ -z "$4" ] || mount --bind "$4" /etc/pam.d; } &&
			shift 4 && exec "$@"' \
		sh "$T/passwd" "$T/group" "$shadow" "$pam" "$@" </dev/null >"$log" 2>&1 &
	NS_PID=$!
	_ns_pids+=("$NS_PID")
}

# rig_shadow [USER PASSWORD]...: a shadow file for the servers started
# after it (call it before them), bind-mounted over /etc/shadow inside
# their namespaces only: every rig account locked ('*') except the
# USERs named, which get PASSWORD (SHA-512 crypt).  The machine's own
# /etc/shadow is neither read nor changed.
rig_shadow() {
	local today u hash line
	require_cmd openssl
	today=$(($(date +%s) / 86400))
	: >"$T/shadow.new"
	chmod 0600 "$T/shadow.new"
	while IFS=: read -r u _; do
		[ -n "$u" ] || continue
		hash='*'
		line=$(_rig_shadow_pw "$u" "$@") && hash=$line
		echo "$u:$hash:$today:0:99999:7:::"
	done <"$T/passwd" >>"$T/shadow.new"
	mv "$T/shadow.new" "$T/shadow"
}

_rig_shadow_pw() { # user [USER PASSWORD]...: the crypt hash, if named
	local u=$1
	shift
	while [ $# -ge 2 ]; do
		if [ "$1" = "$u" ]; then
			printf '%s\n' "$2" | openssl passwd -6 -stdin
			return 0
		fi
		shift 2
	done
	return 1
}

server_stop() {
	local p keep=()
	ns_stop "$1"
	for p in "${_ns_pids[@]}"; do
		[ "$p" = "$1" ] || keep+=("$p")
	done
	_ns_pids=("${keep[@]}")
}

# ---- OpenSSH ----------------------------------------------------------

_sshd_config() { # dir port loglevel extra-lines...
	local d=$1 port=$2 lvl=$3 l
	shift 3
	{
		echo "ListenAddress 127.0.0.1"
		echo "Port $port"
		for l in ed25519 ecdsa rsa; do
			echo "HostKey $d/ssh_host_${l}_key"
		done
		echo "PidFile $d/sshd.pid"
		echo "AuthorizedKeysFile .ssh/authorized_keys"
		echo "PermitRootLogin prohibit-password"
		echo "PubkeyAuthentication yes"
		echo "PasswordAuthentication no"
		echo "KbdInteractiveAuthentication ${SSHD_KBDINT:-no}"
		echo "UsePAM ${SSHD_KBDINT:-no}"
		echo "StrictModes no"
		echo "UseDNS no"
		echo "PrintMotd no"
		echo "PrintLastLog no"
		echo "MaxStartups 64:30:128"
		echo "LogLevel $lvl"
		for l in "$@"; do
			echo "$l"
		done
	} >"$d/sshd_config"
}

start_sshd() {
	local name=$1 lvl=${2:-VERBOSE} d=$T/$1 t port
	shift
	[ $# = 0 ] || shift
	require_cmd "$SSHD"
	mkdir -p "$d"
	if [ ! -f "$d/ssh_host_ed25519_key" ]; then
		ssh-keygen -q -t ed25519 -N '' -C '' -f "$d/ssh_host_ed25519_key"
		ssh-keygen -q -t ecdsa -b 256 -N '' -C '' -f "$d/ssh_host_ecdsa_key"
		ssh-keygen -q -t rsa -b 3072 -N '' -C '' -f "$d/ssh_host_rsa_key"
		cat "$d"/ssh_host_{ed25519,ecdsa,rsa}_key.pub | cut -d' ' -f1,2 >"$d/hostkeys.pub"
	fi
	# sshd's privilege separation directory (normally made by its service)
	mkdir -p /run/sshd
	for t in 1 2 3 4 5; do
		port=$(free_port)
		_sshd_config "$d" "$port" "$lvl" "$@"
		: >"$d/log"
		ns_start "$d/ns.log" "$SSHD" -D -E "$d/log" -f "$d/sshd_config"
		if wait_listen "$port" "$NS_PID" 10; then
			SRV_PORT=$port SRV_DIR=$d SRV_LOG=$d/log SRV_PID=$NS_PID
			SRV_HOSTKEYS=$d/hostkeys.pub
			return 0
		fi
		server_stop "$NS_PID"
	done
	not_ok "$name server" "sshd would not start: $(tail -3 "$d/log" "$d/ns.log" | _oneline)"
	return 1
}

# ---- dropbear ---------------------------------------------------------

start_dropbear() {
	local name=$1 d=$T/$1 t port k
	shift
	require_cmd dropbear dropbearkey
	mkdir -p "$d"
	if [ ! -f "$d/ed25519" ]; then
		dropbearkey -t ed25519 -f "$d/ed25519" >/dev/null 2>&1
		dropbearkey -t ecdsa -s 256 -f "$d/ecdsa" >/dev/null 2>&1
		dropbearkey -t rsa -s 2048 -f "$d/rsa" >/dev/null 2>&1
		for k in ed25519 ecdsa rsa; do
			dropbearkey -y -f "$d/$k" | grep -E '^(ssh-|ecdsa-)' | cut -d' ' -f1,2
		done >"$d/hostkeys.pub"
	fi
	for t in 1 2 3 4 5; do
		port=$(free_port)
		# DROPBEAR_PASSWORDS=1: without -s, so password logins work
		# shellcheck disable=SC2046
		ns_start "$d/log" dropbear -F -E $([ "${DROPBEAR_PASSWORDS:-0}" = 1 ] || echo -s) \
			-m -p "127.0.0.1:$port" \
			-P "$d/dropbear.pid" -r "$d/ed25519" -r "$d/ecdsa" -r "$d/rsa" "$@"
		if wait_listen "$port" "$NS_PID" 10; then
			SRV_PORT=$port SRV_DIR=$d SRV_LOG=$d/log SRV_PID=$NS_PID
			SRV_HOSTKEYS=$d/hostkeys.pub
			return 0
		fi
		server_stop "$NS_PID"
	done
	not_ok "$name server" "dropbear would not start: $(tail -3 "$d/log" | _oneline)"
	return 1
}

# ---- known_hosts and running --------------------------------------------

# kh_add PORT HOSTKEYS_FILE [KNOWN_HOSTS [TYPE_ERE]]
kh_add() {
	local port=$1 keys=$2 kh=${3:-$T/known_hosts} re=${4:-.}
	grep -E "^($re)" "$keys" | sed "s/^/[127.0.0.1]:$port /" >>"$kh"
}

rsh() {
	local port=$1 cmd=$2
	shift 2
	remowt_run sh "${COMMON[@]}" "${KEY[@]}" "$@" -p "$port" root@127.0.0.1 "$cmd"
}

# For developing the rig: check a server with OpenSSH's own client.
rig_check_ssh() { # port [user]
	timeout 20 ssh -F none -o BatchMode=yes -o UserKnownHostsFile="$T/known_hosts" \
		-o StrictHostKeyChecking=yes -i "$T/id_ed25519" -p "$1" \
		"${2:-root}@127.0.0.1" 'echo "rig ok: $(id -un) $HOME $0"'
}
