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
	groff-base man-db dpkg-dev adduser systemd
	m4 libdb5.3 libldap-2.5-0 liblockfile1 libnsl2 libsasl2-2 libssl3
	libwrap0"
# The second line above: what Debian's sendmail-bin needs to run.  sendmail
# itself conflicts with Postfix as a package, so tests/e2e/sendmail.sh runs
# sendmail-bin and sendmail-cf unpacked under build/deps/sendmail (below).
SENDMAIL_PKGS="sendmail-bin sendmail-cf"

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

# sendmail for tests/e2e/sendmail.sh, unpacked, not installed.
repo=$(cd "$(dirname "$0")/.." && pwd)
sm="$repo/build/deps/sendmail"
if [ ! -x "$sm/usr/libexec/sendmail/sendmail" ] ||
    [ ! -f "$sm/usr/share/sendmail/cf/m4/cf.m4" ]; then
	tmp=$(mktemp -d)
	# shellcheck disable=SC2086
	(cd "$tmp" && apt-get download -qq -o APT::Sandbox::User=root \
	    $SENDMAIL_PKGS >/dev/null 2>&1) || {
		apt-get update -qq
		# shellcheck disable=SC2086
		(cd "$tmp" && apt-get download -qq \
		    -o APT::Sandbox::User=root $SENDMAIL_PKGS >/dev/null)
	}
	rm -rf "$sm"
	mkdir -p "$sm"
	for deb in "$tmp"/*.deb; do
		dpkg-deb -x "$deb" "$sm"
	done
	rm -rf "$tmp"
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
