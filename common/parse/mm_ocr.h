/*
 * mm_ocr: optical character recognition of one PDF page with Tesseract's
 * C API and its Danish model ("dan", Debian package tesseract-ocr-dan).
 *
 * Used by mm_extract for pages whose text layer is empty or nearly so and
 * that carry a scanned image (mm_ocr_page_is_scan). The page is rendered
 * by poppler-glib into a cairo image at the given resolution, turned into
 * 8-bit grey and given to Tesseract; the text is Tesseract's UTF-8 text
 * with blank lines removed (as the text layer's, see mm_extract.h) and the
 * confidence its mean word confidence (0-100).
 *
 * Tesseract is single-threaded here: its OpenMP regions are switched off
 * (omp_set_max_active_levels(0), looked up at run time) so that a page
 * costs one core, as the sandbox's CPU limit and the worker's one
 * extraction thread expect. An engine is not thread-safe: use one per
 * thread (mm_extract makes one per sandbox child, when the first page
 * needs it).
 */
#ifndef MM_OCR_H
#define MM_OCR_H

#include <stddef.h>

#include <poppler.h>

#include "mm_extract.h"

/* The Tesseract language used. */
#define MM_OCR_LANG "dan"

/* Largest page image in pixels (A3 at 300 dpi is 17.4 million): a larger
 * page (a poster, a drawing) is rendered at a lower resolution so that it
 * fits. The page's memory is about 7 bytes a pixel at its peak (cairo's
 * 4-byte image, the grey copy, Tesseract's copy and its binary image):
 * 140 MB here, inside extract-max-memory (docs/ocr.md). */
#define MM_OCR_MAX_PIXELS (20L * 1000L * 1000L)

/* Share of the page area that images must cover for the page to count as
 * a scan (mm_ocr_page_is_scan). */
#define MM_OCR_MIN_IMAGE_COVER 0.25

typedef struct mm_ocr_s mm_ocr_t;

/* Checks that `tessdata` (NULL: MM_EXTRACT_DEFAULT_OCR_TESSDATA's value,
 * given by the caller) holds a readable MM_OCR_LANG model. Returns 0, or
 * -1 with a sentence naming the file and the remedy in `errstr` (may be
 * NULL). Cheap: does not load the model. */
int mm_ocr_check_model(const char *tessdata, char *errstr, size_t errstr_size);

/* A new engine loaded with the Danish model from `tessdata` (not NULL).
 * Returns NULL with a sentence in `errstr` (may be NULL) when the model is
 * missing or cannot be loaded. Free with mm_ocr_destroy. */
mm_ocr_t *mm_ocr_new(const char *tessdata, char *errstr, size_t errstr_size);

/* Frees the engine. `o` may be NULL. */
void mm_ocr_destroy(mm_ocr_t *o);

/* 1 when images cover at least MM_OCR_MIN_IMAGE_COVER of the page `page`
 * (not NULL; borrowed), else 0. */
int mm_ocr_page_is_scan(PopplerPage *page);

/* How mm_ocr_page ended. */
typedef enum mm_ocr_status_e {
        MM_OCR_OK = 0,   /* recognised: *text and *confidence are set */
        MM_OCR_DEADLINE, /* deadline_ms passed before the page was done */
        MM_OCR_ERROR     /* rendering or recognition failed (errstr says) */
} mm_ocr_status_t;

/* Renders `page` (borrowed) at `dpi` (lowered to stay within
 * MM_OCR_MAX_PIXELS) and recognises it within `cpu_budget_ms` (> 0) of the
 * calling thread's CPU time (Tesseract is cancelled past it). On
 * MM_OCR_OK, *text is a malloc'd NUL-terminated UTF-8 text the caller
 * frees (may be empty) and *confidence the mean word confidence 0-100 (0
 * when no word was found). Otherwise *text is NULL. An out-of-memory
 * error is MM_OCR_ERROR with errno ENOMEM. */
mm_ocr_status_t mm_ocr_page(mm_ocr_t *o, PopplerPage *page, int dpi, long cpu_budget_ms,
                            char **text, int *confidence, char *errstr, size_t errstr_size);

/* ---- one document: which pages are OCRed, within the limits ---- */

/* The OCR of one PDF document (extraction in progress). */
typedef struct mm_ocr_doc_s mm_ocr_doc_t;

/* Starts the OCR of a document under `lim` (borrowed, must outlive the
 * run; lim->ocr must be 1), recording into `info` (borrowed; its OCR
 * fields are set here). NULL when memory runs out. */
mm_ocr_doc_t *mm_ocr_doc_new(const mm_extract_limits_t *lim, mm_extract_info_t *info);

/* Decides page `index` (0-based) whose text layer has `layer_nonspace`
 * non-space characters. A page is OCRed only when that is below
 * MM_EXTRACT_PDF_MIN_CHARS_PER_PAGE and images cover the page
 * (mm_ocr_page_is_scan); never past extract-max-ocr-pages or ocr-seconds
 * (CPU seconds of the calling thread, from the first OCRed page on; a
 * sandbox child starts with its soft CPU limit at extract-cpu-seconds and
 * raises it by ocr-seconds when the first page is OCRed,
 * mm_sandbox_cpu_limit).
 * The process's engine is made when the first page needs it (so text PDFs
 * never load the model) and kept for later documents of the process
 * (calls are serialised). Returns 1 with a malloc'd text in *text that
 * replaces the page's text layer; 0 to keep the text layer (no scan, a
 * limit reached, OCR unavailable, or a confidence below
 * ocr-min-confidence: counted in `info`); -1 when memory ran out. */
int mm_ocr_doc_page(mm_ocr_doc_t *d, PopplerPage *page, int index, size_t layer_nonspace,
                    char **text);

/* Sets info->text_source and info->ocr_confidence from the pages seen
 * (`text_pages`: pages whose non-empty text came from the text layer) and
 * frees `d` (may be NULL). */
void mm_ocr_doc_finish(mm_ocr_doc_t *d, int text_pages);

#endif /* MM_OCR_H */
