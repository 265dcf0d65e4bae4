/* placeholder: being written */
#include "config.h"
#include <errno.h>
#include <stddef.h>
#include "hv-impl.h"
struct hv *hv_loop_open(const struct hv_open_opts *opts) { (void)opts; errno = ENOENT; return NULL; }
struct hv *hv_loop_domain_create(const struct hv_open_opts *opts, const struct hv_domain_create *cfg) { (void)opts; (void)cfg; errno = ENOENT; return NULL; }
