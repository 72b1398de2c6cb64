/*
 * ssh_min.c - remowt's SSH client: transport, key exchange, user
 * authentication and session channels (RFC 4251-4254, 5656, 8308, 8731,
 * OpenSSH PROTOCOL incl. strict KEX).
 *
 * One connection is a poll-driven state machine.  Packets are built in
 * place in the output buffer and decrypted in place in the input buffer;
 * after setup nothing is allocated.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "buf.h"
#include "cipher.h"
#include "hostkeys.h"
#include "kex.h"
#include "proxy.h"
#include "ssh_min.h"
#include "ssh_conn.h"
#include "sshkey.h"

#define CLIENT_VERSION "SSH-2.0-remowt_0.1"
#define MAX_PACKET (256 * 1024)          /* packet_length we accept */
#define RBUF_SIZE (MAX_PACKET + 4096 + 64 * 1024)
#define WBUF_SIZE (2 * 1024 * 1024)
#define WBUF_HIGH (1024 * 1024)          /* stop taking channel data */
#define PKT_OVERHEAD (4 + 1 + 255 + PKTC_MAX_TAG)
#define CHAN_WINDOW (4 * 1024 * 1024)
#define CHAN_MAXPKT (128 * 1024)
#define REKEY_BYTES (1ULL << 30)        /* RFC 4344 advises 1 GiB for AES */
#define BANNER_MAX_LINES 64
#define BANNER_MAX_LINE 1024
#define HANDSHAKE_TIMEOUT 60

enum kex_phase {
	KEX_IDLE,             /* no exchange in progress */
	KEX_INIT_SENT,        /* our KEXINIT is out, the server's not in */
	KEX_REPLY_WAIT,       /* both KEXINITs seen, our public value sent */
	KEX_NEWKEYS_WAIT,     /* our NEWKEYS sent */
};

/* ------------------------------------------------------------------ */
/* Logging and errors                                                  */

static void debug(struct ssh_conn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void debug(struct ssh_conn *c, const char *fmt, ...)
{
	va_list ap;

	if (c->opts->verbose == 0)
		return;
	va_start(ap, fmt);
	fputs("debug1: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* Record the first fatal error; later ones are consequences of it. */
int ssh_fail(struct ssh_conn *c, const char *fmt, ...)
{
	va_list ap;

	if (c->err[0] == '\0') {
		va_start(ap, fmt);
		vsnprintf(c->err, sizeof c->err, fmt, ap);
		va_end(ap);
	}
	c->dead = 1;
	return -1;
}

/* Copy untrusted text for the terminal, escaping control characters. */
static void sanitize(char *out, size_t outsz, const uint8_t *in, size_t n,
    int keep_newlines)
{
	size_t o = 0, i;

	for (i = 0; i < n && o + 5 < outsz; i++) {
		uint8_t ch = in[i];

		if ((ch >= 0x20 && ch != 0x7f) || (keep_newlines &&
		    (ch == '\n' || ch == '\t'))) {
			out[o++] = (char)ch;
		} else if (ch != '\r') {
			o += (size_t)snprintf(out + o, outsz - o, "\\x%02x", ch);
		}
	}
	out[o] = '\0';
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Milliseconds left until the handshake deadline, 0 once it passed. */
static int deadline_left(const struct ssh_conn *c)
{
	uint64_t now = now_ms();

	return c->deadline > now ? (int)(c->deadline - now) : 0;
}

/* ------------------------------------------------------------------ */
/* Binary packet protocol                                              */

/* Start a packet: b is where the payload goes, in the output buffer. */
static int pkt_begin(struct ssh_conn *c, struct buf *b, uint8_t type)
{
	size_t cap;

	if (c->woff == c->wlen) {
		c->woff = 0;
		c->wlen = 0;
	} else if (WBUF_SIZE - c->wlen < WBUF_SIZE / 4 && c->woff > 0) {
		memmove(c->wbuf, c->wbuf + c->woff, c->wlen - c->woff);
		c->wlen -= c->woff;
		c->woff = 0;
	}
	if (WBUF_SIZE - c->wlen < PKT_OVERHEAD + 1024)
		return ssh_fail(c, "output buffer full");
	cap = WBUF_SIZE - c->wlen - PKT_OVERHEAD;
	if (cap > SSH_MAX_PAYLOAD)
		cap = SSH_MAX_PAYLOAD;
	buf_init(b, c->wbuf + c->wlen + 5, cap);
	c->wpend = c->wlen + 5 + cap;
	return buf_put_u8(b, type);
}

static void maybe_rekey(struct ssh_conn *c);

/* Pad, protect and queue the packet whose payload was built in b. */
static int pkt_send(struct ssh_conn *c, struct buf *b)
{
	uint8_t *pkt = c->wbuf + c->wlen;
	size_t bs = 8, padlen, plen, tag = 0;
	int excluded = 0;

	if (c->dead) {
		/* Never sealed, so still plaintext: a password perhaps. */
		wipe(b->data, b->len);
		return -1;
	}
	if (c->enc_out) {
		bs = pktc_block_len(&c->pc_out);
		excluded = pktc_length_excluded(&c->pc_out);
		tag = pktc_tag_len(&c->pc_out);
	}
	/* The padded length is a block multiple; AEAD and EtM leave the
	 * length field out of that count. */
	padlen = bs - ((b->len + 1 + (excluded ? 0 : 4)) % bs);
	if (padlen < 4)
		padlen += bs;
	plen = 1 + b->len + padlen;
	store_be32(pkt, (uint32_t)plen);
	pkt[4] = (uint8_t)padlen;
	memcpy(pkt + 5 + b->len, c->pad_pool, padlen);
	if (c->enc_out)
		pktc_seal(&c->pc_out, c->seq_out, pkt, 4 + plen, pkt + 4 + plen);
	c->wlen += 4 + plen + tag;
	if (c->wlen > c->wbuf_used)
		c->wbuf_used = c->wlen;
	c->wpend = 0;
	c->seq_out++;
	c->bytes_out += 4 + plen + tag;
	maybe_rekey(c);
	return 0;
}

/* After a lost connection: where a proxy or jump host carried it, its
 * own message (printed by it) says more than ours. */
static const char *proxy_hint(const struct ssh_conn *c)
{
	return c->proxied ? " (the proxy or jump host failed, see above)" : "";
}

/* Write what is queued without blocking; -1 on a dead connection. */
int ssh_flush(struct ssh_conn *c)
{
	ssize_t n;

	while (c->woff < c->wlen) {
		n = write(c->fd, c->wbuf + c->woff, c->wlen - c->woff);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n <= 0)
			return ssh_fail(c, "connection lost while sending: %s%s",
			    n < 0 ? strerror(errno) : "closed", proxy_hint(c));
		c->woff += (size_t)n;
	}
	c->woff = 0;
	c->wlen = 0;
	return 0;
}

static int packet_length_ok(struct ssh_conn *c, uint32_t len)
{
	size_t bs = 8;
	int excluded = 0;

	if (len < 5 || len > MAX_PACKET)
		return 0;
	if (c->enc_in) {
		bs = pktc_block_len(&c->pc_in);
		excluded = pktc_length_excluded(&c->pc_in);
	}
	return ((excluded ? 0 : 4) + len) % bs == 0;
}

/*
 * Take one whole packet from the input buffer: 1 with payload set, 0 if
 * more bytes are needed, -1 on a protocol error.
 */
static int pkt_next(struct ssh_conn *c, struct buf *payload)
{
	uint8_t *p = c->rbuf + c->rpos;
	size_t have = c->rlen - c->rpos, first, tag, total, padlen;

	first = c->enc_in ? pktc_first_len(&c->pc_in) : 4;
	tag = c->enc_in ? pktc_tag_len(&c->pc_in) : 0;
	if (!c->rlen_known) {
		if (have < first)
			return 0;
		c->rpkt_len = c->enc_in ?
		    pktc_get_length(&c->pc_in, c->seq_in, p) : load_be32(p);
		if (!packet_length_ok(c, c->rpkt_len))
			return ssh_fail(c, "protocol error: bad packet length "
			    "%lu (corrupt data or wrong key)",
			    (unsigned long)c->rpkt_len);
		c->rlen_known = 1;
	}
	total = 4 + (size_t)c->rpkt_len + tag;
	if (have < total)
		return 0;
	if (c->enc_in && pktc_open(&c->pc_in, c->seq_in, p, 4 + c->rpkt_len,
	    p + 4 + c->rpkt_len) != 0)
		return ssh_fail(c, "message authentication failed: the data "
		    "was corrupted or tampered with in transit");
	padlen = p[4];
	if (padlen < 4 || padlen + 2 > c->rpkt_len)
		return ssh_fail(c, "protocol error: bad padding length");
	buf_view(payload, p + 5, c->rpkt_len - padlen - 1);
	c->rpos += total;
	c->rlen_known = 0;
	c->seq_in++;
	c->bytes_in += total;
	c->last_rx = now_ms();
	return 1;
}

/* Read what the socket has; -1 on EOF or error. */
static int sock_read(struct ssh_conn *c)
{
	ssize_t n;

	if (c->rpos == c->rlen) {
		c->rpos = 0;
		c->rlen = 0;
	} else if (c->rpos > 0 && RBUF_SIZE - c->rlen < MAX_PACKET) {
		memmove(c->rbuf, c->rbuf + c->rpos, c->rlen - c->rpos);
		c->rlen -= c->rpos;
		c->rpos = 0;
	}
	for (;;) {
		n = read(c->fd, c->rbuf + c->rlen, RBUF_SIZE - c->rlen);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n == 0)
			return ssh_fail(c, "connection closed by the server%s",
			    proxy_hint(c));
		if (n < 0)
			return ssh_fail(c, "connection lost: %s%s",
			    strerror(errno), proxy_hint(c));
		c->rlen += (size_t)n;
		if (c->rlen > c->rbuf_used)
			c->rbuf_used = c->rlen;
		return 1;
	}
}

/* ------------------------------------------------------------------ */
/* Key exchange                                                        */

static int send_kexinit(struct ssh_conn *c)
{
	struct buf b;
	char kexlist[sizeof c->algs_kex + 64];
	uint8_t cookie[16];

	if (random_bytes(cookie, sizeof cookie) != 0 ||
	    random_bytes(c->pad_pool, sizeof c->pad_pool) != 0)
		return ssh_fail(c, "no random numbers available");
	/* ext-info-c and the strict-KEX marker go in the first KEXINIT only. */
	snprintf(kexlist, sizeof kexlist, "%s%s", c->algs_kex,
	    c->session_id_len == 0 ?
	    ",ext-info-c,kex-strict-c-v00@openssh.com" : "");
	if (pkt_begin(c, &b, SSH_MSG_KEXINIT) != 0)
		return -1;
	buf_put_bytes(&b, cookie, sizeof cookie);
	buf_put_cstring(&b, kexlist);
	buf_put_cstring(&b, c->algs_hostkey);
	buf_put_cstring(&b, c->algs_cipher);
	buf_put_cstring(&b, c->algs_cipher);
	buf_put_cstring(&b, c->algs_mac);
	buf_put_cstring(&b, c->algs_mac);
	buf_put_cstring(&b, "none");
	buf_put_cstring(&b, "none");
	buf_put_cstring(&b, "");
	buf_put_cstring(&b, "");
	buf_put_bool(&b, 0);
	if (buf_put_u32(&b, 0) != 0)
		return ssh_fail(c, "KEXINIT too large");
	/* Keep I_C for the exchange hash. */
	memcpy(c->i_c, b.data, b.len);
	c->i_c_len = b.len;
	c->kex_phase = KEX_INIT_SENT;
	return pkt_send(c, &b);
}

/* The first of ours that the server also has, into out. */
static int choose(const char *ours, const char *theirs, char *out,
    size_t outsz)
{
	const char *p = ours, *end;
	size_t n;

	while (*p != '\0') {
		end = strchr(p, ',');
		n = end ? (size_t)(end - p) : strlen(p);
		if (n > 0 && n < outsz) {
			memcpy(out, p, n);
			out[n] = '\0';
			if (namelist_has(theirs, out))
				return 0;
		}
		if (end == NULL)
			break;
		p = end + 1;
	}
	return -1;
}

/* Does theirs hold a name from all other than legacy? */
static int offers_modern(const char *theirs, const char *all,
    const char *legacy)
{
	char name[64];
	const char *p = theirs, *end;
	size_t n;

	while (*p != '\0') {
		end = strchr(p, ',');
		n = end ? (size_t)(end - p) : strlen(p);
		if (n < sizeof name) {
			memcpy(name, p, n);
			name[n] = '\0';
			if (strcmp(name, legacy) != 0 && namelist_has(all, name))
				return 1;
		}
		if (end == NULL)
			break;
		p = end + 1;
	}
	return 0;
}

static int no_match(struct ssh_conn *c, const char *what, const char *ours,
    const char *theirs, const char *all, const char *legacy,
    const char *option)
{
	char shown[256];

	sanitize(shown, sizeof shown, (const uint8_t *)theirs, strlen(theirs),
	    0);
	if (legacy != NULL && namelist_has(theirs, legacy) &&
	    !offers_modern(theirs, all, legacy))
		return ssh_fail(c, "no matching %s: the server offers only %s, "
		    "which is off by default as it relies on SHA-1; if you "
		    "trust this device, add -o %s=+%s (or the line "
		    "'%s +%s' under 'Host %s' in ~/.ssh/config)", what, shown,
		    option, legacy, option, legacy, c->opts->host);
	return ssh_fail(c, "no matching %s: the server offers %s, remowt "
	    "allows %s", what, shown, ours);
}

struct kexinit_lists {
	char kex[1024], hostkey[512], enc_cs[512], enc_sc[512];
	char mac_cs[512], mac_sc[512], comp_cs[256], comp_sc[256];
	int follows;
};

static int parse_kexinit(struct buf *b, struct kexinit_lists *l)
{
	char lang[256];
	uint32_t reserved;

	return buf_skip(b, 16) || buf_get_cstring(b, l->kex, sizeof l->kex) ||
	    buf_get_cstring(b, l->hostkey, sizeof l->hostkey) ||
	    buf_get_cstring(b, l->enc_cs, sizeof l->enc_cs) ||
	    buf_get_cstring(b, l->enc_sc, sizeof l->enc_sc) ||
	    buf_get_cstring(b, l->mac_cs, sizeof l->mac_cs) ||
	    buf_get_cstring(b, l->mac_sc, sizeof l->mac_sc) ||
	    buf_get_cstring(b, l->comp_cs, sizeof l->comp_cs) ||
	    buf_get_cstring(b, l->comp_sc, sizeof l->comp_sc) ||
	    buf_get_cstring(b, lang, sizeof lang) ||
	    buf_get_cstring(b, lang, sizeof lang) ||
	    buf_get_bool(b, &l->follows) || buf_get_u32(b, &reserved) ? -1 : 0;
}

static int negotiate_cipher(struct ssh_conn *c, const char *enc,
    const char *mac, const struct cipher_alg **calg,
    const struct mac_alg **malg)
{
	char name[64];

	if (choose(c->algs_cipher, enc, name, sizeof name) != 0)
		return no_match(c, "cipher", c->algs_cipher, enc,
		    cipher_all_list, NULL, NULL);
	*calg = cipher_by_name(name);
	*malg = NULL;
	if ((*calg)->aead)
		return 0;
	if (choose(c->algs_mac, mac, name, sizeof name) != 0)
		return no_match(c, "MAC", c->algs_mac, mac, mac_all_list,
		    "hmac-sha1", "MACs");
	*malg = mac_by_name(name);
	return 0;
}

static int negotiate(struct ssh_conn *c, struct kexinit_lists *l)
{
	char name[64];

	if (choose(c->algs_kex, l->kex, name, sizeof name) != 0)
		return no_match(c, "key exchange method", c->algs_kex, l->kex,
		    kex_all_list, "diffie-hellman-group14-sha1",
		    "KexAlgorithms");
	c->kex_alg = kex_by_name(name);
	if (choose(c->algs_hostkey, l->hostkey, c->hostkey_alg,
	    sizeof c->hostkey_alg) != 0)
		return no_match(c, "host key type", c->algs_hostkey,
		    l->hostkey, SSHKEY_ALL_ALGS, "ssh-rsa",
		    "HostKeyAlgorithms");
	if (negotiate_cipher(c, l->enc_cs, l->mac_cs, &c->next_cipher_out,
	    &c->next_mac_out) != 0 ||
	    negotiate_cipher(c, l->enc_sc, l->mac_sc, &c->next_cipher_in,
	    &c->next_mac_in) != 0)
		return -1;
	if (!namelist_has(l->comp_cs, "none") ||
	    !namelist_has(l->comp_sc, "none"))
		return ssh_fail(c, "the server insists on compression, which "
		    "remowt does not offer");
	debug(c, "kex: %s, host key %s", c->kex_alg->name, c->hostkey_alg);
	debug(c, "kex: client->server cipher %s MAC %s",
	    c->next_cipher_out->name,
	    c->next_mac_out ? c->next_mac_out->name : "<implicit>");
	debug(c, "kex: server->client cipher %s MAC %s",
	    c->next_cipher_in->name,
	    c->next_mac_in ? c->next_mac_in->name : "<implicit>");
	return 0;
}

/* Is name the first entry of the comma-separated list? */
static int first_name_is(const char *list, const char *name)
{
	size_t n = strlen(name);

	return strncmp(list, name, n) == 0 &&
	    (list[n] == ',' || list[n] == '\0');
}

static int recv_kexinit(struct ssh_conn *c, struct buf *msg)
{
	struct kexinit_lists lists, *l = &lists;
	struct buf b;

	if (c->kex_phase != KEX_IDLE && c->kex_phase != KEX_INIT_SENT)
		return ssh_fail(c, "protocol error: unexpected KEXINIT");
	if (msg->len > sizeof c->i_s)
		return ssh_fail(c, "protocol error: KEXINIT too large");
	memcpy(c->i_s, msg->data, msg->len);
	c->i_s_len = msg->len;
	buf_view(&b, msg->data + 1, msg->len - 1);
	if (parse_kexinit(&b, l) != 0)
		return ssh_fail(c, "protocol error: malformed KEXINIT");
	if (c->session_id_len == 0) {
		c->strict = namelist_has(l->kex, "kex-strict-s-v00@openssh.com");
		/* Terrapin: under strict KEX nothing may precede KEXINIT. */
		if (c->strict && c->seq_in != 1)
			return ssh_fail(c, "strict KEX violation: the server "
			    "sent messages before its KEXINIT (possible "
			    "prefix-truncation attack)");
		debug(c, "strict KEX %s", c->strict ? "on" : "off");
	}
	if (c->kex_phase == KEX_IDLE && send_kexinit(c) != 0)
		return -1;
	if (negotiate(c, l) != 0)
		return -1;
	/* RFC 4253 7: the guess was right only if both first names are
	 * exactly the algorithms chosen. */
	c->skip_guess = l->follows &&
	    (!first_name_is(l->kex, c->kex_alg->name) ||
	    !first_name_is(l->hostkey, c->hostkey_alg));
	if (kex_start(&c->kex, c->kex_alg) != 0)
		return ssh_fail(c, "key exchange: cannot make a key pair");
	if (pkt_begin(c, &b, SSH_MSG_KEX_INIT) != 0)
		return -1;
	if (c->kex_alg->method == KEX_DH_GROUP14)
		buf_put_mpint(&b, c->kex.pub, c->kex.pub_len);
	else
		buf_put_string(&b, c->kex.pub, c->kex.pub_len);
	c->kex_phase = KEX_REPLY_WAIT;
	return pkt_send(c, &b);
}

static void hash_string(const br_hash_class *h, br_hash_compat_context *ctx,
    const void *p, size_t n)
{
	uint8_t len[4];

	store_be32(len, (uint32_t)n);
	h->update(&ctx->vtable, len, 4);
	h->update(&ctx->vtable, p, n);
}

static void hash_mpint(const br_hash_class *h, br_hash_compat_context *ctx,
    const uint8_t *p, size_t n)
{
	uint8_t tmp[4 + 1 + KEX_MAX_SECRET];
	struct buf b;

	buf_init(&b, tmp, sizeof tmp);
	buf_put_mpint(&b, p, n);
	h->update(&ctx->vtable, tmp, b.len);
	wipe(tmp, sizeof tmp);
}

/* H = HASH(V_C || V_S || I_C || I_S || K_S || Q_C || Q_S || K) */
static size_t exchange_hash(struct ssh_conn *c, const uint8_t *ks,
    size_t ks_len, const uint8_t *qs, size_t qs_len, const uint8_t *k,
    size_t k_len, uint8_t *h)
{
	const br_hash_class *hc = c->kex_alg->hash;
	br_hash_compat_context ctx;
	int dh = c->kex_alg->method == KEX_DH_GROUP14;

	hc->init(&ctx.vtable);
	hash_string(hc, &ctx, CLIENT_VERSION, strlen(CLIENT_VERSION));
	hash_string(hc, &ctx, c->server_version, strlen(c->server_version));
	hash_string(hc, &ctx, c->i_c, c->i_c_len);
	hash_string(hc, &ctx, c->i_s, c->i_s_len);
	hash_string(hc, &ctx, ks, ks_len);
	if (dh) {
		hash_mpint(hc, &ctx, c->kex.pub, c->kex.pub_len);
		hash_mpint(hc, &ctx, qs, qs_len);
	} else {
		hash_string(hc, &ctx, c->kex.pub, c->kex.pub_len);
		hash_string(hc, &ctx, qs, qs_len);
	}
	hash_mpint(hc, &ctx, k, k_len);
	hc->out(&ctx.vtable, h);
	wipe(&ctx, sizeof ctx);        /* its last block holds part of K */
	return (hc->desc >> BR_HASHDESC_OUT_OFF) & BR_HASHDESC_OUT_MASK;
}

static int known_hosts_files(struct ssh_conn *c, char files[][SSH_PATH_MAX])
{
	int i, n = c->opts->n_known_hosts;

	if (n == 0) {
		ssh_expand_tokens(c->opts, "~/.ssh/known_hosts", files[0],
		    SSH_PATH_MAX);
		ssh_expand_tokens(c->opts, "~/.ssh/known_hosts2", files[1],
		    SSH_PATH_MAX);
		return 2;
	}
	for (i = 0; i < n; i++)
		ssh_expand_tokens(c->opts, c->opts->known_hosts[i], files[i],
		    SSH_PATH_MAX);
	return n;
}

static const char *key_label(const struct sshkey *k)
{
	switch (k->type) {
	case KEY_ED25519:
		return "ED25519";
	case KEY_ECDSA_P256:
		return "ECDSA";
	case KEY_RSA:
		return "RSA";
	default:
		return "unknown";
	}
}

/* Ask a person at the terminal; 1 only for an explicit "yes". */
static int ask_yes(const char *question)
{
	char answer[16];
	FILE *tty;
	int yes = 0;

	tty = fopen("/dev/tty", "r+");
	if (tty == NULL)
		return 0;
	for (;;) {
		fputs(question, tty);
		fflush(tty);
		if (fgets(answer, sizeof answer, tty) == NULL)
			break;
		answer[strcspn(answer, "\r\n")] = '\0';
		if (strcmp(answer, "yes") == 0) {
			yes = 1;
			break;
		}
		if (strcmp(answer, "no") == 0)
			break;
		question = "Please type 'yes' or 'no': ";
	}
	fclose(tty);
	return yes;
}

static int record_host(struct ssh_conn *c, const char *file,
    const struct sshkey *key, const char *fp)
{
	if (hostkeys_add(file, c->opts->hostname, c->port, key,
	    c->opts->hash_known_hosts == 1) != 0)
		return ssh_fail(c, "cannot record the host key in %s: %s",
		    file, strerror(errno));
	if (!c->opts->quiet)
		fprintf(stderr, "remowt: added %s key %s for %s to %s\n",
		    key_label(key), fp, c->host_label, file);
	return 0;
}

static int check_host_key(struct ssh_conn *c, const struct sshkey *key)
{
	char files[SSH_MAX_KNOWN_HOSTS][SSH_PATH_MAX];
	const char *fileptrs[SSH_MAX_KNOWN_HOSTS];
	char fp[SSHKEY_FP_LEN], q[1024];
	struct hk_result res;
	enum shkc strict = c->opts->strict ? c->opts->strict : SHKC_ASK;
	int i, n;

	n = known_hosts_files(c, files);
	for (i = 0; i < n; i++)
		fileptrs[i] = files[i];
	sshkey_fingerprint(key, fp);
	hostkeys_check(fileptrs, n, c->opts->hostname, c->port, key, &res);
	switch (res.status) {
	case HK_MATCH:
		debug(c, "host key %s %s found in known_hosts", key_label(key),
		    fp);
		return 0;
	case HK_REVOKED:
		return ssh_fail(c, "the %s host key %s of %s is marked "
		    "@revoked in %s:%lu; refusing to connect", key_label(key),
		    fp, c->host_label, res.file, res.line);
	case HK_CHANGED:
		fprintf(stderr,
		    "remowt: WARNING: the host key of %s has CHANGED.\n"
		    "remowt: Someone could be intercepting this connection, "
		    "or the host was reinstalled.\n"
		    "remowt: known %s key: %s (%s:%lu)\n"
		    "remowt: offered %s key: %s\n",
		    c->host_label, key_label(key), res.old_fingerprint,
		    res.file, res.line, key_label(key), fp);
		return ssh_fail(c, "host key mismatch; if the change is "
		    "expected, remove line %lu of %s and connect again",
		    res.line, res.file);
	case HK_ERROR:
		return ssh_fail(c, "cannot read known_hosts %s", res.file);
	case HK_UNKNOWN:
		break;
	}
	if (strict == SHKC_ACCEPT_NEW || strict == SHKC_NO)
		return record_host(c, files[0], key, fp);
	if (strict == SHKC_ASK) {
		snprintf(q, sizeof q, "The authenticity of host '%s' can't be "
		    "established.\n%s key fingerprint is %s.\nAre you sure "
		    "you want to continue connecting (yes/no)? ",
		    c->host_label, key_label(key), fp);
		if (ask_yes(q))
			return record_host(c, files[0], key, fp);
	}
	return ssh_fail(c, "host key for %s is not known (%s key %s); "
	    "verify it and add it to %s, or connect once with "
	    "-o StrictHostKeyChecking=accept-new", c->host_label,
	    key_label(key), fp, files[0]);
}

static void derive(struct ssh_conn *c, const uint8_t *kmp, size_t kmp_len,
    const uint8_t *h, size_t h_len, char letter, uint8_t *out, size_t need)
{
	if (need > 0)
		kex_derive(c->kex_alg->hash, kmp, kmp_len, h, h_len, letter,
		    c->session_id, c->session_id_len, out, need);
}

/* Derive and stage both directions' keys from K and H. */
static int derive_keys(struct ssh_conn *c, const uint8_t *k, size_t k_len,
    const uint8_t *h, size_t h_len)
{
	uint8_t kmp[4 + 1 + KEX_MAX_SECRET];
	uint8_t iv[PKTC_MAX_IV], key[PKTC_MAX_KEY], mkey[PKTC_MAX_KEY];
	const struct cipher_alg *ci = c->next_cipher_out, *cin = c->next_cipher_in;
	struct buf b;
	int rc = 0;

	buf_init(&b, kmp, sizeof kmp);
	buf_put_mpint(&b, k, k_len);
	derive(c, kmp, b.len, h, h_len, 'A', iv, ci->iv_len);
	derive(c, kmp, b.len, h, h_len, 'C', key, ci->key_len);
	derive(c, kmp, b.len, h, h_len, 'E', mkey,
	    c->next_mac_out ? c->next_mac_out->key_len : 0);
	if (pktc_init(&c->next_out, ci, c->next_mac_out, key, iv, mkey, 1))
		rc = -1;
	derive(c, kmp, b.len, h, h_len, 'B', iv, cin->iv_len);
	derive(c, kmp, b.len, h, h_len, 'D', key, cin->key_len);
	derive(c, kmp, b.len, h, h_len, 'F', mkey,
	    c->next_mac_in ? c->next_mac_in->key_len : 0);
	if (pktc_init(&c->next_in, cin, c->next_mac_in, key, iv, mkey, 0))
		rc = -1;
	wipe(kmp, sizeof kmp);
	wipe(iv, sizeof iv);
	wipe(key, sizeof key);
	wipe(mkey, sizeof mkey);
	return rc == 0 ? 0 : ssh_fail(c, "cannot set up the cipher");
}

static int send_newkeys(struct ssh_conn *c)
{
	struct buf b;

	if (pkt_begin(c, &b, SSH_MSG_NEWKEYS) != 0 || pkt_send(c, &b) != 0)
		return -1;
	pktc_wipe(&c->pc_out);
	c->pc_out = c->next_out;
	wipe(&c->next_out, sizeof c->next_out);
	c->enc_out = 1;
	c->bytes_out = 0;
	if (c->strict)
		c->seq_out = 0;
	c->kex_phase = KEX_NEWKEYS_WAIT;
	return 0;
}

static int recv_kex_reply(struct ssh_conn *c, struct buf *msg)
{
	const uint8_t *ks, *qs, *sig;
	size_t ks_len, qs_len, sig_len, k_len, h_len;
	uint8_t k[KEX_MAX_SECRET], h[KEX_MAX_HASH];
	struct sshkey *key = &c->hostkey;
	int rc = -1, dh;

	if (c->kex_phase != KEX_REPLY_WAIT)
		return ssh_fail(c, "protocol error: unexpected KEX reply");
	dh = c->kex_alg->method == KEX_DH_GROUP14;
	if (buf_skip(msg, 1) || buf_get_string(msg, &ks, &ks_len) ||
	    (dh ? buf_get_mpint(msg, &qs, &qs_len) :
	    buf_get_string(msg, &qs, &qs_len)) ||
	    buf_get_string(msg, &sig, &sig_len) || buf_avail(msg) != 0) {
		ssh_fail(c, "protocol error: malformed KEX reply");
		goto out;
	}
	if (c->session_id_len > 0) {
		/* A rekey must present the same host key. */
		if (ks_len != key->blob_len || memcmp(ks, key->blob, ks_len)) {
			ssh_fail(c, "the server's host key changed during a "
			    "rekey");
			goto out;
		}
	} else if (sshkey_from_blob(key, ks, ks_len) != 0) {
		ssh_fail(c, "the server sent a host key remowt cannot parse");
		goto out;
	}
	if (!sshkey_alg_matches(c->hostkey_alg, key->type)) {
		ssh_fail(c, "the server's host key is not of the negotiated "
		    "type %s", c->hostkey_alg);
		goto out;
	}
	if (kex_finish(&c->kex, qs, qs_len, k, &k_len) != 0) {
		ssh_fail(c, "key exchange failed: the server's public value "
		    "is invalid");
		goto out;
	}
	kex_wipe(&c->kex);
	h_len = exchange_hash(c, ks, ks_len, qs, qs_len, k, k_len, h);
	if (sshkey_verify(key, c->hostkey_alg, sig, sig_len, h, h_len) != 0) {
		ssh_fail(c, "the server's host key signature is invalid "
		    "(%s)", c->hostkey_alg);
		goto out;
	}
	if (c->session_id_len == 0) {
		if (check_host_key(c, key) != 0)
			goto out;
		memcpy(c->session_id, h, h_len);
		c->session_id_len = h_len;
	}
	if (derive_keys(c, k, k_len, h, h_len) == 0 && send_newkeys(c) == 0)
		rc = 0;
out:
	kex_wipe(&c->kex);
	wipe(k, sizeof k);
	wipe(h, sizeof h);
	/* The hashes' finalisers copied their last block, K among it. */
	wipe_stack();
	return rc;
}

static int recv_newkeys(struct ssh_conn *c)
{
	if (c->kex_phase != KEX_NEWKEYS_WAIT)
		return ssh_fail(c, "protocol error: unexpected NEWKEYS");
	pktc_wipe(&c->pc_in);
	c->pc_in = c->next_in;
	wipe(&c->next_in, sizeof c->next_in);
	c->enc_in = 1;
	c->bytes_in = 0;
	if (c->strict)
		c->seq_in = 0;
	c->kex_phase = KEX_IDLE;
	c->kex_done++;
	debug(c, "new keys in effect (exchange %d)", c->kex_done);
	ssh_chan_resume(c);      /* what waited for the exchange */
	return 0;
}

static void maybe_rekey(struct ssh_conn *c)
{
	uint64_t limit = c->opts->rekey_limit ? c->opts->rekey_limit :
	    REKEY_BYTES;

	if (c->kex_phase == KEX_IDLE && c->kex_done > 0 &&
	    (c->bytes_in >= limit || c->bytes_out >= limit)) {
		debug(c, "rekeying after %llu/%llu bytes",
		    (unsigned long long)c->bytes_in,
		    (unsigned long long)c->bytes_out);
		send_kexinit(c);
	}
}

/* ------------------------------------------------------------------ */
/* Connection-level messages                                           */

static int recv_disconnect(struct ssh_conn *c, struct buf *msg)
{
	const uint8_t *text;
	size_t n;
	uint32_t code;
	char shown[256];

	if (buf_skip(msg, 1) || buf_get_u32(msg, &code) ||
	    buf_get_string(msg, &text, &n))
		return ssh_fail(c, "the server disconnected");
	sanitize(shown, sizeof shown, text, n, 0);
	return ssh_fail(c, "the server disconnected: %s (code %lu)", shown,
	    (unsigned long)code);
}

static int recv_ext_info(struct ssh_conn *c, struct buf *msg)
{
	uint32_t count, i;
	char name[64];
	const uint8_t *val;
	size_t n;

	if (buf_skip(msg, 1) || buf_get_u32(msg, &count))
		return ssh_fail(c, "protocol error: malformed EXT_INFO");
	for (i = 0; i < count; i++) {
		if (buf_get_cstring(msg, name, sizeof name) ||
		    buf_get_string(msg, &val, &n))
			return ssh_fail(c, "protocol error: malformed "
			    "EXT_INFO");
		if (strcmp(name, "server-sig-algs") == 0 &&
		    n < sizeof c->server_sig_algs) {
			memcpy(c->server_sig_algs, val, n);
			c->server_sig_algs[n] = '\0';
			debug(c, "server-sig-algs: %s", c->server_sig_algs);
		}
	}
	return 0;
}

static int send_unimplemented(struct ssh_conn *c, uint32_t seq)
{
	struct buf b;

	if (pkt_begin(c, &b, SSH_MSG_UNIMPLEMENTED) != 0)
		return -1;
	buf_put_u32(&b, seq);
	return pkt_send(c, &b);
}

static int recv_global_request(struct ssh_conn *c, struct buf *msg)
{
	char name[128];
	int want_reply;
	struct buf b;

	if (buf_skip(msg, 1) || buf_get_cstring(msg, name, sizeof name) ||
	    buf_get_bool(msg, &want_reply))
		return ssh_fail(c, "protocol error: malformed global request");
	debug(c, "global request %s refused", name);
	if (!want_reply)
		return 0;
	if (pkt_begin(c, &b, SSH_MSG_REQUEST_FAILURE) != 0)
		return -1;
	return pkt_send(c, &b);
}

static int is_kex_msg(uint8_t t)
{
	return t == SSH_MSG_KEXINIT || t == SSH_MSG_NEWKEYS ||
	    (t >= 30 && t <= 49);
}

/* Dispatch one packet. */
static int dispatch(struct ssh_conn *c, struct buf *msg)
{
	uint8_t t = msg->data[0];
	uint32_t seq = c->seq_in - 1;

	if (c->skip_guess && t >= 30 && t <= 49) {
		c->skip_guess = 0;     /* the server's wrong first guess */
		return 0;
	}
	/* Strict KEX: only KEX messages until the first NEWKEYS. */
	if (c->kex_done == 0 && (c->strict || c->kex_phase != KEX_IDLE) &&
	    !is_kex_msg(t) && (c->strict || t > SSH_MSG_DEBUG)) {
		if (t == SSH_MSG_DISCONNECT)
			return recv_disconnect(c, msg);
		return ssh_fail(c, "%sunexpected message %u during key "
		    "exchange", c->strict ? "strict KEX violation: " : "",
		    t);
	}
	if (c->kex_done == 0 && t != SSH_MSG_KEXINIT &&
	    c->kex_phase == KEX_INIT_SENT && is_kex_msg(t))
		return ssh_fail(c, "protocol error: KEX message %u before "
		    "KEXINIT", t);
	/* While a rekey runs, the server sends only KEX messages. */
	if (c->kex_phase >= KEX_REPLY_WAIT && t >= 50)
		return ssh_fail(c, "protocol error: message %u during key "
		    "exchange", t);
	switch (t) {
	case SSH_MSG_DISCONNECT:
		return recv_disconnect(c, msg);
	case SSH_MSG_IGNORE:
		return 0;
	case SSH_MSG_DEBUG:
		debug(c, "server sent a debug message");
		return 0;
	case SSH_MSG_UNIMPLEMENTED:
		debug(c, "server: a message of ours was unimplemented");
		return 0;
	case SSH_MSG_KEXINIT:
		return recv_kexinit(c, msg);
	case SSH_MSG_KEX_REPLY:
		return recv_kex_reply(c, msg);
	case SSH_MSG_NEWKEYS:
		return recv_newkeys(c);
	case SSH_MSG_EXT_INFO:
		return recv_ext_info(c, msg);
	case SSH_MSG_GLOBAL_REQUEST:
		return recv_global_request(c, msg);
	case SSH_MSG_REQUEST_SUCCESS:
	case SSH_MSG_REQUEST_FAILURE:
		c->alive_pending = 0;
		return 0;
	}
	if (t >= SSH_MSG_USERAUTH_REQUEST && t < SSH_MSG_GLOBAL_REQUEST)
		return ssh_auth_dispatch(c, msg);
	if (t >= SSH_MSG_CHANNEL_OPEN && t <= SSH_MSG_CHANNEL_FAILURE)
		return ssh_chan_dispatch(c, msg);
	if (t == SSH_MSG_SERVICE_ACCEPT)
		return 0;
	debug(c, "unimplemented message %u", t);
	return send_unimplemented(c, seq);
}

/* Handle every whole packet in the input buffer. */
static int process_input(struct ssh_conn *c)
{
	struct buf msg;
	int r;

	while (!c->dead && (r = pkt_next(c, &msg)) == 1) {
		if (msg.len == 0)
			return ssh_fail(c, "protocol error: empty message");
		if (dispatch(c, &msg) != 0)
			return -1;
	}
	return c->dead ? -1 : 0;
}

/* ------------------------------------------------------------------ */
/* Keepalive and the poll interface                                    */

static int keepalive(struct ssh_conn *c)
{
	struct buf b;
	int count = c->opts->alive_count_max >= 0 ?
	    c->opts->alive_count_max : 3;

	if (c->alive_pending >= count)
		return ssh_fail(c, "timeout: the server has not answered for "
		    "%d keepalive intervals", count);
	if (c->kex_phase != KEX_IDLE)
		return 0;
	if (pkt_begin(c, &b, SSH_MSG_GLOBAL_REQUEST) != 0)
		return -1;
	buf_put_cstring(&b, "keepalive@openssh.com");
	buf_put_bool(&b, 1);
	c->alive_pending++;
	c->last_rx = now_ms();
	return pkt_send(c, &b);
}

short ssh_poll_events(struct ssh_conn *c)
{
	return (short)(POLLIN | (c->woff < c->wlen ? POLLOUT : 0));
}

int ssh_poll_timeout(struct ssh_conn *c)
{
	uint64_t due, now;

	if (c->opts->alive_interval <= 0)
		return -1;
	now = now_ms();
	due = c->last_rx + (uint64_t)c->opts->alive_interval * 1000;
	return due <= now ? 0 : (int)(due - now);
}

int ssh_process(struct ssh_conn *c, short revents)
{
	if (c->dead)
		return -1;
	if (revents & (POLLIN | POLLHUP | POLLERR)) {
		if (sock_read(c) < 0)
			return -1;
		if (process_input(c) != 0)
			return -1;
	}
	if (c->opts->alive_interval > 0 && ssh_poll_timeout(c) == 0 &&
	    keepalive(c) != 0)
		return -1;
	return ssh_flush(c);
}

/*
 * Pump the connection until *flag is set: within the handshake deadline
 * while one is set, else for as long as keepalives allow.
 */
int ssh_wait(struct ssh_conn *c, const int *flag)
{
	struct pollfd pfd;
	uint64_t now;
	int r, ms, alive;

	while (!*flag && !c->dead) {
		ms = -1;
		if (c->deadline != 0) {
			now = now_ms();
			if (now >= c->deadline)
				return ssh_fail(c, "timed out during the SSH "
				    "handshake");
			ms = (int)(c->deadline - now);
		}
		alive = ssh_poll_timeout(c);
		if (alive >= 0 && (ms < 0 || alive < ms))
			ms = alive;
		pfd.fd = c->fd;
		pfd.events = ssh_poll_events(c);
		pfd.revents = 0;
		r = poll(&pfd, 1, ms);
		if (r < 0 && errno != EINTR)
			return ssh_fail(c, "poll: %s", strerror(errno));
		if (ssh_process(c, r > 0 ? pfd.revents : 0) != 0)
			return -1;
	}
	return c->dead ? -1 : 0;
}

/* ------------------------------------------------------------------ */
/* Connecting                                                          */

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* Connect within what is left of the handshake deadline: the kernel
 * alone would try an unanswered SYN for about two minutes. */
static int connect_one(struct ssh_conn *c, struct addrinfo *ai)
{
	struct pollfd pfd;
	socklen_t len = sizeof(int);
	int fd, err = 0, one = 1, r;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
	    ai->ai_protocol);
	if (fd < 0 || set_nonblock(fd) != 0)
		goto fail;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
		if (errno != EINPROGRESS)
			goto fail;
		pfd.fd = fd;
		pfd.events = POLLOUT;
		do {
			r = poll(&pfd, 1, deadline_left(c));
		} while (r < 0 && errno == EINTR);
		if (r == 0) {
			errno = ETIMEDOUT;
			goto fail;
		}
		if (r < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err,
		    &len) != 0)
			goto fail;
		if (err != 0) {
			errno = err;
			goto fail;
		}
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	c->fd = fd;
	return 0;
fail:
	err = errno;
	if (fd >= 0)
		close(fd);
	errno = err;
	return -1;
}

static int tcp_connect(struct ssh_conn *c)
{
	struct addrinfo hints, *res, *ai;
	char port[16];
	int r;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(port, sizeof port, "%d", c->port);
	r = getaddrinfo(c->opts->hostname, port, &hints, &res);
	if (r != 0)
		return ssh_fail(c, "cannot resolve %s: %s", c->opts->hostname,
		    gai_strerror(r));
	errno = 0;
	for (ai = res; ai != NULL; ai = ai->ai_next)
		if (connect_one(c, ai) == 0)
			break;
	freeaddrinfo(res);
	if (ai == NULL)
		return ssh_fail(c, "cannot connect to %s port %d: %s",
		    c->opts->hostname, c->port,
		    errno ? strerror(errno) : "no address");
	debug(c, "connected to %s port %d", c->opts->hostname, c->port);
	return 0;
}

static int open_transport(struct ssh_conn *c)
{
	if (!proxy_needed(c->opts))
		return tcp_connect(c);
	if (proxy_open(c->opts, &c->fd, &c->proxy_pid) != 0 ||
	    set_nonblock(c->fd) != 0)
		return ssh_fail(c, "cannot start the proxy: %s",
		    strerror(errno));
	c->proxied = 1;
	debug(c, "connecting through %s", c->opts->proxy_jump[0] &&
	    strcmp(c->opts->proxy_jump, "none") ? c->opts->proxy_jump :
	    "ProxyCommand");
	return 0;
}

/*
 * Read the server's version line, tolerating a bounded number of other
 * lines before it (RFC 4253 4.2).  Bytes after it stay in rbuf.
 */
static int read_version(struct ssh_conn *c)
{
	int lines = 0;
	size_t i, start;
	int done = 0;

	while (!done) {
		struct pollfd pfd = { c->fd, POLLIN, 0 };
		int ms = deadline_left(c);

		for (i = c->rpos; i < c->rlen && !done; i++) {
			if (c->rbuf[i] != '\n')
				continue;
			start = c->rpos;
			c->rpos = i + 1;
			if (i - start >= 8 && memcmp(c->rbuf + start,
			    "SSH-", 4) == 0) {
				size_t n = i - start;

				if (n > 0 && c->rbuf[start + n - 1] == '\r')
					n--;
				if (n >= sizeof c->server_version)
					return ssh_fail(c, "server version "
					    "string too long");
				memcpy(c->server_version, c->rbuf + start, n);
				c->server_version[n] = '\0';
				done = 1;
				break;
			}
			if (++lines > BANNER_MAX_LINES)
				return ssh_fail(c, "the server sent more than "
				    "%d lines before its SSH version; is this "
				    "an SSH server?", BANNER_MAX_LINES);
		}
		if (done)
			break;
		if (c->rlen - c->rpos > BANNER_MAX_LINE)
			return ssh_fail(c, "the server sent an overlong line "
			    "instead of an SSH version; is this an SSH "
			    "server?");
		if (ms == 0)
			return ssh_fail(c, "timed out waiting for the server's "
			    "SSH version");
		if (poll(&pfd, 1, ms) < 0 && errno != EINTR)
			return ssh_fail(c, "poll: %s", strerror(errno));
		if ((pfd.revents & (POLLIN | POLLHUP | POLLERR)) &&
		    sock_read(c) < 0) {
			c->err[0] = '\0';
			return ssh_fail(c, "connection closed before the "
			    "server sent an SSH version%s", proxy_hint(c));
		}
	}
	if (strncmp(c->server_version, "SSH-2.0-", 8) != 0 &&
	    strncmp(c->server_version, "SSH-1.99-", 9) != 0) {
		char shown[300];

		sanitize(shown, sizeof shown, (uint8_t *)c->server_version,
		    strlen(c->server_version), 0);
		return ssh_fail(c, "the server speaks an unsupported protocol "
		    "version (%s)", shown);
	}
	debug(c, "remote software version %s", c->server_version);
	return 0;
}

/* The known_hosts key type that a host key algorithm verifies with. */
static const char *hostkey_alg_key_type(const char *alg)
{
	if (strncmp(alg, "rsa-sha2-", 9) == 0)
		return "ssh-rsa";
	return alg;
}

/* Put host key algorithms we have known_hosts entries for first. */
static void prefer_known_hostkey_algs(struct ssh_conn *c)
{
	char files[SSH_MAX_KNOWN_HOSTS][SSH_PATH_MAX];
	const char *fileptrs[SSH_MAX_KNOWN_HOSTS];
	char first[512] = "", rest[512] = "", name[64];
	struct sshkey none;
	struct hk_result res;
	const char *p = c->algs_hostkey, *end;
	size_t len;
	int i, n;

	n = known_hosts_files(c, files);
	for (i = 0; i < n; i++)
		fileptrs[i] = files[i];
	memset(&none, 0, sizeof none);
	hostkeys_check(fileptrs, n, c->opts->hostname, c->port, &none, &res);
	if (res.known_types[0] == '\0')
		return;
	while (*p != '\0') {
		end = strchr(p, ',');
		len = end ? (size_t)(end - p) : strlen(p);
		if (len < sizeof name) {
			char *dst;

			memcpy(name, p, len);
			name[len] = '\0';
			dst = namelist_has(res.known_types,
			    hostkey_alg_key_type(name)) ? first : rest;
			if (dst[0] != '\0')
				strncat(dst, ",", 511 - strlen(dst));
			strncat(dst, name, 511 - strlen(dst));
		}
		if (end == NULL)
			break;
		p = end + 1;
	}
	/* Both parts come from algs_hostkey, so they fit back into it. */
	n = (int)strlen(first);
	memcpy(c->algs_hostkey, first, (size_t)n);
	if (n > 0 && rest[0] != '\0')
		c->algs_hostkey[n++] = ',';
	memcpy(c->algs_hostkey + n, rest, strlen(rest) + 1);
}

static int resolve_algorithms(struct ssh_conn *c)
{
	struct ssh_opts *o = c->opts;
	char err[256];

	if (algs_resolve(o->kex, kex_default_list, kex_all_list, c->algs_kex,
	    sizeof c->algs_kex, err, sizeof err) != 0 ||
	    algs_resolve(o->ciphers, cipher_default_list, cipher_all_list,
	    c->algs_cipher, sizeof c->algs_cipher, err, sizeof err) != 0 ||
	    algs_resolve(o->macs, mac_default_list, mac_all_list, c->algs_mac,
	    sizeof c->algs_mac, err, sizeof err) != 0 ||
	    algs_resolve(o->hostkey_algs, SSHKEY_DEFAULT_ALGS,
	    SSHKEY_ALL_ALGS, c->algs_hostkey, sizeof c->algs_hostkey, err,
	    sizeof err) != 0 ||
	    algs_resolve(o->pubkey_algs, SSHKEY_DEFAULT_ALGS, SSHKEY_ALL_ALGS,
	    c->algs_pubkey, sizeof c->algs_pubkey, err, sizeof err) != 0)
		return ssh_fail(c, "%s", err);
	if (o->hostkey_algs[0] == '\0')
		prefer_known_hostkey_algs(c);
	return 0;
}

struct ssh_conn *ssh_connect(struct ssh_opts *o)
{
	struct ssh_conn *c;
	char line[64];
	int timeout;

	c = calloc(1, sizeof *c);
	if (c == NULL)
		return NULL;
	c->fd = -1;
	c->opts = o;
	c->rbuf = malloc(RBUF_SIZE);
	c->wbuf = malloc(WBUF_SIZE);
	if (c->rbuf == NULL || c->wbuf == NULL) {
		ssh_fail(c, "out of memory");
		return c;
	}
	if (ssh_opts_load_config(o) != 0) {
		ssh_fail(c, "configuration error");
		c->reported = 1;        /* the reader named file and line */
		return c;
	}
	if (o->hostname[0] == '\0')
		snprintf(o->hostname, sizeof o->hostname, "%s", o->host);

	c->port = o->port ? o->port : 22;
	snprintf(c->user, sizeof c->user, "%s",
	    o->user[0] ? o->user : ssh_local_user());
	if (c->port == 22)
		snprintf(c->host_label, sizeof c->host_label, "%s",
		    o->hostname);
	else
		snprintf(c->host_label, sizeof c->host_label, "[%s]:%d",
		    o->hostname, c->port);
	timeout = o->connect_timeout > 0 ? o->connect_timeout :
	    HANDSHAKE_TIMEOUT;
	c->deadline = now_ms() + (uint64_t)timeout * 1000;
	if (resolve_algorithms(c) != 0 || open_transport(c) != 0)
		return c;
	c->last_rx = now_ms();
	/* Version and KEXINIT go out together: one round trip saved. */
	snprintf(line, sizeof line, "%s\r\n", CLIENT_VERSION);
	memcpy(c->wbuf, line, strlen(line));
	c->wlen = c->wbuf_used = strlen(line);
	if (send_kexinit(c) != 0 || ssh_flush(c) != 0 || read_version(c) != 0)
		return c;
	/* The first exchange: stops at our NEWKEYS, the server's may lag. */
	if (process_input(c) != 0 || ssh_wait(c, &c->kex_done) != 0)
		return c;
	ssh_userauth(c);
	return c;
}

/* Give what is still queued (a channel EOF, say) a moment to leave. */
static void drain_output(struct ssh_conn *c)
{
	struct pollfd pfd;
	uint64_t until = now_ms() + 1000;

	while (!c->dead && c->woff < c->wlen && now_ms() < until) {
		pfd.fd = c->fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, 100) > 0 && ssh_flush(c) != 0)
			break;
	}
}

void ssh_close(struct ssh_conn *c)
{
	if (c == NULL)
		return;
	if (c->fd >= 0) {
		drain_output(c);
		close(c->fd);
	}
	proxy_close(c->proxy_pid);
	pktc_wipe(&c->pc_in);
	pktc_wipe(&c->pc_out);
	pktc_wipe(&c->next_in);
	pktc_wipe(&c->next_out);
	kex_wipe(&c->kex);
	wipe(c->session_id, sizeof c->session_id);
	if (c->rbuf != NULL) {
		wipe(c->rbuf, c->rbuf_used);
		free(c->rbuf);
	}
	/* A packet built but never sent is still plaintext there. */
	if (c->wbuf != NULL) {
		wipe(c->wbuf, c->wpend > c->wbuf_used ? c->wpend :
		    c->wbuf_used);
		free(c->wbuf);
	}
	ssh_chan_free_all(c);
	wipe(c, sizeof *c);
	free(c);
	wipe_stack();
}

int ssh_report(struct ssh_conn *c)
{
	if (c->reported)
		return 255;
	fprintf(stderr, "remowt: %s: %s\n", c->host_label[0] ? c->host_label :
	    c->opts->host, c->err[0] ? c->err : "connection failed");
	return 255;
}

/* Exported for the auth and channel modules. */
int ssh_pkt_begin(struct ssh_conn *c, struct buf *b, uint8_t type)
{
	return pkt_begin(c, b, type);
}

int ssh_pkt_send(struct ssh_conn *c, struct buf *b)
{
	return pkt_send(c, b);
}

int ssh_can_send(struct ssh_conn *c)
{
	return !c->dead && c->kex_phase == KEX_IDLE &&
	    c->wlen - c->woff < WBUF_HIGH;
}

int ssh_in_kex(struct ssh_conn *c)
{
	return c->kex_phase != KEX_IDLE;
}

void ssh_debug(struct ssh_conn *c, const char *msg)
{
	debug(c, "%s", msg);
}

void ssh_sanitize(char *out, size_t outsz, const uint8_t *in, size_t n)
{
	sanitize(out, outsz, in, n, 1);
}

int ssh_failed(const struct ssh_conn *c)
{
	return c->dead;
}

int ssh_fd(const struct ssh_conn *c)
{
	return c->fd;
}
