/*
 * metrics_bench: what a Prometheus scrape of /metrics costs a worker.
 *
 *   metrics_bench STATS_JSON SEED_FILE...
 *
 * Starts mm_metrics on a free port, filled like a busy worker's (the
 * librdkafka statistics in STATS_JSON, dead letters, histograms), then:
 *   1. CPU time of one scrape (server and client side together, so an
 *      upper bound), over 2,000 scrapes over HTTP on 127.0.0.1;
 *   2. parse throughput over the seeds for 5 s without scraping and 5 s
 *      while a second thread scrapes 10 times a second (40x Prometheus'
 *      default 15 s interval), and the difference;
 *   3. the share of one core a scrape every 15 s takes.
 * A benchmark, not a test: it prints numbers.
 */
#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "mm_metrics.h"
#include "mm_parser.h"

static double clock_s(clockid_t id) {
        struct timespec ts;
        clock_gettime(id, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *slurp(const char *path, size_t *len) {
        FILE *fp = fopen(path, "rb");
        if (!fp)
                return NULL;
        fseek(fp, 0, SEEK_END);
        *len = (size_t)ftell(fp);
        rewind(fp);
        char *b = malloc(*len + 1);
        if (b && fread(b, 1, *len, fp) != *len) {
                free(b);
                b = NULL;
        }
        fclose(fp);
        return b;
}

/* One GET /metrics; returns the body size, or -1. */
static long scrape(int port) {
        char buf[65536];
        long total = 0;
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
                if (fd >= 0)
                        close(fd);
                return -1;
        }
        static const char req[] = "GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n";
        if (write(fd, req, sizeof(req) - 1) != (ssize_t)(sizeof(req) - 1)) {
                close(fd);
                return -1;
        }
        for (ssize_t n; (n = read(fd, buf, sizeof(buf))) > 0;)
                total += n;
        close(fd);
        return total;
}

static volatile int scraping = 1;
static int port;
static long scrapes_done;

static void *scraper(void *arg) {
        (void)arg;
        struct timespec tick = {0, 100 * 1000 * 1000}; /* 10 per second */
        while (scraping) {
                if (scrape(port) > 0)
                        scrapes_done++;
                nanosleep(&tick, NULL);
        }
        return NULL;
}

static double parse_rate(mm_parser_t *p, char **bufs, size_t *lens, int n, double seconds) {
        double t0 = clock_s(CLOCK_MONOTONIC), bytes = 0;
        while (clock_s(CLOCK_MONOTONIC) - t0 < seconds)
                for (int i = 0; i < n; i++) {
                        mm_parse_error_t err;
                        json_t *d = mm_parser_parse(p, bufs[i], lens[i], &err);
                        json_decref(d);
                        bytes += (double)lens[i];
                }
        return bytes / (clock_s(CLOCK_MONOTONIC) - t0) / 1e6;
}

int main(int argc, char **argv) {
        char errstr[512];
        size_t slen;
        if (argc < 3) {
                fprintf(stderr, "usage: metrics_bench STATS_JSON SEED_FILE...\n");
                return 2;
        }
        char *stats = slurp(argv[1], &slen);
        mm_metrics_t *m = mm_metrics_new("bench", errstr, sizeof(errstr));
        if (!stats || !m || mm_metrics_start(m, "127.0.0.1", 0, errstr, sizeof(errstr))) {
                fprintf(stderr, "metrics_bench: %s\n", stats ? errstr : "cannot read stats");
                return 1;
        }
        port = mm_metrics_port(m);
        if (mm_metrics_update_stats(m, stats, slen, errstr, sizeof(errstr)))
                fprintf(stderr, "metrics_bench: stats: %s\n", errstr);
        static const char *const codes[] = {"empty", "binary", "not_minutes", "too_large",
                                            "pdf_no_text"};
        for (int i = 0; i < 5000; i++) {
                mm_metrics_add_consumed(m, 1);
                mm_metrics_add_written(m, 1);
                mm_metrics_observe_parse(m, 0.0005 * (i % 40));
                mm_metrics_observe_db_batch(m, 0.01 * (i % 50));
                if (i % 50 == 0)
                        mm_metrics_add_dead_letter(m, codes[i % 5]);
        }
        mm_metrics_set_assigned(m, 12);
        mm_metrics_set_db_ok(m, 1);

        /* 1. cost of one scrape */
        const int n = 2000;
        long body = 0;
        double c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID), w0 = clock_s(CLOCK_MONOTONIC);
        for (int i = 0; i < n; i++)
                body = scrape(port);
        double cpu = (clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0) / n;
        double wall = (clock_s(CLOCK_MONOTONIC) - w0) / n;
        if (body <= 0) {
                fprintf(stderr, "metrics_bench: scrape failed\n");
                return 1;
        }
        printf("scrape: %ld bytes, %.1f us CPU and %.1f us wall per scrape (server + client)\n",
               body, cpu * 1e6, wall * 1e6);
        printf("scrape every 15 s: %.5f %% of one core\n", cpu / 15.0 * 100.0);

        /* 2. parse throughput with and without a scraper */
        int nf = argc - 2;
        char **bufs = calloc((size_t)nf, sizeof(char *));
        size_t *lens = calloc((size_t)nf, sizeof(size_t));
        for (int i = 0; i < nf; i++)
                if (!(bufs[i] = slurp(argv[2 + i], &lens[i]))) {
                        perror(argv[2 + i]);
                        return 1;
                }
        mm_parser_t *p = mm_parser_new(0, errstr, sizeof(errstr));
        if (!p) {
                fprintf(stderr, "metrics_bench: %s\n", errstr);
                return 1;
        }
        parse_rate(p, bufs, lens, nf, 1); /* warm-up */
        double quiet = parse_rate(p, bufs, lens, nf, 5);
        pthread_t th;
        pthread_create(&th, NULL, scraper, NULL);
        double busy = parse_rate(p, bufs, lens, nf, 5);
        scraping = 0;
        pthread_join(th, NULL);
        printf("parse throughput: %.1f MB/s without scraping, %.1f MB/s with %ld scrapes at "
               "10/s: %+.2f %%\n",
               quiet, busy, scrapes_done, (busy - quiet) / quiet * 100.0);
        printf("scrape cost at a 15 s interval, as a share of the worker's throughput: %.5f %%\n",
               cpu / 15.0 * 100.0);
        mm_parser_destroy(p);
        mm_metrics_destroy(m);
        for (int i = 0; i < nf; i++)
                free(bufs[i]);
        free(bufs);
        free(lens);
        free(stats);
        return 0;
}
