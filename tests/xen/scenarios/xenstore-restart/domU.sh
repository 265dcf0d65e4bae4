# xenstore-restart, domU side: xenstore-write in a loop (data/k<i> = i)
# until dom0 writes data/stop, while dom0 kills our xenstored under it;
# no write may fail. Then every acknowledged write must read back.
xs_write_loop || exit 1
