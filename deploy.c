/*
 * deploy.c - start the agent on a host over SSH: detect the CPU, reuse
 * the content-addressed cached agent or upload it, and carry the RPC
 * over the exec channel.
 *
 * The stager below is the one place where remowt uses the remote shell.
 * It is a fixed POSIX sh script (busybox ash, dash); everything variable
 * reaches it as single-quoted positional parameters.  It answers with
 * one line,
 *
 *   REMOWT1 ok ARCH ENDIAN DIR         the agent runs from here on
 *   REMOWT1 upload ARCH ENDIAN DIR     send SIZE bytes of the agent
 *   REMOWT1 gunzip ARCH ENDIAN DIR     send GZSIZE bytes of it, gzipped
 *   REMOWT1 error TEXT                 nothing runs
 *
 * and after an upload a second "ok" or "error" line once the file was
 * checked and moved into place.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "deploy.h"
#include "ssh_min.h"

#define STAGE_LINE_MAX 1200
#define STAGE_TIMEOUT_MS 60000
#define WIND_DOWN_MS 5000

static const char stager[] =
    "fail() { printf 'REMOWT1 error %s\\n' \"$*\"; exit 1; }\n"
    "dir=$1; shift; imgs=$*; uid=\n"
    /* The uid without running id(1): every process start is a
     * millisecond or more on the hosts that matter. */
    "while read -r k v _; do [ \"$k\" = Uid: ] && uid=$v && break; done"
    " 2>/dev/null </proc/self/status\n"
    "[ -n \"$uid\" ] || uid=$(id -u)\n"
    "case $dir in '') dir=/tmp/remowt-$uid;;"
    " '~/'*) dir=$HOME/${dir#??};; esac\n"
    "command -v sha256sum >/dev/null 2>&1 ||"
    " fail \"the host has no sha256sum to check the agent with\"\n"
    "[ -e \"$dir\" ] || [ -L \"$dir\" ] ||"
    " (umask 077; mkdir -p \"$dir\") 2>/dev/null ||"
    " fail \"cannot create the cache directory $dir\"\n"
    "set -- $(ls -ldn \"$dir\")\n"
    "case $1 in drwx------*) ;; *) fail \"cache directory $dir must be a"
    " directory of mode 0700, not $1 (a symlink or a loose mode is"
    " refused)\";; esac\n"
    "[ \"$3\" = \"$uid\" ] || fail \"cache directory $dir belongs"
    " to uid $3, not to $uid\"\n"
    /* The CPU found at an earlier contact since the host booted, kept in
     * the checked directory: "BOOT_ID ARCH ENDIAN" in .arch. */
    "boot=; b=; arch=; end=\n"
    "read -r boot 2>/dev/null </proc/sys/kernel/random/boot_id\n"
    "[ -z \"$boot\" ] || [ ! -f \"$dir/.arch\" ] ||"
    " read -r b arch end <\"$dir/.arch\"\n"
    "if [ -z \"$boot\" ] || [ \"$b\" != \"$boot\" ]; then\n"
    "exe=/bin/sh; [ -r \"$exe\" ] || exe=/proc/self/exe\n"
    /* One od for the ELF header: EI_CLASS, EI_DATA and e_machine. */
    "set -- $(od -An -tx1 -N20 \"$exe\" 2>/dev/null)\n"
    "cls=$5 mach=${19}${20}\n"
    "case $6 in 01) end=little;; 02) end=big;;"
    " *) fail \"cannot read the ELF header of $exe (is od there?)\";; esac\n"
    "case $cls$mach in\n"
    " 010800|010008) if [ $end = big ]; then arch=mips;"
    " else arch=mipsel; fi;;\n"
    " 012800) arch=arm;; 02b700) arch=aarch64;;"
    " 02f300) arch=riscv64;; 023e00) arch=x86_64;;\n"
    " *) arch=\"unknown($cls/$mach, uname -m: $(uname -m))\";;\n"
    "esac\n"
    "fi\n"
    "want=; size=; gz=0\n"
    "for a in $imgs; do case $a in \"$arch\":*) a=${a#*:};"
    " want=${a%%:*}; a=${a#*:}; size=${a%%:*}; gz=${a#*:};; esac; done\n"
    "[ -n \"$want\" ] || fail \"remowt has no agent for $arch\"\n"
    "[ -z \"$boot\" ] || [ \"$b\" = \"$boot\" ] ||"
    " printf '%s %s %s\\n' \"$boot\" $arch $end >\"$dir/.arch\" 2>/dev/null\n"
    "a=$dir/$want\n"
    "ok() { printf 'REMOWT1 ok %s %s %s\\n' $arch $end \"$dir\";"
    " exec \"$a\"; fail \"cannot run $a\"; }\n"
    "sum() { s=$(sha256sum \"$1\" 2>/dev/null); echo ${s%% *}; }\n"
    "if [ -f \"$a\" ] && [ ! -L \"$a\" ]; then\n"
    " s=$(sha256sum \"$a\" 2>/dev/null)\n"
    " [ \"${s%% *}\" = \"$want\" ] && ok\n"
    " rm -f \"$a\"\n"
    "fi\n"
    "t=$dir/.upload.$$\n"
    /* The gzipped agent where the host can unpack it: fewer bytes, and
     * on dropbear within one channel window. */
    "if [ \"$gz\" != 0 ] && command -v gunzip >/dev/null 2>&1; then\n"
    " printf 'REMOWT1 gunzip %s %s %s\\n' $arch $end \"$dir\"\n"
    " head -c \"$gz\" | gunzip -c >\"$t\" 2>/dev/null\n"
    "else\n"
    " printf 'REMOWT1 upload %s %s %s\\n' $arch $end \"$dir\"\n"
    " head -c \"$size\" >\"$t\"\n"
    "fi || { rm -f \"$t\"; fail \"cannot write $t\"; }\n"
    "got=$(sum \"$t\")\n"
    "[ \"$got\" = \"$want\" ] || { rm -f \"$t\"; fail \"the uploaded"
    " agent is damaged (sha256 $got)\"; }\n"
    "chmod 700 \"$t\" && mv -f \"$t\" \"$a\" || { rm -f \"$t\";"
    " fail \"cannot install $a\"; }\n"
    "ok\n";

/* ------------------------------------------------------------------ */
/* Embedded agents                                                     */

/* The host agent (for --local), and the cross-built ones, each of which
 * may be empty; each with its gzipped form and its SHA-256 in hex (see
 * cross/embed.sh). */
#define EMBEDDED_AGENT(a) \
	extern const uint8_t a##_start[], a##_end[]; \
	extern const uint8_t a##_gz_start[], a##_gz_end[]; \
	extern const char a##_sha256[]
EMBEDDED_AGENT(remowt_agent);
EMBEDDED_AGENT(remowt_agent_mips);
EMBEDDED_AGENT(remowt_agent_mipsel);
EMBEDDED_AGENT(remowt_agent_arm);
EMBEDDED_AGENT(remowt_agent_aarch64);
EMBEDDED_AGENT(remowt_agent_riscv64);
EMBEDDED_AGENT(remowt_agent_x86_64);

#if defined(__x86_64__)
#define REMOWT_HOST_ARCH "x86_64"
#elif defined(__aarch64__)
#define REMOWT_HOST_ARCH "aarch64"
#elif defined(__riscv) && __riscv_xlen == 64
#define REMOWT_HOST_ARCH "riscv64"
#elif defined(__arm__)
#define REMOWT_HOST_ARCH "arm"
#elif defined(__mips__) && defined(__MIPSEL__)
#define REMOWT_HOST_ARCH "mipsel"
#elif defined(__mips__)
#define REMOWT_HOST_ARCH "mips"
#else
#define REMOWT_HOST_ARCH "unknown"
#endif

#define NARCH 6
#define IMAGE(arch, a) \
	{ arch, a##_start, a##_end, a##_gz_start, a##_gz_end, a##_sha256 }
static const struct {
	const char *arch;
	const uint8_t *start, *end, *gz_start, *gz_end;
	const char *sha256;
} embedded[NARCH + 1] = {
	IMAGE("mips", remowt_agent_mips),
	IMAGE("mipsel", remowt_agent_mipsel),
	IMAGE("arm", remowt_agent_arm),
	IMAGE("aarch64", remowt_agent_aarch64),
	IMAGE("riscv64", remowt_agent_riscv64),
	IMAGE("x86_64", remowt_agent_x86_64),
	IMAGE(REMOWT_HOST_ARCH, remowt_agent),
};

static struct agent_image images[NARCH + 1];
static size_t nimages;

static void add_image(size_t i)
{
	images[nimages].arch = embedded[i].arch;
	images[nimages].data = embedded[i].start;
	images[nimages].len = (size_t)(embedded[i].end -
	    embedded[i].start);
	images[nimages].gz = embedded[i].gz_start;
	images[nimages].gz_len = (size_t)(embedded[i].gz_end -
	    embedded[i].gz_start);
	images[nimages].sha256 = embedded[i].sha256;
	nimages++;
}

/*
 * The cross-built agents; a host CPU without one falls back to the
 * agent built for --local, which runs on hosts like this one.
 */
const struct agent_image *agent_images(size_t *n)
{
	size_t i;
	int have_host = 0;

	if (nimages == 0) {
		for (i = 0; i < NARCH; i++) {
			if (embedded[i].end == embedded[i].start)
				continue;
			if (strcmp(embedded[i].arch, REMOWT_HOST_ARCH) == 0)
				have_host = 1;
			add_image(i);
		}
		if (!have_host)
			add_image(NARCH);
	}
	*n = nimages;
	return images;
}

/* ------------------------------------------------------------------ */
/* The stager's command line                                           */

/* Single-quote s for a POSIX shell into out; -1 if it does not fit. */
static int sh_quote(const char *s, char *out, size_t outsz)
{
	size_t n = 0;

	if (outsz < 3)
		return -1;
	out[n++] = '\'';
	for (; *s != '\0'; s++) {
		if (*s == '\'') {
			/* close, an escaped quote, reopen */
			if (n + 4 >= outsz)
				return -1;
			memcpy(out + n, "'\\''", 4);
			n += 4;
		} else {
			if (n + 1 >= outsz)
				return -1;
			out[n++] = *s;
		}
	}
	if (n + 2 > outsz)
		return -1;
	out[n++] = '\'';
	out[n] = '\0';
	return 0;
}

static int append(char *out, size_t outsz, size_t *n, const char *s)
{
	size_t len = strlen(s);

	if (*n + len + 1 > outsz)
		return -1;
	memcpy(out + *n, s, len + 1);
	*n += len;
	return 0;
}

/* The stager's command line for these images and cache directory. */
static int deploy_stager_command(const struct agent_image *imgs, size_t n,
    const char *cache, char *out, size_t outsz)
{
	char q[4 * sizeof stager], arg[160];
	size_t len = 0, i;

	/* /bin/sh even where the login shell is something else. */
	if (append(out, outsz, &len, "exec /bin/sh -c ") != 0 ||
	    sh_quote(stager, q, sizeof q) != 0 ||
	    append(out, outsz, &len, q) != 0 ||
	    append(out, outsz, &len, " remowt-stager ") != 0 ||
	    sh_quote(cache, q, sizeof q) != 0 ||
	    append(out, outsz, &len, q) != 0)
		return -1;
	for (i = 0; i < n; i++) {
		snprintf(arg, sizeof arg, " %s:%s:%zu:%zu", imgs[i].arch,
		    imgs[i].sha256, imgs[i].len, imgs[i].gz_len);
		if (append(out, outsz, &len, arg) != 0)
			return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* RPC over the exec channel                                           */

struct ssh_link {
	struct ssh_conn *c;
	int ch;
	const char *host;
	int owns_conn;             /* closing the link closes c */
};

/* Whatever the agent or stager says on stderr is the user's to see. */
static void forward_stderr(struct ssh_link *l)
{
	const uint8_t *p;
	size_t n = ssh_chan_peek(l->c, l->ch, 1, &p);
	ssize_t w;

	if (n == 0)
		return;
	w = write(2, p, n);
	(void)w;
	ssh_chan_consume(l->c, l->ch, 1, n);
}

static int sl_pollfds(void *ctx, struct pollfd *pfd, int max)
{
	struct ssh_link *l = ctx;

	if (max < 1)
		return 0;
	pfd[0].fd = ssh_fd(l->c);
	pfd[0].events = ssh_poll_events(l->c);
	return 1;
}

static int sl_process(void *ctx, const struct pollfd *pfd, int n)
{
	struct ssh_link *l = ctx;

	if (n < 1)
		return 0;
	if (ssh_process(l->c, pfd[0].revents) != 0) {
		ssh_report(l->c);
		return -1;
	}
	forward_stderr(l);
	return 0;
}

static long sl_recv(void *ctx, uint8_t *buf, size_t n)
{
	struct ssh_link *l = ctx;
	const uint8_t *p;
	size_t have = ssh_chan_peek(l->c, l->ch, 0, &p);

	if (have == 0)
		return ssh_failed(l->c) || ssh_chan_eof_received(l->c, l->ch) ?
		    -1 : 0;
	if (have > n)
		have = n;
	memcpy(buf, p, have);
	ssh_chan_consume(l->c, l->ch, 0, have);
	return (long)have;
}

static long sl_send(void *ctx, const uint8_t *buf, size_t n)
{
	struct ssh_link *l = ctx;

	if (ssh_failed(l->c))
		return -1;
	return (long)ssh_chan_write(l->c, l->ch, buf, n);
}

static int sl_timeout(void *ctx)
{
	struct ssh_link *l = ctx;

	return ssh_poll_timeout(l->c);
}

static uint64_t clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * Before a borrowed connection is used again: EOF to the stager or the
 * agent, and (for a while) until the server closes the channel, that is
 * until its process is gone.  Dropbear closes a new session at once if
 * it opens while a child of another session exits.
 */
static void wind_down(struct ssh_link *l)
{
	uint64_t deadline = clock_ms() + WIND_DOWN_MS;
	struct pollfd pfd;
	const uint8_t *p;

	ssh_chan_send_eof(l->c, l->ch);
	while (!ssh_failed(l->c) && clock_ms() < deadline) {
		forward_stderr(l);
		ssh_chan_consume(l->c, l->ch, 0, ssh_chan_peek(l->c, l->ch, 0,
		    &p));
		if (ssh_chan_finished(l->c, l->ch))
			return;
		pfd.fd = ssh_fd(l->c);
		pfd.events = ssh_poll_events(l->c);
		pfd.revents = 0;
		(void)poll(&pfd, 1, 100);
		if (ssh_process(l->c, pfd.revents) != 0)
			return;
	}
}

static void sl_close(void *ctx)
{
	struct ssh_link *l = ctx;

	/* EOF on its stdin tells the agent to clean up and exit. */
	if (l->owns_conn) {
		ssh_chan_send_eof(l->c, l->ch);
		ssh_close(l->c);
	} else {
		wind_down(l);
	}
	free(l);
}

/* ------------------------------------------------------------------ */
/* Talking to the stager                                               */

/*
 * The first line of the n bytes at p, without its newline, into line
 * (cut to linesz - 1 bytes); *used is what it took of p.  Returns 1 for
 * a line, 0 when more bytes are needed, -1 when STAGE_LINE_MAX bytes
 * came without a newline.
 */
static int take_stage_line(const uint8_t *p, size_t n, char *line,
    size_t linesz, size_t *used)
{
	const uint8_t *nl;
	size_t k;

	if ((nl = memchr(p, '\n', n)) == NULL)
		return n >= STAGE_LINE_MAX ? -1 : 0;
	k = (size_t)(nl - p);
	*used = k + 1;
	if (k >= linesz)
		k = linesz - 1;
	memcpy(line, p, k);
	line[k] = '\0';
	return 1;
}

/* Pump until a whole line is in the channel; copy it out without the
 * newline and consume it. */
static int read_stage_line(struct ssh_link *l, char *line, size_t linesz)
{
	struct pollfd pfd;
	const uint8_t *p;
	size_t n, used;
	int waited = 0, r;

	for (;;) {
		forward_stderr(l);
		n = ssh_chan_peek(l->c, l->ch, 0, &p);
		if ((r = take_stage_line(p, n, line, linesz, &used)) > 0) {
			ssh_chan_consume(l->c, l->ch, 0, used);
			return 0;
		}
		if (r < 0) {
			fprintf(stderr, "remowt: %s: the host's shell answered "
			    "with something else than remowt's stager\n",
			    l->host);
			return -1;
		}
		if (ssh_failed(l->c)) {
			ssh_report(l->c);
			return -1;
		}
		if (ssh_chan_eof_received(l->c, l->ch)) {
			fprintf(stderr, "remowt: %s: the stager ended without "
			    "an answer; is /bin/sh a POSIX shell there?\n",
			    l->host);
			return -1;
		}
		if (waited >= STAGE_TIMEOUT_MS) {
			fprintf(stderr, "remowt: %s: no answer from the "
			    "stager\n", l->host);
			return -1;
		}
		pfd.fd = ssh_fd(l->c);
		pfd.events = ssh_poll_events(l->c);
		pfd.revents = 0;
		if (poll(&pfd, 1, 1000) == 0)
			waited += 1000;
		if (ssh_process(l->c, pfd.revents) != 0) {
			ssh_report(l->c);
			return -1;
		}
	}
}

/* The host's words for the terminal: its control bytes escaped. */
static const char *shown(const char *text, char *out, size_t outsz)
{
	ssh_sanitize(out, outsz, (const uint8_t *)text, strlen(text));
	return out;
}

/* "REMOWT1 ok|upload|gunzip ARCH ENDIAN DIR": 1 ok, 2 upload, 3 gunzip,
 * -1 otherwise. */
static int parse_stage_line(const char *host, const char *line,
    struct deploy_info *info)
{
	char verb[16], esc[STAGE_LINE_MAX];
	int off = 0;

	if (sscanf(line, "REMOWT1 %15s %n", verb, &off) != 1 || off == 0) {
		fprintf(stderr, "remowt: %s: unexpected answer from the host's "
		    "shell: %.200s\n", host, shown(line, esc, sizeof esc));
		return -1;
	}
	if (strcmp(verb, "error") == 0) {
		fprintf(stderr, "remowt: %s: %s\n", host,
		    shown(line + off, esc, sizeof esc));
		return -1;
	}
	if (sscanf(line + off, "%79s %7s %1023[^\n]", info->arch,
	    info->endian, info->cache) != 3) {
		fprintf(stderr, "remowt: %s: malformed stager answer\n",
		    host);
		return -1;
	}
	if (strcmp(verb, "ok") == 0)
		return 1;
	if (strcmp(verb, "upload") == 0)
		return 2;
	if (strcmp(verb, "gunzip") == 0)
		return 3;
	fprintf(stderr, "remowt: %s: unexpected stager answer %s\n", host,
	    shown(verb, esc, sizeof esc));
	return -1;
}

static const struct agent_image *image_for(const char *arch)
{
	const struct agent_image *imgs;
	size_t n, i;

	imgs = agent_images(&n);
	for (i = 0; i < n; i++)
		if (strcmp(imgs[i].arch, arch) == 0)
			return &imgs[i];
	return NULL;
}

/* Send all len bytes at data, keeping the connection serviced
 * meanwhile. */
static int upload(struct ssh_link *l, const uint8_t *data, size_t len)
{
	struct pollfd pfd;
	size_t sent = 0;

	while (sent < len) {
		/* The stager gave up (a full disk, say) and will not take
		 * the rest: its answer, read next, says why. */
		if (ssh_chan_eof_received(l->c, l->ch))
			return 0;
		sent += ssh_chan_write(l->c, l->ch, data + sent, len - sent);
		pfd.fd = ssh_fd(l->c);
		pfd.events = ssh_poll_events(l->c);
		pfd.revents = 0;
		if (sent < len || (pfd.events & POLLOUT))
			poll(&pfd, 1, 1000);
		if (ssh_process(l->c, pfd.revents) != 0) {
			ssh_report(l->c);
			return -1;
		}
		forward_stderr(l);
	}
	return 0;
}

static int stage(struct ssh_link *l, struct deploy_info *info)
{
	const struct agent_image *img;
	char line[STAGE_LINE_MAX];
	int r;

	if (read_stage_line(l, line, sizeof line) != 0 ||
	    (r = parse_stage_line(l->host, line, info)) < 0)
		return -1;
	if ((img = image_for(info->arch)) == NULL) {
		fprintf(stderr, "remowt: %s: no agent for %s\n", l->host,
		    shown(info->arch, line, sizeof line));
		return -1;
	}
	snprintf(info->hash, sizeof info->hash, "%s", img->sha256);
	if (r == 1)
		return 0;
	if (r == 3 && img->gz_len == 0) {
		fprintf(stderr, "remowt: %s: the stager asked for a gzipped "
		    "agent this remowt does not carry\n", l->host);
		return -1;
	}
	info->uploaded = 1;
	info->gzipped = r == 3;
	info->upload_bytes = r == 3 ? img->gz_len : img->len;
	if (upload(l, r == 3 ? img->gz : img->data, info->upload_bytes) != 0 ||
	    read_stage_line(l, line, sizeof line) ||
	    parse_stage_line(l->host, line, info) != 1)
		return -1;
	return 0;
}

int deploy_start(struct ssh_conn *c, const char *host, const char *cache,
    struct rpc_link *link, struct deploy_info *info)
{
	static char cmd[32768];
	const struct agent_image *imgs;
	struct ssh_link *l;
	size_t n;

	memset(info, 0, sizeof *info);
	imgs = agent_images(&n);
	if (deploy_stager_command(imgs, n, cache, cmd, sizeof cmd) != 0) {
		fprintf(stderr, "remowt: the cache directory name is too "
		    "long\n");
		return 255;
	}
	if ((l = calloc(1, sizeof *l)) == NULL) {
		fprintf(stderr, "remowt: out of memory\n");
		return 255;
	}
	l->host = host;
	l->c = c;
	if ((l->ch = ssh_chan_exec(c, cmd)) < 0) {
		ssh_report(c);
		free(l);
		return 255;
	}
	if (stage(l, info) != 0) {
		wind_down(l);
		free(l);
		return 255;
	}
	link->ctx = l;
	link->pollfds = sl_pollfds;
	link->process = sl_process;
	link->recv = sl_recv;
	link->send = sl_send;
	link->close = sl_close;
	link->timeout = sl_timeout;
	return 0;
}

int deploy_connect(struct ssh_opts *o, const char *cache,
    struct rpc_link *link, struct deploy_info *info)
{
	struct ssh_conn *c = ssh_connect(o);

	if (c == NULL || ssh_failed(c)) {
		if (c != NULL)
			ssh_report(c);
		else
			fprintf(stderr, "remowt: out of memory\n");
		ssh_close(c);
		return 255;
	}
	if (deploy_start(c, o->host, cache, link, info) != 0) {
		ssh_close(c);
		return 255;
	}
	((struct ssh_link *)link->ctx)->owns_conn = 1;
	return 0;
}
