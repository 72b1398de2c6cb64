/*
 * fuzz_stager.c - libFuzzer harness for the stager's answer as the
 * client reads it: the host's shell sends bytes, the client cuts them
 * into lines and parses "REMOWT1 ok|upload|gunzip|error ..." from them,
 * looks up the agent for the arch named, and escapes what it prints.
 *
 * Input: what the host's shell writes on the exec channel.  At most two
 * lines are taken, as the client does (the answer, and after an upload
 * the answer to that); a line left without a newline is what a shell
 * that never finishes its answer would leave.
 *
 * Linked with the client's modules and the embedded agents, so that the
 * arch lookup meets the real images.
 */
#include "../deploy.c"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	const struct agent_image *img;
	struct deploy_info info;
	char line[STAGE_LINE_MAX], esc[STAGE_LINE_MAX];
	size_t used = 0;
	int lines, r;

	for (lines = 0; lines < 2 && len > 0; lines++) {
		r = take_stage_line(data, len, line, sizeof line, &used);
		if (r <= 0)
			break;
		if (used == 0 || used > len)
			__builtin_trap();
		data += used;
		len -= used;
		memset(&info, 0, sizeof info);
		r = parse_stage_line("fuzz.example", line, &info);
		if (r < 0)
			break;
		if (r != 1 && r != 2 && r != 3)
			__builtin_trap();
		/* What stage() prints when the arch is one it has no agent for. */
		if ((img = image_for(info.arch)) == NULL) {
			shown(info.arch, esc, sizeof esc);
			break;
		}
		if (strlen(img->sha256) != 64)
			__builtin_trap();
	}
	return 0;
}
