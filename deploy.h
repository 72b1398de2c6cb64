/*
 * deploy.h - start the agent on a host over SSH: detect the CPU, reuse
 * the content-addressed cached agent or upload it, and carry the RPC
 * over the exec channel.
 */
#ifndef REMOWT_DEPLOY_H
#define REMOWT_DEPLOY_H

#include <stddef.h>
#include <stdint.h>

#include "rpcclient.h"
#include "ssh_min.h"
#include "sshconfig.h"

/* An agent executable built into remowt. */
struct agent_image {
	const char *arch;          /* mips mipsel arm aarch64 riscv64 x86_64 */
	const uint8_t *data;
	size_t len;
	const uint8_t *gz;         /* the same, gzipped (gz_len 0: none) */
	size_t gz_len;
	const char *sha256;        /* lower-case hex, from the build */
};

/* The agent built for this machine (for --local), and its SHA-256 in
 * hex; both embedded by cross/embed.sh. */
extern const uint8_t remowt_agent_start[], remowt_agent_end[];
extern const char remowt_agent_sha256[];

/* The agents this remowt carries; *n set to their number. */
const struct agent_image *agent_images(size_t *n);

struct deploy_info {
	char arch[80];
	char endian[8];            /* "little" or "big" */
	char cache[1024];          /* the cache directory on the host */
	char hash[65];             /* the agent that runs */
	int uploaded;              /* this contact uploaded it */
	size_t upload_bytes;       /* that many bytes of it, */
	int gzipped;               /* gzipped for the host to unpack */
};

/*
 * Connect to o's host, run the stager and leave link speaking to the
 * agent (before its hello).  cache is the cache directory ("" for the
 * default /tmp/remowt-$UID).  Returns 0, or 255 after printing one line
 * saying what failed and what to do.
 */
int deploy_connect(struct ssh_opts *o, const char *cache,
    struct rpc_link *link, struct deploy_info *info);

/*
 * The same on a connection made by ssh_connect(), which the link only
 * borrows: closing the link ends the agent, not the connection.  After
 * a failure (255, one line printed) the connection is still the
 * caller's, and alive unless ssh_failed() says otherwise.
 */
int deploy_start(struct ssh_conn *c, const char *host, const char *cache,
    struct rpc_link *link, struct deploy_info *info);

#endif
