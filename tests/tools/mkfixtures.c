/*
 * mkfixtures: test helper that renders text documents into the PDF and HTML
 * fixtures used by the mm_extract unit tests.
 *
 *   mkfixtures [--styled] OUTDIR SEED.txt...
 *
 * OUTDIR is created if it does not exist. For every SEED.txt it writes
 * OUTDIR/SEED.pdf and OUTDIR/SEED.html, and from the first seed
 * OUTDIR/corrupt.pdf. It also writes OUTDIR/scan.pdf.
 *
 * PDF: A4 pages, cairo's toy text API with "DejaVu Sans" 8 pt, lines
 * wrapped at word boundaries at MAX_COLS characters (or the text width),
 * tabs turned into spaces, a new page when a page is full.
 *
 * --styled: the PDF is set as a word processor would print the meeting,
 * for scanning (tests/tools/mkscan): markup becomes formatting instead of
 * being printed. "# x".."###### x" are bold headings (14, 12, 11 pt),
 * "**" and the HTML tags <b> <u> <p> <br> of the seeds are dropped (</p>
 * and <br> end a line), body text is 10 pt. The HTML files are the same.
 *
 * HTML: "# x".."###### x" become <h1>..<h6>, runs of lines that contain a
 * tab become a <table> (one <tr> per line, one <td> per tab-separated
 * cell), other non-empty lines become <p> (long ones broken over several
 * source lines). The page has a <nav>, a <script>, a <style> and a comment
 * that the extractor must drop (they contain the words MMNAVMARKER,
 * MMSCRIPTMARKER, MMSTYLEMARKER, MMCOMMENTMARKER). Danish letters are
 * written as the entities &aelig; &oslash; &aring; (and upper case), '&'
 * '<' '>' as &amp; &lt; &gt;.
 *
 * scan.pdf: one page with a drawn frame and a grey-scale image, no text.
 * corrupt.pdf: the first seed's PDF cut to 40 % of its size, followed by a
 * garbled cross-reference table and trailer.
 */
#include <cairo-pdf.h>
#include <cairo.h>

#include <errno.h>
#include <sys/stat.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_COLS  95
#define PAGE_W    595.276
#define PAGE_H    841.890
#define MARGIN    48.0
#define FONT_SIZE 8.0
#define LINE_H    10.5

static char *read_file(const char *path, size_t *len) {
        FILE *f = fopen(path, "rb");
        if (f == NULL) {
                fprintf(stderr, "mkfixtures: %s: %s\n", path, strerror(errno));
                return NULL;
        }
        size_t cap = 65536, n = 0;
        char *buf = malloc(cap + 1);
        while (buf != NULL) {
                size_t r = fread(buf + n, 1, cap - n, f);
                n += r;
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
        if (buf == NULL)
                return NULL;
        buf[n] = '\0';
        *len = n;
        return buf;
}

static int write_file(const char *path, const char *buf, size_t len) {
        FILE *f = fopen(path, "wb");
        if (f == NULL || fwrite(buf, 1, len, f) != len) {
                fprintf(stderr, "mkfixtures: %s: %s\n", path, strerror(errno));
                if (f != NULL)
                        fclose(f);
                return -1;
        }
        return fclose(f) == 0 ? 0 : -1;
}

/* Number of UTF-8 code points in s[0..n). */
static size_t u8len(const char *s, size_t n) {
        size_t c = 0;
        for (size_t i = 0; i < n; i++)
                if (((unsigned char)s[i] & 0xC0) != 0x80)
                        c++;
        return c;
}

/* Byte length of the first `cols` code points of s[0..n). */
static size_t u8prefix(const char *s, size_t n, size_t cols) {
        size_t i = 0, c = 0;
        while (i < n) {
                if (((unsigned char)s[i] & 0xC0) != 0x80) {
                        if (c == cols)
                                break;
                        c++;
                }
                i++;
        }
        return i;
}

/* ------------------------------------------------------------------ */
/* PDF                                                                 */
/* ------------------------------------------------------------------ */

typedef struct pdf_s {
        cairo_t *cr;
        double y;
        bool page_has_ink;
        double line_h; /* LINE_H, or the styled line's */
} pdf_t;

static void pdf_newline(pdf_t *p) {
        p->y += p->line_h;
        if (p->y > PAGE_H - MARGIN) {
                cairo_show_page(p->cr);
                p->y = MARGIN + FONT_SIZE;
                p->page_has_ink = false;
        }
}

static void pdf_emit(pdf_t *p, const char *s, size_t n) {
        char *line = strndup(s, n);
        if (line == NULL)
                return;
        cairo_move_to(p->cr, MARGIN, p->y);
        cairo_show_text(p->cr, line);
        p->page_has_ink = true;
        free(line);
        pdf_newline(p);
}

static double text_width(cairo_t *cr, const char *s, size_t n) {
        char *t = strndup(s, n);
        cairo_text_extents_t ext;
        if (t == NULL)
                return 0.0;
        cairo_text_extents(cr, t, &ext);
        free(t);
        return ext.x_advance;
}

/* Renders one source line (no '\n'), word-wrapped. */
static void pdf_line(pdf_t *p, const char *s, size_t n) {
        const double max_w = PAGE_W - 2 * MARGIN;
        char *words = malloc(n + 1);
        size_t wn = 0;
        if (words == NULL)
                return;
        /* tabs and CRs become spaces; the toy API has no glyph for them */
        for (size_t i = 0; i < n; i++)
                words[wn++] = (s[i] == '\t' || s[i] == '\r') ? ' ' : s[i];
        words[wn] = '\0';

        size_t i = 0;
        while (i < wn && words[i] == ' ')
                i++;
        if (i == wn) {
                pdf_newline(p); /* blank line */
                free(words);
                return;
        }
        char *cur = malloc(wn + 1);
        size_t cn = 0;
        if (cur == NULL) {
                free(words);
                return;
        }
        while (i < wn) {
                size_t j = i;
                while (j < wn && words[j] != ' ')
                        j++;
                const char *w = words + i;
                size_t wl = j - i;
                /* hard-split a word that cannot fit on a line of its own */
                while (u8len(w, wl) > MAX_COLS) {
                        if (cn > 0) {
                                pdf_emit(p, cur, cn);
                                cn = 0;
                        }
                        size_t cut = u8prefix(w, wl, MAX_COLS);
                        pdf_emit(p, w, cut);
                        w += cut;
                        wl -= cut;
                }
                size_t need = cn + (cn > 0 ? 1 : 0) + wl;
                if (cn > 0) {
                        cur[cn] = ' ';
                        memcpy(cur + cn + 1, w, wl);
                        if (u8len(cur, need) > MAX_COLS || text_width(p->cr, cur, need) > max_w) {
                                pdf_emit(p, cur, cn);
                                cn = 0;
                        }
                }
                if (cn > 0)
                        cur[cn++] = ' ';
                memcpy(cur + cn, w, wl);
                cn += wl;
                while (j < wn && words[j] == ' ')
                        j++;
                i = j;
        }
        if (cn > 0)
                pdf_emit(p, cur, cn);
        free(cur);
        free(words);
}

/* The line s[0..n) without markup into out (n + 1 bytes); returns its
 * length and the heading level in *level (0 for body text). "</p>" and
 * "<br>" become '\n'. */
static size_t unmark(const char *s, size_t n, char *out, int *level) {
        size_t i = 0, o = 0;
        *level = 0;
        while (i < n && s[i] == '#' && *level < 6) {
                (*level)++;
                i++;
        }
        if (*level > 0 && i < n && s[i] == ' ')
                i++;
        else {
                i = 0;
                *level = 0;
        }
        static const char *const tags[] = {"<b>", "</b>", "<u>", "</u>", "<p>", "**"};
        while (i < n) {
                if (!strncmp(s + i, "</p>", 4) || !strncmp(s + i, "<br>", 4)) {
                        out[o++] = '\n';
                        i += 4;
                        continue;
                }
                bool tag = false;
                for (size_t t = 0; t < sizeof tags / sizeof tags[0] && !tag; t++) {
                        size_t k = strlen(tags[t]);
                        if (!strncmp(s + i, tags[t], k)) {
                                i += k;
                                tag = true;
                        }
                }
                if (!tag)
                        out[o++] = s[i++];
        }
        out[o] = '\0';
        return o;
}

/* One source line set as formatted text (--styled). */
static void pdf_styled_line(pdf_t *p, const char *s, size_t n) {
        static const double sizes[] = {10.0, 14.0, 12.0, 11.0, 11.0, 11.0, 11.0};
        char *t = malloc(n + 1);
        if (t == NULL)
                return;
        int level = 0;
        size_t tn = unmark(s, n, t, &level);
        cairo_select_font_face(p->cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL,
                               level > 0 ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
        cairo_set_font_size(p->cr, sizes[level]);
        p->line_h = sizes[level] * 1.35;
        size_t i = 0;
        while (i <= tn) {
                const char *nl = memchr(t + i, '\n', tn - i);
                size_t e = nl != NULL ? (size_t)(nl - t) : tn;
                if (e > i || nl == NULL)
                        pdf_line(p, t + i, e - i);
                i = e + 1;
        }
        free(t);
}

static int make_pdf(const char *path, const char *text, size_t len, bool styled) {
        cairo_surface_t *surf = cairo_pdf_surface_create(path, PAGE_W, PAGE_H);
        cairo_t *cr = cairo_create(surf);
        pdf_t p = {cr, MARGIN + FONT_SIZE, false, LINE_H};
        cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL,
                               CAIRO_FONT_WEIGHT_NORMAL);
        cairo_set_font_size(cr, FONT_SIZE);
        cairo_set_source_rgb(cr, 0, 0, 0);
        size_t i = 0;
        while (i < len) {
                const char *nl = memchr(text + i, '\n', len - i);
                size_t e = nl != NULL ? (size_t)(nl - text) : len;
                if (styled)
                        pdf_styled_line(&p, text + i, e - i);
                else
                        pdf_line(&p, text + i, e - i);
                i = e + 1;
        }
        cairo_status_t st = cairo_status(cr);
        cairo_destroy(cr);
        cairo_surface_finish(surf);
        if (st == CAIRO_STATUS_SUCCESS)
                st = cairo_surface_status(surf);
        cairo_surface_destroy(surf);
        if (st != CAIRO_STATUS_SUCCESS) {
                fprintf(stderr, "mkfixtures: %s: %s\n", path, cairo_status_to_string(st));
                return -1;
        }
        return 0;
}

/* A "scanned" page: a frame, some rules and a grey-scale image. */
static int make_scan(const char *path) {
        cairo_surface_t *surf = cairo_pdf_surface_create(path, PAGE_W, PAGE_H);
        cairo_t *cr = cairo_create(surf);
        cairo_set_source_rgb(cr, 0, 0, 0);
        cairo_rectangle(cr, MARGIN, MARGIN, PAGE_W - 2 * MARGIN, PAGE_H - 2 * MARGIN);
        cairo_stroke(cr);
        for (int i = 0; i < 40; i++) {
                double y = MARGIN + 100 + i * 14.0;
                cairo_move_to(cr, MARGIN + 20, y);
                cairo_line_to(cr, PAGE_W - MARGIN - 20 - (i % 7) * 30, y);
        }
        cairo_stroke(cr);

        cairo_surface_t *img = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 200, 100);
        unsigned char *px = cairo_image_surface_get_data(img);
        int stride = cairo_image_surface_get_stride(img);
        unsigned int seed = 12345u;
        cairo_surface_flush(img);
        for (int y = 0; y < 100; y++)
                for (int x = 0; x < 200; x++) {
                        seed = seed * 1103515245u + 12345u;
                        unsigned char g = (unsigned char)(180 + (seed >> 16) % 76);
                        unsigned char *q = px + y * stride + x * 4;
                        q[0] = q[1] = q[2] = g;
                        q[3] = 0xFF;
                }
        cairo_surface_mark_dirty(img);
        cairo_set_source_surface(cr, img, MARGIN + 20, MARGIN + 20);
        cairo_paint(cr);
        cairo_surface_destroy(img);

        cairo_status_t st = cairo_status(cr);
        cairo_destroy(cr);
        cairo_surface_finish(surf);
        if (st == CAIRO_STATUS_SUCCESS)
                st = cairo_surface_status(surf);
        cairo_surface_destroy(surf);
        return st == CAIRO_STATUS_SUCCESS ? 0 : -1;
}

/* The PDF at `src` cut to 40 % and followed by a garbled xref/trailer. */
static int make_corrupt(const char *src, const char *path) {
        static const char tail[] = "\nxref\n0 9\n00000000x0 65535 f \n00000@0017 0000 n \n"
                                   "0000#00093 00000 n\nxyz\ntrailer\n<< /Size 9 /Root 77 0 R "
                                   "/Info 78 0 R >>\nstartxref\n987654321\n%%EOF\n";
        size_t len = 0;
        char *buf = read_file(src, &len);
        if (buf == NULL)
                return -1;
        size_t keep = len * 2 / 5;
        char *out = malloc(keep + sizeof tail);
        int rc = -1;
        if (out != NULL) {
                memcpy(out, buf, keep);
                memcpy(out + keep, tail, sizeof tail - 1);
                rc = write_file(path, out, keep + sizeof tail - 1);
        }
        free(out);
        free(buf);
        return rc;
}

/* ------------------------------------------------------------------ */
/* HTML                                                                */
/* ------------------------------------------------------------------ */

static void html_escape(FILE *f, const char *s, size_t n) {
        static const struct {
                const char *utf8;
                const char *entity;
        } ent[] = {
                {"\xC3\xA6", "&aelig;"}, {"\xC3\xB8", "&oslash;"}, {"\xC3\xA5", "&aring;"},
                {"\xC3\x86", "&AElig;"}, {"\xC3\x98", "&Oslash;"}, {"\xC3\x85", "&Aring;"},
        };
        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                if (c == '&') {
                        fputs("&amp;", f);
                        continue;
                }
                if (c == '<') {
                        fputs("&lt;", f);
                        continue;
                }
                if (c == '>') {
                        fputs("&gt;", f);
                        continue;
                }
                bool done = false;
                for (size_t k = 0; k < sizeof ent / sizeof ent[0] && i + 1 < n; k++)
                        if (memcmp(s + i, ent[k].utf8, 2) == 0) {
                                fputs(ent[k].entity, f);
                                i++;
                                done = true;
                                break;
                        }
                if (!done)
                        fputc(c, f);
        }
}

/* Writes text as a paragraph body, breaking the source every ~70 bytes
 * at a space so that the extractor has to collapse white space. */
static void html_flow(FILE *f, const char *s, size_t n) {
        size_t col = 0, start = 0;
        for (size_t i = 0; i <= n; i++) {
                if (i == n || s[i] == ' ') {
                        html_escape(f, s + start, i - start);
                        col += i - start;
                        if (i < n) {
                                if (col > 70) {
                                        fputs("\n    ", f);
                                        col = 0;
                                } else {
                                        fputc(' ', f);
                                }
                        }
                        start = i + 1;
                }
        }
}

static int make_html(const char *path, const char *title, const char *text, size_t len) {
        FILE *f = fopen(path, "wb");
        if (f == NULL) {
                fprintf(stderr, "mkfixtures: %s: %s\n", path, strerror(errno));
                return -1;
        }
        fputs("<!DOCTYPE html>\n<html lang=\"da\">\n<head>\n<meta charset=\"utf-8\">\n<title>", f);
        html_escape(f, title, strlen(title));
        fputs("</title>\n<style>\n  body { font-family: sans-serif; } /* MMSTYLEMARKER */\n"
              "</style>\n<script>\n  var marker = \"MMSCRIPTMARKER\";\n  if (1 < 2 && true) "
              "{ console.log(marker); }\n</script>\n</head>\n<body>\n"
              "<nav class=\"menu\"><ul><li><a href=\"/\">MMNAVMARKER Forside</a></li>"
              "<li><a href=\"/politik\">Politik &amp; demokrati</a></li></ul></nav>\n"
              "<!-- MMCOMMENTMARKER -->\n<main>\n",
              f);
        bool in_table = false;
        size_t i = 0;
        while (i < len) {
                const char *nl = memchr(text + i, '\n', len - i);
                size_t e = nl != NULL ? (size_t)(nl - text) : len;
                const char *s = text + i;
                size_t n = e - i;
                i = e + 1;
                while (n > 0 && (s[n - 1] == '\r' || s[n - 1] == ' '))
                        n--;
                bool has_tab = memchr(s, '\t', n) != NULL;
                if (in_table && !has_tab) {
                        fputs("</table>\n", f);
                        in_table = false;
                }
                size_t h = 0;
                while (h < n && h < 6 && s[h] == '#')
                        h++;
                if (has_tab) {
                        if (!in_table) {
                                fputs("<table>\n", f);
                                in_table = true;
                        }
                        fputs("<tr>", f);
                        size_t c = 0;
                        while (c <= n) {
                                const char *t = memchr(s + c, '\t', n - c);
                                size_t ce = t != NULL ? (size_t)(t - s) : n;
                                fputs("<td>", f);
                                html_escape(f, s + c, ce - c);
                                fputs("</td>", f);
                                c = ce + 1;
                        }
                        fputs("</tr>\n", f);
                } else if (h > 0 && h < n && s[h] == ' ') {
                        fprintf(f, "<h%zu>", h);
                        html_escape(f, s + h + 1, n - h - 1);
                        fprintf(f, "</h%zu>\n", h);
                } else if (n > 0) {
                        fputs("<p>", f);
                        html_flow(f, s, n);
                        fputs("</p>\n", f);
                }
        }
        if (in_table)
                fputs("</table>\n", f);
        fputs("</main>\n</body>\n</html>\n", f);
        return fclose(f) == 0 ? 0 : -1;
}

/* ------------------------------------------------------------------ */

static char *out_path(const char *dir, const char *seed, const char *ext) {
        const char *base = strrchr(seed, '/');
        base = base != NULL ? base + 1 : seed;
        size_t bl = strlen(base);
        if (bl > 4 && strcmp(base + bl - 4, ".txt") == 0)
                bl -= 4;
        size_t n = strlen(dir) + 1 + bl + strlen(ext) + 1;
        char *p = malloc(n);
        if (p != NULL)
                snprintf(p, n, "%s/%.*s%s", dir, (int)bl, base, ext);
        return p;
}

int main(int argc, char **argv) {
        bool styled = argc > 1 && !strcmp(argv[1], "--styled");
        if (styled) {
                argv++;
                argc--;
        }
        if (argc < 3) {
                fprintf(stderr, "usage: mkfixtures [--styled] OUTDIR SEED.txt...\n");
                return 2;
        }
        const char *dir = argv[1];
        int rc = 0;
        if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
                fprintf(stderr, "mkfixtures: %s: %s\n", dir, strerror(errno));
                return 1;
        }
        for (int a = 2; a < argc && rc == 0; a++) {
                size_t len = 0;
                char *text = read_file(argv[a], &len);
                char *pdf = out_path(dir, argv[a], ".pdf");
                char *html = out_path(dir, argv[a], ".html");
                if (text == NULL || pdf == NULL || html == NULL ||
                    make_pdf(pdf, text, len, styled) != 0 ||
                    make_html(html, argv[a], text, len) != 0)
                        rc = 1;
                if (rc == 0 && a == 2) {
                        char *bad = out_path(dir, "corrupt", ".pdf");
                        if (bad == NULL || make_corrupt(pdf, bad) != 0)
                                rc = 1;
                        free(bad);
                }
                free(text);
                free(pdf);
                free(html);
        }
        if (rc == 0) {
                char *scan = out_path(dir, "scan", ".pdf");
                if (scan == NULL || make_scan(scan) != 0)
                        rc = 1;
                free(scan);
        }
        cairo_debug_reset_static_data();
        return rc;
}
