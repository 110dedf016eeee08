#include "mm_source.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mm_extract.h"

/* ------------------------------------------------------------------ */
/* Text, HTML and PDF: mm_extract, then mm_parser                       */

/* The 1-based numbers of the OCRed pages. */
static json_t *page_array(const mm_extract_info_t *info) {
        json_t *a = json_array();
        for (int i = 1; a && i <= info->pages && i <= MM_EXTRACT_OCR_PAGE_MAP; i++)
                if (mm_extract_info_ocr_page(info, i))
                        json_array_append_new(a, json_integer(i));
        return a;
}

static void warn(json_t *doc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void warn(json_t *doc, const char *fmt, ...) {
        char w[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(w, sizeof(w), fmt, ap);
        va_end(ap);
        json_t *ws = json_object_get(json_object_get(doc, "document"), "warnings");
        if (json_is_array(ws))
                json_array_append_new(ws, json_string(w));
}

/* document.text_source, ocr_confidence and ocr_pages, and warnings that
 * name the OCRed pages and the scanned pages left empty. */
static void add_text_source(json_t *doc, const mm_extract_info_t *info) {
        json_t *d = json_object_get(doc, "document");
        if (!json_is_object(d))
                return;
        json_object_set_new(d, "text_source",
                            json_string(mm_extract_text_source_name(info->text_source)));
        json_object_set_new(d, "ocr_confidence",
                            info->ocr_pages > 0
                                    ? json_real(floor(info->ocr_confidence * 10.0 + 0.5) / 10.0)
                                    : json_null());
        json_object_set_new(d, "ocr_pages", page_array(info));
        if (info->ocr_pages > 0)
                warn(doc,
                     "%d of %d pages have no text layer and were read by OCR (Tesseract, Danish; "
                     "mean confidence %.1f): pages %s",
                     info->ocr_pages, info->pages, info->ocr_confidence, info->ocr_page_list);
        if (info->ocr_failed_pages > 0)
                warn(doc,
                     "%d scanned pages could not be read by OCR (confidence below "
                     "ocr-min-confidence) and are empty: pages %s",
                     info->ocr_failed_pages, info->ocr_failed_list);
        if (info->ocr_skipped_pages > 0)
                warn(doc, "%d scanned pages were not OCRed and are empty (%s): pages %s",
                     info->ocr_skipped_pages, info->ocr_note, info->ocr_skipped_list);
}

static int parse_text(const mm_parser_t *p, const char *buf, size_t len, const char *content_type,
                      mm_source_result_t *res, mm_parse_error_t *err) {
        char code[MM_EXTRACT_CODE_SIZE] = "", errstr[256] = "";
        size_t tlen = 0;
        char *text = NULL;
        if (mm_extract_text_info(buf, len, content_type, &res->extract, &text, &tlen, code,
                                 sizeof(code), errstr, sizeof(errstr)) != 0) {
                snprintf(err->code, sizeof(err->code), "%s", code);
                snprintf(err->reason, sizeof(err->reason), "%.200s", errstr);
                res->stage = "extract";
                return -1;
        }
        res->doc = mm_parser_parse(p, text, tlen, err);
        if (!res->doc) {
                free(text);
                res->stage = "parse";
                return -1;
        }
        add_text_source(res->doc, &res->extract);
        res->text = text;
        res->text_len = tlen;
        return 0;
}

static const char *const ct_text[] = {"text/plain", "text/markdown", NULL};
static const char *const ct_html[] = {"text/html", "application/xhtml+xml", NULL};
static const char *const ct_pdf[] = {"application/pdf", "application/x-pdf", NULL};

static const mm_source_adapter_t src_text = {"text", ct_text, NULL, parse_text};
static const mm_source_adapter_t src_html = {"html", ct_html, NULL, parse_text};
static const mm_source_adapter_t src_pdf = {"pdf", ct_pdf, NULL, parse_text};

/* The adapter table: exports first (their sniffers are exact), then the
 * text formats that mm_extract recognises. */
static const mm_source_adapter_t *const adapters[] = {
        &mm_source_firstagenda, &mm_source_edoc, &mm_source_sbsys, &src_html, &src_pdf, &src_text,
};
#define NADAPTERS (sizeof(adapters) / sizeof(adapters[0]))

const mm_source_adapter_t *const *mm_source_adapters(size_t *n) {
        if (n)
                *n = NADAPTERS;
        return adapters;
}

/* The media type of a Content-Type without parameters, lower-cased. */
static void media_type(const char *ct, char *out, size_t cap) {
        size_t o = 0;
        while (ct && (*ct == ' ' || *ct == '\t'))
                ct++;
        for (; ct && *ct && *ct != ';' && *ct != ' ' && o + 1 < cap; ct++)
                out[o++] = (char)tolower((unsigned char)*ct);
        out[o] = '\0';
}

/* First byte after a UTF-8 BOM and white space. */
static const char *skip_bom_ws(const char *buf, size_t len, size_t *rest) {
        size_t i = 0;
        if (len >= 3 && !memcmp(buf, "\xef\xbb\xbf", 3))
                i = 3;
        while (i < len && isspace((unsigned char)buf[i]))
                i++;
        *rest = len - i;
        return buf + i;
}

static int suffix(const char *s, const char *suf) {
        size_t a = strlen(s), b = strlen(suf);
        return a >= b && !strcmp(s + a - b, suf);
}

/* A NUL or more than 0.5 % control bytes in the first 8 KiB: JSON and XML
 * allow neither raw (the text parser's rule for "binary"). */
static int looks_binary(const char *buf, size_t len) {
        size_t n = len < MM_EXTRACT_SNIFF_BYTES ? len : MM_EXTRACT_SNIFF_BYTES, ctrl = 0;
        for (size_t i = 0; buf && i < n; i++) {
                unsigned char ch = (unsigned char)buf[i];
                if (ch == 0)
                        return 1;
                if ((ch < 0x20 && ch != '\t' && ch != '\n' && ch != '\r' && ch != '\f') ||
                    ch == 0x7f)
                        ctrl++;
        }
        return ctrl * 200 > n && ctrl > 2;
}

const mm_source_adapter_t *mm_source_detect(const char *buf, size_t len, const char *content_type) {
        char mt[128];
        size_t rest = 0;
        const char *b = buf ? skip_bom_ws(buf, len, &rest) : NULL;
        const mm_source_adapter_t *named = NULL;
        media_type(content_type, mt, sizeof(mt));
        for (size_t i = 0; mt[0] && !named && i < NADAPTERS; i++)
                for (size_t k = 0; adapters[i]->content_types[k]; k++)
                        if (!strcmp(mt, adapters[i]->content_types[k]))
                                named = adapters[i];
        if (named && named->sniff)
                return named; /* an export's own type */
        /* The export sniffers are exact: an export sent as text/plain is
         * still read as the export, not as text without items. */
        for (size_t i = 0; i < NADAPTERS; i++)
                if (adapters[i]->sniff && buf && adapters[i]->sniff(buf, len))
                        return adapters[i];
        if (named)
                return named;
        mm_extract_type_t t = mm_extract_detect(buf, len, NULL);
        /* Bytes that are no text (random or binary data that happens to
         * start with '{' or "<?xml") are no export: the text parser refuses
         * them as binary. */
        int text = t != MM_EXTRACT_UNKNOWN && !looks_binary(buf, len);
        int json = (text && rest && (b[0] == '{' || b[0] == '[')) || suffix(mt, "/json") ||
                   suffix(mt, "+json");
        int xml = (text && rest >= 5 && !memcmp(b, "<?xml", 5)) || suffix(mt, "/xml") ||
                  suffix(mt, "+xml");
        if (xml && t == MM_EXTRACT_HTML) {
                /* XML that is XHTML names its html root; other XML is an export. */
                size_t n = rest < 1024 ? rest : 1024;
                t = memmem(b, n, "<html", 5) || memmem(b, n, "<HTML", 5) ||
                                    memmem(b, n, "<!DOCTYPE html", 14)
                            ? MM_EXTRACT_HTML
                            : MM_EXTRACT_UNKNOWN;
        }
        if (json || (xml && t != MM_EXTRACT_HTML))
                return NULL;
        if (!xml)
                t = mm_extract_detect(buf, len, content_type);
        switch (t) {
        case MM_EXTRACT_HTML:
                return &src_html;
        case MM_EXTRACT_PDF:
                return &src_pdf;
        default:
                return &src_text; /* unsupported types fail in mm_extract */
        }
}

int mm_source_invalid(mm_parse_error_t *err, const char *fmt, ...) {
        va_list ap;
        snprintf(err->code, sizeof(err->code), "export_invalid");
        va_start(ap, fmt);
        vsnprintf(err->reason, sizeof(err->reason), fmt, ap);
        va_end(ap);
        return -1;
}

int mm_source_oom(mm_parse_error_t *err, const char *what) {
        snprintf(err->code, sizeof(err->code), "out_of_memory");
        snprintf(err->reason, sizeof(err->reason), "out of memory %s", what);
        return -1;
}

int mm_source_parse(const mm_parser_t *p, const char *buf, size_t len, const char *content_type,
                    mm_source_result_t *res, mm_parse_error_t *err) {
        memset(res, 0, sizeof(*res));
        memset(err, 0, sizeof(*err));
        const mm_source_adapter_t *a = mm_source_detect(buf, len, content_type);
        if (!a) {
                res->adapter = "unknown";
                res->stage = "parse";
                return mm_source_invalid(err, "JSON or XML that is no known export (%s, %s)",
                                         MM_SOURCE_CT_FIRSTAGENDA, MM_SOURCE_CT_EDOC);
        }
        res->adapter = a->name;
        if (a->parse(p, buf, len, content_type, res, err) != 0) {
                json_decref(res->doc);
                res->doc = NULL;
                free(res->text);
                res->text = NULL;
                if (!res->stage)
                        res->stage = "parse";
                return -1;
        }
        return 0;
}

void mm_source_result_clear(mm_source_result_t *res) {
        if (!res)
                return;
        json_decref(res->doc);
        free(res->text);
        memset(res, 0, sizeof(*res));
}

void mm_source_default_published_at(json_t *doc, const char *iso) {
        json_t *src = json_object_get(json_object_get(doc, "document"), "source");
        if (iso && json_is_object(src) && !json_is_string(json_object_get(src, "published_at")))
                json_object_set_new(src, "published_at", json_string(iso));
}
