/*
 * mserve - the milter side of the milter protocol.
 */

#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "log.h"
#include "mserve.h"
#include "tcptune.h"
#include "util.h"

#define MSERVE_VERSION 6       /* the newest protocol version we speak */
#define MSERVE_READ_SIZE 65536 /* what one read asks for, at least */
#define MSERVE_TIMEOUT_S 7210  /* an idle MTA connection (libmilter's) */
#define MSERVE_REPLY_MAX 1024  /* an SMTP reply line */

/* One MTA connection. */
struct mserve_session {
	int fd;
	int tcp;
	const struct mserve_ops *ops;
	void *priv;
	struct mproto_buf in;  /* bytes read, not yet taken */
	size_t in_used;        /* of in: taken already */
	struct mproto_buf out; /* replies not yet written */
	uint32_t actions;      /* negotiated */
	uint32_t steps;        /* negotiated */
	int negotiated;
	int connected;                /* the close callback is due */
	int in_eom;                   /* header edits allowed */
	int done;                     /* QUIT, or an error: stop reading */
	char *macros[MPROTO_M_COUNT]; /* name\0value\0... as sent */
	size_t macros_len[MPROTO_M_COUNT];
	char reply[MSERVE_REPLY_MAX]; /* for the next refusal, or "" */
};

/* mserve_stage_of - the macro stage of the command a MACRO is for */
static int
mserve_stage_of(unsigned char code)
{
	switch (code) {
	case MPROTO_C_CONNECT:
		return MPROTO_M_CONNECT;
	case MPROTO_C_HELO:
		return MPROTO_M_HELO;
	case MPROTO_C_MAIL:
		return MPROTO_M_ENVFROM;
	case MPROTO_C_RCPT:
		return MPROTO_M_ENVRCPT;
	case MPROTO_C_DATA:
		return MPROTO_M_DATA;
	case MPROTO_C_HEADER:
	case MPROTO_C_EOH:
		return MPROTO_M_EOH;
	case MPROTO_C_BODY:
	case MPROTO_C_BODYEOB:
		return MPROTO_M_EOM;
	default:
		return -1;
	}
}

/* mserve_macros_clear - forget the macros of stages from..to (inclusive) */
static void
mserve_macros_clear(struct mserve_session *s, int from, int to)
{
	for (int i = from; i <= to; i++) {
		free(s->macros[i]);
		s->macros[i] = NULL;
		s->macros_len[i] = 0;
	}
}

/* mserve_macros_clear_message - forget the macros of the message */
static void
mserve_macros_clear_message(struct mserve_session *s)
{
	mserve_macros_clear(s, MPROTO_M_ENVFROM, MPROTO_M_EOH);
}

/* mserve_macros_set - the macros of a stage, replacing earlier ones */
static void
mserve_macros_set(struct mserve_session *s, const struct mproto_command *c)
{
	int stage = mserve_stage_of(c->stage);

	if (stage < 0)
		return;
	mserve_macros_clear(s, stage, stage);
	if (c->len == 0)
		return;
	s->macros[stage] = xmalloc(c->len);
	memcpy(s->macros[stage], c->data, c->len);
	s->macros_len[stage] = c->len;
}

/* mserve_name_eq - macro names equal, braces aside: "i" is "{i}" */
static int
mserve_name_eq(const char *a, const char *b)
{
	size_t la, lb;

	a += *a == '{';
	b += *b == '{';
	la = strcspn(a, "}");
	lb = strcspn(b, "}");
	return la == lb && memcmp(a, b, la) == 0;
}

/* mserve_macro - look a macro up, the latest stage first */
const char *
mserve_macro(const struct mserve_session *s, const char *name)
{
	static const int order[] = {
	    MPROTO_M_EOM,     MPROTO_M_EOH,  MPROTO_M_DATA,   MPROTO_M_ENVRCPT,
	    MPROTO_M_ENVFROM, MPROTO_M_HELO, MPROTO_M_CONNECT};

	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		const char *p = s->macros[order[i]];
		const char *end;

		if (p == NULL)
			continue;
		end = p + s->macros_len[order[i]];
		while (p < end) {
			const char *value = p + strlen(p) + 1;

			if (value >= end)
				break;
			if (mserve_name_eq(p, name))
				return value;
			p = value + strlen(value) + 1;
		}
	}
	return NULL;
}

/* mserve_priv - the callbacks' data */
void *
mserve_priv(const struct mserve_session *s)
{
	return s->priv;
}

/* mserve_set_priv - set the callbacks' data */
void
mserve_set_priv(struct mserve_session *s, void *priv)
{
	s->priv = priv;
}

/* mserve_reply - the text of the next refusal */
int
mserve_reply(struct mserve_session *s, const char *rcode, const char *xcode,
             const char *text)
{
	if (strlen(rcode) != 3 || (rcode[0] != '4' && rcode[0] != '5') ||
	    strspn(rcode, "0123456789") != 3 || xcode[0] != rcode[0] ||
	    xcode[1] != '.' || strpbrk(text, "\r\n") != NULL)
		return -1;
	snprintf(s->reply, sizeof(s->reply), "%s %s %s", rcode, xcode, text);
	return 0;
}

/* mserve_edit_ok - may the session edit headers now, with this action? */
static int
mserve_edit_ok(const struct mserve_session *s, uint32_t action)
{
	return s->in_eom && (s->actions & action) != 0;
}

/* mserve_addheader - append a header field */
int
mserve_addheader(struct mserve_session *s, const char *name, const char *value)
{
	if (!mserve_edit_ok(s, MPROTO_F_ADDHDRS))
		return -1;
	mproto_put_pair(&s->out, MPROTO_R_ADDHEADER, name, value);
	return 0;
}

/* mserve_insheader - insert a header field at index */
int
mserve_insheader(struct mserve_session *s, uint32_t index, const char *name,
                 const char *value)
{
	if (!mserve_edit_ok(s, MPROTO_F_ADDHDRS))
		return -1;
	mproto_put_indexed(&s->out, MPROTO_R_INSHEADER, index, name, value);
	return 0;
}

/* mserve_chgheader - change or (value NULL) delete a header field */
int
mserve_chgheader(struct mserve_session *s, uint32_t index, const char *name,
                 const char *value)
{
	if (!mserve_edit_ok(s, MPROTO_F_CHGHDRS))
		return -1;
	mproto_put_indexed(&s->out, MPROTO_R_CHGHEADER, index, name,
	                   value ? value : "");
	return 0;
}

/*
 * mserve_answer - the reply to a step: none for a step the MTA does not
 * wait for (nr, a negotiated MPROTO_P_NR_* flag), where a refusal cannot
 * be given (logged: the milter asked for both).
 */
static void
mserve_answer(struct mserve_session *s, enum mserve_status st, uint32_t nr)
{
	if ((s->steps & nr) != 0) {
		if (st != MSERVE_CONTINUE)
			log_error("milter session: a refusal at a step the "
			          "MTA does not wait for (0x%lx) is lost",
			          (unsigned long) nr);
		s->reply[0] = '\0';
		return;
	}
	if (st == MSERVE_CONTINUE) {
		mproto_put_empty(&s->out, MPROTO_R_CONTINUE);
		s->reply[0] = '\0';
		return;
	}
	if (s->reply[0] != '\0')
		mproto_put_string(&s->out, MPROTO_R_REPLYCODE, s->reply);
	else
		mproto_put_empty(&s->out, st == MSERVE_REJECT
		                              ? MPROTO_R_REJECT
		                              : MPROTO_R_TEMPFAIL);
	s->reply[0] = '\0';
}

/* mserve_negotiate - agree on version, actions, steps and macros */
static void
mserve_negotiate(struct mserve_session *s, const struct mproto_command *c)
{
	const struct mserve_ops *ops = s->ops;
	const char *none[MPROTO_M_COUNT] = {NULL};
	uint32_t version =
	    c->version < MSERVE_VERSION ? c->version : MSERVE_VERSION;

	if (version < 2) {
		log_warning("milter session: the MTA speaks protocol version "
		            "%lu, relaygate needs 2 or later; closing it",
		            (unsigned long) c->version);
		s->done = 1;
		return;
	}
	if ((c->actions & ops->actions) != ops->actions)
		log_warning("the MTA does not offer all milter actions "
		            "relaygate uses (offered 0x%lx, wanted 0x%lx)",
		            (unsigned long) c->actions,
		            (unsigned long) ops->actions);
	s->actions = c->actions & ops->actions;
	s->steps = c->protocol & ops->steps;
	s->negotiated = 1;
	mproto_put_optneg_reply(&s->out, version, s->actions, s->steps,
	                        s->actions & MPROTO_F_SETSYMLIST ? ops->macros
	                                                         : none);
}

/* mserve_end_connect - the close callback of a connect, once */
static void
mserve_end_connect(struct mserve_session *s)
{
	if (!s->connected)
		return;
	s->connected = 0;
	if (s->ops->close != NULL)
		s->ops->close(s);
	s->priv = NULL;
}

/* mserve_connect - a new SMTP client */
static void
mserve_connect(struct mserve_session *s, const struct mproto_command *c)
{
	enum mserve_status st = MSERVE_CONTINUE;

	mserve_end_connect(s);
	s->connected = 1;
	if (s->ops->connect != NULL)
		st = s->ops->connect(s, c->host, c->family, c->addr);
	mserve_answer(s, st, MPROTO_P_NR_CONN);
}

/* mserve_mail - a message begins */
static void
mserve_mail(struct mserve_session *s, const struct mproto_command *c)
{
	enum mserve_status st = MSERVE_CONTINUE;

	mserve_macros_clear(s, MPROTO_M_ENVRCPT, MPROTO_M_EOH);
	if (s->ops->envfrom != NULL)
		st = s->ops->envfrom(s, c->argv, c->argc);
	mserve_answer(s, st, MPROTO_P_NR_MAIL);
}

/* mserve_body - a body chunk (also the data of an end of message) */
static void
mserve_body(struct mserve_session *s, const struct mproto_command *c)
{
	if (c->len > 0 && s->ops->body != NULL)
		s->ops->body(s, c->data, c->len);
}

/* mserve_eom - the end of a message: edits, then the decision */
static void
mserve_eom(struct mserve_session *s, const struct mproto_command *c)
{
	enum mserve_status st = MSERVE_CONTINUE;

	mserve_body(s, c);
	s->in_eom = 1;
	if (s->ops->eom != NULL)
		st = s->ops->eom(s);
	s->in_eom = 0;
	mserve_answer(s, st, 0);
	mserve_macros_clear_message(s);
}

/* mserve_step - one callback that may refuse, and its answer */
static void
mserve_step(struct mserve_session *s,
            enum mserve_status (*fn)(struct mserve_session *), uint32_t nr)
{
	mserve_answer(s, fn != NULL ? fn(s) : MSERVE_CONTINUE, nr);
}

/* mserve_message_command - the commands of a message */
static void
mserve_message_command(struct mserve_session *s, const struct mproto_command *c)
{
	const struct mserve_ops *ops = s->ops;

	switch (c->code) {
	case MPROTO_C_MAIL:
		mserve_mail(s, c);
		break;
	case MPROTO_C_RCPT:
		mserve_answer(s, MSERVE_CONTINUE, MPROTO_P_NR_RCPT);
		break;
	case MPROTO_C_DATA:
		mserve_answer(s, MSERVE_CONTINUE, MPROTO_P_NR_DATA);
		break;
	case MPROTO_C_HEADER:
		if (ops->header != NULL)
			ops->header(s, c->name, c->value);
		mserve_answer(s, MSERVE_CONTINUE, MPROTO_P_NR_HDR);
		break;
	case MPROTO_C_EOH:
		mserve_step(s, ops->eoh, MPROTO_P_NR_EOH);
		break;
	case MPROTO_C_BODY:
		mserve_body(s, c);
		mserve_answer(s, MSERVE_CONTINUE, MPROTO_P_NR_BODY);
		break;
	case MPROTO_C_BODYEOB:
		mserve_eom(s, c);
		break;
	case MPROTO_C_ABORT:
		if (ops->abort != NULL)
			ops->abort(s);
		mserve_macros_clear_message(s);
		break;
	default: /* mproto_parse_command() lets no other code through */
		break;
	}
}

/* mserve_command - one decoded command */
static void
mserve_command(struct mserve_session *s, const struct mproto_command *c)
{
	if (!s->negotiated && c->code != MPROTO_C_OPTNEG) {
		log_warning("milter session: '%c' before the option "
		            "negotiation; closing it",
		            c->code);
		s->done = 1;
		return;
	}
	switch (c->code) {
	case MPROTO_C_OPTNEG:
		mserve_negotiate(s, c);
		break;
	case MPROTO_C_MACRO:
		mserve_macros_set(s, c);
		break;
	case MPROTO_C_CONNECT:
		mserve_connect(s, c);
		break;
	case MPROTO_C_HELO:
		mserve_answer(s, MSERVE_CONTINUE, MPROTO_P_NR_HELO);
		break;
	case MPROTO_C_UNKNOWN:
		mserve_answer(s, MSERVE_CONTINUE, MPROTO_P_NR_UNKN);
		break;
	case MPROTO_C_QUIT:
		s->done = 1;
		break;
	case MPROTO_C_QUIT_NC:
		mserve_end_connect(s);
		mserve_macros_clear(s, 0, MPROTO_M_COUNT - 1);
		break;
	default:
		mserve_message_command(s, c);
		break;
	}
}

/* mserve_flush - write the pending replies; -1 on error (logged) */
static int
mserve_flush(struct mserve_session *s)
{
	size_t done = 0;

	while (done < s->out.len) {
		ssize_t n = send(s->fd, s->out.data + done, s->out.len - done,
		                 MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			log_warning("milter session: cannot reply to the "
			            "MTA: %s",
			            n < 0 ? strerror(errno) : "closed");
			return -1;
		}
		done += (size_t) n;
	}
	s->out.len = 0;
	return 0;
}

/*
 * mserve_fill - read what the MTA sent; 1 with more bytes, 0 at the end
 * of the connection, -1 on error (logged).
 */
static int
mserve_fill(struct mserve_session *s)
{
	ssize_t n;

	mproto_buf_consume(&s->in, s->in_used);
	s->in_used = 0;
	mproto_buf_reserve(&s->in, MSERVE_READ_SIZE);
	do
		n = recv(s->fd, s->in.data + s->in.len, s->in.cap - s->in.len,
		         0);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		log_warning("milter session: the MTA sent nothing for %d s; "
		            "closing it",
		            MSERVE_TIMEOUT_S);
		return -1;
	}
	if (n < 0) {
		if (errno != ECONNRESET)
			log_warning("milter session: read: %s",
			            strerror(errno));
		return -1;
	}
	if (n > 0 && s->tcp)
		tcptune_quickack(s->fd);
	s->in.len += (size_t) n;
	return n > 0;
}

/*
 * mserve_next - the next whole command: 1, or 0 when none is complete
 * yet, -1 for a malformed one (logged).
 */
static int
mserve_next(struct mserve_session *s, struct mproto_command *c)
{
	struct mproto_packet pkt;
	char why[160];
	size_t used;
	int rc;

	if (s->in.len == s->in_used)
		return 0;
	rc = mproto_split(s->in.data + s->in_used, s->in.len - s->in_used,
	                  MPROTO_MAX_COMMAND, &pkt, &used, why, sizeof(why));
	if (rc == 1 && mproto_parse_command(&pkt, c, why, sizeof(why)) < 0)
		rc = -1;
	if (rc < 0) {
		log_warning("milter session: malformed input from the MTA "
		            "(%s); closing it",
		            why);
		return -1;
	}
	if (rc == 1)
		s->in_used += used;
	return rc;
}

/* mserve_serve - the session's loop; does not close fd */
static void
mserve_serve(struct mserve_session *s)
{
	struct mproto_command c;
	int rc;

	while (!s->done) {
		rc = mserve_next(s, &c);
		if (rc == 1) {
			mserve_command(s, &c);
			continue;
		}
		if (rc < 0 || mserve_flush(s) < 0 || mserve_fill(s) <= 0)
			break;
	}
	if (s->out.len > 0)
		(void) mserve_flush(s);
	mserve_end_connect(s);
}

/* mserve_session_serve - one connection, start to end; fd stays open */
void
mserve_session_serve(int fd, int tcp, const struct mserve_ops *ops)
{
	struct mserve_session s = {.fd = fd, .tcp = tcp, .ops = ops};
	struct timeval tv = {.tv_sec = MSERVE_TIMEOUT_S};

	(void) setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void) setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	mproto_buf_init(&s.in);
	mproto_buf_init(&s.out);
	mserve_serve(&s);
	mserve_macros_clear(&s, 0, MPROTO_M_COUNT - 1);
	mproto_buf_free(&s.in);
	mproto_buf_free(&s.out);
}
