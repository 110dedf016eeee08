/*
 * pdf_bench: PDF text extraction throughput through mm_extract, next to
 * poppler-utils' pdftotext on the same files in the same run.
 *
 *   pdf_bench [--rounds N] [--pdftotext PATH] [--ocr on|off] NAME FILE...
 *
 * --ocr (default on, as the worker): OCR of scanned pages (mm_ocr); a
 * text PDF is never OCRed, so its numbers must not depend on it.
 *
 * Every file is extracted N times (default 3, after one warm-up round)
 * by each of:
 *   mm_extract (sandbox)    the worker's path: one forked child per file
 *   mm_extract (in-process) the same code without the child
 *   pdftotext               `pdftotext -q -enc UTF-8 FILE -` > /dev/null,
 *                           one process per file, as a user would run it
 * and pages/s and MB/s (input bytes) are printed, with the ratio
 * mm_extract (sandbox) / pdftotext, in wall time and in CPU time (this
 * process and its children; steadier on a shared machine). Then the cost of the sandbox itself:
 * the time per document of a tiny HTML document with and without the
 * child. A benchmark, not a test: it prints numbers and fails only if a
 * file cannot be extracted.
 */
#include <errno.h>
#include <fcntl.h>
#include <poppler.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mm_buf.h"
#include "mm_extract.h"

static double now(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds used so far by this process and its reaped children. */
static double cpu_now(void) {
        struct rusage self, kids;
        getrusage(RUSAGE_SELF, &self);
        getrusage(RUSAGE_CHILDREN, &kids);
        double t = 0;
        const struct rusage *r[2] = {&self, &kids};
        for (int i = 0; i < 2; i++)
                t += (double)r[i]->ru_utime.tv_sec + (double)r[i]->ru_utime.tv_usec / 1e6 +
                     (double)r[i]->ru_stime.tv_sec + (double)r[i]->ru_stime.tv_usec / 1e6;
        return t;
}

/* The whole file (mm_buf_read_file), or NULL. */
static char *read_file(const char *path, size_t *len) {
        char err[256];
        char *buf = mm_buf_read_file(path, 0, len, err, sizeof(err));
        if (buf == NULL)
                fprintf(stderr, "%s\n", err);
        return buf;
}

static int count_pages(const char *buf, size_t len) {
        GBytes *b = g_bytes_new_static(buf, len);
        PopplerDocument *doc = poppler_document_new_from_bytes(b, NULL, NULL);
        g_bytes_unref(b);
        if (doc == NULL)
                return 0;
        int n = poppler_document_get_n_pages(doc);
        g_object_unref(doc);
        return n;
}

/* Extracts every file once with mm_extract; returns -1 on a failure. */
static int round_mm(char **bufs, size_t *lens, int nf) {
        for (int i = 0; i < nf; i++) {
                char *out = NULL, code[MM_EXTRACT_CODE_SIZE], err[256];
                if (mm_extract_text(bufs[i], lens[i], "application/pdf", NULL, &out, NULL, code,
                                    sizeof code, err, sizeof err) != 0 &&
                    strcmp(code, "pdf_no_text") != 0) { /* a slide with one word is fine */
                        fprintf(stderr, "pdf_bench: file %d: %s: %s\n", i, code, err);
                        return -1;
                }
                free(out);
        }
        return 0;
}

/* Runs pdftotext on every file once; returns -1 on a failure. */
static int round_pdftotext(const char *prog, char **paths, int nf) {
        for (int i = 0; i < nf; i++) {
                pid_t pid = fork();
                if (pid == 0) {
                        int null = open("/dev/null", O_WRONLY);
                        if (null >= 0)
                                dup2(null, 1);
                        execlp(prog, prog, "-q", "-enc", "UTF-8", paths[i], "-", (char *)NULL);
                        _exit(127);
                }
                int st = 0;
                if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
                        fprintf(stderr, "pdf_bench: pdftotext failed on %s\n", paths[i]);
                        return -1;
                }
        }
        return 0;
}

static void set_sandbox(int on) {
        mm_extract_limits_t l;
        mm_extract_get_limits(&l);
        l.sandbox = on;
        mm_extract_set_limits(&l);
}

static void report(const char *what, double secs, double cpu, int rounds, long pages, double mb) {
        printf("  %-24s %9.1f pages/s %8.2f MB/s  (%.3f s per round; CPU %.3f s)\n", what,
               (double)pages * rounds / secs, mb * rounds / secs, secs / rounds, cpu / rounds);
}

/* Time per document of a tiny HTML document with and without the child. */
static double tiny_html_ms(int sandbox) {
        static const char html[] = "<html><body><p>Punkt 1. Godkendelse</p></body></html>";
        const int n = 500;
        set_sandbox(sandbox);
        double t0 = now();
        for (int i = 0; i < n; i++) {
                char *out = NULL;
                if (mm_extract_text(html, sizeof html - 1, "text/html", NULL, &out, NULL, NULL, 0,
                                    NULL, 0) == 0)
                        free(out);
        }
        return (now() - t0) / n * 1e3;
}

/* The sandbox's cost per document, in this small process and with 64 MB
 * more resident (a worker's steady state): fork copies page tables. */
static void sandbox_overhead(void) {
        double in = tiny_html_ms(0), child = tiny_html_ms(1);
        printf("  sandbox overhead: %.3f ms per document (tiny HTML: %.3f ms in-process, "
               "%.3f ms in a child)\n",
               child - in, in, child);
        size_t big = 64u << 20;
        char *ballast = malloc(big);
        if (ballast == NULL)
                return;
        memset(ballast, 1, big);
        in = tiny_html_ms(0);
        child = tiny_html_ms(1);
        printf("  sandbox overhead with 64 MB more resident: %.3f ms per document\n", child - in);
        free(ballast);
}

int main(int argc, char **argv) {
        int rounds = 3, a = 1;
        const char *pdftotext = "pdftotext";
        int ocr = 1;
        while (a + 1 < argc && strncmp(argv[a], "--", 2) == 0) {
                if (!strcmp(argv[a], "--rounds"))
                        rounds = atoi(argv[a + 1]);
                else if (!strcmp(argv[a], "--ocr"))
                        ocr = strcmp(argv[a + 1], "off") != 0;
                else if (!strcmp(argv[a], "--pdftotext"))
                        pdftotext = argv[a + 1];
                a += 2;
        }
        if (argc - a < 2 || rounds < 1) {
                fprintf(stderr, "usage: pdf_bench [--rounds N] [--pdftotext PATH] [--ocr on|off] "
                                "NAME FILE...\n");
                return 2;
        }
        const char *name = argv[a++];
        int nf = argc - a;
        char **paths = argv + a;
        char **bufs = calloc((size_t)nf, sizeof *bufs);
        size_t *lens = calloc((size_t)nf, sizeof *lens);
        long pages = 0;
        double mb = 0;
        mm_extract_global_init();
        mm_extract_limits_t lim;
        mm_extract_get_limits(&lim);
        lim.ocr = ocr;
        mm_extract_set_limits(&lim);
        for (int i = 0; i < nf; i++) {
                bufs[i] = read_file(paths[i], &lens[i]);
                if (bufs[i] == NULL) {
                        fprintf(stderr, "pdf_bench: %s: %s\n", paths[i], strerror(errno));
                        return 1;
                }
                pages += count_pages(bufs[i], lens[i]);
                mb += (double)lens[i] / 1e6;
        }
        struct rusage self;
        long parent_kb = getrusage(RUSAGE_SELF, &self) == 0 ? self.ru_maxrss : 0;
        printf("%s: %d PDFs, %ld pages, %.2f MB, %d rounds, OCR %s\n", name, nf, pages, mb, rounds,
               ocr ? "on" : "off");
        double t_sb = 0, t_in = 0, t_pt = 0, c_sb = 0, c_in = 0, c_pt = 0;
        /* warm-up, then the three ways interleaved round by round so that
         * load from other processes hits all of them alike */
        if (round_mm(bufs, lens, nf))
                return 1;
        struct rusage ru; /* so far only extraction children have run */
        long child_kb = getrusage(RUSAGE_CHILDREN, &ru) == 0 ? ru.ru_maxrss : 0;
        if (round_pdftotext(pdftotext, paths, nf))
                return 1;
        for (int r = 0; r < rounds; r++) {
                double t0 = now(), c0 = cpu_now();
                set_sandbox(1);
                if (round_mm(bufs, lens, nf))
                        return 1;
                double t1 = now(), c1 = cpu_now();
                set_sandbox(0);
                if (round_mm(bufs, lens, nf))
                        return 1;
                double t2 = now(), c2 = cpu_now();
                if (round_pdftotext(pdftotext, paths, nf))
                        return 1;
                double t3 = now(), c3 = cpu_now();
                t_sb += t1 - t0;
                t_in += t2 - t1;
                t_pt += t3 - t2;
                c_sb += c1 - c0;
                c_in += c2 - c1;
                c_pt += c3 - c2;
        }
        report("mm_extract (sandbox)", t_sb, c_sb, rounds, pages, mb);
        report("mm_extract (in-process)", t_in, c_in, rounds, pages, mb);
        report("pdftotext", t_pt, c_pt, rounds, pages, mb);
        printf("  ratio mm_extract (sandbox) / pdftotext: %.2f (in-process: %.2f; goal >= 0.9)\n",
               t_pt / t_sb, t_pt / t_in);
        printf("  same ratio in CPU time: %.2f (in-process: %.2f); sandbox CPU cost %.2f ms per "
               "file\n",
               c_pt / c_sb, c_pt / c_in, (c_sb - c_in) / rounds / nf * 1e3);
        printf("  peak RSS of an extraction child: %.1f MB (this process before: %.1f MB)\n",
               (double)child_kb / 1024.0, (double)parent_kb / 1024.0);
        sandbox_overhead();
        for (int i = 0; i < nf; i++)
                free(bufs[i]);
        free(bufs);
        free(lens);
        return 0;
}
