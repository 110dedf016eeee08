/*
 * Unit tests of the export adapters' bounds (issue 19): entity
 * declarations are refused, every field and the model are capped and a
 * cap is an error, an allocation that fails is an error (never a model
 * with something cut), and the work of each adapter grows linearly (or
 * n log n) with the number of attachments and participants.
 *
 * The inputs are generated here at run time (the 56 KB eDoc with
 * one 50 KB entity referenced 2,000 times among them): nothing large is
 * committed. Growth is checked by the adapters' work count (hash lookups,
 * sort comparisons, nodes visited), never by the clock.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mm_buf.h"
#include "mm_extract.h"
#include "mm_source.h"

static mm_parser_t *g_parser;

/* ---- generated exports ---- */

/* Every export carries a municipality (in an item title) and a meeting
 * that is whole, so that only the part under test can fail it. */
static char *edoc(const char *doctype, const char *name, const char *participants,
                  const char *title) {
        mm_buf_t b = MM_BUF_INIT;
        mm_buf_printf(&b,
                      "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n%s\n"
                      "<Root xmlns=\"http://www.fujitsu.dk/agenda/xml/schemas/2009/03/31/\">"
                      "<Committee><Name>%s</Name><Meeting>"
                      "<MeetingIdentifier>M-1</MeetingIdentifier>"
                      "<MeetingDateTime>02-05-2017 10:00</MeetingDateTime>"
                      "<MeetingParticipants>%s</MeetingParticipants>"
                      "<Agenda><Identifier>A-1</Identifier><Type>Dagsorden</Type>"
                      "<AgendaElements><AgendaElement><AccessIsPublic>true</AccessIsPublic>"
                      "<HandlingItem><SerialNo>1</SerialNo><Title>%s</Title></HandlingItem>"
                      "</AgendaElement></AgendaElements></Agenda></Meeting></Committee></Root>\n",
                      doctype, name, participants, title);
        assert_int_equal(b.err, MM_BUF_OK);
        return b.p;
}

static char *sbsys(const char *doctype, const char *name, const char *members) {
        mm_buf_t b = MM_BUF_INIT;
        mm_buf_printf(&b,
                      "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n%s\n"
                      "<Publication TimeStamp=\"2013-05-07T11:16:47\">"
                      "<Published>07-05-2013 11:16:47</Published>"
                      "<PublicationTypeAsEnum>Agenda</PublicationTypeAsEnum>"
                      "<Agendas><Agenda ID=\"7\"><Committee><Name>%s</Name></Committee>"
                      "<Meeting ID=\"26\"><When>15-05-2013 16:30:00</When>"
                      "<Members>%s</Members></Meeting>"
                      "<Items><Item><Number>1</Number><Caption>Greve Kommune: budget</Caption>"
                      "</Item></Items></Agenda></Agendas></Publication>\n",
                      doctype, name, members);
        assert_int_equal(b.err, MM_BUF_OK);
        return b.p;
}

/* n bytes of 'x'. */
static char *xs(size_t n) {
        char *s = malloc(n + 1);
        assert_non_null(s);
        memset(s, 'x', n);
        s[n] = '\0';
        return s;
}

/* s repeated n times. */
static char *rep(const char *s, size_t n) {
        mm_buf_t b = MM_BUF_INIT;
        for (size_t i = 0; i < n; i++)
                mm_buf_append(&b, s, strlen(s));
        assert_int_equal(mm_buf_reserve(&b, 0), 0);
        return b.p;
}

static int parse(const char *buf, const char *ct, mm_source_result_t *res, mm_parse_error_t *err) {
        int rc = mm_source_parse(g_parser, buf, strlen(buf), ct, res, err);
        if (rc)
                fprintf(stderr, "    (%s: %s)\n", err->code, err->reason);
        return rc;
}

/* Parses and expects a refusal with this code and words in the reason. */
static void expect_refused(const char *buf, const char *ct, const char *code, const char *words) {
        mm_source_result_t res;
        mm_parse_error_t err;
        assert_int_equal(parse(buf, ct, &res, &err), -1);
        assert_null(res.doc);
        assert_string_equal(err.code, code);
        if (!strstr(err.reason, words))
                fail_msg("reason '%s' lacks '%s'", err.reason, words);
        mm_source_result_clear(&res);
}

static const char *dstr(json_t *doc, const char *key) {
        return json_string_value(json_object_get(json_object_get(doc, "document"), key));
}

/* ---- defect 1: entity amplification ---- */

/* The input: a 56 KB eDoc with one 50 KB entity referenced 2,000
 * times in the committee name (100,000,000 characters when expanded). */
static void test_edoc_entity_bomb(void **state) {
        (void)state;
        char *x = xs(50000), *refs = rep("&e;", 2000);
        mm_buf_t dt = MM_BUF_INIT;
        mm_buf_printf(&dt, "<!DOCTYPE Root [<!ENTITY e \"%s\">]>", x);
        char *doc = edoc(dt.p, refs, "", "Greve Kommune: budget");
        assert_true(strlen(doc) > 50000 && strlen(doc) < 60000);
        expect_refused(doc, MM_SOURCE_CT_EDOC, "export_invalid", "DOCTYPE Root");
        expect_refused(doc, MM_SOURCE_CT_EDOC, "export_invalid", "ENTITY e");
        /* The same export without the DOCTYPE (and the references) parses. */
        char *plain = edoc("", "Byrådet", "", "Greve Kommune: budget");
        mm_source_result_t res;
        mm_parse_error_t err;
        assert_int_equal(parse(plain, MM_SOURCE_CT_EDOC, &res, &err), 0);
        assert_string_equal(dstr(res.doc, "committee"), "Byrådet");
        assert_string_equal(dstr(res.doc, "municipality"), "Greve Kommune");
        mm_source_result_clear(&res);
        free(plain);
        free(doc);
        free(refs);
        free(x);
        mm_buf_release(&dt);
}

/* Nested entities ("billion laughs"), a parameter entity, an ATTLIST with
 * a default value: every declaration in a DOCTYPE is refused, in SBSYS as
 * in eDoc. A DOCTYPE with no internal subset is read (nothing to expand). */
static void test_doctype_declarations(void **state) {
        (void)state;
        static const char *const doctypes[] = {
                /* one literal in two pieces (parentheses: not a missing comma) */
                ("<!DOCTYPE Publication [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b "
                 "\"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\"><!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;\">]>"),
                "<!DOCTYPE Publication [<!ENTITY % p \"<!ENTITY q 'qq'>\"> %p;]>",
                "<!DOCTYPE Publication [<!ATTLIST Agenda ID CDATA \"99\">]>",
                "<!DOCTYPE Publication [<!ATTLIST Agenda Kind (a|b) \"a\">]>",
                "<!DOCTYPE Publication [<!ELEMENT Publication ANY>]>",
                "<!DOCTYPE Publication [<!ENTITY u SYSTEM \"http://example.invalid/x\">]>",
        };
        for (size_t i = 0; i < sizeof(doctypes) / sizeof(doctypes[0]); i++) {
                char *doc = sbsys(doctypes[i], i == 0 ? "&c;" : "Udvalget", "");
                expect_refused(doc, MM_SOURCE_CT_SBSYS, "export_invalid", "DOCTYPE Publication");
                expect_refused(doc, NULL, "export_invalid", "DOCTYPE Publication"); /* sniffed */
                free(doc);
        }
        expect_refused("", MM_SOURCE_CT_SBSYS, "export_invalid", "SBSYS XML: empty");
        char *doc = sbsys("<!DOCTYPE Publication SYSTEM \"publication.dtd\">", "Udvalget", "");
        mm_source_result_t res;
        mm_parse_error_t err;
        assert_int_equal(parse(doc, NULL, &res, &err), 0);
        assert_string_equal(res.adapter, "sbsys");
        assert_string_equal(dstr(res.doc, "committee"), "Udvalget");
        mm_source_result_clear(&res);
        free(doc);
}

/* A field longer than max-doc-bytes is an error, never a cut field; the
 * same for the model's text and an HTML field that nests too deep. */
static void test_field_caps(void **state) {
        (void)state;
        mm_extract_limits_t saved, lim;
        mm_extract_get_limits(&saved);
        lim = saved;
        lim.max_output_bytes = 64 * 1024;
        mm_extract_set_limits(&lim);
        char *x = xs(100 * 1024);
        char *doc = edoc("", x, "", "Greve Kommune: budget");
        expect_refused(doc, MM_SOURCE_CT_EDOC, "export_invalid", "max-doc-bytes");
        free(doc);
        doc = sbsys("", x, "");
        expect_refused(doc, MM_SOURCE_CT_SBSYS, "export_invalid", "max-doc-bytes");
        free(doc);
        /* Titles under the field cap whose sum passes it: the model's text. */
        char *t = xs(40 * 1024);
        mm_buf_t fa = MM_BUF_INIT;
        mm_buf_printf(&fa, "{\"Id\":\"a\",\"Udvalg\":{\"Id\":\"u1\"},\"Moede\":{\"Dato\":\"2022-01-"
                           "10T08:00:00\"},"
                           "\"Dagsordenpunkter\":[");
        for (int i = 1; i <= 3; i++)
                mm_buf_printf(&fa, "%s{\"Punktnummer\":%d,\"Navn\":\"Greve Kommune %s\"}",
                              i > 1 ? "," : "", i, t);
        mm_buf_printf(&fa, "]}");
        expect_refused(fa.p, NULL, "export_invalid", "max-doc-bytes");
        mm_extract_set_limits(&saved);
        mm_buf_release(&fa);

        /* HTML nested past extract-max-html-depth: libxml2 alone would stop
         * at depth 256 and drop the rest of the field without a word. */
        char *open = rep("<div>", 300), *close = rep("</div>", 300);
        mm_buf_printf(&fa,
                      "{\"Id\":\"a\",\"Udvalg\":{\"Id\":\"u1\"},\"Moede\":{\"Dato\":\"2022-01-"
                      "10T08:00:00\"},"
                      "\"Dagsordenpunkter\":[{\"Punktnummer\":1,\"Navn\":\"Greve Kommune\","
                      "\"Felter\":[{\"Html\":\"<p>Start</p>%sSlut%s\"}]}]}",
                      open, close);
        expect_refused(fa.p, NULL, "export_invalid", "extract-max-html-depth");
        mm_buf_release(&fa);
        free(open);
        free(close);
        free(t);
        free(x);
}

/* A small export whose model would be huge: every absent member of the
 * meeting is repeated in every item (1,100 x 1,000). Refused, whole. */
static void test_model_cap(void **state) {
        (void)state;
        mm_buf_t fa = MM_BUF_INIT;
        mm_buf_printf(&fa, "{\"Id\":\"a\",\"Udvalg\":{\"Id\":\"u1\"},\"Moede\":{\"Dato\":\"2022-01-"
                           "10T08:00:00\","
                           "\"Moededeltagere\":[");
        for (int i = 0; i < 1100; i++)
                mm_buf_printf(&fa, "%s{\"Name\":\"M%d\",\"Absent\":true}", i ? "," : "", i);
        mm_buf_printf(&fa, "]},\"Dagsordenpunkter\":[");
        for (int i = 1; i <= 1000; i++)
                mm_buf_printf(&fa, "%s{\"Punktnummer\":%d,\"Navn\":\"Greve Kommune\"}",
                              i > 1 ? "," : "", i);
        mm_buf_printf(&fa, "]}");
        assert_true(fa.len < 100000);
        expect_refused(fa.p, NULL, "export_invalid", "values");
        mm_buf_release(&fa);
}

/* ---- failed allocations are errors ---- */

static long g_alloc_left = -1; /* allocations until one fails; -1: never */

static void *failing_malloc(size_t n) {
        if (g_alloc_left == 0)
                return NULL;
        if (g_alloc_left > 0)
                g_alloc_left--;
        return malloc(n);
}

/* Fails the k-th allocation of jansson (every JSON value of the model)
 * for k = 1, 2, ...: each parse gives the whole model or an error. */
static void oom_sweep(const char *buf, const char *ct) {
        mm_source_result_t res;
        mm_parse_error_t err;
        assert_int_equal(parse(buf, ct, &res, &err), 0);
        char *want = json_dumps(res.doc, JSON_COMPACT | JSON_SORT_KEYS);
        mm_source_result_clear(&res);
        long total = 0, ok = 0, failed = 0;
        json_set_alloc_funcs(failing_malloc, free);
        g_alloc_left = 1L << 40;
        assert_int_equal(mm_source_parse(g_parser, buf, strlen(buf), ct, &res, &err), 0);
        total = (1L << 40) - g_alloc_left;
        g_alloc_left = -1;
        mm_source_result_clear(&res);
        assert_true(total > 50);
        for (long k = 0; k < total; k += 1 + total / 2000) {
                g_alloc_left = k;
                int rc = mm_source_parse(g_parser, buf, strlen(buf), ct, &res, &err);
                g_alloc_left = -1;
                if (rc == 0) {
                        char *got = json_dumps(res.doc, JSON_COMPACT | JSON_SORT_KEYS);
                        if (strcmp(got, want))
                                fail_msg("allocation %ld failed, the parse succeeded with a "
                                         "different model",
                                         k);
                        free(got);
                        ok++;
                } else {
                        assert_true(err.code[0] != '\0');
                        failed++;
                }
                mm_source_result_clear(&res);
        }
        json_set_alloc_funcs(malloc, free);
        fprintf(stderr, "    %ld allocations; failing one: %ld whole models, %ld errors\n", total,
                ok, failed);
        assert_true(failed > 0);
        free(want);
}

static void test_oom_is_an_error(void **state) {
        (void)state;
        char *x = rep("<MeetingParticipant><Name>A B</Name></MeetingParticipant>"
                      "<MeetingParticipant><Name>C D</Name><Participate>false</Participate>"
                      "</MeetingParticipant>",
                      2);
        char *doc = edoc("", "Byrådet", x, "Greve Kommune: budget på 1.000 kr.");
        oom_sweep(doc, NULL);
        free(doc);
        free(x);
        oom_sweep("{\"Id\":\"a\",\"Udvalg\":{\"Id\":\"u1\"},\"Moede\":{\"Dato\":\"2022-01-10T08:00:"
                  "00\",\"Moededeltagere\":"
                  "[{\"Name\":\"A B\"},{\"Name\":\"C D\",\"Absent\":true}]},"
                  "\"Dagsordenpunkter\":[{\"Punktnummer\":1,\"Navn\":\"Greve Kommune: budget\","
                  "\"Felter\":[{\"Html\":\"<h3>Beslutning</h3><p>Godkendt. 1.000 kr. efter "
                  "§ 4 i lov om social service.</p>\"}],"
                  "\"Bilag\":[{\"Navn\":\"b\",\"Order\":2},{\"Navn\":\"a\",\"Order\":1}]}]}",
                  NULL);
}

/* ---- defect 2: linear work ---- */

/* FirstAgenda: one item with n attachments in reverse Order (the worst
 * case of the insertion sort that was), or n participants. */
static char *fa_many(size_t n, int participants) {
        mm_buf_t b = MM_BUF_INIT;
        mm_buf_printf(&b, "{\"Id\":\"a\",\"Udvalg\":{\"Id\":\"u1\"},\"Moede\":{\"Dato\":\"2022-01-"
                          "10T08:00:00\","
                          "\"Moededeltagere\":[");
        for (size_t i = 0; participants && i < n; i++)
                mm_buf_printf(&b, "%s{\"Name\":\"Medlem %zu\"}", i ? "," : "", i);
        mm_buf_printf(&b, "]},\"Dagsordenpunkter\":[{\"Punktnummer\":1,\"Navn\":\"Greve "
                          "Kommune\",\"Bilag\":[");
        for (size_t i = 0; !participants && i < n; i++)
                mm_buf_printf(&b, "%s{\"Navn\":\"Bilag %zu\",\"Order\":%zu}", i ? "," : "", i,
                              n - i);
        mm_buf_printf(&b, "]}]}");
        assert_int_equal(b.err, MM_BUF_OK);
        return b.p;
}

static char *edoc_many(size_t n) {
        mm_buf_t p = MM_BUF_INIT;
        for (size_t i = 0; i < n; i++)
                mm_buf_printf(
                        &p, "<MeetingParticipant><Name>Medlem %zu</Name></MeetingParticipant>", i);
        char *doc = edoc("", "Byrådet", p.p, "Greve Kommune: budget");
        mm_buf_release(&p);
        return doc;
}

static char *sbsys_many(size_t n) {
        mm_buf_t p = MM_BUF_INIT;
        for (size_t i = 0; i < n; i++)
                mm_buf_printf(&p, "<MeetingMember><Name>Medlem %zu</Name></MeetingMember>", i);
        char *doc = sbsys("", "Byrådet", p.p);
        mm_buf_release(&p);
        return doc;
}

/* The work of a parse of make(n); checks the model has n of what. */
static unsigned long long work_of(char *(*make)(size_t, int), int arg, size_t n, int attach) {
        char *buf = make(n, arg);
        mm_source_result_t res;
        mm_parse_error_t err;
        assert_int_equal(parse(buf, NULL, &res, &err), 0);
        json_t *d = json_object_get(res.doc, "document");
        json_t *it = json_array_get(json_object_get(res.doc, "items"), 0);
        if (attach) {
                json_t *a = json_object_get(it, "attachments");
                assert_int_equal(json_array_size(a), n);
                /* in Order: reversed from the input */
                char first[32];
                snprintf(first, sizeof(first), "Bilag %zu", n - 1);
                assert_string_equal(json_string_value(json_array_get(a, 0)), first);
        } else {
                assert_int_equal(json_array_size(json_object_get(d, "participants")), n);
        }
        unsigned long long w = res.work;
        mm_source_result_clear(&res);
        free(buf);
        return w;
}

static char *edoc_many2(size_t n, int unused) {
        (void)unused;
        return edoc_many(n);
}

static char *sbsys_many2(size_t n, int unused) {
        (void)unused;
        return sbsys_many(n);
}

/* 8 times the input: linear work grows 8 times, n log n about 10 times,
 * quadratic 64 times. The bound 20 cannot flake (it counts, not times). */
static void check_growth(const char *what, char *(*make)(size_t, int), int arg, int attach) {
        unsigned long long w1 = work_of(make, arg, 2000, attach);
        unsigned long long w8 = work_of(make, arg, 16000, attach);
        double ratio = (double)w8 / (double)(w1 ? w1 : 1);
        fprintf(stderr, "    %s: work %llu at 2,000, %llu at 16,000 (x%.1f)\n", what, w1, w8,
                ratio);
        assert_true(w1 >= 2000);
        if (ratio > 20)
                fail_msg("%s: work grows %.1f times for 8 times the input", what, ratio);
}

static void test_linear_work(void **state) {
        (void)state;
        check_growth("FirstAgenda attachments", fa_many, 0, 1);
        check_growth("FirstAgenda participants", fa_many, 1, 0);
        check_growth("eDoc participants", edoc_many2, 0, 0);
        check_growth("SBSYS members", sbsys_many2, 0, 0);
}

int main(void) {
        char err[256];
        mm_extract_global_init();
        g_parser = mm_parser_new(0, err, sizeof(err));
        if (!g_parser) {
                fprintf(stderr, "%s\n", err);
                return 1;
        }
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_edoc_entity_bomb),
                cmocka_unit_test(test_doctype_declarations),
                cmocka_unit_test(test_field_caps),
                cmocka_unit_test(test_model_cap),
                cmocka_unit_test(test_oom_is_an_error),
                cmocka_unit_test(test_linear_work),
        };
        int rc = cmocka_run_group_tests(tests, NULL, NULL);
        mm_parser_destroy(g_parser);
        return rc;
}
