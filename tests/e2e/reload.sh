#!/bin/bash
# reload.sh - SIGUSR1 re-reads the configuration: a broken file is logged
# (file, line, key) and the daemon goes on with the old configuration; a
# valid file takes effect for new sessions; a restart-only change is
# reported and not applied.
#
# Run as root: bash tests/e2e/reload.sh   (exit 0 = pass)
set -euo pipefail
export WORLD_TIMEOUT=${WORLD_TIMEOUT:-60}
# shellcheck source-path=SCRIPTDIR source=../world/world.sh
. "$(dirname "$0")/../world/world.sh"
world_enter "$@"

log="$W/log/relaygate.log"
conf="$W/relaygate.conf"

# send_one - one message through the relay, which must be delivered
send_one() {
	local before
	before=$(world_sink_count)
	world_smtp_send --from alice@good.test
	assert_smtp RESULT accepted
	world_sink_wait $((before + 1))
}

world_dns_start
world_sink_start
world_relaygate_start
world_postfix_start relay
pid=$WORLD_RELAYGATE_PID
send_one

world_step "a misspelled key: reload fails, named by file and line"
cp "$conf" "$W/tmp/good.conf"
sed -i 's/format = "logfmt";/formatt = "json";/' "$conf"
line=$(grep -n 'formatt = ' "$conf" | cut -d: -f1)
world_relaygate_signal USR1
world_log_wait "$log" 'event=reload status=failed'
assert_grep "$log" "event=reload status=failed config=$conf reason=\"$conf:$line: log.formatt: unknown setting \(did you mean log\.format\?\)\""
kill -0 "$pid" 2>/dev/null || world_fail "relaygate died on a broken reload"

world_step "the old configuration still serves mail"
send_one
world_log_wait "$log" '^ts=[^ ]+ level=info event=message .*action=sign'
assert_eq 2 "$(grep -c 'event=message ' "$log")" "logfmt decision lines"

world_step "a valid change (JSON logs) applies on reload"
sed 's/format = "logfmt";/format = "json";/' "$W/tmp/good.conf" >"$conf"
world_relaygate_signal USR1
world_log_wait "$log" '"event":"reload","status":"ok"'
send_one
world_log_wait "$log" '^\{"ts":"[^"]+","level":"info","event":"message",.*"action":"sign"'

world_step "a restart-only change is reported and not applied"
sed -i 's|socket = "unix:|socket = "unix:/nonexistent|' "$conf"
world_relaygate_signal USR1
world_log_wait "$log" '"event":"reload","status":"restart_needed","settings":"daemon.socket"'
send_one
assert_eq "$pid" "$WORLD_RELAYGATE_PID" "relaygate's pid"
world_log "reload: OK"
