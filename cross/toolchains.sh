#!/bin/bash
# cross/toolchains.sh [ARCH...] - cross compilers, qemu-user and a static
# musl for each agent target.
#
# Installs Debian's cross gcc for the five foreign CPUs (and native gcc),
# qemu-user-static and dropbear, then builds musl 1.2.3 from Debian's
# source package once per target into $CROSS_DIR/ARCH (default
# build/cross/ARCH; set REMOWT_CROSS_DIR to move it).  Each prefix gets
# bin/musl-gcc, lib/libc.a, include/ and kernel-include/ (the kernel's
# UAPI headers, for busybox).  A stamp holding a hash of the compiler,
# musl version and flags makes reruns no-ops; targets build two at a time.
# Idempotent; run as root on Debian 12.
set -eu
. "$(dirname "$0")/lib.sh"

PKGS="make gcc libc6-dev dpkg-dev xz-utils bzip2 patch file binutils
      gcc-mips-linux-gnu gcc-mipsel-linux-gnu gcc-arm-linux-gnueabi
      gcc-aarch64-linux-gnu gcc-riscv64-linux-gnu
      linux-libc-dev linux-libc-dev-mips-cross linux-libc-dev-mipsel-cross
      linux-libc-dev-armel-cross linux-libc-dev-arm64-cross
      linux-libc-dev-riscv64-cross
      qemu-user-static dropbear-bin openssh-client"

# Bump when the recipe below changes, to force rebuilds.
RECIPE=3

kernel_headers_dir() {
	if [ "$1" = x86_64 ]; then echo /usr/include; else echo "/usr/$(arch_triple "$1")/include"; fi
}

# The kernel's UAPI headers, kept apart from musl's in PREFIX/kernel-include
# so that only builds asking for them (busybox) see them.
kernel_headers() {
	local arch=$1 prefix=$CROSS_DIR/$1 kh d
	[ -f "$prefix/kernel-include/.done" ] && return 0
	kh=$(kernel_headers_dir "$arch")
	rm -rf "$prefix/kernel-include"
	mkdir -p "$prefix/kernel-include"
	for d in linux asm-generic mtd rdma scsi sound video xen misc drm; do
		[ -d "$kh/$d" ] && cp -r "$kh/$d" "$prefix/kernel-include/"
	done
	if [ -d "$kh/asm" ]; then
		cp -r "$kh/asm" "$prefix/kernel-include/"
	else
		cp -r "/usr/include/$(arch_triple "$arch")/asm" "$prefix/kernel-include/"
	fi
	touch "$prefix/kernel-include/.done"
}

build_musl() {
	local arch=$1 triple cc flags key prefix bdir src ver t0
	triple=$(arch_triple "$arch")
	cc=$triple-gcc
	flags="-Os -pipe -fno-pie -fno-asynchronous-unwind-tables -ffunction-sections -fdata-sections $(arch_cflags "$arch")"
	src=$(ls -d "$CROSS_DIR"/src/musl-[0-9]*/ | head -n1)
	src=${src%/}
	ver=${src##*/}
	prefix=$CROSS_DIR/$arch
	key=$(printf '%s\n' "$RECIPE" "$ver" "$triple" "$($cc -dumpfullversion)" "$flags" | sha256sum | cut -c1-16)
	if [ -f "$prefix/.stamp" ] && [ "$(cat "$prefix/.stamp")" = "$key" ] &&
	   [ -x "$prefix/bin/musl-gcc" ]; then
		kernel_headers "$arch"
		echo "$arch: musl up to date ($prefix)"
		return 0
	fi
	t0=$(now)
	bdir=$CROSS_DIR/obj/musl-$arch
	rm -rf "$prefix" "$bdir"
	mkdir -p "$bdir"
	(
		cd "$bdir"
		"$src/configure" --target="$triple" --prefix="$prefix" \
		    --disable-shared --enable-wrapper=gcc \
		    CC="$cc" CROSS_COMPILE="$triple-" CFLAGS="$flags"
		make -j1
		make install
	) >"$CROSS_DIR/musl-$arch.log" 2>&1 || {
		tail -n 30 "$CROSS_DIR/musl-$arch.log" >&2
		die "$arch: musl build failed, see $CROSS_DIR/musl-$arch.log"
	}
	case $arch in
	mips|mipsel) build_softfp "$arch" >>"$CROSS_DIR/musl-$arch.log" 2>&1 ||
		die "$arch: soft-float library failed, see $CROSS_DIR/musl-$arch.log" ;;
	esac
	rm -rf "$bdir"
	kernel_headers "$arch"
	echo "$key" >"$prefix/.stamp"
	echo "$arch: musl built in $(elapsed "$t0") s ($prefix)"
}

# Debian's MIPS gcc has only hard-float multilibs: its libgcc.a implements
# __adddf3 and friends with FPU instructions and the hard-float calling
# convention.  Soft-float code (musl's printf, busybox's awk) needs real
# soft-float routines, so build them from glibc's soft-fp sources (the
# same code as libgcc's) into PREFIX/lib/libsoftfp.a and have musl-gcc
# link it ahead of libgcc.
SOFTFP_FUNCS="add sub mul div neg eq ge le unord"
SOFTFP_CONV="fixdfsi fixunsdfsi fixdfdi fixunsdfdi fixsfsi fixunssfsi fixsfdi
	fixunssfdi floatsidf floatunsidf floatdidf floatundidf floatsisf
	floatunsisf floatdisf floatundisf extendsfdf2 truncdfsf2"

softfp_source() {
	local d=$CROSS_DIR/src/softfp
	if [ ! -f "$d/.unpacked" ]; then
		apt_ensure_deb_src
		rm -rf "$d" && mkdir -p "$d/dl"
		(cd "$d/dl" && apt-get -q source --download-only --only-source glibc) \
		    >"$d/fetch.log" 2>&1 || { cat "$d/fetch.log" >&2; die "cannot fetch glibc source"; }
		local tarball top
		tarball=$(ls "$d"/dl/glibc_*.orig.tar.xz | head -n1)
		top=$(tar tf "$tarball" | head -n1 | cut -d/ -f1)
		tar xf "$tarball" -C "$d" --strip-components=1 \
		    "$top/soft-fp" "$top/stdlib/longlong.h" \
		    "$top/sysdeps/mips/mips32/sfp-machine.h" "$top/COPYING.LIB"
		rm -rf "$d/dl"
		touch "$d/.unpacked"
	fi
	echo "$d"
}

build_softfp() {
	local arch=$1 prefix=$CROSS_DIR/$1 d obj f n srcs=
	d=$(softfp_source)
	obj=$CROSS_DIR/obj/softfp-$arch
	rm -rf "$obj" && mkdir -p "$obj"
	cp "$d/stdlib/longlong.h" "$obj/"
	cat >"$obj/sfp-machine.h" <<'EOF'
/* soft-fp glue for MIPS32 o32 soft-float, built against musl. */
#include <endian.h>
#include "mips32-sfp-machine.h"
#define strong_alias(name, aliasname) \
	extern __typeof (name) aliasname __attribute__ ((alias (#name)));
EOF
	cp "$d/sysdeps/mips/mips32/sfp-machine.h" "$obj/mips32-sfp-machine.h"
	for f in $SOFTFP_FUNCS; do
		for n in sf df; do
			case $f in
			add|sub|mul|div) srcs="$srcs $f${n}3" ;;
			*) srcs="$srcs $f${n}2" ;;
			esac
		done
	done
	for f in $srcs $SOFTFP_CONV; do
		"$prefix/bin/musl-gcc" -Os -fno-asynchronous-unwind-tables \
		    -ffunction-sections -fdata-sections -fno-builtin \
		    $(arch_cflags "$arch") -I"$obj" -I"$d/soft-fp" \
		    -c -o "$obj/$f.o" "$d/soft-fp/$f.c" || return 1
	done
	rm -f "$prefix/lib/libsoftfp.a"
	"$(arch_triple "$arch")-ar" rcs "$prefix/lib/libsoftfp.a" "$obj"/*.o
	# Put it first in musl-gcc's libgcc spec.
	sed -i "/^\*libgcc:/{n;s|^|$prefix/lib/libsoftfp.a |}" "$prefix/lib/musl-gcc.specs"
	grep -q libsoftfp "$prefix/lib/musl-gcc.specs" || return 1
	rm -rf "$obj"
}

if [ "${1:-}" = _musl ]; then
	build_musl "$2"
	exit
fi

arches=
[ $# -gt 0 ] || set -- $ALL_ARCHES
for a in "$@"; do
	[ "$a" = all ] && { arches=$ALL_ARCHES; break; }
	arches="$arches $(arch_canon "$a" || die "unknown arch $a")"
done
[ "$(id -u)" = 0 ] || die "must run as root (installs packages)"
mkdir -p "$CROSS_DIR"
# One run at a time: a second `make cross` waits for the first.
exec 9>"$CROSS_DIR/.lock"
if ! flock -n 9; then
	note "waiting for another toolchains.sh run to finish"
	flock 9
fi

t0=$(now)
apt_install $PKGS
echo "packages ready in $(elapsed "$t0") s"

t0=$(now)
src=$(apt_source musl)
echo "musl source: $src ($(elapsed "$t0") s)"
case " $arches " in
*" mips "*|*" mipsel "*)
	t0=$(now)
	d=$(softfp_source)
	echo "soft-fp source: $d ($(elapsed "$t0") s)" ;;
esac

t0=$(now)
printf '%s\n' $arches | xargs -P "$JOBS" -n 1 "$0" _musl
echo "musl for$arches ready in $(elapsed "$t0") s"
