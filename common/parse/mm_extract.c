/*
 * mm_extract: PDF/HTML/text to UTF-8 text. See mm_extract.h.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem, pipe2, close_range */
#endif
#include "mm_extract.h"

#include "mm_buf.h"
#include "mm_extract_int.h"
#include "mm_config.h"
#include "mm_extract_html.h"
#include "mm_ocr.h"
#include "mm_sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>

#include <glib.h>
#include <poppler.h>

#include <libxml/HTMLparser.h>
#include <libxml/encoding.h>
#include <libxml/SAX2.h>
#include <libxml/parserInternals.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

/* ------------------------------------------------------------------ */
/* Type detection                                                      */
/* ------------------------------------------------------------------ */

const char *mm_extract_type_name(mm_extract_type_t type) {
        switch (type) {
        case MM_EXTRACT_TEXT:
                return "text";
        case MM_EXTRACT_HTML:
                return "html";
        case MM_EXTRACT_PDF:
                return "pdf";
        case MM_EXTRACT_UNKNOWN:
        default:
                return "unknown";
        }
}

static bool is_alpha(unsigned char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_alnum(unsigned char c) {
        return is_alpha(c) || (c >= '0' && c <= '9');
}

/* Extracts the media type of a Content-Type ("Text/HTML; charset=x" ->
 * "text/html") into `mt`; returns its length (0 when empty/NULL). */
static size_t media_type(const char *ct, char *mt, size_t mt_size) {
        size_t n = 0;
        if (ct == NULL)
                return 0;
        while (mm_extract_is_ws((unsigned char)*ct))
                ct++;
        while (*ct != '\0' && *ct != ';' && !mm_extract_is_ws((unsigned char)*ct) &&
               n + 1 < mt_size)
                mt[n++] = (char)mm_extract_lower((unsigned char)*ct++);
        mt[n] = '\0';
        return n;
}

static bool in_list(const char *s, const char *const *list) {
        for (size_t i = 0; list[i] != NULL; i++)
                if (strcmp(s, list[i]) == 0)
                        return true;
        return false;
}

/* Returns the type named by a Content-Type, or -1 when it says nothing
 * (missing or a generic download type) and the bytes must be sniffed. */
static int type_from_content_type(const char *ct) {
        static const char *const generic[] = {"application/octet-stream",
                                              "binary/octet-stream",
                                              "application/unknown",
                                              "application/x-download",
                                              "application/force-download",
                                              "application/download",
                                              NULL};
        static const char *const pdf[] = {"application/pdf",
                                          "application/x-pdf",
                                          "application/acrobat",
                                          "application/vnd.pdf",
                                          "text/pdf",
                                          "text/x-pdf",
                                          NULL};
        static const char *const html[] = {"text/html", "application/xhtml+xml", NULL};
        char mt[128];
        if (media_type(ct, mt, sizeof mt) == 0 || in_list(mt, generic))
                return -1;
        if (in_list(mt, pdf))
                return MM_EXTRACT_PDF;
        if (in_list(mt, html))
                return MM_EXTRACT_HTML;
        if (strncmp(mt, "text/", 5) == 0)
                return MM_EXTRACT_TEXT;
        return MM_EXTRACT_UNKNOWN;
}

static bool starts_with_tag(const char *p, size_t n, const char *tag) {
        size_t k = strlen(tag);
        if (!mm_extract_has_prefix_ci(p, n, tag))
                return false;
        if (n == k)
                return true;
        unsigned char c = (unsigned char)p[k];
        return c == '>' || c == '/' || mm_extract_is_ws(c);
}

/* True when tags make up a large share of the non-space bytes. */
static bool dense_tags(const char *p, size_t n) {
        size_t tags = 0, tag_bytes = 0, nonspace = 0;
        size_t i = 0;
        while (i < n) {
                unsigned char c = (unsigned char)p[i];
                if (c == '<' && i + 1 < n) {
                        size_t j = i + 1;
                        if (p[j] == '/' || p[j] == '!')
                                j++;
                        if (j < n && is_alpha((unsigned char)p[j])) {
                                while (j < n && is_alnum((unsigned char)p[j]))
                                        j++;
                                size_t lim = j + 512 < n ? j + 512 : n;
                                while (j < lim && p[j] != '>' && p[j] != '<')
                                        j++;
                                if (j < lim && p[j] == '>') {
                                        tags++;
                                        for (size_t k = i; k <= j; k++)
                                                if (!mm_extract_is_ws((unsigned char)p[k]))
                                                        tag_bytes++;
                                        i = j + 1;
                                        continue;
                                }
                        }
                }
                if (!mm_extract_is_ws(c))
                        nonspace++;
                i++;
        }
        nonspace += tag_bytes;
        return tags >= 4 && tag_bytes * 4 >= nonspace;
}

static mm_extract_type_t sniff(const char *buf, size_t len) {
        static const struct {
                const char *magic;
                size_t len;
        } binary[] = {
                {"\x89PNG\r\n\x1A\n", 8},
                {"\xFF\xD8\xFF", 3},
                {"GIF87a", 6},
                {"GIF89a", 6},
                {"PK\x03\x04", 4},
                {"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8},
                {"{\\rtf", 5},
                {"II*\0", 4},
                {"MM\0*", 4},
        };
        size_t n = len < MM_EXTRACT_SNIFF_BYTES ? len : MM_EXTRACT_SNIFF_BYTES;
        if (buf == NULL || n == 0)
                return MM_EXTRACT_TEXT;
        /* The PDF header may be preceded by junk within the first 1024 bytes. */
        if (mm_extract_find_bytes(buf, n < 1024 ? n : 1024, "%PDF-") != NULL)
                return MM_EXTRACT_PDF;
        for (size_t i = 0; i < sizeof binary / sizeof binary[0]; i++)
                if (n >= binary[i].len && memcmp(buf, binary[i].magic, binary[i].len) == 0)
                        return MM_EXTRACT_UNKNOWN;
        const char *end = buf + n;
        const char *p = mm_extract_skip_prolog(buf, end);
        size_t rest = (size_t)(end - p);
        if (starts_with_tag(p, rest, "<!doctype html") || starts_with_tag(p, rest, "<html") ||
            starts_with_tag(p, rest, "<head") || starts_with_tag(p, rest, "<body"))
                return MM_EXTRACT_HTML;
        if (dense_tags(buf, n))
                return MM_EXTRACT_HTML;
        return MM_EXTRACT_TEXT;
}

mm_extract_type_t mm_extract_detect(const char *buf, size_t len, const char *content_type) {
        int t = type_from_content_type(content_type);
        if (t >= 0)
                return (mm_extract_type_t)t;
        return sniff(buf, len);
}

/* ------------------------------------------------------------------ */
/* Limits and set-up                                                   */
/* ------------------------------------------------------------------ */

#define LIMITS_DEFAULT                                                                             \
        {                                                                                          \
                MM_EXTRACT_DEFAULT_MAX_OUTPUT_BYTES, MM_EXTRACT_DEFAULT_MAX_PAGES,                 \
                        MM_EXTRACT_DEFAULT_MAX_PDF_INFLATED, MM_EXTRACT_DEFAULT_MAX_HTML_DEPTH,    \
                        MM_EXTRACT_DEFAULT_MAX_HTML_NODES, MM_EXTRACT_DEFAULT_CPU_SECONDS,         \
                        MM_EXTRACT_DEFAULT_MAX_MEMORY, 1, 1, MM_EXTRACT_DEFAULT_OCR_MAX_PAGES,     \
                        MM_EXTRACT_DEFAULT_OCR_SECONDS, MM_EXTRACT_DEFAULT_OCR_MIN_CONFIDENCE,     \
                        MM_EXTRACT_DEFAULT_OCR_DPI, MM_EXTRACT_DEFAULT_OCR_TESSDATA                \
        }

static mm_extract_limits_t g_limits = LIMITS_DEFAULT;

void mm_extract_limits_default(mm_extract_limits_t *l) {
        *l = (mm_extract_limits_t)LIMITS_DEFAULT;
}

void mm_extract_set_limits(const mm_extract_limits_t *l) {
        mm_extract_limits_t d;
        mm_extract_limits_default(&d);
        g_limits.max_output_bytes =
                l->max_output_bytes > 0 ? l->max_output_bytes : d.max_output_bytes;
        g_limits.max_pages = l->max_pages > 0 ? l->max_pages : d.max_pages;
        g_limits.max_pdf_inflated =
                l->max_pdf_inflated > 0 ? l->max_pdf_inflated : d.max_pdf_inflated;
        g_limits.max_html_depth = l->max_html_depth > 0 ? l->max_html_depth : d.max_html_depth;
        g_limits.max_html_nodes = l->max_html_nodes > 0 ? l->max_html_nodes : d.max_html_nodes;
        g_limits.cpu_seconds = l->cpu_seconds > 0 ? l->cpu_seconds : d.cpu_seconds;
        g_limits.max_memory = l->max_memory > 0 ? l->max_memory : d.max_memory;
        g_limits.sandbox = l->sandbox != 0;
        g_limits.ocr = l->ocr != 0;
        g_limits.ocr_max_pages = l->ocr_max_pages > 0 ? l->ocr_max_pages : d.ocr_max_pages;
        g_limits.ocr_seconds = l->ocr_seconds > 0 ? l->ocr_seconds : d.ocr_seconds;
        g_limits.ocr_min_confidence = l->ocr_min_confidence >= 0 && l->ocr_min_confidence <= 100
                                              ? l->ocr_min_confidence
                                              : d.ocr_min_confidence;
        g_limits.ocr_dpi =
                l->ocr_dpi >= MM_EXTRACT_MIN_OCR_DPI && l->ocr_dpi <= MM_EXTRACT_MAX_OCR_DPI
                        ? l->ocr_dpi
                        : d.ocr_dpi;
        if (l->ocr_tessdata[0] != '\0' && memchr(l->ocr_tessdata, '\0', sizeof l->ocr_tessdata))
                memcpy(g_limits.ocr_tessdata, l->ocr_tessdata, sizeof g_limits.ocr_tessdata);
        else
                memcpy(g_limits.ocr_tessdata, d.ocr_tessdata, sizeof g_limits.ocr_tessdata);
}

void mm_extract_get_limits(mm_extract_limits_t *l) {
        *l = g_limits;
}

static int config_error(char *errstr, size_t errstr_size, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static int config_error(char *errstr, size_t errstr_size, const char *fmt, ...) {
        if (errstr != NULL && errstr_size > 0) {
                va_list ap;
                va_start(ap, fmt);
                vsnprintf(errstr, errstr_size, fmt, ap);
                va_end(ap);
        }
        return -1;
}

/* The OCR options into `l` (its cpu_seconds already set). */
static int configure_ocr(const struct mm_config_s *cfg, mm_extract_limits_t *l, char *errstr,
                         size_t errstr_size) {
        l->ocr = mm_config_get_bool(cfg, "ocr");
        long long pages = mm_config_get_int(cfg, "extract-max-ocr-pages");
        long long secs = mm_config_get_int(cfg, "ocr-seconds");
        long long conf = mm_config_get_int(cfg, "ocr-min-confidence");
        long long dpi = mm_config_get_int(cfg, "ocr-dpi");
        const char *td = mm_config_get_str(cfg, "ocr-tessdata");
        if (pages <= 0 || secs <= 0)
                return config_error(errstr, errstr_size,
                                    "options extract-max-ocr-pages and ocr-seconds must be "
                                    "positive");
        if (conf < 0 || conf > 100)
                return config_error(errstr, errstr_size, "ocr-min-confidence must be 0-100");
        if (dpi < MM_EXTRACT_MIN_OCR_DPI || dpi > MM_EXTRACT_MAX_OCR_DPI)
                return config_error(errstr, errstr_size, "ocr-dpi must be %ld-%ld",
                                    MM_EXTRACT_MIN_OCR_DPI, MM_EXTRACT_MAX_OCR_DPI);
        if (td == NULL || td[0] == '\0')
                td = MM_EXTRACT_DEFAULT_OCR_TESSDATA;
        if (strlen(td) >= sizeof l->ocr_tessdata)
                return config_error(errstr, errstr_size, "ocr-tessdata is too long");
        l->ocr_max_pages = (long)pages;
        l->ocr_seconds = (long)secs;
        l->ocr_min_confidence = (long)conf;
        l->ocr_dpi = (long)dpi;
        snprintf(l->ocr_tessdata, sizeof l->ocr_tessdata, "%s", td);
        /* a missing model is the operator's to fix, found at start-up, not
         * a scanned document after another dead-lettered as pdf_no_text */
        if (l->ocr && mm_ocr_check_model(l->ocr_tessdata, errstr, errstr_size) != 0)
                return -1;
        return 0;
}

int mm_extract_configure(const struct mm_config_s *cfg, char *errstr, size_t errstr_size) {
        static const char *const positive[] = {
                "max-doc-bytes",          "extract-max-pages",      "extract-max-pdf-inflated",
                "extract-max-html-depth", "extract-max-html-nodes", "extract-cpu-seconds",
                "extract-max-memory"};
        for (size_t i = 0; i < sizeof positive / sizeof positive[0]; i++) {
                if (mm_config_get_int(cfg, positive[i]) <= 0) {
                        if (errstr != NULL && errstr_size > 0)
                                snprintf(errstr, errstr_size, "option %s must be positive",
                                         positive[i]);
                        return -1;
                }
        }
        mm_extract_limits_t l;
        l.max_output_bytes = (size_t)mm_config_get_int(cfg, "max-doc-bytes");
        l.max_pages = (long)mm_config_get_int(cfg, "extract-max-pages");
        l.max_pdf_inflated = (size_t)mm_config_get_int(cfg, "extract-max-pdf-inflated");
        l.max_html_depth = (long)mm_config_get_int(cfg, "extract-max-html-depth");
        l.max_html_nodes = (long)mm_config_get_int(cfg, "extract-max-html-nodes");
        l.cpu_seconds = (long)mm_config_get_int(cfg, "extract-cpu-seconds");
        l.max_memory = (size_t)mm_config_get_int(cfg, "extract-max-memory");
        l.sandbox = mm_config_get_bool(cfg, "extract-sandbox");
        if (configure_ocr(cfg, &l, errstr, errstr_size) != 0)
                return -1;
        /* A seccomp filter (systemd's SystemCallFilter=~@resources) would
         * make the child's setrlimit fail and leave it unlimited: refuse to
         * start rather than run without the limits. */
        struct rlimit r;
        if (l.sandbox && (getrlimit(RLIMIT_CPU, &r) != 0 || setrlimit(RLIMIT_CPU, &r) != 0)) {
                if (errstr != NULL && errstr_size > 0)
                        snprintf(
                                errstr, errstr_size,
                                "extract-sandbox: setrlimit is refused (%s); allow setrlimit and "
                                "prlimit64 (systemd SystemCallFilter) or set extract-sandbox=false",
                                strerror(errno));
                return -1;
        }
        mm_extract_set_limits(&l);
        return 0;
}

static void warm_up(void);

void mm_extract_global_init(void) {
        static bool done;
        xmlInitParser();
        mm_extract_html_global_init();
        if (!done)
                warm_up();
        done = true;
}

/* ------------------------------------------------------------------ */
/* PDF                                                                 */
/* ------------------------------------------------------------------ */

/* Appends page text, dropping control bytes other than tab and newline
 * (mm_parser would take them for binary input). Returns the number of
 * non-space code points appended. */
static size_t append_clean(mm_buf_t *b, const char *s, size_t n) {
        size_t nonspace = 0;
        size_t start = 0;
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)s[i];
                if (c >= 0x20 && c != 0x7F) {
                        if (c != ' ' && (c < 0x80 || c >= 0xC0))
                                nonspace++;
                        continue;
                }
                mm_buf_append(b, s + start, i - start);
                start = i + 1;
                if (c == '\t' || c == '\n')
                        mm_buf_putc(b, (char)c);
                else if ((c == '\r' || c == '\f' || c == '\v') && !(i + 1 < n && s[i + 1] == '\n'))
                        mm_buf_putc(b, '\n');
                /* other control bytes are dropped */
        }
        mm_buf_append(b, s + start, n - start);
        return nonspace;
}

/* Inflates the Flate stream at p[0..n) into a scratch buffer, adding its
 * size to *total; stops once *total exceeds `limit`. Returns the number of
 * input bytes consumed (0 if p does not start a zlib stream). */
static size_t inflate_count(const unsigned char *p, size_t n, size_t limit, size_t *total) {
        if (n < 2 || (p[0] & 0x0F) != 8 || (((unsigned)p[0] << 8) | p[1]) % 31 != 0)
                return 0;
        z_stream z;
        memset(&z, 0, sizeof z);
        if (inflateInit(&z) != Z_OK)
                return 0;
        unsigned char scratch[65536];
        size_t used = 0;
        int rc = Z_OK;
        while (rc == Z_OK && *total <= limit) {
                if (z.avail_in == 0) {
                        size_t chunk = n - used < (1u << 20) ? n - used : (1u << 20);
                        if (chunk == 0)
                                break;
                        z.next_in = (unsigned char *)(uintptr_t)(p + used);
                        z.avail_in = (uInt)chunk;
                        used += chunk;
                }
                z.next_out = scratch;
                z.avail_out = sizeof scratch;
                rc = inflate(&z, Z_NO_FLUSH);
                *total += sizeof scratch - z.avail_out;
                if (rc == Z_BUF_ERROR && z.avail_in > 0)
                        rc = Z_OK; /* output buffer was full: go on */
        }
        size_t consumed = (size_t)z.total_in;
        inflateEnd(&z);
        return consumed;
}

/* True if the stream whose "stream" keyword is at k belongs to an image
 * XObject: its dictionary (after the last "obj" in the 4 KB before k) has
 * "/Subtype /Image". */
static bool stream_is_image(const char *buf, const char *k) {
        const char *start = k - buf > 4096 ? k - 4096 : buf, *obj = NULL;
        for (const char *q = start; (q = mm_extract_find_bytes(q, (size_t)(k - q), "obj")) != NULL;
             q += 3)
                obj = q;
        if (obj == NULL)
                return false;
        for (const char *q = obj;
             (q = mm_extract_find_bytes(q, (size_t)(k - q), "/Subtype")) != NULL;) {
                q += 8;
                while (q < k && mm_extract_is_ws((unsigned char)*q))
                        q++;
                if (k - q > 6 && memcmp(q, "/Image", 6) == 0 && !is_alnum((unsigned char)q[6]))
                        return true;
        }
        return false;
}

/* Sums the inflated size of the Flate streams in the PDF that text
 * extraction reads (content, forms, fonts, object streams), stopping past
 * `limit`; true if the sum stays within it. Image streams are skipped:
 * text extraction never decodes them, and a PDF of large Flate images is
 * not a bomb. Streams are found by their "stream" keyword, so even a
 * broken xref is covered. */
static bool pdf_inflated_within(const char *buf, size_t len, size_t limit, size_t *total) {
        const char *p = buf, *end = buf + len;
        *total = 0;
        while (p < end && *total <= limit) {
                const char *k = memmem(p, (size_t)(end - p), "stream", 6);
                if (k == NULL)
                        break;
                p = k + 6;
                if (k - buf >= 3 && memcmp(k - 3, "end", 3) == 0)
                        continue;
                if (p < end && *p == '\r')
                        p++;
                if (p >= end || *p != '\n')
                        continue;
                p++;
                if (!stream_is_image(buf, k))
                        p += inflate_count((const unsigned char *)p, (size_t)(end - p), limit,
                                           total);
        }
        return *total <= limit;
}

/* Opens the PDF; on failure sets the error and returns NULL. */
static PopplerDocument *pdf_open(const char *buf, size_t len, char *code, size_t code_size,
                                 char *errstr, size_t errstr_size) {
        static const char empty[1] = "";
        GError *gerr = NULL;
        /* The document only lives inside extract_pdf, so the caller's buffer
         * outlives it and need not be copied. */
        GBytes *bytes = g_bytes_new_static(buf != NULL ? buf : empty, len);
        PopplerDocument *doc = poppler_document_new_from_bytes(bytes, NULL, &gerr);
        g_bytes_unref(bytes); /* the document holds its own reference */
        if (doc == NULL) {
                if (gerr != NULL && g_error_matches(gerr, POPPLER_ERROR, POPPLER_ERROR_ENCRYPTED))
                        mm_extract_set_error(code, code_size, errstr, errstr_size, "pdf_encrypted",
                                             "PDF is password protected");
                else
                        mm_extract_set_error(code, code_size, errstr, errstr_size, "pdf_corrupt",
                                             "PDF cannot be opened: %s",
                                             gerr != NULL ? gerr->message : "unknown error");
                g_clear_error(&gerr);
        }
        return doc;
}

/* Non-space code points of s, counted as append_clean counts them. */
static size_t count_nonspace(const char *s) {
        size_t n = 0;
        for (; *s != '\0'; s++) {
                unsigned char c = (unsigned char)*s;
                if (c > 0x20 && c != 0x7F && (c < 0x80 || c >= 0xC0))
                        n++;
        }
        return n;
}

/* Appends the text of page i to b (one page in memory at a time: the page
 * and its text are freed before the next one is loaded). With `ocr` (may
 * be NULL: OCR off), a scanned page's text is its OCR text (mm_ocr);
 * *text_pages counts the pages whose non-empty text is their text layer.
 * Returns -1 when memory ran out in OCR, else 0. */
static int pdf_page_text(PopplerDocument *doc, int i, mm_buf_t *b, size_t *nonspace,
                         mm_ocr_doc_t *ocr, int *text_pages) {
        PopplerPage *page = poppler_document_get_page(doc, i);
        if (page == NULL)
                return 0;
        char *text = poppler_page_get_text(page);
        if (text == NULL) {
                g_object_unref(page);
                return 0;
        }
        if (!g_utf8_validate(text, -1, NULL)) {
                char *valid = g_utf8_make_valid(text, -1);
                g_free(text);
                text = valid;
        }
        size_t layer = count_nonspace(text);
        char *ocr_text = NULL;
        int rc = ocr != NULL ? mm_ocr_doc_page(ocr, page, i, layer, &ocr_text) : 0;
        g_object_unref(page);
        if (rc < 0) {
                g_free(text);
                return -1;
        }
        if (rc == 0 && layer > 0)
                (*text_pages)++;
        const char *t = rc > 0 ? ocr_text : text;
        if (b->len > 0)
                mm_buf_append(b, MM_EXTRACT_PAGE_SEPARATOR, sizeof MM_EXTRACT_PAGE_SEPARATOR - 1);
        *nonspace += append_clean(b, t, strlen(t));
        if (b->len > 0 && b->p[b->len - 1] != '\n')
                mm_buf_putc(b, '\n');
        g_free(text);
        free(ocr_text);
        return 0;
}

/* Opens the PDF and checks its page count; NULL with the error set. */
static PopplerDocument *pdf_open_pages(const char *buf, size_t len, const mm_extract_limits_t *lim,
                                       int *pages, char *code, size_t code_size, char *errstr,
                                       size_t errstr_size) {
        size_t inflated = 0;
        if (!pdf_inflated_within(buf, len, lim->max_pdf_inflated, &inflated)) {
                mm_extract_set_error(
                        code, code_size, errstr, errstr_size, "extract_limit",
                        "PDF streams inflate to more than %zu bytes (extract-max-pdf-inflated)",
                        lim->max_pdf_inflated);
                return NULL;
        }
        PopplerDocument *doc = pdf_open(buf, len, code, code_size, errstr, errstr_size);
        if (doc == NULL)
                return NULL;
        *pages = poppler_document_get_n_pages(doc);
        if (*pages <= 0 || (long)*pages > lim->max_pages) {
                g_object_unref(doc);
                if (*pages <= 0)
                        mm_extract_set_error(code, code_size, errstr, errstr_size, "pdf_corrupt",
                                             "PDF has no pages");
                else
                        mm_extract_set_error(code, code_size, errstr, errstr_size, "extract_limit",
                                             "PDF has %d pages, more than the limit of %ld "
                                             "(extract-max-pages)",
                                             *pages, lim->max_pages);
                return NULL;
        }
        return doc;
}

/* The pdf_no_text error; says what OCR did when it was tried. */
static void no_text_error(const mm_extract_info_t *info, size_t nonspace, int pages, char *code,
                          size_t code_size, char *errstr, size_t errstr_size) {
        int scanned = info->ocr_pages + info->ocr_failed_pages + info->ocr_skipped_pages;
        if (scanned == 0)
                mm_extract_set_error(code, code_size, errstr, errstr_size, "pdf_no_text",
                                     "PDF has no text layer (%zu characters on %d pages); a scan?",
                                     nonspace, pages);
        else
                mm_extract_set_error(
                        code, code_size, errstr, errstr_size, "pdf_no_text",
                        "PDF has no text layer (%zu characters on %d pages); OCR read none of "
                        "its %d scanned pages: %.150s",
                        nonspace, pages, scanned,
                        info->ocr_skipped_pages > 0 ? info->ocr_note
                                                    : "confidence below ocr-min-confidence");
}

static int extract_pdf(const char *buf, size_t len, const mm_extract_limits_t *lim,
                       mm_extract_info_t *info, char **out, size_t *out_len, char *code,
                       size_t code_size, char *errstr, size_t errstr_size) {
        int pages = 0;
        PopplerDocument *doc =
                pdf_open_pages(buf, len, lim, &pages, code, code_size, errstr, errstr_size);
        if (doc == NULL)
                return -1;
        info->pages = pages;
        mm_ocr_doc_t *ocr = NULL;
        if (lim->ocr && (ocr = mm_ocr_doc_new(lim, info)) == NULL) {
                g_object_unref(doc);
                mm_extract_set_error(code, code_size, errstr, errstr_size, "out_of_memory",
                                     "out of memory starting OCR");
                return -1;
        }
        mm_buf_t b = MM_BUF_INIT;
        mm_buf_set_max(&b, lim->max_output_bytes);
        size_t nonspace = 0;
        int text_pages = 0, oom = 0;
        for (int i = 0; i < pages && !mm_buf_failed(&b) && !oom; i++)
                oom = pdf_page_text(doc, i, &b, &nonspace, ocr, &text_pages) != 0;
        g_object_unref(doc);
        mm_ocr_doc_finish(ocr, text_pages);

        if (b.err == MM_BUF_ELIMIT) {
                mm_buf_release(&b);
                mm_extract_set_error(code, code_size, errstr, errstr_size, "extract_limit",
                                     "PDF text is longer than %zu bytes (max-doc-bytes)",
                                     lim->max_output_bytes);
                return -1;
        }
        size_t min = (size_t)pages * MM_EXTRACT_PDF_MIN_CHARS_PER_PAGE;
        if (min < MM_EXTRACT_PDF_MIN_CHARS)
                min = MM_EXTRACT_PDF_MIN_CHARS;
        if (!mm_buf_failed(&b) && !oom && nonspace < min) {
                mm_buf_release(&b);
                no_text_error(info, nonspace, pages, code, code_size, errstr, errstr_size);
                return -1;
        }
        if (oom || mm_buf_take(&b, out, out_len) != 0) {
                mm_buf_release(&b);
                mm_extract_set_error(code, code_size, errstr, errstr_size, "out_of_memory",
                                     "out of memory extracting PDF text");
                return -1;
        }
        return 0;
}

/* ------------------------------------------------------------------ */
/* Public entry point                                                  */
/* ------------------------------------------------------------------ */

/* Extracts PDF or HTML in this process, within the limits (but without
 * CPU or memory limits: those need the sandbox). */
static int extract_direct(const char *buf, size_t len, mm_extract_type_t t,
                          const char *content_type, const mm_extract_limits_t *lim,
                          mm_extract_info_t *info, char **out, size_t *out_len, char *code,
                          size_t code_size, char *errstr, size_t errstr_size) {
#ifdef MM_EXTRACT_TEST_HOOKS
        /* Test builds only: markers in the input make the extractor crash,
         * spin or eat memory, to test the sandbox. */
        if (buf == NULL)
                buf = "";
        if (memmem(buf, len, "MM_EXTRACT_TEST_SLOW", 20) != NULL)
                sleep(3); /* a slow but valid document: extraction goes on */
        if (memmem(buf, len, "MM_EXTRACT_TEST_SLEEPY", 22) != NULL)
                sleep(10); /* blocked, not using CPU: misses the wall time */
        if (memmem(buf, len, "MM_EXTRACT_TEST_CRASH", 21) != NULL)
                raise(SIGSEGV); /* as a NULL dereference in poppler would */
        if (memmem(buf, len, "MM_EXTRACT_TEST_SPIN", 20) != NULL)
                for (volatile unsigned long i = 0;; i++)
                        ;
        if (memmem(buf, len, "MM_EXTRACT_TEST_HOG", 19) != NULL)
                for (;;) {
                        char *p = malloc(1u << 20);
                        if (p == NULL)
                                abort();
                        memset(p, 1, 1u << 20);
                }
#endif
        if (t == MM_EXTRACT_PDF)
                return extract_pdf(buf, len, lim, info, out, out_len, code, code_size, errstr,
                                   errstr_size);
        return mm_extract_html_text(buf, len, content_type, lim, out, out_len, code, code_size,
                                    errstr, errstr_size);
}

/* Extracts a built-in one-page PDF in this process, so that poppler's and
 * fontconfig's one-time set-up (global parameters, font configuration, the
 * GObject types) is done once here and inherited by every sandbox child
 * instead of being redone in each. Only this known document is ever
 * opened by poppler in the calling process. */
static void warm_up(void) {
        static const char *const objs[] = {
                "<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Count 1 /Kids [3 0 R] >>",
                ("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
                 "/Resources << /Font << /F1 5 0 R >> >> >>"),
                "<< /Length 44 >>\nstream\nBT /F1 12 Tf 72 760 Td (Dagsorden) Tj ET\n\nendstream",
                "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"};
        enum { NOBJ = sizeof objs / sizeof objs[0] };
        char pdf[1024];
        size_t off[NOBJ], n = (size_t)snprintf(pdf, sizeof pdf, "%%PDF-1.4\n");
        for (size_t i = 0; i < NOBJ; i++) {
                off[i] = n;
                n += (size_t)snprintf(pdf + n, sizeof pdf - n, "%zu 0 obj\n%s\nendobj\n", i + 1,
                                      objs[i]);
        }
        size_t xref = n;
        n += (size_t)snprintf(pdf + n, sizeof pdf - n, "xref\n0 %d\n0000000000 65535 f \n",
                              NOBJ + 1);
        for (size_t i = 0; i < NOBJ; i++)
                n += (size_t)snprintf(pdf + n, sizeof pdf - n, "%010zu 00000 n \n", off[i]);
        n += (size_t)snprintf(pdf + n, sizeof pdf - n,
                              "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%zu\n%%%%EOF\n",
                              NOBJ + 1, xref);
        mm_extract_limits_t lim;
        mm_extract_limits_default(&lim);
        lim.ocr = 0; /* Tesseract is never set up in the calling process */
        mm_extract_info_t info;
        memset(&info, 0, sizeof info);
        char *out = NULL;
        if (n < sizeof pdf && extract_pdf(pdf, n, &lim, &info, &out, NULL, NULL, 0, NULL, 0) == 0)
                free(out);
}

/* ------------------------------------------------------------------ */
/* Sandbox: one forked child per document (mm_sandbox)                 */
/* ------------------------------------------------------------------ */

typedef struct extract_job_s {
        const char *buf;
        size_t len;
        mm_extract_type_t t;
        const char *content_type;
        const mm_extract_limits_t *lim;
        const mm_extract_info_t *info; /* as known before the child */
} extract_job_t;

_Static_assert(sizeof(mm_extract_info_t) <= MM_SANDBOX_AUX_SIZE,
               "the extraction info travels in the sandbox's aux bytes");

/* Runs in the sandbox child (mm_sandbox_fn_t). The info comes back beside
 * the text, in the reply's aux bytes (the same binary reads it). */
static void extract_in_child(void *arg, mm_sandbox_result_t *res) {
        const extract_job_t *j = arg;
        char *text = NULL;
        size_t tlen = 0;
        mm_extract_info_t info;
        memcpy(&info, j->info, sizeof info);
        res->rc = extract_direct(j->buf, j->len, j->t, j->content_type, j->lim, &info, &text, &tlen,
                                 res->code, sizeof res->code, res->errstr, sizeof res->errstr);
        res->data = text;
        res->len = res->rc == 0 ? tlen : 0;
        memcpy(res->aux, &info, sizeof info);
        res->aux_len = sizeof info;
}

static int extract_sandboxed(const char *buf, size_t len, mm_extract_type_t t,
                             const char *content_type, const mm_extract_limits_t *lim,
                             mm_extract_info_t *info, char **out, size_t *out_len, char *code,
                             size_t code_size, char *errstr, size_t errstr_size) {
        extract_job_t job = {buf, len, t, content_type, lim, info};
        /* With OCR on, the child may use ocr-seconds more CPU once it OCRs
         * a page; until then its soft limit is extract-cpu-seconds
         * (cpu_start), so text documents keep their limit. */
        long cpu = lim->cpu_seconds + (lim->ocr && t == MM_EXTRACT_PDF ? lim->ocr_seconds : 0);
        mm_sandbox_limits_t sl = {cpu, lim->max_memory, lim->max_output_bytes, lim->cpu_seconds};
        mm_sandbox_result_t res;
        mm_sandbox_status_t st = mm_sandbox_run(&sl, extract_in_child, &job, &res);
        if (st == MM_SANDBOX_DONE && res.aux_len == sizeof *info)
                memcpy(info, res.aux, sizeof *info);
        if (st == MM_SANDBOX_DONE && res.rc == 0) {
                *out = res.data; /* ownership passed to the caller (NUL-terminated) */
                if (out_len != NULL)
                        *out_len = res.len;
                return 0;
        }
        mm_extract_set_error(code, code_size, errstr, errstr_size, res.code, "%s", res.errstr);
        mm_sandbox_result_clear(&res);
        return -1;
}

/* mm_extract_text_info with `info` not NULL. */
static int extract_info(const char *buf, size_t len, const char *content_type,
                        mm_extract_info_t *info, char **out, size_t *out_len, char *code,
                        size_t code_size, char *errstr, size_t errstr_size) {
        mm_extract_type_t t = mm_extract_detect(buf, len, content_type);
        mm_extract_limits_t lim = g_limits; /* a copy: set_limits may not race */
        memset(info, 0, sizeof *info);
        info->type = t;
        info->text_source = MM_TEXT_SOURCE_TEXT;
        info->ocr_confidence = -1;
        *out = NULL;
        if (out_len != NULL)
                *out_len = 0;
        if (code != NULL && code_size > 0)
                code[0] = '\0';
        if (errstr != NULL && errstr_size > 0)
                errstr[0] = '\0';

        switch (t) {
        case MM_EXTRACT_PDF:
        case MM_EXTRACT_HTML:
                /* in a sandbox child (mm_isolate) the limits already hold */
                if (lim.sandbox && !mm_sandbox_in_child())
                        return extract_sandboxed(buf, len, t, content_type, &lim, info, out,
                                                 out_len, code, code_size, errstr, errstr_size);
                return extract_direct(buf, len, t, content_type, &lim, info, out, out_len, code,
                                      code_size, errstr, errstr_size);
        case MM_EXTRACT_TEXT: {
                if (len > lim.max_output_bytes) {
                        mm_extract_set_error(
                                code, code_size, errstr, errstr_size, "extract_limit",
                                "text of %zu bytes is longer than %zu bytes (max-doc-bytes)", len,
                                lim.max_output_bytes);
                        return -1;
                }
                char *copy = malloc(len + 1);
                if (copy == NULL) {
                        mm_extract_set_error(code, code_size, errstr, errstr_size, "out_of_memory",
                                             "out of memory copying %zu bytes", len);
                        return -1;
                }
                if (len > 0)
                        memcpy(copy, buf, len);
                copy[len] = '\0';
                *out = copy; /* ownership passed to the caller */
                if (out_len != NULL)
                        *out_len = len;
                return 0;
        }
        case MM_EXTRACT_UNKNOWN:
        default:
                mm_extract_set_error(code, code_size, errstr, errstr_size, "unsupported_type",
                                     "unsupported document type (Content-Type %s)",
                                     content_type != NULL ? content_type : "not given");
                return -1;
        }
}

int mm_extract_text(const char *buf, size_t len, const char *content_type, mm_extract_type_t *type,
                    char **out, size_t *out_len, char *code, size_t code_size, char *errstr,
                    size_t errstr_size) {
        mm_extract_info_t info;
        int rc = extract_info(buf, len, content_type, &info, out, out_len, code, code_size, errstr,
                              errstr_size);
        if (type != NULL)
                *type = info.type;
        return rc;
}

int mm_extract_info_ocr_page(const mm_extract_info_t *info, int page) {
        if (page < 1 || page > MM_EXTRACT_OCR_PAGE_MAP)
                return 0;
        return (info->ocr_page_map[(page - 1) / 8] >> ((page - 1) % 8)) & 1;
}

const char *mm_extract_text_source_name(mm_text_source_t s) {
        switch (s) {
        case MM_TEXT_SOURCE_OCR:
                return "ocr";
        case MM_TEXT_SOURCE_MIXED:
                return "mixed";
        case MM_TEXT_SOURCE_TEXT:
        default:
                return "text";
        }
}

int mm_extract_text_info(const char *buf, size_t len, const char *content_type,
                         mm_extract_info_t *info, char **out, size_t *out_len, char *code,
                         size_t code_size, char *errstr, size_t errstr_size) {
        mm_extract_info_t local;
        return extract_info(buf, len, content_type, info != NULL ? info : &local, out, out_len,
                            code, code_size, errstr, errstr_size);
}
