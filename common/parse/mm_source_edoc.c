/*
 * eDoc (Fujitsu) agenda publication XML, namespace
 * http://www.fujitsu.dk/agenda/xml/schemas/2009/03/31/ :
 *
 *   Root/Committee {Name, Meeting {MeetingIdentifier, MeetingDateTime,
 *     EndDateTime, MeetingLocation, MeetingParticipants/MeetingParticipant
 *     {Name, Participate}, Agenda {Identifier, Type, AgendaElements/
 *     AgendaElement {AccessIsPublic, Absences, HandlingItem {SerialNo,
 *       Title, CaseNumber, HandlingPlan/Handling {Placement, CommitteeName,
 *       MeetingDate, Decision}, CasePresentations/CasePresentation {Title,
 *       Content, IsDecision}, Attachments/Attachment {Identifier, Title,
 *       Link}}}}}}
 *
 * Dates are "DD-MM-YYYY HH:MM". An item is closed when AccessIsPublic is
 * false. The decision of this meeting is the Handling with Placement
 * "This" (eDoc writes "Beslutning ikke frigivet" while it is not released:
 * no decision) and any CasePresentation with IsDecision true; other
 * Handlings are the item's history. The XML carries no publication time:
 * eDoc writes it into the folder name (<...>/<YYYY-MM-DD HH.MM.SS>/<guid>.xml),
 * which minutes-submit sends as the event time.
 */
#include <ctype.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mm_source.h"

#define EDOC_NS "http://www.fujitsu.dk/agenda/xml/schemas/"

static const char *const ct_edoc[] = {MM_SOURCE_CT_EDOC, NULL};

static int sniff(const char *buf, size_t len) {
        size_t n = len < 4096 ? len : 4096;
        return memmem(buf, n, EDOC_NS, strlen(EDOC_NS)) != NULL &&
               memmem(buf, len, "Committee", 9) != NULL;
}

static int is_true(xmlNode *n, const char *name) {
        char *t = mm_source_xml_text(n, name);
        int r = t && !strcasecmp(t, "true");
        free(t);
        return r;
}

static void meeting(mm_source_build_t *b, xmlNode *com, xmlNode *mt) {
        char *name = mm_source_xml_text(com, "Name"),
             *when = mm_source_xml_text(mt, "MeetingDateTime");
        char *end = mm_source_xml_text(mt, "EndDateTime"),
             *loc = mm_source_xml_text(mt, "MeetingLocation");
        char date[11], start[6], d2[11], hm2[6];
        mm_source_dmy(when, date, start);
        mm_source_dmy(end, d2, hm2);
        mm_source_build_meeting(b, name, date[0] ? date : NULL, start[0] ? start : NULL,
                                hm2[0] ? hm2 : NULL, loc);
        for (xmlNode *p = mm_source_xml_child(mm_source_xml_child(mt, "MeetingParticipants"),
                                              "MeetingParticipant");
             p; p = p->next) {
                if (p->type != XML_ELEMENT_NODE ||
                    strcmp((const char *)p->name, "MeetingParticipant"))
                        continue;
                char *pn = mm_source_xml_text(p, "Name"),
                     *part = mm_source_xml_text(p, "Participate");
                if (pn)
                        mm_source_build_participant(b, pn, part && !strcasecmp(part, "false"));
                free(pn);
                free(part);
        }
        free(name);
        free(when);
        free(end);
        free(loc);
}

/* The decision of one Handling: this meeting's, or history. */
static void handling(mm_source_build_t *b, xmlNode *h) {
        char *place = mm_source_xml_text(h, "Placement"), *dec = mm_source_xml_text(h, "Decision");
        char *txt = dec ? mm_source_html_text(b, dec, strlen(dec)) : NULL;
        int self = place && !strcasecmp(place, "This");
        if (txt && *txt && !(self && !strcasecmp(txt, "Beslutning ikke frigivet"))) {
                char head[300];
                char *cn = mm_source_xml_text(h, "CommitteeName"),
                     *md = mm_source_xml_text(h, "MeetingDate");
                snprintf(head, sizeof(head), "Beslutning %s %s", cn ? cn : "", md ? md : "");
                mm_source_build_section(b, self ? "Beslutning" : head, "decision", !self, txt);
                free(cn);
                free(md);
        }
        free(place);
        free(dec);
        free(txt);
}

static void item_body(mm_source_build_t *b, xmlNode *hi, xmlNode *el) {
        for (xmlNode *c = mm_source_xml_child(mm_source_xml_child(hi, "CasePresentations"),
                                              "CasePresentation");
             c; c = c->next) {
                if (c->type != XML_ELEMENT_NODE)
                        continue;
                char *t = mm_source_xml_text(c, "Title"), *html = mm_source_xml_text(c, "Content");
                char *txt = html ? mm_source_html_text(b, html, strlen(html)) : NULL;
                mm_source_build_section(b, t, is_true(c, "IsDecision") ? "decision" : NULL, 0, txt);
                free(t);
                free(html);
                free(txt);
        }
        for (xmlNode *h = mm_source_xml_child(mm_source_xml_child(hi, "HandlingPlan"), "Handling");
             h; h = h->next)
                if (h->type == XML_ELEMENT_NODE)
                        handling(b, h);
        for (xmlNode *a = mm_source_xml_child(mm_source_xml_child(hi, "Attachments"), "Attachment");
             a; a = a->next) {
                if (a->type != XML_ELEMENT_NODE)
                        continue;
                char *t = mm_source_xml_text(a, "Title"), *id = mm_source_xml_text(a, "Identifier");
                char *link = mm_source_xml_text(a, "Link");
                if (t)
                        mm_source_build_attachment(b, t, id, link);
                free(t);
                free(id);
                free(link);
        }
        /* Absences of this item: every Name below Absences. */
        for (xmlNode *a = mm_source_xml_child(el, "Absences")
                                  ? mm_source_xml_child(el, "Absences")->children
                                  : NULL;
             a; a = a->next) {
                char *n = a->type == XML_ELEMENT_NODE ? mm_source_xml_text(a, "Name") : NULL;
                if (n)
                        mm_source_build_item_absent(b, n);
                free(n);
        }
}

static int items(mm_source_build_t *b, xmlNode *els, mm_parse_error_t *err) {
        size_t idx = 0;
        for (xmlNode *el = els->children; el; el = el->next) {
                if (el->type != XML_ELEMENT_NODE || strcmp((const char *)el->name, "AgendaElement"))
                        continue;
                xmlNode *hi = mm_source_xml_child(el, "HandlingItem");
                char *sn = mm_source_xml_text(hi, "SerialNo"),
                     *title = mm_source_xml_text(hi, "Title");
                char *cn = mm_source_xml_text(hi, "CaseNumber"),
                     *pub = mm_source_xml_text(el, "AccessIsPublic");
                int rc = 0;
                if (!hi)
                        rc = mm_source_invalid(err,
                                               "eDoc XML: AgendaElement[%zu].HandlingItem "
                                               "is missing",
                                               idx);
                else if (!sn || !isdigit((unsigned char)sn[0]))
                        rc = mm_source_invalid(err,
                                               "eDoc XML: AgendaElement[%zu].HandlingItem."
                                               "SerialNo is missing or not a number",
                                               idx);
                else if (!title)
                        rc = mm_source_invalid(err,
                                               "eDoc XML: AgendaElement[%zu].HandlingItem."
                                               "Title is missing",
                                               idx);
                else {
                        mm_source_build_item(b, strtol(sn, NULL, 10), title, cn,
                                             pub && !strcasecmp(pub, "false"));
                        item_body(b, hi, el);
                }
                free(sn);
                free(title);
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
        xmlNode *com = mm_source_xml_child(root, "Committee"),
                *mt = mm_source_xml_child(com, "Meeting");
        xmlNode *ag = mm_source_xml_child(mt, "Agenda"),
                *els = mm_source_xml_child(ag, "AgendaElements");
        char *mid = mt ? mm_source_xml_text(mt, "MeetingIdentifier") : NULL;
        char *when = mt ? mm_source_xml_text(mt, "MeetingDateTime") : NULL;
        char d[11], hm[6];
        int rc = -1;
        mm_source_build_t *b = NULL;
        if (!com)
                mm_source_invalid(err, "eDoc XML: Committee is missing");
        else if (!mt)
                mm_source_invalid(err, "eDoc XML: Committee.Meeting is missing");
        else if (!mid || !*mid)
                mm_source_invalid(err, "eDoc XML: Meeting.MeetingIdentifier is missing");
        else if (!mm_source_dmy(when, d, hm))
                mm_source_invalid(err, "eDoc XML: Meeting.MeetingDateTime is missing or not "
                                       "DD-MM-YYYY");
        else if (!els)
                mm_source_invalid(err, "eDoc XML: Meeting.Agenda.AgendaElements is missing");
        else if (!(b = mm_source_build_new(p)))
                mm_source_oom(err, "building the model");
        else {
                char *aid = mm_source_xml_text(ag, "Identifier"),
                     *type = mm_source_xml_text(ag, "Type");
                meeting(b, com, mt);
                mm_source_build_source(b, "edoc", mid, aid, NULL);
                rc = items(b, els, err);
                if (rc == 0)
                        rc = mm_source_build_finish(
                                b, type && strcasestr(type, "referat") ? "minutes" : NULL, res,
                                err);
                free(aid);
                free(type);
        }
        mm_source_build_destroy(b);
        free(mid);
        free(when);
        return rc;
}

static int parse(const mm_parser_t *p, const char *buf, size_t len, const char *content_type,
                 mm_source_result_t *res, mm_parse_error_t *err) {
        (void)content_type;
        xmlDocPtr doc = mm_source_xml_read(buf, len, "eDoc", err);
        if (!doc)
                return -1;
        xmlNode *root = xmlDocGetRootElement(doc);
        int rc;
        if (!root || !root->ns || !root->ns->href ||
            strncmp((const char *)root->ns->href, EDOC_NS, strlen(EDOC_NS))) {
                /* The namespace sits on the children: look there. */
                xmlNode *c = mm_source_xml_child(root, "Committee");
                if (!c || !c->ns || !c->ns->href ||
                    strncmp((const char *)c->ns->href, EDOC_NS, strlen(EDOC_NS)))
                        return mm_source_xml_done(
                                doc,
                                mm_source_invalid(err, "eDoc XML: no Committee element in the "
                                                       "eDoc agenda namespace"),
                                err);
        }
        rc = build(p, root, res, err);
        return mm_source_xml_done(doc, rc, err); /* a field's cap or memory fails it */
}

const mm_source_adapter_t mm_source_edoc = {"edoc", ct_edoc, sniff, parse};
