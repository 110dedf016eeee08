/*
 * mm_envelope: what a raw Kafka message says about the document it carries.
 *
 * Three input forms are recognised:
 *   plain       the value is the document; optional headers content-type,
 *               source-url, municipality, document-id;
 *   binary      CloudEvents Kafka binary mode: ce_specversion/ce_id/
 *               ce_source/ce_type/ce_time headers, content-type header, the
 *               document is the value;
 *   structured  content-type application/cloudevents+json: the value is a
 *               CloudEvent JSON object; the document is "data" (a string)
 *               or "data_base64"; datacontenttype is its content type.
 * Extension attributes municipality / sourceurl / documentid (CloudEvents
 * names) and the plain headers are both accepted. Envelope metadata wins
 * over what the parser infers.
 */
#ifndef MM_ENVELOPE_H
#define MM_ENVELOPE_H

#include <stddef.h>

typedef struct mm_envelope_s mm_envelope_t;
struct mm_classify_s; /* common/parse/mm_classify.h */

/* The one default size limit of a document, shared by minutes-submit (it
 * refuses larger files) and minutes-worker (it dead-letters larger
 * documents as too_large): both read it as option max-doc-bytes. */
#define MM_ENVELOPE_MAX_DOC_BYTES "16MiB"

typedef enum mm_envelope_mode_e {
        MM_ENVELOPE_PLAIN = 0,
        MM_ENVELOPE_BINARY,
        MM_ENVELOPE_STRUCTURED
} mm_envelope_mode_t;

/* One message header (borrowed; value need not be NUL-terminated; a NULL
 * value is a header without value). */
typedef struct mm_envelope_header_s {
        const char *name;
        const void *value;
        size_t len;
} mm_envelope_header_t;

/* Reads the envelope of a message with `len` bytes at `value` (may be NULL
 * if len is 0) and `nhdrs` headers (`hdrs` may be NULL if nhdrs is 0).
 * In plain and binary mode the document bytes are `value` itself, which is
 * borrowed: it must outlive the envelope. Returns NULL with errstr filled
 * if a structured-mode event is not valid JSON or has no usable data, or
 * on allocation failure. */
mm_envelope_t *mm_envelope_new(const void *value, size_t len, const mm_envelope_header_t *hdrs,
                               size_t nhdrs, char *errstr, size_t errstr_size);

/* Frees `env`; NULL is allowed. */
void mm_envelope_destroy(mm_envelope_t *env);

mm_envelope_mode_t mm_envelope_mode(const mm_envelope_t *env);

/* The document bytes (borrowed, valid while env lives); *len receives the
 * size. */
const char *mm_envelope_data(const mm_envelope_t *env, size_t *len);

/* Metadata, borrowed strings or NULL when absent. */
const char *mm_envelope_content_type(const mm_envelope_t *env);
const char *mm_envelope_source_url(const mm_envelope_t *env);
const char *mm_envelope_municipality(const mm_envelope_t *env);
const char *mm_envelope_document_id(const mm_envelope_t *env);
const char *mm_envelope_ce_id(const mm_envelope_t *env);
const char *mm_envelope_ce_source(const mm_envelope_t *env);
const char *mm_envelope_ce_type(const mm_envelope_t *env);
const char *mm_envelope_ce_time(const mm_envelope_t *env);

/* The official name ("Aarhus Kommune") of the kommune an envelope or a
 * user calls `name` ("Aarhus", "Århus", "aarhus.dk", "Aarhus Kommune",
 * "Københavns Kommune"), through the parser's kommune table in `cls`; NULL
 * when it is not a known kommune (the caller keeps the name and warns).
 * The result is owned by `cls`. */
const char *mm_envelope_kommune(const struct mm_classify_s *cls, const char *name);

/* Decodes standard base64 (padding optional, white space ignored).
 * Returns a malloc'd buffer (caller frees) and its size in *out_len, or
 * NULL on invalid input. */
char *mm_envelope_base64_decode(const char *in, size_t in_len, size_t *out_len);

/* Writes the SHA-256 of `len` bytes at `buf` (may be NULL if len is 0) as
 * 64 lower-case hex digits plus NUL into `hex` (65 bytes). Used as the
 * document's identity: the same bytes delivered twice are one document. */
void mm_envelope_sha256_hex(const void *buf, size_t len, char hex[65]);

#endif /* MM_ENVELOPE_H */
