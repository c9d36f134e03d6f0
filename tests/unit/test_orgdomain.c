/*
 * test_orgdomain - the Organizational Domain: registrable domains under
 * ICANN and PRIVATE rules, wildcards and exceptions, names that are
 * public suffixes, single labels, unknown TLDs, IDN in both spellings,
 * invalid names; which list is loaded, and a list of our own (in child
 * processes, since a process loads its list once).
 */

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

#include "domain.h"
#include "orgdomain.h"

struct org_case {
	const char *in;
	int rc;
	const char *out;
};

/*
 * Entries of the system list that have been stable for years: com, co.uk,
 * the *.ck wildcard with !www.ck, *.kawasaki.jp with !city.kawasaki.jp,
 * blogspot.com and github.io (PRIVATE section), 公司.cn (IDN).
 */
static const struct org_case org_cases[] = {
    {"example.com", 0, "example.com"},
    {"www.example.com", 0, "example.com"},
    {"a.b.c.example.com", 0, "example.com"},
    {"WWW.Example.COM.", 0, "example.com"},
    {"news.example.co.uk", 0, "example.co.uk"},
    {"example.co.uk", 0, "example.co.uk"},
    {"dmrmail.nl", 0, "dmrmail.nl"},
    {"mail.klant.dmrmail.nl", 0, "dmrmail.nl"},
    {"_dmarc.example.com", 0, "example.com"},
    /* wildcard and exception rules */
    {"a.b.foo.ck", 0, "b.foo.ck"},
    {"www.ck", 0, "www.ck"},
    {"x.www.ck", 0, "www.ck"},
    {"a.b.c.kawasaki.jp", 0, "b.c.kawasaki.jp"},
    {"city.kawasaki.jp", 0, "city.kawasaki.jp"},
    /* the PRIVATE section counts: separate organizations */
    {"a.blogspot.com", 0, "a.blogspot.com"},
    {"x.a.blogspot.com", 0, "a.blogspot.com"},
    {"a.b.github.io", 0, "b.github.io"},
    /* unknown TLDs: the implicit "*" rule */
    {"good.test", 0, "good.test"},
    {"news.good.test", 0, "good.test"},
    {"a.b.c.internal", 0, "c.internal"},
    /* IDN: U-labels and A-labels give the same, in A-labels */
    {"www.bücher.de", 0, "xn--bcher-kva.de"},
    {"www.xn--bcher-kva.de", 0, "xn--bcher-kva.de"},
    {"BÜCHER.de", 0, "xn--bcher-kva.de"},
    {"例子.公司.cn", 0, "xn--fsqu00a.xn--55qx5d.cn"},
    {"a.xn--fsqu00a.xn--55qx5d.cn", 0, "xn--fsqu00a.xn--55qx5d.cn"},
    /* names that are public suffixes, and single labels: themselves */
    {"com", 1, "com"},
    {"co.uk", 1, "co.uk"},
    {"blogspot.com", 1, "blogspot.com"},
    {"foo.ck", 1, "foo.ck"},
    {"公司.cn", 1, "xn--55qx5d.cn"},
    {"xn--55qx5d.cn", 1, "xn--55qx5d.cn"},
    {"localhost", 1, "localhost"},
    {"test", 1, "test"},
    {"nl.", 1, "nl"},
    /* not domain names */
    {"", -1, ""},
    {".", -1, ""},
    {"a..b", -1, ""},
    {"-a.example.com", -1, ""},
    {"a b.example.com", -1, ""},
    {"192.0.2.1]", -1, ""},
    {"\xff.example.com", -1, ""},
};

/* test_cases - every case of the table */
static void
test_cases(void **state)
{
	char out[DOMAIN_SIZE];

	(void) state;
	for (size_t i = 0; i < sizeof(org_cases) / sizeof(org_cases[0]); i++) {
		const struct org_case *c = &org_cases[i];
		int rc = orgdomain_get(c->in, out, sizeof(out));

		if (rc != c->rc || strcmp(out, c->out) != 0)
			fail_msg("orgdomain_get(\"%s\") = %d \"%s\", want %d "
			         "\"%s\"",
			         c->in, rc, out, c->rc, c->out);
	}
}

/* test_long - a 253-byte name still has its registrable domain */
static void
test_long(void **state)
{
	char name[DOMAIN_SIZE], out[DOMAIN_SIZE];

	(void) state;
	memset(name, 'a', DOMAIN_MAX);
	for (int i = 63; i < DOMAIN_MAX - 12; i += 64)
		name[i] = '.';
	memcpy(name + DOMAIN_MAX - 12, ".example.com", 12);
	name[DOMAIN_MAX] = '\0';
	assert_int_equal(orgdomain_get(name, out, sizeof(out)), 0);
	assert_string_equal(out, "example.com");
}

/* test_source - the system's list is loaded: a file or the built-in */
static void
test_source(void **state)
{
	char why[256];
	const char *src;

	(void) state;
	assert_int_equal(orgdomain_init(NULL, why, sizeof(why)), 0);
	src = orgdomain_source();
	assert_true(strncmp(src, "/", 1) == 0 ||
	            strncmp(src, "built-in (", 10) == 0);
	assert_non_null(strstr(src, " (20"));
	/* the same request again is fine, another file is refused */
	assert_int_equal(orgdomain_init(NULL, why, sizeof(why)), 0);
	assert_int_equal(orgdomain_init("/etc/hostname", why, sizeof(why)), -1);
	assert_non_null(strstr(why, "already loaded"));
}

/* orgdomain_child - run fn in a child; its exit status */
static int
orgdomain_child(int (*fn)(const char *), const char *arg)
{
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	if (pid == 0)
		_exit(fn(arg));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
}

/* child_own_list - our list file: rules of our own, nothing else */
static int
child_own_list(const char *file)
{
	char why[256], out[DOMAIN_SIZE];

	if (orgdomain_init(file, why, sizeof(why)) < 0)
		return 1;
	if (strncmp(orgdomain_source(), file, strlen(file)) != 0)
		return 2;
	if (orgdomain_get("a.b.zone.example", out, sizeof(out)) != 0 ||
	    strcmp(out, "b.zone.example") != 0)
		return 3;
	if (orgdomain_get("x.y.wild.example", out, sizeof(out)) != 0 ||
	    strcmp(out, "x.y.wild.example") != 0)
		return 4;
	if (orgdomain_get("a.ok.wild.example", out, sizeof(out)) != 0 ||
	    strcmp(out, "ok.wild.example") != 0)
		return 5;
	/* not in our list: co.uk is just a name under the "*" rule */
	if (orgdomain_get("news.example.co.uk", out, sizeof(out)) != 0 ||
	    strcmp(out, "co.uk") != 0)
		return 6;
	if (orgdomain_get("zone.example", out, sizeof(out)) != 1)
		return 7;
	return 0;
}

/* child_bad_file - a list that does not load is an error at init */
static int
child_bad_file(const char *file)
{
	char why[256], out[DOMAIN_SIZE];

	if (orgdomain_init(file, why, sizeof(why)) != -1)
		return 1;
	if (strstr(why, file) == NULL || strcmp(orgdomain_source(), "none"))
		return 2;
	/* and orgdomain_get then has no list */
	return orgdomain_get("example.com", out, sizeof(out)) == -1 ? 0 : 3;
}

/* test_own_list - orgdomain_init with a file of our own */
static void
test_own_list(void **state)
{
	char file[] = "/tmp/test_orgdomain.XXXXXX";
	int fd = mkstemp(file);
	static const char list[] = "// test list\nzone.example\n"
	                           "*.wild.example\n!ok.wild.example\n";

	(void) state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, list, sizeof(list) - 1),
	                 (ssize_t) sizeof(list) - 1);
	close(fd);
	assert_int_equal(orgdomain_child(child_own_list, file), 0);
	unlink(file);
	assert_int_equal(orgdomain_child(child_bad_file, "/nonexistent/psl"),
	                 0);
}

/* child_lazy - without init, the first orgdomain_get loads the system's */
static int
child_lazy(const char *unused)
{
	char out[DOMAIN_SIZE];

	(void) unused;
	if (strcmp(orgdomain_source(), "none") != 0)
		return 1;
	if (orgdomain_get("www.example.co.uk", out, sizeof(out)) != 0 ||
	    strcmp(out, "example.co.uk") != 0)
		return 2;
	return strcmp(orgdomain_source(), "none") != 0 ? 0 : 3;
}

/* test_lazy - orgdomain_get works without orgdomain_init */
static void
test_lazy(void **state)
{
	(void) state;
	assert_int_equal(orgdomain_child(child_lazy, NULL), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_own_list), cmocka_unit_test(test_lazy),
	    cmocka_unit_test(test_source),   cmocka_unit_test(test_cases),
	    cmocka_unit_test(test_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
