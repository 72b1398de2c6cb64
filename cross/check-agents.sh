#!/bin/bash
# cross/check-agents.sh [--sizes] [ARCH...] - look at build/agents/agent-ARCH.
#
# Every agent must be at most 48 KiB (49152 bytes): routers keep it in RAM
# (/tmp) and receive it over slow links.
# --sizes: only the size table (what `make cross` prints) and that limit.
# Otherwise, for each agent:
#   - `file` must say a static ELF of the right machine and byte order;
#   - MIPS and ARM: no floating-point instruction in the disassembly;
#     MIPS: no MIPS32r2-only instruction either (4Kc is MIPS32r1);
#   - run under qemu-user on each CPU of the table below with stdin from
#     /dev/null: the agent must exit 0 (stdout, e.g. a hello frame, is
#     shown as a byte count and its first bytes);
#   - `--version` under the same CPU;
#   - when tests/unit_rpc_local exists: the RPC client's tests against the
#     agent, run through a private binfmt_misc (cross/binfmt-run.sh).
# Exit status: non-zero if any check failed.
set -u
. "$(dirname "$0")/lib.sh"

sizes_only=
[ "${1:-}" = --sizes ] && { sizes_only=1; shift; }
[ $# -gt 0 ] || set -- $ALL_ARCHES
LIMIT=$((48 * 1024))
fail=0
oversize=

cpus_for() {
	case $1 in
	mips|mipsel) echo "24Kc 4Kc" ;;
	arm) echo arm926 ;;
	*) echo default ;;
	esac
}

file_expect() {
	case $1 in
	mips) echo 'ELF 32-bit MSB executable, MIPS' ;;
	mipsel) echo 'ELF 32-bit LSB executable, MIPS' ;;
	arm) echo 'ELF 32-bit LSB executable, ARM, EABI5' ;;
	aarch64) echo 'ELF 64-bit LSB executable, ARM aarch64' ;;
	riscv64) echo 'ELF 64-bit LSB executable, UCB RISC-V' ;;
	x86_64) echo 'ELF 64-bit LSB executable, x86-64' ;;
	esac
}

# Mnemonics of FPU instructions in objdump's output.
fpu_regex() {
	case $1 in
	mips|mipsel)
		echo '\s(lwc1|swc1|ldc1|sdc1|lwxc1|swxc1|ldxc1|sdxc1|mtc1|mfc1|mthc1|mfhc1|cfc1|ctc1|bc1[ft]l?|(add|sub|mul|div|abs|neg|mov|sqrt|recip|rsqrt|madd|msub|nmadd|nmsub)\.[sdp]s?|cvt\.|c\.[a-z]+\.[sd]|trunc\.|round\.|floor\.|ceil\.|mov[fnzt]\.[sd])\s' ;;
	arm)
		echo '\s(v[a-z0-9]+(\.[a-z0-9]+)*|f(ld|st|mdrr|mrrd|msr|mrs|mx|cpy|add|sub|mul|div|neg|abs|sqrt|cmp|sito|uito|tosi|toui)[a-z]*|wldr[bhwd]?|wstr[bhwd]?)\s|\sp1[01],|\s(cdp|ldc|stc|mcr|mrc)2?\s+p1[01]' ;;
	esac
}

printf '%-8s %8s %6s  %s\n' arch bytes KiB file
for a in "$@"; do
	arch=$(arch_canon "$a") || { echo "unknown arch $a"; fail=1; continue; }
	bin=$REMOWT_TOP/build/agents/agent-$arch
	if [ ! -f "$bin" ]; then
		printf '%-8s %8s\n' "$arch" missing; fail=1; continue
	fi
	size=$(stat -c %s "$bin")
	over=
	if [ "$size" -gt "$LIMIT" ]; then
		over="  (over 48 KiB)"
		oversize="$oversize $arch ($size bytes)"
		fail=1
	fi
	printf '%-8s %8d %6.1f  %s%s\n' "$arch" "$size" "$(echo "$size" | awk '{ print $1 / 1024 }')" \
	    "${bin#"$REMOWT_TOP"/}" "$over"
done
[ -z "$oversize" ] ||
	echo "FAIL: agents over the $LIMIT-byte limit:$oversize"
if [ -n "$sizes_only" ]; then
	[ "$fail" = 0 ] || echo "SOME CHECKS FAILED"
	exit $fail
fi

for a in "$@"; do
	arch=$(arch_canon "$a") || continue
	bin=$REMOWT_TOP/build/agents/agent-$arch
	[ -f "$bin" ] || continue
	echo "== $arch"
	f=$(file -b "$bin")
	echo "  file: $f"
	case $f in
	"$(file_expect "$arch")"*"statically linked"*) ;;
	*) echo "  FAIL: expected $(file_expect "$arch"), statically linked"; fail=1 ;;
	esac
	re=$(fpu_regex "$arch")
	if [ -n "$re" ]; then
		n=$("$(arch_triple "$arch")-objdump" -d "$bin" | grep -cE "$re")
		if [ "$n" = 0 ]; then
			echo "  fpu: no floating-point instructions"
		else
			echo "  FAIL: $n floating-point instructions:"
			"$(arch_triple "$arch")-objdump" -d "$bin" | grep -E "$re" | head -n 5
			fail=1
		fi
	fi
	# MIPS32r1 cores (4Kc) lack the r2 additions; libgcc.a is built for r2.
	case $arch in mips|mipsel)
		n=$("$(arch_triple "$arch")-objdump" -d "$bin" |
		    grep -cE '\s(ext|ins|seb|seh|wsbh|rotrv?|di|ei|synci|rdpgpr|wrpgpr|jalr\.hb|jr\.hb)\s')
		if [ "$n" = 0 ]; then
			echo "  isa: MIPS32r1 only (no r2 instructions)"
		else
			echo "  FAIL: $n MIPS32r2 instructions"; fail=1
		fi ;;
	esac
	qemu=$(arch_qemu "$arch")
	for cpu in $(cpus_for "$arch"); do
		env=
		[ "$cpu" = default ] || env="QEMU_CPU=$cpu"
		out=$(mktemp)
		env $env timeout 20 $qemu "$bin" </dev/null >"$out" 2>"$out.err"
		rc=$?
		first=$(od -An -tx1 -N 16 "$out" | tr -s ' ' | sed 's/^ //')
		printf '  run %-8s stdin=/dev/null: exit %d, stdout %d bytes%s%s\n' \
		    "$cpu" "$rc" "$(stat -c %s "$out")" "${first:+ [$first ...]}" \
		    "$([ -s "$out.err" ] && printf ', stderr: %s' "$(head -c 200 "$out.err" | tr '\n' ' ')")"
		[ "$rc" = 0 ] || fail=1
		v=$(env $env timeout 20 $qemu "$bin" --version 2>&1)
		rc=$?
		printf '  run %-8s --version: exit %d: %s\n' "$cpu" "$rc" "$v"
		[ "$rc" = 0 ] || fail=1
		rm -f "$out" "$out.err"
	done
	if [ -x "$REMOWT_TOP/tests/unit_rpc_local" ]; then
		for cpu in $(cpus_for "$arch"); do
			env=
			[ "$cpu" = default ] || env="QEMU_CPU=$cpu"
			r=$(cd "$REMOWT_TOP" && env $env REMOWT_AGENT="$bin" timeout 300 \
			    cross/binfmt-run.sh "$arch" tests/unit_rpc_local 2>&1)
			rc=$?
			printf '  unit_rpc_local %-8s exit %d: %s\n' "$cpu" "$rc" \
			    "$(echo "$r" | grep -c '^ok') ok, $(echo "$r" | grep -c '^not ok') not ok"
			[ "$rc" = 0 ] || { echo "$r" | grep '^not ok' | head -n 5; fail=1; }
		done
	fi
done
[ "$fail" = 0 ] && echo "all checks passed" || echo "SOME CHECKS FAILED"
exit $fail
