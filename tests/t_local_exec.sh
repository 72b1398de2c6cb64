#!/bin/bash
# t_local_exec.sh - processes through the agent in --local mode: exit
# codes, signals, timeouts, environment, stdio streaming under flow
# control, and the agent's cleanup when its session ends.
. "$(dirname "$0")/lib.sh"
require_remowt
require_cmd python3

L() { remowt_run --local "$@"; }

# lib.sh takes 137 for its own timeout's KILL; here 137 is a result.
exp_rc_137() {
	if [ "$RC" != 137 ]; then
		fail "exit $RC, expected 137$(_errhint)"
	fi
	exp_secs_le $((TMO - 5))
}

tcase "exec true"
L exec -- true; exp_rc 0; exp_out_empty; exp_err_empty
tend

tcase "exit code passes through"
for c in 1 3 42 126 127 255; do
	L exec -- sh -c "exit $c"; exp_rc $c
done
tend

tcase "death by signal N gives 128+N"
L exec -- sh -c 'kill -TERM $$'; exp_rc 143; exp_err_match "signal TERM"
L exec -- sh -c 'kill -KILL $$'; exp_rc_137
L exec -- sh -c 'kill -USR1 $$'; exp_rc 138
L exec -- sh -c 'kill -HUP $$'; exp_rc 129
tend

tcase "argv goes to execve as is: no shell"
L exec -- printf '%s|' 'a b' '$HOME' '*' ';' "it's" ''; exp_rc 0
exp_out_str "a b|\$HOME|*|;|it's||"
tend

tcase "PATH search, and an explicit path"
L exec -- env true; exp_rc 0
L exec -- /bin/echo abs; exp_rc 0; exp_out_str $'abs\n'
tend

tcase "program not found: 127; not executable: 126"
L exec -- no-such-program-here; exp_rc 127; exp_err_match "no-such-program-here: No such file"
L exec -- /etc/passwd; exp_rc 126; exp_err_match "Permission denied"
L exec -- /nonexistent/prog; exp_rc 127
tend

tcase "--cwd"
mkdir -p "$T/wd"
L exec --cwd "$T/wd" -- pwd; exp_rc 0; exp_out_str "$T/wd"$'\n'
L exec --cwd "$T/nope" -- pwd; exp_rc 127; exp_err_match "No such file"
tend

tcase "environment: inherited, set, unset, cleared"
REMOWT_T_VAR=inherited L exec -- sh -c 'echo "$REMOWT_T_VAR"'; exp_out_str $'inherited\n'
REMOWT_T_VAR=inherited L exec --env REMOWT_T_VAR=set -- sh -c 'echo "$REMOWT_T_VAR"'
exp_out_str $'set\n'
REMOWT_T_VAR=inherited L exec --unset REMOWT_T_VAR -- sh -c 'echo "${REMOWT_T_VAR-unset}"'
exp_out_str $'unset\n'
L exec --clear-env --env A=1 --env 'B=two words' -- /usr/bin/env
exp_rc 0; exp_out_str $'A=1\nB=two words\n'
L exec --clear-env --env PATH=/nonexistent -- true; exp_rc 127
L exec --env A=1 --env A=2 --clear-env --env A=3 -- /usr/bin/env; exp_out_str $'A=3\n'
tend

tcase "stdout and stderr are kept apart"
L exec -- sh -c 'echo out; echo err >&2'; exp_rc 0
exp_out_str $'out\n'; exp_err_str $'err\n'
L exec --merge-stderr -- sh -c 'echo out; echo err >&2'; exp_rc 0
exp_out_str $'out\nerr\n'
tend

tcase "stdin streams in, -n gives /dev/null"
head -c 5000000 /dev/urandom >"$T/in5m"
IN=$T/in5m L exec -- cat; exp_rc 0; exp_same_sha "$T/in5m" "$T/out"
IN=$T/in5m L exec -n -- wc -c; exp_rc 0; exp_out_str $'0\n'
tend

tcase "a process flooding stdout while its stdin is still written: no deadlock"
head -c 64000000 /dev/urandom >"$T/in64m"
# cat echoes all it reads: neither side may stall the other.
IN=$T/in64m TMO=60 L exec -- cat; exp_rc 0; exp_same_sha "$T/in64m" "$T/out"
# a program that writes 100 MB before it reads anything
IN=$T/in64m TMO=60 L exec -- sh -c 'head -c 100000000 /dev/zero; cat >/dev/null; echo done >&2'
exp_rc 0; exp_err_str $'done\n'
exp_eq "stdout bytes" 100000000 "$(wc -c <"$T/out")"
tend

tcase "a program that stops reading stdin early"
IN=$T/in64m L exec -- head -c 10; exp_rc 0
exp_eq bytes 10 "$(wc -c <"$T/out")"
tend

tcase "timeout kills the whole process group"
marker=$((RANDOM * 32768 + RANDOM))
L exec --timeout 1 -- sh -c "sleep 30$marker.5 & sleep 30$marker.6; echo no"
exp_rc_137; exp_err_match "timed out"; exp_out_empty
exp_secs_le 5
sleep 0.2
exp_eq "survivors" "" "$(pgrep -f "^sleep 30$marker" || true)"
tend

tcase "no timeout for a quick program"
L exec --timeout 5 -- true; exp_rc 0
tend

tcase "a signal to remowt reaches the remote process group"
marker=$((RANDOM * 32768 + RANDOM))
"$REMOWT" --local exec -- sh -c "trap 'echo got-term; exit 7' TERM; sleep 40$marker & wait" \
	>"$T/sigout" 2>&1 </dev/null &
pid=$!
for i in $(seq 50); do pgrep -f "^sleep 40$marker" >/dev/null && break; sleep 0.1; done
kill -TERM $pid
rc=0; wait $pid || rc=$?
exp_eq "exit status" 7 "$rc"
exp_eq "output" got-term "$(cat "$T/sigout")"
tend

tcase "many processes at once"
# 20 sleepers of 1 s run side by side; the shell waits for all.
TMO=30 L exec -- sh -c 'for i in $(seq 20); do sleep 1 & done; wait'
exp_rc 0; exp_secs_le 5
tend

tcase "exec --json captures output and status"
L --json exec -- sh -c 'printf "o\377\n"; echo e >&2; exit 5'
exp_rc 5
python3 -c '
import json, os, sys
o = json.loads(open(sys.argv[1], encoding="utf-8", errors="surrogateescape").read())
assert o["exit_code"] == 5 and o["signal"] is None and not o["timed_out"]
assert os.fsencode(o["stdout"]) == b"o\xff\n" and o["stderr"] == "e\n"
' "$T/out" || fail "json: $(_oneline <"$T/out")"
L --json exec -- sh -c 'kill -TERM $$'; exp_rc 143
python3 -c 'import json,sys; o = json.load(open(sys.argv[1])); assert o["signal"] == "TERM" and o["status"] == 143' "$T/out" ||
	fail "json signal: $(_oneline <"$T/out")"
L --json exec -- no-such-program-here; exp_rc 127
python3 -c 'import json,sys; o = json.load(open(sys.argv[1])); assert o["error"] == "ENOENT"' "$T/out" ||
	fail "json error: $(_oneline <"$T/out")"
tend

tcase "sh --local runs a command line"
L sh 'echo a | tr a b; exit 4'; exp_rc 4; exp_out_str $'b\n'
tend

tcase "agent ends with its session: children killed"
marker=$((RANDOM * 32768 + RANDOM))
"$REMOWT" --local exec -- sh -c "sleep 50$marker" </dev/null >/dev/null 2>&1 &
pid=$!
for i in $(seq 50); do pgrep -f "^sleep 50$marker" >/dev/null && break; sleep 0.1; done
kill -KILL $pid; wait $pid 2>/dev/null || true
gone=no
for i in $(seq 50); do
	pgrep -f "^sleep 50$marker" >/dev/null || { gone=yes; break; }
	sleep 0.1
done
exp_eq "child gone" yes "$gone"
exp_eq "agent gone" "" "$(pgrep -f '^remowt-agent' -P 1 | head -1 || true)"
tend

tcase "agent ends with its session: temporary removed"
mkdir -p "$T/tmpd"
mkfifo "$T/fifo"
"$REMOWT" --local put "$T/fifo" "$T/tmpd/target" </dev/null >/dev/null 2>&1 &
pid=$!
exec 7>"$T/fifo"
head -c 100000 /dev/zero >&7
for i in $(seq 50); do [ -n "$(ls -A "$T/tmpd")" ] && break; sleep 0.1; done
seen=$(ls -A "$T/tmpd")
kill -KILL $pid; wait $pid 2>/dev/null || true
exec 7>&-
for i in $(seq 50); do [ -z "$(ls -A "$T/tmpd")" ] && break; sleep 0.1; done
[ -n "$seen" ] || fail "no temporary seen while writing"
exp_eq "left in the directory" "" "$(ls -A "$T/tmpd")"
tend

# The client's end of the agent's stdout gone while its stdin stays open:
# the agent's next write fails, and it must still kill what it started.
tcase "agent whose output is cut off: children killed"
marker=$((RANDOM * 32768 + RANDOM))
python3 - "$ROOT/build/agent" "$marker" >"$T/cut.out" 2>&1 <<'PY' || fail "driver: $(_oneline <"$T/cut.out")"
import struct, subprocess, sys

agent, marker = sys.argv[1], sys.argv[2].encode()

def s(b):
    return struct.pack(">I", len(b)) + b

def send(p, ftype, fid, payload):
    p.stdin.write(struct.pack(">IBI", 5 + len(payload), ftype, fid) + payload)
    p.stdin.flush()

def frame(p):
    n = struct.unpack(">I", p.stdout.read(4))[0]
    return p.stdout.read(n)

p = subprocess.Popen([agent], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
send(p, 0x01, 1, struct.pack(">III", 1, 1, 65536) + s(b"t_local_exec"))
frame(p)
argv = [b"sh", b"-c", b"sleep 60; : " + marker]
send(p, 0x10, 2, struct.pack(">III", 2, 0, 0) + s(b"") +
     struct.pack(">I", len(argv)) + b"".join(s(a) for a in argv) +
     struct.pack(">I", 0))
frame(p)                                # R_STARTED
p.stdout.close()
send(p, 0x02, 3, struct.pack(">I", 0) + s(b"/"))   # its answer cannot go out
print("agent exit", p.wait(timeout=10))
PY
gone=no
for i in $(seq 50); do
	pgrep -xf "sh -c sleep 60; : $marker" >/dev/null || { gone=yes; break; }
	sleep 0.1
done
exp_eq "child gone" yes "$gone"
pkill -KILL -xf "sh -c sleep 60; : $marker" || true
tend

# Terminals: exec -t and shell (tests/t_shell.sh drives them in tmux).
tcase "exec -t: the program runs on a terminal, errors with its output"
L exec -t -- tty
exp_rc 0
exp_out_match '^/dev/pts/[0-9]+'$'\r''$'
L exec -t -- sh -c 'test -t 0 && test -t 1 && test -t 2 && echo out &&
	echo err >&2; exit 5'
exp_rc 5
exp_out_str "out"$'\r\n'"err"$'\r\n'
exp_err_empty
L exec -t -- sh -c 'stty size; echo "T=$TERM"'
exp_rc 0
exp_out_match '^0 0'$'\r''$'
TERM=vt100 L exec -t -- sh -c 'echo "T=$TERM"'
exp_out_str "T=vt100"$'\r\n'
tend

tcase "exec -t: signals, a missing program, --timeout"
L exec -t -- sh -c 'kill -TERM $$'
exp_rc 143
exp_err_match "killed by signal TERM"
L exec -t -- no-such-program-here
exp_rc 127
exp_err_match "no-such-program-here: No such file"
L exec -t --timeout 1 -- sleep 30
exp_rc_137
exp_err_match "timed out"
tend

tcase "shell -t: the login shell (\$SHELL) on a terminal, its exit status"
printf '%s\n' 'tty; echo "ZERO=$0 SUM=$((6*7))"' 'exit 6' >"$T/shell.in"
IN=$T/shell.in SHELL=/bin/sh L shell -t
exp_rc 6
exp_out_match '/dev/pts/[0-9]+'$'\r''$'
exp_out_match '^ZERO=-sh SUM=42'$'\r''$'
IN=$T/shell.in L shell -t -- sh -c 'tty; exit 4'
exp_rc 4
exp_out_match '^/dev/pts/[0-9]+'
tend

tcase "shell without a terminal on stdin: none there, stdin to its end"
printf '%s\n' 'tty; echo "ZERO=$0"' '~.' 'echo "LAST=$((1+2))"' >"$T/shell.in"
IN=$T/shell.in SHELL=/bin/sh L shell
exp_rc 0
exp_out_match '^not a tty$'
exp_out_match '^ZERO=-sh$'
exp_out_match '^LAST=3$'
L shell --no-agent
exp_rc 2
tend
