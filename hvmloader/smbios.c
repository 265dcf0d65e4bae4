/*
 * smbios.c - SMBIOS 3.0 structure table and its two entry points.
 *
 * Structures, with handles in order from 0:
 *   0 BIOS, 1 System (UUID), 3 Chassis, 4 Processor (one per vCPU),
 *   11 OEM strings, 16 Physical Memory Array, 17 Memory Device (one per
 *   16 GiB), 19 Memory Array Mapped Address (low RAM, high RAM),
 *   20 Memory Device Mapped Address (one per device), 32 System Boot,
 *   127 End of Table.
 * Each structure is its formatted area followed by its strings, each
 * NUL-terminated, and one more NUL (two NULs when there are no strings).
 */
#include "hvm.h"

#define SMBIOS_DEV_CHUNK (16ull << 30) /* RAM per type 17 device */

struct sm {
	uint8_t *buf;
	size_t len, pos;
	uint16_t next_handle;
	uint16_t count;
	uint16_t max_size;
	size_t cur;   /* start of the current structure */
	uint8_t nstr; /* strings added to it */
	int err;
};

static uint8_t *sm_begin(struct sm *s, uint8_t type, uint8_t length)
{
	struct hvm_smbios_hdr *h;

	if (s->err || s->len - s->pos < (size_t)length + 2) {
		s->err = 1;
		return 0;
	}
	s->cur = s->pos;
	h = (struct hvm_smbios_hdr *)(s->buf + s->pos);
	__builtin_memset(h, 0, length);
	h->type = type;
	h->length = length;
	h->handle = s->next_handle++;
	s->pos += length;
	s->nstr = 0;
	return (uint8_t *)h;
}

/* Append a string to the current structure; returns its number, 0 for "". */
static uint8_t sm_str(struct sm *s, const char *str)
{
	size_t n;

	if (s->err || !str || !*str)
		return 0;
	n = hvm_strlen(str) + 1;
	if (n > s->len - s->pos || s->nstr == 255) {
		s->err = 1;
		return 0;
	}
	__builtin_memcpy(s->buf + s->pos, str, n);
	s->pos += n;
	return ++s->nstr;
}

static void sm_end(struct sm *s)
{
	size_t size;

	if (s->err)
		return;
	if (s->len - s->pos < 2) {
		s->err = 1;
		return;
	}
	s->buf[s->pos++] = 0;
	if (!s->nstr)
		s->buf[s->pos++] = 0;
	size = s->pos - s->cur;
	if (size > s->max_size)
		s->max_size = (uint16_t)size;
	s->count++;
}

static void put16(uint8_t *p, uint16_t v)
{
	__builtin_memcpy(p, &v, 2);
}

static void put32(uint8_t *p, uint32_t v)
{
	__builtin_memcpy(p, &v, 4);
}

static void put64(uint8_t *p, uint64_t v)
{
	__builtin_memcpy(p, &v, 8);
}

/* "CPU 12" without printf */
static void cpu_name(char *out, const char *prefix, unsigned int n)
{
	char digits[4];
	unsigned int nd = 0;

	while (*prefix)
		*out++ = *prefix++;
	do {
		digits[nd++] = (char)('0' + n % 10);
		n /= 10;
	} while (n && nd < sizeof(digits));
	while (nd)
		*out++ = digits[--nd];
	*out = 0;
}

static void type0(struct sm *s, const struct hvm_config *cfg)
{
	uint8_t *p = sm_begin(s, 0, 0x1A);

	if (!p)
		return;
	p[4] = sm_str(s, cfg->bios_vendor);
	p[5] = sm_str(s, cfg->bios_version);
	put16(p + 6, 0xE800); /* starting segment */
	p[8] = sm_str(s, cfg->bios_date);
	p[9] = 0; /* ROM size: 64 KiB */
	put64(p + 0x0A, (1u << 3) /* characteristics not supported */);
	p[0x12] = 0x01; /* ext 1: ACPI */
	p[0x13] = 0x10; /* ext 2: virtual machine */
	p[0x14] = 1;    /* BIOS release 1.0 */
	p[0x15] = 0;
	p[0x16] = 0xFF; /* no embedded controller */
	p[0x17] = 0xFF;
	put16(p + 0x18, 0); /* extended ROM size */
	sm_end(s);
}

static void type1(struct sm *s, const struct hvm_config *cfg)
{
	uint8_t *p = sm_begin(s, 1, 0x1B);

	if (!p)
		return;
	p[4] = sm_str(s, cfg->sys_manufacturer);
	p[5] = sm_str(s, cfg->sys_product);
	p[6] = sm_str(s, cfg->sys_version);
	p[7] = sm_str(s, cfg->sys_serial);
	__builtin_memcpy(p + 8, cfg->uuid, 16);
	p[0x18] = 6; /* wake-up: power switch */
	p[0x19] = sm_str(s, cfg->sys_sku);
	p[0x1A] = sm_str(s, cfg->sys_family);
	sm_end(s);
}

static void type3(struct sm *s, const struct hvm_config *cfg)
{
	uint8_t *p = sm_begin(s, 3, 0x16);

	if (!p)
		return;
	p[4] = sm_str(s, cfg->chassis_manufacturer);
	p[5] = 0x01; /* other */
	p[6] = 0;
	p[7] = sm_str(s, cfg->chassis_serial);
	p[8] = sm_str(s, cfg->chassis_asset);
	p[9] = 0x03;    /* boot-up state: safe */
	p[0x0A] = 0x03; /* power supply: safe */
	p[0x0B] = 0x03; /* thermal: safe */
	p[0x0C] = 0x02; /* security: unknown */
	p[0x13] = 0;    /* no contained elements */
	p[0x14] = 3;    /* element record length */
	sm_end(s);
}

static void type4(struct sm *s, const struct hvm_config *cfg, unsigned int cpu)
{
	char name[16];
	uint8_t *p = sm_begin(s, 4, 0x30);

	if (!p)
		return;
	cpu_name(name, "CPU ", cpu);
	p[4] = sm_str(s, name);
	p[5] = 0x03; /* central processor */
	p[6] = 0x01; /* family: other */
	p[7] = sm_str(s, cfg->cpu_manufacturer);
	put32(p + 8, cfg->cpu_signature);
	put32(p + 12, cfg->cpu_features);
	p[0x10] = 0;             /* version string */
	p[0x11] = 0;             /* voltage unknown */
	put16(p + 0x12, 0);      /* external clock unknown */
	put16(p + 0x14, 3000);   /* max speed, MHz */
	put16(p + 0x16, 3000);   /* current speed */
	p[0x18] = 0x41;          /* populated, enabled */
	p[0x19] = 0x01;          /* upgrade: other */
	put16(p + 0x1A, 0xFFFF); /* no L1/L2/L3 info */
	put16(p + 0x1C, 0xFFFF);
	put16(p + 0x1E, 0xFFFF);
	p[0x23] = 1;             /* cores */
	p[0x24] = 1;             /* cores enabled */
	p[0x25] = 1;             /* threads */
	put16(p + 0x26, 0x0004); /* 64-bit capable */
	put16(p + 0x28, 0x01);   /* family 2 */
	put16(p + 0x2A, 1);
	put16(p + 0x2C, 1);
	put16(p + 0x2E, 1);
	sm_end(s);
}

static void type11(struct sm *s, const struct hvm_config *cfg)
{
	uint8_t *p = sm_begin(s, 11, 5);
	unsigned int i;

	if (!p)
		return;
	for (i = 0; i < 4 && cfg->oem_strings[i]; i++) {
		uint8_t k = sm_str(s, cfg->oem_strings[i]);

		if (k)
			p[4] = k;
	}
	sm_end(s);
}

static uint64_t total_ram(const struct hvm_config *cfg)
{
	uint64_t t = cfg->low_mem_end;

	if (cfg->high_mem_end > (1ull << 32))
		t += cfg->high_mem_end - (1ull << 32);
	return t;
}

static void type16(struct sm *s, const struct hvm_config *cfg, uint16_t ndev)
{
	uint8_t *p = sm_begin(s, 16, 0x17);
	uint64_t kb = total_ram(cfg) >> 10;

	if (!p)
		return;
	p[4] = 0x03; /* system board */
	p[5] = 0x03; /* system memory */
	p[6] = 0x03; /* no ECC */
	if (kb < 0x80000000u) {
		put32(p + 7, (uint32_t)kb);
	} else {
		put32(p + 7, 0x80000000u);
		put64(p + 0x0F, total_ram(cfg));
	}
	put16(p + 0x0B, 0xFFFE); /* no error information */
	put16(p + 0x0D, ndev);
	sm_end(s);
}

static void type17(struct sm *s, uint16_t array, unsigned int idx,
		   uint64_t bytes)
{
	char loc[16];
	uint8_t *p = sm_begin(s, 17, 0x28);
	uint32_t mb = (uint32_t)(bytes >> 20);

	if (!p)
		return;
	put16(p + 4, array);
	put16(p + 6, 0xFFFE);
	put16(p + 8, 64);    /* total width */
	put16(p + 0x0A, 64); /* data width */
	if (mb < 0x7FFF) {
		put16(p + 0x0C, (uint16_t)mb);
	} else {
		put16(p + 0x0C, 0x7FFF);
		put32(p + 0x1C, mb);
	}
	p[0x0E] = 0x09; /* DIMM */
	cpu_name(loc, "DIMM ", idx);
	p[0x10] = sm_str(s, loc);
	p[0x12] = 0x07;          /* RAM */
	put16(p + 0x13, 0x0004); /* type detail: unknown */
	sm_end(s);
}

static void type19(struct sm *s, uint16_t array, uint64_t start, uint64_t end)
{
	uint8_t *p = sm_begin(s, 19, 0x1F);

	if (!p)
		return;
	if (end - 1 < (0xFFFFFFFFull << 10)) {
		put32(p + 4, (uint32_t)(start >> 10));
		put32(p + 8, (uint32_t)((end - 1) >> 10));
	} else {
		put32(p + 4, 0xFFFFFFFFu);
		put32(p + 8, 0xFFFFFFFFu);
		put64(p + 0x0F, start);
		put64(p + 0x17, end - 1);
	}
	put16(p + 0x0C, array);
	p[0x0E] = 1; /* partition width */
	sm_end(s);
}

static void type20(struct sm *s, uint16_t dev, uint16_t mapped, uint64_t start,
		   uint64_t end)
{
	uint8_t *p = sm_begin(s, 20, 0x23);

	if (!p)
		return;
	if (end - 1 < (0xFFFFFFFFull << 10)) {
		put32(p + 4, (uint32_t)(start >> 10));
		put32(p + 8, (uint32_t)((end - 1) >> 10));
	} else {
		put32(p + 4, 0xFFFFFFFFu);
		put32(p + 8, 0xFFFFFFFFu);
		put64(p + 0x13, start);
		put64(p + 0x1B, end - 1);
	}
	put16(p + 0x0C, dev);
	put16(p + 0x0E, mapped);
	p[0x10] = 0xFF; /* partition row unknown */
	p[0x11] = 0;
	p[0x12] = 0;
	sm_end(s);
}

static void type32(struct sm *s)
{
	uint8_t *p = sm_begin(s, 32, 0x0B);

	if (!p)
		return;
	p[0x0A] = 0; /* no errors detected */
	sm_end(s);
}

static void type127(struct sm *s)
{
	if (sm_begin(s, 127, 4))
		sm_end(s);
}

/* The structure table into `buf`; its length, -EINVAL or -ENOSPC. */
int hvm_smbios_build(const struct hvm_config *cfg, void *buf, size_t len,
		     uint32_t phys, struct hvm_smbios_info *info)
{
	struct sm s = { .buf = buf, .len = len };
	uint64_t ram = total_ram(cfg), left, chunk, roff;
	uint16_t array, first_dev, first_map, ndev, nmap, i, m;
	uint64_t map_start[2], map_end[2];

	(void)phys;
	if (cfg->nr_vcpus < 1 || cfg->nr_vcpus > HVM_MAX_VCPU || !ram)
		return -EINVAL;

	type0(&s, cfg);
	type1(&s, cfg);
	type3(&s, cfg);
	for (i = 0; i < cfg->nr_vcpus; i++)
		type4(&s, cfg, i);
	type11(&s, cfg);

	ndev = 0;
	for (left = ram; left; left -= chunk, ndev++)
		chunk = left < SMBIOS_DEV_CHUNK ? left : SMBIOS_DEV_CHUNK;
	array = s.next_handle;
	type16(&s, cfg, ndev);

	first_dev = s.next_handle;
	for (i = 0, left = ram; i < ndev; i++, left -= chunk) {
		chunk = left < SMBIOS_DEV_CHUNK ? left : SMBIOS_DEV_CHUNK;
		type17(&s, array, i, chunk);
	}

	nmap = 0;
	map_start[nmap] = 0;
	map_end[nmap++] = cfg->low_mem_end;
	if (cfg->high_mem_end > (1ull << 32)) {
		map_start[nmap] = 1ull << 32;
		map_end[nmap++] = cfg->high_mem_end;
	}
	first_map = s.next_handle;
	for (i = 0; i < nmap; i++)
		type19(&s, array, map_start[i], map_end[i]);

	/* each device's share of each mapped range: RAM offsets run through
	 * the low range, then the high one */
	roff = 0;
	for (m = 0; m < nmap; m++) {
		uint64_t rlen = map_end[m] - map_start[m];

		for (i = 0; i < ndev; i++) {
			uint64_t ds = i * SMBIOS_DEV_CHUNK;
			uint64_t de = ds + SMBIOS_DEV_CHUNK < ram
					      ? ds + SMBIOS_DEV_CHUNK
					      : ram;
			uint64_t s0 = ds > roff ? ds : roff;
			uint64_t e0 = de < roff + rlen ? de : roff + rlen;

			if (s0 >= e0)
				continue;
			type20(&s, (uint16_t)(first_dev + i),
			       (uint16_t)(first_map + m),
			       map_start[m] + (s0 - roff),
			       map_start[m] + (e0 - roff));
		}
		roff += rlen;
	}
	type32(&s);
	type127(&s);
	if (s.err)
		return -ENOSPC;
	if (info) {
		info->table_len = (uint32_t)s.pos;
		info->nr_structures = s.count;
		info->max_struct_size = s.max_size;
	}
	return (int)s.pos;
}

/* `_SM3_` entry point for the table at `table`; 24 or -ENOSPC. */
int hvm_smbios_build_ep3(void *buf, size_t len, uint32_t table,
			 const struct hvm_smbios_info *info)
{
	struct hvm_smbios3_ep *ep = buf;

	if (len < sizeof(*ep))
		return -ENOSPC;
	__builtin_memset(ep, 0, sizeof(*ep));
	__builtin_memcpy(ep->anchor, "_SM3_", 5);
	ep->length = sizeof(*ep);
	ep->major = 3;
	ep->minor = 0;
	ep->docrev = 0;
	ep->revision = 1;
	ep->max_table_size = info->table_len;
	ep->table_address = table;
	ep->checksum = hvm_checksum(ep, sizeof(*ep));
	return sizeof(*ep);
}

/* `_SM_` entry point (table under 64 KiB); 31, -ENOSPC or -ERANGE. */
int hvm_smbios_build_ep21(void *buf, size_t len, uint32_t table,
			  const struct hvm_smbios_info *info)
{
	struct hvm_smbios21_ep *ep = buf;

	if (len < sizeof(*ep))
		return -ENOSPC;
	if (info->table_len > 0xFFFF)
		return -ERANGE;
	__builtin_memset(ep, 0, sizeof(*ep));
	__builtin_memcpy(ep->anchor, "_SM_", 4);
	ep->length = sizeof(*ep);
	ep->major = 2;
	ep->minor = 8;
	ep->max_struct_size = info->max_struct_size;
	__builtin_memcpy(ep->intermediate_anchor, "_DMI_", 5);
	ep->table_length = (uint16_t)info->table_len;
	ep->table_address = table;
	ep->nr_structures = info->nr_structures;
	ep->bcd_revision = 0x28;
	ep->intermediate_checksum = hvm_checksum(ep->intermediate_anchor, 15);
	ep->checksum = hvm_checksum(ep, sizeof(*ep));
	return sizeof(*ep);
}
