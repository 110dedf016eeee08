/*
 * mm_names: person names in member lists and absence statements.
 */
#ifndef MM_NAMES_H
#define MM_NAMES_H

#include "mm_pass.h"

/* 1 when s[0..n) looks like a person's name: 1-6 capitalised words. */
int mm_names_plausible(const char *s, size_t n);

/* 1 when s[0..n) is one entry of a list of members a line each: a name of
 * two words or more, with perhaps a party "(V)" or a role " - formand". */
int mm_names_entry(const char *s, size_t n);

/* Splits "A, B og C (V)" into names appended to out (no duplicates). With
 * canonical, a misspelt name is mapped onto c->participants. */
void mm_names_split(ctx_t *c, const char *s, size_t n, json_t *out, int canonical);

/* If the line is an absence statement (absence.tsv), appends its names to
 * out and returns 1; returns 2 when it opens a list of names that follow a
 * line each ("Fraværende" alone); else returns 0. */
int mm_names_absence_line(ctx_t *c, const mm_line_t *l, json_t *out);

#endif /* MM_NAMES_H */
