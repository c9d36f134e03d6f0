#!/bin/bash
# dkim_check.sh - "relaygatectl keys" against the world's DNS: both
# selectors' keys are published at their targets (exit 0; fingerprints and
# the zone-file records checked against openssl and the world's own
# records); when the provider's zone loses a key, publishes another one or
# times out, the report says so, the signing selector falls back, and the
# exit status is 1 or 2; key file problems are exit 2; "keygen" writes a
# key relaygate can read and refuses to overwrite.  Also checks that the
# customer zones tests/world/zones/dkim-*.test.zone give the DNS answers
# their dkim_check states are classified from (table below).
#
# Run as root: bash tests/e2e/dkim_check.sh   (exit 0 = pass)
# RELAYGATECTL_BIN names the CLI under test; default: relaygatectl next to
# RELAYGATE_BIN, else the newest build/*/milter/relaygatectl.
set -euo pipefail
export WORLD_TIMEOUT=${WORLD_TIMEOUT:-90}
# shellcheck source-path=SCRIPTDIR source=../world/world.sh
. "$(dirname "$0")/../world/world.sh"
# shellcheck source-path=SCRIPTDIR source=lib_ctl.sh
. "$(dirname "$0")/lib_ctl.sh"
world_enter "$@"

# The customer zones: zone, selector, the state dkim_check gives, and what
# the world's resolver answers for <selector>._domainkey.<zone> TXT (an
# ERE over py/dnsq.py's output joined with '|').
DKIM_ZONES=(
	"dkim-copied.test prezent-a copied ^STATUS NOERROR\|TXT [^|]* v=DKIM1; k=rsa; p="
	"dkim-copied.test prezent-b copied ^STATUS NOERROR\|TXT [^|]* v=DKIM1; k=rsa; p="
	"dkim-wrong-target.test prezent-a wrong_target ^STATUS NOERROR\|CNAME [^|]* _dkim-b\.prezent\.nl\.\|TXT "
	"dkim-wrong-target.test prezent-b wrong_target ^STATUS NOERROR\|CNAME [^|]* dkim\.oldhost\.dkim-wrong-target\.test\.\|TXT "
	"dkim-key-mismatch.test prezent-a key_mismatch ^STATUS NOERROR\|TXT [^|]* v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAqqQp77Vn"
	"dkim-key-mismatch.test prezent-b key_mismatch ^STATUS NOERROR\|TXT [^|]* v=DKIM1; k=rsa; p="
	"dkim-missing.test prezent-a missing ^STATUS NXDOMAIN\|$"
	"dkim-missing.test prezent-b missing ^STATUS NODATA\|$"
	"dkim-dangling.test prezent-a dangling ^STATUS NXDOMAIN\|$"
	"dkim-dangling.test prezent-b dangling ^STATUS NODATA\|CNAME [^|]* prezent\.nl\.\|$"
	"dkim-loop.test prezent-a cname_loop ^STATUS SERVFAIL\|$"
	"dkim-loop.test prezent-b cname_loop ^STATUS SERVFAIL\|$"
	"dkim-revoked.test prezent-a revoked ^STATUS NOERROR\|TXT [^|]* v=DKIM1; p=\|$"
	"dkim-revoked.test prezent-b revoked ^STATUS NOERROR\|TXT [^|]* v=DKIM1; k=rsa; p=\|$"
	"dkim-malformed.test prezent-a malformed ^STATUS NOERROR\|TXT [^|]* v=DKIM1; k=rsa; p=[A-Za-z0-9+/]{237}\|$"
	"dkim-malformed.test prezent-b malformed ^STATUS NOERROR\|TXT [^|]* v=DKIM1; k=rsa\|$"
	"dkim-two-records.test prezent-a malformed ^STATUS NOERROR\|TXT [^|]*\|TXT [^|]*\|$"
	"dkim-two-records.test prezent-b malformed ^STATUS NOERROR\|TXT [^|]*\|TXT [^|]*\|$"
	"dkim-chain.test prezent-a delegated ^STATUS NOERROR\|CNAME [^|]* dkim-a\.keys\.dkim-chain\.test\.\|CNAME [^|]* _dkim-a\.prezent\.nl\.\|TXT "
	"dkim-chain.test prezent-b delegated ^STATUS NOERROR\|CNAME [^|]* _dkim-b\.prezent\.nl\.\|TXT "
	"dkim-temperror.test prezent-a temperror ^STATUS TIMEOUT\|$"
	"dkim-temperror.test prezent-b delegated ^STATUS NOERROR\|CNAME [^|]* _dkim-b\.prezent\.nl\.\|TXT "
)

# fingerprint PEM - "SHA256:..." computed with openssl alone.
fingerprint() {
	printf 'SHA256:%s' "$(openssl pkey -in "$1" -pubout -outform DER |
		openssl dgst -sha256 -binary | base64 | tr -d '=')"
}

# quote TEXT - TEXT as an ERE matching itself.
quote() {
	# shellcheck disable=SC2001  # a class of characters, not one string
	sed 's/[][\\.*^$+?(){}|]/\\&/g' <<<"$1"
}

# provider_zone FILE SED-SCRIPT - the world's prezent.nl template, edited.
provider_zone() {
	sed "$2" "$WORLD_HOME/zones/prezent.nl.zone" >"$1"
}

# test_published - both keys published: exit 0, every line checked.
test_published() {
	world_step "keys: both selectors' keys are published"
	ctl keys keys
	assert_rc 0 "relaygatectl keys"
	local sel letter
	for sel in prezent-a prezent-b; do
		letter=${sel: -1}
		assert_grep "$CTL_OUT" "^selector $sel" "keys output"
		assert_grep "$CTL_OUT" \
			"^  fingerprint:  $(quote "$(fingerprint "$W/keys/$sel.rsa.pem")")$" \
			"fingerprint of $sel"
		assert_grep "$CTL_OUT" "^  algorithm:    rsa, 2048 bits$"
		assert_grep "$CTL_OUT" \
			"^  in DNS:       published at _dkim-$letter\.prezent\.nl \(TTL [0-9]+\)$" \
			"DNS state of $sel"
		grep -qxF "_dkim-$letter.prezent.nl. IN TXT ( ${WORLD_VARS[DKIM_${letter^^}_RSA]} )" \
			"$CTL_OUT" || world_fail "keys: no zone-file record" \
			"for $sel equal to the world's own: $(cat "$CTL_OUT")"
	done
	assert_grep "$CTL_OUT" '^selector prezent-a \(active\)$'
	assert_grep "$CTL_OUT" '^signing with:   prezent-a \(the active selector'
	assert_grep "$CTL_OUT" '^All 2 selector keys are published\.$'
	[[ ! -s $CTL_ERR ]] || world_fail "keys wrote to stderr: $(<"$CTL_ERR")"
	ctl keys-nodns keys --no-dns
	assert_rc 0 "relaygatectl keys --no-dns"
	assert_grep "$CTL_OUT" '^  in DNS:       not checked \(--no-dns\)$'
	ctl keys-usage keys --bogus
	assert_rc 2 "relaygatectl keys --bogus"
}

# test_not_published - the provider's zone lost key a: exit 1, fallback.
test_not_published() {
	world_step "keys: _dkim-a.prezent.nl gone: exit 1, signing falls back"
	provider_zone "$W/tmp/prezent-noa.zone" '/^_dkim-a/d'
	world_zone_set prezent.nl "$W/tmp/prezent-noa.zone"
	ctl keys-noa keys
	assert_rc 1 "keys without _dkim-a"
	assert_grep "$CTL_OUT" \
		'^  in DNS:       NOT PUBLISHED: _dkim-a\.prezent\.nl does not exist \(NXDOMAIN\)$'
	assert_grep "$CTL_OUT" \
		'^  in DNS:       published at _dkim-b\.prezent\.nl'
	assert_grep "$CTL_OUT" \
		'^signing with:   prezent-b, NOT the active selector prezent-a'
	assert_grep "$CTL_OUT" '^Not published: 1 of 2 selector keys\.'

	world_step "keys: _dkim-a.prezent.nl publishes b's key: exit 1"
	provider_zone "$W/tmp/prezent-swap.zone" \
		's/^_dkim-a\([[:space:]]*TXT[[:space:]]*\)@DKIM_A_RSA@/_dkim-a\1@DKIM_B_RSA@/'
	world_zone_set prezent.nl "$W/tmp/prezent-swap.zone"
	ctl keys-swap keys
	assert_rc 1 "keys with b's key at _dkim-a"
	assert_grep "$CTL_OUT" \
		"^  in DNS:       NOT PUBLISHED: _dkim-a\.prezent\.nl has a key that is not ours: .*$(quote "$(fingerprint "$W/keys/prezent-b.rsa.pem")")"
}

# test_temperror - a target that times out: exit 2, never "not published".
test_temperror() {
	world_step "keys: _dkim-b.prezent.nl times out: exit 2"
	provider_zone "$W/tmp/prezent-slow.zone" \
		's/^_dkim-b[[:space:]].*/_dkim-b CNAME prezent-b.slow.test./'
	world_zone_set prezent.nl "$W/tmp/prezent-slow.zone"
	ctl keys-slow keys
	assert_rc 2 "keys with a target that times out"
	assert_grep "$CTL_OUT" '^  in DNS:       UNKNOWN, DNS failure: '
	assert_no_grep "$CTL_OUT" 'NOT PUBLISHED'
	assert_grep "$CTL_OUT" '^signing with:   prezent-a \(the active selector'
	world_step "keys: the provider's zone restored: exit 0"
	world_zone_set prezent.nl "$WORLD_HOME/zones/prezent.nl.zone"
	ctl keys-back keys
	assert_rc 0 "keys after the zone is restored"
}

# test_key_files - a key relaygate would refuse: exit 2, reason shown.
test_key_files() {
	world_step "keys: an unsafe key file is exit 2 with the reason"
	chmod 0644 "$W/keys/prezent-b.rsa.pem"
	ctl keys-mode keys --no-dns
	chmod 0600 "$W/keys/prezent-b.rsa.pem"
	assert_rc 2 "keys with a key of mode 0644"
	assert_grep "$CTL_ERR" \
		'^relaygatectl: selector prezent-b: .*prezent-b\.rsa\.pem: unsafe key file: mode 0644'
	assert_grep "$CTL_OUT" '^  key:          cannot be loaded'
}

# test_keygen - a new key: readable by relaygate, record printed, no
# overwrite without --force.
test_keygen() {
	world_step "keygen: a new key for prezent-b, then refusal and --force"
	local new="$W/keys/new-b.pem"
	ctl keygen keygen prezent-b --out "$new"
	assert_rc 0 "keygen prezent-b --out"
	assert_eq "600 nobody" "$(stat -c '%a %U' "$new")" "new key's mode, owner"
	assert_grep "$CTL_OUT" "^fingerprint: $(quote "$(fingerprint "$new")")$"
	assert_grep "$CTL_OUT" \
		'^_dkim-b\.prezent\.nl\. IN TXT \( "v=DKIM1; k=rsa; p=MII[^"]*" "[^"]*" \)$'
	ctl keygen-again keygen prezent-b --out "$new"
	assert_rc 1 "keygen over an existing key"
	assert_grep "$CTL_ERR" 'exists; refusing to overwrite a key \(use --force'
	ctl keygen-force keygen prezent-b --out "$new" --type ed25519 --force
	assert_rc 0 "keygen --force"
	assert_grep "$CTL_OUT" '^_dkim-b\.prezent\.nl\. IN TXT \( "v=DKIM1; k=ed25519; p=[A-Za-z0-9+/]{43}=" \)$'
	ctl keygen-bad keygen prezent-x
	assert_rc 2 "keygen of an unknown selector"
}

# test_customer_zones - the DNS answers behind each customer state.
test_customer_zones() {
	world_step "customer zones: the answers their states come from"
	local row zone sel state ere got
	for row in "${DKIM_ZONES[@]}"; do
		read -r zone sel state ere <<<"$row"
		got=$(world_dns_query -t 3 "$sel._domainkey.$zone" TXT |
			tr '\n' '|')
		[[ $got =~ $ere ]] || world_fail "$sel._domainkey.$zone" \
			"(expected state $state): answer '$got' does not match '$ere'"
	done
}

ctl_init
world_step "start DNS; render the test configuration"
world_dns_start
world_render "$WORLD_HOME/relaygate-test.conf" "$W/relaygate.conf"
test_published
test_key_files
test_keygen
test_not_published
test_temperror
test_customer_zones
