#!/bin/bash
# tests/demo.sh - see remowt do its job on a throwaway little-endian MIPS
# "router": installs what is needed, builds remowt with the mipsel agent,
# starts a busybox root filesystem of that CPU behind a real dropbear on
# 127.0.0.1 (cross/router.sh; its programs run under qemu-user as a
# 24Kc, a MIPS core without an FPU), then detects the CPU, deploys the
# agent, copies a small tree, runs a program with awkward arguments,
# compares sums, copies a file back and shows a changed host key being
# refused.  The router is stopped and the temp dir removed at the end,
# even on failure or Ctrl-C.  Nothing is changed in /etc/ssh, ~/.ssh or
# the machine's own sshd or binfmt_misc.  Run as root (it installs
# packages and starts the router in private namespaces).
set -eu -o pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
cd "$HERE/.."

if [ -t 1 ]; then
	B=$'\e[1m' D=$'\e[2m' G=$'\e[32m' R=$'\e[31m' N=$'\e[0m'
else
	B='' D='' G='' R='' N=''
fi
step() { printf '\n%s==> %s%s\n' "$B" "$*" "$N"; }
say() { printf '    %s\n' "$*"; }

if [ "$(id -u)" != 0 ]; then
	echo "demo: please run as root (it installs packages and starts a test router)" >&2
	exit 1
fi

step "Installing build and test dependencies (tests/deps.sh)"
tests/deps.sh | sed 's/^/    /'

step "Building the mipsel agent with a cross musl (cross/toolchains.sh mipsel)"
cross/toolchains.sh mipsel 2>&1 | sed 's/^/    /'
make -s build/agents/agent-mipsel 2>&1 | sed 's/^/    /'

step "Building remowt (make), which embeds the agents built"
make -s 2>&1 | sed 's/^/    /'
say "built $(./remowt version 2>/dev/null | head -1 || echo ./remowt)"

# The test rig's temp dir and traps; the router is ours to stop.
TMO=30
. tests/lib.sh
REMOWT=$PWD/remowt
ROUTER=$T/router
stop_router() { cross/router.sh stop "$ROUTER" >/dev/null 2>&1 || true; }
trap 'stop_router; _on_exit' EXIT

step "Starting a mipsel router on 127.0.0.1 behind dropbear (cross/router.sh)"
PORT=$(free_port)
cross/router.sh start mipsel "$ROUTER" "$PORT" 2>&1 | sed 's/^/    /'
CFG=$T/demo.conf
cat >"$CFG" <<EOF
Host router
	HostName 127.0.0.1
	Port $PORT
	User root
	IdentityFile $ROUTER/id_ed25519
	UserKnownHostsFile $ROUTER/known_hosts
	StrictHostKeyChecking yes
EOF
say "its root filesystem, host keys, a client key and known_hosts are in $ROUTER"
say "remowt reads this ssh_config (-F), host key checking on:"
sed 's/^/        /' "$CFG"

# quote WORD: as a person would type it in a shell
quote() {
	case $1 in
	'' | *[!A-Za-z0-9_./=:@%+-]*) printf "'%s'" "${1//\'/\'\\\'\'}" ;;
	*) printf '%s' "$1" ;;
	esac
}

# show CMD...: print the command as a person would type it, run it
show() {
	local rc=0 shown='' a
	for a in "$@"; do
		shown="$shown $(quote "$a")"
	done
	shown=${shown//"$CFG"/demo.conf}
	printf '\n%s$%s%s\n' "$B" "$shown" "$N"
	timeout 60 "$@" 2>&1 | sed 's/^/  /' || rc=$?
	return $rc
}

cd "$T"
ln -s "$REMOWT" remowt

step "What the router says of itself: uname -m cannot tell mips from mipsel"
show ./remowt sh -F "$CFG" router 'uname -m; cat /etc/remowt-router; busybox | head -n 1'

step "The agent: the CPU detected, uploaded once into /tmp (RAM), then cached"
show ./remowt -F "$CFG" info router
show ./remowt -F "$CFG" info router

step "A small tree onto the router"
mkdir -p tree/etc/config tree/www
printf 'config system\n\toption hostname demo\n' >tree/etc/config/system
printf '<h1>it works</h1>\n' >tree/www/index.html
head -c 200000 /dev/urandom >tree/firmware.bin
show ./remowt -F "$CFG" push tree/ router:/tmp/demo
show ./remowt -F "$CFG" ls -l router:/tmp/demo router:/tmp/demo/etc/config
say "${D}a second push with --sync finds nothing to copy:$N"
show ./remowt -F "$CFG" --json push --sync tree/ router:/tmp/demo


step "A program with arguments holding spaces and quotes: argv straight to execve"
show ./remowt -F "$CFG" exec router -- printf '[%s]\n' "two words" "it's \"quoted\"" '$NOT_EXPANDED'

step "Sums on the router, beside the local ones"
show ./remowt -F "$CFG" sum router:/tmp/demo/firmware.bin router:/tmp/demo/www/index.html
say "${D}local:  $(sha256sum tree/firmware.bin)$N"

step "A file back from the router"
show ./remowt -F "$CFG" get router:/tmp/demo/etc/config/system system.back
if cmp -s tree/etc/config/system system.back; then
	say "${G}system.back is the file that was sent$N"
else
	say "${R}system.back differs from the file sent$N"
	exit 1
fi

step "Host key checking: the same router against a known_hosts with another key"
ssh-keygen -q -t ed25519 -N '' -C '' -f "$T/other_key"
echo "[127.0.0.1]:$PORT $(cut -d' ' -f1,2 "$T/other_key.pub")" >"$T/known_hosts.wrong"
rc=0
show ./remowt sh -F "$CFG" -o "UserKnownHostsFile=$T/known_hosts.wrong" router 'echo never runs' || rc=$?
if [ $rc = 255 ]; then
	say "${G}refused (exit 255): nothing was sent to a server whose key changed$N"
else
	say "${R}unexpected: exit $rc$N"
	exit 1
fi

cd - >/dev/null
step "Done"
say "stopping the router and removing $T"
