/*
 * mm_source_xml: the XML of the exports (eDoc, SBSYS) and the HTML in
 * their fields, read within bounds (see mm_source.h).
 *
 * An export is untrusted input, read inside the worker. libxml2 keeps an
 * entity reference in the tree and expands it only when the text is asked
 * for, where its amplification guard does not apply: one 50 KB entity
 * referenced 2,000 times made a 100 MB committee name (issue 19). So:
 * - a DOCTYPE that declares anything (entities, parameter entities,
 *   elements, attributes with defaults, notations) is refused before its
 *   first declaration is stored: the SAX callback stops the parser;
 * - elements and text chunks are counted as the parser reports them, and
 *   the parse stops at extract-max-html-nodes or extract-max-html-depth,
 *   before the tree grows (the same limits as HTML extraction);
 * - a field's text is gathered into an mm_buf capped at max-doc-bytes;
 * - the HTML of a field (eDoc Content, SBSYS ItemField, FirstAgenda Html)
 *   is held to the same node and depth limits: libxml2's HTML parser would
 *   stop at depth 256 silently and leave the text cut.
 * A cap that is hit, or an allocation that fails, is recorded with the
 * document (doc->_private) and turns the parse into an error: never a
 * silently shorter field.
 */
#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/tree.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mm_buf.h"
#include "mm_extract.h"
#include "mm_source.h"

/* What a parse met (ctxt->_private during the parse, doc->_private
 * after it). */
typedef struct xstate_s {
        const char *system;
        size_t max_field;
        long max_nodes, max_depth, nodes;
        int refused, too_deep, too_many;
        char doctype[64], decl[96];
        int failed; /* a cap or an allocation: err holds the first */
        mm_parse_error_t err;
        startElementNsSAX2Func start;
        startElementSAXFunc hstart;
        charactersSAXFunc chars, cdata;
} xstate_t;

static void limits(xstate_t *s, const char *system) {
        mm_extract_limits_t lim;
        mm_extract_get_limits(&lim);
        memset(s, 0, sizeof(*s));
        s->system = system;
        s->max_field = lim.max_output_bytes;
        s->max_nodes = lim.max_html_nodes;
        s->max_depth = lim.max_html_depth;
}

static void st_fail(xstate_t *s, const char *code, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void st_fail(xstate_t *s, const char *code, const char *fmt, ...) {
        va_list ap;
        if (s->failed++)
                return; /* the first cause is the one reported */
        snprintf(s->err.code, sizeof(s->err.code), "%s", code);
        va_start(ap, fmt);
        vsnprintf(s->err.reason, sizeof(s->err.reason), fmt, ap);
        va_end(ap);
}

/* ---- SAX guards ---- */

static xstate_t *st_of(void *ctx) {
        return ((xmlParserCtxtPtr)ctx)->_private;
}

/* Counts a node; stops the parse at a limit. */
static int guard_node(void *ctx, int element) {
        xmlParserCtxtPtr ctxt = ctx;
        xstate_t *s = st_of(ctx);
        if (element && (long)ctxt->nodeNr >= s->max_depth)
                s->too_deep = 1;
        else if (++s->nodes > s->max_nodes)
                s->too_many = 1;
        else
                return 1;
        xmlStopParser(ctxt);
        return 0;
}

static void g_start_ns(void *ctx, const xmlChar *ln, const xmlChar *pfx, const xmlChar *uri,
                       int nns, const xmlChar **ns, int nat, int ndef, const xmlChar **at) {
        if (guard_node(ctx, 1))
                st_of(ctx)->start(ctx, ln, pfx, uri, nns, ns, nat, ndef, at);
}

static void g_start_html(void *ctx, const xmlChar *name, const xmlChar **atts) {
        if (guard_node(ctx, 1))
                st_of(ctx)->hstart(ctx, name, atts);
}

static void g_chars(void *ctx, const xmlChar *ch, int len) {
        /* Text comes in chunks (one per character reference, e.g. each
         * "&lt;" of an escaped HTML field) that SAX2 joins into one node:
         * only a chunk that starts a node counts. */
        xmlNodePtr cur = ((xmlParserCtxtPtr)ctx)->node;
        if ((cur && cur->last && cur->last->type == XML_TEXT_NODE) || guard_node(ctx, 0))
                st_of(ctx)->chars(ctx, ch, len);
}

static void g_cdata(void *ctx, const xmlChar *ch, int len) {
        if (guard_node(ctx, 0))
                st_of(ctx)->cdata(ctx, ch, len);
}

/* Any declaration in the DOCTYPE: refused before it is stored. */
static void refuse(void *ctx, const char *what, const xmlChar *name) {
        xstate_t *s = st_of(ctx);
        if (!s->refused++)
                snprintf(s->decl, sizeof(s->decl), "%s %.60s", what,
                         name ? (const char *)name : "");
        xmlStopParser(ctx);
}

static void g_internal_subset(void *ctx, const xmlChar *name, const xmlChar *eid,
                              const xmlChar *sid) {
        (void)eid;
        (void)sid; /* an external DTD is never loaded (no DTDLOAD, NONET) */
        snprintf(st_of(ctx)->doctype, sizeof(st_of(ctx)->doctype), "%.60s",
                 name ? (const char *)name : "");
}

static void g_entity(void *ctx, const xmlChar *name, int type, const xmlChar *pid,
                     const xmlChar *sid, xmlChar *content) {
        (void)type;
        (void)pid;
        (void)sid;
        (void)content;
        refuse(ctx, "ENTITY", name);
}

static void g_unparsed(void *ctx, const xmlChar *name, const xmlChar *pid, const xmlChar *sid,
                       const xmlChar *notation) {
        (void)pid;
        (void)sid;
        (void)notation;
        refuse(ctx, "ENTITY", name);
}

static void g_element(void *ctx, const xmlChar *name, int type, xmlElementContentPtr content) {
        (void)type;
        (void)content;
        refuse(ctx, "ELEMENT", name);
}

static void g_attribute(void *ctx, const xmlChar *elem, const xmlChar *name, int type, int def,
                        const xmlChar *dv, xmlEnumerationPtr tree) {
        (void)name;
        (void)type;
        (void)def;
        (void)dv;
        xmlFreeEnumeration(tree); /* the callee owns it (as xmlSAX2AttributeDecl) */
        refuse(ctx, "ATTLIST", elem);
}

static void g_notation(void *ctx, const xmlChar *name, const xmlChar *pid, const xmlChar *sid) {
        (void)pid;
        (void)sid;
        refuse(ctx, "NOTATION", name);
}

/* Wraps the context's SAX handler with the guards. */
static void guard_sax(xmlParserCtxtPtr ctxt, xstate_t *s, int html) {
        xmlSAXHandlerPtr h = ctxt->sax;
        ctxt->_private = s;
        s->chars = h->characters;
        s->cdata = h->cdataBlock ? h->cdataBlock : h->characters;
        h->characters = g_chars;
        h->cdataBlock = g_cdata;
        if (html) {
                s->hstart = h->startElement;
                h->startElement = g_start_html;
                return;
        }
        s->start = h->startElementNs;
        h->startElementNs = g_start_ns;
        h->internalSubset = g_internal_subset;
        h->entityDecl = g_entity;
        h->unparsedEntityDecl = g_unparsed;
        h->elementDecl = g_element;
        h->attributeDecl = g_attribute;
        h->notationDecl = g_notation;
}

/* ---- the export's XML ---- */

static void trim_nl(char *s) {
        size_t n = strlen(s);
        while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
                s[--n] = '\0';
}

/* The error of a parse that gave no document. */
static void read_error(const xstate_t *s, xmlParserCtxtPtr ctxt, mm_parse_error_t *err) {
        const xmlError *e = ctxt ? xmlCtxtGetLastError(ctxt) : NULL;
        if (s->refused)
                mm_source_invalid(err,
                                  "%s XML: the DOCTYPE %s declares %s; entity and DTD "
                                  "declarations are refused",
                                  s->system, s->doctype, s->decl);
        else if (s->too_deep)
                mm_source_invalid(err,
                                  "%s XML: elements nest deeper than %ld "
                                  "(extract-max-html-depth)",
                                  s->system, s->max_depth);
        else if (s->too_many)
                mm_source_invalid(err,
                                  "%s XML: more than %ld elements and text nodes "
                                  "(extract-max-html-nodes)",
                                  s->system, s->max_nodes);
        else if (!ctxt || (e && e->code == XML_ERR_NO_MEMORY))
                mm_source_oom(err, "reading the XML");
        else
                mm_source_invalid(err, "%s XML: not well-formed (truncated?) at line %d: %.120s",
                                  s->system, e ? e->line : 0, e && e->message ? e->message : "");
        trim_nl(err->reason);
}

xmlDocPtr mm_source_xml_read(const char *buf, size_t len, const char *system,
                             mm_parse_error_t *err) {
        xstate_t *s = malloc(sizeof(*s));
        if (!s) {
                mm_source_oom(err, "reading the XML");
                return NULL;
        }
        limits(s, system);
        if (!buf || !len || len > (size_t)0x7fffffff) {
                free(s);
                mm_source_invalid(err, "%s XML: %s", system, len ? "too large" : "empty");
                return NULL;
        }
        /* The steps of libxml2's xmlReadMemory, with the SAX handler wrapped. */
        xmlParserCtxtPtr ctxt = xmlCreateMemoryParserCtxt(buf, (int)len);
        xmlDocPtr doc = NULL;
        if (ctxt && ctxt->sax) {
                guard_sax(ctxt, s, 0);
                /* HUGE lifts libxml2's own depth and text limits, which the
                 * guards and the field cap replace (no entity is ever
                 * declared, so its entity limits have nothing to do) */
                xmlCtxtUseOptions(ctxt, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
                                                XML_PARSE_HUGE);
                xmlParseDocument(ctxt);
                doc = ctxt->myDoc;
                ctxt->myDoc = NULL;
                /* a parse stopped for memory may still look well-formed */
                if (doc && (!ctxt->wellFormed || ctxt->errNo == XML_ERR_NO_MEMORY)) {
                        xmlFreeDoc(doc);
                        doc = NULL;
                }
        }
        if (doc && (s->refused || s->too_deep || s->too_many)) {
                xmlFreeDoc(doc); /* a stopped parse is never used */
                doc = NULL;
        }
        if (!doc)
                read_error(s, ctxt, err);
        xmlFreeParserCtxt(ctxt);
        if (!doc) {
                free(s);
                return NULL;
        }
        doc->_private = s; /* freed by mm_source_xml_done */
        return doc;
}

int mm_source_xml_done(xmlDocPtr doc, int rc, mm_parse_error_t *err) {
        xstate_t *s = doc ? doc->_private : NULL;
        if (s && s->failed) {
                *err = s->err;
                rc = -1;
        }
        free(s);
        xmlFreeDoc(doc);
        return rc;
}

xmlNode *mm_source_xml_child(xmlNode *n, const char *name) {
        for (xmlNode *c = n ? n->children : NULL; c; c = c->next)
                if (c->type == XML_ELEMENT_NODE && !strcmp((const char *)c->name, name))
                        return c;
        return NULL;
}

/* The text of the subtree below `top` (text and CDATA, in document
 * order; entity references are never expanded). Iterative: the depth is
 * bounded by the parse, and this keeps the C stack out of it. */
static int gather(xmlNode *top, mm_buf_t *out) {
        xmlNode *cur = top->children;
        while (cur) {
                if ((cur->type == XML_TEXT_NODE || cur->type == XML_CDATA_SECTION_NODE) &&
                    cur->content &&
                    mm_buf_append(out, (const char *)cur->content,
                                  strlen((const char *)cur->content)))
                        return -1;
                if (cur->type == XML_ELEMENT_NODE && cur->children) {
                        cur = cur->children;
                        continue;
                }
                while (cur != top && !cur->next)
                        cur = cur->parent;
                cur = cur == top ? NULL : cur->next;
        }
        return 0;
}

char *mm_source_xml_text(xmlNode *n, const char *name) {
        xmlNode *c = mm_source_xml_child(n, name);
        xstate_t *s = c && c->doc ? c->doc->_private : NULL;
        mm_buf_t b = MM_BUF_INIT;
        char *out = NULL;
        if (!c)
                return NULL;
        if (s)
                mm_buf_set_max(&b, s->max_field);
        int rc = gather(c, &b);
        int why = b.err; /* mm_buf_take clears it */
        if (rc || mm_buf_take(&b, &out, NULL)) {
                if (s && why == MM_BUF_ELIMIT)
                        st_fail(s, "export_invalid",
                                "%s XML: field %.40s is longer than %zu bytes (max-doc-bytes)",
                                s->system, name, s->max_field);
                else if (s)
                        st_fail(s, "out_of_memory", "%s XML: out of memory reading field %.40s",
                                s->system, name);
                mm_buf_release(&b);
                return NULL;
        }
        return out; /* ownership passes to the caller */
}

/* ---- the HTML of a field ---- */

int mm_source_html_read(const char *html, size_t len, htmlDocPtr *out, mm_parse_error_t *err) {
        xstate_t s;
        limits(&s, "HTML");
        *out = NULL;
        if (!html || !len)
                return 0;
        if (len > (size_t)0x7fffffff)
                return mm_source_invalid(err, "HTML field of %zu bytes is too large", len);
        htmlParserCtxtPtr ctxt = htmlNewParserCtxt();
        if (!ctxt || !ctxt->sax) {
                htmlFreeParserCtxt(ctxt);
                return mm_source_oom(err, "reading an HTML field");
        }
        guard_sax(ctxt, &s, 1);
        int opts =
                HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET;
        if (s.max_depth >= 255) /* lifts libxml2's own depth limit, which is silent */
                opts |= XML_PARSE_HUGE;
        htmlDocPtr doc = htmlCtxtReadMemory(ctxt, html, (int)len, NULL, "UTF-8", opts);
        const xmlError *e = xmlCtxtGetLastError(ctxt);
        /* a parse stopped for memory returns what it had: never used */
        int oom = ctxt->errNo == XML_ERR_NO_MEMORY || (e && e->code == XML_ERR_NO_MEMORY);
        if (e && e->message && strstr(e->message, "Excessive depth"))
                s.too_deep = 1;
        htmlFreeParserCtxt(ctxt);
        if (s.too_deep || s.too_many || oom) {
                xmlFreeDoc(doc);
                if (oom)
                        return mm_source_oom(err, "reading an HTML field");
                if (s.too_deep)
                        return mm_source_invalid(err,
                                                 "HTML field: elements nest deeper than %ld "
                                                 "(extract-max-html-depth)",
                                                 s.max_depth);
                return mm_source_invalid(err,
                                         "HTML field: more than %ld elements and text nodes "
                                         "(extract-max-html-nodes)",
                                         s.max_nodes);
        }
        *out = doc; /* NULL: an HTML field without content */
        return 0;
}
