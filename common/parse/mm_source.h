/*
 * mm_source: the seam between raw published documents and the document
 * model (the JSON contract of `minutes-parse`, see mm_parser.h).
 *
 * A source adapter turns one kind of input into the model. The adapters
 * live in one table (mm_source.c): each row has a name, the content types
 * it answers to, a sniff function that recognises its bytes and a parse
 * function. Text, HTML and PDF go through mm_extract and mm_parser; the
 * export adapters (FirstAgenda JSON, eDoc agenda XML, SBSYS eDagsorden
 * XML) map the system's own fields to the model with mm_source_build_*
 * below. A new document system is one mm_source_<system>.c file and one
 * row in the table; the worker, minutes-parse and minutes-submit call
 * mm_source_parse and know no adapter by name.
 *
 * Choice of adapter (mm_source_detect):
 *   1. a Content-Type named by an export adapter (parameters ignored)
 *      picks it;
 *   2. otherwise every export adapter sniffs the bytes, the first that
 *      claims them wins (even over text/plain: the sniffers are exact);
 *   3. otherwise a Content-Type named by the text, HTML or PDF adapter;
 *   4. otherwise bytes that are JSON, or XML that is not HTML, or a
 *      Content-Type of JSON/XML, are an unknown export: export_invalid;
 *   5. otherwise mm_extract_detect picks text, HTML or PDF.
 *
 * Exports carry their identity in the model, document.source:
 *   { system, meeting_id, publication_id, published_at[, supplement] }
 * (published_at may be null: then the arrival order decides; supplement:
 * true for a supplementary agenda, which adds its items to the meeting and
 * replaces nothing; see schemas/008_one_write_path.sql). The stored meeting
 * is the kommune's: an export whose municipality neither it nor the
 * envelope names is refused (mm_source_check_identity).
 */
#ifndef MM_SOURCE_H
#define MM_SOURCE_H

#include <jansson.h>
#include <libxml/tree.h>
#include <stddef.h>

#include "mm_extract.h"
#include "mm_parser.h"

/* Content types of the export adapters. */
#define MM_SOURCE_CT_FIRSTAGENDA "application/vnd.firstagenda+json"
#define MM_SOURCE_CT_EDOC        "application/vnd.edoc-agenda+xml"
#define MM_SOURCE_CT_SBSYS       "application/vnd.sbsys-agenda+xml"

/* Longest meeting id, publication id, case number and meeting key field
 * (municipality, committee) in bytes: an export with a longer one is
 * export_invalid (ids and keys are indexed; an index row has a size limit). */
#define MM_SOURCE_KEY_MAX 256

/* What mm_source_parse produced. */
typedef struct mm_source_result_s {
        json_t *doc;         /* the model; new reference, NULL on failure */
        char *text;          /* malloc'd text the model's offsets refer to */
        size_t text_len;     /* its length without the NUL */
        const char *adapter; /* static adapter name ("text", "firstagenda", ...) */
        const char *stage;   /* on failure: "extract" or "parse" (static) */
        /* Elementary steps of an export adapter (hash lookups, sort
         * comparisons, nodes and lines visited), for benchmarks and tests
         * of linear growth; 0 for text, HTML and PDF. */
        unsigned long long work;
        /* Text, HTML and PDF: what extraction did (pages, OCR pages, OCR
         * time and confidence; mm_extract_text_info), also when it failed;
         * zero for exports. The model's document.text_source,
         * ocr_confidence and ocr_pages come from it. */
        mm_extract_info_t extract;
} mm_source_result_t;

/* Most values (items, sections, names, attachments, their fields) in the
 * model of one export, and most bytes of its strings as a multiple of
 * max-doc-bytes: a larger model is refused (export_invalid). A value costs
 * about 100 bytes of memory; the largest real exports (600 KB) make some
 * 5,000 values and 360 KB of strings. */
#define MM_SOURCE_MAX_VALUES  500000u
#define MM_SOURCE_MODEL_BYTES 2u

/* Builder of a model from an export's fields (for adapters). */
typedef struct mm_source_build_s mm_source_build_t;

/* One row of the adapter table. */
typedef struct mm_source_adapter_s {
        const char *name;
        const char *const *content_types; /* NULL-terminated, lower case */
        /* 1 if the bytes are this adapter's format. Export adapters only;
         * NULL for text/HTML/PDF (mm_extract sniffs those). */
        int (*sniff)(const char *buf, size_t len);
        /* Fills `res` (doc, text) or returns -1 with `err` filled. */
        int (*parse)(const mm_parser_t *p, const char *buf, size_t len, const char *content_type,
                     mm_source_result_t *res, mm_parse_error_t *err);
} mm_source_adapter_t;

/* The adapter for these bytes and Content-Type (may be NULL), or NULL when
 * the input is JSON/XML of no known export. `buf` may be NULL if len is 0. */
const mm_source_adapter_t *mm_source_detect(const char *buf, size_t len, const char *content_type);

/* The adapter table (static) and its size (`n` may be NULL). */
const mm_source_adapter_t *const *mm_source_adapters(size_t *n);

/* Parses `len` bytes at `buf` with the adapter chosen by mm_source_detect.
 * On success returns 0 and fills `res` (free it with
 * mm_source_result_clear). On failure returns -1, `res->doc` is NULL,
 * `res->stage` says where it failed and `err` has a stable code
 * ("export_invalid", the mm_extract codes, the mm_parser codes) and a
 * reason. `p` is borrowed; thread-safe when `p` is. */
int mm_source_parse(const mm_parser_t *p, const char *buf, size_t len, const char *content_type,
                    mm_source_result_t *res, mm_parse_error_t *err);

/* Frees what `res` holds and zeroes it. `res` may be NULL. */
void mm_source_result_clear(mm_source_result_t *res);

/* ---- for adapters: building the model from fields ---- */

/* Fills `err` with code "export_invalid" and a reason. Returns -1. */
int mm_source_invalid(mm_parse_error_t *err, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/* Fills `err` with code "out_of_memory" and "out of memory <what>".
 * Returns -1. */
int mm_source_oom(mm_parse_error_t *err, const char *what);

/* A new builder; NULL on allocation failure. `p` is borrowed. */
mm_source_build_t *mm_source_build_new(const mm_parser_t *p);

/* Frees the builder. `b` may be NULL. */
void mm_source_build_destroy(mm_source_build_t *b);

/* Sets document.source.published_at of an export's model `doc` to `iso`
 * when the export stated none (the event's time, or --published-at).
 * `iso` may be NULL; a model without document.source is left alone. */
void mm_source_default_published_at(json_t *doc, const char *iso);

/* Helpers of the XML export adapters (eDoc, SBSYS), mm_source_xml.c.
 * Bounded (issue 19): see there. */

/* Reads an XML export without network access, within the extraction
 * limits (extract-max-html-nodes, extract-max-html-depth). NULL with `err`
 * filled (export_invalid naming `system`, or out_of_memory) when it is not
 * well-formed, goes past a limit, or has a DOCTYPE that declares entities
 * or other markup. The caller ends with mm_source_xml_done. */
xmlDocPtr mm_source_xml_read(const char *buf, size_t len, const char *system,
                             mm_parse_error_t *err);

/* Frees `doc` (may be NULL) and returns `rc`, or -1 with `err` filled when
 * a field read by mm_source_xml_text hit its cap or memory ran out. */
int mm_source_xml_done(xmlDocPtr doc, int rc, mm_parse_error_t *err);

/* First element child of `n` (may be NULL) with local name `name`, or NULL. */
xmlNode *mm_source_xml_child(xmlNode *n, const char *name);

/* Text of the child `name` of `n` (may be NULL): malloc'd, the caller
 * frees it; NULL when there is no such child, or when its text passes
 * max-doc-bytes or memory runs out (then the document remembers it and
 * mm_source_xml_done fails). Entity references are never expanded. */
char *mm_source_xml_text(xmlNode *n, const char *name);

/* Parses an HTML field within the extraction limits. Returns 0 with *out
 * the document (NULL for an empty field; xmlFreeDoc it), or -1 with `err`
 * filled when a limit is hit or memory runs out. */
int mm_source_html_read(const char *html, size_t len, xmlDocPtr *out, mm_parse_error_t *err);

/* Reads a Danish export's "DD-MM-YYYY[ HH:MM[:SS]]" into `date`
 * ("YYYY-MM-DD") and `hm` ("HH:MM", or "" without a valid time). Returns 0
 * (both "") when `v` is NULL or no date. */
int mm_source_dmy(const char *v, char date[11], char hm[6]);

/* Meeting fields. Strings are copied (white space collapsed, trimmed;
 * NULL or empty gives null). Dates are "YYYY-MM-DD", times "HH:MM". */
void mm_source_build_meeting(mm_source_build_t *b, const char *committee, const char *date,
                             const char *start, const char *end, const char *location);

/* A member present (absent == 0) or absent from the whole meeting. */
void mm_source_build_participant(mm_source_build_t *b, const char *name, int absent);

/* Source identity: system name, the system's meeting id, the id of this
 * publication (may be NULL) and its time (ISO 8601, may be NULL). */
void mm_source_build_source(mm_source_build_t *b, const char *system, const char *meeting_id,
                            const char *publication_id, const char *published_at);

/* Marks the publication a supplementary agenda (source.supplement =
 * true); call after mm_source_build_source. */
void mm_source_build_supplement(mm_source_build_t *b);

/* The municipality: "X Kommune" from a kommune name or a host name
 * ("dagsordener.greve.dk"); ignored when unknown or already set. */
void mm_source_build_municipality(mm_source_build_t *b, const char *name_or_host);

/* Starts the next item (the previous one is finished). `case_number` may
 * be NULL or empty. */
void mm_source_build_item(mm_source_build_t *b, long number, const char *title,
                          const char *case_number, int closed);

/* A section of the current item. `kind` NULL: looked up from the heading
 * (sections.tsv), else "other". A "decision" section that is not history
 * is this meeting's decision: outcome, absence, amounts and laws come from
 * it. `text` is plain text with "\n" between lines. */
void mm_source_build_section(mm_source_build_t *b, const char *heading, const char *kind,
                             int history, const char *text);

/* The sections of an item's HTML (FirstAgenda Felter[].Html): every <h3>
 * starts one; text before the first <h3> gets `first_heading` (may be
 * NULL). An element with class "sagsforloeb" is history. */
void mm_source_build_html_sections(mm_source_build_t *b, const char *html, size_t len,
                                   const char *first_heading);

/* Plain text of an HTML fragment (malloc'd, caller frees; "" for NULL),
 * or NULL when it failed (a limit, memory): the build has failed then. */
char *mm_source_html_text(mm_source_build_t *b, const char *html, size_t len);

/* An attachment of the current item: name (required), the system's id and
 * link (both may be NULL). */
void mm_source_build_attachment(mm_source_build_t *b, const char *name, const char *id,
                                const char *link);

/* A member absent from the current item (from an export field). */
void mm_source_build_item_absent(mm_source_build_t *b, const char *name);

/* Adds n elementary steps of an adapter to the build's work count. */
void mm_source_build_work(mm_source_build_t *b, unsigned long long n);

/* Fails the build for lack of memory (an adapter's own allocation). */
void mm_source_build_fail_oom(mm_source_build_t *b);

/* Finishes the model into `res` (doc and text; res->work in any case).
 * `kind` is "minutes", "agenda" or NULL (then: minutes when an item has a
 * decision). Returns -1 with `err` filled when any earlier call of the
 * builder hit a cap (export_invalid) or ran out of memory (out_of_memory):
 * a model is whole or not at all. */
int mm_source_build_finish(mm_source_build_t *b, const char *kind, mm_source_result_t *res,
                           mm_parse_error_t *err);

/* Checks the meeting identity of the model `doc` as it is stored, after
 * the envelope's municipality was set (the worker calls it):
 *   - an export (document.source set) must name its municipality, and its
 *     municipality must be at most MM_SOURCE_KEY_MAX bytes: else -1 with
 *     `err` export_invalid (never stored under an empty or unbounded key);
 *   - a document without a source keeps a municipality or committee only
 *     up to MM_SOURCE_KEY_MAX bytes: a longer one (a misread line) becomes
 *     null with a warning in document.warnings.
 * Returns 0 otherwise. `doc` may be changed. */
int mm_source_check_identity(json_t *doc, mm_parse_error_t *err);

/* Adapters defined in their own files. */
extern const mm_source_adapter_t mm_source_firstagenda;
extern const mm_source_adapter_t mm_source_edoc;
extern const mm_source_adapter_t mm_source_sbsys;

#endif /* MM_SOURCE_H */
