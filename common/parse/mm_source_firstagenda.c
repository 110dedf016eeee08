/*
 * FirstAgenda (Prepare) publishing API: one meeting as JSON.
 *
 *   { Id, Udvalg {Navn}, Moede {Dato, MeetingBeginUtc, MeetingEndUtc, Sted,
 *     ReleasedDate, Moededeltagere [{Name, Absent, ParticipationCancelled}]},
 *     Dagsordenpunkter [{Punktnummer, Navn, SagsNummer, IsOpen?,
 *       Bilag [{Navn, Order, Id}], Felter [{Html, Link}],
 *       ExternalAgendaItemAttendees [{Name, Reason}]}] }
 *
 * Field by field: Dato gives the date, MeetingBeginUtc (else Dato) the
 * start and MeetingEndUtc the end, as the local wall-clock time written in
 * the value ("2022-01-10T08:00:00+01:00" is 08:00). A closed item is
 * published with a title "Lukket: ...". The top-level Id names the
 * publication; the meeting is Udvalg.Id at MeetingBeginUtc (else Dato), so
 * an agenda, its supplement (IsSupplementaryAgenda, TillaegsDagsorden),
 * its minutes and a republication are one meeting. ReleasedDate, when set,
 * is the publication time.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "mm_firstagenda_listing.h"
#include "mm_source.h"

static const char *const ct_firstagenda[] = {MM_SOURCE_CT_FIRSTAGENDA, NULL};

static int has(const char *buf, size_t len, const char *needle) {
        return memmem(buf, len, needle, strlen(needle)) != NULL;
}

static int sniff(const char *buf, size_t len) {
        size_t i = 0;
        if (len >= 3 && !memcmp(buf, "\xef\xbb\xbf", 3))
                i = 3;
        while (i < len && isspace((unsigned char)buf[i]))
                i++;
        /* Any of the export's own keys: a truncated or incomplete export is
         * still recognised, and then rejected naming what is missing. */
        return i < len && buf[i] == '{' &&
               (has(buf, len, "\"Dagsordenpunkter\"") || has(buf, len, "\"Moede\"") ||
                has(buf, len, "\"Moededeltagere\""));
}

static const char *str(json_t *o, const char *key) {
        return json_string_value(json_object_get(o, key));
}

/* "2022-01-10T08:00:00+01:00": date and wall-clock HH:MM, or 0. */
static int split_iso(const char *v, char date[11], char hm[6]) {
        if (!v || strlen(v) < 10 || v[4] != '-' || v[7] != '-')
                return 0;
        memcpy(date, v, 10);
        date[10] = '\0';
        hm[0] = '\0';
        if ((v[10] == 'T' || v[10] == ' ') && strlen(v) >= 16 && v[13] == ':') {
                memcpy(hm, v + 11, 5);
                hm[5] = '\0';
        }
        return 1;
}

/* Leading digits of a Punktnummer ("12", "12a"), or -1. */
static long item_number(json_t *v) {
        if (json_is_integer(v))
                return (long)json_integer_value(v);
        const char *s = json_string_value(v);
        if (!s)
                return -1;
        while (isspace((unsigned char)*s))
                s++;
        if (!isdigit((unsigned char)*s))
                return -1;
        return strtol(s, NULL, 10);
}

static int is_closed_title(const char *t) {
        while (t && isspace((unsigned char)*t))
                t++;
        return t && !strncasecmp(t, "lukket", 6) && (t[6] == ':' || t[6] == ' ');
}

/* An attachment with its sort key, looked up once. */
typedef struct bkey_s {
        json_int_t order;
        size_t idx;
        json_t *v;
} bkey_t;

/* By Order, then as listed (a stable sort from qsort); counts the calls. */
static int cmp_order(const void *a, const void *b, void *calls) {
        const bkey_t *x = a, *y = b;
        ++*(unsigned long long *)calls;
        if (x->order != y->order)
                return x->order < y->order ? -1 : 1;
        return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* The item's Bilag in their published Order: O(n log n). */
static void item_attachments(mm_source_build_t *b, json_t *bilag) {
        size_t n = json_array_size(bilag);
        unsigned long long calls = 0;
        bkey_t *v = n ? malloc(n * sizeof(*v)) : NULL;
        if (!v) {
                if (n)
                        mm_source_build_fail_oom(b);
                return;
        }
        for (size_t i = 0; i < n; i++) {
                v[i].v = json_array_get(bilag, i);
                v[i].order = json_integer_value(json_object_get(v[i].v, "Order"));
                v[i].idx = i;
        }
        qsort_r(v, n, sizeof(*v), cmp_order, &calls);
        mm_source_build_work(b, calls + n);
        for (size_t i = 0; i < n; i++)
                mm_source_build_attachment(b, str(v[i].v, "Navn"), str(v[i].v, "Id"), NULL);
        free(v);
}

static int item(mm_source_build_t *b, json_t *it, size_t idx, mm_parse_error_t *err) {
        if (!json_is_object(it))
                return mm_source_invalid(err, "Dagsordenpunkter[%zu] is not an object", idx);
        /* Punktnummer, else its English twin Number, else the Sorting. */
        long num = item_number(json_object_get(it, "Punktnummer"));
        if (num < 0)
                num = item_number(json_object_get(it, "Number"));
        if (num < 0)
                num = item_number(json_object_get(it, "Sorting"));
        const char *title = str(it, "Navn") ? str(it, "Navn") : str(it, "Caption");
        if (num < 0)
                return mm_source_invalid(err,
                                         "Dagsordenpunkter[%zu].Punktnummer is missing or "
                                         "not a number",
                                         idx);
        if (!title)
                return mm_source_invalid(
                        err, "FirstAgenda JSON: Dagsordenpunkter[%zu].Navn is missing", idx);
        const char *cn = str(it, "SagsNummer");
        mm_source_build_item(b, num, title, cn ? cn : str(it, "CaseNumber"),
                             is_closed_title(title));
        size_t i;
        json_t *f, *a;
        json_array_foreach(json_object_get(it, "Felter"), i, f) {
                const char *html = str(f, "Html");
                const char *name = str(f, "Navn");
                if (html)
                        mm_source_build_html_sections(b, html, strlen(html),
                                                      name && *name ? name : NULL);
                const char *link = str(f, "Link");
                const char *h = link ? strstr(link, "://") : NULL;
                if (h) {
                        char host[256];
                        size_t hl = strcspn(h + 3, "/:");
                        if (hl < sizeof(host)) {
                                memcpy(host, h + 3, hl);
                                host[hl] = '\0';
                                mm_source_build_municipality(b, host);
                        }
                }
        }
        json_array_foreach(json_object_get(it, "ExternalAgendaItemAttendees"), i, a) {
                if (str(a, "Name"))
                        mm_source_build_item_absent(b, str(a, "Name"));
        }
        item_attachments(b, json_object_get(it, "Bilag"));
        return 0;
}

/* The meeting's start as one UTC instant ("2026-03-02T10:00:00Z"), so a
 * republication that writes the same start with another offset or with
 * fractions of a second is still the same meeting. 0, or -1 when `v` is
 * no ISO 8601 time (the caller keeps it as written). */
static int begin_utc(const char *v, char *out, size_t out_size) {
        double t;
        struct tm u;
        if (mm_firstagenda_parse_time(v, &t) != 0)
                return -1;
        time_t ts = (time_t)t;
        if (!gmtime_r(&ts, &u) || !strftime(out, out_size, "%Y-%m-%dT%H:%M:%SZ", &u))
                return -1;
        return 0;
}

static void meeting(mm_source_build_t *b, json_t *root, json_t *m) {
        char date[11] = "", start[6] = "", end[6] = "", d2[11], s2[6];
        split_iso(str(m, "Dato"), date, start);
        if (split_iso(str(m, "MeetingBeginUtc"), d2, s2)) {
                if (!date[0])
                        memcpy(date, d2, sizeof(d2));
                if (s2[0])
                        memcpy(start, s2, sizeof(s2));
        }
        split_iso(str(m, "MeetingEndUtc"), d2, end);
        mm_source_build_meeting(b, str(json_object_get(root, "Udvalg"), "Navn"), date,
                                start[0] ? start : NULL, end[0] ? end : NULL, str(m, "Sted"));
        size_t i;
        json_t *p;
        json_array_foreach(json_object_get(m, "Moededeltagere"), i, p) {
                const char *name = str(p, "Name");
                int absent = json_is_true(json_object_get(p, "Absent")) ||
                             json_is_true(json_object_get(p, "ParticipationCancelled"));
                if (name)
                        mm_source_build_participant(b, name, absent);
        }
        /* One meeting, many publications (issue 18): the meeting is the
         * committee's (Udvalg.Id) at its start (MeetingBeginUtc, else Dato);
         * the agenda, a supplementary agenda, the minutes and a
         * republication are each a listing entry with an Id of its own. */
        const char *begin = str(m, "MeetingBeginUtc") ? str(m, "MeetingBeginUtc") : str(m, "Dato");
        char utc[32], *mid = NULL;
        if (begin_utc(begin, utc, sizeof(utc)) == 0)
                begin = utc;
        if (asprintf(&mid, "%s@%s", str(json_object_get(root, "Udvalg"), "Id"), begin) < 0)
                mid = NULL;
        mm_source_build_source(b, "firstagenda", mid, str(root, "Id"), str(m, "ReleasedDate"));
        free(mid);
        if (json_is_true(json_object_get(m, "IsSupplementaryAgenda")) ||
            json_is_true(json_object_get(root, "TillaegsDagsorden")) ||
            (str(m, "Navn") && !strcasecmp(str(m, "Navn"), "Tillægsdagsorden")))
                mm_source_build_supplement(b);
}

/* An upper bound of the number of values in the JSON text: the values
 * after '[', ':' and ',' outside strings, and the first. Linear, and run
 * before jansson builds a tree of them (about 100 bytes each). */
static size_t json_values_bound(const char *buf, size_t len) {
        size_t n = 1;
        int in_str = 0;
        for (size_t i = 0; i < len; i++) {
                char c = buf[i];
                if (in_str) {
                        if (c == '\\')
                                i++;
                        else if (c == '"')
                                in_str = 0;
                } else if (c == '"') {
                        in_str = 1;
                } else if (c == '[' || c == ':' || c == ',') {
                        n++;
                }
        }
        return n;
}

static int parse(const mm_parser_t *p, const char *buf, size_t len, const char *content_type,
                 mm_source_result_t *res, mm_parse_error_t *err) {
        (void)content_type;
        json_error_t je;
        if (json_values_bound(buf, len) > MM_SOURCE_MAX_VALUES)
                return mm_source_invalid(err,
                                         "FirstAgenda JSON: more than %u values: refused before "
                                         "it is read",
                                         MM_SOURCE_MAX_VALUES);
        json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
        if (!root)
                return mm_source_invalid(err, "FirstAgenda JSON: %s at line %d column %d", je.text,
                                         je.line, je.column);
        json_t *m = json_object_get(root, "Moede");
        json_t *items = json_object_get(root, "Dagsordenpunkter");
        int rc = -1;
        mm_source_build_t *b = NULL;
        if (!json_is_object(root) || !json_is_object(m))
                mm_source_invalid(err, "FirstAgenda JSON: Moede is missing");
        else if (!json_is_array(items))
                mm_source_invalid(err, "FirstAgenda JSON: Dagsordenpunkter is missing");
        else if (!str(m, "Dato") && !str(m, "MeetingBeginUtc"))
                mm_source_invalid(err, "FirstAgenda JSON: Moede.Dato is missing");
        else if (!str(root, "Id"))
                mm_source_invalid(err, "FirstAgenda JSON: Id is missing");
        else if (!str(json_object_get(root, "Udvalg"), "Id"))
                mm_source_invalid(err, "FirstAgenda JSON: Udvalg.Id is missing");
        else if (!(b = mm_source_build_new(p)))
                mm_source_oom(err, "building the model");
        else {
                meeting(b, root, m);
                rc = 0;
                for (size_t i = 0; rc == 0 && i < json_array_size(items); i++)
                        rc = item(b, json_array_get(items, i), i, err);
                if (rc == 0)
                        rc = mm_source_build_finish(b, NULL, res, err);
        }
        mm_source_build_destroy(b);
        json_decref(root);
        return rc;
}

const mm_source_adapter_t mm_source_firstagenda = {"firstagenda", ct_firstagenda, sniff, parse};
