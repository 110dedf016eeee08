/*
 * mm_ocr: one PDF page through Tesseract. See mm_ocr.h.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* RTLD_DEFAULT */
#endif
#include "mm_ocr.h"

#include "mm_sandbox.h"

#include <dlfcn.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cairo.h>
#include <glib.h>
#include <tesseract/capi.h>

struct mm_ocr_s {
        TessBaseAPI *api;
};

static void set_err(char *errstr, size_t errstr_size, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void set_err(char *errstr, size_t errstr_size, const char *fmt, ...) {
        if (errstr == NULL || errstr_size == 0)
                return;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(errstr, errstr_size, fmt, ap);
        va_end(ap);
}

int mm_ocr_check_model(const char *tessdata, char *errstr, size_t errstr_size) {
        char path[512];
        int n = snprintf(path, sizeof path, "%s/%s.traineddata", tessdata, MM_OCR_LANG);
        if (n < 0 || (size_t)n >= sizeof path) {
                set_err(errstr, errstr_size, "OCR: the tessdata path is too long (ocr-tessdata)");
                return -1;
        }
        if (access(path, R_OK) != 0) {
                set_err(errstr, errstr_size,
                        "OCR: no Danish model %s; install tesseract-ocr-dan, set ocr-tessdata, "
                        "or turn ocr off",
                        path);
                return -1;
        }
        return 0;
}

/* Tesseract's OpenMP regions (LSTM gates) would start threads that spin on
 * the sandbox's CPU budget; with no active level allowed every region runs
 * on the calling thread. libgomp is loaded by libtesseract when Tesseract
 * was built with OpenMP, so the symbol is looked up, not linked. */
static void single_thread(void) {
        void (*set_levels)(int) = NULL;
        void *sym = dlsym(RTLD_DEFAULT, "omp_set_max_active_levels");
        if (sym != NULL) {
                memcpy(&set_levels, &sym, sizeof set_levels);
                set_levels(0);
        }
}

mm_ocr_t *mm_ocr_new(const char *tessdata, char *errstr, size_t errstr_size) {
        if (mm_ocr_check_model(tessdata, errstr, errstr_size) != 0)
                return NULL;
        single_thread();
        mm_ocr_t *o = calloc(1, sizeof *o);
        if (o == NULL) {
                set_err(errstr, errstr_size, "OCR: out of memory");
                return NULL;
        }
        o->api = TessBaseAPICreate();
        if (o->api == NULL) {
                free(o);
                set_err(errstr, errstr_size, "OCR: Tesseract could not be created");
                return NULL;
        }
        /* Tesseract's own messages (tprintf) would go to stderr for every
         * page; the caller reports what matters. */
        TessBaseAPISetVariable(o->api, "debug_file", "/dev/null");
        if (TessBaseAPIInit3(o->api, tessdata, MM_OCR_LANG) != 0) {
                set_err(errstr, errstr_size, "OCR: Tesseract cannot load %s/%s.traineddata",
                        tessdata, MM_OCR_LANG);
                mm_ocr_destroy(o);
                return NULL;
        }
        return o;
}

void mm_ocr_destroy(mm_ocr_t *o) {
        if (o == NULL)
                return;
        if (o->api != NULL) {
                TessBaseAPIEnd(o->api);
                TessBaseAPIDelete(o->api);
        }
        free(o);
}

int mm_ocr_page_is_scan(PopplerPage *page) {
        double w = 0, h = 0;
        poppler_page_get_size(page, &w, &h);
        if (w <= 0 || h <= 0)
                return 0;
        double cover = 0;
        GList *map = poppler_page_get_image_mapping(page);
        for (GList *l = map; l != NULL; l = l->next) {
                const PopplerImageMapping *m = l->data;
                /* the image's box clipped to the page */
                double x1 = fmax(fmin(m->area.x1, m->area.x2), 0);
                double x2 = fmin(fmax(m->area.x1, m->area.x2), w);
                double y1 = fmax(fmin(m->area.y1, m->area.y2), 0);
                double y2 = fmin(fmax(m->area.y1, m->area.y2), h);
                if (x2 > x1 && y2 > y1)
                        cover += (x2 - x1) * (y2 - y1);
        }
        poppler_page_free_image_mapping(map);
        return cover >= MM_OCR_MIN_IMAGE_COVER * w * h;
}

/* Renders the page on white into a malloc'd 8-bit grey image of *w x *h
 * pixels at *dpi (lowered to stay within MM_OCR_MAX_PIXELS). NULL when
 * memory runs out (errno ENOMEM) or the page has no size. */
static unsigned char *render_grey(PopplerPage *page, int *dpi, int *w, int *h) {
        double pw = 0, ph = 0;
        poppler_page_get_size(page, &pw, &ph);
        double scale = *dpi / 72.0;
        double px = pw * scale * ph * scale;
        if (px > (double)MM_OCR_MAX_PIXELS)
                scale *= sqrt((double)MM_OCR_MAX_PIXELS / px);
        *w = (int)(pw * scale + 0.5);
        *h = (int)(ph * scale + 0.5);
        *dpi = (int)(scale * 72.0 + 0.5);
        if (*w < 1 || *h < 1 || *dpi < 1) {
                errno = EINVAL;
                return NULL;
        }
        cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, *w, *h);
        if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
                cairo_surface_destroy(s);
                errno = ENOMEM;
                return NULL;
        }
        cairo_t *cr = cairo_create(s);
        cairo_set_source_rgb(cr, 1, 1, 1);
        cairo_paint(cr);
        cairo_scale(cr, scale, scale);
        poppler_page_render(page, cr);
        cairo_destroy(cr);
        cairo_surface_flush(s);
        unsigned char *grey = malloc((size_t)*w * (size_t)*h);
        const unsigned char *data = cairo_image_surface_get_data(s);
        int stride = cairo_image_surface_get_stride(s);
        if (grey != NULL && data != NULL) {
                for (int y = 0; y < *h; y++) {
                        const uint32_t *row =
                                (const uint32_t *)(const void *)(data + (size_t)y * (size_t)stride);
                        unsigned char *g = grey + (size_t)y * (size_t)*w;
                        for (int x = 0; x < *w; x++) {
                                uint32_t p = row[x];
                                unsigned r = (p >> 16) & 0xFF, gr = (p >> 8) & 0xFF, b = p & 0xFF;
                                g[x] = (unsigned char)((77 * r + 150 * gr + 29 * b) >> 8);
                        }
                }
        }
        cairo_surface_destroy(s);
        if (grey == NULL)
                errno = ENOMEM;
        return grey;
}

/* An item number alone on its line, as OCR misreads it: the thin "1" of
 * "1." read as "i:", "i;", "il", "l.", "I." or "|." (seen at 200 and 300 dpi on
 * scanned eDoc pages, where "N." stands alone above the title). Only whole
 * lines are touched, never a word in running text:
 *   - one or two of "Il|i!" and at most one mark (".:,;") -> "1.";
 *   - up to three digits or such letters, one at least a digit, and a mark
 *     -> the digits (a letter as "1") and ".".
 * A number without a mark ("2") stays: the parser takes it as it is. */
static size_t lone_number(char *s, size_t n) {
        static const char conf[] = "Il|i!";
        size_t k = 0, digits = 0;
        while (k < n && k < 3 && (isdigit((unsigned char)s[k]) || strchr(conf, s[k]))) {
                digits += isdigit((unsigned char)s[k]) != 0;
                k++;
        }
        int mark = k + 1 == n && strchr(".:,;", s[k]) != NULL;
        if (k == 0 || (k < n && !mark))
                return n;
        if (digits == 0) {
                if (n < 2 || k > 2)
                        return n; /* "I" or "l" alone may be a word */
                s[0] = '1';
                s[1] = '.';
                return 2;
        }
        if (!mark)
                return n;
        for (size_t q = 0; q < k; q++)
                if (!isdigit((unsigned char)s[q]))
                        s[q] = '1';
        s[k] = '.';
        return n;
}

/* Tesseract's text without blank lines and trailing blanks (the text
 * layer's shape: one line per line, no empty lines between blocks). */
static char *tidy_text(const char *t) {
        size_t n = strlen(t);
        char *out = malloc(n + 1);
        if (out == NULL)
                return NULL;
        size_t o = 0;
        const char *p = t;
        while (*p != '\0') {
                const char *nl = strchr(p, '\n');
                size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);
                while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t' || p[len - 1] == '\r'))
                        len--;
                if (len > 0) {
                        memcpy(out + o, p, len);
                        o += lone_number(out + o, len);
                        out[o++] = '\n';
                }
                if (nl == NULL)
                        break;
                p = nl + 1;
        }
        out[o] = '\0';
        return out;
}

/* One text line of the page: its text (Tesseract's, freed with
 * TessDeleteText, or ours, freed with free) and its box in pixels. */
typedef struct ocr_line_s {
        char *text;
        int ours;
        int l, t, r, b;
} ocr_line_t;

/* A line of at most three characters besides white space: an item number
 * alone, which the page's reading gets wrong most often ("1." as "i;",
 * "2." as "PAN"), having no word around it to read it by. */
static int short_line(const char *t) {
        int n = 0, lower = 0, other = 0;
        for (const unsigned char *p = (const unsigned char *)t; *p; p++) {
                if (isspace(*p) || (*p & 0xc0) == 0x80)
                        continue;
                n++;
                lower += islower(*p) != 0;
                other += !isalpha(*p);
        }
        /* "Ja", "Nej" and "Ad" are words; "i;", "PAN" and "3!" are not */
        return n > 0 && n <= 3 && (other > 0 || lower == 0);
}

/* Reads line ln again alone, as digits and a full stop (Tesseract's
 * whitelist, one line). A number read with confidence replaces the text;
 * anything else keeps it. The page's settings are restored. */
static void reread_number(mm_ocr_t *o, ocr_line_t *ln, int w, int h) {
        int pad = (ln->b - ln->t) / 2 + 4;
        int l = ln->l - pad > 0 ? ln->l - pad : 0, t = ln->t - pad > 0 ? ln->t - pad : 0;
        int r = ln->r + pad < w ? ln->r + pad : w, b = ln->b + pad < h ? ln->b + pad : h;
        if (r <= l || b <= t)
                return;
        TessPageSegMode psm = TessBaseAPIGetPageSegMode(o->api);
        TessBaseAPISetPageSegMode(o->api, PSM_SINGLE_LINE);
        TessBaseAPISetVariable(o->api, "tessedit_char_whitelist", "0123456789.");
        TessBaseAPISetRectangle(o->api, l, t, r - l, b - t);
        char *txt = TessBaseAPIGetUTF8Text(o->api);
        TessBaseAPISetVariable(o->api, "tessedit_char_whitelist", "");
        TessBaseAPISetPageSegMode(o->api, psm);
        int num = 0, k = 0;
        while (txt && isdigit((unsigned char)txt[k]) && k < 3)
                num = num * 10 + (txt[k++] - '0');
        /* digits, maybe a full stop, nothing else (the whitelist makes
         * Tesseract's confidence here meaningless: it is not used) */
        int only = txt && k > 0 && num > 0 && (txt[k] == '.' ? txt[k + 1] : txt[k]) == '\n';
        if (only) {
                char *mine = malloc(16);
                if (mine) {
                        snprintf(mine, 16, "%d.\n", num);
                        if (ln->ours)
                                free(ln->text);
                        else
                                TessDeleteText(ln->text);
                        ln->text = mine;
                        ln->ours = 1;
                }
        }
        if (txt)
                TessDeleteText(txt);
}

/* The page's text after recognition, line by line, with short lines read
 * again (reread_number). NULL when Tesseract gives no line iterator or
 * memory runs out: the caller takes the page's text as Tesseract gives it. */
static char *page_lines(mm_ocr_t *o, int w, int h) {
        TessResultIterator *ri = TessBaseAPIGetIterator(o->api);
        if (ri == NULL)
                return NULL;
        ocr_line_t *v = NULL;
        size_t n = 0, cap = 0, total = 1;
        const TessPageIterator *pi = TessResultIteratorGetPageIterator(ri);
        do {
                char *lt = TessResultIteratorGetUTF8Text(ri, RIL_TEXTLINE);
                if (lt == NULL)
                        continue;
                if (n == cap) {
                        ocr_line_t *nv = realloc(v, (cap = cap ? cap * 2 : 64) * sizeof(*v));
                        if (nv == NULL) {
                                TessDeleteText(lt);
                                break;
                        }
                        v = nv;
                }
                v[n] = (ocr_line_t){.text = lt};
                TessPageIteratorBoundingBox(pi, RIL_TEXTLINE, &v[n].l, &v[n].t, &v[n].r, &v[n].b);
                n++;
        } while (TessResultIteratorNext(ri, RIL_TEXTLINE));
        TessResultIteratorDelete(ri);
        for (size_t i = 0; i < n; i++)
                if (short_line(v[i].text))
                        reread_number(o, &v[i], w, h);
        for (size_t i = 0; i < n; i++)
                total += strlen(v[i].text) + 1;
        char *out = malloc(total);
        size_t o_len = 0;
        for (size_t i = 0; i < n; i++) {
                size_t len = strlen(v[i].text);
                if (out) {
                        memcpy(out + o_len, v[i].text, len);
                        o_len += len;
                        if (len == 0 || v[i].text[len - 1] != '\n')
                                out[o_len++] = '\n';
                }
                if (v[i].ours)
                        free(v[i].text);
                else
                        TessDeleteText(v[i].text);
        }
        if (out)
                out[o_len] = '\0';
        free(v);
        return out;
}

/* CPU time of the calling thread (the one that renders and recognises),
 * in ms: the budget is CPU time, as the sandbox's limit is. */
static long cpu_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Tesseract's cancel callback (called per word): past the CPU deadline. */
typedef struct deadline_s {
        long at_ms;
        int hit;
} deadline_t;

static bool past_deadline(void *arg, int words) {
        (void)words;
        deadline_t *d = arg;
        if (cpu_ms() >= d->at_ms)
                d->hit = 1;
        return d->hit != 0;
}

mm_ocr_status_t mm_ocr_page(mm_ocr_t *o, PopplerPage *page, int dpi, long cpu_budget_ms,
                            char **text, int *confidence, char *errstr, size_t errstr_size) {
        *text = NULL;
        *confidence = 0;
        deadline_t dl = {cpu_ms() + cpu_budget_ms, 0};
        int w = 0, h = 0;
        unsigned char *grey = render_grey(page, &dpi, &w, &h);
        if (grey == NULL) {
                int e = errno;
                set_err(errstr, errstr_size, "OCR: the page cannot be rendered (%s)", strerror(e));
                errno = e;
                return MM_OCR_ERROR;
        }
        TessBaseAPISetImage(o->api, grey, w, h, 1, w); /* copies the pixels */
        free(grey);
        TessBaseAPISetSourceResolution(o->api, dpi);
        if (past_deadline(&dl, 0)) {
                TessBaseAPIClear(o->api);
                return MM_OCR_DEADLINE;
        }
        ETEXT_DESC *mon = TessMonitorCreate();
        if (mon == NULL) {
                TessBaseAPIClear(o->api);
                set_err(errstr, errstr_size, "OCR: out of memory");
                errno = ENOMEM;
                return MM_OCR_ERROR;
        }
        TessMonitorSetCancelFunc(mon, past_deadline);
        TessMonitorSetCancelThis(mon, &dl);
        int rc = TessBaseAPIRecognize(o->api, mon);
        TessMonitorDelete(mon);
        if (rc != 0 || dl.hit) {
                TessBaseAPIClear(o->api);
                if (dl.hit)
                        return MM_OCR_DEADLINE;
                set_err(errstr, errstr_size, "OCR: Tesseract could not recognise the page");
                return MM_OCR_ERROR;
        }
        *confidence = TessBaseAPIMeanTextConf(o->api); /* before any line is read again */
        char *lines = page_lines(o, w, h);
        char *t = lines == NULL ? TessBaseAPIGetUTF8Text(o->api) : NULL;
        TessBaseAPIClear(o->api);
        *text = tidy_text(lines != NULL ? lines : t != NULL ? t : "");
        free(lines);
        TessDeleteText(t);
        if (*text == NULL) {
                set_err(errstr, errstr_size, "OCR: out of memory");
                errno = ENOMEM;
                return MM_OCR_ERROR;
        }
        return MM_OCR_OK;
}

/* ------------------------------------------------------------------ */
/* One document                                                        */
/* ------------------------------------------------------------------ */

/* The process's engine: made when a page first needs it. In a sandbox
 * child that is once per scanned document; the parent never makes one. */
static mm_ocr_t *g_engine;
static char g_engine_err[160];
static char g_engine_dir[512]; /* the tessdata folder of g_engine */
static pthread_mutex_t g_engine_lock = PTHREAD_MUTEX_INITIALIZER;

struct mm_ocr_doc_s {
        const mm_extract_limits_t *lim;
        mm_extract_info_t *info;
        long start_ms;  /* thread CPU time when the first page's OCR began */
        int started;    /* a page was OCRed (or tried) */
        long budget_ms; /* ocr-seconds */
        double conf_sum;
};

mm_ocr_doc_t *mm_ocr_doc_new(const mm_extract_limits_t *lim, mm_extract_info_t *info) {
        mm_ocr_doc_t *d = calloc(1, sizeof *d);
        if (d == NULL)
                return NULL;
        d->lim = lim;
        d->info = info;
        d->budget_ms = lim->ocr_seconds * 1000;
        return d;
}

/* Appends page number n to a "3,4,7" list; a full list ends in "...". */
static void list_add(char *list, size_t size, int n) {
        size_t len = strlen(list);
        if (len >= 3 && strcmp(list + len - 3, "...") == 0)
                return;
        char num[16];
        snprintf(num, sizeof num, "%s%d", len > 0 ? "," : "", n);
        if (len + strlen(num) + 4 <= size)
                memcpy(list + len, num, strlen(num) + 1);
        else if (len + 4 <= size)
                memcpy(list + len, "...", 4);
}

/* A scanned page left as it is because of a limit or a missing engine. */
static int skip(mm_ocr_doc_t *d, int index, const char *why) {
        d->info->ocr_skipped_pages++;
        list_add(d->info->ocr_skipped_list, sizeof d->info->ocr_skipped_list, index + 1);
        if (d->info->ocr_note[0] == '\0')
                snprintf(d->info->ocr_note, sizeof d->info->ocr_note, "%s", why);
        return 0;
}

/* The engine for `tessdata`, made on first use (again when the folder
 * changed); NULL with g_engine_err set when OCR is unavailable. Called
 * with g_engine_lock held. */
static mm_ocr_t *engine(const char *tessdata) {
        if (strcmp(g_engine_dir, tessdata) != 0) {
                mm_ocr_destroy(g_engine);
                g_engine = NULL;
                g_engine_err[0] = '\0';
                snprintf(g_engine_dir, sizeof g_engine_dir, "%s", tessdata);
        }
        if (g_engine == NULL && g_engine_err[0] == '\0')
                g_engine = mm_ocr_new(tessdata, g_engine_err, sizeof g_engine_err);
        return g_engine;
}

/* OCRs the page; see mm_ocr_doc_page. */
static int ocr_one(mm_ocr_doc_t *d, PopplerPage *page, int index, char **text) {
        mm_extract_info_t *info = d->info;
        long now = cpu_ms();
        if (!d->started) {
                /* the sandbox child was started with the text layer's CPU
                 * limit; OCR gets ocr-seconds more (mm_extract) */
                d->started = 1;
                d->start_ms = now;
                mm_sandbox_cpu_limit(d->lim->cpu_seconds + d->lim->ocr_seconds);
        }
        long left = d->budget_ms - (now - d->start_ms);
        char why[160];
        snprintf(why, sizeof why, "the OCR budget of %ld CPU seconds was used (ocr-seconds)",
                 d->lim->ocr_seconds);
        if (left <= 0)
                return skip(d, index, why);
        pthread_mutex_lock(&g_engine_lock);
        mm_ocr_t *o = engine(d->lim->ocr_tessdata);
        if (o == NULL) {
                pthread_mutex_unlock(&g_engine_lock);
                return skip(d, index, g_engine_err);
        }
        int conf = 0;
        char err[160] = "";
        mm_ocr_status_t st =
                mm_ocr_page(o, page, (int)d->lim->ocr_dpi, left, text, &conf, err, sizeof err);
        int e = errno;
        pthread_mutex_unlock(&g_engine_lock);
        info->ocr_seconds += (double)(cpu_ms() - now) / 1000.0;
        if (st == MM_OCR_DEADLINE)
                return skip(d, index, why);
        if (st == MM_OCR_ERROR && e == ENOMEM)
                return -1;
        if (st == MM_OCR_ERROR)
                return skip(d, index, err);
        if (st == MM_OCR_OK && conf >= d->lim->ocr_min_confidence && (*text)[0] != '\0') {
                info->ocr_pages++;
                list_add(info->ocr_page_list, sizeof info->ocr_page_list, index + 1);
                if (index < MM_EXTRACT_OCR_PAGE_MAP)
                        info->ocr_page_map[index / 8] |= (unsigned char)(1u << (index % 8));
                d->conf_sum += conf;
                return 1;
        }
        free(*text);
        *text = NULL;
        info->ocr_failed_pages++;
        list_add(info->ocr_failed_list, sizeof info->ocr_failed_list, index + 1);
        return 0;
}

int mm_ocr_doc_page(mm_ocr_doc_t *d, PopplerPage *page, int index, size_t layer_nonspace,
                    char **text) {
        *text = NULL;
        if (layer_nonspace >= MM_EXTRACT_PDF_MIN_CHARS_PER_PAGE || !mm_ocr_page_is_scan(page))
                return 0;
        if (d->info->ocr_pages + d->info->ocr_failed_pages >= d->lim->ocr_max_pages) {
                char why[160];
                snprintf(why, sizeof why,
                         "the limit of %ld OCR pages was reached "
                         "(extract-max-ocr-pages)",
                         d->lim->ocr_max_pages);
                return skip(d, index, why);
        }
        return ocr_one(d, page, index, text);
}

void mm_ocr_doc_finish(mm_ocr_doc_t *d, int text_pages) {
        if (d == NULL)
                return;
        mm_extract_info_t *info = d->info;
        if (info->ocr_pages > 0) {
                info->ocr_confidence = d->conf_sum / info->ocr_pages;
                info->text_source = text_pages > 0 ? MM_TEXT_SOURCE_MIXED : MM_TEXT_SOURCE_OCR;
        }
        free(d);
}
