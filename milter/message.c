/*
 * message - what relaygate knows and decides about one message.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "log.h"
#include "message.h"
#include "util.h"

#define MESSAGE_NOTE_SIZE 256

struct message {
	const struct config *cfg;
	char client_addr[64];
	char env_domain[DOMAIN_SIZE];
	char env_note[MESSAGE_NOTE_SIZE]; /* why env_domain is empty */
	char from_domain[DOMAIN_SIZE];
	char from_note[MESSAGE_NOTE_SIZE]; /* why from_domain is doubtful */
	int from_headers;                  /* From fields seen */
};

static const char *const message_action_names[] = {
    [MESSAGE_PASS] = "pass",
};

/* message_new - a fresh message */
struct message *
message_new(const struct config *cfg, const char *client_addr)
{
	struct message *msg = xcalloc(1, sizeof(*msg));

	msg->cfg = cfg;
	util_strlcpy(msg->client_addr, client_addr ? client_addr : "",
	             sizeof(msg->client_addr));
	return msg;
}

/* message_free - release a message */
void
message_free(struct message *msg)
{
	free(msg);
}

/* message_envfrom - record the envelope sender's domain */
void
message_envfrom(struct message *msg, const char *arg)
{
	switch (addr_envelope(arg, msg->env_domain, msg->env_note,
	                      sizeof(msg->env_note))) {
	case ADDR_OK:
		msg->env_note[0] = '\0';
		break;
	case ADDR_NULL:
		msg->env_domain[0] = '\0';
		util_strlcpy(msg->env_note, "null sender",
		             sizeof(msg->env_note));
		break;
	default:
		msg->env_domain[0] = '\0';
		break;
	}
}

/*
 * message_from - record the From header's domain.  A second From header
 * makes the domain doubtful: receivers differ in which one they judge.
 */
static void
message_from(struct message *msg, const char *value)
{
	struct addr_from from;

	if (++msg->from_headers > 1) {
		snprintf(msg->from_note, sizeof(msg->from_note),
		         "%d From headers", msg->from_headers);
		return;
	}
	if (addr_header_from(value, &from, msg->from_note,
	                     sizeof(msg->from_note)) != ADDR_OK) {
		msg->from_domain[0] = '\0';
		return;
	}
	util_strlcpy(msg->from_domain, from.domain, sizeof(msg->from_domain));
	if (from.ndomains > 1)
		snprintf(msg->from_note, sizeof(msg->from_note),
		         "From names %d domains", from.ndomains);
}

/* message_header - look at the headers that matter */
void
message_header(struct message *msg, const char *name, const char *value)
{
	if (strcasecmp(name, "From") == 0)
		message_from(msg, value);
}

/* message_eom - decide and log the decision line */
enum message_action
message_eom(struct message *msg, const char *queue_id)
{
	enum message_action action = MESSAGE_PASS;

	if (msg->from_headers == 0)
		util_strlcpy(msg->from_note, "no From header",
		             sizeof(msg->from_note));
	log_event(LOG_LEVEL_INFO, "message", "queue_id",
	          queue_id ? queue_id : "", "client", msg->client_addr,
	          "env_domain", msg->env_domain, "from_domain",
	          msg->from_domain, "action", message_action_names[action],
	          "env_note", msg->env_note[0] ? msg->env_note : NULL,
	          "from_note", msg->from_note[0] ? msg->from_note : NULL,
	          (const char *) NULL);
	return action;
}

/* message_env_domain - the envelope sender domain */
const char *
message_env_domain(const struct message *msg)
{
	return msg->env_domain;
}

/* message_from_domain - the From header domain */
const char *
message_from_domain(const struct message *msg)
{
	return msg->from_domain;
}
