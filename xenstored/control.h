/*
 * control.h - XS_CONTROL commands and the memory report (control.c).
 */
#ifndef XENSTORED_CONTROL_H
#define XENSTORED_CONTROL_H

#include <stddef.h>

#include "xenstored/util.h"

struct xs_store;
struct xs_conn;

/* xs_control - XS_CONTROL: argv of argc strings; reply text into out. */
int xs_control(struct xs_store *st, struct xs_conn *c, char **argv, int argc,
	       struct xs_buf *out);
/* xs_memreport - JSON text of nodes, watches, connections and domains
 * into out; at most max_list connections and domains listed (0: all). */
int xs_memreport(struct xs_store *st, struct xs_buf *out, size_t max_list);

#endif /* XENSTORED_CONTROL_H */
