/*
 * mm_attachment: what an attachment message says about the attachment it
 * carries (the message of docs/attachments.md: topic `attachments-topic`,
 * key "<kommune>|<attachment id>", CloudEvents headers of type
 * dk.minutes.attachment.raw, the bytes as value or an empty value with
 * `attachment-skipped`), and the record the worker stores for it
 * (attachment_texts, schemas/012_attachments.sql). Pure logic: no Kafka,
 * no database, no extraction.
 */
#ifndef MM_ATTACHMENT_H
#define MM_ATTACHMENT_H

#include <jansson.h>
#include <stddef.h>

#include "mm_envelope.h"

/* The CloudEvents type of an attachment message. */
#define MM_ATTACHMENT_CE_TYPE "dk.minutes.attachment.raw"

/* Longest attachment id and kommune name accepted (bytes): both key a
 * unique index. Longer ones make the message invalid. */
#define MM_ATTACHMENT_MAX_ID 512u
/* Longest value of an optional header kept (name, URL, ...); a longer
 * one, or one that is not UTF-8, is stored as NULL. */
#define MM_ATTACHMENT_MAX_FIELD 4096u

/* 1 if the message is an attachment: its topic is `att_topic` (may be
 * NULL: no topic is) or its ce_type header is MM_ATTACHMENT_CE_TYPE.
 * `hdrs` may be NULL if `n` is 0. */
int mm_attachment_is(const char *topic, const char *att_topic, const mm_envelope_header_t *hdrs,
                     size_t n);

/* Reads an attachment message's headers (and key "<kommune>|<id>" for a
 * kommune or id the headers lack; `key` may be NULL) into a new record,
 * a JSON object the caller owns, with the string members municipality
 * (as the header says: the caller normalises it), source_id, and when
 * present name, source_url, meeting_document_id, meeting_key,
 * item_number, content_type, ce_id, ce_time, skipped (the reason of
 * `attachment-skipped`), and the integer byte_length (`attachment-size`,
 * for a skipped attachment; else absent). Returns NULL and fills errstr
 * when the kommune or the id is missing, too long or not UTF-8, or
 * `attachment-size` is not a decimal count, or memory runs out. */
json_t *mm_attachment_read(const mm_envelope_header_t *hdrs, size_t n, const void *key,
                           size_t key_len, char *errstr, size_t errstr_size);

/* The sha256 (64 hex digits and NUL) of a skipped attachment: of
 * "<kommune>|<id>|<reason>", as the producer's ce_id (ATTACH-CONTRACT.md
 * section 3), so the same skip delivered again is stored once. */
void mm_attachment_skip_sha256(const char *kommune, const char *id, const char *reason,
                               char hex[65]);

/* How the worker treats an extraction error `code` of an attachment:
 * MM_ATTACHMENT_ROW_ONLY (the file is fine but has no text we can read:
 * pdf_no_text, pdf_encrypted, unsupported_type, too_large: a row with the
 * reason), MM_ATTACHMENT_ROW_AND_DLQ (the file is broken or hostile:
 * pdf_corrupt, extract_limit, extract_crash, html_*, encoding, anything
 * else: a row with the reason and the bytes to the dead-letter topic), or
 * MM_ATTACHMENT_RETRY (extract_transient, out_of_memory: not the file's
 * fault, try again). */
typedef enum {
        MM_ATTACHMENT_ROW_ONLY = 0,
        MM_ATTACHMENT_ROW_AND_DLQ,
        MM_ATTACHMENT_RETRY
} mm_attachment_failure_t;
mm_attachment_failure_t mm_attachment_failure_kind(const char *code);

/* Makes `*text` (malloc'd, `*len` bytes, may hold any bytes) storable:
 * bytes that are not UTF-8 are decoded as the parser decodes text
 * (Windows-1252), NUL bytes are dropped (PostgreSQL text holds none).
 * May replace *text (the old one is freed). Returns 0, or -1 when memory
 * runs out (*text unchanged). */
int mm_attachment_clean_text(char **text, size_t *len);

#endif /* MM_ATTACHMENT_H */
