/*
 * relaygatectl - the operator's command line: configuration, keys, domain
 * checks and onboarding messages.
 *
 * Each sub-command is one function in the table below; it gets the
 * arguments after its name and returns the process exit status.
 */

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "ctl_advise.h"
#include "ctl_cache.h"
#include "ctl_check.h"
#include "ctl_keys.h"
#include "ctl_metrics.h"
#include "ctl_probe.h"
#include "ctl_report.h"
#include "ctl_rotation.h"
#include "log.h"
#include "paths.h"

struct ctl_command {
	const char *name;
	const char *args;
	const char *help;
	int (*run)(const char *conf, int argc, char **argv);
};

/* ctl_load - the configuration every command starts from */
static struct config *
ctl_load(const char *conf)
{
	char why[1024];
	struct config *cfg = config_load(conf, why, sizeof(why));

	if (cfg == NULL)
		fprintf(stderr, "relaygatectl: %s\n", why);
	return cfg;
}

/* ctl_config - "config dump" and "config check" */
static int
ctl_config(const char *conf, int argc, char **argv)
{
	struct config *cfg;

	if (argc != 1 ||
	    (strcmp(argv[0], "dump") != 0 && strcmp(argv[0], "check") != 0)) {
		fprintf(stderr, "usage: relaygatectl config dump|check\n");
		return 2;
	}
	if ((cfg = ctl_load(conf)) == NULL)
		return 1;
	if (strcmp(argv[0], "dump") == 0)
		config_dump(cfg, stdout);
	else
		printf("%s: configuration OK\n", conf);
	config_release(cfg);
	return 0;
}

/*
 * ctl_with_config - run a command that needs the configuration; exit
 * status 2 when the configuration does not load.
 */
static int
ctl_with_config(const char *conf, int argc, char **argv,
                int (*run)(const struct config *, int, char **))
{
	struct config *cfg = ctl_load(conf);
	int rc;

	if (cfg == NULL)
		return 2;
	rc = run(cfg, argc, argv);
	config_release(cfg);
	return rc;
}

/* ctl_keys_cmd - "keys" */
static int
ctl_keys_cmd(const char *conf, int argc, char **argv)
{
	return ctl_with_config(conf, argc, argv, ctl_keys);
}

/* ctl_spf_cmd - "spf" */
static int
ctl_spf_cmd(const char *conf, int argc, char **argv)
{
	return ctl_with_config(conf, argc, argv, ctl_spf);
}

/* ctl_check_cmd - "check" */
static int
ctl_check_cmd(const char *conf, int argc, char **argv)
{
	return ctl_with_config(conf, argc, argv, ctl_check);
}

/* ctl_advise_cmd - "advise" */
static int
ctl_advise_cmd(const char *conf, int argc, char **argv)
{
	return ctl_with_config(conf, argc, argv, ctl_advise);
}

/* ctl_probe_cmd - "probe" */
static int
ctl_probe_cmd(const char *conf, int argc, char **argv)
{
	return ctl_with_config(conf, argc, argv, ctl_probe);
}

/* ctl_cache_cmd - "cache" */
static int
ctl_cache_cmd(const char *conf, int argc, char **argv)
{
	return ctl_with_config(conf, argc, argv, ctl_cache);
}

/* ctl_report_cmd - "report" */
static int
ctl_report_cmd(const char *conf, int argc, char **argv)
{
	return ctl_with_config(conf, argc, argv, ctl_report);
}

/* ctl_metrics_cmd - "metrics" */
static int
ctl_metrics_cmd(const char *conf, int argc, char **argv)
{
	return ctl_with_config(conf, argc, argv, ctl_metrics);
}

/* ctl_rotation_cmd - "rotation-check" */
static int
ctl_rotation_cmd(const char *conf, int argc, char **argv)
{
	return ctl_with_config(conf, argc, argv, ctl_rotation);
}

/* ctl_keygen_cmd - "keygen" */
static int
ctl_keygen_cmd(const char *conf, int argc, char **argv)
{
	return ctl_with_config(conf, argc, argv, ctl_keygen);
}

static const struct ctl_command ctl_commands[] = {
    {"config", "dump|check",
     "print every effective setting, non-defaults marked; or validate",
     ctl_config},
    {"keys", "[--no-dns]",
     "each selector's key, the TXT record to publish at its target, "
     "and whether DNS publishes exactly that key now",
     ctl_keys_cmd},
    {"keygen",
     "SELECTOR [--type rsa|ed25519] [--bits 2048|3072|4096] "
     "[--out FILE] [--force]",
     "write a new private key for a selector and print its record",
     ctl_keygen_cmd},
    {"spf", "DOMAIN...",
     "does each domain's SPF authorize the relay's addresses, and why",
     ctl_spf_cmd},
    {"check",
     "[--json] [--resolver ADDR[@PORT]] [-j N] [-f FILE] [--no-store] "
     "DOMAIN...",
     "every record of each domain (SPF, selector CNAMEs and keys, DMARC): "
     "expected, found, status and the fix; exit 0 configured, 1 not, "
     "2 temporary",
     ctl_check_cmd},
    {"advise", "DOMAIN [--lang nl|en] [--resolver ADDR[@PORT]]",
     "the message to the domain's DNS administrator: the records to "
     "publish, merged with what the domain has",
     ctl_advise_cmd},
    {"probe",
     "DOMAIN [--json] [--from ADDRESS] [--send ADDRESS [--sendmail PATH]] "
     "[--save FILE] [--resolver ADDR[@PORT]] [-v]",
     "a test message signed as the relay would sign it now, verified as "
     "a receiver would (DKIM through DNS, SPF, DMARC); exit 0 pass, "
     "1 fail, 2 temporary",
     ctl_probe_cmd},
    {"cache",
     "list [--state STATE] [--sort domain|messages|checked] | show DOMAIN "
     "| flush DOMAIN...|--all [--forget] | stats",
     "the verdict cache of the running relaygate: list or show domains, "
     "flush them so the next message re-checks, statistics",
     ctl_cache_cmd},
    {"rotation-check", "[DOMAIN...]",
     "the domains that would lose their signature at the next rotation "
     "(the next selector not delegated): from the cache, or checked now",
     ctl_rotation_cmd},
    {"report", "[--json]",
     "the domains of the cache that are not fully configured, most "
     "messages affected first: since when, grace or enforced, why; "
     "exit 0 none, 1 some",
     ctl_report_cmd},
    {"metrics", "[-o FILE]",
     "Prometheus text of the running relaygate's counters (messages, "
     "checks, DNS, cache, domains by state), for node_exporter's "
     "textfile collector",
     ctl_metrics_cmd},
};

#define CTL_NCOMMANDS (sizeof(ctl_commands) / sizeof(ctl_commands[0]))

/* ctl_usage - the command summary */
static void
ctl_usage(FILE *out)
{
	fprintf(out,
	        "usage: relaygatectl [-c FILE] COMMAND [ARGS]\n\n"
	        "  -c FILE   configuration file (default %s)\n"
	        "  -V        print the version\n\ncommands:\n",
	        RELAYGATE_CONF);
	for (size_t i = 0; i < CTL_NCOMMANDS; i++)
		fprintf(out, "  %s %s\n      %s\n", ctl_commands[i].name,
		        ctl_commands[i].args, ctl_commands[i].help);
}

int
main(int argc, char **argv)
{
	const char *conf = RELAYGATE_CONF;
	int c;

	/* The long forms people type first. */
	if (argc > 1 && strcmp(argv[1], "--help") == 0)
		argv[1] = (char *) "-h";
	else if (argc > 1 && strcmp(argv[1], "--version") == 0)
		argv[1] = (char *) "-V";
	while ((c = getopt(argc, argv, "+c:hV")) != -1) {
		switch (c) {
		case 'c':
			conf = optarg;
			break;
		case 'V':
			printf("relaygatectl %s\n", RELAYGATE_VERSION_STRING);
			return 0;
		case 'h':
			ctl_usage(stdout);
			return 0;
		default:
			ctl_usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		ctl_usage(stderr);
		return 2;
	}
	for (size_t i = 0; i < CTL_NCOMMANDS; i++)
		if (strcmp(argv[optind], ctl_commands[i].name) == 0)
			return ctl_commands[i].run(conf, argc - optind - 1,
			                           argv + optind + 1);
	fprintf(stderr, "relaygatectl: unknown command '%s'\n", argv[optind]);
	ctl_usage(stderr);
	return 2;
}
