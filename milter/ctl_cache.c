/*
 * ctl_cache - "relaygatectl cache": list, show, flush and count the
 * shared verdict table of a running relaygate.
 */

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache.h"
#include "ctl_cache.h"
#include "domain.h"
#include "policy.h"
#include "util.h"
#include "verdict.h"

/* The states "list --state" accepts: a verdict's, or none. */
#define CTL_CACHE_NONE (-1)
#define CTL_CACHE_ANY (-2)

/* One line of "list": what sorting and printing need. */
struct ctl_cache_row {
	char *domain;
	int state; /* enum verdict_state, or CTL_CACHE_NONE */
	enum cache_status status;
	int64_t expires_at;
	int64_t checked_at;
	int64_t first_seen_bad;
	uint64_t messages;
};

/* What "list" collects. */
struct ctl_cache_rows {
	struct ctl_cache_row *v;
	size_t n, cap;
	int want; /* a state, CTL_CACHE_NONE or CTL_CACHE_ANY */
	int64_t now;
};

/* ctl_cache_err - "relaygatectl: ..." on standard error */
static void ctl_cache_err(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static void
ctl_cache_err(const char *fmt, ...)
{
	va_list ap;

	fputs("relaygatectl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ctl_cache_open - attach to the configured segment, or say why not */
static struct cache *
ctl_cache_open(const struct config *cfg, unsigned flags)
{
	char why[512];
	struct cache *c = cache_open(cfg->cache_name, 0, 0, (gid_t) -1, flags,
	                             why, sizeof(why));

	if (c == NULL)
		ctl_cache_err("%s", why);
	return c;
}

/* ctl_cache_time - "2026-12-02 05:40:23Z", or "-" for 0 */
static const char *
ctl_cache_time(int64_t t, char *buf, size_t size)
{
	time_t tt = (time_t) t;
	struct tm tm;

	if (t == 0 || gmtime_r(&tt, &tm) == NULL)
		return "-";
	strftime(buf, size, "%Y-%m-%d %H:%M:%SZ", &tm);
	return buf;
}

/* ctl_cache_messages - all messages counted for a domain */
static uint64_t
ctl_cache_messages(const struct cache_record *r)
{
	uint64_t n = 0;

	for (int i = 0; i < CACHE_COUNTERS; i++)
		n += r->counters[i];
	return n;
}

/* ctl_cache_status_name - "fresh", "stale", "expired", "-" */
static const char *
ctl_cache_status_name(enum cache_status st)
{
	static const char *const names[] = {
	    [CACHE_MISS] = "-",
	    [CACHE_FRESH] = "fresh",
	    [CACHE_STALE] = "stale",
	    [CACHE_EXPIRED] = "expired",
	};

	return (unsigned) st <= CACHE_EXPIRED ? names[st] : "?";
}

/* ctl_cache_state_name - a row's state as a word */
static const char *
ctl_cache_state_name(int state)
{
	return state == CTL_CACHE_NONE ? "-" : verdict_state_name(state);
}

/* ctl_cache_parse_state - a --state argument; 0, or -1 if unknown */
static int
ctl_cache_parse_state(const char *arg, int *state)
{
	if (strcmp(arg, "none") == 0) {
		*state = CTL_CACHE_NONE;
		return 0;
	}
	for (int s = VERDICT_CONFIGURED; s <= VERDICT_TEMPORARY; s++)
		if (strcmp(arg, verdict_state_name(s)) == 0) {
			*state = s;
			return 0;
		}
	return -1;
}

/* ctl_cache_collect - keep one record as a row (cache_foreach) */
static int
ctl_cache_collect(const struct cache_record *r, void *arg)
{
	struct ctl_cache_rows *rows = arg;
	struct ctl_cache_row *row;
	int state = r->has_verdict ? (int) r->state : CTL_CACHE_NONE;

	if (rows->want != CTL_CACHE_ANY && rows->want != state)
		return 0;
	if (rows->n == rows->cap) {
		rows->cap = rows->cap ? rows->cap * 2 : 256;
		rows->v = xrealloc(rows->v, rows->cap * sizeof(*rows->v));
	}
	row = &rows->v[rows->n++];
	row->domain = xstrdup(r->domain);
	row->state = state;
	row->status = cache_record_status(r, rows->now);
	row->expires_at = r->expires_at;
	row->checked_at = r->checked_at;
	row->first_seen_bad = r->first_seen_bad;
	row->messages = ctl_cache_messages(r);
	return 0;
}

/* ctl_cache_by_domain - qsort: by name */
static int
ctl_cache_by_domain(const void *a, const void *b)
{
	return strcmp(((const struct ctl_cache_row *) a)->domain,
	              ((const struct ctl_cache_row *) b)->domain);
}

/* ctl_cache_by_messages - qsort: most messages first, then by name */
static int
ctl_cache_by_messages(const void *a, const void *b)
{
	const struct ctl_cache_row *x = a, *y = b;

	if (x->messages != y->messages)
		return x->messages < y->messages ? 1 : -1;
	return strcmp(x->domain, y->domain);
}

/* ctl_cache_by_checked - qsort: most recently checked first */
static int
ctl_cache_by_checked(const void *a, const void *b)
{
	const struct ctl_cache_row *x = a, *y = b;

	if (x->checked_at != y->checked_at)
		return x->checked_at < y->checked_at ? 1 : -1;
	return strcmp(x->domain, y->domain);
}

/* ctl_cache_print_rows - the table of "list" */
static void
ctl_cache_print_rows(const struct ctl_cache_rows *rows)
{
	char buf[32];

	printf("%-40s %-12s %-7s %9s %9s  %s\n", "DOMAIN", "STATE", "CACHE",
	       "EXPIRES", "MESSAGES", "FIRST-SEEN-BAD");
	for (size_t i = 0; i < rows->n; i++) {
		const struct ctl_cache_row *r = &rows->v[i];
		char exp[24] = "-";

		if (r->state != CTL_CACHE_NONE)
			snprintf(exp, sizeof(exp), "%llds",
			         (long long) (r->expires_at - rows->now));
		printf("%-40s %-12s %-7s %9s %9llu  %s\n", r->domain,
		       ctl_cache_state_name(r->state),
		       ctl_cache_status_name(r->status), exp,
		       (unsigned long long) r->messages,
		       ctl_cache_time(r->first_seen_bad, buf, sizeof(buf)));
	}
}

/* ctl_cache_list_opts - parse "list"'s options; the sort function */
static int
ctl_cache_list_opts(int argc, char **argv, int *want,
                    int (**cmp)(const void *, const void *))
{
	static const struct option longopts[] = {
	    {"state", required_argument, NULL, 's'},
	    {"sort", required_argument, NULL, 'o'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c == 's' && ctl_cache_parse_state(optarg, want) == 0)
			continue;
		if (c == 'o' && strcmp(optarg, "domain") == 0)
			*cmp = ctl_cache_by_domain;
		else if (c == 'o' && strcmp(optarg, "messages") == 0)
			*cmp = ctl_cache_by_messages;
		else if (c == 'o' && strcmp(optarg, "checked") == 0)
			*cmp = ctl_cache_by_checked;
		else
			return -1;
	}
	return optind < argc ? -1 : 0;
}

/* ctl_cache_list - "cache list [--state STATE] [--sort KEY]" */
static int
ctl_cache_list(const struct config *cfg, int argc, char **argv)
{
	struct ctl_cache_rows rows = {NULL, 0, 0, CTL_CACHE_ANY, 0};
	int (*cmp)(const void *, const void *) = ctl_cache_by_domain;
	struct cache *c;

	if (ctl_cache_list_opts(argc, argv, &rows.want, &cmp) != 0) {
		fprintf(stderr,
		        "usage: relaygatectl cache list [--state "
		        "configured|partial|unconfigured|temporary|none] "
		        "[--sort domain|messages|checked]\n");
		return 2;
	}
	if ((c = ctl_cache_open(cfg, CACHE_READONLY)) == NULL)
		return 2;
	rows.now = util_realtime_s();
	cache_foreach(c, ctl_cache_collect, &rows);
	cache_close(c);
	qsort(rows.v, rows.n, sizeof(*rows.v), cmp);
	ctl_cache_print_rows(&rows);
	for (size_t i = 0; i < rows.n; i++)
		free(rows.v[i].domain);
	free(rows.v);
	return 0;
}

/* ctl_cache_show_verdict - the parts of a cached verdict */
static void
ctl_cache_show_verdict(const struct config *cfg, const struct cache_record *r)
{
	struct verdict v;
	char buf[512];

	if (verdict_decode(r->payload, r->payload_len, &v) < 0) {
		printf("  verdict        (another version of relaygate's)\n");
		return;
	}
	printf("  state          %s\n", verdict_state_name(v.state));
	verdict_spf_text(&v, buf, sizeof(buf));
	printf("  spf            %s\n", buf);
	verdict_dkim_text(&v, cfg, buf, sizeof(buf));
	printf("  dkim           %s\n", buf);
	verdict_dkim_states(&v, cfg, buf, sizeof(buf));
	printf("  selectors      %s\n", buf);
	printf("  dmarc          %s\n", dmarc_state_name(v.dmarc_state));
	printf("  dns ttl        %u s\n", (unsigned) v.ttl);
}

/* ctl_cache_show_times - when it was checked, and until when it holds */
static void
ctl_cache_show_times(const struct cache_record *r, int64_t now)
{
	char buf[32];

	printf("  cache          %s\n",
	       ctl_cache_status_name(cache_record_status(r, now)));
	printf("  checked        %s\n  checks         %u\n",
	       ctl_cache_time(r->checked_at, buf, sizeof(buf)), r->checks);
	printf("  expires        %s\n",
	       ctl_cache_time(r->expires_at, buf, sizeof(buf)));
	printf("  stale until    %s\n",
	       ctl_cache_time(r->stale_until, buf, sizeof(buf)));
	if (r->refresh_until > now)
		printf("  refreshing     until %s\n",
		       ctl_cache_time(r->refresh_until, buf, sizeof(buf)));
	printf("  first seen bad %s\n",
	       ctl_cache_time(r->first_seen_bad, buf, sizeof(buf)));
	printf("  last message   %s\n",
	       ctl_cache_time(r->last_seen, buf, sizeof(buf)));
}

/* ctl_cache_show_counters - messages per action */
static void
ctl_cache_show_counters(const struct cache_record *r)
{
	printf("  messages       %llu",
	       (unsigned long long) ctl_cache_messages(r));
	for (int i = 0; i < CACHE_COUNTERS; i++)
		if (r->counters[i] != 0)
			printf(" %s=%u", policy_action_name(i), r->counters[i]);
	printf("\n");
}

/* ctl_cache_show - "cache show DOMAIN" */
static int
ctl_cache_show(const struct config *cfg, int argc, char **argv)
{
	char norm[DOMAIN_SIZE], why[256];
	struct cache_record *r;
	struct cache *c;
	int64_t now = util_realtime_s();

	if (argc != 2) {
		fprintf(stderr, "usage: relaygatectl cache show DOMAIN\n");
		return 2;
	}
	if (domain_normalize(argv[1], norm, sizeof(norm), why, sizeof(why))) {
		ctl_cache_err("%s: %s", argv[1], why);
		return 2;
	}
	if ((c = ctl_cache_open(cfg, CACHE_READONLY)) == NULL)
		return 2;
	r = xmalloc(sizeof(*r));
	if (cache_get(c, norm, now, r) == CACHE_MISS && r->domain[0] == '\0') {
		printf("%s: not in the cache\n", norm);
		free(r);
		cache_close(c);
		return 1;
	}
	printf("%s\n", norm);
	if (r->has_verdict)
		ctl_cache_show_verdict(cfg, r);
	else
		printf("  state          - (no verdict: the next message "
		       "checks)\n");
	ctl_cache_show_times(r, now);
	ctl_cache_show_counters(r);
	free(r);
	cache_close(c);
	return 0;
}

/* ctl_cache_flush_opts - parse "flush"'s options */
static int
ctl_cache_flush_opts(int argc, char **argv, int *all, unsigned *flags)
{
	static const struct option longopts[] = {
	    {"all", no_argument, NULL, 'a'},
	    {"forget", no_argument, NULL, 'f'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c == 'a')
			*all = 1;
		else if (c == 'f')
			*flags |= CACHE_FORGET;
		else
			return -1;
	}
	return *all == (optind < argc) ? -1 : 0;
}

/* ctl_cache_flush_one - flush one domain; the exit status it adds */
static int
ctl_cache_flush_one(struct cache *c, const char *arg, unsigned flags)
{
	char norm[DOMAIN_SIZE], why[256];
	int rc;

	if (domain_normalize(arg, norm, sizeof(norm), why, sizeof(why)) != 0) {
		ctl_cache_err("%s: %s", arg, why);
		return 2;
	}
	if ((rc = cache_flush(c, norm, flags)) < 0) {
		ctl_cache_err("%s: %s", norm, strerror(errno));
		return 2;
	}
	printf("%s: %s\n", norm, rc ? "flushed" : "not in the cache");
	return rc ? 0 : 1;
}

/* ctl_cache_flush - "cache flush DOMAIN...|--all [--forget]" */
static int
ctl_cache_flush(const struct config *cfg, int argc, char **argv)
{
	unsigned flags = 0;
	int all = 0, status = 0;
	struct cache *c;

	if (ctl_cache_flush_opts(argc, argv, &all, &flags) != 0) {
		fprintf(stderr, "usage: relaygatectl cache flush "
		                "DOMAIN...|--all [--forget]\n");
		return 2;
	}
	if ((c = ctl_cache_open(cfg, CACHE_ATTACH)) == NULL)
		return 2;
	if (all) {
		long n = cache_flush_all(c, flags);

		if (n < 0)
			status = 2, ctl_cache_err("flush: %s", strerror(errno));
		else
			printf("%ld domains flushed\n", n);
	}
	for (int i = optind; !all && i < argc; i++) {
		int s = ctl_cache_flush_one(c, argv[i], flags);

		status = s > status ? s : status;
	}
	cache_close(c);
	return status;
}

/* ctl_cache_count_state - entries by state (cache_foreach) */
static int
ctl_cache_count_state(const struct cache_record *r, void *arg)
{
	size_t *by = arg;

	by[r->has_verdict && r->state <= VERDICT_TEMPORARY
	       ? r->state
	       : VERDICT_TEMPORARY + 1]++;
	return 0;
}

/* ctl_cache_stats - "cache stats" */
static int
ctl_cache_stats(const struct config *cfg, int argc, char **argv)
{
	size_t by[VERDICT_TEMPORARY + 2] = {0};
	struct cache_stats st;
	struct cache *c;
	uint64_t lookups;
	char buf[32];

	(void) argv;
	if (argc != 1) {
		fprintf(stderr, "usage: relaygatectl cache stats\n");
		return 2;
	}
	if ((c = ctl_cache_open(cfg, CACHE_READONLY)) == NULL)
		return 2;
	cache_stats(c, &st);
	cache_foreach(c, ctl_cache_count_state, by);
	cache_close(c);
	lookups = st.hits + st.misses + st.stale + st.expired;
	printf("segment      %s, %.1f MiB, created %s\n", cfg->cache_name,
	       (double) st.segment_bytes / (1 << 20),
	       ctl_cache_time(st.created_at, buf, sizeof(buf)));
	printf("entries      %zu in %zu of %zu slots (%zu bytes each; %zu "
	       "records take two)\n",
	       st.entries, st.entries + st.doubles, st.capacity, st.entry_bytes,
	       st.doubles);
	printf("hit rate     %.1f%% of %llu lookups\n",
	       lookups ? 100.0 * (double) st.hits / (double) lookups : 0.0,
	       (unsigned long long) lookups);
	printf("lookups      hit=%llu miss=%llu stale=%llu expired=%llu\n",
	       (unsigned long long) st.hits, (unsigned long long) st.misses,
	       (unsigned long long) st.stale, (unsigned long long) st.expired);
	printf("writes       inserts=%llu evictions=%llu repairs=%llu "
	       "unreadable=%llu\n",
	       (unsigned long long) st.inserts,
	       (unsigned long long) st.evictions,
	       (unsigned long long) st.repairs,
	       (unsigned long long) st.unreadable);
	printf("by state    ");
	for (int s = VERDICT_CONFIGURED; s <= VERDICT_TEMPORARY; s++)
		printf(" %s=%zu", verdict_state_name(s), by[s]);
	printf(" none=%zu\n", by[VERDICT_TEMPORARY + 1]);
	return 0;
}

/* ctl_cache - "cache SUBCOMMAND ..." */
int
ctl_cache(const struct config *cfg, int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(const struct config *, int, char **);
	} subs[] = {
	    {"list", ctl_cache_list},
	    {"show", ctl_cache_show},
	    {"flush", ctl_cache_flush},
	    {"stats", ctl_cache_stats},
	};

	for (size_t i = 0; argc > 0 && i < sizeof(subs) / sizeof(subs[0]); i++)
		if (strcmp(argv[0], subs[i].name) == 0)
			return subs[i].run(cfg, argc, argv);
	fprintf(stderr, "usage: relaygatectl cache list|show|flush|stats\n");
	return 2;
}
