-- minutes-ingest schema, migration 007: the raw text beside the JSON.
--
-- 006's mm_ingest_documents takes each document's raw text inside the
-- documents' JSON, so PostgreSQL parses every byte of it into jsonb (and
-- copies it with each element) only to store it as text again: most of
-- a batch's bytes (about 7 of 9 MB per 360 documents in the worker
-- benchmark). The worker now sends the raw texts as a fourth parameter,
-- a text[] in binary form (one length and the bytes per document; an
-- invalid byte sequence or a NUL is still refused, SQLSTATE 22021), and
-- leaves them out of the JSON.
--
-- mm_ingest_documents(text, jsonb, jsonb, text[]) is 006's function with
-- one change: documents.raw_text is raw_texts[i + 1] (1-based; i counts
-- the documents from 0), or d->>'raw_text' where that element is NULL or
-- missing, so a NULL array is 006's behaviour exactly.
--
-- 006's three-argument function stays, for a worker of the previous
-- version during a rolling upgrade, and now calls this one with NULL
-- raw texts: one body for both (tests/integration/test_store_copy.sh
-- writes the same documents through each and compares every row).

CREATE FUNCTION mm_ingest_documents(p_group text, docs jsonb, offsets jsonb,
                                    raw_texts text[])
RETURNS TABLE (idx integer, document_id bigint, meeting_id bigint, status text)
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
                pd->'warnings', coalesce(raw_texts[i + 1], d->>'raw_text'),
                src_sys, src_mid, src->>'publication_id', new_pub)
        ON CONFLICT (sha256) DO NOTHING
        RETURNING id INTO doc_id;
        IF doc_id IS NULL THEN
            idx := i; document_id := NULL; meeting_id := NULL; status := 'duplicate';
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
        UPDATE documents AS dd SET meeting_id = m_id WHERE dd.id = doc_id;

        idx := i; document_id := doc_id; meeting_id := m_id; status := 'inserted';
        RETURN NEXT;
        i := i + 1;
    END LOOP;
END;
$fn$;

-- As 006: no JIT (one execution per batch).
ALTER FUNCTION mm_ingest_documents(text, jsonb, jsonb, text[]) SET jit = off;

CREATE OR REPLACE FUNCTION mm_ingest_documents(p_group text, docs jsonb, offsets jsonb)
RETURNS TABLE (idx integer, document_id bigint, meeting_id bigint, status text)
LANGUAGE sql AS $fn$
    SELECT * FROM mm_ingest_documents(p_group, docs, offsets, NULL::text[])
$fn$;
-- CREATE OR REPLACE dropped its setting (see 005): set it again.
ALTER FUNCTION mm_ingest_documents(text, jsonb, jsonb) SET jit = off;

DO $grant$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'minutes_worker') THEN
        GRANT EXECUTE ON FUNCTION mm_ingest_documents(text, jsonb, jsonb, text[]) TO minutes_worker;
    END IF;
END
$grant$;
