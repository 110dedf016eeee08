/*
 * Unit tests of the source adapters (mm_source): detection by content type
 * and by bytes, and the field mapping of the FirstAgenda, eDoc and SBSYS
 * adapters on the invented exports in tests/fixtures (tests/tools/make_exports.py).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mm_extract.h"
#include "mm_source.h"

static const char *g_fix;
static mm_parser_t *g_parser;

#define FA_FILE "firstagenda/2024-02-05_okonomiudvalget_e0627ff2.json"
#define EDOC_DIR                                                                                   \
        "edoc/Miljø- og Naturudvalget/2024-06-11 15.00/Dagsorden/Dagsorden/Miljø- og "           \
        "Naturudvalget 11-06-2024/"
#define EDOC_PUB1 EDOC_DIR "2024-06-03 09.12.40/b41e746b-972a-5361-8dc1-3a312865a4ab.xml"
#define EDOC_PUB2 EDOC_DIR "2024-06-12 08.45.05/7854d3fa-76fb-583d-b6bd-fd967c0c4237.xml"

static char *slurp(const char *rel, size_t *len) {
        char path[1024];
        snprintf(path, sizeof(path), "%s/%s", g_fix, rel);
        FILE *fp = fopen(path, "rb");
        assert_non_null(fp);
        fseek(fp, 0, SEEK_END);
        long n = ftell(fp);
        fseek(fp, 0, SEEK_SET);
        char *buf = malloc((size_t)n + 1);
        assert_non_null(buf);
        assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
        fclose(fp);
        buf[n] = '\0';
        *len = (size_t)n;
        return buf;
}

static json_t *parse_file(const char *rel, const char *ct, mm_source_result_t *res) {
        size_t len;
        char *buf = slurp(rel, &len);
        mm_parse_error_t err;
        int rc = mm_source_parse(g_parser, buf, len, ct, res, &err);
        if (rc != 0)
                fprintf(stderr, "%s: %s: %s\n", rel, err.code, err.reason);
        assert_int_equal(rc, 0);
        free(buf);
        return res->doc;
}

static const char *dstr(json_t *doc, const char *key) {
        return json_string_value(json_object_get(json_object_get(doc, "document"), key));
}

static json_t *item(json_t *doc, size_t i) {
        return json_array_get(json_object_get(doc, "items"), i);
}

static const char *istr(json_t *it, const char *key) {
        return json_string_value(json_object_get(it, key));
}

static void test_detect(void **state) {
        (void)state;
        static const char fa[] = "{\"Id\":\"x\",\"Dagsordenpunkter\":[],\"Moede\":{}}";
        static const char ed[] = "\xef\xbb\xbf<Root xmlns:edoc=\"http://www.fujitsu.dk/agenda/xml/"
                                 "schemas/2009/03/31/\"><edoc:Committee/></Root>";
        static const char txt[] = "Referat\nByrådet\n1. Godkendelse af dagsorden\n";
        static const char html[] = "<!DOCTYPE html><html><body><p>Referat</p></body></html>";
        assert_string_equal(mm_source_detect(fa, strlen(fa), NULL)->name, "firstagenda");
        assert_string_equal(mm_source_detect(fa, strlen(fa), "application/octet-stream")->name,
                            "firstagenda");
        assert_string_equal(mm_source_detect(ed, strlen(ed), NULL)->name, "edoc");
        assert_string_equal(mm_source_detect(ed, strlen(ed), "text/xml")->name, "edoc");
        assert_string_equal(mm_source_detect(txt, strlen(txt), NULL)->name, "text");
        assert_string_equal(mm_source_detect(html, strlen(html), NULL)->name, "html");
        /* The content type wins over the bytes. */
        assert_string_equal(
                mm_source_detect(txt, strlen(txt), "Application/VND.FirstAgenda+JSON; x=1")->name,
                "firstagenda");
        assert_string_equal(mm_source_detect(fa, strlen(fa), MM_SOURCE_CT_EDOC)->name, "edoc");
        /* An export sent as text is still the export. */
        assert_string_equal(mm_source_detect(fa, strlen(fa), "text/plain")->name, "firstagenda");
        assert_string_equal(mm_source_detect(txt, strlen(txt), "text/html")->name, "html");
        assert_string_equal(mm_source_detect(txt, strlen(txt), "application/pdf")->name, "pdf");
        /* JSON and XML of no known export. */
        assert_null(mm_source_detect("{\"a\": 1}", 8, NULL));
        assert_null(mm_source_detect("<?xml version=\"1.0\"?><a><b/><c/><d/></a>", 40, NULL));
        assert_null(mm_source_detect(txt, strlen(txt), "application/json"));
        /* Every row of the table is complete. */
        size_t n = 0;
        const mm_source_adapter_t *const *t = mm_source_adapters(&n);
        assert_true(n >= 5);
        for (size_t i = 0; i < n; i++) {
                assert_non_null(t[i]->name);
                assert_non_null(t[i]->content_types[0]);
                assert_non_null(t[i]->parse);
        }
}

static void test_firstagenda(void **state) {
        (void)state;
        mm_source_result_t res;
        json_t *doc = parse_file(FA_FILE, NULL, &res);
        assert_string_equal(res.adapter, "firstagenda");
        assert_string_equal(dstr(doc, "kind"), "minutes");
        assert_string_equal(dstr(doc, "municipality"), "Solrød Kommune");
        assert_string_equal(dstr(doc, "committee"), "Økonomiudvalget");
        assert_string_equal(dstr(doc, "meeting_date"), "2024-02-05");
        assert_string_equal(dstr(doc, "start_time"), "16:00");
        assert_string_equal(dstr(doc, "end_time"), "18:15");
        assert_string_equal(dstr(doc, "location"), "Mødelokale Strandvejen");
        json_t *d = json_object_get(doc, "document");
        /* seven members, one of them absent from the whole meeting */
        assert_int_equal(json_array_size(json_object_get(d, "participants")), 6);
        assert_string_equal(json_string_value(json_array_get(json_object_get(d, "absent"), 0)),
                            "Carsten Holt");
        json_t *src = json_object_get(d, "source");
        assert_string_equal(json_string_value(json_object_get(src, "system")), "firstagenda");
        /* the meeting is the committee at its start; the Id is the publication */
        assert_string_equal(json_string_value(json_object_get(src, "meeting_id")),
                            "f43f20ee-5c57-5341-9975-eb3719a4e4c5@2024-02-05T15:00:00Z");
        assert_string_equal(json_string_value(json_object_get(src, "publication_id")),
                            "e0627ff2-c89c-5100-997e-c3838c7dc3b1");
        assert_null(json_object_get(src, "supplement"));

        json_t *it = item(doc, 0);
        assert_int_equal(json_integer_value(json_object_get(it, "number")), 1);
        assert_string_equal(istr(it, "title"), "Godkendelse af dagsorden");
        assert_string_equal(istr(it, "case_number"), "24-000311");
        assert_string_equal(istr(it, "outcome"), "approved");
        assert_string_equal(istr(it, "decision"), "Dagsordenen blev godkendt.");
        /* "Fraværende: ..." in the decision and the item's attendee field,
         * besides the member absent from the whole meeting. */
        json_t *abs = json_object_get(item(doc, 2), "absent");
        assert_int_equal(json_array_size(abs), 2);
        assert_string_equal(json_string_value(json_array_get(abs, 0)), "Malik Demir");
        json_t *sec = json_array_get(json_object_get(it, "sections"), 0);
        assert_string_equal(istr(sec, "heading"), "Beslutning");
        assert_string_equal(istr(sec, "kind"), "decision");
        /* Offsets point into the rendered text. */
        size_t off = (size_t)json_integer_value(json_object_get(it, "offset"));
        assert_true(off < res.text_len);
        assert_memory_equal(res.text + off, "1. Godkendelse af dagsorden", 27);
        off = (size_t)json_integer_value(json_object_get(sec, "offset"));
        assert_memory_equal(res.text + off, "Beslutning\n", 11);

        it = item(doc, 1);
        assert_string_equal(istr(it, "outcome"), "noted");
        /* Bilag are listed by their Order, not as published. */
        assert_string_equal(
                json_string_value(json_array_get(json_object_get(it, "attachments"), 0)),
                "Oversigt over overførsler");
        json_t *f = json_array_get(json_object_get(it, "attachment_files"), 0);
        assert_string_equal(istr(f, "id"), "98aaf36b-6fb3-54c0-af8b-a1d9a4aa4195");
        mm_source_result_clear(&res);
}

static void test_firstagenda_closed_and_history(void **state) {
        (void)state;
        mm_source_result_t res;
        /* A meeting with closed items ("Lukket: ...") and "Sagens forløb". */
        json_t *doc = parse_file(FA_FILE, NULL, &res);
        json_t *it = item(doc, 2);
        json_t *secs = json_object_get(it, "sections");
        int hist = 0;
        for (size_t i = 0; i < json_array_size(secs); i++)
                if (json_is_true(json_object_get(json_array_get(secs, i), "history")))
                        hist = 1;
        assert_true(hist);
        assert_string_equal(istr(it, "outcome"), "approved_with_changes");
        assert_false(json_is_true(json_object_get(it, "closed")));
        mm_source_result_clear(&res);

        size_t nclosed = 0;
        doc = parse_file("firstagenda/2024-03-25_byraad_54caab1a.json", NULL, &res);
        for (size_t i = 0; i < json_array_size(json_object_get(doc, "items")); i++) {
                json_t *x = item(doc, i);
                int closed = json_is_true(json_object_get(x, "closed"));
                assert_int_equal(closed, !strncmp(istr(x, "title"), "Lukket:", 7));
                nclosed += (size_t)closed;
        }
        assert_int_equal(nclosed, 2);
        /* item 3 has no Punktnummer: its Number is used */
        assert_int_equal(json_integer_value(json_object_get(item(doc, 2), "number")), 3);
        mm_source_result_clear(&res);
}

static void test_edoc(void **state) {
        (void)state;
        mm_source_result_t res;
        json_t *doc = parse_file(EDOC_PUB2, NULL, &res);
        static const char *const titles[] = {"Godkendelse af dagsorden",
                                             "Naturpleje på kommunens arealer 2024-2026",
                                             "Vandløbsregulativer - forslag til høring",
                                             "Tilskud til grønne lokale projekter",
                                             "Lukket punkt: Påbud om spildevandsrensning",
                                             "Lukket punkt: Ekspropriation til cykelsti"};
        static const char *const outcomes[] = {"approved",  "approved", "approved_with_changes",
                                               "postponed", "approved", "approved"};
        assert_string_equal(res.adapter, "edoc");
        assert_string_equal(dstr(doc, "kind"), "minutes"); /* Type "Referat" */
        assert_string_equal(dstr(doc, "committee"), "Miljø- og Naturudvalget");
        assert_string_equal(dstr(doc, "meeting_date"), "2024-06-11");
        assert_string_equal(dstr(doc, "start_time"), "15:00");
        assert_string_equal(dstr(doc, "end_time"), "17:30");
        assert_string_equal(dstr(doc, "location"), "Mødelokale Lillebælt, Rådhuset");
        json_t *d = json_object_get(doc, "document");
        assert_int_equal(json_array_size(json_object_get(d, "participants")), 4);
        assert_string_equal(json_string_value(json_array_get(json_object_get(d, "absent"), 0)),
                            "Anders Kjærsgaard");
        json_t *src = json_object_get(d, "source");
        assert_string_equal(json_string_value(json_object_get(src, "meeting_id")),
                            "7C1E5A0B-3D2F-4E61-9B8A-55D0F7A3C214");
        assert_int_equal(json_array_size(json_object_get(doc, "items")), 6);
        for (size_t i = 0; i < 6; i++) {
                json_t *it = item(doc, i);
                assert_int_equal(json_integer_value(json_object_get(it, "number")), (int)i + 1);
                assert_string_equal(istr(it, "title"), titles[i]);
                assert_int_equal(json_is_true(json_object_get(it, "closed")), i >= 4);
                assert_string_equal(istr(it, "outcome"), outcomes[i]);
        }
        json_t *it = item(doc, 1);
        assert_int_equal(json_array_size(json_object_get(it, "attachments")), 4);
        assert_string_equal(
                json_string_value(json_array_get(json_object_get(it, "attachments"), 1)),
                "Kort over plejearealer.pdf");
        json_t *f = json_array_get(json_object_get(it, "attachment_files"), 0);
        assert_string_equal(istr(f, "link"), "\\Attachments\\7700020-8800021-1.pdf");
        assert_int_equal(json_array_size(json_object_get(item(doc, 5), "attachments")), 3);
        assert_string_equal(istr(item(doc, 2), "case_number"), "23/20117");
        /* the other committee's earlier handling is history, not the decision */
        json_t *secs = json_object_get(item(doc, 2), "sections");
        int hist = 0;
        for (size_t i = 0; i < json_array_size(secs); i++)
                hist += json_is_true(json_object_get(json_array_get(secs, i), "history"));
        assert_int_equal(hist, 1);
        mm_source_result_clear(&res);

        /* The earlier publication: the agenda, five items, no decision released. */
        doc = parse_file(EDOC_PUB1, MM_SOURCE_CT_EDOC, &res);
        assert_string_equal(dstr(doc, "kind"), "agenda");
        assert_int_equal(json_array_size(json_object_get(doc, "items")), 5);
        for (size_t i = 0; i < 5; i++)
                assert_string_equal(istr(item(doc, i), "outcome"), "none");
        assert_string_equal(
                json_string_value(json_object_get(
                        json_object_get(json_object_get(doc, "document"), "source"), "meeting_id")),
                "7C1E5A0B-3D2F-4E61-9B8A-55D0F7A3C214");
        mm_source_result_clear(&res);
}

static void test_sbsys(void **state) {
        (void)state;
        mm_source_result_t res;
        json_t *doc = parse_file("sbsys/01_social-og-sundhedsudvalget_dagsorden_2024-09-10.xml",
                                 NULL, &res);
        static const char *const titles[] = {
                "Meddelelser", "Ny ordning for aflastning af pårørende",
                "Bevilling til nyt plejecenter i Hvalsø", "Lukket: Klage over afgørelse"};
        assert_string_equal(res.adapter, "sbsys");
        assert_string_equal(dstr(doc, "kind"), "agenda");
        assert_string_equal(dstr(doc, "committee"), "Social- og Sundhedsudvalget");
        assert_string_equal(dstr(doc, "meeting_date"), "2024-09-10");
        assert_string_equal(dstr(doc, "start_time"), "16:00");
        assert_string_equal(dstr(doc, "end_time"), "18:00");
        assert_string_equal(dstr(doc, "location"), "Mødelokale 2, Rådhuset i Allerslev");
        json_t *d = json_object_get(doc, "document");
        assert_int_equal(json_array_size(json_object_get(d, "participants")), 4);
        assert_string_equal(json_string_value(json_array_get(json_object_get(d, "absent"), 0)),
                            "Bjørn Aagaard (V)");
        json_t *src = json_object_get(d, "source");
        assert_string_equal(json_string_value(json_object_get(src, "meeting_id")), "241");
        assert_string_equal(json_string_value(json_object_get(src, "published_at")),
                            "2024-09-02T10:05:31");
        assert_int_equal(json_array_size(json_object_get(doc, "items")), 4);
        for (size_t i = 0; i < 4; i++) {
                assert_int_equal(json_integer_value(json_object_get(item(doc, i), "number")),
                                 (int)i + 1);
                assert_string_equal(istr(item(doc, i), "title"), titles[i]);
                assert_int_equal(json_is_true(json_object_get(item(doc, i), "closed")), i == 3);
        }
        assert_string_equal(
                json_string_value(json_array_get(json_object_get(item(doc, 1), "attachments"), 0)),
                "Beskrivelse af aflastningsordningen");
        mm_source_result_clear(&res);

        /* The variant with sub-items 1.1..: they are sections of their item,
         * and item 0 (the meeting's PDFs) is no agenda item. */
        doc = parse_file("sbsys/02_digitaliseringsgruppen_referat_2024-10-17.xml", NULL, &res);
        assert_int_equal(json_array_size(json_object_get(doc, "items")), 3);
        assert_string_equal(istr(item(doc, 1), "title"), "Digital post");
        mm_source_result_clear(&res);
}

static void test_text_still_parses(void **state) {
        (void)state;
        mm_source_result_t res;
        json_t *doc = parse_file("minutes/000_egedal_markdown.txt", NULL, &res);
        assert_string_equal(res.adapter, "text");
        assert_true(json_array_size(json_object_get(doc, "items")) > 0);
        assert_null(json_object_get(json_object_get(doc, "document"), "source"));
        mm_source_result_clear(&res);
}

int main(int argc, char **argv) {
        char err[256];
        if (argc < 2) {
                fprintf(stderr, "usage: test_source FIXTURES_DIR\n");
                return 2;
        }
        g_fix = argv[1];
        mm_extract_global_init();
        g_parser = mm_parser_new(0, err, sizeof(err));
        if (!g_parser) {
                fprintf(stderr, "%s\n", err);
                return 1;
        }
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_detect),
                cmocka_unit_test(test_firstagenda),
                cmocka_unit_test(test_firstagenda_closed_and_history),
                cmocka_unit_test(test_edoc),
                cmocka_unit_test(test_sbsys),
                cmocka_unit_test(test_text_still_parses),
        };
        int rc = cmocka_run_group_tests(tests, NULL, NULL);
        mm_parser_destroy(g_parser);
        return rc;
}
