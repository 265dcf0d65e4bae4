#!/usr/bin/env bash
# xenstored-compare.sh - splitdrv's xenstored side by side with Debian's C
# xenstored and oxenstored (doc/xenstored-bench.md): one client (bench/xs-client), one
# machine, one run.
#
#   bench/xenstored-compare.sh BUILDDIR
#
# Starts our xenstored (BUILDDIR/xenstored/xenstored, in memory:
# --no-persist, as the other two run) and Debian's two daemons through the
# anchor scripts of ../shared/anchors/xenstored (beside the source tree),
# whose LD_PRELOAD shim is built into a temporary directory. Then, for
# every round and every mode, runs xs-client against each daemon in turn
# (the order rotates from round to round, so that noise on the machine
# falls on all three alike) and prints one table of medians over the
# rounds, with the ratio splitdrv/C xenstored and the targets it judges:
#
#   daemon CPU per op        <= 0.5 x C xenstored's
#   pipelined writes/s       >= 2 x C xenstored's
#   child create/remove      flat: the daemon's CPU per op with 19,000-20,000
#                            children at most 1.25 x that with 0-1,000
#
# Below the table, the floor: `xs-client serve-floor`, a store-less epoll
# loop that answers "OK" to everything, measured with the write and
# pipeline modes in the same rounds: what the socket, the wakeups and an
# event loop cost before any store work.
#
# A Debian daemon that cannot start is printed as "unavailable (reason)";
# a mode that fails on one daemon prints "error" in its cells and the
# client's message below the table. Every process and temporary file is
# removed on exit, failure or signal.
#
# CPU placement (XSBENCH_PIN): "same" (default) pins every daemon and the
# client to one CPU, the last one; "split" puts the daemons on the last CPU
# and the client on the one before; "none" leaves it to the scheduler. A
# daemon woken from another CPU spends about twice the CPU per op (wakeup
# IPIs, idle exits, cache misses), and an unpinned pair flips between the
# two cases from run to run: unpinned figures are bimodal.
#
# Environment: XSBENCH_ROUNDS (3), XSBENCH_OPS (20000 ops per mode and
# round), XSBENCH_CHILDREN (20000), XSBENCH_WINDOW (1000), XSBENCH_PIN
# (same), XSBENCH_ANCHOR (the anchor directory), XSBENCH_SPLITDRV_ARGS
# (--no-persist), CC (gcc, for the shim).
#
# Exit status: 0 when our xenstored ran every mode (whether or not the
# targets are met), 1 otherwise, 77 when xs-client is not built.
set -euo pipefail

ROUNDS=${XSBENCH_ROUNDS:-3}
OPS=${XSBENCH_OPS:-20000}
CHILDREN=${XSBENCH_CHILDREN:-20000}
WINDOW=${XSBENCH_WINDOW:-1000}
SPLITDRV_ARGS=${XSBENCH_SPLITDRV_ARGS:---no-persist}
PIN=${XSBENCH_PIN:-same}
MODES="write read txn watch pipeline children"
DAEMONS="splitdrv c ox"

die() { printf 'xenstored-compare: %s\n' "$*" >&2; exit 1; }

[ $# -eq 1 ] || die "usage: $0 BUILDDIR"
B=$(cd "$1" && pwd) || die "no build directory $1"
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ANCHOR=${XSBENCH_ANCHOR:-$top/../shared/anchors/xenstored}
CLIENT=$B/bench/xs-client
OURS=$B/xenstored/xenstored

if [ ! -x "$CLIENT" ]; then
	echo "xenstored-compare: $CLIENT is not built (it needs libxenstore:" \
		"libxen-dev, configure --with-xen); skipped"
	exit 77
fi
[ -x "$OURS" ] || die "$OURS is not built"

# shellcheck source=bench/xs-daemons.sh
. "$top/bench/xs-daemons.sh"
xsd_pin "$PIN" XSBENCH_PIN || exit 1
CLIENT_RUN=("$CLIENT")
[ -n "$CCPU" ] && CLIENT_RUN=(taskset -c "$CCPU" "$CLIENT")

tmp=$(mktemp -d "${TMPDIR:-/tmp}/xsbench.XXXXXX")
declare -A PID SOCK WHY
PID=([splitdrv]="" [c]="" [ox]="" [floor]="")

# shellcheck disable=SC2317 # cleanup runs from the trap
cleanup() {
	local d
	trap - EXIT INT TERM
	for d in c ox; do
		[ -n "${PID[$d]}" ] && xsd_stop_debian "$tmp/$d"
	done
	for d in $DAEMONS floor; do
		xsd_kill "${PID[$d]}"
	done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# name DAEMON - its name in messages.
name() {
	case $1 in
	splitdrv) echo "splitdrv xenstored" ;;
	c) echo "C xenstored" ;;
	ox) echo oxenstored ;;
	floor) echo "the floor server" ;;
	esac
}

alive() { xsd_alive "$@"; }

# ---- start the three daemons -------------------------------------------

# start_floor - xs-client serve-floor: no store, "OK" to every request.
start_floor() {
	local d=$tmp/floor
	mkdir -p "$d"
	"$CLIENT" --socket "$d/socket" serve-floor >"$d/log" 2>&1 </dev/null &
	PID[floor]=$!
	xsd_wait_socket floor "$d/socket"
}

# shellcheck disable=SC2086 # XSBENCH_SPLITDRV_ARGS is a word list
xsd_start_splitdrv splitdrv "$tmp/splitdrv" $SPLITDRV_ARGS || true
start_floor || echo "xenstored-compare: the floor server did not start" >&2
if reason=$(xsd_prepare_anchor); then
	xsd_start_debian c c "$tmp/c" || true
	xsd_start_debian ox ox "$tmp/ox" || true
else
	WHY[c]=$reason
	WHY[ox]=$reason
fi

RUN=""
for d in $DAEMONS; do
	[ -n "${SOCK[$d]:-}" ] || continue
	RUN="$RUN $d"
	if [ -n "$DCPU" ]; then
		taskset -a -c -p "$DCPU" "${PID[$d]}" >/dev/null ||
			die "taskset of $(name "$d") (pid ${PID[$d]}) failed"
	fi
done
[ -n "$RUN" ] || die "no daemon started: splitdrv: ${WHY[splitdrv]:-}; c: ${WHY[c]:-}; ox: ${WHY[ox]:-}"

# ---- rounds ------------------------------------------------------------

mkdir -p "$tmp/res" "$tmp/err"
start=$(date +%s)
echo "xenstored-compare: $ROUNDS rounds x $OPS ops per mode," \
	"$CHILDREN children (timed windows of $WINDOW); daemons:$RUN;" \
	"CPUs: daemons ${DCPU:-any}, client ${CCPU:-any} (XSBENCH_PIN=$PIN)"
if [ -S "$tmp/floor/socket" ] && alive "${PID[floor]}"; then
	SOCK[floor]=$tmp/floor/socket
	[ -z "$DCPU" ] || taskset -a -c -p "$DCPU" "${PID[floor]}" >/dev/null
	RUN_FLOOR="$RUN floor"
else
	RUN_FLOOR=$RUN
fi
read -ra order <<<"$RUN_FLOOR"
for r in $(seq "$ROUNDS"); do
	for m in $MODES; do
		for d in "${order[@]}"; do
			[ -e "$tmp/err/$d.$m" ] && continue # failed once: skip
			# the floor keeps no store: only write and pipeline
			[ "$d" = floor ] && [ "$m" != write ] && [ "$m" != pipeline ] &&
				continue
			if ! alive "${PID[$d]}"; then
				echo "daemon exited before round $r, mode $m" >"$tmp/err/$d.$m"
				continue
			fi
			if ! "${CLIENT_RUN[@]}" --socket "${SOCK[$d]}" --pid "${PID[$d]}" \
				--ops "$OPS" --children "$CHILDREN" --window "$WINDOW" \
				"$m" >"$tmp/res/$d.$m.$r" 2>"$tmp/err/$d.$m.tmp"; then
				{
					echo "round $r: $(tail -3 "$tmp/err/$d.$m.tmp")"
					alive "${PID[$d]}" || echo "(the daemon died)"
				} >"$tmp/err/$d.$m"
			fi
			rm -f "$tmp/err/$d.$m.tmp"
		done
	done
	# rotate: the first daemon of this round runs last in the next
	order=("${order[@]:1}" "${order[0]}")
	echo "  round $r done ($(( $(date +%s) - start )) s)"
done

# ---- the table ---------------------------------------------------------

# facts: "daemon metric round value", one per measured figure.
for d in $RUN_FLOOR; do
	for m in $MODES; do
		for r in $(seq "$ROUNDS"); do
			f=$tmp/res/$d.$m.$r
			[ -s "$f" ] || continue
			tr ' ' '\n' <"$f" | awk -v d="$d" -v m="$m" -v r="$r" -F= '
				$1 == "ops_s" || $1 == "cpu_us_op" ||
				$1 ~ /^(create|rm)_(first|last)_(ops_s|cpu_us_op)$/ {
					print d, m "." $1, r, $2 }'
		done
	done
done >"$tmp/facts"

avail=""
for d in $DAEMONS; do
	if [ -n "${SOCK[$d]:-}" ]; then
		avail="$avail $d=ok"
	else
		avail="$avail $d=unavailable"
	fi
done
errs=""
for f in "$tmp"/err/*; do
	[ -e "$f" ] || continue
	b=${f##*/}
	errs="$errs ${b%%.*}:${b#*.}"
done

awk -v avail="$avail" -v errs="$errs" -v rounds="$ROUNDS" -v ops="$OPS" \
	-v nch="$CHILDREN" -v win="$WINDOW" '
function median(list,   a, n, i, j, t) {
	n = split(list, a, " ")
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) {
			t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
		}
	if (n == 0) return ""
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function fmt(v, kind) {
	if (v == "") return "-"
	if (kind == "rate") return sprintf("%.0f", v)
	return sprintf("%.2f", v)
}
{ val[$1, $2, $3] = $4; seen[$1, $2] = 1 }
END {
	split(avail, av, " ")
	for (i in av) { split(av[i], kv, "="); state[kv[1]] = kv[2] }
	split(errs, er, " ")
	for (i in er) { split(er[i], kv, ":"); failed[kv[1], kv[2]] = 1 }
	nd = split("splitdrv c ox", D, " ")
	hdr["splitdrv"] = "splitdrv"; hdr["c"] = "C xenstored"; hdr["ox"] = "oxenstored"

	# derived, per round: CPU per op over the five modes, and growth of
	# the CPU per op of child create/remove with the directory size
	nm = split("write read txn watch pipeline", M, " ")
	for (k = 1; k <= nd; k++) for (r = 1; r <= rounds; r++) {
		d = D[k]; s = 0; c = 0
		for (i = 1; i <= nm; i++)
			if ((d, M[i] ".cpu_us_op", r) in val) { s += val[d, M[i] ".cpu_us_op", r]; c++ }
		if (c == nm) { val[d, "all.cpu_us_op", r] = s / nm; seen[d, "all.cpu_us_op"] = 1 }
		a = val[d, "children.create_first_cpu_us_op", r]
		b = val[d, "children.create_last_cpu_us_op", r]
		if (a > 0 && b != "") { val[d, "grow.create", r] = b / a; seen[d, "grow.create"] = 1 }
		# remove: with the directory full (first) over nearly empty (last)
		a = val[d, "children.rm_last_cpu_us_op", r]
		b = val[d, "children.rm_first_cpu_us_op", r]
		if (a > 0 && b != "") { val[d, "grow.rm", r] = b / a; seen[d, "grow.rm"] = 1 }
	}

	big = sprintf("%d-%dk", (nch - win) / 1000, nch / 1000)
	small = sprintf("0-%dk", win / 1000)
	n = 0
	# key | label | kind (rate: higher is better, cost: lower) | target
	R[++n] = "write.ops_s|write ops/s (libxenstore, 1 conn)|rate|"
	R[++n] = "read.ops_s|read ops/s|rate|"
	R[++n] = "txn.ops_s|transactions/s (start+write+end)|rate|"
	R[++n] = "watch.ops_s|watch round trips/s|rate|"
	R[++n] = "pipeline.ops_s|pipelined writes/s (depth 32)|rate|>=2"
	R[++n] = "write.cpu_us_op|daemon CPU us/op: write|cost|<=0.5"
	R[++n] = "read.cpu_us_op|daemon CPU us/op: read|cost|<=0.5"
	R[++n] = "txn.cpu_us_op|daemon CPU us/op: transaction|cost|<=0.5"
	R[++n] = "watch.cpu_us_op|daemon CPU us/op: watch round trip|cost|<=0.5"
	R[++n] = "pipeline.cpu_us_op|daemon CPU us/op: pipelined write|cost|<=0.5"
	R[++n] = "all.cpu_us_op|daemon CPU us/op: mean of the 5 modes|cost|<=0.5"
	R[++n] = "children.create_first_ops_s|child creates/s, " small " children|rate|"
	R[++n] = "children.create_last_ops_s|child creates/s, " big " children|rate|"
	R[++n] = "children.rm_first_ops_s|child removes/s, " big " children|rate|"
	R[++n] = "children.rm_last_ops_s|child removes/s, " small " children|rate|"
	R[++n] = "children.create_first_cpu_us_op|daemon CPU us/create, " small "|cost|"
	R[++n] = "children.create_last_cpu_us_op|daemon CPU us/create, " big "|cost|"
	R[++n] = "children.rm_first_cpu_us_op|daemon CPU us/remove, " big "|cost|"
	R[++n] = "children.rm_last_cpu_us_op|daemon CPU us/remove, " small "|cost|"
	R[++n] = "grow.create|create CPU/op growth, " big " / " small "|growth|flat"
	R[++n] = "grow.rm|remove CPU/op growth, " big " / " small "|growth|flat"

	printf "\n%-44s %12s %12s %12s %10s  %s\n", "metric (median of " rounds " rounds)", \
		"splitdrv", "C xenstored", "oxenstored", "splitdrv/C", "target"
	line = ""; for (i = 0; i < 124; i++) line = line "-"; print line
	for (i = 1; i <= n; i++) {
		split(R[i], f, "|")
		key = f[1]; mode = key; sub(/\..*/, "", mode)
		if (mode == "grow") mode = "children"
		if (mode == "all") mode = "write"
		printf "%-44s", f[2]
		for (k = 1; k <= nd; k++) {
			d = D[k]; cell = ""
			if (state[d] != "ok") cell = "unavail."
			else if (failed[d, mode] || (key ~ /^all/ && (failed[d, "read"] || \
				failed[d, "txn"] || failed[d, "watch"] || failed[d, "pipeline"]))) cell = "error"
			else {
				list = ""
				for (r = 1; r <= rounds; r++)
					if ((d, key, r) in val) list = list " " val[d, key, r]
				med[d] = median(list)
				cell = fmt(med[d], f[3])
				if (f[3] == "growth" && med[d] != "") cell = sprintf("%.2fx", med[d])
			}
			if (cell == "error" || cell == "unavail.") med[d] = ""
			printf " %12s", cell
		}
		ratio = ""
		if (f[3] != "growth" && med["splitdrv"] != "" && med["c"] > 0)
			ratio = med["splitdrv"] / med["c"]
		printf " %10s", ratio == "" ? "-" : sprintf("%.2fx", ratio)
		verdict = ""
		if (f[4] == ">=2")
			verdict = ratio == "" ? ">= 2x C: n/a" : (ratio >= 2 ? ">= 2x C: met" : ">= 2x C: NOT met")
		else if (f[4] == "<=0.5")
			verdict = ratio == "" ? "<= 0.5x C: n/a" : (ratio <= 0.5 ? "<= 0.5x C: met" : "<= 0.5x C: NOT met")
		else if (f[4] == "flat")
			verdict = med["splitdrv"] == "" ? "flat (<= 1.25x): n/a" : \
				(med["splitdrv"] <= 1.25 ? "flat (<= 1.25x): met" : "flat (<= 1.25x): NOT met")
		printf "  %s\n", verdict
	}
	print line
}' "$tmp/facts"

for d in $DAEMONS; do
	[ -n "${SOCK[$d]:-}" ] && continue
	echo "$(name "$d"): unavailable (${WHY[$d]:-unknown})"
done
rc=0
[ -n "${SOCK[splitdrv]:-}" ] || rc=1
for f in "$tmp"/err/*; do
	[ -e "$f" ] || continue
	b=${f##*/}
	d=${b%%.*}
	[ "$d" = splitdrv ] && rc=1
	echo "error: $(name "$d") mode ${b#*.}: $(tr '\n' ' ' <"$f")"
done
# the floor: medians of its write and pipeline figures
awk '$1 == "floor" { v[$2] = v[$2] " " $4 }
function median(list,   a, n, i, j, t) {
	n = split(list, a, " ")
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) {
			t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
		}
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
END {
	if (!("write.cpu_us_op" in v) || !("pipeline.cpu_us_op" in v)) exit
	printf "floor (xs-client serve-floor: an epoll loop answering \"OK\", no store;" \
		" same client, same CPUs):\n  write %.0f ops/s, daemon CPU %.2f us/op;" \
		" pipelined write %.0f ops/s, daemon CPU %.2f us/op\n",
		median(v["write.ops_s"]), median(v["write.cpu_us_op"]),
		median(v["pipeline.ops_s"]), median(v["pipeline.cpu_us_op"])
}' "$tmp/facts"
echo "(ops/s: wall clock on one connection; daemon CPU: its threads'" \
	"schedstat run time over the mode / ops; total $(( $(date +%s) - start )) s)"
exit $rc
