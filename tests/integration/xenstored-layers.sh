#!/bin/sh
# xenstored-layers.sh - the store library's files call each other in one
# direction only (doc/xenstored.md, "Code map"): the file-level call graph
# read from libxsstore.a with nm has no cycle. A cycle is printed by tsort.
set -u
LIB="$top_builddir/xenstored/libxsstore.a"
[ -f "$LIB" ] || { echo "FAIL: $LIB not built"; exit 1; }
command -v nm >/dev/null && command -v tsort >/dev/null ||
	{ echo "SKIP: nm or tsort missing"; exit 77; }
T=$(mktemp -d /tmp/xenstored-layers.XXXXXX) || exit 1
trap 'rm -rf "$T"' EXIT
# "object symbol" for what each member defines and what it uses
nm -A "$LIB" | awk '{ n = split($1, a, ":"); o = a[n - 1]; sub(/^.*-/, "", o);
	sub(/\.o$/, "", o) } NF == 3 && $2 ~ /^[TDBR]$/ { print o, $3 > "'"$T"'/def" }
	NF == 3 && $2 == "U" { print o, $3 > "'"$T"'/use" }'
[ -s "$T/def" ] && [ -s "$T/use" ] || { echo "FAIL: nm read nothing"; exit 1; }
# "callee caller" edges between different files
awk 'NR == FNR { def[$2] = $1; next }
     ($2 in def) && def[$2] != $1 { print def[$2], $1 }' \
	"$T/def" "$T/use" | sort -u >"$T/edges"
echo "file-level calls (callee caller):"
sed 's/^/    /' "$T/edges"
if ! tsort "$T/edges" >"$T/order" 2>"$T/err" || [ -s "$T/err" ]; then
	echo "FAIL: a call cycle among the store's files:"
	cat "$T/err"
	exit 1
fi
echo "ok: no cycle; one order, callees first: $(tr '\n' ' ' <"$T/order")"
