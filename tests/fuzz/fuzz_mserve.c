/*
 * fuzz_mserve - libFuzzer harness for relaygate's milter protocol engine:
 * the input is the byte stream an MTA sends on one connection.
 *
 * A thread writes the input into a socketpair and reads what the engine
 * answers while the engine serves the other end in the calling thread,
 * as it would serve an MTA.  Besides not crashing or leaking: everything
 * the engine sends must be a well-formed packet of the milter protocol
 * (the option negotiation or a reply an MTA accepts), and the close
 * callback runs exactly once for each connect.
 */

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "mproto.h"
#include "mserve.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fuzz_connects, fuzz_closes;

static enum mserve_status
fuzz_connect(struct mserve_session *s, const char *host, char family,
             const char *addr)
{
	(void) family;
	(void) addr;
	fuzz_connects++;
	mserve_set_priv(s, &fuzz_connects);
	return host[0] == 't' ? MSERVE_TEMPFAIL : MSERVE_CONTINUE;
}

static enum mserve_status
fuzz_envfrom(struct mserve_session *s, const char *const *argv, size_t argc)
{
	if (argc == 0 || argv[0] == NULL || argv[argc] != NULL)
		panic("fuzz: MAIL FROM with a broken argv");
	(void) mserve_macro(s, "{auth_authen}");
	if (argv[0][0] == 'r')
		return MSERVE_REJECT;
	if (argv[0][0] == 't') {
		(void) mserve_reply(s, "451", "4.7.1", argv[0]);
		return MSERVE_TEMPFAIL;
	}
	return MSERVE_CONTINUE;
}

static void
fuzz_header(struct mserve_session *s, const char *name, const char *value)
{
	(void) s;
	(void) strlen(name);
	(void) strlen(value);
}

static enum mserve_status
fuzz_eom(struct mserve_session *s)
{
	const char *i = mserve_macro(s, "i");

	(void) mserve_chgheader(s, 1, "X-Status", NULL);
	(void) mserve_addheader(s, "X-Status", i ? i : "none");
	(void) mserve_insheader(s, 0, "DKIM-Signature", "v=1");
	return i != NULL && i[0] == 'r' ? MSERVE_REJECT : MSERVE_CONTINUE;
}

static void
fuzz_close(struct mserve_session *s)
{
	if (mserve_priv(s) != &fuzz_connects)
		panic("fuzz: close without its connect");
	fuzz_closes++;
}

static const struct mserve_ops fuzz_ops = {
    .actions = MPROTO_F_ADDHDRS | MPROTO_F_CHGHDRS | MPROTO_F_SETSYMLIST,
    .steps =
        MPROTO_P_NOHELO | MPROTO_P_NR_HDR | MPROTO_P_NR_EOH | MPROTO_P_NR_BODY,
    .macros = {[MPROTO_M_ENVFROM] = "i {auth_authen}"},
    .connect = fuzz_connect,
    .envfrom = fuzz_envfrom,
    .header = fuzz_header,
    .eom = fuzz_eom,
    .close = fuzz_close,
};

/* The MTA's side: the input to send, the replies read back. */
struct fuzz_mta {
	int fd;
	const uint8_t *data;
	size_t size;
	struct mproto_buf got;
};

/* fuzz_mta - write the input, half-close, read to the end */
static void *
fuzz_mta(void *arg)
{
	struct fuzz_mta *m = arg;
	size_t done = 0;
	ssize_t n;

	while (done < m->size) {
		n = send(m->fd, m->data + done, m->size - done, MSG_NOSIGNAL);
		if (n <= 0)
			break; /* the engine closed: it refused the input */
		done += (size_t) n;
	}
	shutdown(m->fd, SHUT_WR);
	do {
		n = recv(m->fd, mproto_buf_reserve(&m->got, 65536), 65536, 0);
		if (n > 0)
			m->got.len += (size_t) n;
	} while (n > 0);
	return NULL;
}

/* fuzz_check_output - every packet sent is one an MTA accepts */
static void
fuzz_check_output(const struct mproto_buf *b)
{
	struct mproto_packet pkt;
	struct mproto_reply r;
	struct mproto_optneg o;
	char why[160];
	size_t at = 0, used;

	while (at < b->len) {
		if (mproto_split(b->data + at, b->len - at, MPROTO_MAX_PACKET,
		                 &pkt, &used, why, sizeof(why)) != 1)
			panic("fuzz: the engine sent a broken packet");
		if (pkt.code == MPROTO_C_OPTNEG) {
			if (mproto_parse_optneg(&pkt, &o, why, sizeof(why)) <
			        0 ||
			    o.version < 2 || o.version > 6)
				panic("fuzz: bad negotiation: %s", why);
		} else if (mproto_parse_reply(&pkt, &r, why, sizeof(why)) < 0) {
			panic("fuzz: malformed reply: %s", why);
		}
		at += used;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct log_settings quiet = {.level = LOG_LEVEL_ERROR};
	struct fuzz_mta m = {.data = data, .size = size};
	pthread_t tid;
	int sv[2];

	log_setup(&quiet);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		return 0;
	m.fd = sv[0];
	mproto_buf_init(&m.got);
	fuzz_connects = fuzz_closes = 0;
	if (pthread_create(&tid, NULL, fuzz_mta, &m) != 0) {
		close(sv[0]);
		close(sv[1]);
		return 0;
	}
	mserve_session_serve(sv[1], 0, &fuzz_ops);
	close(sv[1]);
	pthread_join(tid, NULL);
	close(sv[0]);
	if (fuzz_closes != fuzz_connects)
		panic("fuzz: %d connects, %d closes", fuzz_connects,
		      fuzz_closes);
	fuzz_check_output(&m.got);
	mproto_buf_free(&m.got);
	return 0;
}
