/*
 * ssh_conn.h - one SSH connection's state, shared by the transport
 * (ssh_min.c), user authentication (userauth.c) and channels
 * (channel.c).  Not for use outside the SSH client.
 */
#ifndef REMOWT_SSH_CONN_H
#define REMOWT_SSH_CONN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "cipher.h"
#include "kex.h"
#include "sshagent.h"
#include "sshconfig.h"
#include "sshkey.h"
#include "ssh_min.h"

/* The largest payload we build: any message but channel data is far
 * smaller, and channel data goes out in pieces of at most this. */
#define SSH_MAX_PAYLOAD (64u * 1024)

/* Message numbers (RFC 4250 4.1, 4256, 8308). */
#define SSH_MSG_DISCONNECT 1
#define SSH_MSG_IGNORE 2
#define SSH_MSG_UNIMPLEMENTED 3
#define SSH_MSG_DEBUG 4
#define SSH_MSG_SERVICE_REQUEST 5
#define SSH_MSG_SERVICE_ACCEPT 6
#define SSH_MSG_EXT_INFO 7
#define SSH_MSG_KEXINIT 20
#define SSH_MSG_NEWKEYS 21
#define SSH_MSG_KEX_INIT 30        /* KEXDH_INIT and KEX_ECDH_INIT */
#define SSH_MSG_KEX_REPLY 31
#define SSH_MSG_USERAUTH_REQUEST 50
#define SSH_MSG_USERAUTH_FAILURE 51
#define SSH_MSG_USERAUTH_SUCCESS 52
#define SSH_MSG_USERAUTH_BANNER 53
#define SSH_MSG_USERAUTH_PK_OK 60          /* publickey */
#define SSH_MSG_USERAUTH_INFO_REQUEST 60   /* keyboard-interactive */
#define SSH_MSG_USERAUTH_INFO_RESPONSE 61
#define SSH_MSG_GLOBAL_REQUEST 80
#define SSH_MSG_REQUEST_SUCCESS 81
#define SSH_MSG_REQUEST_FAILURE 82
#define SSH_MSG_CHANNEL_OPEN 90
#define SSH_MSG_CHANNEL_OPEN_CONFIRMATION 91
#define SSH_MSG_CHANNEL_OPEN_FAILURE 92
#define SSH_MSG_CHANNEL_WINDOW_ADJUST 93
#define SSH_MSG_CHANNEL_DATA 94
#define SSH_MSG_CHANNEL_EXTENDED_DATA 95
#define SSH_MSG_CHANNEL_EOF 96
#define SSH_MSG_CHANNEL_CLOSE 97
#define SSH_MSG_CHANNEL_REQUEST 98
#define SSH_MSG_CHANNEL_SUCCESS 99
#define SSH_MSG_CHANNEL_FAILURE 100

#define SSH_MAX_CHANNELS 4

struct ssh_chan {
	int in_use;
	int open;                  /* confirmed by the server */
	int open_answered;         /* confirmed or refused */
	int failed;                /* open or request refused */
	uint32_t remote_id;
	uint32_t remote_window;    /* bytes we may still send */
	uint32_t remote_maxpkt;
	uint32_t local_window;     /* bytes the server may still send */
	uint32_t consumed;         /* read by us, not yet re-granted */
	struct buf data;           /* stdout bytes received */
	struct buf ext;            /* stderr bytes received */
	int request_pending;       /* replies outstanding (want_reply) */
	int request_answered;      /* set when a reply arrives */
	int eof_in, close_in;      /* received from the server */
	int eof_out, close_out;    /* sent by us */
	int want_eof;              /* send EOF when the transport allows */
	int have_exit;
	int exit_status;           /* valid when have_exit */
	char exit_signal[32];      /* "" unless killed by a signal */
	char open_error[160];
};

struct ssh_conn {
	int fd;
	pid_t proxy_pid;           /* the child carrying a proxied link */
	int proxied;
	struct ssh_opts *opts;
	int port;
	char user[128];
	char host_label[300];      /* host, or [host]:port */
	char err[768];             /* the first fatal error */
	int dead;
	int reported;              /* the error was already printed */
	uint64_t deadline;         /* handshake deadline, ms; 0 after */

	char server_version[256];
	char algs_kex[640], algs_hostkey[512], algs_cipher[512];
	char algs_mac[512];
	char algs_pubkey[512];     /* signature algorithms we may use */
	int rsa_guessed;           /* signed RSA without server-sig-algs */

	/* Transport buffers: raw bytes in, protected bytes out. */
	uint8_t *rbuf;
	size_t rpos, rlen;
	int rlen_known;
	uint32_t rpkt_len;
	uint8_t *wbuf;
	size_t woff, wlen;
	/* How far each buffer was ever written (a packet being built may
	 * reach to wpend): what the wipe at the end must cover, and no
	 * more, so that pages never touched are not faulted in for it. */
	size_t rbuf_used, wbuf_used, wpend;
	uint8_t pad_pool[256];

	uint32_t seq_in, seq_out;
	uint64_t bytes_in, bytes_out;
	struct pktc pc_in, pc_out, next_in, next_out;
	int enc_in, enc_out;

	/* Key exchange. */
	int kex_phase;
	int kex_done;              /* completed exchanges */
	int strict;
	int skip_guess;
	const struct kex_alg *kex_alg;
	char hostkey_alg[64];
	const struct cipher_alg *next_cipher_in, *next_cipher_out;
	const struct mac_alg *next_mac_in, *next_mac_out;
	struct kex_state kex;
	uint8_t i_c[2048], i_s[4096];
	size_t i_c_len, i_s_len;
	uint8_t session_id[KEX_MAX_HASH];
	size_t session_id_len;
	struct sshkey hostkey;
	char server_sig_algs[512];

	/* User authentication. */
	int authenticated;
	int auth_state;
	int auth_replied;          /* the server answered an attempt */
	int auth_method;           /* the method awaiting a verdict */
	int tried_pubkey, tried_password, tried_kbdint;
	int kbdint_asked;          /* the last attempt brought questions */
	int no_prompt;             /* nobody to ask for a password */
	struct sshagent agent;
	int agent_opened, agent_keys;
	char cert_problem[SSH_PATH_MAX + 256];  /* why a certificate failed */
	char key_problem[SSH_PATH_MAX + 64];    /* why a key was not used */
	char auth_methods[256];    /* what the server said can continue */

	uint64_t last_rx;
	int alive_pending;

	struct ssh_chan chans[SSH_MAX_CHANNELS];
};

/* ssh_min.c */
int ssh_fail(struct ssh_conn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int ssh_pkt_begin(struct ssh_conn *c, struct buf *b, uint8_t type);
int ssh_pkt_send(struct ssh_conn *c, struct buf *b);
int ssh_can_send(struct ssh_conn *c);
int ssh_in_kex(struct ssh_conn *c);
int ssh_wait(struct ssh_conn *c, const int *flag);
int ssh_flush(struct ssh_conn *c);
void ssh_debug(struct ssh_conn *c, const char *msg);

/* userauth.c */
int ssh_userauth(struct ssh_conn *c);
int ssh_auth_dispatch(struct ssh_conn *c, struct buf *msg);

/* channel.c */
int ssh_chan_dispatch(struct ssh_conn *c, struct buf *msg);
void ssh_chan_resume(struct ssh_conn *c);
void ssh_chan_free_all(struct ssh_conn *c);

#endif
