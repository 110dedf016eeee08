/*
 * Unit tests of mm_attach (issue 22): the Bilag of a FirstAgenda
 * publication, the decision after a fetch (produce, skip with a reason,
 * retry), the attachment message's key and headers, the --attachments
 * switch; mm_export_attach (an eDoc folder's attachment files: matched
 * without case, one per id, the folder that holds the file wins, over the
 * cap, absent). With ../shared present, every Greve publication's Bilag are read
 * and compared with an independent count.
 *
 *   test_attach SHARED_DIR
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <jansson.h>

#include "mm_attach.h"
#include "mm_envelope.h"
#include "mm_export_attach.h"

static const char *shared;

/* An invented publication: item 1 has two Bilag (Order 1 then 0), item 2
 * names the first again (an Id listed twice is one attachment), a Bilag
 * without an Id and one with a numeric Punktnummer; item 3 has only the
 * English Number and no Bilag key at all. */
static const char *PUB = "{\"Id\":\"p-1\",\"Dagsordenpunkter\":["
                         "{\"Punktnummer\":\"1\",\"Navn\":\"A\",\"Bilag\":["
                         "{\"Navn\":\"Kort\",\"Order\":1,\"Id\":\"b-2\"},"
                         "{\"Navn\":\"Notat\",\"Order\":0,\"Id\":\"b-1\"}]},"
                         "{\"Punktnummer\":7,\"Navn\":\"B\",\"Bilag\":["
                         "{\"Navn\":\"Kort igen\",\"Order\":0,\"Id\":\"b-2\"},"
                         "{\"Navn\":\"Uden id\",\"Order\":1},"
                         "{\"Order\":2,\"Id\":\"b-3\"}]},"
                         "{\"Number\":\"3a\",\"Navn\":\"C\"}]}";

static void test_refs(void **state) {
        (void)state;
        mm_attach_ref_t *r;
        size_t n;
        char err[256];
        assert_int_equal(mm_attach_firstagenda_refs(PUB, strlen(PUB), &r, &n, err, sizeof(err)), 0);
        assert_int_equal(n, 3);
        /* as listed; b-2 keeps its first item and name */
        assert_string_equal(r[0].id, "b-2");
        assert_string_equal(r[0].name, "Kort");
        assert_string_equal(r[0].item, "1");
        assert_string_equal(r[1].id, "b-1");
        assert_string_equal(r[2].id, "b-3");
        assert_string_equal(r[2].name, "");  /* no Navn */
        assert_string_equal(r[2].item, "7"); /* a number written as a number */
        mm_attach_refs_free(r, n);

        /* no items, no Bilag: none, and no error */
        const char *none = "{\"Id\":\"x\",\"Dagsordenpunkter\":[{\"Punktnummer\":\"1\"}]}";
        assert_int_equal(mm_attach_firstagenda_refs(none, strlen(none), &r, &n, err, sizeof(err)),
                         0);
        assert_int_equal(n, 0);
        mm_attach_refs_free(r, n);
        /* not a publication: errors, never "no attachments" quietly */
        const char *bad[] = {"<html>", "[1,2]", "{\"Dagsordenpunkter\":{}}", "{\"a\":1,\"a\":2}"};
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                err[0] = '\0';
                assert_int_equal(mm_attach_firstagenda_refs(bad[i], strlen(bad[i]), &r, &n, err,
                                                            sizeof(err)),
                                 -1);
                assert_null(r);
                assert_true(err[0] != '\0');
        }
}

static void test_decide(void **state) {
        (void)state;
        static const struct {
                mm_http_fail_t fail;
                long status;
                int attempts, max;
                mm_attach_action_t want;
                const char *reason;
        } t[] = {
                {MM_HTTP_OK, 200, 0, 3, MM_ATTACH_PRODUCE, ""},
                {MM_HTTP_OK, 200, 2, 3, MM_ATTACH_PRODUCE, ""},              /* after failures */
                {MM_HTTP_TOO_LARGE, 200, 0, 3, MM_ATTACH_SKIP, "too_large"}, /* at once */
                {MM_HTTP_PERMANENT, 404, 0, 3, MM_ATTACH_RETRY, ""},
                {MM_HTTP_PERMANENT, 404, 1, 3, MM_ATTACH_RETRY, ""},
                {MM_HTTP_PERMANENT, 404, 2, 3, MM_ATTACH_SKIP, "http_404"}, /* the 3rd */
                {MM_HTTP_PERMANENT, 410, 0, 1, MM_ATTACH_SKIP, "http_410"},
                {MM_HTTP_PERMANENT, 403, 5, 3, MM_ATTACH_SKIP, "http_403"},
                {MM_HTTP_TRANSIENT, 500, 0, 3, MM_ATTACH_RETRY, ""},
                {MM_HTTP_TRANSIENT, 503, 99, 3, MM_ATTACH_RETRY, ""}, /* never skipped */
                {MM_HTTP_TRANSIENT, 0, 99, 1, MM_ATTACH_RETRY, ""},   /* timeout */
        };
        for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
                char reason[48] = "junk";
                mm_attach_action_t a = mm_attach_decide(t[i].fail, t[i].status, t[i].attempts,
                                                        t[i].max, reason, sizeof(reason));
                if (a != t[i].want || strcmp(reason, t[i].reason))
                        fail_msg("row %zu: action %d reason \"%s\", want %d \"%s\"", i, (int)a,
                                 reason, (int)t[i].want, t[i].reason);
        }
}

static const char *header(rd_kafka_headers_t *h, const char *name) {
        static char buf[8][256];
        static int k;
        const void *v;
        size_t len;
        if (rd_kafka_header_get_last(h, name, &v, &len))
                return NULL;
        k = (k + 1) % 8;
        snprintf(buf[k], sizeof(buf[k]), "%.*s", (int)len, (const char *)v);
        return buf[k];
}

static void test_headers(void **state) {
        (void)state;
        char sha[65], key[256], want[65];
        mm_envelope_sha256_hex("%PDF-1.4", 8, sha);
        mm_attach_msg_t m = {.kommune = "Greve Kommune",
                             .id = "b-1",
                             .name = "Bilag 1 - Kort",
                             .size = 8,
                             .sha256 = sha,
                             .ce_source = "minutes-source/dagsordener.greve.dk",
                             .ce_time = "2026-03-02T11:00:00.123456+01:00",
                             .content_type = "application/pdf",
                             .source_url = "https://x/vis/pdf/bilag/b-1?redirectDirectlyToPdf=true",
                             .meeting_doc = "p-1",
                             .meeting_key = "Greve Kommune|c-1|2026-03-02T10:00:00Z",
                             .item_number = "4"};
        mm_attach_key(&m, key, sizeof(key));
        assert_string_equal(key, "Greve Kommune|b-1");
        rd_kafka_headers_t *h = mm_attach_headers(&m);
        assert_non_null(h);
        assert_string_equal(header(h, "ce_specversion"), "1.0");
        assert_string_equal(header(h, "ce_type"), "dk.minutes.attachment.raw");
        assert_string_equal(header(h, "ce_id"), sha);
        assert_string_equal(header(h, "ce_time"), m.ce_time);
        assert_string_equal(header(h, "municipality"), "Greve Kommune");
        assert_string_equal(header(h, "document-id"), "b-1");
        assert_string_equal(header(h, "attachment-id"), "b-1");
        assert_string_equal(header(h, "attachment-name"), "Bilag 1 - Kort");
        assert_string_equal(header(h, "attachment-size"), "8");
        assert_string_equal(header(h, "meeting-document-id"), "p-1");
        assert_string_equal(header(h, "meeting-key"), m.meeting_key);
        assert_string_equal(header(h, "item-number"), "4");
        assert_string_equal(header(h, "content-type"), "application/pdf");
        assert_null(header(h, "attachment-skipped"));
        rd_kafka_headers_destroy(h);

        /* skipped: ce_id of "kommune|id|reason", the real size, optional headers absent */
        m.skipped = "too_large";
        m.size = 40000000;
        m.item_number = NULL;
        m.content_type = NULL;
        h = mm_attach_headers(&m);
        const char *raw = "Greve Kommune|b-1|too_large";
        mm_envelope_sha256_hex(raw, strlen(raw), want);
        assert_string_equal(header(h, "ce_id"), want);
        mm_attach_skip_ce_id("Greve Kommune", "b-1", "too_large", sha);
        assert_string_equal(sha, want);
        assert_string_equal(header(h, "attachment-skipped"), "too_large");
        assert_string_equal(header(h, "attachment-size"), "40000000");
        assert_null(header(h, "item-number"));
        assert_string_equal(header(h, "content-type"), "application/octet-stream");
        rd_kafka_headers_destroy(h);
        /* a size unknown is not sent */
        m.size = -1;
        h = mm_attach_headers(&m);
        assert_null(header(h, "attachment-size"));
        rd_kafka_headers_destroy(h);
}

static void test_switch_and_ids(void **state) {
        (void)state;
        assert_int_equal(mm_attach_switch("on"), 1);
        assert_int_equal(mm_attach_switch("ON"), 1);
        assert_int_equal(mm_attach_switch("true"), 1);
        assert_int_equal(mm_attach_switch("off"), 0);
        assert_int_equal(mm_attach_switch("no"), 0);
        assert_int_equal(mm_attach_switch("maybe"), -1);
        assert_int_equal(mm_attach_switch(NULL), -1);
        assert_int_equal(mm_attach_safe_id("bed13635-8bdc-4433-baeb-57c33775a4e5"), 1);
        assert_int_equal(mm_attach_safe_id("../../etc"), 0);
        assert_int_equal(mm_attach_safe_id("a?b"), 0);
        assert_int_equal(mm_attach_safe_id(""), 0);
}

/* The Bilag objects with a string Id of a publication, counted without
 * mm_attach: the expectation for test_greve. */
static size_t count_bilag(json_t *root) {
        size_t n = 0, i, k;
        json_t *it, *b;
        json_array_foreach(json_object_get(root, "Dagsordenpunkter"), i, it) {
                json_array_foreach(json_object_get(it, "Bilag"), k, b) {
                        n += json_is_string(json_object_get(b, "Id")) ? 1 : 0;
                }
        }
        return n;
}

static void test_greve(void **state) {
        (void)state;
        char dir[1024], path[2048], err[256];
        snprintf(dir, sizeof(dir), "%s/corpus/firstagenda-greve", shared);
        DIR *d = opendir(dir);
        if (!d) {
                printf("skipped: ../shared not present\n");
                return;
        }
        struct dirent *de;
        size_t pubs = 0, refs = 0, want = 0, most = 0;
        while ((de = readdir(d))) {
                if (!strstr(de->d_name, ".json"))
                        continue;
                snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
                json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, NULL);
                assert_non_null(root);
                char *s = json_dumps(root, JSON_COMPACT);
                mm_attach_ref_t *r;
                size_t n;
                if (mm_attach_firstagenda_refs(s, strlen(s), &r, &n, err, sizeof(err)) != 0)
                        fail_msg("%s: %s", de->d_name, err);
                for (size_t i = 0; i < n; i++)
                        if (!mm_attach_safe_id(r[i].id))
                                fail_msg("%s: Bilag Id \"%s\" cannot go into a URL", de->d_name,
                                         r[i].id);
                want += count_bilag(root);
                refs += n;
                most = n > most ? n : most;
                pubs++;
                mm_attach_refs_free(r, n);
                free(s);
                json_decref(root);
        }
        closedir(d);
        /* no Id repeats within a Greve publication, so every Bilag is one ref */
        assert_int_equal(refs, want);
        assert_true(pubs > 0 && refs > 0);
        printf("greve: %zu publications, %zu attachments (%.1f per publication, at most %zu)\n",
               pubs, refs, (double)refs / (double)pubs, most);
}

static void write_file(const char *path, size_t n) {
        FILE *fp = fopen(path, "wb");
        assert_non_null(fp);
        for (size_t i = 0; i < n; i++)
                fputc('x', fp);
        fclose(fp);
}

/* Two publications of one meeting: the older names a and b and holds no
 * files; the newer names a, b, c, d and holds a (as A.PDF), b (too large)
 * and d; c is in neither folder; e is a URL and f has no link. */
static void test_export_atts(void **state) {
        (void)state;
        char root[] = "/tmp/mm-export-att.XXXXXX", old[256], new[256], p[512];
        assert_non_null(mkdtemp(root));
        snprintf(old, sizeof(old), "%s/old", root);
        snprintf(new, sizeof(new), "%s/new", root);
        assert_int_equal(mkdir(old, 0700), 0);
        assert_int_equal(mkdir(new, 0700), 0);
        snprintf(p, sizeof(p), "%s/Attachments", new);
        assert_int_equal(mkdir(p, 0700), 0);
        snprintf(p, sizeof(p), "%s/Attachments/A.PDF", new);
        write_file(p, 10);
        snprintf(p, sizeof(p), "%s/Attachments/b.pdf", new);
        write_file(p, 5000);
        snprintf(p, sizeof(p), "%s/Attachments/d.pdf", new);
        write_file(p, 20);
        const char *jold =
                "{\"items\":[{\"number\":2,\"attachment_files\":["
                "{\"id\":\"a\",\"name\":\"A\",\"link\":\"\\\\Attachments\\\\a.pdf\"},"
                "{\"id\":\"b\",\"name\":\"B\",\"link\":\"\\\\Attachments\\\\b.pdf\"}]}]}";
        const char *jnew = "{\"items\":[{\"number\":2,\"attachment_files\":["
                           "{\"id\":\"a\",\"name\":\"A\",\"link\":\"\\\\Attachments\\\\a.pdf\"},"
                           "{\"id\":\"b\",\"name\":\"B\",\"link\":\"/Attachments/b.pdf\"}]},"
                           "{\"number\":3,\"attachment_files\":["
                           "{\"id\":\"c\",\"name\":\"C\",\"link\":\"Attachments/c.pdf\"},"
                           "{\"id\":\"d\",\"name\":\"D\",\"link\":\"Attachments\\\\d.pdf\"},"
                           "{\"id\":\"e\",\"name\":\"E\",\"link\":\"https://x/e.pdf\"},"
                           "{\"id\":\"f\",\"name\":\"F\"}]}]}";
        json_t *d1 = json_loads(jold, 0, NULL), *d2 = json_loads(jnew, 0, NULL);
        assert_non_null(d1);
        assert_non_null(d2);
        mm_export_atts_t *x = mm_export_atts_new();
        assert_int_equal(mm_export_atts_add(x, d1, old), 2);
        mm_export_atts_set_origin(x, 0, "K", "old.xml", "t1");
        assert_int_equal(mm_export_atts_add(x, d2, new), 4); /* not e (a URL), not f */
        mm_export_atts_set_origin(x, 2, "K", "new.xml", "t2");
        assert_int_equal(mm_export_atts_count(x), 6);
        mm_export_att_t a;
        const char *want[][4] = {
                /* id, file's end or skip reason, doc, item */
                {"a", "/new/Attachments/A.PDF", "new.xml", "2"},
                {"b", "too_large", "new.xml", "2"},
                {NULL, NULL, NULL, NULL}, /* a again */
                {NULL, NULL, NULL, NULL}, /* b again */
                {"c", "not_in_export", "new.xml", "3"},
                {"d", "/new/Attachments/d.pdf", "new.xml", "3"},
        };
        for (size_t i = 0; i < 6; i++) {
                int got = mm_export_atts_pick(x, i, 1000, &a);
                if (!want[i][0]) {
                        assert_int_equal(got, 0);
                        continue;
                }
                assert_int_equal(got, 1);
                assert_string_equal(a.id, want[i][0]);
                assert_string_equal(a.doc_id, want[i][2]);
                assert_string_equal(a.item, want[i][3]);
                assert_string_equal(a.kommune, "K");
                if (want[i][1][0] == '/') {
                        assert_null(a.skipped);
                        assert_non_null(a.file);
                        assert_non_null(strstr(a.file, want[i][1]));
                } else {
                        assert_null(a.file);
                        assert_string_equal(a.skipped, want[i][1]);
                }
        }
        mm_export_atts_pick(x, 1, 1000, &a);
        assert_int_equal(a.size, 5000); /* the real size of a file over the cap */
        mm_export_atts_pick(x, 4, 1000, &a);
        assert_int_equal(a.size, -1);
        mm_export_atts_destroy(x);
        json_decref(d1);
        json_decref(d2);
        const char *rm[] = {"new/Attachments/A.PDF",
                            "new/Attachments/b.pdf",
                            "new/Attachments/d.pdf",
                            "new/Attachments",
                            "new",
                            "old"};
        for (size_t i = 0; i < sizeof(rm) / sizeof(rm[0]); i++) {
                snprintf(p, sizeof(p), "%s/%s", root, rm[i]);
                remove(p);
        }
        remove(root);
}

int main(int argc, char **argv) {
        if (argc < 2) {
                fprintf(stderr, "usage: %s SHARED_DIR\n", argv[0]);
                return 2;
        }
        shared = argv[1];
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_refs),    cmocka_unit_test(test_decide),
                cmocka_unit_test(test_headers), cmocka_unit_test(test_switch_and_ids),
                cmocka_unit_test(test_greve),   cmocka_unit_test(test_export_atts),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
