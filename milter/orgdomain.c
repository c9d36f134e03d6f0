/*
 * orgdomain - the Organizational Domain of RFC 7489 section 3.2, by libpsl.
 */

#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <libpsl.h>

#include "domain.h"
#include "log.h"
#include "orgdomain.h"
#include "util.h"

/* What pthread_once() loads, and what it found; written once, then read. */
static pthread_once_t orgdomain_once = PTHREAD_ONCE_INIT;
static const psl_ctx_t *orgdomain_psl; /* NULL: nothing loaded */
static char orgdomain_file[1024];      /* asked by orgdomain_init, or "" */
static char orgdomain_desc[1100] = "none";
static char orgdomain_error[1200];
static int orgdomain_loaded; /* the loader ran */

/* orgdomain_date - "YYYY-MM-DD" (UTC) of a time, for the description */
static void
orgdomain_date(time_t t, char *buf, size_t size)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, size, "%Y-%m-%d", &tm) == 0)
		util_strlcpy(buf, "unknown date", size);
}

/* orgdomain_use_file - load one file as the list; 0 or -1 */
static int
orgdomain_use_file(const char *file, time_t mtime)
{
	psl_ctx_t *psl = psl_load_file(file);
	char date[32];

	if (psl == NULL)
		return -1;
	orgdomain_date(mtime, date, sizeof(date));
	snprintf(orgdomain_desc, sizeof(orgdomain_desc), "%s (%s)", file, date);
	orgdomain_psl = psl;
	return 0;
}

/*
 * orgdomain_newest - the system's newest list: the distribution file or
 * the built-in list's source file when newer than the built-in data (the
 * distribution file first when both have the same mtime), else built-in.
 */
static void
orgdomain_newest(void)
{
	const char *cand[2] = {psl_dist_filename(), psl_builtin_filename()};
	time_t mtime[2] = {0, 0}, builtin = psl_builtin_file_time();
	char date[32];
	struct stat st;

	for (int i = 0; i < 2; i++)
		if (cand[i] != NULL && cand[i][0] != '\0' &&
		    stat(cand[i], &st) == 0 && st.st_mtime > builtin)
			mtime[i] = st.st_mtime;
	for (int pass = 0; pass < 2; pass++) {
		int i = (mtime[1] > mtime[0]) ? 1 - pass : pass;

		if (mtime[i] != 0 && orgdomain_use_file(cand[i], mtime[i]) == 0)
			return;
	}
	if ((orgdomain_psl = psl_builtin()) == NULL) {
		util_strlcpy(
		    orgdomain_error,
		    "libpsl has no built-in list and no newer list file "
		    "loads (install the publicsuffix package)",
		    sizeof(orgdomain_error));
		return;
	}
	orgdomain_date(builtin, date, sizeof(date));
	snprintf(orgdomain_desc, sizeof(orgdomain_desc), "built-in (%s)", date);
}

/* orgdomain_load - the pthread_once() routine: load the list asked for */
static void
orgdomain_load(void)
{
	struct stat st;

	orgdomain_loaded = 1;
	if (orgdomain_file[0] == '\0') {
		orgdomain_newest();
		return;
	}
	if (stat(orgdomain_file, &st) < 0 ||
	    orgdomain_use_file(orgdomain_file, st.st_mtime) < 0)
		snprintf(orgdomain_error, sizeof(orgdomain_error),
		         "cannot load the public suffix list %s",
		         orgdomain_file);
}

/* orgdomain_init - load the list once */
int
orgdomain_init(const char *file, char *why, size_t whylen)
{
	const char *want = file != NULL ? file : "";

	if (orgdomain_loaded && strcmp(want, orgdomain_file) != 0)
		return util_why(why, whylen,
		                "public suffix list already loaded: %s",
		                orgdomain_desc);
	if (!orgdomain_loaded &&
	    util_strlcpy(orgdomain_file, want, sizeof(orgdomain_file)) >=
	        sizeof(orgdomain_file))
		return util_why(why, whylen, "file name too long: %s", want);
	pthread_once(&orgdomain_once, orgdomain_load);
	if (orgdomain_psl == NULL)
		return util_why(why, whylen, "%s", orgdomain_error);
	return 0;
}

/* orgdomain_source - the list in use */
const char *
orgdomain_source(void)
{
	return orgdomain_desc;
}

/* orgdomain_get - the registrable domain, or the name itself */
int
orgdomain_get(const char *domain, char *out, size_t size)
{
	char name[DOMAIN_SIZE];
	const char *reg;

	if (size < DOMAIN_SIZE)
		panic("orgdomain_get: output buffer too small");
	out[0] = '\0';
	if (domain_normalize(domain, name, sizeof(name), NULL, 0) < 0)
		return -1;
	pthread_once(&orgdomain_once, orgdomain_load);
	if (orgdomain_psl == NULL)
		return -1;
	/* name is lowercase ASCII: libpsl wants lowercase, matches A-labels */
	reg = psl_registrable_domain(orgdomain_psl, name);
	util_strlcpy(out, reg != NULL ? reg : name, size);
	return reg != NULL ? 0 : 1;
}
