#!/bin/bash
# world_selftest.sh - proves the end-to-end test world works, without
# relaygate: DNS (recursion from the private root, cross-zone CNAMEs, the
# generated DKIM keys, NXDOMAIN, NODATA, real timeouts, zone changes at run
# time), the relay Postfix delivering to the sink, a dead milter turning
# into 4xx, the outbox keeping and redelivering a message exactly once, the
# relaygate start/stop contract (with a stand-in daemon), and teardown.
#
# Run as root: bash tests/e2e/world_selftest.sh   (exit 0 = pass)
# shellcheck disable=SC2119  # world_* functions with optional arguments
set -euo pipefail
export WORLD_TIMEOUT=${WORLD_TIMEOUT:-60}
# shellcheck source-path=SCRIPTDIR source=../world/world.sh
. "$(dirname "$0")/../world/world.sh"
world_enter "$@"

# check_dns NAME TYPE ERE - the world's resolver answers NAME/TYPE with a
# line matching ERE (lines as printed by py/dnsq.py).
check_dns() {
	world_dns_query "$1" "$2" >"$W/tmp/dns.txt"
	assert_grep "$W/tmp/dns.txt" "$3" "DNS $1 $2"
}

# dkim_record PEM - the DKIM record the world must publish for an RSA key,
# computed here independently of world.sh.
dkim_record() {
	printf 'v=DKIM1; k=rsa; p=%s' \
		"$(openssl pkey -in "$1" -pubout -outform DER | base64 -w0)"
}

# test_dns_records - records, CNAME chains, keys, negative answers.
test_dns_records() {
	world_step "DNS: SPF, cross-zone CNAMEs to the generated keys, NXDOMAIN"
	check_dns good.test TXT \
		'^TXT good\.test\. v=spf1 \+mx \+a include:spf\.dmrmail\.nl -all$'
	check_dns spf.dmrmail.nl TXT \
		'^TXT spf\.dmrmail\.nl\. v=spf1 ip4:192\.0\.2\.25 ip6:2001:db8::25 -all$'
	local sel letter
	for sel in prezent-a prezent-b; do
		letter=${sel: -1}
		check_dns "$sel._domainkey.good.test" TXT \
			"^CNAME $sel\._domainkey\.good\.test\. _dkim-$letter\.prezent\.nl\.$"
		assert_eq "TXT _dkim-$letter.prezent.nl. $(dkim_record \
			"$W/keys/$sel.rsa.pem")" "$(grep '^TXT ' "$W/tmp/dns.txt")" \
			"DKIM key published for $sel"
	done
	check_dns nosuch.good.test A '^STATUS NXDOMAIN$'
	check_dns nosuch.test TXT '^STATUS NXDOMAIN$'
	check_dns nospf.test TXT '^STATUS NODATA$'
	check_dns prezent-a._domainkey.nodkim.test TXT '^STATUS NXDOMAIN$'
	check_dns bare.test A '^A bare\.test\. 192\.0\.2\.86$'
}

# test_dkim_keys - python3-dkim signs with each generated key and verifies
# through the world's DNS (CNAME followed).
test_dkim_keys() {
	world_step "DKIM: python3-dkim signs with the keys, verifies via DNS"
	local sel
	for sel in prezent-a prezent-b; do
		"$WORLD_PY" "$WORLD_HOME/py/smtpsend.py" --print 2>/dev/null |
			"$WORLD_PY" "$WORLD_HOME/py/dkimtool.py" sign -d good.test \
				-s "$sel" -k "$W/keys/$sel.rsa.pem" >"$W/tmp/signed.eml"
		"$WORLD_PY" "$WORLD_HOME/py/dkimtool.py" verify \
			<"$W/tmp/signed.eml" >"$W/tmp/dkim.txt" || true
		assert_grep "$W/tmp/dkim.txt" "^DKIM pass d=good\.test s=$sel " \
			"DKIM verification with $sel"
	done
}

# test_dns_changes - zones replaced, added and removed at run time.
test_dns_changes() {
	world_step "DNS: a zone fixed, added and removed at run time"
	check_dns bare.test TXT '^STATUS NODATA$'
	{ cat "$WORLD_HOME/zones/bare.test.zone"
	  echo '@ TXT "v=spf1 include:spf.dmrmail.nl -all"'; } >"$W/tmp/fix.zone"
	world_zone_set bare.test "$W/tmp/fix.zone"
	check_dns bare.test TXT '^TXT bare\.test\. v=spf1 include:spf\.dmrmail\.nl -all$'
	check_dns new.test A '^STATUS NXDOMAIN$'
	printf '@ A 192.0.2.99\n' >"$W/tmp/new.zone"
	world_zone_set new.test "$W/tmp/new.zone"
	check_dns new.test A '^A new\.test\. 192\.0\.2\.99$'
	world_zone_remove new.test
	check_dns new.test A '^STATUS NXDOMAIN$'
}

# blackhole_start - ask for a name of the black-holed zone in the
# background (it takes the full 2 s); blackhole_check collects the answer.
blackhole_start() {
	world_step "DNS: a black-holed name (started, checked later)"
	(t0=$(_world_now_ms)
	 world_dns_query -t 2 www.slow.test A
	 echo "ELAPSED_MS $(($(_world_now_ms) - t0))") >"$W/tmp/slow.txt" &
	BLACKHOLE_JOB=$!
}

# blackhole_check - the black-holed lookup timed out, after about 2 s.
blackhole_check() {
	world_step "DNS: the black-holed name timed out"
	wait "$BLACKHOLE_JOB" || world_fail "the black-hole query failed"
	assert_grep "$W/tmp/slow.txt" '^STATUS TIMEOUT$' "www.slow.test A"
	local ms
	ms=$(awk '$1 == "ELAPSED_MS" { print $2 }' "$W/tmp/slow.txt")
	((ms >= 1800 && ms < 4000)) ||
		world_fail "black-hole lookup took $ms ms, expected about 2000"
	assert_grep "$W/log/blackhole.log" '^udp query from 127\.' \
		"black hole log"
}

# test_relay_delivers - no milter: a message reaches the sink intact.
test_relay_delivers() {
	world_step "relay without milter: message arrives at the sink intact"
	world_smtp_send --from sender@good.test --to someone@receiver.example
	assert_smtp RESULT accepted
	world_sink_wait 1
	local f
	f=$(world_sink_find "$WORLD_TOKEN")
	[[ -n $f ]] || world_fail "the sink has no message with $WORLD_TOKEN"
	world_sink_message "$f" --body >"$W/tmp/body.txt"
	printf '%s\n' "Hello from the relaygate test world." \
		".A line that starts with a dot (dot-stuffing)." \
		"world-token: $WORLD_TOKEN" >"$W/tmp/expected.txt"
	cmp -s "$W/tmp/expected.txt" "$W/tmp/body.txt" ||
		world_fail "body changed: $(diff "$W/tmp/expected.txt" "$W/tmp/body.txt")"
	world_sink_message "$f" --envelope >"$W/tmp/env.txt"
	assert_grep "$W/tmp/env.txt" '^mail <sender@good\.test>$' "envelope"
	assert_grep "$W/tmp/env.txt" '^rcpt <someone@receiver\.example>' "envelope"
}

# test_dead_milter - a milter socket where nothing listens: 4xx, no mail.
test_dead_milter() {
	world_step "relay with a dead milter: 4xx, nothing delivered"
	world_relay_milters "unix:$WORLD_MILTER_SOCKET"
	world_smtp_send
	assert_smtp RESULT refused
	assert_smtp MAIL '4??'
	assert_sink_count 1
	assert_queue relay "" 0
	assert_grep "$(world_maillog relay)" \
		"connect to Milter service unix:$WORLD_MILTER_SOCKET"
}

# test_outbox_keeps - relay tempfails: the outbox defers; after the relay
# is fixed a flush delivers the message exactly once.
test_outbox_keeps() {
	world_step "outbox: a 4xx from the relay leaves the message deferred"
	world_postfix_start outbox
	world_outbox_send --from sender@good.test --to later@receiver.example
	world_queue_wait outbox deferred 1
	assert_sink_count 1
	assert_grep "$(world_maillog outbox)" \
		'status=deferred .*4\.7\.1 Service unavailable'
	world_step "outbox: relay fixed, flush, delivered exactly once"
	world_relay_milters ""
	world_outbox_flush
	world_queue_wait outbox "" 0
	world_sink_wait 2
	world_queue_wait relay "" 0
	assert_sink_count 2
	local files
	mapfile -t files < <(world_sink_files)
	assert_eq 1 "$(grep -lF "$WORLD_TOKEN" "${files[@]}" | wc -l)" \
		"copies of the outbox message in the sink"
}

# test_relaygate_contract - world_relaygate_start/signal/stop against a
# stand-in daemon: socket detection, Postfix connecting, bounded stop.
test_relaygate_contract() {
	world_step "relaygate start/signal/stop contract (stand-in daemon)"
	RELAYGATE_BIN="$WORLD_HOME/py/fakemilter.py" world_relaygate_start
	world_relay_milters "unix:$WORLD_MILTER_SOCKET"
	world_smtp_send
	assert_smtp MAIL '4??'
	assert_grep "$(world_maillog relay)" 'milter-reject: MAIL'
	world_relaygate_signal USR1
	world_log_wait "$W/log/relaygate.log" '^reload$'
	world_relaygate_stop
	assert_eq 0 "$WORLD_RELAYGATE_STATUS" "stand-in exit status"
	[[ ! -S $WORLD_MILTER_SOCKET ]] || world_fail "socket left behind"
}

# test_teardown - world_teardown stops everything it started.
test_teardown() {
	world_step "teardown: every process of the world stopped"
	world_teardown
	local left
	left=$(world_processes)
	[[ -z $left ]] || world_fail "still running after teardown:$left"
	world_log "processes left: 0"
}

world_step "start DNS (keys, nsd, unbound, black hole)"
world_dns_start
blackhole_start
test_dns_records
test_dkim_keys
test_dns_changes
world_step "start sink and relay (no milter)"
world_sink_start
WORLD_RELAY_MILTERS="" world_postfix_start relay
test_relay_delivers
test_dead_milter
test_outbox_keeps
test_relaygate_contract
blackhole_check
test_teardown
