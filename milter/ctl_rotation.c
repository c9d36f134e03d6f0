/*
 * ctl_rotation - which domains would lose their signature at the next
 * rotation.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "check.h"
#include "ctl_env.h"
#include "ctl_rotation.h"
#include "util.h"
#include "verdict.h"

/* One domain at risk, for sorting. */
struct ctl_rotation_row {
	char domain[DOMAIN_SIZE];
	uint64_t messages;
	struct verdict v;
};

/* What the cache walk collects. */
struct ctl_rotation_walk {
	const struct config *cfg;
	size_t next;
	struct ctl_rotation_row *rows;
	size_t n, cap;
};

/* ctl_rotation_is_also - is selector i another selector's "also"? */
static int
ctl_rotation_is_also(const struct config *cfg, size_t i)
{
	for (size_t j = 0; j < cfg->dkim_nselectors; j++)
		if (strcasecmp(cfg->dkim_selectors[j].also,
		               cfg->dkim_selectors[i].name) == 0)
			return 1;
	return 0;
}

/* ctl_rotation_next - the selector the next rotation makes active */
static size_t
ctl_rotation_next(const struct config *cfg)
{
	size_t n = cfg->dkim_nselectors, active = 0;

	for (size_t i = 0; i < n; i++)
		if (strcasecmp(cfg->dkim_selectors[i].name,
		               cfg->dkim_active_selector) == 0)
			active = i;
	for (size_t k = 1; k < n; k++) {
		size_t i = (active + k) % n;

		if (!ctl_rotation_is_also(cfg, i))
			return i;
	}
	return active;
}

/* ctl_rotation_at_risk - signed now, the next selector not delegated */
static int
ctl_rotation_at_risk(const struct verdict *v, size_t next)
{
	return v->dkim_usable != 0 && next < v->nselectors &&
	       !(v->dkim_usable & (1u << next));
}

/* ctl_rotation_print - one line per domain at risk */
static void
ctl_rotation_print(const struct config *cfg, size_t next,
                   const struct ctl_rotation_row *r, int with_messages)
{
	char states[256];

	verdict_dkim_states(&r->v, cfg, states, sizeof(states));
	printf("%s", r->domain);
	if (with_messages)
		printf("  messages=%llu", (unsigned long long) r->messages);
	printf("  %s\n    add: %s._domainkey.%s. CNAME %s.\n", states,
	       cfg->dkim_selectors[next].name, r->domain,
	       cfg->dkim_selectors[next].target);
}

/* ctl_rotation_visit - collect a cached domain at risk */
static int
ctl_rotation_visit(const struct cache_record *rec, void *arg)
{
	struct ctl_rotation_walk *w = arg;
	struct ctl_rotation_row row = {0};

	if (!rec->has_verdict ||
	    verdict_decode(rec->payload, rec->payload_len, &row.v) < 0 ||
	    !ctl_rotation_at_risk(&row.v, w->next))
		return 0;
	util_strlcpy(row.domain, rec->domain, sizeof(row.domain));
	for (size_t i = 0; i < CACHE_COUNTERS; i++)
		row.messages += rec->counters[i];
	if (w->n == w->cap) {
		w->cap = w->cap ? 2 * w->cap : 64;
		w->rows = xrealloc(w->rows, w->cap * sizeof(*w->rows));
	}
	w->rows[w->n++] = row;
	return 0;
}

/* ctl_rotation_by_messages - most messages first, then by name */
static int
ctl_rotation_by_messages(const void *a, const void *b)
{
	const struct ctl_rotation_row *x = a, *y = b;

	if (x->messages != y->messages)
		return x->messages < y->messages ? 1 : -1;
	return strcmp(x->domain, y->domain);
}

/* ctl_rotation_cached - the domains of the verdict cache */
static int
ctl_rotation_cached(const struct config *cfg, size_t next)
{
	struct ctl_rotation_walk w = {.cfg = cfg, .next = next};
	struct cache *c;
	char why[512];

	if ((c = cache_open(cfg->cache_name, 0, 0, (gid_t) -1, CACHE_READONLY,
	                    why, sizeof(why))) == NULL) {
		fprintf(stderr, "relaygatectl: %s\n", why);
		return 2;
	}
	cache_foreach(c, ctl_rotation_visit, &w);
	cache_close(c);
	qsort(w.rows, w.n, sizeof(*w.rows), ctl_rotation_by_messages);
	for (size_t i = 0; i < w.n; i++)
		ctl_rotation_print(cfg, next, &w.rows[i], 1);
	free(w.rows);
	return w.n > 0;
}

/* ctl_rotation_live - the named domains, checked through DNS now */
static int
ctl_rotation_live(const struct config *cfg, size_t next, int argc, char **argv)
{
	struct check_result *r = xmalloc(sizeof(*r));
	struct ctl_rotation_row row;
	struct ctl_env e;
	int status = 0;

	if (ctl_env_open(cfg, NULL, CHECK_DKIM, &e) < 0) {
		free(r);
		return 2;
	}
	for (int i = 0; i < argc; i++) {
		memset(&row, 0, sizeof(row));
		if (check_domain(&e.check, argv[i], CHECK_DKIM,
		                 ctl_env_deadline(&e), r) < 0) {
			fprintf(stderr, "relaygatectl: %s: %s\n", argv[i],
			        r->spf.summary);
			status = 2;
			continue;
		}
		verdict_from_check(r, &row.v);
		if (!ctl_rotation_at_risk(&row.v, next))
			continue;
		util_strlcpy(row.domain, r->domain, sizeof(row.domain));
		ctl_rotation_print(cfg, next, &row, 0);
		status = status ? status : 1;
	}
	ctl_env_close(&e);
	free(r);
	return status;
}

/* ctl_rotation - "rotation-check [DOMAIN...]" */
int
ctl_rotation(const struct config *cfg, int argc, char **argv)
{
	size_t next = ctl_rotation_next(cfg);

	if (argc > 0 && argv[0][0] == '-') {
		fprintf(stderr, "usage: relaygatectl rotation-check "
		                "[DOMAIN...]\n");
		return 2;
	}
	printf("# next rotation: %s -> %s\n", cfg->dkim_active_selector,
	       cfg->dkim_selectors[next].name);
	if (argc == 0)
		return ctl_rotation_cached(cfg, next);
	return ctl_rotation_live(cfg, next, argc, argv);
}
