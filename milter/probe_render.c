/*
 * probe_render - a probe's result as text or JSON.
 */

#include <stdio.h>
#include <string.h>

#include "json.h"
#include "probe_render.h"
#include "util.h"

/* The layout of "relaygatectl check": part, status, text; details. */
#define PROBE_ITEM "  %-10s %-10s %s\n"
#define PROBE_DETAIL "             %-10s %s\n"

/* probe_selectors - "prezent-a" or "prezent-a and prezent-ea" */
static void
probe_selectors(const struct probe_result *r, const char *sep, char *buf,
                size_t size)
{
	buf[0] = '\0';
	for (size_t i = 0; i < MESSAGE_SIGNATURES; i++)
		if (r->selectors[i][0] != '\0')
			util_catf(buf, size, "%s%s", buf[0] ? sep : "",
			          r->selectors[i]);
}

/* probe_unsigned_why - why the message carries no signature */
static void
probe_unsigned_why(const struct config *cfg, const struct probe_result *r,
                   char *buf, size_t size)
{
	char dkim[256];

	if (r->relay == PROBE_RELAY_REFUSED) {
		util_strlcpy(buf, "the relay refuses the message", size);
		return;
	}
	verdict_dkim_text(&r->verdict, cfg, dkim, sizeof(dkim));
	buf[0] = '\0';
	if (r->provider != NULL &&
	    r->provider->signing.how == DKIM_CHECK_SIGN_NONE)
		util_catf(buf, size, "the relay cannot sign: %s",
		          r->provider->signing.reason);
	else
		util_catf(buf, size, "the relay does not sign: %s", dkim);
}

/* probe_text_relay - what the relay does with the message */
static void
probe_text_relay(FILE *out, const struct config *cfg,
                 const struct probe_result *r)
{
	char sel[2 * DOMAIN_SIZE + 8], text[POLICY_TEXT + 64], spf[256],
	    dkim[256], states[256];

	probe_selectors(r, " and ", sel, sizeof(sel));
	if (r->relay == PROBE_RELAY_SIGNED)
		snprintf(text, sizeof(text), "signed with %s", sel);
	else if (r->relay == PROBE_RELAY_UNSIGNED)
		snprintf(text, sizeof(text), "delivered without a signature");
	else
		snprintf(text, sizeof(text), "refused: %s %s %s", r->rcode,
		         r->xcode, r->reply);
	fprintf(out, PROBE_ITEM, "relay", probe_status_name(r->relay_status),
	        text);
	if (r->status_value[0] != '\0')
		fprintf(out, "             %-10s %s: %s\n", "tagged",
		        r->status_name, r->status_value);
	if (r->provider != NULL)
		fprintf(out, PROBE_DETAIL, "provider",
		        r->provider->signing.reason);
	verdict_spf_text(&r->verdict, spf, sizeof(spf));
	verdict_dkim_text(&r->verdict, cfg, dkim, sizeof(dkim));
	verdict_dkim_states(&r->verdict, cfg, states, sizeof(states));
	snprintf(text, sizeof(text), "%s; %s; %s",
	         verdict_state_name((enum verdict_state) r->verdict.state), spf,
	         dkim);
	fprintf(out, PROBE_DETAIL, "domain", text);
	fprintf(out, PROBE_DETAIL, "selectors", states);
}

/* probe_text_sig - one signature: identity, key, reason */
static void
probe_text_sig(FILE *out, const struct signer_sig *s,
               const struct receiver_key *k)
{
	char text[1024];

	snprintf(text, sizeof(text), "%s d=%s s=%s a=%s",
	         signer_result_name(s->result), s->domain, s->selector,
	         s->algorithm);
	if (s->key_bits > 0)
		util_catf(text, sizeof(text), ", %u-bit key", s->key_bits);
	fprintf(out, PROBE_DETAIL, "signature", text);
	snprintf(text, sizeof(text), "%s",
	         k->chain[0] != '\0' ? k->chain : k->name);
	if (k->status != SIGNER_KEY_FOUND && k->found[0] != '\0')
		util_catf(text, sizeof(text), ": %s", k->found);
	fprintf(out, PROBE_DETAIL, "key", text);
	if (s->result != SIGNER_PASS)
		fprintf(out, PROBE_DETAIL, "reason", s->reason);
}

/* probe_text_dkim - the signatures as a receiver verified them */
static void
probe_text_dkim(FILE *out, const struct config *cfg,
                const struct probe_result *r)
{
	const struct receiver_result *rx = &r->rx;
	char text[512], why[400];

	snprintf(text, sizeof(text), "dkim=%s", receiver_dkim_name(rx->dkim));
	if (rx->sigs.nsigs == 0) {
		probe_unsigned_why(cfg, r, why, sizeof(why));
		util_catf(text, sizeof(text), " (no signature: %s)", why);
	}
	fprintf(out, PROBE_ITEM, "dkim", probe_status_name(r->dkim), text);
	for (size_t i = 0; i < rx->sigs.n; i++)
		probe_text_sig(out, &rx->sigs.sig[i], &rx->key[i]);
}

/* probe_text_spf - check_host() from each relay address */
static void
probe_text_spf(FILE *out, const struct probe_result *r)
{
	const struct spf_check_verdict *v = &r->rx.spf;
	char text[SPF_CHECK_WHY_SIZE + 128];

	fprintf(out, PROBE_ITEM, "spf", probe_status_name(r->spf), v->summary);
	fprintf(out, PROBE_DETAIL, "mail from", r->sender);
	for (size_t i = 0; i < v->naddrs; i++) {
		const struct spf_check_addr *a = &v->addr[i];

		snprintf(text, sizeof(text), "%s: %s", a->address,
		         spf_check_result_name(a->result));
		if (a->result != SPF_CHECK_PASS && a->why[0] != '\0')
			util_catf(text, sizeof(text), " (%s)", a->why);
		fprintf(out, PROBE_DETAIL, "from", text);
	}
}

/* probe_text_dmarc - the policy and the alignment */
static void
probe_text_dmarc(FILE *out, const struct probe_result *r)
{
	const struct dmarc_result *d = &r->rx.dmarc;
	char text[512];

	fprintf(out, PROBE_ITEM, "dmarc", probe_status_name(r->dmarc),
	        r->rx.align.text);
	if (d->state == DMARC_FOUND) {
		snprintf(text, sizeof(text), "_dmarc.%s: p=%s adkim=%s aspf=%s",
		         d->record_domain, dmarc_record_policy_name(d->policy),
		         dmarc_record_mode_name(d->record.adkim),
		         dmarc_record_mode_name(d->record.aspf));
		fprintf(out, PROBE_DETAIL, "record", text);
	}
	if (d->why[0] != '\0' && strstr(r->rx.align.text, d->why) == NULL)
		fprintf(out, PROBE_DETAIL, "note", d->why);
}

/* probe_text_sent - the submission */
static void
probe_text_sent(FILE *out, const struct probe_render_sent *s)
{
	char text[1024];

	snprintf(text, sizeof(text), "to %s through %s", s->to, s->sendmail);
	fprintf(out, PROBE_ITEM, "sent", s->ok ? "ok" : "failed", text);
	if (!s->ok)
		fprintf(out, PROBE_DETAIL, "reason", s->why);
}

/* probe_text - the block */
static void
probe_text(FILE *out, const struct config *cfg, const struct probe_result *r,
           const struct probe_render_sent *sent)
{
	fprintf(out, "%s: %s\n", r->domain, probe_status_name(r->status));
	probe_text_relay(out, cfg, r);
	probe_text_dkim(out, cfg, r);
	probe_text_spf(out, r);
	probe_text_dmarc(out, r);
	if (sent != NULL)
		probe_text_sent(out, sent);
	fprintf(out, "  probed in %lld ms\n", (long long) r->duration_ms);
}

/* probe_json_provider - the provider side's decision and keys */
static void
probe_json_provider(struct json *j, const struct dkim_check_provider *p)
{
	json_object(j, "provider");
	json_string(j, "signing", dkim_check_sign_name(p->signing.how));
	json_string(j, "selector",
	            p->signing.how == DKIM_CHECK_SIGN_NONE
	                ? NULL
	                : p->signing.selector);
	json_string(j, "reason", p->signing.reason);
	json_array(j, "keys");
	for (size_t i = 0; i < p->n; i++) {
		json_object(j, NULL);
		json_string(j, "selector", p->pub[i].selector);
		json_string(j, "target", p->pub[i].target);
		json_string(j, "state",
		            dkim_check_pub_state_name(p->pub[i].state));
		json_end(j);
	}
	json_end(j);
	json_end(j);
}

/* probe_json_verdict - the milter's verdict of the domain */
static void
probe_json_verdict(struct json *j, const struct config *cfg,
                   const struct probe_result *r)
{
	char buf[256];

	json_object(j, "verdict");
	json_string(j, "state",
	            verdict_state_name((enum verdict_state) r->verdict.state));
	verdict_spf_text(&r->verdict, buf, sizeof(buf));
	json_string(j, "spf", buf);
	verdict_dkim_text(&r->verdict, cfg, buf, sizeof(buf));
	json_string(j, "dkim", buf);
	verdict_dkim_states(&r->verdict, cfg, buf, sizeof(buf));
	json_string(j, "selectors", buf);
	json_bool(j, "rotation_ready", verdict_rotation_ready(&r->verdict));
	json_int(j, "check_ms", r->check_ms);
	json_end(j);
}

/* probe_json_relay - what the relay does with the message */
static void
probe_json_relay(struct json *j, const struct config *cfg,
                 const struct probe_result *r)
{
	json_object(j, "relay");
	json_string(j, "status", probe_status_name(r->relay_status));
	json_string(j, "outcome", probe_relay_name(r->relay));
	json_array(j, "selectors");
	for (size_t i = 0; i < MESSAGE_SIGNATURES; i++)
		if (r->selectors[i][0] != '\0')
			json_string(j, NULL, r->selectors[i]);
	json_end(j);
	if (r->relay == PROBE_RELAY_REFUSED) {
		json_object(j, "reply");
		json_string(j, "code", r->rcode);
		json_string(j, "enhanced", r->xcode);
		json_string(j, "text", r->reply);
		json_end(j);
	} else {
		json_null(j, "reply");
	}
	json_object(j, "status_header");
	json_string(j, "name", r->status_name);
	json_string(j, "value", r->status_value[0] ? r->status_value : NULL);
	json_end(j);
	probe_json_verdict(j, cfg, r);
	if (r->provider != NULL)
		probe_json_provider(j, r->provider);
	else
		json_null(j, "provider");
	json_end(j);
}

/* probe_json_key - how a signature's key was found */
static void
probe_json_key(struct json *j, const struct receiver_key *k)
{
	static const char *const lookups[] = {
	    [SIGNER_KEY_FOUND] = "found",
	    [SIGNER_KEY_NONE] = "none",
	    [SIGNER_KEY_TEMPFAIL] = "tempfail",
	    [SIGNER_KEY_INVALID] = "invalid",
	};

	json_object(j, "key");
	json_string(j, "name", k->name);
	json_string(j, "lookup",
	            (unsigned) k->status <= SIGNER_KEY_INVALID
	                ? lookups[k->status]
	                : "?");
	json_string(j, "chain", k->chain[0] ? k->chain : NULL);
	json_string(j, "found", k->found);
	json_end(j);
}

/* probe_json_dkim - the signatures */
static void
probe_json_dkim(struct json *j, const struct config *cfg,
                const struct probe_result *r)
{
	const struct receiver_result *rx = &r->rx;
	char why[400];

	json_object(j, "dkim");
	json_string(j, "status", probe_status_name(r->dkim));
	json_string(j, "result", receiver_dkim_name(rx->dkim));
	probe_unsigned_why(cfg, r, why, sizeof(why));
	json_string(j, "unsigned_reason", rx->sigs.nsigs == 0 ? why : NULL);
	json_array(j, "signatures");
	for (size_t i = 0; i < rx->sigs.n; i++) {
		const struct signer_sig *s = &rx->sigs.sig[i];

		json_object(j, NULL);
		json_string(j, "result", signer_result_name(s->result));
		json_string(j, "domain", s->domain);
		json_string(j, "selector", s->selector);
		json_string(j, "algorithm", s->algorithm);
		json_int(j, "key_bits", s->key_bits);
		json_string(j, "body_hash",
		            s->body_ok == 1   ? "match"
		            : s->body_ok == 0 ? "mismatch"
		                              : NULL);
		json_string(j, "reason",
		            s->result == SIGNER_PASS ? NULL : s->reason);
		probe_json_key(j, &rx->key[i]);
		json_end(j);
	}
	json_end(j);
	json_end(j);
}

/* probe_json_spf - check_host() from each relay address */
static void
probe_json_spf(struct json *j, const struct probe_result *r)
{
	const struct spf_check_verdict *v = &r->rx.spf;

	json_object(j, "spf");
	json_string(j, "status", probe_status_name(r->spf));
	json_string(j, "result", spf_check_result_name(v->result));
	json_string(j, "domain",
	            r->rx.mail_from_domain[0] ? r->rx.mail_from_domain : NULL);
	json_string(j, "mail_from", r->sender);
	json_string(j, "summary", v->summary);
	json_string(j, "relay_source",
	            r->rx.relay_ok ? r->rx.relay.source : NULL);
	json_array(j, "addresses");
	for (size_t i = 0; i < v->naddrs; i++) {
		json_object(j, NULL);
		json_string(j, "address", v->addr[i].address);
		json_string(j, "result",
		            spf_check_result_name(v->addr[i].result));
		json_string(j, "reason",
		            spf_check_reason_name(v->addr[i].reason));
		json_string(j, "detail", v->addr[i].why);
		json_end(j);
	}
	json_end(j);
	json_end(j);
}

/* probe_json_dmarc - the policy and the alignment */
static void
probe_json_dmarc(struct json *j, const struct probe_result *r)
{
	const struct dmarc_result *d = &r->rx.dmarc;
	int found = d->state == DMARC_FOUND;

	json_object(j, "dmarc");
	json_string(j, "status", probe_status_name(r->dmarc));
	json_string(j, "state", dmarc_state_name(d->state));
	json_string(j, "record_domain",
	            d->record_domain[0] ? d->record_domain : NULL);
	json_string(j, "policy",
	            found ? dmarc_record_policy_name(d->policy) : NULL);
	json_string(j, "adkim", dmarc_record_mode_name(r->rx.align.adkim));
	json_string(j, "aspf", dmarc_record_mode_name(r->rx.align.aspf));
	json_bool(j, "dkim_aligned", r->rx.align.dkim_aligned);
	json_bool(j, "spf_aligned", r->rx.align.spf_aligned);
	json_bool(j, "pass", r->rx.align.pass);
	json_string(j, "text", r->rx.align.text);
	json_string(j, "note", d->why[0] ? d->why : NULL);
	json_end(j);
}

/* probe_json_sent - the submission, or null */
static void
probe_json_sent(struct json *j, const struct probe_render_sent *s)
{
	if (s == NULL) {
		json_null(j, "sent");
		return;
	}
	json_object(j, "sent");
	json_string(j, "to", s->to);
	json_string(j, "sendmail", s->sendmail);
	json_bool(j, "ok", s->ok);
	json_string(j, "error", s->ok ? NULL : s->why);
	json_end(j);
}

/* probe_json - the document */
static void
probe_json(FILE *out, const struct config *cfg, const struct probe_result *r,
           const struct probe_render_sent *sent, int exit_status)
{
	struct json *j = json_open(out);

	json_object(j, NULL);
	json_string(j, "schema", PROBE_RENDER_SCHEMA);
	json_string(j, "domain", r->domain);
	json_string(j, "sender", r->sender);
	json_string(j, "to", r->to);
	json_string(j, "status", probe_status_name(r->status));
	json_int(j, "exit", exit_status);
	probe_json_relay(j, cfg, r);
	probe_json_dkim(j, cfg, r);
	probe_json_spf(j, r);
	probe_json_dmarc(j, r);
	probe_json_sent(j, sent);
	json_int(j, "duration_ms", r->duration_ms);
	json_end(j);
	json_close(j);
}

/* probe_render - text or JSON */
void
probe_render(FILE *out, int json, const struct config *cfg,
             const struct probe_result *r, const struct probe_render_sent *sent,
             int exit_status)
{
	if (json)
		probe_json(out, cfg, r, sent, exit_status);
	else
		probe_text(out, cfg, r, sent);
}
