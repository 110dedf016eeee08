#include "mm_source.h"

static const char *const ct_edoc[] = {MM_SOURCE_CT_EDOC, NULL};

static int parse(const mm_parser_t *p, const char *buf, size_t len, const char *content_type,
                 mm_source_result_t *res, mm_parse_error_t *err) {
        (void)p, (void)buf, (void)len, (void)content_type, (void)res;
        return mm_source_invalid(err, "not yet");
}

const mm_source_adapter_t mm_source_edoc = {"edoc", ct_edoc, NULL, parse};
