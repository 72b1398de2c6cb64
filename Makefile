# remowt - see README.  Plain make: `make`, `make test`, `make cross`,
# `make install PREFIX=...`.

CC      ?= cc
PREFIX  ?= /usr/local
CFLAGS  ?= -O2 -g
WARN    := -std=c11 -Wall -Wextra -Werror -Wshadow -Wpointer-arith \
           -Wstrict-prototypes -Wmissing-prototypes -Wvla
DEFS    := -D_DEFAULT_SOURCE -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64
ALL_CFLAGS = $(WARN) $(DEFS) $(CFLAGS) $(EXTRA_CFLAGS)
LIBS    := -Wl,-Bstatic -lbearssl -lmbedcrypto -ltommath -Wl,-Bdynamic

# The client: transport, crypto, keys, the RPC client and the CLI.
CLIENT_SRCS := remowt.c cli.c json.c batch.c \
               ssh_min.c userauth.c channel.c sshconfig.c kex.c proxy.c \
               cipher.c ed25519.c sshkey.c bcrypt_pbkdf.c hostkeys.c \
               askpass.c sshagent.c deploy.c buf.c rpcclient.c \
               tree.c progress.c tar.c shell.c
CLIENT_OBJS := $(CLIENT_SRCS:.c=.o)
CLIENT_OBJS += build/agents.o

# The agent: freestanding apart from libc, shares only the codec.
AGENT_SRCS := agent.c buf.c

all: remowt

remowt: $(CLIENT_OBJS)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(CLIENT_OBJS) $(LIBS)

# -MMD: each object also depends on every header it includes, so a
# changed struct never leaves a stale object behind.
%.o: %.c
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

-include $(CLIENT_SRCS:.c=.d)

# The agent for this machine, embedded into remowt for --local.  Its
# build id is a hash of its sources; the hello reply carries it.
AGENT_BUILD = $(shell cat $(AGENT_SRCS) rpc.h buf.h | sha256sum | cut -c1-16)
build/agent: $(AGENT_SRCS) rpc.h buf.h
	@mkdir -p build
	$(CC) $(ALL_CFLAGS) -Os -s -DAGENT_BUILD='"$(AGENT_BUILD)"' \
	    -o $@ $(AGENT_SRCS)

# The agents remowt carries: that one, and whatever `make cross` built,
# each with its SHA-256.  The list is re-made every time, so a new cross
# build is picked up by the next `make`; the agents built before are
# prerequisites, so their hashes are taken after they are rebuilt.
CROSS_ARCHES := mips mipsel arm aarch64 riscv64 x86_64
CROSS_AGENTS := $(CROSS_ARCHES:%=build/agents/agent-%)
build/agents.S: build/agent $(wildcard $(CROSS_AGENTS)) FORCE
	@cross/embed.sh $@.new && cmp -s $@.new $@ || cp $@.new $@; rm -f $@.new
build/agents.o: build/agents.S
	$(CC) -c -o $@ build/agents.S
FORCE:
remowt.o rpcclient.o: rpc.h rpcclient.h

# The agent as it will ship: static, size-optimised, stripped.
build/agent-static: $(AGENT_SRCS) rpc.h buf.h
	@mkdir -p build
	$(CC) $(ALL_CFLAGS) -Os -s -static -DAGENT_BUILD='"$(AGENT_BUILD)"' \
	    -o $@ $(AGENT_SRCS)

# cross: static musl agents for the six CPUs, in build/agents/agent-ARCH.
# `make cross` runs cross/toolchains.sh first (apt packages and musl, cached
# under build/cross; a no-op once done), builds the six and prints a size
# table; `make cross-check` also runs each under qemu-user and looks for
# FPU instructions.  Plain `make` never installs or builds a toolchain; it
# only rebuilds agents that `make cross` made before, when their sources
# change.
cross: cross-toolchains
	@$(MAKE) --no-print-directory $(CROSS_AGENTS)
	@cross/check-agents.sh --sizes $(CROSS_ARCHES)
cross-check: cross
	@cross/check-agents.sh $(CROSS_ARCHES)
# Throwaway busybox routers of the six CPUs (cross/router.sh), remowt
# end to end against each: tests/t_routers.sh.
cross-routers: cross
	@$(MAKE) --no-print-directory all tests/unit_rpc_local
	@REQUIRE_ROUTERS=1 tests/run.sh t_routers
cross-toolchains:
	@cross/toolchains.sh $(CROSS_ARCHES)
$(CROSS_AGENTS): build/agents/agent-%: $(AGENT_SRCS) rpc.h buf.h \
    cross/build-agent.sh
	@AGENT_BUILD='$(AGENT_BUILD)' AGENT_CFLAGS='$(WARN) $(DEFS)' \
	    cross/build-agent.sh $* $@ $(AGENT_SRCS)
.PHONY: cross cross-check cross-routers cross-toolchains

# Header dependencies, kept by hand: few headers, all at top level.
$(CLIENT_OBJS): buf.h
ssh_min.o userauth.o channel.o: ssh_conn.h
ssh_min.o userauth.o channel.o remowt.o sshconfig.o: ssh_min.h sshconfig.h \
    cipher.h kex.h sshkey.h hostkeys.h
kex.o: kex.h
cipher.o: cipher.h
ed25519.o sshkey.o: ed25519.h sshkey.h
sshkey.o bcrypt_pbkdf.o: bcrypt_pbkdf.h
hostkeys.o: hostkeys.h sshkey.h
askpass.o userauth.o: askpass.h
proxy.o ssh_min.o: proxy.h
deploy.o remowt.o: deploy.h rpcclient.h rpc.h
batch.o remowt.o: batch.h cli.h json.h rpcclient.h rpc.h
tree.o remowt.o: tree.h cli.h
tree.o: json.h progress.h rpc.h rpcclient.h tar.h
progress.o: progress.h
tar.o: tar.h rpc.h
cli.o json.o: json.h
shell.o remowt.o: shell.h cli.h deploy.h rpcclient.h rpc.h ssh_min.h
sshagent.o userauth.o ssh_min.o channel.o: sshagent.h

# Unit tests: each links only the modules it tests.
UNIT_TESTS := tests/unit_ed25519 tests/unit_ed25519_ct tests/unit_cipher

UNIT_TESTS += tests/unit_rpc tests/unit_rpc_local

# Includes agent.c to reach its request decoder and SHA-256.
tests/unit_rpc: tests/unit_rpc.c agent.c rpcclient.c buf.c rpc.h \
    rpcclient.h buf.h
	$(CC) $(ALL_CFLAGS) -I. -o $@ tests/unit_rpc.c rpcclient.c buf.c

# The client against the real agent; `tests/unit_rpc_local -b` times it.
tests/unit_rpc_local: tests/unit_rpc_local.c rpcclient.c buf.c rpc.h \
    rpcclient.h buf.h build/agent
	$(CC) $(ALL_CFLAGS) -I. -o $@ tests/unit_rpc_local.c rpcclient.c buf.c

# libFuzzer harnesses for both decoders: `make fuzz`, then run them.
FUZZ_CC ?= clang
FUZZ_FLAGS = $(WARN) $(DEFS) -g -O1 -fsanitize=fuzzer,address,undefined -I. \
    -fsanitize-coverage-ignorelist=tests/fuzz.ignore
tests/fuzz_agent_req: tests/fuzz_agent_req.c agent.c buf.c rpc.h buf.h
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ tests/fuzz_agent_req.c buf.c
tests/fuzz_rpc_reply: tests/fuzz_rpc_reply.c rpcclient.c buf.c rpc.h \
    rpcclient.h buf.h
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ tests/fuzz_rpc_reply.c rpcclient.c buf.c

# Every tests/fuzz_NAME.c is a harness.  One that needs more than its own
# file lists the sources in FUZZ_SRCS_fuzz_NAME and the libraries in
# FUZZ_LIBS_fuzz_NAME; the pattern rule below does the rest.
FUZZ_HARNESSES = $(patsubst %.c,%,$(wildcard tests/fuzz_*.c))
FUZZ_SECONDS ?= 30

# The client without its front end and agent deployment; includes
# ssh_min.c and kex.c, and stands in for askpass.c.
FUZZ_SRCS_fuzz_ssh := $(filter-out remowt.c cli.c json.c batch.c rpcclient.c \
    deploy.c ssh_min.c kex.c askpass.c tree.c progress.c tar.c shell.c, \
    $(CLIENT_SRCS))
FUZZ_LIBS_fuzz_ssh := $(LIBS)
FUZZ_ARGS_fuzz_ssh := -close_fd_mask=2
tests/fuzz_ssh: ssh_min.c kex.c $(FUZZ_SRCS_fuzz_ssh) ssh_conn.h ssh_min.h \
    sshconfig.h cipher.h kex.h sshkey.h hostkeys.h askpass.h proxy.h \
    sshagent.h buf.h

# The client without its front end; includes deploy.c.  The embedded
# agents are linked in as they are in remowt.
FUZZ_SRCS_fuzz_stager := $(filter-out remowt.c cli.c json.c batch.c deploy.c \
    tree.c progress.c tar.c shell.c, $(CLIENT_SRCS)) build/agents.o
FUZZ_LIBS_fuzz_stager := $(LIBS)
FUZZ_ARGS_fuzz_stager := -close_fd_mask=2
tests/fuzz_stager: deploy.c $(FUZZ_SRCS_fuzz_stager) deploy.h ssh_min.h \
    rpcclient.h sshconfig.h buf.h

FUZZ_SRCS_fuzz_config := sshconfig.c cipher.c kex.c buf.c
FUZZ_LIBS_fuzz_config := $(LIBS)
FUZZ_ARGS_fuzz_config := -close_fd_mask=2
tests/fuzz_config: $(FUZZ_SRCS_fuzz_config) sshconfig.h cipher.h kex.h \
    sshkey.h buf.h

FUZZ_SRCS_fuzz_keys := sshkey.c bcrypt_pbkdf.c hostkeys.c ed25519.c buf.c
FUZZ_LIBS_fuzz_keys := -lbearssl -lmbedcrypto
tests/fuzz_keys: $(FUZZ_SRCS_fuzz_keys) sshkey.h bcrypt_pbkdf.h hostkeys.h \
    ed25519.h buf.h

FUZZ_SRCS_fuzz_tar := tar.c
tests/fuzz_tar: $(FUZZ_SRCS_fuzz_tar) tar.h rpc.h buf.h

tests/fuzz_%: tests/fuzz_%.c
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $< $(FUZZ_SRCS_$(@F)) $(FUZZ_LIBS_$(@F))

# Each harness runs for FUZZ_SECONDS on a copy of tests/corpus/NAME, so
# the seeds stay as committed; crashes are left in build/fuzz/NAME/.
fuzz_run = n=$(notdir $(1)); d=build/fuzz/$$n; \
	rm -rf $$d/corpus; mkdir -p $$d/corpus; \
	if [ -d tests/corpus/$$n ]; then cp -R tests/corpus/$$n/. $$d/corpus/; fi; \
	echo "fuzz: $$n for $(FUZZ_SECONDS)s"; \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 $(1) \
	    -max_total_time=$(FUZZ_SECONDS) -timeout=10 -artifact_prefix=$$d/ \
	    $(FUZZ_ARGS_$(notdir $(1))) $(FUZZ_ARGS) $$d/corpus >$$d/log 2>&1 || \
	    failed="$$failed $$n"; \
	grep -E "DONE|SUMMARY|Test unit written" $$d/log | tail -n 2;

fuzz: $(FUZZ_HARNESSES)
	@failed=; $(foreach f,$(FUZZ_HARNESSES),$(call fuzz_run,$(f))) \
	if [ -n "$$failed" ]; then \
	    echo "fuzz: failed:$$failed (see build/fuzz/NAME/log)"; exit 1; fi

tests/unit_ed25519: tests/unit_ed25519.c ed25519.c buf.c ed25519.h buf.h
	$(CC) $(ALL_CFLAGS) -I. -o $@ tests/unit_ed25519.c ed25519.c buf.c -lbearssl

# Run under valgrind, which flags any branch or index on the secret key.
# DWARF 4: valgrind 3.19 cannot read clang's default DWARF 5.
tests/unit_ed25519_ct: tests/unit_ed25519.c ed25519.c buf.c ed25519.h buf.h
	$(CC) $(ALL_CFLAGS) -gdwarf-4 -DCT_CHECK -I. -o $@ tests/unit_ed25519.c \
	    ed25519.c buf.c -lbearssl

UNIT_TESTS += tests/unit_sshkey tests/unit_hostkeys tests/unit_bcrypt_pbkdf
UNIT_TESTS += tests/unit_ssh_regress tests/unit_kex
UNIT_TESTS += tests/unit_tar
UNIT_TESTS += tests/unit_json

tests/unit_json: tests/unit_json.c json.c json.h
	$(CC) $(ALL_CFLAGS) -I. -o $@ tests/unit_json.c json.c

FUZZ_SRCS_fuzz_json := json.c
tests/fuzz_json: $(FUZZ_SRCS_fuzz_json) json.h

tests/unit_tar: tests/unit_tar.c tar.c tar.h rpc.h buf.h
	$(CC) $(ALL_CFLAGS) -I. -o $@ tests/unit_tar.c tar.c

tests/unit_kex: tests/unit_kex.c kex.c buf.c kex.h buf.h
	$(CC) $(ALL_CFLAGS) -I. -o $@ tests/unit_kex.c kex.c buf.c $(LIBS)

# What looks for secrets left on the stack and the heap.
tests/unit_kex tests/unit_cipher tests/unit_sshkey: tests/residue.h

# The fuzzer's regression inputs, replayed through its harness.
tests/unit_ssh_regress: tests/unit_ssh_regress.c tests/fuzz_ssh.c ssh_min.c \
    kex.c $(FUZZ_SRCS_fuzz_ssh) ssh_conn.h ssh_min.h
	$(CC) $(ALL_CFLAGS) -Wno-missing-prototypes -I. -o $@ \
	    tests/unit_ssh_regress.c $(FUZZ_SRCS_fuzz_ssh) $(LIBS)

tests/unit_sshkey: tests/unit_sshkey.c sshkey.c bcrypt_pbkdf.c ed25519.c \
    buf.c sshkey.h bcrypt_pbkdf.h ed25519.h buf.h
	$(CC) $(ALL_CFLAGS) -I. -o $@ tests/unit_sshkey.c sshkey.c \
	    bcrypt_pbkdf.c ed25519.c buf.c -lbearssl -lmbedcrypto

tests/unit_hostkeys: tests/unit_hostkeys.c hostkeys.c sshkey.c \
    bcrypt_pbkdf.c ed25519.c buf.c hostkeys.h sshkey.h bcrypt_pbkdf.h \
    ed25519.h buf.h
	$(CC) $(ALL_CFLAGS) -I. -o $@ tests/unit_hostkeys.c hostkeys.c \
	    sshkey.c bcrypt_pbkdf.c ed25519.c buf.c -lbearssl -lmbedcrypto

tests/unit_bcrypt_pbkdf: tests/unit_bcrypt_pbkdf.c bcrypt_pbkdf.c buf.c \
    bcrypt_pbkdf.h buf.h
	$(CC) $(ALL_CFLAGS) -I. -o $@ tests/unit_bcrypt_pbkdf.c bcrypt_pbkdf.c \
	    buf.c -lbearssl

# Includes cipher.c itself to reach its internal helpers.
tests/unit_cipher: tests/unit_cipher.c cipher.c cipher.h buf.c buf.h
	$(CC) $(ALL_CFLAGS) -I. -o $@ tests/unit_cipher.c buf.c -lbearssl \
	    -lmbedcrypto

test: all $(UNIT_TESTS)
	tests/run.sh

# `make sanitize`: the whole suite again, built with ASan+UBSan in a copy
# of the sources under build/asan, so the normal build's in-place objects
# are never touched; any sanitizer report fails it.  tests/sanitize.sh.
sanitize:
	tests/sanitize.sh

install: remowt
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 0755 remowt $(DESTDIR)$(PREFIX)/bin/remowt
	install -m 0644 remowt.1 $(DESTDIR)$(PREFIX)/share/man/man1/remowt.1

clean:
	rm -f remowt *.o *.d tests/*.o tests/unit_*[!.][!c]

.PHONY: all test install clean fuzz FORCE sanitize
