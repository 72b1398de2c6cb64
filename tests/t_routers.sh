#!/bin/bash
# t_routers.sh - remowt against throwaway routers of six CPUs
# (cross/router.sh): busybox trees of mips, mipsel, arm, aarch64, riscv64
# and x86_64 behind real dropbear, mipsel and aarch64 also behind real
# OpenSSH sshd (ChrootDirectory), every session under qemu-user with a
# private binfmt_misc that knows only the router's own CPU.
#
# On each router: the first contact detects the CPU and uploads that
# CPU's agent, later contacts run it from the cache, a damaged cached
# agent is replaced and never run, planted or symlinked caches are
# refused, the other CPUs' agents cannot run there, and every agent
# command works, checked against the router's tree from outside; on
# mipsel and aarch64 the shell runs on the agent's terminal too.
#
# Needs `make cross` (the agents embedded in remowt, the toolchains that
# build the routers' busybox).  Without the agents the script skips,
# unless REQUIRE_ROUTERS=1 (CI), when that is a failure.
#   ROUTERS="mipsel:dropbear aarch64:sshd"   only these routers
. "$(dirname "$0")/lib.sh"
require_remowt
require_cmd python3 unshare ssh-keygen dropbearkey

ROUTERS=${ROUTERS:-mips:dropbear mipsel:dropbear arm:dropbear \
aarch64:dropbear riscv64:dropbear x86_64:dropbear mipsel:sshd aarch64:sshd}
ARCHES="mips mipsel arm aarch64 riscv64 x86_64"

# The embedded agents: "arch sha256" lines.
"$REMOWT" --json version --agents | python3 -c '
import json, sys
for l in sys.stdin:
    o = json.loads(l)
    print(o["arch"], o["sha256"])' >"$T/agents"
agent_hash() { awk -v a="$1" '$1 == a { print $2 }' "$T/agents"; }

missing=
for a in $ARCHES; do
	[ -n "$(agent_hash "$a")" ] && [ -f "$ROOT/build/agents/agent-$a" ] ||
		missing="$missing $a"
done
if [ -n "$missing" ]; then
	if [ "${REQUIRE_ROUTERS:-0}" = 1 ]; then
		bail "no agent embedded for:$missing (run make cross, then make)"
	fi
	skip "routers" "no agent embedded for:$missing (run make cross, then make)"
	exit 0
fi

expect_machine() {
	case $1 in mips | mipsel) echo mips ;; arm) echo armv5tel ;; *) echo "$1" ;; esac
}
expect_endian() {
	case $1 in mips) echo big ;; *) echo little ;; esac
}

# json_get KEY: a field of the single JSON object on stdout.
json_get() {
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' \
		"$T/out" "$1" 2>/dev/null
}

# json_check PYTHON-EXPR over `objs`, the JSON lines of stdout.
json_check() {
	python3 -c '
import json, os, sys
objs = [json.loads(l) for l in open(sys.argv[1])]
sys.exit(0 if eval(sys.argv[2]) else 1)' "$T/out" "$1" 2>/dev/null ||
		fail "json: $1: $(_oneline <"$T/out")"
}

# start_router ARCH SERVER: sets RDIR, RROOT, RPORT; 1 if it would not start.
start_router() {
	local arch=$1 server=$2 t
	RDIR=$T/r-$arch-$server
	for t in 1 2 3; do
		RPORT=$(free_port)
		if "$ROOT/cross/router.sh" start "$arch" "$RDIR" "$RPORT" \
			--server "$server" >"$RDIR.start" 2>&1; then
			# shellcheck disable=SC1091
			. "$RDIR/env"
			# its PID 1: stopping it ends the router (lib.sh, on exit)
			_ns_pids+=("$ROUTER_PID")
			RROOT=$ROUTER_ROOT
			return 0
		fi
	done
	not_ok "$arch/$server: router starts" "$(tail -3 "$RDIR.start" | _oneline)"
	return 1
}

# R USER ARGS...: remowt as USER@ the router under test.
R() {
	local user=$1
	shift
	remowt_run -F none -i "$RDIR/id_ed25519" -o "UserKnownHostsFile=$RDIR/known_hosts" \
		-o StrictHostKeyChecking=yes -p "$RPORT" "$@"
}
H=127.0.0.1

# ---- the checks, for one router -----------------------------------------

check_contact() {
	local a=$1 s=$2 hash cache
	hash=$(agent_hash "$a")
	cache=$RROOT/tmp/remowt-0

	tcase "$a/$s: first contact detects the CPU and uploads its agent"
	R root --json info "root@$H"
	exp_rc 0
	exp_eq "uploaded" True "$(json_get uploaded)"
	exp_eq "arch" "$a" "$(json_get arch)"
	exp_eq "endian" "$(expect_endian "$a")" "$(json_get endian)"
	exp_eq "machine" "$(expect_machine "$a")" "$(json_get machine)"
	exp_eq "agent hash" "$hash" "$(json_get agent_sha256)"
	exp_eq "cache" /tmp/remowt-0 "$(json_get cache)"
	exp_eq "cache mode" 700 "$(stat -c %a "$cache" 2>&1)"
	exp_eq "cached file" "$hash" "$(sha "$cache/$hash" 2>&1)"
	# busybox's gunzip unpacked it
	exp_eq "bytes sent, gzipped" \
		"$(stat -c %s "$ROOT/build/agents/agent-$a.gz" 2>&1)" \
		"$(json_get upload_bytes)"
	tend

	tcase "$a/$s: the next contact runs the cached agent"
	R root --json info "root@$H"
	exp_rc 0
	exp_eq "uploaded" False "$(json_get uploaded)"
	exp_eq "kernel" "$(uname -r)" "$(json_get kernel)"
	tend

	tcase "$a/$s: a truncated cached agent is replaced, never run"
	truncate -s 1000 "$cache/$hash"
	R root --json info "root@$H"
	exp_rc 0
	exp_eq "uploaded" True "$(json_get uploaded)"
	exp_eq "cached file" "$hash" "$(sha "$cache/$hash")"
	tend

	tcase "$a/$s: a corrupted cached agent of the right size is replaced"
	printf 'XXXX' | dd of="$cache/$hash" bs=1 seek=300 conv=notrunc 2>/dev/null
	R root --json info "root@$H"
	exp_rc 0
	exp_eq "uploaded" True "$(json_get uploaded)"
	exp_eq "cached file" "$hash" "$(sha "$cache/$hash")"
	tend

	tcase "$a/$s: a cache planted by another user is refused"
	rm -rf "$RROOT/tmp/remowt-1000"
	mkdir -m 0700 "$RROOT/tmp/remowt-1000"
	R user info "user@$H"
	exp_rc 255
	exp_err_match "belongs to uid 0"
	exp_eq "nothing written there" "" "$(ls -A "$RROOT/tmp/remowt-1000")"
	tend

	tcase "$a/$s: a cache that is a symlink is refused"
	rm -rf "$RROOT/tmp/remowt-1000" "$RROOT/tmp/elsewhere"
	mkdir -m 0700 "$RROOT/tmp/elsewhere"
	chown 1000:1000 "$RROOT/tmp/elsewhere"
	ln -s elsewhere "$RROOT/tmp/remowt-1000"
	R user info "user@$H"
	exp_rc 255
	exp_err_match "symlink"
	exp_eq "nothing written through the link" "" "$(ls -A "$RROOT/tmp/elsewhere")"
	tend

	tcase "$a/$s: an ordinary user gets a cache of their own"
	rm -f "$RROOT/tmp/remowt-1000"
	R user --json info "user@$H"
	exp_rc 0
	exp_eq "uploaded" True "$(json_get uploaded)"
	exp_eq "cache" /tmp/remowt-1000 "$(json_get cache)"
	exp_eq "owner and mode" "1000 700" "$(stat -c '%u %a' "$RROOT/tmp/remowt-1000" 2>&1)"
	tend
}

# A router of one CPU runs no other CPU's agent.
check_other_cpus() {
	local a=$1 s=$2 b refused=
	tcase "$a/$s: only its own CPU's agent runs there"
	for b in $ARCHES; do
		R root put -m 0755 "$ROOT/build/agents/agent-$b" "root@$H:/tmp/agent-$b"
		exp_rc 0
		R root exec "root@$H" -- "/tmp/agent-$b" --version
		if [ "$b" = "$a" ]; then
			exp_rc 0
			exp_out_match "^remowt-agent protocol"
		elif [ "$RC" = 0 ]; then
			fail "agent-$b ran on a $a router"
		else
			refused="$refused $b"
		fi
	done
	tend
}

check_files() {
	local a=$1 s=$2 r=$RROOT/tmp/w odd
	rm -rf "$r"

	tcase "$a/$s: put, sum and get round trip"
	head -c 300000 /dev/urandom >"$T/blob"
	R root put "$T/blob" "root@$H:/tmp/blob"
	exp_rc 0
	exp_eq "on the router" "$(sha "$T/blob")" "$(sha "$RROOT/tmp/blob")"
	R root sum "root@$H:/tmp/blob"
	exp_rc 0
	exp_out_match "^$(sha "$T/blob")  /tmp/blob$"
	rm -f "$T/back"
	R root get "root@$H:/tmp/blob" "$T/back"
	exp_rc 0
	exp_eq "back here" "$(sha "$T/blob")" "$(sha "$T/back")"
	tend

	tcase "$a/$s: mkdir -p, chmod, chown, touch -t and stat"
	R root mkdir -p "root@$H:/tmp/w/a/b/c"
	exp_rc 0
	R root chmod 750 "root@$H:/tmp/w/a/b"
	exp_rc 0
	R root chown 1000:1000 "root@$H:/tmp/w/a/b/c"
	exp_rc 0
	R root touch -t 1000000000 "root@$H:/tmp/w/a/b/c"
	exp_rc 0
	exp_eq "modes" "750 1000:1000 1000000000" \
		"$(stat -c %a "$r/a/b") $(stat -c %u:%g:%Y "$r/a/b/c" | sed 's/:\([0-9]*\)$/ \1/')"
	R root --json stat "root@$H:/tmp/w/a/b"
	exp_rc 0
	json_check 'objs[0]["type"] == "dir" and objs[0]["mode"] == 0o750'
	tend

	odd="a b 'q' \"d\" \$x"
	tcase "$a/$s: odd names, ls, mv, cat, ln -s and readlink"
	printf 'hello\n' >"$T/hello"
	R root put "$T/hello" "root@$H:/tmp/w/$odd"
	exp_rc 0
	exp_eq "odd name on the router" "hello" "$(cat "$r/$odd" 2>&1)"
	R root --json ls "root@$H:/tmp/w"
	exp_rc 0
	ODD=$odd json_check 'sorted(o["name"] for o in objs) == sorted(["a", os.environ["ODD"]])'
	R root mv "root@$H:/tmp/w/$odd" "/tmp/w/moved"
	exp_rc 0
	[ ! -e "$r/$odd" ] && [ -f "$r/moved" ] || fail "mv did not move"
	R root cat "root@$H:/tmp/w/moved"
	exp_rc 0
	exp_out_str "hello"$'\n'
	R root ln -s "moved" "root@$H:/tmp/w/link"
	exp_rc 0
	exp_eq "symlink" "moved" "$(readlink "$r/link")"
	R root readlink "root@$H:/tmp/w/link"
	exp_rc 0
	exp_out_str "moved"$'\n'
	tend

	tcase "$a/$s: df, rm -r, and errors name the path"
	R root --json df "root@$H:/tmp"
	exp_rc 0
	json_check 'objs[0]["ok"] and objs[0]["blocks"] > 0'
	R root rm -r "root@$H:/tmp/w"
	exp_rc 0
	[ ! -e "$r" ] || fail "rm -r left $r"
	R root stat "root@$H:/tmp/w"
	exp_rc 1
	exp_err_match "/tmp/w: No such file or directory"
	tend
}

check_exec() {
	local a=$1 s=$2

	tcase "$a/$s: exec passes arguments with spaces and quotes exactly"
	R root exec "root@$H" -- printf '[%s]' "a b" "it's" '"q"' '$HOME' '' '*'
	exp_rc 0
	exp_out_str "[a b][it's][\"q\"][\$HOME][][*]"
	tend

	tcase "$a/$s: exit codes and signals pass through"
	R root exec "root@$H" -- sh -c 'exit 42'
	exp_rc 42
	R root exec "root@$H" -- sh -c 'kill -TERM $$'
	exp_rc 143
	tend

	tcase "$a/$s: stdin streams in, stdout and stderr stay apart"
	head -c 200000 /dev/urandom >"$T/in"
	IN=$T/in R root exec "root@$H" -- sha256sum
	exp_rc 0
	exp_out_match "^$(sha "$T/in") "
	R root exec "root@$H" -- sh -c 'echo out; echo err >&2'
	exp_rc 0
	exp_out_str "out"$'\n'
	exp_err_str "err"$'\n'
	tend

	tcase "$a/$s: --cwd, --env and --timeout"
	R root exec "root@$H" --cwd /tmp --env 'K=v w' -- sh -c 'echo "$PWD $K"'
	exp_rc 0
	exp_out_str "/tmp v w"$'\n'
	R root exec "root@$H" --timeout 1 -- sleep 30
	exp_rc 137
	exp_err_match "timed out"
	exp_secs_le 10
	tend

	tcase "$a/$s: agent clean keeps the current agent"
	touch "$RROOT/tmp/remowt-0/$(printf '%064d' 0)"
	R root agent clean "root@$H"
	exp_rc 0
	exp_eq "left" ".arch $(agent_hash "$a")" "$(ls -A "$RROOT/tmp/remowt-0" | LC_ALL=C sort | tr '\n' ' ' | sed 's/ $//')"
	tend
}

# The router's busybox sh as a login shell on the agent's terminal, fed
# from a file (tests/t_shell.sh types into it through tmux).
check_shell() {
	local a=$1 s=$2

	tcase "$a/$s: shell -t and exec -t run on the agent's terminal"
	printf '%s\n' 'tty; echo "ZERO=$0 SUM=$((6*7))"' 'exit 7' >"$T/shell.in"
	IN=$T/shell.in R root shell -t "root@$H"
	exp_rc 7
	exp_out_match '/dev/pts/[0-9]+'$'\r''$'
	exp_out_match '^ZERO=-sh SUM=42'$'\r''$'
	IN=$T/empty R root exec -t "root@$H" -- sh -c 'tty; exit 3'
	exp_rc 3
	exp_out_match '^/dev/pts/[0-9]+'$'\r''$'
	tend
}

# A tree pushed and pulled back, and a batch, on the router's agent.
check_tree() {
	local a=$1 s=$2 src=$T/tree-src back=$T/tree-back
	rm -rf "$src" "$back" "$RROOT/tmp/t"
	mkdir -p "$src/d e/empty" "$src/sub"
	printf 'x' >"$src/sub/one"
	: >"$src/d e/zero"
	head -c 70000 /dev/urandom >"$src/sub/big"
	printf 'q' >"$src/it's \"q\" \$x"
	ln -s sub/one "$src/link"
	chmod 0640 "$src/sub/one"
	touch -d @1000000000 "$src/sub/big"

	tcase "$a/$s: push and pull round trip a tree"
	R root push "$src/" "root@$H:/tmp/t"
	exp_rc 0
	R root pull "root@$H:/tmp/t/" "$back"
	exp_rc 0
	diff -r "$src" "$back" >/dev/null 2>&1 || fail "pulled tree differs: $(diff -r "$src" "$back" 2>&1 | _oneline)"
	exp_eq "link" "sub/one" "$(readlink "$RROOT/tmp/t/link")"
	exp_eq "mode, mtime" "640 1000000000" \
		"$(stat -c %a "$RROOT/tmp/t/sub/one") $(stat -c %Y "$back/sub/big")"
	R root --json push --sync "$src/" "root@$H:/tmp/t"
	exp_rc 0
	exp_out_match '"summary":true.*"copied":0,"updated":0'
	tend

	# Part files as a lost connection leaves them, planted: the router's
	# agent hashes its part file and takes the rest; pull does the same
	# against the router's copy.
	tcase "$a/$s: push and pull resume a large file from its part file"
	head -c $((1536 * 1024)) /dev/urandom >"$T/large"
	mkdir -p "$RROOT/tmp/r" "$T/rback"
	head -c $((1024 * 1024)) "$T/large" >"$RROOT/tmp/r/.large.rwpart"
	R root --json push "$T/large" "root@$H:/tmp/r"
	exp_rc 0
	exp_out_match '"resumed_at":1048576'
	exp_out_match '"bytes":524288'
	exp_same_sha "$T/large" "$RROOT/tmp/r/large"
	head -c $((512 * 1024)) "$T/large" >"$T/rback/.large.rwpart"
	R root --json pull "root@$H:/tmp/r/large" "$T/rback"
	exp_rc 0
	exp_out_match '"resumed_at":524288'
	exp_out_match '"bytes":1048576'
	exp_same_sha "$T/large" "$T/rback/large"
	exp_eq "part files left" "" "$(ls -A "$RROOT/tmp/r" "$T/rback" | grep rwpart)"
	rm -rf "$RROOT/tmp/r" "$T/rback"
	tend

	tcase "$a/$s: a batch of requests in flight on the router"
	{
		for i in 1 2 3 4 5 6 7 8; do
			printf '{"id":%d,"op":"exec","argv":["sh","-c","echo $((%d*%d))"]}\n' "$i" "$i" "$i"
		done
		printf '{"id":"s","op":"sum","path":"/tmp/t/sub/big"}\n'
	} >"$T/batch.in"
	IN=$T/batch.in R root batch "root@$H"
	exp_rc 0
	python3 - "$T/out" "$(sha "$src/sub/big")" <<'PY' || fail "batch answers: $(_oneline <"$T/out")"
import json, sys
ans = {o["id"]: o for o in map(json.loads, open(sys.argv[1]))}
assert len(ans) == 9 and all(o["ok"] for o in ans.values())
assert all(ans[i]["stdout"] == "%d\n" % (i * i) for i in range(1, 9))
assert ans["s"]["sha256"] == sys.argv[2]
PY
	tend
}

for r in $ROUTERS; do
	a=${r%%:*}
	s=${r#*:}
	start_router "$a" "$s" || continue
	check_contact "$a" "$s"
	check_other_cpus "$a" "$s"
	check_files "$a" "$s"
	check_exec "$a" "$s"
	case $a in mipsel | aarch64) check_shell "$a" "$s"; check_tree "$a" "$s" ;; esac
	"$ROOT/cross/router.sh" stop "$RDIR" 2>/dev/null
done
