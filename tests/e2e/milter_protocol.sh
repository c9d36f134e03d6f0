#!/bin/bash
# milter_protocol.sh - relaygate driven directly over its milter socket by
# miltload's scripted client, speaking as Postfix does: sessions that end
# (abort or a dropped connection) at every stage, an abort followed by a
# second message in the same session, a close without QUIT, complete
# messages, and hostile input (a ~200 KiB header block, a 200 KiB field, a
# field larger than a milter packet may be, 8-bit header bytes, an empty
# body, MAIL FROM with ESMTP parameters and a source route, an unknown
# packet).
#
# Asserted: every reply is well-formed and in its place (miltload checks
# that, as Postfix would); relaygate answers after each session and never
# dies; each completed message has exactly one decision line
# (event=message, matched by its queue id), aborted ones none; at stop
# no message context is left (contexts_alive=0) and the daemon, the ASan
# build when tests run it, exits 0 (no leak, no double free).  Which
# action relaygate takes (pass, sign, tag, ...) is policy, tested
# elsewhere: here a DKIM-Signature insheader, a status header or a
# continue are all fine, as long as the reply is one Postfix accepts.
#
# Run as root: bash tests/e2e/milter_protocol.sh   (exit 0 = pass)
# MILTLOAD_BIN names the client (default: the newest build's).
set -euo pipefail
export WORLD_TIMEOUT=${WORLD_TIMEOUT:-90}
# shellcheck source-path=SCRIPTDIR source=../world/world.sh
. "$(dirname "$0")/../world/world.sh"
world_enter "$@"

log="$W/log/relaygate.log"
out="$W/tmp/ml"
mkdir -p "$out"

# miltload_bin - MILTLOAD_BIN, else the newest build/*/contrib/miltload.
miltload_bin() {
	local bin=${MILTLOAD_BIN:-}
	[[ -n $bin ]] || bin=$(find "$WORLD_REPO"/build/*/contrib/miltload \
		-maxdepth 1 -name miltload -type f -printf '%T@ %p\n' \
		2>/dev/null | sort -n | tail -n 1 | cut -d' ' -f2-)
	[[ -n $bin && -x $bin ]] || world_fail "no miltload: set MILTLOAD_BIN"
	echo "$bin"
}
ML=$(miltload_bin)

# ml NAME - run the script on stdin against relaygate; output in
# $out/NAME.out.  The client's status is kept in $out/NAME.rc (1 when an
# error line was printed; the scenario decides whether that is expected).
ml() {
	local rc=0
	"$ML" -S "unix:$WORLD_MILTER_SOCKET" -t 5000 -s - \
		>"$out/$1.out" 2>"$out/$1.err" || rc=$?
	echo "$rc" >"$out/$1.rc"
	((rc < 2)) || world_fail "miltload $1: script error: $(cat "$out/$1.err")"
}

# assert_clean NAME - the client printed no error line
assert_clean() {
	assert_eq 0 "$(cat "$out/$1.rc")" \
		"miltload $1 status ($(grep ' error ' "$out/$1.out" || true))"
}

# assert_alive - relaygate runs and answers a new session
assert_alive() {
	[[ -n $(_world_pid relaygate) ]] ||
		world_fail "relaygate died: $(tail -n 5 "$log")"
	ml alive <<-'EOF'
		connect client.test 127.0.0.1 4711
		mail <alice@good.test>
		abort
		quit
	EOF
	assert_clean alive
	assert_grep "$out/alive.out" '^mail continue$' "relaygate answers"
}

# qids NAME - the queue ids of a script's messages, one a line
qids() {
	awk '$1 == "queue_id" { print $2 }' "$out/$1.out"
}

# decisions QID - decision lines naming QID
decisions() {
	grep -c "event=message queue_id=$1 " "$log" || true
}

# assert_eom_sane NAME N - every eom line is a reply Postfix takes after
# end of message (header edits, progress, then a decision), and there are
# exactly N decisions: one per completed message.
EOM_EDIT='insheader|addheader|chgheader|quarantine|progress'
EOM_FINAL='continue|accept|tempfail|reject|discard|replycode'
assert_eom_sane() {
	local bad
	bad=$(grep '^eom ' "$out/$1.out" |
		grep -vE "^eom ($EOM_EDIT|$EOM_FINAL)( |\$)" || true)
	[[ -z $bad ]] || world_fail "$1: unexpected eom replies: $bad"
	assert_eq "$2" "$(grep -cE "^eom ($EOM_FINAL)( |\$)" "$out/$1.out")" \
		"$1: decisions at end of message"
}

world_dns_start
# shellcheck disable=SC2119  # the default configuration
world_relaygate_start

# The parts of a message, as Postfix would send them for good.test mail.
ENV='mail <alice@good.test>
rcpt <bob@example.net>
data'
HEAD="connect client.test 127.0.0.1 4711
helo client.test
$ENV"
HDRS='header From: Alice <alice@good.test>
header To: <bob@example.net>
header Subject: milter protocol test
header Message-ID: <1@good.test>'

world_step "sessions ending at every stage, by abort or a dropped connection"
stages=(open connect helo mail rcpt data header eoh body)
# script_to STAGE END - the message up to STAGE, then END (close/abort)
script_to() {
	local upto=$1 end=$2 line
	{
		echo open
		[[ $upto == open ]] || while read -r line; do
			echo "$line"
			[[ ${line%% *} == "$upto" ]] && break
		done <<<"$HEAD"$'\n'"$(head -n 2 <<<"$HDRS")"$'\neoh\nbody first line\nbody-bytes 3000\neom'
		echo "$end"
	}
}
n=0
for stage in "${stages[@]}"; do
	for end in close abort; do
		[[ $end == abort && $stage =~ ^(open|connect|helo)$ ]] && continue
		n=$((n + 1))
		script_to "$stage" "$end" | ml "cut_${stage}_$end"
		assert_clean "cut_${stage}_$end"
	done
done
world_log "$n sessions cut short"
assert_alive

world_step "abort, then a second message in the same session"
ml abort_then_message <<-EOF
	$HEAD
	$HDRS
	eoh
	body half a body
	abort
	$ENV
	$HDRS
	eoh
	body the second message
	eom
	abort
	mail <alice@good.test> SIZE=100
	abort
	quit
EOF
assert_clean abort_then_message
assert_eom_sane abort_then_message 1

world_step "a complete message, then close without QUIT"
ml close_no_quit <<-EOF
	$HEAD
	$HDRS
	eoh
	body-bytes 4096
	eom
	close
EOF
assert_clean close_no_quit
assert_eom_sane close_no_quit 1

world_step "two complete messages in one session, with QUIT"
ml complete <<-EOF
	$HEAD
	$HDRS
	eoh
	body-bytes 65536
	eom
	abort
	$ENV
	$HDRS
	eoh
	body-bytes 70000
	eom
	abort
	quit
EOF
assert_clean complete
assert_eom_sane complete 2
# Connect, header fields, the end of the headers and body chunks go
# unanswered (SMFIP_NR_CONN 0x1000, NR_HDR 0x80, NR_EOH 0x40000, NR_BODY
# 0x80000) and HELO, RCPT TO and DATA are not sent (SMFIP_NOHELO 0x2,
# NORCPT 0x8, NODATA 0x200): fewer round trips per message, and nothing
# relaygate does not use.
want=$((0x1000 | 0x80 | 0x40000 | 0x80000 | 0x2 | 0x8 | 0x200))
proto=$(sed -n 's/^open .* protocol=\(0x[0-9a-f]*\)$/\1/p' "$out/complete.out")
assert_eq "$want" $((${proto:-0} & want)) \
	"unanswered and skipped steps in the negotiated protocol ($proto)"
assert_grep "$out/complete.out" '^headers? .*noreply$' "header fields unanswered"
assert_grep "$out/complete.out" '^eoh noreply$' "the end of the headers unanswered"
grep -qE '^eom insheader .*name="DKIM-Signature" ' "$out/complete.out" &&
	world_log "relaygate signs good.test mail (DKIM-Signature insheader)"

world_step "hostile: ~200 KiB of headers, 8-bit bytes, empty body, odd MAIL FROM"
ml hostile <<-EOF
	$HEAD
	$HDRS
	headers 200 1024
	header Subject: caf\xe9 \xff\xfe\x80 8-bit
	header X-Folded: first\r\n\tsecond
	eoh
	eom
	abort
	mail <@relay.test,@hop.test:alice@good.test> SIZE=4096 BODY=8BITMIME RET=HDRS ENVID=x+2Bid
	rcpt <bob@example.net> NOTIFY=NEVER
	data
	header From: =?utf-8?q?=C3=A9?= <alice@good.test>
	eoh
	body-raw no final newline
	eom
	abort
	mail <>
	data
	header From: MAILER-DAEMON@good.test
	eoh
	eom
	quit
EOF
assert_clean hostile
assert_grep "$out/hostile.out" '^headers count=200 noreply$' "200 KiB of headers"
assert_eom_sane hostile 3
assert_alive

world_step "hostile: header fields of 200 KiB (taken) and 2 MiB (refused)"
# Twice Postfix's header_size_limit fits in a packet relaygate takes ...
ml big_header <<-'EOF'
	connect client.test 127.0.0.1 4711
	mail <alice@good.test>
	headers 1 204800
	eoh
	quit
EOF
assert_clean big_header
assert_grep "$out/big_header.out" '^headers count=1 noreply$' "a 200 KiB field"
assert_grep "$out/big_header.out" '^eoh noreply$' "the headers' end after it"
# ... a packet over 1 MiB ends the session, with a reason in the log.
ml too_big <<-'EOF'
	connect client.test 127.0.0.1 4711
	mail <alice@good.test>
	headers 1 2097152
	read
EOF
world_log_wait "$log" 'malformed input from the MTA \(packet of 2097[0-9]* bytes, limit 1048576\)'
assert_alive

world_step "hostile: a packet of an unknown kind, and one cut short"
ml garbage <<-'EOF'
	connect client.test 127.0.0.1 4711
	helo client.test
	raw Z some junk
	read
EOF
ml short_packet <<-'EOF'
	connect client.test 127.0.0.1 4711
	raw-wait M \x00
	close
EOF
assert_alive

world_step "one decision line per completed message, none for aborted ones"
completed=$(cat "$out"/abort_then_message.out "$out"/close_no_quit.out \
	"$out"/complete.out "$out"/hostile.out |
	grep -cE "^eom ($EOM_FINAL)( |\$)")
assert_eq 7 "$completed" "completed messages"
sleep 0.5
for name in abort_then_message close_no_quit complete hostile; do
	mapfile -t ids < <(qids "$name")
	mapfile -t ends < <(awk '$1 == "queue_id" { q = $2 }
		$1 == "eom" && $2 ~ /^('"$EOM_FINAL"')$/ { print q }' \
		"$out/$name.out")
	for id in "${ids[@]}"; do
		want=0
		[[ " ${ends[*]} " == *" $id "* ]] && want=1
		assert_eq "$want" "$(decisions "$id")" "$name: decision lines for $id"
	done
done
for f in "$out"/cut_*.out; do
	name=$(basename "$f" .out)
	mapfile -t ids < <(qids "$name")
	for id in "${ids[@]}"; do
		assert_eq 0 "$(decisions "$id")" "$name: decision lines for $id"
	done
done
assert_eq "$completed" "$(grep -c 'event=message ' "$log")" "decision lines in all"

world_step "client addresses as the MTA writes them"
# An IPv6 address with sendmail's prefix and in long form, and a client
# without an IP address (a unix socket path): the decision line names
# the canonical address and "local".
for c in "IPv6:2001:DB8:0:0::1|2001:db8::1" "/run/submit.sock|local"; do
	ml client <<-EOF
		connect client.test ${c%%|*} 4711
		$ENV
		$HDRS
		eoh
		body one line
		eom
		quit
	EOF
	assert_clean client
	world_log_wait "$log" "event=message queue_id=$(qids client) .*client=${c#*|} "
done

world_step "stop: no message context left alive"
world_relaygate_stop 15
assert_eq 0 "$WORLD_RELAYGATE_STATUS" "relaygate's exit status"
assert_grep "$log" 'event=stop .*contexts_alive=0'
world_log "milter_protocol: OK"
