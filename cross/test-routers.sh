#!/bin/bash
# cross/test-routers.sh [ARCH...] - the six throwaway routers, end to end.
#
# For each ARCH (default: all six) starts a router (cross/router.sh) in a
# temporary directory and checks over real SSH that:
#   - `uname -m` and byte 5 of /bin/sh (ELF EI_DATA: 1 little, 2 big
#     endian) are the router's; root and user log in with their uid/HOME;
#   - every agent in build/agents (uploaded through ssh into /tmp) runs
#     there only if it is for that CPU: `agent --version` succeeds for the
#     right one and fails for the five others;
#   - the right agent exits 0 when its stdin is closed.
# Needs cross/toolchains.sh, and `make cross` for the agent checks.  Stops
# every router it started, also on failure.  Ends with "N passed, N failed".
set -u
. "$(dirname "$0")/lib.sh"

[ $# -gt 0 ] || set -- $ALL_ARCHES
base=$(mktemp -d /tmp/remowt-routers.XXXXXX)
pass=0 failn=0
started=

cleanup() {
	local d
	for d in $started; do "$REMOWT_TOP/cross/router.sh" stop "$d"; done
	rm -rf "$base"
}
trap cleanup EXIT

ok() { pass=$((pass + 1)); echo "ok - $*"; }
bad() { failn=$((failn + 1)); echo "not ok - $*"; }

# A free port on 127.0.0.1.
free_port() {
	local p
	for p in $(shuf -i 20000-39999 -n 50); do
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
	done
	return 1
}

expect_uname() {
	case $1 in
	mips|mipsel) echo mips ;; arm) echo armv5tel ;; *) echo "$1" ;;
	esac
}
expect_endian() {
	case $1 in mips) echo 2 ;; *) echo 1 ;; esac
}

for a in "$@"; do
	arch=$(arch_canon "$a") || { bad "unknown arch $a"; continue; }
	dir=$base/$arch
	port=$(free_port) || { bad "$arch: no free port"; continue; }
	t0=$(now)
	if ! "$REMOWT_TOP/cross/router.sh" start "$arch" "$dir" "$port" >"$base/$arch.start" 2>&1; then
		cat "$base/$arch.start"
		bad "$arch: router starts"
		continue
	fi
	started="$started $dir"
	ok "$arch: router on port $port up in $(elapsed "$t0") s"
	ssh_r() {
		local user=$1; shift
		ssh -F none -i "$dir/id_ed25519" -o UserKnownHostsFile="$dir/known_hosts" \
		    -o BatchMode=yes -o ConnectTimeout=20 -p "$port" "$user@127.0.0.1" "$@"
	}

	out=$(ssh_r root 'uname -m; head -c 6 /bin/sh | tail -c 1 | od -An -tu1' 2>&1)
	m=$(echo "$out" | sed -n 1p)
	e=$(echo "$out" | sed -n 2p | tr -d ' ')
	if [ "$m" = "$(expect_uname "$arch")" ] && [ "$e" = "$(expect_endian "$arch")" ]; then
		ok "$arch: uname -m = $m, /bin/sh EI_DATA = $e"
	else
		bad "$arch: uname/endianness: got '$out'"
	fi

	out=$(ssh_r user 'id -u; echo $HOME; pwd; touch /tmp/u && echo tmp-ok; touch /root/x 2>/dev/null || echo root-denied' 2>&1 | tr '\n' ' ')
	if [ "$out" = "1000 /home/user /home/user tmp-ok root-denied " ]; then
		ok "$arch: user session (uid 1000, HOME, /tmp writable, /root not)"
	else
		bad "$arch: user session: got '$out'"
	fi

	for b in $ALL_ARCHES; do
		bin=$REMOWT_TOP/build/agents/agent-$b
		[ -f "$bin" ] || continue
		if ! ssh_r root "cat >/tmp/agent-$b && chmod 755 /tmp/agent-$b" <"$bin"; then
			bad "$arch: upload agent-$b"
			continue
		fi
		out=$(ssh_r root "/tmp/agent-$b --version" 2>&1)
		rc=$?
		if [ "$b" = "$arch" ]; then
			if [ "$rc" = 0 ] && case $out in remowt-agent\ protocol*) true ;; *) false ;; esac; then
				ok "$arch: own agent runs: $out"
			else
				bad "$arch: own agent: exit $rc: $out"
			fi
			out=$(ssh_r root "/tmp/agent-$b </dev/null >/tmp/hello; echo \$?; wc -c </tmp/hello" 2>&1 | tr '\n' ' ')
			case $out in
			"0 "*) ok "$arch: own agent exits 0 on closed stdin (stdout bytes: ${out#0 })" ;;
			*) bad "$arch: own agent with stdin from /dev/null: $out" ;;
			esac
		else
			if [ "$rc" != 0 ]; then
				ok "$arch: agent-$b refused (exit $rc: $(echo "$out" | head -n1 | cut -c1-60))"
			else
				bad "$arch: agent-$b ran on a $arch router: $out"
			fi
		fi
	done
done
echo "$pass passed, $failn failed"
[ "$failn" = 0 ]
