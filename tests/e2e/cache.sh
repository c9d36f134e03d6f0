#!/bin/bash
# cache.sh - the shared verdict cache end to end, through the real Postfix
# and relaygatectl: a domain is checked once, then served from the cache
# (the decision line's cache= field); "relaygatectl cache flush DOMAIN"
# makes the next message re-check; list, show and stats see what relaygate
# stored while it runs; a restarted relaygate serves from the table it left
# (cache=hit, counters go on); after a "reboot" (the segment gone) the
# state file (written periodically and at stop) brings back each domain's
# grace-period start and counters; a corrupt state file is reported and
# ignored.  relaygatectl check stores the verdicts it finds, so the next
# message of the domain is a cache hit.
#
# Run as root: bash tests/e2e/cache.sh   (exit 0 = pass)
# RELAYGATECTL_BIN names the CLI under test; default: relaygatectl next to
# RELAYGATE_BIN, else the newest build/*/milter/relaygatectl.
# shellcheck disable=SC2119  # world functions with optional arguments
set -euo pipefail
export WORLD_TIMEOUT=${WORLD_TIMEOUT:-180}
# shellcheck source-path=SCRIPTDIR source=../world/world.sh
. "$(dirname "$0")/../world/world.sh"
# shellcheck source-path=SCRIPTDIR source=lib_ctl.sh
. "$(dirname "$0")/lib_ctl.sh"
world_enter "$@"
ctl_init

log="$W/log/relaygate.log"
segment=/relaygate-e2e

# assert_ctl RC NAME ARGS... - run relaygatectl (lib_ctl.sh), expect RC
assert_ctl() {
	ctl "${@:2}"
	assert_rc "$1" "relaygatectl ${*:3}"
}

nlines=0
# send DOMAIN CACHE - a message from DOMAIN is accepted and delivered, and
# its decision line says where the verdict came from (cache=CACHE).
send() {
	local n line
	n=$(world_sink_count)
	world_smtp_send --from "alice@$1" --header-from "alice@$1"
	assert_smtp RESULT accepted
	world_sink_wait $((n + 1))
	nlines=$((nlines + 1))
	world_wait "$WORLD_WAIT" _decision_has "$nlines" ||
		world_fail "no decision line #$nlines in relaygate's log"
	line=$(grep 'event=message ' "$log" | sed -n "${nlines}p")
	[[ " $line " == *" from_domain=${1,,} "* && " $line " == *" cache=$2 "* ]] ||
		world_fail "decision line #$nlines: want $1 with cache=$2: $line"
}
_decision_has() { (($(grep -c 'event=message ' "$log") >= $1)); }

# reason_of N - the reason field of decision line N
reason_of() {
	grep 'event=message ' "$log" | sed -n "$1p" |
		sed -n 's/.* reason="\([^"]*\)".*/\1/p'
}

# stop - stop relaygate; it must exit cleanly (ASan: no leak, no error)
stop() {
	world_relaygate_stop
	assert_eq 0 "$WORLD_RELAYGATE_STATUS" "relaygate's exit status"
}

# field FILE LABEL - the value after LABEL in "relaygatectl cache show"
field() {
	sed -n "s/^  $2 *//p" "$1"
}

world_dns_start
world_sink_start
mkdir -p "$W/state"
chown "$WORLD_MILTER_USER:$WORLD_MILTER_GROUP" "$W/state"
{
	# The world's configuration, with this test's cache group instead.
	sed '/^cache: {/,/^};/d' "$WORLD_HOME/relaygate-test.conf"
	cat <<CONF
cache: {
	name = "$segment";
	capacity = 1024;
	mode = "0640";
	state_file = "@W@/state/cache.state";
	snapshot_interval = "10s";
};
CONF
} >"$W/tmp/cache.conf"
world_relaygate_start "$W/tmp/cache.conf"
world_postfix_start relay
world_log_wait "$log" "event=cache segment=$segment origin=created "
[[ -e /dev/shm${segment} ]] || world_fail "no segment /dev/shm$segment"
[[ $(stat -c '%a %G' "/dev/shm$segment") == "640 $WORLD_MILTER_GROUP" ]] ||
	world_fail "segment mode/group: $(stat -c '%a %G' "/dev/shm$segment")"

world_step "a domain is checked once, then served from the cache"
send good.test checked
send good.test hit
send Good.Test hit

world_step "relaygatectl sees what relaygate stored, while it runs"
assert_ctl 0 show cache show good.test
assert_eq configured "$(field "$CTL_OUT" state)" "cache show: state"
assert_eq fresh "$(field "$CTL_OUT" cache)" "cache show: freshness"
assert_grep "$CTL_OUT" '^  messages +3 sign=3$'
assert_ctl 0 list cache list --state configured
assert_grep "$CTL_OUT" '^good\.test +configured +fresh +[0-9]+s +3 +-$'
assert_ctl 0 list2 cache list --state partial
assert_no_grep "$CTL_OUT" '^good\.test'
assert_ctl 0 stats cache stats
assert_grep "$CTL_OUT" '^entries +1 in 1 of 1024 slots '
assert_grep "$CTL_OUT" '^lookups +hit=2 '
assert_grep "$CTL_OUT" 'configured=1 '
assert_ctl 1 show-none cache show nosuch.test
assert_ctl 2 usage cache list --state nonsense

world_step "the state file is written periodically (snapshot_interval)"
world_log_wait "$log" "level=debug event=state_file status=saved .*records=1" 15
[[ -s $W/state/cache.state ]] || world_fail "no state file"

world_step "after a flush, the next message re-checks"
assert_ctl 0 flush cache flush good.test
assert_grep "$CTL_OUT" '^good\.test: flushed$'
assert_ctl 0 show-flushed cache show good.test
assert_grep "$CTL_OUT" 'no verdict: the next message checks'
send good.test checked
send good.test hit

world_step "a misconfigured domain's grace period starts at its first check"
send nodkim.test checked
assert_ctl 0 show-bad cache show nodkim.test
assert_eq partial "$(field "$CTL_OUT" state)" "nodkim.test state"
first_bad=$(field "$CTL_OUT" "first seen bad")
[[ $first_bad == 20* ]] || world_fail "nodkim.test: no first seen bad"

world_step "a restarted relaygate serves from the table it left"
stop
world_log_wait "$log" "event=state_file status=saved .*records=2"
world_relaygate_start "$W/tmp/cache.conf"
world_log_wait "$log" \
	"event=cache segment=$segment origin=attached entries=2 capacity=1024"
send good.test hit
send nodkim.test hit
assert_ctl 0 show-restart cache show good.test
assert_grep "$CTL_OUT" '^  messages +6 sign=6$'

world_step "after a reboot the state file brings back history, not verdicts"
stop
rm "/dev/shm$segment"
world_relaygate_start "$W/tmp/cache.conf"
world_log_wait "$log" "event=cache segment=$segment origin=created "
world_log_wait "$log" "event=state_file status=loaded .*records=2"
assert_ctl 0 show-reboot cache show nodkim.test
assert_grep "$CTL_OUT" 'no verdict: the next message checks'
assert_eq "$first_bad" "$(field "$CTL_OUT" "first seen bad")" \
	"first seen bad after the reboot"
send nodkim.test checked
assert_ctl 0 show-rechecked cache show nodkim.test
assert_eq "$first_bad" "$(field "$CTL_OUT" "first seen bad")" \
	"first seen bad after the re-check: the grace period goes on"
assert_grep "$CTL_OUT" '^  messages +3 tag=3$'

world_step "a corrupt state file is reported and ignored"
stop
printf 'RGSTATE\n garbage' >"$W/state/cache.state"
world_relaygate_start "$W/tmp/cache.conf"
world_log_wait "$log" \
	"event=state_file status=ignored .*reason=.*truncated"
send nodkim.test hit

world_step "flush --all empties every verdict"
assert_ctl 0 flush-all cache flush --all
assert_grep "$CTL_OUT" '^2 domains flushed$'
send good.test checked

world_step "relaygatectl check stores its fresh verdict; --no-store does not"
assert_ctl 0 flush-good cache flush good.test
assert_ctl 0 check-nostore check --no-store good.test
assert_ctl 0 show-nostore cache show good.test
assert_grep "$CTL_OUT" 'no verdict: the next message checks'
assert_ctl 0 check-store check good.test
assert_ctl 0 show-stored cache show good.test
assert_eq configured "$(field "$CTL_OUT" state)" "state after relaygatectl check"
send good.test hit

world_step "a verdict from the cache reads as the checked one, diagnosis too"
# onlyb.test is signed with prezent-b; the reason names the missing
# prezent-a record, a detail text the cache keeps with the verdict.
send onlyb.test checked
checked=$(reason_of "$nlines")
send onlyb.test hit
assert_eq "$checked" "$(reason_of "$nlines")" "reason of a cached verdict"
[[ $checked == *"dkim=missing (prezent-a._domainkey.onlyb.test)"* ]] ||
	world_fail "onlyb.test: reason without the DKIM detail: $checked"
stop
world_log "cache: OK"
