/*
 * miltload - a milter-protocol client that speaks as Postfix does: load
 * generator for benchmarks, and scripted single sessions for tests.
 *
 * Load:   miltload -S SOCKET [-c CONN] [-n MSGS] [-b BYTES] [-d DOMAINS] ...
 * Script: miltload -S SOCKET -s FILE | -e LINE [-e LINE ...]
 *
 * The load run prints one line of key=value pairs (mstats.h); the script
 * run prints one line per milter reply (mscript.h).  Exit status: 0 when
 * every message was decided (load) or no error line was printed
 * (script), 1 otherwise, 2 for a usage or script error.
 */

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mload.h"
#include "mscript.h"
#include "util.h"

#define MILTLOAD_MAX_LIST 256

/* Everything the command line says. */
struct miltload_args {
	const char *socket;
	struct mload_opts load;
	struct mgen_opts gen;
	const char *domains[MILTLOAD_MAX_LIST];
	const char *headers[MILTLOAD_MAX_LIST];
	const char *script;
	char *lines; /* -e lines, newline-separated */
	size_t lines_len;
	FILE *lines_fp;
};

/* miltload_usage - the options; exits with status */
static void __attribute__((noreturn)) miltload_usage(int status)
{
	fputs("usage: miltload -S SOCKET [load options] | [-s FILE | -e "
	      "LINE...]\n"
	      "  -S, --socket SPEC     unix:/path, inet:PORT@HOST, inet6:...\n"
	      "  -c, --connections N   concurrent sessions (1)\n"
	      "  -n, --messages N      messages per connection (100)\n"
	      "  -k, --per-session N   messages per session, then QUIT (all)\n"
	      "  -b, --body-size SIZE  body bytes, k/m suffix (4k)\n"
	      "  -d, --domains LIST    sender domains, comma-separated "
	      "(example.test)\n"
	      "      --random          pick domains at random (round robin)\n"
	      "  -H, --header 'N: V'   an extra header (repeatable)\n"
	      "      --bare            only From and To before the extras\n"
	      "  -r, --rcpt ADDR       recipient (rcpt@example.net)\n"
	      "  -t, --timeout MS      per connect and reply (10000)\n"
	      "      --nagle           no TCP_NODELAY on TCP sockets\n"
	      "      --hold-at STAGE   connect, mail, eoh or body: hold every\n"
	      "      --hold SECONDS    session there that long (5)\n"
	      "  -s, --script FILE     run a script ('-': stdin)\n"
	      "  -e, --exec LINE       a script line (repeatable)\n",
	      status == 0 ? stdout : stderr);
	exit(status);
}

/* miltload_size - "4096", "4k", "1m"; exits on nonsense */
static size_t
miltload_size(const char *s)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);

	if (end == s)
		miltload_usage(2);
	if (*end == 'k' || *end == 'K')
		v *= 1024, end++;
	else if (*end == 'm' || *end == 'M')
		v *= 1024 * 1024, end++;
	if (*end != '\0' || v > (1ULL << 30))
		miltload_usage(2);
	return (size_t) v;
}

/* miltload_number - a positive decimal number; exits on nonsense */
static unsigned long
miltload_number(const char *s)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (end == s || *end != '\0')
		miltload_usage(2);
	return v;
}

/* miltload_domains - split the comma list into a->domains */
static void
miltload_domains(struct miltload_args *a, char *list)
{
	char *save = NULL;

	a->gen.ndomains = 0;
	for (char *d = strtok_r(list, ",", &save);
	     d != NULL && a->gen.ndomains < MILTLOAD_MAX_LIST;
	     d = strtok_r(NULL, ",", &save))
		a->domains[a->gen.ndomains++] = d;
}

/* miltload_exec - one -e line */
static void
miltload_exec(struct miltload_args *a, const char *line)
{
	if (a->lines_fp == NULL)
		a->lines_fp = open_memstream(&a->lines, &a->lines_len);
	fprintf(a->lines_fp, "%s\n", line);
}

/* miltload_defaults - everything not given */
static void
miltload_defaults(struct miltload_args *a)
{
	memset(a, 0, sizeof(*a));
	msession_opts_postfix(&a->load.sess);
	a->load.connections = 1;
	a->load.messages = 100;
	a->load.hold_seconds = 5;
	a->load.progress = stderr;
	a->gen.body_size = 4096;
	a->gen.rcpt = "rcpt@example.net";
	a->domains[0] = "example.test";
	a->gen.ndomains = 1;
	a->gen.domains = a->domains;
	a->gen.headers = a->headers;
}

static const struct option miltload_options[] = {
    {"socket", required_argument, NULL, 'S'},
    {"connections", required_argument, NULL, 'c'},
    {"messages", required_argument, NULL, 'n'},
    {"per-session", required_argument, NULL, 'k'},
    {"body-size", required_argument, NULL, 'b'},
    {"domains", required_argument, NULL, 'd'},
    {"random", no_argument, NULL, 'R'},
    {"header", required_argument, NULL, 'H'},
    {"bare", no_argument, NULL, 'B'},
    {"rcpt", required_argument, NULL, 'r'},
    {"timeout", required_argument, NULL, 't'},
    {"nagle", no_argument, NULL, 'N'},
    {"hold-at", required_argument, NULL, 'A'},
    {"hold", required_argument, NULL, 'W'},
    {"script", required_argument, NULL, 's'},
    {"exec", required_argument, NULL, 'e'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* miltload_option - one option into a; exits on nonsense */
static void
miltload_option(struct miltload_args *a, int c, char *arg)
{
	switch (c) {
	case 'S':
		a->socket = arg;
		break;
	case 'c':
		a->load.connections = (unsigned) miltload_number(arg);
		break;
	case 'n':
		a->load.messages = miltload_number(arg);
		break;
	case 'k':
		a->load.per_session = miltload_number(arg);
		break;
	case 'b':
		a->gen.body_size = miltload_size(arg);
		break;
	case 'd':
		miltload_domains(a, arg);
		break;
	case 'R':
		a->gen.random = 1;
		break;
	case 'H':
		if (a->gen.nheaders == MILTLOAD_MAX_LIST)
			miltload_usage(2);
		a->headers[a->gen.nheaders++] = arg;
		break;
	case 'B':
		a->gen.bare = 1;
		break;
	case 'r':
		a->gen.rcpt = arg;
		break;
	case 't':
		a->load.sess.timeout_ms = (int) miltload_number(arg);
		break;
	case 'N':
		a->load.sess.nodelay = 0;
		break;
	case 'A':
		if (mload_hold_parse(arg, &a->load.hold) < 0)
			miltload_usage(2);
		break;
	case 'W':
		a->load.hold_seconds = strtod(arg, NULL);
		break;
	case 's':
		a->script = arg;
		break;
	case 'e':
		miltload_exec(a, arg);
		break;
	case 'h':
		miltload_usage(0);
	default:
		miltload_usage(2);
	}
}

/* miltload_script - run the -s file or the -e lines */
static int
miltload_script(struct miltload_args *a)
{
	FILE *in;
	int rc;

	if (a->lines_fp != NULL) {
		fclose(a->lines_fp);
		in = fmemopen(a->lines, a->lines_len, "r");
		rc =
		    mscript_run(in, "-e", &a->load.addr, &a->load.sess, stdout);
	} else if (strcmp(a->script, "-") == 0) {
		rc = mscript_run(stdin, "stdin", &a->load.addr, &a->load.sess,
		                 stdout);
		return rc;
	} else if ((in = fopen(a->script, "r")) == NULL) {
		fprintf(stderr, "miltload: %s: cannot open\n", a->script);
		return 2;
	} else {
		rc = mscript_run(in, a->script, &a->load.addr, &a->load.sess,
		                 stdout);
	}
	fclose(in);
	free(a->lines);
	return rc;
}

/* miltload_load - the load run and its report */
static int
miltload_load(struct miltload_args *a)
{
	char why[256];
	struct mgen *g = mgen_new(&a->gen, why, sizeof(why));
	struct mstats st;
	double seconds;
	int rc;

	if (g == NULL) {
		fprintf(stderr, "miltload: %s\n", why);
		return 2;
	}
	a->load.gen = g;
	if (mload_run(&a->load, &st, &seconds, why, sizeof(why)) < 0)
		fprintf(stderr, "miltload: %s\n", why);
	mstats_report(&st, seconds, stdout);
	rc = st.count[MSTATS_PROTOCOL] + st.count[MSTATS_TIMEOUT] +
	         st.count[MSTATS_CONNECTION] >
	     0;
	mstats_free(&st);
	mgen_free(g);
	return rc;
}

int
main(int argc, char **argv)
{
	struct miltload_args a;
	char why[256];
	int c;

	miltload_defaults(&a);
	while ((c = getopt_long(argc, argv, "S:c:n:k:b:d:H:r:t:s:e:h",
	                        miltload_options, NULL)) != -1)
		miltload_option(&a, c, optarg);
	if (a.socket == NULL || optind != argc || a.load.connections == 0 ||
	    (a.script != NULL && a.lines_fp != NULL))
		miltload_usage(2);
	if (mconn_addr_parse(a.socket, &a.load.addr, why, sizeof(why)) < 0) {
		fprintf(stderr, "miltload: %s\n", why);
		return 2;
	}
	if (a.script != NULL || a.lines_fp != NULL)
		return miltload_script(&a);
	return miltload_load(&a);
}
