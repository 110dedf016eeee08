-- minutes-ingest schema, migration 004: revisions from the source.
--
-- An export (FirstAgenda JSON, eDoc agenda XML; see common/mm_source.h)
-- names its meeting and publication in the model, document.source =
-- {system, meeting_id, publication_id, published_at}. This migration
-- keeps that identity and lets it decide which version is current:
--   * documents and meetings get source_* columns (NULL for text/PDF/HTML
--     documents and for every row stored before this migration);
--   * the meeting of an export is keyed by its source id
--     ('src:<system>:<municipality>:<meeting id>'), not by committee+date:
--     two meetings of one committee on one day stay two meetings;
--   * when the new and the current document both carry published_at, the
--     later publication wins and an older one that arrives later becomes
--     history at once (superseded_by = the current document); otherwise
--     the rule of 001 stands (newest arrival wins, an agenda never
--     replaces minutes).
-- Rows stored before keep their keys and stay current; nothing is
-- rewritten, so upgrading a database that holds data is only DDL plus the
-- function.
--
-- mm_ingest_batch is 001's function with these changes only: the source_*
-- values are read from parse.document.source and written to documents and
-- meetings; m_key is the source key when there is one; the supersede test
-- compares published_at when both sides have it.

ALTER TABLE documents ADD COLUMN source_system text,
                      ADD COLUMN source_meeting_id text,
                      ADD COLUMN source_publication_id text,
                      ADD COLUMN source_published_at timestamptz;
ALTER TABLE meetings ADD COLUMN source_system text,
                     ADD COLUMN source_meeting_id text,
                     ADD COLUMN source_published_at timestamptz;
CREATE INDEX documents_source_idx ON documents (source_system, source_meeting_id);

CREATE OR REPLACE FUNCTION mm_ingest_batch(p_group text, docs jsonb, offsets jsonb)
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
    -- 004: source identity of the new document and the current one
    src      jsonb;
    src_sys  text;
    src_mid  text;
    new_pub  timestamptz;
    cur_pub  timestamptz;
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
        src := CASE WHEN jsonb_typeof(pd->'source') = 'object' THEN pd->'source' END;
        src_sys := nullif(src->>'system', '');
        src_mid := nullif(src->>'meeting_id', '');
        new_pub := mm_try_timestamptz(src->>'published_at');
        doc_id := NULL;
        INSERT INTO documents (sha256, content_type, source_url, external_id, ce_id,
                               ce_source, ce_type, ce_time, kafka_topic, kafka_partition,
                               kafka_offset, byte_length, kind, municipality, committee,
                               meeting_date, confidence, warnings, raw_text,
                               source_system, source_meeting_id, source_publication_id,
                               source_published_at)
        VALUES (d->>'sha256', d->>'content_type', d->>'source_url', d->>'external_id',
                d->>'ce_id', d->>'ce_source', d->>'ce_type',
                mm_try_timestamptz(d->>'ce_time'), d->>'topic',
                (d->>'partition')::integer, (d->>'offset')::bigint,
                (d->>'byte_length')::bigint, pd->>'kind', pd->>'municipality',
                pd->>'committee', v_date, mm_try_real(pd->>'confidence'),
                pd->'warnings', d->>'raw_text',
                src_sys, src_mid, src->>'publication_id', new_pub)
        ON CONFLICT (sha256) DO NOTHING
        RETURNING id INTO doc_id;
        IF doc_id IS NULL THEN
            idx := i; document_id := NULL; status := 'duplicate';
            RETURN NEXT;
            i := i + 1;
            CONTINUE;
        END IF;

        new_kind := coalesce(pd->>'kind', 'minutes');
        IF src_sys IS NOT NULL AND src_mid IS NOT NULL THEN
            -- an export names its meeting: one meeting per source id
            m_key := 'src:' || lower(src_sys) || ':' || lower(coalesce(pd->>'municipality', ''))
                     || ':' || src_mid;
        ELSIF pd->>'municipality' IS NOT NULL AND pd->>'committee' IS NOT NULL
           AND v_date IS NOT NULL THEN
            m_key := lower(pd->>'municipality') || '|' || lower(pd->>'committee')
                     || '|' || v_date::text;
        ELSE
            m_key := 'doc:' || (d->>'sha256');
        END IF;

        m_id := NULL;
        INSERT INTO meetings (meeting_key, municipality, committee, meeting_date,
                              start_time, end_time, location, kind, state,
                              current_document_id, source_system, source_meeting_id,
                              source_published_at)
        VALUES (m_key, pd->>'municipality', pd->>'committee', v_date,
                mm_try_time(pd->>'start_time'), mm_try_time(pd->>'end_time'),
                pd->>'location', new_kind,
                CASE WHEN new_kind = 'agenda' THEN 'scheduled' ELSE 'held' END, doc_id,
                src_sys, src_mid, new_pub)
        ON CONFLICT (meeting_key) DO NOTHING
        RETURNING id INTO m_id;
        IF m_id IS NULL THEN
            SELECT m.id, m.current_document_id, m.kind, m.source_published_at
              INTO m_id, m_cur, m_kind, cur_pub
              FROM meetings m WHERE m.meeting_key = m_key FOR UPDATE;
            -- both published with a time: the later publication wins, an
            -- older one arriving later never does; else as in 001
            IF (new_pub IS NOT NULL AND cur_pub IS NOT NULL AND new_pub < cur_pub)
               OR ((new_pub IS NULL OR cur_pub IS NULL)
                   AND m_kind = 'minutes' AND new_kind = 'agenda') THEN
                -- the new row is history at once (an older publication, or an
                -- agenda after minutes)
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
                       source_published_at = new_pub,
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

-- The worker role keeps EXECUTE on the replaced function (CREATE OR
-- REPLACE keeps the grants) and its column privileges come with the table
-- grants of 001.
