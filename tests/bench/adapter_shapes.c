/*
 * The adversarial shapes of the export adapters for parse_bench
 * --adversarial (issue 19): for each adapter (FirstAgenda JSON, eDoc XML,
 * SBSYS XML) its own worst cases, built in memory up to a size:
 *   items         many agenda items
 *   attachments   one item with many attachments (FirstAgenda: in reverse
 *                 Order, the worst case of an insertion sort)
 *   participants  many distinct members
 *   absent        many absent members and many items (each item repeats
 *                 the meeting's absent members: refused by the model cap)
 *   sections      one item with many sections (<h3>, CasePresentation,
 *                 ItemField)
 *   longfield     one field of the whole size
 *   amounts       one long line of amounts ("1.000 kr. ") in a section
 *   deep          nesting near the depth limit, repeated
 *   nodes         (eDoc) millions of empty elements: refused by the node
 *                 limit before the tree grows
 *   entities      (eDoc) the entity bomb grown to the size: refused
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter_shapes.h"
#include "mm_buf.h"
#include "mm_source.h"

const char *const adapter_shapes[] = {"fa-items",
                                      "fa-attachments",
                                      "fa-participants",
                                      "fa-absent",
                                      "fa-sections",
                                      "fa-longfield",
                                      "fa-amounts",
                                      "fa-deep",
                                      "edoc-items",
                                      "edoc-attachments",
                                      "edoc-participants",
                                      "edoc-sections",
                                      "edoc-longfield",
                                      "edoc-deep",
                                      "edoc-nodes",
                                      "edoc-entities",
                                      "sbsys-items",
                                      "sbsys-enclosures",
                                      "sbsys-members",
                                      "sbsys-fields",
                                      "sbsys-longfield",
                                      "sbsys-subitems",
                                      NULL};

#define FA_HEAD                                                                                    \
        "{\"Id\":\"bench\",\"Udvalg\":{\"Id\":\"u1\"},\"Moede\":{\"Dato\":\"2024-02-01T17:00:00+"  \
        "01:00\",\"Moededeltagere\":["
#define EDOC_DECL "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
#define EDOC_HEAD                                                                                  \
        "<Root xmlns=\"http://www.fujitsu.dk/agenda/xml/schemas/2009/03/31/\"><Committee>"         \
        "<Name>Byrådet</Name><Meeting><MeetingIdentifier>M-1</MeetingIdentifier>"                 \
        "<MeetingDateTime>01-02-2024 17:00</MeetingDateTime><MeetingParticipants>"
#define EDOC_AGENDA                                                                                \
        "</MeetingParticipants><Agenda><Identifier>A-1</Identifier><Type>Referat</Type>"           \
        "<AgendaElements>"
#define EDOC_ITEM                                                                                  \
        "<AgendaElement><AccessIsPublic>true</AccessIsPublic><HandlingItem><SerialNo>%u"           \
        "</SerialNo><Title>Greve Kommune: sag %u</Title>"
#define EDOC_TAIL "</AgendaElements></Agenda></Meeting></Committee></Root>\n"
#define SB_HEAD                                                                                    \
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Publication "                                \
        "TimeStamp=\"2024-01-25T10:00:00\">"                                                       \
        "<Published>25-01-2024 10:00:00</Published><PublicationTypeAsEnum>Minutes"                 \
        "</PublicationTypeAsEnum><Agendas><Agenda ID=\"7\"><Committee><Name>Byrådet</Name>"       \
        "</Committee><Meeting ID=\"26\"><When>01-02-2024 17:00:00</When><Members>"
#define SB_ITEMS "</Members></Meeting><Items>"
#define SB_ITEM  "<Item><Number>%u</Number><Caption>Greve Kommune: sag %u</Caption>"
#define SB_TAIL  "</Items></Agenda></Agendas></Publication>\n"

/* One unit k of the shape's repeated part. */
static void unit(mm_buf_t *b, const char *s, unsigned k) {
        if (!strcmp(s, "fa-items"))
                mm_buf_printf(b, "%s{\"Punktnummer\":%u,\"Navn\":\"Sag %u\"}", k ? "," : "", k + 1,
                              k);
        else if (!strcmp(s, "fa-attachments"))
                mm_buf_printf(b, "%s{\"Navn\":\"Bilag %u\",\"Order\":%u,\"Id\":\"b%u\"}",
                              k ? "," : "", k, 4000000000u - k, k);
        else if (!strcmp(s, "fa-participants") || (!strcmp(s, "fa-absent") && k < 1000))
                mm_buf_printf(b, "%s{\"Name\":\"Medlem nr. %u\",\"Absent\":%s}", k ? "," : "", k,
                              s[3] == 'a' ? "true" : "false");
        else if (!strcmp(s, "fa-absent")) /* then items, each with the 1,000 absent */
                mm_buf_printf(b, "%s{\"Punktnummer\":%u,\"Navn\":\"Sag %u\"}",
                              k == 1000 ? "]},\"Dagsordenpunkter\":[" : ",", k, k);
        else if (!strcmp(s, "fa-sections"))
                mm_buf_printf(b, "<h3>Afsnit %u</h3><p>Tekst i afsnit %u.</p>", k, k);
        else if (!strcmp(s, "fa-longfield"))
                mm_buf_printf(b, "Sagen godkendes, idet udvalget %u ", k);
        else if (!strcmp(s, "fa-amounts"))
                mm_buf_printf(b, "%u.000 kr. ", k % 1000 + 1);
        else if (!strcmp(s, "fa-deep")) {
                for (int d = 0; d < 240; d++)
                        mm_buf_puts(b, "<div>");
                mm_buf_printf(b, "Punkt %u", k);
                for (int d = 0; d < 240; d++)
                        mm_buf_puts(b, "</div>");
        } else if (!strcmp(s, "edoc-items"))
                mm_buf_printf(b, EDOC_ITEM "</HandlingItem></AgendaElement>", k + 1, k);
        else if (!strcmp(s, "edoc-attachments"))
                mm_buf_printf(b,
                              "<Attachment><Identifier>%u</Identifier><Title>Bilag %u</Title>"
                              "<Link>\\Attachments\\%u.pdf</Link></Attachment>",
                              k, k, k);
        else if (!strcmp(s, "edoc-participants"))
                mm_buf_printf(b,
                              "<MeetingParticipant><Name>Medlem nr. %u</Name>"
                              "<Participate>%s</Participate></MeetingParticipant>",
                              k, k % 2 ? "true" : "false");
        else if (!strcmp(s, "edoc-sections"))
                mm_buf_printf(b,
                              "<CasePresentation><Title>Afsnit %u</Title><Content>&lt;p&gt;"
                              "Tekst %u.&lt;/p&gt;</Content><IsDecision>%s</IsDecision>"
                              "</CasePresentation>",
                              k, k, k % 50 ? "false" : "true");
        else if (!strcmp(s, "edoc-longfield") || !strcmp(s, "sbsys-longfield"))
                mm_buf_printf(b, "&lt;p&gt;Sagen godkendes, idet udvalget %u.&lt;/p&gt;", k);
        else if (!strcmp(s, "edoc-deep")) {
                for (int d = 0; d < 240; d++)
                        mm_buf_puts(b, "<b>");
                mm_buf_printf(b, "ord %u", k);
                for (int d = 0; d < 240; d++)
                        mm_buf_puts(b, "</b>");
        } else if (!strcmp(s, "edoc-nodes"))
                mm_buf_puts(b, "<x/>");
        else if (!strcmp(s, "edoc-entities"))
                mm_buf_puts(b, "&e;");
        else if (!strcmp(s, "sbsys-items"))
                mm_buf_printf(b, SB_ITEM "</Item>", k + 1, k);
        else if (!strcmp(s, "sbsys-enclosures"))
                mm_buf_printf(b,
                              "<Enclosure ID=\"%u\"><Name>Bilag %u</Name><FileName>%u.pdf"
                              "</FileName></Enclosure>",
                              k, k, k);
        else if (!strcmp(s, "sbsys-members"))
                mm_buf_printf(b,
                              "<MeetingMember><Name>Medlem nr. %u</Name>"
                              "<ParticipationStatusAsText>%s</ParticipationStatusAsText>"
                              "</MeetingMember>",
                              k, k % 2 ? "Deltager" : "Afbud");
        else if (!strcmp(s, "sbsys-fields"))
                mm_buf_printf(b,
                              "<ItemField><Caption>Felt %u</Caption><Content>&lt;p&gt;Tekst "
                              "%u.&lt;/p&gt;</Content><IsFeedback>%s</IsFeedback></ItemField>",
                              k, k, k % 50 ? "false" : "true");
        else if (!strcmp(s, "sbsys-subitems"))
                mm_buf_printf(b,
                              "<Item><Number>1.%u</Number><Caption>Underpunkt %u</Caption>"
                              "<Fields><ItemField><Caption>Beslutning</Caption><Content>"
                              "Godkendt.</Content><IsFeedback>true</IsFeedback></ItemField>"
                              "</Fields></Item>",
                              k, k);
}

/* The parts of a FirstAgenda shape before (tail 0) and after the units. */
static void fa_frame(mm_buf_t *b, const char *s, int tail) {
        int in_item = !strcmp(s, "fa-attachments") || !strcmp(s, "fa-sections") ||
                      !strcmp(s, "fa-longfield") || !strcmp(s, "fa-amounts") ||
                      !strcmp(s, "fa-deep");
        int members = !strcmp(s, "fa-participants") || !strcmp(s, "fa-absent");
        int html = in_item && strcmp(s, "fa-attachments");
        if (!tail) {
                mm_buf_puts(b, FA_HEAD);
                if (!members)
                        mm_buf_puts(b, "]},\"Dagsordenpunkter\":[");
                if (in_item)
                        mm_buf_puts(b, "{\"Punktnummer\":1,\"Navn\":\"Greve Kommune: "
                                       "budget\",");
                if (html)
                        mm_buf_puts(b, "\"Felter\":[{\"Navn\":\"Beslutning\",\"Html\":\"<p>");
                if (!strcmp(s, "fa-attachments"))
                        mm_buf_puts(b, "\"Bilag\":[");
                return;
        }
        if (html)
                mm_buf_puts(b, "</p>\",\"Link\":\"https://dagsordener.greve.dk/x\"}]}]}");
        else if (in_item)
                mm_buf_puts(b, "]}]}");
        else if (!strcmp(s, "fa-absent"))
                mm_buf_puts(b, "]}");
        else if (members)
                mm_buf_puts(b, "]},\"Dagsordenpunkter\":[{\"Punktnummer\":1,\"Navn\":"
                               "\"Greve Kommune\"}]}");
        else
                mm_buf_puts(b, "]}");
}

/* The parts of an eDoc shape before (tail 0) and after the units. */
static void edoc_frame(mm_buf_t *b, const char *s, int tail) {
        int part = !strcmp(s, "edoc-participants");
        int attach = !strcmp(s, "edoc-attachments"), secs = !strcmp(s, "edoc-sections");
        int lf = !strcmp(s, "edoc-longfield"), title = !strcmp(s, "edoc-deep") ||
                                                       !strcmp(s, "edoc-nodes") ||
                                                       !strcmp(s, "edoc-entities");
        if (!tail) {
                mm_buf_puts(b, EDOC_DECL);
                if (!strcmp(s, "edoc-entities")) /* the 50 KB entity */
                        mm_buf_printf(b, "<!DOCTYPE Root [<!ENTITY e \"%050000d\">]>\n", 0);
                mm_buf_puts(b, EDOC_HEAD);
                if (part)
                        return;
                mm_buf_puts(b, EDOC_AGENDA);
                if (!strcmp(s, "edoc-items"))
                        return;
                mm_buf_printf(b, EDOC_ITEM, 1u, 1u);
                if (attach)
                        mm_buf_puts(b, "<Attachments>");
                else if (secs)
                        mm_buf_puts(b, "<CasePresentations>");
                else if (lf)
                        mm_buf_puts(b, "<CasePresentations><CasePresentation><Title>"
                                       "Sagsfremstilling</Title><Content>");
                else if (title)
                        mm_buf_puts(b, "<CaseNumber>");
                return;
        }
        if (part) {
                mm_buf_puts(b, EDOC_AGENDA);
                mm_buf_printf(b, EDOC_ITEM "</HandlingItem></AgendaElement>", 1u, 1u);
        } else if (attach)
                mm_buf_puts(b, "</Attachments></HandlingItem></AgendaElement>");
        else if (secs)
                mm_buf_puts(b, "</CasePresentations></HandlingItem></AgendaElement>");
        else if (lf)
                mm_buf_puts(b, "</Content></CasePresentation></CasePresentations>"
                               "</HandlingItem></AgendaElement>");
        else if (title)
                mm_buf_puts(b, "</CaseNumber></HandlingItem></AgendaElement>");
        mm_buf_puts(b, EDOC_TAIL);
}

/* The parts of an SBSYS shape before (tail 0) and after the units. */
static void sbsys_frame(mm_buf_t *b, const char *s, int tail) {
        int mem = !strcmp(s, "sbsys-members"), enc = !strcmp(s, "sbsys-enclosures");
        int fields = !strcmp(s, "sbsys-fields"), lf = !strcmp(s, "sbsys-longfield");
        if (!tail) {
                mm_buf_puts(b, SB_HEAD);
                if (mem)
                        return;
                mm_buf_puts(b, SB_ITEMS);
                if (!strcmp(s, "sbsys-items"))
                        return;
                mm_buf_printf(b, SB_ITEM, 1u, 1u);
                if (enc)
                        mm_buf_puts(b, "<Enclosures>");
                else if (fields)
                        mm_buf_puts(b, "<Fields>");
                else if (lf)
                        mm_buf_puts(b, "<Fields><ItemField><Caption>Sagsfremstilling</Caption>"
                                       "<Content>");
                else
                        mm_buf_puts(b, "</Item>"); /* sub-items follow */
                return;
        }
        if (mem)
                mm_buf_printf(b, SB_ITEMS SB_ITEM "</Item>", 1u, 1u);
        else if (enc)
                mm_buf_puts(b, "</Enclosures></Item>");
        else if (fields)
                mm_buf_puts(b, "</Fields></Item>");
        else if (lf)
                mm_buf_puts(b, "</Content></ItemField></Fields></Item>");
        mm_buf_puts(b, SB_TAIL);
}

/* The parts before and after the repeated units. */
static void frame(mm_buf_t *b, const char *s, int tail) {
        if (!strncmp(s, "fa-", 3))
                fa_frame(b, s, tail);
        else if (!strncmp(s, "edoc-", 5))
                edoc_frame(b, s, tail);
        else
                sbsys_frame(b, s, tail);
}

char *adapter_shape(const char *shape, size_t size, size_t *len, const char **ct) {
        mm_buf_t b = MM_BUF_INIT;
        if (mm_buf_reserve_exact(&b, size + 65536))
                return NULL;
        *ct = !strncmp(shape, "fa-", 3)     ? MM_SOURCE_CT_FIRSTAGENDA
              : !strncmp(shape, "edoc-", 5) ? MM_SOURCE_CT_EDOC
                                            : MM_SOURCE_CT_SBSYS;
        frame(&b, shape, 0);
        for (unsigned k = 0; b.len + 2048 < size; k++)
                unit(&b, shape, k);
        frame(&b, shape, 1);
        if (mm_buf_failed(&b)) {
                mm_buf_release(&b);
                return NULL;
        }
        *len = b.len;
        return b.p; /* ownership passes to the caller */
}
