/*
 * mm_header: the meeting header pass: date, start and end time, place,
 * committee, kommune, members present and meeting-level absences.
 */
#ifndef MM_HEADER_H
#define MM_HEADER_H

#include "mm_pass.h"

/* Reads the header from lines [0, hend) (and the end time from the whole
 * text) into doc; fills c->participants, c->habs and c->referat. */
void mm_header_parse(ctx_t *c, json_t *doc, size_t hend);

#endif /* MM_HEADER_H */
