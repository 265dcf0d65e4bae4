#!/bin/sh
# daemon-usage.sh - every daemon and splitctl say "bad usage" the same
# way: exit status 2, a message on stderr, nothing started. --help and
# --version exit 0 with their text on stdout.
set -u
XSD="$top_builddir/xenstored/xenstored"
LOOPHVD="$top_builddir/loophv/loophvd"
BLKBACK="$top_builddir/blkback/blkback"
NETBACK="$top_builddir/netback/netback"
SPLITCTL="$top_builddir/tools/splitctl"
for b in "$XSD" "$LOOPHVD" "$BLKBACK" "$NETBACK" "$SPLITCTL"; do
	[ -x "$b" ] || { echo "FAIL: $b not built"; exit 1; }
done
D=$(mktemp -d /tmp/daemon-usage.XXXXXX) || exit 1
trap 'rm -rf "$D"' EXIT
# Should a daemon start after all, it stays in the foreground and the
# timeout ends it: its status is then 124, not 2.
export SPLITDRV_RUN_DIR="$D"
failed=0

# expect STATUS WHAT CMD... - CMD exits STATUS; for 2, says so on stderr
expect() {
	want=$1
	what=$2
	shift 2
	timeout 10 "$@" >"$D/out" 2>"$D/err" </dev/null
	got=$?
	if [ "$got" -ne "$want" ]; then
		echo "FAIL: $what: exit $got, want $want ($*)"
		sed 's/^/    /' "$D/err" | head -n 5
		failed=1
		return
	fi
	if [ "$want" -eq 2 ] && [ ! -s "$D/err" ]; then
		echo "FAIL: $what: exit 2 but nothing on stderr ($*)"
		failed=1
		return
	fi
	if [ "$want" -eq 0 ] && [ ! -s "$D/out" ]; then
		echo "FAIL: $what: exit 0 but nothing on stdout ($*)"
		failed=1
		return
	fi
	echo "ok: $what: exit $got"
}

for b in "$XSD" "$LOOPHVD" "$BLKBACK" "$NETBACK"; do
	n=$(basename "$b")
	expect 2 "$n unknown option" "$b" -F --no-such-option
	expect 2 "$n bad --log-level" "$b" -F --log-level=loud
	expect 2 "$n bad --hv" "$b" -F --hv=kvm
	expect 2 "$n stray argument" "$b" -F stray
	expect 0 "$n --help" "$b" --help
	expect 0 "$n --version" "$b" --version
done
expect 2 "xenstored bad --quota" "$XSD" -F --quota=nodes=0
expect 2 "loophvd bad --priv-uid" "$LOOPHVD" -F --priv-uid=x
expect 2 "blkback bad --max-queues" "$BLKBACK" -F --max-queues=0
expect 2 "netback bad --max-queues" "$NETBACK" -F --max-queues=17
expect 2 "netback bad --type" "$NETBACK" -F --type=a/b

expect 2 "splitctl unknown option" "$SPLITCTL" --no-such-option domains
expect 2 "splitctl no command" "$SPLITCTL"
expect 2 "splitctl unknown command" "$SPLITCTL" frobnicate
expect 2 "splitctl bad --hv" "$SPLITCTL" --hv=kvm domains
expect 2 "splitctl bad domid" "$SPLITCTL" release notanumber
expect 2 "splitctl monitor unknown option" "$SPLITCTL" monitor --no-such-option
expect 2 "splitctl monitor stray argument" "$SPLITCTL" monitor stray
expect 0 "splitctl --help" "$SPLITCTL" --help

# nothing was started: no lock, no socket in the run directory
left=$(ls "$D" | grep -v '^out$\|^err$')
if [ -n "$left" ]; then
	echo "FAIL: bad usage left files in the run directory: $left"
	failed=1
fi
exit $failed
