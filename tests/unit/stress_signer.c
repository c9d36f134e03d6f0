/*
 * stress_signer - threads sign concurrently on one struct signer, as
 * libmilter's worker threads do, with an RSA and an Ed25519 key shared
 * read-only (one parsed EVP_PKEY each, signing every message), while
 * other threads compare published keys with the same key objects.  Built
 * against the ThreadSanitizer flavour of the core: a data race in our code
 * fails the test.  Every thread's last signatures are then verified by
 * python3-dkim (tests/unit/dkim_verify.py, found through RELAYGATE_SOURCE_DIR).
 */

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "dkim_record.h"
#include "keys.h"
#include "signer.h"

#define SIGNERS 4
#define COMPARERS 2
#define MESSAGES 100 /* per signing thread */

#define HEAD                                                                   \
	"From: Webshop <noreply@example.nl>\r\n"                               \
	"To: klant@example.org\r\n"                                            \
	"Subject: stress %d/%d\r\n"                                            \
	"\r\n"
#define BODY "Line one of the body.\r\nLine two, a little longer.\r\n"

static struct signer *stress_signer;
static struct keys_key *stress_keys[2];
static pthread_barrier_t stress_start;
static int stress_done;
static char stress_dir[64];

struct stress_result {
	int id;
	int failures;
	char why[256];
	char *last[2]; /* last signature value per key */
};

/* stress_sign_one - sign message n of thread id with key k */
static int
stress_sign_one(struct stress_result *r, int k, int n, char **value)
{
	struct signer_msg *m;
	char subject[64];
	int rc;

	m = signer_begin(stress_signer, stress_keys[k], "prezent-a",
	                 "example.nl", r->why, sizeof(r->why));
	if (m == NULL)
		return -1;
	snprintf(subject, sizeof(subject), "stress %d/%d", r->id, n);
	signer_header(m, "From", "Webshop <noreply@example.nl>");
	signer_header(m, "Received", "from somewhere");
	signer_header(m, "To", "klant@example.org");
	signer_header(m, "Subject", subject);
	signer_eoh(m);
	for (size_t off = 0, len = strlen(BODY); off < len; off += 5)
		signer_body(m, (const unsigned char *) BODY + off,
		            len - off < 5 ? len - off : 5);
	rc = signer_end(m, value, r->why, sizeof(r->why));
	signer_free(m);
	return rc;
}

/* stress_signer_thread - sign MESSAGES messages, alternating keys */
static void *
stress_signer_thread(void *arg)
{
	struct stress_result *r = arg;

	pthread_barrier_wait(&stress_start);
	for (int n = 0; n < MESSAGES; n++) {
		int k = n % 2;
		char *value = NULL;

		if (stress_sign_one(r, k, n, &value) < 0) {
			r->failures++;
			continue;
		}
		free(r->last[k]);
		r->last[k] = value;
	}
	return NULL;
}

/* stress_comparer_thread - keys_compare on the shared keys until done */
static void *
stress_comparer_thread(void *arg)
{
	struct stress_result *r = arg;

	pthread_barrier_wait(&stress_start);
	do {
		for (int k = 0; k < 2; k++) {
			struct dkim_record rec;
			const char *text = keys_record(stress_keys[k]);

			if (dkim_record_parse(text, strlen(text), &rec, r->why,
			                      sizeof(r->why)) !=
			        DKIM_RECORD_OK ||
			    keys_compare(stress_keys[k], rec.key_type, rec.key,
			                 rec.key_len, NULL, r->why,
			                 sizeof(r->why)) != KEYS_MATCH ||
			    keys_compare(stress_keys[1 - k], rec.key_type,
			                 rec.key, rec.key_len, NULL, r->why,
			                 sizeof(r->why)) != KEYS_MISMATCH)
				r->failures++;
		}
	} while (!__atomic_load_n(&stress_done, __ATOMIC_ACQUIRE));
	return NULL;
}

/* stress_verify - python3-dkim verifies thread id's last signature */
static void
stress_verify(const struct stress_result *r, int k)
{
	const char *src = getenv("RELAYGATE_SOURCE_DIR");
	char path[128], rpath[128], cmd[1024];
	FILE *f;
	int st;

	snprintf(path, sizeof(path), "%s/msg-%d-%d.eml", stress_dir, r->id, k);
	snprintf(rpath, sizeof(rpath), "%s/key-%d.txt", stress_dir, k);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("DKIM-Signature: ", f);
	for (const char *p = r->last[k]; *p != '\0'; p++) {
		if (*p == '\n')
			fputc('\r', f);
		fputc(*p, f);
	}
	fputs("\r\n", f);
	fprintf(f, HEAD BODY, r->id, MESSAGES - 2 + k);
	fclose(f);
	f = fopen(rpath, "w");
	assert_non_null(f);
	fputs(keys_record(stress_keys[k]), f);
	fclose(f);
	snprintf(cmd, sizeof(cmd),
	         "/usr/bin/python3 %s/tests/unit/dkim_verify.py %s %s",
	         src != NULL ? src : ".", path, rpath);
	st = system(cmd);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_msg("thread %d key %d: signature does not verify", r->id,
		         k);
}

static void
test_concurrent_signing(void **state)
{
	pthread_t tid[SIGNERS + COMPARERS];
	struct stress_result res[SIGNERS + COMPARERS];

	(void) state;
	memset(res, 0, sizeof(res));
	pthread_barrier_init(&stress_start, NULL, SIGNERS + COMPARERS);
	for (int i = 0; i < SIGNERS + COMPARERS; i++) {
		res[i].id = i;
		pthread_create(&tid[i], NULL,
		               i < SIGNERS ? stress_signer_thread
		                           : stress_comparer_thread,
		               &res[i]);
	}
	for (int i = 0; i < SIGNERS; i++)
		pthread_join(tid[i], NULL);
	__atomic_store_n(&stress_done, 1, __ATOMIC_RELEASE);
	for (int i = SIGNERS; i < SIGNERS + COMPARERS; i++)
		pthread_join(tid[i], NULL);
	for (int i = 0; i < SIGNERS + COMPARERS; i++)
		if (res[i].failures != 0)
			fail_msg("thread %d: %d failures, last: %s", i,
			         res[i].failures, res[i].why);
	for (int i = 0; i < SIGNERS; i++)
		for (int k = 0; k < 2; k++) {
			assert_non_null(res[i].last[k]);
			stress_verify(&res[i], k);
			free(res[i].last[k]);
		}
	pthread_barrier_destroy(&stress_start);
}

static int
setup(void **state)
{
	struct keys_gen gen = {
	    .bits = 2048, .owner = (uid_t) -1, .group = (gid_t) -1};
	char why[512], path[128];

	(void) state;
	snprintf(stress_dir, sizeof(stress_dir), "/tmp/stress_signer.XXXXXX");
	if (mkdtemp(stress_dir) == NULL)
		return -1;
	for (int k = 0; k < 2; k++) {
		snprintf(path, sizeof(path), "%s/key%d.pem", stress_dir, k);
		gen.alg = k == 0 ? KEYS_ALG_RSA : KEYS_ALG_ED25519;
		stress_keys[k] = keys_generate(path, &gen, why, sizeof(why));
		if (stress_keys[k] == NULL) {
			fprintf(stderr, "keygen: %s\n", why);
			return -1;
		}
	}
	stress_signer = signer_open(NULL, NULL, why, sizeof(why));
	return stress_signer == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void) state;
	signer_close(stress_signer);
	keys_free(stress_keys[0]);
	keys_free(stress_keys[1]);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", stress_dir);
	return system(cmd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_concurrent_signing),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
