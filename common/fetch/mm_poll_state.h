/*
 * mm_poll_state: minutes-source's state in PostgreSQL (schemas/
 * 009_source_state.sql): per host its poll schedule and health, per host
 * and listing entry what was seen and produced, and the advisory lock that
 * lets one process at a time poll a host.
 *
 * One mm_poll_state_t is one PostgreSQL session (advisory locks belong to
 * the session: a process that dies releases its hosts). Not thread-safe:
 * one per polling thread.
 */
#ifndef MM_POLL_STATE_H
#define MM_POLL_STATE_H

#include <stddef.h>

typedef struct mm_poll_state_s mm_poll_state_t;

/* What the state says about one listing entry. */
typedef struct mm_poll_entry_state_s {
        char entry_id[64];
        char navn[128];
        char released[64];
        int afsluttet;
        char sha256[65]; /* "" when nothing was produced */
        int attempts;    /* failed fetches since the last success */
        int succeeded;   /* 1 when last_success_at is set */
        char kind[16];   /* the last error's kind ("" when none) */
        int att_listed;  /* 1 when its attachments were registered (attachments_at) */
} mm_poll_entry_state_t;

/* What the poller knows of a host's schedule (seconds since the epoch; 0
 * when never). */
typedef struct mm_poll_host_state_s {
        double last_poll, next_poll, last_success;
        int failures;
} mm_poll_host_state_t;

/* Connects to `conninfo` (URL or key=value). Returns NULL with errstr
 * filled when the connection fails. */
mm_poll_state_t *mm_poll_state_new(const char *conninfo, char *errstr, size_t errstr_size);

/* Closes the session (its advisory locks go with it); NULL is allowed. */
void mm_poll_state_destroy(mm_poll_state_t *st);

/* 1 when the session is usable; else tries one reconnect and says
 * whether it worked. */
int mm_poll_state_ok(mm_poll_state_t *st);

/* The advisory-lock key of a host: a 64-bit FNV-1a hash of
 * "minutes-source:" + host. */
long long mm_poll_state_lock_key(const char *host);

/* pg_try_advisory_lock on the host's key: *got is 1 when this session
 * holds it now. Returns 0, or -1 with errstr filled. */
int mm_poll_state_try_lock(mm_poll_state_t *st, const char *host, int *got, char *errstr,
                           size_t errstr_size);

/* Releases the host's lock. Returns 0 or -1. */
int mm_poll_state_unlock(mm_poll_state_t *st, const char *host, char *errstr, size_t errstr_size);

/* Makes sure the host has a row (kommune updated) and reads its schedule
 * into *out. Returns 0 or -1. */
int mm_poll_state_host_begin(mm_poll_state_t *st, const char *host, const char *kommune,
                             mm_poll_host_state_t *out, char *errstr, size_t errstr_size);

/* Reads the host's schedule into *out without the lock (zeros when the
 * host has no row yet). Returns 0 or -1. */
int mm_poll_state_host_read(mm_poll_state_t *st, const char *host, mm_poll_host_state_t *out,
                            char *errstr, size_t errstr_size);

/* Records the end of a poll: `error` NULL means the host was polled
 * (last_success_at = now, failures = 0), else failures + 1 and the error.
 * `next_in_s`: seconds until the host is due again. `entries`: entries in
 * the listing read (-1: none read). Returns 0 or -1. */
int mm_poll_state_host_done(mm_poll_state_t *st, const char *host, const char *error,
                            double next_in_s, const char *poller, int entries, char *errstr,
                            size_t errstr_size);

/* Loads every entry row of `host`, sorted by entry_id, into *out (malloc'd;
 * the caller frees it) and their number into *n. Returns 0 or -1. */
int mm_poll_state_entries(mm_poll_state_t *st, const char *host, mm_poll_entry_state_t **out,
                          size_t *n, char *errstr, size_t errstr_size);

/* The loaded row of `entry_id` in `rows` (sorted), or NULL. */
const mm_poll_entry_state_t *mm_poll_state_find(const mm_poll_entry_state_t *rows, size_t n,
                                                const char *entry_id);

/* The listing fields of an entry, as recorded. */
typedef struct mm_poll_entry_fields_s {
        const char *entry_id, *committee_id, *meeting_start, *navn, *released;
        int afsluttet;
} mm_poll_entry_fields_t;

/* Records a success: the entry's fields, last_success_at = now, attempts
 * 0, no error; with `sha256` non-NULL, the body of that hash was produced
 * (body_sha256, produced_at). Returns 0 or -1. */
int mm_poll_state_entry_ok(mm_poll_state_t *st, const char *host, const mm_poll_entry_fields_t *f,
                           const char *sha256, char *errstr, size_t errstr_size);

/* Records a failed fetch: the fields, attempts + 1, the error and its
 * kind ("transient", "permanent", "too_large", "invalid"). Returns the new
 * attempts count, or -1 with errstr filled. */
int mm_poll_state_entry_error(mm_poll_state_t *st, const char *host,
                              const mm_poll_entry_fields_t *f, const char *kind, const char *error,
                              char *errstr, size_t errstr_size);

/* Records that the entry's attachments are registered (attachments_at =
 * now): it need not be fetched again for them. Returns 0 or -1. */
int mm_poll_state_entry_attachments_done(mm_poll_state_t *st, const char *host,
                                         const char *entry_id, char *errstr, size_t errstr_size);

/* One attachment row (source_attachments, migration 013). */
typedef struct mm_poll_att_s {
        char id[64];
        char entry_id[64];     /* the publication that named it first */
        char meeting_key[512]; /* that publication's message key */
        char released[64];     /* its ReleasedDate as listed ('' when null) */
        char name[512];
        char item[32]; /* "" when unknown */
        int attempts;
} mm_poll_att_t;

/* Registers an attachment that a produced publication names, unless the
 * host has a row for its id already (that row, its state and its first
 * publication stay). Returns 0 or -1. */
int mm_poll_state_att_register(mm_poll_state_t *st, const char *host, const mm_poll_att_t *a,
                               char *errstr, size_t errstr_size);

/* Loads the host's attachments not produced yet (oldest first, at most
 * `limit`; 0: all) into *out (malloc'd; the caller frees it) and their
 * number into *n. Returns 0 or -1. */
int mm_poll_state_att_pending(mm_poll_state_t *st, const char *host, long limit,
                              mm_poll_att_t **out, size_t *n, char *errstr, size_t errstr_size);

/* Records that the attachment was produced (after the delivery report):
 * the sha256 of the bytes (NULL when skipped), the size (-1: unknown), the
 * content type (may be NULL) and the skip reason (NULL when the bytes were
 * sent). Returns 0 or -1. */
int mm_poll_state_att_produced(mm_poll_state_t *st, const char *host, const char *id,
                               const char *sha256, long long size, const char *content_type,
                               const char *skipped, char *errstr, size_t errstr_size);

/* Records a failed fetch: attempts + 1, the error and its kind
 * ("transient", "permanent"). Returns the new attempts count, or -1. */
int mm_poll_state_att_error(mm_poll_state_t *st, const char *host, const char *id, const char *kind,
                            const char *error, char *errstr, size_t errstr_size);

#endif /* MM_POLL_STATE_H */
