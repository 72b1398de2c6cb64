/*
 * fuzz_rpc_reply.c - libFuzzer harness for the client's reply decoder:
 * frames split from the byte stream, decoded, directory batches walked.
 */
#include <stdint.h>
#include <string.h>

#include "rpcclient.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rpc_frame f;
	struct rpc_reply r;
	struct rpc_dirent d;
	struct buf b;
	long n;
	int rc;

	while ((n = rpc_frame_parse(data, size, &f)) > 0) {
		if (rpc_decode_reply(&f, &r) == 0) {
			(void)rpc_reply_is_final(&r);
			if (r.type == RPC_R_DIRENTS) {
				b = r.dirents;
				while ((rc = rpc_dirent_next(&b, &d)) == 1)
					if (d.name.n > 0 && d.name.p[0] == 0 &&
					    d.link.n > size)
						__builtin_trap();
			}
		}
		data += n;
		size -= (size_t)n;
	}
	return 0;
}
