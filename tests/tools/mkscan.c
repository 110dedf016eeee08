/*
 * mkscan: test helper that turns a text PDF into a scanned one, as a
 * scanner in a town hall would: every page (or the pages chosen) is
 * rasterised to grey, gets noise and a slight rotation, is JPEG-compressed
 * and is put back as an image with no text layer.
 *
 *   mkscan [--dpi N] [--seed S] [--angle MAX] [--noise SIGMA]
 *          [--quality Q] [--pages LIST] IN.pdf OUT.pdf
 *
 *   --dpi N       scan resolution (default 300)
 *   --seed S      seed of the noise and the angles (default 1): the same
 *                 input and options give the same bytes
 *   --angle MAX   each page is turned by a random angle in [-MAX, MAX]
 *                 degrees (default 1.5)
 *   --noise SIGMA grey-level noise of each pixel, a standard deviation
 *                 (default 8), plus dark specks (1 in 4000 pixels)
 *   --quality Q   JPEG quality 1-100 (default 50)
 *   --pages LIST  only these 1-based pages, e.g. "2,4", are scanned; the
 *                 others are drawn as vectors (they keep their text
 *                 layer): a mixed document
 *
 * Rendering: poppler-glib into cairo; rotation: Leptonica's pixRotate
 * (area mapping, white brought in); JPEG: Leptonica (pixWriteMemJpeg),
 * embedded as is by cairo's PDF surface (CAIRO_MIME_TYPE_JPEG).
 */
#include <cairo-pdf.h>
#include <cairo.h>
#include <leptonica/allheaders.h>
#include <math.h>
#include <poppler.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct opts_s {
        int dpi, quality;
        unsigned long seed;
        double angle, noise;
        const char *pages; /* NULL: all */
        const char *in, *out;
} opts_t;

/* xorshift64*: a small deterministic generator (the C library's rand()
 * may differ between systems). */
static uint64_t g_rng;

static double rnd01(void) {
        g_rng ^= g_rng >> 12;
        g_rng ^= g_rng << 25;
        g_rng ^= g_rng >> 27;
        return (double)((g_rng * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

static double rnd_gauss(void) {
        double u = rnd01(), v = rnd01();
        if (u < 1e-12)
                u = 1e-12;
        return sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v);
}

static int page_chosen(const char *list, int n) {
        if (list == NULL)
                return 1;
        for (const char *p = list; *p != '\0';) {
                char *end;
                long v = strtol(p, &end, 10);
                if (end == p)
                        return 0;
                if (v == n)
                        return 1;
                p = *end == ',' ? end + 1 : end;
        }
        return 0;
}

/* The page rendered to 8-bit grey at dpi, with noise. */
static PIX *render_page(PopplerPage *page, const opts_t *o) {
        double pw, ph;
        poppler_page_get_size(page, &pw, &ph);
        double scale = o->dpi / 72.0;
        int w = (int)(pw * scale + 0.5), h = (int)(ph * scale + 0.5);
        cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
        cairo_t *cr = cairo_create(s);
        cairo_set_source_rgb(cr, 1, 1, 1);
        cairo_paint(cr);
        cairo_scale(cr, scale, scale);
        poppler_page_render_for_printing(page, cr);
        cairo_destroy(cr);
        cairo_surface_flush(s);
        PIX *pix = pixCreate(w, h, 8);
        const unsigned char *data = cairo_image_surface_get_data(s);
        int stride = cairo_image_surface_get_stride(s);
        for (int y = 0; y < h; y++) {
                const uint32_t *row = (const uint32_t *)(const void *)(data + (size_t)y * stride);
                l_uint32 *line = pixGetData(pix) + (size_t)y * pixGetWpl(pix);
                for (int x = 0; x < w; x++) {
                        uint32_t p = row[x];
                        double g = (77.0 * ((p >> 16) & 0xFF) + 150.0 * ((p >> 8) & 0xFF) +
                                    29.0 * (p & 0xFF)) /
                                   256.0;
                        g += o->noise * rnd_gauss();
                        if (rnd01() < 1.0 / 4000.0)
                                g = 40.0 * rnd01(); /* a dark speck of dust */
                        int v = (int)(g + 0.5);
                        SET_DATA_BYTE(line, x, v < 0 ? 0 : v > 255 ? 255 : v);
                }
        }
        cairo_surface_destroy(s);
        return pix;
}

/* Draws the scanned page: the rotated, JPEG-compressed image at the size
 * of the page. Returns 0 or -1. */
static int scan_page(cairo_t *cr, PopplerPage *page, const opts_t *o) {
        PIX *pix = render_page(page, o);
        int w0 = pixGetWidth(pix), h0 = pixGetHeight(pix);
        double deg = o->angle * (2.0 * rnd01() - 1.0);
        PIX *rot = pixRotate(pix, (float)(deg * M_PI / 180.0), L_ROTATE_AREA_MAP, L_BRING_IN_WHITE,
                             pixGetWidth(pix), pixGetHeight(pix));
        pixDestroy(&pix);
        if (rot == NULL)
                return -1;
        l_uint8 *jpeg = NULL;
        size_t jlen = 0;
        if (pixWriteMemJpeg(&jpeg, &jlen, rot, o->quality, 0) != 0) {
                pixDestroy(&rot);
                return -1;
        }
        /* cairo embeds the JPEG bytes as they are (DCTDecode); the image
         * surface only stands for them */
        PIX *dec = pixReadMemJpeg(jpeg, jlen, 0, 1, NULL, 0);
        pixDestroy(&rot);
        if (dec == NULL) {
                free(jpeg);
                return -1;
        }
        int w = pixGetWidth(dec), h = pixGetHeight(dec);
        cairo_surface_t *img = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
        unsigned char *data = cairo_image_surface_get_data(img);
        int stride = cairo_image_surface_get_stride(img);
        for (int y = 0; y < h; y++) {
                uint32_t *row = (uint32_t *)(void *)(data + (size_t)y * stride);
                l_uint32 *line = pixGetData(dec) + (size_t)y * pixGetWpl(dec);
                for (int x = 0; x < w; x++) {
                        uint32_t g = GET_DATA_BYTE(line, x);
                        row[x] = (g << 16) | (g << 8) | g;
                }
        }
        pixDestroy(&dec);
        cairo_surface_mark_dirty(img);
        cairo_surface_set_mime_data(img, CAIRO_MIME_TYPE_JPEG, jpeg, jlen, free, jpeg);
        cairo_save(cr);
        cairo_scale(cr, 72.0 / o->dpi, 72.0 / o->dpi);
        /* the rotated image is larger: centred on the page */
        cairo_set_source_surface(cr, img, (w0 - w) / 2.0, (h0 - h) / 2.0);
        cairo_paint(cr);
        cairo_restore(cr);
        cairo_surface_destroy(img);
        return 0;
}

static int parse_args(int argc, char **argv, opts_t *o) {
        *o = (opts_t){300, 50, 1, 1.5, 8.0, NULL, NULL, NULL};
        int i = 1;
        for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
                const char *k = argv[i], *v = argv[i + 1];
                if (!strcmp(k, "--dpi"))
                        o->dpi = atoi(v);
                else if (!strcmp(k, "--seed"))
                        o->seed = strtoul(v, NULL, 10);
                else if (!strcmp(k, "--angle"))
                        o->angle = atof(v);
                else if (!strcmp(k, "--noise"))
                        o->noise = atof(v);
                else if (!strcmp(k, "--quality"))
                        o->quality = atoi(v);
                else if (!strcmp(k, "--pages"))
                        o->pages = v;
                else
                        return -1;
        }
        if (argc - i != 2 || o->dpi < 30 || o->dpi > 1200 || o->quality < 1 || o->quality > 100)
                return -1;
        o->in = argv[i];
        o->out = argv[i + 1];
        return 0;
}

int main(int argc, char **argv) {
        opts_t o;
        if (parse_args(argc, argv, &o) != 0) {
                fprintf(stderr, "usage: mkscan [--dpi N] [--seed S] [--angle MAX] [--noise SIGMA] "
                                "[--quality Q] [--pages LIST] IN.pdf OUT.pdf\n");
                return 2;
        }
        g_rng = 0x9E3779B97F4A7C15ULL ^ (o.seed * 0xBF58476D1CE4E5B9ULL);
        if (g_rng == 0)
                g_rng = 1;
        GError *err = NULL;
        gchar *data = NULL;
        gsize dlen = 0;
        PopplerDocument *doc = NULL;
        if (g_file_get_contents(o.in, &data, &dlen, &err)) {
                GBytes *bytes = g_bytes_new_take(data, dlen);
                doc = poppler_document_new_from_bytes(bytes, NULL, &err);
                g_bytes_unref(bytes);
        }
        if (doc == NULL) {
                fprintf(stderr, "mkscan: %s: %s\n", o.in, err != NULL ? err->message : "?");
                g_clear_error(&err);
                return 1;
        }
        int n = poppler_document_get_n_pages(doc), rc = 0;
        cairo_surface_t *pdf = cairo_pdf_surface_create(o.out, 595.276, 841.890);
        cairo_t *cr = cairo_create(pdf);
        for (int i = 0; i < n && rc == 0; i++) {
                PopplerPage *page = poppler_document_get_page(doc, i);
                double pw, ph;
                poppler_page_get_size(page, &pw, &ph);
                cairo_pdf_surface_set_size(pdf, pw, ph);
                if (page_chosen(o.pages, i + 1))
                        rc = scan_page(cr, page, &o);
                else
                        poppler_page_render_for_printing(page, cr);
                cairo_show_page(cr);
                g_object_unref(page);
        }
        cairo_destroy(cr);
        cairo_surface_finish(pdf);
        if (cairo_surface_status(pdf) != CAIRO_STATUS_SUCCESS)
                rc = -1;
        cairo_surface_destroy(pdf);
        g_object_unref(doc);
        if (rc != 0) {
                fprintf(stderr, "mkscan: %s: cannot write the scan\n", o.out);
                return 1;
        }
        return 0;
}
