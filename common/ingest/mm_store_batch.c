/*
 * mm_store_batch: a batch of documents, offsets and dead letters for
 * mm_store (see mm_store.h); only memory, no database.
 */
#include "mm_store.h"
#include "mm_store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

mm_store_batch_t *mm_store_batch_new(void) {
        mm_store_batch_t *b = calloc(1, sizeof(*b));
        if (!b)
                return NULL;
        b->docs = json_array();
        b->atts = json_array();
        if (!b->docs || !b->atts) {
                json_decref(b->docs);
                json_decref(b->atts);
                free(b);
                return NULL;
        }
        return b;
}

static void free_dl(batch_dl_t *d) {
        free(d->topic);
        free(d->stage);
        free(d->code);
        free(d->reason);
        free(d->delivery);
        for (int k = 0; k < MM_STORE_DL_META; k++)
                free(d->meta[k]);
}

void mm_store_batch_clear(mm_store_batch_t *b) {
        for (size_t i = 0; i < json_array_size(b->docs) && b->texts; i++) {
                free(b->texts[i]);
                b->texts[i] = NULL;
        }
        json_array_clear(b->docs);
        json_array_clear(b->atts);
        for (size_t i = 0; i < b->nparts; i++)
                free(b->parts[i].topic);
        b->nparts = 0;
        for (size_t i = 0; i < b->ndls; i++)
                free_dl(&b->dls[i]);
        b->ndls = 0;
        /* One huge batch must not hold memory after it passed. */
        if (b->capparts > 64) {
                free(b->parts);
                b->parts = NULL;
                b->capparts = 0;
        }
        if (b->capdls > 64) {
                free(b->dls);
                b->dls = NULL;
                b->capdls = 0;
        }
}

void mm_store_batch_destroy(mm_store_batch_t *b) {
        if (!b)
                return;
        mm_store_batch_clear(b);
        json_decref(b->docs);
        json_decref(b->atts);
        free(b->texts);
        free(b->parts);
        free(b->dls);
        free(b);
}

int mm_store_batch_add_doc(mm_store_batch_t *b, json_t *doc) {
        return mm_store_batch_add_doc_text(b, doc, NULL);
}

const char *mm_store_batch_doc_text(const mm_store_batch_t *b, size_t i) {
        return i < json_array_size(b->docs) ? b->texts[i] : NULL;
}

int mm_store_batch_add_doc_text(mm_store_batch_t *b, json_t *doc, char *text) {
        size_t n = json_array_size(b->docs);
        if (n == b->captexts) {
                size_t cap = b->captexts ? b->captexts * 2 : 64;
                char **nt = realloc(b->texts, cap * sizeof(*nt));
                if (!nt) {
                        json_decref(doc);
                        free(text);
                        return -1;
                }
                b->texts = nt;
                b->captexts = cap;
        }
        /* json_array_append_new takes the reference, also on failure. */
        if (json_array_append_new(b->docs, doc) != 0) {
                free(text);
                return -1;
        }
        b->texts[n] = text;
        return 0;
}

int mm_store_batch_add_offset(mm_store_batch_t *b, const char *topic, int32_t partition,
                              int64_t offset) {
        for (size_t i = 0; i < b->nparts; i++) {
                batch_part_t *p = &b->parts[i];
                if (p->partition == partition && !strcmp(p->topic, topic)) {
                        if (offset < p->first_offset)
                                p->first_offset = offset;
                        if (offset + 1 > p->next_offset)
                                p->next_offset = offset + 1;
                        return 0;
                }
        }
        if (b->nparts == b->capparts) {
                size_t cap = b->capparts ? b->capparts * 2 : 8;
                batch_part_t *np = realloc(b->parts, cap * sizeof(*np));
                if (!np)
                        return -1;
                b->parts = np;
                b->capparts = cap;
        }
        batch_part_t *p = &b->parts[b->nparts];
        p->topic = strdup(topic);
        if (!p->topic)
                return -1;
        p->partition = partition;
        p->first_offset = offset;
        p->next_offset = offset + 1;
        b->nparts++;
        return 0;
}

size_t mm_store_batch_doc_count(const mm_store_batch_t *b) {
        return json_array_size(b->docs);
}

size_t mm_store_batch_partition_count(const mm_store_batch_t *b) {
        return b->nparts;
}

void mm_store_batch_partition(const mm_store_batch_t *b, size_t i, const char **topic,
                              int32_t *partition, int64_t *first_offset, int64_t *next_offset) {
        const batch_part_t *p = &b->parts[i];
        *topic = p->topic;
        *partition = p->partition;
        *first_offset = p->first_offset;
        *next_offset = p->next_offset;
}

void mm_store_batch_drop_partition(mm_store_batch_t *b, const char *topic, int32_t partition) {
        for (size_t i = 0; i < b->nparts; i++) {
                if (b->parts[i].partition == partition && !strcmp(b->parts[i].topic, topic)) {
                        free(b->parts[i].topic);
                        b->parts[i] = b->parts[b->nparts - 1];
                        b->nparts--;
                        break;
                }
        }
        for (size_t i = json_array_size(b->docs); i-- > 0;) {
                json_t *d = json_array_get(b->docs, i);
                const char *t = json_string_value(json_object_get(d, "topic"));
                json_int_t p = json_integer_value(json_object_get(d, "partition"));
                if (t && !strcmp(t, topic) && p == partition) {
                        size_t n = json_array_size(b->docs);
                        free(b->texts[i]);
                        memmove(&b->texts[i], &b->texts[i + 1], (n - i - 1) * sizeof(char *));
                        b->texts[n - 1] = NULL;
                        json_array_remove(b->docs, i);
                }
        }
        for (size_t i = json_array_size(b->atts); i-- > 0;) {
                json_t *a = json_array_get(b->atts, i);
                const char *t = json_string_value(json_object_get(a, "topic"));
                if (t && !strcmp(t, topic) &&
                    json_integer_value(json_object_get(a, "partition")) == partition)
                        json_array_remove(b->atts, i);
        }
        size_t j = 0;
        for (size_t i = 0; i < b->ndls; i++) {
                if (b->dls[i].partition == partition && !strcmp(b->dls[i].topic, topic))
                        free_dl(&b->dls[i]);
                else
                        b->dls[j++] = b->dls[i];
        }
        b->ndls = j;
}

int mm_store_batch_add_dead_letter(mm_store_batch_t *b, const mm_store_dead_letter_t *dl) {
        if (b->ndls == b->capdls) {
                size_t cap = b->capdls ? b->capdls * 2 : 8;
                batch_dl_t *n = realloc(b->dls, cap * sizeof(*n));
                if (!n)
                        return -1;
                b->dls = n;
                b->capdls = cap;
        }
        batch_dl_t *d = &b->dls[b->ndls];
        memset(d, 0, sizeof(*d));
        d->topic = strdup(dl->topic);
        d->stage = strdup(dl->stage);
        d->code = strdup(dl->code);
        d->reason = strdup(dl->reason);
        d->delivery = strdup(dl->delivery ? dl->delivery : "full");
        int oom = !d->topic || !d->stage || !d->code || !d->reason || !d->delivery;
        for (int k = 0; k < MM_STORE_DL_META; k++)
                if (dl->meta[k] && !(d->meta[k] = strdup(dl->meta[k])))
                        oom = 1;
        if (oom) {
                free_dl(d);
                return -1;
        }
        d->partition = dl->partition;
        d->offset = dl->offset;
        d->key = dl->key;
        d->key_len = dl->key ? dl->key_len : 0;
        d->payload = dl->payload;
        d->payload_len = dl->payload ? dl->payload_len : 0;
        d->byte_length = dl->byte_length;
        snprintf(d->sha256, sizeof(d->sha256), "%s", dl->sha256);
        b->ndls++;
        return 0;
}

size_t mm_store_batch_dead_letter_count(const mm_store_batch_t *b) {
        return b->ndls;
}

int mm_store_batch_set_delivery(mm_store_batch_t *b, const char *topic, int32_t partition,
                                int64_t offset, const char *delivery) {
        for (size_t i = 0; i < b->ndls; i++) {
                batch_dl_t *d = &b->dls[i];
                if (d->partition == partition && d->offset == offset && !strcmp(d->topic, topic)) {
                        char *v = strdup(delivery);
                        if (!v)
                                return -1;
                        free(d->delivery);
                        d->delivery = v;
                        return 0;
                }
        }
        return -1;
}

json_t *mm_store_batch_doc(const mm_store_batch_t *b, size_t i) {
        return json_array_get(b->docs, i);
}

int mm_store_batch_add_attachment(mm_store_batch_t *b, json_t *att) {
        /* json_array_append_new takes the reference, also on failure. */
        return json_array_append_new(b->atts, att);
}

size_t mm_store_batch_attachment_count(const mm_store_batch_t *b) {
        return json_array_size(b->atts);
}

json_t *mm_store_batch_attachment(const mm_store_batch_t *b, size_t i) {
        return json_array_get(b->atts, i);
}
