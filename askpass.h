/*
 * askpass.h - read a passphrase or password from the terminal, never
 * echoed, or from the SSH_ASKPASS program under OpenSSH's rules.
 */
#ifndef REMOWT_ASKPASS_H
#define REMOWT_ASKPASS_H

#include <stddef.h>

/*
 * Ask for a line: 0 with it NUL-terminated in out, or -1 when nobody can
 * be asked or the answer does not fit.  echo shows what is typed (for
 * keyboard-interactive prompts that ask for it).  The caller wipes out.
 */
int askpass(const char *prompt, char *out, size_t outsz, int echo);

#endif
