#include "mm_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static mm_log_level_t log_min_level = MM_LOG_INFO;
static char log_prog[64];

static const char *const level_names[] = {"debug", "info", "warn", "error"};

int mm_log_set_level_name(const char *name) {
        for (int i = 0; i < 4; i++) {
                if (name && !strcmp(name, level_names[i])) {
                        log_min_level = (mm_log_level_t)i;
                        return 0;
                }
        }
        if (name && !strcmp(name, "warning")) {
                log_min_level = MM_LOG_WARN;
                return 0;
        }
        return -1;
}

void mm_log_set_level(mm_log_level_t level) {
        log_min_level = level;
}

void mm_log_set_prog(const char *prog) {
        if (!prog) {
                log_prog[0] = '\0';
                return;
        }
        snprintf(log_prog, sizeof(log_prog), "%s", prog);
}

/* A growing line buffer; on overflow the text is truncated. */
typedef struct line_s {
        char buf[8192];
        size_t len;
} line_t;

static void line_putc(line_t *l, char c) {
        if (l->len + 2 < sizeof(l->buf))
                l->buf[l->len++] = c;
}

static void line_puts(line_t *l, const char *s) {
        while (*s)
                line_putc(l, *s++);
}

/* Appends `s` as a JSON string literal (with quotes). */
static void line_put_json(line_t *l, const char *s) {
        static const char hex[] = "0123456789abcdef";
        line_putc(l, '"');
        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
                switch (*p) {
                case '"':
                        line_puts(l, "\\\"");
                        break;
                case '\\':
                        line_puts(l, "\\\\");
                        break;
                case '\n':
                        line_puts(l, "\\n");
                        break;
                case '\r':
                        line_puts(l, "\\r");
                        break;
                case '\t':
                        line_puts(l, "\\t");
                        break;
                default:
                        if (*p < 0x20) {
                                line_puts(l, "\\u00");
                                line_putc(l, hex[*p >> 4]);
                                line_putc(l, hex[*p & 15]);
                        } else {
                                line_putc(l, (char)*p);
                        }
                }
        }
        line_putc(l, '"');
}

static void log_emit(mm_log_level_t level, const char *topic, int32_t partition, int64_t offset,
                     const char *const *kv, const char *fmt, va_list ap) {
        if (level < log_min_level)
                return;
        line_t *l = malloc(sizeof(*l));
        if (!l)
                return;
        l->len = 0;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        char tbuf[64];
        snprintf(tbuf, sizeof(tbuf), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 ts.tv_nsec / 1000000L);
        line_puts(l, "{\"ts\":");
        line_put_json(l, tbuf);
        line_puts(l, ",\"level\":");
        line_put_json(l, level_names[level]);
        if (log_prog[0]) {
                line_puts(l, ",\"prog\":");
                line_put_json(l, log_prog);
        }
        char msg[4096];
        int truncated = vsnprintf(msg, sizeof(msg), fmt, ap) >= (int)sizeof(msg);
        if (truncated) {
                /* do not end in the middle of a UTF-8 sequence */
                size_t n = strlen(msg);
                while (n > 0 && ((unsigned char)msg[n - 1] & 0xC0) == 0x80)
                        n--;
                if (n > 0 && (unsigned char)msg[n - 1] >= 0xC0)
                        n--;
                msg[n] = '\0';
        }
        line_puts(l, ",\"msg\":");
        line_put_json(l, msg);
        if (topic) {
                char num[32];
                line_puts(l, ",\"topic\":");
                line_put_json(l, topic);
                snprintf(num, sizeof(num), "%d", (int)partition);
                line_puts(l, ",\"partition\":");
                line_puts(l, num);
                snprintf(num, sizeof(num), "%lld", (long long)offset);
                line_puts(l, ",\"offset\":");
                line_puts(l, num);
        }
        for (size_t i = 0; kv && kv[i]; i += 2) {
                line_putc(l, ',');
                line_put_json(l, kv[i]);
                line_putc(l, ':');
                if (kv[i + 1])
                        line_put_json(l, kv[i + 1]);
                else
                        line_puts(l, "null");
        }
        if (truncated && l->len + 20 < sizeof(l->buf))
                line_puts(l, ",\"truncated\":true");
        else if (l->len + 2 >= sizeof(l->buf)) {
                /* Truncated: close the object so the line stays JSON. */
                l->len = sizeof(l->buf) - 40;
                while (l->len > 0 && ((unsigned char)l->buf[l->len] & 0xC0) == 0x80)
                        l->len--;
                memcpy(l->buf + l->len, "\",\"truncated\":true", 18);
                l->len += 18;
        }
        l->buf[l->len++] = '}';
        l->buf[l->len++] = '\n';
        ssize_t w = write(STDERR_FILENO, l->buf, l->len);
        (void)w;
        free(l);
}

void mm_log(mm_log_level_t level, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        log_emit(level, NULL, 0, 0, NULL, fmt, ap);
        va_end(ap);
}

void mm_log_msg(mm_log_level_t level, const char *topic, int32_t partition, int64_t offset,
                const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        log_emit(level, topic, partition, offset, NULL, fmt, ap);
        va_end(ap);
}

void mm_log_kv(mm_log_level_t level, const char *topic, int32_t partition, int64_t offset,
               const char *const *kv, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        log_emit(level, topic, partition, offset, kv, fmt, ap);
        va_end(ap);
}
