/*
 * mm_date: Danish dates and clock times as they appear in meeting
 * documents: "6. september 2021", "Torsdag d. 30. januar 2025",
 * "d. 30-01-2025", "04.12.2012", "9.8.2021", "2025-01-30", "3. jan. 2024";
 * "kl. 16:00", "Kl. 16.00", "kl. 15", "17.00".
 */
#ifndef MM_DATE_H
#define MM_DATE_H

#include <stddef.h>

/* Finds the first date in s[0..len). Returns 0 and fills *y, *m, *d and the
 * byte span [*b, *e) of the match, or -1 when there is none. `b` and `e`
 * may be NULL. */
int mm_date_find(const char *s, size_t len, int *y, int *m, int *d, size_t *b, size_t *e);

/* Finds the first clock time in s[0..len). With `need_kl` only a time after
 * "kl." counts (as in "Mødet sluttede kl. 20.35"); otherwise a bare "16:00"
 * or "17.00" counts too. Returns 0 and fills *h, *mi and the span, or -1.
 * `b` and `e` may be NULL. */
int mm_time_find(const char *s, size_t len, int need_kl, int *h, int *mi, size_t *b, size_t *e);

#endif /* MM_DATE_H */
