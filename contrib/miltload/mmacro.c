/*
 * mmacro - the macro values of one session and the lists of each stage.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mmacro.h"
#include "util.h"

struct mmacro_pair {
	char *name;
	char *value;
};

struct mmacro {
	struct mmacro_pair *pairs;
	size_t n;
	size_t cap;
};

/* mmacro_new - an empty set */
struct mmacro *
mmacro_new(void)
{
	return xcalloc(1, sizeof(struct mmacro));
}

/* mmacro_free - release the set; NULL is fine */
void
mmacro_free(struct mmacro *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->n; i++) {
		free(m->pairs[i].name);
		free(m->pairs[i].value);
	}
	free(m->pairs);
	free(m);
}

/* mmacro_find - the index of name, or m->n */
static size_t
mmacro_find(const struct mmacro *m, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (strncmp(m->pairs[i].name, name, len) == 0 &&
		    m->pairs[i].name[len] == '\0')
			break;
	return i;
}

/* mmacro_set - give name a value, or remove it (value NULL) */
void
mmacro_set(struct mmacro *m, const char *name, const char *value)
{
	size_t i = mmacro_find(m, name, strlen(name));

	if (i < m->n) {
		free(m->pairs[i].value);
		if (value != NULL) {
			m->pairs[i].value = xstrdup(value);
			return;
		}
		free(m->pairs[i].name);
		m->pairs[i] = m->pairs[--m->n];
		return;
	}
	if (value == NULL)
		return;
	if (m->n == m->cap) {
		m->cap = m->cap ? 2 * m->cap : 16;
		m->pairs = xrealloc(m->pairs, m->cap * sizeof(*m->pairs));
	}
	m->pairs[m->n].name = xstrdup(name);
	m->pairs[m->n].value = xstrdup(value);
	m->n++;
}

/* mmacro_get - the value of name, or NULL */
const char *
mmacro_get(const struct mmacro *m, const char *name)
{
	size_t i = mmacro_find(m, name, strlen(name));

	return i < m->n ? m->pairs[i].value : NULL;
}

/* mmacro_select - the pairs of the names in list that have a value */
size_t
mmacro_select(const struct mmacro *m, const char *list, const char **nv,
              size_t max)
{
	static const char sep[] = " \t,";
	size_t n = 0, len, i;

	for (list += strspn(list, sep); *list != '\0' && n < max;
	     list += strspn(list, sep)) {
		len = strcspn(list, sep);
		i = mmacro_find(m, list, len);
		if (i < m->n) {
			nv[2 * n] = m->pairs[i].name;
			nv[2 * n + 1] = m->pairs[i].value;
			n++;
		}
		list += len;
	}
	return n;
}

/* mmacro_session_defaults - what an MTA knows of every SMTP session */
void
mmacro_session_defaults(struct mmacro *m)
{
	mmacro_set(m, "j", "mta.miltload.test");
	mmacro_set(m, "{daemon_name}", "miltload");
	mmacro_set(m, "{daemon_addr}", "127.0.0.1");
	mmacro_set(m, "v", "miltload");
	mmacro_set(m, "_", "client.test [127.0.0.1]");
}

/* mmacro_default - Postfix's default macro list of a stage */
const char *
mmacro_default(enum mproto_stage stage)
{
	switch (stage) {
	case MPROTO_M_CONNECT:
		return "j {daemon_name} {daemon_addr} v _";
	case MPROTO_M_HELO:
		return "{tls_version} {cipher} {cipher_bits} {cert_subject} "
		       "{cert_issuer}";
	case MPROTO_M_ENVFROM:
		return "i {auth_type} {auth_authen} {auth_author} {mail_addr} "
		       "{mail_host} {mail_mailer}";
	case MPROTO_M_ENVRCPT:
		return "i {rcpt_addr} {rcpt_host} {rcpt_mailer}";
	case MPROTO_M_DATA:
	case MPROTO_M_EOH:
	case MPROTO_M_EOM:
		return "i";
	case MPROTO_M_COUNT:
		break;
	}
	return "";
}

/* mmacro_nonce - a per-process number, the same for every caller */
static unsigned
mmacro_nonce(void)
{
	static unsigned nonce; /* atomic; 0 until set */
	unsigned n = __atomic_load_n(&nonce, __ATOMIC_ACQUIRE), want = 0;

	if (n != 0)
		return n;
	n = ((unsigned) time(NULL) * 2654435761u ^ (unsigned) getpid()) &
	    0xfffffu;
	n |= 0x100000u; /* never 0 */
	if (!__atomic_compare_exchange_n(&nonce, &want, n, 0, __ATOMIC_ACQ_REL,
	                                 __ATOMIC_ACQUIRE))
		n = want;
	return n;
}

/* mmacro_queue_id - a Postfix-like queue id, unique within a run */
void
mmacro_queue_id(char *buf, size_t size, unsigned conn, unsigned long seq)
{
	snprintf(buf, size, "%05X%03X%04lX", mmacro_nonce() & 0xfffffu,
	         conn & 0xfffu, seq & 0xffffUL);
}
