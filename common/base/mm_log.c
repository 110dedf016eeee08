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

/* One log line. Text is appended in whole units (a character, an escape
 * sequence, a field), so a cut never splits one; RESERVE bytes at the end
 * always remain for closing the line: "\",\"truncated\":true}\n". */
#define LINE_SIZE 8192
#define RESERVE   24

typedef struct line_s {
        char buf[LINE_SIZE];
        size_t len;
        int full; /* a unit did not fit: the line is cut */
} line_t;

/* Appends n bytes as one unit; 0 if they fit, else -1 and the line is full. */
static int line_unit(line_t *l, const char *s, size_t n) {
        if (l->full || l->len + n > LINE_SIZE - RESERVE) {
                l->full = 1;
                return -1;
        }
        memcpy(l->buf + l->len, s, n);
        l->len += n;
        return 0;
}

static int line_puts(line_t *l, const char *s) {
        return line_unit(l, s, strlen(s));
}

/* Appends into the reserve (closing bytes only). */
static void line_close(line_t *l, const char *s) {
        size_t n = strlen(s);
        if (l->len + n <= LINE_SIZE) {
                memcpy(l->buf + l->len, s, n);
                l->len += n;
        }
}

/* Length of the valid UTF-8 sequence at p (1-4), or 0 if it is invalid
 * (overlong, surrogate, above U+10FFFF, or cut short by the NUL). */
static size_t utf8_len(const unsigned char *p) {
        unsigned char c = p[0];
        size_t n;
        unsigned char lo = 0x80, hi = 0xBF;
        if (c < 0x80)
                return 1;
        if (c >= 0xC2 && c <= 0xDF)
                n = 2;
        else if (c >= 0xE0 && c <= 0xEF)
                n = 3, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
        else if (c >= 0xF0 && c <= 0xF4)
                n = 4, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
        else
                return 0;
        if (p[1] < lo || p[1] > hi)
                return 0;
        for (size_t i = 2; i < n; i++)
                if ((p[i] & 0xC0) != 0x80)
                        return 0;
        return n;
}

/* Appends `s` as a JSON string literal, quotes included. Returns -1 if not
 * even the opening quote fit (nothing appended). When the line fills up
 * inside `s`, the string is closed after the last whole character or
 * escape. Bytes that are not UTF-8 become U+FFFD, so the line is always
 * valid JSON. */
static int line_put_json(line_t *l, const char *s) {
        static const char hex[] = "0123456789abcdef";
        if (line_puts(l, "\"") != 0)
                return -1;
        for (const unsigned char *p = (const unsigned char *)s; *p;) {
                char esc[8];
                const char *unit = esc;
                size_t n = 2, adv = 1;
                esc[0] = '\\';
                switch (*p) {
                case '"':
                        esc[1] = '"';
                        break;
                case '\\':
                        esc[1] = '\\';
                        break;
                case '\n':
                        esc[1] = 'n';
                        break;
                case '\r':
                        esc[1] = 'r';
                        break;
                case '\t':
                        esc[1] = 't';
                        break;
                default:
                        if (*p < 0x20) {
                                memcpy(esc + 1, "u00", 3);
                                esc[4] = hex[*p >> 4];
                                esc[5] = hex[*p & 15];
                                n = 6;
                        } else if ((adv = utf8_len(p)) == 0) {
                                unit = "\\ufffd";
                                n = 6;
                                adv = 1;
                        } else {
                                unit = (const char *)p;
                                n = adv;
                        }
                }
                if (line_unit(l, unit, n) != 0)
                        break;
                p += adv;
        }
        line_close(l, "\"");
        return 0;
}

/* Appends ,"key":"value" (value NULL: null) or, with `raw`, ,"key":raw.
 * A field whose key does not fit whole is left out. */
static void line_field(line_t *l, const char *key, const char *value, const char *raw) {
        size_t save = l->len;
        if (line_puts(l, ",") != 0 || line_put_json(l, key) != 0 || l->full ||
            line_puts(l, ":") != 0 ||
            (raw     ? line_puts(l, raw)
             : value ? line_put_json(l, value)
                     : line_puts(l, "null")) != 0) {
                l->len = save;
                l->full = 1;
        }
}

static void log_emit(mm_log_level_t level, const char *topic, int32_t partition, int64_t offset,
                     const char *const *kv, const char *fmt, va_list ap) {
        if (level < log_min_level)
                return;
        line_t *l = malloc(sizeof(*l));
        if (!l)
                return;
        l->len = 0;
        l->full = 0;
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
        line_field(l, "level", level_names[level], NULL);
        if (log_prog[0])
                line_field(l, "prog", log_prog, NULL);
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
        line_field(l, "msg", msg, NULL);
        if (topic) {
                char num[32];
                line_field(l, "topic", topic, NULL);
                snprintf(num, sizeof(num), "%d", (int)partition);
                line_field(l, "partition", NULL, num);
                snprintf(num, sizeof(num), "%lld", (long long)offset);
                line_field(l, "offset", NULL, num);
        }
        for (size_t i = 0; kv && kv[i]; i += 2)
                line_field(l, kv[i], kv[i + 1], NULL);
        if (truncated || l->full)
                line_close(l, ",\"truncated\":true");
        line_close(l, "}\n");
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
