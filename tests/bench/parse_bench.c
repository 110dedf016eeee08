/*
 * parse_bench: single-threaded parse throughput over a set of documents.
 *
 *   parse_bench [--seconds S] FILE...
 *
 * Parses every file in turn, over and over, for about S seconds (default
 * 5) after one warm-up round, and prints MB/s and documents per second.
 * A benchmark, not a test: it prints numbers and asserts nothing but that
 * every document parses.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mm_parser.h"

static double now(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
        double seconds = 5;
        int first = 1;
        char errstr[256];

        if (argc > 2 && !strcmp(argv[1], "--seconds")) {
                seconds = atof(argv[2]);
                first = 3;
        }
        if (first >= argc) {
                fprintf(stderr, "usage: parse_bench [--seconds S] FILE...\n");
                return 2;
        }
        int nf = argc - first;
        char **bufs = calloc((size_t)nf, sizeof(char *));
        size_t *lens = calloc((size_t)nf, sizeof(size_t)), total = 0;
        for (int i = 0; i < nf; i++) {
                FILE *fp = fopen(argv[first + i], "rb");
                if (!fp) {
                        perror(argv[first + i]);
                        return 1;
                }
                fseek(fp, 0, SEEK_END);
                lens[i] = (size_t)ftell(fp);
                rewind(fp);
                bufs[i] = malloc(lens[i] ? lens[i] : 1);
                if (fread(bufs[i], 1, lens[i], fp) != lens[i]) {
                        perror(argv[first + i]);
                        return 1;
                }
                fclose(fp);
                total += lens[i];
        }
        mm_parser_t *p = mm_parser_new(0, errstr, sizeof(errstr));
        if (!p) {
                fprintf(stderr, "%s\n", errstr);
                return 1;
        }
        long docs = 0;
        double bytes = 0, t0 = 0, el = 0;
        for (int round = 0;; round++) {
                if (round == 1)
                        t0 = now();
                for (int i = 0; i < nf; i++) {
                        mm_parse_error_t err;
                        json_t *d = mm_parser_parse(p, bufs[i], lens[i], &err);
                        if (!d) {
                                fprintf(stderr, "%s: %s: %s\n", argv[first + i], err.code,
                                        err.reason);
                                return 1;
                        }
                        json_decref(d);
                        if (round) {
                                docs++;
                                bytes += (double)lens[i];
                        }
                }
                if (round && (el = now() - t0) >= seconds)
                        break;
        }
        printf("parse_bench: %d files, %zu bytes per round, %ld documents in %.2f s\n", nf, total,
               docs, el);
        printf("throughput: %.1f MB/s, %.0f documents/s (single thread)\n", bytes / el / 1e6,
               (double)docs / el);
        mm_parser_destroy(p);
        for (int i = 0; i < nf; i++)
                free(bufs[i]);
        free(bufs);
        free(lens);
        return 0;
}
