/*
 * mm_extract_html: the HTML part of mm_extract (see mm_extract.h for what
 * the text looks like) and libxml2's refusing entity loader. Split from
 * mm_extract.c to keep files small; the helpers both need are in
 * mm_extract_int.h.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include "mm_extract_html.h"

#include "mm_buf.h"
#include "mm_extract_int.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/HTMLparser.h>
#include <libxml/encoding.h>
#include <libxml/SAX2.h>
#include <libxml/parserInternals.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

/* ------------------------------------------------------------------ */
/* Helpers shared with mm_extract.c (mm_extract_int.h)                 */
/* ------------------------------------------------------------------ */

void mm_extract_set_error(char *code, size_t code_size, char *errstr, size_t errstr_size,
                          const char *c, const char *fmt, ...) {
        if (code != NULL && code_size > 0)
                snprintf(code, code_size, "%s", c);
        if (errstr != NULL && errstr_size > 0) {
                va_list ap;
                va_start(ap, fmt);
                vsnprintf(errstr, errstr_size, fmt, ap);
                va_end(ap);
        }
}

/* Number of '\n' at the end of the text (at most 2 are counted). */
static int trailing_newlines(const mm_buf_t *b) {
        int n = 0;
        while ((size_t)n < b->len && n < 2 && b->p[b->len - 1 - n] == '\n')
                n++;
        return n;
}

/* Removes trailing white space and ends a non-empty text with one '\n'. */
static void finish_text(mm_buf_t *b) {
        size_t n = b->len;
        while (n > 0 && (b->p[n - 1] == ' ' || b->p[n - 1] == '\t' || b->p[n - 1] == '\n'))
                n--;
        mm_buf_truncate(b, n);
        if (b->len > 0)
                mm_buf_putc(b, '\n');
}

/* Finds `needle` in p[0..n). */
const char *mm_extract_find_bytes(const char *p, size_t n, const char *needle) {
        size_t k = strlen(needle);
        if (k == 0 || n < k)
                return NULL;
        for (size_t i = 0; i + k <= n; i++)
                if (p[i] == needle[0] && memcmp(p + i, needle, k) == 0)
                        return p + i;
        return NULL;
}

/* Skips a UTF-8 BOM, white space, <?xml ...?> and <!-- ... --> at p. */
const char *mm_extract_skip_prolog(const char *p, const char *end) {
        if (end - p >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
                p += 3;
        for (;;) {
                while (p < end && mm_extract_is_ws((unsigned char)*p))
                        p++;
                const char *close = NULL;
                if (mm_extract_has_prefix_ci(p, (size_t)(end - p), "<?xml"))
                        close = "?>";
                else if (mm_extract_has_prefix_ci(p, (size_t)(end - p), "<!--"))
                        close = "-->";
                if (close == NULL)
                        return p;
                const char *q = mm_extract_find_bytes(p + 4, (size_t)(end - p - 4), close);
                if (q == NULL)
                        return end;
                p = q + strlen(close);
        }
}

/* ------------------------------------------------------------------ */
/* The entity loader                                                   */
/* ------------------------------------------------------------------ */

/* What the refusing entity loader saw during the current parse (per
 * thread, so concurrent in-process extractions do not mix). */
enum { LOAD_NONE = 0, LOAD_ENTITY, LOAD_NETWORK };
static __thread int tl_load_refused;

static bool is_network_url(const char *url) {
        static const char *const schemes[] = {"http:", "https:", "ftp:", "//", NULL};
        for (size_t i = 0; url != NULL && schemes[i] != NULL; i++)
                if (mm_extract_has_prefix_ci(url, strlen(url), schemes[i]))
                        return true;
        return false;
}

/* libxml2's external entity loader: refuses every DTD, entity or XInclude
 * load, so neither the network nor the file system is ever read. */
static xmlParserInputPtr refuse_loader(const char *url, const char *id, xmlParserCtxtPtr ctxt) {
        (void)id;
        (void)ctxt;
        tl_load_refused = is_network_url(url) ? LOAD_NETWORK : LOAD_ENTITY;
        return NULL;
}

void mm_extract_html_global_init(void) {
        xmlSetExternalEntityLoader(refuse_loader);
}

/* ------------------------------------------------------------------ */
/* HTML                                                                */
/* ------------------------------------------------------------------ */

/* Elements whose content is not document text. <form> is deliberately
 * kept: ASP.NET/SharePoint pages wrap the whole body in one. */
static const char *const html_drop[] = {
        "head",   "title", "script", "style",  "noscript", "template", "nav",
        "aside",  "svg",   "math",   "button", "select",   "textarea", "iframe",
        "object", "embed", "canvas", "audio",  "video",    "map",      NULL};

/* Block elements that start a paragraph (one blank line around them). */
static const char *const html_para[] = {"p",       "h1",         "h2",     "h3",      "h4",
                                        "h5",      "h6",         "table",  "ul",      "ol",
                                        "dl",      "blockquote", "pre",    "section", "article",
                                        "header",  "footer",     "main",   "figure",  "fieldset",
                                        "details", "address",    "hgroup", "form",    NULL};

/* Block elements that start a line. */
static const char *const html_line[] = {
        "div",    "li",     "tr",     "dt",   "dd",    "caption", "hr",    "summary", "figcaption",
        "legend", "option", "center", "body", "thead", "tbody",   "tfoot", "label",   NULL};

/* Marks a table cell that holds no nested table ("flat" cell): its content
 * stays on the row's line, cells are separated by tabs, and only breaks
 * between pieces of the cell's content become (single) line breaks, like
 * a browser's innerText. A cell with a nested table is a layout cell and
 * behaves like a <div>. Stored in xmlNode._private, which libxml2 leaves
 * to the application. */
static char flat_cell_mark;

/* List item numbers are kept in the <ol> node's _private, offset so that
 * NULL means "not started". */
#define OL_BIAS 0x40000000L
#define OL_MAX  1000000L

typedef struct html_state_s {
        mm_buf_t b;
        int pending_nl;   /* line breaks requested: 0, 1 or 2 */
        int pending_tabs; /* cell separators requested */
        bool pending_space;
        bool cell_nl;      /* a break inside a flat cell */
        bool cell_content; /* the current flat cell has emitted text */
        char prefix[24];   /* list marker for the next text ("- ", "3. ") */
        int pre_depth;     /* inside <pre>: keep white space */
        int flat_depth;    /* inside a flat table cell */
} html_state_t;

static bool name_is(const xmlNode *n, const char *name) {
        return n->type == XML_ELEMENT_NODE && n->name != NULL &&
               xmlStrcasecmp(n->name, (const xmlChar *)name) == 0;
}

static bool name_in(const xmlNode *n, const char *const *list) {
        if (n->type != XML_ELEMENT_NODE || n->name == NULL)
                return false;
        for (size_t i = 0; list[i] != NULL; i++)
                if (xmlStrcasecmp(n->name, (const xmlChar *)list[i]) == 0)
                        return true;
        return false;
}

static bool is_dropped(const xmlNode *n) {
        if (n->type != XML_ELEMENT_NODE)
                return n->type != XML_TEXT_NODE && n->type != XML_CDATA_SECTION_NODE;
        if (name_in(n, html_drop))
                return true;
        if (xmlHasProp((xmlNode *)n, (const xmlChar *)"hidden") != NULL)
                return true;
        xmlChar *aria = xmlGetProp(n, (const xmlChar *)"aria-hidden");
        bool hidden = aria != NULL && xmlStrcasecmp(aria, (const xmlChar *)"true") == 0;
        xmlFree(aria);
        return hidden;
}

static bool is_cell(const xmlNode *n) {
        return name_is(n, "td") || name_is(n, "th");
}

/* True if the subtree under `n` contains a <table> element. Iterative. */
static bool has_nested_table(const xmlNode *top) {
        const xmlNode *n = top->children;
        while (n != NULL && n != top) {
                if (name_is(n, "table"))
                        return true;
                if (n->type == XML_ELEMENT_NODE && n->children != NULL) {
                        n = n->children;
                        continue;
                }
                while (n != NULL && n != top && n->next == NULL)
                        n = n->parent;
                if (n == NULL || n == top)
                        break;
                n = n->next;
        }
        return false;
}

/* True if the nearest preceding element sibling is a table cell. */
static bool follows_cell(const xmlNode *n) {
        for (const xmlNode *p = n->prev; p != NULL; p = p->prev)
                if (p->type == XML_ELEMENT_NODE)
                        return is_cell(p);
        return false;
}

static void request_break(html_state_t *st, int n) {
        if (st->flat_depth > 0) {
                /* breaks before the cell's first text or after its last
                 * one (e.g. <td><p>82</p></td>) vanish */
                if (st->cell_content)
                        st->cell_nl = true;
                return;
        }
        if (st->pending_nl < n)
                st->pending_nl = n;
        st->pending_tabs = 0; /* separators of empty trailing cells */
}

/* Emits what is pending before the next visible character. */
static void flush_pending(html_state_t *st) {
        if (st->b.len > 0 && st->pending_nl > 0) {
                int have = trailing_newlines(&st->b);
                for (int i = have; i < st->pending_nl && i < 2; i++)
                        mm_buf_putc(&st->b, '\n');
        }
        if (st->cell_nl && st->b.len > 0 && trailing_newlines(&st->b) == 0)
                mm_buf_putc(&st->b, '\n');
        if (st->pending_tabs > 0) {
                for (int i = 0; i < st->pending_tabs; i++)
                        mm_buf_putc(&st->b, '\t');
        } else if (st->pending_space && st->b.len > 0) {
                char last = st->b.p[st->b.len - 1];
                if (last != '\n' && last != '\t' && last != ' ')
                        mm_buf_putc(&st->b, ' ');
        }
        if (st->prefix[0] != '\0') {
                mm_buf_append(&st->b, st->prefix, strlen(st->prefix));
                st->prefix[0] = '\0';
        }
        st->pending_nl = 0;
        st->pending_tabs = 0;
        st->pending_space = false;
        st->cell_nl = false;
        if (st->flat_depth > 0)
                st->cell_content = true;
}

/* Sets the marker of list item `li`: "N. " inside <ol>, else "- ". */
static void list_prefix(html_state_t *st, xmlNode *li) {
        xmlNode *list = li->parent;
        if (list == NULL || !name_is(list, "ol")) {
                snprintf(st->prefix, sizeof st->prefix, "- ");
                return;
        }
        long next = (long)(intptr_t)list->_private;
        if (next == 0) {
                long start = 1;
                xmlChar *a = xmlGetProp(list, (const xmlChar *)"start");
                if (a != NULL) {
                        char *end = NULL;
                        long v = strtol((const char *)a, &end, 10);
                        if (end != (char *)a && v > -OL_MAX && v < OL_MAX)
                                start = v;
                        xmlFree(a);
                }
                next = start + OL_BIAS;
        }
        long num = next - OL_BIAS;
        if (num < OL_MAX)
                next++;
        list->_private = (void *)(intptr_t)next;
        snprintf(st->prefix, sizeof st->prefix, "%ld. ", num);
}

static void html_text(html_state_t *st, const xmlChar *s) {
        const unsigned char *p = s;
        if (p == NULL)
                return;
        while (*p != '\0') {
                unsigned char c = *p;
                size_t k = 1;
                bool space = mm_extract_is_ws(c);
                if (c == 0xC2 && p[1] == 0xA0) { /* no-break space */
                        space = true;
                        k = 2;
                }
                if (st->pre_depth > 0 && st->flat_depth == 0 && space && k == 1) {
                        if (c == '\n') {
                                flush_pending(st);
                                if (trailing_newlines(&st->b) < 2)
                                        mm_buf_putc(&st->b, '\n');
                        } else if (c == ' ' || c == '\t') {
                                flush_pending(st);
                                mm_buf_putc(&st->b, (char)c);
                        }
                        p += k;
                        continue;
                }
                if (space) {
                        st->pending_space = true;
                        p += k;
                        continue;
                }
                if (c < 0x20 || c == 0x7F) { /* control characters */
                        p++;
                        continue;
                }
                flush_pending(st);
                const unsigned char *q = p + 1;
                while (*q != '\0' && !mm_extract_is_ws(*q) && *q >= 0x20 && *q != 0x7F &&
                       *q != 0xC2)
                        q++;
                mm_buf_append(&st->b, (const char *)p, (size_t)(q - p));
                p = q;
        }
}

/* Called when the walk enters node `n`. Returns true to visit children. */
static bool html_enter(html_state_t *st, xmlNode *n) {
        if (is_dropped(n))
                return false;
        if (n->type != XML_ELEMENT_NODE) {
                html_text(st, n->content);
                return false;
        }
        if (name_is(n, "br")) {
                if (st->flat_depth > 0) {
                        request_break(st, 1);
                } else if (st->b.len > 0) {
                        st->pending_nl = st->pending_nl < 2 ? st->pending_nl + 1 : 2;
                        if (st->pending_nl == 1 && trailing_newlines(&st->b) >= 1)
                                st->pending_nl = 2;
                }
                return false;
        }
        if (is_cell(n)) {
                if (follows_cell(n))
                        st->pending_tabs++;
                if (st->flat_depth > 0 || !has_nested_table(n)) {
                        n->_private = &flat_cell_mark;
                        st->flat_depth++;
                        st->cell_content = false;
                        st->cell_nl = false;
                } else {
                        request_break(st, 1);
                }
                return true;
        }
        if (name_is(n, "pre"))
                st->pre_depth++;
        if (name_in(n, html_para))
                request_break(st, 2);
        else if (name_in(n, html_line))
                request_break(st, 1);
        else if (name_is(n, "img") || name_is(n, "input"))
                st->pending_space = true;
        if (name_is(n, "li"))
                list_prefix(st, n);
        return true;
}

/* Called when the walk leaves element `n` after its children. */
static void html_leave(html_state_t *st, xmlNode *n) {
        if (n->type != XML_ELEMENT_NODE || is_dropped(n) || name_is(n, "br"))
                return;
        if (is_cell(n)) {
                if (n->_private == &flat_cell_mark) {
                        n->_private = NULL;
                        st->flat_depth--;
                        st->cell_nl = false;
                        st->cell_content = st->flat_depth > 0;
                        st->pending_space = true;
                } else {
                        request_break(st, 1);
                }
                return;
        }
        if (name_is(n, "pre") && st->pre_depth > 0)
                st->pre_depth--;
        if (name_is(n, "li"))
                st->prefix[0] = '\0'; /* an empty item has no marker */
        if (name_in(n, html_para))
                request_break(st, 2);
        else if (name_in(n, html_line))
                request_break(st, 1);
}

static void html_walk(html_state_t *st, xmlNode *root) {
        xmlNode *n = root;
        while (n != NULL && st->b.err != MM_BUF_ELIMIT) {
                if (html_enter(st, n) && n->children != NULL) {
                        n = n->children;
                        continue;
                }
                if (n->type == XML_ELEMENT_NODE && !is_dropped(n))
                        html_leave(st, n);
                /* climb until a node with a next sibling is found */
                while (n != root && n->next == NULL) {
                        n = n->parent;
                        html_leave(st, n);
                }
                if (n == root)
                        break;
                n = n->next;
        }
}

/* The charset parameter of a Content-Type, if libxml2 knows it. */
static bool content_type_charset(const char *ct, char *cs, size_t cs_size) {
        const char *p = ct != NULL ? strchr(ct, ';') : NULL;
        while (p != NULL) {
                p++;
                while (mm_extract_is_ws((unsigned char)*p))
                        p++;
                if (mm_extract_has_prefix_ci(p, strlen(p), "charset=")) {
                        p += 8;
                        if (*p == '"')
                                p++;
                        size_t n = 0;
                        while (*p != '\0' && *p != ';' && *p != '"' &&
                               !mm_extract_is_ws((unsigned char)*p) && n + 1 < cs_size)
                                cs[n++] = *p++;
                        cs[n] = '\0';
                        if (n == 0)
                                return false;
                        xmlCharEncodingHandlerPtr h = xmlFindCharEncodingHandler(cs);
                        if (h == NULL)
                                return false;
                        xmlCharEncCloseFunc(h);
                        return true;
                }
                p = strchr(p, ';');
        }
        return false;
}

/* Finds the end of a markup declaration starting at p ('>' outside
 * quotes); returns end if there is none. */
static const char *decl_end(const char *p, const char *end) {
        char quote = 0;
        for (; p < end; p++) {
                if (quote != 0) {
                        if (*p == quote)
                                quote = 0;
                } else if (*p == '"' || *p == '\'') {
                        quote = *p;
                } else if (*p == '>') {
                        return p;
                }
        }
        return end;
}

/* True if the <!ENTITY ...> declaration [p, e) names an external entity
 * on the network: its last quoted literal after SYSTEM/PUBLIC is a URL. */
static bool entity_is_network(const char *p, const char *e) {
        const char *sys = mm_extract_find_bytes(p, (size_t)(e - p), "SYSTEM");
        const char *pub = mm_extract_find_bytes(p, (size_t)(e - p), "PUBLIC");
        const char *q = sys != NULL ? sys : pub;
        if (q == NULL)
                return false;
        const char *lit = NULL;
        for (; q < e; q++) {
                if (*q != '"' && *q != '\'')
                        continue;
                const char *close = memchr(q + 1, *q, (size_t)(e - q - 1));
                if (close == NULL)
                        break;
                lit = q + 1;
                q = close;
        }
        char url[16] = "";
        if (lit != NULL)
                snprintf(url, sizeof url, "%.*s", (int)(e - lit < 15 ? e - lit : 15), lit);
        return is_network_url(url);
}

/* Looks at the DOCTYPE's internal subset: entity declarations are refused
 * (the HTML parser would not expand them, and a document that needs them
 * cannot be read faithfully). Returns LOAD_NONE, LOAD_ENTITY or
 * LOAD_NETWORK (an entity to be fetched from a URL). */
static int html_doctype_entities(const char *buf, size_t len) {
        const char *end = buf + len;
        const char *p = mm_extract_skip_prolog(buf, end);
        if (!mm_extract_has_prefix_ci(p, (size_t)(end - p), "<!DOCTYPE"))
                return LOAD_NONE;
        const char *gt = decl_end(p, end);
        const char *open = memchr(p, '[', (size_t)(gt - p));
        if (open == NULL)
                return LOAD_NONE; /* an external DTD id alone is never loaded */
        int found = LOAD_NONE;
        for (p = open + 1; p < end && *p != ']';) {
                if (mm_extract_has_prefix_ci(p, (size_t)(end - p), "<!ENTITY")) {
                        const char *e = decl_end(p, end);
                        found = entity_is_network(p, e) ? LOAD_NETWORK
                                : found == LOAD_NONE    ? LOAD_ENTITY
                                                        : found;
                        p = e;
                } else if (mm_extract_has_prefix_ci(p, (size_t)(end - p), "<!--")) {
                        const char *c = mm_extract_find_bytes(p, (size_t)(end - p), "-->");
                        p = c != NULL ? c + 3 : end;
                } else if (*p == '<') {
                        p = decl_end(p, end);
                } else {
                        p++;
                }
        }
        return found;
}

/* Counts elements and text nodes as libxml2's SAX parser reports them and
 * stops the parse at a limit, before the tree grows. The HTML parser's own
 * depth limit (256, lifted with HTML_PARSE_HUGE) halts silently, which once
 * made a deep document look empty; this one names the cause. */
typedef struct html_guard_s {
        long max_depth, max_nodes, nodes;
        bool too_deep, too_many;
        startElementSAXFunc start;
        charactersSAXFunc chars, cdata;
} html_guard_t;

static __thread html_guard_t *tl_guard;

static bool guard_node(htmlParserCtxtPtr ctxt, bool element) {
        html_guard_t *g = tl_guard;
        if (element && (long)ctxt->nodeNr >= g->max_depth)
                g->too_deep = true;
        else if (++g->nodes > g->max_nodes)
                g->too_many = true;
        else
                return true;
        xmlStopParser(ctxt);
        return false;
}

static void guard_start(void *ctx, const xmlChar *name, const xmlChar **atts) {
        if (guard_node(ctx, true))
                tl_guard->start(ctx, name, atts);
}

static void guard_chars(void *ctx, const xmlChar *ch, int len) {
        if (guard_node(ctx, false))
                tl_guard->chars(ctx, ch, len);
}

static void guard_cdata(void *ctx, const xmlChar *ch, int len) {
        if (guard_node(ctx, false))
                tl_guard->cdata(ctx, ch, len);
}

/* Parses with the guard; returns the document or NULL (see *g). The steps
 * are those of libxml2's htmlReadMemory, with the SAX callbacks wrapped. */
static htmlDocPtr html_parse(const char *buf, size_t len, const char *enc, html_guard_t *g) {
        htmlParserCtxtPtr ctxt = xmlCreateMemoryParserCtxt(buf, (int)len);
        if (ctxt == NULL || ctxt->sax == NULL) {
                htmlFreeParserCtxt(ctxt);
                return NULL;
        }
        xmlSAX2InitHtmlDefaultSAXHandler(ctxt->sax);
        g->start = ctxt->sax->startElement;
        g->chars = ctxt->sax->characters;
        g->cdata = ctxt->sax->cdataBlock != NULL ? ctxt->sax->cdataBlock : g->chars;
        ctxt->sax->startElement = guard_start;
        ctxt->sax->characters = guard_chars;
        ctxt->sax->cdataBlock = guard_cdata;
        tl_guard = g;
        tl_load_refused = LOAD_NONE;
        int opts =
                HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET;
        if (g->max_depth >= 255) /* lifts libxml2's own, silent depth limit */
                opts |= XML_PARSE_HUGE;
        htmlCtxtUseOptions(ctxt, opts);
        ctxt->html = 1;
        if (enc != NULL) {
                xmlCharEncodingHandlerPtr h = xmlFindCharEncodingHandler(enc);
                if (h != NULL) {
                        xmlSwitchToEncoding(ctxt, h);
                        if (ctxt->input->encoding != NULL)
                                xmlFree((xmlChar *)(uintptr_t)ctxt->input->encoding);
                        ctxt->input->encoding = xmlStrdup((const xmlChar *)enc);
                }
        }
        htmlParseDocument(ctxt);
        htmlDocPtr doc = ctxt->myDoc;
        ctxt->myDoc = NULL;
        const xmlError *e = xmlCtxtGetLastError(ctxt);
        if (e != NULL && e->message != NULL && strstr(e->message, "Excessive depth") != NULL)
                g->too_deep = true;
        tl_guard = NULL;
        if (ctxt->dictNames && doc != NULL && doc->dict == ctxt->dict)
                ctxt->dict = NULL; /* as htmlReadMemory: the document keeps it */
        htmlFreeParserCtxt(ctxt);
        return doc;
}

/* Sets the error of a failed HTML parse; returns -1. */
static int html_fail(const html_guard_t *g, const mm_extract_limits_t *lim, char *code,
                     size_t code_size, char *errstr, size_t errstr_size) {
        if (g->too_deep)
                mm_extract_set_error(code, code_size, errstr, errstr_size, "html_too_deep",
                                     "HTML elements nest deeper than %ld (extract-max-html-depth)",
                                     lim->max_html_depth);
        else if (g->too_many)
                mm_extract_set_error(code, code_size, errstr, errstr_size, "html_too_many_nodes",
                                     "HTML has more than %ld nodes (extract-max-html-nodes)",
                                     lim->max_html_nodes);
        else if (tl_load_refused == LOAD_NETWORK)
                mm_extract_set_error(
                        code, code_size, errstr, errstr_size, "html_network_refused",
                        "HTML needs a DTD or entity from the network; network access is "
                        "refused");
        else if (tl_load_refused == LOAD_ENTITY)
                mm_extract_set_error(
                        code, code_size, errstr, errstr_size, "html_entity_refused",
                        "HTML needs an external DTD or entity; entity loading is refused");
        else
                mm_extract_set_error(code, code_size, errstr, errstr_size, "html_corrupt",
                                     "libxml2 could not build an HTML tree");
        return -1;
}

int mm_extract_html_text(const char *buf, size_t len, const char *content_type,
                         const mm_extract_limits_t *lim, char **out, size_t *out_len, char *code,
                         size_t code_size, char *errstr, size_t errstr_size) {
        if (len > (size_t)INT_MAX) {
                mm_extract_set_error(code, code_size, errstr, errstr_size, "too_large",
                                     "HTML document of %zu bytes is too large", len);
                return -1;
        }
        int ent = len > 0 ? html_doctype_entities(buf, len) : LOAD_NONE;
        if (ent != LOAD_NONE) {
                mm_extract_set_error(
                        code, code_size, errstr, errstr_size,
                        ent == LOAD_NETWORK ? "html_network_refused" : "html_entity_refused",
                        ent == LOAD_NETWORK
                                ? "HTML DOCTYPE declares an entity fetched from the network; "
                                  "network access is refused"
                                : "HTML DOCTYPE declares entities; entity expansion is refused");
                return -1;
        }
        char charset[64];
        const char *enc =
                content_type_charset(content_type, charset, sizeof charset) ? charset : NULL;
        html_guard_t g = {0};
        g.max_depth = lim->max_html_depth;
        g.max_nodes = lim->max_html_nodes;
        htmlDocPtr doc = len > 0 ? html_parse(buf, len, enc, &g) : NULL;
        xmlNode *root = doc != NULL ? xmlDocGetRootElement(doc) : NULL;
        if (root == NULL || g.too_deep || g.too_many || tl_load_refused != LOAD_NONE) {
                xmlFreeDoc(doc);
                return html_fail(&g, lim, code, code_size, errstr, errstr_size);
        }

        html_state_t st = {0};
        mm_buf_set_max(&st.b, lim->max_output_bytes);
        html_walk(&st, root);
        xmlFreeDoc(doc);
        if (st.b.err == MM_BUF_ELIMIT) {
                mm_buf_release(&st.b);
                mm_extract_set_error(code, code_size, errstr, errstr_size, "extract_limit",
                                     "HTML text is longer than %zu bytes (max-doc-bytes)",
                                     lim->max_output_bytes);
                return -1;
        }
        finish_text(&st.b);
        if (mm_buf_take(&st.b, out, out_len) != 0) {
                mm_extract_set_error(code, code_size, errstr, errstr_size, "out_of_memory",
                                     "out of memory extracting HTML text");
                return -1;
        }
        return 0;
}
