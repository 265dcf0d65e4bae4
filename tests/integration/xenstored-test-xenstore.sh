#!/bin/sh
# xenstored-test-xenstore.sh - Xen's own black-box suite (Debian's
# xen-utils-4.17 ships it) must pass all its tests against our xenstored.
. "$top_srcdir/tests/integration/xenstored-common.sh"
TX=${TEST_XENSTORE:-/usr/lib/xen-4.17/bin/test-xenstore}
[ -x "$TX" ] || skip "$TX not installed (package xen-utils-4.17)"

xsd_start
"$TX" -l > "$D/list" || fail "test-xenstore -l"
ntests=$(wc -l < "$D/list")
"$TX" -i 100 > "$D/out" 2>&1
rc=$?
cat "$D/out"
[ $rc -eq 0 ] || fail "test-xenstore exited $rc"
grep -q failed "$D/out" && fail "a test failed"
nran=$(grep -c 'avg:' "$D/out")
[ "$nran" -eq "$ntests" ] || fail "ran $nran of $ntests tests"
xsd_stop
echo "PASS: test-xenstore, $nran of $ntests tests"
