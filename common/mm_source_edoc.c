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

/* First element child of `n` with local name `name`, or NULL. */
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

static int is_true(xmlNode *n, const char *name) {
        char *t = text_of(n, name);
        int r = t && !strcasecmp(t, "true");
        free(t);
        return r;
}

static void meeting(mm_source_build_t *b, xmlNode *com, xmlNode *mt) {
        char *name = text_of(com, "Name"), *when = text_of(mt, "MeetingDateTime");
        char *end = text_of(mt, "EndDateTime"), *loc = text_of(mt, "MeetingLocation");
        char date[11], start[6], d2[11], hm2[6];
        mm_source_dmy(when, date, start);
        mm_source_dmy(end, d2, hm2);
        mm_source_build_meeting(b, name, date[0] ? date : NULL, start[0] ? start : NULL,
                                hm2[0] ? hm2 : NULL, loc);
        for (xmlNode *p = child(child(mt, "MeetingParticipants"), "MeetingParticipant"); p;
             p = p->next) {
                if (p->type != XML_ELEMENT_NODE ||
                    strcmp((const char *)p->name, "MeetingParticipant"))
                        continue;
                char *pn = text_of(p, "Name"), *part = text_of(p, "Participate");
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
        char *place = text_of(h, "Placement"), *dec = text_of(h, "Decision");
        char *txt = dec ? mm_source_html_text(dec, strlen(dec)) : NULL;
        int self = place && !strcasecmp(place, "This");
        if (txt && *txt && !(self && !strcasecmp(txt, "Beslutning ikke frigivet"))) {
                char head[300];
                char *cn = text_of(h, "CommitteeName"), *md = text_of(h, "MeetingDate");
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
        for (xmlNode *c = child(child(hi, "CasePresentations"), "CasePresentation"); c;
             c = c->next) {
                if (c->type != XML_ELEMENT_NODE)
                        continue;
                char *t = text_of(c, "Title"), *html = text_of(c, "Content");
                char *txt = html ? mm_source_html_text(html, strlen(html)) : NULL;
                mm_source_build_section(b, t, is_true(c, "IsDecision") ? "decision" : NULL, 0, txt);
                free(t);
                free(html);
                free(txt);
        }
        for (xmlNode *h = child(child(hi, "HandlingPlan"), "Handling"); h; h = h->next)
                if (h->type == XML_ELEMENT_NODE)
                        handling(b, h);
        for (xmlNode *a = child(child(hi, "Attachments"), "Attachment"); a; a = a->next) {
                if (a->type != XML_ELEMENT_NODE)
                        continue;
                char *t = text_of(a, "Title"), *id = text_of(a, "Identifier");
                char *link = text_of(a, "Link");
                if (t)
                        mm_source_build_attachment(b, t, id, link);
                free(t);
                free(id);
                free(link);
        }
        /* Absences of this item: every Name below Absences. */
        for (xmlNode *a = child(el, "Absences") ? child(el, "Absences")->children : NULL; a;
             a = a->next) {
                char *n = a->type == XML_ELEMENT_NODE ? text_of(a, "Name") : NULL;
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
                xmlNode *hi = child(el, "HandlingItem");
                char *sn = text_of(hi, "SerialNo"), *title = text_of(hi, "Title");
                char *cn = text_of(hi, "CaseNumber"), *pub = text_of(el, "AccessIsPublic");
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
        xmlNode *com = child(root, "Committee"), *mt = child(com, "Meeting");
        xmlNode *ag = child(mt, "Agenda"), *els = child(ag, "AgendaElements");
        char *mid = mt ? text_of(mt, "MeetingIdentifier") : NULL;
        char *when = mt ? text_of(mt, "MeetingDateTime") : NULL;
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
                mm_source_invalid(err, "out of memory");
        else {
                char *aid = text_of(ag, "Identifier"), *type = text_of(ag, "Type");
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
        if (len > (size_t)0x7fffffff)
                return mm_source_invalid(err, "eDoc XML: too large");
        xmlDocPtr doc = xmlReadMemory(buf, (int)len, NULL, NULL,
                                      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
        if (!doc) {
                const xmlError *e = xmlGetLastError();
                int rc = mm_source_invalid(err,
                                           "eDoc XML: not well-formed (truncated?) at line "
                                           "%d: %.120s",
                                           e ? e->line : 0, e && e->message ? e->message : "");
                size_t n = strlen(err->reason);
                while (n && err->reason[n - 1] == '\n')
                        err->reason[--n] = '\0';
                return rc;
        }
        xmlNode *root = xmlDocGetRootElement(doc);
        int rc;
        if (!root || !root->ns || !root->ns->href ||
            strncmp((const char *)root->ns->href, EDOC_NS, strlen(EDOC_NS))) {
                /* The namespace sits on the children: look there. */
                xmlNode *c = child(root, "Committee");
                if (!c || !c->ns || !c->ns->href ||
                    strncmp((const char *)c->ns->href, EDOC_NS, strlen(EDOC_NS))) {
                        xmlFreeDoc(doc);
                        return mm_source_invalid(err, "eDoc XML: no Committee element in the "
                                                      "eDoc agenda namespace");
                }
        }
        rc = build(p, root, res, err);
        xmlFreeDoc(doc);
        return rc;
}

const mm_source_adapter_t mm_source_edoc = {"edoc", ct_edoc, sniff, parse};
