#!/bin/bash
# tests/demo.sh - see remowt work in a minute: installs what is needed,
# builds, starts a throwaway OpenSSH server on 127.0.0.1 with its own
# keys in a temp dir, and runs a few commands through `remowt sh` with
# host key checking on.  The server is stopped and the temp dir removed
# at the end, even on failure or Ctrl-C.  Nothing is changed in /etc/ssh,
# ~/.ssh or the machine's own sshd.  Run as root (it installs packages
# and runs the server in a private namespace).
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
	echo "demo: please run as root (it installs packages and starts a test server)" >&2
	exit 1
fi

step "Installing build and test dependencies (tests/deps.sh)"
tests/deps.sh | sed 's/^/    /'

step "Building remowt (make)"
make -s 2>&1 | sed 's/^/    /'
say "built $(./remowt version 2>/dev/null | head -1 || echo ./remowt)"

# The test rig: temp dir, trap, keys, a server in its own namespace.
TMO=30
. tests/lib.sh
. tests/servers.sh
REMOWT=$PWD/remowt

step "Starting a throwaway OpenSSH server on 127.0.0.1"
rig_init
start_sshd demo-sshd VERBOSE || exit 1
kh_add "$SRV_PORT" "$SRV_HOSTKEYS"
CFG=$T/demo.conf
cat >"$CFG" <<EOF
Host demo
	HostName 127.0.0.1
	Port $SRV_PORT
	User root
	IdentityFile $T/id_ed25519
	UserKnownHostsFile $T/known_hosts
	StrictHostKeyChecking yes
EOF
say "sshd $(sshd -V 2>&1 | head -1 | cut -d, -f1 || true) listening on 127.0.0.1:$SRV_PORT"
say "its host keys, a client key and a known_hosts file are in $T"
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
	timeout 30 "$@" 2>&1 | sed 's/^/  /' || rc=$?
	return $rc
}

step "Running commands through remowt sh"
cd "$T"
ln -s "$REMOWT" remowt

show ./remowt sh -F "$CFG" demo 'uname -a'
show ./remowt sh -F "$CFG" demo 'id; echo "home: $HOME, shell: $0"'

rc=0
show ./remowt sh -F "$CFG" demo 'echo "exiting with 3"; exit 3' || rc=$?
say "${D}remowt exited with $rc: the remote exit status is passed on$N"

printf '\n%s$ printf '"'"'hello through stdin\\n'"'"' | ./remowt sh -F demo.conf demo '"'"'tr a-z A-Z'"'"'%s\n' "$B" "$N"
printf 'hello through stdin\n' | timeout 30 ./remowt sh -F "$CFG" demo 'tr a-z A-Z' | sed 's/^/  /'

rc=0
show ./remowt sh -F "$CFG" demo 'kill -TERM $$' || rc=$?
say "${D}remowt exited with $rc (128 + SIGTERM's 15): death by a signal is reported$N"

step "The agent: deployed once into a cache on the host, then driven by RPC"
mkdir -p tree/sub && echo "a small tree" >tree/sub/readme.txt
head -c 100000 /dev/urandom >tree/blob.bin
show ./remowt -F "$CFG" --cache "$T/agent-cache" info demo
show ./remowt -F "$CFG" --cache "$T/agent-cache" info demo
show ./remowt -F "$CFG" --cache "$T/agent-cache" mkdir -p "demo:$T/remote/sub"
show ./remowt -F "$CFG" --cache "$T/agent-cache" put tree/blob.bin "demo:$T/remote/blob.bin"
show ./remowt -F "$CFG" --cache "$T/agent-cache" put tree/sub/readme.txt "demo:$T/remote/sub/readme.txt"
show ./remowt -F "$CFG" --cache "$T/agent-cache" exec demo -- printf '[%s]\n' "two words" "it's \"quoted\"" '$NOT_EXPANDED'
show ./remowt -F "$CFG" --cache "$T/agent-cache" sum "demo:$T/remote/blob.bin"
say "${D}local:  $(sha256sum tree/blob.bin)$N"
show ./remowt -F "$CFG" --cache "$T/agent-cache" get "demo:$T/remote/sub/readme.txt" readme.back
show ./remowt -F "$CFG" --cache "$T/agent-cache" ls -l "demo:$T/remote"

step "Host key checking: the same server against a known_hosts with another key"
ssh-keygen -q -t ed25519 -N '' -C '' -f "$T/other_key"
echo "[127.0.0.1]:$SRV_PORT $(cut -d' ' -f1,2 "$T/other_key.pub")" >"$T/known_hosts.wrong"
rc=0
show ./remowt sh -F "$CFG" -o "UserKnownHostsFile=$T/known_hosts.wrong" demo 'echo never runs' || rc=$?
if [ $rc = 255 ]; then
	say "${G}refused (exit 255): nothing was sent to a server whose key changed$N"
else
	say "${R}unexpected: exit $rc$N"
fi

cd - >/dev/null
step "Done"
say "stopping the server and removing $T"
