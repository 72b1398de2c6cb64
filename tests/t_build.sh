#!/bin/bash
# t_build.sh - the Makefile's rebuild of the agents remowt carries.
#
# In a copy of the sources: once an agent source changes, a plain `make`
# rebuilds the cross agents that were built before, and only then takes
# their hashes and gzipped forms.  What `remowt version --agents` names,
# the bytes it uploads and the gzipped copy it uploads where gunzip
# exists must be the same agent.  (They once were not: the hashes were
# taken before the agents were rebuilt, and remowt refused its own
# upload as damaged.)
. "$(dirname "$0")/lib.sh"
require_cmd make
require_cmd gzip

TOP=$(cd "$(dirname "$0")/.." && pwd)
CROSS=${REMOWT_CROSS_DIR:-$TOP/build/cross}
export REMOWT_CROSS_DIR=$CROSS

# Two agents of different byte order, where their toolchains exist.
arches=()
for a in mipsel x86_64; do
	if [ -x "$CROSS/$a/bin/musl-gcc" ] && [ -f "$TOP/build/agents/agent-$a" ]
	then
		arches+=("$a")
	fi
done
if [ ${#arches[@]} = 0 ] || ! command -v git >/dev/null ||
	! git -C "$TOP" rev-parse 2>/dev/null; then
	skip "a changed agent source is rebuilt before it is embedded" \
		"no cross toolchain or no git checkout (make cross first)"
	exit 0
fi

S=$T/src
mkdir -p "$S/build/agents"
(cd "$TOP" && git ls-files -z | xargs -0 cp --parents -t "$S") ||
	bail "cannot copy the sources"
for a in "${arches[@]}"; do
	cp "$TOP/build/agents/agent-$a" "$S/build/agents/"
done

# check NAME: every agent listed is the file of that name, and its .gz
# holds the same bytes.
check_embedded() {
	local arch size b s sum n=0
	"$S/remowt" version --agents >"$T/agents" 2>"$T/err" ||
		fail "version --agents failed: $(_oneline <"$T/err")"
	while read -r arch size b s sum; do
		[ -f "$S/build/agents/agent-$arch" ] || continue
		n=$((n + 1))
		exp_eq "$arch's embedded hash" \
			"$(sha256sum <"$S/build/agents/agent-$arch" | cut -c1-64)" "$sum"
		exp_eq "$arch's gzipped copy" "$sum" \
			"$(gzip -dc "$S/build/agents/agent-$arch.gz" | sha256sum |
				cut -c1-64)"
	done <"$T/agents"
	exp_eq "agents listed" "${#arches[@]}" "$n"
}

tcase "make embeds the agents it finds, with their hashes"
make -s -C "$S" -j2 remowt >"$T/make.out" 2>&1 ||
	fail "make failed: $(tail -3 "$T/make.out" | _oneline)"
check_embedded
tend

tcase "after agent.c changes, make embeds the rebuilt agents' hashes"
before=$(sha256sum <"$S/build/agents/agent-${arches[0]}")
# A comment is enough: the build id, a hash of the sources, changes.
echo "/* changed by t_build */" >>"$S/agent.c"
make -s -C "$S" -j2 remowt >"$T/make.out" 2>&1 ||
	fail "make failed: $(tail -3 "$T/make.out" | _oneline)"
[ "$(sha256sum <"$S/build/agents/agent-${arches[0]}")" != "$before" ] ||
	fail "the ${arches[0]} agent was not rebuilt"
check_embedded
tend
