/*
 * SBSYS eDagsorden publication XML (the sixth system: this file and one
 * row in the adapter table are all it took).
 *
 *   Publication [TimeStamp] {Published, PublicationTypeAsEnum,
 *     Agendas/Agenda [ID] {Name, Committee {Name},
 *       Meeting [ID] {When, Until, Where, Members/MeetingMember {Name,
 *         ParticipationStatusAsText}},
 *       Items/Item {Number, Caption, IsPublic, Case {Number},
 *         Fields/ItemField {Caption, Content (HTML), IsFeedback},
 *         Enclosures/Enclosure {Name, FileName, Number}}}}
 *
 * Dates are "DD-MM-YYYY HH:MM:SS". Fields with IsFeedback true are the
 * decision fields: the first is this meeting's decision, later ones (e.g.
 * "REGIONSRÅDETS BESLUTNING" in a committee's agenda) belong to other
 * bodies and are kept as history. Aarhus' variant numbers sub-items "1.1":
 * a sub-item becomes a section of its item. Items numbered 0 carry the
 * whole meeting's PDFs (Aarhus): they are no agenda items and are skipped.
 */
#include <ctype.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mm_source.h"

static const char *const ct_sbsys[] = {MM_SOURCE_CT_SBSYS, NULL};

static int sniff(const char *buf, size_t len) {
        size_t n = len < 4096 ? len : 4096;
        return memmem(buf, n, "<Publication", 12) != NULL && memmem(buf, len, "<Agendas>", 9) &&
               memmem(buf, len, "<Items>", 7);
}

static char *attr_of(xmlNode *n, const char *name) {
        xmlChar *t = n ? xmlGetProp(n, (const xmlChar *)name) : NULL;
        char *out = t ? strdup((const char *)t) : NULL;
        xmlFree(t);
        return out;
}

static void meeting(mm_source_build_t *b, xmlNode *ag, xmlNode *mt) {
        char *com = mm_source_xml_text(mm_source_xml_child(ag, "Committee"), "Name");
        char *name = com ? NULL : mm_source_xml_text(ag, "Name");
        char *when = mm_source_xml_text(mt, "When"), *until = mm_source_xml_text(mt, "Until");
        char *where = mm_source_xml_text(mt, "Where");
        char date[11], start[6], d2[11], end[6];
        mm_source_dmy(when, date, start);
        mm_source_dmy(until, d2, end);
        mm_source_build_meeting(b, com ? com : name, date[0] ? date : NULL, start[0] ? start : NULL,
                                end[0] ? end : NULL, where);
        for (xmlNode *m = mm_source_xml_child(mm_source_xml_child(mt, "Members"), "MeetingMember");
             m; m = m->next) {
                if (m->type != XML_ELEMENT_NODE)
                        continue;
                char *n = mm_source_xml_text(m, "Name"),
                     *st = mm_source_xml_text(m, "ParticipationStatusAsText");
                int absent = st && (strcasestr(st, "absent") || strcasestr(st, "notparticipat") ||
                                    strcasestr(st, "afbud"));
                if (n)
                        mm_source_build_participant(b, n, absent);
                free(n);
                free(st);
        }
        free(com);
        free(name);
        free(when);
        free(until);
        free(where);
}

static void fields(mm_source_build_t *b, xmlNode *it, int *feedback_seen) {
        for (xmlNode *f = mm_source_xml_child(mm_source_xml_child(it, "Fields"), "ItemField"); f;
             f = f->next) {
                if (f->type != XML_ELEMENT_NODE)
                        continue;
                char *cap = mm_source_xml_text(f, "Caption"),
                     *html = mm_source_xml_text(f, "Content");
                char *fb = mm_source_xml_text(f, "IsFeedback");
                char *txt = html ? mm_source_html_text(b, html, strlen(html)) : NULL;
                int feedback = fb && !strcasecmp(fb, "true");
                mm_source_build_section(b, cap, feedback ? "decision" : NULL,
                                        feedback && *feedback_seen, txt);
                if (feedback)
                        *feedback_seen = 1;
                free(cap);
                free(html);
                free(fb);
                free(txt);
        }
}

static void enclosures(mm_source_build_t *b, xmlNode *it) {
        for (xmlNode *e = mm_source_xml_child(mm_source_xml_child(it, "Enclosures"), "Enclosure");
             e; e = e->next) {
                if (e->type != XML_ELEMENT_NODE)
                        continue;
                char *n = mm_source_xml_text(e, "Name"), *fn = mm_source_xml_text(e, "FileName");
                char *id = attr_of(e, "ID");
                mm_source_build_attachment(b, n && *n ? n : fn, id, fn);
                free(n);
                free(fn);
                free(id);
        }
}

static int items(mm_source_build_t *b, xmlNode *list, mm_parse_error_t *err) {
        size_t idx = 0;
        int have_item = 0;
        for (xmlNode *it = list->children; it; it = it->next) {
                if (it->type != XML_ELEMENT_NODE || strcmp((const char *)it->name, "Item"))
                        continue;
                char *num = mm_source_xml_text(it, "Number"),
                     *cap = mm_source_xml_text(it, "Caption");
                char *cn = mm_source_xml_text(mm_source_xml_child(it, "Case"), "Number"),
                     *pub = mm_source_xml_text(it, "IsPublic");
                int rc = 0, feedback_seen = 0;
                if (!num || !isdigit((unsigned char)num[0]))
                        rc = mm_source_invalid(err,
                                               "SBSYS XML: Items.Item[%zu].Number is missing "
                                               "or not a number",
                                               idx);
                else if (!cap)
                        rc = mm_source_invalid(err, "SBSYS XML: Items.Item[%zu].Caption is missing",
                                               idx);
                else if (strchr(num, '.') && have_item) {
                        fields(b, it, &feedback_seen); /* a sub-item "1.1" */
                        enclosures(b, it);
                } else if (strtol(num, NULL, 10) > 0) {
                        mm_source_build_item(b, strtol(num, NULL, 10), cap, cn,
                                             pub && !strcasecmp(pub, "false"));
                        have_item = 1;
                        fields(b, it, &feedback_seen);
                        enclosures(b, it);
                }
                free(num);
                free(cap);
                free(cn);
                free(pub);
                if (rc)
                        return rc;
                idx++;
        }
        return 0;
}

static int build(const mm_parser_t *p, xmlNode *root, mm_source_result_t *res,
                 mm_parse_error_t *err) {
        xmlNode *ag = mm_source_xml_child(mm_source_xml_child(root, "Agendas"), "Agenda"),
                *mt = mm_source_xml_child(ag, "Meeting");
        xmlNode *list = mm_source_xml_child(ag, "Items");
        char *mid = attr_of(mt, "ID"), *aid = attr_of(ag, "ID");
        char *when = mm_source_xml_text(mt, "When"),
             *type = mm_source_xml_text(root, "PublicationTypeAsEnum");
        char *pubd = mm_source_xml_text(root, "Published"), *ts = attr_of(root, "TimeStamp");
        char d[11], hm[6], iso[32] = "";
        int rc = -1;
        mm_source_build_t *b = NULL;
        if (pubd && mm_source_dmy(pubd, d, hm))
                snprintf(iso, sizeof(iso), "%sT%s:%.2s", d, hm[0] ? hm : "00:00",
                         strlen(pubd) >= 19 ? pubd + 17 : "00");
        if (!ag)
                mm_source_invalid(err, "SBSYS XML: Agendas.Agenda is missing");
        else if (!mt)
                mm_source_invalid(err, "SBSYS XML: Agenda.Meeting is missing");
        else if (!mm_source_dmy(when, d, hm))
                mm_source_invalid(err, "SBSYS XML: Meeting.When is missing or not DD-MM-YYYY");
        else if (!(mid && *mid) && !(aid && *aid))
                mm_source_invalid(err, "SBSYS XML: Meeting ID (or Agenda ID) is missing");
        else if (!list)
                mm_source_invalid(err, "SBSYS XML: Agenda.Items is missing");
        else if (!(b = mm_source_build_new(p)))
                mm_source_oom(err, "building the model");
        else {
                meeting(b, ag, mt);
                mm_source_build_source(b, "sbsys", mid && *mid ? mid : aid, aid,
                                       ts       ? ts
                                       : iso[0] ? iso
                                                : NULL);
                rc = items(b, list, err);
                if (rc == 0)
                        rc = mm_source_build_finish(
                                b, type && strcasestr(type, "minutes") ? "minutes" : NULL, res,
                                err);
        }
        mm_source_build_destroy(b);
        free(mid);
        free(aid);
        free(when);
        free(type);
        free(pubd);
        free(ts);
        return rc;
}

static int parse(const mm_parser_t *p, const char *buf, size_t len, const char *content_type,
                 mm_source_result_t *res, mm_parse_error_t *err) {
        (void)content_type;
        xmlDocPtr doc = mm_source_xml_read(buf, len, "SBSYS", err);
        if (!doc)
                return -1;
        xmlNode *root = xmlDocGetRootElement(doc);
        int rc = root && !strcmp((const char *)root->name, "Publication")
                         ? build(p, root, res, err)
                         : mm_source_invalid(err, "SBSYS XML: the root is not Publication");
        return mm_source_xml_done(doc, rc, err); /* a field's cap or memory fails it */
}

const mm_source_adapter_t mm_source_sbsys = {"sbsys", ct_sbsys, sniff, parse};
