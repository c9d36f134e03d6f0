#ifndef RELAYGATE_RUNTIME_H
#define RELAYGATE_RUNTIME_H

/*
 * runtime - what a milter session works with: a configuration snapshot,
 * the private keys of its selectors and the provider-side state of those
 * keys, published and acquired together.
 *
 * MODEL
 *	A runtime pairs one configuration snapshot with its keyring.  It is
 *	built at start and on every reload, then published; a session
 *	acquires the current runtime when it connects and keeps it to the
 *	end, so a reload never changes the rules or the key in the middle
 *	of a session.  Keys are read when a runtime is built; a reload whose
 *	selectors name the same key files as the running runtime shares its
 *	keyring instead of reading the files again (after the privilege drop
 *	relaygate may no longer be able to read a root-owned key: replace a
 *	key file under a new name, or restart).
 *	The provider-side state (which selectors' keys the world can verify
 *	now, and which selector signs: dkim_check_signing()) changes without
 *	a reload, so it is the one mutable part: one atomic word, set by the
 *	periodic provider check and read per message.  Until the first check
 *	of a runtime, no selector may sign.
 *	Publishing a runtime also publishes its configuration (config.h), so
 *	config_acquire() users see the same snapshot.
 *
 * OWNERSHIP
 *	runtime_build() takes over the caller's reference to cfg.
 *	runtime_acquire() returns a reference given back with
 *	runtime_release() (NULL is fine).  Key pointers live as long as the
 *	runtime.
 *
 * CONCURRENCY
 *	runtime_publish(), runtime_acquire() and runtime_release() are
 *	thread-safe (a mutex guards the current pointer; reference counts
 *	are atomic); a runtime is read-only but for its provider word, which
 *	is read and written atomically.
 *
 * ERRORS
 *	runtime_build() returns NULL with a reason naming the selector and
 *	the key file; nothing is logged.
 */

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "dkim_check.h"
#include "keys.h"

struct runtime {
	struct config *cfg;
	const struct keys_key *const *keys; /* keys[i]: dkim_selectors[i] */
	struct runtime_ring *ring;          /* shared between runtimes */
	uint32_t provider;                  /* atomic; see runtime_signing() */
	int refs;                           /* atomic */
};

/* What the provider-side check allows, as runtime_signing() reads it. */
struct runtime_signing {
	unsigned signable; /* bit i: selector i's key may sign (published) */
	int preferred;     /* the selector to sign with where delegated; -1 */
	int checked;       /* 0: no provider check has finished yet */
};

/*
 * runtime_build - a runtime for cfg, reading every selector's key unless
 * old (may be NULL) names the same key files; fails if a key cannot be
 * loaded.
 */
struct runtime *runtime_build(struct config *cfg, const struct runtime *old,
                              char *why, size_t whylen);

/*
 * runtime_publish - make rt current; the caller's reference passes to
 * the module, which drops its reference to the previous one.
 */
void runtime_publish(struct runtime *rt);

/* runtime_acquire - the current runtime plus a reference, or NULL */
struct runtime *runtime_acquire(void);

/* runtime_release - drop a reference; the last one frees.  NULL is fine. */
void runtime_release(struct runtime *rt);

/* runtime_set_signing - store the result of a provider-side check */
void runtime_set_signing(struct runtime *rt, const struct runtime_signing *s);

/*
 * runtime_apply_provider - store what dkim_check_provider_run() found:
 * published selectors may sign; the active one also when it could not be
 * checked and no other is published (DKIM_CHECK_SIGN_UNVERIFIED).
 */
void runtime_apply_provider(struct runtime *rt,
                            const struct dkim_check_provider *p);

/* runtime_signing - the last stored provider-side state */
void runtime_signing(const struct runtime *rt, struct runtime_signing *out);

#endif
