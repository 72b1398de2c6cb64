/*
 * fuzz_agent_req.c - libFuzzer harness for the agent's input side: the
 * byte stream is split into frames and each frame decoded as a request,
 * exactly as the agent does before acting on one.
 */
#define AGENT_NO_MAIN
#include "../agent.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The agent's loop is not run here; keep the compiler content. */
static void (*const unused_fns[])(void) = { reserve_std_fds, agent_loop,
    setup_signals, cleanup };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rpc_frame f;
	struct bytes s;
	struct req r;
	struct buf b;
	uint32_t i;
	uint8_t op;
	long n;

	(void)unused_fns;
	while ((n = rpc_frame_parse(data, size, &f)) > 0) {
		if (decode_request(&f, &r) == 0 && r.type == RPC_EXEC) {
			/* What build_exec() walks must be there. */
			b = r.args;
			for (i = 0; i < r.argc; i++)
				if (get_bytes(&b, &s) != 0)
					__builtin_trap();
			if (buf_get_u32(&b, &i) != 0)
				__builtin_trap();
			for (i = 0; i < r.nenv; i++)
				if (buf_get_u8(&b, &op) != 0 ||
				    get_bytes(&b, &s) != 0)
					__builtin_trap();
		}
		data += n;
		size -= (size_t)n;
	}
	return 0;
}
