#ifndef RELAYGATE_KEYRING_H
#define RELAYGATE_KEYRING_H

/*
 * keyring - the private keys of the configured selectors, loaded as the
 * daemon loads them.
 *
 * MODEL
 *	One key per selector of dkim.selectors, in the same order.  A key
 *	file must be safe (keys.h): owned by root or by daemon.user and
 *	readable by no one else.  The daemon loads its keyring before it
 *	drops privileges and again on reload; relaygatectl loads the same
 *	files with the same rules.
 *
 * OWNERSHIP
 *	keyring_load() returns a keyring freed with keyring_free() (NULL is
 *	fine); key pointers live as long as the keyring.
 *
 * CONCURRENCY
 *	A loaded keyring is read-only and may be shared by all threads.
 *
 * ERRORS
 *	keyring_load() fills per-selector reasons and says how many keys
 *	could not be loaded; nothing is logged.
 */

#include <stddef.h>
#include <sys/types.h>

#include "config.h"
#include "keys.h"

#define KEYRING_MAX CONFIG_MAX_SELECTORS

struct keyring {
	struct keys_key *key[KEYRING_MAX]; /* NULL: could not be loaded */
	char why[KEYRING_MAX][256];        /* the reason, for NULL keys */
	size_t n;
};

/* keyring_owner - the uid a key may belong to besides root */
uid_t keyring_owner(const struct config *cfg);

/*
 * keyring_load - the keys of every selector; *failed counts those that
 * could not be loaded (their why says why).
 */
struct keyring *keyring_load(const struct config *cfg, size_t *failed);

/* keyring_free - release the keys; NULL is fine */
void keyring_free(struct keyring *ring);

/* keyring_keys - the keys as the array dkim_check and check take */
const struct keys_key *const *keyring_keys(const struct keyring *ring);

#endif
