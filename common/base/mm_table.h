/*
 * mm_table: the TSV data tables compiled into the library from
 * common/data/ TSV files (section headings, outcome wording, absence cues, KLE
 * groups, kommuner, ...). Lines starting with '#' and blank lines are
 * skipped; columns are separated by a tab.
 */
#ifndef MM_TABLE_H
#define MM_TABLE_H

#include <stddef.h>

typedef struct mm_table_s mm_table_t;

/* Loads the embedded table `name` (file name without .tsv). Every row must
 * have at least `min_cols` columns. Returns NULL and fills errstr when the
 * table is missing or malformed. */
mm_table_t *mm_table_load(const char *name, int min_cols, char *errstr, size_t errstr_size);

/* Frees a table. `t` may be NULL. */
void mm_table_destroy(mm_table_t *t);

/* Number of data rows. */
size_t mm_table_rows(const mm_table_t *t);

/* Column `col` of row `row` as a NUL-terminated string owned by the table,
 * or "" when the row has fewer columns. */
const char *mm_table_get(const mm_table_t *t, size_t row, int col);

#endif /* MM_TABLE_H */
