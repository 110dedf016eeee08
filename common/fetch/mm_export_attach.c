/*
 * mm_export_attach: see mm_export_attach.h.
 */
#include "mm_export_attach.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

typedef struct entry_s {
        char *id, *name, *link, *item;
        char *file; /* as found in the folder, NULL when absent */
        long long size;
        char *kommune, *doc_id, *ce_time;
} entry_t;

struct mm_export_atts_s {
        entry_t *v;
        size_t n, cap;
};

mm_export_atts_t *mm_export_atts_new(void) {
        return calloc(1, sizeof(mm_export_atts_t));
}

static void entry_free(entry_t *e) {
        free(e->id);
        free(e->name);
        free(e->link);
        free(e->item);
        free(e->file);
        free(e->kommune);
        free(e->doc_id);
        free(e->ce_time);
}

void mm_export_atts_destroy(mm_export_atts_t *x) {
        if (!x)
                return;
        for (size_t i = 0; i < x->n; i++)
                entry_free(&x->v[i]);
        free(x->v);
        free(x);
}

size_t mm_export_atts_count(const mm_export_atts_t *x) {
        return x->n;
}

/* The file `link` names below `dir`, as it is in the folder (its name
 * matched without case), with its size; malloc'd, or NULL when absent. */
static char *find_file(const char *dir, const char *link, long long *size) {
        char *full = NULL, *out = NULL;
        struct stat st;
        while (*link == '\\' || *link == '/')
                link++;
        if (asprintf(&full, "%s/%s", dir, link) < 0)
                return NULL;
        for (char *c = full; *c; c++)
                if (*c == '\\')
                        *c = '/';
        char *slash = strrchr(full, '/');
        if (stat(full, &st) == 0) {
                out = S_ISREG(st.st_mode) ? full : NULL;
        } else {
                *slash = '\0';
                DIR *d = opendir(full);
                struct dirent *de;
                while (d && !out && (de = readdir(d)))
                        if (!strcasecmp(de->d_name, slash + 1) &&
                            asprintf(&out, "%s/%s", full, de->d_name) < 0)
                                out = NULL;
                if (d)
                        closedir(d);
                if (out && (stat(out, &st) != 0 || !S_ISREG(st.st_mode))) {
                        free(out);
                        out = NULL;
                }
        }
        if (out != full)
                free(full);
        *size = out ? (long long)st.st_size : -1;
        return out;
}

static char *dup_or_null(const char *v) {
        return v ? strdup(v) : NULL;
}

/* Notes attachment_files entry f of item it. -1 when out of memory. */
static int add_one(mm_export_atts_t *x, json_t *it, json_t *f, const char *dir) {
        const char *id = json_string_value(json_object_get(f, "id"));
        const char *link = json_string_value(json_object_get(f, "link"));
        if (!id || !*id || !link || !*link || strstr(link, "://"))
                return 0;
        if (x->n == x->cap) {
                size_t nc = x->cap ? x->cap * 2 : 32;
                entry_t *nv = realloc(x->v, nc * sizeof(*nv));
                if (!nv)
                        return -1;
                x->v = nv;
                x->cap = nc;
        }
        entry_t *e = &x->v[x->n++];
        memset(e, 0, sizeof(*e));
        char num[32] = "";
        json_t *n = json_object_get(it, "number");
        if (json_is_integer(n))
                snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(n));
        e->id = strdup(id);
        e->name = strdup(json_string_value(json_object_get(f, "name"))
                                 ? json_string_value(json_object_get(f, "name"))
                                 : "");
        e->link = strdup(link);
        e->item = num[0] ? strdup(num) : NULL;
        e->file = find_file(dir, link, &e->size);
        return e->id && e->name && e->link ? 1 : -1;
}

int mm_export_atts_add(mm_export_atts_t *x, json_t *doc, const char *dir) {
        size_t i, k;
        json_t *it, *f;
        int added = 0;
        json_array_foreach(json_object_get(doc, "items"), i, it) {
                json_array_foreach(json_object_get(it, "attachment_files"), k, f) {
                        int r = add_one(x, it, f, dir);
                        if (r < 0)
                                return -1;
                        added += r;
                }
        }
        return added;
}

void mm_export_atts_set_origin(mm_export_atts_t *x, size_t from, const char *kommune,
                               const char *doc_id, const char *ce_time) {
        for (size_t i = from; i < x->n; i++) {
                entry_t *e = &x->v[i];
                free(e->kommune);
                free(e->doc_id);
                free(e->ce_time);
                e->kommune = dup_or_null(kommune);
                e->doc_id = dup_or_null(doc_id);
                e->ce_time = dup_or_null(ce_time);
        }
}

int mm_export_atts_pick(const mm_export_atts_t *x, size_t i, size_t max_bytes,
                        mm_export_att_t *out) {
        const entry_t *first = &x->v[i], *e = NULL;
        for (size_t k = 0; k < i; k++)
                if (!strcmp(x->v[k].id, first->id))
                        return 0;
        for (size_t k = i; k < x->n && !e; k++)
                if (!strcmp(x->v[k].id, first->id) && x->v[k].file)
                        e = &x->v[k];
        if (!e)
                e = first;
        memset(out, 0, sizeof(*out));
        out->id = e->id;
        out->name = e->name;
        out->link = e->link;
        out->item = e->item;
        out->kommune = e->kommune;
        out->doc_id = e->doc_id;
        out->ce_time = e->ce_time;
        out->size = e->size;
        if (!e->file)
                out->skipped = "not_in_export";
        else if ((unsigned long long)e->size > (unsigned long long)max_bytes)
                out->skipped = "too_large";
        else
                out->file = e->file;
        return 1;
}
