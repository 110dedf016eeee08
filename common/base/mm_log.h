/*
 * mm_log: structured logging, one JSON object per line on stderr.
 *
 * Every line has "ts" (UTC, RFC 3339 with milliseconds), "level" and "msg".
 * Message-related lines also carry "topic", "partition" and "offset"
 * (use mm_log_msg). Extra string fields can be added with mm_log_kv.
 * Logging is thread-safe: each line is written with a single write(2).
 */
#ifndef MM_LOG_H
#define MM_LOG_H

#include <stdarg.h>
#include <stdint.h>

typedef enum mm_log_level_e {
        MM_LOG_DEBUG = 0,
        MM_LOG_INFO = 1,
        MM_LOG_WARN = 2,
        MM_LOG_ERROR = 3
} mm_log_level_t;

/* Sets the minimum level. `name` is debug|info|warn|error.
 * Returns 0, or -1 for an unknown name (level unchanged). */
int mm_log_set_level_name(const char *name);

/* Sets the minimum level. */
void mm_log_set_level(mm_log_level_t level);

/* Sets a program name added as "prog" to every line. `prog` is copied;
 * NULL removes it. */
void mm_log_set_prog(const char *prog);

/* Logs a printf-style message. */
void mm_log(mm_log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Logs a message about one Kafka message: adds topic, partition, offset.
 * `topic` may be NULL (the three fields are then left out). */
void mm_log_msg(mm_log_level_t level, const char *topic, int32_t partition, int64_t offset,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Logs a message with extra string fields: `kv` is a NULL-terminated list
 * of alternating keys and values (values may be NULL: logged as null).
 * `topic` may be NULL as in mm_log_msg. */
void mm_log_kv(mm_log_level_t level, const char *topic, int32_t partition, int64_t offset,
               const char *const *kv, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

#endif /* MM_LOG_H */
