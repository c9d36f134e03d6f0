/*
 * ctl_env - relaygatectl's resolver, SPF evaluator and keys.
 */

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_env.h"
#include "util.h"

/* A client address no SPF record authorizes (see the header). */
#define CTL_ENV_PROBE "240.0.0.1"

/* ctl_env_resolver_ok - "ADDR" or "ADDR@PORT" with a port 1..65535 */
static int
ctl_env_resolver_ok(const char *spec)
{
	unsigned char buf[16];
	char addr[64];
	const char *at = strchr(spec, '@');
	size_t n = at ? (size_t) (at - spec) : strlen(spec);
	char *end;
	long port;

	if (n == 0 || n >= sizeof(addr))
		return 0;
	memcpy(addr, spec, n);
	addr[n] = '\0';
	if (inet_pton(AF_INET, addr, buf) != 1 &&
	    inet_pton(AF_INET6, addr, buf) != 1)
		return 0;
	if (at == NULL)
		return 1;
	port = strtol(at + 1, &end, 10);
	return end != at + 1 && *end == '\0' && port >= 1 && port <= 65535;
}

/*
 * ctl_env_dns - the resolver: the configuration's, or a copy of its
 * settings with the one forwarder given (dns_open() reads the settings
 * during the call only).
 */
static struct dns *
ctl_env_dns(const struct config *cfg, const char *resolver, char *why,
            size_t whylen)
{
	struct config local;
	char *fwd[1];

	if (resolver == NULL)
		return dns_open(cfg, why, whylen);
	if (!ctl_env_resolver_ok(resolver)) {
		util_why(why, whylen,
		         "--resolver: '%s' is not ADDRESS or ADDRESS@PORT",
		         resolver);
		return NULL;
	}
	local = *cfg;
	fwd[0] = (char *) resolver;
	local.resolver_source = CONFIG_RESOLVER_FORWARDERS;
	local.resolver_forwarders = (struct config_strlist){fwd, 1};
	return dns_open(&local, why, whylen);
}

/*
 * ctl_env_lookups - the DNS lookups a full evaluation of domain's SPF
 * costs; *exact is 0 when the evaluation stopped early (a limit, an
 * error, DNS trouble), which makes the count a lower bound.
 */
static int
ctl_env_lookups(struct ctl_env *e, const char *domain, int *exact)
{
	struct spf_check_eval *ev = xmalloc(sizeof(*ev));
	char from[DOMAIN_SIZE + 16];
	int n = -1;

	*exact = 0;
	snprintf(from, sizeof(from), "postmaster@%s", domain);
	if (spf_check_eval(e->spf, CTL_ENV_PROBE, from, domain,
	                   ctl_env_deadline(e), ev) == 0) {
		n = ev->lookups;
		*exact = ev->result != SPF_CHECK_PERMERROR &&
		         ev->result != SPF_CHECK_TEMPERROR;
	}
	free(ev);
	return n;
}

/* ctl_env_keys - the selectors' keys; failures reported */
static void
ctl_env_keys(struct ctl_env *e)
{
	size_t failed = 0;

	e->ring = keyring_load(e->cfg, &failed);
	for (size_t i = 0; failed > 0 && i < e->ring->n; i++)
		if (e->ring->key[i] == NULL)
			fprintf(stderr, "relaygatectl: selector %s: %s\n",
			        e->cfg->dkim_selectors[i].name,
			        e->ring->why[i]);
}

/* ctl_env_open - everything a checking command needs */
int
ctl_env_open(const struct config *cfg, const char *resolver, unsigned parts,
             struct ctl_env *e)
{
	char why[512];

	memset(e, 0, sizeof(*e));
	e->cfg = cfg;
	e->include_lookups = -1;
	if ((e->dns = ctl_env_dns(cfg, resolver, why, sizeof(why))) == NULL ||
	    (e->spf = spf_check_open(cfg, e->dns, why, sizeof(why))) == NULL) {
		fprintf(stderr, "relaygatectl: %s\n", why);
		ctl_env_close(e);
		return -1;
	}
	if (parts & CHECK_DKIM)
		ctl_env_keys(e);
	e->check =
	    (struct check_env){.dns = e->dns,
	                       .spf = e->spf,
	                       .cfg = cfg,
	                       .keys = e->ring ? keyring_keys(e->ring) : NULL};
	return 0;
}

/* ctl_env_measure - our include's cost, once, before the workers start */
void
ctl_env_measure(struct ctl_env *e)
{
	e->include_lookups =
	    ctl_env_lookups(e, e->cfg->relay_spf_include, &e->include_exact);
}

/* ctl_env_close - release what ctl_env_open opened */
void
ctl_env_close(struct ctl_env *e)
{
	spf_check_close(e->spf);
	dns_close(e->dns);
	keyring_free(e->ring);
	memset(e, 0, sizeof(*e));
}

/* ctl_env_deadline - now plus resolver.check_timeout */
int64_t
ctl_env_deadline(const struct ctl_env *e)
{
	return util_monotonic_ms() + e->cfg->resolver_check_timeout_ms;
}

/* ctl_env_merge_in - lookups of the current record and of ours */
void
ctl_env_merge_in(struct ctl_env *e, const struct check_result *c,
                 struct spf_merge_in *m)
{
	memset(m, 0, sizeof(*m));
	m->lookups = -1;
	m->include_lookups = e->include_lookups;
	m->include_lookups_exact = e->include_exact;
	if (c->spf.record_status == SPF_CHECK_REC_PRESENT ||
	    c->spf.record_status == SPF_CHECK_REC_UNSUPPORTED)
		m->lookups = ctl_env_lookups(e, c->domain, &m->lookups_exact);
}
