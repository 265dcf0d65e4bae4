/*
 * check_hvm_common.h - the configurations every hvmloader suite loops
 * over: 1, 2, 15 and 128 vCPUs crossed with 1 GiB, 3.5 GiB and 8 GiB.
 */
#ifndef CHECK_HVM_COMMON_H
#define CHECK_HVM_COMMON_H

#include <check.h>
#include <stdlib.h>

#include "hvmloader/hvm.h"

static const unsigned int hvm_test_vcpus[] = { 1, 2, 15, 128 };
static const uint64_t hvm_test_mem[] = { 1ull << 30, 3584ull << 20, 8ull << 30 };

#define HVM_NR_TEST_CONFIGS (4 * 3)

/* configuration number `i` of the matrix (loop index of a loop test) */
static inline void hvm_test_config(struct hvm_config *cfg, int i)
{
	ck_assert_int_eq(hvm_config_init(cfg, hvm_test_vcpus[i / 3],
					 hvm_test_mem[i % 3]),
			 0);
}

#endif
