/*
 * runtime - a configuration snapshot with its keys, published together.
 */

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "keyring.h"
#include "runtime.h"
#include "util.h"

/* A keyring shared by the runtimes whose selectors name the same files. */
struct runtime_ring {
	struct keyring *ring;
	int refs; /* atomic */
};

static pthread_mutex_t runtime_lock = PTHREAD_MUTEX_INITIALIZER;
static struct runtime *runtime_current; /* guarded by runtime_lock */

/* runtime_same_keys - do both configurations name the same key files? */
static int
runtime_same_keys(const struct config *a, const struct config *b)
{
	if (a->dkim_nselectors != b->dkim_nselectors)
		return 0;
	for (size_t i = 0; i < a->dkim_nselectors; i++)
		if (strcmp(a->dkim_selectors[i].key,
		           b->dkim_selectors[i].key) != 0)
			return 0;
	return 1;
}

/* runtime_ring_load - read every key; NULL with the first reason */
static struct runtime_ring *
runtime_ring_load(const struct config *cfg, char *why, size_t whylen)
{
	struct runtime_ring *rr;
	struct keyring *ring;
	size_t failed;

	ring = keyring_load(cfg, &failed);
	for (size_t i = 0; failed > 0 && i < ring->n; i++) {
		if (ring->key[i] != NULL)
			continue;
		util_why(why, whylen, "selector %s: %s",
		         cfg->dkim_selectors[i].name, ring->why[i]);
		keyring_free(ring);
		return NULL;
	}
	rr = xcalloc(1, sizeof(*rr));
	rr->ring = ring;
	rr->refs = 1;
	return rr;
}

/* runtime_ring_release - drop a reference to a shared keyring */
static void
runtime_ring_release(struct runtime_ring *rr)
{
	if (rr == NULL || __atomic_sub_fetch(&rr->refs, 1, __ATOMIC_ACQ_REL))
		return;
	keyring_free(rr->ring);
	free(rr);
}

/* runtime_build - pair cfg with its keys */
struct runtime *
runtime_build(struct config *cfg, const struct runtime *old, char *why,
              size_t whylen)
{
	struct runtime_ring *rr;
	struct runtime *rt;

	if (old != NULL && runtime_same_keys(old->cfg, cfg)) {
		rr = old->ring;
		__atomic_add_fetch(&rr->refs, 1, __ATOMIC_RELAXED);
	} else if ((rr = runtime_ring_load(cfg, why, whylen)) == NULL) {
		config_release(cfg);
		return NULL;
	}
	rt = xcalloc(1, sizeof(*rt));
	rt->cfg = cfg;
	rt->ring = rr;
	rt->keys = keyring_keys(rr->ring);
	rt->refs = 1;
	return rt;
}

/* runtime_release - the last reference frees */
void
runtime_release(struct runtime *rt)
{
	if (rt == NULL || __atomic_sub_fetch(&rt->refs, 1, __ATOMIC_ACQ_REL))
		return;
	runtime_ring_release(rt->ring);
	config_release(rt->cfg);
	free(rt);
}

/* runtime_publish - make rt current */
void
runtime_publish(struct runtime *rt)
{
	struct runtime *old;

	config_publish(config_ref(rt->cfg));
	pthread_mutex_lock(&runtime_lock);
	old = runtime_current;
	runtime_current = rt;
	pthread_mutex_unlock(&runtime_lock);
	runtime_release(old);
}

/* runtime_acquire - the current runtime, referenced */
struct runtime *
runtime_acquire(void)
{
	struct runtime *rt;

	pthread_mutex_lock(&runtime_lock);
	rt = runtime_current;
	if (rt != NULL)
		__atomic_add_fetch(&rt->refs, 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&runtime_lock);
	return rt;
}

/*
 * The provider word: bits 0-7 signable selectors, bits 8-15 the preferred
 * selector plus one (0: none), bit 16 "checked".
 */
#define RUNTIME_CHECKED (1u << 16)

/* runtime_set_signing - pack and store */
void
runtime_set_signing(struct runtime *rt, const struct runtime_signing *s)
{
	uint32_t word = (s->signable & 0xffu) |
	                ((uint32_t) (s->preferred + 1) & 0xffu) << 8 |
	                RUNTIME_CHECKED;

	__atomic_store_n(&rt->provider, word, __ATOMIC_RELEASE);
}

/* runtime_signing - load and unpack */
void
runtime_signing(const struct runtime *rt, struct runtime_signing *out)
{
	uint32_t word = __atomic_load_n(&rt->provider, __ATOMIC_ACQUIRE);

	out->signable = word & 0xffu;
	out->preferred = (int) ((word >> 8) & 0xffu) - 1;
	out->checked = (word & RUNTIME_CHECKED) != 0;
}

/* runtime_apply_provider - a provider check as a signing state */
void
runtime_apply_provider(struct runtime *rt, const struct dkim_check_provider *p)
{
	struct runtime_signing s = {.preferred = -1};

	for (size_t i = 0; i < p->n && i < 8; i++)
		if (p->pub[i].state == DKIM_CHECK_PUB_PUBLISHED)
			s.signable |= 1u << i;
	if (p->signing.how != DKIM_CHECK_SIGN_NONE) {
		s.preferred = (int) p->signing.index;
		s.signable |= 1u << p->signing.index;
	}
	runtime_set_signing(rt, &s);
}
