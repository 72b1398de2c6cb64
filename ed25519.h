/*
 * ed25519.h - Ed25519 signatures (RFC 8032), PureEdDSA only.
 *
 * Signing and key derivation run in constant time with respect to the
 * secret seed.  Verification works on public data only.
 */
#ifndef REMOWT_ED25519_H
#define REMOWT_ED25519_H

#include <stddef.h>
#include <stdint.h>

/* Public key from the 32-byte secret seed. */
void ed25519_public_key(uint8_t pk[32], const uint8_t seed[32]);
/* Sign msg with the seed and its public key. */
void ed25519_sign(uint8_t sig[64], const uint8_t *msg, size_t len,
    const uint8_t seed[32], const uint8_t pk[32]);
/* 0 if sig is a valid signature of msg under pk, -1 otherwise
 * (including non-canonical S or an undecodable point). */
int ed25519_verify(const uint8_t sig[64], const uint8_t *msg, size_t len,
    const uint8_t pk[32]);

#endif
