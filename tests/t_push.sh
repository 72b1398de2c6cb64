#!/bin/bash
# t_push.sh - push and pull: whole trees both ways against real sshd and
# dropbear.  Round trips of a tree with awkward names, symlinks, empty
# directories, 0-byte files, modes and mtimes (SLOW=1: with a 100 MiB
# file); --sync (counted: skipped entries and unchanged inodes),
# --checksum, --delete, --dry-run, both ways; tar archives in and out;
# many small files over a link with 50 ms round trips (pipelined, or it
# times out); a connection killed mid-push, then the re-run that
# finishes; the progress line on a terminal only, never with -q; usage.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/servers.sh"
require_remowt
require_cmd python3 tar script pgrep

rig_init
start_sshd openssh || exit 1
OS_PORT=$SRV_PORT
OS_PID=$SRV_PID
kh_add "$OS_PORT" "$SRV_HOSTKEYS"
start_dropbear dropbear || exit 1
DB_PORT=$SRV_PORT
DB_PID=$SRV_PID
kh_add "$DB_PORT" "$SRV_HOSTKEYS"
H=root@127.0.0.1
umask 022

# R PORT ARGS...: remowt with the rig's options against root@127.0.0.1.
R() {
	local port=$1
	shift
	remowt_run "${COMMON[@]}" "${KEY[@]}" -p "$port" "$@"
}

# sig DIR: one line per entry under DIR (and DIR itself): name bytes,
# type, mode, mtime in ns, link target, content hash.
cat >"$T/sig.py" <<'EOF'
import hashlib, os, stat, sys
root = os.fsencode(sys.argv[1])
def line(rel, p):
    st = os.lstat(p)
    if stat.S_ISLNK(st.st_mode):
        return repr((rel, "l", "", st.st_mtime_ns, os.readlink(p), ""))
    if stat.S_ISDIR(st.st_mode):
        return repr((rel, "d", oct(st.st_mode & 0o7777), st.st_mtime_ns))
    with open(p, "rb") as f:
        h = hashlib.sha256(f.read()).hexdigest()
    return repr((rel, "f", oct(st.st_mode & 0o7777), st.st_mtime_ns, b"", h))
out = [line(b".", root)]
for d, dirs, files in os.walk(root):
    for n in dirs + files:
        p = os.path.join(d, n)
        out.append(line(os.path.relpath(p, root), p))
print("\n".join(sorted(out)))
EOF
sig() { python3 "$T/sig.py" "$1"; }

# exp_same_tree WANT HAVE: the two trees are alike in every entry
exp_same_tree() {
	sig "$1" >"$T/sig.want" 2>&1 || true
	sig "$2" >"$T/sig.have" 2>&1 || true
	if ! cmp -s "$T/sig.want" "$T/sig.have"; then
		fail "trees differ: $(diff "$T/sig.want" "$T/sig.have" | head -4 | _oneline)"
	fi
}

# exp_no_temps DIR: nothing named like a WRITE's temporary is left
exp_no_temps() {
	local left
	left=$(find "$1" -name '.*.rw*' 2>/dev/null | head -3)
	[ -z "$left" ] || fail "temporaries left: $(echo "$left" | _oneline)"
}

# json_check PYTHON-EXPR over objs (stdout's objects) and b (fsencode)
json_check() {
	if ! python3 -c '
import json, os, sys
objs = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8",
        errors="surrogateescape")]
b = lambda s: os.fsencode(s)
done = lambda a: [o for o in objs if o.get("action") == a]
summ = [o for o in objs if o.get("summary")]
sys.exit(0 if eval(sys.argv[2]) else 1)' "$OUT" "$1" 2>"$T/pyerr"; then
		fail "json check failed: $1: $(_oneline <"$OUT") $(_oneline <"$T/pyerr")"
	fi
}

# inodes DIR: "path inode" of every file below DIR
inodes() { (cd "$1" && find . -type f -printf '%P %i\n' | sort) || true; }
# without LINE-PREFIXES...: stdin without the lines that start so
without() {
	local a=() p
	for p in "$@"; do
		a+=(-e "^$p")
	done
	grep -av "${a[@]}" || true
}

# A source tree with what usually goes wrong.
make_tree() {
	local s=$1
	rm -rf "$s"
	mkdir -p "$s/a/b/c/d" "$s/empty" "$s/e1/e2" "$s/sp ace" "$s/ro" "$s/priv" \
		"$s/sgid" "$s/open"
	echo g >"$s/sgid/f"
	echo hello >"$s/a/f1"
	printf 'deep' >"$s/a/b/c/d/deep"
	: >"$s/zero"
	: >"$s/a/b/zero2"
	echo quotes >"$s/sp ace/it's \"q\""
	echo newline >"$s/new"$'\n'"line"
	echo badutf >"$s/bad"$'\xff\xfe'
	echo dash >"$s/-rf"
	echo ro >"$s/ro/inside"
	echo x >"$s/priv/secret"
	printf '#!/bin/sh\n' >"$s/run.sh"
	head -c "$BIG" /dev/urandom >"$s/big"
	ln -s a/f1 "$s/lnk"
	ln -s /nonexistent/x "$s/dangling"
	ln -s a "$s/dirlink"
	chmod 0600 "$s/a/f1"
	chmod 0755 "$s/run.sh"
	chmod 0444 "$s/sp ace/it's \"q\""
	chmod 0700 "$s/priv"
	# Made with these modes at once (no umask, set-id kept).
	chmod 2750 "$s/sgid"
	chmod 0777 "$s/open"
	touch -d '2001-02-03 04:05:06.123456789' "$s/a/f1" "$s/zero" "$s/big"
	touch -h -d '2002-03-04 05:06:07.5' "$s/lnk" "$s/dangling"
	touch -d '2003-01-01 00:00:01.25' "$s/a/b/c/d" "$s/a/b/c" "$s/empty" \
		"$s/e1/e2" "$s/e1" "$s/ro" "$s/a/b"
	chmod 0555 "$s/ro"
	touch -d '2004-05-06 07:08:09.000000321' "$s/a" "$s"
}

if [ "$SLOW" = 1 ]; then
	BIG=$((100 * 1024 * 1024))
	TMO=300
else
	BIG=$((8 * 1024 * 1024))
	TMO=60
fi
make_tree "$T/src"

for S in openssh dropbear; do
	[ $S = openssh ] && P=$OS_PORT || P=$DB_PORT
	RD=$T/remote-$S
	LD=$T/local-$S
	mkdir -p "$RD"

	tcase "$S: push a tree: odd names, symlinks, empty dirs, modes, mtimes"
	R "$P" push "$T/src" "$H:$RD"
	exp_rc 0
	exp_err_empty
	exp_same_tree "$T/src" "$RD/src"
	exp_no_temps "$RD"
	tend

	tcase "$S: pull it back, alike in every entry"
	R "$P" pull "$H:$RD/src" "$LD"
	exp_rc 0
	exp_err_empty
	exp_same_tree "$T/src" "$LD/src"
	if ! diff -r --no-dereference "$T/src" "$LD/src" >"$T/diff" 2>&1; then
		fail "diff -r: $(_oneline <"$T/diff")"
	fi
	exp_no_temps "$LD"
	tend

	tcase "$S: push again without --sync: everything rewritten in place"
	inodes "$RD/src" >"$T/ino.before"
	R "$P" --json push "$T/src" "$H:$RD"
	exp_rc 0
	exp_err_empty
	n_items=$(find "$T/src" ! -type d -printf x | wc -c)
	json_check "len(done('copied')) == $n_items and summ[0]['failed'] == 0"
	exp_same_tree "$T/src" "$RD/src"
	inodes "$RD/src" | grep -a -e '^big ' -e '^zero ' >"$T/ino.after" || true
	grep -a -e '^big ' -e '^zero ' "$T/ino.before" >"$T/ino.want" || true
	[ "$(cat "$T/ino.want")" != "$(cat "$T/ino.after")" ] ||
		fail "files were not rewritten"
	exp_no_temps "$RD"
	tend

	tcase "$S: push --sync: every entry skipped, no file rewritten"
	inodes "$RD/src" >"$T/ino.before"
	n_entries=$(find "$T/src" -printf x | wc -c)
	R "$P" --json push --sync "$T/src" "$H:$RD"
	exp_rc 0
	json_check "len(done('skipped')) == $n_entries and len(objs) == $n_entries + 1 and summ[0]['copied'] == 0 and summ[0]['bytes'] == 0"
	inodes "$RD/src" >"$T/ino.after"
	exp_eq "inodes" "$(cat "$T/ino.before")" "$(cat "$T/ino.after")"
	tend

	tcase "$S: push --sync copies only what changed"
	echo longer >>"$T/src/a/f1"
	touch -d '2001-02-03 04:05:06.123456789' "$T/src/a/f1"
	touch -d '2005-01-01' "$T/src/zero"
	chmod 0640 "$T/src/run.sh"
	R "$P" --json push --sync "$T/src" "$H:$RD"
	exp_rc 0
	json_check "sorted(o['path'] for o in done('copied')) == ['$RD/src/a/f1', '$RD/src/zero'] and [o['path'] for o in done('updated')] == ['$RD/src/run.sh']"
	inodes "$RD/src" | without 'a/f1 ' 'zero ' >"$T/ino.after"
	without 'a/f1 ' 'zero ' <"$T/ino.before" >"$T/ino.want"
	exp_eq "other inodes" "$(cat "$T/ino.want")" "$(cat "$T/ino.after")"
	exp_same_tree "$T/src" "$RD/src"
	tend

	tcase "$S: --checksum catches a change of the same size and mtime"
	printf 'HELLO\n' | dd of="$T/src/a/f1" conv=notrunc status=none
	touch -d '2001-02-03 04:05:06.123456789' "$T/src/a/f1"
	R "$P" --json push --sync "$T/src" "$H:$RD"
	exp_rc 0
	json_check "len(done('copied')) == 0"
	cmp -s "$T/src/a/f1" "$RD/src/a/f1" && fail "--sync alone should not have seen it"
	R "$P" --json push --checksum "$T/src" "$H:$RD"
	exp_rc 0
	json_check "[o['path'] for o in done('copied')] == ['$RD/src/a/f1']"
	exp_same_tree "$T/src" "$RD/src"
	tend

	tcase "$S: --dry-run lists the changes and changes nothing"
	rm -rf "$T/src/e1" "$T/src/-rf"
	echo more >>"$T/src/zero"
	mkdir -p "$T/src/newdir/sub"
	echo k >"$T/src/newdir/sub/k"
	touch -d '2004-05-06 07:08:09.000000321' "$T/src"
	echo junk >"$RD/src/junk"
	mkdir -p "$RD/src/junkdir/x"
	sig "$RD" >"$T/remote.before"
	R "$P" push -n --sync --delete "$T/src" "$H:$RD"
	exp_rc 0
	sig "$RD" >"$T/remote.after"
	cmp -s "$T/remote.before" "$T/remote.after" ||
		fail "the dry run changed the remote tree"
	for l in "copy $RD/src/zero" "copy $RD/src/newdir/sub/k" \
		"copy $RD/src/newdir/" "delete $RD/src/e1/" \
		"delete $RD/src/-rf" "delete $RD/src/junk" \
		"delete $RD/src/junkdir/"; do
		grep -qxF -- "$l" "$OUT" || fail "no line '$l' in: $(_oneline <"$OUT")"
	done
	tend

	tcase "$S: push --delete removes what the source lacks"
	R "$P" --json push --sync --delete "$T/src" "$H:$RD"
	exp_rc 0
	json_check "sorted(o['path'] for o in done('deleted')) == sorted(['$RD/src/e1', '$RD/src/-rf', '$RD/src/junk', '$RD/src/junkdir'])"
	exp_same_tree "$T/src" "$RD/src"
	exp_no_temps "$RD"
	tend

	tcase "$S: pull --sync --delete, and its dry run"
	echo extra >"$LD/src/extra"
	touch -d '2000-01-01' "$LD/src/a/b/c/d/deep"
	sig "$LD" >"$T/local.before"
	R "$P" --json pull -n --sync --delete "$H:$RD/src" "$LD"
	exp_rc 0
	sig "$LD" >"$T/local.after"
	cmp -s "$T/local.before" "$T/local.after" ||
		fail "the dry run changed the local tree"
	json_check "all(o.get('dry_run') for o in objs)"
	inodes "$LD/src" >"$T/ino.before"
	R "$P" --json pull --sync --delete "$H:$RD/src" "$LD"
	exp_rc 0
	json_check "sorted(o['path'] for o in done('deleted')) == sorted(['$LD/src/extra', '$LD/src/e1', '$LD/src/-rf']) and '$LD/src/a/b/c/d/deep' in [o['path'] for o in done('copied')]"
	exp_same_tree "$T/src" "$LD/src"
	inodes "$LD/src" | without 'a/b/c/d/deep ' 'zero ' 'a/f1 ' 'newdir/' \
		>"$T/ino.after"
	without 'a/b/c/d/deep ' 'zero ' 'a/f1 ' 'extra ' 'e1/' '-rf ' \
		<"$T/ino.before" >"$T/ino.want"
	exp_eq "unchanged files keep their inodes" "$(cat "$T/ino.want")" \
		"$(cat "$T/ino.after")"
	exp_no_temps "$LD"
	tend

	tcase "$S: a tar archive in with -, mtimes to the nanosecond"
	tar --format=posix -C "$T/src" -cf "$T/in.tar" .
	IN=$T/in.tar R "$P" push - "$H:$RD/fromtar"
	exp_rc 0
	exp_err_empty
	exp_same_tree "$T/src" "$RD/fromtar"
	tend

	tcase "$S: a tar archive out with -"
	R "$P" pull "$H:$RD/src" -
	exp_rc 0
	exp_err_empty
	rm -rf "$T/untar"
	mkdir "$T/untar"
	tar -C "$T/untar" -xf "$OUT" || fail "tar -x failed"
	exp_same_tree "$T/src" "$T/untar/src"
	tend

	tcase "$S: an entry that cannot be written fails alone"
	rm -rf "$T/conf" "$RD/conf"
	mkdir -p "$T/conf" "$RD/conf/conf/clash"
	echo a >"$T/conf/clash"
	echo b >"$T/conf/fine"
	R "$P" push "$T/conf" "$H:$RD/conf"
	exp_rc 1
	exp_err_match "$RD/conf/conf/clash: Is a directory"
	exp_eq "the other file" "b" "$(cat "$RD/conf/conf/fine" 2>&1)"
	tend
	make_tree "$T/src"
done

# ---- pipelining: one round trip per file would take minutes ---------------

cat >"$T/delay.py" <<'EOF'
# A ProxyCommand that adds DELAY seconds each way, as a long link would,
# and passes at most RATE bytes a second towards the client, and UPRATE
# towards the server, if given (0: no limit).  With COUNT it appends the
# size of every chunk sent towards the server to that file.
#   delay.py HOST PORT DELAY [RATE [UPRATE [COUNT]]]
import os, queue, socket, sys, threading, time
delay = float(sys.argv[3])
rate = int(sys.argv[4]) if len(sys.argv) > 4 else 0
uprate = int(sys.argv[5]) if len(sys.argv) > 5 else 0
count = open(sys.argv[6], "a") if len(sys.argv) > 6 else None
s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
def reader(read, q):
    while True:
        try:
            d = read()
        except OSError:  # a reset is an end too
            d = b""
        q.put((time.monotonic() + delay, d))
        if not d:
            return
def writer(write, q, end):
    while True:
        due, d = q.get()
        wait = due - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        if not d:
            end()
            return
        write(d)
def out(d):
    if rate:
        time.sleep(len(d) / rate)
    while d:
        d = d[os.write(1, d):]
def send(d):
    if uprate:
        time.sleep(len(d) / uprate)
    s.sendall(d)
    if count:
        count.write("%d\n" % len(d))
        count.flush()
up, down = queue.Queue(), queue.Queue()
threading.Thread(target=reader, args=(lambda: os.read(0, 16384), up),
                 daemon=True).start()
threading.Thread(target=writer, args=(send, up,
                 lambda: s.shutdown(socket.SHUT_WR)), daemon=True).start()
threading.Thread(target=reader, args=(lambda: s.recv(65536), down),
                 daemon=True).start()
writer(out, down, lambda: None)
EOF
rm -rf "$T/many"
mkdir -p "$T/many"
for d in 0 1 2 3 4 5; do
	mkdir "$T/many/d$d"
	for f in $(seq 50); do
		echo "$d $f" >"$T/many/d$d/f$f"
	done
done
for S in openssh dropbear; do
	[ $S = openssh ] && P=$OS_PORT || P=$DB_PORT
	PROXY=(-o "ProxyCommand=python3 $T/delay.py 127.0.0.1 $P 0.025 2>>$T/proxy.err")
	tcase "$S: 300 files each way over a link with 50 ms round trips"
	TMO=20 R "$P" "${PROXY[@]}" push "$T/many" "$H:$T/many-$S"
	exp_rc 0
	exp_secs_le 15
	exp_same_tree "$T/many" "$T/many-$S/many"
	TMO=20 R "$P" "${PROXY[@]}" pull "$H:$T/many-$S/many" "$T/many-back-$S"
	exp_rc 0
	exp_secs_le 10
	exp_same_tree "$T/many" "$T/many-back-$S/many"
	tend
done

# ---- a connection lost mid-push, and the re-run -----------------------------

# A tar archive fed slowly: small files, a large one, small files.
rm -rf "$T/cut"
mkdir -p "$T/cut"
names=()
for f in $(seq -w 20); do
	echo "early $f" >"$T/cut/s$f"
	names+=("s$f")
done
head -c $((8 * 1024 * 1024)) /dev/urandom >"$T/cut/large"
names+=(large)
for f in 1 2 3; do
	echo "late $f" >"$T/cut/t$f"
	names+=("t$f")
done
tar --format=posix -C "$T/cut" -cf "$T/cut.tar" "${names[@]}"
cat >"$T/slow.py" <<'EOF'
# Copy a file to stdout at about RATE bytes a second.
import os, sys, time
rate = int(sys.argv[2])
with open(sys.argv[1], "rb") as f:
    while True:
        d = f.read(16384)
        if not d:
            break
        os.write(1, d)
        time.sleep(len(d) / rate)
EOF

# The processes of a server's sessions: the listener's children (one per
# connection) and, for OpenSSH, their unprivileged sshd child; killing
# them cuts the connections as a failed network would.
session_pids() {
	local listener p
	listener=$(pgrep -P "$1" | head -1) || return 0
	for p in $(pgrep -P "$listener" || true); do
		echo "$p"
		pgrep -P "$p" -x 'sshd|dropbear' || true
	done
}

# grown DIR NAME SIZE WHAT: wait (20 s at most) until a file NAME under
# DIR is larger than SIZE (find's -size), else fail "WHAT never got going"
grown() {
	local i
	for i in $(seq 400); do
		[ -n "$(find "$1" -name "$2" -size "+$3" 2>/dev/null)" ] && return 0
		sleep 0.05
	done
	fail "$4 never got going"
	return 1
}

# cut_sessions SERVER-PID CLIENT-PID: kill the server's session
# processes.  If none shows within 5 s the case fails, and the client is
# stopped rather than left to crawl through its throttled link.
cut_sessions() {
	local pids= i
	for i in $(seq 50); do
		pids=$(session_pids "$1")
		[ -n "$pids" ] && break
		sleep 0.1
	done
	if [ -z "$pids" ]; then
		fail "no session process found"
		kill -TERM "$2" 2>/dev/null || true
		return
	fi
	# shellcheck disable=SC2086
	kill -KILL $pids || true
}

for S in openssh dropbear; do
	[ $S = openssh ] && P=$OS_PORT && SP=$OS_PID || { P=$DB_PORT; SP=$DB_PID; }
	CD=$T/cut-$S
	tcase "$S: a connection cut mid-push leaves no partial file, --sync finishes"
	rc=0
	python3 "$T/slow.py" "$T/cut.tar" 2000000 2>/dev/null |
		timeout -k 5 60 $REMOWT_WRAP "$REMOWT" "${COMMON[@]}" "${KEY[@]}" \
		-p "$P" push - "$H:$CD" >"$T/cut.out" 2>"$T/cut.err" &
	cut_pid=$!
	# cut once a good part of the large file is across
	grown "$CD" '.large.rw*' 1M "the large file"
	cut_sessions "$SP" "$cut_pid"
	wait $cut_pid || rc=$?
	exp_eq "exit status of the cut run" 255 "$rc"
	grep -q . "$T/cut.err" || fail "nothing said about the cut"
	[ ! -e "$CD/large" ] || fail "large is there under its final name"
	for n in "${names[@]}"; do
		if [ -e "$CD/$n" ] && ! cmp -s "$T/cut/$n" "$CD/$n"; then
			fail "$n is there but not complete"
		fi
	done
	# what the cut run finished, the re-run must skip
	done_before=$(for n in "${names[@]}"; do
		if [ -f "$CD/$n" ] && cmp -s "$CD/$n" "$T/cut/$n" &&
			[ "$(stat -c %Y "$CD/$n")" = "$(stat -c %Y "$T/cut/$n")" ]; then
			echo "$CD/$n"
		fi
	done | sort)
	[ -n "$done_before" ] || fail "the cut run finished nothing"
	IN=$T/cut.tar R "$P" --json push --sync - "$H:$CD"
	exp_rc 0
	skipped=$(python3 -c 'import json, sys
for l in open(sys.argv[1]):
    o = json.loads(l)
    if o.get("action") == "skipped" and o["type"] == "file":
        print(o["path"])' "$OUT" | sort) || true
	exp_eq "skipped on the re-run" "$done_before" "$skipped"
	json_check "'$CD/large' in [o['path'] for o in done('copied')]"
	for n in "${names[@]}"; do
		cmp -s "$T/cut/$n" "$CD/$n" || fail "$n wrong after the re-run"
	done
	exp_no_temps "$CD"
	tend
done

# A large local file pushed at 2 MB/s and cut: the agent keeps its part
# file, and the re-run sends only the rest, counted at the relay.
rm -rf "$T/big"
mkdir -p "$T/big"
head -c $((8 * 1024 * 1024)) /dev/urandom >"$T/big/big"
echo small >"$T/big/small"
for S in openssh dropbear; do
	[ $S = openssh ] && P=$OS_PORT && SP=$OS_PID || { P=$DB_PORT; SP=$DB_PID; }
	RD=$T/rcut-$S
	tcase "$S: a push cut mid-file resumes from the part file, sending only the rest"
	rc=0
	$REMOWT_WRAP "$REMOWT" "${COMMON[@]}" "${KEY[@]}" -p "$P" \
		-o "ProxyCommand=python3 $T/delay.py 127.0.0.1 $P 0 0 2000000 2>>$T/proxy.err" \
		push "$T/big" "$H:$RD" >"$T/cut.out" 2>"$T/cut.err" &
	BG=$!
	grown "$RD" '.big.rwpart' 2M "the push"
	cut_sessions "$SP" "$BG"
	wait "$BG" || rc=$?
	exp_eq "exit status of the cut run" 255 "$rc"
	[ ! -e "$RD/big/big" ] || fail "big is there under its final name"
	# The cut session's agent holds the part file until it has seen
	# the end of its session and left; a re-run before that would find
	# the part busy and start over.
	for i in $(seq 100); do
		flock -n "$RD/big/.big.rwpart" true 2>/dev/null && break
		sleep 0.1
	done
	had=$(stat -c %s "$RD/big/.big.rwpart" 2>/dev/null || echo 0)
	[ "$had" -gt $((2 * 1024 * 1024)) ] ||
		fail "the agent kept no part file of 2 MiB or more ($had bytes)"
	cmp -s -n "$had" "$T/big/big" "$RD/big/.big.rwpart" ||
		fail "the part file is not the file's first $had bytes"
	rm -f "$T/count"
	R "$P" -o "ProxyCommand=python3 $T/delay.py 127.0.0.1 $P 0 0 0 $T/count 2>>$T/proxy.err" \
		--json push --sync "$T/big" "$H:$RD"
	exp_rc 0
	cmp -s "$T/big/big" "$RD/big/big" || fail "big wrong after the re-run"
	exp_eq "mtime of big" "$(stat -c %Y "$T/big/big")" "$(stat -c %Y "$RD/big/big")"
	size=$(stat -c %s "$T/big/big")
	json_check "[o.get('resumed_at') for o in done('copied') if o['path'].endswith('/big')] == [$had] and summ[0]['bytes'] == $size - $had"
	sent=$(awk '{ n += $1 } END { print n + 0 }' "$T/count" 2>/dev/null)
	# the rest, plus SSH framing and the login: far less than the whole
	[ "$sent" -lt $((size - had + 512 * 1024)) ] ||
		fail "the re-run sent $sent bytes for the $((size - had)) left"
	[ "$sent" -ge $((size - had)) ] ||
		fail "the re-run sent $sent bytes, less than the $((size - had)) left"
	exp_no_temps "$RD"
	tend

	tcase "$S: a part file that does not match the file is not resumed"
	R "$P" push "$T/big" "$H:$T/rbad-$S"
	exp_rc 0
	head -c $((3 * 1024 * 1024)) /dev/urandom >"$T/rbad-$S/big/.big.rwpart"
	rm -f "$T/rbad-$S/big/big"
	R "$P" --json push "$T/big" "$H:$T/rbad-$S"
	exp_rc 0
	cmp -s "$T/big/big" "$T/rbad-$S/big/big" || fail "big wrong"
	json_check "all('resumed_at' not in o for o in objs)"
	exp_no_temps "$T/rbad-$S"
	tend
done

# Another writer holds a part file (its lock): neither side waits for it
# or writes into it; each run goes through a temporary of its own.
tcase "a part file held by another writer is left to it, on both sides"
rm -rf "$T/held" "$T/held-back"
mkdir -p "$T/held/big" "$T/held-back"
head -c $((1024 * 1024)) "$T/big/big" >"$T/held/big/.big.rwpart"
head -c $((1024 * 1024)) "$T/big/big" >"$T/held-back/.big.rwpart"
flock "$T/held/big/.big.rwpart" sleep 60 &
FL1=$!
flock "$T/held-back/.big.rwpart" sleep 60 &
FL2=$!
sleep 0.3
R "$OS_PORT" --json push "$T/big/big" "$H:$T/held/big"
exp_rc 0
json_check "all('resumed_at' not in o for o in objs)"
cmp -s "$T/big/big" "$T/held/big/big" || fail "pushed big wrong"
R "$OS_PORT" --json pull "$H:$T/big/big" "$T/held-back"
exp_rc 0
json_check "all('resumed_at' not in o for o in objs)"
cmp -s "$T/big/big" "$T/held-back/big" || fail "pulled big wrong"
exp_eq "the held part files" "1048576 1048576" \
	"$(stat -c %s "$T/held/big/.big.rwpart" "$T/held-back/.big.rwpart" | tr '\n' ' ' | sed 's/ $//')"
kill "$FL1" "$FL2" 2>/dev/null || true
wait "$FL1" "$FL2" 2>/dev/null || true
tend

# pull_slowly PORT LOCALDIR [options...]: pull the large file at 2 MB/s in
# the background, its pid in BG; once a MiB of it is here, return.
pull_slowly() {
	local port=$1 dir=$2
	shift 2
	$REMOWT_WRAP "$REMOWT" "${COMMON[@]}" "${KEY[@]}" -p "$port" \
		-o "ProxyCommand=python3 $T/delay.py 127.0.0.1 $port 0 2000000 2>>$T/proxy.err" \
		"$@" pull "$H:$T/cut/large" "$dir" >"$T/cut.out" 2>"$T/cut.err" &
	BG=$!
	grown "$dir" '.large.rw*' 1M "the pull"
}

for S in openssh dropbear; do
	[ $S = openssh ] && P=$OS_PORT && SP=$OS_PID || { P=$DB_PORT; SP=$DB_PID; }
	PD=$T/pcut-$S
	tcase "$S: a connection cut mid-pull leaves only the part file; the re-run resumes it"
	rc=0
	pull_slowly "$P" "$PD"
	cut_sessions "$SP" "$BG"
	wait "$BG" || rc=$?
	exp_eq "exit status of the cut run" 255 "$rc"
	exp_eq "left here" ".large.rwpart" "$(ls -A "$PD" 2>&1)"
	had=$(stat -c %s "$PD/.large.rwpart" 2>/dev/null || echo 0)
	cmp -s -n "$had" "$T/cut/large" "$PD/.large.rwpart" ||
		fail "the part file is not the file's first $had bytes"
	R "$P" --json pull --sync "$H:$T/cut/large" "$PD"
	exp_rc 0
	cmp -s "$T/cut/large" "$PD/large" || fail "large wrong after the re-run"
	size=$(stat -c %s "$T/cut/large")
	# what moved the second time, as the summary counts it
	json_check "done('copied')[0].get('resumed_at') == $had and summ[0]['bytes'] == $size - $had"
	exp_no_temps "$PD"
	tend
done

tcase "^C mid-pull: the temporary goes too"
rc=0
pull_slowly "$OS_PORT" "$T/pint"
kill -INT "$BG" || true
wait "$BG" || rc=$?
exp_eq "exit status" 130 "$rc"
exp_eq "left here" "" "$(ls -A "$T/pint" 2>&1)"
tend

# ---- progress: on a terminal, and only there ----------------------------

rm -rf "$T/prog"
mkdir "$T/prog"
head -c $((4 * 1024 * 1024)) /dev/urandom >"$T/prog/file"
tar --format=posix -C "$T/prog" -cf "$T/prog.tar" file
# about 2 s: the line shows after 1 s
prog_cmd() { # extra remowt options...
	printf 'python3 %q %q 2000000 | %q' "$T/slow.py" "$T/prog.tar" "$REMOWT"
	printf ' %q' "${COMMON[@]}" "${KEY[@]}" -p "$OS_PORT" "$@" push - \
		"$H:$T/prog-$RANDOM"
}
tcase "progress: a line on a terminal, redrawn in place"
rc=0
timeout -k 5 60 script -q -e -c "$(prog_cmd)" /dev/null </dev/null >"$T/pty" 2>&1 || rc=$?
exp_eq "exit" 0 "$rc"
grep -aq $'\r' "$T/pty" || fail "no carriage return: $(_oneline <"$T/pty")"
grep -aqE '[0-9.]+ ([KMG]i)?B/s' "$T/pty" || fail "no rate: $(_oneline <"$T/pty")"
grep -aqE '[0-9]+/[0-9]+ files' "$T/pty" || fail "no file count: $(_oneline <"$T/pty")"
tend

tcase "progress: none with -q, even on a terminal"
rc=0
timeout -k 5 60 script -q -e -c "$(prog_cmd -q)" /dev/null </dev/null >"$T/pty" 2>&1 || rc=$?
exp_eq "exit" 0 "$rc"
grep -aqE 'iB/s|files' "$T/pty" && fail "a progress line with -q: $(_oneline <"$T/pty")"
tend

tcase "progress: none when stderr is not a terminal"
rc=0
timeout -k 5 60 bash -c "$(prog_cmd)" </dev/null >"$T/out" 2>"$T/err" || rc=$?
exp_eq "exit" 0 "$rc"
exp_err_empty
tend

# ---- usage ------------------------------------------------------------------

tcase "push --help and pull --help"
remowt_run push --help
exp_rc 0
exp_out_match "^usage: remowt \[options\] push "
exp_out_match "--delete"
remowt_run pull --help
exp_rc 0
exp_out_match "^usage: remowt \[options\] pull "
tend

tcase "usage errors exit 2"
for args in "push" "push $T/src" "push --bogus $T/src $H:x" \
	"pull $H:x" "--json pull $H:x -" "pull --sync $H:x -" \
	"push --delete - $H:x" "push - $T/src $H:x" \
	"push --delete $T/src/ $T/src $H:x"; do
	# shellcheck disable=SC2086
	remowt_run $args
	[ "$RC" = 2 ] || fail "'$args': exit $RC, expected 2"
done
tend

tcase "--local: push and pull without SSH"
rm -rf "$T/loc"
remowt_run --local push "$T/src/" "$T/loc/copy"
exp_rc 0
exp_same_tree "$T/src" "$T/loc/copy"
remowt_run --local pull "$T/loc/copy" "$T/loc/back"
exp_rc 0
exp_same_tree "$T/src" "$T/loc/back/copy"
tend
