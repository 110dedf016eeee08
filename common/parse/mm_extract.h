/*
 * mm_extract: turns a raw published document (PDF, HTML or plain text) into
 * UTF-8 text for mm_parser.
 *
 *   - The document type comes from the Content-Type (case-insensitive;
 *     parameters such as "; charset=" play no part in the choice) or, when
 *     that is missing or a generic download type such as
 *     application/octet-stream, from sniffing the first bytes.
 *   - PDF text is extracted with poppler-glib (poppler_page_get_text), page
 *     by page. Lines and reading order are those of the default `pdftotext`
 *     (not -layout, not -raw); on the test fixtures >= 99.8 % of the words
 *     agree. Unlike pdftotext, no blank line is put between text blocks and
 *     a hyphen at a line end is kept (pdftotext joins "36-\nårige" into
 *     "36årige" and drops a dash ending a line). Each page ends with a
 *     newline; pages are separated by MM_EXTRACT_PAGE_SEPARATOR.
 *   - HTML is parsed with libxml2's forgiving HTML parser (no network).
 *     Block elements become line breaks (paragraphs, headings, lists and
 *     tables get a blank line around them), table cells are separated by a
 *     tab (a cell with a nested table is treated as layout), list items get
 *     "- " or "N. " (<ol>) in front, <br> is a line break, <pre> keeps its
 *     white space. head, script, style, noscript, template, nav, aside, svg,
 *     button, select, textarea, iframe/object/embed, audio/video, and
 *     elements with the `hidden` attribute or aria-hidden="true" are
 *     dropped; <form> is kept (ASP.NET pages wrap the whole body in one).
 *     Entities are decoded, white space inside running text is collapsed,
 *     control characters are dropped, and there is never more than one
 *     blank line in a row. The encoding is the charset of the Content-Type
 *     if libxml2 knows it, else <meta charset>, else UTF-8 (libxml2 falls
 *     back to ISO-8859-1 for bytes that are not UTF-8).
 *   - Text is returned byte for byte; mm_parser decodes encodings itself.
 *
 * All functions are thread-safe once mm_extract_global_init() has been
 * called (call it once from the main thread before starting threads).
 *
 * Limits and sandbox: PDF and HTML are extracted in a forked child process
 * (one per document, mm_sandbox) with RLIMIT_CPU, RLIMIT_AS and a
 * wall-time limit; the text comes back over a pipe, and the child is always
 * reaped. The document is blamed only on evidence from the child: its own
 * CPU time or a failed allocation in it gives "extract_limit", a fault
 * signal of its own "extract_crash". Anything outside the document (no
 * pipe or process, a kill from outside, the wall time passed under CPU
 * throttling) gives "extract_transient": try again later; the document is
 * never extracted in the caller instead. The caller lives on either way.
 * The child inherits only the calling thread, so the caller must not hold
 * locks that poppler, GLib or libxml2 need (the worker extracts on its
 * read-ahead thread only). Sandboxed runs of one process are serialised,
 * so concurrent callers are safe but serialised. In a sandbox child
 * (mm_sandbox_in_child) extraction runs directly: the limits already hold.
 * libxml2 never loads an external entity or DTD: an entity loader that
 * refuses every load is installed, and HTML_PARSE_NONET is set.
 */
#ifndef MM_EXTRACT_H
#define MM_EXTRACT_H

#include <stddef.h>

typedef enum mm_extract_type_e {
        MM_EXTRACT_UNKNOWN = 0, /* a format we cannot extract (image, zip...) */
        MM_EXTRACT_TEXT,
        MM_EXTRACT_HTML,
        MM_EXTRACT_PDF
} mm_extract_type_t;

/* How many bytes the sniffer looks at. */
#define MM_EXTRACT_SNIFF_BYTES 8192u

/* Text placed between the texts of two PDF pages (each of which ends with
 * a newline), i.e. a blank line. A form feed is not used: mm_parser treats
 * control bytes as a sign of binary input. */
#define MM_EXTRACT_PAGE_SEPARATOR "\n"

/* A PDF whose extracted text has fewer than
 * max(MM_EXTRACT_PDF_MIN_CHARS, MM_EXTRACT_PDF_MIN_CHARS_PER_PAGE * pages)
 * non-space characters is reported as "pdf_no_text" (a scan). */
#define MM_EXTRACT_PDF_MIN_CHARS          32u
#define MM_EXTRACT_PDF_MIN_CHARS_PER_PAGE 20u

/* Error codes (stable, machine-readable) written to `code`:
 *   "pdf_corrupt"          poppler cannot open the PDF, or it has no pages
 *   "pdf_encrypted"        the PDF needs a password
 *   "pdf_no_text"          the PDF opens but has (almost) no text layer: a
 *                          scan
 *   "html_corrupt"         libxml2 cannot build a document tree at all
 *   "html_too_deep"        elements nest deeper than max_html_depth
 *   "html_too_many_nodes"  more than max_html_nodes elements and text nodes
 *   "html_entity_refused"  the DOCTYPE declares entities (internal or
 *                          local external ones); they are never expanded
 *   "html_network_refused" an entity or DTD would be fetched from the
 *                          network (http:, https:, ftp:); never fetched
 *   "extract_limit"        a limit stopped extraction: output larger than
 *                          max_output_bytes, more than max_pages pages,
 *                          PDF streams inflating to more than
 *                          max_pdf_inflated bytes, or the sandboxed child's
 *                          own CPU time or memory reached its limit
 *   "extract_crash"        the sandboxed child died of a fault signal of its
 *                          own (e.g. a segfault in poppler or libxml2)
 *   "extract_transient"    not the document's fault: the sandbox could not
 *                          run or finish (no pipe or process, killed from
 *                          outside, wall time passed under the CPU limit,
 *                          cancelled); try the document again later
 *   "unsupported_type"     the type is MM_EXTRACT_UNKNOWN (an image, an
 *                          office file, ...)
 *   "too_large"            the input is larger than the extractor can handle
 *   "out_of_memory"        an allocation failed
 * Codes are shorter than MM_EXTRACT_CODE_SIZE bytes including the NUL. */
#define MM_EXTRACT_CODE_SIZE 32u

/* Limits of one extraction. Each is a named option of the worker (the
 * config key is given; defaults are the MM_EXTRACT_DEFAULT_* values). */
typedef struct mm_extract_limits_s {
        size_t max_output_bytes; /* text output (worker: max-doc-bytes) */
        long max_pages;          /* PDF pages (extract-max-pages) */
        size_t max_pdf_inflated; /* sum of inflated PDF Flate streams
                                    (extract-max-pdf-inflated) */
        long max_html_depth;     /* element nesting (extract-max-html-depth) */
        long max_html_nodes;     /* elements + text nodes
                                    (extract-max-html-nodes) */
        long cpu_seconds;        /* RLIMIT_CPU of the child
                                    (extract-cpu-seconds); wall-time limit
                                    is 2 x this + 5 s */
        size_t max_memory;       /* address space the child may add to the
                                    parent's (extract-max-memory) */
        int sandbox;             /* 1: PDF and HTML are extracted in a
                                    forked child (extract-sandbox) */
        /* OCR of scanned PDF pages (mm_ocr, Tesseract "dan"); see below. */
        int ocr;                 /* 1: scanned pages are OCRed (ocr) */
        long ocr_max_pages;      /* OCRed pages per document
                                     (extract-max-ocr-pages) */
        long ocr_seconds;        /* OCR budget per document in CPU
                                    seconds, on top of cpu_seconds: the
                                    child's CPU limit is raised by this
                                    once it OCRs a page (ocr-seconds) */
        long ocr_min_confidence; /* a page whose mean word confidence
                                     (0-100) is lower stays empty
                                     (ocr-min-confidence) */
        long ocr_dpi;            /* render resolution (ocr-dpi) */
        char ocr_tessdata[256];  /* folder of dan.traineddata
                                     (ocr-tessdata) */
} mm_extract_limits_t;

#define MM_EXTRACT_DEFAULT_MAX_OUTPUT_BYTES   (16u * 1024u * 1024u)
#define MM_EXTRACT_DEFAULT_MAX_PAGES          2000L
#define MM_EXTRACT_DEFAULT_MAX_PDF_INFLATED   (256u * 1024u * 1024u)
#define MM_EXTRACT_DEFAULT_MAX_HTML_DEPTH     256L
#define MM_EXTRACT_DEFAULT_MAX_HTML_NODES     500000L
#define MM_EXTRACT_DEFAULT_CPU_SECONDS        30L
#define MM_EXTRACT_DEFAULT_MAX_MEMORY         (512u * 1024u * 1024u)
#define MM_EXTRACT_DEFAULT_OCR_MAX_PAGES      50L
#define MM_EXTRACT_DEFAULT_OCR_SECONDS        90L
#define MM_EXTRACT_DEFAULT_OCR_MIN_CONFIDENCE 50L
#define MM_EXTRACT_DEFAULT_OCR_DPI            200L
#define MM_EXTRACT_DEFAULT_OCR_TESSDATA       "/usr/share/tesseract-ocr/5/tessdata"
#define MM_EXTRACT_MIN_OCR_DPI                70L
#define MM_EXTRACT_MAX_OCR_DPI                600L

/* Fills `l` (not NULL) with the defaults (sandbox on). */
void mm_extract_limits_default(mm_extract_limits_t *l);

/* Sets the limits used by every later mm_extract_text call (copied). Call
 * from the main thread before extracting concurrently, like
 * mm_extract_global_init. A value <= 0 is replaced by its default. */
void mm_extract_set_limits(const mm_extract_limits_t *l);

/* Copies the current limits into `l` (not NULL). */
void mm_extract_get_limits(mm_extract_limits_t *l);

struct mm_config_s;

/* Sets the limits from a program's options: max-doc-bytes (output),
 * extract-max-pages, extract-max-pdf-inflated, extract-max-html-depth,
 * extract-max-html-nodes, extract-cpu-seconds, extract-max-memory,
 * extract-sandbox, and the OCR options ocr (bool), extract-max-ocr-pages,
 * ocr-seconds (CPU seconds added to extract-cpu-seconds for OCR), ocr-min-confidence
 * (0-100), ocr-dpi (70-600) and ocr-tessdata (a folder; empty: the
 * default); all of them must be in the program's option table. With ocr
 * on, the Danish model must be in ocr-tessdata (mm_ocr_check_model).
 * Call once at start-up, after mm_extract_global_init. Returns -1 and
 * fills `errstr` (may be NULL) if a value is out of range. */
int mm_extract_configure(const struct mm_config_s *cfg, char *errstr, size_t errstr_size);

/* Prepares the third-party libraries (libxml2) for use from several
 * threads. Call once from the main thread before any other mm_extract
 * function is used concurrently. Calling it more than once is harmless. */
void mm_extract_global_init(void);

/* Returns the type named by `content_type` (e.g. "text/html; charset=utf-8";
 * may be NULL; compared case-insensitively, parameters ignored):
 *   application/pdf, application/x-pdf, ...        -> MM_EXTRACT_PDF
 *   text/html, application/xhtml+xml               -> MM_EXTRACT_HTML
 *   text/plain, text/markdown, any other text/...  -> MM_EXTRACT_TEXT
 * If the Content-Type is NULL, empty or a generic download type
 * (application/octet-stream, binary/octet-stream, application/unknown,
 * application/x-download, application/force-download,
 * application/download), the first MM_EXTRACT_SNIFF_BYTES bytes of `buf`
 * are sniffed instead:
 *   "%PDF-" within the first 1024 bytes             -> MM_EXTRACT_PDF
 *   optional BOM/white space/<?xml?>/comments, then
 *   "<!DOCTYPE html", "<html", "<head" or "<body"   -> MM_EXTRACT_HTML
 *   >= 4 tags making up >= 25 % of non-space bytes  -> MM_EXTRACT_HTML
 *   the magic number of PNG, JPEG, GIF, TIFF, ZIP
 *   (docx/odt), OLE (doc/xls) or RTF                -> MM_EXTRACT_UNKNOWN
 *   anything else                                   -> MM_EXTRACT_TEXT
 * An explicit Content-Type always beats sniffing; an explicit type that is
 * neither text, HTML nor PDF gives MM_EXTRACT_UNKNOWN. `buf` may be NULL
 * only if `len` is 0. */
mm_extract_type_t mm_extract_detect(const char *buf, size_t len, const char *content_type);

/* Returns a static lower-case name for `type`: "text", "html", "pdf" or
 * "unknown". Never NULL; the caller must not free it. */
const char *mm_extract_type_name(mm_extract_type_t type);

/* Extracts the text of `len` bytes at `buf` (need not be NUL-terminated;
 * may be NULL only if `len` is 0). The type is chosen by mm_extract_detect
 * from `content_type` (may be NULL) and the bytes.
 *
 * On success returns 0 and stores in `*out` a malloc'd NUL-terminated text
 * (UTF-8 for PDF and HTML; unchanged bytes for text) that the caller must
 * free(), and its length without the NUL in `*out_len` (`out_len` may be
 * NULL). If `type` is not NULL the detected type is stored there in all
 * cases.
 *
 * On failure returns -1, sets `*out` to NULL, writes one of the codes above
 * into `code` (may be NULL; MM_EXTRACT_CODE_SIZE bytes are enough) and a
 * human-readable sentence into `errstr` (may be NULL). `out` must not be
 * NULL. */
int mm_extract_text(const char *buf, size_t len, const char *content_type, mm_extract_type_t *type,
                    char **out, size_t *out_len, char *code, size_t code_size, char *errstr,
                    size_t errstr_size);

/* Where the text of a document or page came from. */
typedef enum mm_text_source_e {
        MM_TEXT_SOURCE_TEXT = 0, /* the text layer (or HTML / plain text) */
        MM_TEXT_SOURCE_OCR,      /* every page with text was OCRed */
        MM_TEXT_SOURCE_MIXED     /* some pages from the text layer, some OCRed */
} mm_text_source_t;

/* Pages whose OCR is recorded in mm_extract_info_t.ocr_page_map. */
#define MM_EXTRACT_OCR_PAGE_MAP 2048

/* What an extraction did, beside the text (mm_extract_text_info). */
typedef struct mm_extract_info_s {
        mm_extract_type_t type;
        mm_text_source_t text_source;
        int pages;               /* PDF pages; 0 for HTML and text */
        int ocr_pages;           /* pages whose text came from OCR */
        int ocr_failed_pages;    /* scanned pages OCR could not read (left empty) */
        double ocr_confidence;   /* mean OCR confidence (0-100) of the OCRed pages;
                                  -1 when no page was OCRed */
        double ocr_seconds;      /* CPU time spent in OCR */
        char ocr_page_list[128]; /* 1-based numbers of OCRed pages, "3,4,7";
                                    ends in "..." when cut */
        /* Added by OCR (issue 22): */
        int ocr_skipped_pages;      /* scanned pages left empty because
                                       extract-max-ocr-pages or ocr-seconds
                                       was reached, or OCR is unavailable */
        char ocr_failed_list[128];  /* as ocr_page_list, for ocr_failed_pages */
        char ocr_skipped_list[128]; /* as ocr_page_list, for ocr_skipped_pages */
        char ocr_note[160];         /* why pages were skipped ("" when none):
                                       the limit reached, or why OCR is
                                       unavailable (no Danish model) */
        unsigned char ocr_page_map[MM_EXTRACT_OCR_PAGE_MAP / 8]; /* bit i-1 of
                                       byte (i-1)/8 (low bit first): page i
                                       was OCRed; the whole list, for pages
                                       up to MM_EXTRACT_OCR_PAGE_MAP */
} mm_extract_info_t;

/* 1 when page `page` (1-based) was OCRed according to info->ocr_page_map
 * (`info` not NULL; 0 past MM_EXTRACT_OCR_PAGE_MAP). */
int mm_extract_info_ocr_page(const mm_extract_info_t *info, int page);

/* Returns a static name for `s`: "text", "ocr" or "mixed". */
const char *mm_extract_text_source_name(mm_text_source_t s);

/* As mm_extract_text, and fills `info` (may be NULL) in all cases (on
 * failure as far as known). */
int mm_extract_text_info(const char *buf, size_t len, const char *content_type,
                         mm_extract_info_t *info, char **out, size_t *out_len, char *code,
                         size_t code_size, char *errstr, size_t errstr_size);

#endif /* MM_EXTRACT_H */
