/*
 * mm_text: decodes a raw document and normalises it into lines.
 *
 * Decoding: UTF-8 is validated; input that is not UTF-8 is read as
 * Windows-1252 (and the fact is reported). A BOM is dropped.
 * Normalisation, per line: inline HTML is stripped (block tags such as <p>
 * and <br> become line breaks, entities are decoded), markdown markup is
 * removed (#-headings, ** and __, [text](link), list bullets) while its
 * meaning is kept in the line's flags, web noise matching the caller's
 * patterns is cut, a space standing before a combining mark (a PDF
 * extraction artefact) is dropped, the text is put in NFC, and runs of
 * white space are folded. Each line keeps the byte offset of its start in
 * the decoded source.
 */
#ifndef MM_TEXT_H
#define MM_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "mm_cues.h"
#include "mm_rx.h"

typedef struct mm_text_s mm_text_t;

/* One normalised line (16 bytes, its source offset included: there is one
 * per line of the input). `s`
 * is NUL-terminated and owned by the mm_text_t. The line's offset in the
 * decoded source is mm_text_src_off(). */
typedef struct mm_line_s {
        const char *s;
        uint32_t len;
        unsigned heading : 3;   /* markdown heading level 1-6, or 0 */
        unsigned bold : 1;      /* the whole line was bold (** or <b>) */
        unsigned bullet : 1;    /* the line started with a list bullet */
        unsigned blank : 1;     /* nothing left after normalisation */
        unsigned cut : 1;       /* noise was cut from the end of the line */
        unsigned src_step : 25; /* internal: see mm_text_src_off() */
} mm_line_t;

/* Longest line kept (32 MiB - 1, also the longest source line): a longer
 * one makes mm_text_new fail. */
#define MM_TEXT_MAX_LINE ((1u << 25) - 1u)

/* Decodes and normalises `len` bytes at `buf`. `noise` is an array of
 * `nnoise` patterns: a match of noise[i] is cut from the line, or, when
 * drop_line[i] is non-zero, the whole line is emptied. Both arrays may be
 * NULL when nnoise is 0, and so may `m`, the match state for them.
 * Returns NULL and fills errstr only when memory runs out. */
mm_text_t *mm_text_new(const char *buf, size_t len, mm_rx_t *const *noise, const int *drop_line,
                       size_t nnoise, mm_rx_match_t *m, char *errstr, size_t errstr_size);

/* As mm_text_new, but when `buf` is valid UTF-8 the text reads it in place
 * instead of copying it: `buf` must outlive the mm_text_t. need[i] are the
 * cue words (mm_cues, of `cues`) of noise[i]: it is tried only on a line
 * that holds one of them (0: on every line). `need` and `cues` may be
 * NULL: every pattern is tried on every line. */
mm_text_t *mm_text_new_borrowed(const char *buf, size_t len, mm_rx_t *const *noise,
                                const int *drop_line, const uint64_t *need, size_t nnoise,
                                const mm_cues_t *cues, mm_rx_match_t *m, char *errstr,
                                size_t errstr_size);

/* Frees the text. `t` may be NULL. */
void mm_text_destroy(mm_text_t *t);

/* Number of lines. */
size_t mm_text_nlines(const mm_text_t *t);

/* Line `i` (0-based), owned by `t`. */
const mm_line_t *mm_text_line(const mm_text_t *t, size_t i);

/* Byte offset of line `i` in the decoded source (the source length for
 * i >= the number of lines). */
size_t mm_text_src_off(const mm_text_t *t, size_t i);

/* The decoded UTF-8 source and its length, owned by `t` (or the caller's
 * buffer, for mm_text_new_borrowed). Not NUL-terminated when borrowed. */
const char *mm_text_source(const mm_text_t *t, size_t *len);

/* 1 when the input was not valid UTF-8 and was read as Windows-1252. */
int mm_text_was_cp1252(const mm_text_t *t);

/* Number of space-before-combining-mark artefacts that were repaired. */
size_t mm_text_repairs(const mm_text_t *t);

/* Validates UTF-8. Returns 1 when `len` bytes at `s` are valid UTF-8. */
int mm_text_utf8_valid(const char *s, size_t len);

#endif /* MM_TEXT_H */
