/*
 * dump.c - test mode: stream records (hvmdump.h) to the second debug port.
 */
#include "fw.h"
#include "../hvmdump.h"

static void out_bytes(const void *p, uint32_t len)
{
	const uint8_t *b = p;

	__asm__ volatile("rep outsb"
			 : "+S"(b), "+c"(len)
			 : "d"((uint16_t)HVM_DUMP_PORT)
			 : "memory");
}

/* One record: header, then `len` bytes read from `data`. */
void hvm_fw_dump(const char *name, uint32_t addr, const void *data, uint32_t len)
{
	struct hvm_dump_rec r;
	unsigned int i;

	__builtin_memset(&r, 0, sizeof(r));
	__builtin_memcpy(r.magic, "HVMD", 4);
	for (i = 0; i < sizeof(r.name) && name[i]; i++)
		r.name[i] = name[i];
	r.addr = addr;
	r.len = len;
	out_bytes(&r, sizeof(r));
	if (len)
		out_bytes(data, len);
}
