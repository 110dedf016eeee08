/*
 * minutes-parse: parses one meeting document and prints its JSON model.
 *
 *   minutes-parse [--pretty] [--max-bytes N] [--content-type TYPE]
 *                 [--published-at TIME] [--ocr on|off] [--ocr-dpi N]
 *                 [--ocr-min-confidence N] [--extract-max-ocr-pages N]
 *                 [--ocr-seconds N] [--ocr-tessdata DIR] FILE|-
 *
 * Scanned PDF pages are read by OCR (Tesseract, Danish; docs/ocr.md)
 * unless --ocr off; document.text_source says where the text came from.
 *
 * Text, markdown, HTML, PDF and the exports of document systems
 * (FirstAgenda JSON, eDoc agenda XML, SBSYS agenda XML) are accepted: the source adapter
 * comes from --content-type or is sniffed from the bytes (mm_source).
 *
 * Exit status: 0 parsed; 2 usage error; 1 the file could not be read;
 * 3 the input is not minutes or an agenda, cannot be extracted, or is an
 * invalid export (code export_invalid) (a
 * one-line JSON error with a stable "code" and a "reason" is printed on
 * stderr).
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mm_buf.h"
#include "mm_extract.h"
#include "mm_parser.h"
#include "mm_source.h"

static void usage(FILE *fp) {
        fprintf(fp,
                "Usage: minutes-parse [--pretty] [--max-bytes N] [--content-type TYPE]\n"
                "                     [--published-at TIME] FILE|-\n"
                "Parses municipal meeting minutes or an agenda (text, markdown, HTML, PDF, or a\n"
                "FirstAgenda, eDoc or SBSYS export) and prints JSON.\n"
                "  --pretty             indent the JSON output\n"
                "  --max-bytes N        reject inputs larger than N bytes (default %u)\n"
                "  --content-type TYPE  e.g. text/plain, text/html, application/pdf,\n"
                "                       %s,\n"
                "                       %s,\n"
                "                       %s\n"
                "                       (default: sniffed from the bytes)\n"
                "  --published-at TIME  publication time of an export (ISO 8601), when the\n"
                "                       export itself does not state it\n"
                "  --ocr on|off         OCR scanned PDF pages (Tesseract, Danish; default on)\n"
                "  --ocr-dpi N          render resolution for OCR (70-600, default %ld)\n"
                "  --ocr-min-confidence N  an OCRed page with a lower mean word confidence\n"
                "                       (0-100, default %ld) stays empty\n"
                "  --extract-max-ocr-pages N  OCRed pages per document (default %ld)\n"
                "  --ocr-seconds N      OCR budget in CPU seconds (default %ld), on top of\n"
                "                       the extraction CPU limit of %ld s\n"
                "  --ocr-tessdata DIR   folder of dan.traineddata (default %s)\n"
                "  -h, --help           show this help\n"
                "Exit status: 0 ok, 1 read error, 2 usage error, 3 not minutes or an invalid\n"
                "export.\n",
                MM_PARSER_DEFAULT_MAX_BYTES, MM_SOURCE_CT_FIRSTAGENDA, MM_SOURCE_CT_EDOC,
                MM_SOURCE_CT_SBSYS, MM_EXTRACT_DEFAULT_OCR_DPI,
                MM_EXTRACT_DEFAULT_OCR_MIN_CONFIDENCE, MM_EXTRACT_DEFAULT_OCR_MAX_PAGES,
                MM_EXTRACT_DEFAULT_OCR_SECONDS, MM_EXTRACT_DEFAULT_CPU_SECONDS,
                MM_EXTRACT_DEFAULT_OCR_TESSDATA);
}

/* Reads in pieces of 64 KiB or more and stops once more than max bytes
 * are in, so an oversized input is detected without reading it whole.
 * Returns a malloc'd buffer (*lenp its length) or NULL with errno set. */
static char *read_input(const char *path, size_t max, size_t *lenp) {
        FILE *fp = strcmp(path, "-") ? fopen(path, "rb") : stdin;
        mm_buf_t b = MM_BUF_INIT;
        char *out = NULL;
        int err = 0;

        if (!fp)
                return NULL;
        while (b.len <= max) {
                if (mm_buf_reserve(&b, 65536) != 0) {
                        err = ENOMEM;
                        break;
                }
                size_t want = b.cap - b.len - 1; /* keep the NUL's byte */
                size_t n = fread(b.p + b.len, 1, want, fp);
                b.len += n;
                b.p[b.len] = '\0';
                if (n < want) {
                        if (ferror(fp))
                                err = errno ? errno : EIO;
                        break;
                }
        }
        if (fp != stdin)
                fclose(fp);
        if (!err && mm_buf_take(&b, &out, lenp) != 0)
                err = ENOMEM;
        if (err) {
                mm_buf_release(&b);
                errno = err;
                return NULL;
        }
        return out;
}

/* The command line of one run. */
typedef struct parse_opts_s {
        int pretty;
        const char *content_type, *published_at; /* NULL when not given */
        size_t max;
        const char *path;        /* FILE, or "-" for stdin */
        mm_extract_limits_t lim; /* the OCR options; the rest are the defaults */
} parse_opts_t;

/* A number option within [lo, hi] into *v; -1 (message printed) if not. */
static int number_opt(const char *name, const char *arg, long lo, long hi, long *v) {
        char *end;
        errno = 0;
        long n = strtol(arg, &end, 10);
        if (errno || *end || end == arg || n < lo || n > hi) {
                fprintf(stderr, "minutes-parse: --%s wants a number %ld-%ld, got \"%s\"\n", name,
                        lo, hi, arg);
                return -1;
        }
        *v = n;
        return 0;
}

/* The OCR options (getopt values 'o'..'O'); -1 on a bad value. */
static int ocr_option(int c, const char *arg, mm_extract_limits_t *l) {
        switch (c) {
        case 'o':
                if (strcmp(arg, "on") && strcmp(arg, "off")) {
                        fprintf(stderr, "minutes-parse: --ocr wants on or off, got \"%s\"\n", arg);
                        return -1;
                }
                l->ocr = !strcmp(arg, "on");
                return 0;
        case 'd':
                return number_opt("ocr-dpi", arg, MM_EXTRACT_MIN_OCR_DPI, MM_EXTRACT_MAX_OCR_DPI,
                                  &l->ocr_dpi);
        case 'c':
                return number_opt("ocr-min-confidence", arg, 0, 100, &l->ocr_min_confidence);
        case 'n':
                return number_opt("extract-max-ocr-pages", arg, 1, 1000000, &l->ocr_max_pages);
        case 's':
                return number_opt("ocr-seconds", arg, 1, 1000000, &l->ocr_seconds);
        default:
                if (strlen(arg) >= sizeof l->ocr_tessdata) {
                        fprintf(stderr, "minutes-parse: --ocr-tessdata is too long\n");
                        return -1;
                }
                snprintf(l->ocr_tessdata, sizeof l->ocr_tessdata, "%s", arg);
                return 0;
        }
}

/* Reads the command line into *o. Returns -1 to go on, else the exit
 * status (0 after --help, 2 on a usage error, whose message it printed). */
static int read_options(int argc, char **argv, parse_opts_t *o) {
        static const struct option opts[] = {
                {"pretty", no_argument, NULL, 'p'},
                {"max-bytes", required_argument, NULL, 'm'},
                {"content-type", required_argument, NULL, 't'},
                {"published-at", required_argument, NULL, 'P'},
                {"ocr", required_argument, NULL, 'o'},
                {"ocr-dpi", required_argument, NULL, 'd'},
                {"ocr-min-confidence", required_argument, NULL, 'c'},
                {"extract-max-ocr-pages", required_argument, NULL, 'n'},
                {"ocr-seconds", required_argument, NULL, 's'},
                {"ocr-tessdata", required_argument, NULL, 'T'},
                {"help", no_argument, NULL, 'h'},
                {NULL, 0, NULL, 0}};
        char *end;
        int c;

        memset(o, 0, sizeof(*o));
        o->max = MM_PARSER_DEFAULT_MAX_BYTES;
        mm_extract_limits_default(&o->lim);
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
                switch (c) {
                case 'p':
                        o->pretty = 1;
                        break;
                case 'm':
                        errno = 0;
                        o->max = strtoull(optarg, &end, 10);
                        if (errno || *end || !o->max) {
                                fprintf(stderr,
                                        "minutes-parse: --max-bytes wants a positive number, got "
                                        "\"%s\"\n",
                                        optarg);
                                return 2;
                        }
                        break;
                case 't':
                        o->content_type = optarg;
                        break;
                case 'P':
                        o->published_at = optarg;
                        break;
                case 'o':
                case 'd':
                case 'c':
                case 'n':
                case 's':
                case 'T':
                        if (ocr_option(c, optarg, &o->lim) != 0)
                                return 2;
                        break;
                case 'h':
                        usage(stdout);
                        return 0;
                default:
                        usage(stderr);
                        return 2;
                }
        }
        if (optind != argc - 1) {
                fprintf(stderr, "minutes-parse: expected exactly one FILE (or - for stdin)\n");
                usage(stderr);
                return 2;
        }
        o->path = argv[optind];
        return -1;
}

/* The document's model, or NULL with *perr filled. An input over o->max
 * bytes goes to the parser alone, which rejects it (too_large); otherwise
 * the source adapter (text, HTML, PDF or an export) is chosen from
 * --content-type and the bytes. */
static json_t *parse_document(mm_parser_t *parser, const parse_opts_t *o, const char *buf,
                              size_t len, mm_parse_error_t *perr) {
        mm_source_result_t res;
        mm_extract_limits_t lim;
        json_t *doc = NULL;

        if (len > o->max)
                return mm_parser_parse(parser, buf, len, perr); /* too_large */
        mm_extract_global_init();
        lim = o->lim;
        lim.max_output_bytes = o->max; /* extracted text is capped like the input */
        mm_extract_set_limits(&lim);
        if (mm_source_parse(parser, buf, len, o->content_type, &res, perr) == 0) {
                doc = res.doc;
                res.doc = NULL; /* ownership passed to doc */
                mm_source_default_published_at(doc, o->published_at);
        }
        mm_source_result_clear(&res);
        return doc;
}

/* The one-line JSON error on stderr: a stable "code" and a "reason". */
static void print_error(const mm_parse_error_t *perr) {
        json_t *e = json_object();
        char *s;

        json_object_set_new(e, "code", json_string(perr->code));
        json_object_set_new(e, "reason", json_string(perr->reason));
        s = json_dumps(e, JSON_COMPACT);
        fprintf(stderr, "%s\n", s ? s : "{\"code\":\"internal\"}");
        free(s);
        json_decref(e);
}

/* Prints the model on stdout and frees it; the exit status (1 when the
 * output cannot be written). Reals are printed with 15 significant digits,
 * not jansson's 17: a confidence of 0.929 prints as 0.929, not as the
 * nearest double 0.92900000000000005; amounts in DKK keep every digit
 * they can have. Only the printing changes: the values are the same. */
static int print_document(json_t *doc, int pretty) {
        size_t flags = (pretty ? JSON_INDENT(2) : JSON_COMPACT) | JSON_REAL_PRECISION(15);
        if (json_dumpf(doc, stdout, flags) || fputc('\n', stdout) == EOF) {
                json_decref(doc);
                return 1;
        }
        json_decref(doc);
        return fflush(stdout) ? 1 : 0;
}

int main(int argc, char **argv) {
        parse_opts_t o;
        size_t len = 0;
        char errstr[512], *buf;
        mm_parser_t *parser;
        mm_parse_error_t perr;
        json_t *doc;
        int rc = read_options(argc, argv, &o);

        if (rc >= 0)
                return rc;
        buf = read_input(o.path, o.max, &len);
        if (!buf) {
                fprintf(stderr, "minutes-parse: %s: %s\n", o.path, strerror(errno));
                return 1;
        }
        parser = mm_parser_new(o.max, errstr, sizeof(errstr));
        if (!parser) {
                fprintf(stderr, "minutes-parse: %s\n", errstr);
                free(buf);
                return 1;
        }
        doc = parse_document(parser, &o, buf, len, &perr);
        free(buf);
        mm_parser_destroy(parser);
        if (!doc) {
                print_error(&perr);
                return 3;
        }
        return print_document(doc, o.pretty);
}
