#!/bin/bash
# tests/deps.sh - install what building remowt and running all its tests
# need, from Debian 12's packages.  Idempotent: when everything is there
# already it only checks and exits.  Needs root (or sudo) to install.
#
#   tests/deps.sh          install what is missing
#   tests/deps.sh --check  only say what is missing (exit 1 if anything)
set -eu -o pipefail

PKGS=(
	# build
	build-essential make clang libbearssl-dev libmbedtls-dev libtommath-dev
	# sanitizer and libFuzzer runtimes for clang; valgrind (+ its headers)
	libclang-rt-14-dev valgrind
	# the SSH servers the tests talk to, and ssh-keygen
	openssh-server openssh-client dropbear-bin
	# the routers of other CPUs (tests/routers.sh); `make cross` builds
	# the agents and busybox they run
	qemu-user-static
	# scripted peers, test vectors
	python3 python3-cryptography python3-cryptography-vectors openssl
	time # GNU time: peak RSS (t_hostile, t_load)
	gdb # gcore: core images of live sessions (t_secrets)
	# test rig: ss, unshare/setpriv/setsid, timeout, ps; benchmarks
	iproute2 util-linux coreutils procps tmux socat hyperfine
	busybox # a second tar implementation, for unit_tar
)

# one dpkg-query for all: "NAME install ok installed" per present package
# (dpkg-query exits 1 when any package is unknown: that is the normal
# case on a new machine, not an error)
present=" $({ dpkg-query -W -f='${Package}=${Status}\n' "${PKGS[@]}" 2>/dev/null || true; } |
	sed -n 's/=install ok installed$//p' | tr '\n' ' ') "
missing=()
for p in "${PKGS[@]}"; do
	case $present in
	*" $p "*) ;;
	*) missing+=("$p") ;;
	esac
done

if [ ${#missing[@]} = 0 ]; then
	echo "deps: all ${#PKGS[@]} packages present"
	exit 0
fi
if [ "${1:-}" = --check ]; then
	echo "deps: missing: ${missing[*]}"
	exit 1
fi

SUDO=
if [ "$(id -u)" != 0 ]; then
	command -v sudo >/dev/null 2>&1 || {
		echo "deps: not root and no sudo; install as root: ${missing[*]}" >&2
		exit 1
	}
	SUDO=sudo
fi

echo "deps: installing: ${missing[*]}"

# Installing openssh-server must not start the machine's own sshd: the
# tests run their own.  Debian's policy-rc.d hook says "no services";
# put one in place for the install only, unless one is already there.
prc=/usr/sbin/policy-rc.d
made_prc=0
cleanup() {
	if [ $made_prc = 1 ]; then
		$SUDO rm -f "$prc"
	fi
}
trap cleanup EXIT
if [ ! -e "$prc" ]; then
	printf '#!/bin/sh\n# while remowt tests/deps.sh installs packages\nexit 101\n' |
		$SUDO tee "$prc" >/dev/null
	$SUDO chmod 0755 "$prc"
	made_prc=1
fi

export DEBIAN_FRONTEND=noninteractive
APT=(apt-get -q -y -o DPkg::Lock::Timeout=600 -o Dpkg::Use-Pty=0)
$SUDO "${APT[@]}" update
$SUDO "${APT[@]}" install --no-install-recommends "${missing[@]}"

# sshd's privilege separation directory, normally made by its service
$SUDO mkdir -p /run/sshd
echo "deps: done"
