#include "mm_date.h"

#include <string.h>
#include <strings.h>

static const struct {
        const char *name;
        int month;
} months[] = {{"januar", 1},    {"februar", 2},   {"marts", 3},  {"april", 4},     {"maj", 5},
              {"juni", 6},      {"juli", 7},      {"august", 8}, {"september", 9}, {"oktober", 10},
              {"november", 11}, {"december", 12}, {"jan", 1},    {"feb", 2},       {"mar", 3},
              {"apr", 4},       {"jun", 6},       {"jul", 7},    {"aug", 8},       {"sept", 9},
              {"sep", 9},       {"okt", 10},      {"nov", 11},   {"dec", 12},      {NULL, 0}};

static int is_digit(char c) {
        return c >= '0' && c <= '9';
}
static int is_alpha(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (unsigned char)c >= 0x80;
}

/* Reads 1..max digits at s[*i]; returns the value or -1. */
static int digits(const char *s, size_t len, size_t *i, int min, int max) {
        int v = 0, n = 0;
        while (*i < len && is_digit(s[*i]) && n < max) {
                v = v * 10 + (s[*i] - '0');
                (*i)++;
                n++;
        }
        if (n < min || (*i < len && is_digit(s[*i])))
                return -1;
        return v;
}

static void skip_sp(const char *s, size_t len, size_t *i) {
        while (*i < len && (s[*i] == ' ' || s[*i] == '\t'))
                (*i)++;
}

static int valid(int y, int m, int d) {
        static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        return y >= 1900 && y <= 2199 && m >= 1 && m <= 12 && d >= 1 && d <= mdays[m - 1];
}

/* Tries to read a date starting at s[start]. Returns 0 and the end. */
static int date_at(const char *s, size_t len, size_t start, int *y, int *m, int *d, size_t *end) {
        size_t i = start;
        int a = digits(s, len, &i, 1, 4);

        if (a < 0)
                return -1;
        if (i - start == 4) { /* 2025-01-30 */
                int mo, da;
                if (i >= len || s[i] != '-')
                        return -1;
                i++;
                if ((mo = digits(s, len, &i, 1, 2)) < 0 || i >= len || s[i] != '-')
                        return -1;
                i++;
                if ((da = digits(s, len, &i, 1, 2)) < 0 || !valid(a, mo, da))
                        return -1;
                *y = a, *m = mo, *d = da, *end = i;
                return 0;
        }
        if (i - start > 2)
                return -1;
        if (i < len && (s[i] == '-' || s[i] == '/' || s[i] == '.') && i + 1 < len &&
            is_digit(s[i + 1])) {
                char sep = s[i];
                size_t j = i + 1;
                int mo = digits(s, len, &j, 1, 2), yr;
                size_t ys;
                if (mo < 0 || j >= len || s[j] != sep)
                        goto named;
                j++;
                ys = j;
                yr = digits(s, len, &j, 2, 4);
                if (yr < 0 || (j - ys != 2 && j - ys != 4))
                        goto named;
                if (j - ys == 2)
                        yr += 2000;
                if (!valid(yr, mo, a))
                        goto named;
                *y = yr, *m = mo, *d = a, *end = j;
                return 0;
        }
named:
        /* "6. september 2021", "6 sep. 2021" */
        if (i < len && s[i] == '.')
                i++;
        skip_sp(s, len, &i);
        {
                size_t ws = i;
                while (i < len && is_alpha(s[i]))
                        i++;
                size_t wl = i - ws;
                int mo = 0;
                if (!wl)
                        return -1;
                for (int k = 0; months[k].name; k++)
                        if (strlen(months[k].name) == wl &&
                            !strncasecmp(months[k].name, s + ws, wl)) {
                                mo = months[k].month;
                                break;
                        }
                if (!mo)
                        return -1;
                /* "6 marts, 2019" (a web CMS) */
                if (i < len && (s[i] == '.' || s[i] == ','))
                        i++;
                skip_sp(s, len, &i);
                size_t ys = i;
                int yr = digits(s, len, &i, 4, 4);
                if (yr < 0 || i - ys != 4 || !valid(yr, mo, a))
                        return -1;
                *y = yr, *m = mo, *d = a, *end = i;
                return 0;
        }
}

static int date_digits_first(const char *s, size_t len, int *y, int *m, int *d, size_t *b,
                             size_t *e);

/* "Marts 5, 2019": a CMS printing Danish month names in English order. */
static int month_first(const char *s, size_t len, int *y, int *m, int *d, size_t *b, size_t *e) {
        for (size_t i = 0; i + 8 < len; i++) {
                if (!is_alpha(s[i]) || (i > 0 && is_alpha(s[i - 1])))
                        continue;
                size_t j = i;
                while (j < len && is_alpha(s[j]))
                        j++;
                int mo = 0;
                for (int k = 0; months[k].name && !mo; k++)
                        if (strlen(months[k].name) == j - i && j - i >= 3 &&
                            !strncasecmp(months[k].name, s + i, j - i))
                                mo = months[k].month;
                if (!mo || j >= len || s[j] != ' ')
                        continue;
                skip_sp(s, len, &j);
                int da = digits(s, len, &j, 1, 2);
                if (da < 0 || j >= len || s[j] != ',')
                        continue;
                j++;
                skip_sp(s, len, &j);
                size_t ys = j;
                int yr = digits(s, len, &j, 4, 4);
                if (yr < 0 || j - ys != 4 || !valid(yr, mo, da))
                        continue;
                *y = yr, *m = mo, *d = da;
                if (b)
                        *b = i;
                if (e)
                        *e = j;
                return 0;
        }
        return -1;
}

int mm_date_find(const char *s, size_t len, int *y, int *m, int *d, size_t *b, size_t *e) {
        int r = date_digits_first(s, len, y, m, d, b, e);
        return r == 0 || !memchr(s, ',', len) ? r : month_first(s, len, y, m, d, b, e);
}

static int date_digits_first(const char *s, size_t len, int *y, int *m, int *d, size_t *b,
                             size_t *e) {
        for (size_t i = 0; i < len; i++) {
                size_t end;
                if (!is_digit(s[i]) ||
                    (i > 0 && (is_digit(s[i - 1]) || s[i - 1] == '.' || s[i - 1] == '-')))
                        continue;
                if (date_at(s, len, i, y, m, d, &end) == 0) {
                        if (b)
                                *b = i;
                        if (e)
                                *e = end;
                        return 0;
                }
        }
        return -1;
}

int mm_time_find(const char *s, size_t len, int need_kl, int *h, int *mi, size_t *b, size_t *e) {
        for (size_t i = 0; i < len; i++) {
                size_t j = i;
                int kl = 0, hh, mm = 0;

                if ((s[i] == 'k' || s[i] == 'K') && i + 1 < len &&
                    (s[i + 1] == 'l' || s[i + 1] == 'L') && (i == 0 || !is_alpha(s[i - 1])) &&
                    (i + 2 >= len || !is_alpha(s[i + 2]))) {
                        j = i + 2;
                        if (j < len && s[j] == '.')
                                j++;
                        skip_sp(s, len, &j);
                        kl = 1;
                } else if (need_kl || !is_digit(s[i]) ||
                           (i > 0 && (is_digit(s[i - 1]) || s[i - 1] == '.' || s[i - 1] == ':'))) {
                        continue;
                }
                size_t hs = j;
                hh = digits(s, len, &j, 1, 2);
                if (hh < 0 || hh > 24)
                        continue;
                if (j + 2 < len + 0 && (s[j] == ':' || s[j] == '.') && is_digit(s[j + 1])) {
                        size_t k = j + 1;
                        mm = digits(s, len, &k, 2, 2);
                        if (mm < 0 || mm > 59)
                                continue;
                        /* "04.12.2012" is a date, not a time. */
                        if (s[j] == '.' && k < len && s[k] == '.' && k + 1 < len &&
                            is_digit(s[k + 1]))
                                continue;
                        j = k;
                } else if (!kl) {
                        continue;
                }
                (void)hs;
                *h = hh;
                *mi = mm;
                if (b)
                        *b = i;
                if (e)
                        *e = j;
                return 0;
        }
        return -1;
}
