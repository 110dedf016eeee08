/*
 * mm_attach: the attachment message of issue 22 (docs/source-connector.md
 * #attachments), shared by minutes-source and minutes-submit, and the pure
 * decisions around it: which attachments a FirstAgenda publication names,
 * and what a fetch's outcome means (produce the bytes, produce an empty
 * record that says why, or try again in a later cycle).
 *
 * The message: key "<kommune>|<attachment id>", value the bytes (or empty
 * when skipped), CloudEvents binary-mode headers with ce_type
 * dk.minutes.attachment.raw and the headers that tie it to its kommune,
 * meeting, item and attachment id.
 */
#ifndef MM_ATTACH_H
#define MM_ATTACH_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>

#include "mm_http.h"

#define MM_ATTACH_CE_TYPE       "dk.minutes.attachment.raw"
#define MM_ATTACH_DEFAULT_TOPIC "minutes.attachments"

/* One attachment a publication names. Strings are malloc'd (freed by
 * mm_attach_refs_free). */
typedef struct mm_attach_ref_s {
        char *id;   /* Bilag Id */
        char *name; /* Bilag Navn ("" when missing) */
        char *item; /* the item's Punktnummer as written, or NULL */
} mm_attach_ref_t;

/* The Bilag of every item of a FirstAgenda publication (the body of GET
 * /api/agenda/dagsorden/{Id}), in item order, each Id once (an attachment
 * named twice keeps its first item). A Bilag without a string Id is
 * ignored: there is nothing to fetch. Returns 0 with *out (malloc'd, NULL
 * when none) and *n, or -1 with errstr filled when the body is not a
 * publication (not JSON, not an object, Dagsordenpunkter not an array). */
int mm_attach_firstagenda_refs(const char *body, size_t len, mm_attach_ref_t **out, size_t *n,
                               char *errstr, size_t errstr_size);

/* Frees `n` refs and the array; NULL is allowed. */
void mm_attach_refs_free(mm_attach_ref_t *refs, size_t n);

/* 1 when `id` may go into a URL path as it is (letters, digits, '-', at
 * most 60 characters), else 0. */
int mm_attach_safe_id(const char *id);

/* What to do after one fetch of an attachment. */
typedef enum mm_attach_action_e {
        MM_ATTACH_PRODUCE = 0, /* produce the bytes */
        MM_ATTACH_SKIP,        /* produce an empty record with a reason */
        MM_ATTACH_RETRY        /* record the error; fetch again next cycle */
} mm_attach_action_t;

/* The decision after a fetch that ended with `fail` and HTTP `status`,
 * when `attempts` earlier fetches of it failed: a body over the cap is
 * skipped as "too_large" at once (fetching again gives the same size); a
 * permanent answer (404, 410, another 4xx) is retried until this is the
 * max_attempts-th failure, then skipped as "http_<status>"; a transient
 * failure is always retried, never skipped. `reason` (at least 32 bytes)
 * receives the reason of a skip, "" otherwise. */
mm_attach_action_t mm_attach_decide(mm_http_fail_t fail, long status, int attempts,
                                    int max_attempts, char *reason, size_t reason_size);

/* The message's headers. Strings are borrowed; optional ones may be NULL. */
typedef struct mm_attach_msg_s {
        const char *kommune;      /* official name: key, municipality */
        const char *id;           /* attachment id: key, document-id, attachment-id */
        const char *name;         /* attachment-name */
        long long size;           /* attachment-size (bytes; < 0: not sent) */
        const char *sha256;       /* ce_id: hex sha256 of the bytes (ignored when skipped) */
        const char *ce_source;    /* ce_source */
        const char *ce_time;      /* ce_time (the publication's time) */
        const char *content_type; /* content-type (NULL or "": application/octet-stream) */
        const char *source_url;   /* source-url */
        const char *meeting_doc;  /* meeting-document-id */
        const char *meeting_key;  /* meeting-key (may be NULL) */
        const char *item_number;  /* item-number (may be NULL) */
        const char *skipped;      /* attachment-skipped reason, NULL when bytes are sent */
} mm_attach_msg_t;

/* The key "<kommune>|<id>" into out. */
void mm_attach_key(const mm_attach_msg_t *m, char *out, size_t out_size);

/* The ce_id of a skipped record: hex sha256 of "kommune|id|reason" into
 * out (65 bytes). */
void mm_attach_skip_ce_id(const char *kommune, const char *id, const char *reason, char out[65]);

/* The headers of message m (for rd_kafka_producev; the caller owns them
 * until librdkafka takes them). Returns NULL when out of memory. */
rd_kafka_headers_t *mm_attach_headers(const mm_attach_msg_t *m);

/* The value of an --attachments option: 1 for on (true, yes, 1), 0 for
 * off (false, no, 0), -1 for anything else (NULL included). */
int mm_attach_switch(const char *v);

/* Asks the brokers (up to timeout_ms) whether `topic` exists: the
 * attachments topic is not created by producing to it (brokers run with
 * auto.create.topics.enable=false), and a message to a missing topic would
 * only fail after a long timeout. Returns 0 when it exists, 1 when a broker
 * says it does not (errstr names the topic and what to do), -1 when no
 * broker answered in time (errstr says so: the caller goes on, as it does
 * for the raw topic). */
int mm_attach_topic_check(rd_kafka_t *rk, const char *topic, int timeout_ms, char *errstr,
                          size_t errstr_size);

#endif /* MM_ATTACH_H */
