#!/bin/bash
# bench/local.sh - the agent in --local mode beside the same work done
# without RPC, on this machine: the floor the SSH figures stand on.
#
#   bench/local.sh            (after make and make tests/unit_rpc_local)
#   BENCH_EXECS=2000 BENCH_MB=256 bench/local.sh     a quicker run
#
# exec /bin/true N times over one agent session against a C fork +
# execve + waitpid loop; listing 1000 entries against ls -l; a 1 GiB
# write and read through the RPC against a dd | cat pipe.  Prints the
# figures and the ratios; not a test.
set -eu
cd "$(dirname "$0")/.."
N=${BENCH_EXECS:-10000}
MB=${BENCH_MB:-1024}
[ -x ./remowt ] && [ -x tests/unit_rpc_local ] ||
	{ echo "bench/local.sh: run make and make tests/unit_rpc_local first" >&2; exit 2; }
command -v hyperfine >/dev/null || { echo "bench/local.sh: needs hyperfine" >&2; exit 2; }
D=$(mktemp -d "${TMPDIR:-/dev/shm}/remowt-bench-local.XXXXXX")
trap 'rm -rf "$D"' EXIT

echo "== exec and listing over one agent session (tests/unit_rpc_local -b $N)"
tests/unit_rpc_local -b "$N" | grep '^#'

mkdir "$D/dir"
for i in $(seq 1000); do : >"$D/dir/f$i"; done
echo "== listing 1000 entries, whole commands"
hyperfine -N -w 3 -r 20 --export-json "$D/ls.json" \
	"ls -l $D/dir" "./remowt --local ls -l $D/dir" 2>&1 |
	grep -E 'Benchmark|Time \(mean'

echo "== $MB MiB through the RPC and through a pipe"
head -c $((MB * 1048576)) /dev/urandom >"$D/big"
hyperfine -w 1 -r 3 \
	"dd if=$D/big bs=1M status=none | cat >$D/pipe.out" \
	"./remowt --local put $D/big $D/put.out" \
	"./remowt --local get $D/big $D/get.out" 2>&1 |
	grep -E 'Benchmark|Time \(mean'
cmp "$D/big" "$D/put.out" && cmp "$D/big" "$D/get.out" && echo "checked: both copies equal"

f=build/agents/agent-x86_64
if [ -f "$f" ]; then
	echo "== agent size (x86_64, musl, static, stripped): $(stat -c %s "$f") bytes"
else
	echo "== agent size: no musl build (make cross); host agent $(stat -c %s build/agent) bytes, dynamic"
fi
