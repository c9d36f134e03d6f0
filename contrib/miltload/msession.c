/*
 * msession - one milter session as Postfix's MTA side conducts it.
 */

#include <stdlib.h>
#include <string.h>

#include "msession.h"
#include "util.h"

/* What the MTA does around one kind of event (milter8.c). */
struct msession_event {
	unsigned char code; /* MPROTO_C_* */
	int stage;          /* macro list sent first; -1 for none */
	uint32_t no;        /* SMFIP_NO* flag: do not send */
	uint32_t nr;        /* SMFIP_NR_* flag: do not wait for a reply */
	int quiet_skip;     /* skipped without its macros (headers, body) */
};

static const struct msession_event msession_ev_connect = {
    MPROTO_C_CONNECT, MPROTO_M_CONNECT, MPROTO_P_NOCONNECT, MPROTO_P_NR_CONN,
    0};
static const struct msession_event msession_ev_helo = {
    MPROTO_C_HELO, MPROTO_M_HELO, MPROTO_P_NOHELO, MPROTO_P_NR_HELO, 0};
static const struct msession_event msession_ev_mail = {
    MPROTO_C_MAIL, MPROTO_M_ENVFROM, MPROTO_P_NOMAIL, MPROTO_P_NR_MAIL, 0};
static const struct msession_event msession_ev_rcpt = {
    MPROTO_C_RCPT, MPROTO_M_ENVRCPT, MPROTO_P_NORCPT, MPROTO_P_NR_RCPT, 0};
static const struct msession_event msession_ev_data = {
    MPROTO_C_DATA, MPROTO_M_DATA, MPROTO_P_NODATA, MPROTO_P_NR_DATA, 0};
static const struct msession_event msession_ev_header = {
    MPROTO_C_HEADER, MPROTO_M_EOH, MPROTO_P_NOHDRS, MPROTO_P_NR_HDR, 1};
static const struct msession_event msession_ev_eoh = {
    MPROTO_C_EOH, MPROTO_M_EOH, MPROTO_P_NOEOH, MPROTO_P_NR_EOH, 0};
static const struct msession_event msession_ev_body = {
    MPROTO_C_BODY, MPROTO_M_EOM, MPROTO_P_NOBODY, MPROTO_P_NR_BODY, 1};
static const struct msession_event msession_ev_eom = {MPROTO_C_BODYEOB,
                                                      MPROTO_M_EOM, 0, 0, 0};
static const struct msession_event msession_ev_raw = {0, -1, 0, 0, 0};

struct msession {
	struct mconn *conn;
	struct msession_neg neg;
	struct mmacro *macros;
	uint32_t offered_protocol;
	msession_reply_fn on_reply;
	void *arg;
	enum mconn_status dead; /* MCONN_OK while usable */
	char dead_why[256];
};

/* What a reply means after an event. */
enum msession_kind { MSESSION_FINAL, MSESSION_MORE, MSESSION_BAD };

/* msession_opts_postfix - what Postfix 3.x offers; timeout 10 s, NODELAY */
void
msession_opts_postfix(struct msession_opts *o)
{
	o->version = MPROTO_VERSION;
	o->actions = MPROTO_POSTFIX_ACTIONS;
	o->protocol = MPROTO_POSTFIX_PROTOCOL;
	o->timeout_ms = 10000;
	o->nodelay = 1;
}

/* msession_fail - the session is dead from now on; returns st */
static enum mconn_status
msession_fail(struct msession *s, enum mconn_status st, const char *why)
{
	s->dead = st;
	util_strlcpy(s->dead_why, why != NULL ? why : "", sizeof(s->dead_why));
	return st;
}

/* msession_dead - the stored failure, repeated into why */
static enum mconn_status
msession_dead(const struct msession *s, char *why, size_t whylen)
{
	util_why(why, whylen, "%s", s->dead_why);
	return s->dead;
}

/* msession_keep_macros - copy the milter's macro lists */
static void
msession_keep_macros(struct msession *s, const struct mproto_optneg *o)
{
	for (int i = 0; i < MPROTO_M_COUNT; i++)
		s->neg.macros[i] = xstrdup(o->macros[i]);
}

/*
 * msession_check_neg - what Postfix refuses: a newer version, or actions
 * it did not offer.  Extra protocol bits only draw a verbose note there.
 */
static int
msession_check_neg(const struct mproto_optneg *n, const struct msession_opts *o,
                   char *why, size_t whylen)
{
	if (n->version > o->version)
		return util_why(
		    why, whylen, "milter protocol version %lu > %lu",
		    (unsigned long) n->version, (unsigned long) o->version);
	if ((n->actions & o->actions) != n->actions)
		return util_why(
		    why, whylen, "milter wants actions 0x%lx, offered 0x%lx",
		    (unsigned long) n->actions, (unsigned long) o->actions);
	return 0;
}

/* msession_negotiate - SMFIC_OPTNEG out, the milter's answer in */
static enum mconn_status
msession_negotiate(struct msession *s, const struct msession_opts *o, char *why,
                   size_t whylen)
{
	struct mproto_packet pkt;
	struct mproto_optneg n;
	enum mconn_status st;

	mproto_put_optneg(mconn_out(s->conn), o->version, o->actions,
	                  o->protocol);
	if ((st = mconn_read(s->conn, &pkt, why, whylen)) != MCONN_OK)
		return st;
	if (mproto_parse_optneg(&pkt, &n, why, whylen) < 0 ||
	    msession_check_neg(&n, o, why, whylen) < 0)
		return MCONN_PROTOCOL;
	s->neg.version = n.version;
	s->neg.actions = n.actions;
	s->neg.protocol = n.protocol;
	s->offered_protocol = o->protocol;
	msession_keep_macros(s, &n);
	return MCONN_OK;
}

/* msession_open - connect and negotiate */
enum mconn_status
msession_open(const struct mconn_addr *a, const struct msession_opts *o,
              struct msession **out, char *why, size_t whylen)
{
	struct msession *s;
	struct mconn *c;
	enum mconn_status st;

	*out = NULL;
	c = mconn_open(a, o->timeout_ms, o->nodelay, why, whylen);
	if (c == NULL)
		return MCONN_CONNECT;
	s = xcalloc(1, sizeof(*s));
	s->conn = c;
	s->macros = mmacro_new();
	if ((st = msession_negotiate(s, o, why, whylen)) != MCONN_OK) {
		msession_close(s);
		return st;
	}
	*out = s;
	return MCONN_OK;
}

/* msession_negotiated - the milter's answer to the negotiation */
const struct msession_neg *
msession_negotiated(const struct msession *s)
{
	return &s->neg;
}

/* msession_macros - the session's macro values */
struct mmacro *
msession_macros(struct msession *s)
{
	return s->macros;
}

/* msession_on_reply - call fn(arg, ...) for every reply packet */
void
msession_on_reply(struct msession *s, msession_reply_fn fn, void *arg)
{
	s->on_reply = fn;
	s->arg = arg;
}

/* msession_wants_leading_space - did the milter ask for HDR_LEADSPC */
int
msession_wants_leading_space(const struct msession *s)
{
	return (s->neg.protocol & MPROTO_P_HDR_LEADSPC) != 0;
}

/* msession_put_macros - the macros of a stage, as Postfix sends them */
static void
msession_put_macros(struct msession *s, const struct msession_event *ev)
{
	const char *nv[2 * 32], *list;
	size_t n;

	if (ev->stage < 0)
		return;
	list = s->neg.macros[ev->stage];
	if (list == NULL)
		list = mmacro_default((enum mproto_stage) ev->stage);
	n = mmacro_select(s->macros, list, nv, 32);
	mproto_put_macro(mconn_out(s->conn), ev->code, nv, n);
}

/*
 * msession_begin - start an event: macros out, and whether the command
 * itself is to be sent (1) or skipped (0).  res says which.
 */
static int
msession_begin(struct msession *s, const struct msession_event *ev,
               struct msession_result *res)
{
	memset(res, 0, sizeof(*res));
	res->how = MSESSION_SKIPPED;
	if (s->dead != MCONN_OK)
		return 0;
	if (ev->quiet_skip && (s->neg.protocol & ev->no))
		return 0;
	msession_put_macros(s, ev);
	if (s->neg.protocol & ev->no)
		return 0;
	res->how =
	    (s->neg.protocol & ev->nr) ? MSESSION_NOREPLY : MSESSION_REPLIED;
	return 1;
}

/* msession_is_edit - a modification request */
static int
msession_is_edit(unsigned char code)
{
	return code != '\0' && strchr("+-2behim", code) != NULL;
}

/* msession_edit_action - the SMFIF_* action an edit needs */
static uint32_t
msession_edit_action(unsigned char code)
{
	switch (code) {
	case MPROTO_R_ADDHEADER:
	case MPROTO_R_INSHEADER:
		return MPROTO_F_ADDHDRS;
	case MPROTO_R_CHGHEADER:
		return MPROTO_F_CHGHDRS;
	case MPROTO_R_ADDRCPT:
		return MPROTO_F_ADDRCPT;
	case MPROTO_R_ADDRCPT_PAR:
		return MPROTO_F_ADDRCPT_PAR;
	case MPROTO_R_DELRCPT:
		return MPROTO_F_DELRCPT;
	case MPROTO_R_CHGFROM:
		return MPROTO_F_CHGFROM;
	default: /* REPLBODY */
		return MPROTO_F_CHGBODY;
	}
}

/* msession_classify_edit - a modification request: only at end of message */
static enum msession_kind
msession_classify_edit(const struct msession *s, unsigned char event,
                       unsigned char r, char *why, size_t whylen)
{
	if (event != MPROTO_C_BODYEOB && event != 0) {
		util_why(why, whylen, "'%s' after %s", mproto_reply_name(r),
		         mproto_command_name(event));
		return MSESSION_BAD;
	}
	if ((s->neg.actions & msession_edit_action(r)) == 0) {
		util_why(why, whylen, "'%s' without its action negotiated",
		         mproto_reply_name(r));
		return MSESSION_BAD;
	}
	return MSESSION_MORE;
}

/*
 * msession_classify - what reply r means after event "event" (0: after a
 * raw packet or nothing, where any deciding reply is fine).
 */
static enum msession_kind
msession_classify(const struct msession *s, unsigned char event,
                  unsigned char r, char *why, size_t whylen)
{
	int conn = event == MPROTO_C_CONNECT || event == MPROTO_C_HELO;

	if (r == MPROTO_R_PROGRESS || r == MPROTO_R_QUARANTINE)
		return MSESSION_MORE;
	if (msession_is_edit(r))
		return msession_classify_edit(s, event, r, why, whylen);
	if (event == 0 || strchr("acrty4", r) != NULL ||
	    (r == MPROTO_R_DISCARD && !conn) ||
	    (r == MPROTO_R_SKIP && event == MPROTO_C_BODY &&
	     (s->offered_protocol & MPROTO_P_SKIP)))
		return MSESSION_FINAL;
	util_why(why, whylen, "reply '%s' not allowed after %s",
	         mproto_reply_name(r), mproto_command_name(event));
	return MSESSION_BAD;
}

/* msession_take - one reply packet into res; the kind of reply */
static enum msession_kind
msession_take(struct msession *s, unsigned char event,
              const struct mproto_packet *pkt, struct msession_result *res,
              char *why, size_t whylen)
{
	struct mproto_reply r;
	enum msession_kind kind;

	if (mproto_parse_reply(pkt, &r, why, whylen) < 0)
		return MSESSION_BAD;
	kind = msession_classify(s, event, r.code, why, whylen);
	if (kind == MSESSION_BAD)
		return kind;
	if (s->on_reply != NULL)
		s->on_reply(s->arg, event, &r);
	if (msession_is_edit(r.code))
		res->edits++;
	if (kind == MSESSION_FINAL) {
		res->code = r.code;
		if (r.code == MPROTO_R_REPLYCODE)
			util_strlcpy(res->text, r.text, sizeof(res->text));
	}
	return kind;
}

/* msession_replies - read replies to event until a deciding one */
static enum mconn_status
msession_replies(struct msession *s, unsigned char event,
                 struct msession_result *res, char *why, size_t whylen)
{
	struct mproto_packet pkt;
	enum mconn_status st;
	enum msession_kind kind;

	do {
		st = mconn_read(s->conn, &pkt, why, whylen);
		if (st != MCONN_OK)
			return msession_fail(s, st, why);
		kind = msession_take(s, event, &pkt, res, why, whylen);
		if (kind == MSESSION_BAD)
			return msession_fail(s, MCONN_PROTOCOL, why);
	} while (kind == MSESSION_MORE);
	return MCONN_OK;
}

/* msession_finish - end an event begun by msession_begin() */
static enum mconn_status
msession_finish(struct msession *s, const struct msession_event *ev,
                struct msession_result *res, char *why, size_t whylen)
{
	if (s->dead != MCONN_OK)
		return msession_dead(s, why, whylen);
	if (res->how != MSESSION_REPLIED)
		return MCONN_OK;
	return msession_replies(s, ev->code, res, why, whylen);
}

/* msession_connect - SMFIC_CONNECT */
enum mconn_status
msession_connect(struct msession *s, const char *host, char family,
                 uint16_t port, const char *addr, struct msession_result *res,
                 char *why, size_t whylen)
{
	if (msession_begin(s, &msession_ev_connect, res))
		mproto_put_connect(mconn_out(s->conn), host, family, port,
		                   addr);
	return msession_finish(s, &msession_ev_connect, res, why, whylen);
}

/* msession_helo - SMFIC_HELO */
enum mconn_status
msession_helo(struct msession *s, const char *name, struct msession_result *res,
              char *why, size_t whylen)
{
	if (msession_begin(s, &msession_ev_helo, res))
		mproto_put_string(mconn_out(s->conn), MPROTO_C_HELO, name);
	return msession_finish(s, &msession_ev_helo, res, why, whylen);
}

/* msession_mail - SMFIC_MAIL */
enum mconn_status
msession_mail(struct msession *s, const char *const *argv, size_t argc,
              struct msession_result *res, char *why, size_t whylen)
{
	if (msession_begin(s, &msession_ev_mail, res))
		mproto_put_args(mconn_out(s->conn), MPROTO_C_MAIL, argv, argc);
	return msession_finish(s, &msession_ev_mail, res, why, whylen);
}

/* msession_rcpt - SMFIC_RCPT */
enum mconn_status
msession_rcpt(struct msession *s, const char *const *argv, size_t argc,
              struct msession_result *res, char *why, size_t whylen)
{
	if (msession_begin(s, &msession_ev_rcpt, res))
		mproto_put_args(mconn_out(s->conn), MPROTO_C_RCPT, argv, argc);
	return msession_finish(s, &msession_ev_rcpt, res, why, whylen);
}

/* msession_bare - an event without data (DATA, EOH, BODYEOB) */
static enum mconn_status
msession_bare(struct msession *s, const struct msession_event *ev,
              struct msession_result *res, char *why, size_t whylen)
{
	if (msession_begin(s, ev, res))
		mproto_put_empty(mconn_out(s->conn), ev->code);
	return msession_finish(s, ev, res, why, whylen);
}

/* msession_data - SMFIC_DATA */
enum mconn_status
msession_data(struct msession *s, struct msession_result *res, char *why,
              size_t whylen)
{
	return msession_bare(s, &msession_ev_data, res, why, whylen);
}

/* msession_header - SMFIC_HEADER */
enum mconn_status
msession_header(struct msession *s, const char *name, const char *value,
                struct msession_result *res, char *why, size_t whylen)
{
	if (msession_begin(s, &msession_ev_header, res))
		mproto_put_header(mconn_out(s->conn), name, value);
	return msession_finish(s, &msession_ev_header, res, why, whylen);
}

/* msession_eoh - SMFIC_EOH */
enum mconn_status
msession_eoh(struct msession *s, struct msession_result *res, char *why,
             size_t whylen)
{
	return msession_bare(s, &msession_ev_eoh, res, why, whylen);
}

/* msession_chunk - one body chunk */
static enum mconn_status
msession_chunk(struct msession *s, const unsigned char *p, size_t n,
               struct msession_result *res, char *why, size_t whylen)
{
	if (msession_begin(s, &msession_ev_body, res))
		mproto_put_body(mconn_out(s->conn), p, n);
	return msession_finish(s, &msession_ev_body, res, why, whylen);
}

/* msession_body - body bytes in chunks; stops at a reply not continue */
enum mconn_status
msession_body(struct msession *s, const void *data, size_t len,
              struct msession_result *res, char *why, size_t whylen)
{
	const unsigned char *p = data;
	enum mconn_status st = MCONN_OK;
	size_t n;

	memset(res, 0, sizeof(*res));
	res->how = MSESSION_SKIPPED;
	if (s->dead != MCONN_OK)
		return msession_dead(s, why, whylen);
	while (len > 0) {
		n = len < MPROTO_CHUNK ? len : MPROTO_CHUNK;
		st = msession_chunk(s, p, n, res, why, whylen);
		if (st != MCONN_OK || res->how == MSESSION_SKIPPED ||
		    (res->how == MSESSION_REPLIED &&
		     res->code != MPROTO_R_CONTINUE))
			break;
		p += n;
		len -= n;
	}
	return st;
}

/* msession_eom - SMFIC_BODYEOB: edits, then the final decision */
enum mconn_status
msession_eom(struct msession *s, struct msession_result *res, char *why,
             size_t whylen)
{
	return msession_bare(s, &msession_ev_eom, res, why, whylen);
}

/* msession_flush - write what is buffered */
enum mconn_status
msession_flush(struct msession *s, char *why, size_t whylen)
{
	enum mconn_status st;

	if (s->dead != MCONN_OK)
		return msession_dead(s, why, whylen);
	if ((st = mconn_flush(s->conn, why, whylen)) != MCONN_OK)
		return msession_fail(s, st, why);
	return MCONN_OK;
}

/* msession_abort - SMFIC_ABORT (no reply) */
enum mconn_status
msession_abort(struct msession *s, char *why, size_t whylen)
{
	if (s->dead != MCONN_OK)
		return msession_dead(s, why, whylen);
	mproto_put_empty(mconn_out(s->conn), MPROTO_C_ABORT);
	return msession_flush(s, why, whylen);
}

/* msession_quit - SMFIC_QUIT (no reply) */
enum mconn_status
msession_quit(struct msession *s, char *why, size_t whylen)
{
	if (s->dead != MCONN_OK)
		return msession_dead(s, why, whylen);
	mproto_put_empty(mconn_out(s->conn), MPROTO_C_QUIT);
	return msession_flush(s, why, whylen);
}

/* msession_raw - send one packet as given */
enum mconn_status
msession_raw(struct msession *s, unsigned char code, const void *data,
             size_t len, int want_reply, struct msession_result *res, char *why,
             size_t whylen)
{
	memset(res, 0, sizeof(*res));
	res->how = want_reply ? MSESSION_REPLIED : MSESSION_NOREPLY;
	if (s->dead != MCONN_OK)
		return msession_dead(s, why, whylen);
	mproto_put_raw(mconn_out(s->conn), code, data, len);
	if (!want_reply)
		return msession_flush(s, why, whylen);
	return msession_finish(s, &msession_ev_raw, res, why, whylen);
}

/* msession_expect - read replies until a deciding one */
enum mconn_status
msession_expect(struct msession *s, struct msession_result *res, char *why,
                size_t whylen)
{
	memset(res, 0, sizeof(*res));
	res->how = MSESSION_REPLIED;
	return msession_finish(s, &msession_ev_raw, res, why, whylen);
}

/* msession_close - close without a word; NULL is fine */
void
msession_close(struct msession *s)
{
	if (s == NULL)
		return;
	mconn_close(s->conn);
	mmacro_free(s->macros);
	for (int i = 0; i < MPROTO_M_COUNT; i++)
		free(s->neg.macros[i]);
	free(s);
}
