/* bcrypt_pbkdf.h - the bcrypt_pbkdf key derivation of OpenSSH key files. */
#ifndef REMOWT_BCRYPT_PBKDF_H
#define REMOWT_BCRYPT_PBKDF_H

#include <stddef.h>

/*
 * Derive keylen bytes (1 to 1024) into key from a passphrase and a salt
 * (1 byte to 1 MiB each) with the given number of rounds (at least one),
 * as OpenBSD's bcrypt_pbkdf(3) does.  0 on success, -1 on bad arguments.
 */
int bcrypt_pbkdf(const void *pass, size_t passlen, const void *salt,
    size_t saltlen, void *key, size_t keylen, unsigned rounds);

#endif
