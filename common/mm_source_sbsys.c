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

static xmlNode *child(xmlNode *n, const char *name) {
        for (xmlNode *c = n ? n->children : NULL; c; c = c->next)
                if (c->type == XML_ELEMENT_NODE && !strcmp((const char *)c->name, name))
                        return c;
        return NULL;
}

/* Text of the child `name` (malloc'd, caller frees), or NULL. */
static char *text_of(xmlNode *n, const char *name) {
        xmlNode *c = child(n, name);
        xmlChar *t = c ? xmlNodeGetContent(c) : NULL;
        char *out = t ? strdup((const char *)t) : NULL;
        xmlFree(t);
        return out;
}

static char *attr_of(xmlNode *n, const char *name) {
        xmlChar *t = n ? xmlGetProp(n, (const xmlChar *)name) : NULL;
        char *out = t ? strdup((const char *)t) : NULL;
        xmlFree(t);
        return out;
}

static void meeting(mm_source_build_t *b, xmlNode *ag, xmlNode *mt) {
        char *com = text_of(child(ag, "Committee"), "Name");
        char *name = com ? NULL : text_of(ag, "Name");
        char *when = text_of(mt, "When"), *until = text_of(mt, "Until");
        char *where = text_of(mt, "Where");
        char date[11], start[6], d2[11], end[6];
        mm_source_dmy(when, date, start);
        mm_source_dmy(until, d2, end);
        mm_source_build_meeting(b, com ? com : name, date[0] ? date : NULL, start[0] ? start : NULL,
                                end[0] ? end : NULL, where);
        for (xmlNode *m = child(child(mt, "Members"), "MeetingMember"); m; m = m->next) {
                if (m->type != XML_ELEMENT_NODE)
                        continue;
                char *n = text_of(m, "Name"), *st = text_of(m, "ParticipationStatusAsText");
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
        for (xmlNode *f = child(child(it, "Fields"), "ItemField"); f; f = f->next) {
                if (f->type != XML_ELEMENT_NODE)
                        continue;
                char *cap = text_of(f, "Caption"), *html = text_of(f, "Content");
                char *fb = text_of(f, "IsFeedback");
                char *txt = html ? mm_source_html_text(html, strlen(html)) : NULL;
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
        for (xmlNode *e = child(child(it, "Enclosures"), "Enclosure"); e; e = e->next) {
                if (e->type != XML_ELEMENT_NODE)
                        continue;
                char *n = text_of(e, "Name"), *fn = text_of(e, "FileName");
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
                char *num = text_of(it, "Number"), *cap = text_of(it, "Caption");
                char *cn = text_of(child(it, "Case"), "Number"), *pub = text_of(it, "IsPublic");
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
        xmlNode *ag = child(child(root, "Agendas"), "Agenda"), *mt = child(ag, "Meeting");
        xmlNode *list = child(ag, "Items");
        char *mid = attr_of(mt, "ID"), *aid = attr_of(ag, "ID");
        char *when = text_of(mt, "When"), *type = text_of(root, "PublicationTypeAsEnum");
        char *pubd = text_of(root, "Published"), *ts = attr_of(root, "TimeStamp");
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
                mm_source_invalid(err, "out of memory");
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
        if (len > (size_t)0x7fffffff)
                return mm_source_invalid(err, "SBSYS XML: too large");
        xmlDocPtr doc = xmlReadMemory(buf, (int)len, NULL, NULL,
                                      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
        if (!doc) {
                const xmlError *e = xmlGetLastError();
                return mm_source_invalid(err, "SBSYS XML: not well-formed (truncated?) at line %d",
                                         e ? e->line : 0);
        }
        xmlNode *root = xmlDocGetRootElement(doc);
        int rc = root && !strcmp((const char *)root->name, "Publication")
                         ? build(p, root, res, err)
                         : mm_source_invalid(err, "SBSYS XML: the root is not Publication");
        xmlFreeDoc(doc);
        return rc;
}

const mm_source_adapter_t mm_source_sbsys = {"sbsys", ct_sbsys, sniff, parse};
