/*
 * Unit tests for common/parse/mm_extract.
 *
 *   test_extract GROUP GENDIR SEEDDIR FIXDIR
 *
 * GROUP is one of sniff, text, pdf, html, errors, limits, or pdftotext (which takes
 * the path of the pdftotext program as a fifth argument). GENDIR holds the PDF and
 * HTML files that tests/tools/mkfixtures.c rendered from the seeds in
 * SEEDDIR (ctest fixture `extract_fixtures`); FIXDIR is
 * tests/fixtures/extract (sniff.tsv).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utf8proc.h>
#include <zlib.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>

#include "mm_config.h"
#include "mm_extract.h"
#include "mm_sandbox.h"

static const char *g_gendir;
static const char *g_seeddir;
static const char *g_fixdir;
static const char *g_pdftotext; /* optional: path of poppler-utils' pdftotext */

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

static char *read_file(const char *path, size_t *len) {
        FILE *f = fopen(path, "rb");
        if (f == NULL)
                return NULL;
        size_t cap = 65536, n = 0;
        char *buf = malloc(cap + 1);
        while (buf != NULL) {
                n += fread(buf + n, 1, cap - n, f);
                if (n < cap)
                        break;
                cap *= 2;
                char *p = realloc(buf, cap + 1);
                if (p == NULL) {
                        free(buf);
                        buf = NULL;
                        break;
                }
                buf = p;
        }
        fclose(f);
        if (buf != NULL) {
                buf[n] = '\0';
                *len = n;
        }
        return buf;
}

static char *path_join(const char *dir, const char *name, const char *ext) {
        size_t n = strlen(dir) + strlen(name) + strlen(ext) + 2;
        char *p = malloc(n);
        assert_non_null(p);
        snprintf(p, n, "%s/%s%s", dir, name, ext);
        return p;
}

static char *read_fixture(const char *dir, const char *name, const char *ext, size_t *len) {
        char *path = path_join(dir, name, ext);
        char *buf = read_file(path, len);
        if (buf == NULL)
                fail_msg("cannot read %s", path);
        free(path);
        return buf;
}

/* Runs the extractor and expects success. */
static char *extract_ok(const char *buf, size_t len, const char *ct, mm_extract_type_t want,
                        size_t *out_len) {
        char *out = NULL;
        size_t n = 0;
        char code[MM_EXTRACT_CODE_SIZE], err[256];
        mm_extract_type_t t = MM_EXTRACT_UNKNOWN;
        int rc = mm_extract_text(buf, len, ct, &t, &out, &n, code, sizeof code, err, sizeof err);
        if (rc != 0)
                fail_msg("extraction failed: %s: %s", code, err);
        assert_int_equal(t, want);
        assert_non_null(out);
        assert_int_equal(out[n], '\0');
        if (want != MM_EXTRACT_TEXT) /* text may hold NUL bytes */
                assert_int_equal(strlen(out), n);
        if (out_len != NULL)
                *out_len = n;
        return out;
}

/* Runs the extractor and expects failure with `want_code`. */
static void extract_fails(const char *buf, size_t len, const char *ct, const char *want_code) {
        char *out = (char *)1;
        char code[MM_EXTRACT_CODE_SIZE], err[256];
        int rc =
                mm_extract_text(buf, len, ct, NULL, &out, NULL, code, sizeof code, err, sizeof err);
        assert_int_equal(rc, -1);
        assert_null(out);
        if (strcmp(code, want_code) != 0)
                fail_msg("%s (%s) instead of %s", code, err, want_code);
        assert_true(strlen(err) > 0);
}

/* Words of an NFKC-normalised text, split at white space. */
typedef struct words_s {
        char **w;
        size_t n;
        char *mem;
} words_t;

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static void words_split(words_t *ws, const char *text) {
        ws->mem = (char *)utf8proc_NFKC((const utf8proc_uint8_t *)text);
        assert_non_null(ws->mem);
        size_t cap = 1024;
        ws->w = malloc(cap * sizeof *ws->w);
        ws->n = 0;
        assert_non_null(ws->w);
        char *save = NULL;
        for (char *t = strtok_r(ws->mem, " \t\n\r\f\v", &save); t != NULL;
             t = strtok_r(NULL, " \t\n\r\f\v", &save)) {
                if (ws->n == cap) {
                        cap *= 2;
                        ws->w = realloc(ws->w, cap * sizeof *ws->w);
                        assert_non_null(ws->w);
                }
                ws->w[ws->n++] = t;
        }
        qsort(ws->w, ws->n, sizeof *ws->w, cmp_str);
}

static void words_free(words_t *ws) {
        free(ws->w);
        free(ws->mem);
}

/* Size of the multiset intersection of two sorted word lists. */
static size_t words_common(const words_t *a, const words_t *b) {
        size_t i = 0, j = 0, common = 0;
        while (i < a->n && j < b->n) {
                int c = strcmp(a->w[i], b->w[j]);
                if (c == 0) {
                        common++;
                        i++;
                        j++;
                } else if (c < 0) {
                        i++;
                } else {
                        j++;
                }
        }
        return common;
}

/* Copies s[0..n) with runs of ASCII white space folded to one space and
 * trimmed at both ends. */
static char *collapse(const char *s, size_t n) {
        char *out = malloc(n + 1);
        size_t k = 0;
        bool space = false;
        assert_non_null(out);
        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
                        space = true;
                        continue;
                }
                if (space && k > 0)
                        out[k++] = ' ';
                space = false;
                out[k++] = c;
        }
        out[k] = '\0';
        return out;
}

/* A list of lines. */
typedef struct lines_s {
        char **l;
        size_t n;
        size_t cap;
} lines_t;

static void lines_add(lines_t *ls, char *line) {
        if (ls->n == ls->cap) {
                ls->cap = ls->cap ? ls->cap * 2 : 256;
                ls->l = realloc(ls->l, ls->cap * sizeof *ls->l);
                assert_non_null(ls->l);
        }
        ls->l[ls->n++] = line; /* ownership passed to the list */
}

static void lines_free(lines_t *ls) {
        for (size_t i = 0; i < ls->n; i++)
                free(ls->l[i]);
        free(ls->l);
}

/* The seed file names (without .txt) in SEEDDIR, sorted. */
static lines_t seed_names(void) {
        lines_t ls = {0};
        DIR *d = opendir(g_seeddir);
        struct dirent *e;
        assert_non_null(d);
        while ((e = readdir(d)) != NULL) {
                size_t n = strlen(e->d_name);
                if (n > 4 && strcmp(e->d_name + n - 4, ".txt") == 0)
                        lines_add(&ls, strndup(e->d_name, n - 4));
        }
        closedir(d);
        qsort(ls.l, ls.n, sizeof *ls.l, cmp_str);
        return ls;
}

/* ------------------------------------------------------------------ */
/* Sniffing (table-driven: tests/fixtures/extract/sniff.tsv)           */
/* ------------------------------------------------------------------ */

static int hexval(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/* Decodes C-style escapes (\n \r \t \\ \xNN) in place; returns the length. */
static size_t unescape(char *s) {
        size_t k = 0;
        for (size_t i = 0; s[i] != '\0'; i++) {
                if (s[i] != '\\' || s[i + 1] == '\0') {
                        s[k++] = s[i];
                        continue;
                }
                char c = s[++i];
                if (c == 'n')
                        s[k++] = '\n';
                else if (c == 'r')
                        s[k++] = '\r';
                else if (c == 't')
                        s[k++] = '\t';
                else if (c == 'x' && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
                        s[k++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
                        i += 2;
                } else
                        s[k++] = c;
        }
        s[k] = '\0';
        return k;
}

static void test_sniff_table(void **state) {
        (void)state;
        size_t len = 0;
        char *tsv = read_fixture(g_fixdir, "sniff", ".tsv", &len);
        size_t rows = 0;
        char *save = NULL;
        for (char *line = strtok_r(tsv, "\n", &save); line != NULL;
             line = strtok_r(NULL, "\n", &save)) {
                if (line[0] == '#' || line[0] == '\0')
                        continue;
                char *ct = line;
                char *bytes = strchr(ct, '\t');
                assert_non_null(bytes);
                *bytes++ = '\0';
                char *want = strchr(bytes, '\t');
                assert_non_null(want);
                *want++ = '\0';
                size_t n = unescape(bytes);
                mm_extract_type_t t = mm_extract_detect(bytes, n, strcmp(ct, "-") == 0 ? NULL : ct);
                if (strcmp(mm_extract_type_name(t), want) != 0)
                        fail_msg("sniff.tsv row %zu (%s | %.40s): got %s, want %s", rows + 1, ct,
                                 bytes, mm_extract_type_name(t), want);
                rows++;
        }
        free(tsv);
        assert_true(rows >= 20);
}

static void test_sniff_seeds_are_text(void **state) {
        (void)state;
        /* The seeds contain inline <b>/<p> tags but are not HTML pages. */
        lines_t names = seed_names();
        assert_true(names.n >= 5);
        for (size_t i = 0; i < names.n; i++) {
                size_t len = 0;
                char *buf = read_fixture(g_seeddir, names.l[i], ".txt", &len);
                if (mm_extract_detect(buf, len, NULL) != MM_EXTRACT_TEXT)
                        fail_msg("%s sniffed as %s", names.l[i],
                                 mm_extract_type_name(mm_extract_detect(buf, len, NULL)));
                free(buf);
        }
        lines_free(&names);
}

static void test_type_names(void **state) {
        (void)state;
        assert_string_equal(mm_extract_type_name(MM_EXTRACT_TEXT), "text");
        assert_string_equal(mm_extract_type_name(MM_EXTRACT_HTML), "html");
        assert_string_equal(mm_extract_type_name(MM_EXTRACT_PDF), "pdf");
        assert_string_equal(mm_extract_type_name(MM_EXTRACT_UNKNOWN), "unknown");
        assert_string_equal(mm_extract_type_name((mm_extract_type_t)99), "unknown");
}

/* ------------------------------------------------------------------ */
/* Text                                                                */
/* ------------------------------------------------------------------ */

static void test_text_unchanged(void **state) {
        (void)state;
        lines_t names = seed_names();
        assert_true(names.n > 0);
        for (size_t i = 0; i < names.n; i++) {
                size_t len = 0, n = 0;
                char *buf = read_fixture(g_seeddir, names.l[i], ".txt", &len);
                char *out = extract_ok(buf, len, NULL, MM_EXTRACT_TEXT, &n);
                assert_int_equal(n, len);
                assert_memory_equal(out, buf, len);
                free(out);
                free(buf);
        }
        lines_free(&names);
}

static void test_text_bytes_kept(void **state) {
        (void)state;
        /* Windows-1252 bytes and a NUL go through untouched: the parser
         * decodes and judges them. */
        static const char raw[] = "M\xF8"
                                  "dedato: 6. september\0 2021\r\n";
        size_t n = 0;
        char *out = extract_ok(raw, sizeof raw - 1, "text/plain; charset=windows-1252",
                               MM_EXTRACT_TEXT, &n);
        assert_int_equal(n, sizeof raw - 1);
        assert_memory_equal(out, raw, sizeof raw - 1);
        free(out);

        out = extract_ok(NULL, 0, NULL, MM_EXTRACT_TEXT, &n);
        assert_int_equal(n, 0);
        assert_string_equal(out, "");
        free(out);
}

static void test_content_type_beats_sniffing(void **state) {
        (void)state;
        /* PDF bytes declared as text come back unchanged ... */
        static const char pdfish[] = "%PDF-1.4\nnot really a pdf\n";
        size_t n = 0;
        char *out = extract_ok(pdfish, sizeof pdfish - 1, "Text/Plain; charset=UTF-8",
                               MM_EXTRACT_TEXT, &n);
        assert_memory_equal(out, pdfish, sizeof pdfish - 1);
        free(out);
        /* ... and without a Content-Type they are a (broken) PDF. */
        extract_fails(pdfish, sizeof pdfish - 1, NULL, "pdf_corrupt");
        extract_fails(pdfish, sizeof pdfish - 1, "application/octet-stream", "pdf_corrupt");

        /* HTML declared as text/markdown stays text, tags and all. */
        static const char html[] = "<!DOCTYPE html><html><body><p>Hej &amp; farvel</p>"
                                   "<script>x()</script></body></html>";
        out = extract_ok(html, sizeof html - 1, "text/markdown", MM_EXTRACT_TEXT, NULL);
        assert_string_equal(out, html);
        free(out);
        out = extract_ok(html, sizeof html - 1, NULL, MM_EXTRACT_HTML, NULL);
        assert_string_equal(out, "Hej & farvel\n");
        free(out);

        /* Text declared as HTML is parsed as HTML. */
        static const char txt[] = "a &amp; b <script>gone()</script>";
        out = extract_ok(txt, sizeof txt - 1, "TEXT/HTML;charset=utf-8", MM_EXTRACT_HTML, NULL);
        assert_string_equal(out, "a & b\n");
        free(out);

        /* A real PDF declared as application/pdf but also sniffable. */
        size_t len = 0;
        char *pdf = read_fixture(g_gendir, "scan", ".pdf", &len);
        out = extract_ok(pdf, len, "text/plain", MM_EXTRACT_TEXT, &n);
        assert_int_equal(n, len);
        free(out);
        free(pdf);

        /* An image type is not extracted even if the bytes look like text. */
        extract_fails("hello", 5, "image/png", "unsupported_type");
}

/* ------------------------------------------------------------------ */
/* PDF round trip                                                      */
/* ------------------------------------------------------------------ */

/* If `line` is an item start "NN. Title" (optionally after markdown '#'
 * and '**'), returns a malloc'd copy of its collapsed prefix up to and
 * including the first word of the title; else NULL. */
static char *item_marker(const char *line, size_t n) {
        size_t i = 0;
        while (i < n && (line[i] == ' ' || line[i] == '\t'))
                i++;
        while (i < n && line[i] == '#')
                i++;
        while (i < n && (line[i] == ' ' || line[i] == '\t'))
                i++;
        if (i + 1 < n && line[i] == '*' && line[i + 1] == '*')
                i += 2;
        size_t d = i;
        while (i < n && line[i] >= '0' && line[i] <= '9')
                i++;
        if (i == d || i - d > 3 || i >= n || line[i] != '.')
                return NULL;
        i++;
        if (i >= n || (line[i] != ' ' && line[i] != '\t'))
                return NULL;
        while (i < n && (line[i] == ' ' || line[i] == '\t'))
                i++;
        if (i >= n)
                return NULL;
        while (i < n && line[i] != ' ' && line[i] != '\t')
                i++;
        return collapse(line, i);
}

/* Collapsed, non-empty lines of a text. */
static lines_t text_lines(const char *s, size_t len) {
        lines_t ls = {0};
        size_t i = 0;
        while (i < len) {
                const char *nl = memchr(s + i, '\n', len - i);
                size_t e = nl != NULL ? (size_t)(nl - s) : len;
                char *c = collapse(s + i, e - i);
                if (c[0] != '\0')
                        lines_add(&ls, c);
                else
                        free(c);
                i = e + 1;
        }
        return ls;
}

static void test_pdf_seed(void **state) {
        const char *name = *state;
        size_t slen = 0, plen = 0, olen = 0;
        char *seed = read_fixture(g_seeddir, name, ".txt", &slen);
        char *pdf = read_fixture(g_gendir, name, ".pdf", &plen);
        char *out = extract_ok(pdf, plen, "application/pdf", MM_EXTRACT_PDF, &olen);
        char *out2 = extract_ok(pdf, plen, NULL, MM_EXTRACT_PDF, NULL);
        assert_string_equal(out, out2); /* sniffed the same */
        free(out2);

        /* no control bytes other than tab and newline */
        for (size_t i = 0; i < olen; i++) {
                unsigned char c = (unsigned char)out[i];
                if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7F)
                        fail_msg("%s: control byte 0x%02x at %zu", name, c, i);
        }

        /* words: recall and precision of the multiset >= 98 % */
        words_t ws, wo;
        words_split(&ws, seed);
        words_split(&wo, out);
        size_t common = words_common(&ws, &wo);
        double recall = (double)common / (double)ws.n;
        double precision = (double)common / (double)wo.n;
        print_message("%s: %zu seed words, %zu extracted, recall %.4f precision %.4f\n", name, ws.n,
                      wo.n, recall, precision);
        assert_true(ws.n > 500);
        assert_true(recall >= 0.98);
        assert_true(precision >= 0.98);
        words_free(&ws);
        words_free(&wo);

        /* every "NN. Title" line start is there, in order */
        lines_t ol = text_lines(out, olen);
        size_t at = 0, markers = 0, i = 0;
        while (i < slen) {
                const char *nl = memchr(seed + i, '\n', slen - i);
                size_t e = nl != NULL ? (size_t)(nl - seed) : slen;
                char *m = item_marker(seed + i, e - i);
                i = e + 1;
                if (m == NULL)
                        continue;
                size_t ml = strlen(m);
                while (at < ol.n && strncmp(ol.l[at], m, ml) != 0)
                        at++;
                if (at == ol.n)
                        fail_msg("%s: item marker \"%s\" missing or out of order", name, m);
                at++;
                markers++;
                free(m);
        }
        assert_true(markers > 0);
        lines_free(&ol);
        free(out);
        free(pdf);
        free(seed);
}

/* Our PDF text against `pdftotext` (default mode) on the same file: the
 * words agree (>= 99 % both ways) and the number of non-empty lines is
 * within 2 %. Differences: pdftotext joins words hyphenated at a line end
 * and puts blank lines between text blocks; poppler_page_get_text does
 * neither. */
static void test_pdf_vs_pdftotext(void **state) {
        const char *name = *state;
        size_t plen = 0, olen = 0;
        char *pdf_path = path_join(g_gendir, name, ".pdf");
        char *pdf = read_fixture(g_gendir, name, ".pdf", &plen);
        char *out = extract_ok(pdf, plen, NULL, MM_EXTRACT_PDF, &olen);

        size_t cmd_len = strlen(g_pdftotext) + strlen(pdf_path) + 32;
        char *cmd = malloc(cmd_len);
        assert_non_null(cmd);
        snprintf(cmd, cmd_len, "'%s' -q -enc UTF-8 '%s' -", g_pdftotext, pdf_path);
        FILE *f = popen(cmd, "r");
        assert_non_null(f);
        size_t cap = 1 << 16, rlen = 0;
        char *ref = malloc(cap + 1);
        assert_non_null(ref);
        for (;;) {
                rlen += fread(ref + rlen, 1, cap - rlen, f);
                if (rlen < cap)
                        break;
                cap *= 2;
                ref = realloc(ref, cap + 1);
                assert_non_null(ref);
        }
        ref[rlen] = '\0';
        assert_int_equal(pclose(f), 0);

        words_t wo, wr;
        words_split(&wo, out);
        words_split(&wr, ref);
        size_t common = words_common(&wo, &wr);
        lines_t lo = text_lines(out, olen), lr = text_lines(ref, rlen);
        print_message("%s: %zu words, pdftotext %zu, common %zu; %zu lines, pdftotext %zu\n", name,
                      wo.n, wr.n, common, lo.n, lr.n);
        assert_true(wr.n > 500);
        assert_true((double)common >= 0.99 * (double)wo.n);
        assert_true((double)common >= 0.99 * (double)wr.n);
        size_t dl = lo.n > lr.n ? lo.n - lr.n : lr.n - lo.n;
        assert_true((double)dl <= 0.02 * (double)lr.n);
        lines_free(&lo);
        lines_free(&lr);
        words_free(&wo);
        words_free(&wr);
        free(ref);
        free(cmd);
        free(out);
        free(pdf);
        free(pdf_path);
}

/* ------------------------------------------------------------------ */
/* HTML round trip                                                     */
/* ------------------------------------------------------------------ */

/* The lines the extractor should produce for a seed rendered by
 * mkfixtures: headings without '#', table rows as tab-joined cells,
 * paragraphs with white space folded; empty lines left out. */
static lines_t expected_html_lines(const char *s, size_t len) {
        lines_t ls = {0};
        size_t i = 0;
        while (i < len) {
                const char *nl = memchr(s + i, '\n', len - i);
                size_t e = nl != NULL ? (size_t)(nl - s) : len;
                const char *l = s + i;
                size_t n = e - i;
                i = e + 1;
                char *c;
                if (memchr(l, '\t', n) != NULL) {
                        c = malloc(n + 1);
                        assert_non_null(c);
                        size_t k = 0, p = 0;
                        while (p <= n) {
                                const char *t = memchr(l + p, '\t', n - p);
                                size_t ce = t != NULL ? (size_t)(t - l) : n;
                                char *cell = collapse(l + p, ce - p);
                                if (p > 0)
                                        c[k++] = '\t';
                                memcpy(c + k, cell, strlen(cell));
                                k += strlen(cell);
                                free(cell);
                                p = ce + 1;
                        }
                        while (k > 0 && c[k - 1] == '\t')
                                k--;
                        c[k] = '\0';
                } else {
                        size_t h = 0;
                        while (h < n && h < 6 && l[h] == '#')
                                h++;
                        if (h > 0 && h < n && l[h] == ' ')
                                c = collapse(l + h + 1, n - h - 1);
                        else
                                c = collapse(l, n);
                }
                if (c[0] != '\0')
                        lines_add(&ls, c);
                else
                        free(c);
        }
        return ls;
}

/* Non-empty lines of the extractor output, as they are. */
static lines_t raw_lines(const char *s, size_t len) {
        lines_t ls = {0};
        size_t i = 0;
        while (i < len) {
                const char *nl = memchr(s + i, '\n', len - i);
                size_t e = nl != NULL ? (size_t)(nl - s) : len;
                if (e > i)
                        lines_add(&ls, strndup(s + i, e - i));
                i = e + 1;
        }
        return ls;
}

static size_t count(const char *hay, const char *needle) {
        size_t n = 0;
        for (const char *p = strstr(hay, needle); p != NULL; p = strstr(p + 1, needle))
                n++;
        return n;
}

static void test_html_seed(void **state) {
        const char *name = *state;
        static const char *const markers[] = {"MMNAVMARKER", "MMSCRIPTMARKER", "MMSTYLEMARKER",
                                              "MMCOMMENTMARKER"};
        size_t slen = 0, hlen = 0, olen = 0;
        char *seed = read_fixture(g_seeddir, name, ".txt", &slen);
        char *html = read_fixture(g_gendir, name, ".html", &hlen);
        char *out = extract_ok(html, hlen, NULL, MM_EXTRACT_HTML, &olen);

        /* navigation, script, style and comments are dropped */
        for (size_t i = 0; i < sizeof markers / sizeof markers[0]; i++) {
                assert_non_null(strstr(html, markers[i]));
                if (strstr(out, markers[i]) != NULL)
                        fail_msg("%s: %s not dropped", name, markers[i]);
        }
        assert_null(strstr(out, "Politik & demokrati"));

        /* Danish letters arrive as entities and leave as UTF-8 */
        assert_non_null(strstr(html, "&aelig;"));
        assert_non_null(strstr(html, "&oslash;"));
        assert_non_null(strstr(html, "&aring;"));
        assert_null(strstr(html, "\xC3\xA6"));
        assert_null(strstr(html, "\xC3\xB8"));
        assert_null(strstr(html, "\xC3\xA5"));
        static const char *const letters[] = {"\xC3\xA6", "\xC3\xB8", "\xC3\xA5",
                                              "\xC3\x86", "\xC3\x98", "\xC3\x85"};
        for (size_t i = 0; i < sizeof letters / sizeof letters[0]; i++)
                assert_int_equal(count(out, letters[i]), count(seed, letters[i]));

        /* never more than one blank line in a row, no trailing spaces */
        assert_null(strstr(out, "\n\n\n"));
        assert_null(strstr(out, " \n"));

        /* paragraphs, headings and table rows in order, line by line */
        lines_t want = expected_html_lines(seed, slen);
        lines_t got = raw_lines(out, olen);
        assert_true(want.n > 50);
        size_t n = want.n < got.n ? want.n : got.n;
        for (size_t i = 0; i < n; i++)
                if (strcmp(want.l[i], got.l[i]) != 0)
                        fail_msg("%s: line %zu differs:\n want: %s\n  got: %s", name, i + 1,
                                 want.l[i], got.l[i]);
        assert_int_equal(got.n, want.n);
        lines_free(&want);
        lines_free(&got);
        free(out);
        free(html);
        free(seed);
}

/* A small page exercising one structural rule. */
typedef struct html_case_s {
        const char *name;
        const char *content_type;
        const char *html;
        const char *want;
} html_case_t;

static const html_case_t html_cases[] = {
        {"blocks", NULL,
         "<html><body><h1>Referat</h1><div>Linje 1</div><div>Linje 2</div>"
         "<p>Afsnit</p><ul><li>punkt a</li><li>punkt b</li></ul></body></html>",
         "Referat\n\nLinje 1\nLinje 2\n\nAfsnit\n\n- punkt a\n- punkt b\n"},
        {"br", NULL, "<html><body><p>a<br>b<br><br><br><br>c</p></body></html>", "a\nb\n\nc\n"},
        {"collapse", NULL,
         "<html><body><p>  Mødet   blev\n\t holdt&nbsp;&nbsp;i <b>Rådhuset</b>, kl. 16 "
         "</p>\n\n\n<p>\n</p><p></p><div><div><p>Slut</p></div></div></body></html>",
         "Mødet blev holdt i Rådhuset, kl. 16\n\nSlut\n"},
        {"table", NULL,
         "<html><body><table><tr><th>Pkt.</th><th>Tekst</th><th>Side</th></tr>"
         "<tr><td>82</td><td><p>Dialogmøde</p><p>med Seniorrådet</p></td><td>4</td></tr>"
         "<tr><td></td><td>kun tekst</td><td></td></tr>"
         "<tr><td>Åben dagsorden</td><td></td><td></td></tr></table></body></html>",
         "Pkt.\tTekst\tSide\n82\tDialogmøde\nmed Seniorrådet\t4\n\tkun tekst\nÅben dagsorden\n"},
        {"word_cells", NULL,
         "<html><body><table><tr><td><p class=MsoNormal>82</p></td>"
         "<td><p class=MsoNormal><b>Godkendelse af budget</b></p></td>"
         "<td><p>&nbsp;</p><div>5</div><p></p></td></tr></table></body></html>",
         "82\tGodkendelse af budget\t5\n"},
        {"cell_br", NULL,
         "<html><body><table><tr><td>Deltagere:</td><td>Allan Petersen<br>Birgit "
         "Jakobsen<br><br>Bent Poulsen<br></td><td>x</td></tr><tr><td>Sted:</td>"
         "<td>Rådhuset</td></tr></table></body></html>",
         "Deltagere:\tAllan Petersen\nBirgit Jakobsen\nBent Poulsen\tx\nSted:\tRådhuset\n"},
        {"lists", NULL,
         "<html><body><p>Indstilling:</p><ol><li>at godkende</li><li></li><li>at <b>sende</b> "
         "i høring</li></ol><ol start=\"4\"><li><p>fire</p></li><li>fem<ul><li>a</li>"
         "<li>b</li></ul></li></ol><ul><li>punkt</li></ul></body></html>",
         "Indstilling:\n\n1. at godkende\n3. at sende i høring\n\n4. fire\n\n5. fem\n\n- a\n- "
         "b\n\n- punkt\n"},
        {"layout_table", NULL,
         "<html><body><table><tr><td><table><tr><td>x</td><td>y</td></tr></table>"
         "<p>Første afsnit</p><p>Andet afsnit</p></td></tr></table></body></html>",
         "x\ty\n\nFørste afsnit\n\nAndet afsnit\n"},
        {"dropped", NULL,
         "<html><head><title>Titel</title><style>p{}</style></head><body>"
         "<nav>Menu</nav><aside>Se også</aside><header>Hedensted Kommune</header>"
         "<noscript>Slå JavaScript til</noscript><template><p>skabelon</p></template>"
         "<svg><text>logo</text></svg><button>Print</button><div hidden>skjult</div>"
         "<p aria-hidden=\"true\">skjult 2</p><main><p>Indhold</p></main>"
         "<script>var s = '<p>nej</p>';</script><footer>Kontakt</footer></body></html>",
         "Hedensted Kommune\n\nIndhold\n\nKontakt\n"},
        {"aspnet_form", NULL,
         "<!DOCTYPE html><html><body><form id=\"aspnetForm\" action=\"x\"><div>"
         "<p>Punkt 1. Godkendelse</p><input type=\"hidden\" value=\"VIEWSTATE\"></div>"
         "</form></body></html>",
         "Punkt 1. Godkendelse\n"},
        {"pre", NULL,
         "<html><body><p>før</p><pre>a  b\n  c\n\n\n\nd</pre><p>efter</p></body></html>",
         "før\n\na  b\n  c\n\nd\n\nefter\n"},
        {"entities", NULL,
         "<html><body><p>&AElig;&Oslash;&Aring; &aelig;&oslash;&aring; &sect; 97 &ndash; "
         "&#8220;x&#8221; &lt;b&gt; &amp;amp;</p></body></html>",
         "ÆØÅ æøå § 97 – “x” <b> &amp;\n"},
        {"meta_charset_latin1", NULL,
         "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; "
         "charset=iso-8859-1\"></head><body><p>M\xF8"
         "dested: R\xE5"
         "dhuset</p></body></html>",
         "Mødested: Rådhuset\n"},
        {"header_charset", "text/html; charset=windows-1252",
         "<html><body><p>\x93"
         "Godkendt\x94 \x96 R\xE5"
         "dhuset</p></body></html>",
         "“Godkendt” – Rådhuset\n"},
        {"control_chars", NULL,
         "<html><body><p>a&#1;b\x01"
         "c</p></body></html>",
         NULL},
        {"unclosed", NULL, "<html><body><p>Et <b>afsnit<p>Et andet<div>sidst", NULL},
        {"empty_body", NULL, "<html><body><script>only()</script></body></html>", ""},
};

static void test_html_cases(void **state) {
        (void)state;
        for (size_t i = 0; i < sizeof html_cases / sizeof html_cases[0]; i++) {
                const html_case_t *c = &html_cases[i];
                size_t n = 0;
                char *out = extract_ok(c->html, strlen(c->html),
                                       c->content_type != NULL ? c->content_type : "text/html",
                                       MM_EXTRACT_HTML, &n);
                if (c->want != NULL && strcmp(out, c->want) != 0)
                        fail_msg("case %s:\n want: [%s]\n  got: [%s]", c->name, c->want, out);
                for (size_t k = 0; k < n; k++) {
                        unsigned char b = (unsigned char)out[k];
                        if ((b < 0x20 && b != '\t' && b != '\n') || b == 0x7F)
                                fail_msg("case %s: control byte 0x%02x", c->name, b);
                }
                free(out);
        }
}

static void test_html_unclosed_keeps_text(void **state) {
        (void)state;
        static const char html[] = "<html><body><p>Et <b>afsnit<p>Et andet<div>sidst";
        char *out = extract_ok(html, sizeof html - 1, NULL, MM_EXTRACT_HTML, NULL);
        assert_non_null(strstr(out, "Et afsnit"));
        assert_true(strstr(out, "Et andet") > strstr(out, "Et afsnit"));
        assert_true(strstr(out, "sidst") > strstr(out, "Et andet"));
        free(out);
}

/* ------------------------------------------------------------------ */
/* Errors                                                              */
/* ------------------------------------------------------------------ */

static void test_scan_is_no_text(void **state) {
        (void)state;
        size_t len = 0;
        char *pdf = read_fixture(g_gendir, "scan", ".pdf", &len);
        extract_fails(pdf, len, NULL, "pdf_no_text");
        extract_fails(pdf, len, "application/pdf", "pdf_no_text");
        free(pdf);
}

static void test_corrupt_pdf(void **state) {
        (void)state;
        size_t len = 0;
        char *pdf = read_fixture(g_gendir, "corrupt", ".pdf", &len);
        assert_int_equal(mm_extract_detect(pdf, len, NULL), MM_EXTRACT_PDF);
        extract_fails(pdf, len, NULL, "pdf_corrupt");
        /* every truncation of a real PDF fails cleanly or extracts text */
        lines_t names = seed_names();
        char *good = read_fixture(g_gendir, names.l[0], ".pdf", &len);
        for (size_t cut = 0; cut < len; cut += len / 16 + 1) {
                char *out = NULL;
                char code[MM_EXTRACT_CODE_SIZE];
                int rc = mm_extract_text(good, cut, "application/pdf", NULL, &out, NULL, code,
                                         sizeof code, NULL, 0);
                if (rc == 0)
                        free(out);
                else
                        assert_true(strcmp(code, "pdf_corrupt") == 0 ||
                                    strcmp(code, "pdf_no_text") == 0);
        }
        free(good);
        lines_free(&names);
        free(pdf);
        extract_fails("", 0, "application/pdf", "pdf_corrupt");
        extract_fails("%PDF-", 5, NULL, "pdf_corrupt");
}

static void test_html_corrupt(void **state) {
        (void)state;
        extract_fails("", 0, "text/html", "html_corrupt");
        extract_fails(NULL, 0, "text/html", "html_corrupt");
}

static void test_unsupported(void **state) {
        (void)state;
        static const char png[] = "\x89PNG\r\n\x1A\n\0\0\0\rIHDR";
        extract_fails(png, sizeof png - 1, NULL, "unsupported_type");
        extract_fails("PK\x03\x04", 4, "application/octet-stream", "unsupported_type");
        extract_fails("text", 4, "application/vnd.openxmlformats-officedocument",
                      "unsupported_type");
}

static void test_null_code_and_errstr(void **state) {
        (void)state;
        char *out = (char *)1;
        size_t n = 99;
        mm_extract_type_t t = MM_EXTRACT_TEXT;
        assert_int_equal(mm_extract_text("x", 1, "image/gif", &t, &out, &n, NULL, 0, NULL, 0), -1);
        assert_null(out);
        assert_int_equal(n, 0);
        assert_int_equal(t, MM_EXTRACT_UNKNOWN);
        char code[4]; /* truncated, still NUL-terminated */
        assert_int_equal(
                mm_extract_text("x", 1, "image/gif", NULL, &out, NULL, code, sizeof code, NULL, 0),
                -1);
        assert_string_equal(code, "uns");
}

/* ------------------------------------------------------------------ */
/* Threads                                                             */
/* ------------------------------------------------------------------ */

typedef struct job_s {
        const char *buf;
        size_t len;
        const char *want; /* single-threaded result */
        int mismatches;
} job_t;

static void *job_run(void *arg) {
        job_t *j = arg;
        for (int i = 0; i < 8; i++) {
                char *out = NULL;
                if (mm_extract_text(j->buf, j->len, NULL, NULL, &out, NULL, NULL, 0, NULL, 0) !=
                            0 ||
                    strcmp(out, j->want) != 0)
                        j->mismatches++;
                free(out);
        }
        return NULL;
}

/* Runs NT threads that each extract the PDF and the HTML 8 times and
 * compare the text with a single-threaded extraction. */
static void run_threads(char **bufs, size_t *lens, char **want) {
        enum { NT = 4 };
        pthread_t th[NT];
        job_t jobs[NT];
        for (int i = 0; i < NT; i++) {
                jobs[i] = (job_t){bufs[i % 2], lens[i % 2], want[i % 2], 0};
                assert_int_equal(pthread_create(&th[i], NULL, job_run, &jobs[i]), 0);
        }
        for (int i = 0; i < NT; i++) {
                assert_int_equal(pthread_join(th[i], NULL), 0);
                assert_int_equal(jobs[i].mismatches, 0);
        }
}

static void test_threads(void **state) {
        (void)state;
        lines_t names = seed_names();
        char *bufs[2];
        size_t lens[2];
        char *want[2];
        bufs[0] = read_fixture(g_gendir, names.l[0], ".pdf", &lens[0]);
        bufs[1] = read_fixture(g_gendir, names.l[0], ".html", &lens[1]);
        for (int k = 0; k < 2; k++)
                want[k] = extract_ok(bufs[k], lens[k], NULL,
                                     k == 0 ? MM_EXTRACT_PDF : MM_EXTRACT_HTML, NULL);
        mm_extract_limits_t saved, lim;
        mm_extract_get_limits(&saved);
        /* In-process: poppler and libxml2 used from several threads at once. */
        lim = saved;
        lim.sandbox = false;
        mm_extract_set_limits(&lim);
        run_threads(bufs, lens, want);
        /* Sandboxed: concurrent callers are serialised around fork. GCC 12's
         * libasan does not lock its allocator across fork(), so a child
         * forked while another thread allocates may inherit a held lock or a
         * half-made heap; this part runs only without AddressSanitizer
         * (glibc's malloc is fork-safe). The worker extracts on one thread. */
#ifndef __SANITIZE_ADDRESS__
        lim.sandbox = true;
        mm_extract_set_limits(&lim);
        run_threads(bufs, lens, want);
#endif
        mm_extract_set_limits(&saved);
        for (int k = 0; k < 2; k++) {
                free(want[k]);
                free(bufs[k]);
        }
        lines_free(&names);
}

/* ------------------------------------------------------------------ */
/* True error codes and limits (issues 10, 11, 12)                     */
/* ------------------------------------------------------------------ */

/* A growable byte buffer for the PDFs built below. */
typedef struct bytes_s {
        char *p;
        size_t n, cap;
} bytes_t;

static void bytes_add(bytes_t *b, const void *s, size_t n) {
        if (b->n + n + 1 > b->cap) {
                b->cap = (b->n + n + 1) * 2;
                b->p = realloc(b->p, b->cap);
                assert_non_null(b->p);
        }
        memcpy(b->p + b->n, s, n);
        b->n += n;
        b->p[b->n] = '\0';
}

static void bytes_printf(bytes_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void bytes_printf(bytes_t *b, const char *fmt, ...) {
        char tmp[512];
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
        va_end(ap);
        assert_true(n >= 0 && (size_t)n < sizeof tmp);
        bytes_add(b, tmp, (size_t)n);
}

/* A PDF writer: objects 1..n are added in order, then the xref. */
typedef struct pdfw_s {
        bytes_t b;
        size_t *offs;
        size_t nobj, cap;
} pdfw_t;

static void pdfw_begin(pdfw_t *w) {
        memset(w, 0, sizeof *w);
        bytes_printf(&w->b, "%%PDF-1.4\n%%\xE2\xE3\xCF\xD3\n");
}

/* Starts object number nobj+1 and returns that number. */
static size_t pdfw_obj(pdfw_t *w) {
        if (w->nobj == w->cap) {
                w->cap = w->cap ? w->cap * 2 : 64;
                w->offs = realloc(w->offs, w->cap * sizeof *w->offs);
                assert_non_null(w->offs);
        }
        w->offs[w->nobj++] = w->b.n;
        bytes_printf(&w->b, "%zu 0 obj\n", w->nobj);
        return w->nobj;
}

static void pdfw_stream(pdfw_t *w, const char *dict_extra, const void *data, size_t n) {
        pdfw_obj(w);
        bytes_printf(&w->b, "<< /Length %zu %s >>\nstream\n", n, dict_extra);
        bytes_add(&w->b, data, n);
        bytes_printf(&w->b, "\nendstream\nendobj\n");
}

static char *pdfw_end(pdfw_t *w, const char *trailer_extra, size_t *len) {
        size_t xref = w->b.n;
        bytes_printf(&w->b, "xref\n0 %zu\n0000000000 65535 f \n", w->nobj + 1);
        for (size_t i = 0; i < w->nobj; i++)
                bytes_printf(&w->b, "%010zu 00000 n \n", w->offs[i]);
        bytes_printf(&w->b, "trailer\n<< /Size %zu /Root 1 0 R %s >>\nstartxref\n%zu\n%%%%EOF\n",
                     w->nobj + 1, trailer_extra, xref);
        free(w->offs);
        *len = w->b.n;
        return w->b.p;
}

/* Catalog (1), page tree (2) with `pages` pages sharing one content stream
 * (3) and font (4). `content` is the page's content stream. */
static char *make_pdf(long pages, const char *content, size_t clen, const char *content_dict,
                      const char *trailer_extra, size_t *len) {
        pdfw_t w;
        pdfw_begin(&w);
        pdfw_obj(&w);
        bytes_printf(&w.b, "<< /Type /Catalog /Pages 2 0 R >>\nendobj\n");
        pdfw_obj(&w);
        bytes_printf(&w.b, "<< /Type /Pages /Count %ld /Kids [", pages);
        for (long i = 0; i < pages; i++)
                bytes_printf(&w.b, "%ld 0 R ", 5 + i);
        bytes_printf(&w.b, "] >>\nendobj\n");
        pdfw_stream(&w, content_dict, content, clen);
        pdfw_obj(&w);
        bytes_printf(&w.b, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>\nendobj\n");
        for (long i = 0; i < pages; i++) {
                pdfw_obj(&w);
                bytes_printf(&w.b,
                             "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 3 0 "
                             "R /Resources << /Font << /F1 4 0 R >> >> >>\nendobj\n");
        }
        return pdfw_end(&w, trailer_extra, len);
}

static const char text_page[] =
        "BT /F1 12 Tf 72 760 Td (Referat af mødet i Økonomiudvalget, punkt 1 Godkendelse af "
        "dagsorden) Tj 0 -16 Td (Beslutning: Godkendt. Sagen blev drøftet og vedtaget.) Tj ET\n";

/* A 1-page PDF with text, to show the caller lives on after a failure. */
static void extract_still_works(void) {
        size_t len = 0;
        char *pdf = make_pdf(1, text_page, sizeof text_page - 1, "", "", &len);
        char *out = extract_ok(pdf, len, "application/pdf", MM_EXTRACT_PDF, NULL);
        assert_non_null(strstr(out, "Godkendelse"));
        free(out);
        free(pdf);
}

static mm_extract_limits_t g_saved_limits;

static int limits_save(void **state) {
        (void)state;
        mm_extract_get_limits(&g_saved_limits);
        return 0;
}

static int limits_restore(void **state) {
        (void)state;
        mm_extract_set_limits(&g_saved_limits);
        return 0;
}

/* Runs `fn` with the sandbox on and then off. */
static void both_modes(void (*fn)(void)) {
        mm_extract_limits_t l;
        mm_extract_get_limits(&l);
        for (int sb = 1; sb >= 0; sb--) {
                l.sandbox = sb;
                mm_extract_set_limits(&l);
                fn();
        }
}

static char *deep_html(size_t depth, size_t *len) {
        bytes_t b = {0};
        bytes_printf(&b, "<!DOCTYPE html><html><body>");
        for (size_t i = 0; i < depth; i++)
                bytes_add(&b, "<div>", 5);
        bytes_printf(&b, "Punkt 1. Godkendelse af dagsorden");
        *len = b.n;
        return b.p;
}

static void html_too_deep(void) {
        size_t len = 0;
        char *html = deep_html(200000, &len);
        extract_fails(html, len, "text/html", "html_too_deep");
        extract_fails(html, len, NULL, "html_too_deep");
        free(html);
        html = deep_html(100, &len); /* well within the limit */
        char *out = extract_ok(html, len, "text/html", MM_EXTRACT_HTML, NULL);
        assert_string_equal(out, "Punkt 1. Godkendelse af dagsorden\n");
        free(out);
        free(html);
}

static void test_html_too_deep(void **state) {
        (void)state;
        both_modes(html_too_deep);
        /* the limit is an option: 50 levels are too deep at a limit of 20 */
        mm_extract_limits_t l;
        mm_extract_get_limits(&l);
        l.max_html_depth = 20;
        mm_extract_set_limits(&l);
        size_t len = 0;
        char *html = deep_html(50, &len);
        extract_fails(html, len, "text/html", "html_too_deep");
        free(html);
}

static void html_too_many_nodes(void) {
        bytes_t b = {0};
        bytes_printf(&b, "<html><body>");
        for (int i = 0; i < 3000; i++)
                bytes_printf(&b, "<p>%d</p>", i);
        extract_fails(b.p, b.n, "text/html", "html_too_many_nodes");
        free(b.p);
}

static void test_html_too_many_nodes(void **state) {
        (void)state;
        mm_extract_limits_t l;
        mm_extract_get_limits(&l);
        l.max_html_nodes = 1000;
        mm_extract_set_limits(&l);
        both_modes(html_too_many_nodes);
}

static void html_entities(void) {
        /* billion laughs: declared entities are never expanded */
        const char *laughs = "<?xml version=\"1.0\"?>\n<!DOCTYPE html [\n"
                             " <!ENTITY lol \"lol\">\n"
                             " <!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
                             " <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
                             "]>\n<html><body><p>&lol3;</p></body></html>";
        extract_fails(laughs, strlen(laughs), "application/xhtml+xml", "html_entity_refused");
        extract_fails(laughs, strlen(laughs), NULL, "html_entity_refused");
        const char *file = "<!DOCTYPE html [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
                           "<html><body><p>&x;</p></body></html>";
        extract_fails(file, strlen(file), "text/html", "html_entity_refused");
        const char *net = "<!-- c --><!DOCTYPE html [<!ENTITY % p PUBLIC \"-//x//EN\" "
                          "'http://example.invalid/evil.dtd'> %p;]>"
                          "<html><body><p>x</p></body></html>";
        extract_fails(net, strlen(net), "text/html", "html_network_refused");
        const char *net2 = "<!DOCTYPE html [<!ENTITY x SYSTEM \"https://example.invalid/x\">]>"
                           "<html><body><p>&x;</p></body></html>";
        extract_fails(net2, strlen(net2), "text/html", "html_network_refused");
        /* an ordinary XHTML DOCTYPE names a DTD on the web: it is not
         * fetched, and the document is read */
        const char *xhtml =
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE html PUBLIC \"-//W3C//DTD "
                "XHTML 1.0 Strict//EN\" \"http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd\">"
                "<html xmlns=\"http://www.w3.org/1999/xhtml\"><body><p>Referat &amp; "
                "dagsorden</p></body></html>";
        char *out =
                extract_ok(xhtml, strlen(xhtml), "application/xhtml+xml", MM_EXTRACT_HTML, NULL);
        assert_string_equal(out, "Referat & dagsorden\n");
        free(out);
}

static void test_html_entities(void **state) {
        (void)state;
        both_modes(html_entities);
}

/* Standard security handler with an owner and user password that the
 * empty password does not open. */
static void test_pdf_encrypted(void **state) {
        (void)state;
        char trailer[512];
        snprintf(trailer, sizeof trailer,
                 "/Encrypt 9 0 R /ID [<0123456789abcdef0123456789abcdef>"
                 "<0123456789abcdef0123456789abcdef>]");
        pdfw_t w;
        pdfw_begin(&w);
        pdfw_obj(&w);
        bytes_printf(&w.b, "<< /Type /Catalog /Pages 2 0 R >>\nendobj\n");
        pdfw_obj(&w);
        bytes_printf(&w.b, "<< /Type /Pages /Count 1 /Kids [3 0 R] >>\nendobj\n");
        pdfw_obj(&w);
        bytes_printf(&w.b, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 "
                           "R >>\nendobj\n");
        pdfw_stream(&w, "", text_page, sizeof text_page - 1);
        for (int i = 5; i < 9; i++) {
                pdfw_obj(&w);
                bytes_printf(&w.b, "null\nendobj\n");
        }
        pdfw_obj(&w);
        bytes_printf(&w.b, "<< /Filter /Standard /V 1 /R 2 /P -44 "
                           "/O <5e3c1a7b9d0f2e4c6a8b0d1f3e5c7a9b1d3f5e7c9a0b2d4f6e8c0a1b3d5f7e9c> "
                           "/U <a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90> "
                           ">>\nendobj\n");
        size_t len = 0;
        char *pdf = pdfw_end(&w, trailer, &len);
        extract_fails(pdf, len, NULL, "pdf_encrypted");
        free(pdf);
}

/* The same text with the sandbox on and off: the child changes nothing. */
static void test_sandbox_same_text(void **state) {
        (void)state;
        lines_t names = seed_names();
        for (size_t i = 0; i < names.n && i < 4; i++) {
                for (int k = 0; k < 2; k++) {
                        size_t len = 0;
                        char *buf = read_fixture(g_gendir, names.l[i], k ? ".html" : ".pdf", &len);
                        mm_extract_limits_t l;
                        mm_extract_get_limits(&l);
                        l.sandbox = 1;
                        mm_extract_set_limits(&l);
                        char *a = extract_ok(buf, len, NULL, k ? MM_EXTRACT_HTML : MM_EXTRACT_PDF,
                                             NULL);
                        l.sandbox = 0;
                        mm_extract_set_limits(&l);
                        char *b = extract_ok(buf, len, NULL, k ? MM_EXTRACT_HTML : MM_EXTRACT_PDF,
                                             NULL);
                        assert_string_equal(a, b);
                        free(a);
                        free(b);
                        free(buf);
                }
        }
        lines_free(&names);
}

static void output_cap(void) {
        lines_t names = seed_names();
        size_t len = 0, n = 0;
        char *pdf = read_fixture(g_gendir, names.l[0], ".pdf", &len);
        char *html = read_fixture(g_gendir, names.l[0], ".html", &len);
        size_t plen = 0, hlen = 0;
        free(pdf);
        free(html);
        pdf = read_fixture(g_gendir, names.l[0], ".pdf", &plen);
        html = read_fixture(g_gendir, names.l[0], ".html", &hlen);
        char *full = extract_ok(pdf, plen, NULL, MM_EXTRACT_PDF, &n);
        free(full);
        mm_extract_limits_t l, saved;
        mm_extract_get_limits(&saved);
        l = saved;
        l.max_output_bytes = n; /* exactly fits */
        mm_extract_set_limits(&l);
        full = extract_ok(pdf, plen, NULL, MM_EXTRACT_PDF, NULL);
        free(full);
        l.max_output_bytes = n / 2;
        mm_extract_set_limits(&l);
        extract_fails(pdf, plen, NULL, "extract_limit");
        extract_fails(html, hlen, NULL, "extract_limit");
        char *seed = read_fixture(g_seeddir, names.l[0], ".txt", &len);
        l.max_output_bytes = len - 1;
        mm_extract_set_limits(&l);
        extract_fails(seed, len, "text/plain", "extract_limit");
        mm_extract_set_limits(&saved);
        free(seed);
        free(pdf);
        free(html);
        lines_free(&names);
}

static void test_output_cap(void **state) {
        (void)state;
        both_modes(output_cap);
}

/* A content stream that costs CPU but holds almost no text. */
static char *bomb_content(size_t *len) {
        bytes_t b = {0};
        bytes_printf(&b, "BT /F1 12 Tf 72 760 Td (Side) Tj ET\n");
        for (int i = 0; i < 100000; i++)
                bytes_add(&b, "0 0 m 9 9 l S\n", 14);
        *len = b.n;
        return b.p;
}

static void test_page_bomb(void **state) {
        (void)state;
        size_t clen = 0, len = 0;
        char *content = bomb_content(&clen);
        char *pdf = make_pdf(20000, content, clen, "", "", &len);
        free(content);
        assert_true(len > 2 * 1000 * 1000 && len < 5 * 1000 * 1000);
        /* the default page limit refuses it at once */
        extract_fails(pdf, len, "application/pdf", "extract_limit");
        extract_still_works();
        /* without the page limit, the CPU limit stops it */
        mm_extract_limits_t l;
        mm_extract_get_limits(&l);
        l.max_pages = 1000000;
        l.cpu_seconds = 2;
        l.sandbox = 1;
        mm_extract_set_limits(&l);
        char *out = (char *)1;
        char code[MM_EXTRACT_CODE_SIZE], err[256];
        assert_int_equal(mm_extract_text(pdf, len, NULL, NULL, &out, NULL, code, sizeof code, err,
                                         sizeof err),
                         -1);
        assert_null(out);
        if (strcmp(code, "extract_limit") != 0)
                fail_msg("%s: %s", code, err);
        /* the CPU limit; on a very busy machine the wall-time limit
         * (2 x CPU + 5 s) may come first, which is the same verdict */
        assert_non_null(strstr(err, "extract-cpu-seconds"));
        free(pdf);
        extract_still_works();
}

static void test_page_limit_option(void **state) {
        (void)state;
        size_t len = 0;
        char *pdf = make_pdf(3, text_page, sizeof text_page - 1, "", "", &len);
        char *out = extract_ok(pdf, len, NULL, MM_EXTRACT_PDF, NULL);
        free(out);
        mm_extract_limits_t l;
        mm_extract_get_limits(&l);
        l.max_pages = 2;
        mm_extract_set_limits(&l);
        extract_fails(pdf, len, NULL, "extract_limit");
        free(pdf);
}

/* A Flate stream of 64 MiB of zeros (~64 KB compressed). */
static void test_inflate_bomb(void **state) {
        (void)state;
        size_t raw = 64u << 20;
        char *zeros = calloc(1, raw);
        assert_non_null(zeros);
        uLongf zlen = compressBound(raw);
        char *z = malloc(zlen);
        assert_non_null(z);
        assert_int_equal(compress2((Bytef *)z, &zlen, (const Bytef *)zeros, raw, 9), Z_OK);
        free(zeros);
        size_t len = 0;
        char *pdf = make_pdf(1, z, zlen, "/Filter /FlateDecode", "", &len);
        free(z);
        mm_extract_limits_t l;
        mm_extract_get_limits(&l);
        l.max_pdf_inflated = 16u << 20;
        mm_extract_set_limits(&l);
        char *out = NULL;
        char code[MM_EXTRACT_CODE_SIZE], err[256];
        assert_int_equal(mm_extract_text(pdf, len, NULL, NULL, &out, NULL, code, sizeof code, err,
                                         sizeof err),
                         -1);
        assert_string_equal(code, "extract_limit");
        assert_non_null(strstr(err, "inflate"));
        free(pdf);
        /* a compressed text page within the limit is read */
        zlen = compressBound(sizeof text_page);
        z = malloc(zlen);
        assert_int_equal(
                compress2((Bytef *)z, &zlen, (const Bytef *)text_page, sizeof text_page - 1, 9),
                Z_OK);
        pdf = make_pdf(1, z, zlen, "/Filter /FlateDecode", "", &len);
        free(z);
        out = extract_ok(pdf, len, NULL, MM_EXTRACT_PDF, NULL);
        assert_non_null(strstr(out, "Beslutning"));
        free(out);
        free(pdf);
        /* a large Flate image is not counted: text extraction never
         * decodes it */
        zeros = calloc(1, raw);
        assert_non_null(zeros);
        zlen = compressBound(raw);
        z = malloc(zlen);
        assert_non_null(z);
        assert_int_equal(compress2((Bytef *)z, &zlen, (const Bytef *)zeros, raw, 9), Z_OK);
        free(zeros);
        pdfw_t w;
        pdfw_begin(&w);
        pdfw_obj(&w);
        bytes_printf(&w.b, "<< /Type /Catalog /Pages 2 0 R >>\nendobj\n");
        pdfw_obj(&w);
        bytes_printf(&w.b, "<< /Type /Pages /Count 1 /Kids [3 0 R] >>\nendobj\n");
        pdfw_obj(&w);
        bytes_printf(&w.b, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
                           "/Resources << /Font << /F1 5 0 R >> /XObject << /Im1 6 0 R >> >> "
                           ">>\nendobj\n");
        static const char drawn[] = "q 400 0 0 400 100 100 cm /Im1 Do Q\n";
        bytes_t c = {0};
        bytes_add(&c, drawn, sizeof drawn - 1);
        bytes_add(&c, text_page, sizeof text_page - 1);
        pdfw_stream(&w, "", c.p, c.n);
        free(c.p);
        pdfw_obj(&w);
        bytes_printf(&w.b, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>\nendobj\n");
        pdfw_stream(&w,
                    "/Type /XObject /Subtype /Image /Width 8192 /Height 8192 /ColorSpace "
                    "/DeviceGray /BitsPerComponent 8 /Filter /FlateDecode",
                    z, zlen);
        free(z);
        pdf = pdfw_end(&w, "", &len);
        out = extract_ok(pdf, len, NULL, MM_EXTRACT_PDF, NULL);
        assert_non_null(strstr(out, "Beslutning"));
        free(out);
        free(pdf);
}

/* Number of open file descriptors of this process. */
static int count_fds(void) {
        DIR *d = opendir("/proc/self/fd");
        assert_non_null(d);
        int n = 0;
        while (readdir(d) != NULL)
                n++;
        closedir(d);
        return n;
}

static void no_children_left(void) {
        errno = 0;
        assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
        assert_int_equal(errno, ECHILD);
}

#ifdef MM_EXTRACT_TEST_HOOKS
static void test_crash_and_hooks(void **state) {
        (void)state;
        int fds = count_fds();
        const char *crash = "<html><body><p>MM_EXTRACT_TEST_CRASH</p></body></html>";
        for (int i = 0; i < 3; i++)
                extract_fails(crash, strlen(crash), "text/html", "extract_crash");
        char pdf[] = "%PDF-1.4\n% MM_EXTRACT_TEST_CRASH\n";
        extract_fails(pdf, sizeof pdf - 1, NULL, "extract_crash");
        extract_still_works();
        mm_extract_limits_t l;
        mm_extract_get_limits(&l);
        l.cpu_seconds = 1;
        mm_extract_set_limits(&l);
        const char *spin = "<html><body><p>MM_EXTRACT_TEST_SPIN</p></body></html>";
        extract_fails(spin, strlen(spin), "text/html", "extract_limit");
#if !defined(__SANITIZE_ADDRESS__)
        l.max_memory = 64u << 20;
        mm_extract_set_limits(&l);
        const char *hog = "<html><body><p>MM_EXTRACT_TEST_HOG</p></body></html>";
        extract_fails(hog, strlen(hog), "text/html", "extract_limit");
#endif
        extract_still_works();
        assert_int_equal(count_fds(), fds);
        no_children_left();
}
#endif

/* libxml2 loads no entity or DTD at all after mm_extract_global_init, not
 * even a readable local file. */
static void test_entity_loader_refuses(void **state) {
        (void)state;
        char *path = path_join(g_fixdir, "sniff", ".tsv");
        FILE *f = fopen(path, "r");
        assert_non_null(f); /* the file exists and is readable */
        fclose(f);
        xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
        assert_non_null(ctxt);
        assert_null(xmlLoadExternalEntity(path, NULL, ctxt));
        assert_null(xmlLoadExternalEntity("http://127.0.0.1:9/x.dtd", NULL, ctxt));
        xmlFreeParserCtxt(ctxt);
        free(path);
}

/* The worker's options set the limits (one place: mm_extract_configure). */
static void test_configure(void **state) {
        (void)state;
        static const mm_config_option_t table[] = {
                {"max-doc-bytes", 0, MM_CONFIG_SIZE, "16MiB", NULL, 0, ""},
                {"extract-max-pages", 0, MM_CONFIG_INT, "2000", NULL, 0, ""},
                {"extract-max-pdf-inflated", 0, MM_CONFIG_SIZE, "256MiB", NULL, 0, ""},
                {"extract-max-html-depth", 0, MM_CONFIG_INT, "256", NULL, 0, ""},
                {"extract-max-html-nodes", 0, MM_CONFIG_INT, "500000", NULL, 0, ""},
                {"extract-cpu-seconds", 0, MM_CONFIG_INT, "30", NULL, 0, ""},
                {"extract-max-memory", 0, MM_CONFIG_SIZE, "512MiB", NULL, 0, ""},
                {"extract-sandbox", 0, MM_CONFIG_BOOL, "true", NULL, 0, ""},
                {"ocr", 0, MM_CONFIG_BOOL, "true", NULL, 0, ""},
                {"extract-max-ocr-pages", 0, MM_CONFIG_INT, "50", NULL, 0, ""},
                {"ocr-seconds", 0, MM_CONFIG_INT, "90", NULL, 0, ""},
                {"ocr-min-confidence", 0, MM_CONFIG_INT, "50", NULL, 0, ""},
                {"ocr-dpi", 0, MM_CONFIG_INT, "200", NULL, 0, ""},
                {"ocr-tessdata", 0, MM_CONFIG_STRING, MM_EXTRACT_DEFAULT_OCR_TESSDATA, NULL, 0, ""},
        };
        char err[256];
        mm_extract_limits_t l, d;
        mm_extract_limits_default(&d);
        /* the table's defaults are the library's */
        mm_config_t *cfg = mm_config_new(table, sizeof table / sizeof table[0]);
        char *argv0[] = {"x", NULL};
        assert_int_equal(mm_config_load(cfg, 1, argv0, err, sizeof err), 0);
        assert_int_equal(mm_extract_configure(cfg, err, sizeof err), 0);
        mm_extract_get_limits(&l);
        assert_int_equal(l.max_output_bytes, d.max_output_bytes);
        assert_int_equal(l.max_pages, d.max_pages);
        assert_int_equal(l.max_pdf_inflated, d.max_pdf_inflated);
        assert_int_equal(l.max_html_depth, d.max_html_depth);
        assert_int_equal(l.max_html_nodes, d.max_html_nodes);
        assert_int_equal(l.cpu_seconds, d.cpu_seconds);
        assert_int_equal(l.max_memory, d.max_memory);
        assert_int_equal(l.sandbox, d.sandbox);
        assert_int_equal(l.ocr, d.ocr);
        assert_int_equal(l.ocr_max_pages, d.ocr_max_pages);
        assert_int_equal(l.ocr_seconds, d.ocr_seconds);
        assert_int_equal(l.ocr_min_confidence, d.ocr_min_confidence);
        assert_int_equal(l.ocr_dpi, d.ocr_dpi);
        assert_string_equal(l.ocr_tessdata, d.ocr_tessdata);
        mm_config_destroy(cfg);
        cfg = mm_config_new(table, sizeof table / sizeof table[0]);
        char *argv1[] = {"x",
                         "--max-doc-bytes=1MiB",
                         "--extract-max-pages=7",
                         "--extract-max-pdf-inflated=2MiB",
                         "--extract-max-html-depth=9",
                         "--extract-max-html-nodes=11",
                         "--extract-cpu-seconds=3",
                         "--extract-max-memory=64MiB",
                         "--extract-sandbox=false",
                         "--ocr=false",
                         "--extract-max-ocr-pages=4",
                         "--ocr-seconds=2",
                         "--ocr-min-confidence=70",
                         "--ocr-dpi=250",
                         "--ocr-tessdata=/nowhere",
                         NULL};
        assert_int_equal(mm_config_load(cfg, 15, argv1, err, sizeof err), 0);
        assert_int_equal(mm_extract_configure(cfg, err, sizeof err), 0);
        mm_extract_get_limits(&l);
        assert_int_equal(l.max_output_bytes, 1u << 20);
        assert_int_equal(l.max_pages, 7);
        assert_int_equal(l.max_pdf_inflated, 2u << 20);
        assert_int_equal(l.max_html_depth, 9);
        assert_int_equal(l.max_html_nodes, 11);
        assert_int_equal(l.cpu_seconds, 3);
        assert_int_equal(l.max_memory, 64u << 20);
        assert_int_equal(l.sandbox, 0);
        assert_int_equal(l.ocr, 0);
        assert_int_equal(l.ocr_max_pages, 4);
        assert_int_equal(l.ocr_seconds, 2);
        assert_int_equal(l.ocr_min_confidence, 70);
        assert_int_equal(l.ocr_dpi, 250);
        assert_string_equal(l.ocr_tessdata, "/nowhere");
        mm_config_destroy(cfg);
        /* OCR on without the Danish model: refused at start-up, naming the
         * file and the remedy */
        cfg = mm_config_new(table, sizeof table / sizeof table[0]);
        char *argv3[] = {"x", "--ocr-tessdata=/nowhere", NULL};
        assert_int_equal(mm_config_load(cfg, 2, argv3, err, sizeof err), 0);
        assert_int_equal(mm_extract_configure(cfg, err, sizeof err), -1);
        assert_non_null(strstr(err, "/nowhere/dan.traineddata"));
        assert_non_null(strstr(err, "tesseract-ocr-dan"));
        mm_config_destroy(cfg);
        cfg = mm_config_new(table, sizeof table / sizeof table[0]);
        char *argv4[] = {"x", "--ocr-dpi=20", NULL};
        assert_int_equal(mm_config_load(cfg, 2, argv4, err, sizeof err), 0);
        assert_int_equal(mm_extract_configure(cfg, err, sizeof err), -1);
        assert_non_null(strstr(err, "ocr-dpi"));
        mm_config_destroy(cfg);
        cfg = mm_config_new(table, sizeof table / sizeof table[0]);
        char *argv2[] = {"x", "--extract-cpu-seconds=0", NULL};
        assert_int_equal(mm_config_load(cfg, 2, argv2, err, sizeof err), 0);
        assert_int_equal(mm_extract_configure(cfg, err, sizeof err), -1);
        assert_non_null(strstr(err, "extract-cpu-seconds"));
        mm_config_destroy(cfg);
}

/* Without a free fd for the pipe the document is not the one at fault: it
 * fails as extract_transient (to be retried), and it is never extracted in
 * this process instead, outside the sandbox's limits. */
static void test_no_pipe_transient(void **state) {
        (void)state;
        size_t len = 0;
        char *pdf = make_pdf(1, text_page, sizeof text_page - 1, "", "", &len);
        int highest = 0;
        DIR *d = opendir("/proc/self/fd");
        assert_non_null(d);
        for (struct dirent *e; (e = readdir(d)) != NULL;)
                if (atoi(e->d_name) > highest)
                        highest = atoi(e->d_name);
        closedir(d);
        struct rlimit saved, r;
        assert_int_equal(getrlimit(RLIMIT_NOFILE, &saved), 0);
        r = saved;
        r.rlim_cur = (rlim_t)highest + 1; /* no room for a pipe */
        assert_int_equal(setrlimit(RLIMIT_NOFILE, &r), 0);
        int *filler = calloc((size_t)highest + 1, sizeof *filler), nfill = 0;
        assert_non_null(filler); /* take the free fds below the limit */
        while (nfill <= highest && (filler[nfill] = open("/dev/null", O_RDONLY)) >= 0)
                nfill++;
        int fds[2];
        assert_int_equal(pipe(fds), -1);
        char *out = (char *)1;
        char code[MM_EXTRACT_CODE_SIZE] = "";
        int rc = mm_extract_text(pdf, len, NULL, NULL, &out, NULL, code, sizeof code, NULL, 0);
        for (int i = 0; i < nfill; i++)
                close(filler[i]);
        free(filler);
        assert_int_equal(setrlimit(RLIMIT_NOFILE, &saved), 0);
        assert_int_equal(rc, -1);
        assert_null(out); /* not extracted in this process */
        assert_string_equal(code, "extract_transient");
        extract_still_works();
        free(pdf);
}

#ifdef MM_EXTRACT_TEST_HOOKS
/* No process for the child (fork fails, as at a task limit): transient, and
 * the input is not run in this process (it would crash it). */
static void test_no_fork_transient(void **state) {
        (void)state;
        const char *crash = "<html><body><p>MM_EXTRACT_TEST_CRASH</p></body></html>";
        setenv("MM_SANDBOX_TEST_FAIL_FORK", "1", 1);
        extract_fails(crash, strlen(crash), "text/html", "extract_transient");
        size_t len = 0;
        char *pdf = make_pdf(1, text_page, sizeof text_page - 1, "", "", &len);
        extract_fails(pdf, len, NULL, "extract_transient");
        unsetenv("MM_SANDBOX_TEST_FAIL_FORK");
        extract_still_works();
        free(pdf);
        no_children_left();
}

/* The pid of a child of this process, or 0 (scans /proc/<pid>/stat). */
static pid_t find_child(void) {
        DIR *d = opendir("/proc");
        if (d == NULL)
                return 0;
        pid_t found = 0;
        for (struct dirent *e; found == 0 && (e = readdir(d)) != NULL;) {
                if (e->d_name[0] < '1' || e->d_name[0] > '9')
                        continue;
                char path[300], buf[512];
                snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
                FILE *f = fopen(path, "r");
                if (f == NULL)
                        continue;
                size_t n = fread(buf, 1, sizeof buf - 1, f);
                fclose(f);
                buf[n] = '\0';
                const char *rp = strrchr(buf, ')'); /* the name may hold spaces */
                int ppid = 0;
                if (rp != NULL && sscanf(rp + 1, " %*c %d", &ppid) == 1 && ppid == getpid())
                        found = (pid_t)atoi(e->d_name);
        }
        closedir(d);
        return found;
}

typedef struct killer_s {
        int sig;    /* signal to send to the child; 0: mm_sandbox_cancel */
        int killed; /* 1 once done */
} killer_t;

/* Waits for the sandbox child and sends it `sig` from outside. */
static void *killer(void *arg) {
        killer_t *k = arg;
        for (int i = 0; i < 200 && !k->killed; i++) {
                pid_t c = find_child();
                if (c > 0) {
                        usleep(200 * 1000); /* let it start its work */
                        if (k->sig)
                                kill(c, k->sig);
                        else
                                mm_sandbox_cancel();
                        k->killed = 1;
                }
                usleep(20 * 1000);
        }
        return NULL;
}

/* A slow but valid document whose child is killed from outside (a cgroup
 * OOM kill, an operator, a stop) is not at fault: extract_transient, not
 * extract_limit; and the same document then extracts. */
static void test_killed_from_outside(void **state) {
        (void)state;
        const char *slow = "<html><body><p>Punkt 1. MM_EXTRACT_TEST_SLOW</p></body></html>";
        static const int sigs[] = {SIGKILL, SIGTERM, 0};
        for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
                killer_t k = {sigs[i], 0};
                pthread_t t;
                assert_int_equal(pthread_create(&t, NULL, killer, &k), 0);
                extract_fails(slow, strlen(slow), "text/html", "extract_transient");
                pthread_join(t, NULL);
                assert_int_equal(k.killed, 1);
        }
        char *out = extract_ok(slow, strlen(slow), "text/html", MM_EXTRACT_HTML, NULL);
        assert_non_null(strstr(out, "Punkt 1"));
        free(out);
        no_children_left();
}

/* The wall deadline passed while the child stayed under its CPU limit
 * (here: it sleeps; in production: CPU throttling) is transient. */
static void test_wall_time_transient(void **state) {
        (void)state;
        /* a deadline of 2 x 1 + 5 s, a child that sleeps 3 s in total is
         * within it; make it miss: sleep longer than the wall time */
        const char *slow = "<html><body><p>MM_EXTRACT_TEST_SLEEPY</p></body></html>";
        mm_extract_limits_t l;
        mm_extract_get_limits(&l);
        l.cpu_seconds = 1;
        mm_extract_set_limits(&l);
        extract_fails(slow, strlen(slow), "text/html", "extract_transient");
        no_children_left();
}
#endif

/* Many sandboxed extractions leave no fd and no child behind. */
static void test_no_leaks(void **state) {
        (void)state;
        int fds = count_fds();
        size_t len = 0;
        char *pdf = make_pdf(2, text_page, sizeof text_page - 1, "", "", &len);
        for (int i = 0; i < 50; i++) {
                char *out = extract_ok(pdf, len, NULL, MM_EXTRACT_PDF, NULL);
                free(out);
                extract_fails(pdf, len / 3, NULL, "pdf_corrupt");
        }
        free(pdf);
        assert_int_equal(count_fds(), fds);
        no_children_left();
}

/* ------------------------------------------------------------------ */

static int run_per_seed(const char *group, void (*fn)(void **)) {
        lines_t names = seed_names();
        if (names.n == 0) {
                fprintf(stderr, "no seeds in %s\n", g_seeddir);
                lines_free(&names);
                return 1;
        }
        struct CMUnitTest *tests = calloc(names.n, sizeof *tests);
        if (tests == NULL)
                return 1;
        for (size_t i = 0; i < names.n; i++) {
                tests[i].name = names.l[i];
                tests[i].test_func = fn;
                tests[i].initial_state = names.l[i];
        }
        int rc = _cmocka_run_group_tests(group, tests, names.n, NULL, NULL);
        free(tests);
        lines_free(&names);
        return rc;
}

int main(int argc, char **argv) {
        if (argc != 5 && !(argc == 6 && strcmp(argv[1], "pdftotext") == 0)) {
                fprintf(stderr, "usage: test_extract GROUP GENDIR SEEDDIR FIXDIR\n"
                                "       test_extract pdftotext GENDIR SEEDDIR FIXDIR PDFTOTEXT\n");
                return 2;
        }
        g_gendir = argv[2];
        g_seeddir = argv[3];
        g_fixdir = argv[4];
        g_pdftotext = argc == 6 ? argv[5] : NULL;
        mm_extract_global_init();
        const char *group = argv[1];
        int rc;
        if (strcmp(group, "sniff") == 0) {
                const struct CMUnitTest tests[] = {
                        cmocka_unit_test(test_sniff_table),
                        cmocka_unit_test(test_sniff_seeds_are_text),
                        cmocka_unit_test(test_type_names),
                };
                rc = cmocka_run_group_tests_name("extract_sniff", tests, NULL, NULL);
        } else if (strcmp(group, "text") == 0) {
                const struct CMUnitTest tests[] = {
                        cmocka_unit_test(test_text_unchanged),
                        cmocka_unit_test(test_text_bytes_kept),
                        cmocka_unit_test(test_content_type_beats_sniffing),
                };
                rc = cmocka_run_group_tests_name("extract_text", tests, NULL, NULL);
        } else if (strcmp(group, "pdf") == 0) {
                rc = run_per_seed("extract_pdf", test_pdf_seed);
        } else if (strcmp(group, "pdftotext") == 0) {
                rc = run_per_seed("extract_pdftotext", test_pdf_vs_pdftotext);
        } else if (strcmp(group, "html") == 0) {
                rc = run_per_seed("extract_html", test_html_seed);
                const struct CMUnitTest tests[] = {
                        cmocka_unit_test(test_html_cases),
                        cmocka_unit_test(test_html_unclosed_keeps_text),
                };
                rc += cmocka_run_group_tests_name("extract_html_cases", tests, NULL, NULL);
        } else if (strcmp(group, "errors") == 0) {
                const struct CMUnitTest tests[] = {
                        cmocka_unit_test(test_scan_is_no_text),
                        cmocka_unit_test(test_corrupt_pdf),
                        cmocka_unit_test(test_html_corrupt),
                        cmocka_unit_test(test_unsupported),
                        cmocka_unit_test(test_null_code_and_errstr),
                        cmocka_unit_test(test_threads),
                };
                rc = cmocka_run_group_tests_name("extract_errors", tests, NULL, NULL);
        } else if (strcmp(group, "limits") == 0) {
                const struct CMUnitTest tests[] = {
                        cmocka_unit_test_setup_teardown(test_html_too_deep, limits_save,
                                                        limits_restore),
                        cmocka_unit_test_setup_teardown(test_html_too_many_nodes, limits_save,
                                                        limits_restore),
                        cmocka_unit_test_setup_teardown(test_html_entities, limits_save,
                                                        limits_restore),
                        cmocka_unit_test_setup_teardown(test_pdf_encrypted, limits_save,
                                                        limits_restore),
                        cmocka_unit_test_setup_teardown(test_sandbox_same_text, limits_save,
                                                        limits_restore),
                        cmocka_unit_test_setup_teardown(test_output_cap, limits_save,
                                                        limits_restore),
                        cmocka_unit_test_setup_teardown(test_page_limit_option, limits_save,
                                                        limits_restore),
                        cmocka_unit_test_setup_teardown(test_page_bomb, limits_save,
                                                        limits_restore),
                        cmocka_unit_test_setup_teardown(test_inflate_bomb, limits_save,
                                                        limits_restore),
#ifdef MM_EXTRACT_TEST_HOOKS
                        cmocka_unit_test_setup_teardown(test_crash_and_hooks, limits_save,
                                                        limits_restore),
#endif
                        cmocka_unit_test_setup_teardown(test_no_leaks, limits_save, limits_restore),
                        cmocka_unit_test_setup_teardown(test_configure, limits_save,
                                                        limits_restore),
                        cmocka_unit_test(test_entity_loader_refuses),
                        cmocka_unit_test(test_no_pipe_transient),
#ifdef MM_EXTRACT_TEST_HOOKS
                        cmocka_unit_test(test_no_fork_transient),
                        cmocka_unit_test(test_killed_from_outside),
                        cmocka_unit_test_setup_teardown(test_wall_time_transient, limits_save,
                                                        limits_restore),
#endif
                };
                rc = cmocka_run_group_tests_name("extract_limits", tests, NULL, NULL);
        } else {
                fprintf(stderr, "unknown group %s\n", group);
                return 2;
        }
        return rc == 0 ? 0 : 1;
}
