/*
 * probe - sign a sample message as the milter would, judge it as a
 * receiver would.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "check.h"
#include "judge.h"
#include "probe.h"
#include "probe_msg.h"
#include "util.h"

/* The queue id the milter's decision line names the probe by. */
#define PROBE_QUEUE_ID "relaygatectl-probe"

/* probe_status_name - the word */
const char *
probe_status_name(enum probe_status status)
{
	static const char *const names[] = {
	    [PROBE_PASS] = "pass",
	    [PROBE_FAIL] = "fail",
	    [PROBE_TEMPORARY] = "temporary",
	    [PROBE_NONE] = "none",
	};

	return (unsigned) status <= PROBE_NONE ? names[status] : "?";
}

/* probe_relay_name - the word */
const char *
probe_relay_name(enum probe_relay relay)
{
	static const char *const names[] = {
	    [PROBE_RELAY_SIGNED] = "signed",
	    [PROBE_RELAY_UNSIGNED] = "unsigned",
	    [PROBE_RELAY_REFUSED] = "refused",
	};

	return (unsigned) relay <= PROBE_RELAY_REFUSED ? names[relay] : "?";
}

/* probe_exit - 0, 1 or 2 */
int
probe_exit(enum probe_status status)
{
	return status == PROBE_FAIL ? 1 : status == PROBE_TEMPORARY ? 2 : 0;
}

/* probe_result_clear - what a result holds */
void
probe_result_clear(struct probe_result *r)
{
	dkim_check_provider_free(r->provider);
	r->provider = NULL;
	free(r->message);
	r->message = NULL;
}

/*
 * probe_address - an address usable in a header field and on sendmail's
 * command line (no brackets, spaces or line ends: addr_envelope() takes
 * it as is); its domain into domain.
 */
static int
probe_address(const char *what, const char *addr, char *domain, char *why,
              size_t whylen)
{
	char reason[256] = "";

	if (strlen(addr) >= PROBE_ADDR_SIZE || addr[0] == '<' ||
	    strpbrk(addr, " \t\r\n<>\"(),;") != NULL ||
	    addr_envelope(addr, domain, reason, sizeof(reason)) != ADDR_OK)
		return util_why(why, whylen,
		                "%s: '%.64s' is not an address%s%s", what, addr,
		                reason[0] ? ": " : "", reason);
	return 0;
}

/* probe_names - the domain, the sender in it and the recipient */
static int
probe_names(const char *domain, const struct probe_opts *o,
            struct probe_result *out, char *why, size_t whylen)
{
	char d[DOMAIN_SIZE];

	if (domain_normalize(domain, out->domain, sizeof(out->domain), why,
	                     whylen) < 0)
		return -1;
	if (o->sender != NULL)
		util_strlcpy(out->sender, o->sender, sizeof(out->sender));
	else
		snprintf(out->sender, sizeof(out->sender), "postmaster@%s",
		         out->domain);
	if (probe_address("the sender", out->sender, d, why, whylen) < 0)
		return -1;
	if (strcasecmp(d, out->domain) != 0)
		return util_why(why, whylen,
		                "the sender %s is not an address in %s",
		                out->sender, out->domain);
	util_strlcpy(out->to, o->to != NULL ? o->to : out->sender,
	             sizeof(out->to));
	return probe_address("the recipient", out->to, d, why, whylen);
}

/*
 * probe_provider - step 1: which selector may sign, as the daemon's
 * periodic check decides, stored in the runtime the milter code reads.
 */
static void
probe_provider(const struct probe_env *env, struct probe_result *out)
{
	const struct config *cfg = env->rt->cfg;

	out->provider = dkim_check_provider_run(
	    env->dns, cfg, env->rt->keys,
	    util_monotonic_ms() + cfg->resolver_check_timeout_ms);
	runtime_apply_provider(env->rt, out->provider);
}

/* probe_check - step 2: the domain's verdict, as on a cache miss */
static int
probe_check(const struct probe_env *env, struct probe_result *out, char *why,
            size_t whylen)
{
	const struct config *cfg = env->rt->cfg;
	struct check_env ce = {.dns = env->dns,
	                       .spf = env->spf,
	                       .cfg = cfg,
	                       .keys = env->rt->keys};
	struct check_result *r = xmalloc(sizeof(*r));
	int64_t deadline = util_monotonic_ms() + cfg->resolver_check_timeout_ms;
	int rc = check_domain(&ce, out->domain, CHECK_ALL, deadline, r);

	if (rc < 0)
		util_why(why, whylen, "%s", r->spf.summary);
	else
		verdict_from_check(r, &out->verdict);
	out->check_ms = r->duration_ms;
	free(r);
	return rc;
}

/*
 * probe_judge_check - the judge's check during step 3: the verdict of
 * step 2 (the sender is in the domain, so no other domain is asked).
 */
static int
probe_judge_check(const struct config *cfg, const struct keys_key *const *keys,
                  const char *domain, struct verdict *out, void *arg)
{
	const struct probe_result *r = arg;

	(void) cfg;
	(void) keys;
	if (strcasecmp(domain, r->domain) != 0)
		return -1;
	*out = r->verdict;
	return 0;
}

/*
 * probe_client - a client in scope: a SASL-authenticated session when
 * scope.sasl is on, else the first address of scope.networks; "local"
 * (the relay host itself) if there is none, which may be outside.
 */
static void
probe_client(const struct config *cfg, char *client, size_t size,
             const char **auth)
{
	const char *net =
	    cfg->scope_networks.n > 0 ? cfg->scope_networks.v[0] : "local";

	*auth = cfg->scope_sasl ? "relaygatectl-probe" : NULL;
	snprintf(client, size, "%.*s", (int) strcspn(net, "/"), net);
}

/*
 * probe_feed - the message through the milter's steps, as the MTA
 * would deliver it; the step that ended it.
 */
static enum message_step
probe_feed(struct message *msg, const struct probe_msg *pm, const char *sender,
           const char *auth, struct message_edits *edits,
           struct message_reply *reply)
{
	char arg[PROBE_ADDR_SIZE + 2];
	enum message_step st;

	snprintf(arg, sizeof(arg), "<%s>", sender);
	if ((st = message_envfrom(msg, arg, auth, PROBE_QUEUE_ID, reply)) !=
	    MESSAGE_CONTINUE)
		return st;
	for (size_t i = 0; i < pm->n; i++)
		message_header(msg, pm->field[i].name, pm->field[i].value);
	if ((st = message_eoh(msg, PROBE_QUEUE_ID, reply)) != MESSAGE_CONTINUE)
		return st;
	if (message_wants_body(msg))
		message_body(msg, (const unsigned char *) pm->body,
		             pm->body_len);
	return message_eom(msg, PROBE_QUEUE_ID, edits, reply);
}

/* probe_outcome - what the relay did, from the milter's answer */
static void
probe_outcome(struct probe_result *out, enum message_step st,
              const struct message_edits *e, const struct message_reply *r)
{
	if (st != MESSAGE_CONTINUE) {
		out->relay = PROBE_RELAY_REFUSED;
		util_strlcpy(out->rcode, r->rcode, sizeof(out->rcode));
		util_strlcpy(out->xcode, r->xcode, sizeof(out->xcode));
		util_strlcpy(out->reply, r->text, sizeof(out->reply));
		return;
	}
	out->relay =
	    e->signature[0] != NULL ? PROBE_RELAY_SIGNED : PROBE_RELAY_UNSIGNED;
	if (e->status_value != NULL)
		util_strlcpy(out->status_value, e->status_value,
		             sizeof(out->status_value));
}

/*
 * probe_relay - step 3: the sample through the milter's code; the
 * message text as the relay sends it (refused: as it was submitted).
 */
static void
probe_relay(const struct probe_env *env, struct probe_result *out)
{
	struct judge *j = judge_open(env->dns, env->spf, NULL);
	struct message_env me = {
	    .rt = env->rt, .judge = j, .signer = env->signer};
	struct probe_msg *pm = probe_msg_sample(out->domain, out->sender,
	                                        out->to, util_realtime_s());
	struct message_edits edits = {0};
	struct message_reply reply = {.rcode = ""};
	struct message *msg;
	enum message_step st;
	const char *auth;
	char client[64];

	judge_set_check(j, probe_judge_check, out);
	probe_client(env->rt->cfg, client, sizeof(client), &auth);
	msg = message_new(&me, client);
	st = probe_feed(msg, pm, out->sender, auth, &edits, &reply);
	probe_outcome(out, st, &edits, &reply);
	util_strlcpy(out->status_name, env->rt->cfg->policy_status_header,
	             sizeof(out->status_name));
	if (st == MESSAGE_CONTINUE)
		probe_msg_edit(pm, &edits); /* before message_free() */
	out->message = probe_msg_text(pm, 0, &out->message_len);
	message_free(msg);
	probe_msg_free(pm);
	judge_close(j);
}

/* probe_receive - step 4: the message judged as a receiver would */
static int
probe_receive(const struct probe_env *env, struct probe_result *out, char *why,
              size_t whylen)
{
	struct receiver_env re = {.dns = env->dns,
	                          .spf = env->spf,
	                          .signer = env->signer,
	                          .cfg = env->rt->cfg};
	int64_t deadline =
	    util_monotonic_ms() + env->rt->cfg->resolver_check_timeout_ms;

	if (receiver_judge(&re, out->message, out->message_len, out->sender,
	                   deadline, &out->rx, why, whylen) < 0)
		return -1;
	for (size_t i = 0; i < out->rx.sigs.n && i < MESSAGE_SIGNATURES; i++)
		util_strlcpy(out->selectors[i], out->rx.sigs.sig[i].selector,
		             sizeof(out->selectors[i]));
	return 0;
}

/* probe_relay_status - the relay's part: did it sign, and if not, why */
static enum probe_status
probe_relay_status(const struct probe_result *r)
{
	int temporary = r->verdict.state == VERDICT_TEMPORARY ||
	                verdict_dkim_temporary(&r->verdict);

	if (r->relay == PROBE_RELAY_SIGNED)
		return PROBE_PASS;
	return temporary ? PROBE_TEMPORARY : PROBE_FAIL;
}

/* probe_dmarc_status - counts only with a usable policy */
static enum probe_status
probe_dmarc_status(const struct probe_result *r)
{
	switch (r->rx.dmarc.state) {
	case DMARC_FOUND:
		if (r->rx.align.pass)
			return PROBE_PASS;
		return r->dkim == PROBE_TEMPORARY || r->spf == PROBE_TEMPORARY
		           ? PROBE_TEMPORARY
		           : PROBE_FAIL;
	case DMARC_TEMPERROR:
		return PROBE_TEMPORARY;
	default:
		return PROBE_NONE;
	}
}

/* probe_statuses - each part's status and the overall one */
static void
probe_statuses(struct probe_result *r)
{
	const enum probe_status *parts[] = {&r->relay_status, &r->dkim, &r->spf,
	                                    &r->dmarc};

	r->relay_status = probe_relay_status(r);
	switch (r->rx.dkim) {
	case RECEIVER_DKIM_PASS:
		r->dkim = PROBE_PASS;
		break;
	case RECEIVER_DKIM_TEMPERROR:
		r->dkim = PROBE_TEMPORARY;
		break;
	case RECEIVER_DKIM_NONE: /* the relay did not sign: its reason */
		r->dkim = r->relay_status;
		break;
	default:
		r->dkim = PROBE_FAIL;
	}
	r->spf = r->rx.spf.result == SPF_CHECK_PASS        ? PROBE_PASS
	         : r->rx.spf.result == SPF_CHECK_TEMPERROR ? PROBE_TEMPORARY
	                                                   : PROBE_FAIL;
	r->dmarc = probe_dmarc_status(r);
	r->status = PROBE_PASS;
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		if (*parts[i] == PROBE_FAIL ||
		    (*parts[i] == PROBE_TEMPORARY && r->status == PROBE_PASS))
			r->status = *parts[i];
}

/* probe_run - the four steps */
int
probe_run(const struct probe_env *env, const char *domain,
          const struct probe_opts *opts, struct probe_result *out, char *why,
          size_t whylen)
{
	int64_t t0 = util_monotonic_ms();

	memset(out, 0, sizeof(*out));
	if (probe_names(domain, opts, out, why, whylen) < 0)
		return -1;
	probe_provider(env, out);
	if (probe_check(env, out, why, whylen) < 0)
		return -1;
	probe_relay(env, out);
	if (probe_receive(env, out, why, whylen) < 0)
		return -1;
	probe_statuses(out);
	out->duration_ms = util_monotonic_ms() - t0;
	return 0;
}
