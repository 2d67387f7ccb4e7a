/* mem: control-plane allocation that aborts on exhaustion (STYLE.md rule 7). Never
 * called on the packet path. Thread: any. */
#ifndef SOBRE_MEM_H
#define SOBRE_MEM_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);

#endif
