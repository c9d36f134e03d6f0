/*
 * message - what relaygate knows and decides about one message.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "decision.h"
#include "message.h"
#include "scope.h"
#include "util.h"

#define MESSAGE_NOTE_SIZE 256

/* A header field kept until the end of the headers. */
struct message_hdr {
	char *name;
	char *value;
};

struct message {
	struct message_env env;
	const struct config *cfg;
	char client_addr[64];
	int in_scope;
	int judged; /* the policy applies: in scope, or scope.outside */

	char env_domain[DOMAIN_SIZE];
	char env_note[MESSAGE_NOTE_SIZE]; /* why env_domain is empty */
	struct judge_result env_v;
	int have_env_v;

	char from_domain[DOMAIN_SIZE];
	char from_note[MESSAGE_NOTE_SIZE]; /* why from_domain is doubtful */
	enum policy_from from_state;
	int from_headers; /* From fields seen */
	struct judge_result from_v;
	int have_from_v;

	struct message_hdr *hdrs; /* every header, until the end of them */
	size_t nhdrs;
	unsigned status_seen; /* incoming copies of the status header */

	struct policy_decision d;
	int decided;
	int logged;
	int selectors[MESSAGE_SIGNATURES]; /* signing with; -1: unused */
	struct signer_msg *sig[MESSAGE_SIGNATURES];
	char *signature[MESSAGE_SIGNATURES];
	char *subject; /* the prefixed Subject value */
	int subject_exists;
	char failure[256]; /* why a signed message could not be signed */
};

/* message_new - a fresh message */
struct message *
message_new(const struct message_env *env, const char *client_addr)
{
	struct message *msg = xcalloc(1, sizeof(*msg));

	msg->env = *env;
	msg->cfg = env->rt->cfg;
	for (size_t i = 0; i < MESSAGE_SIGNATURES; i++)
		msg->selectors[i] = -1;
	util_strlcpy(msg->client_addr, client_addr ? client_addr : "",
	             sizeof(msg->client_addr));
	return msg;
}

/* message_hdrs_free - drop the kept headers */
static void
message_hdrs_free(struct message *msg)
{
	for (size_t i = 0; i < msg->nhdrs; i++) {
		free(msg->hdrs[i].name);
		free(msg->hdrs[i].value);
	}
	free(msg->hdrs);
	msg->hdrs = NULL;
	msg->nhdrs = 0;
}

/* message_free - release a message */
void
message_free(struct message *msg)
{
	if (msg == NULL)
		return;
	message_hdrs_free(msg);
	for (size_t i = 0; i < MESSAGE_SIGNATURES; i++) {
		signer_free(msg->sig[i]);
		free(msg->signature[i]);
	}
	free(msg->subject);
	free(msg);
}

/* message_now - wall-clock seconds, for the cache and the grace period */
static int64_t
message_now(void)
{
	return util_realtime_s();
}

/*
 * message_judge - the verdict of domain into *v; copies the envelope
 * domain's when it is the same domain.  Returns 1 if there is one.
 */
static int
message_judge(struct message *msg, const char *domain, struct judge_result *v,
              char *note, size_t notelen)
{
	if (domain[0] == '\0')
		return 0;
	if (msg->have_env_v && v != &msg->env_v &&
	    strcmp(domain, msg->env_domain) == 0) {
		*v = msg->env_v;
		return 1;
	}
	if (judge_domain(msg->env.judge, msg->cfg, msg->env.rt->keys, domain,
	                 message_now(), v) == 0)
		return 1;
	util_strlcpy(note, "not a valid domain", notelen);
	return 0;
}

/* message_first_seen_bad - when the misconfigured domain(s) were first seen */
static int64_t
message_first_seen_bad(const struct message *msg)
{
	int64_t t = 0, e = 0, f = 0;

	if (msg->have_env_v && !verdict_spf_ok(&msg->env_v.verdict))
		e = msg->env_v.first_seen_bad;
	if (msg->have_from_v && msg->from_v.verdict.dkim_usable == 0)
		f = msg->from_v.first_seen_bad;
	t = e;
	if (f != 0 && (t == 0 || f < t))
		t = f;
	return t;
}

/* message_input - the policy's view of the message */
static void
message_input(const struct message *msg, struct policy_input *in)
{
	struct runtime_signing s;

	runtime_signing(msg->env.rt, &s);
	memset(in, 0, sizeof(*in));
	in->in_scope = msg->in_scope;
	in->env_domain = msg->env_domain;
	in->env = msg->have_env_v ? &msg->env_v.verdict : NULL;
	in->from_domain = msg->from_domain;
	in->from = msg->have_from_v ? &msg->from_v.verdict : NULL;
	in->from_state = msg->from_state;
	in->preferred_selector = s.preferred;
	in->published = s.signable;
	in->now = message_now();
	in->first_seen_bad = message_first_seen_bad(msg);
}

/* message_log - the decision line, once */
static void
message_log(struct message *msg, const char *queue_id)
{
	struct decision_facts f = {
	    .cfg = msg->cfg,
	    .queue_id = queue_id,
	    .client = msg->client_addr,
	    .in_scope = msg->in_scope,
	    .env_domain = msg->env_domain,
	    .env_note = msg->env_note,
	    .env = msg->have_env_v ? &msg->env_v : NULL,
	    .from_domain = msg->from_domain,
	    .from_note = msg->from_note,
	    .from = msg->have_from_v ? &msg->from_v : NULL,
	    .d = &msg->d,
	    .failure = msg->failure,
	    .also = msg->selectors[1],
	};

	if (msg->logged)
		return;
	msg->logged = 1;
	decision_log(&f);
	judge_count(msg->env.judge,
	            msg->from_domain[0] ? msg->from_domain : msg->env_domain,
	            (unsigned) msg->d.action, message_now());
}

/* message_refusal - the step and reply of a refusing decision */
static enum message_step
message_refusal(const struct policy_decision *d, struct message_reply *reply)
{
	util_strlcpy(reply->rcode, d->rcode, sizeof(reply->rcode));
	util_strlcpy(reply->xcode, d->xcode, sizeof(reply->xcode));
	util_strlcpy(reply->text, d->reply, sizeof(reply->text));
	return d->action == POLICY_REJECT ? MESSAGE_REJECT : MESSAGE_TEMPFAIL;
}

/* message_envelope - record the envelope sender's domain */
static void
message_envelope(struct message *msg, const char *arg)
{
	switch (addr_envelope(arg, msg->env_domain, msg->env_note,
	                      sizeof(msg->env_note))) {
	case ADDR_OK:
		msg->env_note[0] = '\0';
		break;
	case ADDR_NULL:
		util_strlcpy(msg->env_note, "null sender",
		             sizeof(msg->env_note));
		break;
	default:
		break;
	}
}

/* message_envfrom - the envelope; refuse early when nothing can help */
enum message_step
message_envfrom(struct message *msg, const char *arg, const char *auth,
                const char *queue_id, struct message_reply *reply)
{
	struct policy_input in;

	message_envelope(msg, arg);
	msg->in_scope = scope_in(msg->cfg, msg->client_addr, auth);
	msg->judged =
	    msg->in_scope || msg->cfg->scope_outside == CONFIG_OUTSIDE_POLICY;
	if (!msg->judged)
		return MESSAGE_CONTINUE;
	msg->have_env_v = message_judge(msg, msg->env_domain, &msg->env_v,
	                                msg->env_note, sizeof(msg->env_note));
	message_input(msg, &in);
	if (!policy_envelope(msg->cfg, &in, &msg->d))
		return MESSAGE_CONTINUE;
	msg->decided = 1;
	message_log(msg, queue_id);
	return message_refusal(&msg->d, reply);
}

/*
 * message_from - record the From header's domain.  A second From header
 * makes the message unsignable: receivers differ in which one they judge.
 */
static void
message_from(struct message *msg, const char *value)
{
	struct addr_from from;

	if (++msg->from_headers > 1) {
		snprintf(msg->from_note, sizeof(msg->from_note),
		         "%d From headers", msg->from_headers);
		msg->from_state = POLICY_FROM_MULTIPLE;
		return;
	}
	if (addr_header_from(value, &from, msg->from_note,
	                     sizeof(msg->from_note)) != ADDR_OK) {
		msg->from_state = POLICY_FROM_INVALID;
		return;
	}
	util_strlcpy(msg->from_domain, from.domain, sizeof(msg->from_domain));
	if (from.ndomains > 1) {
		snprintf(msg->from_note, sizeof(msg->from_note),
		         "From names %d domains", from.ndomains);
		msg->from_state = POLICY_FROM_INVALID;
	}
}

/* message_header - keep every field; look at those that matter */
void
message_header(struct message *msg, const char *name, const char *value)
{
	struct message_hdr *h;

	if (msg->decided)
		return;
	if (strcasecmp(name, "From") == 0)
		message_from(msg, value);
	if (strcasecmp(name, msg->cfg->policy_status_header) == 0)
		msg->status_seen++;
	msg->hdrs = xrealloc(msg->hdrs, (msg->nhdrs + 1) * sizeof(*h));
	h = &msg->hdrs[msg->nhdrs++];
	h->name = xstrdup(name);
	h->value = xstrdup(value);
}

/* message_subject_prefix - the tagged Subject value */
static void
message_subject_prefix(struct message *msg)
{
	const char *prefix = msg->cfg->policy_subject_prefix;
	const char *old = "";

	for (size_t i = 0; i < msg->nhdrs; i++) {
		if (strcasecmp(msg->hdrs[i].name, "Subject") == 0) {
			old = msg->hdrs[i].value;
			msg->subject_exists = 1;
			break;
		}
	}
	while (*old == ' ' || *old == '\t')
		old++;
	msg->subject = xasprintf("%s%s", prefix, old);
}

/*
 * message_sign_headers - start a signature with the kept headers, as the
 * receiver will see them: without the removed status headers and with the
 * prefixed Subject.
 */
static int
message_sign_headers(struct message *msg, struct signer_msg *sig)
{
	int subject_done = 0;

	for (size_t i = 0; i < msg->nhdrs; i++) {
		const struct message_hdr *h = &msg->hdrs[i];
		const char *value = h->value;

		if (strcasecmp(h->name, msg->cfg->policy_status_header) == 0)
			continue;
		if (msg->subject != NULL && !subject_done &&
		    strcasecmp(h->name, "Subject") == 0) {
			value = msg->subject;
			subject_done = 1;
		}
		if (signer_header(sig, h->name, value) < 0)
			return -1;
	}
	if (msg->subject != NULL && !subject_done &&
	    signer_header(sig, "Subject", msg->subject) < 0)
		return -1;
	return signer_eoh(sig);
}

/*
 * message_also - the selector that signs as well as sel (its "also"), if
 * the From domain delegated it and its key is published; -1 if none.
 */
static int
message_also(const struct message *msg, int sel)
{
	const struct config_selector *s = &msg->cfg->dkim_selectors[sel];
	const struct config_selector *also;
	struct runtime_signing rs;
	int i;

	if (s->also[0] == '\0' || !msg->have_from_v ||
	    (also = config_selector_find(msg->cfg, s->also)) == NULL)
		return -1;
	i = (int) (also - msg->cfg->dkim_selectors);
	runtime_signing(msg->env.rt, &rs);
	if (!(msg->from_v.verdict.dkim_usable & rs.signable & (1u << i)))
		return -1;
	return i;
}

/*
 * message_sign_start - begin a signature with the decided selector, and
 * one with its "also" selector where that is usable too (dual signing).
 */
static void
message_sign_start(struct message *msg)
{
	msg->selectors[0] = msg->d.sign_selector;
	msg->selectors[1] = message_also(msg, msg->d.sign_selector);
	for (size_t i = 0; i < MESSAGE_SIGNATURES; i++) {
		int sel = msg->selectors[i];

		if (sel < 0)
			continue;
		msg->sig[i] = signer_begin(
		    msg->env.signer, msg->env.rt->keys[sel],
		    msg->cfg->dkim_selectors[sel].name, msg->from_domain,
		    msg->failure, sizeof(msg->failure));
		if (msg->sig[i] != NULL)
			(void) message_sign_headers(msg, msg->sig[i]);
	}
}

/* message_decide - judge the From domain and decide */
static void
message_decide(struct message *msg)
{
	struct policy_input in;

	if (msg->from_headers == 0) {
		msg->from_state = POLICY_FROM_MISSING;
		util_strlcpy(msg->from_note, "no From header",
		             sizeof(msg->from_note));
	}
	if (msg->judged && msg->from_state == POLICY_FROM_OK)
		msg->have_from_v =
		    message_judge(msg, msg->from_domain, &msg->from_v,
		                  msg->from_note, sizeof(msg->from_note));
	if (msg->judged && msg->from_state == POLICY_FROM_OK &&
	    !msg->have_from_v)
		msg->from_state = POLICY_FROM_INVALID;
	message_input(msg, &in);
	policy_decide(msg->cfg, &in, &msg->d);
	msg->decided = 1;
}

/* message_eoh - the decision; refuse, or start signing */
enum message_step
message_eoh(struct message *msg, const char *queue_id,
            struct message_reply *reply)
{
	if (msg->decided)
		return MESSAGE_CONTINUE;
	message_decide(msg);
	if (policy_refuses(&msg->d)) {
		message_log(msg, queue_id);
		return message_refusal(&msg->d, reply);
	}
	if (msg->d.prefix_subject)
		message_subject_prefix(msg);
	if (msg->d.sign_selector >= 0)
		message_sign_start(msg);
	message_hdrs_free(msg);
	return MESSAGE_CONTINUE;
}

/* message_wants_body - only a signature needs the body */
int
message_wants_body(const struct message *msg)
{
	return msg->sig[0] != NULL || msg->sig[1] != NULL;
}

/* message_body - stream a chunk into the signature */
void
message_body(struct message *msg, const unsigned char *chunk, size_t len)
{
	for (size_t i = 0; i < MESSAGE_SIGNATURES; i++)
		if (msg->sig[i] != NULL)
			(void) signer_body(msg->sig[i], chunk, len);
}

/*
 * message_sign_end - finish the signatures; a message that should have
 * been signed and was not is deferred (4.3.0), never sent unsigned.
 */
static int
message_sign_end(struct message *msg)
{
	int failed = 0;

	for (size_t i = 0; i < MESSAGE_SIGNATURES; i++) {
		if (msg->selectors[i] < 0)
			continue;
		if (msg->sig[i] == NULL ||
		    signer_end(msg->sig[i], &msg->signature[i], msg->failure,
		               sizeof(msg->failure)) < 0)
			failed = 1;
	}
	if (!failed && (msg->d.sign_selector < 0 || msg->selectors[0] >= 0))
		return 0;
	msg->d.action = POLICY_DEFER;
	util_strlcpy(msg->d.rcode, "451", sizeof(msg->d.rcode));
	util_strlcpy(msg->d.xcode, "4.3.0", sizeof(msg->d.xcode));
	snprintf(msg->d.reply, sizeof(msg->d.reply),
	         "%s: the message could not be signed, try again later",
	         msg->from_domain);
	return -1;
}

/* message_eom - finish, log, and say what to change */
enum message_step
message_eom(struct message *msg, const char *queue_id,
            struct message_edits *edits, struct message_reply *reply)
{
	memset(edits, 0, sizeof(*edits));
	if (!msg->decided && message_eoh(msg, queue_id, reply) != 0)
		return message_refusal(&msg->d, reply);
	if (message_sign_end(msg) < 0) {
		message_log(msg, queue_id);
		return message_refusal(&msg->d, reply);
	}
	message_log(msg, queue_id);
	edits->status_name = msg->cfg->policy_status_header;
	edits->status_remove = msg->status_seen;
	if (msg->d.action == POLICY_TAG)
		edits->status_value = msg->d.status;
	edits->subject = msg->subject;
	edits->subject_exists = msg->subject_exists;
	for (size_t i = 0; i < MESSAGE_SIGNATURES; i++)
		edits->signature[i] = msg->signature[i];
	return MESSAGE_CONTINUE;
}

/* message_env_domain - the envelope sender domain */
const char *
message_env_domain(const struct message *msg)
{
	return msg->env_domain;
}

/* message_from_domain - the From header domain */
const char *
message_from_domain(const struct message *msg)
{
	return msg->from_domain;
}
