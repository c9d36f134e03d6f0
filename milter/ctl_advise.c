/*
 * ctl_advise - relaygatectl "advise": check, then the template.
 */

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "advise.h"
#include "check_report.h"
#include "ctl_advise.h"
#include "ctl_env.h"
#include "util.h"

/* A template larger than this is not a message. */
#define CTL_ADVISE_MAX_TEMPLATE (256 * 1024)

/* Options of "advise". */
struct ctl_advise_opts {
	const char *domain;
	const char *lang;
	const char *resolver;
};

/* ctl_advise_parse - the options; argv[-1] is the command's name */
static int
ctl_advise_parse(const struct config *cfg, int argc, char **argv,
                 struct ctl_advise_opts *o)
{
	static const struct option longopts[] = {
	    {"lang", required_argument, NULL, 'l'},
	    {"resolver", required_argument, NULL, 'r'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->lang = cfg->advise_language;
	optind = 0;
	while ((c = getopt_long(argc + 1, argv - 1, "", longopts, NULL)) !=
	       -1) {
		if (c == 'l')
			o->lang = optarg;
		else if (c == 'r')
			o->resolver = optarg;
		else
			return -1;
	}
	if (optind != argc)
		return -1;
	o->domain = argv[optind - 1];
	return 0;
}

/* ctl_advise_read - the template file, whole; NULL with a message */
static char *
ctl_advise_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "re");
	char *buf;

	if (f == NULL) {
		fprintf(stderr, "relaygatectl: %s: ", path);
		perror(NULL);
		return NULL;
	}
	buf = xmalloc(CTL_ADVISE_MAX_TEMPLATE + 1);
	*len = fread(buf, 1, CTL_ADVISE_MAX_TEMPLATE + 1, f);
	if (ferror(f) || *len > CTL_ADVISE_MAX_TEMPLATE) {
		fprintf(stderr, "relaygatectl: %s: %s\n", path,
		        ferror(f) ? "read error" : "larger than 256 KiB");
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

/*
 * ctl_advise_report - check the domain and build its report; NULL with
 * a message if the advice cannot be written now.
 */
static struct check_report *
ctl_advise_report(struct ctl_env *e, const char *domain)
{
	struct check_result *c = xmalloc(sizeof(*c));
	struct check_report_in in = {
	    .cfg = e->cfg, .check = c, .keys = e->check.keys};
	struct check_report *r = NULL;

	if (check_domain(&e->check, domain, CHECK_ALL, ctl_env_deadline(e), c) <
	    0)
		fprintf(stderr, "relaygatectl: %s: %s\n", domain,
		        c->spf.summary);
	else if (c->spf.record_status == SPF_CHECK_REC_UNKNOWN)
		fprintf(stderr,
		        "relaygatectl: %s: the SPF record cannot be fetched "
		        "now (%s); try again later\n",
		        c->domain, c->spf.summary);
	else {
		ctl_env_merge_in(e, c, &in.merge);
		r = xmalloc(sizeof(*r));
		check_report_build(&in, r);
	}
	free(c);
	return r;
}

/*
 * ctl_advise_template - the template of the language asked for, read
 * before any DNS question is asked; NULL with a message.
 */
static char *
ctl_advise_template(const struct config *cfg, const char *lang, char *path,
                    size_t size, size_t *len)
{
	char why[512];

	if (advise_template_path(cfg, lang, path, size, why, sizeof(why)) < 0) {
		fprintf(stderr, "relaygatectl: --lang: %s\n", why);
		return NULL;
	}
	return ctl_advise_read(path, len);
}

/* ctl_advise_write - fill in the template and print the message */
static int
ctl_advise_write(const struct config *cfg, const char *path, const char *text,
                 size_t len, const struct check_report *r)
{
	char why[512];
	char *msg = advise_render(text, len, r, cfg, why, sizeof(why));

	if (msg == NULL) {
		fprintf(stderr, "relaygatectl: %s: %s\n", path, why);
		return 2;
	}
	fputs(msg, stdout);
	free(msg);
	return 0;
}

/* ctl_advise - "advise DOMAIN [--lang LANG] [--resolver ADDR@PORT]" */
int
ctl_advise(const struct config *cfg, int argc, char **argv)
{
	struct ctl_advise_opts o;
	struct check_report *r = NULL;
	struct ctl_env e;
	char path[4096], *text;
	size_t len = 0;
	int rc = 2;

	if (ctl_advise_parse(cfg, argc, argv, &o) < 0) {
		fprintf(stderr, "usage: relaygatectl advise DOMAIN "
		                "[--lang nl|en] [--resolver ADDR[@PORT]]\n");
		return 2;
	}
	if ((text = ctl_advise_template(cfg, o.lang, path, sizeof(path),
	                                &len)) == NULL)
		return 2;
	if (ctl_env_open(cfg, o.resolver, CHECK_ALL, &e) == 0) {
		ctl_env_measure(&e);
		if ((r = ctl_advise_report(&e, o.domain)) != NULL)
			rc = ctl_advise_write(cfg, path, text, len, r);
		ctl_env_close(&e);
	}
	free(r);
	free(text);
	return rc;
}
