#!/bin/bash
# t_config.sh - ssh_config files given with -F, against a real sshd:
# Host aliases, %-tokens, Host patterns with wildcards and negation,
# Match, Include, "the first value wins" and the command line beating
# the file, unknown keywords, malformed lines, and the +, - and ^ forms
# of the algorithm lists, checked against what -v says was negotiated.
#
# Runs have an empty HOME of their own (unless a case sets one) and no
# ssh-agent, so the only key a login can use is the one the file names.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/servers.sh"
require_remowt
rig_init
TMO=${CONFIG_TMO:-60}

unset SSH_AUTH_SOCK SSH_AGENT_PID SSH_ASKPASS SSH_ASKPASS_REQUIRE
export HOME=$T/client
mkdir -m 0700 "$HOME"

start_sshd sshd VERBOSE || exit 1
P=$SRV_PORT
kh_add "$P" "$SRV_HOSTKEYS"
# an sshd with nothing but SHA-1 era algorithms, for the '+' forms
if start_sshd legacy VERBOSE "KexAlgorithms diffie-hellman-group14-sha1" \
	"HostKeyAlgorithms ssh-rsa" "Ciphers aes128-ctr" "MACs hmac-sha1"; then
	LP=$SRV_PORT
	kh_add "$LP" "$SRV_HOSTKEYS"
else
	LP=
fi
# a port nobody listens on
CLOSED=$(free_port)

KEYF=$T/id_ed25519
mkdir -p "$T/cfg"

# conf NAME: the file $T/cfg/NAME from stdin; its path in $CF
conf() {
	CF=$T/cfg/$1
	cat >"$CF"
}

# crun CONFIG DEST 'CMD' [options...]: remowt sh -F CONFIG, with the
# rig's known_hosts checking
crun() {
	local cf=$1 dest=$2 cmd=$3
	shift 3
	remowt_run sh -F "$cf" -o "UserKnownHostsFile=$T/known_hosts" \
		-o StrictHostKeyChecking=yes "$@" "$dest" "$cmd"
}

# exp_negotiated ERE WHAT: a -v line matches ERE
exp_negotiated() {
	if ! grep -aqE -- "$1" "$T/err"; then
		fail "-v output does not show $2: '$(grep -a 'kex: ' "$T/err" | _oneline)'"
	fi
}

# exp_refused: the connection was refused (the closed port was used)
exp_refused() {
	exp_rc 255
	exp_out_empty
	exp_err_lines 1
	exp_err_match 'refused' "the refused connection"
}

# ---- aliases and tokens ----------------------------------------------------------

conf alias <<EOF
# a router known by a short name
Host router
	HostName 127.0.0.1
	Port $P
	User $RIG_USER
	IdentityFile $KEYF
EOF
tcase "Host alias: HostName, Port, User and IdentityFile from the file"
crun "$CF" router 'id -un; echo "$HOME"'
exp_rc 0
exp_out_str "$RIG_USER"$'\n'"$T/home/$RIG_USER"$'\n'
exp_err_empty
tend

tcase "Host alias: an alias not in the file is not resolved from it"
crun "$CF" router2.invalid true -o ConnectTimeout=10
exp_rc 255
exp_out_empty
exp_err_lines 1
tend

# key copies at paths only the tokens lead to
TH=$T/tokhome
mkdir -p "$TH/keys" "$TH/.ssh"
chmod 0700 "$TH" "$TH/.ssh"
putkey() { # path
	cp "$KEYF" "$1"
	cp "$KEYF.pub" "$1.pub"
	chmod 0600 "$1"
}
putkey "$TH/keys/$RIG_USER@127.0.0.1-$P"
putkey "$TH/keys/local-$(id -un)-tok-n"
putkey "$TH/keys/tilde"
putkey "$TH/keys/pct%key"

conf tokens <<EOF
Host tok-rhp
	IdentityFile %d/keys/%r@%h-%p
Host tok-n
	IdentityFile %d/keys/local-%u-%n
Host tok-tilde
	IdentityFile ~/keys/tilde
Host tok-pct
	IdentityFile %d/keys/pct%%key
Host tok-*
	HostName 127.0.0.1
	Port $P
	User $RIG_USER
EOF
for c in "tok-rhp %d/keys/%r@%h-%p $TH/keys/$RIG_USER@127.0.0.1-$P" \
	"tok-n %d/keys/local-%u-%n $TH/keys/local-$(id -un)-tok-n" \
	"tok-tilde ~/keys/tilde $TH/keys/tilde" \
	"tok-pct %d/keys/pct%%key $TH/keys/pct%key"; do
	read -r alias spec path <<<"$c"
	tcase "tokens: IdentityFile $spec expands to $path"
	HOME=$TH crun "$CF" "$alias" 'id -un' -v
	exp_rc 0
	exp_out_str "$RIG_USER"$'\n'
	if ! grep -aqF "offering ssh-ed25519 key $path" "$T/err"; then
		fail "-v output does not show the key $path offered: '$(grep -a offering "$T/err" | _oneline)'"
	fi
	tend
done

# ---- Host patterns -----------------------------------------------------------------

conf patterns <<EOF
Host *.lan !bad.lan
	User $RIG_USER
Host r?uter-q
	User $RIG_USER
Host alpha beta
	User $RIG_USER
Host *
	HostName 127.0.0.1
	Port $P
	User root
	IdentityFile $KEYF
EOF
for c in "good.lan $RIG_USER *.lan matches" "bad.lan root !bad.lan excludes" \
	"rxuter-q $RIG_USER ? matches one character" \
	"rouuter-q root ? matches only one character" \
	"beta $RIG_USER the second pattern of a Host line" \
	"gamma root no pattern"; do
	read -r h want why <<<"$c"
	tcase "Host patterns: $h logs in as $want ($why)"
	crun "$CF" "$h" 'id -un'
	exp_rc 0
	exp_out_str "$want"$'\n'
	tend
done

# ---- Match ---------------------------------------------------------------------------

conf match <<EOF
Host hn-alias
	HostName 127.0.0.1
Match originalhost orig-alias
	HostName 127.0.0.1
	User $RIG_USER
Match originalhost 127.0.0.1
	User root
Match host 127.0.0.1 !originalhost mu-*
	Port $P
	User $RIG_USER
	IdentityFile $KEYF
Host mu-*
	HostName 127.0.0.1
	IdentityFile $KEYF
Match originalhost mu-* user $RIG_USER
	Port $P
Match originalhost mu-* user root
	Port $CLOSED
Match all
	Port $CLOSED
EOF

tcase "Match originalhost: the name as typed"
crun "$CF" orig-alias 'id -un'
exp_rc 0
exp_out_str "$RIG_USER"$'\n'
tend

tcase "Match host: the name after HostName (originalhost 127.0.0.1 does not match)"
crun "$CF" hn-alias 'id -un'
exp_rc 0
exp_out_str "$RIG_USER"$'\n'
tend

tcase "Match originalhost 127.0.0.1 comes first: root"
crun "$CF" 127.0.0.1 'id -un'
exp_rc 0
exp_out_str $'root\n'
tend

tcase "Match user: -l $RIG_USER picks the block with the open port"
crun "$CF" mu-x 'id -un' -l "$RIG_USER"
exp_rc 0
exp_out_str "$RIG_USER"$'\n'
tend

tcase "Match user: -l root picks the block with the closed port"
TMO=30 crun "$CF" mu-x 'echo should not run' -l root
exp_refused
tend

# ---- Include --------------------------------------------------------------------------

IH=$T/inchome
mkdir -p "$IH/.ssh/conf.d"
chmod 0700 "$IH" "$IH/.ssh"
cat >"$IH/.ssh/conf.d/10-router.conf" <<EOF
Host inc-router
	HostName 127.0.0.1
	Port $P
	User $RIG_USER
	IdentityFile $KEYF
EOF
cat >"$T/cfg/abs.conf" <<EOF
Host abs-router
	HostName 127.0.0.1
	Port $P
	User root
	IdentityFile $KEYF
EOF
conf include <<EOF
Include conf.d/*.conf
Include $T/cfg/abs.conf
Include no-such-dir/*.conf
Host *
	Port $CLOSED
EOF

tcase "Include conf.d/*.conf: relative to ~/.ssh"
HOME=$IH crun "$CF" inc-router 'id -un'
exp_rc 0
exp_out_str "$RIG_USER"$'\n'
tend

tcase "Include of an absolute path"
HOME=$IH crun "$CF" abs-router 'id -un'
exp_rc 0
exp_out_str $'root\n'
tend

tcase "Include: with another HOME the relative include is not found"
TMO=30 crun "$CF" inc-router 'echo should not run' -o ConnectTimeout=10
exp_rc 255
exp_out_empty
tend

# ---- first value wins; the command line first of all ---------------------------------

conf first <<EOF
Host fw
	HostName 127.0.0.1
	Port $P
	User $RIG_USER
	IdentityFile $KEYF
	User root
	Port $CLOSED
Host *
	Port $CLOSED
	User root
	HostName 127.0.0.2
EOF

tcase "first value wins: a later line or Host * does not override"
crun "$CF" fw 'id -un'
exp_rc 0
exp_out_str "$RIG_USER"$'\n'
tend

tcase "-o Port= on the command line beats the file"
TMO=30 crun "$CF" fw 'echo should not run' -o "Port=$CLOSED"
exp_refused
tend

tcase "-p on the command line beats the file"
TMO=30 crun "$CF" fw 'echo should not run' -p "$CLOSED"
exp_refused
tend

tcase "-o User= and -l on the command line beat the file"
crun "$CF" fw 'id -un' -o User=root
exp_rc 0
exp_out_str $'root\n'
crun "$CF" fw 'id -un' -l root
exp_rc 0
exp_out_str $'root\n'
tend

tcase "user@ in the destination beats the file"
crun "$CF" root@fw 'id -un'
exp_rc 0
exp_out_str $'root\n'
tend

# ---- syntax: forms, quotes, unknown keywords ---------------------------------------------

mkdir -p "$T/dir with space"
putkey "$T/dir with space/key"
conf forms <<EOF
# comment lines and blank lines

Host forms
	hostname=127.0.0.1
	PORT = $P
	user "$RIG_USER"
	IdentityFile "$T/dir with space/key"
EOF
tcase "Keyword=value, Keyword = value, any case, quoted values with spaces"
crun "$CF" forms 'id -un'
exp_rc 0
exp_out_str "$RIG_USER"$'\n'
tend

conf unknown <<EOF
FrobnicateTheRouter yes
Host unk
	ForwardAgent yes
	ControlMaster auto
	ControlPath ~/.ssh/cm-%r@%h:%p
	SendEnv LANG LC_*
	AddKeysToAgent yes
	SomeFutureKeyword with several words
	HostName 127.0.0.1
	Port $P
	User $RIG_USER
	IdentityFile $KEYF
EOF
tcase "unknown keywords are ignored"
crun "$CF" unk 'id -un'
exp_rc 0
exp_out_str "$RIG_USER"$'\n'
tend

# ---- malformed files -------------------------------------------------------------------------

# bad NAME LINE-NUMBER 'WHAT': the file $CF (already written) is refused:
# 255, one line naming FILE line N
bad() {
	local file=$1 n=$2 what=$3
	shift 3
	tcase "malformed: $what: 255, the message names the file and line $n"
	TMO=30 crun "$CF" bad-host 'echo should not run' "$@"
	exp_rc 255
	exp_out_empty
	exp_err_lines 1
	exp_err_match "$(printf '%s' "$file" | sed 's/[.[\*^$]/\\&/g') line $n([^0-9]|$)" "$file line $n"
	tend
}

conf quote <<EOF
Host bad-host
	HostName 127.0.0.1
	IdentityFile "$KEYF
	Port $P
EOF
bad "$CF" 3 "unbalanced quote"

conf badport <<EOF
# a port that is not a number
Host bad-host
	HostName 127.0.0.1
	Port notaport
EOF
bad "$CF" 4 "Port notaport"

conf bigport <<EOF
Host bad-host
	Port 70000
	HostName 127.0.0.1
EOF
bad "$CF" 2 "Port 70000"

cat >"$T/cfg/inc-bad.conf" <<EOF
Host *
	ConnectTimeout soon
EOF
conf incbad <<EOF
Host bad-host
	HostName 127.0.0.1
Include $T/cfg/inc-bad.conf
EOF
bad "$T/cfg/inc-bad.conf" 2 "ConnectTimeout soon in an included file"

conf badcipher <<EOF
Host bad-host
	HostName 127.0.0.1
	Port $P
	Ciphers +rot13-cbc
EOF
bad "$CF" 4 "Ciphers +rot13-cbc"

tcase "-F a file that does not exist: 255, one line naming it"
crun "$T/cfg/no-such-file" bad-host 'echo should not run'
exp_rc 255
exp_out_empty
exp_err_lines 1
exp_err_match "no-such-file" "the file"
tend

tcase "-F none reads no file: ~/.ssh/config is left unread"
mkdir -p "$T/none-home/.ssh"
printf 'Host *\n\tUser %s\n' "$RIG_USER" >"$T/none-home/.ssh/config"
HOME=$T/none-home crun "$T/none-home/.ssh/config" 127.0.0.1 'id -un' -p "$P" -i "$KEYF"
exp_rc 0
exp_out_str "$RIG_USER"$'\n'
HOME=$T/none-home crun none 127.0.0.1 'id -un' -p "$P" -i "$KEYF"
exp_rc 0
exp_out_str "$(id -un)"$'\n'
tend

tcase "-F /dev/null reads nothing and logs in"
crun /dev/null 127.0.0.1 'echo null-config' -p "$P" -i "$KEYF"
exp_rc 0
exp_out_str $'null-config\n'
tend

# Only regular files are read: an Include glob that matches a FIFO (open
# would wait for a writer), /dev/zero (endless) or a directory must fail
# at once with the name, not hang.  Found by fuzz_config ("Include /*v/*").
mkdir -p "$T/cfg/fifo.d"
mkfifo "$T/cfg/fifo.d/a.conf"
for what in "a FIFO:$T/cfg/fifo.d/*.conf" "/dev/zero:/dev/zero" \
	"a directory:$T/cfg/fifo.d"; do
	conf special <<EOF
Host *
	Port $P
Include ${what#*:}
EOF
	tcase "Include of ${what%%:*}: refused at once as not a regular file"
	TMO=10 crun "$CF" 127.0.0.1 'echo should not run' -i "$KEYF"
	exp_rc 255
	exp_secs_le 5
	exp_out_empty
	exp_err_match "not a regular file" "the refusal"
	tend
done

tcase "-F naming a FIFO: refused at once"
TMO=10 crun "$T/cfg/fifo.d/a.conf" 127.0.0.1 'echo should not run' -p "$P" \
	-i "$KEYF"
exp_rc 255
exp_secs_le 5
exp_err_match "fifo.d/a.conf: not a regular file" "the refusal naming the file"
tend

# ---- algorithm lists: +, -, ^ ------------------------------------------------------------------

# algo NAME 'CONFIG LINES' DEST-PORT [options...]: log in through a
# config file with those lines, with -v; the output is left in $T/err
algo() {
	local name=$1 lines=$2 port=$3
	shift 3
	printf 'Host %s\n\tHostName 127.0.0.1\n\tPort %s\n\tUser root\n\tIdentityFile %s\n%s\n' \
		"$name" "$port" "$KEYF" "$lines" >"$T/cfg/algo-$name"
	crun "$T/cfg/algo-$name" "$name" 'echo ok' -v "$@"
}

tcase "defaults (the control): curve25519-sha256, ssh-ed25519, chacha20-poly1305"
algo defaults '' "$P"
exp_rc 0
exp_out_str $'ok\n'
exp_negotiated '^debug1: kex: curve25519-sha256, host key ssh-ed25519$' "curve25519-sha256 and ssh-ed25519"
exp_negotiated '^debug1: kex: client->server cipher chacha20-poly1305@openssh.com ' "chacha20-poly1305"
tend

tcase "Ciphers ^aes256-ctr: aes256-ctr goes first"
algo c-caret $'\tCiphers ^aes256-ctr' "$P"
exp_rc 0
exp_negotiated '^debug1: kex: client->server cipher aes256-ctr MAC hmac-sha2-256-etm@openssh.com$' "aes256-ctr with hmac-sha2-256-etm"
exp_negotiated '^debug1: kex: server->client cipher aes256-ctr ' "aes256-ctr both ways"
tend

tcase "Ciphers -chacha*,aes128-ctr: removed with a wildcard, aes256-ctr is next"
algo c-minus $'\tCiphers -chacha*,aes128-ctr' "$P"
exp_rc 0
exp_negotiated '^debug1: kex: client->server cipher aes256-ctr ' "aes256-ctr"
tend

tcase "Ciphers aes128-gcm@openssh.com: a plain list replaces the defaults"
algo c-plain $'\tCiphers aes128-gcm@openssh.com' "$P"
exp_rc 0
exp_negotiated '^debug1: kex: client->server cipher aes128-gcm@openssh.com MAC <implicit>$' "aes128-gcm"
tend

tcase "MACs ^hmac-sha2-512 (with Ciphers aes128-ctr): hmac-sha2-512"
algo m-caret $'\tCiphers aes128-ctr\n\tMACs ^hmac-sha2-512' "$P"
exp_rc 0
exp_negotiated '^debug1: kex: client->server cipher aes128-ctr MAC hmac-sha2-512$' "hmac-sha2-512"
exp_negotiated '^debug1: kex: server->client cipher aes128-ctr MAC hmac-sha2-512$' "hmac-sha2-512 both ways"
tend

tcase "MACs -*-etm@openssh.com (with Ciphers aes128-ctr): hmac-sha2-256"
algo m-minus $'\tCiphers aes128-ctr\n\tMACs -*-etm@openssh.com' "$P"
exp_rc 0
exp_negotiated '^debug1: kex: client->server cipher aes128-ctr MAC hmac-sha2-256$' "hmac-sha2-256"
tend

tcase "KexAlgorithms ^diffie-hellman-group14-sha256"
algo k-caret $'\tKexAlgorithms ^diffie-hellman-group14-sha256' "$P"
exp_rc 0
exp_negotiated '^debug1: kex: diffie-hellman-group14-sha256, ' "diffie-hellman-group14-sha256"
tend

tcase "KexAlgorithms -curve25519*: ecdh-sha2-nistp256 is next"
algo k-minus $'\tKexAlgorithms -curve25519*' "$P"
exp_rc 0
exp_negotiated '^debug1: kex: ecdh-sha2-nistp256, ' "ecdh-sha2-nistp256"
tend

tcase "KexAlgorithms +diffie-hellman-group14-sha1: appended, so curve25519 stays first"
algo k-plus $'\tKexAlgorithms +diffie-hellman-group14-sha1' "$P"
exp_rc 0
exp_negotiated '^debug1: kex: curve25519-sha256, ' "curve25519-sha256"
tend

tcase "HostKeyAlgorithms ^ecdsa-sha2-nistp256"
algo h-caret $'\tHostKeyAlgorithms ^ecdsa-sha2-nistp256' "$P"
exp_rc 0
exp_negotiated '^debug1: kex: [^ ]+, host key ecdsa-sha2-nistp256$' "host key ecdsa-sha2-nistp256"
tend

tcase "HostKeyAlgorithms rsa-sha2-256: a plain list"
algo h-plain $'\tHostKeyAlgorithms rsa-sha2-256' "$P"
exp_rc 0
exp_negotiated '^debug1: kex: [^ ]+, host key rsa-sha2-256$' "host key rsa-sha2-256"
tend

tcase "-o Ciphers= on the command line beats Ciphers in the file"
algo c-cmdline $'\tCiphers ^aes256-ctr' "$P" -o Ciphers=aes128-gcm@openssh.com
exp_rc 0
exp_negotiated '^debug1: kex: client->server cipher aes128-gcm@openssh.com ' "aes128-gcm"
tend

if [ -n "$LP" ]; then
	tcase "legacy sshd without the '+' lines: 255, the message names an option"
	algo legacy-none '' "$LP"
	exp_rc 255
	exp_out_empty
	exp_err_match '=\+(diffie-hellman-group14-sha1|ssh-rsa|hmac-sha1)' "a -o X=+Y option"
	tend

	tcase "legacy sshd: KexAlgorithms/HostKeyAlgorithms/MACs + lines in the file log in"
	algo legacy $'\tKexAlgorithms +diffie-hellman-group14-sha1\n\tHostKeyAlgorithms +ssh-rsa\n\tMACs +hmac-sha1' "$LP"
	exp_rc 0
	exp_out_str $'ok\n'
	exp_negotiated '^debug1: kex: diffie-hellman-group14-sha1, host key ssh-rsa$' "diffie-hellman-group14-sha1 and ssh-rsa"
	exp_negotiated '^debug1: kex: client->server cipher aes128-ctr MAC hmac-sha1$' "aes128-ctr with hmac-sha1"
	exp_negotiated '^debug1: kex: server->client cipher aes128-ctr MAC hmac-sha1$' "aes128-ctr with hmac-sha1 back"
	tend
fi
