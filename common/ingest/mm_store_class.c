/*
 * mm_store_class: what a PostgreSQL error says about a batch (see
 * mm_store.h): whose fault it is, and the verdict of an isolation.
 */
#include "mm_store.h"

#include <string.h>

int mm_store_classify_sqlstate(const char *state) {
        if (!state || strlen(state) != 5)
                return MM_STORE_ERR_TRANSIENT;
        if (!strcmp(state, "MM001"))
                return MM_STORE_ERR_FENCED;
        /* Only what a document's own content can cause makes it poison:
         * data exceptions (22: bad date, out-of-range number, invalid text
         * representation, untranslatable character), integrity violations
         * (23) and the project's own validation codes (MMxxx). */
        if (!strncmp(state, "22", 2) || !strncmp(state, "23", 2) || !strncmp(state, "MM", 2))
                return MM_STORE_ERR_DATA;
        /* A program limit (54: an index row too large, a value too long for
         * a tsvector, too many arguments) may be one document's content or
         * the batch as a whole: the isolation decides
         * (mm_store_isolation_verdict). */
        if (!strncmp(state, "54", 2))
                return MM_STORE_ERR_LIMIT;
        /* Everything else says something about the server, the schema, the
         * grants or the batch as a whole (25006 read-only, 42501 missing
         * grant, 57014 statement timeout, 55P03 lock timeout, 08
         * connection, 40 rollback, 53 resources, XX internal, ...): retry. */
        return MM_STORE_ERR_TRANSIENT;
}

int mm_store_isolation_verdict(const int *alone, size_t n, int probe, int *fault) {
        size_t nbad = 0;
        for (size_t i = 0; i < n; i++) {
                if (alone[i] == MM_STORE_ERR_TRANSIENT || alone[i] == MM_STORE_ERR_FENCED ||
                    alone[i] == MM_STORE_ERR_SCHEMA)
                        return -1;
                fault[i] = alone[i] == MM_STORE_ERR_DATA || alone[i] == MM_STORE_ERR_LIMIT;
                nbad += (size_t)fault[i];
        }
        /* A document's fault shows in some documents, not in none. When
         * every one fails alone, the minimal valid document decides: if
         * PostgreSQL refuses it too, the refusal is the database's, whatever
         * its code (a limit it sets for everything, a broken schema). */
        if (nbad == n && n > 0 && probe != MM_STORE_OK)
                nbad = 0;
        if (nbad == 0)
                memset(fault, 0, n * sizeof(*fault));
        return (int)nbad;
}
