#!/bin/bash
# t_local_bulk.sh - volume through the agent in --local mode: 1 GiB each
# way, ENOSPC on a small tmpfs, many requests at once, and the agent's
# memory staying bounded meanwhile.  Data lives on /dev/shm.
[ -d /dev/shm ] && [ -w /dev/shm ] && export TMPDIR=/dev/shm
. "$(dirname "$0")/lib.sh"
require_remowt
require_cmd unshare sha256sum

L() { remowt_run --local "$@"; }

# The anonymous memory of the running agent, in kB (shared libc pages
# are not the agent's own).
agent_anon_kb() {
	local p
	p=$(pgrep -n -f '^remowt-agent') || return 0
	# The agent may end between pgrep and the read.
	awk '/^RssAnon:/ { print $2 }' "/proc/$p/status" 2>/dev/null || true
}

head -c 1073741824 /dev/urandom >"$T/big" || bail "cannot make 1 GiB on $T"
want=$(sha "$T/big")

tcase "1 GiB put, checked by sha256"
TMO=300 L put "$T/big" "$T/big.put"; exp_rc 0
exp_eq sha256 "$want" "$(sha "$T/big.put")"
tend
rm -f "$T/big.put"

tcase "1 GiB get, checked by sha256"
TMO=300 L get "$T/big" "$T/big.get"; exp_rc 0
exp_eq sha256 "$want" "$(sha "$T/big.get")"
tend
rm -f "$T/big.get"

tcase "1 GiB cat to a pipe, and sum on the target"
TMO=300 timeout 300 "$REMOWT" --local cat "$T/big" | sha256sum | cut -c1-64 >"$T/catsum"
exp_eq "cat sha256" "$want" "$(cat "$T/catsum")"
TMO=300 L sum "$T/big"; exp_rc 0
exp_out_str "$want  $T/big"$'\n'
tend

if [ "${SANITIZE:-0}" = 1 ]; then
	skip "agent memory stays bounded under load" \
		"ASan's shadow memory says nothing of the agent's own"
else
tcase "agent memory stays bounded under load"
max=0
"$REMOWT" --local exec -- sh -c \
	'for i in $(seq 20); do head -c 200000000 /dev/zero & done; wait' \
	>/dev/null 2>&1 </dev/null &
pid=$!
"$REMOWT" --local get "$T/big" /dev/null >/dev/null 2>&1 &
pid2=$!
for i in $(seq 20); do
	sleep 0.2
	k=$(agent_anon_kb); k=${k:-0}
	[ "$k" -gt "$max" ] && max=$k
done
kill $pid $pid2 2>/dev/null || true
wait $pid $pid2 2>/dev/null || true
[ "$max" -gt 0 ] || fail "agent not seen"
[ "$max" -le 1024 ] || fail "agent anonymous memory reached ${max} kB"
tend
fi
rm -f "$T/big"

mkdir "$T/small"
head -c 3000000 /dev/urandom >"$T/3m"
echo keep >"$T/keep"
RC=0
unshare -m bash -c '
	mount -t tmpfs -o size=1m tmpfs "$1" || exit 99
	cp "$4" "$1/target"
	"$2" --local put "$3" "$1/target" 2>"$1.err"
	echo "rc=$?"
	ls -A "$1"
	cat "$1/target"
' sh "$T/small" "$REMOWT" "$T/3m" "$T/keep" >"$T/out" 2>"$T/err" || RC=$?
if [ "${RC:-0}" = 99 ] || ! grep -q . "$T/out"; then
	skip "ENOSPC on a full file system" "cannot mount a tmpfs: $(_oneline <"$T/err")"
else
	tcase "ENOSPC on a full file system, nothing partial left"
	exp_out_str $'rc=1\ntarget\nkeep\n'
	grep -q "No space left on device" "$T/small.err" ||
		fail "message: $(_oneline <"$T/small.err")"
	tend
fi

# A directory is entered as soon as its MKDIR is sent; when the MKDIR then
# fails, that is said once, not again for each file sent into it.
mkdir -p "$T/ahead/src/sub" "$T/ahead/mnt"
for i in $(seq 50); do echo "$i" >"$T/ahead/src/sub/f$i"; done
RC=0
unshare -m bash -c '
	# Inodes for the root, the destination and its "src": none for "sub".
	mount -t tmpfs -o size=1m,nr_inodes=3 tmpfs "$1/mnt" || exit 99
	"$2" --local push "$1/src" "$1/mnt/dst"
	echo "rc=$?"
	find "$1/mnt" | sort
' sh "$T/ahead" "$REMOWT" >"$T/out" 2>"$T/err" || RC=$?
if [ "${RC:-0}" = 99 ] || ! grep -q . "$T/out"; then
	skip "a directory that cannot be made: one error" \
		"cannot mount a tmpfs: $(_oneline <"$T/err")"
else
	tcase "a directory that cannot be made: one error, none for its files"
	exp_out_str "rc=1
$T/ahead/mnt
$T/ahead/mnt/dst
$T/ahead/mnt/dst/src
"
	exp_err_lines 1
	exp_err_match "$T/ahead/mnt/dst/src/sub: No space left on device"
	tend
fi

tcase "many requests in flight at once"
mkdir "$T/many"
for i in $(seq 500); do echo "$i" >"$T/many/f$i"; done
head -c 50000000 /dev/urandom >"$T/mid"
(cd / && sha256sum "$T/mid" "$T"/many/f{1..500}) >"$T/exp"
L sum "$T/mid" "$T"/many/f{1..500}; exp_rc 0
exp_out_file "$T/exp"
L stat "$T"/many/f{1..500}; exp_rc 0
exp_eq "stat results" 500 "$(grep -c '^  File: ' "$T/out")"
tend
