/*
 * mm_lines: the line pass. Marks what each normalised line is: a known
 * section heading (sections.tsv), a heading quoting an earlier meeting
 * (history.tsv), a journal number (case_numbers.tsv), a table-of-contents
 * entry, an item candidate; and which lines are repeated page furniture.
 */
#ifndef MM_LINES_H
#define MM_LINES_H

#include "mm_pass.h"

/* Index into the section table of the heading s[0..n) (case-insensitive,
 * trailing ":" "," ignored), or -1. */
int mm_lines_match_section(const mm_parser_t *p, const char *s, size_t n);

/* Fills c->li for every line of c->text. */
void mm_lines_analyse(ctx_t *c);

/* Marks page furniture (a PDF export's repeated page header block) as
 * consumed, keeping the first copy, so it never lands in an item. */
void mm_lines_page_furniture(ctx_t *c);

#endif /* MM_LINES_H */
