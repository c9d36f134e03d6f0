#!/bin/bash
# enforce.sh - the policy end to end, through the real Postfix: one message
# per scenario, asserted on what arrived at the sink (signature verified by
# python3-dkim through the world's DNS, the status header, the Subject),
# on the SMTP replies of refused mail and on relaygate's decision line.
#
# Policy under test: SPF or DKIM alone -> tag (delivered with the status
# header and a Subject prefix; signed when DKIM allows), both -> defer, DNS
# trouble -> defer, several From headers -> tag; no grace period.
#
# Run as root: bash tests/e2e/enforce.sh   (exit 0 = pass)
set -euo pipefail
export WORLD_TIMEOUT=${WORLD_TIMEOUT:-180}
here=$(cd "$(dirname "$0")" && pwd)
# enf-flaky.test starts unreachable (black hole); zones-later serves it.
export WORLD_ZONE_DIRS="$here/../world/zones $here/zones"
export WORLD_BLACKHOLE_ZONES="slow.test enf-flaky.test"
# shellcheck source-path=SCRIPTDIR source=../world/world.sh
. "$here/../world/world.sh"
# shellcheck source-path=SCRIPTDIR source=lib_ctl.sh
. "$here/lib_ctl.sh"
# shellcheck source-path=SCRIPTDIR source=lib_decision.sh
. "$here/lib_decision.sh"
world_enter "$@"
ctl_init

help="https://relay.example/help/spf-dkim"

world_dns_start
world_sink_start
cat "$WORLD_HOME/relaygate-test.conf" "$here/policy-tag-defer.conf" \
	>"$W/tmp/enforce.conf"
world_relaygate_start "$W/tmp/enforce.conf"
world_postfix_start relay

# signed D S - the message carries one valid signature d=D s=S
signed() {
	assert_eq "DKIM pass d=$1 s=$2 a=rsa-sha256" "$(cat "$DKIM")" \
		"signature of the message from $1"
}
unsigned() { assert_eq "DKIM none" "$(cat "$DKIM")" "signature"; }

# status VALUE-ERE - the status header, exactly once
status() {
	assert_eq 1 "$(grep -c '^X-Relaygate-Status:' "$MSG")" "status headers"
	assert_grep "$MSG" "^X-Relaygate-Status: $1\$" "the status header"
}
nostatus() { assert_no_grep "$MSG" '^X-Relaygate-Status:' "status header"; }

world_step "configured: signed, verifies, nothing added"
deliver --from alice@good.test --subject "hello"
signed good.test prezent-a
nostatus
assert_grep "$MSG" '^Subject: hello$'
has scope=in env_domain=good.test from_domain=good.test action=sign \
	selector=prezent-a problem=ok spf=pass \
	dkim=prezent-a:delegated,prezent-b:delegated cache=checked
[[ $LINE == *'dmarc="dmarc=quarantine (aligned via dkim and spf)"'* ]] ||
	world_fail "DMARC alignment not in the decision line: $LINE"

world_step "a forged status header is removed; the message is signed"
deliver --from alice@good.test --header 'X-Relaygate-Status: configured; spf=pass' \
	--header 'x-relaygate-status: forged again'
signed good.test prezent-a
nostatus
has action=sign

world_step "upper-case sender and From domain: normalized, d=good.test"
deliver --from ALICE@GOOD.TEST --header-from 'Alice <Alice@Good.Test.>'
signed good.test prezent-a
has env_domain=good.test from_domain=good.test action=sign

world_step "null sender (a bounce): judged on its From domain only"
deliver --from '' --header-from 'MAILER-DAEMON@good.test'
signed good.test prezent-a
has 'env_domain=""' from_domain=good.test action=sign spf=none

world_step "SPF authorizes the relay by ip4:, without the include: signed"
deliver --from a@enf-ip4.test
signed enf-ip4.test prezent-a
nostatus
has action=sign problem=ok spf=pass

world_step "SPF without the include, -all: tagged (and signed: DKIM is fine)"
deliver --from a@enf-fail.test --subject "invoice"
signed enf-fail.test prezent-a
status 'partial; spf=fail \(.*\); dkim=ok'
assert_grep "$MSG" '^Subject: \[unverified\] invoice$' "the tagged Subject"
has action=tag selector=prezent-a problem=spf spf=fail

world_step "SPF without the include, ~all: tagged"
deliver --from a@enf-soft.test
signed enf-soft.test prezent-a
status 'partial; spf=softfail \(.*\); dkim=ok'
has action=tag problem=spf spf=softfail

world_step "SPF permerror from too many lookups: tagged"
deliver --from a@enf-perm.test
signed enf-perm.test prezent-a
status 'partial; spf=permerror \(.*\); dkim=ok'
has action=tag problem=spf spf=permerror

world_step "two SPF records: permerror, tagged"
deliver --from a@enf-multi.test
status 'partial; spf=permerror \(.*\); dkim=ok'
has action=tag problem=spf spf=permerror

world_step "SPF missing entirely: tagged"
deliver --from a@nospf.test
signed nospf.test prezent-a
status 'partial; spf=none \(.*\); dkim=ok'
has action=tag problem=spf spf=none

world_step "DKIM missing: tagged, not signed"
deliver --from a@nodkim.test
unsigned
status 'partial; spf=pass \(.*\); dkim=missing \(prezent-a\._domainkey\.nodkim\.test\)'
has action=tag problem=dkim spf=pass dkim=prezent-a:missing,prezent-b:missing
[[ $LINE != *' selector='* ]] || world_fail "unsigned, yet a selector: $LINE"

world_step "only prezent-b delegated: signed with prezent-b"
deliver --from a@onlyb.test
signed onlyb.test prezent-b
nostatus
has action=sign selector=prezent-b dkim=prezent-a:missing,prezent-b:delegated

world_step "wrong CNAME target: DKIM problem, tagged, not signed"
deliver --from a@enf-wrong.test
unsigned
status 'partial; spf=pass \(.*\); dkim=wrong_target \(.*\)'
has action=tag problem=dkim

world_step "a copy of our key instead of a CNAME: still signed"
deliver --from a@dkim-copied.test
signed dkim-copied.test prezent-a
has action=sign dkim=prezent-a:copied,prezent-b:copied

world_step "an IDN From domain in U-labels: signed as its A-label"
deliver --from a@dmarc-idn.test --header-from 'Bücher <info@bücher.dmarc-idn.test>'
signed xn--bcher-kva.dmarc-idn.test prezent-a
has from_domain=xn--bcher-kva.dmarc-idn.test action=sign

world_step "several From headers: never signed, tagged"
deliver --from a@good.test --header 'From: mallory@nodkim.test'
unsigned
status 'unsigned; spf=pass \(.*\); dkim=none \(several From headers\)'
has action=tag problem=from

world_step "neither SPF nor DKIM: deferred, the reply says what to fix"
# SPF alone would only tag, and the From header could still name a
# configured domain: the decision waits for the headers.
world_smtp_send --from a@bare.test
assert_smtp MAIL 250
assert_smtp DOT 451
assert_grep "$WORLD_SMTP" "^DOT 451 4\\.7\\.1 bare\\.test: .*include:spf\\.dmrmail\\.nl.*prezent-a\\._domainkey\\.bare\\.test.*\\($help\\)" \
	"the deferral says what to fix"
decision
has env_domain=bare.test from_domain=bare.test action=defer problem=both
assert_queue relay "" 0

world_step "DNS trouble defers at MAIL FROM: no body is sent for nothing"
world_smtp_send --from a@slow.test
assert_smtp MAIL 451
assert_grep "$WORLD_SMTP" '^MAIL 451 4\.4\.3 slow\.test: the DNS records could not be checked' \
	"the early deferral"
decision
has env_domain=slow.test action=defer problem=temporary spf=temperror \
	'queue_id=""'

world_step "DNS times out: deferred with 4.4.3, delivered once DNS recovers"
world_postfix_start outbox
world_outbox_send --from a@enf-flaky.test
token=$WORLD_TOKEN
world_queue_wait outbox deferred 1 30
postqueue -c "$W/outbox" -j >"$W/tmp/flaky-queue.json"
assert_grep "$W/tmp/flaky-queue.json" '"delay_reason": *"[^"]*451 4\.4\.3 [^"]*enf-flaky\.test' \
	"the outbox's deferral reason"
decision
has env_domain=enf-flaky.test action=defer problem=temporary
WORLD_BLACKHOLE_ZONES=slow.test
world_zone_set enf-flaky.test "$here/zones-later/enf-flaky.test.zone"
# The DNS failure is cached briefly (cache.ttl_temp); the operator who
# knows it is over flushes it, as the customer who fixed DNS would ask.
ctl flush cache flush enf-flaky.test
assert_rc 0 "cache flush enf-flaky.test"
_flaky_delivered() {
	world_outbox_flush
	sleep 1
	[[ -n $(world_sink_find "$token") ]]
}
n=$(world_sink_count)
world_wait 60 _flaky_delivered ||
	world_fail "the deferred message was not delivered after DNS recovered"
assert_eq $((n + 1)) "$(world_sink_count)" "messages in the sink"
assert_queue outbox '' 0
world_log "enforce: OK"
