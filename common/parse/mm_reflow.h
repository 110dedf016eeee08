/*
 * mm_reflow: breaks the run-on lines of transcripts into lines.
 *
 * Document mirrors (docplayer and the like) print a PDF as one line per
 * page: "3 1. Godkendelse af dagsorden Åben sag Sagsnr.: 13/10057 ...
 * BESLUTNING I KOMMUNALBESTYRELSEN DEN Godkendt. 2". The passes read
 * lines, so such a document is broken into lines first: at a space before
 * a label ("Sagsnr.:", "Mødedato:", every label of header_labels.tsv,
 * case_labels.tsv and sections.tsv), around a page number, before and
 * after an upper-case section heading, and at the other points that
 * data/reflow.tsv names; a table of contents run into one line
 * ("1. Lokalplan ... 2. Kommuneplantillæg ...") is broken before each
 * number that runs on by one. Only a space becomes a line break, so every
 * byte keeps its offset. Other documents are left alone: only one whose
 * lines of 300 bytes or more hold most of its text is looked at, and only
 * those of its lines (of 100 bytes or more) with three break points or
 * more are broken.
 */
#ifndef MM_REFLOW_H
#define MM_REFLOW_H

#include <stddef.h>

#include "mm_pass.h"

/* Compiles the break points of p (data/reflow.tsv and the label tables,
 * already loaded). Returns 0, or -1 with errstr filled. */
int mm_reflow_load(mm_parser_t *p, char *errstr, size_t errstr_size);

/* Frees what mm_reflow_load made. */
void mm_reflow_unload(mm_parser_t *p);

/* A copy of buf (len bytes; a line that is not UTF-8 stays as it is) with the run-on lines broken, or
 * NULL when the document is no run-on transcript (or memory ran out: the
 * document is then read as it is). The caller frees the copy; *breaks
 * counts the breaks made. m is the caller's match state. */
char *mm_reflow_text(const mm_parser_t *p, mm_rx_match_t *m, const char *buf, size_t len,
                     size_t *breaks);

#endif /* MM_REFLOW_H */
