/*
 * adapter_shapes: adversarial inputs of the export adapters, for
 * parse_bench --adversarial (see adapter_shapes.c).
 */
#ifndef ADAPTER_SHAPES_H
#define ADAPTER_SHAPES_H

#include <stddef.h>

/* The shape names, NULL-terminated ("fa-items", "edoc-deep", ...). */
extern const char *const adapter_shapes[];

/* The shape built to about `size` bytes (malloc'd, the caller frees; NULL
 * when memory runs out); *len its length, *ct the adapter's content type. */
char *adapter_shape(const char *shape, size_t size, size_t *len, const char **ct);

#endif /* ADAPTER_SHAPES_H */
