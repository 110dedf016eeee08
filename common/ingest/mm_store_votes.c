#include "mm_store_votes.h"

#include <stdio.h>
#include <string.h>

#include "mm_buf.h"
#include "mm_store.h"
#include "mm_store_int.h"

enum { T_EVENTS, T_COUNTS, T_PARTIES, T_PERSONS, T_RESERVATIONS, T_N };

static const struct {
        const char *table, *sql;
} tables[T_N] = {
        {"vote_events", "COPY vote_events (item_id, ord, motion, result) FROM STDIN"},
        {"vote_counts", "COPY vote_counts (item_id, event_ord, option, value) FROM STDIN"},
        {"party_votes", "COPY party_votes (item_id, event_ord, option, party) FROM STDIN"},
        {"person_votes", "COPY person_votes (item_id, event_ord, option, voter_name) FROM STDIN"},
        {"item_reservations", "COPY item_reservations (item_id, ord, party, member) FROM STDIN"},
};

static const char *const options[] = {"for", "against", "abstain"};

/* One COPY text field; NULL for a value that is not a string. A NUL goes
 * as \000, which COPY refuses (22021), as the other child rows do. */
static void field(mm_buf_t *b, const json_t *v) {
        mm_buf_putc(b, '\t');
        if (!json_is_string(v)) {
                mm_buf_puts(b, "\\N");
                return;
        }
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        for (size_t i = 0; i < n; i++) {
                switch (s[i]) {
                case '\\':
                        mm_buf_puts(b, "\\\\");
                        break;
                case '\t':
                        mm_buf_puts(b, "\\t");
                        break;
                case '\n':
                        mm_buf_puts(b, "\\n");
                        break;
                case '\r':
                        mm_buf_puts(b, "\\r");
                        break;
                case '\0':
                        mm_buf_puts(b, "\\000");
                        break;
                default:
                        mm_buf_putc(b, s[i]);
                }
        }
}

static void key(mm_buf_t *b, long long id, size_t ord) {
        mm_buf_printf(b, "%lld\t%zu", id, ord);
}

/* The rows of one side of an event. */
static void side_rows(mm_buf_t *t, long long id, size_t ev, int opt, const json_t *side) {
        const json_t *c = json_object_get(side, "count");
        if (json_is_integer(c) && json_integer_value(c) >= 0 && json_integer_value(c) <= 1000000) {
                key(&t[T_COUNTS], id, ev);
                mm_buf_printf(&t[T_COUNTS], "\t%s\t%lld\n", options[opt],
                              (long long)json_integer_value(c));
        }
        static const char *const lists[] = {"parties", "members"};
        for (int l = 0; l < 2; l++) {
                const json_t *a = json_object_get(side, lists[l]);
                for (size_t i = 0; i < json_array_size(a); i++) {
                        if (!json_is_string(json_array_get(a, i)))
                                continue;
                        mm_buf_t *b = &t[l ? T_PERSONS : T_PARTIES];
                        key(b, id, ev);
                        mm_buf_printf(b, "\t%s", options[opt]);
                        field(b, json_array_get(a, i));
                        mm_buf_putc(b, '\n');
                }
        }
}

/* The rows of one item. */
static void item_rows(mm_buf_t *t, long long id, const json_t *it) {
        const json_t *votes = json_object_get(it, "votes");
        for (size_t e = 0; e < json_array_size(votes); e++) {
                const json_t *ev = json_array_get(votes, e);
                const json_t *res = json_object_get(ev, "result");
                key(&t[T_EVENTS], id, e + 1);
                field(&t[T_EVENTS], json_object_get(ev, "motion"));
                /* only the two results the schema knows */
                field(&t[T_EVENTS],
                      json_is_string(res) && (!strcmp(json_string_value(res), "adopted") ||
                                              !strcmp(json_string_value(res), "rejected"))
                              ? res
                              : NULL);
                mm_buf_putc(&t[T_EVENTS], '\n');
                for (int o = 0; o < 3; o++)
                        side_rows(t, id, e + 1, o, json_object_get(ev, options[o]));
        }
        const json_t *rs = json_object_get(it, "reservations");
        size_t ord = 0;
        for (size_t r = 0; r < json_array_size(rs); r++) {
                static const char *const lists[] = {"parties", "members"};
                for (int l = 0; l < 2; l++) {
                        const json_t *a = json_object_get(json_array_get(rs, r), lists[l]);
                        for (size_t i = 0; i < json_array_size(a); i++) {
                                if (!json_is_string(json_array_get(a, i)))
                                        continue;
                                key(&t[T_RESERVATIONS], id, ++ord);
                                field(&t[T_RESERVATIONS], l ? NULL : json_array_get(a, i));
                                field(&t[T_RESERVATIONS], l ? json_array_get(a, i) : NULL);
                                mm_buf_putc(&t[T_RESERVATIONS], '\n');
                        }
                }
        }
}

int mm_store_votes_copy(PGconn *conn, const json_t *const *parses, size_t ndocs,
                        const long long *item_ids, size_t nitems, char *errstr,
                        size_t errstr_size) {
        mm_buf_t rows[T_N];
        size_t k = 0;
        int rc = MM_STORE_OK;
        for (int t = 0; t < T_N; t++)
                mm_buf_init(&rows[t]);
        for (size_t d = 0; d < ndocs; d++) {
                const json_t *items = parses[d] ? json_object_get(parses[d], "items") : NULL;
                for (size_t i = 0; json_is_array(items) && i < json_array_size(items); i++, k++)
                        if (k < nitems)
                                item_rows(rows, item_ids[k], json_array_get(items, i));
        }
        for (int t = 0; t < T_N; t++) {
                if (mm_buf_failed(&rows[t])) {
                        snprintf(errstr, errstr_size, "vote rows: out of memory");
                        rc = MM_STORE_ERR_TRANSIENT;
                }
        }
        for (int t = 0; rc == MM_STORE_OK && t < T_N; t++)
                if (rows[t].len)
                        rc = mm_store_copy_rows(conn, tables[t].sql, tables[t].table, rows[t].p,
                                                rows[t].len, errstr, errstr_size);
        for (int t = 0; t < T_N; t++)
                mm_buf_release(&rows[t]);
        return rc;
}
