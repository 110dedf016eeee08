#include "mm_kafka.h"

#include "mm_log.h"

#include <stdio.h>
#include <string.h>

int mm_kafka_conf_set(rd_kafka_conf_t *conf, const char *key, const char *value, char *errstr,
                      size_t errstr_size) {
        char err[512];
        if (rd_kafka_conf_set(conf, key, value, err, sizeof(err)) != RD_KAFKA_CONF_OK) {
                snprintf(errstr, errstr_size, "librdkafka property %s=%s: %s", key,
                         mm_config_is_secret_key(key) ? "****" : value, err);
                return -1;
        }
        return 0;
}

int mm_kafka_conf_apply(rd_kafka_conf_t *conf, const mm_config_t *cfg, char *errstr,
                        size_t errstr_size) {
        for (size_t i = 0; i < mm_config_kafka_count(cfg); i++) {
                if (mm_kafka_conf_set(conf, mm_config_kafka_key(cfg, i),
                                      mm_config_kafka_value(cfg, i), errstr, errstr_size) != 0)
                        return -1;
        }
        return 0;
}

void mm_kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
        mm_log_level_t l = level <= 3   ? MM_LOG_ERROR
                           : level <= 5 ? MM_LOG_WARN
                           : level == 6 ? MM_LOG_INFO
                                        : MM_LOG_DEBUG;
        const char *kv[] = {"component", "librdkafka", "client", rk ? rd_kafka_name(rk) : NULL,
                            "facility",  fac,          NULL};
        mm_log_kv(l, NULL, 0, 0, kv, "%s", buf);
}

size_t mm_kafka_headers(rd_kafka_message_t *msg, mm_envelope_header_t *out, size_t max) {
        rd_kafka_headers_t *hdrs = NULL;
        if (rd_kafka_message_headers(msg, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR || !hdrs)
                return 0;
        size_t n = 0;
        const char *name;
        const void *val;
        size_t len;
        for (size_t i = 0; n < max && rd_kafka_header_get_all(hdrs, i, &name, &val, &len) ==
                                              RD_KAFKA_RESP_ERR_NO_ERROR;
             i++) {
                out[n].name = name;
                out[n].value = val;
                out[n].len = len;
                n++;
        }
        return n;
}
