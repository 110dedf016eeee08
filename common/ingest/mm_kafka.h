/*
 * mm_kafka: small librdkafka helpers shared by minutes-worker and
 * minutes-submit: configuration from mm_config (-X pass-through, secrets
 * masked in errors), JSON logging of librdkafka's own log lines, and
 * message headers as mm_envelope headers.
 */
#ifndef MM_KAFKA_H
#define MM_KAFKA_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>

#include "mm_config.h"
#include "mm_envelope.h"

/* Sets one property. On failure returns -1 and fills errstr with the key,
 * the (masked if secret) value and librdkafka's reason. */
int mm_kafka_conf_set(rd_kafka_conf_t *conf, const char *key, const char *value, char *errstr,
                      size_t errstr_size);

/* Applies every -X key=value of `cfg` to `conf` (both borrowed).
 * Returns 0, or -1 with errstr filled at the first failure. */
int mm_kafka_conf_apply(rd_kafka_conf_t *conf, const mm_config_t *cfg, char *errstr,
                        size_t errstr_size);

/* A log_cb for rd_kafka_conf_set_log_cb that writes librdkafka's lines
 * through mm_log (JSON). */
void mm_kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf);

/* Fills `out` (room for `max`) with the headers of `msg`; the pointers
 * borrow from the message. Returns the number of headers stored. */
size_t mm_kafka_headers(rd_kafka_message_t *msg, mm_envelope_header_t *out, size_t max);

#endif /* MM_KAFKA_H */
