/*
 * cmdline.c - the firmware's command line (multiboot or hvm_start_info):
 * space-separated key=value words; unknown keys and words without '=' are
 * ignored (QEMU puts the image path first).  Values are not quoted: an
 * underscore in an SMBIOS string stands for a space.
 *
 *   vcpus=N  mem=MiB  dump=1  exit=1  halt=1
 *   uuid=01234567-89ab-cdef-0123-456789abcdef
 *   bios_vendor= bios_version= sys_manufacturer= sys_product= sys_version=
 *   sys_serial= sys_family= chassis_manufacturer= oem=
 */
#include "hvm.h"

struct str_key {
	const char *key;
	size_t offset; /* of the const char * in struct hvm_config */
};

#define STR_KEY(k, field)                                                      \
	{                                                                      \
		k, __builtin_offsetof(struct hvm_config, field)                \
	}

static const struct str_key str_keys[] = {
	STR_KEY("bios_vendor", bios_vendor),
	STR_KEY("bios_version", bios_version),
	STR_KEY("sys_manufacturer", sys_manufacturer),
	STR_KEY("sys_product", sys_product),
	STR_KEY("sys_version", sys_version),
	STR_KEY("sys_serial", sys_serial),
	STR_KEY("sys_family", sys_family),
	STR_KEY("chassis_manufacturer", chassis_manufacturer),
	STR_KEY("oem", oem_strings[0]),
};

static int key_is(const char *k, size_t klen, const char *want)
{
	return klen == hvm_strlen(want) && hvm_memeq(k, want, klen);
}

static unsigned int parse_uint(const char *v, size_t len, int *ok)
{
	unsigned int x = 0;
	size_t i;

	*ok = len > 0 && len <= 9;
	for (i = 0; i < len && *ok; i++) {
		if (v[i] < '0' || v[i] > '9')
			*ok = 0;
		else
			x = x * 10 + (unsigned int)(v[i] - '0');
	}
	return *ok ? x : 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Canonical 36-character UUID -> 16 bytes in SMBIOS order; 0 or -EINVAL. */
int hvm_parse_uuid(const char *v, size_t len, uint8_t out[16])
{
	/* SMBIOS 2.6+: the first three fields little-endian */
	static const uint8_t order[16] = { 3, 2, 1,  0,  5,  4,  7,  6,
					   8, 9, 10, 11, 12, 13, 14, 15 };
	static const uint8_t dash_at[4] = { 8, 13, 18, 23 };
	uint8_t raw[16];
	size_t i, n = 0, d = 0;

	if (len != 36)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		int hi, lo;

		if (d < 4 && i == dash_at[d]) {
			if (v[i] != '-')
				return -EINVAL;
			d++;
			continue;
		}
		hi = hexval(v[i]);
		lo = i + 1 < len ? hexval(v[i + 1]) : -1;
		if (hi < 0 || lo < 0)
			return -EINVAL;
		raw[n++] = (uint8_t)(hi << 4 | lo);
		i++;
	}
	if (n != 16)
		return -EINVAL;
	for (i = 0; i < 16; i++)
		out[i] = raw[order[i]];
	return 0;
}

/* Apply a command line to `cfg` and `opt`; 0, -EINVAL or -ENOSPC (see hvm.h). */
int hvm_cmdline_parse(const char *line, struct hvm_config *cfg,
		      struct hvm_cmdline *opt, char *pool, size_t poolsz)
{
	size_t used = 0, i;
	int rc = 0;

	__builtin_memset(opt, 0, sizeof(*opt));
	while (*line) {
		const char *k, *v;
		size_t klen, vlen;
		unsigned int num;
		int ok;

		while (*line == ' ')
			line++;
		k = line;
		while (*line && *line != ' ' && *line != '=')
			line++;
		klen = (size_t)(line - k);
		if (*line != '=') {
			continue; /* a bare word */
		}
		v = ++line;
		while (*line && *line != ' ')
			line++;
		vlen = (size_t)(line - v);

		num = parse_uint(v, vlen, &ok);
		if (key_is(k, klen, "vcpus")) {
			if (ok && num >= 1 && num <= HVM_MAX_VCPU)
				opt->vcpus = num;
			else
				rc = -EINVAL;
		} else if (key_is(k, klen, "mem")) {
			if (ok && num >= 16)
				opt->mem_mb = num;
			else
				rc = -EINVAL;
		} else if (key_is(k, klen, "dump")) {
			opt->dump = ok && num;
		} else if (key_is(k, klen, "exit")) {
			opt->exit = ok && num;
		} else if (key_is(k, klen, "halt")) {
			opt->halt = ok && num;
		} else if (key_is(k, klen, "uuid")) {
			if (hvm_parse_uuid(v, vlen, cfg->uuid))
				rc = -EINVAL;
		} else {
			for (i = 0; i < sizeof(str_keys) / sizeof(str_keys[0]);
			     i++) {
				char *dst;
				size_t j;

				if (!key_is(k, klen, str_keys[i].key))
					continue;
				if (vlen + 1 > poolsz - used) {
					rc = -ENOSPC;
					break;
				}
				dst = pool + used;
				for (j = 0; j < vlen; j++)
					dst[j] = v[j] == '_' ? ' ' : v[j];
				dst[vlen] = 0;
				used += vlen + 1;
				*(const char **)((char *)cfg +
						 str_keys[i].offset) = dst;
				break;
			}
		}
	}
	return rc;
}
