/*
 * mm_parser: turns one raw text document (municipal meeting minutes or an
 * agenda) into a document model, serialised as a jansson object.
 *
 * The JSON shape is the contract of `minutes-parse` (see README.md and
 * schemas/minutes-parse.schema.json):
 *
 *   { "document": { kind, municipality, municipality_source, committee,
 *                   meeting_date, start_time, end_time, location,
 *                   participants[], warnings[], confidence, length },
 *     "items": [ { number, order, title, case_number, case_number_kind,
 *                  kle {code, main_group, main_group_name} | null,
 *                  closed, outcome, outcome_parts[], decision,
 *                  absent[], attachments[],
 *                  sections[ {heading, kind, text, offset, history} ],
 *                  amounts[ {value, text, sentence} ],
 *                  laws[ {text, law, paragraph} ],
 *                  offset, length } ] }
 *
 * Offsets are byte offsets into the decoded UTF-8 source text.
 */
#ifndef MM_PARSER_H
#define MM_PARSER_H

#include <jansson.h>
#include <stddef.h>

typedef struct mm_parser_s mm_parser_t;

/* Default cap on the input size: larger inputs are rejected as too_large. */
#define MM_PARSER_DEFAULT_MAX_BYTES (16u * 1024u * 1024u)

/* Why a document was rejected. `code` is stable and machine-readable:
 *   "empty"       no bytes, or only white space
 *   "too_large"   over the configured size limit
 *   "binary"      NUL or control bytes: not a text document
 *   "not_minutes" text, but no meeting header and no agenda items
 *   "no_items"    a meeting header, but no agenda item: never stored as an
 *                 empty meeting
 * `reason` is a human-readable sentence. */
typedef struct mm_parse_error_s {
        char code[32];
        char reason[256];
} mm_parse_error_t;

/* Creates a parser. `max_bytes` of 0 means MM_PARSER_DEFAULT_MAX_BYTES.
 * Returns NULL and fills errstr if the built-in data tables fail to load.
 * A parser is immutable after creation and may be shared by threads. */
mm_parser_t *mm_parser_new(size_t max_bytes, char *errstr, size_t errstr_size);

/* Destroys a parser. `p` may be NULL. */
void mm_parser_destroy(mm_parser_t *p);

/* Parses `len` bytes at `buf` (need not be NUL-terminated; UTF-8 or
 * Windows-1252). Returns a new reference that the caller must json_decref,
 * or NULL with `err` filled when the input is not minutes/an agenda.
 * `err` must not be NULL. */
json_t *mm_parser_parse(const mm_parser_t *p, const char *buf, size_t len, mm_parse_error_t *err);

/* What one parse cost, for benchmarks and for tests of linear growth. */
typedef struct mm_parse_stats_s {
        unsigned long long work; /* elementary steps: lines visited by each pass,
                                    candidates, sequence steps, comparisons */
        size_t lines;            /* lines of the normalised text */
        size_t candidates;       /* candidate item headings */
} mm_parse_stats_t;

/* mm_parser_parse, also filling *stats (which must not be NULL) with the
 * cost of the parse, whether it succeeded or not. */
json_t *mm_parser_parse_stats(const mm_parser_t *p, const char *buf, size_t len,
                              mm_parse_error_t *err, mm_parse_stats_t *stats);

/* Kind of the section heading heading[0..len) ("decision", "case", ...)
 * from data/sections.tsv, as the parser matches headings in text (trailing
 * ":" "," "." ignored, case-insensitive), or NULL when it is no known
 * heading. The string is owned by the parser. `p` and `heading` may be
 * NULL (then NULL is returned). Used by the source adapters. */
const char *mm_parser_section_kind(const mm_parser_t *p, const char *heading, size_t len);

#endif /* MM_PARSER_H */
