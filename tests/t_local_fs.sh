#!/bin/bash
# t_local_fs.sh - file operations through the agent in --local mode:
# every command, its error paths, odd names and --json output.
. "$(dirname "$0")/lib.sh"
require_remowt
require_cmd python3 setpriv

L() { remowt_run --local "$@"; }
D=$T/d
mkdir -p "$D"
umask 022

# nobody must reach $D to meet permission errors there.
chmod 0755 "$D"
as_nobody() {
	local rc=0
	timeout -k 5 "$TMO" setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$REMOWT" --local "$@" </dev/null >"$T/out" 2>"$T/err" || rc=$?
	RC=$rc
	TIMED_OUT=0
}

# json_check PYTHON-EXPR: every stdout line is JSON; EXPR over `objs`
# (the list of parsed objects) must be true.
json_check() {
	if ! python3 -c '
import json, os, sys
objs = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8",
        errors="surrogateescape")]
b = lambda s: os.fsencode(s)
sys.exit(0 if eval(sys.argv[2]) else 1)' "$T/out" "$1" 2>"$T/pyerr"; then
		fail "json check failed: $1: $(_oneline <"$T/out") $(_oneline <"$T/pyerr")"
	fi
}

# ---- stat ----
echo hello >"$D/f"
tcase "stat file"
L stat "$D/f"; exp_rc 0; exp_out_match "Type: file"; exp_out_match "Size: 6"
exp_out_match "Mode: 0644"
tend

tcase "stat --json"
L --json stat "$D/f"
exp_rc 0
json_check 'objs[0]["size"] == 6 and objs[0]["type"] == "file" and objs[0]["mode"] == 0o644 and objs[0]["ok"]'
tend

ln -s f "$D/lnk"
tcase "stat of a symlink, and -L"
L --json stat "$D/lnk"; exp_rc 0; json_check 'objs[0]["type"] == "symlink"'
L --json stat -L "$D/lnk"; exp_rc 0; json_check 'objs[0]["type"] == "file"'
tend

tcase "stat ENOENT"
L stat "$D/nope"; exp_rc 1; exp_err_match "$D/nope: No such file or directory"
tend

tcase "stat ENOENT --json"
L --json stat "$D/nope"
exp_rc 1
json_check 'objs[0]["error"] == "ENOENT" and objs[0]["ok"] is False'
tend

tcase "stat ENOTDIR"
L stat "$D/f/x"; exp_rc 1; exp_err_match "Not a directory"
tend

tcase "stat many paths, answers in order"
for i in $(seq 300); do : >"$D/many$i"; done
L --json stat "$D"/many{1..300} "$D/nope"
exp_rc 1
json_check 'len(objs) == 301 and all(o["path"].endswith("many%d" % (i + 1)) for i, o in enumerate(objs[:300])) and objs[300]["error"] == "ENOENT"'
tend
rm -f "$D"/many*

# ---- ls ----
mkdir -p "$D/ls"
: >"$D/ls/b"
: >"$D/ls/a"
: >"$D/ls/.hidden"
mkdir "$D/ls/sub"
ln -s /nowhere "$D/ls/dangling"
tcase "ls sorted, dotfiles hidden"
L ls "$D/ls"; exp_rc 0; exp_out_str $'a\nb\ndangling\nsub\n'
tend

tcase "ls -a"
L ls -a "$D/ls"; exp_rc 0; exp_out_str $'.\n..\n.hidden\na\nb\ndangling\nsub\n'
tend

tcase "ls -l shows types, modes and link targets"
L ls -l "$D/ls"; exp_rc 0
exp_out_match '^drwxr-xr-x .* sub$'
exp_out_match '^lrwxrwxrwx .* dangling -> /nowhere$'
exp_out_match '^-rw-r--r-- .* 0 .* a$'
tend

tcase "ls --json"
L --json ls -a "$D/ls"; exp_rc 0
json_check 'sorted(o["name"] for o in objs) == [".", "..", ".hidden", "a", "b", "dangling", "sub"] and [o for o in objs if o["name"] == "dangling"][0]["target"] == "/nowhere" and [o for o in objs if o["name"] == "sub"][0]["type"] == "dir"'
tend

tcase "ls of a file lists the file"
L ls -l "$D/f"; exp_rc 0; exp_out_match "^-rw-r--r-- .* $D/f\$"
tend

tcase "ls ENOENT"
L ls "$D/nope"; exp_rc 1; exp_err_match "No such file"
tend

tcase "ls of a big directory in batches"
mkdir "$D/big"
(cd "$D/big" && seq -f 'entry-with-a-longish-name-%05g' 3000 | xargs touch)
L ls "$D/big"; exp_rc 0
ls "$D/big" >"$T/exp"
exp_out_file "$T/exp"
tend
rm -rf "$D/big"

# ---- odd names ----
mkdir "$D/odd"
odd_names=("a b" $'new\nline' "quo\"te's" "-dash" "--double" $'\xff\xfeinvalid' $'tab\there' "back\\slash" "ünïcödé")
tcase "odd names round-trip through put, ls --json, cat, sum and rm"
for n in "${odd_names[@]}"; do
	printf '%s' "$n" >"$T/src"
	L put "$T/src" "$D/odd/$n"; exp_rc 0
	[ "$(cat "$D/odd/$n" 2>/dev/null)" = "$n" ] || fail "content of '$n'"
	L cat "$D/odd/$n"; exp_rc 0; exp_out_str "$n"
done
L --json ls "$D/odd"; exp_rc 0
printf '%s\0' "${odd_names[@]}" >"$T/names"
python3 -c '
import json, os, sys
got = sorted(os.fsencode(json.loads(l)["name"]) for l in open(sys.argv[1], encoding="utf-8", errors="surrogateescape"))
want = sorted(n for n in open(sys.argv[2], "rb").read().split(b"\0") if n and not n.startswith(b"."))
sys.exit(0 if got == want else 1)' "$T/out" "$T/names" || fail "ls --json names differ from the files"
L sum "$D/odd/$(printf '\xff\xfeinvalid')"; exp_rc 0
exp_out_match "^$(printf '%s' $'\xff\xfeinvalid' | sha256sum | cut -c1-64)  "
for n in "${odd_names[@]}"; do
	L rm -- "$D/odd/$n"; exp_rc 0
	[ ! -e "$D/odd/$n" ] || fail "'$n' not removed"
done
tend

tcase "a leading-dash path after --"
printf dash >"$T/-x"
(cd "$T" && L cat -- -x); exp_rc 0; exp_out_str "dash"
tend

# ---- cat, get, put ----
tcase "cat of several files"
echo one >"$D/c1"; echo two >"$D/c2"
L cat "$D/c1" "$D/c2"; exp_rc 0; exp_out_str $'one\ntwo\n'
tend

tcase "cat EISDIR"
L cat "$D"; exp_rc 1; exp_err_match "Is a directory"
tend

tcase "cat EACCES as nobody"
echo secret >"$D/secret"; chmod 0600 "$D/secret"
as_nobody cat "$D/secret"; exp_rc 1; exp_err_match "$D/secret: Permission denied"; exp_out_empty
tend

head -c 300000 /dev/urandom >"$T/rand"
tcase "put and get a binary file"
L put "$T/rand" "$D/rand"; exp_rc 0
exp_same_sha "$T/rand" "$D/rand"
L get "$D/rand" "$T/rand.back"; exp_rc 0
exp_same_sha "$T/rand" "$T/rand.back"
tend

tcase "put from stdin, get to stdout"
IN=$T/rand L put - "$D/fromstdin"; exp_rc 0
exp_same_sha "$T/rand" "$D/fromstdin"
L get "$D/fromstdin" -; exp_rc 0
exp_same_sha "$T/rand" "$T/out"
tend

tcase "put into a directory keeps the name"
mkdir "$D/into"
L put "$T/rand" "$D/into"; exp_rc 0
exp_same_sha "$T/rand" "$D/into/rand"
tend

tcase "put keeps an existing mode, sets a new one with -m"
echo old >"$D/moded"; chmod 0640 "$D/moded"
L put "$T/rand" "$D/moded"; exp_rc 0
exp_eq mode 640 "$(stat -c %a "$D/moded")"
L put -m 0751 "$T/rand" "$D/newmode"; exp_rc 0
exp_eq mode 751 "$(stat -c %a "$D/newmode")"
L put "$T/rand" "$D/plain"; exp_rc 0
exp_eq mode 644 "$(stat -c %a "$D/plain")"
tend

tcase "put replaces atomically: a second name sees old or new only"
echo old >"$D/atomic"
ln "$D/atomic" "$D/atomic.hardlink"
L put "$T/rand" "$D/atomic"; exp_rc 0
exp_eq "old inode untouched" old "$(cat "$D/atomic.hardlink")"
exp_same_sha "$T/rand" "$D/atomic"
tend

tcase "put through a symlink replaces its target"
echo x >"$D/real"; ln -s real "$D/viasym"
L put "$T/rand" "$D/viasym"; exp_rc 0
[ -L "$D/viasym" ] || fail "symlink replaced"
exp_same_sha "$T/rand" "$D/real"
tend

tcase "put --fsync"
L put -s "$T/rand" "$D/synced"; exp_rc 0; exp_same_sha "$T/rand" "$D/synced"
tend

tcase "put --append"
printf 'abc' >"$D/app"
printf 'def' >"$T/tail"
L put -a "$T/tail" "$D/app"; exp_rc 0
exp_eq content abcdef "$(cat "$D/app")"
L put --append "$T/tail" "$D/app.new"; exp_rc 0
exp_eq content def "$(cat "$D/app.new")"
tend

tcase "put --json"
L --json put "$T/rand" "$D/j"; exp_rc 0
json_check 'objs[0]["ok"] and objs[0]["size"] == 300000'
tend

tcase "put ENOENT (no such directory), nothing left behind"
L put "$T/rand" "$D/nodir/x"; exp_rc 1; exp_err_match "$D/nodir/x: No such file"
tend

tcase "put ENOTDIR"
L put "$T/rand" "$D/f/x"; exp_rc 1; exp_err_match "Not a directory"
tend

tcase "put EISDIR onto a directory from stdin"
IN=$T/rand L put - "$D/into"; exp_rc 1; exp_err_match "Is a directory"
tend

tcase "put EACCES as nobody, no temporary left"
mkdir "$D/ro"; chmod 0755 "$D/ro"
as_nobody put /etc/hostname "$D/ro/x"; exp_rc 1; exp_err_match "Permission denied"
[ -z "$(ls -A "$D/ro")" ] || fail "left: $(ls -A "$D/ro")"
tend

tcase "put of a missing local file"
L put "$T/none" "$D/x"; exp_rc 1; exp_err_match "$T/none: No such file"
[ ! -e "$D/x" ] || fail "created $D/x"
tend

tcase "get of a missing remote file leaves no local file"
L get "$D/nope" "$T/got"; exp_rc 1; exp_err_match "No such file"
[ -z "$(ls "$T" | grep '^got')" ] || fail "left $(ls "$T" | grep '^got')"
tend

tcase "get into a device writes it in place, never replaces it"
mknod "$T/devnull" c 1 3
L get "$D/rand" "$T/devnull"; exp_rc 0
[ -c "$T/devnull" ] || fail "the device node was replaced: $(ls -l "$T/devnull")"
tend

tcase "get through a symlink keeps the link and the file's mode"
printf old >"$T/gtarget"; chmod 0640 "$T/gtarget"; ln -s gtarget "$T/glink"
L get "$D/f" "$T/glink"; exp_rc 0
[ -L "$T/glink" ] || fail "the symlink was replaced"
exp_eq "content" "hello" "$(cat "$T/gtarget")"
exp_eq "mode" "640" "$(stat -c %a "$T/gtarget")"
tend

tcase "no temporary files are left beside targets"
left=$(find "$D" -name '*.rw*-*' | head -3)
exp_eq "temporaries" "" "$left"
tend

# ---- sum ----
tcase "sum matches sha256sum"
L sum "$T/rand" "$D/f"; exp_rc 0
(cd / && sha256sum "$T/rand" "$D/f") >"$T/exp"
exp_out_file "$T/exp"
tend

tcase "sum of an empty file and --json"
: >"$D/empty"
L --json sum "$D/empty"; exp_rc 0
json_check 'objs[0]["sha256"] == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" and objs[0]["size"] == 0'
tend

tcase "sum escapes names like sha256sum"
printf 'q' >"$D/$(printf 'nl\nname')"
L sum "$D/$(printf 'nl\nname')"; exp_rc 0
(cd / && sha256sum "$D/$(printf 'nl\nname')") >"$T/exp"
exp_out_file "$T/exp"
tend

tcase "sum EISDIR and ENOENT"
L sum "$D" "$D/nope"; exp_rc 1; exp_err_match "Is a directory"; exp_err_match "No such file"
tend

# ---- df ----
tcase "df"
L df "$D"; exp_rc 0; exp_out_match "Use%"; exp_out_match "$D\$"
L --json df "$D"; exp_rc 0
json_check 'objs[0]["blocks"] > 0 and objs[0]["size_bytes"] >= objs[0]["avail_bytes"]'
L df "$D/nope"; exp_rc 1; exp_err_match "No such file"
tend

# ---- mkdir ----
tcase "mkdir"
L mkdir "$D/m1"; exp_rc 0
[ -d "$D/m1" ] || fail "not made"
tend

tcase "mkdir EEXIST"
L mkdir "$D/m1"; exp_rc 1; exp_err_match "$D/m1: File exists"
tend

tcase "mkdir ENOENT without -p"
L mkdir "$D/m2/a/b"; exp_rc 1; exp_err_match "No such file"
tend

tcase "mkdir -p and -m"
L mkdir -p -m 0700 "$D/m2/a/b"; exp_rc 0
[ -d "$D/m2/a/b" ] || fail "not made"
exp_eq mode 700 "$(stat -c %a "$D/m2/a/b")"
L mkdir -p "$D/m2/a/b"; exp_rc 0
tend

tcase "mkdir -p over a file: ENOTDIR / EEXIST"
L mkdir -p "$D/f/sub"; exp_rc 1; exp_err_match "Not a directory"
L mkdir -p "$D/f"; exp_rc 1; exp_err_match "File exists"
tend

tcase "mkdir EACCES as nobody"
as_nobody mkdir "$D/ro/x"; exp_rc 1; exp_err_match "Permission denied"
tend

# ---- rm ----
tcase "rm a file"
: >"$D/gone"
L rm "$D/gone"; exp_rc 0
[ ! -e "$D/gone" ] || fail "still there"
tend

tcase "rm ENOENT, and -f"
L rm "$D/gone"; exp_rc 1; exp_err_match "No such file"
L rm -f "$D/gone"; exp_rc 0; exp_err_empty
tend

tcase "rm a directory without -r: EISDIR"
L rm "$D/m1"; exp_rc 1; exp_err_match "Is a directory"
tend

tcase "rm -r never follows symlinks"
mkdir -p "$D/tree/a/b/c" "$D/keep"
echo precious >"$D/keep/file"
ln -s "$D/keep" "$D/tree/a/link"
ln -s "$D/keep/file" "$D/tree/a/b/flink"
for i in 1 2 3; do echo $i >"$D/tree/a/b/c/$i"; done
mkdir "$D/tree/$(printf 'odd\nname')"
L rm -r "$D/tree"; exp_rc 0
[ ! -e "$D/tree" ] || fail "tree still there"
exp_eq "file behind the link" precious "$(cat "$D/keep/file")"
tend

tcase "rm -r of a deep tree"
p=$D/deep
for i in $(seq 100); do p=$p/d; done
mkdir -p "$p"
L rm -r "$D/deep"; exp_rc 0
[ ! -e "$D/deep" ] || fail "still there"
tend

tcase "rm -r EACCES names the inner path"
mkdir -p "$D/prot/inner"; : >"$D/prot/inner/f"; chmod 0755 "$D/prot" "$D/prot/inner"
as_nobody rm -r "$D/prot"; exp_rc 1; exp_err_match "Permission denied"
exp_err_match "prot/inner/f"
tend

# ---- mv ----
tcase "mv"
echo mv >"$D/mv1"
L mv "$D/mv1" "$D/mv2"; exp_rc 0
[ ! -e "$D/mv1" ] && [ "$(cat "$D/mv2")" = mv ] || fail "not moved"
tend

tcase "mv ENOENT, EISDIR, ENOTDIR"
L mv "$D/mv1" "$D/mv3"; exp_rc 1; exp_err_match "No such file"
L mv "$D/mv2" "$D/m2"; exp_rc 1; exp_err_match "Is a directory"
L mv "$D/m2" "$D/mv2"; exp_rc 1; exp_err_match "Not a directory"
tend

# ---- chmod, chown, ln, readlink, touch ----
tcase "chmod"
L chmod 0604 "$D/mv2"; exp_rc 0
exp_eq mode 604 "$(stat -c %a "$D/mv2")"
L chmod 4755 "$D/mv2"; exp_rc 0
exp_eq mode 4755 "$(stat -c %a "$D/mv2")"
L chmod 0644 "$D/nope"; exp_rc 1; exp_err_match "No such file"
L chmod 999 "$D/mv2"; exp_rc 2
tend

tcase "chmod EPERM as nobody"
as_nobody chmod 0777 "$D/mv2"; exp_rc 1; exp_err_match "Operation not permitted"
tend

tcase "chown"
L chown 65534:65534 "$D/mv2"; exp_rc 0
exp_eq owner 65534:65534 "$(stat -c %u:%g "$D/mv2")"
L chown :0 "$D/mv2"; exp_rc 0
exp_eq owner 65534:0 "$(stat -c %u:%g "$D/mv2")"
L chown -h 12:12 "$D/lnk"; exp_rc 0
exp_eq "link owner" 12:12 "$(stat -c %u:%g "$D/lnk")"
exp_eq "target owner" 0:0 "$(stat -c %u:%g "$D/f")"
tend

tcase "ln -s and readlink"
L ln -s "../some where" "$D/sl"; exp_rc 0
exp_eq target "../some where" "$(readlink "$D/sl")"
L readlink "$D/sl"; exp_rc 0; exp_out_str $'../some where\n'
L --json readlink "$D/sl"; exp_rc 0; json_check 'objs[0]["target"] == "../some where"'
tend

tcase "ln -s EEXIST, readlink EINVAL"
L ln -s x "$D/sl"; exp_rc 1; exp_err_match "File exists"
L readlink "$D/f"; exp_rc 1; exp_err_match "Invalid argument"
tend

tcase "touch sets times and creates"
L touch -t 1000000000 "$D/f" "$D/touched"; exp_rc 0
exp_eq mtime 1000000000 "$(stat -c %Y "$D/f")"
exp_eq "new file" "0 1000000000" "$(stat -c '%s %Y' "$D/touched")"
L touch "$D/nodir/x"; exp_rc 1; exp_err_match "No such file"
tend

# ---- usage and help ----
tcase "help and usage errors"
L --help; exp_rc 0; exp_out_match "^Commands:"
L ls --help; exp_rc 0; exp_out_match "usage: .* ls "
L nosuchcommand; exp_rc 2
L stat; exp_rc 2
remowt_run help put; exp_rc 0; exp_out_match "usage: .* put "
tend

tcase "without --local, HOST means SSH: an unknown host is 255"
remowt_run ls remowt-no-such-host.invalid:/tmp; exp_rc 255
exp_err_match "cannot resolve remowt-no-such-host.invalid"
tend

tcase "version"
remowt_run version; exp_rc 0; exp_out_match "protocol 1"
L --json version; exp_rc 0
json_check 'objs[0]["agent"]["sha256"] == objs[0]["agent_sha256"] and objs[0]["agent"]["protocol"] == 1'
tend
