/*
 * console.c - printf to the debug port 0xE9, and the ways out.
 * Integer formatting uses 32-bit arithmetic only (no libgcc).
 */
#include "fw.h"

static void put(char c)
{
	outb(HVM_CONSOLE_PORT, (uint8_t)c);
}

static void put_num(uint64_t v, unsigned int base, int width, char pad,
		    int upper)
{
	char tmp[24];
	int n = 0;

	if (base == 16) {
		do {
			unsigned int d = (unsigned int)(v & 0xF);

			tmp[n++] = (char)(d < 10 ? '0' + d
						 : (upper ? 'A' : 'a') + d - 10);
			v >>= 4;
		} while (v);
	} else {
		uint32_t x = (uint32_t)v; /* decimal: 32-bit values only */

		do {
			tmp[n++] = (char)('0' + x % 10);
			x /= 10;
		} while (x);
	}
	while (width-- > n)
		put(pad);
	while (n)
		put(tmp[--n]);
}

/* printf subset (%d %u %x %X %s %c %p %%, widths, l/ll) to port 0xE9. */
void hvm_fw_vprintf(const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		int width = 0, lng = 0;
		char pad = ' ';
		uint64_t v;

		if (*fmt != '%') {
			if (*fmt == '\n')
				put('\r');
			put(*fmt);
			continue;
		}
		fmt++;
		if (*fmt == '0')
			pad = '0';
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		while (*fmt == 'l') {
			lng++;
			fmt++;
		}
		switch (*fmt) {
		case 'd': {
			long long s = lng >= 2 ? va_arg(ap, long long)
				      : lng    ? va_arg(ap, long)
					       : va_arg(ap, int);

			if (s < 0) {
				put('-');
				s = -s;
			}
			put_num((uint64_t)s, 10, width, pad, 0);
			break;
		}
		case 'u':
		case 'x':
		case 'X':
			v = lng >= 2 ? va_arg(ap, unsigned long long)
			    : lng    ? va_arg(ap, unsigned long)
				     : va_arg(ap, unsigned int);
			put_num(v, *fmt == 'u' ? 10 : 16, width, pad,
				*fmt == 'X');
			break;
		case 'p':
			put('0');
			put('x');
			put_num((uintptr_t)va_arg(ap, void *), 16, 8, '0', 0);
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);
			int len = 0;

			while (s[len])
				len++;
			while (width-- > len)
				put(' ');
			while (*s)
				put(*s++);
			break;
		}
		case 'c':
			put((char)va_arg(ap, int));
			break;
		case '%':
			put('%');
			break;
		default:
			put('?');
			break;
		}
	}
}

/* See hvm_fw_vprintf(). */
void hvm_fw_printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	hvm_fw_vprintf(fmt, ap);
	va_end(ap);
}

/* Stop this vCPU for good. */
void hvm_fw_halt(void)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}

/* End QEMU through isa-debug-exit with status (code << 1) | 1; else halt. */
void hvm_fw_exit(uint8_t code)
{
	/* isa-debug-exit ends QEMU; elsewhere the write is ignored */
	outb(HVM_EXIT_PORT, code);
	hvm_fw_halt();
}
