/*
 * mm_candidates: the candidate pass. Every line that may head an agenda
 * item ("N. Title", "N" alone with the title below, "Punkt N: Title",
 * "## N. Title") becomes a candidate with a score made of its evidence:
 *   + a section heading that opens an item, or a journal number, follows
 *     before the next candidate (or a journal number stands right above);
 *   + markup (a markdown heading, a bold line) or the "Punkt N" form;
 *   + a table-of-contents entry with the same number;
 *   - no body at all before the next candidate (a TOC or a list);
 *   - a number alone (it may be a page number), a title like a sentence.
 * mm_sequence then chooses the most consistent sequence of candidates.
 */
#ifndef MM_CANDIDATES_H
#define MM_CANDIDATES_H

#include "mm_pass.h"

/* Highest item number considered (four digits). */
#define MM_CAND_MAX_NUM 9999

typedef struct cand_s {
        size_t line;       /* the heading line */
        size_t title_line; /* first line of the title */
        size_t title_end;  /* last line of the title */
        int num;           /* item number */
        int score;         /* evidence, see above */
        unsigned ev;       /* evidence bits (MM_EV_*), for confidence and warnings */
} cand_t;

#define MM_EV_SECTION  1u  /* an opening section heading follows */
#define MM_EV_CASE     2u  /* a journal or document number is near */
#define MM_EV_MARKUP   4u  /* heading markup or the "Punkt N" form */
#define MM_EV_TOC      8u  /* agrees with a table-of-contents entry */
#define MM_EV_BODY     16u /* text follows before the next candidate */
#define MM_EV_TOC_ONLY 32u /* only a table of contents shows the item (mm_toc) */

/* Collects the candidates of the analysed lines of c, in document order,
 * into a new array (*out, freed by the caller) of *n entries. Returns 0, or
 * -1 when memory runs out. Linear in the number of lines. */
int mm_candidates_collect(ctx_t *c, cand_t **out, size_t *n);

#endif /* MM_CANDIDATES_H */
