#!/bin/bash
# t_deploy.sh - the agent deployed over SSH into its cache on the host,
# against real sshd and dropbear: first and cached contact, damaged
# cached agents, planted or loose cache directories, hostile cache
# paths, and the agent commands over SSH.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/servers.sh"
require_remowt
require_cmd python3

rig_init
# A cache too small for any agent, mounted before the servers start so
# that their private mount namespaces inherit it.
mkdir -p "$T/tiny"
mount -t tmpfs -o size=16k,mode=0755 remowt-test-tiny "$T/tiny" || exit 1
trap 'umount -l "$T/tiny" 2>/dev/null; _on_exit' EXIT
start_sshd openssh || exit 1
OS_PORT=$SRV_PORT
kh_add "$OS_PORT" "$SRV_HOSTKEYS"
start_dropbear dropbear || exit 1
DB_PORT=$SRV_PORT
kh_add "$DB_PORT" "$SRV_HOSTKEYS"
# A host without gunzip: its sessions' PATH has what the stager and the
# tests run, and nothing else.
mkdir -p "$T/nogz-bin"
for c in ls sha256sum head chmod mv rm od id mkdir uname cat true; do
	ln -s "$(type -P "$c")" "$T/nogz-bin/$c"
done
start_sshd openssh-nogz VERBOSE "SetEnv PATH=$T/nogz-bin" || exit 1
NOGZ_PORT=$SRV_PORT
kh_add "$NOGZ_PORT" "$SRV_HOSTKEYS"

# R PORT ARGS...: remowt with the rig's options against root@127.0.0.1.
R() {
	local port=$1
	shift
	remowt_run "${COMMON[@]}" "${KEY[@]}" -p "$port" "$@"
}

# json_get KEY: a field of the single JSON object on stdout.
json_get() {
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' \
		"$T/out" "$1" 2>/dev/null
}

HASH=$("$REMOWT" --json version --agents | python3 -c '
import json, sys
for l in sys.stdin:
    o = json.loads(l)
    if o["arch"] == "x86_64":
        print(o["sha256"])')

# The hashes come from the build, not from hashing at every contact:
# each must still be that of the bytes embedded.
tcase "version names each embedded agent by the SHA-256 of its file"
OUT=$T/agents.json remowt_run --json version --agents
exp_rc 0
while read -r arch sum; do
	f=$ROOT/build/agents/agent-$arch
	[ -f "$f" ] || f=$ROOT/build/agent
	exp_eq "$arch" "$(sha256sum <"$f" | cut -c1-64)" "$sum"
done < <(python3 -c '
import json, sys
for l in open(sys.argv[1]):
    o = json.loads(l)
    print(o["arch"], o["sha256"])' "$T/agents.json")
remowt_run --json version
exp_rc 0
exp_eq "the host agent" "$(sha256sum <"$ROOT/build/agent" | cut -c1-64)" \
	"$(json_get agent_sha256)"
tend

# The x86_64 agent as embedded, and gzipped (cross/embed.sh).
AGENT=$ROOT/build/agents/agent-x86_64
[ -f "$AGENT" ] || AGENT=$ROOT/build/agent

for S in openssh dropbear; do
	[ $S = openssh ] && P=$OS_PORT || P=$DB_PORT
	C=$T/cache-$S

	tcase "$S: first contact uploads the agent into a 0700 cache"
	R "$P" --json --cache "$C" info root@127.0.0.1
	exp_rc 0
	exp_eq "uploaded" "True" "$(json_get uploaded)"
	exp_eq "arch" "x86_64" "$(json_get arch)"
	exp_eq "endian" "little" "$(json_get endian)"
	exp_eq "agent hash" "$HASH" "$(json_get agent_sha256)"
	exp_eq "cache mode" "700" "$(stat -c %a "$C" 2>&1)"
	exp_eq "cached file" "$HASH" "$(sha256sum <"$C/$HASH" | cut -c1-64)"
	exp_eq "bytes sent, gzipped" "$(stat -c %s "$AGENT.gz")" \
		"$(json_get upload_bytes)"
	tend

	tcase "$S: the second contact runs the cached agent"
	R "$P" --json --cache "$C" info root@127.0.0.1
	exp_rc 0
	exp_eq "uploaded" "False" "$(json_get uploaded)"
	exp_eq "kernel" "$(uname -r)" "$(json_get kernel)"
	tend

	# The CPU is found once per boot: od runs again only when .arch was
	# written under another boot id.
	tcase "$S: the CPU found is kept in .arch under the boot id"
	BOOT=$(cat /proc/sys/kernel/random/boot_id)
	exp_eq ".arch" "$BOOT x86_64 little" "$(cat "$C/.arch" 2>&1)"
	echo "an-earlier-boot mips big" >"$C/.arch"
	R "$P" --json --cache "$C" info root@127.0.0.1
	exp_rc 0
	exp_eq "arch after a stale .arch" "x86_64" "$(json_get arch)"
	exp_eq ".arch rewritten" "$BOOT x86_64 little" "$(cat "$C/.arch" 2>&1)"
	tend

	tcase "$S: an upload into a full cache fails with its reason, leaving nothing"
	R "$P" --cache "$T/tiny/c-$S" info root@127.0.0.1
	exp_rc 255
	exp_out_empty
	exp_err_match "cannot write $T/tiny/c-$S/.upload" "the stager's reason"
	exp_eq "left in the cache" "" "$(ls "$T/tiny/c-$S" 2>&1)"
	tend

	tcase "$S: a truncated cached agent is replaced, never run"
	truncate -s 1000 "$C/$HASH"
	R "$P" --json --cache "$C" info root@127.0.0.1
	exp_rc 0
	exp_eq "uploaded" "True" "$(json_get uploaded)"
	exp_eq "cached file" "$HASH" "$(sha256sum <"$C/$HASH" | cut -c1-64)"
	tend

	tcase "$S: a corrupted cached agent of the right size is replaced"
	printf 'XXXX' | dd of="$C/$HASH" bs=1 seek=200 conv=notrunc 2>/dev/null
	R "$P" --json --cache "$C" info root@127.0.0.1
	exp_rc 0
	exp_eq "uploaded" "True" "$(json_get uploaded)"
	exp_eq "cached file" "$HASH" "$(sha256sum <"$C/$HASH" | cut -c1-64)"
	tend

	tcase "$S: a cache directory that is a symlink is refused"
	mkdir -p "$T/elsewhere-$S"
	ln -s "$T/elsewhere-$S" "$T/link-$S"
	R "$P" --cache "$T/link-$S" info root@127.0.0.1
	exp_rc 255
	exp_err_match "symlink|mode"
	exp_eq "nothing written through the link" "" "$(ls -A "$T/elsewhere-$S")"
	tend

	tcase "$S: a cache directory planted by another user is refused"
	mkdir -m 0700 "$T/planted-$S"
	chown 4242 "$T/planted-$S"
	R "$P" --cache "$T/planted-$S" info root@127.0.0.1
	exp_rc 255
	exp_err_match "belongs to uid 4242"
	tend

	tcase "$S: a cache directory with loose permissions is refused"
	mkdir -m 0755 "$T/loose-$S"
	R "$P" --cache "$T/loose-$S" info root@127.0.0.1
	exp_rc 255
	exp_err_match "mode 0700"
	tend

	tcase "$S: hostile characters in the cache path stay data"
	H="$T/h $S 'q' \"d\" \$(touch $T/pwned-$S) \`touch $T/pwned2-$S\`;x"
	R "$P" --json --cache "$H" info root@127.0.0.1
	exp_rc 0
	exp_eq "cache" "$H" "$(json_get cache)"
	[ -f "$H/$HASH" ] || fail "no agent in '$H'"
	[ ! -e "$T/pwned-$S" ] && [ ! -e "$T/pwned2-$S" ] ||
		fail "the remote shell ran part of the path"
	tend

	tcase "$S: exec passes arguments with spaces and quotes exactly"
	R "$P" --cache "$C" exec root@127.0.0.1 -- printf '[%s]' "a b" "it's" \
		'"q"' '$HOME' ''
	exp_rc 0
	exp_out_str "[a b][it's][\"q\"][\$HOME][]"
	tend

	tcase "$S: exit codes pass through exec"
	R "$P" --cache "$C" exec root@127.0.0.1 -- sh -c 'exit 42'
	exp_rc 42
	tend

	tcase "$S: put, sum and get round trip over SSH"
	head -c 300000 /dev/urandom >"$T/blob-$S"
	R "$P" --cache "$C" put "$T/blob-$S" "root@127.0.0.1:$T/remote-$S"
	exp_rc 0
	R "$P" --cache "$C" sum "root@127.0.0.1:$T/remote-$S"
	exp_rc 0
	exp_out_match "^$(sha "$T/blob-$S")  "
	R "$P" --cache "$C" get "root@127.0.0.1:$T/remote-$S" "$T/back-$S"
	exp_rc 0
	exp_eq "round trip" "$(sha "$T/blob-$S")" "$(sha "$T/back-$S")"
	tend

	tcase "$S: agent clean removes stale agents and keeps the current one"
	touch "$C/$(printf '%064d' 0)" "$C/.upload.99" "$C/notes"
	R "$P" --cache "$C" agent clean root@127.0.0.1
	exp_rc 0
	exp_eq "left" ".arch $HASH notes" "$(ls -A "$C" | LC_ALL=C sort | tr '\n' ' ' | sed 's/ $//')"
	tend
done

tcase "a host without gunzip gets the agent as it is"
R "$NOGZ_PORT" --json --cache "$T/cache-nogz" info root@127.0.0.1
exp_rc 0
exp_eq "uploaded" "True" "$(json_get uploaded)"
exp_eq "bytes sent" "$(stat -c %s "$AGENT")" "$(json_get upload_bytes)"
exp_eq "cached file" "$HASH" \
	"$(sha256sum <"$T/cache-nogz/$HASH" 2>&1 | cut -c1-64)"
R "$NOGZ_PORT" --cache "$T/cache-nogz" exec root@127.0.0.1 -- true
exp_rc 0
tend

tcase "the default cache is /tmp/remowt-UID"
R "$OS_PORT" --json info root@127.0.0.1
exp_rc 0
exp_eq "cache" "/tmp/remowt-$(id -u)" "$(json_get cache)"
tend

# A host whose shell answers the stager with terminal control sequences:
# they reach the user's terminal escaped, never as they came.
if start_dropbear hostile-stager -c \
	"printf 'REMOWT1 error \\033]0;owned\\007\\033[2J\\033[31mred\\n'"; then
	kh_add "$SRV_PORT" "$SRV_HOSTKEYS"
	tcase "a stager answer's control bytes are escaped on the terminal"
	R "$SRV_PORT" info root@127.0.0.1
	exp_rc 255
	exp_err_match 'x1b\]0;owned'
	if grep -q "$(printf '\033')" "$T/err"; then
		fail "an escape byte reached stderr"
	fi
	tend
fi
