# xenstore-restart, domU side: xenstore-write in a loop (data/k<i> = i)
# until dom0 writes data/stop, while dom0 kills our xenstored under it;
# no write may fail. Then every acknowledged write must read back.
i=0
while :; do
	i=$((i + 1))
	xenstore-write data/k$i $i ||
		{ fail "xenstore-write data/k$i failed after $((i - 1)) acknowledged"; exit 1; }
	if [ $((i % 5)) = 0 ] && [ "$(xenstore-read data/stop 2>/dev/null)" = 1 ]; then
		break
	fi
	[ $i -lt 20000 ] || { fail "dom0 never wrote data/stop"; exit 1; }
done
xenstore-write data/acked $i || { fail "xenstore-write data/acked"; exit 1; }
# every acknowledged write, read back (one listing: xenstore-ls prints
# 'k7 = "7"')
xenstore-ls data > /tmp/data.ls 2>&1 || { cat /tmp/data.ls; fail "xenstore-ls data"; exit 1; }
j=1
while [ $j -le $i ]; do
	grep -qx "k$j = \"$j\"" /tmp/data.ls || { fail "acknowledged write data/k$j = $j lost"; exit 1; }
	j=$((j + 1))
done
mark "domU-writes-ok $i acknowledged, none failed, all read back"
