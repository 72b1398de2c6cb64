#!/usr/bin/env bash
# bench/run.sh [OUTDIR]
#
# remowt next to OpenSSH's ssh and dropbear's dbclient, in one run, against
# the same two throwaway servers (OpenSSH sshd and dropbear on free
# 127.0.0.1 ports), printed as one table with ratios and targets.
#
#   W1  new connection + `true`               hyperfine -N, N runs; remowt
#       also with its agent: first contact (agent uploaded) and cached
#   W2  500 x `true` over one connection       ssh ControlMaster, remowt batch
#   W3  list 1000 entries                      ssh, ssh+mux, sftp, dbclient
#   W4  push 1000 x 4 KiB in 10 directories    tar|ssh, scp, sftp, rsync,
#                                              tar|dbclient; checked by diff -r
#   W5  upload SIZE MiB through 'cat > FILE'   per cipher, checked with cmp
#   W6  download it through 'cat FILE'         per cipher, checked with cmp
#   BENCH_SLOW_LINK=1: W1 and W4 again over a 100 ms, 8 Mbit/s link
#
# Everything is in environment variables; see usage() or bench/README.
# This is a benchmark, not a test: `make test` never runs it.
#
# Command lines are built from plain words (paths are checked to hold no
# spaces or quotes) and split on purpose where they are used:
# shellcheck disable=SC2046,SC2086,SC2317
set -euo pipefail

# sshd and dropbear live in sbin, which a non-login PATH may lack.
PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

BENCH=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(dirname -- "$BENCH")

usage() {
  cat >&2 <<'EOF'
usage: bench/run.sh [OUTDIR]      (run as root; OUTDIR defaults to a new
                                   directory under /tmp)
environment (defaults in brackets, quick-mode defaults after the slash):
  REMOWT=PATH            the remowt binary [./remowt of this repository]
  REMOWT_SH="CMD ..."    the words that stand for `remowt sh` [$REMOWT sh];
                         e.g. REMOWT_SH=/tmp/bench-sh for a stand-in driver
  BENCH_QUICK=1          smoke-test sizes: about a minute
  BENCH_ONLY="W1 W2 W3 W4 W5 W6"  workloads to run
  BENCH_N_MUX [500]      W2 commands per run
  BENCH_N_META [10/3]    W2/W3/W4 runs per row
  BENCH_SMALL_FILES [1000]  W3 entries, W4 files
  BENCH_SLOW_LINK=1      also W1 and W4 over bench/slowlink.py:
                         BENCH_SLOW_DELAY_MS [50] each way, BENCH_SLOW_RATE_KBIT [8000]
  BENCH_N [30/5]         W1 runs per row     BENCH_WARMUP [3/1]
  BENCH_N_BULK [6/2]     W5/W6 runs per row  BENCH_WARMUP_BULK [1/0]
  BENCH_N_DBCLIENT_BULK [3/1] runs of the (slow, compressing) dbclient bulk rows
  BENCH_ROUNDS [3/1]     rows compared with each other take turns, in this
                         many rounds, each with its share of the runs
  BENCH_SIZE_MB [256/32] size of the random file for W5/W6 (MiB)
  BENCH_CIPHERS ["aes256-gcm@openssh.com chacha20-poly1305@openssh.com aes128-ctr"]
                         W5/W6 ciphers against the OpenSSH server
  BENCH_DROPBEAR_CIPHERS ["chacha20-poly1305@openssh.com"] the same for dropbear
  BENCH_SERVERS ["openssh dropbear"]
  BENCH_TARGET_SSH [0.90]      W1: remowt time / ssh time at most this (OpenSSH)
  BENCH_TARGET_DBCLIENT [1.10] W1: remowt time / dbclient time at most this (dropbear)
  BENCH_TARGET_BULK [1.10]     W5/W6: remowt MB/s / ssh MB/s at least this
  BENCH_TARGET_FIRST_MS [50]   W1: first contact at most this much over ssh
  BENCH_TARGET_MUX_MS [3]      W2: remowt ms per command at most this
  BENCH_TARGET_LIST [1.00]     W3: remowt time / best peer's at most this
  BENCH_TARGET_PUSH [0.80]     W4: remowt time / best peer's at most this
  BENCH_TARGET_PUSH_SLOW [1.00] W4 on the slow link: remowt / tar pipe
  BENCH_TARGET_UPLOAD_SLOW [1.00] W1 on the slow link: first contact / ssh
                         'cat >' of a file the agent's size
  BENCH_PROFILE=1        also run each remowt bulk row once under perf stat
                         and strace -c (OUTDIR/profile/)
  BENCH_STRICT=1         exit 3 when a target is missed (default: exit 0)
  BENCH_HOLD=1           only start the servers and wait (command lines for
                         trying things by hand in OUTDIR/servers.env)
  BENCH_LOGIN_SHELL      login shell on the servers [the user's own]
  BENCH_SCRATCH          where the big files live [a new dir on /dev/shm]
  BENCH_OPENSSH_PORT, BENCH_DROPBEAR_PORT  [free ports picked at random]
exit status: 0 done, 1 a measurement or a result check failed, 2 usage,
             3 a target missed (BENCH_STRICT=1 only)
EOF
  exit 2
}

die() { printf 'bench: error: %s\n' "$*" >&2; exit 1; }
log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }

case ${1:-} in -h | --help | -*) usage ;; esac
(($# <= 1)) || usage

# --- knobs -------------------------------------------------------------------

QUICK=${BENCH_QUICK:-0}
qd() { if [[ $QUICK == 1 ]]; then printf '%s' "$1"; else printf '%s' "$2"; fi; }
N=${BENCH_N:-$(qd 5 30)}
WARMUP=${BENCH_WARMUP:-$(qd 1 3)}
N_BULK=${BENCH_N_BULK:-$(qd 2 6)}
ROUNDS=${BENCH_ROUNDS:-$(qd 1 3)}
N_DB_BULK=${BENCH_N_DBCLIENT_BULK:-$(qd 1 3)}
WARMUP_BULK=${BENCH_WARMUP_BULK:-$(qd 0 1)}
SIZE_MB=${BENCH_SIZE_MB:-$(qd 32 256)}
ONLY=${BENCH_ONLY:-W1 W2 W3 W4 W5 W6}
N_MUX=${BENCH_N_MUX:-500}
N_META=${BENCH_N_META:-$(qd 3 10)}
SMALL_FILES=${BENCH_SMALL_FILES:-1000}
SLOW_LINK=${BENCH_SLOW_LINK:-0}
CIPHERS=${BENCH_CIPHERS:-aes256-gcm@openssh.com chacha20-poly1305@openssh.com aes128-ctr}
DB_CIPHERS=${BENCH_DROPBEAR_CIPHERS:-chacha20-poly1305@openssh.com}
SERVERS=${BENCH_SERVERS:-openssh dropbear}
T_SSH=${BENCH_TARGET_SSH:-0.90}
T_DB=${BENCH_TARGET_DBCLIENT:-1.10}
T_BULK=${BENCH_TARGET_BULK:-1.10}
T_FIRST=${BENCH_TARGET_FIRST_MS:-50}
T_MUX=${BENCH_TARGET_MUX_MS:-3}
T_LIST=${BENCH_TARGET_LIST:-1.00}
T_PUSH=${BENCH_TARGET_PUSH:-0.80}
T_PUSH_SLOW=${BENCH_TARGET_PUSH_SLOW:-1.00}
T_UPLOAD_SLOW=${BENCH_TARGET_UPLOAD_SLOW:-1.00}
PROFILE=${BENCH_PROFILE:-0}
STRICT=${BENCH_STRICT:-0}

for v in N N_BULK N_DB_BULK SIZE_MB ROUNDS N_MUX N_META SMALL_FILES; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "BENCH_$v must be a positive integer, not '${!v}'"
done
for v in WARMUP WARMUP_BULK; do
  [[ ${!v} =~ ^[0-9]+$ ]] || die "BENCH_$v must be a non-negative integer, not '${!v}'"
done
for v in T_SSH T_DB T_BULK T_FIRST T_MUX T_LIST T_PUSH T_PUSH_SLOW T_UPLOAD_SLOW; do
  [[ ${!v} =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "targets must be numbers, not '${!v}'"
done
for w in $ONLY; do
  case $w in W1 | W2 | W3 | W4 | W5 | W6) ;;
  *) die "BENCH_ONLY: unknown workload '$w' (W1 W2 W3 W4 W5 W6)" ;; esac
done
for s in $SERVERS; do
  case $s in openssh | dropbear) ;; *) die "BENCH_SERVERS: unknown server '$s'" ;; esac
done
wants() { [[ " $ONLY " == *" $1 "* ]]; }
BYTES=$((SIZE_MB * 1048576))

if [[ -n ${REMOWT_SH:-} ]]; then
  read -r -a RSH <<<"$REMOWT_SH"
else
  REMOWT=${REMOWT:-$REPO/remowt}
  RSH=("$REMOWT" sh)
fi
[[ ${#RSH[@]} -gt 0 ]] || die "REMOWT_SH is empty"
if [[ ${RSH[0]} != */* ]]; then
  RSH[0]=$(command -v -- "${RSH[0]}") || die "${RSH[0]}: not found"
fi
if [[ ! -f ${RSH[0]} || ! -x ${RSH[0]} ]]; then
  die "no executable remowt at ${RSH[0]} (run make, or set REMOWT=... / REMOWT_SH=...)"
fi
RSH[0]=$(realpath -- "${RSH[0]}")
REMOWT_ORIG="${RSH[*]}"
for w in "${RSH[@]}"; do
  [[ $w =~ ^[A-Za-z0-9._/+=,:@-]+$ ]] || die "REMOWT_SH word '$w' has characters this script does not quote"
done

[[ $EUID -eq 0 ]] || die "run as root (sshd's privilege separation needs it)"
for c in hyperfine ssh ssh-keygen sshd dropbear dropbearkey dropbearconvert \
  dbclient unshare mount cmp awk setsid; do
  command -v "$c" >/dev/null ||
    die "$c not found (apt-get install hyperfine openssh-server openssh-client dropbear-bin)"
done
SSHD=$(command -v sshd)
[[ $SSHD == /* ]] || die "sshd must be found by an absolute path"
unshare -m --propagation private true 2>/dev/null ||
  die "mount namespaces unavailable (unshare -m); the bench never touches the real ~/.ssh"

# --- cleanup -----------------------------------------------------------------

HF_PID='' T='' SCRATCH=''
# alive PIDFILE NEEDLE: the recorded process runs and its command line (read
# a few times: sshd rewrites its title) still contains NEEDLE.
alive() {
  local pid
  [[ -s $1 ]] || return 1
  pid=$(<"$1")
  for _ in 1 2 3; do
    [[ -r /proc/$pid/cmdline ]] || return 1
    tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF -- "$2" && return 0
    sleep 0.05
  done
  return 1
}
# stop_server PIDFILE NEEDLE: its per-connection children, then the
# listener itself; exactly the processes this script started.
stop_server() {
  local pidfile=$1 needle=$2 pid child i
  alive "$pidfile" "$needle" || return 0
  pid=$(<"$pidfile")
  for child in $(ps -o pid= --ppid "$pid" 2>/dev/null || true); do
    kill -TERM "$child" 2>/dev/null || true
  done
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    alive "$pidfile" "$needle" || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
}
cleanup() {
  local rc=$?
  trap '' INT TERM # a second Ctrl-C must not cut the cleanup short
  trap - EXIT
  if [[ -n $HF_PID ]]; then
    kill -TERM -- "-$HF_PID" 2>/dev/null || kill -TERM "$HF_PID" 2>/dev/null || true
    wait "$HF_PID" 2>/dev/null || true
  fi
  if [[ -n $T ]]; then
    stop_server "$T/sshd.pid" "$T/sshd_config"
    stop_server "$T/dropbear.pid" "$T/dropbear_host_key"
    stop_server "$T/slowlink-openssh.pid" slowlink.py
    stop_server "$T/slowlink-dropbear.pid" slowlink.py
    rm -rf -- "$T"
  fi
  if [[ -n $SCRATCH ]]; then rm -rf -- "$SCRATCH"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- output and scratch directories ------------------------------------------

plain() { [[ $1 =~ ^[A-Za-z0-9._/+-]+$ ]]; }

if [[ $# -eq 1 ]]; then
  mkdir -p -- "$1"
  OUT=$(cd -- "$1" && pwd -P)
else
  OUT=$(mktemp -d "${TMPDIR:-/tmp}/remowt-bench-$(date +%Y%m%d-%H%M%S).XXXX")
fi
plain "$OUT" || die "OUTDIR '$OUT' may contain only letters, digits and . _ / + -"
mkdir -p "$OUT/logs"
RESULTS=$OUT/results.tsv

# T: servers' keys, configs, fake home and passwd; removed at exit.
T=$(mktemp -d "${TMPDIR:-/tmp}/remowt-bench-srv.XXXXXX")
plain "$T" || { rm -rf -- "$T"; die "temporary directory '$T' has an odd name (TMPDIR)"; }
# The binary under test is copied first: a rebuild of ./remowt during the
# run then cannot mix two builds in one table.
cp -- "${RSH[0]}" "$T/remowt-under-test"
REMOWT_SUM=$(sha256sum "$T/remowt-under-test" | cut -c1-16)
RSH[0]=$T/remowt-under-test
if [[ -n ${BENCH_SCRATCH:-} ]]; then
  mkdir -p -- "$BENCH_SCRATCH"
  SCRATCH=$(mktemp -d "$(cd -- "$BENCH_SCRATCH" && pwd -P)/remowt-bench.XXXXXX")
elif [[ $(stat -f -c %T /dev/shm 2>/dev/null) == tmpfs ]] &&
  (($(df -P -B1 /dev/shm | awk 'NR == 2 { print $4 }') > 3 * BYTES + 67108864)); then
  SCRATCH=$(mktemp -d /dev/shm/remowt-bench.XXXXXX)
else
  SCRATCH=$(mktemp -d "$T/scratch.XXXXXX")
  log "warning: no tmpfs with room at /dev/shm; big files on disk in $SCRATCH"
fi
plain "$SCRATCH" || die "scratch directory '$SCRATCH' has an odd name"
BIG=$SCRATCH/big.bin   # W5 source, W6 source (read by the server)
UP=$SCRATCH/up.bin     # W5 destination (written by the server)
DOWN=$SCRATCH/down.bin # W6 destination (written by the client)

# --- servers -----------------------------------------------------------------

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
random_port() {
  local p
  for _ in {1..100}; do
    p=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
    port_busy "$p" || { echo "$p"; return; }
  done
  die "found no free port"
}

LOGIN_USER=$(id -un)
HOMEDIR=$T/home # the login user's home as both servers see it: empty
CLIENT_KEY=$T/id_ed25519
CLIENT_KEY_DB=$T/id_ed25519.dropbear
KNOWN_HOSTS=$T/known_hosts
SSH_CFG=$T/ssh_config
CLIENT_HOME=$T/client # HOME for ssh and remowt: nothing of the real ~/.ssh
declare -A PORT

make_keys() {
  ssh-keygen -q -t ed25519 -N '' -C remowt-bench-sshd -f "$T/sshd_host_key"
  dropbearkey -t ed25519 -f "$T/dropbear_host_key" >/dev/null 2>&1
  dropbearkey -y -f "$T/dropbear_host_key" 2>/dev/null | grep '^ssh-' |
    cut -d' ' -f1-2 >"$T/dropbear_host_key.pub"
  ssh-keygen -q -t ed25519 -N '' -C remowt-bench-client -f "$CLIENT_KEY"
  dropbearconvert openssh dropbear "$CLIENT_KEY" "$CLIENT_KEY_DB" >/dev/null 2>&1
  mkdir -m 700 "$HOMEDIR" "$HOMEDIR/.ssh" "$CLIENT_HOME" "$CLIENT_HOME/.ssh"
  install -m 600 "$CLIENT_KEY.pub" "$T/authorized_keys"
  install -m 600 "$CLIENT_KEY.pub" "$HOMEDIR/.ssh/authorized_keys" # dropbear's
  # The servers see this file as /etc/passwd: same users, our home.
  awk -F: -v OFS=: -v u="$LOGIN_USER" -v h="$HOMEDIR" -v sh="${BENCH_LOGIN_SHELL:-}" \
    '$1 == u { $6 = h; if (sh != "") $7 = sh } 1' /etc/passwd >"$T/passwd"
  chmod 644 "$T/passwd"
  grep -q "^$LOGIN_USER:" "$T/passwd" || die "$LOGIN_USER is not in /etc/passwd"
}

write_sshd_config() {
  local sftp=/usr/lib/openssh/sftp-server
  cat >"$T/sshd_config" <<EOF
ListenAddress 127.0.0.1:${PORT[openssh]}
HostKey $T/sshd_host_key
PidFile none
UsePAM no
PermitRootLogin prohibit-password
PubkeyAuthentication yes
AuthorizedKeysFile $T/authorized_keys
StrictModes no
PasswordAuthentication no
KbdInteractiveAuthentication no
UseDNS no
PrintMotd no
PrintLastLog no
X11Forwarding no
MaxStartups 100:30:200
LogLevel ERROR
EOF
  [[ -x $sftp ]] && echo "Subsystem sftp $sftp" >>"$T/sshd_config"
  [[ -d /run/sshd ]] || mkdir -m 755 /run/sshd # privsep dir; systemd makes it
  "$SSHD" -t -f "$T/sshd_config" || die "sshd rejected $T/sshd_config"
}

# launch NAME CMD...: CMD in a private mount namespace where /etc/passwd is
# our copy; unshare and sh exec into CMD, so $! is the server itself.
launch() {
  local name=$1
  shift
  # shellcheck disable=SC2016 # $0 and $@ belong to the inner sh
  unshare -m --propagation private \
    sh -c 'mount --bind "$0" /etc/passwd && exec "$@"' "$T/passwd" "$@" \
    </dev/null >>"$OUT/logs/$name.log" 2>&1 &
  echo "$!" >"$T/$name.pid"
}

# wait_listen NAME PORT NEEDLE: up to 10 s for the server to listen.
wait_listen() {
  local pid i
  pid=$(<"$T/$1.pid")
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || return 1
    if port_busy "$2"; then alive "$T/$1.pid" "$3"; return; fi
    sleep 0.1
  done
  return 1
}

start_openssh() {
  local _try
  for _try in 1 2 3 4 5; do
    PORT[openssh]=${BENCH_OPENSSH_PORT:-$(random_port)}
    write_sshd_config
    launch sshd "$SSHD" -D -e -f "$T/sshd_config"
    wait_listen sshd "${PORT[openssh]}" "$T/sshd_config" && return 0
    stop_server "$T/sshd.pid" "$T/sshd_config"
    [[ -z ${BENCH_OPENSSH_PORT:-} ]] || break
  done
  tail -n 5 "$OUT/logs/sshd.log" >&2 || true
  die "sshd did not come up (log: $OUT/logs/sshd.log)"
}

start_dropbear() {
  local _try
  for _try in 1 2 3 4 5; do
    PORT[dropbear]=${BENCH_DROPBEAR_PORT:-$(random_port)}
    # -s: no passwords, -m: no motd, -E: log to stderr, -F: foreground
    launch dropbear dropbear -F -E -s -m -p "127.0.0.1:${PORT[dropbear]}" \
      -r "$T/dropbear_host_key" -P "$T/dropbear.pidfile"
    wait_listen dropbear "${PORT[dropbear]}" "$T/dropbear_host_key" && return 0
    stop_server "$T/dropbear.pid" "$T/dropbear_host_key"
    [[ -z ${BENCH_DROPBEAR_PORT:-} ]] || break
  done
  tail -n 5 "$OUT/logs/dropbear.log" >&2 || true
  die "dropbear did not come up (log: $OUT/logs/dropbear.log)"
}

# Host keys are checked by every client: ssh and remowt read KNOWN_HOSTS;
# dbclient reads $HOME/.ssh/known_hosts without ports, so it gets one HOME
# per server.
write_client_files() {
  local s pub
  : >"$KNOWN_HOSTS"
  : >"$SSH_CFG"
  for s in openssh dropbear openssh-slow dropbear-slow; do
    if [[ $s == openssh* ]]; then pub=$(cut -d' ' -f1-2 "$T/sshd_host_key.pub"); else
      pub=$(<"$T/dropbear_host_key.pub"); fi
    [[ -n ${PORT[$s]:-} ]] || continue
    printf '[127.0.0.1]:%s %s\n' "${PORT[$s]}" "$pub" >>"$KNOWN_HOSTS"
    mkdir -p "$T/dbclient-$s/.ssh"
    chmod 700 "$T/dbclient-$s" "$T/dbclient-$s/.ssh"
    printf '127.0.0.1 %s\n' "$pub" >"$T/dbclient-$s/.ssh/known_hosts"
    printf 'Host bench-%s\n  HostName 127.0.0.1\n  Port %s\n' "$s" "${PORT[$s]}" >>"$SSH_CFG"
  done
  cat >>"$SSH_CFG" <<EOF
Host bench-*
  User $LOGIN_USER
  IdentityFile $CLIENT_KEY
  IdentitiesOnly yes
  IdentityAgent none
  StrictHostKeyChecking yes
  UserKnownHostsFile $KNOWN_HOSTS
  GlobalKnownHostsFile /dev/null
  UpdateHostKeys no
  CheckHostIP no
  BatchMode yes
  LogLevel ERROR
  ControlMaster no
  ControlPath none
  ForwardAgent no
  ForwardX11 no
  RequestTTY no
EOF
}

# Command lines (plain words: hyperfine -N splits them like a shell would).
ssh_cmd() { echo "ssh -F $SSH_CFG bench-$1"; }
remowt_cmd() {
  echo "${RSH[*]} -p ${PORT[$1]} -i $CLIENT_KEY -o UserKnownHostsFile=$KNOWN_HOSTS" \
    "-o StrictHostKeyChecking=yes $LOGIN_USER@127.0.0.1"
}
db_cmd() { echo "dbclient -i $CLIENT_KEY_DB -p ${PORT[$1]} $LOGIN_USER@127.0.0.1"; }
db_home() { echo "$T/dbclient-${1%-slow}"; }

# Every client gets a clean environment: its own HOME, no agent.
client_env() { # [HOME]
  echo "env -u SSH_AUTH_SOCK -u SSH_AGENT_PID HOME=${1:-$CLIENT_HOME}"
}

smoke() { # SERVER: each client runs a command and returns its output
  local s=$1 got shown
  got=$($(client_env) $(ssh_cmd "$s") "echo ok-ssh" </dev/null 2>&1) ||
    die "ssh -> $s failed: $got"
  [[ $got == ok-ssh ]] || die "ssh -> $s: unexpected output '$got'"
  got=$($(client_env "$(db_home "$s")") timeout 20 $(db_cmd "$s") "echo ok-db" </dev/null 2>&1) ||
    die "dbclient -> $s failed: $got"
  [[ $got == ok-db ]] || die "dbclient -> $s: unexpected output '$got'"
  shown=$(remowt_cmd "$s")
  shown="$REMOWT_ORIG${shown#"${RSH[*]}"} 'echo ok-remowt'"
  got=$($(client_env) timeout 20 $(remowt_cmd "$s") "echo ok-remowt" </dev/null 2>&1) ||
    die "remowt -> $s failed (exit $?): $got
  command: $shown
  (a driver that takes these arguments without the word 'sh' goes in
  REMOWT_SH=..., see bench/README)"
  [[ $got == ok-remowt ]] || die "remowt -> $s: unexpected output '$got'"
}

# --- negotiated algorithms, for the notes --------------------------------------

# The algorithms a client negotiated, for the notes: "KEX, CIPHER[+MAC]",
# names without their @domain.
# algs_ssh SERVER [SSH-OPTIONS]: from ssh -v.
algs_ssh() {
  local s=$1
  shift
  $(client_env) $(ssh_cmd "$s") -o LogLevel=DEBUG1 "$@" true </dev/null 2>&1 | awk '
    { gsub(/\r/, "") }
    /kex: algorithm:/ { k = $NF }
    /kex: client->server cipher:/ { c = $5; m = $7 }
    END { print_algs(k, c, m) }'"$AWK_ALGS"
}
# algs_remowt SERVER [OPTIONS]: from remowt -v ("debug1: kex: K, host key
# H" and "debug1: kex: client->server cipher C MAC M"); empty if it does
# not say.
algs_remowt() {
  local s=$1 words
  shift
  words=$(remowt_cmd "$s")
  # -v goes right after the words of REMOWT_SH, before the other options.
  words="${RSH[*]} -v ${words#"${RSH[*]} "}"
  $(client_env) $words "$@" true </dev/null 2>&1 | awk '
    /kex: .*, host key/ { k = $0; sub(/.*kex: /, "", k); sub(/,.*/, "", k) }
    /kex: client->server cipher/ {
      for (i = 1; i < NF; i++) { if ($i == "cipher") c = $(i + 1); if ($i == "MAC") m = $(i + 1) } }
    END { print_algs(k, c, m) }'"$AWK_ALGS" || true
}
AWK_ALGS='
  function print_algs(k, c, m) {
    if (k == "") exit
    sub(/@.*/, "", k); sub(/@.*/, "", c); sub(/@.*/, "", m)
    printf "%s, %s%s", k, c, (m == "" || m ~ /implicit/) ? "" : "+" m }'
short() { echo "${1%%@*}"; }

# --- measuring ---------------------------------------------------------------
#
# Rows that are compared with each other (one workload, one server) form a
# group. A group is measured in ROUNDS rounds; each round runs every row
# for its share of the runs, in turn, forward in odd rounds and backward in
# even ones. A machine whose load drifts (other builds on 2 cores) then
# spreads the drift over remowt and its peers alike instead of tilting a
# ratio. Each row's statistics are over the times of all its rounds.

declare -A MED MEAN SD MIN USR SYS RATE UNIT NOTE STATUS NRUNS
ORDER=()
FAILURES=0
G_KEY=() G_MODE=() G_SPEC=() G_CMD=() G_PREP=() G_HOME=() G_DEST=() G_RUNS=() G_WARM=()
G_POST=()
# Runs and warm-up runs of the rows added next (a call may override them
# for one row: RUNS=3 WARM=0 add ...).
RUNS=1 WARM=0

row_id() { printf '%s' "$1" | tr -c 'A-Za-z0-9._-' '_'; }

# add W TOOL SERVER MODE RATESPEC CMD [PREPARE [HOME [NOTE [DEST [POST]]]]]
#   MODE exec: hyperfine -N (no shell); shell: CMD is a bash command line.
#   RATESPEC ops | ops:N | bytes:N.  PREPARE (bash, untimed) runs before
#   every run.  DEST: a file that must equal $BIG after the row's last
#   run.  POST (bash): a check of the last run's result that must pass.
add() {
  local key="$1|$2|$3"
  ORDER+=("$key")
  NOTE[$key]=${9:-}
  G_KEY+=("$key") G_MODE+=("$4") G_SPEC+=("$5") G_CMD+=("$6")
  G_PREP+=("${7:-}") G_HOME+=("${8:-}") G_DEST+=("${10:-}")
  G_RUNS+=("$RUNS") G_WARM+=("$WARM") G_POST+=("${11:-}")
  rm -f -- "$OUT/logs/$(row_id "$key")".*
}

# hf I ROUND RUNS WARMUP: one hyperfine call for row I of the group.
hf() {
  local i=$1 round=$2 runs=$3 warm=$4 key=${G_KEY[$1]} id rc=0
  local -a args
  id=$(row_id "$key")
  args=(--runs "$runs" --warmup "$warm" --style basic -n "$id"
    --export-json "$OUT/logs/$id.r$round.json")
  if [[ ${G_MODE[$i]} == exec ]]; then args+=(-N); else args+=(--shell bash); fi
  if [[ -n ${G_PREP[$i]} ]]; then args+=(--prepare "${G_PREP[$i]}"); fi
  printf '%s\n' "${G_CMD[$i]}" >"$OUT/logs/$id.cmd"
  if [[ -n ${G_DEST[$i]} ]]; then rm -f -- "${G_DEST[$i]}"; fi
  # In a session of its own, waited for in the background: a signal to
  # this script reaches cleanup at once, which ends exactly that group.
  $(client_env "${G_HOME[$i]}") setsid hyperfine "${args[@]}" "${G_CMD[$i]}" \
    </dev/null >>"$OUT/logs/$id.log" 2>&1 &
  HF_PID=$!
  wait "$HF_PID" || rc=$?
  HF_PID=''
  if ((rc != 0)) && grep -q 'preparation command terminated' "$OUT/logs/$id.log"; then
    fail "$key" "RESULT CHECK FAILED: a run's ${G_DEST[$i]##*/} differed from the source"
    return
  elif ((rc != 0)); then
    fail "$key" "the command failed in round $round (see $OUT/logs/$id.log)"
    return
  fi
  # The prepare step compared every earlier run's result; this is the last.
  if [[ -n ${G_DEST[$i]} ]] && ! cmp -s -- "$BIG" "${G_DEST[$i]}"; then
    fail "$key" "RESULT CHECK FAILED: ${G_DEST[$i]} differs from the source"
  fi
  if [[ -n ${G_DEST[$i]} ]]; then rm -f -- "${G_DEST[$i]}"; fi
  if [[ -n ${G_POST[$i]} ]] && ! bash -c "${G_POST[$i]}" >>"$OUT/logs/$id.log" 2>&1; then
    fail "$key" "RESULT CHECK FAILED: ${G_POST[$i]}"
  fi
}

fail() {
  [[ ${STATUS[$1]:-} == failed ]] && return 0
  STATUS[$1]=failed
  NOTE[$1]="$2; ${NOTE[$1]}"
  FAILURES=$((FAILURES + 1))
  log "FAILED  ${1//|/ }: $2"
}

# run_group: measure the rows added since the last group, each in up to
# ROUNDS rounds (no more rounds than it has runs).
run_group() {
  local n r i k total rounds share
  n=${#G_KEY[@]}
  for ((i = 0; i < n; i++)); do STATUS[${G_KEY[$i]}]=ok; done
  for ((r = 1; r <= ROUNDS; r++)); do
    for ((k = 0; k < n; k++)); do
      if ((r % 2)); then i=$k; else i=$((n - 1 - k)); fi
      [[ ${STATUS[${G_KEY[$i]}]} == ok ]] || continue
      total=${G_RUNS[$i]}
      rounds=$((ROUNDS < total ? ROUNDS : total))
      ((r <= rounds)) || continue
      # Runs split as evenly as they go: 5 in 3 rounds are 2, 2, 1.
      share=$((total / rounds + (r <= total % rounds ? 1 : 0)))
      hf "$i" "$r" "$share" "$((r == 1 ? G_WARM[i] : 0))"
    done
  done
  for ((i = 0; i < n; i++)); do summarize "$i"; done
  G_KEY=() G_MODE=() G_SPEC=() G_CMD=() G_PREP=() G_HOME=() G_DEST=() G_RUNS=() G_WARM=()
  G_POST=()
}

# summarize I: statistics over the runs of all rounds of row I.
summarize() {
  local i=$1 key=${G_KEY[$1]} id line a b c d e f g h
  local -a files=()
  [[ ${STATUS[$key]} == ok ]] || return 0
  id=$(row_id "$key")
  files=("$OUT/logs/$id".r*.json)
  # hyperfine writes one number per line inside "times": [ ... ]; "user"
  # and "system" are means per run, weighted here by the round's runs.
  awk '
    /"times": \[/ { inside = 1; nr = 0; next }
    inside && /\]/ { inside = 0; u += ur * nr; y += yr * nr; next }
    inside { gsub(/[ ,]/, ""); print "T", $0; nr++; next }
    /"user":/ { gsub(/[ ,]/, ""); split($0, p, ":"); ur = p[2] }
    /"system":/ { gsub(/[ ,]/, ""); split($0, p, ":"); yr = p[2] }
    END { print "U", u; print "Y", y }
  ' "${files[@]}" >"$OUT/logs/$id.raw"
  awk '$1 == "T" { print $2 }' "$OUT/logs/$id.raw" | sort -g >"$OUT/logs/$id.times"
  line=$(awk -v spec="${G_SPEC[$i]}" '
    FNR == NR { if ($1 == "U") u = $2; if ($1 == "Y") y = $2; next }
    { t[++n] = $1; s += $1 }
    END {
      if (n == 0) exit 1
      med = (n % 2) ? t[(n + 1) / 2] : (t[n / 2] + t[n / 2 + 1]) / 2
      mean = s / n
      for (j = 1; j <= n; j++) v += (t[j] - mean) ^ 2
      sd = (n > 1) ? sqrt(v / (n - 1)) : 0
      split(spec, r, ":")
      if (r[1] == "ops") { rate = (r[2] == "" ? 1 : r[2]) / med; unit = "cmd/s" }
      else               { rate = r[2] / 1e6 / med; unit = "MB/s" }
      printf "%.5f %.5f %.5f %.5f %.5f %.5f %.1f %s\n", med, mean, sd, t[1], u / n, y / n, rate, unit
    }' "$OUT/logs/$id.raw" "$OUT/logs/$id.times") || {
    fail "$key" "no run times in $OUT/logs/$id.r*.json"
    return 0
  }
  read -r a b c d e f g h <<<"$line"
  MED[$key]=$a MEAN[$key]=$b SD[$key]=$c MIN[$key]=$d
  USR[$key]=$e SYS[$key]=$f RATE[$key]=$g UNIT[$key]=$h
  NRUNS[$key]=$(wc -l <"$OUT/logs/$id.times")
  log "$(printf '%-3s %-32s %-9s median %8.4f s  %9s %s' "${key%%|*}" \
    "$(cut -d'|' -f2 <<<"$key")" "${key##*|}" "$a" "$g" "$h")"
}

# Comparisons: remowt row KEY against peer row PKEY.
#   KIND time: ratio = remowt time / peer time, met if <= TARGET
#   KIND rate: ratio = remowt MB/s / peer MB/s, met if >= TARGET
#   KIND delta: remowt time - peer time in ms, met if <= TARGET
#   KIND perop:N: remowt time / N in ms, met if <= TARGET (the peer is
#        there to be read beside it)
#   PKEY may name several rows, comma-separated: the fastest counts.
#   TARGET "-": shown for information only.
CMP=()
compare() { CMP+=("$1	$2	$3	$4	$5"); } # KEY PKEY PEERNAME KIND TARGET

# --- workloads ---------------------------------------------------------------

run_w1() {
  local s kx='-o KexAlgorithms=curve25519-sha256'
  log "W1: new connection + true, $N runs per row (+$WARMUP warm-up) in $ROUNDS round(s)"
  RUNS=$N WARM=$WARMUP
  for s in $SERVERS; do
    add W1 ssh "$s" exec ops "$(ssh_cmd "$s") true" '' '' "$(algs_ssh "$s")"
    if [[ $s == openssh ]]; then
      add W1 "ssh kex=curve25519" "$s" exec ops "$(ssh_cmd "$s") $kx true" '' '' \
        "$(algs_ssh "$s" $kx)"
    fi
    add W1 dbclient "$s" exec ops "$(db_cmd "$s") true" '' "$(db_home "$s")" \
      "dbclient defaults (zlib on)"
    add W1 remowt "$s" exec ops "$(remowt_cmd "$s") true" '' '' "$(algs_remowt "$s")"
    if have_agent; then w1_agent_rows "$s"; fi
    if [[ $s == openssh ]]; then
      add W1 "remowt kex=curve25519" "$s" exec ops "$(remowt_cmd "$s") $kx true" '' '' \
        "$(algs_remowt "$s" $kx)"
      compare "W1|remowt|$s" "W1|ssh|$s" ssh time "$T_SSH"
      compare "W1|remowt|$s" "W1|dbclient|$s" dbclient time -
      compare "W1|remowt kex=curve25519|$s" "W1|ssh kex=curve25519|$s" \
        "ssh kex=curve25519" time "$T_SSH"
    else
      compare "W1|remowt|$s" "W1|dbclient|$s" dbclient time "$T_DB"
      compare "W1|remowt|$s" "W1|ssh|$s" ssh time -
    fi
    run_group
  done
}

ciphers_of() { if [[ $1 == dropbear ]]; then echo "$DB_CIPHERS"; else echo "$CIPHERS"; fi; }

# bulk W SERVER: W5 (upload) or W6 (download) for every cipher, one group
# per cipher: ssh, remowt and (dropbear, chacha20-poly1305) dbclient.
bulk() {
  local w=$1 s=$2 c sc dest prep tool
  if [[ $w == W5 ]]; then dest=$UP; else dest=$DOWN; fi
  # Before every run: the previous run's result must match, then goes.
  prep="if [ -e $dest ]; then cmp -s $BIG $dest || { echo '$dest differs from $BIG' >&2; exit 1; }; fi; rm -f $dest"
  xfer() { # CMD-PREFIX: the whole transfer command line
    if [[ $w == W5 ]]; then echo "$1 'cat > $UP' < $BIG"; else echo "$1 'cat $BIG' > $DOWN"; fi
  }
  RUNS=$N_BULK WARM=$WARMUP_BULK
  for c in $(ciphers_of "$s"); do
    sc=$(short "$c")
    add "$w" "ssh -c $sc" "$s" shell "bytes:$BYTES" "$(xfer "$(ssh_cmd "$s") -c $c")" \
      "$prep" '' "$(algs_ssh "$s" -c "$c")" "$dest"
    add "$w" "remowt $sc" "$s" shell "bytes:$BYTES" \
      "$(xfer "$(remowt_cmd "$s") -o Ciphers=$c")" "$prep" '' \
      "$(algs_remowt "$s" -o "Ciphers=$c")" "$dest"
    compare "$w|remowt $sc|$s" "$w|ssh -c $sc|$s" "ssh -c $sc" rate "$T_BULK"
    if [[ $s == dropbear && $c == chacha20-poly1305@openssh.com ]]; then
      tool="dbclient -c $sc"
      RUNS=$N_DB_BULK WARM=0 add "$w" "$tool" "$s" shell "bytes:$BYTES" "$(xfer "$(db_cmd "$s") -c $c")" \
        "$prep" "$(db_home "$s")" "+ zlib compression, always on in dbclient" "$dest"
      compare "$w|remowt $sc|$s" "$w|$tool|$s" "$tool" rate -
    fi
    run_group
    if [[ $PROFILE == 1 && ${STATUS[$w|remowt $sc|$s]} == ok ]]; then
      profile "$w|remowt $sc|$s" "$(xfer "$(remowt_cmd "$s") -o Ciphers=$c")" "$dest"
      profile "$w|ssh -c $sc|$s" "$(xfer "$(ssh_cmd "$s") -c $c")" "$dest"
    fi
  done
  rm -f -- "$dest"
}

# profile KEY XFER DEST: one more run each under perf stat and strace -c,
# to see where the time goes (not part of the table).
profile() {
  local id
  id=$(row_id "$1")
  mkdir -p "$OUT/profile"
  if command -v perf >/dev/null; then
    rm -f -- "$3"
    $(client_env) perf stat -o "$OUT/profile/$id.perf" -- bash -c "$2" \
      </dev/null >/dev/null 2>&1 || log "perf stat of $id failed"
  fi
  if command -v strace >/dev/null; then
    rm -f -- "$3"
    $(client_env) strace -f -c -o "$OUT/profile/$id.strace" -- bash -c "$2" \
      </dev/null >/dev/null 2>&1 || log "strace of $id failed"
  fi
  rm -f -- "$3"
}

run_bulk() {
  local w=$1 s what=upload
  [[ $w == W6 ]] && what=download
  log "$w: $what $SIZE_MB MiB, $N_BULK runs per row in $ROUNDS round(s)"
  for s in $SERVERS; do bulk "$w" "$s"; done
}

# --- the agent workloads -----------------------------------------------------
#
# These need the real remowt (REMOWT, not a REMOWT_SH stand-in): its
# agent commands.  The agent cache lives on the scratch tmpfs, as /tmp
# does on a router: AGENT_CACHE is warmed by the smoke test, FIRST_CACHE
# is emptied before every first-contact run.

AGENT_CACHE='' FIRST_CACHE=''
# What remowt uploads to this machine: the cross-built x86_64 agent when
# make cross made one, else the host's own.
AGENT_FILE=$REPO/build/agents/agent-x86_64
[[ -f $AGENT_FILE ]] || AGENT_FILE=$REPO/build/agent
have_agent() { [[ ${RSH[1]:-} == sh && ${#RSH[@]} -eq 2 ]]; }
remowt_agent_cmd() { # SERVER [CACHE]: the words before COMMAND
  echo "${RSH[0]} --cache ${2:-$AGENT_CACHE} -p ${PORT[$1]} -i $CLIENT_KEY" \
    "-o UserKnownHostsFile=$KNOWN_HOSTS -o StrictHostKeyChecking=yes"
}
rhost() { echo "$LOGIN_USER@127.0.0.1"; }
mux_path() { echo "$T/mux-$1"; }
mux_start() { # SERVER: an OpenSSH ControlMaster for the rows that share one
  $(client_env) $(ssh_cmd "$1") -o ControlMaster=yes -o ControlPath="$(mux_path "$1")" \
    -o ControlPersist=600 -fN </dev/null >/dev/null 2>&1 || die "ControlMaster to $1 failed"
}
mux_stop() {
  $(client_env) $(ssh_cmd "$1") -o ControlPath="$(mux_path "$1")" -O exit \
    </dev/null >/dev/null 2>&1 || true
}
ssh_mux_cmd() { echo "$(ssh_cmd "$1") -o ControlPath=$(mux_path "$1")"; }

# The agent rows of W1: first contact (agent uploaded) and cached contact,
# each followed by `exec true`.
w1_agent_rows() {
  local s=$1 r
  r=$(remowt_agent_cmd "$s" "$FIRST_CACHE-$s")
  add W1 "remowt exec, first contact" "$s" exec ops "$r exec $(rhost) -- true" \
    "rm -rf $FIRST_CACHE-$s" '' "agent uploaded into an empty cache each run"
  add W1 "remowt exec, agent cached" "$s" exec ops \
    "$(remowt_agent_cmd "$s") exec $(rhost) -- true" '' '' "agent already in the cache"
  compare "W1|remowt exec, first contact|$s" "W1|ssh|$s" ssh delta "$T_FIRST"
  if [[ $s == openssh ]]; then
    compare "W1|remowt exec, agent cached|$s" "W1|ssh|$s" ssh time "$T_SSH"
  else
    compare "W1|remowt exec, agent cached|$s" "W1|dbclient|$s" dbclient time "$T_DB"
  fi
}

# W2: N_MUX commands over one connection.
run_w2() {
  local s i batch=$SCRATCH/w2.jsonl loop
  log "W2: $N_MUX x true over one connection, $N_META runs per row"
  for ((i = 1; i <= N_MUX; i++)); do
    printf '{"id":%d,"op":"exec","argv":["true"]}\n' "$i"
  done >"$batch"
  RUNS=$N_META WARM=1
  for s in $SERVERS; do
    mux_start "$s"
    loop="for ((i = 0; i < $N_MUX; i++)); do $(ssh_mux_cmd "$s") true || exit 1; done"
    add W2 "ssh ControlMaster" "$s" shell "ops:$N_MUX" "$loop" '' '' "one master, $N_MUX clients"
    add W2 "remowt batch" "$s" shell "ops:$N_MUX" \
      "$(remowt_agent_cmd "$s") batch $(rhost) < $batch > /dev/null" '' '' \
      "$N_MUX exec requests, one connection" '' \
      "test \$($(remowt_agent_cmd "$s") batch $(rhost) < $batch | grep -c '\"ok\":true') = $N_MUX"
    compare "W2|remowt batch|$s" "W2|ssh ControlMaster|$s" "ssh ControlMaster" "perop:$N_MUX" "$T_MUX"
    compare "W2|remowt batch|$s" "W2|ssh ControlMaster|$s" "ssh ControlMaster" time -
    run_group
    mux_stop "$s"
  done
}

# W3: list a directory of SMALL_FILES entries with sizes.
run_w3() {
  local s dir=$SCRATCH/w3 i peers
  log "W3: list $SMALL_FILES entries, $N_META runs per row"
  mkdir -p "$dir"
  for ((i = 0; i < SMALL_FILES; i++)); do printf '%*s' $((i % 97)) '' >"$dir/f$i"; done
  RUNS=$N_META WARM=1
  for s in $SERVERS; do
    mux_start "$s"
    add W3 "ssh ls -l" "$s" exec ops "$(ssh_cmd "$s") ls -l $dir"
    add W3 "ssh ls -l (mux)" "$s" exec ops "$(ssh_mux_cmd "$s") ls -l $dir" '' '' "over a ControlMaster"
    peers="W3|ssh ls -l|$s,W3|ssh ls -l (mux)|$s"
    if [[ $s == openssh ]]; then
      printf 'ls -l %s\n' "$dir" >"$SCRATCH/w3.sftp"
      add W3 "sftp ls -l (mux)" "$s" shell ops \
        "$(ssh_mux_cmd "$s" | sed 's/^ssh/sftp/; s/ bench-.*//') -q -b $SCRATCH/w3.sftp bench-$s > /dev/null" \
        '' '' "over a ControlMaster"
      peers+=",W3|sftp ls -l (mux)|$s"
    else
      add W3 "dbclient ls -l" "$s" exec ops "$(db_cmd "$s") ls -l $dir" '' "$(db_home "$s")"
      peers+=",W3|dbclient ls -l|$s"
    fi
    add W3 "remowt ls -l" "$s" exec ops "$(remowt_agent_cmd "$s") ls -l $(rhost):$dir" '' '' \
      "connection included" '' \
      "test \$($(remowt_agent_cmd "$s") ls -l $(rhost):$dir | grep -c ' f[0-9]') = $SMALL_FILES"
    compare "W3|remowt ls -l|$s" "$peers" "best peer" time "$T_LIST"
    run_group
    mux_stop "$s"
  done
}

# W4: push SMALL_FILES x 4 KiB files in 10 directories.
run_w4() {
  local s src=$SCRATCH/w4src d i dst peers tool
  log "W4: push $SMALL_FILES x 4 KiB in 10 directories, $N_META runs per row"
  for ((d = 0; d < 10; d++)); do
    mkdir -p "$src/d$d"
    for ((i = 0; i < SMALL_FILES / 10; i++)); do
      head -c 4096 /dev/urandom >"$src/d$d/f$i"
    done
  done
  RUNS=$N_META WARM=1
  # w4row TOOL SERVER CMD-WITH-@DST@ [HOME]: the tree lands in DST/w4src.
  w4row() {
    local id
    id=$(row_id "$1-$2")
    dst=$SCRATCH/w4dst-$id
    add W4 "$1" "$2" shell ops "${3//@DST@/$dst}" "rm -rf $dst && mkdir -p $dst" "${4:-}" '' '' \
      "diff -r $src $dst/w4src"
    peers+="${peers:+,}W4|$1|$2"
  }
  for s in $SERVERS; do
    peers=''
    w4row "tar | ssh tar x" "$s" "tar -C $SCRATCH -cf - w4src | $(ssh_cmd "$s") 'tar -C @DST@ -xf -'"
    if [[ $s == openssh ]]; then
      w4row "scp -r" "$s" "$(ssh_cmd "$s" | sed 's/^ssh/scp -q -r/; s/ bench-.*//') $src bench-$s:@DST@/"
      w4row "sftp put -r" "$s" "echo 'put -r $src @DST@/w4src' | $(ssh_cmd "$s" | sed 's/^ssh/sftp/; s/ bench-.*//') -q -b - bench-$s > /dev/null"
    else
      w4row "scp -O -r" "$s" "$(ssh_cmd "$s" | sed 's/^ssh/scp -q -O -r/; s/ bench-.*//') $src bench-$s:@DST@/"
      w4row "tar | dbclient tar x" "$s" "tar -C $SCRATCH -cf - w4src | $(db_cmd "$s") 'tar -C @DST@ -xf -'" "$(db_home "$s")"
    fi
    if command -v rsync >/dev/null; then
      w4row "rsync -a" "$s" "rsync -a -e '$(ssh_cmd "$s" | sed 's/ bench-.*//')' $src bench-$s:@DST@/"
    fi
    tool="remowt push"
    dst=$SCRATCH/w4dst-$(row_id "$tool-$s")
    add W4 "$tool" "$s" shell ops "$(remowt_agent_cmd "$s") push $src $(rhost):$dst" \
      "rm -rf $dst && mkdir -p $dst" '' "connection included" '' "diff -r $src $dst/w4src"
    compare "W4|$tool|$s" "$peers" "best peer" time "$T_PUSH"
    run_group
  done
}

# --- the slow link -------------------------------------------------------------
#
# BENCH_SLOW_LINK=1: W1 and W4 again through bench/slowlink.py, a relay
# that gives each direction SLOW_DELAY_MS of delay and SLOW_RATE_KBIT of
# bandwidth (100 ms round trip, 8 Mbit/s by default).  This kernel may
# have no netem qdisc, which would do the same to a veth pair; the relay
# is the stand-in, on loopback.  Its servers are "openssh-slow" and
# "dropbear-slow": the same daemons, reached through the relay.

SLOW_DELAY_MS=${BENCH_SLOW_DELAY_MS:-50}
SLOW_RATE_KBIT=${BENCH_SLOW_RATE_KBIT:-8000}

start_slow_links() {
  local s
  command -v python3 >/dev/null || die "BENCH_SLOW_LINK=1 needs python3"
  for s in $SERVERS; do
    PORT[$s-slow]=$(random_port)
    python3 "$BENCH/slowlink.py" "${PORT[$s-slow]}" "${PORT[$s]}" \
      "$SLOW_DELAY_MS" "$SLOW_RATE_KBIT" </dev/null >>"$OUT/logs/slowlink-$s.log" 2>&1 &
    echo "$!" >"$T/slowlink-$s.pid"
    wait_listen "slowlink-$s" "${PORT[$s-slow]}" slowlink.py ||
      die "the slow link to $s did not come up"
  done
}

run_slow() {
  local s v src=$SCRATCH/w4src dst peers
  log "slow link: ${SLOW_DELAY_MS} ms each way, ${SLOW_RATE_KBIT} kbit/s; W1 and W4"
  RUNS=$N_META WARM=1
  for s in $SERVERS; do
    v=$s-slow
    add W1 ssh "$v" exec ops "$(ssh_cmd "$v") true"
    [[ $s == dropbear ]] && add W1 dbclient "$v" exec ops "$(db_cmd "$v") true" '' "$(db_home "$v")"
    add W1 remowt "$v" exec ops "$(remowt_cmd "$v") true"
    add W1 "remowt exec, agent cached" "$v" exec ops "$(remowt_agent_cmd "$v") exec $(rhost) -- true"
    compare "W1|remowt|$v" "W1|ssh|$v" ssh time -
    compare "W1|remowt exec, agent cached|$v" "W1|ssh|$v" ssh time -
    # Deploying over the slow link: the agent's upload (with the stager's
    # checks and the agent's start) beside `cat >` of as many bytes.
    if [[ -f $AGENT_FILE ]]; then
      add W1 "ssh cat > FILE of the agent's size" "$v" shell ops \
        "$(ssh_cmd "$v") 'cat > $SCRATCH/agent-copy' < $AGENT_FILE"
      add W1 "remowt exec, first contact" "$v" exec ops \
        "$(remowt_agent_cmd "$v" "$FIRST_CACHE-$v") exec $(rhost) -- true" \
        "rm -rf $FIRST_CACHE-$v" '' "agent uploaded into an empty cache each run"
      compare "W1|remowt exec, first contact|$v" "W1|ssh cat > FILE of the agent's size|$v" \
        "ssh cat >" time "$T_UPLOAD_SLOW"
    fi
    run_group
    [[ -d $src ]] || { log "W4 on the slow link needs W4's tree: add W4 to BENCH_ONLY"; continue; }
    dst=$SCRATCH/w4dst-slow-$s-tar
    add W4 "tar | ssh tar x" "$v" shell ops \
      "tar -C $SCRATCH -cf - w4src | $(ssh_cmd "$v") 'tar -C $dst -xf -'" \
      "rm -rf $dst && mkdir -p $dst" '' '' '' "diff -r $src $dst/w4src"
    peers="W4|tar | ssh tar x|$v"
    dst=$SCRATCH/w4dst-slow-$s-remowt
    add W4 "remowt push" "$v" shell ops "$(remowt_agent_cmd "$v") push $src $(rhost):$dst" \
      "rm -rf $dst && mkdir -p $dst" '' '' '' "diff -r $src $dst/w4src"
    compare "W4|remowt push|$v" "$peers" "tar | ssh tar x" time "$T_PUSH_SLOW"
    run_group
  done
}

# --- report ------------------------------------------------------------------

# Ratio cells for one comparison: "SHOWN TARGETTEXT VERDICT", SHOWN with
# its unit (0.85x, +32ms, 2.10ms/op).  PKEY may list several rows,
# comma-separated: the comparison is then with the fastest of them.
ratio_of() {
  local key=$1 pkeys=$2 kind=$3 target=$4 p best='' bestkey=''
  local -a list
  IFS=, read -r -a list <<<"$pkeys"
  for p in "${list[@]}"; do
    [[ ${STATUS[$p]:-} == ok ]] || continue
    if [[ -z $best ]] || awk -v a="${MED[$p]}" -v b="$best" 'BEGIN { exit !(a < b) }'; then
      best=${MED[$p]} bestkey=$p
    fi
  done
  if [[ ${STATUS[$key]:-} != ok || -z $best ]]; then
    echo "n/a - n/a"
    return
  fi
  awk -v a="${MED[$key]}" -v b="$best" -v k="$kind" -v t="$target" 'BEGIN {
      if (k == "time")       { r = a / b; shown = sprintf("%.2fx", r); op = "<="; tt = sprintf("%.2fx", t) }
      else if (k == "rate")  { r = b / a; shown = sprintf("%.2fx", r); op = ">="; tt = sprintf("%.2fx", t) }
      else if (k == "delta") { r = (a - b) * 1000; shown = sprintf("%+.0fms", r); op = "<="; tt = sprintf("+%gms", t) }
      else                   { split(k, q, ":"); r = a * 1000 / q[2]; shown = sprintf("%.2fms/op", r)
                               op = "<="; tt = sprintf("%gms/op", t) }
      if (t == "-") { printf "%s - -\n", shown; exit }
      met = (k == "rate") ? (r >= t - 1e-9) : (r <= t + 1e-9)
      printf "%s %s%s %s\n", shown, op, tt, met ? "met" : "MISSED" }'
}

report() {
  local key w tool s line pkey peer kind target r tt v cells
  local -A PRIMARY EXTRA
  # Per remowt row: the first targeted comparison goes on the row itself,
  # the others on lines of their own under it.
  for line in "${CMP[@]}"; do
    IFS=$'\t' read -r key pkey peer kind target <<<"$line"
    read -r r tt v <<<"$(ratio_of "$key" "$pkey" "$kind" "$target")"
    cells="$peer	$r	$tt	$v"
    if [[ -z ${PRIMARY[$key]:-} ]]; then PRIMARY[$key]=$cells; else
      EXTRA[$key]+="$cells"$'\n'; fi
  done

  {
    printf 'workload\ttool\tserver\truns\tmedian_s\tmean_s\tstddev_s\tmin_s\tuser_s\tsys_s'
    printf '\trate\tunit\tvs\tratio\ttarget\tverdict\tnote\n'
    for key in "${ORDER[@]}"; do
      IFS='|' read -r w tool s <<<"$key"
      emit() { # vs ratio target verdict
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
          "$w" "$tool" "$s" "${NRUNS[$key]:-0}" "${MED[$key]:-NA}" "${MEAN[$key]:-NA}" \
          "${SD[$key]:-NA}" "${MIN[$key]:-NA}" "${USR[$key]:-NA}" "${SYS[$key]:-NA}" \
          "${RATE[$key]:-NA}" "${UNIT[$key]:-}" "$1" "$2" "$3" "$4" "${NOTE[$key]}"
      }
      if [[ -n ${PRIMARY[$key]:-} ]]; then
        IFS=$'\t' read -r peer r tt v <<<"${PRIMARY[$key]}"
        emit "$peer" "$r" "$tt" "$v"
        while IFS=$'\t' read -r peer r tt v; do
          [[ -n $peer ]] && emit "$peer" "$r" "$tt" "$v"
        done <<<"${EXTRA[$key]:-}"
      else
        emit - - - -
      fi
    done
  } >"$RESULTS"

  # The table: one line per measurement; a remowt row compared with more
  # than one peer repeats only the comparison on the following lines.
  awk -F'\t' '
    function fmt(x, f) { return (x == "NA" || x == "") ? "NA" : sprintf(f, x) }
    NR == 1 { printf "%-3s %-30s %-8s %8s %12s %6s  %-36s %-7s %-6s %s\n", "wl", "tool",
              "server", "median_s", "rate", "cpu_s", "ratio vs peer", "target", "result", "note"
              next }
    { key = $1 "|" $2 "|" $3
      rc = ($14 == "-") ? "" : $14 " vs " $13
      tg = ($15 == "-") ? "" : $15
      vd = ($16 == "-") ? "" : $16
      if (key == last) {
        printf "%-3s %-30s %-8s %8s %12s %6s  %-36s %-7s %-6s\n", "", "", "", "", "", "", rc, tg, vd
        next }
      last = key
      cpu = ($9 == "NA") ? "NA" : sprintf("%.3f", $9 + $10)
      rate = ($11 == "NA") ? "FAILED" : $11 " " $12
      printf "%-3s %-30s %-8s %8s %12s %6s  %-36s %-7s %-6s %s\n", $1, $2, $3,
        fmt($5, "%.4f"), rate, cpu, rc, tg, vd, $17 }
  ' "$RESULTS"
}


# --- main --------------------------------------------------------------------

t0=$SECONDS
load0=$(cut -d' ' -f1-3 /proc/loadavg)
log "bench: output in $OUT; remowt: $REMOWT_ORIG; load average $load0"
make_keys
for s in $SERVERS; do "start_$s"; done
write_client_files
for s in $SERVERS; do smoke "$s"; done
log "servers up: $(for s in $SERVERS; do printf '%s 127.0.0.1:%s  ' "$s" "${PORT[$s]}"; done)"

if [[ ${BENCH_HOLD:-0} == 1 ]]; then
  # Servers only, to poke at by hand (perf record, strace, ...).
  {
    for s in $SERVERS; do
      printf '%s_ssh="%s"\n' "$s" "$(client_env) $(ssh_cmd "$s")"
      printf '%s_remowt="%s"\n' "$s" "$(client_env) $(remowt_cmd "$s")"
      printf '%s_dbclient="%s"\n' "$s" "$(client_env "$(db_home "$s")") $(db_cmd "$s")"
    done
    printf 'scratch=%s\n' "$SCRATCH"
  } >"$OUT/servers.env"
  log "BENCH_HOLD=1: servers up; client command lines in $OUT/servers.env; stop: kill $$"
  setsid sleep infinity &
  HF_PID=$!
  wait "$HF_PID" || true
  exit 0
fi

if wants W5 || wants W6; then
  log "data: $SIZE_MB MiB of random bytes in $SCRATCH"
  head -c "$BYTES" /dev/urandom >"$BIG"
fi

if have_agent; then
  AGENT_CACHE=$SCRATCH/agent-cache FIRST_CACHE=$SCRATCH/agent-first
  for s in $SERVERS; do
    $(client_env) $(remowt_agent_cmd "$s") exec "$(rhost)" -- true </dev/null ||
      die "remowt exec -> $s failed"
  done
else
  log "REMOWT_SH is a stand-in: the agent rows (W1 exec, W2, W3, W4) are left out"
fi
if wants W1; then run_w1; fi
if have_agent && wants W2; then run_w2; fi
if have_agent && wants W3; then run_w3; fi
if have_agent && wants W4; then run_w4; fi
if [[ $SLOW_LINK == 1 ]] && have_agent; then
  start_slow_links
  write_client_files
  run_slow
fi
if wants W5; then run_bulk W5; fi
if wants W6; then run_bulk W6; fi

remowt_rev=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?')
if [[ -n $(git -C "$REPO" status --porcelain --untracked-files=no 2>/dev/null) ]]; then
  remowt_rev+="+changes"
fi
{
  echo "== remowt bench ($(date -u +%FT%TZ), $(nproc) cores, $SIZE_MB MiB, MB = 10^6 bytes) =="
  echo "remowt: $REMOWT_ORIG (sha256 $REMOWT_SUM..., tree $remowt_rev);" \
    "$(ssh -V 2>&1 | cut -d, -f1); $(dropbear -V 2>&1 | head -n1)"
  echo "ratios: W1 remowt time / peer time (lower is better);" \
    "W5/W6 remowt MB/s / peer MB/s (higher is better); cpu_s = client user+sys per run"
  echo
  report
  echo
  echo "big files on $(stat -f -c %T "$SCRATCH"); load average before/after: $load0 /" \
    "$(cut -d' ' -f1-3 /proc/loadavg); elapsed $((SECONDS - t0)) s"
  echo "TSV: $RESULTS; every run time: $OUT/logs/*.times; command lines: $OUT/logs/*.cmd"
} | tee "$OUT/table.txt"

missed=$(awk -F'\t' 'NR > 1 && $16 == "MISSED"' "$RESULTS" | wc -l)
met=$(awk -F'\t' 'NR > 1 && $16 == "met"' "$RESULTS" | wc -l)
echo "targets: $met met, $missed missed" | tee -a "$OUT/table.txt"
if ((FAILURES)); then
  log "$FAILURES failure(s): see the rows marked FAILED"
  exit 1
fi
if [[ $STRICT == 1 ]] && ((missed)); then exit 3; fi
exit 0
