/*
 * mm_toc: items that only a table of contents shows.
 *
 * A web page or a cut-off export often lists every item in a table of
 * contents ("145. Godkendelse af dagsorden", "01." with the title below and
 * dot leaders to a page number, a bullet list) but prints the bodies of only
 * some of them, or none (an agenda page with only its list). The sequence
 * pass chooses items by the evidence of their bodies, so these entries lose
 * to it. This pass finds runs of consecutively numbered entries before the
 * first chosen item, and adds every entry whose number no chosen item has:
 * an item with its title and no body. Linear in the number of lines.
 */
#ifndef MM_TOC_H
#define MM_TOC_H

#include "mm_pass.h"

/* Adds the items that only a table of contents shows to c->items (kept in
 * number order when the chosen items are). Runs after mm_sequence. */
void mm_toc_complete(ctx_t *c);

/* When no item was found at all: items marked by the state line under their
 * title ("Åben sag", "LUKKET SAG"), as transcripts print items that lost
 * their numbers, numbered in document order. Runs after mm_toc_complete. */
void mm_toc_by_marks(ctx_t *c);

#endif /* MM_TOC_H */
