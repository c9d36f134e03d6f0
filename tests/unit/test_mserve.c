/*
 * test_mserve - the milter protocol engine, driven as an MTA would over a
 * socketpair (one session) and over a unix socket (the server: accept,
 * stop).  The MTA side is mproto's encoder; what the engine sends back is
 * decoded and compared with what the protocol requires.
 */

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "listener.h"
#include "mproto.h"
#include "mserve.h"
#include "util.h"

/* What the callbacks saw, in order. */
static pthread_mutex_t events_lock = PTHREAD_MUTEX_INITIALIZER;
static char events[16384];

/* ev - record one event */
static void ev(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void
ev(const char *fmt, ...)
{
	size_t n;
	va_list ap;

	pthread_mutex_lock(&events_lock);
	n = strlen(events);
	va_start(ap, fmt);
	vsnprintf(events + n, sizeof(events) - n, fmt, ap);
	va_end(ap);
	util_catf(events, sizeof(events), ";");
	pthread_mutex_unlock(&events_lock);
}

/* events_take - what was recorded since the last call */
static void
events_take(char *out, size_t size)
{
	pthread_mutex_lock(&events_lock);
	util_strlcpy(out, events, size);
	events[0] = '\0';
	pthread_mutex_unlock(&events_lock);
}

/* macro_or - a macro's value, "-" if not sent */
static const char *
macro_or(struct mserve_session *s, const char *name)
{
	const char *v = mserve_macro(s, name);

	return v ? v : "-";
}

static enum mserve_status
cb_connect(struct mserve_session *s, const char *host, char family,
           const char *addr)
{
	ev("connect %s %c%s", host, family, addr);
	mserve_set_priv(s, (void *) host); /* any non-NULL marker */
	return strcmp(host, "refuse.test") == 0 ? MSERVE_TEMPFAIL
	                                        : MSERVE_CONTINUE;
}

static enum mserve_status
cb_envfrom(struct mserve_session *s, const char *const *argv, size_t argc)
{
	ev("mail %s argc=%zu auth=%s i=%s", argv[0], argc,
	   macro_or(s, "auth_authen"), macro_or(s, "{i}"));
	if (strstr(argv[0], "tempfail") != NULL) {
		assert_int_equal(0, mserve_reply(s, "451", "4.7.1",
		                                 "try again, 100%% sure"));
		return MSERVE_TEMPFAIL;
	}
	if (strstr(argv[0], "badreply") != NULL) {
		ev("reply=%d", mserve_reply(s, "250", "2.0.0", "fine"));
		return MSERVE_TEMPFAIL;
	}
	if (strstr(argv[0], "stale") != NULL) { /* a text, then no refusal */
		assert_int_equal(0, mserve_reply(s, "550", "5.7.1", "stale"));
		return MSERVE_CONTINUE;
	}
	return strstr(argv[0], "reject") != NULL ? MSERVE_REJECT
	                                         : MSERVE_CONTINUE;
}

static void
cb_header(struct mserve_session *s, const char *name, const char *value)
{
	(void) s;
	ev("header %s=%s", name, value);
}

static enum mserve_status
cb_eoh(struct mserve_session *s)
{
	ev("eoh i=%s edit=%d", macro_or(s, "i"),
	   mserve_addheader(s, "X-Early", "no"));
	return MSERVE_CONTINUE;
}

static void
cb_body(struct mserve_session *s, const unsigned char *data, size_t len)
{
	(void) s;
	ev("body %zu %.3s", len, (const char *) data);
}

static enum mserve_status
cb_eom(struct mserve_session *s)
{
	int a = mserve_chgheader(s, 1, "X-Old", NULL);
	int b = mserve_addheader(s, "X-Status", "ok");
	int c = mserve_insheader(s, 0, "DKIM-Signature", "v=1; a=x");

	ev("eom i=%s edits=%d%d%d", macro_or(s, "i"), a, b, c);
	return MSERVE_CONTINUE;
}

static void
cb_abort(struct mserve_session *s)
{
	(void) s;
	ev("abort");
}

static void
cb_close(struct mserve_session *s)
{
	ev("close priv=%d", mserve_priv(s) != NULL);
}

#define WANT_STEPS                                                             \
	(MPROTO_P_NOHELO | MPROTO_P_NR_HDR | MPROTO_P_NR_BODY | MPROTO_P_NORCPT)

static const struct mserve_ops ops = {
    .actions = MPROTO_F_ADDHDRS | MPROTO_F_CHGHDRS | MPROTO_F_SETSYMLIST,
    .steps = WANT_STEPS,
    .macros = {[MPROTO_M_ENVFROM] = "i {auth_authen}", [MPROTO_M_EOM] = "i"},
    .connect = cb_connect,
    .envfrom = cb_envfrom,
    .header = cb_header,
    .eoh = cb_eoh,
    .body = cb_body,
    .eom = cb_eom,
    .abort = cb_abort,
    .close = cb_close,
};

/* The same with connect and the end of the headers unanswered. */
static const struct mserve_ops ops_nr = {
    .actions = MPROTO_F_ADDHDRS,
    .steps = WANT_STEPS | MPROTO_P_NR_CONN | MPROTO_P_NR_EOH,
    .connect = cb_connect,
    .envfrom = cb_envfrom,
    .eoh = cb_eoh,
    .close = cb_close,
};

/* The MTA's end of one session. */
struct mta {
	int fd;
	pthread_t tid;
	const struct mserve_ops *ops;
	int peer;
	unsigned char in[1 << 16];
	size_t len;
	struct mproto_buf out;
};

static void *
session_thread(void *arg)
{
	struct mta *m = arg;

	mserve_session_serve(m->peer, 0, m->ops);
	close(m->peer);
	return NULL;
}

/* mta_open_ops - a session over a socketpair, its engine in a thread */
static struct mta *
mta_open_ops(const struct mserve_ops *o)
{
	struct mta *m = xcalloc(1, sizeof(*m));
	struct timeval tv = {.tv_sec = 5};
	int sv[2];

	m->ops = o;
	assert_int_equal(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	m->fd = sv[0];
	m->peer = sv[1];
	setsockopt(m->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	mproto_buf_init(&m->out);
	events[0] = '\0';
	assert_int_equal(0, pthread_create(&m->tid, NULL, session_thread, m));
	return m;
}

/* mta_open - a session with the test's usual operations */
static struct mta *
mta_open(void)
{
	return mta_open_ops(&ops);
}

/* mta_close - hang up and wait for the engine to finish */
static void
mta_close(struct mta *m)
{
	close(m->fd);
	pthread_join(m->tid, NULL);
	mproto_buf_free(&m->out);
	free(m);
}

/* mta_send - write what was put in m->out */
static void
mta_send(struct mta *m)
{
	assert_int_equal((ssize_t) m->out.len,
	                 send(m->fd, m->out.data, m->out.len, MSG_NOSIGNAL));
	m->out.len = 0;
}

/*
 * mta_read - the next packet from the engine, or 0 at the end of the
 * connection.  The packet is copied to "data" (NUL-terminated).
 */
static int
mta_read(struct mta *m, struct mproto_packet *pkt, char *data, size_t size)
{
	char why[128];
	size_t used;
	ssize_t n;

	for (;;) {
		int rc = mproto_split(m->in, m->len, MPROTO_MAX_PACKET, pkt,
		                      &used, why, sizeof(why));

		assert_true(rc >= 0);
		if (rc == 1)
			break;
		n = recv(m->fd, m->in + m->len, sizeof(m->in) - m->len, 0);
		assert_true(n >= 0); /* a timeout means a missing reply */
		if (n == 0)
			return 0;
		m->len += (size_t) n;
	}
	assert_true(pkt->len < size);
	memcpy(data, pkt->data, pkt->len);
	data[pkt->len] = '\0';
	pkt->data = (const unsigned char *) data;
	memmove(m->in, m->in + used, m->len - used);
	m->len -= used;
	return 1;
}

/* mta_expect - the next reply has this code; returns it decoded */
static struct mproto_reply
mta_expect(struct mta *m, unsigned char code, char *data, size_t size)
{
	struct mproto_packet pkt;
	struct mproto_reply r;
	char why[128];

	assert_int_equal(1, mta_read(m, &pkt, data, size));
	if (pkt.code != code)
		fail_msg("reply '%c', expected '%c'", pkt.code, code);
	assert_int_equal(0, mproto_parse_reply(&pkt, &r, why, sizeof(why)));
	return r;
}

/* mta_eof - the engine closed the connection, with nothing before */
static void
mta_eof(struct mta *m)
{
	struct mproto_packet pkt;
	char data[256];

	assert_int_equal(0, mta_read(m, &pkt, data, sizeof(data)));
}

/* mta_negotiate - as Postfix 3 does; returns the engine's answer */
static struct mproto_optneg
mta_negotiate(struct mta *m, uint32_t version, uint32_t actions,
              uint32_t protocol, char *data, size_t size)
{
	struct mproto_packet pkt;
	struct mproto_optneg o;
	char why[128];

	mproto_put_optneg(&m->out, version, actions, protocol);
	mta_send(m);
	assert_int_equal(1, mta_read(m, &pkt, data, size));
	assert_int_equal(0, mproto_parse_optneg(&pkt, &o, why, sizeof(why)));
	return o;
}

/* mta_postfix - negotiated as Postfix 3 with milter_protocol = 6 */
static void
mta_postfix(struct mta *m)
{
	char data[512];
	struct mproto_optneg o =
	    mta_negotiate(m, 6, MPROTO_POSTFIX_ACTIONS, MPROTO_POSTFIX_PROTOCOL,
	                  data, sizeof(data));

	assert_int_equal(6, o.version);
}

/* mta_connect - CONNECT from a client, answered "continue" */
static void
mta_connect(struct mta *m, const char *host)
{
	char data[64];

	mproto_put_connect(&m->out, host, MPROTO_FAMILY_INET, 25, "192.0.2.1");
	mta_send(m);
	mta_expect(m, MPROTO_R_CONTINUE, data, sizeof(data));
}

/* mta_ready - a session negotiated as Postfix does, a client connected */
static struct mta *
mta_ready(void)
{
	struct mta *m = mta_open();

	mta_postfix(m);
	mta_connect(m, "client.test");
	return m;
}

/* mta_macro - one name/value macro for the command "code" */
static void
mta_macro(struct mta *m, unsigned char code, const char *name,
          const char *value)
{
	const char *nv[2] = {name, value};

	mproto_put_macro(&m->out, code, nv, 1);
}

/* mta_mail - macros and MAIL FROM */
static void
mta_mail(struct mta *m, const char *from)
{
	const char *argv[2] = {from, "SIZE=100"};
	const char *nv[4] = {"i", "QID1", "{auth_authen}", "alice"};

	mproto_put_macro(&m->out, MPROTO_C_MAIL, nv, 2);
	mproto_put_args(&m->out, MPROTO_C_MAIL, argv, 2);
	mta_send(m);
}

/* assert_events - the callbacks saw exactly this since the last check */
static void
assert_events(const char *want)
{
	char got[sizeof(events)];

	events_take(got, sizeof(got));
	assert_string_equal(want, got);
}

/* test_negotiate_postfix - what we ask for, as far as it is offered */
static void
test_negotiate_postfix(void **state)
{
	struct mta *m = mta_open();
	char data[512];
	struct mproto_optneg o =
	    mta_negotiate(m, 6, MPROTO_POSTFIX_ACTIONS, MPROTO_POSTFIX_PROTOCOL,
	                  data, sizeof(data));

	(void) state;
	assert_int_equal(6, o.version);
	assert_int_equal(ops.actions, o.actions);
	assert_int_equal(WANT_STEPS, o.protocol);
	assert_string_equal("i {auth_authen}", o.macros[MPROTO_M_ENVFROM]);
	assert_string_equal("i", o.macros[MPROTO_M_EOM]);
	assert_null(o.macros[MPROTO_M_EOH]);
	mta_close(m);
	assert_events("");
}

/*
 * test_negotiate_old_mta - an MTA of version 2 offering no symbol lists and
 * no steps: our version follows it, no macro lists are sent, and every
 * step is answered.
 */
static void
test_negotiate_old_mta(void **state)
{
	struct mta *m = mta_open();
	char data[512];
	struct mproto_optneg o = mta_negotiate(
	    m, 2, MPROTO_F_ADDHDRS | MPROTO_F_CHGHDRS, 0, data, sizeof(data));

	(void) state;
	assert_int_equal(2, o.version);
	assert_int_equal(MPROTO_F_ADDHDRS | MPROTO_F_CHGHDRS, o.actions);
	assert_int_equal(0, o.protocol);
	for (int i = 0; i < MPROTO_M_COUNT; i++)
		assert_null(o.macros[i]);
	mta_connect(m, "client.test");
	mproto_put_string(&m->out, MPROTO_C_HELO, "client.test");
	mproto_put_header(&m->out, "From", "a@b.test");
	mproto_put_body(&m->out, "x", 1);
	mta_send(m);
	mta_expect(m, MPROTO_R_CONTINUE, data, sizeof(data)); /* HELO */
	mta_expect(m, MPROTO_R_CONTINUE, data, sizeof(data)); /* header */
	mta_expect(m, MPROTO_R_CONTINUE, data, sizeof(data)); /* body */
	mta_close(m);
}

/* test_version_too_old - version 1 is refused by closing */
static void
test_version_too_old(void **state)
{
	struct mta *m = mta_open();

	(void) state;
	mproto_put_optneg(&m->out, 1, MPROTO_POSTFIX_ACTIONS, 0);
	mta_send(m);
	mta_eof(m);
	mta_close(m);
	assert_events("");
}

/*
 * test_message - a whole message as Postfix sends it: unanswered headers
 * and body chunks taken in order, macros by stage and either name form,
 * edits before the final reply, in the order made.
 */
static void
test_message(void **state)
{
	struct mta *m = mta_ready();
	struct mproto_reply r;
	char data[512];

	(void) state;
	assert_events("connect client.test 4192.0.2.1;");
	mta_mail(m, "<alice@good.test>");
	mta_expect(m, MPROTO_R_CONTINUE, data, sizeof(data));
	assert_events("mail <alice@good.test> argc=2 auth=alice i=QID1;");
	mproto_put_header(&m->out, "From", "Alice <alice@good.test>");
	mproto_put_header(&m->out, "X-Folded", "a\r\n\tb");
	mta_macro(m, MPROTO_C_EOH, "i", "QID2");
	mproto_put_empty(&m->out, MPROTO_C_EOH);
	mta_send(m);
	mta_expect(m, MPROTO_R_CONTINUE, data, sizeof(data));
	mproto_put_body(&m->out, "one\r\n", 5);
	mproto_put_body(&m->out, "two\r\n", 5);
	mproto_put_empty(&m->out, MPROTO_C_BODYEOB);
	mta_send(m);
	r = mta_expect(m, MPROTO_R_CHGHEADER, data, sizeof(data));
	assert_int_equal(1, r.index);
	assert_string_equal("X-Old", r.name);
	assert_string_equal("", r.value);
	r = mta_expect(m, MPROTO_R_ADDHEADER, data, sizeof(data));
	assert_string_equal("X-Status", r.name);
	assert_string_equal("ok", r.value);
	r = mta_expect(m, MPROTO_R_INSHEADER, data, sizeof(data));
	assert_int_equal(0, r.index);
	assert_string_equal("DKIM-Signature", r.name);
	assert_string_equal("v=1; a=x", r.value);
	mta_expect(m, MPROTO_R_CONTINUE, data, sizeof(data));
	assert_events("header From=Alice <alice@good.test>;"
	              "header X-Folded=a\r\n\tb;eoh i=QID2 edit=-1;"
	              "body 5 one;body 5 two;eom i=QID2 edits=000;");
	mproto_put_empty(&m->out, MPROTO_C_QUIT);
	mta_send(m);
	mta_eof(m);
	mta_close(m);
	assert_events("close priv=1;");
}

/*
 * test_refusals - a reply text goes as REPLYCODE, as given (doubling '%'
 * for sendmail is the caller's: milter.c); without a text the bare
 * status; a malformed text is refused and not sent; a text set at a step
 * that then continues is not kept for a later refusal.
 */
static void
test_refusals(void **state)
{
	struct mta *m = mta_ready();
	struct mproto_reply r;
	char data[512];

	(void) state;
	mta_mail(m, "<tempfail@good.test>");
	r = mta_expect(m, MPROTO_R_REPLYCODE, data, sizeof(data));
	assert_string_equal("451 4.7.1 try again, 100%% sure", r.text);
	mproto_put_empty(&m->out, MPROTO_C_ABORT);
	mta_mail(m, "<reject@good.test>");
	mta_expect(m, MPROTO_R_REJECT, data, sizeof(data));
	mta_mail(m, "<badreply@good.test>");
	mta_expect(m, MPROTO_R_TEMPFAIL, data, sizeof(data));
	mta_mail(m, "<stale@good.test>");
	mta_expect(m, MPROTO_R_CONTINUE, data, sizeof(data));
	mta_mail(m, "<reject@good.test>"); /* not the stale text */
	mta_expect(m, MPROTO_R_REJECT, data, sizeof(data));
	mta_close(m);
	assert_events(
	    "connect client.test 4192.0.2.1;"
	    "mail <tempfail@good.test> argc=2 auth=alice i=QID1;"
	    "abort;mail <reject@good.test> argc=2 auth=alice i=QID1;"
	    "mail <badreply@good.test> argc=2 auth=alice i=QID1;"
	    "reply=-1;mail <stale@good.test> argc=2 auth=alice i=QID1;"
	    "mail <reject@good.test> argc=2 auth=alice i=QID1;"
	    "close priv=1;");
}

/*
 * test_macros_forgotten - a message's macros end with it (abort, end of
 * message); the connection's stay.  A refused connect answers tempfail.
 */
static void
test_macros_forgotten(void **state)
{
	struct mta *m = mta_open();
	const char *argv[1] = {"<bob@good.test>"};
	char data[512];

	(void) state;
	mta_postfix(m);
	mta_macro(m, MPROTO_C_CONNECT, "{auth_authen}", "conn-level");
	mta_connect(m, "client.test");
	mta_mail(m, "<alice@good.test>");
	mta_expect(m, MPROTO_R_CONTINUE, data, sizeof(data));
	mproto_put_empty(&m->out, MPROTO_C_ABORT);
	mproto_put_args(&m->out, MPROTO_C_MAIL, argv, 1);
	mta_send(m);
	mta_expect(m, MPROTO_R_CONTINUE, data, sizeof(data));
	mproto_put_empty(&m->out, MPROTO_C_QUIT_NC);
	mproto_put_connect(&m->out, "refuse.test", MPROTO_FAMILY_UNKNOWN, 0,
	                   NULL);
	mta_send(m);
	mta_expect(m, MPROTO_R_TEMPFAIL, data, sizeof(data));
	mta_close(m);
	assert_events("connect client.test 4192.0.2.1;"
	              "mail <alice@good.test> argc=2 auth=alice i=QID1;abort;"
	              "mail <bob@good.test> argc=1 auth=conn-level i=-;"
	              "close priv=1;connect refuse.test U;close priv=1;");
}

/* test_body_in_eob - data in the end-of-message packet is body */
static void
test_body_in_eob(void **state)
{
	struct mta *m = mta_ready();
	char data[512];

	(void) state;
	mta_mail(m, "<alice@good.test>");
	mta_expect(m, MPROTO_R_CONTINUE, data, sizeof(data));
	mproto_put_raw(&m->out, MPROTO_C_BODYEOB, "end\r\n", 5);
	mta_send(m);
	mta_expect(m, MPROTO_R_CHGHEADER, data, sizeof(data));
	mta_expect(m, MPROTO_R_ADDHEADER, data, sizeof(data));
	mta_expect(m, MPROTO_R_INSHEADER, data, sizeof(data));
	mta_expect(m, MPROTO_R_CONTINUE, data, sizeof(data));
	mta_close(m);
	assert_events("connect client.test 4192.0.2.1;"
	              "mail <alice@good.test> argc=2 auth=alice i=QID1;"
	              "body 5 end;eom i=QID1 edits=000;close priv=1;");
}

/* test_edits_not_allowed - actions the MTA did not offer are refused */
static void
test_edits_not_allowed(void **state)
{
	struct mta *m = mta_open();
	char data[512];

	(void) state;
	mta_negotiate(m, 6, MPROTO_F_ADDHDRS, MPROTO_POSTFIX_PROTOCOL, data,
	              sizeof(data));
	mta_connect(m, "client.test");
	mproto_put_empty(&m->out, MPROTO_C_BODYEOB);
	mta_send(m);
	mta_expect(m, MPROTO_R_ADDHEADER, data, sizeof(data));
	mta_expect(m, MPROTO_R_INSHEADER, data, sizeof(data));
	mta_expect(m, MPROTO_R_CONTINUE, data, sizeof(data));
	mta_close(m);
	assert_events("connect client.test 4192.0.2.1;eom i=- edits=-100;"
	              "close priv=1;");
}

/* hostile - send raw bytes after a negotiation; the engine must close */
static void
hostile(const void *bytes, size_t len, int negotiate, const char *want)
{
	struct mta *m = mta_open();

	if (negotiate) {
		mta_postfix(m);
		mta_connect(m, "client.test");
	}
	memcpy(mproto_buf_reserve(&m->out, len), bytes, len);
	m->out.len += len;
	mta_send(m);
	mta_eof(m);
	mta_close(m);
	assert_events(want);
}

/*
 * test_hostile - malformed input ends the session, the close callback
 * runs once, nothing is answered: unknown command, zero length, too big,
 * a command before the negotiation, malformed strings.
 */
static void
test_hostile(void **state)
{
	static const unsigned char unknown[] = {0, 0, 0, 3, 'Z', 'x', 'y'};
	static const unsigned char zero[] = {0, 0, 0, 0};
	static const unsigned char big[] = {0, 0x10, 0, 2, 'L'};
	static const unsigned char header1[] = {0, 0, 0, 4, 'L', 'a', 0, 'b'};
	static const unsigned char eoh_data[] = {0, 0, 0, 2, 'N', 'x'};
	static const unsigned char connect_bad[] = {0,   0, 0,   6, 'C',
	                                            'h', 0, '4', 0, 25};
	const char *closed = "connect client.test 4192.0.2.1;close priv=1;";

	(void) state;
	hostile(unknown, sizeof(unknown), 1, closed);
	hostile(zero, sizeof(zero), 1, closed);
	hostile(big, sizeof(big), 1, closed);
	hostile(header1, sizeof(header1), 1, closed);
	hostile(eoh_data, sizeof(eoh_data), 1, closed);
	hostile(connect_bad, sizeof(connect_bad), 0, "");
	hostile(header1, sizeof(header1), 0, "");
}

/* count_of - how often needle occurs in hay */
static int
count_of(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

/*
 * test_unanswered_steps - connect and the end of the headers negotiated
 * unanswered: nothing is sent for them, not even a refusal (which is
 * lost), and the next answered step gets the next reply.
 */
static void
test_unanswered_steps(void **state)
{
	struct mta *m = mta_open_ops(&ops_nr);
	char data[512];
	struct mproto_optneg o =
	    mta_negotiate(m, 6, MPROTO_POSTFIX_ACTIONS, MPROTO_POSTFIX_PROTOCOL,
	                  data, sizeof(data));

	(void) state;
	assert_int_equal(ops_nr.steps, o.protocol);
	mproto_put_connect(&m->out, "refuse.test", MPROTO_FAMILY_INET, 25,
	                   "192.0.2.1");
	mta_mail(m, "<alice@good.test>");
	mta_expect(m, MPROTO_R_CONTINUE, data, sizeof(data));
	mproto_put_empty(&m->out, MPROTO_C_EOH);
	mproto_put_empty(&m->out, MPROTO_C_BODYEOB);
	mta_send(m);
	mta_expect(m, MPROTO_R_CONTINUE, data, sizeof(data));
	mta_close(m);
	assert_events("connect refuse.test 4192.0.2.1;"
	              "mail <alice@good.test> argc=2 auth=alice i=QID1;"
	              "eoh i=QID1 edit=-1;close priv=1;");
}

/* The server's test: sessions counted by the callbacks. */
static void *
server_thread(void *arg)
{
	return (void *) (intptr_t) mserve_run(arg);
}

/*
 * test_server_stop - a server on a unix socket serves several sessions at
 * once; mserve_stop() cuts them (each MTA sees the end of its
 * connection), every close callback runs, and mserve_run() returns 0.
 */
static void
test_server_stop(void **state)
{
	struct sockspec spec = {.kind = SOCKSPEC_UNIX};
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct mta *m[3];
	struct mserve *srv;
	pthread_t tid;
	void *rc;
	char why[256], data[512];
	int fd;

	(void) state;
	snprintf(spec.path, sizeof(spec.path), "/tmp/test_mserve.%d.sock",
	         (int) getpid());
	util_strlcpy(sun.sun_path, spec.path, sizeof(sun.sun_path));
	fd = listener_open(&spec, why, sizeof(why));
	assert_true(fd >= 0);
	srv = mserve_new(fd, 0, &ops);
	assert_int_equal(0, pthread_create(&tid, NULL, server_thread, srv));
	events[0] = '\0';
	for (int i = 0; i < 3; i++) {
		m[i] = xcalloc(1, sizeof(*m[i]));
		mproto_buf_init(&m[i]->out);
		m[i]->fd = socket(AF_UNIX, SOCK_STREAM, 0);
		assert_int_equal(0, connect(m[i]->fd, (struct sockaddr *) &sun,
		                            sizeof(sun)));
		mta_postfix(m[i]);
		mta_connect(m[i], "client.test");
	}
	mserve_stop(srv);
	for (int i = 0; i < 3; i++) {
		mta_eof(m[i]);
		close(m[i]->fd);
		mproto_buf_free(&m[i]->out);
		free(m[i]);
	}
	pthread_join(tid, &rc);
	assert_int_equal(0, (int) (intptr_t) rc);
	events_take(data, sizeof(data));
	assert_int_equal(3, count_of(data, "connect client.test"));
	assert_int_equal(3, count_of(data, "close priv=1;"));
	mserve_free(srv);
	unlink(spec.path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_negotiate_postfix),
	    cmocka_unit_test(test_negotiate_old_mta),
	    cmocka_unit_test(test_version_too_old),
	    cmocka_unit_test(test_message),
	    cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_macros_forgotten),
	    cmocka_unit_test(test_body_in_eob),
	    cmocka_unit_test(test_edits_not_allowed),
	    cmocka_unit_test(test_hostile),
	    cmocka_unit_test(test_unanswered_steps),
	    cmocka_unit_test(test_server_stop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
