#!/bin/bash
# cross/rootfs.sh ARCH DIR - a throwaway busybox "router" root filesystem.
#
# ARCH: mips mipsel arm aarch64 riscv64 x86_64 (or armel, arm64, amd64).
# DIR must not exist or be empty.  Busybox is static in every case:
#   armel, arm64, amd64: Debian's busybox-static package;
#   mips, mipsel, riscv64: built from Debian's busybox source against the
#     musl of cross/toolchains.sh (bookworm has no mips or riscv64 port,
#     and its mipsel binaries are hard-float: they die on FPU-less cores).
# Busybox binaries and their applet lists are cached under
# $CROSS_DIR/busybox/ARCH, so a second rootfs costs a copy and symlinks.
#
# The tree: /bin/busybox and applet symlinks, /tmp (1777), /proc, /sys,
# /dev (null zero full random urandom tty ptmx pts/), /etc/passwd with
# root (uid 0, /root) and user (uid 1000, /home/user), /etc/group,
# /etc/hostname, /etc/profile.
set -eu
. "$(dirname "$0")/lib.sh"

# Which busybox each arch gets.
bb_origin() {
	case $1 in
	mips|mipsel|riscv64) echo source ;;
	*) echo debian ;;
	esac
}

APT_PRIV=$CROSS_DIR/apt

# apt-get on a private state tree that knows the foreign architectures:
# no dpkg --add-architecture, no change to the machine's apt state.
apt_priv() {
	apt-get -q \
	    -o Dir::State::Lists="$APT_PRIV/lists" \
	    -o Dir::State::status="$APT_PRIV/status" \
	    -o Dir::Cache="$APT_PRIV/cache" \
	    -o Dir::Etc::SourceList=/dev/null \
	    -o Dir::Etc::SourceParts="$APT_PRIV/sources.list.d" \
	    -o Dir::Etc::Preferences=/dev/null \
	    -o Dir::Etc::PreferencesParts="$APT_PRIV/preferences.d" \
	    -o APT::Architecture=amd64 \
	    -o APT::Architectures::=amd64 -o APT::Architectures::=armel \
	    -o APT::Architectures::=arm64 \
	    -o Acquire::Languages=none -o Acquire::Retries=3 \
	    "$@"
}

fetch_debian_busybox() {
	local debarch=$1 dest=$2 deb
	mkdir -p "$APT_PRIV/lists/partial" "$APT_PRIV/cache/archives/partial" \
	    "$APT_PRIV/sources.list.d" "$APT_PRIV/preferences.d" "$APT_PRIV/debs"
	[ -f "$APT_PRIV/status" ] || : >"$APT_PRIV/status"
	cat >"$APT_PRIV/sources.list.d/debian.sources" <<'EOF'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Architectures: amd64 armel arm64
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
	exec 7>"$APT_PRIV.lock"
	flock 7
	deb=$(ls "$APT_PRIV"/debs/busybox-static_*_"$debarch".deb 2>/dev/null | head -n1)
	if [ -z "$deb" ]; then
		if [ ! -f "$APT_PRIV/lists/.updated" ]; then
			apt_priv update >"$APT_PRIV/update.log" 2>&1 ||
			    { cat "$APT_PRIV/update.log" >&2; die "apt-get update (private) failed"; }
			touch "$APT_PRIV/lists/.updated"
		fi
		(cd "$APT_PRIV/debs" && apt_priv download "busybox-static:$debarch") \
		    >"$APT_PRIV/download.log" 2>&1 ||
		    { cat "$APT_PRIV/download.log" >&2; die "cannot download busybox-static:$debarch"; }
		deb=$(ls "$APT_PRIV"/debs/busybox-static_*_"$debarch".deb | head -n1)
	fi
	exec 7>&-
	rm -rf "$dest.x" && mkdir -p "$dest.x"
	dpkg-deb -x "$deb" "$dest.x"
	install -m 0755 "$dest.x/bin/busybox" "$dest"
	rm -rf "$dest.x"
	basename "$deb" .deb >"$dest.version"
}

# Busybox from Debian's source: defconfig, static, against our musl.
# Switched off: what needs libraries musl lacks (SELinux, PAM, Sun RPC and
# so NFS mounts) and tc, whose CBQ code breaks with kernel headers >= 6.8.
# The rest of defconfig stays: ash as /bin/sh and ~400 applets.
BB_RECIPE=2
BB_OFF="SELINUX PAM FEATURE_HAVE_RPC FEATURE_INETD_RPC FEATURE_MOUNT_NFS
	TC FEATURE_TC_INGRESS"

build_busybox() {
	local arch=$1 dest=$2 src prefix triple obj t0 key flags o
	prefix=$CROSS_DIR/$arch
	[ -x "$prefix/bin/musl-gcc" ] || "$REMOWT_TOP/cross/toolchains.sh" "$arch"
	src=$(apt_source busybox)
	triple=$(arch_triple "$arch")
	flags="-Os -fno-pie -fno-asynchronous-unwind-tables $(arch_cflags "$arch") -idirafter $prefix/kernel-include"
	key=$(printf '%s\n' "$BB_RECIPE" "${src##*/}" "$(cat "$prefix/.stamp")" "$flags" "$BB_OFF" | sha256sum | cut -c1-16)
	if [ -f "$dest.stamp" ] && [ "$(cat "$dest.stamp")" = "$key" ] && [ -x "$dest" ]; then
		return 0
	fi
	t0=$(now)
	obj=$CROSS_DIR/obj/busybox-$arch
	rm -rf "$obj" && mkdir -p "$obj"
	(
		set -e
		make -C "$src" O="$obj" defconfig >/dev/null
		cd "$obj"
		sed -i -e 's|^# CONFIG_STATIC is not set|CONFIG_STATIC=y|' \
		    -e "s|^CONFIG_EXTRA_CFLAGS=.*|CONFIG_EXTRA_CFLAGS=\"$flags\"|" \
		    -e 's|^CONFIG_EXTRA_LDFLAGS=.*|CONFIG_EXTRA_LDFLAGS="-no-pie"|' .config
		for o in $BB_OFF; do
			sed -i -e "s|^CONFIG_$o=.*|# CONFIG_$o is not set|" .config
		done
		yes '' | make oldconfig >/dev/null
		make -j"$JOBS" CROSS_COMPILE="$triple-" CC="$prefix/bin/musl-gcc" \
		    HOSTCC=gcc SKIP_STRIP=n busybox
	) >"$CROSS_DIR/busybox-$arch.log" 2>&1 || {
		grep -B2 -A8 -m3 -i 'error' "$CROSS_DIR/busybox-$arch.log" >&2 || true
		die "$arch: busybox build failed, see $CROSS_DIR/busybox-$arch.log"
	}
	install -m 0755 "$obj/busybox" "$dest"
	"$triple-strip" -s "$dest" 2>/dev/null || true
	cp "$obj/.config" "$dest.config"
	echo "busybox ${src##*/} (source, musl)" >"$dest.version"
	echo "$key" >"$dest.stamp"
	rm -rf "$obj"
	note "$arch: busybox built in $(elapsed "$t0") s"
}

# Prints the cached busybox binary for ARCH, making it first if needed;
# also leaves BIN.list with `busybox --list-full` (run under qemu-user).
busybox_for() {
	local arch=$1 dir=$CROSS_DIR/busybox/$1 bin qemu
	bin=$dir/busybox
	mkdir -p "$dir"
	# Routers started in parallel share this cache: one maker at a time.
	exec 8>"$dir.lock"
	flock 8
	if [ "$(bb_origin "$arch")" = source ]; then
		build_busybox "$arch" "$bin"
	elif [ ! -x "$bin" ]; then
		fetch_debian_busybox "$(arch_debarch "$arch")" "$bin"
	fi
	if [ ! -s "$bin.list" ] || [ "$bin.list" -ot "$bin" ]; then
		qemu=$(arch_qemu "$arch")
		$qemu "$bin" --list-full >"$bin.list.tmp"
		grep -q '^bin/sh$' "$bin.list.tmp" || die "$arch: busybox has no sh applet"
		mv "$bin.list.tmp" "$bin.list"
	fi
	exec 8>&-
	echo "$bin"
}

make_rootfs() {
	local arch=$1 root=$2 bin
	bin=$(busybox_for "$arch")
	mkdir -p "$root"
	[ -z "$(ls -A "$root")" ] || die "$root is not empty"
	mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev/pts,var,root,home/user,lib,mnt}
	install -d -m 1777 "$root/tmp"
	ln -s ../tmp "$root/var/tmp"
	ln -s ../tmp "$root/var/run"
	install -m 0755 "$bin" "$root/bin/busybox"
	# One symlink per applet, made by perl (Essential in Debian) rather
	# than 400 ln processes.
	perl -e 'my $r = shift; while (<>) { chomp; next if $_ eq "bin/busybox" || -e "$r/$_";
		symlink("/bin/busybox", "$r/$_") or die "$r/$_: $!\n" }' "$root" "$bin.list"
	# Device nodes; router.sh also bind-mounts the host's over them.
	mk_dev() {
		mknod -m "$1" "$root/dev/$2" c "$3" "$4" 2>/dev/null || {
			: >"$root/dev/$2"; chmod "$1" "$root/dev/$2"; }
	}
	mk_dev 666 null 1 3; mk_dev 666 zero 1 5; mk_dev 666 full 1 7
	mk_dev 444 random 1 8; mk_dev 444 urandom 1 9; mk_dev 666 tty 5 0
	ln -s pts/ptmx "$root/dev/ptmx"
	ln -s /proc/self/fd "$root/dev/fd"
	ln -s /proc/self/fd/0 "$root/dev/stdin"
	ln -s /proc/self/fd/1 "$root/dev/stdout"
	ln -s /proc/self/fd/2 "$root/dev/stderr"
	cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/var:/bin/false
user:x:1000:1000:user:/home/user:/bin/sh
nobody:x:65534:65534:nobody:/var:/bin/false
EOF
	cat >"$root/etc/group" <<'EOF'
root:x:0:
daemon:x:1:
user:x:1000:
nogroup:x:65534:
EOF
	cat >"$root/etc/shadow" <<'EOF'
root:*:19000:0:99999:7:::
daemon:*:19000:0:99999:7:::
user:*:19000:0:99999:7:::
nobody:*:19000:0:99999:7:::
EOF
	chmod 600 "$root/etc/shadow"
	echo "router-$arch" >"$root/etc/hostname"
	echo /bin/sh >"$root/etc/shells"
	cat >"$root/etc/profile" <<'EOF'
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export HOME=${HOME:-/}
export PS1='\u@\h:\w\$ '
EOF
	printf '%s\n' "$arch" "$(cat "$bin.version")" >"$root/etc/remowt-router"
	chmod 700 "$root/root"
	chown 1000:1000 "$root/home/user"
	chmod 755 "$root/home/user"
}

case ${1:-} in
_busybox) busybox_for "$(arch_canon "$2")"; exit ;;
_deb) fetch_debian_busybox "$2" "$3"; exit ;;
esac
[ $# -eq 2 ] || die "usage: $0 ARCH DIR"
arch=$(arch_canon "$1") || die "unknown arch $1"
[ "$(id -u)" = 0 ] || die "must run as root"
t0=$(now)
make_rootfs "$arch" "$2"
note "$arch rootfs in $2 ($(elapsed "$t0") s)"
