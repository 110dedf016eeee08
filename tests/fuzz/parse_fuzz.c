/*
 * libFuzzer target: any byte string through the whole parser. The parser
 * must return a document or a rejection, never crash, leak or trip the
 * sanitizers; a returned document must serialise.
 */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "mm_parser.h"

static mm_parser_t *parser;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        mm_parse_error_t err;
        if (!parser) {
                char errstr[256];
                /* A small limit keeps every input inside the size check. */
                parser = mm_parser_new(1u << 20, errstr, sizeof(errstr));
                if (!parser) {
                        fprintf(stderr, "%s\n", errstr);
                        abort();
                }
        }
        json_t *doc = mm_parser_parse(parser, (const char *)data, size, &err);
        if (doc) {
                char *s = json_dumps(doc, JSON_COMPACT);
                if (!s)
                        abort();
                free(s);
                json_decref(doc);
        } else if (!err.code[0]) {
                abort(); /* a rejection always says why */
        }
        return 0;
}
