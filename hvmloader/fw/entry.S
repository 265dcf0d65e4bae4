/*
 * entry.S - how the image is entered, in 32-bit protected mode, paging off:
 *
 *   multiboot (QEMU -kernel):  EAX = 0x2BADB002, EBX = multiboot info
 *   PVH (Xen, QEMU PVH boot):  EBX = struct hvm_start_info, entry point
 *                              published in a XEN_ELFNOTE_PHYS32_ENTRY note
 *
 * Both load our own flat GDT, set up a stack, clear .bss and call
 * hvm_fw_main(kind, magic, info).  hvm_fw_main never returns.
 */
#include <xen/elfnote.h>

#define MB_MAGIC	0x1BADB002
#define MB_FLAGS	0x00000003	/* page-align modules, want memory info */

	.section .multiboot, "a"
	.align 4
	.long MB_MAGIC
	.long MB_FLAGS
	.long -(MB_MAGIC + MB_FLAGS)

	.section .note.Xen, "a"
	.align 4
	.long 4				/* name size: "Xen\0" */
	.long 4				/* descriptor size */
	.long XEN_ELFNOTE_PHYS32_ENTRY
	.asciz "Xen"
	.align 4
	.long hvm_pvh_entry

	.text
	.code32
	.globl hvm_mb_entry
hvm_mb_entry:
	cli
	movl $1, %ecx
	jmp 1f

	.globl hvm_pvh_entry
hvm_pvh_entry:
	cli
	movl $2, %ecx
1:	cld
	movl %eax, %esi			/* magic */
	movl %ebx, %edi			/* info */
	lgdt gdt_desc
	ljmp $0x08, $2f
2:	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movw %ax, %fs
	movw %ax, %gs
	movl $hvm_stack_top, %esp
	pushl %edi
	pushl %esi
	pushl %ecx
	/* clear .bss (the stack lives in .data, so it survives) */
	movl $__bss_start, %edi
	movl $__bss_end, %ecx
	subl %edi, %ecx
	xorl %eax, %eax
	rep stosb
	call hvm_fw_main
3:	cli
	hlt
	jmp 3b

	.section .rodata
	.align 8
gdt:
	.quad 0
	.quad 0x00cf9a000000ffff	/* 0x08: flat 32-bit code */
	.quad 0x00cf92000000ffff	/* 0x10: flat 32-bit data */
gdt_end:
	.align 4
	.word 0
gdt_desc:
	.word gdt_end - gdt - 1
	.long gdt

	.section .data.stack, "aw"
	.align 16
	.space 16384
hvm_stack_top:

	.section .note.GNU-stack, "", @progbits
