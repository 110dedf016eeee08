/*
 * parse_bench: parse throughput and the cost of adversarial inputs.
 *
 *   parse_bench [--seconds S] FILE...
 *   parse_bench --rounds N FILE...
 *   parse_bench --adversarial [--sizes 1,4,16] [--shape NAME]
 *
 * The first form parses every file in turn, over and over, for about S
 * seconds (default 5) after one warm-up round, and prints MB/s and
 * documents per second. --rounds parses exactly N rounds (for counting
 * instructions with `perf stat`, which a loaded machine does not skew).
 *
 * --adversarial builds inputs of 1, 4 and 16 MiB (or --sizes, in MiB) in
 * shapes that made the parser quadratic or memory-hungry before (issue 12):
 *   items       "1. Sag\nBeslutning\n" repeated
 *   numbered    "N. Sag\nBeslutning\nGodkendt.\n" with N running 1..9999
 *   short       "a\n" repeated (millions of short lines)
 *   hugeline    one line of words without a line break
 *   deeplists   nested numbered lists and bullets, as in a long appendix
 *   bilag       items whose "Bilag" lists repeat the same names
 * and parses each once in a child process, printing the seconds, the
 * child's peak RSS and the parser's work count. A benchmark, not a test:
 * it prints numbers and asserts nothing but that every document parses.
 *
 * The export adapters' shapes (issue 19; adapter_shapes.c: fa-*, edoc-*,
 * sbsys-*) run the same way through mm_source_parse with the adapter's
 * content type, and print the adapter's work count and the outcome: the
 * model, or the code of a refusal (a cap: export_invalid). Those are
 * listed after the text parser's shapes; --shape picks one of either.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "adapter_shapes.h"
#include "mm_extract.h"
#include "mm_parser.h"
#include "mm_source.h"

static double now(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *const shapes[] = {"items",     "numbered", "short", "hugeline",
                                     "deeplists", "bilag",    NULL};

/* Appends the shape's unit k to b until it holds `size` bytes. */
static char *make_shape(const char *shape, size_t size, size_t *len) {
        char *b = malloc(size + 256);
        size_t n = 0;
        if (!b)
                return NULL;
        n += (size_t)sprintf(b, "Byrådet\nMødedato: 1. februar 2024\n\n");
        for (unsigned k = 0; n < size; k++) {
                char *o = b + n;
                if (!strcmp(shape, "items"))
                        n += (size_t)sprintf(o, "1. Sag\nBeslutning\n");
                else if (!strcmp(shape, "numbered"))
                        n += (size_t)sprintf(o, "%u. Sag\nBeslutning\nGodkendt.\n", k % 9999 + 1);
                else if (!strcmp(shape, "short"))
                        n += (size_t)sprintf(o, "a\n");
                else if (!strcmp(shape, "hugeline"))
                        n += (size_t)sprintf(o, "Sagen godkendes, idet udvalget %u ", k);
                else if (!strcmp(shape, "deeplists"))
                        n += (size_t)sprintf(o, "%*s%u.%u. Punkt om noget\n%*s- underpunkt %u\n",
                                             (int)(k % 12), "", k % 7 + 1, k % 5 + 1,
                                             (int)(k % 12) + 2, "", k);
                else /* bilag */
                        n += (size_t)sprintf(o,
                                             "%u. Sag om noget\nBeslutning\nGodkendt.\nBilag\n"
                                             "Notat om sagen\nKort over området\n\n",
                                             k % 9999 + 1);
        }
        b[n] = '\0';
        *len = n;
        return b;
}

/* In the child: one export shape through its adapter; prints a line. */
static int adapter_child(int fd, const char *shape, size_t mib) {
        char errstr[256];
        size_t len = 0;
        const char *ct = NULL;
        mm_parse_error_t err;
        mm_source_result_t res;
        mm_extract_global_init();
        char *buf = adapter_shape(shape, mib << 20, &len, &ct);
        mm_parser_t *p = mm_parser_new(len + 1, errstr, sizeof(errstr));
        if (!buf || !p)
                return 1;
        struct rusage ru0;
        getrusage(RUSAGE_SELF, &ru0);
        double cpu0 = (double)ru0.ru_utime.tv_sec + (double)ru0.ru_utime.tv_usec / 1e6 +
                      (double)ru0.ru_stime.tv_sec + (double)ru0.ru_stime.tv_usec / 1e6;
        double t0 = now();
        int rc = mm_source_parse(p, buf, len, ct, &res, &err);
        double el = now() - t0;
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        double mb = (double)ru.ru_maxrss / 1024.0;
        double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                     (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6 - cpu0;
        dprintf(fd,
                "%-17s %3zu MiB  %6.2f s (cpu %5.2f s)  peak RSS %6.1f MB  work %10llu  "
                "%s%s%.70s\n",
                shape, mib, el, cpu, mb, res.work, rc ? err.code : "parsed", rc ? ": " : "",
                rc ? err.reason : "");
        if (el >= 3.0 || mb >= 200.0)
                dprintf(fd, "%-17s over the bar (3 s, 200 MB)\n", "");
        /* a model, or a refusal that names its cause */
        return rc == 0 || !strcmp(err.code, "export_invalid") ? 0 : 1;
}

static int is_adapter_shape(const char *shape) {
        for (int k = 0; adapter_shapes[k]; k++)
                if (!strcmp(shape, adapter_shapes[k]))
                        return 1;
        return 0;
}

/* Parses one adversarial input in a child process; prints its figures. */
static int adversarial_one(const char *shape, size_t mib) {
        int fd[2];
        if (pipe(fd))
                return -1;
        pid_t pid = fork();
        if (pid == 0 && is_adapter_shape(shape)) {
                close(fd[0]);
                _exit(adapter_child(fd[1], shape, mib));
        }
        if (pid == 0) {
                char errstr[256];
                size_t len = 0;
                mm_parse_error_t err;
                mm_parse_stats_t st;
                close(fd[0]);
                char *buf = make_shape(shape, mib << 20, &len);
                mm_parser_t *p = mm_parser_new(len + 1, errstr, sizeof(errstr));
                if (!buf || !p)
                        _exit(1);
                double t0 = now();
                json_t *d = mm_parser_parse_stats(p, buf, len, &err, &st);
                double el = now() - t0;
                struct rusage ru;
                getrusage(RUSAGE_SELF, &ru);
                dprintf(fd[1], "%-10s %3zu MiB  %7.2f s  peak RSS %6.1f MB  work %12llu  %s\n",
                        shape, mib, el, (double)ru.ru_maxrss / 1024.0, (unsigned long long)st.work,
                        d ? "parsed" : err.code);
                _exit(d || !strcmp(err.code, "no_items") ? 0 : 1);
        }
        close(fd[1]);
        char line[1024];
        size_t got = 0;
        ssize_t r;
        /* to EOF: a child's second line must not meet a closed pipe */
        while (got < sizeof(line) - 1 && (r = read(fd[0], line + got, sizeof(line) - 1 - got)) > 0)
                got += (size_t)r;
        close(fd[0]);
        int status = 0;
        waitpid(pid, &status, 0);
        line[got] = '\0';
        fputs(line, stdout);
        fflush(stdout);
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static int adversarial(int argc, char **argv) {
        size_t sizes[8] = {1, 4, 16}, ns = 3;
        const char *only = NULL;
        for (int i = 2; i + 1 < argc; i += 2) {
                if (!strcmp(argv[i], "--sizes")) {
                        ns = 0;
                        for (char *s = argv[i + 1]; *s && ns < 8; s++) {
                                sizes[ns++] = strtoul(s, &s, 10);
                                if (!*s)
                                        break;
                        }
                } else if (!strcmp(argv[i], "--shape")) {
                        only = argv[i + 1];
                }
        }
        int rc = 0;
        for (int k = 0; shapes[k]; k++)
                for (size_t s = 0; s < ns; s++)
                        if (!only || !strcmp(only, shapes[k]))
                                rc |= adversarial_one(shapes[k], sizes[s]);
        for (int k = 0; adapter_shapes[k]; k++)
                for (size_t s = 0; s < ns; s++)
                        if (!only || !strcmp(only, adapter_shapes[k]))
                                rc |= adversarial_one(adapter_shapes[k], sizes[s]);
        return rc ? 1 : 0;
}

static int read_files(int nf, char **names, char **bufs, size_t *lens, size_t *total) {
        for (int i = 0; i < nf; i++) {
                FILE *fp = fopen(names[i], "rb");
                if (!fp) {
                        perror(names[i]);
                        return -1;
                }
                fseek(fp, 0, SEEK_END);
                lens[i] = (size_t)ftell(fp);
                rewind(fp);
                bufs[i] = malloc(lens[i] ? lens[i] : 1);
                if (fread(bufs[i], 1, lens[i], fp) != lens[i]) {
                        perror(names[i]);
                        fclose(fp);
                        return -1;
                }
                fclose(fp);
                *total += lens[i];
        }
        return 0;
}

int main(int argc, char **argv) {
        double seconds = 5;
        long rounds = 0;
        int first = 1;
        char errstr[256];

        if (argc > 1 && !strcmp(argv[1], "--adversarial"))
                return adversarial(argc, argv);
        if (argc > 2 && !strcmp(argv[1], "--seconds")) {
                seconds = atof(argv[2]);
                first = 3;
        } else if (argc > 2 && !strcmp(argv[1], "--rounds")) {
                rounds = atol(argv[2]);
                first = 3;
        }
        if (first >= argc) {
                fprintf(stderr, "usage: parse_bench [--seconds S | --rounds N] FILE...\n"
                                "       parse_bench --adversarial [--sizes 1,4,16] [--shape S]\n");
                return 2;
        }
        int nf = argc - first;
        char **bufs = calloc((size_t)nf, sizeof(char *));
        size_t *lens = calloc((size_t)nf, sizeof(size_t)), total = 0;
        if (!bufs || !lens || read_files(nf, argv + first, bufs, lens, &total))
                return 1;
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
                el = now() - t0;
                if (round && (rounds ? round >= rounds : el >= seconds))
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
