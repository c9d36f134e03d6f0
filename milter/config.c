/*
 * config - relaygate's settings: parsed once, validated, then immutable.
 *
 * Everything about a setting is in config_table[] below.  Defaults are
 * written in libconfig syntax and go through the same parser and setters
 * as the file, so a default can never bypass a range check, and the dump
 * renders values and defaults the same way to tell which differ.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <libconfig.h>
#include <libgen.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>

#include "config.h"
#include "domain.h"
#include "log.h"
#include "metrics_http.h"
#include "sockspec.h"
#include "template.h"
#include "util.h"

enum config_type {
	CT_STRING,    /* char * */
	CT_INT,       /* int64_t */
	CT_BOOL,      /* int */
	CT_DURATION,  /* int64_t milliseconds */
	CT_ENUM,      /* int, one of values[] */
	CT_MODE,      /* int, octal string in the file */
	CT_STRLIST,   /* struct config_strlist */
	CT_GROUPLIST, /* array of elem_size structs + size_t count */
};

/* Flags of a setting. */
#define CF_RESTART 0x01 /* a reload cannot apply a change; needs restart */

typedef int (*config_check_fn)(const char *value, char *why, size_t whylen);

struct config_key {
	const char *path; /* "group.name"; in a sub-table just "name" */
	enum config_type type;
	const char *def; /* libconfig syntax; NULL in a sub-table: required */
	size_t offset;
	int64_t min, max;             /* CT_INT, CT_DURATION (ms), CT_MODE */
	const char *const *names;     /* CT_ENUM, NULL-terminated */
	const int *values;            /* CT_ENUM, NULL: the index */
	config_check_fn check;        /* CT_STRING and each CT_STRLIST item */
	const struct config_key *sub; /* CT_GROUPLIST members */
	size_t elem_size;             /* CT_GROUPLIST */
	size_t count_offset;          /* CT_GROUPLIST */
	unsigned flags;
};

/* Validators for string values.  Each fills why and returns -1. */

/* config_check_socket - a milter socket in one of the explicit forms */
static int
config_check_socket(const char *value, char *why, size_t whylen)
{
	struct sockspec spec;

	return sockspec_parse(value, &spec, why, whylen);
}

/* config_check_domain - a DNS name */
static int
config_check_domain(const char *value, char *why, size_t whylen)
{
	return domain_check(value, why, whylen);
}

/* config_check_abspath - an absolute file name */
static int
config_check_abspath(const char *value, char *why, size_t whylen)
{
	if (value[0] != '/')
		return util_why(why, whylen, "'%s' is not an absolute path",
		                value);
	return 0;
}

/* config_check_abspath_or_empty - an absolute file name, or "" for none */
static int
config_check_abspath_or_empty(const char *value, char *why, size_t whylen)
{
	return value[0] == '\0' ? 0 : config_check_abspath(value, why, whylen);
}

/* config_check_ip - an IPv4 or IPv6 address, no prefix length */
static int
config_check_ip(const char *value, char *why, size_t whylen)
{
	unsigned char buf[sizeof(struct in6_addr)];

	if (inet_pton(AF_INET, value, buf) == 1 ||
	    inet_pton(AF_INET6, value, buf) == 1)
		return 0;
	return util_why(why, whylen, "'%s' is not an IPv4 or IPv6 address",
	                value);
}

/*
 * config_check_relay_ip - a public address of the relay: not loopback or
 * unspecified, which SPF evaluation cannot judge (libspf2 passes loopback
 * unconditionally).
 */
static int
config_check_relay_ip(const char *value, char *why, size_t whylen)
{
	static const unsigned char v6_loop[16] = {[15] = 1};
	static const unsigned char v6_any[16] = {0};
	static const unsigned char v4mapped[12] = {[10] = 0xff, [11] = 0xff};
	unsigned char a[sizeof(struct in6_addr)];

	if (config_check_ip(value, why, whylen) < 0)
		return -1;
	if (inet_pton(AF_INET, value, a) == 1) {
		if (a[0] == 127 || (a[0] | a[1] | a[2] | a[3]) == 0)
			return util_why(
			    why, whylen,
			    "%s is a loopback or "
			    "unspecified address, not a public address of the "
			    "relay",
			    value);
		return 0;
	}
	inet_pton(AF_INET6, value, a);
	if (memcmp(a, v6_loop, 16) == 0 || memcmp(a, v6_any, 16) == 0 ||
	    (memcmp(a, v4mapped, 12) == 0 && a[12] == 127))
		return util_why(why, whylen,
		                "%s is a loopback or unspecified "
		                "address, not a public address of the relay",
		                value);
	return 0;
}

/* config_check_forwarder - "ADDRESS" or "ADDRESS@PORT" */
static int
config_check_forwarder(const char *value, char *why, size_t whylen)
{
	const char *at = strchr(value, '@');
	char addr[64];
	char *end;
	long port;

	if (at == NULL)
		return config_check_ip(value, why, whylen);
	if ((size_t) (at - value) >= sizeof(addr))
		return util_why(why, whylen, "bad forwarder '%s'", value);
	memcpy(addr, value, (size_t) (at - value));
	addr[at - value] = '\0';
	if (config_check_ip(addr, why, whylen) < 0)
		return -1;
	errno = 0;
	port = strtol(at + 1, &end, 10);
	if (errno != 0 || *end != '\0' || end == at + 1 || port < 1 ||
	    port > 65535)
		return util_why(why, whylen, "bad port in forwarder '%s'",
		                value);
	return 0;
}

/* config_check_name - a user or group name, or "" for none */
static int
config_check_name(const char *value, char *why, size_t whylen)
{
	for (const char *p = value; *p; p++)
		if (*p == ':' || *p == '/' || (unsigned char) *p <= ' ')
			return util_why(why, whylen,
			                "'%s' is not a user or group name",
			                value);
	return 0;
}

/* config_check_shm_name - a POSIX shared-memory name: "/NAME", one slash */
static int
config_check_shm_name(const char *value, char *why, size_t whylen)
{
	if (value[0] != '/' || value[1] == '\0' || strchr(value + 1, '/') ||
	    strlen(value) > 255)
		return util_why(why, whylen,
		                "'%s' is not a shared-memory name like "
		                "\"/relaygate\"",
		                value);
	return 0;
}

/* config_check_date - "YYYY-MM-DD" or "" */
static int
config_check_date(const char *value, char *why, size_t whylen)
{
	if (value[0] == '\0' || config_date(value) > 0)
		return 0;
	return util_why(why, whylen, "'%s' is not a date like \"2027-01-31\"",
	                value);
}

/* config_check_cidr - "ADDRESS" or "ADDRESS/PREFIX" */
static int
config_check_cidr(const char *value, char *why, size_t whylen)
{
	const char *slash = strchr(value, '/');
	unsigned char buf[sizeof(struct in6_addr)];
	char addr[64];
	char *end;
	long len;
	int v6;

	if (slash == NULL)
		return config_check_ip(value, why, whylen);
	if ((size_t) (slash - value) >= sizeof(addr))
		return util_why(why, whylen, "bad network '%s'", value);
	memcpy(addr, value, (size_t) (slash - value));
	addr[slash - value] = '\0';
	v6 = strchr(addr, ':') != NULL;
	len = strtol(slash + 1, &end, 10);
	if (inet_pton(v6 ? AF_INET6 : AF_INET, addr, buf) != 1 ||
	    *end != '\0' || end == slash + 1 || len < 0 ||
	    len > (v6 ? 128 : 32))
		return util_why(why, whylen,
		                "'%s' is not a network like "
		                "\"192.0.2.0/24\" or \"2001:db8::/32\"",
		                value);
	return 0;
}

/* config_check_override_domain - "example.nl" or "*.example.nl" */
static int
config_check_override_domain(const char *value, char *why, size_t whylen)
{
	return domain_check(strncmp(value, "*.", 2) == 0 ? value + 2 : value,
	                    why, whylen);
}

/* config_check_header_name - a header field name (RFC 5322 ftext) */
static int
config_check_header_name(const char *value, char *why, size_t whylen)
{
	if (value[0] == '\0')
		return util_why(why, whylen, "empty header name");
	for (const char *p = value; *p; p++)
		if (*p <= ' ' || *p > '~' || *p == ':')
			return util_why(why, whylen,
			                "'%s' is not a header field name",
			                value);
	return 0;
}

/* config_check_sign_header - a field name the signer takes */
static int
config_check_sign_header(const char *value, char *why, size_t whylen)
{
	if (value[0] == '\0' || value[strspn(value, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                                            "abcdefghijklmnopqrstuvwxyz"
	                                            "0123456789-_")] != '\0')
		return util_why(why, whylen,
		                "'%s' is not a header field name of "
		                "letters, digits, '-' and '_'",
		                value);
	return 0;
}

/* config_check_selector_or_empty - a selector name, or "" */
static int
config_check_selector_or_empty(const char *value, char *why, size_t whylen)
{
	return value[0] == '\0' ? 0 : config_check_domain(value, why, whylen);
}

/* config_check_line - text for a header or reply: no line breaks */
static int
config_check_line(const char *value, char *why, size_t whylen)
{
	for (const char *p = value; *p; p++)
		if ((unsigned char) *p < ' ')
			return util_why(why, whylen, "control character 0x%02x",
			                (unsigned char) *p);
	return 0;
}

static const char *const config_actions[] = {"tag", "defer", "reject",
                                             "monitor", NULL};
static const char *const config_override_actions[] = {
    "tag", "defer", "reject", "monitor", "exempt", NULL};
static const char *const config_temporary_actions[] = {"tag", "defer",
                                                       "monitor", NULL};
static const int config_temporary_values[] = {
    CONFIG_ACTION_TAG, CONFIG_ACTION_DEFER, CONFIG_ACTION_MONITOR};
static const char *const config_from_actions[] = {"tag", "reject", "monitor",
                                                  NULL};
static const int config_from_values[] = {
    CONFIG_ACTION_TAG, CONFIG_ACTION_REJECT, CONFIG_ACTION_MONITOR};
static const char *const config_outsides[] = {"pass", "policy", NULL};

static const char *const config_log_destinations[] = {"stderr", "syslog", NULL};
static const int config_log_destination_values[] = {LOG_DEST_STDERR,
                                                    LOG_DEST_SYSLOG};
static const char *const config_log_levels[] = {"error", "warning", "notice",
                                                "info",  "debug",   NULL};
static const int config_log_level_values[] = {
    LOG_LEVEL_ERROR, LOG_LEVEL_WARNING, LOG_LEVEL_NOTICE, LOG_LEVEL_INFO,
    LOG_LEVEL_DEBUG};
static const char *const config_log_formats[] = {"logfmt", "json", NULL};
static const int config_log_format_values[] = {LOG_FORMAT_LOGFMT,
                                               LOG_FORMAT_JSON};
static const char *const config_facilities[] = {
    "mail",   "daemon", "user",   "local0", "local1", "local2",
    "local3", "local4", "local5", "local6", "local7", NULL};
static const int config_facility_values[] = {
    LOG_MAIL,   LOG_DAEMON, LOG_USER,   LOG_LOCAL0, LOG_LOCAL1, LOG_LOCAL2,
    LOG_LOCAL3, LOG_LOCAL4, LOG_LOCAL5, LOG_LOCAL6, LOG_LOCAL7};
static const char *const config_resolver_sources[] = {"system", "forwarders",
                                                      NULL};

#define F(field) offsetof(struct config, field)
#define SEL(field) offsetof(struct config_selector, field)
#define MS(s) ((int64_t) (s) *1000)

/* Members of one element of dkim.selectors. */
static const struct config_key config_selector_table[] = {
    {.path = "name",
     .type = CT_STRING,
     .offset = SEL(name),
     .check = config_check_domain},
    {.path = "target",
     .type = CT_STRING,
     .offset = SEL(target),
     .check = config_check_domain},
    {.path = "key",
     .type = CT_STRING,
     .offset = SEL(key),
     .check = config_check_abspath},
    {.path = "also",
     .type = CT_STRING,
     .offset = SEL(also),
     .def = "\"\"",
     .check = config_check_selector_or_empty},
    {.path = NULL},
};

#define OVR(field) offsetof(struct config_override, field)

/* Members of one element of policy.overrides. */
static const struct config_key config_override_table[] = {
    {.path = "domain",
     .type = CT_STRING,
     .offset = OVR(domain),
     .check = config_check_override_domain},
    {.path = "action",
     .type = CT_ENUM,
     .offset = OVR(action),
     .names = config_override_actions},
    {.path = "expires",
     .type = CT_STRING,
     .offset = OVR(expires),
     .def = "\"\"",
     .check = config_check_date},
    {.path = NULL},
};

/*
 * The settings, in the order of the reference file and the dump.  The
 * defaults are the provider's seed values.
 */
static const struct config_key config_table[] = {
    {.path = "daemon.socket",
     .type = CT_STRING,
     .offset = F(socket),
     .def = "\"unix:/run/relaygate/relaygate.sock\"",
     .check = config_check_socket,
     .flags = CF_RESTART},
    {.path = "daemon.socket_mode",
     .type = CT_MODE,
     .offset = F(socket_mode),
     .def = "\"0660\"",
     .min = 0,
     .max = 0777,
     .flags = CF_RESTART},
    {.path = "daemon.socket_group",
     .type = CT_STRING,
     .offset = F(socket_group),
     .def = "\"postfix\"",
     .check = config_check_name,
     .flags = CF_RESTART},
    {.path = "daemon.user",
     .type = CT_STRING,
     .offset = F(user),
     .def = "\"relaygate\"",
     .check = config_check_name,
     .flags = CF_RESTART},
    {.path = "daemon.group",
     .type = CT_STRING,
     .offset = F(group),
     .def = "\"relaygate\"",
     .check = config_check_name,
     .flags = CF_RESTART},
    {.path = "daemon.pid_file",
     .type = CT_STRING,
     .offset = F(pid_file),
     .def = "\"/run/relaygate/relaygate.pid\"",
     .check = config_check_abspath_or_empty,
     .flags = CF_RESTART},
    {.path = "daemon.drain_timeout",
     .type = CT_DURATION,
     .offset = F(drain_timeout_ms),
     .def = "\"30s\"",
     .min = 0,
     .max = MS(3600)},

    {.path = "log.destination",
     .type = CT_ENUM,
     .offset = F(log_destination),
     .def = "\"syslog\"",
     .names = config_log_destinations,
     .values = config_log_destination_values},
    {.path = "log.facility",
     .type = CT_ENUM,
     .offset = F(log_facility),
     .def = "\"mail\"",
     .names = config_facilities,
     .values = config_facility_values},
    {.path = "log.level",
     .type = CT_ENUM,
     .offset = F(log_level),
     .def = "\"info\"",
     .names = config_log_levels,
     .values = config_log_level_values},
    {.path = "log.format",
     .type = CT_ENUM,
     .offset = F(log_format),
     .def = "\"logfmt\"",
     .names = config_log_formats,
     .values = config_log_format_values},
    {.path = "log.reminder_interval",
     .type = CT_DURATION,
     .offset = F(log_reminder_interval_ms),
     .def = "\"1d\"",
     .min = 0,
     .max = MS(365 * 86400)},

    {.path = "resolver.source",
     .type = CT_ENUM,
     .offset = F(resolver_source),
     .def = "\"system\"",
     .names = config_resolver_sources,
     .flags = CF_RESTART},
    {.path = "resolver.forwarders",
     .type = CT_STRLIST,
     .offset = F(resolver_forwarders),
     .def = "[]",
     .check = config_check_forwarder,
     .flags = CF_RESTART},
    {.path = "resolver.resolv_conf",
     .type = CT_STRING,
     .offset = F(resolver_resolv_conf),
     .def = "\"/etc/resolv.conf\"",
     .check = config_check_abspath,
     .flags = CF_RESTART},
    {.path = "resolver.timeout",
     .type = CT_DURATION,
     .offset = F(resolver_timeout_ms),
     .def = "\"3s\"",
     .min = 100,
     .max = MS(60),
     .flags = CF_RESTART},
    {.path = "resolver.check_timeout",
     .type = CT_DURATION,
     .offset = F(resolver_check_timeout_ms),
     .def = "\"10s\"",
     .min = 100,
     .max = MS(25)},
    {.path = "resolver.trust_anchor",
     .type = CT_STRING,
     .offset = F(resolver_trust_anchor),
     .def = "\"\"",
     .check = config_check_abspath_or_empty,
     .flags = CF_RESTART},

    {.path = "relay.addresses",
     .type = CT_STRLIST,
     .offset = F(relay_addresses),
     .def = "[]",
     .check = config_check_relay_ip},
    {.path = "relay.spf_include",
     .type = CT_STRING,
     .offset = F(relay_spf_include),
     .def = "\"spf.dmrmail.nl\"",
     .check = config_check_domain},

    {.path = "dkim.active_selector",
     .type = CT_STRING,
     .offset = F(dkim_active_selector),
     .def = "\"prezent-a\"",
     .check = config_check_domain},
    {.path = "dkim.selectors",
     .type = CT_GROUPLIST,
     .offset = F(dkim_selectors),
     .count_offset = F(dkim_nselectors),
     .sub = config_selector_table,
     .elem_size = sizeof(struct config_selector),
     .def = "( { name = \"prezent-a\"; target = \"_dkim-a.prezent.nl\"; "
            "key = \"/etc/relaygate/keys/prezent-a.pem\"; }, "
            "{ name = \"prezent-b\"; target = \"_dkim-b.prezent.nl\"; "
            "key = \"/etc/relaygate/keys/prezent-b.pem\"; } )"},
    {.path = "dkim.sign_headers",
     .type = CT_STRLIST,
     .offset = F(dkim_sign_headers),
     .def = "[]",
     .check = config_check_sign_header,
     .flags = CF_RESTART},
    {.path = "dkim.oversign_headers",
     .type = CT_STRLIST,
     .offset = F(dkim_oversign_headers),
     .def = "[ \"from\", \"reply-to\", \"subject\", \"to\", \"cc\" ]",
     .check = config_check_sign_header,
     .flags = CF_RESTART},
    {.path = "dkim.provider_check_interval",
     .type = CT_DURATION,
     .offset = F(dkim_provider_interval_ms),
     .def = "\"10m\"",
     .min = MS(10),
     .max = MS(86400)},
    {.path = "scope.networks",
     .type = CT_STRLIST,
     .offset = F(scope_networks),
     .def = "[ \"127.0.0.0/8\", \"::1/128\" ]",
     .check = config_check_cidr},
    {.path = "scope.sasl",
     .type = CT_BOOL,
     .offset = F(scope_sasl),
     .def = "true"},
    {.path = "scope.outside",
     .type = CT_ENUM,
     .offset = F(scope_outside),
     .def = "\"pass\"",
     .names = config_outsides},

    {.path = "policy.spf_unauthorized",
     .type = CT_ENUM,
     .offset = F(policy_spf),
     .def = "\"tag\"",
     .names = config_actions},
    {.path = "policy.dkim_undelegated",
     .type = CT_ENUM,
     .offset = F(policy_dkim),
     .def = "\"tag\"",
     .names = config_actions},
    {.path = "policy.both",
     .type = CT_ENUM,
     .offset = F(policy_both),
     .def = "\"defer\"",
     .names = config_actions},
    {.path = "policy.temporary",
     .type = CT_ENUM,
     .offset = F(policy_temporary),
     .def = "\"defer\"",
     .names = config_temporary_actions,
     .values = config_temporary_values},
    {.path = "policy.multiple_from",
     .type = CT_ENUM,
     .offset = F(policy_multiple_from),
     .def = "\"tag\"",
     .names = config_from_actions,
     .values = config_from_values},
    {.path = "policy.grace_period",
     .type = CT_DURATION,
     .offset = F(policy_grace_ms),
     .def = "\"7d\"",
     .min = 0,
     .max = MS(365LL * 86400)},
    {.path = "policy.enforce_from",
     .type = CT_STRING,
     .offset = F(policy_enforce_from),
     .def = "\"\"",
     .check = config_check_date},
    {.path = "policy.help_url",
     .type = CT_STRING,
     .offset = F(policy_help_url),
     .def = "\"\"",
     .check = config_check_line},
    {.path = "policy.status_header",
     .type = CT_STRING,
     .offset = F(policy_status_header),
     .def = "\"X-Relaygate-Status\"",
     .check = config_check_header_name},
    {.path = "policy.subject_prefix",
     .type = CT_STRING,
     .offset = F(policy_subject_prefix),
     .def = "\"\"",
     .check = config_check_line},
    {.path = "policy.overrides",
     .type = CT_GROUPLIST,
     .offset = F(policy_overrides),
     .count_offset = F(policy_noverrides),
     .sub = config_override_table,
     .elem_size = sizeof(struct config_override),
     .def = "( )"},
    {.path = "policy.overrides_file",
     .type = CT_STRING,
     .offset = F(policy_overrides_file),
     .def = "\"\"",
     .check = config_check_abspath_or_empty},

    {.path = "cache.name",
     .type = CT_STRING,
     .offset = F(cache_name),
     .def = "\"/relaygate\"",
     .check = config_check_shm_name,
     .flags = CF_RESTART},
    {.path = "cache.capacity",
     .type = CT_INT,
     .offset = F(cache_capacity),
     .def = "100000",
     .min = 16,
     .max = 67108864, /* CACHE_CAPACITY_MAX */
     .flags = CF_RESTART},
    {.path = "cache.mode",
     .type = CT_MODE,
     .offset = F(cache_mode),
     .def = "\"0640\"",
     .min = 0,
     .max = 0777,
     .flags = CF_RESTART},
    {.path = "cache.group",
     .type = CT_STRING,
     .offset = F(cache_group),
     .def = "\"\"",
     .check = config_check_name,
     .flags = CF_RESTART},
    {.path = "cache.ttl_min",
     .type = CT_DURATION,
     .offset = F(cache_ttl_min_ms),
     .def = "\"1m\"",
     .min = 0,
     .max = MS(86400)},
    {.path = "cache.ttl_max",
     .type = CT_DURATION,
     .offset = F(cache_ttl_max_ms),
     .def = "\"1h\"",
     .min = MS(1),
     .max = MS(7 * 86400)},
    {.path = "cache.ttl_bad_max",
     .type = CT_DURATION,
     .offset = F(cache_ttl_bad_max_ms),
     .def = "\"5m\"",
     .min = MS(1),
     .max = MS(86400)},
    {.path = "cache.ttl_temp",
     .type = CT_DURATION,
     .offset = F(cache_ttl_temp_ms),
     .def = "\"30s\"",
     .min = MS(1),
     .max = MS(3600)},
    {.path = "cache.max_stale",
     .type = CT_DURATION,
     .offset = F(cache_max_stale_ms),
     .def = "\"6h\"",
     .min = 0,
     .max = MS(7 * 86400)},
    {.path = "cache.refresh_ahead",
     .type = CT_DURATION,
     .offset = F(cache_refresh_ahead_ms),
     .def = "\"1m\"",
     .min = 0,
     .max = MS(3600)},
    {.path = "cache.state_file",
     .type = CT_STRING,
     .offset = F(cache_state_file),
     .def = "\"/var/lib/relaygate/state/cache.state\"",
     .check = config_check_abspath_or_empty,
     .flags = CF_RESTART},
    {.path = "cache.snapshot_interval",
     .type = CT_DURATION,
     .offset = F(cache_snapshot_interval_ms),
     .def = "\"5m\"",
     .min = MS(10),
     .max = MS(86400)},

    {.path = "metrics.listen",
     .type = CT_STRING,
     .offset = F(metrics_listen),
     .def = "\"\"",
     .check = metrics_http_check,
     .flags = CF_RESTART},
    {.path = "metrics.allow_remote",
     .type = CT_BOOL,
     .offset = F(metrics_allow_remote),
     .def = "false",
     .flags = CF_RESTART},

    {.path = "advise.templates",
     .type = CT_STRING,
     .offset = F(advise_templates),
     .def = "\"/etc/relaygate/advise\"",
     .check = config_check_abspath},
    {.path = "advise.language",
     .type = CT_STRING,
     .offset = F(advise_language),
     .def = "\"nl\"",
     .check = template_name_check},
};

#define CONFIG_NKEYS (sizeof(config_table) / sizeof(config_table[0]))

/* Where the settings of one load came from, for messages. */
struct config_src {
	const char *name;       /* the file, for settings without source */
	int line[CONFIG_NKEYS]; /* line of each top-level setting, 0 = default
	                         */
};

/* config_key_count - number of settings */
size_t
config_key_count(void)
{
	return CONFIG_NKEYS;
}

/* config_key_in_file - was setting i in the file? */
int
config_key_in_file(const struct config *cfg, size_t i)
{
	return i < CONFIG_NKEYS && cfg->in_file[i];
}

/* config_key_path - path of setting i */
const char *
config_key_path(size_t i)
{
	return i < CONFIG_NKEYS ? config_table[i].path : NULL;
}

/* config_field - address of a field of the struct at base */
static void *
config_field(void *base, size_t offset)
{
	return (char *) base + offset;
}

/* config_cfield - the same, read-only */
static const void *
config_cfield(const void *base, size_t offset)
{
	return (const char *) base + offset;
}

/*
 * config_fail - "FILE:LINE: path: problem" into why.  The file is the one
 * libconfig recorded for the setting (an @include), else the loaded file.
 */
static int config_fail(char *why, size_t whylen, const config_setting_t *s,
                       const char *name, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static int
config_fail(char *why, size_t whylen, const config_setting_t *s,
            const char *name, const char *path, const char *fmt, ...)
{
	char text[512];
	const char *file = s ? config_setting_source_file(s) : NULL;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (s != NULL && config_setting_source_line(s) > 0)
		return util_why(why, whylen, "%s:%u: %s: %s",
		                file ? file : name,
		                config_setting_source_line(s), path, text);
	return util_why(why, whylen, "%s: %s: %s", name, path, text);
}

/*
 * config_parse_duration - "90", "250ms", "5s", "10m", "2h", "7d", "1h30m"
 * into milliseconds.  A bare number means seconds.
 */
static int
config_parse_duration(const char *s, int64_t *ms)
{
	int64_t total = 0;

	if (*s == '\0')
		return -1;
	while (*s) {
		int64_t n = 0, unit;
		const char *start = s;

		while (*s >= '0' && *s <= '9') {
			if (n > INT64_MAX / 10 - 10)
				return -1;
			n = n * 10 + (*s++ - '0');
		}
		if (s == start)
			return -1;
		if (strncmp(s, "ms", 2) == 0)
			unit = 1, s += 2;
		else if (*s == 's' || *s == '\0')
			unit = 1000, s += *s == 's';
		else if (*s == 'm')
			unit = 60000, s++;
		else if (*s == 'h')
			unit = 3600000, s++;
		else if (*s == 'd')
			unit = 86400000, s++;
		else
			return -1;
		if (n > (INT64_MAX - total) / unit)
			return -1;
		total += n * unit;
	}
	*ms = total;
	return 0;
}

/* config_parse_mode - an octal file mode written as a string */
static int
config_parse_mode(const char *s, int64_t *mode)
{
	int64_t v = 0;

	if (*s == '\0' || strlen(s) > 5)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '7')
			return -1;
		v = v * 8 + (*s - '0');
	}
	*mode = v;
	return 0;
}

/* config_enum_value - index of a name, case-insensitive; -1 if unknown */
static int
config_enum_value(const struct config_key *k, const char *name, int *value)
{
	for (int i = 0; k->names[i] != NULL; i++) {
		if (strcasecmp(k->names[i], name) == 0) {
			*value = k->values ? k->values[i] : i;
			return 0;
		}
	}
	return -1;
}

/* config_enum_list - "a, b, c" for messages */
static void
config_enum_list(const struct config_key *k, char *buf, size_t size)
{
	buf[0] = '\0';
	for (int i = 0; k->names[i] != NULL; i++) {
		size_t len = strlen(buf);

		snprintf(buf + len, size - len, "%s%s", i ? ", " : "",
		         k->names[i]);
	}
}

/* Context of one setting being stored, for messages. */
struct config_at {
	const config_setting_t *s;
	const char *name; /* file name fallback */
	const char *path; /* full path, e.g. dkim.selectors.[1].key */
};

/* config_set_string - CT_STRING */
static int
config_set_string(const struct config_key *k, const struct config_at *at,
                  void *field, char *why, size_t whylen)
{
	const char *v = config_setting_get_string(at->s);
	char reason[256];

	if (config_setting_type(at->s) != CONFIG_TYPE_STRING)
		return config_fail(why, whylen, at->s, at->name, at->path,
		                   "expected a string");
	if (k->check != NULL && k->check(v, reason, sizeof(reason)) < 0)
		return config_fail(why, whylen, at->s, at->name, at->path, "%s",
		                   reason);
	*(char **) field = xstrdup(v);
	return 0;
}

/* config_range - range check with the value shown as written */
static int
config_range(const struct config_key *k, const struct config_at *at, int64_t v,
             const char *shown, char *why, size_t whylen)
{
	if (v < k->min || v > k->max)
		return config_fail(why, whylen, at->s, at->name, at->path,
		                   "%s is out of range", shown);
	return 0;
}

/* config_set_number - CT_INT, CT_DURATION and CT_MODE */
static int
config_set_number(const struct config_key *k, const struct config_at *at,
                  void *field, char *why, size_t whylen)
{
	int type = config_setting_type(at->s);
	int64_t v;
	char shown[64];

	if (k->type != CT_MODE &&
	    (type == CONFIG_TYPE_INT || type == CONFIG_TYPE_INT64)) {
		v = config_setting_get_int64(at->s);
		snprintf(shown, sizeof(shown), "%lld", (long long) v);
		if (k->type == CT_DURATION) {
			if (v < 0 || v > INT64_MAX / 1000)
				return config_fail(why, whylen, at->s, at->name,
				                   at->path,
				                   "%s is out of range", shown);
			v *= 1000;
		}
	} else if (k->type != CT_INT && type == CONFIG_TYPE_STRING) {
		const char *s = config_setting_get_string(at->s);

		snprintf(shown, sizeof(shown), "\"%.50s\"", s);
		if ((k->type == CT_DURATION ? config_parse_duration(s, &v)
		                            : config_parse_mode(s, &v)) < 0)
			return config_fail(
			    why, whylen, at->s, at->name, at->path,
			    k->type == CT_DURATION
			        ? "bad duration %s (e.g. \"30s\", \"5m\", "
			          "\"1h30m\", \"7d\")"
			        : "bad octal mode %s (e.g. \"0660\")",
			    shown);
	} else {
		return config_fail(
		    why, whylen, at->s, at->name, at->path,
		    k->type == CT_INT ? "expected an integer"
		    : k->type == CT_MODE
		        ? "expected an octal string like "
		          "\"0660\""
		        : "expected seconds or a duration string");
	}
	if (config_range(k, at, v, shown, why, whylen) < 0)
		return -1;
	if (k->type == CT_MODE)
		*(int *) field = (int) v;
	else
		*(int64_t *) field = v;
	return 0;
}

/* config_set_bool - CT_BOOL */
static int
config_set_bool(const struct config_at *at, void *field, char *why,
                size_t whylen)
{
	if (config_setting_type(at->s) != CONFIG_TYPE_BOOL)
		return config_fail(why, whylen, at->s, at->name, at->path,
		                   "expected true or false");
	*(int *) field = config_setting_get_bool(at->s);
	return 0;
}

/* config_set_enum - CT_ENUM */
static int
config_set_enum(const struct config_key *k, const struct config_at *at,
                void *field, char *why, size_t whylen)
{
	const char *v = config_setting_get_string(at->s);
	char list[256];

	config_enum_list(k, list, sizeof(list));
	if (v == NULL)
		return config_fail(why, whylen, at->s, at->name, at->path,
		                   "expected a string, one of: %s", list);
	if (config_enum_value(k, v, (int *) field) < 0)
		return config_fail(why, whylen, at->s, at->name, at->path,
		                   "\"%.60s\" is not one of: %s", v, list);
	return 0;
}

/* config_set_strlist - CT_STRLIST; each item passes the check */
static int
config_set_strlist(const struct config_key *k, const struct config_at *at,
                   void *field, char *why, size_t whylen)
{
	struct config_strlist *list = field;
	int type = config_setting_type(at->s);
	int n = config_setting_length(at->s);
	char reason[256];

	if (type != CONFIG_TYPE_ARRAY && type != CONFIG_TYPE_LIST)
		return config_fail(
		    why, whylen, at->s, at->name, at->path,
		    "expected a list of strings like [ \"a\", \"b\" ]");
	list->v = xcalloc((size_t) n + 1, sizeof(char *));
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(at->s, i);

		if (config_setting_type(e) != CONFIG_TYPE_STRING)
			return config_fail(why, whylen, e, at->name, at->path,
			                   "item %d is not a string", i + 1);
		if (k->check != NULL && k->check(config_setting_get_string(e),
		                                 reason, sizeof(reason)) < 0)
			return config_fail(why, whylen, e, at->name, at->path,
			                   "%s", reason);
		list->v[list->n++] = xstrdup(config_setting_get_string(e));
	}
	return 0;
}

static int config_set(const struct config_key *k, const struct config_at *at,
                      void *base, char *why, size_t whylen);
static int config_set_default(const struct config_key *k, void *base,
                              const char *name, const char *path, char *why,
                              size_t whylen);

/* config_sub_find - a member of a group-list element, by name */
static const struct config_key *
config_sub_find(const struct config_key *sub, const char *name)
{
	for (; sub->path != NULL; sub++)
		if (strcmp(sub->path, name) == 0)
			return sub;
	return NULL;
}

/*
 * config_set_element - one group of a group list: no unknown members,
 * every member set from the file or its default, required ones present.
 */
static int
config_set_element(const struct config_key *k, const struct config_at *at,
                   void *elem, char *why, size_t whylen)
{
	char path[256];

	for (int i = 0; i < config_setting_length(at->s); i++) {
		const config_setting_t *m = config_setting_get_elem(at->s, i);

		if (config_sub_find(k->sub, config_setting_name(m)) == NULL)
			return config_fail(why, whylen, m, at->name, at->path,
			                   "unknown setting '%s'",
			                   config_setting_name(m));
	}
	for (const struct config_key *sk = k->sub; sk->path != NULL; sk++) {
		struct config_at mat = {.name = at->name, .path = path};

		if (snprintf(path, sizeof(path), "%s.%s", at->path, sk->path) >=
		    (int) sizeof(path))
			return config_fail(why, whylen, at->s, at->name,
			                   at->path, "setting path too long");
		mat.s = config_setting_get_member(at->s, sk->path);
		if (mat.s != NULL) {
			if (config_set(sk, &mat, elem, why, whylen) < 0)
				return -1;
		} else if (sk->def == NULL) {
			return config_fail(why, whylen, at->s, at->name,
			                   at->path, "missing '%s'", sk->path);
		} else if (config_set_default(sk, elem, at->name, path, why,
		                              whylen) < 0) {
			return -1;
		}
	}
	return 0;
}

/* config_set_grouplist - CT_GROUPLIST: ( { ... }, { ... } ) */
static int
config_set_grouplist(const struct config_key *k, const struct config_at *at,
                     void *base, char *why, size_t whylen)
{
	char **array = config_field(base, k->offset);
	size_t *count = config_field(base, k->count_offset);
	int n = config_setting_length(at->s);
	char path[256];

	if (config_setting_type(at->s) != CONFIG_TYPE_LIST)
		return config_fail(
		    why, whylen, at->s, at->name, at->path,
		    "expected a list of groups like ( { ... }, { ... } )");
	*array = xcalloc((size_t) n + 1, k->elem_size);
	for (int i = 0; i < n; i++) {
		struct config_at eat = {.name = at->name, .path = path};

		eat.s = config_setting_get_elem(at->s, i);
		snprintf(path, sizeof(path), "%s.[%d]", at->path, i);
		if (config_setting_type(eat.s) != CONFIG_TYPE_GROUP)
			return config_fail(why, whylen, eat.s, at->name, path,
			                   "expected a group { ... }");
		(*count)++;
		if (config_set_element(k, &eat, *array + i * k->elem_size, why,
		                       whylen) < 0)
			return -1;
	}
	return 0;
}

/* config_set - store one setting according to its type */
static int
config_set(const struct config_key *k, const struct config_at *at, void *base,
           char *why, size_t whylen)
{
	void *field = config_field(base, k->offset);

	switch (k->type) {
	case CT_STRING:
		return config_set_string(k, at, field, why, whylen);
	case CT_INT:
	case CT_DURATION:
	case CT_MODE:
		return config_set_number(k, at, field, why, whylen);
	case CT_BOOL:
		return config_set_bool(at, field, why, whylen);
	case CT_ENUM:
		return config_set_enum(k, at, field, why, whylen);
	case CT_STRLIST:
		return config_set_strlist(k, at, field, why, whylen);
	case CT_GROUPLIST:
		return config_set_grouplist(k, at, base, why, whylen);
	}
	panic("config: setting %s has unknown type %d", k->path, k->type);
}

/*
 * config_set_default - store a setting's default by parsing its text, so
 * that defaults pass the same checks as the file.  A default that fails
 * is a bug in the table, caught by the unit tests.
 */
static int
config_set_default(const struct config_key *k, void *base, const char *name,
                   const char *path, char *why, size_t whylen)
{
	config_t scratch;
	char *text = xasprintf("v = %s;", k->def);
	struct config_at at = {.name = name, .path = path};
	int rc;

	config_init(&scratch);
	if (config_read_string(&scratch, text) != CONFIG_TRUE)
		panic("config: default of %s does not parse: %s", k->path,
		      config_error_text(&scratch));
	at.s = config_lookup(&scratch, "v");
	rc = config_set(k, &at, base, why, whylen);
	config_destroy(&scratch);
	free(text);
	return rc;
}

/* config_free_fields - free what the settings of a table own */
static void
config_free_fields(const struct config_key *table, size_t n, void *base)
{
	for (size_t i = 0; i < n && table[i].path != NULL; i++) {
		const struct config_key *k = &table[i];
		void *field = config_field(base, k->offset);

		if (k->type == CT_STRING) {
			free(*(char **) field);
		} else if (k->type == CT_STRLIST) {
			struct config_strlist *list = field;

			for (size_t j = 0; j < list->n; j++)
				free(list->v[j]);
			free(list->v);
		} else if (k->type == CT_GROUPLIST) {
			char *array = *(char **) field;
			size_t count =
			    *(size_t *) config_field(base, k->count_offset);

			for (size_t j = 0; j < count; j++)
				config_free_fields(k->sub, SIZE_MAX,
				                   array + j * k->elem_size);
			free(array);
		}
	}
}

/* config_free - free a snapshot */
static void
config_free(struct config *cfg)
{
	if (cfg == NULL)
		return;
	config_free_fields(config_table, CONFIG_NKEYS, cfg);
	for (size_t i = 0; i < cfg->nfile_overrides; i++)
		config_free_fields(config_override_table, SIZE_MAX,
		                   &cfg->file_overrides[i]);
	free(cfg->file_overrides);
	free(cfg->in_file);
	free(cfg->path);
	free(cfg);
}

/* config_key_index - table index of a full path, or -1 */
static int
config_key_index(const char *path)
{
	for (size_t i = 0; i < CONFIG_NKEYS; i++)
		if (strcmp(config_table[i].path, path) == 0)
			return (int) i;
	return -1;
}

/* config_is_group - is path the group of some setting ("daemon")? */
static int
config_is_group(const char *path)
{
	size_t len = strlen(path);

	for (size_t i = 0; i < CONFIG_NKEYS; i++)
		if (strncmp(config_table[i].path, path, len) == 0 &&
		    config_table[i].path[len] == '.')
			return 1;
	return 0;
}

/* config_distance - edit distance of two short strings, capped at 9 */
static int
config_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	int row[65];

	if (la > 64 || lb > 64)
		return 9;
	for (size_t j = 0; j <= lb; j++)
		row[j] = (int) j;
	for (size_t i = 1; i <= la; i++) {
		int diag = row[0];

		row[0] = (int) i;
		for (size_t j = 1; j <= lb; j++) {
			int up = row[j];
			int best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	return row[lb] > 9 ? 9 : row[lb];
}

/* config_suggest - the closest known path, if it is close enough */
static const char *
config_suggest(const char *path)
{
	const char *best = NULL;
	int bestd = 3;

	for (size_t i = 0; i < CONFIG_NKEYS; i++) {
		int d = config_distance(path, config_table[i].path);

		if (d < bestd) {
			bestd = d;
			best = config_table[i].path;
		}
	}
	return best;
}

/*
 * config_check_unknown - every setting in the file must be in the table;
 * a misspelled key is an error, with the closest known key suggested.
 */
static int
config_check_unknown(const config_setting_t *group, const char *prefix,
                     const char *name, char *why, size_t whylen)
{
	char path[256];

	for (int i = 0; i < config_setting_length(group); i++) {
		const config_setting_t *m = config_setting_get_elem(group, i);
		const char *hint;

		snprintf(path, sizeof(path), "%s%s%s", prefix ? prefix : "",
		         prefix ? "." : "", config_setting_name(m));
		if (config_key_index(path) >= 0)
			continue;
		if (config_is_group(path)) {
			if (!config_setting_is_group(m))
				return config_fail(why, whylen, m, name, path,
				                   "expected a group { ... }");
			if (config_check_unknown(m, path, name, why, whylen) <
			    0)
				return -1;
			continue;
		}
		hint = config_suggest(path);
		return config_fail(why, whylen, m, name, path,
		                   "unknown setting%s%s%s",
		                   hint ? " (did you mean " : "",
		                   hint ? hint : "", hint ? "?)" : "");
	}
	return 0;
}

/* config_fail_key - a cross-check failure, reported at the setting */
static int
config_fail_key(const config_setting_t *const *set, const char *name,
                const char *path, char *why, size_t whylen, const char *text)
{
	int i = config_key_index(path);

	return config_fail(why, whylen, i >= 0 ? set[i] : NULL, name, path,
	                   "%s", text);
}

/* config_cross_cache - the TTL clamps must leave a range */
static int
config_cross_cache(const struct config *cfg, const config_setting_t *const *set,
                   const char *name, char *why, size_t whylen)
{
	if (cfg->cache_ttl_min_ms > cfg->cache_ttl_max_ms ||
	    cfg->cache_ttl_min_ms > cfg->cache_ttl_bad_max_ms)
		return config_fail_key(set, name, "cache.ttl_min", why, whylen,
		                       "longer than cache.ttl_max or "
		                       "cache.ttl_bad_max");
	return 0;
}

/* config_cross_metrics - a listener beyond loopback must be allowed */
static int
config_cross_metrics(const struct config *cfg,
                     const config_setting_t *const *set, const char *name,
                     char *why, size_t whylen)
{
	if (cfg->metrics_listen[0] != '\0' && !cfg->metrics_allow_remote &&
	    !metrics_http_loopback(cfg->metrics_listen))
		return config_fail_key(set, name, "metrics.listen", why, whylen,
		                       "not a loopback address; set "
		                       "metrics.allow_remote = true to listen "
		                       "there");
	return 0;
}

/* config_cross_check - rules that involve more than one setting */
static int
config_cross_check(const struct config *cfg, const config_setting_t *const *set,
                   const char *name, char *why, size_t whylen)
{
	char text[300];

	if (cfg->resolver_source == CONFIG_RESOLVER_FORWARDERS &&
	    cfg->resolver_forwarders.n == 0)
		return config_fail_key(
		    set, name, "resolver.forwarders", why, whylen,
		    "resolver.source is \"forwarders\" but no "
		    "forwarders are listed");
	if (cfg->dkim_nselectors == 0)
		return config_fail_key(set, name, "dkim.selectors", why, whylen,
		                       "at least one selector is required");
	if (cfg->dkim_nselectors > CONFIG_MAX_SELECTORS)
		return config_fail_key(set, name, "dkim.selectors", why, whylen,
		                       "at most 4 selectors are supported");
	for (size_t i = 0; i < cfg->dkim_nselectors; i++) {
		for (size_t j = 0; j < i; j++) {
			if (strcasecmp(cfg->dkim_selectors[i].name,
			               cfg->dkim_selectors[j].name) != 0)
				continue;
			snprintf(text, sizeof(text),
			         "selector '%s' is listed "
			         "twice",
			         cfg->dkim_selectors[i].name);
			return config_fail_key(set, name, "dkim.selectors", why,
			                       whylen, text);
		}
	}
	for (size_t i = 0; i < cfg->dkim_nselectors; i++) {
		const struct config_selector *sel = &cfg->dkim_selectors[i];
		const struct config_selector *also;

		if (sel->also[0] == '\0')
			continue;
		also = config_selector_find(cfg, sel->also);
		if (also != NULL && also != sel)
			continue;
		snprintf(text, sizeof(text),
		         "selector '%s': also = '%s' must name another "
		         "selector of dkim.selectors",
		         sel->name, sel->also);
		return config_fail_key(set, name, "dkim.selectors", why, whylen,
		                       text);
	}
	if (config_selector_find(cfg, cfg->dkim_active_selector) == NULL) {
		snprintf(text, sizeof(text),
		         "'%s' is not one of "
		         "dkim.selectors",
		         cfg->dkim_active_selector);
		return config_fail_key(set, name, "dkim.active_selector", why,
		                       whylen, text);
	}
	if (config_cross_metrics(cfg, set, name, why, whylen) < 0)
		return -1;
	return config_cross_cache(cfg, set, name, why, whylen);
}

/*
 * config_override_line - one line of the overrides file: "DOMAIN ACTION
 * [YYYY-MM-DD]", '#' starts a comment.  Returns 1 if it added an entry,
 * 0 for an empty line, -1 with a reason.
 */
static int
config_override_line(struct config *cfg, char *line, char *why, size_t whylen)
{
	char *f[4], *save = NULL, reason[256];
	const struct config_key *k = &config_override_table[1];
	struct config_override o = {0};
	int n = 0;

	line[strcspn(line, "#\r\n")] = '\0';
	for (char *t = strtok_r(line, " \t", &save); t && n < 4;
	     t = strtok_r(NULL, " \t", &save))
		f[n++] = t;
	if (n == 0)
		return 0;
	if (n < 2 || n > 3)
		return util_why(why, whylen,
		                "expected DOMAIN ACTION "
		                "[YYYY-MM-DD]");
	if (config_check_override_domain(f[0], reason, sizeof(reason)) < 0 ||
	    (n == 3 && config_check_date(f[2], reason, sizeof(reason)) < 0))
		return util_why(why, whylen, "%s", reason);
	if (config_enum_value(k, f[1], &o.action) < 0)
		return util_why(why, whylen,
		                "'%s' is not tag, defer, reject, "
		                "monitor or exempt",
		                f[1]);
	o.domain = xstrdup(f[0]);
	o.expires = xstrdup(n == 3 ? f[2] : "");
	cfg->file_overrides = xrealloc(cfg->file_overrides,
	                               (cfg->nfile_overrides + 1) * sizeof(o));
	cfg->file_overrides[cfg->nfile_overrides++] = o;
	return 1;
}

/* config_overrides_file - add the entries of policy.overrides_file */
static int
config_overrides_file(struct config *cfg, char *why, size_t whylen)
{
	const char *path = cfg->policy_overrides_file;
	char line[1024], reason[300];
	unsigned lineno = 0;
	FILE *fp;
	int rc = 0;

	if (path[0] == '\0')
		return 0;
	if ((fp = fopen(path, "r")) == NULL)
		return util_why(why, whylen, "%s: cannot open: %s", path,
		                strerror(errno));
	while (rc == 0 && fgets(line, sizeof(line), fp) != NULL) {
		lineno++;
		if (config_override_line(cfg, line, reason, sizeof(reason)) < 0)
			rc = util_why(why, whylen, "%s:%u: %s", path, lineno,
			              reason);
	}
	fclose(fp);
	return rc;
}

/* config_build - a snapshot from a parsed libconfig tree */
static struct config *
config_build(const config_t *lc, const char *name, char *why, size_t whylen)
{
	struct config *cfg = xcalloc(1, sizeof(*cfg));
	const config_setting_t *set[CONFIG_NKEYS];

	cfg->refs = 1;
	cfg->path = xstrdup(name);
	cfg->in_file = xcalloc(CONFIG_NKEYS, 1);
	if (config_check_unknown(config_root_setting(lc), NULL, name, why,
	                         whylen) < 0)
		goto fail;
	for (size_t i = 0; i < CONFIG_NKEYS; i++) {
		const struct config_key *k = &config_table[i];
		struct config_at at = {.name = name, .path = k->path};

		int rc;

		at.s = set[i] = config_lookup(lc, k->path);
		cfg->in_file[i] = at.s != NULL;
		if (at.s != NULL)
			rc = config_set(k, &at, cfg, why, whylen);
		else
			rc = config_set_default(k, cfg, name, k->path, why,
			                        whylen);
		if (rc < 0)
			goto fail;
	}
	if (config_cross_check(cfg, set, name, why, whylen) < 0 ||
	    config_overrides_file(cfg, why, whylen) < 0)
		goto fail;
	return cfg;
fail:
	config_free(cfg);
	return NULL;
}

/* config_parse_error - "FILE:LINE: text" from libconfig's error state */
static void
config_parse_error(const config_t *lc, const char *name, char *why,
                   size_t whylen)
{
	const char *file = config_error_file(lc);

	util_why(why, whylen, "%s:%d: %s", file ? file : name,
	         config_error_line(lc), config_error_text(lc));
}

/* config_load - read, parse and validate a file */
struct config *
config_load(const char *path, char *why, size_t whylen)
{
	struct config *cfg = NULL;
	char *dir = xstrdup(path);
	FILE *fp = fopen(path, "r");
	config_t lc;

	if (fp == NULL) {
		util_why(why, whylen, "%s: cannot open: %s", path,
		         strerror(errno));
		free(dir);
		return NULL;
	}
	config_init(&lc);
	config_set_include_dir(&lc, dirname(dir));
	if (config_read(&lc, fp) != CONFIG_TRUE)
		config_parse_error(&lc, path, why, whylen);
	else
		cfg = config_build(&lc, path, why, whylen);
	config_destroy(&lc);
	fclose(fp);
	free(dir);
	return cfg;
}

/* config_load_string - the same from memory */
struct config *
config_load_string(const char *text, const char *name, char *why, size_t whylen)
{
	struct config *cfg = NULL;
	config_t lc;

	config_init(&lc);
	if (config_read_string(&lc, text) != CONFIG_TRUE)
		config_parse_error(&lc, name, why, whylen);
	else
		cfg = config_build(&lc, name, why, whylen);
	config_destroy(&lc);
	return cfg;
}

/* config_ref - one more reference */
struct config *
config_ref(struct config *cfg)
{
	__atomic_add_fetch(&cfg->refs, 1, __ATOMIC_RELAXED);
	return cfg;
}

/* config_release - one reference less; the last frees */
void
config_release(struct config *cfg)
{
	if (cfg != NULL &&
	    __atomic_sub_fetch(&cfg->refs, 1, __ATOMIC_ACQ_REL) == 0)
		config_free(cfg);
}

static pthread_mutex_t config_lock = PTHREAD_MUTEX_INITIALIZER;
static struct config *config_current;

/* config_publish - make cfg current */
void
config_publish(struct config *cfg)
{
	struct config *old;

	pthread_mutex_lock(&config_lock);
	old = config_current;
	config_current = cfg;
	pthread_mutex_unlock(&config_lock);
	config_release(old);
}

/* config_acquire - current snapshot with a reference */
struct config *
config_acquire(void)
{
	struct config *cfg;

	pthread_mutex_lock(&config_lock);
	cfg = config_current ? config_ref(config_current) : NULL;
	pthread_mutex_unlock(&config_lock);
	return cfg;
}

/* config_selector_find - selector by name */
const struct config_selector *
config_selector_find(const struct config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->dkim_nselectors; i++)
		if (strcasecmp(cfg->dkim_selectors[i].name, name) == 0)
			return &cfg->dkim_selectors[i];
	return NULL;
}

/* config_put_string - a libconfig string literal */
static void
config_put_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

/* config_put_duration - milliseconds as "1h30m", "250ms", "0s" */
static void
config_put_duration(FILE *out, int64_t ms)
{
	static const struct {
		int64_t ms;
		const char *unit;
	} units[] = {{86400000, "d"},
	             {3600000, "h"},
	             {60000, "m"},
	             {1000, "s"},
	             {1, "ms"}};

	fputc('"', out);
	if (ms == 0)
		fputs("0s", out);
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (ms >= units[i].ms) {
			fprintf(out, "%lld%s", (long long) (ms / units[i].ms),
			        units[i].unit);
			ms %= units[i].ms;
		}
	}
	fputc('"', out);
}

/* config_put_enum - the name of a stored enum value */
static void
config_put_enum(FILE *out, const struct config_key *k, int value)
{
	for (int i = 0; k->names[i] != NULL; i++) {
		if ((k->values ? k->values[i] : i) == value) {
			config_put_string(out, k->names[i]);
			return;
		}
	}
	panic("config: %s holds unknown value %d", k->path, value);
}

static void config_put(FILE *out, const struct config_key *k, const void *base,
                       int multiline);

/* config_put_grouplist - ( { a = ..; }, ... ) */
static void
config_put_grouplist(FILE *out, const struct config_key *k, const void *base,
                     int multiline)
{
	const char *array = *(char *const *) config_cfield(base, k->offset);
	size_t count = *(const size_t *) config_cfield(base, k->count_offset);

	fputs("(", out);
	for (size_t i = 0; i < count; i++) {
		fputs(i ? "," : "", out);
		fputs(multiline ? "\n\t\t{ " : " { ", out);
		for (const struct config_key *sk = k->sub; sk->path; sk++) {
			fprintf(out, "%s = ", sk->path);
			config_put(out, sk, array + i * k->elem_size, 0);
			fputs("; ", out);
		}
		fputs("}", out);
	}
	fputs(multiline && count ? "\n\t)" : " )", out);
}

/* config_put - render a value in libconfig syntax */
static void
config_put(FILE *out, const struct config_key *k, const void *base,
           int multiline)
{
	const void *field = config_cfield(base, k->offset);

	switch (k->type) {
	case CT_STRING:
		config_put_string(out, *(char *const *) field);
		return;
	case CT_INT:
		fprintf(out, "%lld", (long long) *(const int64_t *) field);
		return;
	case CT_BOOL:
		fputs(*(const int *) field ? "true" : "false", out);
		return;
	case CT_DURATION:
		config_put_duration(out, *(const int64_t *) field);
		return;
	case CT_ENUM:
		config_put_enum(out, k, *(const int *) field);
		return;
	case CT_MODE:
		fprintf(out, "\"0%o\"", (unsigned) *(const int *) field);
		return;
	case CT_STRLIST: {
		const struct config_strlist *list = field;

		fputs("[", out);
		for (size_t i = 0; i < list->n; i++) {
			fputs(i ? ", " : " ", out);
			config_put_string(out, list->v[i]);
		}
		fputs(" ]", out);
		return;
	}
	case CT_GROUPLIST:
		config_put_grouplist(out, k, base, multiline);
		return;
	}
}

/* config_render - a value as text in fresh memory */
static char *
config_render(const struct config_key *k, const void *base, int multiline)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	if (out == NULL)
		panic("config: open_memstream: %s", strerror(errno));
	config_put(out, k, base, multiline);
	fclose(out);
	return text;
}

static pthread_once_t config_defaults_once = PTHREAD_ONCE_INIT;
static struct config *config_defaults_cfg;

/* config_defaults_init - the snapshot of an empty file */
static void
config_defaults_init(void)
{
	char why[512];

	config_defaults_cfg =
	    config_load_string("", "(defaults)", why, sizeof(why));
	if (config_defaults_cfg == NULL)
		panic("config: the built-in defaults are invalid: %s", why);
}

/* config_defaults - all defaults, built once, never freed */
static const struct config *
config_defaults(void)
{
	pthread_once(&config_defaults_once, config_defaults_init);
	return config_defaults_cfg;
}

/* config_leaf - the part of a path after its group */
static const char *
config_leaf(const char *path)
{
	const char *dot = strchr(path, '.');

	return dot ? dot + 1 : path;
}

/* config_dump_key - one setting line, with its default if different */
static int
config_dump_key(const struct config_key *k, const struct config *cfg, FILE *out)
{
	char *value = config_render(k, cfg, 0);
	char *def = config_render(k, config_defaults(), 0);
	int differs = strcmp(value, def) != 0;

	free(value);
	value = config_render(k, cfg, 1);
	if (differs)
		fprintf(out, "\t# default: %s\n", def);
	fprintf(out, "\t%s = %s;\n", config_leaf(k->path), value);
	free(value);
	free(def);
	return differs;
}

/* config_dump - every effective setting, non-defaults marked */
int
config_dump(const struct config *cfg, FILE *out)
{
	const char *group = NULL;
	int differs = 0;

	fprintf(out, "# relaygate configuration: %s\n", cfg->path);
	for (size_t i = 0; i < CONFIG_NKEYS; i++) {
		const char *path = config_table[i].path;
		size_t glen = (size_t) (config_leaf(path) - 1 - path);

		if (group == NULL || strncmp(group, path, glen) != 0 ||
		    group[glen] != '.') {
			fprintf(out, "%s%.*s: {\n", group ? "};\n\n" : "\n",
			        (int) glen, path);
			group = path;
		}
		differs += config_dump_key(&config_table[i], cfg, out);
	}
	fputs("};\n", out);
	return differs;
}

/* config_restart_changes - restart-only settings that differ */
int
config_restart_changes(const struct config *old, const struct config *new,
                       char *buf, size_t size)
{
	int n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < CONFIG_NKEYS; i++) {
		const struct config_key *k = &config_table[i];
		char *a, *b;

		if (!(k->flags & CF_RESTART))
			continue;
		a = config_render(k, old, 0);
		b = config_render(k, new, 0);
		if (strcmp(a, b) != 0) {
			size_t len = strlen(buf);

			snprintf(buf + len, size - len, "%s%s", n ? "," : "",
			         k->path);
			n++;
		}
		free(a);
		free(b);
	}
	return n;
}

/* config_date - "YYYY-MM-DD" as UTC midnight; 0 for "" or nonsense */
int64_t
config_date(const char *date)
{
	struct tm tm = {0};
	char *end;

	if (date[0] == '\0')
		return 0;
	end = strptime(date, "%Y-%m-%d", &tm);
	if (end == NULL || *end != '\0' || tm.tm_year < 70)
		return 0;
	return (int64_t) timegm(&tm);
}

/*
 * config_override_match - how well an override fits domain at now: its
 * length for a "*." entry covering domain, SIZE_MAX for an exact entry,
 * 0 for none (also when lapsed).
 */
static size_t
config_override_match(const struct config_override *o, const char *domain,
                      int64_t now)
{
	int64_t expires = config_date(o->expires);
	size_t olen = strlen(o->domain), dlen = strlen(domain);

	if (expires > 0 && now >= expires)
		return 0;
	if (strcasecmp(o->domain, domain) == 0)
		return SIZE_MAX;
	if (strncmp(o->domain, "*.", 2) != 0 || dlen <= olen - 1 ||
	    strcasecmp(domain + dlen - (olen - 1), o->domain + 1) != 0)
		return 0;
	return olen;
}

/* config_override_find - exact domain first, then the closest "*." */
const struct config_override *
config_override_find(const struct config *cfg, const char *domain, int64_t now)
{
	const struct config_override *lists[2] = {cfg->policy_overrides,
	                                          cfg->file_overrides};
	size_t counts[2] = {cfg->policy_noverrides, cfg->nfile_overrides};
	const struct config_override *best = NULL;
	size_t bestfit = 0;

	for (int l = 0; l < 2; l++) {
		for (size_t i = 0; i < counts[l]; i++) {
			size_t fit =
			    config_override_match(&lists[l][i], domain, now);

			if (fit > bestfit) {
				best = &lists[l][i];
				bestfit = fit;
			}
		}
	}
	return best;
}

/* config_action_name - the name of an action */
const char *
config_action_name(int action)
{
	return action >= 0 && action <= CONFIG_ACTION_EXEMPT
	           ? config_override_actions[action]
	           : "?";
}
