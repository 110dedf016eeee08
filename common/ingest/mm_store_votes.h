/*
 * mm_store_votes: the vote rows of an item (migration 010, issue 21):
 * vote_events, vote_counts, party_votes, person_votes and
 * item_reservations, COPYed in the caller's batch transaction after the
 * agenda items (common/ingest/mm_store_copy.c).
 */
#ifndef MM_STORE_VOTES_H
#define MM_STORE_VOTES_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stddef.h>

/* COPYs the votes and reservations of every item of parses[0..ndocs)
 * (each a minutes-parse object; NULL or without items is allowed) on
 * `conn`, inside the caller's open transaction. item_ids[0..nitems) are
 * the agenda_items ids of those items, in order. When no item has a vote
 * or a reservation, nothing is sent. The worker runs only on a schema
 * with migration 010 (mm_store_check_schema), so the tables are there.
 * Returns MM_STORE_OK or an MM_STORE_ERR_* class with errstr
 * (a refused value is MM_STORE_ERR_DATA, as for the other child rows). */
int mm_store_votes_copy(PGconn *conn, const json_t *const *parses, size_t ndocs,
                        const long long *item_ids, size_t nitems, char *errstr, size_t errstr_size);

#endif /* MM_STORE_VOTES_H */
