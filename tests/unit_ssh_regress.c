/*
 * unit_ssh_regress.c - replays the fuzzer's regression inputs through the
 * same harness and checks how each ends.
 */
#include "fuzz_ssh.c"

struct regress {
	const char *file;
	const char *must_not;      /* the error the bug produced */
	const char *must;          /* the error it should give, or NULL */
};

static const struct regress cases[] = {
	/* A server list that merely starts with our choice is no match. */
	{ "regress-kex-guess-prefix", "malformed KEX reply", NULL },
	/* OPEN_FAILURE for an open channel is a protocol error. */
	{ "regress-open-failure-when-open", "refused to run",
	    "already answered" },
};

static int replay(const char *dir, const struct regress *r)
{
	char path[1024];
	static uint8_t data[1 << 20];
	size_t n;
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, r->file);
	if ((f = fopen(path, "rb")) == NULL) {
		printf("not ok - %s: cannot read %s\n", r->file, path);
		return 1;
	}
	n = fread(data, 1, sizeof data, f);
	fclose(f);
	fuzz_last_error[0] = '\0';
	LLVMFuzzerTestOneInput(data, n);
	if (strstr(fuzz_last_error, r->must_not) != NULL ||
	    (r->must != NULL && strstr(fuzz_last_error, r->must) == NULL)) {
		printf("not ok - %s: ended with '%s'\n", r->file,
		    fuzz_last_error);
		return 1;
	}
	printf("ok - %s\n", r->file);
	return 0;
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "tests/corpus/fuzz_ssh";
	size_t i;
	int failed = 0;

	LLVMFuzzerInitialize(&argc, &argv);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		failed |= replay(dir, &cases[i]);
	return failed;
}
