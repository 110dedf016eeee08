/*
 * minutes-parse: parses one meeting document and prints its JSON model.
 *
 *   minutes-parse [--pretty] [--max-bytes N] [--content-type TYPE]
 *                 [--published-at TIME] FILE|-
 *
 * Text, markdown, HTML, PDF and the exports of document systems
 * (FirstAgenda JSON, eDoc agenda XML) are accepted: the source adapter
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

#include "mm_extract.h"
#include "mm_parser.h"
#include "mm_source.h"

static void usage(FILE *fp) {
        fprintf(fp,
                "Usage: minutes-parse [--pretty] [--max-bytes N] [--content-type TYPE]\n"
                "                     [--published-at TIME] FILE|-\n"
                "Parses municipal meeting minutes or an agenda (text, HTML, PDF, or a FirstAgenda\n"
                "or eDoc export) and prints JSON.\n"
                "  --pretty             indent the JSON output\n"
                "  --max-bytes N        reject inputs larger than N bytes (default %u)\n"
                "  --content-type TYPE  e.g. application/pdf, %s, %s\n"
                "                       (default: sniffed from the bytes)\n"
                "  --published-at TIME  publication time of an export (ISO 8601), when the\n"
                "                       export itself does not state it\n"
                "  -h, --help           show this help\n"
                "Exit status: 0 ok, 1 read error, 2 usage error, 3 not minutes or an invalid\n"
                "export.\n",
                MM_PARSER_DEFAULT_MAX_BYTES, MM_SOURCE_CT_FIRSTAGENDA, MM_SOURCE_CT_EDOC);
}

/* Reads at most max+1 bytes, so an oversized input is detected without
 * reading it whole. Returns a malloc'd buffer or NULL with errno set. */
static char *read_input(const char *path, size_t max, size_t *lenp) {
        FILE *fp = strcmp(path, "-") ? fopen(path, "rb") : stdin;
        size_t cap = 65536, len = 0;
        char *buf;

        if (!fp)
                return NULL;
        buf = malloc(cap);
        while (buf) {
                size_t want = cap - len, n;
                if (len > max)
                        break;
                n = fread(buf + len, 1, want, fp);
                len += n;
                if (n < want) {
                        if (ferror(fp)) {
                                free(buf);
                                buf = NULL;
                        }
                        break;
                }
                char *nb = realloc(buf, cap * 2);
                if (!nb) {
                        free(buf);
                        buf = NULL;
                        errno = ENOMEM;
                        break;
                }
                buf = nb;
                cap *= 2;
        }
        if (fp != stdin)
                fclose(fp);
        *lenp = len;
        return buf;
}

int main(int argc, char **argv) {
        static const struct option opts[] = {{"pretty", no_argument, NULL, 'p'},
                                             {"max-bytes", required_argument, NULL, 'm'},
                                             {"content-type", required_argument, NULL, 't'},
                                             {"published-at", required_argument, NULL, 'P'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
        int pretty = 0, c;
        const char *content_type = NULL, *published_at = NULL;
        size_t max = MM_PARSER_DEFAULT_MAX_BYTES, len = 0;
        char errstr[512], *buf, *end;
        mm_parser_t *parser;
        mm_parse_error_t perr;
        json_t *doc;

        while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
                switch (c) {
                case 'p':
                        pretty = 1;
                        break;
                case 'm':
                        errno = 0;
                        max = strtoull(optarg, &end, 10);
                        if (errno || *end || !max) {
                                fprintf(stderr,
                                        "minutes-parse: --max-bytes wants a positive number, got "
                                        "\"%s\"\n",
                                        optarg);
                                return 2;
                        }
                        break;
                case 't':
                        content_type = optarg;
                        break;
                case 'P':
                        published_at = optarg;
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
        buf = read_input(argv[optind], max, &len);
        if (!buf) {
                fprintf(stderr, "minutes-parse: %s: %s\n", argv[optind], strerror(errno));
                return 1;
        }
        parser = mm_parser_new(max, errstr, sizeof(errstr));
        if (!parser) {
                fprintf(stderr, "minutes-parse: %s\n", errstr);
                free(buf);
                return 1;
        }
        if (len > max) {
                doc = mm_parser_parse(parser, buf, len, &perr); /* too_large */
        } else {
                /* The source adapter (text, HTML, PDF or an export) is chosen
                 * from --content-type and the bytes. */
                mm_source_result_t res;
                mm_extract_global_init();
                mm_extract_limits_t lim; /* extracted text is capped like the input */
                mm_extract_get_limits(&lim);
                lim.max_output_bytes = max;
                mm_extract_set_limits(&lim);
                doc = NULL;
                if (mm_source_parse(parser, buf, len, content_type, &res, &perr) == 0) {
                        doc = res.doc;
                        res.doc = NULL; /* ownership passed to doc */
                        mm_source_default_published_at(doc, published_at);
                }
                mm_source_result_clear(&res);
        }
        free(buf);
        mm_parser_destroy(parser);
        if (!doc) {
                json_t *e = json_object();
                char *s;
                json_object_set_new(e, "code", json_string(perr.code));
                json_object_set_new(e, "reason", json_string(perr.reason));
                s = json_dumps(e, JSON_COMPACT);
                fprintf(stderr, "%s\n", s ? s : "{\"code\":\"internal\"}");
                free(s);
                json_decref(e);
                return 3;
        }
        if (json_dumpf(doc, stdout, pretty ? JSON_INDENT(2) : JSON_COMPACT) ||
            fputc('\n', stdout) == EOF) {
                json_decref(doc);
                return 1;
        }
        json_decref(doc);
        return fflush(stdout) ? 1 : 0;
}
