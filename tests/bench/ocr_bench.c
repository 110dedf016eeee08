/*
 * ocr_bench: OCR throughput and memory through mm_extract (the worker's
 * path: one sandbox child per document, Tesseract made in the child).
 *
 *   ocr_bench [--dpi N] [--dump DIR] [--max-memory MB] NAME FILE...
 *
 * Every file is extracted once with OCR on at --dpi (default 300), with
 * limits high enough that no page is cut (ocr-seconds 3000, 10000 OCR
 * pages). Prints the OCRed pages, OCR pages/s in wall time and in the
 * children's CPU time (one core: Tesseract runs single-threaded; each
 * document's child loads the model once, included), the mean confidence
 * and the peak resident memory of an extraction child (getrusage
 * RUSAGE_CHILDREN ru_maxrss: the largest child of this process). With
 * --dump, the text of FILE is written to DIR/<basename>.txt. --max-memory
 * sets extract-max-memory (the address space a child may add; default
 * the library's), to find the least that OCR needs. A benchmark,
 * not a test: it prints numbers and fails only if a file cannot be read.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "mm_buf.h"
#include "mm_extract.h"

static double now(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double children_cpu(long *maxrss_kb) {
        struct rusage r;
        getrusage(RUSAGE_CHILDREN, &r);
        if (maxrss_kb != NULL)
                *maxrss_kb = r.ru_maxrss;
        return (double)r.ru_utime.tv_sec + (double)r.ru_utime.tv_usec / 1e6 +
               (double)r.ru_stime.tv_sec + (double)r.ru_stime.tv_usec / 1e6;
}

/* The whole file (mm_buf_read_file), or NULL. */
static char *read_file(const char *path, size_t *len) {
        char err[256];
        char *buf = mm_buf_read_file(path, 0, len, err, sizeof(err));
        if (buf == NULL)
                fprintf(stderr, "%s\n", err);
        return buf;
}

static void dump(const char *dir, const char *path, const char *text, size_t len) {
        const char *base = strrchr(path, '/');
        base = base != NULL ? base + 1 : path;
        char out[4096];
        snprintf(out, sizeof out, "%s/%s.txt", dir, base);
        FILE *f = fopen(out, "wb");
        if (f != NULL) {
                fwrite(text, 1, len, f);
                fclose(f);
        }
}

int main(int argc, char **argv) {
        long dpi = 300;
        const char *dump_dir = NULL;
        long max_mb = 0;
        int i = 1;
        for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
                if (!strcmp(argv[i], "--dpi"))
                        dpi = atol(argv[i + 1]);
                else if (!strcmp(argv[i], "--dump"))
                        dump_dir = argv[i + 1];
                else if (!strcmp(argv[i], "--max-memory"))
                        max_mb = atol(argv[i + 1]);
        }
        if (argc - i < 2) {
                fprintf(stderr,
                        "usage: ocr_bench [--dpi N] [--dump DIR] [--max-memory MB] NAME FILE...\n");
                return 2;
        }
        const char *name = argv[i++];
        mm_extract_global_init();
        mm_extract_limits_t l;
        mm_extract_limits_default(&l);
        l.ocr = 1;
        l.ocr_dpi = dpi;
        l.cpu_seconds = 4000;
        l.ocr_seconds = 3000;
        l.ocr_max_pages = 10000;
        if (max_mb > 0)
                l.max_memory = (size_t)max_mb << 20;
        mm_extract_set_limits(&l);
        int files = 0, pages = 0, ocr_pages = 0;
        double wall = 0, cpu = 0, conf = 0;
        for (; i < argc; i++) {
                size_t len = 0;
                char *buf = read_file(argv[i], &len);
                if (buf == NULL) {
                        fprintf(stderr, "ocr_bench: %s: %s\n", argv[i], strerror(errno));
                        return 1;
                }
                mm_extract_info_t info;
                char *out = NULL, code[MM_EXTRACT_CODE_SIZE] = "", err[256] = "";
                size_t olen = 0;
                double t0 = now(), c0 = children_cpu(NULL);
                int rc = mm_extract_text_info(buf, len, "application/pdf", &info, &out, &olen, code,
                                              sizeof code, err, sizeof err);
                double dt = now() - t0, dc = children_cpu(NULL) - c0;
                free(buf);
                if (rc != 0)
                        printf("  %s: %s (%s)\n", argv[i], code, err);
                if (info.ocr_failed_pages + info.ocr_skipped_pages > 0)
                        printf("  %s: %d pages below the confidence bar (%s), %d not OCRed (%s)\n",
                               argv[i], info.ocr_failed_pages, info.ocr_failed_list,
                               info.ocr_skipped_pages, info.ocr_note);
                else if (dump_dir != NULL)
                        dump(dump_dir, argv[i], out, olen);
                free(out);
                files++;
                pages += info.pages;
                ocr_pages += info.ocr_pages;
                wall += dt;
                cpu += dc;
                if (info.ocr_pages > 0)
                        conf += info.ocr_confidence * info.ocr_pages;
        }
        long rss = 0;
        children_cpu(&rss);
        printf("%s: %d PDFs, %d pages, %d OCRed at %ld dpi\n", name, files, pages, ocr_pages, dpi);
        if (ocr_pages > 0) {
                printf("  OCR pages/s: %.2f wall, %.2f per CPU second (%.2f s CPU per page)\n",
                       ocr_pages / wall, ocr_pages / cpu, cpu / ocr_pages);
                printf("  mean confidence %.1f\n", conf / ocr_pages);
        }
        printf("  peak RSS of an extraction child: %.1f MB\n", rss / 1024.0);
        return 0;
}
