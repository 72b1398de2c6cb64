/*
 * tests/oldrouter/localoptions.h - a dropbear that speaks like an old
 * router: nothing but the SHA-1 era algorithms.  tests/t_oldrouter.sh
 * builds Debian's dropbear source with this file (the build is cached
 * under build/oldrouter/, keyed by a hash of this file).
 *
 * What remains:
 *   host key   ssh-rsa (RSA with SHA-1 signatures; no rsa-sha2-256, so
 *              no ext-info and no server-sig-algs either)
 *   kex        diffie-hellman-group14-sha1
 *   cipher     aes128-ctr
 *   MAC        hmac-sha1
 * Password and public key user authentication stay on.
 */

/* host keys (and the signatures accepted for user keys) */
#define DROPBEAR_RSA 1
#define DROPBEAR_RSA_SHA1 1
#define DROPBEAR_RSA_SHA256 0
#define DROPBEAR_DSS 0
#define DROPBEAR_ECDSA 0
#define DROPBEAR_ED25519 0
#define DROPBEAR_SK_KEYS 0
#define DROPBEAR_SK_ECDSA 0
#define DROPBEAR_SK_ED25519 0

/* key exchange */
#define DROPBEAR_DH_GROUP14_SHA1 1
#define DROPBEAR_DH_GROUP14_SHA256 0
#define DROPBEAR_DH_GROUP16 0
#define DROPBEAR_DH_GROUP1 0
#define DROPBEAR_DH_GROUP1_CLIENTONLY 0
#define DROPBEAR_CURVE25519 0
#define DROPBEAR_ECDH 0

/* ciphers */
#define DROPBEAR_AES128 1
#define DROPBEAR_AES256 0
#define DROPBEAR_3DES 0
#define DROPBEAR_CHACHA20POLY1305 0
#define DROPBEAR_ENABLE_CTR_MODE 1
#define DROPBEAR_ENABLE_CBC_MODE 0
#define DROPBEAR_ENABLE_GCM_MODE 0

/* MACs */
#define DROPBEAR_SHA1_HMAC 1
#define DROPBEAR_SHA1_96_HMAC 0
#define DROPBEAR_SHA2_256_HMAC 0
#define DROPBEAR_SHA2_512_HMAC 0

/* the rest as a router build has it; nothing written outside the test's
 * own directories */
#define DROPBEAR_SVR_PASSWORD_AUTH 1
#define DROPBEAR_SVR_PAM_AUTH 0
#define DROPBEAR_SVR_PUBKEY_AUTH 1
#define DROPBEAR_X11FWD 0
#define DO_MOTD 0
#define DROPBEAR_PIDFILE "/run/dropbear-oldrouter.pid"
