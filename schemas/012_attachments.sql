-- minutes-ingest schema, migration 012: the text of attachments (issue 22).
--
-- An item's substance is in its attachments (bilag). The source connector
-- sends each attachment's bytes to their own topic (docs/attachments.md);
-- the worker extracts the text in the sandbox and stores it here, in the
-- batch's transaction with the offsets.
--
--   * attachments gains source_id and link: the attachment's id and link as
--     the source adapter gives them (parse JSON items[].attachment_files[]:
--     FirstAgenda's Bilag Id, eDoc's file id and relative link). Rows
--     stored before 012 keep NULL (the parse they came from is not stored;
--     a text meeting names its attachments without ids anyway).
--   * attachment_texts: one row per (municipality, source_id), the text of
--     the attachment as last delivered. It is NOT a child of an item: an
--     attachment may arrive before its meeting (another partition, another
--     topic), so the two meet by (municipality, source_id) at query time
--     (view current_item_attachments), and an attachment is linked as soon
--     as its meeting is stored, whatever the order.
--     The same bytes delivered again (same sha256) change nothing; new
--     bytes replace the row (no history: the text of an attachment that
--     changed is of the new version; `versions` counts the contents seen).
--     A row without text says why in `skipped`: the producer's reason
--     (too_large, http_404, ...) or the extraction's permanent error code
--     (pdf_no_text, pdf_corrupt, unsupported_type, ...).
--     fts is the Danish vector of the bounded prefix of name and text, the
--     expression of item_sections (003, 005): mm_fts_section(name, text).
--   * documents gains text_source ('text' | 'ocr' | 'mixed'), ocr_confidence
--     and ocr_pages, from the parse's document.text_source, ocr_confidence
--     and ocr_pages. Every document stored before 012 came from a text layer
--     (there was no OCR): 'text', NULL, '{}' (constant defaults, no rewrite).
--
-- Upgrading a database that holds data: three nullable or constant-default
-- columns per table (no rewrite), one index on attachments (built over
-- the stored rows), an empty table, functions and views.

ALTER TABLE attachments ADD COLUMN source_id text, ADD COLUMN link text;
CREATE INDEX attachments_source_idx ON attachments (source_id) WHERE source_id IS NOT NULL;

ALTER TABLE documents
    ADD COLUMN text_source text NOT NULL DEFAULT 'text'
        CHECK (text_source IN ('text', 'ocr', 'mixed')),
    ADD COLUMN ocr_confidence real,
    ADD COLUMN ocr_pages integer[] NOT NULL DEFAULT '{}';

CREATE TABLE attachment_texts (
    id                   bigserial PRIMARY KEY,
    municipality         text NOT NULL,          -- official kommune name
    source_id            text NOT NULL,          -- = attachments.source_id
    name                 text,                   -- attachment-name header
    source_url           text,
    meeting_document_id  text,                   -- the publication it belongs to
    meeting_key          text,                   -- key of that publication's message
    item_number          text,
    sha256               text NOT NULL,          -- of the bytes; skipped: of "kommune|id|reason"
    content_type         text,
    byte_length          bigint,                 -- the attachment's size (attachment-size when skipped)
    text                 text,                   -- NULL when skipped
    text_source          text CHECK (text_source IN ('text', 'ocr', 'mixed')),
    ocr_confidence       real,                   -- mean 0-100 of the OCRed pages, NULL when none
    pages                integer,
    ocr_pages            integer[] NOT NULL DEFAULT '{}',
    skipped              text,                   -- reason there is no text, NULL when there is
    skipped_detail       text,
    ce_id                text,
    ce_time              timestamptz,
    kafka_topic          text NOT NULL,
    kafka_partition      integer NOT NULL,
    kafka_offset         bigint NOT NULL,
    versions             integer NOT NULL DEFAULT 1,
    received_at          timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    fts                  tsvector GENERATED ALWAYS AS (mm_fts_section(name, text)) STORED,
    UNIQUE (municipality, source_id)
);
CREATE INDEX attachment_texts_source_idx ON attachment_texts (source_id);
CREATE INDEX attachment_texts_fts ON attachment_texts USING gin (fts);

-- Writes a batch's attachments in order (inside the batch's transaction).
-- atts: a JSON array of objects with the columns above by name (and
-- "topic", "partition", "offset"; ocr_pages a JSON array). One row per
-- element: 'inserted', 'replaced' (new sha256) or 'duplicate' (same
-- sha256: nothing written). Row by row, so one attachment twice in one
-- batch is a duplicate, not an error.
CREATE FUNCTION mm_ingest_attachments(atts jsonb)
RETURNS TABLE (idx integer, status text)
LANGUAGE plpgsql AS $fn$
DECLARE
    a      jsonb;
    i      integer := 0;
    v_id   bigint;
    v_ins  boolean;
    v_ocr  integer[];
BEGIN
    FOR a IN SELECT value FROM jsonb_array_elements(coalesce(atts, '[]'::jsonb)) LOOP
        v_ocr := CASE WHEN jsonb_typeof(a->'ocr_pages') = 'array'
                      THEN ARRAY(SELECT e::integer FROM jsonb_array_elements_text(a->'ocr_pages') e
                                  WHERE e ~ '^[0-9]{1,9}$')
                      ELSE '{}' END;
        v_id := NULL;
        INSERT INTO attachment_texts AS t
               (municipality, source_id, name, source_url, meeting_document_id, meeting_key,
                item_number, sha256, content_type, byte_length, text, text_source,
                ocr_confidence, pages, ocr_pages, skipped, skipped_detail, ce_id, ce_time,
                kafka_topic, kafka_partition, kafka_offset)
        VALUES (a->>'municipality', a->>'source_id', a->>'name', a->>'source_url',
                a->>'meeting_document_id', a->>'meeting_key', a->>'item_number', a->>'sha256',
                a->>'content_type', mm_try_bigint(a->>'byte_length'), a->>'text', a->>'text_source',
                mm_try_real(a->>'ocr_confidence'), mm_try_int(a->>'pages'), v_ocr,
                a->>'skipped', a->>'skipped_detail', a->>'ce_id', mm_try_timestamptz(a->>'ce_time'),
                a->>'topic', (a->>'partition')::integer, (a->>'offset')::bigint)
        ON CONFLICT (municipality, source_id) DO UPDATE
            SET name = EXCLUDED.name, source_url = EXCLUDED.source_url,
                meeting_document_id = EXCLUDED.meeting_document_id,
                meeting_key = EXCLUDED.meeting_key, item_number = EXCLUDED.item_number,
                sha256 = EXCLUDED.sha256, content_type = EXCLUDED.content_type,
                byte_length = EXCLUDED.byte_length, text = EXCLUDED.text,
                text_source = EXCLUDED.text_source, ocr_confidence = EXCLUDED.ocr_confidence,
                pages = EXCLUDED.pages, ocr_pages = EXCLUDED.ocr_pages,
                skipped = EXCLUDED.skipped, skipped_detail = EXCLUDED.skipped_detail,
                ce_id = EXCLUDED.ce_id, ce_time = EXCLUDED.ce_time,
                kafka_topic = EXCLUDED.kafka_topic, kafka_partition = EXCLUDED.kafka_partition,
                kafka_offset = EXCLUDED.kafka_offset, versions = t.versions + 1,
                updated_at = now()
            WHERE t.sha256 IS DISTINCT FROM EXCLUDED.sha256
        RETURNING t.id, (t.xmax = 0) INTO v_id, v_ins;
        idx := i;
        status := CASE WHEN v_id IS NULL THEN 'duplicate' WHEN v_ins THEN 'inserted'
                       ELSE 'replaced' END;
        RETURN NEXT;
        i := i + 1;
    END LOOP;
END;
$fn$;

-- Sets the documents' text source from their parses (the worker calls it
-- for the documents of a batch whose parse names OCR; the rest keep the
-- default 'text'): docs is a JSON array of {"id", "text_source",
-- "ocr_confidence", "ocr_pages"}; an unknown text source is left as it is.
CREATE FUNCTION mm_set_text_sources(docs jsonb)
RETURNS void
LANGUAGE sql AS $fn$
    UPDATE documents d
       SET text_source = CASE WHEN s.value->>'text_source' IN ('text', 'ocr', 'mixed')
                              THEN s.value->>'text_source' ELSE d.text_source END,
           ocr_confidence = mm_try_real(s.value->>'ocr_confidence'),
           ocr_pages = CASE WHEN jsonb_typeof(s.value->'ocr_pages') = 'array'
                            THEN ARRAY(SELECT e::integer
                                         FROM jsonb_array_elements_text(s.value->'ocr_pages') e
                                        WHERE e ~ '^[0-9]{1,9}$')
                            ELSE '{}' END
      FROM jsonb_array_elements(coalesce(docs, '[]'::jsonb)) s
     WHERE d.id = (s.value->>'id')::bigint;
$fn$;

-- Each attachment of each item of a meeting as it stands (the items of
-- current_meeting_items), with its text when one was received: linked by
-- (the document's municipality, the attachment's source_id).
CREATE VIEW current_item_attachments AS
    SELECT i.id AS item_id, i.meeting_id, i.document_id, d.municipality, m.committee,
           m.meeting_date, i.number AS item_number, i.title AS item_title,
           a.id AS attachment_id, a.ord, a.name, a.source_id, a.link,
           t.id AS text_id, t.sha256, t.content_type, t.byte_length, t.text, t.text_source,
           t.ocr_confidence, t.pages, t.ocr_pages, t.skipped, t.received_at, t.fts
      FROM current_meeting_items i
      JOIN documents d ON d.id = i.document_id
      JOIN meetings m ON m.id = i.meeting_id
      JOIN attachments a ON a.item_id = i.id
      LEFT JOIN attachment_texts t ON t.municipality = d.municipality
                                  AND t.source_id = a.source_id;

-- The items whose attachment text matches `words` (Danish full-text search,
-- plainto_tsquery), best first; `municipality` NULL searches every kommune.
--   SELECT * FROM item_attachment_search('kloakering');
CREATE FUNCTION item_attachment_search(words text, p_municipality text DEFAULT NULL)
RETURNS TABLE (item_id bigint, municipality text, committee text, meeting_date date,
               item_number integer, item_title text, attachment_name text, source_id text,
               text_source text, rank real, snippet text)
LANGUAGE sql STABLE AS $fn$
    SELECT c.item_id, c.municipality, c.committee, c.meeting_date, c.item_number, c.item_title,
           c.name, c.source_id, c.text_source,
           ts_rank(c.fts, plainto_tsquery('danish', words)),
           ts_headline('danish', left(c.text, 100000), plainto_tsquery('danish', words),
                       'MaxWords=20, MinWords=8')
      FROM current_item_attachments c
     WHERE c.fts @@ plainto_tsquery('danish', words)
       AND (p_municipality IS NULL OR c.municipality = p_municipality)
     ORDER BY 10 DESC, c.meeting_date DESC, c.item_id;
$fn$;

DO $grant$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'minutes_worker') THEN
        GRANT SELECT, INSERT, UPDATE ON attachment_texts TO minutes_worker;
        GRANT USAGE ON SEQUENCE attachment_texts_id_seq TO minutes_worker;
        GRANT SELECT ON current_item_attachments TO minutes_worker;
        GRANT EXECUTE ON FUNCTION mm_ingest_attachments(jsonb), mm_set_text_sources(jsonb),
              item_attachment_search(text, text) TO minutes_worker;
    END IF;
END
$grant$;
