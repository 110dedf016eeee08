/*
 * mm_extract_html: HTML to text for mm_extract (the rules are in
 * mm_extract.h), and libxml2's entity loader that refuses every load.
 * Called by mm_extract only; use mm_extract_text.
 */
#ifndef MM_EXTRACT_HTML_H
#define MM_EXTRACT_HTML_H

#include <stddef.h>

#include "mm_extract.h"

/* Installs libxml2's external entity loader that refuses every DTD,
 * entity or XInclude load (called by mm_extract_global_init). */
void mm_extract_html_global_init(void);

/* Extracts the text of the HTML document at buf[0..len) within `lim`
 * (depth, nodes, output); the contract of mm_extract_text for `out`,
 * `out_len`, `code` and `errstr` (code/errstr may be NULL). In this process:
 * the caller sandboxes it. */
int mm_extract_html_text(const char *buf, size_t len, const char *content_type,
                         const mm_extract_limits_t *lim, char **out, size_t *out_len, char *code,
                         size_t code_size, char *errstr, size_t errstr_size);

#endif /* MM_EXTRACT_HTML_H */
