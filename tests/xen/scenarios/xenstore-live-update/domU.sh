# xenstore-live-update, domU side. w1: xenstore-write in a loop (data/k<i>
# = i, each read back at once) until dom0 writes data/stop, while dom0
# live-updates our xenstored twice under it; no write or read may fail,
# and every acknowledged write must read back at the end. w2 (created
# after the updates): one write, read back.
if [ "$(xenstore-read name)" = w2 ]; then
	xenstore-write data/hello w2 && [ "$(xenstore-read data/hello)" = w2 ] ||
		{ fail "w2: xenstore-write/read data/hello"; exit 1; }
	mark "domU-w2-served"
	exit 0
fi
xs_write_loop --read-back || exit 1
