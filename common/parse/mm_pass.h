/*
 * mm_pass: the state that the parse passes share (internal to the parser).
 *
 * mm_parser runs small passes over one document, each in its own module:
 *   mm_text      decode and normalise into lines
 *   mm_lines     what each line is (section heading, journal number, TOC
 *                entry, item candidate) and which lines are page furniture
 *   mm_sequence  candidate item headings with their evidence, and the most
 *                consistent sequence of them (dynamic programming)
 *   mm_header    the meeting header (date, time, place, committee, members)
 *   mm_sections  each item's sections, decision, absences and attachments
 * This header holds the parser's compiled tables (struct mm_parser_s), the
 * per-parse context (ctx_t) and small string helpers.
 */
#ifndef MM_PASS_H
#define MM_PASS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "mm_buf.h"
#include "mm_classify.h"
#include "mm_parser.h"
#include "mm_cues.h"
#include "mm_rx.h"
#include "mm_table.h"
#include "mm_text.h"

#define MM_MAX_BILAG 512

enum field {
        F_DATE,
        F_TIME,
        F_LOCATION,
        F_PARTICIPANTS,
        F_ABSENT,
        F_COMMITTEE,
        F_REMARKS,
        F_END_TIME,
        F_NONE
};

typedef struct secdef_s {
        char *fold;
        size_t len;
        const char *kind;
        int opens; /* may be the first heading of an item */
} secdef_t;

typedef struct labeldef_s {
        char *fold;
        size_t len;
        int field;
} labeldef_t;

/* A list of compiled patterns from one column of a table. */
typedef struct rxlist_s {
        mm_rx_t **rx;
        const char **tag; /* first column when the table has two */
        size_t n;
        uint64_t *need;  /* cue words per pattern (mm_cues), or NULL */
        mm_cues_t *cues; /* NULL when the table names none */
} rxlist_t;

struct mm_parser_s {
        size_t max_bytes;
        mm_classify_t *cls;
        mm_table_t *t_sections, *t_history, *t_absence, *t_labels, *t_noise, *t_closed, *t_case,
                *t_case_labels, *t_committees, *t_places;
        secdef_t *secs;
        size_t nsecs;
        unsigned char sec_len_ok[128]; /* a heading of this byte length exists */
        labeldef_t *labels;
        size_t nlabels;
        char **case_labels;
        unsigned char *case_label_doc; /* label of a document number, not a case */
        size_t ncase_labels;
        unsigned char case_label_first[256]; /* first bytes of the folded labels */
        rxlist_t history, absence, closed, caseno, committees, places;
        mm_rx_t *noise[4]; /* noise.tsv, grouped by scope and anchoring */
        int noise_drop[4];
        uint64_t noise_need[4]; /* their cue words (0: tried on every line) */
        mm_cues_t *noise_cues;  /* exact: the noise patterns match with case */
        size_t nnoise;
        int *closed_scope; /* 0 title, 1 region, 2 region_end, 3 mark_open,
                              4 mark_closed */
        int decision_sec;  /* index of the "Beslutning" heading */
        mm_rx_t *item_num, *item_punkt, *header_absence;
        mm_table_t *t_reflow;
        mm_rx_t *reflow[5]; /* mm_reflow: before, after, around, erase, labels */
};

/* ------------------------------------------------------------------ */
/* Per-parse state                                                      */

/* What one line is. Most lines are plain text, for which every field is
 * zero: ctx_t keeps these records in pages that exist only where a line is
 * something else, so that inputs of millions of short lines stay within a
 * few times their size in memory. Offsets within a line are narrow: the
 * lines they apply to (headings, journal numbers, item headings) are
 * short. */
typedef struct linfo_s {
        int16_t sec1;            /* index into secs plus one, or 0 (see SEC()) */
        uint16_t inl;            /* "Heading: text": offset of text, else 0 */
        uint8_t cb, ce;          /* journal number: its span in the line */
        uint8_t tb;              /* candidate: title offset in the line */
        uint8_t ckind;           /* journal number: index of its form */
        int16_t num;             /* candidate: item number */
        uint16_t hy;             /* year named in a history heading, or 0 */
        uint8_t hm, hd;          /* month and day of that date */
        uint8_t cand;            /* item candidate: 1 "N. Title", 2 "N" alone, 3 "Punkt N" */
        unsigned hist : 1;       /* a heading quoting an earlier meeting */
        unsigned unknown : 1;    /* a marked-up heading we do not know */
        unsigned is_case : 1;    /* the line is a journal number */
        unsigned toc : 1;        /* a table-of-contents entry */
        unsigned consumed : 1;   /* belongs to no item's text (page furniture,
                                    a journal number taken by an item) */
        unsigned case_label : 1; /* "Sagsnr.:" alone: the value comes later */
        unsigned doc_no : 1;     /* "Dok.nr.: ...": a document number */
        unsigned mark : 2;       /* a state line: 1 "Åben sag", 2 "LUKKET SAG" */
} linfo_t;

/* Lines per page of line records. */
#define MM_LI_PAGE 512

typedef struct item_s {
        size_t head, title_end, start, end;
        int number;
        char *title;
        char case_no[96];
        const char *case_kind;
        int closed;
        unsigned ev; /* evidence of the heading (MM_EV_* of mm_candidates) */
} item_t;

typedef struct ctx_s {
        const mm_parser_t *p;
        mm_text_t *text;
        const mm_line_t *L;
        size_t n;
        linfo_t **lip; /* pages of MM_LI_PAGE line records, NULL while all zero */
        item_t *items;
        size_t nitems;
        mm_rx_match_t *m;
        json_t *warnings;
        json_t *participants;
        /* meeting-level absences: name and the item numbers they apply to */
        struct habs {
                char *name;
                int mode; /* 0 all, 1 only listed (attended), 2 up to n,
                             3 from n, 4 absent from listed */
                int nums[64];
                int nnums;
        } habs[16];
        int nhabs;
        int referat;             /* the header calls the document minutes ("Referat") */
        int minutes_word;        /* a header line names minutes as a word ("Referat",
                                    "Beslutningsprotokol"), not beside "Dagsorden" */
        unsigned long long work; /* elementary steps (mm_parse_stats_t) */
        int oom;                 /* memory ran out in a pass */
        linfo_t scratch;         /* where LIW writes when memory ran out */
        size_t ncand;            /* candidate item headings */
        char *reflowed;          /* a run-on transcript broken into lines (mm_reflow) */
} ctx_t;

/* Counts n elementary steps of a pass (mm_parse_stats_t.work): the
 * counter is bookkeeping, not the parse's state, so const passes count. */
static inline void WORK(const ctx_t *c, unsigned long long n) {
        ((ctx_t *)c)->work += n;
}

/* Section index of a line record, or -1. */
static inline int SEC(const linfo_t *li) {
        return li->sec1 - 1;
}

/* Line i's record, for reading (a shared zero record for plain text). */
static inline const linfo_t *LI(const ctx_t *c, size_t i) {
        static const linfo_t zero;
        const linfo_t *pg = c->lip[i / MM_LI_PAGE];
        return pg ? &pg[i % MM_LI_PAGE] : &zero;
}

/* Line i's record, for writing: its page is made when needed. When memory
 * runs out the write goes to a scratch record and c->oom is set. */
linfo_t *mm_pass_li_write(ctx_t *c, size_t i);
#define LIW(c, i) mm_pass_li_write((c), (i))

static inline const mm_line_t *LN(const ctx_t *c, size_t i) {
        return &c->L[i];
}

/* Lower-cases ASCII and the Latin-1 capitals (Æ Ø Å É ...) of s[0..n) into
 * out (NUL-terminated, at most cap-1 bytes). Returns the length; folding
 * keeps byte lengths. */
size_t mm_pass_fold(const char *s, size_t n, char *out, size_t cap);

/* A malloc'ed NUL-terminated copy of s[0..n), or NULL. */
char *mm_pass_strndup(const char *s, size_t n);

/* 1 for the punctuation and blanks that may trail a heading. */
int mm_pass_trail_punct(char c);

/* The number spelled by the digits at the start of s[0..n) (0 when none),
 * or cap + 1 when it is larger than `cap`: unlike atoi, a long run of
 * digits cannot overflow. */
long mm_pass_number(const char *s, size_t n, long cap);

/* New JSON strings "YYYY-MM-DD" and "HH:MM". */
json_t *mm_pass_fmt_date(int y, int m, int d);
json_t *mm_pass_fmt_time(int h, int mi);

#endif /* MM_PASS_H */
