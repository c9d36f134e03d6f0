/*
 * signmserve - the least a milter that signs can do, for the benchmark's
 * signing floor (contrib/bench.sh): relaygate's protocol engine
 * (milter/mserve.c) negotiating what relaygate negotiates, and relaygate's
 * signature (milter/dkimsign.c) with one key parsed at start.  Every
 * header field of a message is signed as d=DOMAIN, s=SELECTOR, and the
 * DKIM-Signature field is inserted at the top.  No check, no verdict
 * cache, no policy, no log line.  Between nullmserve and it lie the
 * canonicalization, the hashes and the private-key operation; between it
 * and relaygate, relaygate's own work.
 *
 * A message it cannot sign (no From field, OpenSSL refusing) is
 * tempfailed, so that a floor that stopped signing shows as errors,
 * not as speed.
 *
 * Usage: signmserve unix:/path | inet:port@address KEY DOMAIN SELECTOR
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "dkimsign.h"
#include "floor.h"
#include "keys.h"
#include "mserve.h"
#include "negotiation.h"

static struct dkimsign_conf *sign_conf;
static struct keys_key *sign_key;
static const char *sign_domain, *sign_selector;

/* sign_drop - the session's message handle is released */
static void
sign_drop(struct mserve_session *s)
{
	dkimsign_free(mserve_priv(s));
	mserve_set_priv(s, NULL);
}

static enum mserve_status
sign_envfrom(struct mserve_session *s, const char *const *argv, size_t argc)
{
	(void) argv;
	(void) argc;
	sign_drop(s);
	mserve_set_priv(s, dkimsign_begin(sign_conf, sign_key, sign_selector,
	                                  sign_domain, (int64_t) time(NULL)));
	return MSERVE_CONTINUE;
}

static void
sign_header(struct mserve_session *s, const char *name, const char *value)
{
	if (mserve_priv(s) != NULL)
		dkimsign_header(mserve_priv(s), name, value);
}

static enum mserve_status
sign_eoh(struct mserve_session *s)
{
	char why[256];

	if (mserve_priv(s) != NULL &&
	    dkimsign_eoh(mserve_priv(s), why, sizeof(why)) < 0) {
		fprintf(stderr, "signmserve: %s\n", why);
		sign_drop(s);
	}
	return MSERVE_CONTINUE;
}

static void
sign_body(struct mserve_session *s, const unsigned char *data, size_t len)
{
	if (mserve_priv(s) != NULL)
		dkimsign_body(mserve_priv(s), data, len);
}

static enum mserve_status
sign_eom(struct mserve_session *s)
{
	char why[256], *value = NULL;
	int rc;

	if (mserve_priv(s) == NULL)
		return MSERVE_TEMPFAIL;
	rc = dkimsign_end(mserve_priv(s), &value, why, sizeof(why));
	sign_drop(s);
	if (rc < 0) {
		fprintf(stderr, "signmserve: %s\n", why);
		return MSERVE_TEMPFAIL;
	}
	rc = mserve_insheader(s, 0, "DKIM-Signature", value);
	free(value);
	return rc < 0 ? MSERVE_TEMPFAIL : MSERVE_CONTINUE;
}

/* What relaygate negotiates (negotiation.h) */
static const struct mserve_ops sign_ops = {
    .actions = MPROTO_F_ADDHDRS | MPROTO_F_SETSYMLIST,
    .steps = NEGOTIATION_STEPS,
    .macros = NEGOTIATION_MACROS,
    .envfrom = sign_envfrom,
    .header = sign_header,
    .eoh = sign_eoh,
    .body = sign_body,
    .eom = sign_eom,
    .abort = sign_drop,
    .close = sign_drop,
};

/*
 * sign_setup - the key and the signer's shared part; -1 with a reason.
 * The key may belong to whoever owns it (in the bench's world, the user
 * relaygate runs as); keys_load() still wants no group or other access.
 */
static int
sign_setup(char **argv, char *why, size_t whylen)
{
	static const char *const no_oversign[] = {NULL};
	struct stat st;

	if (stat(argv[2], &st) < 0) {
		snprintf(why, whylen, "%s: %s", argv[2], strerror(errno));
		return -1;
	}
	sign_key = keys_load(argv[2], st.st_uid, why, whylen);
	if (sign_key == NULL)
		return -1;
	sign_conf = dkimsign_conf_new(no_oversign, why, whylen);
	if (sign_conf == NULL)
		return -1;
	sign_domain = argv[3];
	sign_selector = argv[4];
	return 0;
}

int
main(int argc, char **argv)
{
	char why[256];
	int fd, tcp;

	if (argc != 5) {
		fprintf(stderr, "usage: signmserve unix:/path | "
		                "inet:port@address KEY DOMAIN SELECTOR\n");
		return 2;
	}
	if (sign_setup(argv, why, sizeof(why)) < 0) {
		fprintf(stderr, "signmserve: %s\n", why);
		return 1;
	}
	if ((fd = floor_listen("signmserve", argv[1], &tcp)) < 0)
		return 1;
	return mserve_run(mserve_new(fd, tcp, &sign_ops)) == 0 ? 0 : 1;
}
