/*
 * mm_votes: how the members voted on an item, read from its decision text
 * (issue 21). The model follows the Open Civic Data vote model:
 *
 *   "votes": [ { "motion":  "ændringsforslag fra V" | null,
 *                "result":  "adopted" | "rejected" | null,
 *                "for":     {"count": 27 | null, "parties": ["A"], "members": []},
 *                "against": {...}, "abstain": {...} } ],
 *   "reservations": [ {"parties": ["I"], "members": []} ]
 *
 * Vote events are in the order of the decision text. A party is its letter
 * (A Socialdemokratiet ... Æ Danmarksdemokraterne, from data/parties.tsv);
 * "Liste X" is X; a local list is kept as printed. A member named on his
 * own ("Anne Hansen (A)") goes in members without the party suffix; the
 * party is then not in parties (it voted as a group only when the text
 * says so). A decision "uden afstemning" or unanimous without counts has no
 * vote event. Lines from a quoted earlier decision ("Beslutning i
 * Økonomiudvalget den ...") and everything after them are left out.
 *
 * All wording is in data/votes.tsv (count phrases, list labels, verbs,
 * motions) and data/parties.tsv (party names and letters).
 */
#ifndef MM_VOTES_H
#define MM_VOTES_H

#include <jansson.h>
#include <stddef.h>

#include "mm_rx.h"

typedef struct mm_votes_s mm_votes_t;

/* Loads the tables and compiles the patterns. Returns NULL and fills
 * errstr on a malformed table. A mm_votes_t is immutable once made and
 * may be shared by threads. */
mm_votes_t *mm_votes_new(char *errstr, size_t errstr_size);

/* `pattern` (a votes.tsv pattern) with every {N} replaced by `num` (the
 * number alternation, or a number for a test). Returns a malloc'd string
 * the caller frees, or NULL when memory runs out. */
char *mm_votes_expand(const char *pattern, const char *num);

/* Frees `v` (may be NULL). */
void mm_votes_destroy(mm_votes_t *v);

/* on (the default): a rule of votes.tsv or history.tsv is run on a clause
 * (a line for history) only when the clause holds one of the cue words of
 * its row (mm_cues); 0: every rule on every clause. The output is the
 * same either way; 0 is the reference that the tests hold the pre-filter
 * to. Call before `v` is shared. */
void mm_votes_set_prefilter(mm_votes_t *v, int on);

/* Used by mm_votes_new (mm_votes_entry.c). The parties of data/parties.tsv:
 * a pattern of each row's names (anchored to a whole entry) in *party and
 * its letter in *letter, *n rows; the arrays and their elements are the
 * caller's, also on failure (then up to *n). Returns 0, or -1 with errstr
 * filled. */
int mm_votes_parties(mm_rx_t ***party, char ***letter, size_t *n, char *errstr, size_t errstr_size);

/* Used by mm_votes_new: one list entry at the start (*fwd) and at the end
 * (*bwd) of a span, the caller's to free. Returns 0, or -1 with errstr
 * filled. */
int mm_votes_entry_patterns(mm_rx_t **fwd, mm_rx_t **bwd, char *errstr, size_t errstr_size);

/* The process-wide instance, made on first use (thread-safe), or NULL
 * when the built-in tables do not load (the reason is logged once). Never
 * freed: it lives as long as the process. */
const mm_votes_t *mm_votes_shared(void);

/* Reads the decision text[0..len) (text may be NULL when len is 0).
 * `outcome` is the item's outcome label (may be NULL): it gives the result
 * of a lone vote event whose own sentence does not say it. Stores new
 * arrays in *votes and *reservations (the caller owns them). Returns 0, or
 * -1 when memory ran out (both are then NULL). */
int mm_votes_extract(const mm_votes_t *v, const char *text, size_t len, const char *outcome,
                     json_t **votes, json_t **reservations);

/* Sets "votes" and "reservations" of the item object `item` from its
 * decision (`decision` may be NULL) with the shared instance. When the
 * tables failed to load or memory ran out, both are empty arrays. */
void mm_votes_item(json_t *item, const char *decision, size_t len, const char *outcome);

#endif /* MM_VOTES_H */
