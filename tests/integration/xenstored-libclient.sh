#!/bin/sh
# xenstored-libclient.sh - a test program linked with Debian's libxenstore
# (transactions with conflicts, watches, permissions, domains, big
# directories, control) against our xenstored.
. "$top_srcdir/tests/integration/xenstored-common.sh"
CLIENT="$top_builddir/tests/integration/xs_libclient"
[ -x "$CLIENT" ] || skip "xs_libclient not built (no libxenstore)"

xsd_start
"$CLIENT" all || fail "xs_libclient"
xsd_stop
