#!/bin/bash
# cross/binfmt-run.sh ARCH CMD [ARG...] - run CMD where binaries of ARCH
# execute through qemu-user, and other CPUs' binaries fail as on a device
# of ARCH: a private user + mount namespace with its own binfmt_misc
# instance holding Debian's qemu-ARCH entry and, for a foreign ARCH,
# entries refusing static x86-64 and i386 binaries (the build machine's
# PIE programs, e.g. the tests themselves, still run; see lib.sh).  QEMU_CPU is exported as the
# FPU-less core for MIPS (24Kc) and ARM (arm926) unless already set.
# Nothing changes outside: the machine's binfmt_misc is left alone.
#
#   cross/binfmt-run.sh mips build/agents/agent-mips --version
#   REMOWT_AGENT=build/agents/agent-arm cross/binfmt-run.sh arm tests/unit_rpc_local
set -eu
. "$(dirname "$0")/lib.sh"

if [ "${1:-}" = _inner ]; then
	arch=$2; shift 2
	mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
	noexec=$(mktemp /tmp/remowt-noexec.XXXXXX)
	binfmt_private "$arch" "$noexec"
	# The entries hold the file open; its name is no longer needed.
	rm -f "$noexec"
	exec "$@"
fi

[ $# -ge 2 ] || die "usage: $0 ARCH CMD [ARG...]"
arch=$(arch_canon "$1") || die "unknown arch $1"
shift
[ "$arch" = x86_64 ] || [ -f "/usr/lib/binfmt.d/qemu-$arch.conf" ] ||
    die "qemu-user-static is missing: run cross/toolchains.sh"
cpu=$(arch_qemu_cpu "$arch")
[ -n "$cpu" ] && export QEMU_CPU=${QEMU_CPU:-$cpu}
exec unshare --user --map-root-user --mount -- "$0" _inner "$arch" "$@"
