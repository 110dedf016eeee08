-- minutes-ingest schema, migration 001.
--
-- Applied by `minutes-worker --migrate` (as the owner role, under an
-- advisory lock, inside one transaction, recorded in schema_migrations).
-- The worker role may only SELECT, INSERT and UPDATE (see the grants at
-- the end): it never deletes.
--
-- Versions of a meeting ("current" vs "superseded"):
--   Every accepted document is kept in `documents`. Items, sections,
--   participants etc. are children of the DOCUMENT that produced them, so
--   a newer version never has to delete anything. `meetings` holds one row
--   per meeting (municipality + committee + date) and points at its
--   current version with current_document_id; an older document row gets
--   superseded_by = the newer document's id. The views current_items,
--   current_sections, ... show only the rows of current documents.
--   Which version is current: the newest arrival wins, except that an
--   agenda never replaces minutes (minutes record the decisions).

CREATE TABLE documents (
    id               bigserial PRIMARY KEY,
    sha256           text NOT NULL UNIQUE,          -- of the original bytes
    content_type     text,
    source_url       text,
    external_id      text,                          -- document-id header
    ce_id            text,
    ce_source        text,
    ce_type          text,
    ce_time          timestamptz,
    kafka_topic      text NOT NULL,
    kafka_partition  integer NOT NULL,
    kafka_offset     bigint NOT NULL,
    received_at      timestamptz NOT NULL DEFAULT now(),
    byte_length      bigint NOT NULL,
    kind             text,                          -- minutes | agenda
    municipality     text,
    committee        text,
    meeting_date     date,
    confidence       real,
    warnings         jsonb,
    raw_text         text NOT NULL,
    meeting_id       bigint,
    superseded_by    bigint REFERENCES documents (id)
);
CREATE INDEX documents_kafka_idx ON documents (kafka_topic, kafka_partition, kafka_offset);
CREATE INDEX documents_meeting_idx ON documents (meeting_id);

CREATE TABLE meetings (
    id                   bigserial PRIMARY KEY,
    meeting_key          text NOT NULL UNIQUE,      -- lower(municipality|committee|date), or doc:<sha256>
    municipality         text,
    committee            text,
    meeting_date         date,
    start_time           time,
    end_time             time,
    location             text,
    kind                 text,                      -- kind of the current document
    state                text NOT NULL,             -- 'scheduled' (agenda only) | 'held' (minutes)
    current_document_id  bigint NOT NULL REFERENCES documents (id),
    version              integer NOT NULL DEFAULT 1,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE documents ADD CONSTRAINT documents_meeting_fk
    FOREIGN KEY (meeting_id) REFERENCES meetings (id);
CREATE INDEX meetings_municipality_idx ON meetings (municipality, meeting_date);

CREATE TABLE participants (
    id           bigserial PRIMARY KEY,
    document_id  bigint NOT NULL REFERENCES documents (id),
    meeting_id   bigint NOT NULL REFERENCES meetings (id),
    ord          integer NOT NULL,
    name         text NOT NULL
);
CREATE INDEX participants_document_idx ON participants (document_id);

CREATE TABLE agenda_items (
    id                bigserial PRIMARY KEY,
    document_id       bigint NOT NULL REFERENCES documents (id),
    meeting_id        bigint NOT NULL REFERENCES meetings (id),
    number            integer,
    ord               integer NOT NULL,
    title             text,
    case_number       text,                         -- journal number (journalnummer)
    case_number_kind  text,
    kle_code          text,                         -- KLE subject
    kle_main_group    text,
    kle_main_group_name text,
    public            boolean NOT NULL,             -- false for a closed item (lukket punkt)
    outcome           text,
    outcome_parts     text[] NOT NULL DEFAULT '{}',
    decision          text,
    confidence        real,
    text_offset       bigint,
    text_length       bigint
);
CREATE INDEX agenda_items_document_idx ON agenda_items (document_id);
CREATE INDEX agenda_items_meeting_idx ON agenda_items (meeting_id);
CREATE INDEX agenda_items_case_number_idx ON agenda_items (case_number);
CREATE INDEX agenda_items_title_fts ON agenda_items
    USING gin (to_tsvector('danish', coalesce(title, '')));

CREATE TABLE item_sections (
    id           bigserial PRIMARY KEY,
    item_id      bigint NOT NULL REFERENCES agenda_items (id),
    ord          integer NOT NULL,
    heading      text,
    kind         text,
    text         text,
    text_offset  bigint,
    history      boolean
);
CREATE INDEX item_sections_item_idx ON item_sections (item_id);
CREATE INDEX item_sections_fts ON item_sections
    USING gin (to_tsvector('danish', coalesce(heading, '') || ' ' || coalesce(text, '')));

CREATE TABLE item_absences (
    id       bigserial PRIMARY KEY,
    item_id  bigint NOT NULL REFERENCES agenda_items (id),
    name     text NOT NULL
);
CREATE INDEX item_absences_item_idx ON item_absences (item_id);

CREATE TABLE attachments (
    id       bigserial PRIMARY KEY,
    item_id  bigint NOT NULL REFERENCES agenda_items (id),
    ord      integer NOT NULL,
    name     text NOT NULL
);
CREATE INDEX attachments_item_idx ON attachments (item_id);

CREATE TABLE amounts (
    id        bigserial PRIMARY KEY,
    item_id   bigint NOT NULL REFERENCES agenda_items (id),
    value     numeric,
    text      text,
    sentence  text
);
CREATE INDEX amounts_item_idx ON amounts (item_id);

CREATE TABLE law_references (
    id         bigserial PRIMARY KEY,
    item_id    bigint NOT NULL REFERENCES agenda_items (id),
    text       text,
    law        text,
    paragraph  text
);
CREATE INDEX law_references_item_idx ON law_references (item_id);

-- Consumed offsets, written in the SAME transaction as the records:
-- next_offset is the offset of the next message to read.
CREATE TABLE consumer_offsets (
    group_id     text NOT NULL,
    topic        text NOT NULL,
    partition    integer NOT NULL,
    next_offset  bigint NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (group_id, topic, partition)
);

CREATE VIEW current_documents AS
    SELECT d.* FROM documents d JOIN meetings m ON m.current_document_id = d.id;
CREATE VIEW current_items AS
    SELECT i.* FROM agenda_items i JOIN meetings m ON m.current_document_id = i.document_id;
CREATE VIEW current_sections AS
    SELECT s.* FROM item_sections s JOIN current_items i ON i.id = s.item_id;
CREATE VIEW current_participants AS
    SELECT p.* FROM participants p JOIN meetings m ON m.current_document_id = p.document_id;

-- Writes one batch in one statement (so in one transaction): every document
-- of `docs` with its meeting, items and children, and the consumed offsets.
--
-- docs: [{sha256, content_type, source_url, external_id, ce_id, ce_source,
--         ce_type, ce_time, topic, partition, offset, byte_length, raw_text,
--         parse: <minutes-parse JSON>}]
-- offsets: [{topic, partition, first_offset, next_offset}] where
--   first_offset is the first offset of this batch in that partition.
--   If the stored next_offset is already beyond first_offset, another
--   consumer has written these messages: the function raises SQLSTATE
--   MM001 and the caller's transaction is rolled back (fencing).
-- Returns one row per document: (idx, document_id, status) with status
-- 'inserted' or 'duplicate' (same sha256 already stored: nothing written).
CREATE FUNCTION mm_ingest_batch(p_group text, docs jsonb, offsets jsonb)
RETURNS TABLE (idx integer, document_id bigint, status text)
LANGUAGE plpgsql AS $fn$
DECLARE
    o        jsonb;
    d        jsonb;
    pd       jsonb;
    i        integer;
    doc_id   bigint;
    m_id     bigint;
    m_key    text;
    m_cur    bigint;
    m_kind   text;
    new_kind text;
    v_date   date;
    ok       integer;
    new_ids      bigint[] := '{}';
    new_meetings bigint[] := '{}';
    new_idx      integer[] := '{}';
BEGIN
    -- Offsets first: the row lock serialises two consumers of one partition.
    FOR o IN SELECT value FROM jsonb_array_elements(coalesce(offsets, '[]'::jsonb)) LOOP
        INSERT INTO consumer_offsets AS c (group_id, topic, partition, next_offset)
        VALUES (p_group, o->>'topic', (o->>'partition')::integer, (o->>'next_offset')::bigint)
        ON CONFLICT (group_id, topic, partition) DO UPDATE
            SET next_offset = EXCLUDED.next_offset, updated_at = now()
            WHERE c.next_offset <= (o->>'first_offset')::bigint
        RETURNING 1 INTO ok;
        IF ok IS NULL THEN
            RAISE EXCEPTION 'offset fence: %/% already past %', o->>'topic',
                o->>'partition', o->>'first_offset' USING ERRCODE = 'MM001';
        END IF;
        ok := NULL;
    END LOOP;

    i := 0;
    FOR d IN SELECT value FROM jsonb_array_elements(coalesce(docs, '[]'::jsonb)) LOOP
        pd := d->'parse'->'document';
        v_date := mm_try_date(pd->>'meeting_date');
        doc_id := NULL;
        INSERT INTO documents (sha256, content_type, source_url, external_id, ce_id,
                               ce_source, ce_type, ce_time, kafka_topic, kafka_partition,
                               kafka_offset, byte_length, kind, municipality, committee,
                               meeting_date, confidence, warnings, raw_text)
        VALUES (d->>'sha256', d->>'content_type', d->>'source_url', d->>'external_id',
                d->>'ce_id', d->>'ce_source', d->>'ce_type',
                mm_try_timestamptz(d->>'ce_time'), d->>'topic',
                (d->>'partition')::integer, (d->>'offset')::bigint,
                (d->>'byte_length')::bigint, pd->>'kind', pd->>'municipality',
                pd->>'committee', v_date, mm_try_real(pd->>'confidence'),
                pd->'warnings', d->>'raw_text')
        ON CONFLICT (sha256) DO NOTHING
        RETURNING id INTO doc_id;
        IF doc_id IS NULL THEN
            idx := i; document_id := NULL; status := 'duplicate';
            RETURN NEXT;
            i := i + 1;
            CONTINUE;
        END IF;

        new_kind := coalesce(pd->>'kind', 'minutes');
        IF pd->>'municipality' IS NOT NULL AND pd->>'committee' IS NOT NULL
           AND v_date IS NOT NULL THEN
            m_key := lower(pd->>'municipality') || '|' || lower(pd->>'committee')
                     || '|' || v_date::text;
        ELSE
            m_key := 'doc:' || (d->>'sha256');
        END IF;

        m_id := NULL;
        INSERT INTO meetings (meeting_key, municipality, committee, meeting_date,
                              start_time, end_time, location, kind, state,
                              current_document_id)
        VALUES (m_key, pd->>'municipality', pd->>'committee', v_date,
                mm_try_time(pd->>'start_time'), mm_try_time(pd->>'end_time'),
                pd->>'location', new_kind,
                CASE WHEN new_kind = 'agenda' THEN 'scheduled' ELSE 'held' END, doc_id)
        ON CONFLICT (meeting_key) DO NOTHING
        RETURNING id INTO m_id;
        IF m_id IS NULL THEN
            SELECT m.id, m.current_document_id, m.kind INTO m_id, m_cur, m_kind
              FROM meetings m WHERE m.meeting_key = m_key FOR UPDATE;
            IF m_kind = 'minutes' AND new_kind = 'agenda' THEN
                -- an agenda never replaces minutes: the new row is history at once
                UPDATE documents SET superseded_by = m_cur WHERE id = doc_id;
            ELSE
                UPDATE documents SET superseded_by = doc_id WHERE id = m_cur;
                UPDATE meetings
                   SET start_time = mm_try_time(pd->>'start_time'),
                       end_time = mm_try_time(pd->>'end_time'),
                       location = pd->>'location',
                       kind = new_kind,
                       state = CASE WHEN new_kind = 'agenda' THEN 'scheduled' ELSE 'held' END,
                       current_document_id = doc_id,
                       version = version + 1,
                       updated_at = now()
                 WHERE id = m_id;
            END IF;
        END IF;
        UPDATE documents SET meeting_id = m_id WHERE id = doc_id;

        new_ids := new_ids || doc_id;
        new_meetings := new_meetings || m_id;
        new_idx := new_idx || i;

        idx := i; document_id := doc_id; status := 'inserted';
        RETURN NEXT;
        i := i + 1;
    END LOOP;

    IF cardinality(new_ids) = 0 THEN
        RETURN;
    END IF;
    -- Children of all new documents, set-based: one statement for the
    -- whole batch (item ids drawn up front so every child can refer to them).
    WITH nd AS (
        SELECT u.nd_doc, u.nd_meeting, docs -> u.nd_i -> 'parse' AS parse
          FROM unnest(new_ids, new_meetings, new_idx) AS u (nd_doc, nd_meeting, nd_i)
    ), src AS MATERIALIZED (
        SELECT nextval('agenda_items_id_seq') AS item_id, nd.nd_doc, nd.nd_meeting,
               e.value AS it, e.ord::integer AS item_ord
          FROM nd, jsonb_array_elements(CASE WHEN jsonb_typeof(nd.parse->'items') = 'array'
                                             THEN nd.parse->'items' ELSE '[]' END)
               WITH ORDINALITY AS e (value, ord)
    ), ins_participants AS (
        INSERT INTO participants (document_id, meeting_id, ord, name)
        SELECT nd.nd_doc, nd.nd_meeting, p.ord::integer, p.value
          FROM nd, jsonb_array_elements_text(
                   CASE WHEN jsonb_typeof(nd.parse->'document'->'participants') = 'array'
                        THEN nd.parse->'document'->'participants' ELSE '[]' END)
               WITH ORDINALITY AS p (value, ord)
    ), ins_items AS (
        INSERT INTO agenda_items (id, document_id, meeting_id, number, ord, title,
                                  case_number, case_number_kind, kle_code,
                                  kle_main_group, kle_main_group_name, public,
                                  outcome, outcome_parts, decision, confidence,
                                  text_offset, text_length)
        SELECT src.item_id, src.nd_doc, src.nd_meeting, mm_try_int(it->>'number'),
               coalesce(mm_try_int(it->>'order'), item_ord), it->>'title',
               it->>'case_number', it->>'case_number_kind',
               it->'kle'->>'code', it->'kle'->>'main_group', it->'kle'->>'main_group_name',
               NOT coalesce(jsonb_typeof(it->'closed') = 'boolean' AND (it->>'closed')::boolean, false),
               it->>'outcome',
               coalesce(ARRAY(SELECT jsonb_array_elements_text(
                   CASE WHEN jsonb_typeof(it->'outcome_parts') = 'array'
                        THEN it->'outcome_parts' ELSE '[]' END)), '{}'),
               it->>'decision', mm_try_real(it->>'confidence'),
               mm_try_bigint(it->>'offset'), mm_try_bigint(it->>'length')
          FROM src
    ), ins_sections AS (
        INSERT INTO item_sections (item_id, ord, heading, kind, text, text_offset, history)
        SELECT src.item_id, s.ord::integer, s.value->>'heading', s.value->>'kind',
               s.value->>'text', mm_try_bigint(s.value->>'offset'),
               CASE WHEN jsonb_typeof(s.value->'history') = 'boolean'
                    THEN (s.value->>'history')::boolean END
          FROM src, jsonb_array_elements(CASE WHEN jsonb_typeof(src.it->'sections') = 'array'
                                              THEN src.it->'sections' ELSE '[]' END)
               WITH ORDINALITY AS s (value, ord)
    ), ins_absences AS (
        INSERT INTO item_absences (item_id, name)
        SELECT src.item_id, a
          FROM src, jsonb_array_elements_text(CASE WHEN jsonb_typeof(src.it->'absent') = 'array'
                                                   THEN src.it->'absent' ELSE '[]' END) AS a
    ), ins_attachments AS (
        INSERT INTO attachments (item_id, ord, name)
        SELECT src.item_id, a.ord::integer, a.value
          FROM src, jsonb_array_elements_text(CASE WHEN jsonb_typeof(src.it->'attachments') = 'array'
                                                   THEN src.it->'attachments' ELSE '[]' END)
               WITH ORDINALITY AS a (value, ord)
    ), ins_amounts AS (
        INSERT INTO amounts (item_id, value, text, sentence)
        SELECT src.item_id, mm_try_numeric(a->>'value'), a->>'text', a->>'sentence'
          FROM src, jsonb_array_elements(CASE WHEN jsonb_typeof(src.it->'amounts') = 'array'
                                              THEN src.it->'amounts' ELSE '[]' END) AS a
    )
    INSERT INTO law_references (item_id, text, law, paragraph)
    SELECT src.item_id, l->>'text', l->>'law', l->>'paragraph'
      FROM src, jsonb_array_elements(CASE WHEN jsonb_typeof(src.it->'laws') = 'array'
                                          THEN src.it->'laws' ELSE '[]' END) AS l;
END;
$fn$;

-- Lenient casts: a value the parser got wrong becomes NULL, not an error.
-- Plain SQL with pattern checks (no EXCEPTION blocks: each of those would
-- open a subtransaction per call, which is slow in big batches).
CREATE FUNCTION mm_try_date(t text) RETURNS date
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN t ~ '^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])'
                 AND extract(month FROM make_date(substr(t, 1, 4)::int, substr(t, 6, 2)::int, 1)
                                       + (substr(t, 9, 2)::int - 1)) = substr(t, 6, 2)::int
                THEN make_date(substr(t, 1, 4)::int, substr(t, 6, 2)::int, substr(t, 9, 2)::int) END $$;
CREATE FUNCTION mm_try_timestamptz(t text) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN mm_try_date(t) IS NOT NULL
                 AND t ~ '^\d{4}-\d{2}-\d{2}([Tt ]([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,6})?)?([Zz]|[+-]([01]\d|2[0-3])(:?[0-5]\d)?)?)?$'
                THEN t::timestamptz END $$;
CREATE FUNCTION mm_try_time(t text) RETURNS time
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN t ~ '^([01]?\d|2[0-3])[:.][0-5]\d([:.][0-5]\d)?$'
                THEN replace(t, '.', ':')::time END $$;
CREATE FUNCTION mm_try_int(t text) RETURNS integer
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN t ~ '^\s*[-+]?\d{1,9}\s*$' THEN t::integer END $$;
CREATE FUNCTION mm_try_bigint(t text) RETURNS bigint
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN t ~ '^\s*[-+]?\d{1,18}\s*$' THEN t::bigint END $$;
CREATE FUNCTION mm_try_numeric(t text) RETURNS numeric
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN t ~ '^\s*[-+]?(\d{1,30}(\.\d{0,30})?|\.\d{1,30})([eE][-+]?\d{1,2})?\s*$'
                THEN t::numeric END $$;
CREATE FUNCTION mm_try_real(t text) RETURNS real
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN abs(mm_try_numeric(t)) < 1e30 THEN mm_try_numeric(t)::real END $$;

-- The worker role: SELECT, INSERT, UPDATE on the tables, USAGE on the
-- sequences, EXECUTE on the functions; no DELETE, no TRUNCATE, no DDL.
DO $grant$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'minutes_worker') THEN
        GRANT USAGE ON SCHEMA public TO minutes_worker;
        GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA public TO minutes_worker;
        GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO minutes_worker;
        GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO minutes_worker;
        REVOKE DELETE, TRUNCATE ON ALL TABLES IN SCHEMA public FROM minutes_worker;
        REVOKE SELECT, INSERT, UPDATE ON schema_migrations FROM minutes_worker;
        GRANT SELECT ON schema_migrations TO minutes_worker;
    END IF;
END
$grant$;
