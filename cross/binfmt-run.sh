#!/bin/bash
# cross/binfmt-run.sh ARCH CMD [ARG...] - run CMD where binaries of ARCH
# (and only those, besides the build machine's own) execute through
# qemu-user: a private user + mount namespace with its own binfmt_misc
# instance holding Debian's qemu-ARCH entry.  QEMU_CPU is exported as the
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
	if [ "$arch" != x86_64 ]; then
		sed -n '/^:/p' "/usr/lib/binfmt.d/qemu-$arch.conf" >/proc/sys/fs/binfmt_misc/register
	fi
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
