# shellcheck shell=bash
# cross/lib.sh - shared by the cross scripts (sourced, bash).
#
# The six agent targets, their compilers, flags and emulators, plus the
# apt helpers that keep every script runnable on a fresh Debian 12 as root.

REMOWT_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CROSS_DIR=${REMOWT_CROSS_DIR:-$REMOWT_TOP/build/cross}
# Used by the scripts that source this file.
# shellcheck disable=SC2034
{
ALL_ARCHES="mips mipsel arm aarch64 riscv64 x86_64"
JOBS=${REMOWT_JOBS:-2}
}

die() { echo "${0##*/}: $*" >&2; exit 1; }
note() { echo "${0##*/}: $*" >&2; }

# Accept Debian's names too: armel, arm64, amd64.
arch_canon() {
	case $1 in
	mips|mipseb) echo mips ;;
	mipsel|mipsle) echo mipsel ;;
	arm|armel|armv5*) echo arm ;;
	aarch64|arm64) echo aarch64 ;;
	riscv64) echo riscv64 ;;
	x86_64|amd64) echo x86_64 ;;
	*) return 1 ;;
	esac
}

arch_triple() {
	case $1 in
	mips) echo mips-linux-gnu ;;
	mipsel) echo mipsel-linux-gnu ;;
	arm) echo arm-linux-gnueabi ;;
	aarch64) echo aarch64-linux-gnu ;;
	riscv64) echo riscv64-linux-gnu ;;
	x86_64) echo x86_64-linux-gnu ;;
	esac
}

# Code-generation flags shared by musl, busybox and the agent.  MIPS and
# ARM are soft-float: FPU-less router cores (24Kc, 4Kc, arm926) must run
# every instruction we emit.
arch_cflags() {
	case $1 in
	mips|mipsel) echo "-march=mips32 -msoft-float" ;;
	arm) echo "-march=armv5te -marm -mfloat-abi=soft" ;;
	*) echo "" ;;
	esac
}

arch_debarch() {
	case $1 in
	mips) echo mips ;; mipsel) echo mipsel ;; arm) echo armel ;;
	aarch64) echo arm64 ;; riscv64) echo riscv64 ;; x86_64) echo amd64 ;;
	esac
}

# qemu-user binary ("" for the build machine itself) and the CPU model a
# test session must use.
arch_qemu() {
	case $1 in
	x86_64) echo "" ;;
	*) echo "qemu-$1-static" ;;
	esac
}
arch_qemu_cpu() {
	case $1 in
	mips|mipsel) echo 24Kc ;;
	arm) echo arm926 ;;
	*) echo "" ;;
	esac
}

# ---- apt ---------------------------------------------------------------

export DEBIAN_FRONTEND=noninteractive
APT_OPTS="-y -q -o DPkg::Lock::Timeout=900 -o Acquire::Retries=3"
DEBSRC_FILE=/etc/apt/sources.list.d/remowt-deb-src.sources

# apt-get with a few retries: other users of this machine may hold the
# lists lock for a while.
apt_retry() {
	local i
	for i in 1 2 3 4 5 6; do
		apt-get $APT_OPTS "$@" && return 0
		note "apt-get $* failed (try $i), retrying"
		sleep $((i * 5))
	done
	return 1
}

APT_UPDATED=
apt_update_once() {
	[ -n "$APT_UPDATED" ] && return 0
	apt_retry update >/dev/null
	APT_UPDATED=1
}

# Make sure bookworm's source packages are known to apt.
apt_ensure_deb_src() {
	local need_update=
	if ! grep -rqs '^[[:space:]]*\(Types:.*deb-src\|deb-src[[:space:]]\)' \
	    /etc/apt/sources.list /etc/apt/sources.list.d/; then
		cat >"$DEBSRC_FILE" <<'EOF'
# Added by remowt's cross/toolchains.sh: sources for musl and busybox.
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
		need_update=1
	fi
	if ! ls /var/lib/apt/lists/*_Sources* >/dev/null 2>&1; then
		need_update=1
	fi
	if [ -n "$need_update" ]; then
		APT_UPDATED=
		apt_update_once
	fi
}

pkg_installed() {
	dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null | grep -q '^install ok installed$'
}

apt_install() {
	local p missing=
	for p in "$@"; do
		pkg_installed "$p" || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	note "installing:$missing"
	if ! apt-get $APT_OPTS install --no-install-recommends $missing >/dev/null; then
		apt_update_once
		apt_retry install --no-install-recommends $missing >/dev/null
	fi
}

# Unpack a Debian source package once under $CROSS_DIR/src; prints its
# directory.
apt_source() {
	local pkg=$1 dir
	mkdir -p "$CROSS_DIR/src"
	dir=$(ls -d "$CROSS_DIR/src/$pkg"-[0-9]*/ 2>/dev/null | head -n1)
	if [ -z "$dir" ] || [ ! -f "$dir/.unpacked" ]; then
		apt_ensure_deb_src
		(
			cd "$CROSS_DIR/src" &&
			rm -rf "./$pkg"-[0-9]*/ &&
			apt-get -q source --only-source "$pkg" >"$pkg.log" 2>&1
		) || { cat "$CROSS_DIR/src/$pkg.log" >&2; die "apt-get source $pkg failed"; }
		dir=$(ls -d "$CROSS_DIR/src/$pkg"-[0-9]*/ | head -n1)
		touch "$dir/.unpacked"
	fi
	echo "${dir%/}"
}

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# ---- a private binfmt_misc --------------------------------------------------

# Fill the binfmt_misc instance mounted at /proc/sys/fs/binfmt_misc (a
# private one: the caller runs in its own user + mount namespace, kernel
# >= 6.7) so that it resembles a device of ARCH: Debian's qemu-ARCH entry
# (flags OPF: the interpreter is opened now, so it also works inside a
# chroot), and, on a foreign ARCH, entries that refuse the build machine's
# own static (ET_EXEC) x86-64 binaries and all i386 ones with "Exec format
# error" -- as a router would.  The x86-64 programs of the session
# plumbing (dropbear, sh, qemu itself) are position-independent (ET_DYN)
# and keep running.  NOEXEC is a file this writes: the interpreter of the
# refusing entries, which no kernel loader accepts.
binfmt_private() {
	local arch=$1 noexec=$2 reg=/proc/sys/fs/binfmt_misc/register
	[ -w "$reg" ] || { note "no writable $reg"; return 1; }
	[ "$arch" = x86_64 ] && return 0
	sed -n '/^:/p' "/usr/lib/binfmt.d/qemu-$arch.conf" >"$reg"
	printf 'refused: not a binary of this CPU\n' >"$noexec"
	chmod 755 "$noexec"
	local z8='\x00\x00\x00\x00\x00\x00\x00\x00' f8='\xff\xff\xff\xff\xff\xff\xff\x00'
	echo ":remowt-no-x86-64:M::\\x7fELF\\x02\\x01\\x01$z8\\x00\\x02\\x00\\x3e\\x00:$f8$z8\\xff\\xff\\xff\\xff:$noexec:F" >"$reg"
	echo ":remowt-no-i386:M::\\x7fELF\\x01\\x01\\x01$z8\\x00\\x00\\x00\\x03\\x00:$f8$z8\\x00\\x00\\xff\\xff:$noexec:F" >"$reg"
}
