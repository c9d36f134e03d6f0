/*
 * ctl_keys - relaygatectl "keys" and "keygen".
 */

#include <getopt.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl_keys.h"
#include "dkim_check.h"
#include "dkim_record.h"
#include "dns.h"
#include "keys.h"
#include "util.h"

#define CTL_KEYS_WHY 1024

/* Options of "keys". */
struct ctl_keys_opts {
	int no_dns;
};

/* Options of "keygen". */
struct ctl_keygen_opts {
	const char *selector;
	enum keys_alg alg;
	unsigned bits; /* 0: not given */
	const char *out;
	int force;
};

/* The user relaygate runs as (daemon.user). */
struct ctl_keys_user {
	int known;
	uid_t uid;
	gid_t gid;
};

/* ctl_keys_err - a problem on standard error, after the report so far */
static void ctl_keys_err(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static void
ctl_keys_err(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("relaygatectl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/*
 * ctl_keys_argv - argv for getopt_long(): the command's name first, as
 * getopt expects a program name there; freed by the caller.
 */
static char **
ctl_keys_argv(const char *name, int argc, char **argv)
{
	char **v = xcalloc((size_t) argc + 2, sizeof(*v));

	v[0] = (char *) name;
	for (int i = 0; i < argc; i++)
		v[i + 1] = argv[i];
	optind = 0; /* GNU: start afresh after main()'s getopt */
	return v;
}

/* ctl_keys_lookup_user - uid and gid of daemon.user, if it exists */
static void
ctl_keys_lookup_user(const struct config *cfg, struct ctl_keys_user *u)
{
	struct passwd pw, *res = NULL;
	char buf[4096];

	u->known = 0;
	u->uid = 0;
	u->gid = 0;
	if (cfg->user == NULL ||
	    getpwnam_r(cfg->user, &pw, buf, sizeof(buf), &res) != 0 ||
	    res == NULL)
		return;
	u->known = 1;
	u->uid = pw.pw_uid;
	u->gid = pw.pw_gid;
}

/* ctl_keys_record_line - the zone-file line for a key at a target */
static char *
ctl_keys_record_line(const char *target, const struct keys_key *key)
{
	size_t n = dkim_record_zone(keys_record(key), NULL, 0);
	char *zone = xmalloc(n + 1), *line;
	size_t tlen = strlen(target);

	dkim_record_zone(keys_record(key), zone, n + 1);
	if (tlen > 0 && target[tlen - 1] == '.')
		tlen--;
	line = xasprintf("%.*s. IN TXT ( %s )", (int) tlen, target, zone);
	free(zone);
	return line;
}

/* ctl_keys_parse - the options of "keys" */
static int
ctl_keys_parse(int argc, char **argv, struct ctl_keys_opts *o)
{
	static const struct option longopts[] = {
	    {"no-dns", no_argument, NULL, 'n'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	char **v = ctl_keys_argv("relaygatectl keys", argc, argv);
	int c, rc = 0;

	o->no_dns = 0;
	while (rc == 0 &&
	       (c = getopt_long(argc + 1, v, "h", longopts, NULL)) != -1) {
		if (c == 'n')
			o->no_dns = 1;
		else
			rc = c == 'h' ? 1 : -1;
	}
	if (rc == 0 && optind < argc + 1) {
		ctl_keys_err("keys: unexpected argument '%s'", v[optind]);
		rc = -1;
	}
	free(v);
	if (rc != 0)
		fprintf(rc > 0 ? stdout : stderr,
		        "usage: relaygatectl keys [--no-dns]\n");
	return rc;
}

/*
 * ctl_keys_load_all - every selector's key, as the daemon would load
 * it; NULL (and a message) for each that cannot be.  Returns how many
 * failed.
 */
static size_t
ctl_keys_load_all(const struct config *cfg, const struct ctl_keys_user *u,
                  struct keys_key **keys)
{
	char why[CTL_KEYS_WHY];
	size_t bad = 0;

	for (size_t i = 0; i < cfg->dkim_nselectors; i++) {
		const struct config_selector *s = &cfg->dkim_selectors[i];

		keys[i] = keys_load(s->key, u->uid, why, sizeof(why));
		if (keys[i] == NULL) {
			ctl_keys_err("selector %s: %s", s->name, why);
			bad++;
		}
	}
	if (bad > 0 && geteuid() != 0 && (!u->known || geteuid() != u->uid))
		ctl_keys_err("hint: key files are readable only by root and "
		             "daemon.user (%s); run as one of them",
		             cfg->user != NULL ? cfg->user : "unset");
	return bad;
}

/* ctl_keys_alg_text - "rsa, 2048 bits" or "ed25519" */
static const char *
ctl_keys_alg_text(const struct keys_key *key)
{
	if (keys_alg(key) == KEYS_ALG_ED25519)
		return "ed25519";
	switch (keys_bits(key)) {
	case 2048:
		return "rsa, 2048 bits";
	case 3072:
		return "rsa, 3072 bits";
	case 4096:
		return "rsa, 4096 bits";
	default:
		return "rsa";
	}
}

/* ctl_keys_dns_text - the provider-side state, for the operator */
static void
ctl_keys_dns_text(const struct dkim_check_published *p)
{
	switch (p->state) {
	case DKIM_CHECK_PUB_PUBLISHED:
		printf("published at %s (TTL %lu)\n", p->target,
		       (unsigned long) p->ttl);
		if (p->warn & DKIM_CHECK_WARN_PKCS1)
			printf("  warning:      p= is a bare PKCS#1 "
			       "RSAPublicKey, which OpenDKIM-based receivers "
			       "reject; publish the record below instead\n");
		if (p->warn & DKIM_CHECK_WARN_TESTING)
			printf("  warning:      the record has t=y (testing): "
			       "receivers may ignore the signatures\n");
		break;
	case DKIM_CHECK_PUB_TEMPERROR:
		printf("UNKNOWN, %s (asking %s)\n", p->found, p->target);
		break;
	case DKIM_CHECK_PUB_NOT_PUBLISHED:
		printf("NOT PUBLISHED: %s\n", p->found);
		break;
	case DKIM_CHECK_PUB_OTHER_KEY:
	case DKIM_CHECK_PUB_MALFORMED:
		printf("NOT PUBLISHED: %s has %s\n", p->target, p->found);
		break;
	}
}

/*
 * ctl_keys_show - one selector's block of the report; pub NULL if DNS
 * was not asked, unchecked says why.
 */
static void
ctl_keys_show(const struct config *cfg, size_t i, const struct keys_key *key,
              const struct dkim_check_published *pub, const char *unchecked)
{
	const struct config_selector *s = &cfg->dkim_selectors[i];
	int active = strcasecmp(s->name, cfg->dkim_active_selector) == 0;
	char *line;

	printf("selector %s%s\n", s->name, active ? " (active)" : "");
	printf("  key file:     %s\n", s->key);
	if (key == NULL) {
		printf("  key:          cannot be loaded (see above)\n\n");
		return;
	}
	printf("  algorithm:    %s\n", ctl_keys_alg_text(key));
	printf("  fingerprint:  %s\n", keys_fingerprint(key));
	printf("  customers:    %s._domainkey.<domain> CNAME %s.\n", s->name,
	       s->target);
	printf("  in DNS:       ");
	if (pub != NULL)
		ctl_keys_dns_text(pub);
	else
		printf("not checked (%s)\n", unchecked);
	printf("  record to publish at %s:\n", s->target);
	line = ctl_keys_record_line(s->target, key);
	printf("%s\n\n", line);
	free(line);
}

/*
 * ctl_keys_check - the provider-side check of every selector whose key
 * loaded.  Returns the checks (pub[i] zeroed where no key), or NULL and
 * a message if the resolver cannot start.
 */
static struct dkim_check_published *
ctl_keys_check(const struct config *cfg, struct keys_key *const *keys)
{
	char why[CTL_KEYS_WHY];
	struct dkim_check_published *pub;
	struct dns *dns = dns_open(cfg, why, sizeof(why));

	if (dns == NULL) {
		ctl_keys_err("cannot start the resolver: %s", why);
		return NULL;
	}
	pub = xcalloc(cfg->dkim_nselectors, sizeof(*pub));
	for (size_t i = 0; i < cfg->dkim_nselectors; i++)
		if (keys[i] != NULL)
			dkim_check_provider(dns, &cfg->dkim_selectors[i],
			                    keys[i], 0, &pub[i]);
	dns_close(dns);
	return pub;
}

/* ctl_keys_signing - the selector relaygate would sign with, and why */
static void
ctl_keys_signing(const struct config *cfg,
                 const struct dkim_check_published *pub)
{
	struct dkim_check_signing d;

	dkim_check_signing(cfg, pub, &d);
	switch (d.how) {
	case DKIM_CHECK_SIGN_ACTIVE:
		printf("signing with:   %s (the active selector; its key is "
		       "published)\n",
		       d.selector);
		break;
	case DKIM_CHECK_SIGN_FALLBACK:
		printf("signing with:   %s, NOT the active selector %s, whose "
		       "key is not published\n",
		       d.selector, cfg->dkim_active_selector);
		break;
	case DKIM_CHECK_SIGN_UNVERIFIED:
		printf("signing with:   %s (the active selector; unverified: "
		       "DNS failed)\n",
		       d.selector);
		break;
	case DKIM_CHECK_SIGN_NONE:
		printf("signing with:   NONE: no selector's key is published; "
		       "mail would go out unsigned\n");
		break;
	}
}

/* ctl_keys_status - the exit status from what was found */
static int
ctl_keys_status(const struct config *cfg, size_t bad,
                const struct dkim_check_published *pub)
{
	size_t missing = 0;
	int temp = 0;

	if (bad > 0)
		return 2;
	for (size_t i = 0; pub != NULL && i < cfg->dkim_nselectors; i++) {
		if (pub[i].state == DKIM_CHECK_PUB_TEMPERROR)
			temp = 1;
		else if (pub[i].state != DKIM_CHECK_PUB_PUBLISHED)
			missing++;
	}
	if (missing > 0) {
		printf("Not published: %zu of %zu selector keys.  Publish the "
		       "records above at their targets.\n",
		       missing, cfg->dkim_nselectors);
		return 1;
	}
	if (temp)
		printf("Some targets could not be checked (temporary DNS "
		       "failure); try again.\n");
	else if (pub != NULL)
		printf("All %zu selector keys are published.\n",
		       cfg->dkim_nselectors);
	return temp ? 2 : 0;
}

/* ctl_keys - "relaygatectl keys" */
int
ctl_keys(const struct config *cfg, int argc, char **argv)
{
	struct ctl_keys_opts o;
	struct ctl_keys_user u;
	struct keys_key **keys;
	struct dkim_check_published *pub = NULL;
	size_t bad;
	int rc;

	if ((rc = ctl_keys_parse(argc, argv, &o)) != 0)
		return rc > 0 ? 0 : 2;
	ctl_keys_lookup_user(cfg, &u);
	keys = xcalloc(cfg->dkim_nselectors, sizeof(struct keys_key *));
	bad = ctl_keys_load_all(cfg, &u, keys);
	if (!o.no_dns && (pub = ctl_keys_check(cfg, keys)) == NULL)
		bad++;
	for (size_t i = 0; i < cfg->dkim_nselectors; i++)
		ctl_keys_show(cfg, i, keys[i],
		              pub != NULL && keys[i] != NULL ? &pub[i] : NULL,
		              o.no_dns ? "--no-dns" : "no resolver");
	if (pub != NULL && bad == 0)
		ctl_keys_signing(cfg, pub);
	rc = ctl_keys_status(cfg, bad, pub);
	for (size_t i = 0; i < cfg->dkim_nselectors; i++)
		keys_free(keys[i]);
	free(keys);
	free(pub);
	return rc;
}

/* ctl_keygen_usage - the synopsis of "keygen" */
static void
ctl_keygen_usage(FILE *out)
{
	fprintf(out, "usage: relaygatectl keygen SELECTOR [--type "
	             "rsa|ed25519] [--bits 2048|3072|4096]\n"
	             "                           [--out FILE] [--force]\n");
}

/* ctl_keygen_option - one option of "keygen"; -1 if invalid */
static int
ctl_keygen_option(int c, const char *arg, struct ctl_keygen_opts *o)
{
	switch (c) {
	case 't':
		o->alg = strcmp(arg, "ed25519") == 0 ? KEYS_ALG_ED25519
		                                     : KEYS_ALG_RSA;
		if (strcmp(arg, "rsa") == 0 || strcmp(arg, "ed25519") == 0)
			return 0;
		ctl_keys_err("keygen: --type must be rsa or ed25519, not '%s'",
		             arg);
		return -1;
	case 'b':
		o->bits = strcmp(arg, "2048") == 0   ? 2048
		          : strcmp(arg, "3072") == 0 ? 3072
		          : strcmp(arg, "4096") == 0 ? 4096
		                                     : 0;
		if (o->bits != 0)
			return 0;
		ctl_keys_err("keygen: --bits must be 2048, 3072 or 4096, not "
		             "'%s'",
		             arg);
		return -1;
	case 'o':
		o->out = arg;
		return 0;
	case 'f':
		o->force = 1;
		return 0;
	default:
		return -1;
	}
}

/* ctl_keygen_parse - options and the selector; 1 for --help */
static int
ctl_keygen_parse(int argc, char **argv, struct ctl_keygen_opts *o)
{
	static const struct option longopts[] = {
	    {"type", required_argument, NULL, 't'},
	    {"bits", required_argument, NULL, 'b'},
	    {"out", required_argument, NULL, 'o'},
	    {"force", no_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	char **v = ctl_keys_argv("relaygatectl keygen", argc, argv);
	int c, rc = 0;

	memset(o, 0, sizeof(*o));
	o->alg = KEYS_ALG_RSA;
	while (rc == 0 &&
	       (c = getopt_long(argc + 1, v, "h", longopts, NULL)) != -1)
		rc = c == 'h' ? 1 : ctl_keygen_option(c, optarg, o);
	if (rc == 0 && optind + 1 != argc + 1) {
		ctl_keys_err("keygen: %s", optind == argc + 1
		                               ? "which selector?"
		                               : "one selector at a time");
		rc = -1;
	}
	if (rc == 0)
		o->selector = v[optind];
	if (rc == 0 && o->alg == KEYS_ALG_ED25519 && o->bits != 0) {
		ctl_keys_err("keygen: --bits applies to RSA keys only");
		rc = -1;
	}
	free(v);
	if (rc != 0)
		ctl_keygen_usage(rc > 0 ? stdout : stderr);
	return rc;
}

/*
 * ctl_keygen_owner - who will own the new key: daemon.user if we are
 * root (relaygate reads it as that user), else the caller.
 */
static void
ctl_keygen_owner(const struct config *cfg, struct keys_gen *gen)
{
	struct ctl_keys_user u;

	gen->owner = (uid_t) -1;
	gen->group = (gid_t) -1;
	ctl_keys_lookup_user(cfg, &u);
	if (geteuid() == 0 && u.known) {
		gen->owner = u.uid;
		gen->group = u.gid;
	} else if (geteuid() == 0) {
		ctl_keys_err("warning: daemon.user '%s' does not exist; the "
		             "key stays owned by root",
		             cfg->user != NULL ? cfg->user : "");
	} else if (!u.known || u.uid != geteuid()) {
		ctl_keys_err("warning: the key will be owned by you (uid %u); "
		             "relaygate accepts only keys owned by root or by "
		             "daemon.user (%s)",
		             (unsigned) geteuid(),
		             cfg->user != NULL ? cfg->user : "unset");
	}
}

/* ctl_keygen_report - what was written and the record to publish */
static void
ctl_keygen_report(const struct config *cfg, const struct config_selector *s,
                  const struct keys_key *key, const char *path)
{
	char *line = ctl_keys_record_line(s->target, key);

	printf("wrote a new key (%s) for selector %s to %s\n",
	       ctl_keys_alg_text(key), s->name, path);
	printf("fingerprint: %s\n\n", keys_fingerprint(key));
	printf("Publish this record at %s before relaygate signs with the "
	       "key:\n%s\n",
	       s->target, line);
	free(line);
	if (strcmp(path, s->key) != 0)
		printf("\nThe configuration names %s for %s; point its key "
		       "setting at %s to use the new key.\n",
		       s->key, s->name, path);
	else if (strcasecmp(s->name, cfg->dkim_active_selector) == 0)
		printf("\nWarning: %s is the active selector.  Publish the "
		       "record and check it with \"relaygatectl keys\" before "
		       "relaygate is reloaded (SIGUSR1): mail signed with an "
		       "unpublished key fails verification.\n",
		       s->name);
}

/* ctl_keygen - "relaygatectl keygen" */
int
ctl_keygen(const struct config *cfg, int argc, char **argv)
{
	struct ctl_keygen_opts o;
	struct keys_gen gen;
	const struct config_selector *s;
	struct keys_key *key;
	struct stat st;
	char why[CTL_KEYS_WHY];
	const char *path;
	int rc;

	if ((rc = ctl_keygen_parse(argc, argv, &o)) != 0)
		return rc > 0 ? 0 : 2;
	if ((s = config_selector_find(cfg, o.selector)) == NULL) {
		ctl_keys_err("keygen: no selector '%s' in %s", o.selector,
		             cfg->path != NULL ? cfg->path
		                               : "the configuration");
		return 2;
	}
	path = o.out != NULL ? o.out : s->key;
	if (!o.force && lstat(path, &st) == 0) {
		ctl_keys_err("%s exists; refusing to overwrite a key (use "
		             "--force to replace it)",
		             path);
		return 1;
	}
	gen.alg = o.alg;
	gen.bits = o.bits != 0 ? o.bits : 2048;
	gen.overwrite = o.force;
	ctl_keygen_owner(cfg, &gen);
	if ((key = keys_generate(path, &gen, why, sizeof(why))) == NULL) {
		ctl_keys_err("%s", why);
		return 1;
	}
	ctl_keygen_report(cfg, s, key, path);
	keys_free(key);
	return 0;
}
