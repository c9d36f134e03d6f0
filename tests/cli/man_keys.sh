#!/bin/bash
# man_keys.sh RELAYGATE RELAYGATECTL SRCDIR - the manual pages against the
# binaries, so that a new setting, command or option that is not
# documented (or a documented one that is gone) fails a test:
#   - every page renders with groff -ww without a warning;
#   - relaygate.conf(5) has an entry for every setting of
#     "relaygatectl config dump" (members of lists of groups included) and
#     for nothing else, and states each default as the dump prints it;
#   - conf/relaygate.conf sets every setting (members aside), no other;
#   - no page, nor INSTALL, names a setting that does not exist;
#   - relaygatectl(8) has a subsection for every command of the usage text
#     and for nothing else;
#   - every option of both usage texts is an entry of its page's OPTIONS.
# The conventions the pages follow are in the comment at the top of each.
set -euo pipefail
rg=$1 ctl=$2 src=$3
man=$src/man
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source-path=SCRIPTDIR source=../lib/checks.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/checks.sh"

# --- rendering -------------------------------------------------------------
for page in relaygate.8 relaygatectl.8 relaygate.conf.5; do
	rc=0
	groff -t -man -Tutf8 -ww -z "$man/$page" 2>"$tmp/groff.err" || rc=$?
	if ((rc != 0)) || [[ -s $tmp/groff.err ]]; then
		fail "$page renders with warnings (exit $rc): $(head -3 "$tmp/groff.err")"
	else
		ok "$page renders without warnings"
	fi
done

# render PAGE - plain text, one output line per paragraph (no filling,
# hyphenation, bold or underlining to get in the way of matching).
render() {
	groff -t -man -Tutf8 -rLL=4000n -rHY=0 -P-cbu "$man/$1" 2>/dev/null
}

# --- the settings ----------------------------------------------------------
# The dump of the defaults plus one override, so that the members of
# policy.overrides show up as those of dkim.selectors do.
printf 'policy: { overrides = ( { domain = "example.nl"; action = "monitor"; } ); };\n' \
	>"$tmp/one-override.conf"
"$ctl" -c "$tmp/one-override.conf" config dump >"$tmp/dump"

# dump_keys - "group.name" for every setting and "group.name.member" for
# every member of a list of groups, from the dump on stdin.
dump_keys() {
	awk '
		/^[a-z_]+: \{$/ { group = substr($1, 1, length($1) - 1); next }
		/^\t[a-z_]+ = / {
			key = group "." $1
			print key
			next
		}
		/^\t\t\{ / {
			line = $0
			while (match(line, /(\{ |; )[a-z_]+ = /)) {
				m = substr(line, RSTART, RLENGTH)
				sub(/^(\{ |; )/, "", m)
				sub(/ = $/, "", m)
				print key "." m
				line = substr(line, RSTART + RLENGTH)
			}
		}
	' | sort -u
}
dump_keys <"$tmp/dump" >"$tmp/keys.dump"
[[ $(wc -l <"$tmp/keys.dump") -gt 40 ]] ||
	fail "the dump yields only $(wc -l <"$tmp/keys.dump") settings"

# man_keys - the entries of SETTINGS in relaygate.conf(5): ".TP" then
# ".B name"; a name without a dot is a member of the last setting.
man_keys() {
	awk '
		/^\.SH / { in_settings = ($2 == "SETTINGS"); next }
		!in_settings { next }
		/^\.TP/ { tp = 1; next }
		tp && /^\.B [^ ]+$/ {
			name = $2
			gsub(/\\-/, "-", name)
			if (name ~ /\./) { parent = name; print name }
			else print parent "." name
		}
		{ tp = 0 }
	' "$man/relaygate.conf.5" | sort -u
}
man_keys >"$tmp/keys.man"

missing=$(comm -23 "$tmp/keys.dump" "$tmp/keys.man")
extra=$(comm -13 "$tmp/keys.dump" "$tmp/keys.man")
if [[ -n $missing ]]; then
	fail "relaygate.conf(5) lacks an entry for:" $missing
else
	ok "relaygate.conf(5) has an entry for each of $(wc -l <"$tmp/keys.dump") settings"
fi
if [[ -n $extra ]]; then
	fail "relaygate.conf(5) documents settings that do not exist:" $extra
else
	ok "relaygate.conf(5) documents no other setting"
fi

# The reference file (conf/relaygate.conf) sets every setting, and no
# other: "relaygate -n" rejects unknown ones, but one left out would go
# undocumented there.
awk '/^[a-z_]+: \{/ { g = substr($1, 1, length($1) - 1); next }
     /^\t[a-z_]+ = / { print g "." $1 }' "$src/conf/relaygate.conf" |
	sort -u >"$tmp/keys.conf"
grep -v '\..*\.' "$tmp/keys.dump" >"$tmp/keys.top"
missing=$(comm -23 "$tmp/keys.top" "$tmp/keys.conf")
extra=$(comm -13 "$tmp/keys.top" "$tmp/keys.conf")
if [[ -n $missing || -n $extra ]]; then
	fail "conf/relaygate.conf lacks:" $missing "; sets unknown:" $extra
else
	ok "conf/relaygate.conf sets each of $(wc -l <"$tmp/keys.top") settings, no other"
fi

# The default of each one-line setting, as the dump prints it, must be
# stated in the first paragraph of its entry as "default VALUE".
: >"$tmp/empty.conf"
"$ctl" -c "$tmp/empty.conf" config dump |
	awk '/^[a-z_]+: \{$/ { g = substr($1, 1, length($1) - 1); next }
	     /^\t[a-z_]+ = .*;$/ {
		k = $1; v = $0
		sub(/^\t[a-z_]+ = /, "", v); sub(/;$/, "", v)
		print g "." k "\t" v }' >"$tmp/defaults"
render relaygate.conf.5 >"$tmp/conf.txt"
bad=0
while IFS=$'\t' read -r key value; do
	# The first line after the line holding only the key.
	body=$(awk -v k="$key" '
		found { print; exit }
		{ t = $0; sub(/^ +/, "", t); if (t == k) found = 1 }
	' "$tmp/conf.txt")
	case $body in
	*"default $value;"* | *"default $value."* | *"default $value,"*) ;;
	*)
		fail "relaygate.conf(5): $key does not say \"default $value\": ${body:0:100}"
		bad=$((bad + 1))
		;;
	esac
done <"$tmp/defaults"
((bad > 0)) || ok "relaygate.conf(5) states every one-line default as the dump does"

# No page and not INSTALL may name a setting that does not exist: every
# "group.name" whose group is one of the dump's must be a setting.
cut -d. -f1 "$tmp/keys.dump" | sort -u >"$tmp/groups"
groups=$(paste -sd'|' "$tmp/groups")
for doc in relaygate.8 relaygatectl.8 relaygate.conf.5 INSTALL; do
	if [[ $doc == INSTALL ]]; then
		cat "$src/INSTALL"
	else
		render "$doc"
	fi | grep -oP "(?<![A-Za-z0-9_./-])(?:$groups)\.[a-z_]+(?:\.[a-z_]+)?(?![A-Za-z0-9_-])" |
		sort -u >"$tmp/named" || true
	unknown=$(comm -23 "$tmp/named" "$tmp/keys.dump")
	if [[ -n $unknown ]]; then
		fail "$doc names settings that do not exist:" $unknown
	else
		ok "$doc names only existing settings ($(wc -l <"$tmp/named") named)"
	fi
done

# --- the commands of relaygatectl -----------------------------------------
"$ctl" -h >"$tmp/ctl.usage"
awk '/^commands:/ { on = 1; next } on && /^  [^ ]/ { print $1 }' \
	"$tmp/ctl.usage" | sort -u >"$tmp/cmds.bin"
awk '
	/^\.SH / { on = ($2 == "COMMANDS"); next }
	on && /^\.SS / { n = $2; gsub(/\\-/, "-", n); print n }
' "$man/relaygatectl.8" | sort -u >"$tmp/cmds.man"
[[ $(wc -l <"$tmp/cmds.bin") -ge 5 ]] ||
	fail "the usage text yields only $(wc -l <"$tmp/cmds.bin") commands"
missing=$(comm -23 "$tmp/cmds.bin" "$tmp/cmds.man")
extra=$(comm -13 "$tmp/cmds.bin" "$tmp/cmds.man")
if [[ -n $missing ]]; then
	fail "relaygatectl(8) lacks a subsection for:" $missing
else
	ok "relaygatectl(8) documents all $(wc -l <"$tmp/cmds.bin") commands:" $(cat "$tmp/cmds.bin")
fi
if [[ -n $extra ]]; then
	fail "relaygatectl(8) documents commands the binary lacks:" $extra
else
	ok "relaygatectl(8) documents no other command"
fi

# --- the options of both programs ------------------------------------------
# check_options USAGE PAGE - each "  -X" line of the usage text is a ".TP"
# entry ".B \-X" or ".BI \-X ..." of the page's OPTIONS.
check_options() {
	local usage=$1 page=$2 opt missing=""
	for opt in $(grep -oE '^  -[A-Za-z]' "$usage" | tr -d ' -'); do
		awk -v o="$opt" '
			/^\.SH / { on = ($2 == "OPTIONS"); next }
			on && /^\.TP/ { tp = 1; next }
			on && tp && ($0 ~ "^\\.BI? \\\\-" o "( |$)") { found = 1 }
			{ tp = 0 }
			END { exit !found }
		' "$man/$page" || missing="$missing -$opt"
	done
	if [[ -n $missing ]]; then
		fail "$page lacks the options$missing"
	else
		ok "$page documents every option of the usage text"
	fi
}
"$rg" -h >"$tmp/rg.usage"
check_options "$tmp/rg.usage" relaygate.8
check_options "$tmp/ctl.usage" relaygatectl.8

checks_done
