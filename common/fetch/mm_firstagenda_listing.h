/*
 * mm_firstagenda_listing: the FirstAgenda publishing API's list of every
 * committee and meeting of a kommune (GET /api/agenda/udvalgsliste):
 *
 *   {"Udvalg": {"<period>": [{"Id", "Navn", "Moeder": [{"Id", "Navn",
 *     "Dato", "MeetingBeginUtc", "ReleasedDate", "Afsluttet", ...}]}]}}
 *
 * Read strictly: an answer of any other shape (not JSON, truncated, no
 * "Udvalg" object, a committee without Id or Moeder, a meeting without Id,
 * Navn or a start time, an Afsluttet that is no boolean, a ReleasedDate that
 * is no time, or no meeting at all) is an error, never
 * "this kommune has no meetings", so a broken answer changes no state.
 * An Id listed twice (a committee in two periods) is one entry.
 */
#ifndef MM_FIRSTAGENDA_LISTING_H
#define MM_FIRSTAGENDA_LISTING_H

#include <stddef.h>

typedef struct mm_firstagenda_listing_s mm_firstagenda_listing_t;

/* One listing entry: one publication (agenda, supplementary agenda,
 * minutes, ...) of a meeting. Strings are borrowed from the listing. */
typedef struct mm_firstagenda_entry_s {
        const char *id;           /* the publication's Id (GET /api/agenda/dagsorden/{id}) */
        const char *navn;         /* "Dagsorden", "Tillægsdagsorden", "Referat", ... */
        const char *released;     /* ReleasedDate as listed, "" when null */
        const char *committee_id; /* the committee's Id */
        const char *committee;    /* its Navn */
        const char *begin;        /* MeetingBeginUtc, else Dato, as listed */
        char begin_utc[24];       /* the start normalised: "YYYY-MM-DDTHH:MM:SSZ" */
        double released_epoch;    /* ReleasedDate in seconds since the epoch; 0 when null */
        int afsluttet;            /* Afsluttet */
} mm_firstagenda_entry_t;

/* Parses a listing (`len` bytes at `buf`). Returns the listing, entries
 * ordered by ReleasedDate (oldest first, so an agenda goes before its
 * minutes), or NULL with errstr filled when the answer is not a listing. */
mm_firstagenda_listing_t *mm_firstagenda_listing_parse(const char *buf, size_t len, char *errstr,
                                                       size_t errstr_size);

/* Frees the listing; NULL is allowed. */
void mm_firstagenda_listing_destroy(mm_firstagenda_listing_t *l);

size_t mm_firstagenda_listing_count(const mm_firstagenda_listing_t *l);

/* The i-th entry (borrowed, valid while the listing lives). */
const mm_firstagenda_entry_t *mm_firstagenda_listing_entry(const mm_firstagenda_listing_t *l,
                                                           size_t i);

/* An ISO 8601 time with an offset ("2026-03-02T11:00:00.37+01:00", "...Z")
 * in seconds since the epoch, into *out. A time without an offset is taken
 * as UTC. Returns 0, or -1 when `v` is no such time. */
int mm_firstagenda_parse_time(const char *v, double *out);

#endif /* MM_FIRSTAGENDA_LISTING_H */
