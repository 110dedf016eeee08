/*
 * mm_export_attach: the attachment files of document-system exports in a
 * folder (bulk import by minutes-submit: an eDoc publication folder holds
 * its Attachments/ *.PDF files). The attachments an export's parse result names
 * (items[].attachment_files[] with a link relative to the export) are
 * noted with the export they came from; then each attachment id is given
 * once, with the file to send or the reason it cannot be sent (not in the
 * folder, over the cap). When several exports name an id (an agenda
 * published twice), the first whose folder holds the file wins.
 *
 * Links are eDoc's ("\Attachments\x.pdf"): "\" or "/" separated, and the
 * file's name is matched without regard to case (eDoc links "x.pdf" and
 * writes "x.PDF"). A link with "://" is not a file of the export, nor is
 * an attachment without a link (FirstAgenda's JSON names Bilag by Id):
 * those are not noted.
 */
#ifndef MM_EXPORT_ATTACH_H
#define MM_EXPORT_ATTACH_H

#include <jansson.h>
#include <stddef.h>

typedef struct mm_export_atts_s mm_export_atts_t;

/* An empty list; NULL when out of memory. */
mm_export_atts_t *mm_export_atts_new(void);

/* Frees the list; NULL is allowed. */
void mm_export_atts_destroy(mm_export_atts_t *x);

/* Notes the attachments of the parse result `doc` (the minutes-parse
 * JSON: items[].number, items[].attachment_files[] {id, name, link}) of an
 * export whose folder is `dir` (absolute, or relative to the working
 * directory). Returns how many were noted, or -1 when out of memory. */
int mm_export_atts_add(mm_export_atts_t *x, json_t *doc, const char *dir);

/* Number noted so far (attachments noted twice count twice). */
size_t mm_export_atts_count(const mm_export_atts_t *x);

/* Sets the export of the attachments noted from index `from` on: its
 * kommune (the message key's), document id and event time (copied). */
void mm_export_atts_set_origin(mm_export_atts_t *x, size_t from, const char *kommune,
                               const char *doc_id, const char *ce_time);

/* One attachment to send. Strings are borrowed from the list. */
typedef struct mm_export_att_s {
        const char *id, *name, *link;
        const char *item;                       /* the item's number, or NULL */
        const char *file;                       /* the file to send, NULL when skipped */
        const char *kommune, *doc_id, *ce_time; /* of the export that gives it */
        long long size;                         /* the file's size; -1 when not in the folder */
        const char *skipped;                    /* NULL, "not_in_export" or "too_large" */
} mm_export_att_t;

/* The attachment of noted entry i, when i is the first entry of its id
 * (returns 1 and fills *out); 0 when an earlier entry had the id (it was
 * given then). A file over max_bytes is skipped as "too_large" with its
 * size. */
int mm_export_atts_pick(const mm_export_atts_t *x, size_t i, size_t max_bytes,
                        mm_export_att_t *out);

#endif /* MM_EXPORT_ATTACH_H */
