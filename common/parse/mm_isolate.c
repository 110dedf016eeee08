/*
 * mm_isolate: mm_source_parse under the sandbox's limits. See mm_isolate.h.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include "mm_isolate.h"

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mm_extract.h"
#include "mm_log.h"
#include "mm_sandbox.h"

int mm_isolate_transient(const char *code) {
        return code != NULL && !strcmp(code, MM_SANDBOX_CODE_TRANSIENT);
}

/* Test builds only. MM_TEST_HOOKS: an input holding $MM_TEST_CRASH_MARKER
 * crashes the process that parses it (SIGSEGV), the worker or its child,
 * as a crashing parser would. MM_EXTRACT_TEST_HOOKS: in the child, an
 * input holding MM_EXTRACT_TEST_SPIN/_HOG/_CRASH spins, eats memory or
 * segfaults, as an adversarial export would in an adapter. */
static void test_hooks(const char *data, size_t len, int in_child) {
#ifdef MM_TEST_HOOKS
        const char *marker = getenv("MM_TEST_CRASH_MARKER");
        if (marker && *marker && data && memmem(data, len, marker, strlen(marker))) {
                mm_log(MM_LOG_WARN, in_child ? "test hook: crashing the sandbox child on a marked "
                                               "input"
                                             : "test hook: crashing on a marked input");
                raise(SIGSEGV);
        }
#endif
#ifdef MM_EXTRACT_TEST_HOOKS
        if (in_child && data && memmem(data, len, "MM_EXTRACT_TEST_SPIN", 20))
                for (volatile unsigned long i = 0;; i++)
                        ;
        if (in_child && data && memmem(data, len, "MM_EXTRACT_TEST_HOG", 19))
                for (;;) {
                        char *p = malloc(1u << 20);
                        if (p == NULL)
                                abort();
                        memset(p, 1, 1u << 20);
                }
        if (in_child && data && memmem(data, len, "MM_EXTRACT_TEST_CRASH", 21))
                raise(SIGSEGV);
#endif
        (void)data;
        (void)len;
        (void)in_child;
}

/* What the child passes back (rc 0 from the child's function): a header,
 * the text, then the model as compact JSON. */
enum { STAGE_NONE = 0, STAGE_EXTRACT, STAGE_PARSE };
#define ADAPTER_UNKNOWN 255u
typedef struct packed_s {
        uint32_t ok, adapter, stage;
        char code[32];
        char reason[256];
        uint64_t text_len;
} packed_t;

typedef struct job_s {
        const mm_parser_t *p;
        const char *buf;
        size_t len;
        const char *content_type;
} job_t;

static uint32_t adapter_index(const char *name) {
        size_t n = 0;
        const mm_source_adapter_t *const *a = mm_source_adapters(&n);
        for (size_t i = 0; name && i < n; i++)
                if (!strcmp(a[i]->name, name))
                        return (uint32_t)i;
        return ADAPTER_UNKNOWN;
}

/* Packs a parse into one malloc'd buffer; NULL when out of memory. */
static char *pack(const mm_source_result_t *r, const mm_parse_error_t *err, int ok, size_t *len) {
        packed_t h;
        memset(&h, 0, sizeof h);
        h.ok = (uint32_t)ok;
        h.adapter = adapter_index(r->adapter);
        h.stage = !r->stage                      ? STAGE_NONE
                  : !strcmp(r->stage, "extract") ? STAGE_EXTRACT
                                                 : STAGE_PARSE;
        memcpy(h.code, err->code, sizeof h.code);
        memcpy(h.reason, err->reason, sizeof h.reason);
        h.text_len = ok ? r->text_len : 0;
        size_t jlen = ok ? json_dumpb(r->doc, NULL, 0, JSON_COMPACT) : 0;
        size_t n = sizeof h + (size_t)h.text_len + jlen;
        char *out = malloc(n ? n : 1);
        if (out == NULL)
                return NULL;
        memcpy(out, &h, sizeof h);
        if (h.text_len)
                memcpy(out + sizeof h, r->text, (size_t)h.text_len);
        if (jlen && json_dumpb(r->doc, out + sizeof h + h.text_len, jlen, JSON_COMPACT) != jlen) {
                free(out);
                return NULL;
        }
        *len = n;
        return out;
}

/* Runs in the sandbox child (mm_sandbox_fn_t). */
static void parse_in_child(void *arg, mm_sandbox_result_t *res) {
        const job_t *j = arg;
        test_hooks(j->buf, j->len, 1);
        mm_source_result_t r;
        mm_parse_error_t err;
        int ok = mm_source_parse(j->p, j->buf, j->len, j->content_type, &r, &err) == 0;
        if (!ok && !strcmp(err.code, "out_of_memory")) { /* the memory limit */
                res->rc = -1;
                snprintf(res->code, sizeof res->code, "out_of_memory");
                snprintf(res->errstr, sizeof res->errstr, "%s", err.reason);
                mm_source_result_clear(&r);
                return;
        }
        res->data = pack(&r, &err, ok, &res->len);
        mm_source_result_clear(&r);
        res->rc = res->data ? 0 : -1;
        if (!res->data)
                snprintf(res->code, sizeof res->code, "out_of_memory");
}

/* Unpacks what the child passed back into `res` and `err`. */
static int unpack(const char *data, size_t len, mm_source_result_t *res, mm_parse_error_t *err) {
        packed_t h;
        if (len < sizeof h)
                return -1;
        memcpy(&h, data, sizeof h);
        if (h.text_len > len - sizeof h)
                return -1;
        size_t n = 0;
        const mm_source_adapter_t *const *a = mm_source_adapters(&n);
        res->adapter = h.adapter < n ? a[h.adapter]->name : "unknown";
        h.code[sizeof h.code - 1] = h.reason[sizeof h.reason - 1] = '\0';
        snprintf(err->code, sizeof err->code, "%s", h.code);
        snprintf(err->reason, sizeof err->reason, "%s", h.reason);
        if (!h.ok) {
                res->stage = h.stage == STAGE_EXTRACT ? "extract" : "parse";
                return 1;
        }
        const char *js = data + sizeof h + h.text_len;
        size_t jlen = len - sizeof h - (size_t)h.text_len;
        res->doc = json_loadb(js, jlen, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, NULL);
        res->text = malloc((size_t)h.text_len + 1);
        if (!res->doc || !res->text)
                return -1;
        memcpy(res->text, data + sizeof h, (size_t)h.text_len);
        res->text[h.text_len] = '\0';
        res->text_len = (size_t)h.text_len;
        return 0;
}

static int fail(mm_source_result_t *res, mm_parse_error_t *err, const char *code,
                const char *reason) {
        mm_source_result_clear(res);
        res->stage = "extract";
        snprintf(err->code, sizeof err->code, "%s", code);
        snprintf(err->reason, sizeof err->reason, "%.250s", reason);
        return -1;
}

/* Does the adapters' one-time set-up (mm_source_build's shared tables and
 * patterns) here, once, on no input at all, so every child inherits it
 * instead of redoing it: about 25 ms of CPU per export otherwise. */
static void warm_up(const mm_parser_t *p) {
        static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
        static int done;
        pthread_mutex_lock(&lock);
        if (!done)
                mm_source_build_destroy(mm_source_build_new(p));
        done = 1;
        pthread_mutex_unlock(&lock);
}

static int parse_isolated(const job_t *j, mm_source_result_t *res, mm_parse_error_t *err) {
        warm_up(j->p);
        mm_extract_limits_t lim;
        mm_extract_get_limits(&lim);
        /* the model of a document is a few times its text; the child can
         * pass back no more than its memory budget */
        mm_sandbox_limits_t sl = {lim.cpu_seconds, lim.max_memory, lim.max_memory, 0};
        mm_sandbox_result_t sr;
        mm_sandbox_status_t st = mm_sandbox_run(&sl, parse_in_child, (void *)j, &sr);
        if (st != MM_SANDBOX_DONE || sr.rc != 0) {
                int rc = fail(res, err, sr.code[0] ? sr.code : MM_SANDBOX_CODE_CRASH, sr.errstr);
                mm_sandbox_result_clear(&sr);
                return rc;
        }
        const mm_source_adapter_t *a = mm_source_detect(j->buf, j->len, j->content_type);
        res->adapter = a ? a->name : "unknown";
        int u = unpack(sr.data, sr.len, res, err);
        mm_sandbox_result_clear(&sr);
        if (u < 0)
                return fail(res, err, MM_SANDBOX_CODE_TRANSIENT,
                            "the sandboxed parse came back unreadable (out of memory?), retried");
        if (u > 0) {
                json_decref(res->doc);
                res->doc = NULL;
                return -1;
        }
        return 0;
}

int mm_isolate_parse(const mm_parser_t *p, const char *buf, size_t len, const char *content_type,
                     mm_isolate_mode_t mode, mm_source_result_t *res, mm_parse_error_t *err) {
        memset(res, 0, sizeof *res);
        memset(err, 0, sizeof *err);
        mm_extract_limits_t lim;
        mm_extract_get_limits(&lim);
        const mm_source_adapter_t *a = mm_source_detect(buf, len, content_type);
        int isolate = lim.sandbox && !mm_sandbox_in_child() &&
                      (mode == MM_ISOLATE_ALL || (a != NULL && a->sniff != NULL));
        if (!isolate) {
                test_hooks(buf, len, 0);
                return mm_source_parse(p, buf, len, content_type, res, err);
        }
        job_t j = {p, buf, len, content_type};
        return parse_isolated(&j, res, err);
}
