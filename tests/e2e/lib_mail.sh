# lib_mail.sh - sending mail through the relay in an e2e test and waiting
# for relaygate to have decided it (a bash library, sourced after
# world.sh).
#
# Interface: mail_send DOMAIN (one message from alice@DOMAIN, envelope and
# From; it must be accepted and delivered, and its decision line logged,
# so that whatever relaygate logs about it is in the log by then).
# MAIL_SENT counts the messages sent.
# shellcheck shell=bash

MAIL_SENT=0

# mail_send DOMAIN - see above
mail_send() {
	local n
	n=$(world_sink_count)
	world_smtp_send --from "alice@$1" --header-from "alice@$1"
	assert_smtp RESULT accepted
	world_sink_wait $((n + 1))
	MAIL_SENT=$((MAIL_SENT + 1))
	world_wait "$WORLD_WAIT" _mail_decided "$MAIL_SENT" ||
		world_fail "no decision line #$MAIL_SENT in relaygate's log"
}

# _mail_decided N - relaygate's log holds N decision lines
_mail_decided() {
	(($(grep -c 'event=message ' "$W/log/relaygate.log") >= $1))
}
