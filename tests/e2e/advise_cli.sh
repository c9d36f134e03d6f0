#!/bin/bash
# advise_cli.sh - "relaygatectl advise" against the world's real DNS, with
# the shipped templates (conf/advise): the SPF record to publish merged
# with the customer's (-all and ~all kept, redirect= kept after our
# include, an include of another host whose own terms push the merge over
# the 10-lookup limit), the CNAMEs, DMARC, "nothing to do", in English and
# in Dutch; the default language; and exit 2 for an unknown language, a
# broken template and an SPF record DNS cannot deliver.  Every expected
# record is written out here from the zone data.
#
# Run as root: bash tests/e2e/advise_cli.sh   (exit 0 = pass)
# RELAYGATECTL_BIN names the CLI under test; default: relaygatectl next to
# RELAYGATE_BIN, else the newest build/*/milter/relaygatectl.
set -euo pipefail
export WORLD_TIMEOUT=${WORLD_TIMEOUT:-180}
# shellcheck source-path=SCRIPTDIR source=../world/world.sh
. "$(dirname "$0")/../world/world.sh"
world_enter "$@"
# shellcheck source-path=SCRIPTDIR source=lib_ctl.sh
. "$(dirname "$0")/lib_ctl.sh"

# has TEXT... - the last output contains every TEXT as a whole line.
has() {
	local t
	for t in "$@"; do
		grep -qxF -- "$t" "$CTL_OUT" ||
			world_fail "advise: no line '$t' in: $(cat "$CTL_OUT")"
	done
}

# add_zones - two customer zones of this test: a redirect=, and another
# host's include with eight a: terms (its record costs 9 lookups, the
# domain's 10 with mx; ours makes 11).
add_zones() {
	cat >"$W/tmp/advise-redirect.zone" <<'EOF'
$TTL 300
@			A	192.0.2.120
@			MX	10 mail
mail			A	192.0.2.121
@			TXT	"v=spf1 mx redirect=_spf.advise-redirect.test"
_spf			TXT	"v=spf1 a -all"
prezent-a._domainkey	CNAME	_dkim-a.prezent.nl.
prezent-b._domainkey	CNAME	_dkim-b.prezent.nl.
EOF
	{
		# shellcheck disable=SC2016  # $TTL is a zone-file directive
		printf '$TTL 300\n@\tMX\t10 mail\nmail\tA\t192.0.2.122\n'
		printf '@\tTXT\t"v=spf1 include:hoster.advise-limit.test mx -all"\n'
		printf 'hoster\tTXT\t"v=spf1'
		for i in 1 2 3 4 5 6 7 8; do
			printf ' a:h%s.advise-limit.test' "$i"
		done
		printf ' -all"\n'
		for i in 1 2 3 4 5 6 7 8; do
			printf 'h%s\tA\t192.0.2.%s\n' "$i" $((130 + i))
		done
	} >"$W/tmp/advise-limit.zone"
	world_zone_set advise-redirect.test "$W/tmp/advise-redirect.zone"
	world_zone_set advise-limit.test "$W/tmp/advise-limit.zone"
}

# test_english - -all, ~all, a new record, nothing to do.
test_english() {
	world_step "advise --lang en: ~all kept, our include before it"
	ctl softfail advise spf-softfail.test --lang en
	assert_rc 0 "advise spf-softfail.test"
	has "Subject: DNS records for e-mail from spf-softfail.test" \
		"    v=spf1 mx ~all" \
		'    spf-softfail.test. IN TXT "v=spf1 mx include:spf.dmrmail.nl ~all"' \
		"has and only adds include:spf.dmrmail.nl before \"~all\":" \
		"    prezent-a._domainkey.spf-softfail.test. IN CNAME _dkim-a.prezent.nl." \
		"    prezent-b._domainkey.spf-softfail.test. IN CNAME _dkim-b.prezent.nl." \
		'    _dmarc.spf-softfail.test. IN TXT "v=DMARC1; p=none"'
	assert_no_grep "$CTL_OUT" '\{\{|\}\}'

	world_step "advise --lang en: no SPF record yet, DKIM in place"
	ctl nospf advise nospf.test --lang en
	assert_rc 0 "advise nospf.test"
	has "nospf.test has no SPF record yet. Please publish this record:" \
		'    nospf.test. IN TXT "v=spf1 include:spf.dmrmail.nl ~all"' \
		"The DKIM records (prezent-a, prezent-b) are in place: no change is needed."
	assert_no_grep "$CTL_OUT" 'IN CNAME'

	world_step "advise --lang en: everything in place"
	ctl good-en advise good.test --lang en
	assert_rc 0 "advise good.test"
	has "We have checked the DNS of good.test: everything is in place. Thank you;" \
		"good.test has a DMARC record (policy quarantine). Our signatures"
	assert_no_grep "$CTL_OUT" '^1\. SPF|IN TXT|IN CNAME'
}

# test_dutch - -all kept; redirect=; over the limit; the default language.
test_dutch() {
	world_step "advise --lang nl: -all kept, our include before it"
	ctl fail-nl advise spf-fail.test --lang nl
	assert_rc 0 "advise spf-fail.test --lang nl"
	has "Onderwerp: DNS-records voor e-mail van spf-fail.test" \
		'    spf-fail.test. IN TXT "v=spf1 a mx include:spf.dmrmail.nl -all"' \
		"blijft behouden; alleen include:spf.dmrmail.nl komt erbij, vóór \"-all\":" \
		"    prezent-b._domainkey.spf-fail.test. IN CNAME _dkim-b.prezent.nl."

	world_step "advise (nl, the default): redirect= kept after our include"
	ctl redirect advise advise-redirect.test
	assert_rc 0 "advise advise-redirect.test"
	has "    v=spf1 mx redirect=_spf.advise-redirect.test" \
		'    advise-redirect.test. IN TXT "v=spf1 mx include:spf.dmrmail.nl redirect=_spf.advise-redirect.test"' \
		"Uw record eindigt op een redirect=, die blijft staan: wat onze include"
	assert_no_grep "$CTL_OUT" 'vóór "'

	world_step "advise: another host's include; the merge needs 11 lookups"
	ctl limit-nl advise advise-limit.test --lang nl
	assert_rc 0 "advise advise-limit.test --lang nl"
	has '    advise-limit.test. IN TXT "v=spf1 include:hoster.advise-limit.test mx include:spf.dmrmail.nl -all"' \
		"Let op: ontvangers staan voor een SPF-record hoogstens 10"
	assert_grep "$CTL_OUT" '^DNS-opvragingen toe \(RFC 7208\), en dit record heeft er 11 nodig\.$'
	ctl limit-en advise advise-limit.test --lang en
	assert_rc 0 "advise advise-limit.test --lang en"
	has "(RFC 7208), and this record needs 11. Receivers then reject"
	ctl limit-json check --json advise-limit.test
	"$WORLD_PY" - "$CTL_OUT" <<'EOF' || world_fail "check --json of advise-limit.test"
import json, sys
m = json.load(open(sys.argv[1]))["domains"][0]["spf"]["merge"]
want = {"action": "add", "lookups": 11, "lookups_exact": True,
        "over_limit": True}
assert {k: m[k] for k in want} == want, m
assert "over-limit" in m["notes"], m
EOF
}

# test_errors - what keeps the message from being written: exit 2.
test_errors() {
	world_step "advise: unknown language, bad name, broken template"
	ctl lang advise good.test --lang fr
	assert_rc 2 "advise --lang fr"
	assert_grep "$CTL_ERR" "conf/advise/fr\.txt: No such file"
	ctl lang-path advise good.test --lang ../x
	assert_rc 2 "advise --lang ../x"
	assert_grep "$CTL_ERR" "is not a language name"
	ctl usage advise
	assert_rc 2 "advise without a domain"
	assert_grep "$CTL_ERR" '^usage: relaygatectl advise DOMAIN'
	mkdir -p "$W/tmp/tpl"
	printf 'Dear {{domain}},\n{{#spf_chnage}}x{{/spf_chnage}}\n' \
		>"$W/tmp/tpl/en.txt"
	sed "s|templates = \"[^\"]*\";|templates = \"$W/tmp/tpl\";|" \
		"$W/relaygate.conf" >"$W/tmp/tpl.conf"
	CONF=$W/tmp/tpl.conf ctl broken advise good.test --lang en
	assert_rc 2 "advise with a broken template"
	assert_grep "$CTL_ERR" "tpl/en\.txt: line 2: unknown variable 'spf_chnage'$"

	world_step "advise: the SPF record cannot be fetched (timeout): exit 2"
	ctl slow advise customer.slow.test --lang en
	assert_rc 2 "advise of a domain whose DNS times out"
	assert_grep "$CTL_ERR" 'the SPF record cannot be fetched now'
	[[ ! -s $CTL_OUT ]] || world_fail "advise wrote a message: $(cat "$CTL_OUT")"
}

ctl_init
world_step "start DNS; the test configuration with the shipped templates"
world_dns_start
world_render "$WORLD_HOME/relaygate-test.conf" "$W/relaygate.conf"
printf 'advise: {\n\ttemplates = "%s";\n\tlanguage = "nl";\n};\n' \
	"$WORLD_REPO/conf/advise" >>"$W/relaygate.conf"
add_zones
test_english
test_dutch
test_errors
world_log "advise_cli: OK"
