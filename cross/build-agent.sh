#!/bin/bash
# cross/build-agent.sh ARCH [OUT [SOURCES...]] - the agent for one CPU:
# static, musl, size-optimised, stripped.
#
# ARCH: mips mipsel arm aarch64 riscv64 x86_64 (or armel, arm64, amd64).
# OUT defaults to build/agents/agent-ARCH; SOURCES to agent.c buf.c.
# The Makefile passes AGENT_BUILD (the build id) and AGENT_CFLAGS (its
# warning and feature flags) in the environment.  Needs the musl built by
# cross/toolchains.sh.  Prints the stripped size.
set -eu
. "$(dirname "$0")/lib.sh"

[ $# -ge 1 ] || die "usage: $0 ARCH [OUT [SOURCES...]]"
arch=$(arch_canon "$1") || die "unknown arch $1"
shift
out=${1:-$REMOWT_TOP/build/agents/agent-$arch}
[ $# -gt 0 ] && shift
[ $# -gt 0 ] || set -- "$REMOWT_TOP/agent.c" "$REMOWT_TOP/buf.c"

cc=$CROSS_DIR/$arch/bin/musl-gcc
[ -x "$cc" ] || die "no musl for $arch in $CROSS_DIR/$arch: run cross/toolchains.sh"

build_id=${AGENT_BUILD:-$(cd "$REMOWT_TOP" && cat agent.c buf.c rpc.h buf.h | sha256sum | cut -c1-16)}
warn=${AGENT_CFLAGS:--std=c11 -Wall -Wextra -Wshadow -D_DEFAULT_SOURCE -D_GNU_SOURCE}

# Non-PIC calls on MIPS (the agent is a static executable).
extra=
case $arch in mips|mipsel) extra=-mplt ;; esac

mkdir -p "$(dirname "$out")"
# -fno-pie: a static executable needs no relocatable code; -fno-stack-
# protector: Debian's gcc would otherwise add canaries; -z noseparate-code:
# no page-aligned gaps between headers, code and constants (5.5 KiB on
# x86_64).
"$cc" $warn -I"$REMOWT_TOP" -Os $(arch_cflags "$arch") $extra \
    -fno-pie -no-pie -fno-stack-protector -fno-plt \
    -ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables \
    -fno-unwind-tables -fmerge-all-constants -fno-ident \
    -static -s -Wl,--gc-sections -Wl,--hash-style=sysv -Wl,--build-id=none \
    -Wl,-z,norelro -Wl,-z,noexecstack -Wl,-z,noseparate-code \
    -DAGENT_BUILD="\"$build_id\"" -o "$out.tmp" "$@" 2>"$out.log" || {
	cat "$out.log" >&2; rm -f "$out.log"; exit 1; }
# On MIPS, ld notes that libgcc's integer helpers and crtbegin/crtend are
# tagged hard-float (Debian has no soft-float multilib).  They hold no FPU
# instruction (cross/check-agents.sh verifies the whole binary), so those
# notes are dropped; anything else is shown.
grep -vE 'uses -msoft-float \(set by .*\), .*(libgcc\.a\(_[a-z0-9]+di[0-9]\.o\)|crt(begin|end)S?\.o) uses -mhard-float$' \
    "$out.log" >&2 || true
rm -f "$out.log"
"$(arch_triple "$arch")-strip" -s -R .comment \
    -R .gnu.attributes "$out.tmp" 2>/dev/null || true
mv -f "$out.tmp" "$out"
size=$(stat -c %s "$out")
printf '%-8s %7d bytes (%3d KiB)  %s\n' "$arch" "$size" $(((size + 1023) / 1024)) "${out#"$REMOWT_TOP"/}"
