/*
 * mm_lag: consumer-lag arithmetic, shared by the worker (metrics) and by
 * `minutes-lag`. Everything here is a pure function: no Kafka handles, no
 * clocks, no I/O, so it is unit tested with table-driven fixtures
 * (tests/fixtures/lag/NAME.tsv and tests/fixtures/ops/stats.json).
 *
 * Two parts:
 *
 * 1. Burrow-style evaluation of a window of samples of one partition.
 *    A sample is (committed offset of the group, high watermark, low
 *    watermark) taken at one point in time. The rules, in order:
 *
 *      ERR      the window is empty, or a high watermark is unknown
 *      OK       some sample in the window has lag 0 (the group caught up
 *               at least once), or the partition is empty
 *      STOP     no commits arrive: the newest sample has no committed
 *               offset at all (lag > 0), or the window has >= 2 samples and
 *               the committed offset is the same in every one of them
 *      STALL    offsets stopped: they moved earlier in the window, but the
 *               committed offset is unchanged over the trailing half of the
 *               window's n - 1 intervals, rounded up (the last
 *               ceil((n - 1) / 2) + 1 samples are equal) while lag > 0
 *      WARNING  offsets advance but lag grows: the lag never decreases
 *               between consecutive samples and the newest lag is larger
 *               than the oldest
 *      OK       otherwise
 *
 *    Without a committed offset, the lag is high - low (every message still
 *    in the log is unread, as with auto.offset.reset=earliest).
 *    The sampling interval should be at least the consumer's commit
 *    interval (auto.commit.interval.ms, 5 s by default), otherwise two
 *    samples may see the same committed offset although commits arrive.
 *
 * 2. Lag from librdkafka's statistics JSON (statistics.interval.ms /
 *    stats_cb): per topic and partition, the high watermark, committed and
 *    stored offsets and librdkafka's own consumer_lag / consumer_lag_stored.
 */
#ifndef MM_LAG_H
#define MM_LAG_H

#include <stddef.h>
#include <stdint.h>

/* Status of one partition, or of a whole group (the worst partition).
 * Ordered by severity, so the worst is the maximum. */
typedef enum mm_lag_status_e {
        MM_LAG_OK = 0,
        MM_LAG_WARNING = 1,
        MM_LAG_STALL = 2,
        MM_LAG_STOP = 3,
        MM_LAG_ERR = 4
} mm_lag_status_t;

/* Offset value meaning "none / unknown" (librdkafka uses -1001 for
 * RD_KAFKA_OFFSET_INVALID; any negative value is treated as unknown). */
#define MM_LAG_OFFSET_NONE (-1)

/* One observation of one partition. */
typedef struct mm_lag_sample_s {
        int64_t committed; /* committed offset of the group, < 0 if none */
        int64_t high;      /* high watermark (log end offset), < 0 if unknown */
        int64_t low;       /* low watermark, < 0 if unknown (treated as 0) */
} mm_lag_sample_t;

/* Lag of one sample: high - committed; high - low when there is no
 * committed offset; 0 if committed is past high; -1 if high is unknown. */
int64_t mm_lag_sample_lag(const mm_lag_sample_t *s);

/* Evaluates a window of `n` samples, oldest first. `samples` may be NULL
 * only when n is 0 (the result is then MM_LAG_ERR). */
mm_lag_status_t mm_lag_evaluate(const mm_lag_sample_t *samples, size_t n);

/* Upper-case name of a status ("OK", "WARNING", "STALL", "STOP", "ERR").
 * Returns a static string, never NULL. */
const char *mm_lag_status_name(mm_lag_status_t status);

/* Parses a status name (case-insensitive). Returns 0 and sets *out, or -1
 * for an unknown name. `name` and `out` must not be NULL. */
int mm_lag_status_parse(const char *name, mm_lag_status_t *out);

/* Parses a window written as space-separated samples
 * "COMMITTED:HIGH[:LOW] ...", where COMMITTED may be "-" for none, e.g.
 * "10:20 15:30:0 -:40". This is the fixture format of tests/fixtures/lag.
 * Fills at most `cap` samples and stores the count in *n.
 * Returns 0, or -1 with errstr filled. No argument may be NULL. */
int mm_lag_window_parse(const char *text, mm_lag_sample_t *samples, size_t cap, size_t *n,
                        char *errstr, size_t errstr_size);

/* Per-partition values from librdkafka's statistics. Offsets that
 * librdkafka reports as -1001 (invalid) are stored as they are (< 0). */
typedef struct mm_lag_stats_partition_s {
        char topic[256];
        int32_t partition;
        int64_t hi_offset;
        int64_t committed_offset;
        int64_t stored_offset;
        int64_t consumer_lag;        /* hi - committed, -1 if unknown */
        int64_t consumer_lag_stored; /* hi - stored, -1 if unknown */
        int64_t lag;                 /* chosen lag: consumer_lag_stored, else consumer_lag,
                  * else hi - committed, else (nothing committed or stored
                  * yet) hi - lo_offset, as a consumer with
                  * auto.offset.reset=earliest reads the whole log;
                  * -1 if none is known */
} mm_lag_stats_partition_t;

/* Parses a librdkafka statistics JSON document (`len` bytes, need not be
 * NUL-terminated) and returns the partitions that have a known lag, i.e.
 * the partitions this consumer is assigned and fetching: the internal
 * UA partition (-1), partitions without a known lag and partitions whose
 * fetch_state is "none", "stopping" or "stopped" (no longer assigned)
 * are skipped. On success returns 0 and stores a new
 * array in *out (caller frees it with free(); NULL when *n is 0).
 * On a malformed document returns -1 with errstr filled and *out NULL.
 * `json` may be NULL only if len is 0 (which is an error); `out`, `n`
 * must not be NULL. */
int mm_lag_stats_parse(const char *json, size_t len, mm_lag_stats_partition_t **out, size_t *n,
                       char *errstr, size_t errstr_size);

#endif /* MM_LAG_H */
