# remowt - see README.  Plain make: `make`, `make test`, `make cross`,
# `make install PREFIX=...`.

CC      ?= cc
PREFIX  ?= /usr/local
CFLAGS  ?= -O2 -g
WARN    := -std=c11 -Wall -Wextra -Werror -Wshadow -Wpointer-arith \
           -Wstrict-prototypes -Wmissing-prototypes -Wvla
DEFS    := -D_DEFAULT_SOURCE -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64
ALL_CFLAGS = $(WARN) $(DEFS) $(CFLAGS) $(EXTRA_CFLAGS)
LIBS    := -lbearssl -lmbedcrypto -ltommath

# The client: transport, crypto, keys, the RPC client and the CLI.
CLIENT_SRCS := remowt.c ssh_min.c userauth.c channel.c sshconfig.c kex.c \
               cipher.c ed25519.c sshkey.c hostkeys.c askpass.c sshagent.c proxy.c buf.c rpcclient.c
CLIENT_OBJS := $(CLIENT_SRCS:.c=.o)
CLIENT_OBJS += agents.o

# The agent: freestanding apart from libc, shares only the codec.
AGENT_SRCS := agent.c buf.c

all: remowt

remowt: $(CLIENT_OBJS)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(CLIENT_OBJS) $(LIBS)

%.o: %.c
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# The agent for this machine, embedded into remowt for --local.  Its
# build id is a hash of its sources; the hello reply carries it.
AGENT_BUILD = $(shell cat $(AGENT_SRCS) rpc.h buf.h | sha256sum | cut -c1-16)
build/agent: $(AGENT_SRCS) rpc.h buf.h
	@mkdir -p build
	$(CC) $(ALL_CFLAGS) -Os -s -DAGENT_BUILD='"$(AGENT_BUILD)"' \
	    -o $@ $(AGENT_SRCS)
agents.o: agents.S build/agent
	$(CC) -c -o $@ agents.S
remowt.o rpcclient.o: rpc.h rpcclient.h

# The agent as it will ship: static, size-optimised, stripped.
build/agent-static: $(AGENT_SRCS) rpc.h buf.h
	@mkdir -p build
	$(CC) $(ALL_CFLAGS) -Os -s -static -DAGENT_BUILD='"$(AGENT_BUILD)"' \
	    -o $@ $(AGENT_SRCS)

# Header dependencies, kept by hand: few headers, all at top level.
$(CLIENT_OBJS): buf.h
ssh_min.o userauth.o channel.o: ssh_conn.h
ssh_min.o userauth.o channel.o remowt.o sshconfig.o: ssh_min.h sshconfig.h \
    cipher.h kex.h sshkey.h hostkeys.h
kex.o: kex.h
cipher.o: cipher.h
ed25519.o sshkey.o: ed25519.h sshkey.h
hostkeys.o: hostkeys.h sshkey.h
askpass.o userauth.o: askpass.h
proxy.o ssh_min.o: proxy.h
sshagent.o userauth.o ssh_min.o channel.o: sshagent.h

# Unit tests: each links only the modules it tests.
UNIT_TESTS := tests/unit_ed25519 tests/unit_ed25519_ct tests/unit_cipher

UNIT_TESTS += tests/unit_rpc

# Includes agent.c to reach its request decoder and SHA-256.
tests/unit_rpc: tests/unit_rpc.c agent.c rpcclient.c buf.c rpc.h \
    rpcclient.h buf.h
	$(CC) $(ALL_CFLAGS) -I. -o $@ tests/unit_rpc.c rpcclient.c buf.c

# libFuzzer harnesses for both decoders: `make fuzz`, then run them.
FUZZ_CC ?= clang
FUZZ_FLAGS = $(WARN) $(DEFS) -g -O1 -fsanitize=fuzzer,address,undefined -I.
tests/fuzz_agent_req: tests/fuzz_agent_req.c agent.c buf.c rpc.h buf.h
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ tests/fuzz_agent_req.c buf.c
tests/fuzz_rpc_reply: tests/fuzz_rpc_reply.c rpcclient.c buf.c rpc.h \
    rpcclient.h buf.h
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ tests/fuzz_rpc_reply.c rpcclient.c buf.c
fuzz: tests/fuzz_agent_req tests/fuzz_rpc_reply

tests/unit_ed25519: tests/unit_ed25519.c ed25519.c buf.c ed25519.h buf.h
	$(CC) $(ALL_CFLAGS) -I. -o $@ tests/unit_ed25519.c ed25519.c buf.c -lbearssl

# Run under valgrind, which flags any branch or index on the secret key.
# DWARF 4: valgrind 3.19 cannot read clang's default DWARF 5.
tests/unit_ed25519_ct: tests/unit_ed25519.c ed25519.c buf.c ed25519.h buf.h
	$(CC) $(ALL_CFLAGS) -gdwarf-4 -DCT_CHECK -I. -o $@ tests/unit_ed25519.c \
	    ed25519.c buf.c -lbearssl

UNIT_TESTS += tests/unit_sshkey tests/unit_hostkeys

tests/unit_sshkey: tests/unit_sshkey.c sshkey.c ed25519.c buf.c sshkey.h \
    ed25519.h buf.h
	$(CC) $(ALL_CFLAGS) -I. -o $@ tests/unit_sshkey.c sshkey.c ed25519.c \
	    buf.c -lbearssl -lmbedcrypto

tests/unit_hostkeys: tests/unit_hostkeys.c hostkeys.c sshkey.c ed25519.c \
    buf.c hostkeys.h sshkey.h ed25519.h buf.h
	$(CC) $(ALL_CFLAGS) -I. -o $@ tests/unit_hostkeys.c hostkeys.c \
	    sshkey.c ed25519.c buf.c -lbearssl -lmbedcrypto

# Includes cipher.c itself to reach its internal helpers.
tests/unit_cipher: tests/unit_cipher.c cipher.c cipher.h buf.c buf.h
	$(CC) $(ALL_CFLAGS) -I. -o $@ tests/unit_cipher.c buf.c -lbearssl \
	    -lmbedcrypto

test: all $(UNIT_TESTS)
	tests/run.sh

install: remowt
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 remowt $(DESTDIR)$(PREFIX)/bin/remowt

clean:
	rm -f remowt *.o tests/*.o tests/unit_*[!.][!c]

.PHONY: all test install clean fuzz
