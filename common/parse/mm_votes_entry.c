/* The patterns of mm_votes that read the parties and the entries of a
 * vote list (data/parties.tsv), apart from the rules of data/votes.tsv. */
#include "mm_votes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mm_buf.h"
#include "mm_pass.h"
#include "mm_rx.h"
#include "mm_table.h"

int mm_votes_parties(mm_rx_t ***party, char ***letter, size_t *n, char *errstr,
                     size_t errstr_size) {
        mm_table_t *t = mm_table_load("parties", 2, errstr, errstr_size);
        if (!t)
                return -1;
        size_t rows = mm_table_rows(t);
        int rc = 0;
        *party = calloc(rows + 1, sizeof(**party));
        *letter = calloc(rows + 1, sizeof(**letter));
        if (!*party || !*letter) {
                snprintf(errstr, errstr_size, "out of memory");
                rc = -1;
        }
        for (size_t i = 0; !rc && i < rows; i++, (*n)++) {
                char pat[1024];
                snprintf(pat, sizeof(pat), "^(?:%s)[\\s.]*$", mm_table_get(t, i, 1));
                (*letter)[i] =
                        mm_pass_strndup(mm_table_get(t, i, 0), strlen(mm_table_get(t, i, 0)));
                (*party)[i] = mm_rx_new(pat, MM_RX_CASELESS, errstr, errstr_size);
                if (!(*letter)[i] || !(*party)[i])
                        rc = -1;
        }
        mm_table_destroy(t);
        return rc;
}

/* One entry of a vote list: a member with a party suffix ("Anne Hansen
 * (A)"), a party in brackets ("(A)"), a party by letter, name or "Liste
 * X", or a member named alone (two to six capitalised words). */
#define W    "\\p{Lu}[\\p{L}'\xe2\x80\x99-]*\\.?"
#define PART "(?:\\s+(?:" W "|de|von|van|af|la|le|di|el))"
#define PRE                                                                                        \
        "(?:(?:partierne|partiet|partier|gruppen|grupperne|løsgænger(?:en)?|medlemmerne|"        \
        "medlemmet|medlem|borgmester(?:en)?|rådmand(?:en)?|formand(?:en)?|"                       \
        "næstformand(?:en)?)\\s+)?"
#define ENTRY                                                                                      \
        PRE "(?:(?<name>" W PART                                                                   \
            "{0,5})\\s*\\((?<sfx>(?=[^()]*\\p{L})[^()]{1,30})\\)|\\((?<pp>[^()]{1,30})\\)"         \
            "|(?<pw>(?:PARTIES|liste\\s+\\p{Lu}{1,2}|(?-i:\\p{Lu}{1,4}(?:-?\\d)?)|"                \
            "\\p{Lu}\\p{Ll}+listen)(?:'s)?)(?![\\p{L}\\d])|(?<bare>" W PART "{1,5}))"

int mm_votes_entry_patterns(mm_rx_t **fwd, mm_rx_t **bwd, char *errstr, size_t errstr_size) {
        mm_table_t *pt = mm_table_load("parties", 2, errstr, errstr_size);
        mm_buf_t alt = MM_BUF_INIT, f = MM_BUF_INIT, b = MM_BUF_INIT;
        const char *e = ENTRY, *p = strstr(e, "PARTIES");
        int rc = -1;
        if (!pt)
                return -1;
        for (size_t i = 0; i < mm_table_rows(pt); i++) {
                mm_buf_puts(&alt, i ? "|" : "");
                mm_buf_puts(&alt, mm_table_get(pt, i, 1));
        }
        mm_buf_putc(&alt, '\0');
        if (!mm_buf_failed(&alt)) {
                mm_buf_append(&f, "^\\s*", 4);
                mm_buf_append(&f, e, (size_t)(p - e));
                mm_buf_puts(&f, alt.p);
                mm_buf_puts(&f, p + 7);
                mm_buf_append(&b, f.p + 4, f.len - 4);
                mm_buf_puts(&b, "[\\s.,:;]*$");
                if (!mm_buf_failed(&f) && !mm_buf_failed(&b) &&
                    (*fwd = mm_rx_new(mm_buf_cstr(&f), MM_RX_CASELESS, errstr, errstr_size)) &&
                    (*bwd = mm_rx_new(mm_buf_cstr(&b), MM_RX_CASELESS, errstr, errstr_size)))
                        rc = 0;
        }
        if (rc && mm_buf_failed(&alt))
                snprintf(errstr, errstr_size, "out of memory");
        mm_table_destroy(pt);
        mm_buf_release(&alt);
        mm_buf_release(&f);
        mm_buf_release(&b);
        return rc;
}
