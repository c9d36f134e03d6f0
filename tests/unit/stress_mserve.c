/*
 * stress_mserve - the milter protocol engine's server under concurrency,
 * for ThreadSanitizer: clients in several threads open sessions one after
 * another on a unix socket, each sending a whole message and checking the
 * replies; then, with sessions still open, mserve_stop() cuts them.  Every
 * connect must get its close, every completed message its edits, and
 * mserve_run() must return only when all sessions are gone.
 */

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

#define CLIENTS 8
#define SESSIONS 40 /* per client */

static long connects, closes, messages; /* atomic */

static enum mserve_status
st_connect(struct mserve_session *s, const char *host, char family,
           const char *addr)
{
	(void) host;
	(void) family;
	(void) addr;
	mserve_set_priv(s, xcalloc(1, 1));
	__atomic_add_fetch(&connects, 1, __ATOMIC_RELAXED);
	return MSERVE_CONTINUE;
}

static enum mserve_status
st_eom(struct mserve_session *s)
{
	__atomic_add_fetch(&messages, 1, __ATOMIC_RELAXED);
	return mserve_insheader(s, 0, "DKIM-Signature", mserve_macro(s, "i"))
	           ? MSERVE_TEMPFAIL
	           : MSERVE_CONTINUE;
}

static void
st_close(struct mserve_session *s)
{
	free(mserve_priv(s));
	__atomic_add_fetch(&closes, 1, __ATOMIC_RELAXED);
}

static const struct mserve_ops st_ops = {
    .actions = MPROTO_F_ADDHDRS | MPROTO_F_SETSYMLIST,
    .steps = MPROTO_P_NR_HDR | MPROTO_P_NR_BODY | MPROTO_P_NR_EOH,
    .macros = {[MPROTO_M_EOM] = "i"},
    .connect = st_connect,
    .eom = st_eom,
    .close = st_close,
};

static struct sockaddr_un st_addr = {.sun_family = AF_UNIX};

/* st_read - one packet's code, or 0 at the end of the connection */
static unsigned char
st_read(int fd, unsigned char *buf, size_t *len)
{
	struct mproto_packet pkt;
	char why[128];
	size_t used;
	ssize_t n;
	unsigned char code;

	for (;;) {
		int rc = mproto_split(buf, *len, MPROTO_MAX_PACKET, &pkt, &used,
		                      why, sizeof(why));

		assert_true(rc >= 0);
		if (rc == 1)
			break;
		n = recv(fd, buf + *len, 65536 - *len, 0);
		if (n <= 0)
			return 0; /* cut by the stop */
		*len += (size_t) n;
	}
	code = pkt.code;
	memmove(buf, buf + used, *len - used);
	*len -= used;
	return code;
}

/* st_session - one whole session; 1 if completed, 0 if cut by the stop */
static int
st_session(int client, int i)
{
	struct mproto_buf b;
	unsigned char in[65536];
	size_t len = 0;
	char qid[32];
	const char *nv[2] = {"i", qid};
	const char *from[1] = {"<a@good.test>"};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0), done = 0;
	struct timeval tv = {.tv_sec = 10};

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *) &st_addr, sizeof(st_addr)) != 0) {
		close(fd);
		return 0; /* stopped: nothing listens any more */
	}
	snprintf(qid, sizeof(qid), "Q%d.%d", client, i);
	mproto_buf_init(&b);
	mproto_put_optneg(&b, 6, MPROTO_POSTFIX_ACTIONS,
	                  MPROTO_POSTFIX_PROTOCOL);
	mproto_put_connect(&b, "c.test", MPROTO_FAMILY_INET, 25, "192.0.2.1");
	mproto_put_args(&b, MPROTO_C_MAIL, from, 1);
	mproto_put_header(&b, "From", "a@good.test");
	mproto_put_empty(&b, MPROTO_C_EOH);
	mproto_put_body(&b, "x\r\n", 3);
	mproto_put_macro(&b, MPROTO_C_BODYEOB, nv, 1);
	mproto_put_empty(&b, MPROTO_C_BODYEOB);
	if (send(fd, b.data, b.len, MSG_NOSIGNAL) == (ssize_t) b.len &&
	    st_read(fd, in, &len) == MPROTO_C_OPTNEG &&
	    st_read(fd, in, &len) == MPROTO_R_CONTINUE && /* connect */
	    st_read(fd, in, &len) == MPROTO_R_CONTINUE && /* mail */
	    st_read(fd, in, &len) == MPROTO_R_INSHEADER &&
	    st_read(fd, in, &len) == MPROTO_R_CONTINUE)
		done = 1;
	mproto_buf_free(&b);
	close(fd);
	return done;
}

static void *
st_client(void *arg)
{
	int client = (int) (intptr_t) arg;
	long done = 0;

	for (int i = 0; i < SESSIONS; i++)
		done += st_session(client, i);
	return (void *) done;
}

static void *
st_server(void *arg)
{
	return (void *) (intptr_t) mserve_run(arg);
}

/* test_stress - sessions from several threads, then a stop */
static void
test_stress(void **state)
{
	struct sockspec spec = {.kind = SOCKSPEC_UNIX};
	pthread_t server, clients[CLIENTS];
	struct mserve *srv;
	long completed = 0;
	char why[256];
	void *rc;
	int fd;

	(void) state;
	snprintf(spec.path, sizeof(spec.path), "/tmp/stress_mserve.%d.sock",
	         (int) getpid());
	util_strlcpy(st_addr.sun_path, spec.path, sizeof(st_addr.sun_path));
	assert_true((fd = listener_open(&spec, why, sizeof(why))) >= 0);
	srv = mserve_new(fd, 0, &st_ops);
	assert_int_equal(0, pthread_create(&server, NULL, st_server, srv));
	for (int i = 0; i < CLIENTS; i++)
		assert_int_equal(0, pthread_create(&clients[i], NULL, st_client,
		                                   (void *) (intptr_t) i));
	/* Stop halfway, with sessions still coming. */
	for (int ms = 0; __atomic_load_n(&messages, __ATOMIC_RELAXED) <
	                 CLIENTS * SESSIONS / 2;
	     ms++) {
		assert_true(ms < 30000);
		usleep(1000);
	}
	mserve_stop(srv);
	for (int i = 0; i < CLIENTS; i++) {
		pthread_join(clients[i], &rc);
		completed += (long) (intptr_t) rc;
	}
	pthread_join(server, &rc);
	assert_int_equal(0, (int) (intptr_t) rc);
	assert_int_equal(__atomic_load_n(&connects, __ATOMIC_RELAXED),
	                 __atomic_load_n(&closes, __ATOMIC_RELAXED));
	assert_true(completed > 0);
	assert_true(completed <= __atomic_load_n(&messages, __ATOMIC_RELAXED));
	mserve_free(srv);
	unlink(spec.path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_stress),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
