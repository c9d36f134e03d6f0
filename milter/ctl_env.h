#ifndef RELAYGATE_CTL_ENV_H
#define RELAYGATE_CTL_ENV_H

/*
 * ctl_env - what relaygatectl's checking commands open once and share
 * between the domains they check: the resolver, the SPF evaluator, the
 * keys and the check environment over them.
 *
 * MODEL
 *	The resolver is the configuration's, or the one --resolver names
 *	("ADDR" or "ADDR@PORT", used as the only forwarder).  Besides the
 *	check itself (check_domain(), the milter's code), the commands that
 *	propose an SPF record need the DNS lookups that records cost: an
 *	evaluation with spf_check for a client address no record
 *	authorizes (240.0.0.1, from the reserved 240/4 that no one lists)
 *	reaches every term, so its lookup count is the record's whole cost,
 *	include targets' terms included.  Our include's cost is measured
 *	once per run (ctl_env_measure()).
 *
 * OWNERSHIP
 *	struct ctl_env is the caller's; ctl_env_close() releases what
 *	ctl_env_open() opened.  The configuration is borrowed and must
 *	outlive the environment.
 *
 * CONCURRENCY
 *	Open and close in the main thread; in between, any number of
 *	threads may use e->check and ctl_env_merge_in() (dns.h, spf_check.h).
 *
 * ERRORS
 *	ctl_env_open() prints the problem to stderr and returns -1; a key
 *	that cannot be loaded is reported there and its selector then cannot
 *	be recognized.
 */

#include "check.h"
#include "keyring.h"
#include "spf_merge.h"

struct ctl_env {
	const struct config *cfg;
	struct dns *dns;
	struct spf_check *spf;
	struct keyring *ring;
	struct check_env check;
	int include_lookups; /* our include record's own lookups; -1 */
	int include_exact;
};

/*
 * ctl_env_open - resolver (resolver: NULL for the configuration's), SPF
 * evaluator, and the keys if parts has CHECK_DKIM.
 */
int ctl_env_open(const struct config *cfg, const char *resolver, unsigned parts,
                 struct ctl_env *e);

/*
 * ctl_env_measure - the lookups our include's record costs, for
 * ctl_env_merge_in(); call once after ctl_env_open(), before threads use
 * the environment.  Unknown (-1) if DNS fails.
 */
void ctl_env_measure(struct ctl_env *e);

/* ctl_env_close - release everything; a zeroed environment is fine */
void ctl_env_close(struct ctl_env *e);

/* ctl_env_deadline - a deadline for one domain: resolver.check_timeout */
int64_t ctl_env_deadline(const struct ctl_env *e);

/*
 * ctl_env_merge_in - the lookup counts spf_merge() needs for a checked
 * domain: the whole cost of its current record (measured when it has
 * one) and of our include.
 */
void ctl_env_merge_in(struct ctl_env *e, const struct check_result *c,
                      struct spf_merge_in *m);

#endif
