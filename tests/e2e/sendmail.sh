#!/bin/bash
# sendmail.sh - relaygate behind the other MTA it is made for: Debian's
# sendmail 8.17, hooked up with the line of contrib/sendmail.mc, relaying
# to the world's sink.  relaygate speaks the milter protocol with its own
# engine (milter/mserve.c), not with sendmail's libmilter, so this is where
# the two meet: sendmail's negotiation, its macros and its handling of
# every reply relaygate gives.
#
# Asserted, one message per scenario:
#   - configured domain: accepted, signed (python3-dkim verifies through
#     the world's DNS), and the decision line carries sendmail's queue id
#     (the {i} macro relaygate asked for);
#   - SPF without DKIM delegation (policy: tag): delivered with the status
#     header and the Subject prefix (header add and change);
#   - neither SPF nor DKIM (policy: defer): 451 after DATA with relaygate's
#     text (a refusal held from the end of the headers), nothing delivered;
#   - DNS trouble (policy: defer): 451 at MAIL FROM with relaygate's text,
#     and the decision line names the queue id sendmail logged it under;
#   - relaygate stopped: sendmail defers (F=T in contrib/sendmail.mc), and
#     after a restart the next message is signed again;
#   - relaygate on an inet socket (S=inet:...): signed over TCP.
#
# sendmail and Postfix cannot be installed side by side (Debian's MTA
# packages conflict), so contrib/install-deps.sh unpacks sendmail-bin and
# sendmail-cf under build/deps/sendmail (SENDMAIL_ROOT), and this test runs
# the binary from there with its own configuration.
#
# Run as root: bash tests/e2e/sendmail.sh   (exit 0 = pass)
set -euo pipefail
export WORLD_TIMEOUT=${WORLD_TIMEOUT:-180}
here=$(cd "$(dirname "$0")" && pwd)
export WORLD_ZONE_DIRS="$here/../world/zones $here/zones"
export WORLD_BLACKHOLE_ZONES="slow.test"
# shellcheck source-path=SCRIPTDIR source=../world/world.sh
. "$here/../world/world.sh"
# shellcheck source-path=SCRIPTDIR source=lib_decision.sh
. "$here/lib_decision.sh"
world_enter "$@"

SM_ROOT=${SENDMAIL_ROOT:-$WORLD_REPO/build/deps/sendmail}
SM_BIN=$SM_ROOT/usr/libexec/sendmail/sendmail
SM_CF=$SM_ROOT/usr/share/sendmail/cf
SM_PORT=2525
[[ -x $SM_BIN && -f $SM_CF/m4/cf.m4 ]] ||
	world_fail "no sendmail under $SM_ROOT: run contrib/install-deps.sh"

# sm_config SOCKET - render and compile the world's sendmail.cf, with the
# hookup line of contrib/sendmail.mc pointed at SOCKET (sendmail's form:
# local:PATH or inet:PORT@ADDR).
sm_config() {
	local filter
	filter=$(grep '^INPUT_MAIL_FILTER' "$WORLD_REPO/contrib/sendmail.mc")
	[[ $filter == *S=local:/run/relaygate/relaygate.sock,* ]] ||
		world_fail "contrib/sendmail.mc: no INPUT_MAIL_FILTER line on" \
			"relaygate's default socket"
	filter=${filter//local:\/run\/relaygate\/relaygate.sock/$1}
	mkdir -p "$W/sendmail" "$W/spool/sendmail"
	chmod 0700 "$W/spool/sendmail"
	printf 'hosts files\naliases files\n' >"$W/sendmail/service.switch"
	echo '127.0.0.1 relay.world.test relay localhost' >"$W/sendmail/hosts"
	world_render "$WORLD_HOME/sendmail/relay.mc.in" "$W/sendmail/relay.mc" \
		ADDR="$WORLD_RELAY_ADDR" PORT="$SM_PORT" FILTER="$filter" \
		SINK_ADDR="$WORLD_SINK_ADDR" SINK_PORT="$WORLD_SINK_PORT"
	m4 -D_CF_DIR_="$SM_CF/" "$SM_CF/m4/cf.m4" "$W/sendmail/relay.mc" \
		>"$W/sendmail/relay.cf" 2>"$W/tmp/m4.err" ||
		world_fail "m4: $(cat "$W/tmp/m4.err")"
	grep -qF "Xrelaygate, S=$1, F=T" "$W/sendmail/relay.cf" ||
		world_fail "relay.cf: no relaygate filter line"
}

# sm_start - sendmail as a daemon in the foreground (-bD), in a UTS
# namespace of its own named relay.world.test: with an unqualified host
# name sendmail sleeps a minute at start before giving up on resolving it.
sm_start() {
	# shellcheck disable=SC2016  # expanded by the inner shell
	_world_spawn sendmail unshare --uts sh -c \
		'hostname relay.world.test && exec "$0" "$@"' \
		"$SM_BIN" -C "$W/sendmail/relay.cf" -bD -q30m
	world_wait "$WORLD_WAIT" _world_listening t "$WORLD_RELAY_ADDR" \
		"$SM_PORT" || world_fail "sendmail does not listen:" \
		"$(tail -n 5 "$W/log/syslog" 2>/dev/null)"
}

# send [smtpsend options] - one SMTP session with sendmail
send() {
	world_smtp_send --port "$SM_PORT" "$@"
}

help="https://relay.example/help/spf-dkim"
world_dns_start
world_sink_start
cat "$WORLD_HOME/relaygate-test.conf" "$here/policy-tag-defer.conf" \
	>"$W/tmp/sendmail-rg.conf"
world_relaygate_start "$W/tmp/sendmail-rg.conf"
sm_config "local:$WORLD_MILTER_SOCKET"
sm_start

world_step "configured domain: signed through sendmail, verified"
deliver --port "$SM_PORT" --from alice@good.test --subject hello
assert_eq "DKIM pass d=good.test s=prezent-a a=rsa-sha256" "$(cat "$DKIM")" \
	"python3-dkim on the message sendmail relayed"
assert_grep "$MSG" '^Subject: hello$'
assert_no_grep "$MSG" '^X-Relaygate-Status:' "status header"
has env_domain=good.test from_domain=good.test action=sign problem=ok
[[ $LINE =~ \ queue_id=([A-Za-z0-9]{8,})\  ]] ||
	world_fail "no sendmail queue id on the decision line: $LINE"
assert_grep "$MSG" "with ESMTP id ${BASH_REMATCH[1]}([;[:space:]]|\$)" \
	"the queue id relaygate logged is the one sendmail's Received names"

world_step "SPF without the DKIM delegation: tagged, header added and changed"
deliver --port "$SM_PORT" --from alice@nodkim.test --subject "the report"
assert_eq 1 "$(grep -c '^X-Relaygate-Status:' "$MSG")" "status headers"
assert_grep "$MSG" '^X-Relaygate-Status: partial; spf=pass \(.*\); dkim=missing \(prezent-a\._domainkey\.nodkim\.test\)$' \
	"status header"
assert_eq "DKIM none" "$(cat "$DKIM")" \
	"signature of the undelegated domain's message"
assert_grep "$MSG" '^Subject: \[unverified\] the report$' "Subject prefix"
has env_domain=nodkim.test action=tag problem=dkim

world_step "neither SPF nor DKIM: 451 after DATA, with what to fix"
n=$(world_sink_count)
send --from a@bare.test
assert_smtp MAIL 250
assert_smtp DOT 451
assert_grep "$WORLD_SMTP" "^DOT 451 4\\.7\\.1 bare\\.test: .*include:spf\\.dmrmail\\.nl.*\\($help\\)" \
	"sendmail passes relaygate's reply on"
decision
has env_domain=bare.test action=defer problem=both

world_step "DNS trouble: 451 at MAIL FROM"
send --from a@slow.test
assert_smtp MAIL 451
assert_grep "$WORLD_SMTP" '^MAIL 451 4\.4\.3 slow\.test: the DNS records could not be checked' \
	"the early deferral"
decision
has env_domain=slow.test action=defer problem=temporary
[[ $LINE =~ \ queue_id=([A-Za-z0-9]{8,})\  ]] ||
	world_fail "no queue id on the MAIL FROM deferral's line: $LINE"
assert_grep "$W/log/syslog" "sendmail\[[0-9]+\]: ${BASH_REMATCH[1]}: .*from=<a@slow\.test>.*reject=451 4\.4\.3" \
	"sendmail logged the deferral under the queue id relaygate logged"
assert_eq "$n" "$(world_sink_count)" "messages in the sink after refusals"

world_step "relaygate stopped: sendmail defers (F=T); restarted: signed again"
world_relaygate_stop 20
send --from alice@good.test
assert_smtp RESULT refused
grep -qE '^(MAIL|RCPT|DATA|DOT) 4[0-9][0-9] ' "$WORLD_SMTP" ||
	world_fail "no 4xx while relaygate was down: $(tr '\n' '/' <"$WORLD_SMTP")"
world_relaygate_start "$W/tmp/sendmail-rg.conf"
deliver --port "$SM_PORT" --from alice@good.test
assert_eq "DKIM pass d=good.test s=prezent-a a=rsa-sha256" "$(cat "$DKIM")" \
	"the first message after the restart"

world_step "relaygate on an inet socket (S=inet:): signed over TCP"
world_relaygate_stop 20
_world_stop sendmail 10 || world_fail "sendmail did not stop"
sed 's|socket = "unix:@W@/run/relaygate.sock";|socket = "inet:8891@127.0.0.1";|' \
	"$W/tmp/sendmail-rg.conf" >"$W/tmp/sendmail-rg-inet.conf"
WORLD_MILTER_SOCKET=127.0.0.1:8891
world_relaygate_start "$W/tmp/sendmail-rg-inet.conf"
sm_config "inet:8891@127.0.0.1"
sm_start
deliver --port "$SM_PORT" --from alice@good.test
assert_eq "DKIM pass d=good.test s=prezent-a a=rsa-sha256" "$(cat "$DKIM")" \
	"the message signed over an inet socket"
has env_domain=good.test action=sign

world_log "sendmail: OK"
