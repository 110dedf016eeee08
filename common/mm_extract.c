/*
 * mm_extract: PDF/HTML/text to UTF-8 text. See mm_extract.h.
 */
#include "mm_extract.h"

#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <poppler.h>

#include <libxml/HTMLparser.h>
#include <libxml/encoding.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

/* ------------------------------------------------------------------ */
/* Errors                                                              */
/* ------------------------------------------------------------------ */

static void set_error(char *code, size_t code_size, char *errstr, size_t errstr_size, const char *c,
                      const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static void set_error(char *code, size_t code_size, char *errstr, size_t errstr_size, const char *c,
                      const char *fmt, ...) {
        if (code != NULL && code_size > 0)
                snprintf(code, code_size, "%s", c);
        if (errstr != NULL && errstr_size > 0) {
                va_list ap;
                va_start(ap, fmt);
                vsnprintf(errstr, errstr_size, fmt, ap);
                va_end(ap);
        }
}

/* ------------------------------------------------------------------ */
/* A growable output buffer                                            */
/* ------------------------------------------------------------------ */

typedef struct sbuf_s {
        char *data;
        size_t len;
        size_t cap;
        bool oom;
} sbuf_t;

static bool sbuf_reserve(sbuf_t *b, size_t extra) {
        if (b->oom)
                return false;
        if (extra > SIZE_MAX - b->len - 1) {
                b->oom = true;
                return false;
        }
        size_t need = b->len + extra + 1;
        if (need <= b->cap)
                return true;
        size_t cap = b->cap ? b->cap : 256;
        while (cap < need)
                cap = cap > SIZE_MAX / 2 ? need : cap * 2;
        char *p = realloc(b->data, cap);
        if (p == NULL) {
                b->oom = true;
                return false;
        }
        b->data = p;
        b->cap = cap;
        return true;
}

static void sbuf_append(sbuf_t *b, const char *s, size_t n) {
        if (n == 0 || !sbuf_reserve(b, n))
                return;
        memcpy(b->data + b->len, s, n);
        b->len += n;
        b->data[b->len] = '\0';
}

static void sbuf_putc(sbuf_t *b, char c) {
        sbuf_append(b, &c, 1);
}

/* Number of '\n' at the end of the buffer (at most 2 are counted). */
static int sbuf_trailing_newlines(const sbuf_t *b) {
        int n = 0;
        while ((size_t)n < b->len && n < 2 && b->data[b->len - 1 - n] == '\n')
                n++;
        return n;
}

/* Removes trailing white space and ends a non-empty text with one '\n'. */
static void sbuf_finish(sbuf_t *b) {
        while (b->len > 0 && (b->data[b->len - 1] == ' ' || b->data[b->len - 1] == '\t' ||
                              b->data[b->len - 1] == '\n'))
                b->len--;
        if (b->data != NULL)
                b->data[b->len] = '\0';
        if (b->len > 0)
                sbuf_putc(b, '\n');
}

/* Hands the buffer to the caller as a malloc'd NUL-terminated string. */
static int sbuf_take(sbuf_t *b, char **out, size_t *out_len) {
        if (b->oom) {
                free(b->data);
                b->data = NULL;
                return -1;
        }
        if (b->data == NULL) {
                b->data = malloc(1);
                if (b->data == NULL)
                        return -1;
                b->data[0] = '\0';
        }
        *out = b->data;
        if (out_len != NULL)
                *out_len = b->len;
        b->data = NULL; /* ownership passed to *out */
        b->len = b->cap = 0;
        return 0;
}

/* ------------------------------------------------------------------ */
/* Type detection                                                      */
/* ------------------------------------------------------------------ */

void mm_extract_global_init(void) {
        xmlInitParser();
}

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

static bool is_ws(unsigned char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static bool is_alpha(unsigned char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_alnum(unsigned char c) {
        return is_alpha(c) || (c >= '0' && c <= '9');
}

static unsigned char lower(unsigned char c) {
        return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

/* Case-insensitive prefix test on a length-bounded buffer. */
static bool has_prefix_ci(const char *p, size_t n, const char *prefix) {
        size_t k = strlen(prefix);
        if (n < k)
                return false;
        for (size_t i = 0; i < k; i++)
                if (lower((unsigned char)p[i]) != lower((unsigned char)prefix[i]))
                        return false;
        return true;
}

/* Finds `needle` in p[0..n). */
static const char *find_bytes(const char *p, size_t n, const char *needle) {
        size_t k = strlen(needle);
        if (k == 0 || n < k)
                return NULL;
        for (size_t i = 0; i + k <= n; i++)
                if (p[i] == needle[0] && memcmp(p + i, needle, k) == 0)
                        return p + i;
        return NULL;
}

/* Extracts the media type of a Content-Type ("Text/HTML; charset=x" ->
 * "text/html") into `mt`; returns its length (0 when empty/NULL). */
static size_t media_type(const char *ct, char *mt, size_t mt_size) {
        size_t n = 0;
        if (ct == NULL)
                return 0;
        while (is_ws((unsigned char)*ct))
                ct++;
        while (*ct != '\0' && *ct != ';' && !is_ws((unsigned char)*ct) && n + 1 < mt_size)
                mt[n++] = (char)lower((unsigned char)*ct++);
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

/* Skips a UTF-8 BOM, white space, <?xml ...?> and <!-- ... --> at p. */
static const char *skip_prolog(const char *p, const char *end) {
        if (end - p >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
                p += 3;
        for (;;) {
                while (p < end && is_ws((unsigned char)*p))
                        p++;
                const char *close = NULL;
                if (has_prefix_ci(p, (size_t)(end - p), "<?xml"))
                        close = "?>";
                else if (has_prefix_ci(p, (size_t)(end - p), "<!--"))
                        close = "-->";
                if (close == NULL)
                        return p;
                const char *q = find_bytes(p + 4, (size_t)(end - p - 4), close);
                if (q == NULL)
                        return end;
                p = q + strlen(close);
        }
}

static bool starts_with_tag(const char *p, size_t n, const char *tag) {
        size_t k = strlen(tag);
        if (!has_prefix_ci(p, n, tag))
                return false;
        if (n == k)
                return true;
        unsigned char c = (unsigned char)p[k];
        return c == '>' || c == '/' || is_ws(c);
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
                                                if (!is_ws((unsigned char)p[k]))
                                                        tag_bytes++;
                                        i = j + 1;
                                        continue;
                                }
                        }
                }
                if (!is_ws(c))
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
        if (find_bytes(buf, n < 1024 ? n : 1024, "%PDF-") != NULL)
                return MM_EXTRACT_PDF;
        for (size_t i = 0; i < sizeof binary / sizeof binary[0]; i++)
                if (n >= binary[i].len && memcmp(buf, binary[i].magic, binary[i].len) == 0)
                        return MM_EXTRACT_UNKNOWN;
        const char *end = buf + n;
        const char *p = skip_prolog(buf, end);
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
/* PDF                                                                 */
/* ------------------------------------------------------------------ */

/* Appends page text, dropping control bytes other than tab and newline
 * (mm_parser would take them for binary input). Returns the number of
 * non-space code points appended. */
static size_t append_clean(sbuf_t *b, const char *s, size_t n) {
        size_t nonspace = 0;
        size_t start = 0;
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)s[i];
                if (c >= 0x20 && c != 0x7F) {
                        if (c != ' ' && (c < 0x80 || c >= 0xC0))
                                nonspace++;
                        continue;
                }
                sbuf_append(b, s + start, i - start);
                start = i + 1;
                if (c == '\t' || c == '\n')
                        sbuf_putc(b, (char)c);
                else if ((c == '\r' || c == '\f' || c == '\v') && !(i + 1 < n && s[i + 1] == '\n'))
                        sbuf_putc(b, '\n');
                /* other control bytes are dropped */
        }
        sbuf_append(b, s + start, n - start);
        return nonspace;
}

static int extract_pdf(const char *buf, size_t len, char **out, size_t *out_len, char *code,
                       size_t code_size, char *errstr, size_t errstr_size) {
        static const char empty[1] = "";
        GError *gerr = NULL;
        /* The document only lives inside this function, so the caller's
         * buffer outlives it and need not be copied. */
        GBytes *bytes = g_bytes_new_static(buf != NULL ? buf : empty, len);
        PopplerDocument *doc = poppler_document_new_from_bytes(bytes, NULL, &gerr);
        g_bytes_unref(bytes); /* the document holds its own reference */
        bytes = NULL;
        if (doc == NULL) {
                if (gerr != NULL && g_error_matches(gerr, POPPLER_ERROR, POPPLER_ERROR_ENCRYPTED))
                        set_error(code, code_size, errstr, errstr_size, "pdf_encrypted",
                                  "PDF is password protected");
                else
                        set_error(code, code_size, errstr, errstr_size, "pdf_corrupt",
                                  "PDF cannot be opened: %s",
                                  gerr != NULL ? gerr->message : "unknown error");
                g_clear_error(&gerr);
                return -1;
        }

        int pages = poppler_document_get_n_pages(doc);
        if (pages <= 0) {
                g_object_unref(doc);
                set_error(code, code_size, errstr, errstr_size, "pdf_corrupt", "PDF has no pages");
                return -1;
        }

        sbuf_t b = {0};
        size_t nonspace = 0;
        for (int i = 0; i < pages; i++) {
                PopplerPage *page = poppler_document_get_page(doc, i);
                if (page == NULL)
                        continue;
                char *text = poppler_page_get_text(page);
                g_object_unref(page);
                if (text == NULL)
                        continue;
                if (!g_utf8_validate(text, -1, NULL)) {
                        char *valid = g_utf8_make_valid(text, -1);
                        g_free(text);
                        text = valid;
                }
                if (b.len > 0)
                        sbuf_append(&b, MM_EXTRACT_PAGE_SEPARATOR,
                                    sizeof MM_EXTRACT_PAGE_SEPARATOR - 1);
                size_t n = strlen(text);
                nonspace += append_clean(&b, text, n);
                if (b.len > 0 && b.data[b.len - 1] != '\n')
                        sbuf_putc(&b, '\n');
                g_free(text);
        }
        g_object_unref(doc);

        size_t min = (size_t)pages * MM_EXTRACT_PDF_MIN_CHARS_PER_PAGE;
        if (min < MM_EXTRACT_PDF_MIN_CHARS)
                min = MM_EXTRACT_PDF_MIN_CHARS;
        if (!b.oom && nonspace < min) {
                free(b.data);
                set_error(code, code_size, errstr, errstr_size, "pdf_no_text",
                          "PDF has no text layer (%zu characters on %d pages); a scan?", nonspace,
                          pages);
                return -1;
        }
        if (sbuf_take(&b, out, out_len) != 0) {
                set_error(code, code_size, errstr, errstr_size, "out_of_memory",
                          "out of memory extracting PDF text");
                return -1;
        }
        return 0;
}

/* ------------------------------------------------------------------ */
/* HTML                                                                */
/* ------------------------------------------------------------------ */

/* Elements whose content is not document text. <form> is deliberately
 * kept: ASP.NET/SharePoint pages wrap the whole body in one. */
static const char *const html_drop[] = {
        "head",   "title", "script", "style",  "noscript", "template", "nav",
        "aside",  "svg",   "math",   "button", "select",   "textarea", "iframe",
        "object", "embed", "canvas", "audio",  "video",    "map",      NULL};

/* Block elements that start a paragraph (one blank line around them). */
static const char *const html_para[] = {"p",       "h1",         "h2",     "h3",      "h4",
                                        "h5",      "h6",         "table",  "ul",      "ol",
                                        "dl",      "blockquote", "pre",    "section", "article",
                                        "header",  "footer",     "main",   "figure",  "fieldset",
                                        "details", "address",    "hgroup", "form",    NULL};

/* Block elements that start a line. */
static const char *const html_line[] = {
        "div",    "li",     "tr",     "dt",   "dd",    "caption", "hr",    "summary", "figcaption",
        "legend", "option", "center", "body", "thead", "tbody",   "tfoot", "label",   NULL};

/* Marks a table cell that holds no nested table ("flat" cell): its content
 * stays on the row's line, cells are separated by tabs, and only breaks
 * between pieces of the cell's content become (single) line breaks, like
 * a browser's innerText. A cell with a nested table is a layout cell and
 * behaves like a <div>. Stored in xmlNode._private, which libxml2 leaves
 * to the application. */
static char flat_cell_mark;

/* List item numbers are kept in the <ol> node's _private, offset so that
 * NULL means "not started". */
#define OL_BIAS 0x40000000L
#define OL_MAX  1000000L

typedef struct html_state_s {
        sbuf_t b;
        int pending_nl;   /* line breaks requested: 0, 1 or 2 */
        int pending_tabs; /* cell separators requested */
        bool pending_space;
        bool cell_nl;      /* a break inside a flat cell */
        bool cell_content; /* the current flat cell has emitted text */
        char prefix[24];   /* list marker for the next text ("- ", "3. ") */
        int pre_depth;     /* inside <pre>: keep white space */
        int flat_depth;    /* inside a flat table cell */
} html_state_t;

static bool name_is(const xmlNode *n, const char *name) {
        return n->type == XML_ELEMENT_NODE && n->name != NULL &&
               xmlStrcasecmp(n->name, (const xmlChar *)name) == 0;
}

static bool name_in(const xmlNode *n, const char *const *list) {
        if (n->type != XML_ELEMENT_NODE || n->name == NULL)
                return false;
        for (size_t i = 0; list[i] != NULL; i++)
                if (xmlStrcasecmp(n->name, (const xmlChar *)list[i]) == 0)
                        return true;
        return false;
}

static bool is_dropped(const xmlNode *n) {
        if (n->type != XML_ELEMENT_NODE)
                return n->type != XML_TEXT_NODE && n->type != XML_CDATA_SECTION_NODE;
        if (name_in(n, html_drop))
                return true;
        if (xmlHasProp((xmlNode *)n, (const xmlChar *)"hidden") != NULL)
                return true;
        xmlChar *aria = xmlGetProp(n, (const xmlChar *)"aria-hidden");
        bool hidden = aria != NULL && xmlStrcasecmp(aria, (const xmlChar *)"true") == 0;
        xmlFree(aria);
        return hidden;
}

static bool is_cell(const xmlNode *n) {
        return name_is(n, "td") || name_is(n, "th");
}

/* True if the subtree under `n` contains a <table> element. Iterative. */
static bool has_nested_table(const xmlNode *top) {
        const xmlNode *n = top->children;
        while (n != NULL && n != top) {
                if (name_is(n, "table"))
                        return true;
                if (n->type == XML_ELEMENT_NODE && n->children != NULL) {
                        n = n->children;
                        continue;
                }
                while (n != NULL && n != top && n->next == NULL)
                        n = n->parent;
                if (n == NULL || n == top)
                        break;
                n = n->next;
        }
        return false;
}

/* True if the nearest preceding element sibling is a table cell. */
static bool follows_cell(const xmlNode *n) {
        for (const xmlNode *p = n->prev; p != NULL; p = p->prev)
                if (p->type == XML_ELEMENT_NODE)
                        return is_cell(p);
        return false;
}

static void request_break(html_state_t *st, int n) {
        if (st->flat_depth > 0) {
                /* breaks before the cell's first text or after its last
                 * one (e.g. <td><p>82</p></td>) vanish */
                if (st->cell_content)
                        st->cell_nl = true;
                return;
        }
        if (st->pending_nl < n)
                st->pending_nl = n;
        st->pending_tabs = 0; /* separators of empty trailing cells */
}

/* Emits what is pending before the next visible character. */
static void flush_pending(html_state_t *st) {
        if (st->b.len > 0 && st->pending_nl > 0) {
                int have = sbuf_trailing_newlines(&st->b);
                for (int i = have; i < st->pending_nl && i < 2; i++)
                        sbuf_putc(&st->b, '\n');
        }
        if (st->cell_nl && st->b.len > 0 && sbuf_trailing_newlines(&st->b) == 0)
                sbuf_putc(&st->b, '\n');
        if (st->pending_tabs > 0) {
                for (int i = 0; i < st->pending_tabs; i++)
                        sbuf_putc(&st->b, '\t');
        } else if (st->pending_space && st->b.len > 0) {
                char last = st->b.data[st->b.len - 1];
                if (last != '\n' && last != '\t' && last != ' ')
                        sbuf_putc(&st->b, ' ');
        }
        if (st->prefix[0] != '\0') {
                sbuf_append(&st->b, st->prefix, strlen(st->prefix));
                st->prefix[0] = '\0';
        }
        st->pending_nl = 0;
        st->pending_tabs = 0;
        st->pending_space = false;
        st->cell_nl = false;
        if (st->flat_depth > 0)
                st->cell_content = true;
}

/* Sets the marker of list item `li`: "N. " inside <ol>, else "- ". */
static void list_prefix(html_state_t *st, xmlNode *li) {
        xmlNode *list = li->parent;
        if (list == NULL || !name_is(list, "ol")) {
                snprintf(st->prefix, sizeof st->prefix, "- ");
                return;
        }
        long next = (long)(intptr_t)list->_private;
        if (next == 0) {
                long start = 1;
                xmlChar *a = xmlGetProp(list, (const xmlChar *)"start");
                if (a != NULL) {
                        char *end = NULL;
                        long v = strtol((const char *)a, &end, 10);
                        if (end != (char *)a && v > -OL_MAX && v < OL_MAX)
                                start = v;
                        xmlFree(a);
                }
                next = start + OL_BIAS;
        }
        long num = next - OL_BIAS;
        if (num < OL_MAX)
                next++;
        list->_private = (void *)(intptr_t)next;
        snprintf(st->prefix, sizeof st->prefix, "%ld. ", num);
}

static void html_text(html_state_t *st, const xmlChar *s) {
        const unsigned char *p = s;
        if (p == NULL)
                return;
        while (*p != '\0') {
                unsigned char c = *p;
                size_t k = 1;
                bool space = is_ws(c);
                if (c == 0xC2 && p[1] == 0xA0) { /* no-break space */
                        space = true;
                        k = 2;
                }
                if (st->pre_depth > 0 && st->flat_depth == 0 && space && k == 1) {
                        if (c == '\n') {
                                flush_pending(st);
                                if (sbuf_trailing_newlines(&st->b) < 2)
                                        sbuf_putc(&st->b, '\n');
                        } else if (c == ' ' || c == '\t') {
                                flush_pending(st);
                                sbuf_putc(&st->b, (char)c);
                        }
                        p += k;
                        continue;
                }
                if (space) {
                        st->pending_space = true;
                        p += k;
                        continue;
                }
                if (c < 0x20 || c == 0x7F) { /* control characters */
                        p++;
                        continue;
                }
                flush_pending(st);
                const unsigned char *q = p + 1;
                while (*q != '\0' && !is_ws(*q) && *q >= 0x20 && *q != 0x7F && *q != 0xC2)
                        q++;
                sbuf_append(&st->b, (const char *)p, (size_t)(q - p));
                p = q;
        }
}

/* Called when the walk enters node `n`. Returns true to visit children. */
static bool html_enter(html_state_t *st, xmlNode *n) {
        if (is_dropped(n))
                return false;
        if (n->type != XML_ELEMENT_NODE) {
                html_text(st, n->content);
                return false;
        }
        if (name_is(n, "br")) {
                if (st->flat_depth > 0) {
                        request_break(st, 1);
                } else if (st->b.len > 0) {
                        st->pending_nl = st->pending_nl < 2 ? st->pending_nl + 1 : 2;
                        if (st->pending_nl == 1 && sbuf_trailing_newlines(&st->b) >= 1)
                                st->pending_nl = 2;
                }
                return false;
        }
        if (is_cell(n)) {
                if (follows_cell(n))
                        st->pending_tabs++;
                if (st->flat_depth > 0 || !has_nested_table(n)) {
                        n->_private = &flat_cell_mark;
                        st->flat_depth++;
                        st->cell_content = false;
                        st->cell_nl = false;
                } else {
                        request_break(st, 1);
                }
                return true;
        }
        if (name_is(n, "pre"))
                st->pre_depth++;
        if (name_in(n, html_para))
                request_break(st, 2);
        else if (name_in(n, html_line))
                request_break(st, 1);
        else if (name_is(n, "img") || name_is(n, "input"))
                st->pending_space = true;
        if (name_is(n, "li"))
                list_prefix(st, n);
        return true;
}

/* Called when the walk leaves element `n` after its children. */
static void html_leave(html_state_t *st, xmlNode *n) {
        if (n->type != XML_ELEMENT_NODE || is_dropped(n) || name_is(n, "br"))
                return;
        if (is_cell(n)) {
                if (n->_private == &flat_cell_mark) {
                        n->_private = NULL;
                        st->flat_depth--;
                        st->cell_nl = false;
                        st->cell_content = st->flat_depth > 0;
                        st->pending_space = true;
                } else {
                        request_break(st, 1);
                }
                return;
        }
        if (name_is(n, "pre") && st->pre_depth > 0)
                st->pre_depth--;
        if (name_is(n, "li"))
                st->prefix[0] = '\0'; /* an empty item has no marker */
        if (name_in(n, html_para))
                request_break(st, 2);
        else if (name_in(n, html_line))
                request_break(st, 1);
}

static void html_walk(html_state_t *st, xmlNode *root) {
        xmlNode *n = root;
        while (n != NULL) {
                if (html_enter(st, n) && n->children != NULL) {
                        n = n->children;
                        continue;
                }
                if (n->type == XML_ELEMENT_NODE && !is_dropped(n))
                        html_leave(st, n);
                /* climb until a node with a next sibling is found */
                while (n != root && n->next == NULL) {
                        n = n->parent;
                        html_leave(st, n);
                }
                if (n == root)
                        break;
                n = n->next;
        }
}

/* The charset parameter of a Content-Type, if libxml2 knows it. */
static bool content_type_charset(const char *ct, char *cs, size_t cs_size) {
        const char *p = ct != NULL ? strchr(ct, ';') : NULL;
        while (p != NULL) {
                p++;
                while (is_ws((unsigned char)*p))
                        p++;
                if (has_prefix_ci(p, strlen(p), "charset=")) {
                        p += 8;
                        if (*p == '"')
                                p++;
                        size_t n = 0;
                        while (*p != '\0' && *p != ';' && *p != '"' && !is_ws((unsigned char)*p) &&
                               n + 1 < cs_size)
                                cs[n++] = *p++;
                        cs[n] = '\0';
                        if (n == 0)
                                return false;
                        xmlCharEncodingHandlerPtr h = xmlFindCharEncodingHandler(cs);
                        if (h == NULL)
                                return false;
                        xmlCharEncCloseFunc(h);
                        return true;
                }
                p = strchr(p, ';');
        }
        return false;
}

static int extract_html(const char *buf, size_t len, const char *content_type, char **out,
                        size_t *out_len, char *code, size_t code_size, char *errstr,
                        size_t errstr_size) {
        if (len > (size_t)INT_MAX) {
                set_error(code, code_size, errstr, errstr_size, "too_large",
                          "HTML document of %zu bytes is too large", len);
                return -1;
        }
        char charset[64];
        const char *enc =
                content_type_charset(content_type, charset, sizeof charset) ? charset : NULL;
        htmlDocPtr doc = NULL;
        if (len > 0)
                doc = htmlReadMemory(buf, (int)len, NULL, enc,
                                     HTML_PARSE_RECOVER | HTML_PARSE_NOERROR |
                                             HTML_PARSE_NOWARNING | HTML_PARSE_NONET);
        xmlNode *root = doc != NULL ? xmlDocGetRootElement(doc) : NULL;
        if (root == NULL) {
                xmlFreeDoc(doc);
                set_error(code, code_size, errstr, errstr_size, "html_corrupt",
                          "libxml2 could not build an HTML tree");
                return -1;
        }

        html_state_t st = {0};
        html_walk(&st, root);
        xmlFreeDoc(doc);
        sbuf_finish(&st.b);
        if (sbuf_take(&st.b, out, out_len) != 0) {
                set_error(code, code_size, errstr, errstr_size, "out_of_memory",
                          "out of memory extracting HTML text");
                return -1;
        }
        return 0;
}

/* ------------------------------------------------------------------ */
/* Public entry point                                                  */
/* ------------------------------------------------------------------ */

int mm_extract_text(const char *buf, size_t len, const char *content_type, mm_extract_type_t *type,
                    char **out, size_t *out_len, char *code, size_t code_size, char *errstr,
                    size_t errstr_size) {
        mm_extract_type_t t = mm_extract_detect(buf, len, content_type);
        if (type != NULL)
                *type = t;
        *out = NULL;
        if (out_len != NULL)
                *out_len = 0;
        if (code != NULL && code_size > 0)
                code[0] = '\0';
        if (errstr != NULL && errstr_size > 0)
                errstr[0] = '\0';

        switch (t) {
        case MM_EXTRACT_PDF:
                return extract_pdf(buf, len, out, out_len, code, code_size, errstr, errstr_size);
        case MM_EXTRACT_HTML:
                return extract_html(buf, len, content_type, out, out_len, code, code_size, errstr,
                                    errstr_size);
        case MM_EXTRACT_TEXT: {
                char *copy = malloc(len + 1);
                if (copy == NULL) {
                        set_error(code, code_size, errstr, errstr_size, "out_of_memory",
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
                set_error(code, code_size, errstr, errstr_size, "unsupported_type",
                          "unsupported document type (Content-Type %s)",
                          content_type != NULL ? content_type : "not given");
                return -1;
        }
}
