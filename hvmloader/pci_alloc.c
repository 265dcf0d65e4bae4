/*
 * pci_alloc.c - place PCI BARs, largest first with natural alignment.
 *
 * Sorting by size (all powers of two) and packing from an aligned base
 * leaves no gaps: each BAR's base is a multiple of every later, smaller
 * size.  Memory BARs go into the hole [mmio_start, mmio_end); when they do
 * not fit, the hole is first grown downwards (0xF0000000, 0xE0000000,
 * 0xC0000000, 0x80000000, never below low RAM), then 64-bit BARs move,
 * largest first, above 4 GiB at mmio64_start.  I/O BARs pack from 0xC000.
 */
#include "hvm.h"

#define MAX_SORT 256

static int bar_is_mem(const struct hvm_bar *b)
{
	return !(b->flags & HVM_BAR_IO);
}

/* indexes of the BARs selected by `want`, largest first (stable) */
static size_t sort_bars(const struct hvm_bar *bars, size_t n,
			const uint8_t *want, uint16_t *idx)
{
	size_t i, j, m = 0;

	for (i = 0; i < n; i++) {
		if (!want[i])
			continue;
		for (j = m; j > 0 && bars[idx[j - 1]].size < bars[i].size; j--)
			idx[j] = idx[j - 1];
		idx[j] = (uint16_t)i;
		m++;
	}
	return m;
}

/* Pack the selected BARs from `start`; 0 if all end at or below `end`. */
static int pack(struct hvm_bar *bars, const uint16_t *idx, size_t m,
		uint64_t start, uint64_t end, int commit)
{
	uint64_t cur = start;
	size_t i;

	for (i = 0; i < m; i++) {
		uint64_t sz = bars[idx[i]].size;

		cur = (cur + sz - 1) & ~(sz - 1);
		if (cur + sz > end || cur + sz < cur)
			return -ENOSPC;
		if (commit)
			bars[idx[i]].base = cur;
		cur += sz;
	}
	return 0;
}

/* Place all `n` BARs (algorithm above); 0, -EINVAL or -ENOSPC. */
int hvm_pci_allocate(struct hvm_config *cfg, struct hvm_bar *bars, size_t n)
{
	static const uint32_t starts[] = { 0xF0000000u, 0xE0000000u,
					   0xC0000000u, 0x80000000u };
	uint8_t want[MAX_SORT], high[MAX_SORT];
	uint16_t idx[MAX_SORT];
	size_t i, m, s;
	int rc;

	if (n > MAX_SORT)
		return -ENOSPC;
	for (i = 0; i < n; i++) {
		uint64_t sz = bars[i].size;

		if (!sz || (sz & (sz - 1)))
			return -EINVAL;
		if ((bars[i].flags & HVM_BAR_IO) && sz > 0x1000)
			return -EINVAL;
		high[i] = 0;
	}

	/* I/O */
	for (i = 0; i < n; i++)
		want[i] = !bar_is_mem(&bars[i]);
	m = sort_bars(bars, n, want, idx);
	rc = pack(bars, idx, m, HVM_IO_START, HVM_IO_END, 1);
	if (rc)
		return rc;

	/* memory: try the hole as it is, then grown, then with 64-bit BARs high */
	for (;;) {
		for (i = 0; i < n; i++)
			want[i] = bar_is_mem(&bars[i]) && !high[i];
		m = sort_bars(bars, n, want, idx);
		for (s = 0; s < sizeof(starts) / sizeof(starts[0]); s++) {
			uint32_t start = starts[s] < cfg->mmio_start
						 ? starts[s]
						 : cfg->mmio_start;

			if (start < cfg->low_mem_end)
				break;
			if (!pack(bars, idx, m, start, cfg->mmio_end, 0)) {
				cfg->mmio_start = start;
				pack(bars, idx, m, start, cfg->mmio_end, 1);
				goto low_done;
			}
		}
		/* move the largest 64-bit BAR still low above 4 GiB */
		for (i = 0; i < m; i++)
			if (bars[idx[i]].flags & HVM_BAR_64)
				break;
		if (i == m)
			return -ENOSPC;
		high[idx[i]] = 1;
	}
low_done:
	for (i = 0; i < n; i++)
		want[i] = high[i];
	m = sort_bars(bars, n, want, idx);
	if (m) {
		uint64_t end = cfg->mmio64_start;

		rc = pack(bars, idx, m, cfg->mmio64_start, ~0ull, 1);
		if (rc)
			return rc;
		for (i = 0; i < m; i++)
			if (bars[idx[i]].base + bars[idx[i]].size > end)
				end = bars[idx[i]].base + bars[idx[i]].size;
		cfg->mmio64_size = end - cfg->mmio64_start;
	}
	return 0;
}
