/*
 * mm_firstagenda_listing: see mm_firstagenda_listing.h.
 */
#include "mm_firstagenda_listing.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct mm_firstagenda_listing_s {
        json_t *root; /* owns every string of the entries */
        mm_firstagenda_entry_t *e;
        size_t n, cap;
};

/* Reads `n` digits at *p into *out and moves *p past them. */
static int digits(const char **p, int n, int *out) {
        int v = 0;
        for (int i = 0; i < n; i++) {
                if (!isdigit((unsigned char)(*p)[i]))
                        return -1;
                v = v * 10 + ((*p)[i] - '0');
        }
        *p += n;
        *out = v;
        return 0;
}

/* The offset part at p ("Z", "+01:00", "-0500", "") in seconds east of
 * UTC into *off. */
static int parse_offset(const char *p, long *off) {
        int hh, mm;
        *off = 0;
        if (*p == '\0' || ((*p == 'Z' || *p == 'z') && p[1] == '\0'))
                return 0;
        if (*p != '+' && *p != '-')
                return -1;
        int sign = *p == '-' ? -1 : 1;
        p++;
        if (digits(&p, 2, &hh) != 0)
                return -1;
        if (*p == ':')
                p++;
        if (digits(&p, 2, &mm) != 0 || *p != '\0' || hh > 23 || mm > 59)
                return -1;
        *off = sign * (hh * 3600L + mm * 60L);
        return 0;
}

int mm_firstagenda_parse_time(const char *v, double *out) {
        struct tm tm;
        int y, mo, d, h, mi, s = 0;
        double frac = 0;
        long off;
        const char *p = v;
        if (!v || digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' ||
            digits(&p, 2, &d) || (*p != 'T' && *p != ' '))
                return -1;
        p++;
        if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi))
                return -1;
        if (*p == ':' && (p++, digits(&p, 2, &s) != 0))
                return -1;
        if (*p == '.') {
                double scale = 0.1;
                for (p++; isdigit((unsigned char)*p); p++, scale /= 10)
                        frac += (*p - '0') * scale;
        }
        if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60 ||
            parse_offset(p, &off) != 0)
                return -1;
        memset(&tm, 0, sizeof(tm));
        tm.tm_year = y - 1900;
        tm.tm_mon = mo - 1;
        tm.tm_mday = d;
        tm.tm_hour = h;
        tm.tm_min = mi;
        tm.tm_sec = s;
        *out = (double)timegm(&tm) - (double)off + frac;
        return 0;
}

void mm_firstagenda_listing_destroy(mm_firstagenda_listing_t *l) {
        if (!l)
                return;
        json_decref(l->root);
        free(l->e);
        free(l);
}

size_t mm_firstagenda_listing_count(const mm_firstagenda_listing_t *l) {
        return l->n;
}

const mm_firstagenda_entry_t *mm_firstagenda_listing_entry(const mm_firstagenda_listing_t *l,
                                                           size_t i) {
        return i < l->n ? &l->e[i] : NULL;
}

static const char *nonempty(json_t *o, const char *key) {
        const char *v = json_string_value(json_object_get(o, key));
        return v && *v ? v : NULL;
}

static int seen(const mm_firstagenda_listing_t *l, const char *id) {
        for (size_t i = 0; i < l->n; i++)
                if (!strcmp(l->e[i].id, id))
                        return 1;
        return 0;
}

/* Adds meeting `m` of committee `c`. */
static int add_meeting(mm_firstagenda_listing_t *l, json_t *c, json_t *m, char *err, size_t esz) {
        mm_firstagenda_entry_t e;
        double t;
        memset(&e, 0, sizeof(e));
        json_t *rel = json_object_get(m, "ReleasedDate"), *af = json_object_get(m, "Afsluttet");
        e.id = nonempty(m, "Id");
        e.navn = json_string_value(json_object_get(m, "Navn"));
        e.begin = nonempty(m, "MeetingBeginUtc");
        if (!e.begin)
                e.begin = nonempty(m, "Dato");
        e.committee_id = nonempty(c, "Id");
        e.committee = nonempty(c, "Navn");
        /* Id, Navn and a start are what a publication is; Afsluttet and
         * ReleasedDate may be missing (false, null), never of another type */
        if (!json_is_object(m) || !e.id || !e.navn || !e.begin || (af && !json_is_boolean(af)) ||
            (rel && !json_is_string(rel) && !json_is_null(rel))) {
                snprintf(err, esz,
                         "listing: a meeting of committee %s lacks Id, Navn or a start time, "
                         "or has an Afsluttet or ReleasedDate of another type",
                         e.committee_id);
                return -1;
        }
        if (mm_firstagenda_parse_time(e.begin, &t) != 0) {
                snprintf(err, esz, "listing: meeting %s: start \"%.40s\" is not a time", e.id,
                         e.begin);
                return -1;
        }
        time_t ts = (time_t)t;
        struct tm u;
        gmtime_r(&ts, &u);
        strftime(e.begin_utc, sizeof(e.begin_utc), "%Y-%m-%dT%H:%M:%SZ", &u);
        e.released = json_is_string(rel) ? json_string_value(rel) : "";
        if (*e.released && mm_firstagenda_parse_time(e.released, &e.released_epoch) != 0) {
                snprintf(err, esz, "listing: meeting %s: ReleasedDate \"%.40s\" is not a time",
                         e.id, e.released);
                return -1;
        }
        e.afsluttet = json_is_true(af);
        if (seen(l, e.id))
                return 0;
        if (l->n == l->cap) {
                size_t nc = l->cap ? l->cap * 2 : 64;
                mm_firstagenda_entry_t *ne = realloc(l->e, nc * sizeof(*ne));
                if (!ne) {
                        snprintf(err, esz, "out of memory");
                        return -1;
                }
                l->e = ne;
                l->cap = nc;
        }
        l->e[l->n++] = e;
        return 0;
}

/* Adds the meetings of one period's committee list. */
static int add_period(mm_firstagenda_listing_t *l, const char *period, json_t *list, char *err,
                      size_t esz) {
        size_t i, k;
        json_t *c, *m;
        if (!json_is_array(list)) {
                snprintf(err, esz, "listing: period \"%.80s\" is not a list of committees", period);
                return -1;
        }
        json_array_foreach(list, i, c) {
                json_t *moeder = json_object_get(c, "Moeder");
                if (!json_is_object(c) || !nonempty(c, "Id") || !json_is_array(moeder)) {
                        snprintf(err, esz,
                                 "listing: committee %zu of period \"%.80s\" lacks Id or Moeder", i,
                                 period);
                        return -1;
                }
                json_array_foreach(moeder, k, m) {
                        if (add_meeting(l, c, m, err, esz) != 0)
                                return -1;
                }
        }
        return 0;
}

static int by_release(const void *a, const void *b) {
        const mm_firstagenda_entry_t *x = a, *y = b;
        if (x->released_epoch != y->released_epoch)
                return x->released_epoch < y->released_epoch ? -1 : 1;
        return strcmp(x->id, y->id); /* a total order: the same listing, the same order */
}

mm_firstagenda_listing_t *mm_firstagenda_listing_parse(const char *buf, size_t len, char *errstr,
                                                       size_t errstr_size) {
        json_error_t je;
        const char *period;
        json_t *list;
        mm_firstagenda_listing_t *l = calloc(1, sizeof(*l));
        if (!l) {
                snprintf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        l->root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
        if (!l->root) {
                snprintf(errstr, errstr_size, "listing is not JSON (line %d: %s)", je.line,
                         je.text);
                goto fail;
        }
        json_t *udvalg = json_object_get(l->root, "Udvalg");
        if (!json_is_object(udvalg)) {
                snprintf(errstr, errstr_size, "listing has no \"Udvalg\" object");
                goto fail;
        }
        json_object_foreach(udvalg, period, list) {
                if (add_period(l, period, list, errstr, errstr_size) != 0)
                        goto fail;
        }
        if (l->n == 0) {
                snprintf(errstr, errstr_size, "listing names no meeting at all (refused)");
                goto fail;
        }
        qsort(l->e, l->n, sizeof(*l->e), by_release);
        return l;
fail:
        mm_firstagenda_listing_destroy(l);
        return NULL;
}
