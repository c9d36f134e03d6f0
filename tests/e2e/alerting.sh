#!/bin/bash
# alerting.sh - the lines operators alert on, and "relaygatectl report",
# end to end through the real Postfix: each domain's first use logs one
# event=domain_state; more mail from it logs nothing more; a misconfigured
# domain that keeps sending is reminded of once per log.reminder_interval;
# "report" lists the misconfigured domains (text and JSON, parsed) with
# messages affected, since when, grace or override, and why; when the
# customer fixes DNS (world_zone_set) and the operator flushes the cache,
# the next messages log exactly one broken -> configured change and the
# domain leaves the report.
#
# Run as root: bash tests/e2e/alerting.sh   (exit 0 = pass)
# RELAYGATECTL_BIN names the CLI under test; default: relaygatectl next to
# RELAYGATE_BIN, else the newest build/*/milter/relaygatectl.
# shellcheck disable=SC2119  # world functions with optional arguments
set -euo pipefail
export WORLD_TIMEOUT=${WORLD_TIMEOUT:-150}
here=$(cd "$(dirname "$0")" && pwd)
# alert-fix.test: misconfigured at first, fixed mid-test (see its zone).
export WORLD_ZONE_DIRS="$here/../world/zones $here/zones-alerting"
# shellcheck source-path=SCRIPTDIR source=../world/world.sh
. "$here/../world/world.sh"
# shellcheck source-path=SCRIPTDIR source=lib_ctl.sh
. "$here/lib_ctl.sh"
# shellcheck source-path=SCRIPTDIR source=lib_mail.sh
. "$here/lib_mail.sh"
world_enter "$@"
ctl_init

log="$W/log/relaygate.log"
reminder=4 # seconds: log.reminder_interval

# events KIND DOMAIN - how many lines of event KIND for DOMAIN
events() {
	grep -c " event=$1 domain=$2 " "$log" || true
}

# assert_events KIND DOMAIN N - exactly N such lines
assert_events() {
	local n
	n=$(events "$1" "$2")
	((n == $3)) || world_fail "$3 event=$1 lines for $2 expected," \
		"have $n: $(grep " event=$1 domain=$2 " "$log" || true)"
}

# event_line KIND DOMAIN - the last such line, with the fields padded
event_line() {
	echo " $(grep " event=$1 domain=$2 " "$log" | tail -n 1) "
}

# assert_fields LINE FIELD... - the line holds each logfmt FIELD
assert_fields() {
	local line=$1 f
	shift
	for f in "$@"; do
		[[ $line == *" $f "* ]] || world_fail "no '$f' in: $line"
	done
}

world_dns_start
world_sink_start
{
	sed '/^log: {/,/^};/d; /^cache: {/,/^};/d' \
		"$WORLD_HOME/relaygate-test.conf"
	# Verdicts live 10 minutes, so that only the flush re-checks.
	cat <<CONF
cache: {
	state_file = "";
	ttl_min = "10m";
	ttl_bad_max = "10m";
};
log: {
	destination = "stderr";
	level = "debug";
	format = "logfmt";
	reminder_interval = $reminder;
};
policy: {
	grace_period = "7d";
	overrides = ( { domain = "nospf.test"; action = "monitor"; } );
};
CONF
} >"$W/tmp/alerting.conf"
world_relaygate_start "$W/tmp/alerting.conf"
world_postfix_start relay

world_step "first use: one domain_state line per domain"
mail_send good.test
mail_send alert-fix.test
first=$EPOCHSECONDS
mail_send alert-fix.test
mail_send nospf.test
mail_send good.test
assert_events domain_state good.test 1
assert_events domain_state alert-fix.test 1
assert_events domain_state nospf.test 1
line=$(event_line domain_state good.test)
assert_fields "$line" level=info from=none to=configured change=first_seen \
	rotation_ready=yes messages_affected=0 \
	'reason="spf=pass (include:spf.dmrmail.nl); dkim=ok"'
[[ $line != *" since="* && $line != *" policy="* ]] ||
	world_fail "a configured domain has no since/policy: $line"
line=$(event_line domain_state alert-fix.test)
assert_fields "$line" level=warning from=none to=partial change=first_seen \
	rotation_ready=no messages_affected=0
grace_until=$(date -u -d "@$((first + 7 * 86400))" +%F)
[[ $line == *' reason="spf=pass (include:spf.dmrmail.nl); dkim=wrong_target ('* &&
	$line == *" since=$(date -u +%F)T"* &&
	$line == *" policy=\"grace until $grace_until\" "* ]] ||
	world_fail "alert-fix.test's reason, since or policy: $line"
assert_fields "$(event_line domain_state nospf.test)" to=partial \
	rotation_ready=yes 'policy="grace until '"$grace_until"'; override monitor"'

world_step "a domain still broken is reminded of once per interval"
assert_events domain_reminder alert-fix.test 0
# The first event set the clock; wait out the interval, then send twice.
while ((EPOCHSECONDS < first + reminder + 1)); do sleep 0.2; done
mail_send alert-fix.test
mail_send alert-fix.test
mail_send good.test
assert_events domain_reminder alert-fix.test 1
assert_events domain_reminder good.test 0
assert_events domain_state alert-fix.test 1
assert_fields "$(event_line domain_reminder alert-fix.test)" level=warning \
	state=partial rotation_ready=no messages_affected=2

world_step "report: the misconfigured domains, most affected first"
ctl report report
assert_rc 1 "relaygatectl report"
assert_grep "$CTL_OUT" '^DOMAIN +STATE +AFFECTED +MESSAGES +SINCE +POLICY +REASON$'
assert_grep "$CTL_OUT" "^alert-fix\\.test +partial +4 +4 +$(date -u +%F) [0-9:]{5}Z +grace until $grace_until +spf=pass \\(include:spf\\.dmrmail\\.nl\\); dkim=wrong_target \\(.+\\)$"
assert_grep "$CTL_OUT" "^nospf\\.test +partial +1 +1 .* +grace until $grace_until; override monitor +spf=none"
assert_no_grep "$CTL_OUT" '^good\.test'
assert_grep "$CTL_OUT" '^2 domains not fully configured: 0 enforced, 2 in grace, 0 before enforcement; 5 messages affected$'
[[ $(sed -n 2p "$CTL_OUT") == alert-fix.test* ]] ||
	world_fail "alert-fix.test (4 affected) is not first: $(<"$CTL_OUT")"

ctl report-json report --json
assert_rc 1 "relaygatectl report --json"
"$WORLD_PY" - "$CTL_OUT" "$grace_until" <<'PY' ||
import json, re, sys
doc = json.load(open(sys.argv[1]))
until = sys.argv[2]
assert set(doc) == {"schema", "generated_at", "domains", "summary"}, doc
assert doc["schema"] == "relaygate-report/1", doc["schema"]
stamp = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
assert stamp.match(doc["generated_at"])
names = [d["domain"] for d in doc["domains"]]
assert names == ["alert-fix.test", "nospf.test"], names
d = doc["domains"][0]
keys = {"domain", "state", "rotation_ready", "dns_trouble", "cache",
        "messages_affected", "messages", "counters", "first_seen_bad",
        "last_seen", "checked_at", "policy", "reason"}
assert set(d) == keys, set(d) ^ keys
assert d["state"] == "partial" and d["rotation_ready"] is False
assert d["dns_trouble"] is False and d["cache"] == "fresh"
assert d["messages_affected"] == 4 and d["messages"] == 4
assert d["counters"] == {"pass": 0, "sign": 0, "tag": 4, "defer": 0,
                         "reject": 0, "monitor": 0}, d["counters"]
for k in ("first_seen_bad", "last_seen", "checked_at"):
    assert stamp.match(d[k]), (k, d[k])
p = d["policy"]
assert p["phase"] == "grace" and p["until"].startswith(until), p
assert p["override"] is None and p["override_expires"] is None, p
assert p["text"] == "grace until " + until, p
assert d["reason"]["spf"] == "spf=pass (include:spf.dmrmail.nl)", d["reason"]
assert d["reason"]["dkim"].startswith("dkim=wrong_target ("), d["reason"]
s = doc["domains"][1]
assert s["policy"]["override"] == "monitor", s["policy"]
assert s["rotation_ready"] is True and s["counters"]["monitor"] == 1, s
assert doc["summary"] == {"domains": 2, "enforced": 0, "grace": 2,
                          "not_yet": 0, "messages_affected": 5}, doc["summary"]
PY
	world_fail "report --json: $(<"$CTL_OUT")"

world_step "the customer fixes DNS; after a flush: one broken -> configured"
cat >"$W/tmp/alert-fix-fixed.zone" <<'ZONE'
$TTL 2
@			A	192.0.2.95
@			TXT	"v=spf1 include:spf.dmrmail.nl -all"
prezent-a._domainkey	CNAME	_dkim-a.prezent.nl.
prezent-b._domainkey	CNAME	_dkim-b.prezent.nl.
ZONE
world_zone_set alert-fix.test "$W/tmp/alert-fix-fixed.zone"
sleep 3 # the 2 s TTLs run out in relaygate's own resolver cache
# Without a flush the cached verdict stands: nothing changes yet.
mail_send alert-fix.test
assert_events domain_state alert-fix.test 1
ctl flush cache flush alert-fix.test
assert_rc 0 "relaygatectl cache flush alert-fix.test"
mail_send alert-fix.test
mail_send alert-fix.test
mail_send alert-fix.test
assert_events domain_state alert-fix.test 2
assert_fields "$(event_line domain_state alert-fix.test)" level=notice \
	from=partial to=configured change=fixed rotation_ready=yes \
	'reason="spf=pass (include:spf.dmrmail.nl); dkim=ok"' messages_affected=5
# A configured domain is not reminded of, however long it sends.
reminders=$(events domain_reminder alert-fix.test)
sleep $((reminder + 1))
mail_send alert-fix.test
assert_events domain_reminder alert-fix.test "$reminders"
grep " event=message .*from_domain=alert-fix.test " "$log" | tail -n 1 |
	grep ' action=sign ' >/dev/null ||
	world_fail "alert-fix.test is not signed after the fix"

world_step "report: the fixed domain is gone"
ctl report2 report
assert_rc 1 "relaygatectl report"
assert_no_grep "$CTL_OUT" '^alert-fix\.test'
assert_grep "$CTL_OUT" '^1 domains not fully configured: '

world_step "a flush without a change of state logs nothing"
ctl flush2 cache flush --all
mail_send alert-fix.test
mail_send good.test
assert_events domain_state alert-fix.test 2
assert_events domain_state good.test 1
world_relaygate_stop
assert_eq 0 "$WORLD_RELAYGATE_STATUS" "relaygate's exit status"
world_log "alerting: OK"
