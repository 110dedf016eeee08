/*
 * Unit tests of the source adapters (mm_source): detection by content type
 * and by bytes, and the field mapping of the FirstAgenda and eDoc adapters
 * on real exports in tests/fixtures.
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

#define FA_FILE   "firstagenda/2022-01-10_e049b9bf-8473-4034-9a27-cd30a5583562.json"
#define EDOC_DIR  "edoc/Hennys testudvalg/2017-05-02 10.00/Dagsorden/Dagsorden/Os2Dagsorden TEST/"
#define EDOC_PUB1 EDOC_DIR "2017-04-21 12.00.48/41a93779-8b2a-414b-9f87-691e24f8f40a.xml"
#define EDOC_PUB2 EDOC_DIR "2017-04-21 12.24.03/e9117c72-1d79-4fe9-9653-ef7ab6f27187.xml"

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
        assert_string_equal(dstr(doc, "municipality"), "Greve Kommune");
        assert_string_equal(dstr(doc, "committee"), "Økonomiudvalget");
        assert_string_equal(dstr(doc, "meeting_date"), "2022-01-10");
        assert_string_equal(dstr(doc, "start_time"), "07:45");
        assert_string_equal(dstr(doc, "location"), "Biblioteket");
        json_t *d = json_object_get(doc, "document");
        assert_int_equal(json_array_size(json_object_get(d, "participants")), 7);
        json_t *src = json_object_get(d, "source");
        assert_string_equal(json_string_value(json_object_get(src, "system")), "firstagenda");
        /* the meeting is the committee at its start; the Id is the publication */
        assert_string_equal(json_string_value(json_object_get(src, "meeting_id")),
                            "49a1c3b3-741b-4c22-86a1-f27bf55df8d1@2022-01-10T06:45:00Z");
        assert_string_equal(json_string_value(json_object_get(src, "publication_id")),
                            "e049b9bf-8473-4034-9a27-cd30a5583562");
        assert_null(json_object_get(src, "supplement"));

        json_t *it = item(doc, 0);
        assert_int_equal(json_integer_value(json_object_get(it, "number")), 1);
        assert_string_equal(istr(it, "title"), "Godkendelse af dagsorden");
        assert_string_equal(istr(it, "case_number"), "21-014439");
        assert_string_equal(istr(it, "outcome"), "approved");
        assert_string_equal(istr(it, "decision"), "Dagsordenen blev godkendt.");
        /* "Fraværende: ..." in the decision and the item's attendee field. */
        assert_string_equal(json_string_value(json_array_get(json_object_get(it, "absent"), 0)),
                            "Mehmet Zeki Dogru");
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
        assert_string_equal(
                json_string_value(json_array_get(json_object_get(it, "attachments"), 0)),
                "Tilsynets afgørelse af 15. december 2021");
        json_t *f = json_array_get(json_object_get(it, "attachment_files"), 0);
        assert_string_equal(istr(f, "id"), "93c3aaae-cc73-48d9-aa78-64a0193af304");
        mm_source_result_clear(&res);
}

static void test_firstagenda_closed_and_history(void **state) {
        (void)state;
        mm_source_result_t res;
        /* A meeting with closed items ("Lukket: ...") and "Sagens forløb". */
        json_t *doc = parse_file("firstagenda/2022-01-10_02e86ff6-fd6b-4bab-99ad-17411bb2ead1.json",
                                 NULL, &res);
        json_t *it = item(doc, 1);
        json_t *secs = json_object_get(it, "sections");
        int hist = 0;
        for (size_t i = 0; i < json_array_size(secs); i++)
                if (json_is_true(json_object_get(json_array_get(secs, i), "history")))
                        hist = 1;
        assert_true(hist);
        assert_string_equal(istr(it, "outcome"), "decided");
        assert_false(json_is_true(json_object_get(it, "closed")));
        mm_source_result_clear(&res);

        size_t nclosed = 0;
        doc = parse_file("firstagenda/2023-11-13_5c20e222-7b1a-40cf-8a33-2b4a2db719d7.json", NULL,
                         &res);
        for (size_t i = 0; i < json_array_size(json_object_get(doc, "items")); i++) {
                json_t *x = item(doc, i);
                int closed = json_is_true(json_object_get(x, "closed"));
                assert_int_equal(closed, !strncmp(istr(x, "title"), "Lukket:", 7));
                nclosed += (size_t)closed;
        }
        (void)nclosed;
        mm_source_result_clear(&res);
}

static void test_edoc(void **state) {
        (void)state;
        mm_source_result_t res;
        json_t *doc = parse_file(EDOC_PUB2, NULL, &res);
        static const char *const titles[] = {"test",         "test tabel",     "Fejloprettet",
                                             "Fejloprettet", "Anders' møgsag", "Underskriftsblad"};
        assert_string_equal(res.adapter, "edoc");
        assert_string_equal(dstr(doc, "kind"), "agenda");
        assert_string_equal(dstr(doc, "committee"), "Hennys testudvalg");
        assert_string_equal(dstr(doc, "meeting_date"), "2017-05-02");
        assert_string_equal(dstr(doc, "start_time"), "10:00");
        assert_string_equal(dstr(doc, "end_time"), "11:00");
        assert_string_equal(dstr(doc, "location"), "Mødelokale 1, Midtpunkt");
        json_t *d = json_object_get(doc, "document");
        assert_int_equal(json_array_size(json_object_get(d, "participants")), 6);
        assert_string_equal(json_string_value(json_array_get(json_object_get(d, "absent"), 0)),
                            "Niels Bebe");
        json_t *src = json_object_get(d, "source");
        assert_string_equal(json_string_value(json_object_get(src, "meeting_id")),
                            "DE29346E-A9B1-4C91-A9D9-AE29CC8046BD");
        assert_int_equal(json_array_size(json_object_get(doc, "items")), 6);
        for (size_t i = 0; i < 6; i++) {
                json_t *it = item(doc, i);
                assert_int_equal(json_integer_value(json_object_get(it, "number")), (int)i + 1);
                assert_string_equal(istr(it, "title"), titles[i]);
                assert_int_equal(json_is_true(json_object_get(it, "closed")), i >= 4);
                assert_string_equal(istr(it, "outcome"), "none"); /* not released */
        }
        json_t *it = item(doc, 0);
        assert_int_equal(json_array_size(json_object_get(it, "attachments")), 4);
        assert_string_equal(
                json_string_value(json_array_get(json_object_get(it, "attachments"), 1)),
                "Nyhedsbrev nr. 1-2017.pdf");
        json_t *f = json_array_get(json_object_get(it, "attachment_files"), 0);
        assert_string_equal(istr(f, "link"), "\\Attachments\\6104646-6648380-1.pdf");
        assert_int_equal(json_array_size(json_object_get(item(doc, 4), "attachments")), 8);
        assert_string_equal(istr(item(doc, 1), "case_number"), "200906126");
        mm_source_result_clear(&res);

        /* The earlier publication: five items numbered 2..6. */
        doc = parse_file(EDOC_PUB1, MM_SOURCE_CT_EDOC, &res);
        assert_int_equal(json_array_size(json_object_get(doc, "items")), 5);
        assert_int_equal(json_integer_value(json_object_get(item(doc, 0), "number")), 2);
        assert_string_equal(
                json_string_value(json_object_get(
                        json_object_get(json_object_get(doc, "document"), "source"), "meeting_id")),
                "DE29346E-A9B1-4C91-A9D9-AE29CC8046BD");
        mm_source_result_clear(&res);
}

static void test_sbsys(void **state) {
        (void)state;
        mm_source_result_t res;
        json_t *doc = parse_file("sbsys/01_ballerup_kmb-it-udvalget_dagsorden_2013-05-15.xml", NULL,
                                 &res);
        static const char *const titles[] = {
                "Meddelelser",
                "Oplæg til standard it-arbejdsplads for Kommunalbestyrelsens medlemmer i 2014-2018",
                "Indførelse af systemet SAPA (Sagsoverblik/Partskontakt)",
                "Regler for indkøb af it-udstyr", "Status på eDagsorden"};
        assert_string_equal(res.adapter, "sbsys");
        assert_string_equal(dstr(doc, "kind"), "agenda");
        assert_string_equal(dstr(doc, "committee"), "KMB IT-udvalget");
        assert_string_equal(dstr(doc, "meeting_date"), "2013-05-15");
        assert_string_equal(dstr(doc, "start_time"), "16:30");
        assert_string_equal(dstr(doc, "end_time"), "18:00");
        assert_string_equal(dstr(doc, "location"), "Mødecenter A, Lokale 3 på Ballerup Rådhus");
        json_t *src = json_object_get(json_object_get(doc, "document"), "source");
        assert_string_equal(json_string_value(json_object_get(src, "meeting_id")), "26");
        assert_string_equal(json_string_value(json_object_get(src, "published_at")),
                            "2013-05-07T11:16:47");
        assert_int_equal(json_array_size(json_object_get(doc, "items")), 5);
        for (size_t i = 0; i < 5; i++) {
                assert_int_equal(json_integer_value(json_object_get(item(doc, i), "number")),
                                 (int)i + 1);
                assert_string_equal(istr(item(doc, i), "title"), titles[i]);
        }
        assert_string_equal(
                json_string_value(json_array_get(json_object_get(item(doc, 2), "attachments"), 0)),
                "Brev fra KL til Kommunalbestyrelsen vedr Monopolbrud");
        mm_source_result_clear(&res);

        /* Aarhus' variant: sub-items 1.1.. are sections of their item. */
        doc = parse_file("sbsys/03_aarhus_moedesystemgruppen_referat_2016-10-06.xml", NULL, &res);
        assert_int_equal(json_array_size(json_object_get(doc, "items")), 3);
        assert_string_equal(istr(item(doc, 1), "title"), "GetOrganized");
        mm_source_result_clear(&res);
}

static void test_text_still_parses(void **state) {
        (void)state;
        mm_source_result_t res;
        json_t *doc = parse_file("seeds/000_5c7e3b43a1136e53.txt", NULL, &res);
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
