#!/bin/sh
# install-deps.sh - install everything relaygate needs to build, test and
# benchmark, from Debian 12 packages only.
#
# Idempotent and non-interactive.  Postfix is preseeded with "No
# configuration"; package maintainer scripts are kept from starting the
# system's own postfix, unbound, nsd or opendkim, and any such service left
# running is stopped, because relaygate's demo and tests start their own
# instances in private network namespaces.
set -eu

BUILD_PKGS="build-essential cmake pkg-config clang llvm
	libmilter-dev libopendkim-dev libspf2-dev libconfig-dev libunbound-dev
	libssl-dev libcmocka-dev libpsl-dev publicsuffix libidn2-dev"
# groff-base ... systemd: the man page check (tests/cli/man_keys.sh) and the
# package test (tests/pkg/deb.sh: dpkg-shlibdeps, systemd-sysusers,
# systemd-tmpfiles, systemd-analyze).
TEST_PKGS="postfix unbound nsd python3 python3-dkim python3-dnspython
	python3-nacl python3-yaml
	opendkim opendkim-tools dns-root-data iproute2 util-linux procps
	openssl swaks
	groff-base man-db dpkg-dev adduser systemd"

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps.sh: must run as root (apt-get)" >&2
	exit 1
fi

missing=""
for p in $BUILD_PKGS $TEST_PKGS; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
	    grep -q '^install ok installed$' || missing="$missing $p"
done

if [ -n "$missing" ]; then
	export DEBIAN_FRONTEND=noninteractive
	echo "postfix postfix/main_mailer_type select No configuration" |
	    debconf-set-selections
	# Keep maintainer scripts from starting services; only remove the
	# guard if we created it.
	guard=""
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		guard=/usr/sbin/policy-rc.d
	fi
	trap '[ -z "$guard" ] || rm -f "$guard"' EXIT
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# Stop and disable the system's own instances, whatever started them.
for svc in postfix unbound nsd opendkim; do
	if command -v systemctl >/dev/null 2>&1 &&
	    [ -d /run/systemd/system ]; then
		systemctl disable --now "$svc" >/dev/null 2>&1 || true
	elif [ -x "/etc/init.d/$svc" ]; then
		"/etc/init.d/$svc" stop >/dev/null 2>&1 || true
	fi
done
echo "install-deps.sh: all packages present"
