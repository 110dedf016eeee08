/*
 * mm_sequence: agenda items. Collects candidate item headings with their
 * evidence and chooses the most consistent sequence of them; then sets each
 * item's title, region and journal number.
 */
#ifndef MM_SEQUENCE_H
#define MM_SEQUENCE_H

#include "mm_pass.h"

/* Fills c->items and c->nitems from the analysed lines. */
void mm_sequence_find_items(ctx_t *c);

/* Gives each item of c->items (with head, start and end set) its journal
 * number: from the side of the heading that most items use. */
void mm_sequence_case_numbers(ctx_t *c);

#endif /* MM_SEQUENCE_H */
