/*
 * mm_classify: classification driven by the data tables in common/data:
 * decision outcomes (outcomes.tsv), amounts in DKK, law references
 * (laws.tsv), the KLE main group of a journal number (kle.tsv) and the
 * 98 kommuner with their web domains (kommuner.tsv).
 */
#ifndef MM_CLASSIFY_H
#define MM_CLASSIFY_H

#include <jansson.h>
#include <stddef.h>

#include "mm_rx.h"

typedef struct mm_classify_s mm_classify_t;

/* Loads the tables and compiles the patterns. Returns NULL and fills
 * errstr on a malformed table. */
mm_classify_t *mm_classify_new(char *errstr, size_t errstr_size);

/* Frees the classifier. `c` may be NULL. */
void mm_classify_destroy(mm_classify_t *c);

/* Outcome label of one decision part ("approved", "noted", ...): the first
 * matching rule of outcomes.tsv, "decided" for other text, "none" for
 * empty text. The returned string is static. `m` is caller's match state. */
const char *mm_classify_outcome(const mm_classify_t *c, mm_rx_match_t *m, const char *text,
                                size_t len);

/* Rank of an outcome label in the order rejected > approved_with_changes >
 * approved > referred > decided > postponed > discussed > noted > none
 * (higher is stronger); -1 for an unknown label. */
int mm_classify_outcome_rank(const char *label);

/* Appends every DKK amount in the line to `out` (a JSON array) as
 * {value, text, sentence}. "120.576 kr." is 120576, "1,2 mio. kr." is
 * 1200000. Returns the number added. */
int mm_classify_amounts(const mm_classify_t *c, mm_rx_match_t *m, const char *line, size_t len,
                        json_t *out);

/* Appends every law reference in the line to `out` as {text, law,
 * paragraph}. Returns the number added. */
int mm_classify_laws(const mm_classify_t *c, mm_rx_match_t *m, const char *line, size_t len,
                     json_t *out);

/* KLE subject of a journal number such as "27.48.04-S49-3-16": a new
 * object {code, main_group, main_group_name}, or NULL when the number is
 * not in KLE form. */
json_t *mm_classify_kle(const mm_classify_t *c, const char *case_number);

/* Official name ("Hedensted Kommune") of the kommune called `name`
 * ("Hedensted", "Københavns", "hedensted.dk"), or NULL. */
const char *mm_classify_kommune(const mm_classify_t *c, const char *name, size_t len);

/* The kommune named most often in the text ("X Kommune" or its web
 * domain), or NULL. The string is owned by the classifier. */
const char *mm_classify_infer_kommune(const mm_classify_t *c, const char *text, size_t len);

#endif /* MM_CLASSIFY_H */
