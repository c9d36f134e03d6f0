#!/bin/bash
# probe_cli.sh - "relaygatectl probe" against the world's real DNS: the
# scenario zones as text and as JSON (parsed with python3), each part's
# status (relay, DKIM, SPF, DMARC) and the exit status; the signed
# message verified independently (python3-dkim); the selector the
# provider-side key state picks; --from, -v and the usage errors; and
# --send through the world's relay Postfix to the sink, where the
# signature must verify - also when the relay's own milter signs it once
# more (non_smtpd_milters), and not at all when sendmail fails or the
# relay would refuse the message.
#
# Run as root: bash tests/e2e/probe_cli.sh   (exit 0 = pass)
# RELAYGATECTL_BIN names the CLI under test; default: relaygatectl next to
# RELAYGATE_BIN, else the newest build/*/milter/relaygatectl.
set -euo pipefail
export WORLD_TIMEOUT=${WORLD_TIMEOUT:-240}
here=$(cd "$(dirname "$0")" && pwd)
export WORLD_ZONE_DIRS="$here/../world/zones $here/zones-probe"
# shellcheck source-path=SCRIPTDIR source=../world/world.sh
. "$here/../world/world.sh"
world_enter "$@"
# shellcheck source-path=SCRIPTDIR source=lib_ctl.sh
. "$here/lib_ctl.sh"

# One row per zone: zone, exit status, overall status, what the relay does
# (signed, unsigned, refused), then status:result of DKIM, SPF and DMARC
# (DMARC's "result" is its state), and the selector that signs ("-":
# none).  How each follows from the zone and the test configuration
# (policy defaults, grace period running: misconfigured domains are
# tagged; DNS trouble is deferred): a selector delegated to our target
# (or a copy of our key) is signed with, the active one (prezent-a) when
# it is delegated; the receiver verifies that signature through the same
# CNAME; SPF passes with the include; DMARC counts only when published.
PROBE_ZONES=(
	"good.test 0 pass signed pass:pass pass:pass pass:found prezent-a"
	"nodkim.test 1 fail unsigned fail:none pass:pass none:none -"
	"nospf.test 1 fail signed pass:pass fail:none none:none prezent-a"
	"onlyb.test 0 pass signed pass:pass pass:pass none:none prezent-b"
	"dkim-copied.test 0 pass signed pass:pass pass:pass none:none prezent-a"
	"dkim-temperror.test 0 pass signed pass:pass pass:pass none:none prezent-b"
	"bare.test 1 fail unsigned fail:none fail:none none:none -"
	"dmarc-strict.test 0 pass signed pass:pass pass:pass pass:found prezent-a"
	"dmarc-none.test 0 pass signed pass:pass pass:pass none:none prezent-a"
	"dmarc-temperror.test 2 temporary signed pass:pass pass:pass temporary:temperror prezent-a"
	"probe-dmarc-fail.test 1 fail unsigned fail:none fail:fail fail:found -"
	"slow.test 2 temporary refused temporary:none temporary:temperror temporary:temperror -"
)

# verify FORMAT FILE ROW - the python checks of one probe's output against
# its row (FORMAT text or json).
verify() {
	"$WORLD_PY" - "$@" <<'EOF' || world_fail "probe $1 output: see above"
import json, re, sys

fmt, path, row = sys.argv[1], sys.argv[2], sys.argv[3].split()
zone, rc, status, outcome = row[0], int(row[1]), row[2], row[3]
parts = {p: tuple(row[4 + i].split(":")) for i, p in enumerate(("dkim", "spf", "dmarc"))}
selector = None if row[7] == "-" else row[7]
text = open(path).read()
bad = []

def check_json():
    d = json.loads(text)
    want = {"schema": "relaygate-probe/1", "domain": zone, "status": status,
            "exit": rc, "sender": "postmaster@" + zone, "sent": None}
    for k, v in want.items():
        if d.get(k) != v:
            bad.append("%s: %r, want %r" % (k, d.get(k), v))
    r = d["relay"]
    if r["outcome"] != outcome:
        bad.append("relay outcome %s" % r["outcome"])
    if r["selectors"] != ([selector] if selector else []):
        bad.append("relay selectors %r" % r["selectors"])
    if (r["reply"] is not None) != (outcome == "refused"):
        bad.append("relay reply %r" % r["reply"])
    if r["verdict"]["state"] not in ("configured", "partial", "unconfigured", "temporary"):
        bad.append("verdict %r" % r["verdict"])
    if [k["selector"] for k in r["provider"]["keys"]] != ["prezent-a", "prezent-b"] or \
            r["provider"]["signing"] != "active":
        bad.append("provider %r" % r["provider"])
    got = {"dkim": (d["dkim"]["status"], d["dkim"]["result"]),
           "spf": (d["spf"]["status"], d["spf"]["result"]),
           "dmarc": (d["dmarc"]["status"], d["dmarc"]["state"])}
    for p in parts:
        if got[p] != parts[p]:
            bad.append("%s %s:%s, want %s:%s" % (p, *got[p], *parts[p]))
    sigs = d["dkim"]["signatures"]
    if selector is None:
        if sigs or not d["dkim"]["unsigned_reason"]:
            bad.append("unsigned, but %r" % d["dkim"])
    else:
        s = sigs[0] if len(sigs) == 1 else {}
        want = {"result": "pass", "domain": zone, "selector": selector,
                "algorithm": "rsa-sha256", "key_bits": 2048,
                "body_hash": "match", "reason": None}
        if {k: s.get(k) for k in want} != want:
            bad.append("signature %r" % sigs)
        k = s.get("key", {})
        target = "_dkim-%s.prezent.nl" % selector[-1]
        name = "%s._domainkey.%s" % (selector, zone)
        chain = None if zone == "dkim-copied.test" else "%s -> %s" % (name, target)
        if (k.get("name"), k.get("lookup"), k.get("chain")) != (name, "found", chain) \
                or not k.get("found", "").startswith("v=DKIM1; k=rsa; p="):
            bad.append("key %r" % k)
    if [a["address"] for a in d["spf"]["addresses"]] != ["192.0.2.25", "2001:db8::25"] \
            and parts["spf"][1] != "temperror":
        bad.append("spf addresses %r" % d["spf"]["addresses"])
    if d["dmarc"]["state"] == "found" and d["dmarc"]["record_domain"] != zone:
        bad.append("dmarc record %r" % d["dmarc"])

def check_text():
    lines = text.rstrip("\n").split("\n")
    if lines[0] != "%s: %s" % (zone, status):
        bad.append("head %r" % lines[0])
    item = re.compile(r"^  (relay|dkim|spf|dmarc|sent) +(pass|fail|temporary|none|ok|failed) +(.*)$")
    items = [m.groups() for m in map(item.match, lines) if m]
    if [i[0] for i in items] != ["relay", "dkim", "spf", "dmarc"]:
        bad.append("items %r" % items)
        return
    got = {i[0]: i for i in items}
    for p in parts:
        if got[p][1] != parts[p][0]:
            bad.append("%s status %s" % (p, got[p][1]))
    if not got["dkim"][2].startswith("dkim=%s" % parts["dkim"][1]):
        bad.append("dkim text %r" % got["dkim"][2])
    relay = {"signed": "signed with %s" % selector, "unsigned": "delivered without a signature",
             "refused": "refused: 4"}[outcome]
    if not got["relay"][2].startswith(relay):
        bad.append("relay text %r" % got["relay"][2])
    if selector and not re.search(r"^             signature  pass d=%s s=%s a=rsa-sha256, 2048-bit key$"
                                  % (re.escape(zone), selector), text, re.M):
        bad.append("no signature line")
    if not re.search(r"^  probed in \d+ ms$", text, re.M):
        bad.append("no duration")

check_json() if fmt == "json" else check_text()
for b in bad:
    print("probe_cli: %s: %s" % (zone, b))
sys.exit(1 if bad else 0)
EOF
}

# test_zones - every row, as text and as JSON, with the exit status.
test_zones() {
	local row zone rc
	for row in "${PROBE_ZONES[@]}"; do
		read -r zone rc _ <<<"$row"
		world_step "probe $zone: exit $rc"
		ctl "$zone" probe "$zone"
		assert_rc "$rc" "probe $zone"
		verify text "$CTL_OUT" "$row"
		ctl "$zone-json" probe --json "$zone"
		assert_rc "$rc" "probe --json $zone"
		verify json "$CTL_OUT" "$row"
	done
}

# dkim_verify FILE - python3-dkim's verdict on a message file
dkim_verify() {
	"$WORLD_PY" "$WORLD_HOME/py/dkimtool.py" verify <"$1" 2>&1 || true
}

# test_saved - the message probe signed, verified independently.
test_saved() {
	world_step "--save: the signed message verifies with python3-dkim"
	ctl save-good probe good.test --save "$W/tmp/good.eml"
	assert_rc 0 "probe --save"
	assert_eq "DKIM pass d=good.test s=prezent-a a=rsa-sha256" \
		"$(dkim_verify "$W/tmp/good.eml")" "python3-dkim on good.test"
	assert_grep "$W/tmp/good.eml" '^From: relaygate probe <postmaster@good\.test>'
	ctl save-onlyb probe onlyb.test --save "$W/tmp/onlyb.eml"
	assert_eq "DKIM pass d=onlyb.test s=prezent-b a=rsa-sha256" \
		"$(dkim_verify "$W/tmp/onlyb.eml")" "python3-dkim on onlyb.test"
	world_step "--save of a tagged domain: the status header is there"
	ctl save-nodkim probe nodkim.test --save "$W/tmp/nodkim.eml"
	assert_rc 1 "probe nodkim.test --save"
	assert_grep "$W/tmp/nodkim.eml" '^X-Relaygate-Status: partial; spf=pass'
	assert_eq "DKIM none" "$(dkim_verify "$W/tmp/nodkim.eml")" \
		"python3-dkim on nodkim.test"
}

# test_options - --from, -v, the usage errors.
test_options() {
	world_step "--from: another sender in the domain"
	ctl from probe --json good.test --from info@good.test
	assert_rc 0 "probe --from info@good.test"
	"$WORLD_PY" - "$CTL_OUT" <<'EOF' || world_fail "--from JSON"
import json, sys
d = json.load(open(sys.argv[1]))
assert (d["sender"], d["spf"]["mail_from"], d["to"], d["status"]) == \
    ("info@good.test", "info@good.test", "info@good.test", "pass"), d
EOF
	[[ ! -s $CTL_ERR ]] || world_fail "stderr without -v: $(cat "$CTL_ERR")"
	world_step "-v: the milter's decision line on stderr"
	ctl verbose probe -v good.test
	assert_rc 0 "probe -v"
	assert_grep "$CTL_ERR" 'event=message queue_id=relaygatectl-probe .*from_domain=good\.test action=sign selector=prezent-a'
	world_step "usage errors: exit 2"
	ctl no-domain probe
	assert_rc 2 "probe without a domain"
	assert_grep "$CTL_ERR" '^usage: relaygatectl probe DOMAIN '
	ctl two-domains probe good.test nodkim.test
	assert_rc 2 "probe with two domains"
	ctl bad-name probe bad..name
	assert_rc 2 "probe bad..name"
	assert_grep "$CTL_ERR" '^relaygatectl: bad\.\.name: '
	ctl other-from probe good.test --from alice@nodkim.test
	assert_rc 2 "probe --from in another domain"
	assert_grep "$CTL_ERR" 'the sender alice@nodkim\.test is not an address in good\.test'
	ctl bad-from probe good.test --from 'a b@good.test'
	assert_rc 2 "probe --from with a space"
	ctl bad-resolver probe good.test --resolver 127.0.0.1@0
	assert_rc 2 "probe --resolver with port 0"
}

# test_provider - our key gone from _dkim-a: the provider check picks
# prezent-b, as the daemon would, and the probe signs with it.
test_provider() {
	world_step "the active key missing at _dkim-a.prezent.nl: signed with prezent-b"
	sed '/^_dkim-a/d' "$WORLD_HOME/zones/prezent.nl.zone" >"$W/tmp/prezent.zone"
	world_zone_set prezent.nl "$W/tmp/prezent.zone"
	ctl provider probe --json good.test
	assert_rc 0 "probe with prezent-a's key unpublished"
	"$WORLD_PY" - "$CTL_OUT" <<'EOF' || world_fail "provider fallback JSON"
import json, sys
d = json.load(open(sys.argv[1]))
p = d["relay"]["provider"]
assert (p["signing"], p["selector"]) == ("fallback", "prezent-b"), p
assert [k["state"] for k in p["keys"]] == ["not_published", "published"], p
assert d["relay"]["selectors"] == ["prezent-b"], d["relay"]
assert d["dkim"]["signatures"][0]["result"] == "pass", d["dkim"]
EOF
	world_zone_set prezent.nl "$WORLD_HOME/zones/prezent.nl.zone"
}

# sink_by_id FILE - the sink's copy of the message saved in FILE (by its
# Message-ID), as the relay delivered it, in $W/tmp/sunk.eml
sink_by_id() {
	local id f
	id=$(sed -n 's/^Message-ID: //p' "$1" | tr -d '\r')
	[[ -n $id ]] || world_fail "no Message-ID in $1"
	world_wait "$WORLD_WAIT" _sink_has_id "$id" ||
		world_fail "the sink did not get $id"
	f=$(world_sink_find "$id")
	world_sink_message "$f" >"$W/tmp/sunk.eml"
	world_sink_message "$f" --envelope >"$W/tmp/sunk.env"
}

# _sink_has_id ID - true once a complete sink message carries ID
_sink_has_id() {
	[[ -n $(world_sink_find "$1") ]]
}

# test_send - --send through the relay Postfix's sendmail to the sink.
test_send() {
	world_step "--send: through the relay's sendmail to the sink"
	world_sink_start
	world_relaygate_start
	world_postfix_start relay
	printf '#!/bin/sh\nexec /usr/sbin/sendmail -C %s "$@"\n' "$W/relay" \
		>"$W/tmp/sendmail"
	chmod 0755 "$W/tmp/sendmail"
	ctl send probe --json good.test --send rcpt@sink.test \
		--sendmail "$W/tmp/sendmail" --save "$W/tmp/sent.eml"
	assert_rc 0 "probe --send"
	"$WORLD_PY" - "$CTL_OUT" "$W/tmp/sendmail" <<'EOF' || world_fail "--send JSON"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["sent"] == {"to": "rcpt@sink.test", "sendmail": sys.argv[2],
                     "ok": True, "error": None}, d["sent"]
assert (d["to"], d["status"], d["exit"]) == ("rcpt@sink.test", "pass", 0), d
EOF
	sink_by_id "$W/tmp/sent.eml"
	assert_eq "DKIM pass d=good.test s=prezent-a a=rsa-sha256" \
		"$(dkim_verify "$W/tmp/sunk.eml")" "python3-dkim on the delivered message"
	assert_grep "$W/tmp/sunk.env" '^mail <postmaster@good\.test>'
	assert_grep "$W/tmp/sunk.env" '^rcpt <rcpt@sink\.test>'
	assert_grep "$W/tmp/sunk.eml" '^To: rcpt@sink\.test'

	world_step "--send with relaygate on local submission too: two valid signatures"
	world_postconf relay "non_smtpd_milters = unix:$WORLD_MILTER_SOCKET"
	ctl send2 probe good.test --send rcpt@sink.test \
		--sendmail "$W/tmp/sendmail" --save "$W/tmp/sent2.eml"
	assert_rc 0 "probe --send through the milter"
	assert_grep "$CTL_OUT" '^  sent       ok         to rcpt@sink\.test through '
	sink_by_id "$W/tmp/sent2.eml"
	assert_eq "$(printf 'DKIM pass d=good.test s=prezent-a a=rsa-sha256\n%.0s' 1 2)" \
		"$(dkim_verify "$W/tmp/sunk.eml")" "python3-dkim on the twice-signed message"
	world_postconf relay "non_smtpd_milters ="

	world_step "--send: sendmail fails, or the relay would refuse: exit 2"
	ctl send-false probe --json good.test --send rcpt@sink.test --sendmail /bin/false
	assert_rc 2 "probe --send with a failing sendmail"
	"$WORLD_PY" - "$CTL_OUT" <<'EOF' || world_fail "failed --send JSON"
import json, sys
d = json.load(open(sys.argv[1]))
assert (d["status"], d["exit"], d["sent"]["ok"]) == ("pass", 2, False), d
assert d["sent"]["error"] == "/bin/false: exit status 1", d["sent"]
EOF
	ctl send-missing probe good.test --send rcpt@sink.test --sendmail "$W/nonexistent"
	assert_rc 2 "probe --send with a missing sendmail"
	assert_grep "$CTL_OUT" "^             reason     $W/nonexistent could not be run\$"
	local before
	before=$(world_sink_count)
	ctl send-slow probe slow.test --send rcpt@sink.test --sendmail "$W/tmp/sendmail"
	assert_rc 2 "probe slow.test --send"
	assert_grep "$CTL_OUT" '^  sent       failed     to rcpt@sink\.test'
	assert_grep "$CTL_OUT" '^             reason     not sent: the relay would refuse it$'
	assert_eq "$before" "$(world_sink_count)" "sink messages after a refused probe"
}

# test_sanitizers - a relaygatectl built with sanitizers reported nothing
# in any run (RELAYGATECTL_BIN may name such a build).
test_sanitizers() {
	! grep -lE 'ERROR: (Address|Leak)Sanitizer|runtime error:' \
		"$W"/tmp/*.err ||
		world_fail "relaygatectl's stderr holds a sanitizer report"
}

ctl_init
world_step "start DNS; render the test configuration"
world_dns_start
world_render "$WORLD_HOME/relaygate-test.conf" "$W/relaygate.conf"
test_zones
test_saved
test_options
test_provider
test_send
test_sanitizers
world_log "probe_cli: OK"
