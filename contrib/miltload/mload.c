/*
 * mload - a load run: N concurrent milter sessions, M messages each.
 */

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "mload.h"
#include "util.h"

#define MLOAD_STACK (256 * 1024)

/* The steps of one message, in order. */
enum mload_step {
	MLOAD_MAIL,
	MLOAD_RCPT,
	MLOAD_DATA,
	MLOAD_HEADERS,
	MLOAD_EOH,
	MLOAD_BODY,
	MLOAD_EOM,
	MLOAD_STEPS
};

/* What all threads share: the start gate and the hold point. */
struct mload_shared {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int go;            /* start */
	unsigned arrived;  /* sessions at the hold point (or past hope) */
	int released;      /* hold over */
	unsigned finished; /* threads done */
};

struct mload_worker {
	const struct mload_opts *o;
	struct mload_shared *sh;
	unsigned id;
	unsigned seed;
	int held;       /* this worker reached (or gave up) the hold */
	int signed_msg; /* the current message got a DKIM-Signature */
	struct mstats st;
	pthread_t tid;
};

/* How one attempt ended. */
enum mload_end { MLOAD_GO_ON, MLOAD_DECIDED, MLOAD_BROKEN };

/* mload_hold_parse - "connect", "mail", "eoh", "body"; -1 if unknown */
int
mload_hold_parse(const char *s, enum mload_hold *h)
{
	static const char *const names[] = {"none", "connect", "mail", "eoh",
	                                    "body"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i]) == 0) {
			*h = (enum mload_hold) i;
			return 0;
		}
	return -1;
}

/* mload_now_us - CLOCK_MONOTONIC in microseconds */
static uint64_t
mload_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000;
}

/* mload_arrive - this worker is at the hold point (or will never be) */
static void
mload_arrive(struct mload_worker *w, int wait)
{
	struct mload_shared *sh = w->sh;

	if (w->held || w->o->hold == MLOAD_HOLD_NONE)
		return;
	w->held = 1;
	pthread_mutex_lock(&sh->mu);
	sh->arrived++;
	pthread_cond_broadcast(&sh->cv);
	while (wait && !sh->released)
		pthread_cond_wait(&sh->cv, &sh->mu);
	pthread_mutex_unlock(&sh->mu);
}

/* mload_on_reply - notice a DKIM-Signature header edit */
static void
mload_on_reply(void *arg, unsigned char event, const struct mproto_reply *r)
{
	struct mload_worker *w = arg;

	(void) event;
	if ((r->code == MPROTO_R_INSHEADER || r->code == MPROTO_R_ADDHEADER) &&
	    strcasecmp(r->name, "DKIM-Signature") == 0)
		w->signed_msg = 1;
}

/* mload_kind - the outcome a deciding reply gives; -1: go on */
static int
mload_kind(const struct msession_result *res, int at_eom)
{
	if (res->how != MSESSION_REPLIED)
		return at_eom ? MSTATS_OK : -1;
	switch (res->code) {
	case MPROTO_R_CONTINUE:
	case MPROTO_R_SKIP:
		return at_eom ? MSTATS_OK : -1;
	case MPROTO_R_ACCEPT:
		return MSTATS_OK;
	case MPROTO_R_DISCARD:
		return MSTATS_DISCARD;
	case MPROTO_R_REJECT:
		return MSTATS_REJECT;
	case MPROTO_R_REPLYCODE:
		return res->text[0] == '5' ? MSTATS_REJECT : MSTATS_TEMPFAIL;
	default: /* tempfail, shutdown */
		return MSTATS_TEMPFAIL;
	}
}

/* mload_broken_kind - the failure kind of a dead session */
static enum mstats_kind
mload_broken_kind(enum mconn_status st)
{
	switch (st) {
	case MCONN_TIMEOUT:
		return MSTATS_TIMEOUT;
	case MCONN_PROTOCOL:
		return MSTATS_PROTOCOL;
	default:
		return MSTATS_CONNECTION;
	}
}

/*
 * mload_judge - count what an event's result means for the message:
 * GO_ON, DECIDED (counted, with latency from t0) or BROKEN (counted).
 */
static enum mload_end
mload_judge(struct mload_worker *w, enum mconn_status st,
            const struct msession_result *res, int at_eom, uint64_t t0,
            const char *why)
{
	int kind;

	if (st != MCONN_OK) {
		mstats_failed(&w->st, mload_broken_kind(st), why);
		return MLOAD_BROKEN;
	}
	if ((kind = mload_kind(res, at_eom)) < 0)
		return MLOAD_GO_ON;
	mstats_decided(&w->st, (enum mstats_kind) kind, mload_now_us() - t0,
	               w->signed_msg);
	return MLOAD_DECIDED;
}

/*
 * mload_open - a new session through connect and helo.  NULL when it
 * broke or the milter refused the session; that decides (or fails) the
 * message it was opened for, which *end says.
 */
static struct msession *
mload_open(struct mload_worker *w, enum mload_end *end)
{
	struct msession_result res = {.how = MSESSION_REPLIED};
	struct msession *s = NULL;
	uint64_t t0 = mload_now_us();
	enum mconn_status st;
	char why[256];

	st = msession_open(&w->o->addr, &w->o->sess, &s, why, sizeof(why));
	if (st == MCONN_OK) {
		msession_on_reply(s, mload_on_reply, w);
		mmacro_session_defaults(msession_macros(s));
		st = msession_connect(s, "client.test", MPROTO_FAMILY_INET,
		                      (uint16_t) (10000 + w->id), "127.0.0.1",
		                      &res, why, sizeof(why));
	}
	*end = mload_judge(w, st, &res, 0, t0, why);
	if (*end == MLOAD_GO_ON) {
		st = msession_helo(s, "client.test", &res, why, sizeof(why));
		*end = mload_judge(w, st, &res, 0, t0, why);
	}
	if (*end == MLOAD_GO_ON)
		return s;
	msession_close(s);
	return NULL;
}

/* mload_headers - all headers of m; stops at a reply not continue */
static enum mconn_status
mload_headers(struct msession *s, const struct mgen_message *m,
              struct msession_result *res, char *why, size_t whylen)
{
	int lead = msession_wants_leading_space(s);
	enum mconn_status st = MCONN_OK;

	memset(res, 0, sizeof(*res));
	for (size_t i = 0; i < m->nheaders && st == MCONN_OK; i++) {
		const char *v = m->value[i];

		st = msession_header(s, m->name[i],
		                     lead || *v != ' ' ? v : v + 1, res, why,
		                     whylen);
		if (res->how == MSESSION_REPLIED &&
		    res->code != MPROTO_R_CONTINUE)
			break;
	}
	return st;
}

/* mload_step - one step of message m */
static enum mconn_status
mload_step(struct mload_worker *w, struct msession *s, enum mload_step step,
           const struct mgen_message *m, struct msession_result *res, char *why,
           size_t whylen)
{
	const char *rcpt[1] = {mgen_rcpt(w->o->gen)}, *from[1] = {m->sender};
	const void *body;
	size_t len;

	switch (step) {
	case MLOAD_MAIL:
		return msession_mail(s, from, 1, res, why, whylen);
	case MLOAD_RCPT:
		return msession_rcpt(s, rcpt, 1, res, why, whylen);
	case MLOAD_DATA:
		return msession_data(s, res, why, whylen);
	case MLOAD_HEADERS:
		return mload_headers(s, m, res, why, whylen);
	case MLOAD_EOH:
		return msession_eoh(s, res, why, whylen);
	case MLOAD_BODY:
		body = mgen_body(w->o->gen, &len);
		return msession_body(s, body, len, res, why, whylen);
	default:
		return msession_eom(s, res, why, whylen);
	}
}

/* mload_is_hold_step - does the hold come after this step */
static int
mload_is_hold_step(enum mload_hold h, enum mload_step step)
{
	return (h == MLOAD_HOLD_MAIL && step == MLOAD_MAIL) ||
	       (h == MLOAD_HOLD_EOH && step == MLOAD_EOH) ||
	       (h == MLOAD_HOLD_BODY && step == MLOAD_BODY);
}

/* mload_message - message seq through session s */
static enum mload_end
mload_message(struct mload_worker *w, struct msession *s, unsigned long seq)
{
	struct msession_result res;
	struct mgen_message m;
	enum mload_end end = MLOAD_GO_ON;
	enum mconn_status st;
	char qid[16], why[256];
	uint64_t t0;

	mgen_message(w->o->gen, seq, &w->seed, &m);
	mmacro_queue_id(qid, sizeof(qid), w->id, seq);
	mmacro_set(msession_macros(s), "i", qid);
	mmacro_set(msession_macros(s), "{mail_addr}", m.mail_addr);
	mmacro_set(msession_macros(s), "{rcpt_addr}", mgen_rcpt(w->o->gen));
	w->signed_msg = 0;
	t0 = mload_now_us();
	for (int i = 0; i < MLOAD_STEPS && end == MLOAD_GO_ON; i++) {
		st = mload_step(w, s, (enum mload_step) i, &m, &res, why,
		                sizeof(why));
		end = mload_judge(w, st, &res, i == MLOAD_EOM, t0, why);
		if (end == MLOAD_GO_ON &&
		    mload_is_hold_step(w->o->hold, (enum mload_step) i))
			mload_arrive(w, 1);
	}
	if (end == MLOAD_DECIDED &&
	    msession_abort(s, why, sizeof(why)) != MCONN_OK)
		return MLOAD_BROKEN;
	return end;
}

/* mload_quit - end a session politely */
static void
mload_quit(struct msession *s)
{
	char why[256];

	if (s != NULL)
		msession_quit(s, why, sizeof(why));
	msession_close(s);
}

/* mload_messages - all messages of one worker */
static void
mload_messages(struct mload_worker *w)
{
	const struct mload_opts *o = w->o;
	struct msession *s = NULL;
	unsigned long in_session = 0;
	enum mload_end end;

	for (unsigned long i = 0; i < o->messages; i++) {
		unsigned long seq = (unsigned long) w->id * o->messages + i;

		if (s == NULL && (s = mload_open(w, &end)) == NULL) {
			mload_arrive(w, 0);
			continue;
		}
		if (o->hold == MLOAD_HOLD_CONNECT)
			mload_arrive(w, 1);
		end = mload_message(w, s, seq);
		mload_arrive(w, 0); /* decided before the hold point */
		if (end == MLOAD_BROKEN) {
			msession_close(s);
			s = NULL;
			in_session = 0;
		} else if (o->per_session && ++in_session >= o->per_session) {
			mload_quit(s);
			s = NULL;
			in_session = 0;
		}
	}
	mload_quit(s);
}

/* mload_worker_main - wait for the start, run, say so */
static void *
mload_worker_main(void *arg)
{
	struct mload_worker *w = arg;
	struct mload_shared *sh = w->sh;

	pthread_mutex_lock(&sh->mu);
	while (!sh->go)
		pthread_cond_wait(&sh->cv, &sh->mu);
	pthread_mutex_unlock(&sh->mu);
	mload_messages(w);
	pthread_mutex_lock(&sh->mu);
	sh->finished++;
	pthread_cond_broadcast(&sh->cv);
	pthread_mutex_unlock(&sh->mu);
	return NULL;
}

/* mload_hold - wait until every session is held, report, release */
static void
mload_hold(const struct mload_opts *o, struct mload_shared *sh)
{
	struct timespec ts = {
	    (time_t) o->hold_seconds,
	    (long) ((o->hold_seconds - (double) (time_t) o->hold_seconds) *
	            1e9)};
	unsigned held;

	pthread_mutex_lock(&sh->mu);
	while (sh->arrived < o->connections && sh->finished < o->connections)
		pthread_cond_wait(&sh->cv, &sh->mu);
	held = sh->arrived;
	pthread_mutex_unlock(&sh->mu);
	if (o->progress != NULL) {
		fprintf(o->progress, "miltload: holding %u sessions\n", held);
		fflush(o->progress);
	}
	nanosleep(&ts, NULL);
	pthread_mutex_lock(&sh->mu);
	sh->released = 1;
	pthread_cond_broadcast(&sh->cv);
	pthread_mutex_unlock(&sh->mu);
}

/* mload_start - create the workers (waiting at the gate); how many */
static unsigned
mload_start(const struct mload_opts *o, struct mload_shared *sh,
            struct mload_worker *w, char *why, size_t whylen)
{
	pthread_attr_t attr;
	unsigned i;
	int rc = 0;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, MLOAD_STACK);
	for (i = 0; i < o->connections; i++) {
		w[i].o = o;
		w[i].sh = sh;
		w[i].id = i;
		w[i].seed = 0x9e3779b9u * (i + 1);
		mstats_init(&w[i].st);
		rc = pthread_create(&w[i].tid, &attr, mload_worker_main, &w[i]);
		if (rc != 0) {
			util_why(why, whylen, "thread %u: %s", i, strerror(rc));
			break;
		}
	}
	pthread_attr_destroy(&attr);
	return i;
}

/* mload_run - run it */
int
mload_run(const struct mload_opts *o, struct mstats *st, double *seconds,
          char *why, size_t whylen)
{
	struct mload_shared sh = {.mu = PTHREAD_MUTEX_INITIALIZER,
	                          .cv = PTHREAD_COND_INITIALIZER};
	struct mload_worker *w = xcalloc(o->connections, sizeof(*w));
	unsigned started = mload_start(o, &sh, w, why, whylen);
	uint64_t t0;

	pthread_mutex_lock(&sh.mu);
	if (started < o->connections) {
		sh.finished = o->connections - started; /* never coming */
		sh.released = 1;                        /* no hold then */
	}
	sh.go = 1;
	pthread_cond_broadcast(&sh.cv);
	pthread_mutex_unlock(&sh.mu);
	t0 = mload_now_us();
	if (o->hold != MLOAD_HOLD_NONE && started == o->connections)
		mload_hold(o, &sh);
	mstats_init(st);
	for (unsigned i = 0; i < started; i++) {
		pthread_join(w[i].tid, NULL);
		mstats_merge(st, &w[i].st);
		mstats_free(&w[i].st);
	}
	*seconds = (double) (mload_now_us() - t0) / 1e6;
	free(w);
	return started == o->connections ? 0 : -1;
}
