/*
 * libFuzzer target: any byte string through the source adapters
 * (mm_source_parse), with no content type or one of the exports' types
 * (chosen by the first byte). An adapter must return a model or a
 * rejection with a code, never crash, leak or trip the sanitizers. The
 * same bytes go through minutes-source's reading of a publication's Bilag
 * (mm_attach_firstagenda_refs): refs or an error, never a crash.
 */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "mm_attach.h"
#include "mm_extract.h"
#include "mm_source.h"

static mm_parser_t *parser;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const char *const types[] = {NULL, MM_SOURCE_CT_FIRSTAGENDA, MM_SOURCE_CT_EDOC,
                                            MM_SOURCE_CT_SBSYS};
        mm_parse_error_t err;
        mm_source_result_t res;
        if (!parser) {
                char errstr[256];
                mm_extract_global_init();
                parser = mm_parser_new(1u << 20, errstr, sizeof(errstr));
                if (!parser) {
                        fprintf(stderr, "%s\n", errstr);
                        abort();
                }
        }
        mm_attach_ref_t *refs;
        size_t nrefs;
        char aerr[256];
        if (mm_attach_firstagenda_refs((const char *)data, size, &refs, &nrefs, aerr,
                                       sizeof(aerr)) == 0)
                mm_attach_refs_free(refs, nrefs);
        else if (!aerr[0] || refs)
                abort(); /* an error says why and returns nothing */
        const char *ct = size ? types[data[0] % 4] : NULL;
        if (mm_source_parse(parser, (const char *)data, size, ct, &res, &err) == 0) {
                char *s = json_dumps(res.doc, JSON_COMPACT);
                if (!s || !res.text)
                        abort();
                free(s);
        } else if (!err.code[0]) {
                abort(); /* a rejection always says why */
        }
        mm_source_result_clear(&res);
        return 0;
}
