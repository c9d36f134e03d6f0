#!/bin/bash
# check_cli.sh - "relaygatectl check" against the world's real DNS: every
# scenario zone of tests/world/zones in one concurrent run, as text and as
# JSON (parsed with python3), each record's status and code, the domain's
# state and exit status, the rotation line, and the zone-file fixes; the
# exit status of single domains (0, 1, 2) and of a list (the worst);
# -f FILE; --resolver; a key missing at the provider's own target (a fix
# for the provider, not the customer).  The expectations are derived from
# the zone files (see the table), not from the tool's output; a zone added
# without a row is still checked, by the rules every report must follow.
#
# Run as root: bash tests/e2e/check_cli.sh   (exit 0 = pass)
# RELAYGATECTL_BIN names the CLI under test; default: relaygatectl next to
# RELAYGATE_BIN, else the newest build/*/milter/relaygatectl.
set -euo pipefail
export WORLD_TIMEOUT=${WORLD_TIMEOUT:-240}
# shellcheck source-path=SCRIPTDIR source=../world/world.sh
. "$(dirname "$0")/../world/world.sh"
world_enter "$@"
# shellcheck source-path=SCRIPTDIR source=lib_ctl.sh
. "$(dirname "$0")/lib_ctl.sh"

# One row per zone: zone, state, exit status, then status:code of the SPF
# record, status:code of selector a's CNAME, status of its key, the same
# for selector b, status:code of DMARC, and rotation-ready (1/0).
# Statuses: ok, warning, fail, temporary.  How each follows from the zone:
# SPF passes with include:spf.dmrmail.nl (ok), passes by the relay's
# addresses alone (warning), DNS trouble (temporary), else fail; a CNAME
# through the configured target or a copied key (warning) or a timeout
# (temporary), else fail; a key is ok when it is ours; DMARC found is ok,
# none or invalid a warning.  The state is the milter's verdict; exit 0
# configured, 1 when some SPF/DKIM item fails for certain, else 2.
CHECK_ZONES=(
	"bare.test unconfigured 1 fail:none fail:missing fail fail:missing fail warning:none 0"
	"dkim-chain.test configured 0 ok:pass ok:delegated ok ok:delegated ok warning:none 1"
	"dkim-copied.test partial 1 ok:pass warning:copied ok warning:copied ok warning:none 0"
	"dkim-dangling.test partial 1 ok:pass fail:dangling fail fail:dangling fail warning:none 0"
	"dkim-key-mismatch.test partial 1 ok:pass fail:key_mismatch fail fail:key_mismatch fail warning:none 0"
	"dkim-loop.test partial 1 ok:pass fail:cname_loop fail fail:cname_loop fail warning:none 0"
	"dkim-malformed.test partial 1 ok:pass fail:malformed fail fail:malformed fail warning:none 0"
	"dkim-missing.test partial 1 ok:pass fail:missing fail fail:missing fail warning:none 0"
	"dkim-revoked.test partial 1 ok:pass fail:revoked fail fail:revoked fail warning:none 0"
	"dkim-temperror.test partial 2 ok:pass temporary:temperror temporary ok:delegated ok warning:none 0"
	"dkim-two-records.test partial 1 ok:pass fail:malformed fail fail:malformed fail warning:none 0"
	"dkim-wrong-target.test partial 1 ok:pass fail:wrong_target fail fail:wrong_target fail warning:none 0"
	"dmarc-fallback.test configured 0 ok:pass ok:delegated ok ok:delegated ok ok:found 1"
	"dmarc-idn.test configured 0 ok:pass ok:delegated ok ok:delegated ok ok:found 1"
	"dmarc-invalid.test configured 0 ok:pass ok:delegated ok ok:delegated ok warning:invalid 1"
	"dmarc-nearmiss.test configured 0 ok:pass ok:delegated ok ok:delegated ok warning:none 1"
	"dmarc-none.test configured 0 ok:pass ok:delegated ok ok:delegated ok warning:none 1"
	"dmarc-strict.test configured 0 ok:pass ok:delegated ok ok:delegated ok ok:found 1"
	"dmarc-subonly.test configured 0 ok:pass ok:delegated ok ok:delegated ok ok:found 1"
	"dmarc-temperror.test configured 0 ok:pass ok:delegated ok ok:delegated ok temporary:temperror 1"
	"dmarc-two.test configured 0 ok:pass ok:delegated ok ok:delegated ok warning:invalid 1"
	"dmrmail.nl unconfigured 1 fail:none fail:missing fail fail:missing fail warning:none 0"
	"dual.test configured 0 ok:pass ok:delegated ok ok:delegated ok warning:none 1"
	"dns-chain.test unconfigured 1 fail:none fail:missing fail fail:missing fail warning:none 0"
	"dns-fail.test unconfigured 1 fail:none fail:missing fail fail:missing fail warning:none 0"
	"dns-hop.test unconfigured 1 fail:none fail:missing fail fail:missing fail warning:none 0"
	"dns-rec.test partial 1 ok:pass fail:missing fail fail:missing fail warning:none 0"
	"good.test configured 0 ok:pass ok:delegated ok ok:delegated ok ok:found 1"
	"nodkim.test partial 1 ok:pass fail:missing fail fail:missing fail warning:none 0"
	"nospf.test partial 1 fail:none ok:delegated ok ok:delegated ok warning:none 1"
	"onlyb.test partial 1 ok:pass fail:missing fail ok:delegated ok warning:none 0"
	"prezent.nl unconfigured 1 fail:none fail:missing fail fail:missing fail warning:none 0"
	"spf-fail.test unconfigured 1 fail:fail fail:missing fail fail:missing fail warning:none 0"
	"spf-hostile-include.test unconfigured 1 fail:permerror fail:missing fail fail:missing fail warning:none 0"
	"spf-hostile.test unconfigured 1 fail:permerror fail:missing fail fail:missing fail warning:none 0"
	"spf-multiple.test unconfigured 1 fail:permerror fail:missing fail fail:missing fail warning:none 0"
	"spf-neutral.test unconfigured 1 fail:neutral fail:missing fail fail:missing fail warning:none 0"
	"spf-pass-ip4.test partial 1 warning:pass fail:missing fail fail:missing fail warning:none 0"
	"spf-pass-redirect.test partial 1 ok:pass fail:missing fail fail:missing fail warning:none 0"
	"spf-permerror-lookups.test unconfigured 1 fail:permerror fail:missing fail fail:missing fail warning:none 0"
	"spf-softfail.test unconfigured 1 fail:softfail fail:missing fail fail:missing fail warning:none 0"
	"spf-tempfail-include.test temporary 1 temporary:temperror fail:missing fail fail:missing fail warning:none 0"
	"spf-void.test unconfigured 1 fail:permerror fail:missing fail fail:missing fail warning:none 0"
)

# The fix lines (text output: the line after "fix" or its continuation;
# JSON: one element of "fix"), per domain, written out from the zones.
CHECK_FIXES=(
	'spf-fail.test|spf-fail.test. IN TXT "v=spf1 a mx include:spf.dmrmail.nl -all"'
	'spf-softfail.test|spf-softfail.test. IN TXT "v=spf1 mx include:spf.dmrmail.nl ~all"'
	'spf-neutral.test|spf-neutral.test. IN TXT "v=spf1 a include:spf.dmrmail.nl ?all"'
	'nospf.test|nospf.test. IN TXT "v=spf1 include:spf.dmrmail.nl ~all"'
	'bare.test|bare.test. IN TXT "v=spf1 include:spf.dmrmail.nl ~all"'
	'spf-pass-ip4.test|spf-pass-ip4.test. IN TXT "v=spf1 ip4:192.0.2.25 ip6:2001:db8::25 include:spf.dmrmail.nl -all"'
	'spf-multiple.test|; delete every other SPF record at spf-multiple.test: only one may exist'
	'spf-void.test|; the record has include:spf.dmrmail.nl, but: spf=permerror (3 void lookups, limit 2 '
	'spf-permerror-lookups.test|; this record needs at least 11 DNS lookups, receivers allow 10: '
	"spf-hostile.test|; the record does not parse (term 2 'exists:%{d}%{d}"
	'nodkim.test|prezent-a._domainkey.nodkim.test. IN CNAME _dkim-a.prezent.nl.'
	'nodkim.test|prezent-b._domainkey.nodkim.test. IN CNAME _dkim-b.prezent.nl.'
	'dkim-copied.test|; remove the TXT record(s) at prezent-a._domainkey.dkim-copied.test, then:'
	'dkim-copied.test|prezent-a._domainkey.dkim-copied.test. IN CNAME _dkim-a.prezent.nl.'
	'dkim-wrong-target.test|; replace the CNAME at prezent-b._domainkey.dkim-wrong-target.test by:'
	'dkim-wrong-target.test|prezent-b._domainkey.dkim-wrong-target.test. IN CNAME _dkim-b.prezent.nl.'
	'dkim-loop.test|; replace the CNAME at prezent-a._domainkey.dkim-loop.test by:'
	'dmarc-none.test|_dmarc.dmarc-none.test. IN TXT "v=DMARC1; p=none"'
	'dmarc-two.test|; publish exactly one valid record, for example:'
)

# scenario_zones - the zones of tests/world/zones, sorted.
scenario_zones() {
	find "$WORLD_HOME/zones" -name '*.zone' -printf '%f\n' |
		sed 's/\.zone$//' | sort
}

# test_table - every row is a scenario zone; zones added since the table
# was written are checked with the general rules only (and named).
test_table() {
	world_step "the table's zones exist; the zones without a row"
	local z all
	all=$(scenario_zones)
	for z in $(printf '%s\n' "${CHECK_ZONES[@]}" | cut -d' ' -f1); do
		grep -qxF "$z" <<<"$all" ||
			world_fail "check_cli.sh's table names a zone that does" \
				"not exist: $z"
	done
	for z in $all; do
		printf '%s\n' "${CHECK_ZONES[@]}" | grep -q "^$z " ||
			world_log "zone $z has no row: general rules only"
	done
}

# verify FORMAT FILE EXIT - the python checks of one run's output against
# the table (FORMAT text or json; EXIT the run's exit status).
verify() {
	printf '%s\n' "${CHECK_ZONES[@]}" >"$W/tmp/zones.txt"
	printf '%s\n' "${CHECK_FIXES[@]}" >"$W/tmp/fixes.txt"
	scenario_zones >"$W/tmp/order.txt"
	"$WORLD_PY" - "$1" "$2" "$3" "$W/tmp/zones.txt" "$W/tmp/fixes.txt" \
		"$W/tmp/order.txt" <<'EOF' || world_fail "check $1 output: see above"
import json, re, sys

fmt, path, rc, zones_path, fixes_path, order_path = sys.argv[1:7]
order = [l.strip() for l in open(order_path) if l.strip()]
table = {l.split()[0]: l.split() for l in open(zones_path) if l.strip()}
rows = [table[z] for z in order if z in table]
STATES = ("configured", "partial", "unconfigured", "temporary")
STATUSES = ("ok", "warning", "fail", "temporary")
fixes = [l.rstrip("\n").split("|", 1) for l in open(fixes_path) if l.strip()]
text = open(path).read()
bad = []

def want_items(row):
    """(part, status, code) for the six records, in report order."""
    spf, da, ka, db, kb, dm = row[3:9]
    s = lambda x: x.split(":") if ":" in x else [x, None]
    return [("spf", *s(spf)), ("dkim", *s(da)), ("key", ka, None),
            ("dkim", *s(db)), ("key", kb, None), ("dmarc", *s(dm))]

def check_json():
    doc = json.loads(text)
    if doc.get("schema") != "relaygate-check/1":
        bad.append("schema %r" % doc.get("schema"))
    got = {d["domain"]: d for d in doc["domains"]}
    exits = {z: int(table[z][2]) if z in table else got.get(z, {}).get("exit")
             for z in order}
    for z in order:
        d = got.get(z)
        if z in table or d is None:
            continue
        # a zone without a row: the general rules
        if d["state"] not in STATES or (d["exit"] == 0) != (d["state"] == "configured"):
            bad.append("%s: state %s exit %s" % (z, d["state"], d["exit"]))
        if [r["part"] for r in d["records"]] != ["spf", "dkim", "key", "dkim", "key", "dmarc"] \
                or any(r["status"] not in STATUSES for r in d["records"]):
            bad.append("%s: records %r" % (z, d["records"]))
    for row in rows:
        d = got.get(row[0])
        if d is None:
            bad.append("%s: missing" % row[0]); continue
        if (d["state"], d["exit"]) != (row[1], int(row[2])):
            bad.append("%s: state %s exit %s" % (row[0], d["state"], d["exit"]))
        if d["rotation_ready"] != (row[9] == "1"):
            bad.append("%s: rotation_ready %s" % (row[0], d["rotation_ready"]))
        items = [(r["part"], r["status"], r["code"]) for r in d["records"]]
        for (p, st, code), (gp, gst, gcode) in zip(want_items(row), items):
            if p != gp or st != gst or (code and code != gcode):
                bad.append("%s: %s %s:%s, want %s:%s" % (row[0], p, gst, gcode, st, code))
        if len(items) != 6:
            bad.append("%s: %d records" % (row[0], len(items)))
        for r in d["records"]:
            for k in ("part", "selector", "name", "type", "status", "code",
                      "expected", "found", "detail", "fix", "fix_by"):
                if k not in r:
                    bad.append("%s: record lacks %s" % (row[0], k))
            # a fix exactly where something must change; a key the
            # customer's CNAME does not reach is fixed by that CNAME
            need = r["status"] in ("warning", "fail")
            if r["part"] == "key":
                need = r["fix_by"] == "provider"
            if need != (r["fix"] != []):
                bad.append("%s: %s %s with fix %r" % (row[0], r["part"], r["status"], r["fix"]))
    for dom, line in fixes:
        if dom in got and not any(f.startswith(line) for r in got[dom]["records"] for f in r["fix"]):
            bad.append("%s: no fix %r" % (dom, line))
    # the SPF merge counts the include targets' lookups: spf-fail.test's
    # "a mx" cost 2, ours 1 more; good.test's mx, a and include cost 3
    m = got["spf-fail.test"]["spf"]["merge"]
    if (m["action"], m["lookups"], m["lookups_exact"], m["over_limit"]) != ("add", 3, True, False):
        bad.append("spf-fail.test merge %r" % m)
    g = got["good.test"]["spf"]
    if (g["lookups"], g["merge"]["action"], g["record"]) != (3, "keep", "v=spf1 +mx +a include:spf.dmrmail.nl -all"):
        bad.append("good.test spf %r" % g)
    if [a["address"] for a in g["addresses"]] != ["192.0.2.25", "2001:db8::25"]:
        bad.append("good.test addresses %r" % g["addresses"])
    inv = got.get("bad..name")
    if inv is None or (inv["state"], inv["exit"], inv["spf"], inv["records"]) != ("invalid", 2, None, []) or not inv["error"]:
        bad.append("bad..name: %r" % inv)
    s = doc["summary"]
    want = {"domains": len(order) + 1, "invalid": 1, "exit": int(rc),
            "configured": sum(e == 0 for e in exits.values()),
            "misconfigured": sum(e == 1 for e in exits.values()),
            "temporary": sum(e == 2 for e in exits.values())}
    if s != want:
        bad.append("summary %r, want %r" % (s, want))
    if [d["domain"] for d in doc["domains"]] != order + ["bad..name"]:
        bad.append("domains not in the order given")

def check_text():
    blocks = {}
    for b in text.strip("\n").split("\n\n"):
        head = b.split("\n", 1)[0]
        blocks[head.split(":", 1)[0]] = b
    item = re.compile(r"^  (spf|dkim|key|dmarc) +(ok|warning|fail|temporary) +(\S+) (TXT|CNAME)( \((\S+)\))?$")
    for z in order:
        b = blocks.get(z)
        if b is None:
            bad.append("%s: no block" % z)
        elif z not in table:
            head = b.split("\n", 1)[0]
            parts = [m.group(1) for m in map(item.match, b.split("\n")) if m]
            if head not in ["%s: %s" % (z, st) for st in STATES] or \
                    parts != ["spf", "dkim", "key", "dkim", "key", "dmarc"]:
                bad.append("%s: %r" % (z, b[:300]))
    for row in rows:
        b = blocks.get(row[0])
        if b is None:
            bad.append("%s: no block" % row[0]); continue
        if b.split("\n", 1)[0] != "%s: %s" % (row[0], row[1]):
            bad.append("%s: head %r" % (row[0], b.split("\n", 1)[0]))
        got = [(m.group(1), m.group(2)) for m in map(item.match, b.split("\n")) if m]
        if got != [(p, s) for p, s, _ in want_items(row)]:
            bad.append("%s: items %r" % (row[0], got))
        rot = re.search(r"^  rotation   (.*)$", b, re.M)
        if not rot or rot.group(1).startswith("ready") != (row[9] == "1"):
            bad.append("%s: rotation %r" % (row[0], rot and rot.group(1)))
        if not re.search(r"^  checked in \d+ ms$", b, re.M):
            bad.append("%s: no duration" % row[0])
    for dom, line in fixes:
        b = blocks.get(dom, "")
        if not re.search(r"^             (fix(?: \(ours\))? +| {11})" + re.escape(line), b, re.M):
            bad.append("%s: no fix line %r" % (dom, line))
    if not re.search(r"^bad\.\.name: invalid: ", text, re.M):
        bad.append("no line for bad..name")
    if len(rows) == len(order):
        want = "%d domains: %d configured, %d not configured, %d temporarily unknown, 1 invalid" % (
            len(rows) + 1, sum(r[2] == "0" for r in rows), sum(r[2] == "1" for r in rows),
            sum(r[2] == "2" for r in rows))
    else:
        want = "%d domains: " % (len(order) + 1)
    last = text.rstrip("\n").rsplit("\n", 1)[-1]
    if not last.startswith(want) or not last.endswith(", 1 invalid"):
        bad.append("summary line %r, want %r" % (last, want))

check_json() if fmt == "json" else check_text()
for b in bad:
    print("check_cli:", b)
sys.exit(1 if bad else 0)
EOF
}

# test_all_zones - every zone at once, text and JSON.
test_all_zones() {
	local zones
	mapfile -t zones < <(scenario_zones)
	world_step "check: ${#zones[@]} zones and a bad name, as text (-j 8)"
	ctl all-text check -j 8 "${zones[@]}" bad..name
	assert_rc 2 "check of every zone (dkim-temperror.test is unknown)"
	verify text "$CTL_OUT" "$CTL_RC"
	world_step "check --json: the same, parsed"
	ctl all-json check --json -j 8 "${zones[@]}" bad..name
	assert_rc 2 "check --json of every zone"
	verify json "$CTL_OUT" "$CTL_RC"
	world_step "check -f FILE: the same domains from a file, one thread"
	{
		echo "# scenario zones"
		printf '%s\n' "${zones[@]}" | sed 's/^/  /'
		echo
		echo "bad..name   # not a domain"
	} >"$W/tmp/domains.txt"
	ctl file-json check --json -j 1 -f "$W/tmp/domains.txt"
	assert_rc 2 "check -f"
	verify json "$CTL_OUT" "$CTL_RC"
}

# test_exit_status - 0, 1 and 2 for one domain; the worst of several.
test_exit_status() {
	world_step "exit status: configured 0, misconfigured 1, unknown 2"
	ctl one-good check good.test
	assert_rc 0 "check good.test"
	ctl one-bad check spf-fail.test
	assert_rc 1 "check spf-fail.test"
	ctl one-temp check dkim-temperror.test
	assert_rc 2 "check dkim-temperror.test"
	ctl one-invalid check bad..name
	assert_rc 2 "check bad..name"
	ctl two check good.test spf-fail.test
	assert_rc 1 "check of a configured and a misconfigured domain"
	ctl usage check
	assert_rc 2 "check without a domain"
	assert_grep "$CTL_ERR" '^usage: relaygatectl check '
	ctl usage-j check -j 0 good.test
	assert_rc 2 "check -j 0"
}

# test_resolver - --resolver replaces the configured resolver.
test_resolver() {
	world_step "--resolver: a dead configured resolver, a live one given"
	sed 's/source = "system";/source = "forwarders"; forwarders = [ "127.0.0.54" ];/' \
		"$W/relaygate.conf" >"$W/tmp/dead.conf"
	grep -q 127.0.0.54 "$W/tmp/dead.conf" || world_fail "dead.conf not made"
	CONF=$W/tmp/dead.conf ctl dead check good.test
	assert_rc 2 "check through a dead resolver"
	assert_grep "$CTL_OUT" '^good\.test: temporary$'
	CONF=$W/tmp/dead.conf ctl live check --resolver 127.0.0.1@53 good.test
	assert_rc 0 "check --resolver 127.0.0.1@53"
	assert_grep "$CTL_OUT" '^good\.test: configured$'
	ctl bad-resolver check --resolver 127.0.0.1@99999 good.test
	assert_rc 2 "check --resolver with a bad port"
	assert_grep "$CTL_ERR" "--resolver: '127\.0\.0\.1@99999' is not"
}

# test_provider_key - our key gone from our own target: the customer's
# CNAME is right, the key record is ours to publish.
test_provider_key() {
	world_step "the provider's key missing at _dkim-a.prezent.nl"
	sed '/^_dkim-a/d' "$WORLD_HOME/zones/prezent.nl.zone" >"$W/tmp/prezent.zone"
	world_zone_set prezent.nl "$W/tmp/prezent.zone"
	ctl provider check good.test
	assert_rc 1 "check with our key missing"
	assert_grep "$CTL_OUT" '^  dkim       ok         prezent-a\._domainkey\.good\.test CNAME \(prezent-a\)$'
	assert_grep "$CTL_OUT" '^  key        fail       _dkim-a\.prezent\.nl TXT \(prezent-a\)$'
	assert_grep "$CTL_OUT" '^             fix \(ours\) ; for the provider, not the customer: publish our key at _dkim-a\.prezent\.nl$'
	assert_grep "$CTL_OUT" '^             found      no key record at _dkim-a\.prezent\.nl$'
	grep -qxF "                        _dkim-a.prezent.nl. IN TXT ${WORLD_VARS[DKIM_A_RSA]}" \
		"$CTL_OUT" || world_fail "no record of our key equal to the" \
		"world's own: $(cat "$CTL_OUT")"
	ctl provider-json check --json good.test
	"$WORLD_PY" - "$CTL_OUT" <<'EOF' || world_fail "provider-side JSON"
import json, sys
d = json.load(open(sys.argv[1]))["domains"][0]
key = d["records"][2]
assert (key["part"], key["status"], key["code"], key["fix_by"]) == \
    ("key", "fail", "delegated_target_missing", "provider"), key
assert d["records"][1]["status"] == "ok", d["records"][1]
EOF
	world_zone_set prezent.nl "$WORLD_HOME/zones/prezent.nl.zone"
}

ctl_init
world_step "start DNS; render the test configuration"
world_dns_start
world_render "$WORLD_HOME/relaygate-test.conf" "$W/relaygate.conf"
test_table
test_all_zones
test_exit_status
test_resolver
test_provider_key
world_log "check_cli: OK"
