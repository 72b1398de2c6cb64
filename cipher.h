/*
 * cipher.h - SSH packet protection: one table entry per cipher and MAC.
 *
 * A direction's protection is a cipher plus, for non-AEAD ciphers, a MAC.
 * The packet layer deals only with these calls:
 *
 *   outgoing: the packet  uint32 length | byte padlen | payload | padding
 *             is built in place, then pktc_seal() encrypts it and writes
 *             the tag (AEAD tag or MAC) right after it.
 *
 *   incoming: pktc_first_len() bytes are read first; pktc_get_length()
 *             yields the packet length from them (for plain CTR+MAC this
 *             decrypts the first block in place).  Once the whole packet
 *             and the tag are read, pktc_open() checks the tag in constant
 *             time and decrypts the rest in place.
 *
 * Algorithms:
 *   chacha20-poly1305@openssh.com   (OpenSSH PROTOCOL.chacha20poly1305)
 *   aes128-gcm@openssh.com, aes256-gcm@openssh.com  (RFC 5647 as amended
 *                                    by OpenSSH: length is AAD)
 *   aes128-ctr, aes256-ctr          (RFC 4344) with
 *   hmac-sha2-256, hmac-sha2-512, hmac-sha1 (RFC 6668, 4253) and their
 *   -etm@openssh.com forms (encrypt-then-MAC, length in clear).
 */
#ifndef REMOWT_CIPHER_H
#define REMOWT_CIPHER_H

#include <stddef.h>
#include <stdint.h>

#include <bearssl.h>

#define PKTC_MAX_KEY 64
#define PKTC_MAX_IV 16
#define PKTC_MAX_TAG 64

struct cipher_alg {
	const char *name;
	size_t key_len;       /* bytes of key material derived for it */
	size_t iv_len;        /* bytes of IV derived for it (0 if none) */
	size_t block_len;     /* padding granularity (8 or 16) */
	size_t tag_len;       /* AEAD tag length, 0 for non-AEAD */
	int aead;             /* 1: no separate MAC is negotiated */
	int length_encrypted; /* chacha: length is encrypted on its own */
	int id;
};

struct mac_alg {
	const char *name;
	size_t key_len;
	size_t tag_len;
	int etm;              /* encrypt-then-MAC: length sent in clear */
	int id;
};

/*
 * A direction's state.  Large enough for every algorithm, no allocation.
 * The GCM context points into the structure itself; a copy notices that
 * and rebinds on its next use, but every copy holds key material and
 * must be wiped with pktc_wipe().
 */
struct pktc {
	const struct cipher_alg *cipher;
	const struct mac_alg *mac;       /* NULL for AEAD ciphers */
	union {
		struct {
			uint8_t k_main[32], k_len[32];
			br_chacha20_run run;
		} chacha;
		struct {
			br_aes_gen_ctr_keys aes;
			br_gcm_context gcm;
			const void *bound;       /* where gcm was bound */
			uint8_t iv[12];
		} gcm;
		struct {
			br_aes_gen_ctrcbc_keys aes;
			uint8_t ctr[16];
		} ctr;
	} u;
	br_hmac_key_context mac_kc;      /* inner and outer pad states */
};

/* Lookup by SSH name; NULL if not supported. */
const struct cipher_alg *cipher_by_name(const char *name);
const struct mac_alg *mac_by_name(const char *name);
/* Comma-separated default preference lists, best first. */
extern const char cipher_default_list[];
extern const char mac_default_list[];
/* All supported names (for -Q style listings and config validation). */
extern const char cipher_all_list[];
extern const char mac_all_list[];

/* Install keys.  encrypt: 1 for the sending direction.  mac may be NULL
 * for AEAD ciphers.  The key and iv buffers may be wiped by the caller
 * afterwards. */
int pktc_init(struct pktc *c, const struct cipher_alg *cipher,
    const struct mac_alg *mac, const uint8_t *key, const uint8_t *iv,
    const uint8_t *mac_key, int encrypt);
/* Zero the state, and the stack below the caller where sealing and
 * opening left copies of round keys. */
void pktc_wipe(struct pktc *c);

/* Padding block size and trailing tag size of this direction. */
size_t pktc_block_len(const struct pktc *c);
size_t pktc_tag_len(const struct pktc *c);
/* 1 if the 4-byte length field is not covered by encryption of the body
 * block alignment rule (AEAD and EtM modes: padding aligns len-4). */
int pktc_length_excluded(const struct pktc *c);

/* Encrypt pkt[0..len) (length field included) in place for sequence
 * number seq, and write pktc_tag_len() bytes of tag to tag. */
void pktc_seal(struct pktc *c, uint32_t seq, uint8_t *pkt, size_t len,
    uint8_t *tag);

/* How many leading bytes are needed to learn the length. */
size_t pktc_first_len(const struct pktc *c);
/* From the first pktc_first_len() bytes (which may be decrypted in
 * place), return the packet_length field (not counting itself). */
uint32_t pktc_get_length(struct pktc *c, uint32_t seq, uint8_t *first);
/* pkt[0..len) is the whole packet including the 4-byte length, with the
 * first pktc_first_len() bytes as left by pktc_get_length().  Verify the
 * tag in constant time and decrypt in place.  0 if authentic, and then
 * pkt[0..len) is the plaintext packet, length field included.  -1 if not:
 * pkt is zeroed and the direction's state is undefined (the connection
 * must be dropped). */
int pktc_open(struct pktc *c, uint32_t seq, uint8_t *pkt, size_t len,
    const uint8_t *tag);

#endif
