/*
 * mm_source_identity: the meeting identity of a model as it is stored (see
 * mm_source_check_identity in mm_source.h).
 *
 * A meeting of an export is keyed by system, kommune and the system's
 * meeting id (schemas/008_one_write_path.sql): the kommune must be known,
 * or two kommuner's meetings with one id (numeric SBSYS ids) would share a
 * key, and a revision with and one without a municipality would split.
 * Every part of a key is bounded, so no key can exceed an index row.
 */
#include <stdio.h>
#include <string.h>

#include "mm_source.h"

/* The length of document[key] when it is a string, else 0. */
static size_t str_len(json_t *doc, const char *key) {
        json_t *v = json_object_get(doc, key);
        return json_is_string(v) ? json_string_length(v) : 0;
}

/* A text document's key field over the bound: null, with a warning. */
static void drop_long(json_t *doc, const char *key) {
        size_t n = str_len(doc, key);
        if (n <= MM_SOURCE_KEY_MAX)
                return;
        char w[160];
        snprintf(w, sizeof(w), "%s is %zu bytes long (at most %d): dropped", key, n,
                 MM_SOURCE_KEY_MAX);
        json_object_set_new(doc, key, json_null());
        json_t *warnings = json_object_get(doc, "warnings");
        if (json_is_array(warnings))
                json_array_append_new(warnings, json_string(w));
}

int mm_source_check_identity(json_t *doc, mm_parse_error_t *err) {
        json_t *d = json_object_get(doc, "document");
        if (!json_is_object(d))
                return 0;
        if (!json_is_object(json_object_get(d, "source"))) {
                drop_long(d, "municipality");
                drop_long(d, "committee");
                return 0;
        }
        size_t n = str_len(d, "municipality");
        if (n == 0)
                return mm_source_invalid(err, "the export names no municipality, and neither "
                                              "does the envelope: its meeting cannot be keyed");
        if (n > MM_SOURCE_KEY_MAX)
                return mm_source_invalid(err, "the municipality is %zu bytes long (at most %d)", n,
                                         MM_SOURCE_KEY_MAX);
        return 0;
}
