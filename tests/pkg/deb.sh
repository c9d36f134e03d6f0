#!/bin/bash
# deb.sh SRCDIR WORKDIR - build the Debian package from the tree, install
# it, use it, purge it; the host is never touched.
#
# The package is built as contrib/packaging.cmake says (a build directory
# of its own, WORKDIR/build, prefix /usr, CPack DEB).  Then, in private
# mount, network and PID namespaces where /etc, /usr, /var and /run are
# overlays of the host's (writes land in WORKDIR/root) and /dev/shm is a
# fresh tmpfs, the package is installed with dpkg -i and checked: files,
# conffiles, the relaygate user and directories, "relaygate -n" on the
# installed configuration, the man pages (man -w), the unit
# (systemd-analyze verify), keys written by relaygatectl keygen, and
# relaygate started from the installed files (as root, dropping to
# relaygate: socket, pid file, cache segment, state file at stop).  Then
# dpkg --purge, and what must go is gone.  Once more without
# systemd-sysusers and systemd-tmpfiles (postinst falls back to adduser).
# Starting under systemd is not tested: there is no systemd as PID 1 here.
#
# Needs root, unshare, overlayfs, dpkg-dev, groff, man-db and systemd
# (systemd-sysusers, -tmpfiles, -analyze), as contrib/install-deps.sh
# installs.  Exits 0 if every check passes.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../lib/checks.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/checks.sh"

# check WHAT CMD... - CMD must succeed.
check() {
	local what=$1
	shift
	if "$@" >"$WORK/check.out" 2>&1; then
		ok "$what"
	else
		fail "$what: $(head -3 "$WORK/check.out")"
	fi
}

# stat_is PATH "OWNER:GROUP MODE" - owner, group and octal mode of PATH.
stat_is() {
	local got
	got=$(stat -c '%U:%G %a' "$1" 2>&1) || true
	[[ $got == "$2" ]] || { echo "$1 is $got, expected $2"; return 1; }
}

# --- the namespace stage ---------------------------------------------------

# ns_overlays - /etc, /usr, /var, /run as overlays; /dev/shm fresh.
ns_overlays() {
	local top
	for top in etc usr var run; do
		mkdir -p "$WORK/root/$top/upper" "$WORK/root/$top/work"
		mount -t overlay "deb-$top" -o "lowerdir=/$top,upperdir=$WORK/root/$top/upper,workdir=$WORK/root/$top/work" "/$top"
	done
	mount -t tmpfs -o mode=1777 deb-shm /dev/shm
}

# ns_files - what the package put where.
ns_files() {
	local f missing=""
	for f in /usr/sbin/relaygate /usr/sbin/relaygatectl \
		/etc/relaygate/relaygate.conf /etc/relaygate/advise/en.txt \
		/etc/relaygate/advise/nl.txt \
		/usr/lib/systemd/system/relaygate.service \
		/usr/lib/sysusers.d/relaygate.conf \
		/usr/lib/tmpfiles.d/relaygate.conf \
		/usr/share/man/man8/relaygate.8 \
		/usr/share/man/man8/relaygatectl.8 \
		/usr/share/man/man5/relaygate.conf.5 \
		/usr/share/doc/relaygate/INSTALL; do
		[[ -e $f ]] || missing="$missing $f"
	done
	if [[ -n $missing ]]; then
		fail "installed files missing:$missing"
	else
		ok "binaries, configuration, templates, unit, sysusers, tmpfiles, man pages, documentation installed"
	fi
	check "the configuration is a conffile" grep -qx \
		' /etc/relaygate/relaygate.conf [0-9a-f]*' \
		<(dpkg-query -W -f='${Conffiles}\n' relaygate)
	check "the binaries link (ldd finds every library)" \
		bash -c '! ldd /usr/sbin/relaygate /usr/sbin/relaygatectl | grep -q "not found"'
}

# ns_user - the user, group and directories postinst made.
ns_user() {
	check "user relaygate exists, group relaygate" \
		bash -c '[[ $(id -gn relaygate) == relaygate ]]'
	check "relaygate cannot log in" bash -c \
		'[[ $(getent passwd relaygate | cut -d: -f7) == */nologin ]]'
	check "/var/lib/relaygate/state is relaygate's, 0750" \
		stat_is /var/lib/relaygate/state "relaygate:relaygate 750"
	check "/etc/relaygate/keys is relaygate's, 0700" \
		stat_is /etc/relaygate/keys "relaygate:relaygate 700"
	check "/run/relaygate exists, 0755" stat_is /run/relaygate "root:root 755"
}

# ns_tools - the installed programs, pages and unit work.
ns_tools() {
	check "relaygate -n accepts the installed configuration" \
		bash -c '/usr/sbin/relaygate -n | grep -qx "relaygate: /etc/relaygate/relaygate.conf: configuration OK"'
	check "the installed configuration has every default" \
		bash -c '! /usr/sbin/relaygatectl config dump | grep -q "# default:"'
	check "man -w relaygate" bash -c \
		'[[ $(man -w relaygate) == /usr/share/man/man8/relaygate.8* ]]'
	check "man -w 5 relaygate.conf" bash -c \
		'[[ $(man -w 5 relaygate.conf) == /usr/share/man/man5/relaygate.conf.5* ]]'
	check "man -w relaygatectl" bash -c \
		'[[ $(man -w relaygatectl) == /usr/share/man/man8/relaygatectl.8* ]]'
	if command -v systemd-analyze >/dev/null; then
		check "systemd-analyze verify relaygate.service" bash -c \
			'out=$(systemd-analyze verify /usr/lib/systemd/system/relaygate.service 2>&1) && [[ -z $out ]] || { echo "$out"; exit 1; }'
	else
		echo "skip systemd-analyze verify: no systemd-analyze"
	fi
}

# ns_keys - keys written as root belong to relaygate.
ns_keys() {
	local sel
	for sel in prezent-a prezent-b; do
		check "relaygatectl keygen $sel" \
			/usr/sbin/relaygatectl keygen "$sel"
		check "the key of $sel is relaygate's, 0600" stat_is \
			"/etc/relaygate/keys/$sel.pem" "relaygate:relaygate 600"
	done
	check "relaygatectl keys --no-dns loads both" \
		/usr/sbin/relaygatectl keys --no-dns
}

# ns_run - relaygate from the installed files, as root, logging to
# stderr; stopped with SIGTERM.
ns_run() {
	local pid i rc conf=$WORK/stderr.conf log=$WORK/relaygate.log
	printf 'log: { destination = "stderr"; };\n' >"$conf"
	getent group postfix >/dev/null || groupadd --system postfix
	/usr/sbin/relaygate -f -c "$conf" 2>"$log" &
	pid=$!
	# "event=start" comes once privileges are dropped and it serves.
	for ((i = 0; i < 200; i++)); do
		grep -q 'event=start ' "$log" && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if ! grep -q 'event=start ' "$log"; then
		fail "relaygate does not listen: $(tail -3 "$log")"
		kill "$pid" 2>/dev/null || true
		return
	fi
	ok "relaygate starts from the installed files"
	check "it runs as relaygate" bash -c \
		"[[ \$(awk '/^Uid:/ { print \$3 }' /proc/$pid/status) == \$(id -u relaygate) ]]"
	check "the socket is relaygate:postfix 0660" \
		stat_is /run/relaygate/relaygate.sock "relaygate:postfix 660"
	check "the pid file names it" \
		bash -c "[[ \$(cat /run/relaygate/relaygate.pid) == $pid ]]"
	check "the cache segment is group relaygate, 0640" \
		stat_is /dev/shm/relaygate "root:relaygate 640"
	kill -TERM "$pid"
	for ((i = 0; i < 300; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		fail "relaygate still runs 30 s after SIGTERM"
		kill -KILL "$pid"
	fi
	rc=0
	wait "$pid" || rc=$?
	if ((rc == 0)); then
		ok "it exits 0 on SIGTERM"
	else
		fail "it exits $rc on SIGTERM: $(tail -3 "$log")"
	fi
	check "it wrote the state file as relaygate" stat_is \
		/var/lib/relaygate/state/cache.state "relaygate:relaygate 640"
}

# ns_purge - dpkg --purge leaves nothing of the package but the keys (and,
# as Debian does, the system user).
ns_purge() {
	local f left=""
	check "dpkg --purge relaygate" dpkg --purge relaygate
	check "the package is gone from dpkg's database" bash -c \
		'! dpkg-query -W -f="\${Status}\n" relaygate 2>/dev/null | grep -q installed'
	for f in /usr/sbin/relaygate /usr/sbin/relaygatectl \
		/etc/relaygate/relaygate.conf /etc/relaygate/advise \
		/usr/lib/systemd/system/relaygate.service \
		/usr/lib/sysusers.d/relaygate.conf \
		/usr/lib/tmpfiles.d/relaygate.conf \
		/usr/share/man/man8/relaygate.8 /usr/share/man/man5/relaygate.conf.5 \
		/usr/share/doc/relaygate /var/lib/relaygate /run/relaygate /dev/shm/relaygate; do
		[[ ! -e $f ]] || left="$left $f"
	done
	if [[ -n $left ]]; then
		fail "left after purge:$left"
	else
		ok "files, state, runtime directory and cache segment are gone"
	fi
	check "the private keys are kept" test -f /etc/relaygate/keys/prezent-a.pem
	check "man -w relaygate finds nothing" bash -c '! man -w relaygate'
}

# ns_fallback - without systemd-sysusers and systemd-tmpfiles, postinst
# makes the user and directories with adduser and install.
ns_fallback() {
	local t
	for t in systemd-sysusers systemd-tmpfiles; do
		mv "/usr/bin/$t" "/usr/bin/$t.hidden"
	done
	userdel relaygate
	getent group relaygate >/dev/null && groupdel relaygate
	rm -rf /etc/relaygate
	check "dpkg -i without systemd's tools" dpkg -i "$DEB"
	ns_user
	check "dpkg --purge without systemd's tools" dpkg --purge relaygate
	for t in systemd-sysusers systemd-tmpfiles; do
		mv "/usr/bin/$t.hidden" "/usr/bin/$t"
	done
}

ns_stage() {
	ns_overlays
	echo "== dpkg -i $(basename "$DEB")"
	if ! dpkg -i "$DEB"; then
		fail "dpkg -i"
		exit 1
	fi
	ns_files
	ns_user
	ns_tools
	# An upgrade (here: the same version again) keeps a changed conffile.
	echo '# changed by deb.sh' >>/etc/relaygate/relaygate.conf
	check "dpkg -i again (upgrade)" dpkg --force-confold -i "$DEB"
	check "the changed configuration is kept" \
		grep -qx '# changed by deb.sh' /etc/relaygate/relaygate.conf
	ns_keys
	ns_run
	echo "== dpkg --purge relaygate"
	ns_purge
	echo "== again, without systemd-sysusers and systemd-tmpfiles"
	ns_fallback
	checks_done
}

# --- the host stage ----------------------------------------------------------

# host_state - what the test must not change on the host.
host_state() {
	{
		dpkg-query -W -f='${Package} ${Status}\n' relaygate 2>&1 || true
		sha256sum /etc/passwd /etc/group
		ls -d /usr/sbin/relaygate /var/lib/relaygate /etc/relaygate \
			/usr/lib/systemd/system/relaygate.service 2>&1 || true
	} | sort
}

host_stage() {
	local src work before after rc=0 tool
	src=$(readlink -f "$1")
	work=$(readlink -m "$2")
	[[ $(id -u) == 0 ]] || { echo "deb.sh: must run as root" >&2; exit 1; }
	for tool in cpack dpkg dpkg-deb dpkg-shlibdeps groff man \
		systemd-sysusers systemd-tmpfiles unshare; do
		command -v "$tool" >/dev/null || {
			echo "deb.sh: no $tool (contrib/install-deps.sh)" >&2
			exit 1
		}
	done
	mkdir -p "$work"
	rm -rf "$work/root" "$work/out"
	mkdir -p "$work/root" "$work/out"

	echo "== building the package in $work/build"
	cmake -S "$src" -B "$work/build" -DCMAKE_INSTALL_PREFIX=/usr \
		-DCMAKE_BUILD_TYPE=RelWithDebInfo -DRELAYGATE_TESTS=OFF \
		-DRELAYGATE_WERROR=OFF >"$work/cmake.log" 2>&1 ||
		{ cat "$work/cmake.log"; exit 1; }
	cmake --build "$work/build" -j "$(nproc)" >"$work/build.log" 2>&1 ||
		{ tail -30 "$work/build.log"; exit 1; }
	(cd "$work/build" && cpack -G DEB -B "$work/out") \
		>"$work/cpack.log" 2>&1 || { cat "$work/cpack.log"; exit 1; }
	DEB=$(ls "$work"/out/relaygate_*.deb)
	WORK=$work
	ok "built $(basename "$DEB")"
	host_checks

	before=$(host_state)
	DEB_TEST_STAGE=ns DEB=$DEB WORK=$work \
		unshare --mount --net --pid --fork --kill-child --mount-proc \
		-- bash "$(readlink -f "$0")" || rc=$?
	after=$(host_state)
	if [[ $before != "$after" ]]; then
		fail "the host changed: $(diff <(echo "$before") <(echo "$after"))"
	else
		ok "the host is unchanged"
	fi
	((fails == 0 && rc == 0)) || { echo "deb.sh: failed"; exit 1; }
}

# host_checks - the package itself: dependencies and maintainer scripts.
host_checks() {
	local dep depends
	depends=$(dpkg-deb -f "$DEB" Depends)
	for dep in libopendkim11 libspf2-2 libconfig9 \
		libunbound8 libidn2-0 libpsl5 libssl3 libc6 adduser; do
		[[ $depends == *"$dep"* ]] || fail "Depends lacks $dep: $depends"
	done
	# The milter protocol is relaygate's own (milter/mserve.c).
	[[ $depends != *libmilter* ]] || fail "Depends names libmilter: $depends"
	ok "Depends: $depends"
	check "control has postinst, prerm, postrm, conffiles" bash -c \
		"dpkg-deb -I '$DEB' | grep -c -E ' (postinst|prerm|postrm|conffiles) ' | grep -qx 4"
}

if [[ ${DEB_TEST_STAGE:-} == ns ]]; then
	ns_stage
else
	host_stage "$@"
fi
