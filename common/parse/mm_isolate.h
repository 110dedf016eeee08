/*
 * mm_isolate: mm_source_parse under the sandbox's limits (mm_sandbox).
 *
 * The export adapters (FirstAgenda JSON, eDoc XML, SBSYS XML) read
 * untrusted bytes just as extraction does, so they run under the same CPU
 * and memory limits: in a forked sandbox child, which parses the export and
 * passes the model back as JSON (with the text and the adapter's name). An
 * export that burns CPU or memory past the limits ends as the document's
 * extract_limit, one that crashes the child as extract_crash; the caller
 * lives on. Text, HTML and PDF are parsed in the caller (their extraction
 * is sandboxed inside mm_extract; the text parser is linear and bounded),
 * unless MM_ISOLATE_ALL asks for every step in the child (the worker's test
 * of an input suspected of crashing it, see mm_attempts.h).
 *
 * The limits are mm_extract's (extract-cpu-seconds, extract-max-memory);
 * with extract-sandbox off nothing is isolated.
 */
#ifndef MM_ISOLATE_H
#define MM_ISOLATE_H

#include <stddef.h>

#include "mm_source.h"

typedef enum mm_isolate_mode_e {
        MM_ISOLATE_EXPORTS = 0, /* export adapters in the child, the rest here */
        MM_ISOLATE_ALL = 1,     /* every adapter and the parser in the child */
} mm_isolate_mode_t;

/* Like mm_source_parse (same contract for `res` and `err`), with the
 * adapter run in a sandbox child as `mode` says. On top of mm_source_parse's
 * codes, a child that reached a limit gives "extract_limit", one that
 * crashed "extract_crash" (both stage "extract": the document's fault), and
 * a run that could not finish for a reason outside the document
 * "extract_transient" (stage "extract": try again later, never a dead
 * letter). `p` is borrowed. */
int mm_isolate_parse(const mm_parser_t *p, const char *buf, size_t len, const char *content_type,
                     mm_isolate_mode_t mode, mm_source_result_t *res, mm_parse_error_t *err);

/* 1 if `code` (an mm_parse_error_t code) is extract_transient. */
int mm_isolate_transient(const char *code);

#endif /* MM_ISOLATE_H */
