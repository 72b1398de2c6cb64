#!/bin/bash
# tests/sanitize.sh - behind `make sanitize`: the whole test suite again,
# with remowt, its agent and the unit tests built with ASan+UBSan.
#
# The sources are copied to build/asan (SAN_DIR) and built there by their
# own Makefile, so the normal build's in-place objects are never touched
# and no `make clean` is needed either way.  Times are kept on copy, so
# make rebuilds only what changed since the last run.  Any sanitizer
# report is fatal (exit 99), and leaks count.
#
#   tests/sanitize.sh              build, then run everything
#   tests/sanitize.sh t_sh unit_x  build, then run only these (run.sh names)
set -eu -o pipefail
cd "$(dirname "$0")/.."
SAN_DIR=${SAN_DIR:-build/asan}
SAN_FLAGS='-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all'

# The sources: what git tracks or would track (.gitignore keeps build
# output out); without git, the usual source file kinds.
list_sources() {
	if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		git ls-files -z -co --exclude-standard
	else
		find . \( -path ./build -o -path ./.git \) -prune -o -type f \
			\( -name '*.[chS]' -o -name Makefile -o -name '*.sh' \
			-o -name '*.py' \) -print0 | sed -z 's|^\./||'
	fi
}

mkdir -p "$SAN_DIR"
list_sources | while IFS= read -r -d '' f; do
	[ -f "$f" ] && printf '%s\n' "$f"
done | sort >"$SAN_DIR/.sources.new"

# drop files copied last time that are gone from the tree now
if [ -f "$SAN_DIR/.sources" ]; then
	comm -23 "$SAN_DIR/.sources" "$SAN_DIR/.sources.new" |
		while IFS= read -r f; do rm -f "$SAN_DIR/$f"; done
fi
tr '\n' '\0' <"$SAN_DIR/.sources.new" | xargs -0 -r cp -p --parents -t "$SAN_DIR"
mv "$SAN_DIR/.sources.new" "$SAN_DIR/.sources"
echo "sanitize: $(wc -l <"$SAN_DIR/.sources") source files in $SAN_DIR"

export SANITIZE=1
export ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:exitcode=99
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:exitcode=99
# what `make test` builds: all and the unit tests
units=$(make -s --no-print-directory -C "$SAN_DIR" \
	--eval '_print_unit_tests: ; @echo $(UNIT_TESTS)' _print_unit_tests)
# shellcheck disable=SC2086
make -C "$SAN_DIR" CFLAGS='-O1 -g' EXTRA_CFLAGS="$SAN_FLAGS" all $units
exec "$SAN_DIR/tests/run.sh" "$@"
