/*
 * ctl_check - relaygatectl commands that check domains through live DNS.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "ctl_check.h"
#include "keyring.h"
#include "util.h"

/* What a checking command opens once and uses for every domain. */
struct ctl_env {
	struct dns *dns;
	struct spf_check *spf;
	struct keyring *ring;
	struct check_env check;
};

/* ctl_env_close - release what ctl_env_open opened */
static void
ctl_env_close(struct ctl_env *e)
{
	spf_check_close(e->spf);
	dns_close(e->dns);
	keyring_free(e->ring);
}

/*
 * ctl_env_open - the resolver, the SPF evaluator and the keys (a key that
 * cannot be loaded is reported; its selector then cannot be recognized).
 */
static int
ctl_env_open(const struct config *cfg, unsigned parts, struct ctl_env *e)
{
	char why[512];
	size_t failed = 0;

	memset(e, 0, sizeof(*e));
	if ((e->dns = dns_open(cfg, why, sizeof(why))) == NULL ||
	    (e->spf = spf_check_open(cfg, e->dns, why, sizeof(why))) == NULL) {
		fprintf(stderr, "relaygatectl: %s\n", why);
		ctl_env_close(e);
		return -1;
	}
	if (parts & CHECK_DKIM) {
		e->ring = keyring_load(cfg, &failed);
		for (size_t i = 0; failed > 0 && i < e->ring->n; i++)
			if (e->ring->key[i] == NULL)
				fprintf(stderr,
				        "relaygatectl: selector %s: %s\n",
				        cfg->dkim_selectors[i].name,
				        e->ring->why[i]);
	}
	e->check =
	    (struct check_env){.dns = e->dns,
	                       .spf = e->spf,
	                       .cfg = cfg,
	                       .keys = e->ring ? keyring_keys(e->ring) : NULL};
	return 0;
}

/* ctl_spf_print - the SPF part of a check, for a human */
static void
ctl_spf_print(const struct check_result *r)
{
	const struct spf_check_verdict *v = &r->spf;

	printf("%s\n  %s\n", r->domain, v->summary);
	if (!r->relay_ok)
		return;
	if (v->record_status == SPF_CHECK_REC_PRESENT)
		printf("  record      %s\n", v->record);
	printf("  include     %s%s\n", v->has_include ? "present" : "absent",
	       v->authorized_other ? " (the relay is authorized otherwise)"
	                           : "");
	for (size_t i = 0; i < v->naddrs; i++)
		printf("  %-15s %s (%s%s%s)\n", v->addr[i].address,
		       spf_check_result_name(v->addr[i].result),
		       spf_check_reason_name(v->addr[i].reason),
		       v->addr[i].why[0] ? ": " : "", v->addr[i].why);
	printf("  lookups     %d of %d, void lookups %d of %d\n", v->lookups,
	       SPF_CHECK_MAX_TERMS, v->voids, SPF_CHECK_MAX_VOIDS);
	if (v->ttl_known)
		printf("  ttl         %u s\n", (unsigned) v->ttl);
	printf("  relay       ");
	for (size_t i = 0; i < r->relay.n; i++)
		printf("%s%s", i ? ", " : "", r->relay.addr[i]);
	printf(" (%s)\n  checked in  %lld ms\n", r->relay.source,
	       (long long) r->duration_ms);
}

/* ctl_spf_status - the exit status a result contributes */
static int
ctl_spf_status(const struct check_result *r)
{
	if (!r->relay_ok || r->spf.result == SPF_CHECK_TEMPERROR)
		return 2;
	return r->spf.result == SPF_CHECK_PASS ? 0 : 1;
}

/* ctl_spf - "spf DOMAIN..." */
int
ctl_spf(const struct config *cfg, int argc, char **argv)
{
	struct check_result *r;
	struct ctl_env e;
	int status = 0, s;

	if (argc < 1 || argv[0][0] == '-') {
		fprintf(stderr, "usage: relaygatectl spf DOMAIN...\n");
		return 2;
	}
	if (ctl_env_open(cfg, CHECK_SPF, &e) < 0)
		return 2;
	r = xmalloc(sizeof(*r));
	for (int i = 0; i < argc; i++) {
		if (check_domain(&e.check, argv[i], CHECK_SPF, 0, r) < 0) {
			fprintf(stderr, "relaygatectl: %s: %s\n", argv[i],
			        r->spf.summary);
			s = 2;
		} else {
			ctl_spf_print(r);
			s = ctl_spf_status(r);
		}
		status = s > status ? s : status;
	}
	free(r);
	ctl_env_close(&e);
	return status;
}
