#!/bin/bash
# bench.sh - relaygate's benchmark: one table, measured in one run on this
# machine, against what an operator would otherwise use (issue 8).
#
#   sudo contrib/bench.sh            build (Release), run, print the table
#   BENCH_RUNS=5 contrib/bench.sh    more runs per figure (default 3)
#   BENCH_BUILD=0 ...                use RELAYGATE_BIN / MILTLOAD_BIN /
#                                    NULLMILTER_BIN / NULLMSERVE_BIN /
#                                    SIGNMSERVE_BIN as given
#   BENCH_SECTIONS="milter" ...      only these of: memory milter cold postfix
#
# Everything runs on loopback inside the test world's private namespaces
# (tests/world/world.sh): DNS (nsd, unbound), a delaying DNS front
# (contrib/bench/dnsdelay.py), relaygate, Debian's opendkim (three
# instances: RSA and Ed25519 on unix sockets, RSA on an inet socket),
# the relay Postfix and a counting smtp-sink.  Sections:
#
#   milter only   miltload (contrib/miltload) -> milter, warm cache, 4 KiB
#                 and 64 KiB bodies, RSA-2048 and Ed25519 (relaygate
#                 switches active_selector by reload): messages/s and the
#                 milter's CPU per message, relaygate vs opendkim vs the
#                 raw signing limit (openssl speed, 1 thread for CPU per
#                 signature, -multi NPROC for throughput), as ratios; the
#                 floors (contrib/nullmilter): no work, and signing only
#   Postfix       smtp-source -> Postfix -> milter -> smtp-sink: messages/s
#                 accepted and relayed (to the last delivery), with no
#                 milter, the floors, OpenDKIM and relaygate (unix and
#                 inet)
#   cold checks   one message per uncached domain with the DNS front
#                 delaying every query: latency in round trips; a burst of
#                 200 concurrent messages from one uncached domain: DNS
#                 queries sent, against one check's worth
#   memory        relaygate's RSS idle and with 500 sessions held open at
#                 end of headers
#
# Each figure is the median of BENCH_RUNS runs, with min and max.  The
# table and the exact commands go to stdout and to BENCH_OUT (default
# build/release/bench-results.txt).  Whole run: about 5-10 minutes on 2
# cores.  Needs root (namespaces); reads nothing outside the repository
# and the Debian packages of contrib/install-deps.sh.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/bench
BENCH_REPO=$(cd "$BENCH_DIR/../.." && pwd)
: "${BENCH_RUNS:=3}"
: "${BENCH_MSGS:=2000}"        # milter only: messages per run
: "${BENCH_CONNS:=4}"          # milter only: concurrent sessions
: "${BENCH_SMTP_MSGS:=1000}"   # through Postfix: messages per run
: "${BENCH_SMTP_SESSIONS:=20}" # through Postfix: smtp-source -s
: "${BENCH_SMTP_OPTS:=-d}"     # -d: sessions carry many messages
: "${BENCH_DELAY_MS:=50}"      # cold checks: delay per DNS query
: "${BENCH_HOLD:=500}"         # memory: sessions held open
: "${BENCH_CACHE_CAPACITY:=}"  # cache.capacity (empty: relaygate's default)
: "${BENCH_BUILD:=1}"
: "${BENCH_SECTIONS:=memory milter cold postfix}" # a developer's subset
: "${BENCH_OUT:=$BENCH_REPO/build/release/bench-results.txt}"
export BENCH_RUNS BENCH_MSGS BENCH_CONNS BENCH_SMTP_MSGS BENCH_SMTP_OPTS \
	BENCH_SMTP_SESSIONS BENCH_DELAY_MS BENCH_HOLD BENCH_OUT BENCH_SECTIONS \
	BENCH_CACHE_CAPACITY

# bench_build - Release build of relaygate and miltload (host stage only).
bench_build() {
	local b=$BENCH_REPO/build/release
	# Warnings are CI's business (tests/lint); a benchmark measures.
	cmake -S "$BENCH_REPO" -B "$b" -DCMAKE_BUILD_TYPE=Release \
		-DRELAYGATE_TESTS=OFF -DRELAYGATE_WERROR=OFF \
		>"$BENCH_REPO/build/release.cmake.log" 2>&1 ||
		{ tail -n 20 "$BENCH_REPO/build/release.cmake.log"; exit 1; }
	cmake --build "$b" --target relaygate miltload nullmilter nullmserve \
		signmserve -j "$(nproc)" \
		>"$b/bench-build.log" 2>&1 ||
		{ tail -n 30 "$b/bench-build.log"; exit 1; }
	export RELAYGATE_BIN=$b/milter/relaygate
	export MILTLOAD_BIN=$b/contrib/miltload/miltload
	export NULLMILTER_BIN=$b/contrib/nullmilter/nullmilter
	export NULLMSERVE_BIN=$b/contrib/nullmilter/nullmserve
	export SIGNMSERVE_BIN=$b/contrib/nullmilter/signmserve
}

if [[ -z ${WORLD_STAGE:-} && $BENCH_BUILD == 1 ]]; then
	mkdir -p "$BENCH_REPO/build"
	bench_build
fi
export WORLD_TIMEOUT=${WORLD_TIMEOUT:-1500} WORLD_WAIT=${WORLD_WAIT:-20}
# shellcheck source-path=SCRIPTDIR source=../tests/world/world.sh
. "$BENCH_REPO/tests/world/world.sh"
world_enter "$@"

# ---------------------------------------------------------------------------
# From here on: inside the world, as root.
# ---------------------------------------------------------------------------

ML=${MILTLOAD_BIN:?MILTLOAD_BIN}
NM=${NULLMILTER_BIN:?NULLMILTER_BIN}
NMS=${NULLMSERVE_BIN:?NULLMSERVE_BIN}
SMS=${SIGNMSERVE_BIN:?SIGNMSERVE_BIN}
RG_SOCK=unix:$W/run/relaygate.sock
RES=$W/tmp/results # "key median min max" lines
CMDS=$W/tmp/commands
HZ=$(getconf CLK_TCK)
: >"$RES"
: >"$CMDS"

# note_cmd TEXT - remember a command line for the "how" section.
note_cmd() {
	grep -qxF -- "$*" "$CMDS" || echo "$*" >>"$CMDS"
}

# stats V... - "median min max" of the values.
stats() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%g %g %g\n", m, v[1], v[NR] }'
}

# record KEY V... - store the statistics of a figure.
record() {
	local key=$1
	shift
	echo "$key $(stats "$@")" >>"$RES"
}

# get KEY [FIELD] - a stored figure (FIELD 1 median, 2 min, 3 max).
get() {
	awk -v k="$1" -v f="${2:-1}" '$1 == k { v = $(f + 1) } END { print v }' "$RES"
}

# kv KEY LINE - the value of KEY=... in a miltload report line.
kv() {
	sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"
}

# cpu_ticks PID - user+system clock ticks of the process, all threads.
cpu_ticks() {
	awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}

# machine_ticks - CPU time the whole machine spent busy (user, nice,
# system, irq, softirq of every CPU), in clock ticks
machine_ticks() {
	awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8; exit }' /proc/stat
}

# ---------------------------------------------------------------------------
# The world: DNS with cold domains, the DNS front, sink, milters
# ---------------------------------------------------------------------------

# bench_zones - the cold domains (copies of good.test) and the Ed25519
# selector; returns the zone directories.
bench_zones() {
	local d=$W/tmp/benchzones i
	mkdir -p "$d"
	for i in $(seq 1 12) burst; do
		sed "s/good\.test/cold$i.test/g" "$WORLD_HOME/zones/good.test.zone" \
			>"$d/cold$i.test.zone"
	done
	# deepN.test: the relay's include behind a 3-deep include chain
	for i in $(seq 1 12); do
		sed -e "s/good\.test/deep$i.test/g" \
			-e "s/\"v=spf1 .*\"/\"v=spf1 include:l1.deep$i.test -all\"/" \
			"$WORLD_HOME/zones/good.test.zone" >"$d/deep$i.test.zone"
		printf 'l%s\tTXT\t"v=spf1 include:%s -all"\n' \
			1 "l2.deep$i.test" 2 "l3.deep$i.test" 3 spf.dmrmail.nl \
			>>"$d/deep$i.test.zone"
	done
	echo "$WORLD_HOME/zones $BENCH_DIR/zones $d"
}

# bench_front_start - the delaying DNS front on 127.0.0.1:5300.
bench_front_start() {
	echo 0 >"$W/tmp/dnsdelay.ms"
	_world_spawn dnsfront "$WORLD_PY" "$BENCH_DIR/dnsdelay.py" 127.0.0.1 \
		5300 127.0.0.1 53 "$W/tmp/dnsdelay.ms" "$W/log/dnsqueries.log"
	world_wait "$WORLD_WAIT" _world_listening u 127.0.0.1 5300 ||
		world_fail "the DNS front did not start"
}

# bench_sink_start - smtp-sink that only counts (no files).
bench_sink_start() {
	_world_spawn sink smtp-sink -u postfix -h sink.world.test \
		"$WORLD_SINK_ADDR:$WORLD_SINK_PORT" 256
	world_wait "$WORLD_WAIT" _world_listening t "$WORLD_SINK_ADDR" \
		"$WORLD_SINK_PORT" || world_fail "smtp-sink did not start"
}

# rg_conf SELECTOR SOCKET - render relaygate's bench configuration, with
# BENCH_CACHE_CAPACITY as cache.capacity when it is set.
rg_conf() {
	local capacity=()
	[[ -z $BENCH_CACHE_CAPACITY ]] ||
		capacity=(-e "s|^cache: {|cache: {\n\tcapacity = $BENCH_CACHE_CAPACITY;|")
	sed -e "s|@SELECTOR@|$1|" -e "s|@SOCKET@|$2|" "${capacity[@]}" \
		"$BENCH_DIR/relaygate-bench.conf" >"$W/tmp/rg-bench.conf"
}

# rg_start SOCKET - relaygate (RSA selector) on SOCKET.
rg_start() {
	rg_conf prezent-a "$1"
	world_relaygate_start "$W/tmp/rg-bench.conf"
	RG_PID=$(_world_pid relaygate)
}

# rg_select SELECTOR - switch the active selector by SIGUSR1; wait for it.
rg_select() {
	local n
	n=$(_world_log_count "$W/log/relaygate.log" 'event=reload status=ok')
	rg_conf "$1" "$RG_SOCK_NOW"
	world_render "$W/tmp/rg-bench.conf" "$W/relaygate.conf"
	world_relaygate_signal USR1
	world_wait "$WORLD_WAIT" _world_log_more "$W/log/relaygate.log" \
		'event=reload status=ok' "$n" || world_fail "relaygate: no reload"
}

# odk_start NAME SELECTOR KEY ALG SOCKET - one opendkim instance.
odk_start() {
	world_render "$BENCH_DIR/opendkim.conf.in" "$W/tmp/$1.conf" \
		NAME="$1" SELECTOR="$2" KEY="$3" ALG="$4" SOCKET="$5"
	_world_spawn "$1" opendkim -f -x "$W/tmp/$1.conf"
}

# odk_keys - the world's keys under a namespace-private /etc/dkimkeys.
odk_keys() {
	mkdir -p "$W/dkimkeys"
	cp "$W/keys/prezent-a.rsa.pem" "$W/keys/prezent-b.ed25519.pem" \
		"$W/dkimkeys/"
	chmod 0700 "$W/dkimkeys"
	chmod 0600 "$W"/dkimkeys/*.pem
	mount --bind "$W/dkimkeys" /etc/dkimkeys
}

# odk_ready - every OpenDKIM and floor milter socket listens
odk_ready() {
	[[ -S $W/run/odk-rsa.sock && -S $W/run/odk-ed.sock &&
		-S $W/run/null.sock && -S $W/run/nullms.sock &&
		-S $W/run/signms.sock ]] &&
		_world_listening t 127.0.0.1 8892 &&
		_world_listening t 127.0.0.1 8893 &&
		_world_listening t 127.0.0.1 8894
}

# bench_world - start everything the benchmark needs.
bench_world() {
	# shellcheck disable=SC2034  # read by world_dns_start
	WORLD_ZONE_DIRS=$(bench_zones)
	world_dns_start
	bench_front_start
	bench_sink_start
	RG_SOCK_NOW=$RG_SOCK
	rg_start "$RG_SOCK"
	odk_keys
	odk_start odk-rsa prezent-a prezent-a.rsa.pem rsa-sha256 \
		"local:$W/run/odk-rsa.sock"
	odk_start odk-ed prezent-b prezent-b.ed25519.pem ed25519-sha256 \
		"local:$W/run/odk-ed.sock"
	odk_start odk-inet prezent-a prezent-a.rsa.pem rsa-sha256 \
		"inet:8892@127.0.0.1"
	_world_spawn nullmilter "$NM" "unix:$W/run/null.sock"
	_world_spawn nullmserve "$NMS" "unix:$W/run/nullms.sock"
	_world_spawn nullms-inet "$NMS" "inet:8893@127.0.0.1"
	_world_spawn signmserve "$SMS" "unix:$W/run/signms.sock" \
		"$W/keys/prezent-a.rsa.pem" good.test prezent-a
	_world_spawn signms-inet "$SMS" "inet:8894@127.0.0.1" \
		"$W/keys/prezent-a.rsa.pem" good.test prezent-a
	world_wait "$WORLD_WAIT" odk_ready ||
		world_fail "a milter did not start: $(tail -n 5 "$W"/log/odk-*.log \
			"$W"/log/sign*.log)"
	note_cmd "opendkim -f -x CONF   (contrib/bench/opendkim.conf.in)"
	note_cmd "nullmilter unix:SOCKET  (contrib/nullmilter: the floor on libmilter)"
	note_cmd "nullmserve unix:SOCKET | inet:8893@127.0.0.1  (contrib/nullmilter: the floor on relaygate's engine)"
	note_cmd "signmserve unix:SOCKET | inet:8894@127.0.0.1 KEY good.test prezent-a  (contrib/nullmilter: the floor that signs, RSA-2048)"
	note_cmd "relaygate -f -c CONF  (contrib/bench/relaygate-bench.conf)"
}

# ---------------------------------------------------------------------------
# Milter only
# ---------------------------------------------------------------------------

# sign_check SOCKET ALG - one message through the milter must come back
# with a DKIM-Signature of that algorithm (and warms the cache).
sign_check() {
	"$ML" -S "$1" -e 'connect' -e 'helo client.test' \
		-e 'mail <sender@good.test>' -e 'rcpt <rcpt@example.net>' \
		-e 'header From: <sender@good.test>' -e 'header To: <x@y.z>' \
		-e 'eoh' -e 'body warm-up' -e 'eom' -e 'quit' \
		>"$W/tmp/signcheck.out" 2>&1 || true
	grep -q "^eom insheader .*name=\"DKIM-Signature\" .*a=$2" \
		"$W/tmp/signcheck.out" ||
		world_fail "$1 does not sign with $2: $(cat "$W/tmp/signcheck.out")"
}

# ml_run SOCKET PID BODY [CONNS] - one miltload run of BENCH_MSGS
# messages over CONNS (BENCH_CONNS) sessions; "rate cpu_ms p50 p99".
# Every message must come back signed, or with ML_SIGNED=0 at least
# answered.
ml_run() {
	local c0 c1 line n conns=${4:-$BENCH_CONNS}
	c0=$(cpu_ticks "$2")
	line=$("$ML" -S "$1" -c "$conns" -n $((BENCH_MSGS / conns)) -b "$3" \
		-d good.test 2>>"$W/log/miltload.log") ||
		world_fail "miltload failed: $line"
	c1=$(cpu_ticks "$2")
	n=$(kv ok "$line")
	[[ $n == $((BENCH_MSGS / conns * conns)) ]] ||
		world_fail "not every message was answered: $line"
	[[ ${ML_SIGNED:-1} == 0 || $(kv signed "$line") == "$n" ]] ||
		world_fail "not every message was signed: $line"
	echo "$(kv rate "$line") $(awk -v t=$((c1 - c0)) -v hz="$HZ" -v n="$n" \
		'BEGIN { printf "%.4f", t * 1000 / hz / n }') $(kv p50_ms "$line") \
		$(kv p99_ms "$line")"
}

# milter_series NAME SOCKET PID BODY [CONNS] - BENCH_RUNS runs, recorded
# as NAME.rate, NAME.cpu, NAME.p50, NAME.p99.
milter_series() {
	local i r out rates=() cpus=() p50=() p99=()
	for ((i = 0; i < BENCH_RUNS; i++)); do
		out=$(ml_run "$2" "$3" "$4" "${5:-}")
		read -r -a r <<<"$out"
		rates+=("${r[0]}") cpus+=("${r[1]}") p50+=("${r[2]}") p99+=("${r[3]}")
	done
	record "$1.rate" "${rates[@]}"
	record "$1.cpu" "${cpus[@]}"
	record "$1.p50" "${p50[@]}"
	record "$1.p99" "${p99[@]}"
	world_log "$1: $(get "$1.rate") msg/s, $(get "$1.cpu") ms CPU/msg"
}

# signms_series BODY [CONNS] - the floor that signs (RSA-2048), run
# right after relaygate's RSA series of the same load, so that the host's
# mood of the minute moves both alike;
# recorded as signms.BODY, or signms.seq with CONNS.
signms_series() {
	local key=signms.$1
	[[ -z ${2:-} ]] || key=signms.seq
	milter_series "$key" "unix:$W/run/signms.sock" \
		"$(_world_pid signmserve)" "$1" "${2:-}"
}

# ossl_rate ALG THREADS - openssl speed sign/s (rsa2048 or ed25519)
ossl_rate() {
	local multi=()
	(($2 > 1)) && multi=(-multi "$2")
	openssl speed -seconds 2 "${multi[@]}" -mr "$1" 2>/dev/null |
		awk -F: '/^\+F2:/ { print $4; exit } /^\+F6:/ { print $5; exit }'
}

# ossl_series ALG - the raw signing limit, 1 thread and NPROC threads.
ossl_series() {
	local i one=() all=() t
	t=$(nproc)
	for ((i = 0; i < BENCH_RUNS; i++)); do
		one+=("$(ossl_rate "$1" 1)")
		all+=("$(ossl_rate "$1" "$t")")
	done
	record "ossl.$1.1" "${one[@]}"
	record "ossl.$1.n" "${all[@]}"
	note_cmd "openssl speed -seconds 2 [-multi $t] -mr $1"
	world_log "openssl $1: $(get "ossl.$1.1") sign/s (1 thread)," \
		"$(get "ossl.$1.n") ($t)"
}

# bench_milter_only - the milter-only grid.
bench_milter_only() {
	local alg sel odk size
	world_step "milter only: warm cache, relaygate vs opendkim vs openssl"
	local l0
	l0=$(wc -l <"$W/log/relaygate.log")
	note_cmd "miltload -S SOCKET -c $BENCH_CONNS -n $((BENCH_MSGS / BENCH_CONNS)) -b {4k,64k} -d good.test"
	note_cmd "miltload -S SOCKET -c 1 -n $BENCH_MSGS -b 4k -d good.test"
	for alg in rsa ed; do
		if [[ $alg == rsa ]]; then
			sel=prezent-a odk=odk-rsa
			ossl_series rsa2048
		else
			sel=prezent-b odk=odk-ed
			ossl_series ed25519
		fi
		rg_select "$sel"
		sign_check "$RG_SOCK" "${alg/ed/ed25519}"
		[[ $alg == ed ]] || sign_check "unix:$W/run/signms.sock" rsa
		sign_check "unix:$W/run/$odk.sock" "${alg/ed/ed25519}"
		for size in 4k 64k; do
			milter_series "rg.$alg.$size" "$RG_SOCK" "$RG_PID" "$size"
			[[ $alg == ed ]] || signms_series "$size"
			milter_series "odk.$alg.$size" "unix:$W/run/$odk.sock" \
				"$(_world_pid "$odk")" "$size"
		done
		# One session: latency without queueing behind other messages.
		milter_series "rg.$alg.seq" "$RG_SOCK" "$RG_PID" 4k 1
		[[ $alg == ed ]] || signms_series 4k 1
		milter_series "odk.$alg.seq" "unix:$W/run/$odk.sock" \
			"$(_world_pid "$odk")" 4k 1
	done
	# The floors: one inserted field, no work, on libmilter (null) and
	# on relaygate's engine (nullms).
	for n in null:nullmilter nullms:nullmserve; do
		for size in 4k 64k; do
			ML_SIGNED=0 milter_series "${n%%:*}.$size" \
				"unix:$W/run/${n%%:*}.sock" "$(_world_pid "${n#*:}")" \
				"$size"
		done
		ML_SIGNED=0 milter_series "${n%%:*}.seq" \
			"unix:$W/run/${n%%:*}.sock" "$(_world_pid "${n#*:}")" 4k 1
	done
	rg_select prezent-a
	tail -n +$((l0 + 1)) "$W/log/relaygate.log" | grep 'event=message ' |
		awk '/ cache=hit / { h++ } END { print "hits", h + 0, NR }' \
		>"$W/tmp/hits"
}

# ---------------------------------------------------------------------------
# Through Postfix
# ---------------------------------------------------------------------------

# queue_len - messages in the relay's queue (files, cheap)
queue_len() {
	find "$W/spool/relay/queue/"{incoming,active,deferred,maildrop} \
		-type f 2>/dev/null | wc -l
}

# queue_drained - true once the relay's queue is empty
queue_drained() {
	(($(queue_len) == 0))
}

# queue_empty - true when the relay holds no queue file; globs only, no
# process, so that it can be polled every 10 ms without costing the run.
queue_empty() {
	local q=$W/spool/relay/queue f
	for f in "$q"/incoming/* "$q"/active/* "$q"/maildrop/* "$q"/deferred/*/*; do
		[[ -e $f ]] && return 1
	done
	return 0
}

# queue_wait_empty SECONDS - poll queue_empty every 10 ms; false on
# timeout.  The pause is a read that times out on a FIFO nobody writes:
# no sleep process per poll.
queue_wait_empty() {
	local n=$(($1 * 100)) fd rc=0
	[[ -p $W/tmp/pause ]] || mkfifo "$W/tmp/pause"
	exec {fd}<>"$W/tmp/pause"
	until queue_empty; do
		((n-- > 0)) || { rc=1 && break; }
		read -r -t 0.01 -u "$fd" || true
	done
	exec {fd}<&-
	return "$rc"
}

# smtp_run PID - one smtp-source run; "accepted relayed cpu_ms all_ms"
# (PID "" for none): messages/s until smtp-source had its last reply, and
# until the last message had left the relay for the sink (what "relays"
# means: Postfix alone accepts faster than it delivers, and the rest of
# its work then runs after smtp-source has finished), the milter's CPU
# per message, and the whole machine's until the messages were delivered.
smtp_run() {
	local t0 t1 t2 c0=0 c1=0 m0 m1
	world_wait 120 queue_drained || world_fail "relay queue not drained"
	[[ -z $1 ]] || c0=$(cpu_ticks "$1")
	m0=$(machine_ticks)
	t0=$EPOCHREALTIME
	# shellcheck disable=SC2086  # options, split on purpose
	smtp-source $BENCH_SMTP_OPTS -s "$BENCH_SMTP_SESSIONS" \
		-m "$BENCH_SMTP_MSGS" -l 4096 \
		-f sender@good.test -t rcpt@example.net 127.0.0.1:25 \
		>>"$W/log/smtp-source.log" 2>&1 ||
		world_fail "smtp-source failed: $(tail -n 3 "$W/log/smtp-source.log")"
	t1=$EPOCHREALTIME
	[[ -z $1 ]] || c1=$(cpu_ticks "$1")
	queue_wait_empty 120 || world_fail "relay queue not drained"
	t2=$EPOCHREALTIME
	m1=$(machine_ticks)
	awk -v t0="$t0" -v t1="$t1" -v t2="$t2" -v n="$BENCH_SMTP_MSGS" \
		-v c=$((c1 - c0)) -v m=$((m1 - m0)) -v hz="$HZ" 'BEGIN {
		printf "%.1f %.1f %.4f %.4f\n", n / (t1 - t0), n / (t2 - t0),
		c * 1000 / hz / n, m * 1000 / hz / n }'
}

# smtp_one NAME MILTERS PID [MIN_CPU] - one run with smtpd_milters set,
# its figures appended to $W/tmp/smtp.NAME; the milter must spend
# MIN_CPU ms (0.2) per message.  Each run has Postfix restarted: a
# reload would leave old smtpd processes that may still take a session
# (and with -d all its messages) without the new milter.  Only with an
# empty queue: a restart in the middle of delivery leaves queue files
# that wait for the next trigger.
smtp_one() {
	local out r
	world_wait 120 queue_drained || world_fail "relay queue not drained"
	world_postfix_stop relay
	world_relay_milters "$2"
	world_postfix_start relay
	out=$(smtp_run "$3")
	read -r -a r <<<"$out"
	[[ -z $3 ]] || awk -v c="${r[2]}" -v m="${4:-0.2}" \
		'BEGIN { exit !(c > m) }' ||
		world_fail "postfix $1: the milter used ${r[2]} ms CPU per" \
			"message: did the messages pass it?"
	echo "$out" >>"$W/tmp/smtp.$1"
}

# smtp_record NAME - the statistics of NAME's runs
smtp_record() {
	local f=$W/tmp/smtp.$1 i k=(rate relayed cpu all)
	for i in 0 1 2 3; do
		# shellcheck disable=SC2046  # one value per word, on purpose
		record "smtp.$1.${k[i]}" $(awk -v c=$((i + 1)) '{ print $c }' "$f")
	done
	world_log "postfix $1: $(get "smtp.$1.rate") msg/s accepted," \
		"$(get "smtp.$1.relayed") relayed"
}

# smtp_pair NAME BASE - NAME's relayed rate over BASE's, round by round
# (runs of one round are minutes apart at most, so the machine's mood
# moves both alike), recorded as smtp.NAME.over.BASE.
smtp_pair() {
	# shellcheck disable=SC2046  # one value per word, on purpose
	record "smtp.$1.over.$2" $(paste -d' ' "$W/tmp/smtp.$1" \
		"$W/tmp/smtp.$2" | awk '{ printf "%.4f\n", $2 / $6 }')
}

# bench_postfix_unix - rounds of: no milter, then each milter on a unix
# socket; relaygate also with its Ed25519 selector (rg-ed-unix).
bench_postfix_unix() {
	local i
	world_step "through Postfix: smtp-source -> Postfix -> milter -> sink"
	note_cmd "smtp-source $BENCH_SMTP_OPTS -s $BENCH_SMTP_SESSIONS -m $BENCH_SMTP_MSGS -l 4096 -f sender@good.test -t rcpt@example.net 127.0.0.1:25"
	WORLD_RELAY_MILTERS="" world_postfix_start relay
	for ((i = 0; i < BENCH_RUNS; i++)); do
		smtp_one none "" ""
		smtp_one null-unix "unix:$W/run/null.sock" "$(_world_pid nullmilter)" 0.01
		smtp_one nullms-unix "unix:$W/run/nullms.sock" "$(_world_pid nullmserve)" 0.01
		smtp_one signms-unix "unix:$W/run/signms.sock" "$(_world_pid signmserve)"
		smtp_one odk-unix "unix:$W/run/odk-rsa.sock" "$(_world_pid odk-rsa)"
		smtp_one rg-unix "$RG_SOCK" "$RG_PID"
		rg_select prezent-b
		sign_check "$RG_SOCK" ed25519
		smtp_one rg-ed-unix "$RG_SOCK" "$RG_PID" 0.05
		rg_select prezent-a
	done
	for i in none null-unix nullms-unix signms-unix odk-unix rg-unix \
		rg-ed-unix; do
		smtp_record "$i"
		smtp_pair "$i" none
	done
	smtp_pair rg-unix odk-unix
	smtp_pair rg-unix nullms-unix
	smtp_pair rg-unix signms-unix
}

# bench_postfix_inet - relaygate restarted on an inet socket; rounds of:
# no milter, the engine's two floors, OpenDKIM and relaygate, all on inet.
bench_postfix_inet() {
	local i
	world_wait 120 queue_drained || world_fail "relay queue not drained"
	world_postfix_stop relay
	world_relaygate_stop 20
	RG_SOCK_NOW=inet:8891@127.0.0.1
	WORLD_MILTER_SOCKET=127.0.0.1:8891
	rg_start "$RG_SOCK_NOW"
	sign_check inet:8891@127.0.0.1 rsa
	for ((i = 0; i < BENCH_RUNS; i++)); do
		smtp_one none-inet "" ""
		smtp_one nullms-inet "inet:127.0.0.1:8893" "$(_world_pid nullms-inet)" 0.01
		smtp_one signms-inet "inet:127.0.0.1:8894" "$(_world_pid signms-inet)"
		smtp_one odk-inet "inet:127.0.0.1:8892" "$(_world_pid odk-inet)"
		smtp_one rg-inet "inet:127.0.0.1:8891" "$RG_PID"
	done
	for i in none-inet nullms-inet signms-inet odk-inet rg-inet; do
		smtp_record "$i"
		smtp_pair "$i" none-inet
	done
	smtp_pair rg-inet odk-inet
	smtp_pair rg-inet nullms-inet
	smtp_pair rg-inet signms-inet
}

# ---------------------------------------------------------------------------
# Cold checks
# ---------------------------------------------------------------------------

# dns_queries - queries the front has seen so far
dns_queries() {
	wc -l <"$W/log/dnsqueries.log"
}

# cold_one DOMAIN - one message of an uncached domain; "latency_ms queries"
cold_one() {
	local q0 q1 line
	q0=$(dns_queries)
	line=$("$ML" -S "$RG_SOCK" -c 1 -n 1 -d "$1" -b 4k 2>/dev/null) || true
	sleep 0.3 # stragglers: queries still on their way
	q1=$(dns_queries)
	[[ $(kv messages "$line") == 1 ]] ||
		world_fail "cold message for $1: $line"
	echo "$(kv max_ms "$line") $((q1 - q0))"
}

# cold_series KEY PREFIX - one message each of PREFIX1.test, PREFIX2.test,
# ... (uncached): latency, round trips and queries recorded under KEY.
cold_series() {
	local i r out lat=() rtt=() qs=()
	for ((i = 1; i <= BENCH_RUNS + 2; i++)); do
		out=$(cold_one "$2$i.test")
		read -r -a r <<<"$out"
		lat+=("${r[0]}") qs+=("${r[1]}")
		rtt+=("$(awk -v l="${r[0]}" -v d="$BENCH_DELAY_MS" \
			'BEGIN { printf "%.2f", l / d }')")
	done
	record "$1.latency" "${lat[@]}"
	record "$1.rtt" "${rtt[@]}"
	record "$1.queries" "${qs[@]}"
}

# bench_cold - latency in round trips, and the burst.
bench_cold() {
	local q0 q1 line
	world_step "cold checks: DNS front delaying every query ${BENCH_DELAY_MS} ms"
	echo "$BENCH_DELAY_MS" >"$W/tmp/dnsdelay.ms"
	cold_one cold12.test >/dev/null # shared records into the cache
	cold_series cold cold
	note_cmd "miltload -S SOCKET -c 1 -n 1 -d coldN.test -b 4k   (front delay ${BENCH_DELAY_MS} ms)"
	cold_series deep deep
	note_cmd "miltload -S SOCKET -c 1 -n 1 -d deepN.test -b 4k   (SPF: a 3-deep include chain)"
	q0=$(dns_queries)
	line=$("$ML" -S "$RG_SOCK" -c 200 -n 1 -d coldburst.test -b 4k \
		2>/dev/null) || true
	sleep 0.3
	q1=$(dns_queries)
	note_cmd "miltload -S SOCKET -c 200 -n 1 -d coldburst.test -b 4k"
	record burst.queries $((q1 - q0))
	record burst.p50 "$(kv p50_ms "$line")"
	record burst.max "$(kv max_ms "$line")"
	record burst.ok "$(kv ok "$line")"
	echo 0 >"$W/tmp/dnsdelay.ms"
	world_log "cold: $(get cold.latency) ms = $(get cold.rtt) round trips," \
		"$(get cold.queries) queries; burst of 200: $(get burst.queries)" \
		"queries, $(get burst.ok) decided"
}

# ---------------------------------------------------------------------------
# Memory
# ---------------------------------------------------------------------------

# rss_kib PID [FIELD] - a /proc/PID/status field in KiB (VmRSS default)
rss_kib() {
	awk -v f="${2:-VmRSS}:" '$1 == f { print $2 }' "/proc/$1/status"
}

# held - miltload says all its sessions are held
held() {
	grep -q '^miltload: holding' "$W/tmp/hold.err"
}

# hold_run - BENCH_HOLD sessions held at end of headers; "rss anon shmem n"
hold_run() {
	local pid out
	: >"$W/tmp/hold.err"
	"$ML" -S "$RG_SOCK" -c "$BENCH_HOLD" -n 1 -b 4k -d good.test \
		--hold-at eoh --hold 2 >"$W/tmp/hold.out" 2>"$W/tmp/hold.err" &
	pid=$!
	world_wait 60 held || world_fail "sessions not held: $(cat "$W/tmp/hold.err")"
	out="$(rss_kib "$RG_PID") $(rss_kib "$RG_PID" RssAnon)"
	out+=" $(rss_kib "$RG_PID" RssShmem)"
	out+=" $(sed -n 's/^miltload: holding \([0-9]*\).*/\1/p' "$W/tmp/hold.err")"
	wait "$pid" || world_fail "miltload: $(cat "$W/tmp/hold.out")"
	echo "$out"
}

# bench_memory - idle and at BENCH_HOLD concurrent sessions.
bench_memory() {
	local i r out rss=() anon=() shm=()
	world_step "memory: idle, and $BENCH_HOLD sessions open at once"
	sleep 1
	record mem.idle "$(rss_kib "$RG_PID")"
	record mem.idle.anon "$(rss_kib "$RG_PID" RssAnon)"
	record mem.idle.shmem "$(rss_kib "$RG_PID" RssShmem)"
	record mem.idle.file "$(rss_kib "$RG_PID" RssFile)"
	for ((i = 0; i < BENCH_RUNS; i++)); do
		out=$(hold_run)
		read -r -a r <<<"$out"
		((r[3] == BENCH_HOLD)) || world_fail "only ${r[3]} sessions held"
		rss+=("${r[0]}") anon+=("${r[1]}") shm+=("${r[2]}")
	done
	record mem.held "${rss[@]}"
	record mem.held.anon "${anon[@]}"
	record mem.held.shmem "${shm[@]}"
	record mem.hwm "$(rss_kib "$RG_PID" VmHWM)"
	note_cmd "miltload -S SOCKET -c $BENCH_HOLD -n 1 -b 4k -d good.test --hold-at eoh --hold 2"
	world_log "memory: idle $(get mem.idle) KiB, $BENCH_HOLD sessions $(get mem.held) KiB"
}

# bench_stop - Postfix, then the other milters, all TERMed at once
# (each takes seconds to exit: test-world.md section 14).
bench_stop() {
	local n milters
	world_postfix_stop relay
	milters="odk-rsa odk-ed odk-inet nullmilter nullmserve nullms-inet
		signmserve signms-inet"
	for n in $milters; do
		kill -TERM "$(_world_pid "$n")" 2>/dev/null || true
	done
	for n in $milters; do
		_world_stop "$n" 10 || true
	done
}

# ---------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------

# fig KEY [SCALE [FORMAT]] - "median (min-max)" of a figure
fig() {
	local s=${2:-1} f=${3:-%.1f}
	awk -v k="$1" -v s="$s" -v f="$f" '$1 == k {
		printf f " (" f "-" f ")", $2 * s, $3 * s, $4 * s }' "$RES"
}

# per_sig CPU RATE - CPU (ms per message) over the cost of one signature,
# RATE being openssl speed's signatures per second on one thread
per_sig() {
	awk -v c="$(get "$1")" -v r="$(get "$2")" \
		'BEGIN { printf "%.2f", c * r / 1000 }'
}

# ratio A B [FORMAT] - median of A / median of B
ratio() {
	awk -v a="$(get "$1")" -v b="$(get "$2")" -v f="${3:-%.2f}" \
		'BEGIN { if (b > 0) printf f, a / b; else printf "-" }'
}

# inv KEY - 1000 / median: ms per operation from operations per second
inv() {
	awk -v v="$(get "$1")" 'BEGIN { printf "%.3f", (v > 0 ? 1000 / v : 0) }'
}

# print_machine - what the figures were measured on
print_machine() {
	local rev
	rev=$(git -C "$BENCH_REPO" rev-parse --short HEAD 2>/dev/null || echo ?)
	git -C "$BENCH_REPO" diff --quiet HEAD -- milter contrib 2>/dev/null ||
		rev+=" (working tree differs)"
	echo "relaygate benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), commit $rev"
	echo "machine:  $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores," \
		"$(free -g | awk '/^Mem:/ { print $2 }') GiB, $(uname -sr)"
	echo "software: $(. /etc/os-release && echo "$PRETTY_NAME"), $(openssl version | cut -d' ' -f1-2)," \
		"Postfix $(postconf -d -h mail_version), $(opendkim -V | head -n 1 | sed 's/.*OpenDKIM/OpenDKIM/')"
	echo "runs:     median (min-max) of $BENCH_RUNS runs; milter only:" \
		"$BENCH_MSGS messages over $BENCH_CONNS sessions per run"
	echo "load:     average $BENCH_LOAD0 at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end" \
		"(other work on the machine skews throughput, less so CPU/msg)"
}

# print_milter_row ALG SIZE - one row of the milter-only table
print_milter_row() {
	local a=$1 s=$2 o=ossl.rsa2048
	[[ $a == ed ]] && o=ossl.ed25519
	printf '%-8s %-4s %-22s %-22s %6s  %-20s %-20s %6s %6s\n' \
		"${a/ed/Ed25519}" "$s" "$(fig "rg.$a.$s.rate" 1 %.0f)" \
		"$(fig "odk.$a.$s.rate" 1 %.0f)" "$(ratio "rg.$a.$s.rate" "odk.$a.$s.rate")" \
		"$(fig "rg.$a.$s.cpu" 1 %.3f)" "$(fig "odk.$a.$s.cpu" 1 %.3f)" \
		"$(per_sig "rg.$a.$s.cpu" "$o.1")" "$(per_sig "odk.$a.$s.cpu" "$o.1")"
}

# print_table - everything measured
print_table() {
	local a s n cpu base
	n=$(nproc)
	print_machine
	echo
	echo "MILTER ONLY (miltload -> milter, unix socket, warm cache)"
	printf '%-8s %-4s %-22s %-22s %6s  %-20s %-20s %6s %6s\n' alg body \
		"relaygate msg/s" "opendkim msg/s" "rg/odk" "relaygate CPU ms/msg" \
		"opendkim CPU ms/msg" "rg/sig" "odk/sig"
	for a in rsa ed; do
		for s in 4k 64k; do
			print_milter_row "$a" "$s"
		done
	done
	echo "raw signing limit (openssl speed): RSA-2048 $(fig ossl.rsa2048.1 1 %.0f) sign/s" \
		"on 1 thread = $(inv ossl.rsa2048.1) ms/sig, $(fig ossl.rsa2048.n 1 %.0f) on $n;" \
		"Ed25519 $(fig ossl.ed25519.1 1 %.0f) = $(inv ossl.ed25519.1) ms/sig, $(fig ossl.ed25519.n 1 %.0f) on $n"
	echo "throughput vs the limit on $n threads: relaygate RSA 4k $(ratio rg.rsa.4k.rate ossl.rsa2048.n)," \
		"opendkim RSA 4k $(ratio odk.rsa.4k.rate ossl.rsa2048.n);" \
		"relaygate Ed25519 4k $(ratio rg.ed.4k.rate ossl.ed25519.n)," \
		"opendkim Ed25519 4k $(ratio odk.ed.4k.rate ossl.ed25519.n)"
	echo "floors (contrib/nullmilter: one inserted field, no work):" \
		"libmilter 4k $(fig null.4k.cpu 1 %.3f) ms CPU/msg, $(fig null.4k.rate 1 %.0f) msg/s;" \
		"64k $(fig null.64k.cpu 1 %.3f) ms, $(fig null.64k.rate 1 %.0f) msg/s;" \
		"relaygate's engine 4k $(fig nullms.4k.cpu 1 %.3f) ms, $(fig nullms.4k.rate 1 %.0f) msg/s;" \
		"64k $(fig nullms.64k.cpu 1 %.3f) ms, $(fig nullms.64k.rate 1 %.0f) msg/s"
	echo "floor that signs (contrib/nullmilter/signmserve: relaygate's engine" \
		"and signature, RSA-2048, no check, no log): 4k $(fig signms.4k.cpu 1 %.3f) ms" \
		"CPU/msg = $(per_sig signms.4k.cpu ossl.rsa2048.1)x the signature," \
		"$(fig signms.4k.rate 1 %.0f) msg/s; 64k $(fig signms.64k.cpu 1 %.3f) ms," \
		"$(fig signms.64k.rate 1 %.0f) msg/s; relaygate over it, RSA 4k CPU/msg:" \
		"$(ratio rg.rsa.4k.cpu signms.4k.cpu)"
	echo "relaygate's verdict cache: $(awk '{ print $2 " of " $3 }' "$W/tmp/hits")" \
		"milter-only messages were cache hits"
	echo "latency, MAIL FROM to the decision, 4 KiB (ms):"
	printf '  %-10s %-38s %-38s\n' "" "relaygate p50 / p99" "opendkim p50 / p99"
	for a in rsa ed; do
		printf '  %-10s %-38s %-38s\n' "${a/ed/Ed25519} 1" \
			"$(fig "rg.$a.seq.p50" 1 %.2f) / $(fig "rg.$a.seq.p99" 1 %.2f)" \
			"$(fig "odk.$a.seq.p50" 1 %.2f) / $(fig "odk.$a.seq.p99" 1 %.2f)"
		printf '  %-10s %-38s %-38s\n' "${a/ed/Ed25519} $BENCH_CONNS" \
			"$(fig "rg.$a.4k.p50" 1 %.2f) / $(fig "rg.$a.4k.p99" 1 %.2f)" \
			"$(fig "odk.$a.4k.p50" 1 %.2f) / $(fig "odk.$a.4k.p99" 1 %.2f)"
	done
	printf '  %-10s %-38s\n' "floor 1" \
		"$(fig null.seq.p50 1 %.2f) / $(fig null.seq.p99 1 %.2f)   (nullmilter, libmilter)"
	printf '  %-10s %-38s\n' "floor 1" \
		"$(fig nullms.seq.p50 1 %.2f) / $(fig nullms.seq.p99 1 %.2f)   (nullmserve, relaygate's engine)"
	printf '  %-10s %-38s\n' "signing 1" \
		"$(fig signms.seq.p50 1 %.2f) / $(fig signms.seq.p99 1 %.2f)   (signmserve: engine and RSA signature)"
	echo "  (1: one session, messages one after another; $BENCH_CONNS: $BENCH_CONNS sessions in flight" \
		"on $n cores; one session: relaygate $(fig rg.rsa.seq.rate 1 %.0f) msg/s," \
		"opendkim $(fig odk.rsa.seq.rate 1 %.0f) with RSA)"
	echo
	echo "THROUGH POSTFIX (smtp-source $BENCH_SMTP_OPTS -s $BENCH_SMTP_SESSIONS, 4 KiB, RSA-2048; rg-ed-unix: Ed25519)"
	printf '%-12s %-18s %-18s %-18s %-20s %-20s\n' milter "accepted msg/s" \
		"relayed msg/s" "x none" "milter CPU ms/msg" "all CPU ms/msg"
	for a in none null-unix nullms-unix signms-unix odk-unix rg-unix \
		rg-ed-unix none-inet nullms-inet signms-inet odk-inet rg-inet; do
		cpu=- base=none
		[[ $a == none* ]] || cpu=$(fig "smtp.$a.cpu" 1 %.3f)
		[[ $a != *-inet ]] || base=none-inet
		printf '%-12s %-18s %-18s %-18s %-20s %-20s\n' "$a" \
			"$(fig "smtp.$a.rate" 1 %.0f)" "$(fig "smtp.$a.relayed" 1 %.0f)" \
			"$(fig "smtp.$a.over.$base" 1 %.2f)" "$cpu" \
			"$(fig "smtp.$a.all" 1 %.3f)"
	done
	echo "(accepted: until smtp-source had its last reply; relayed: until the" \
		"last message had left the relay for the sink; x none: relayed, over" \
		"Postfix with no milter in the same round (a round runs each row once," \
		"in table order; the inet rows are rounds of their own, after" \
		"relaygate moved to an inet socket); all: the whole machine's busy CPU" \
		"time, from the first message to the last one delivered, per message)"
	echo "relaygate / opendkim, relayed, round by round:" \
		"unix $(fig smtp.rg-unix.over.odk-unix 1 %.2f)," \
		"inet $(fig smtp.rg-inet.over.odk-inet 1 %.2f);" \
		"relaygate / nullms (the floor: relaygate's engine, one inserted" \
		"field, no work): unix $(fig smtp.rg-unix.over.nullms-unix 1 %.2f)," \
		"inet $(fig smtp.rg-inet.over.nullms-inet 1 %.2f);" \
		"relaygate / signms (the floor that signs: the engine and the" \
		"signature, nothing else): unix $(fig smtp.rg-unix.over.signms-unix 1 %.2f)," \
		"inet $(fig smtp.rg-inet.over.signms-inet 1 %.2f)"
	echo
	echo "COLD CHECKS (DNS front delaying each query $BENCH_DELAY_MS ms)"
	echo "one message, uncached domain: $(fig cold.latency 1 %.0f) ms =" \
		"$(fig cold.rtt 1 %.1f) round trips, $(fig cold.queries 1 %.0f) DNS queries"
	echo "the same, SPF behind a 3-deep include chain: $(fig deep.latency 1 %.0f) ms =" \
		"$(fig deep.rtt 1 %.1f) round trips, $(fig deep.queries 1 %.0f) DNS queries"
	echo "burst of 200 concurrent messages, one uncached domain:" \
		"$(get burst.queries) DNS queries (one check: $(get cold.queries))," \
		"$(get burst.ok) decided, p50 $(get burst.p50) ms, max $(get burst.max) ms"
	echo
	echo "MEMORY (relaygate RSS; cache.capacity ${BENCH_CACHE_CAPACITY:-as by default})"
	echo "idle: $(fig mem.idle 0.0009765625 %.1f) MiB (anon $(fig mem.idle.anon 0.0009765625 %.1f)," \
		"file $(fig mem.idle.file 0.0009765625 %.1f), shmem $(fig mem.idle.shmem 0.0009765625 %.1f))"
	echo "$BENCH_HOLD sessions open: $(fig mem.held 0.0009765625 %.1f) MiB" \
		"(anon $(fig mem.held.anon 0.0009765625 %.1f), shmem" \
		"$(fig mem.held.shmem 0.0009765625 %.1f)); peak $(fig mem.hwm 0.0009765625 %.1f) MiB"
	echo
	echo "COMMANDS (inside tests/world's namespace; see contrib/bench.sh)"
	sed 's/^/  /' "$CMDS"
}

BENCH_LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
# section NAME - is NAME among BENCH_SECTIONS?
section() {
	[[ " $BENCH_SECTIONS " == *" $1 "* ]]
}

bench_world
sign_check "$RG_SOCK" rsa
touch "$W/tmp/hits"
if section memory; then bench_memory; fi
if section milter; then bench_milter_only; fi
if section cold; then bench_cold; fi
if section postfix; then
	bench_postfix_unix
	bench_postfix_inet
fi
bench_stop
mkdir -p "$(dirname "$BENCH_OUT")"
print_table | tee "$BENCH_OUT"
world_log "bench: table in $BENCH_OUT"
