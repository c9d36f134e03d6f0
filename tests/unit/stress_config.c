/*
 * stress_config - readers acquire and release the configuration while a
 * writer publishes new snapshots, the way milter sessions and SIGUSR1
 * meet.  Built against the ThreadSanitizer flavour of the core: a data
 * race or a use after free fails the test.
 */

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"

#define READERS 4
#define PUBLISHES 300

static int stress_done;
static pthread_barrier_t stress_start;

/* stress_reader - acquire, read, release until the writer is done */
static void *
stress_reader(void *arg)
{
	long *reads = arg;

	pthread_barrier_wait(&stress_start);
	do {
		struct config *cfg = config_acquire();

		if (cfg == NULL)
			continue;
		/* Every published snapshot is complete. */
		if (strcmp(cfg->dkim_selectors[0].name, "prezent-a") != 0 ||
		    cfg->drain_timeout_ms < 1000)
			fail_msg("inconsistent snapshot");
		config_release(cfg);
		(*reads)++;
	} while (!__atomic_load_n(&stress_done, __ATOMIC_ACQUIRE));
	return NULL;
}

static void
test_swap_under_load(void **state)
{
	pthread_t tid[READERS];
	long reads[READERS] = {0};
	char text[128], why[512];

	(void) state;
	config_publish(config_load_string("", "stress", why, sizeof(why)));
	pthread_barrier_init(&stress_start, NULL, READERS + 1);
	for (int i = 0; i < READERS; i++)
		pthread_create(&tid[i], NULL, stress_reader, &reads[i]);
	pthread_barrier_wait(&stress_start);
	for (int i = 0; i < PUBLISHES; i++) {
		struct config *cfg;

		snprintf(text, sizeof(text), "daemon: { drain_timeout = %d; };",
		         1 + i % 50);
		cfg = config_load_string(text, "stress", why, sizeof(why));
		assert_non_null(cfg);
		config_publish(cfg);
	}
	__atomic_store_n(&stress_done, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < READERS; i++) {
		pthread_join(tid[i], NULL);
		assert_true(reads[i] > 0);
	}
	pthread_barrier_destroy(&stress_start);
	config_publish(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_swap_under_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
