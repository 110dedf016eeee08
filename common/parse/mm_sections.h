/*
 * mm_sections: the item body pass. Splits an item into sections, reads
 * its decision (outcome per numbered part), absences, attachments, amounts
 * and law references, and builds the item's JSON.
 */
#ifndef MM_SECTIONS_H
#define MM_SECTIONS_H

#include "mm_pass.h"

/* Appends the JSON of item it (number order) to items. Attachment lists go
 * to bilag_secs[*nbilag...] (new references owned by the caller) for
 * mm_sections_assign_attachments. */
void mm_sections_build_item(ctx_t *c, item_t *it, size_t order, json_t *items, json_t **bilag_secs,
                            size_t *nbilag);

/* Gives each attachment list to its item, dropping the document-wide list
 * that repeats the lists of other items. Does not take the references. */
void mm_sections_assign_attachments(json_t *items, json_t **secs, size_t *owner, size_t nsecs,
                                    json_t *warnings);

#endif /* MM_SECTIONS_H */
