/*
 * relaygatectl - the operator's command line: configuration, and (in later
 * releases) domain checks and onboarding messages.
 *
 * Each sub-command is one function in the table below; it gets the
 * arguments after its name and returns the process exit status.
 */

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
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

static const struct ctl_command ctl_commands[] = {
    {"config", "dump|check",
     "print every effective setting, non-defaults marked; or validate",
     ctl_config},
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
