/*
 * keyring - the private keys of the configured selectors.
 */

#include <pwd.h>
#include <stdlib.h>
#include <unistd.h>

#include "keyring.h"
#include "util.h"

/* keyring_owner - daemon.user's uid, else our own (no user set) */
uid_t
keyring_owner(const struct config *cfg)
{
	struct passwd pw, *res = NULL;
	char buf[4096];

	if (cfg->user[0] != '\0' &&
	    getpwnam_r(cfg->user, &pw, buf, sizeof(buf), &res) == 0 &&
	    res != NULL)
		return pw.pw_uid;
	return geteuid();
}

/* keyring_load - every selector's key */
struct keyring *
keyring_load(const struct config *cfg, size_t *failed)
{
	struct keyring *ring = xcalloc(1, sizeof(*ring));
	uid_t owner = keyring_owner(cfg);

	*failed = 0;
	ring->n = cfg->dkim_nselectors < KEYRING_MAX ? cfg->dkim_nselectors
	                                             : KEYRING_MAX;
	for (size_t i = 0; i < ring->n; i++) {
		const struct config_selector *s = &cfg->dkim_selectors[i];

		ring->key[i] = keys_load(s->key, owner, ring->why[i],
		                         sizeof(ring->why[i]));
		if (ring->key[i] == NULL)
			(*failed)++;
	}
	return ring;
}

/* keyring_free - release everything */
void
keyring_free(struct keyring *ring)
{
	if (ring == NULL)
		return;
	for (size_t i = 0; i < ring->n; i++)
		keys_free(ring->key[i]);
	free(ring);
}

/* keyring_keys - as const array */
const struct keys_key *const *
keyring_keys(const struct keyring *ring)
{
	return (const struct keys_key *const *) ring->key;
}
