-- minutes-ingest schema, migration 008: one write path, meeting identity
-- that cannot split or collide, and supplementary agendas.
--
-- One write path (issue 19, defect 9). Three generations of the ingest
-- function lived side by side: 004's mm_ingest_batch (children in SQL),
-- 006's mm_ingest_documents(text, jsonb, jsonb) and 007's with the raw
-- texts as a text[]. The worker picked one at run time. Now a worker
-- requires the schema it was built for (the highest migration it embeds;
-- `minutes-worker --migrate` brings an older schema there and a worker
-- refuses to start against an older one), so the older generations go:
-- a batch is written by mm_ingest_documents(text, jsonb, jsonb, text[])
-- (documents, meetings, offsets) and the worker's COPY of the child rows,
-- in one transaction (common/mm_store_copy.c). The function keeps 007's
-- signature, so a worker of the previous version that is still running
-- during a rolling upgrade writes through the new body.
--
-- Changes of the function's body (everything else is 007's, statement for
-- statement):
--   * the source key of an export is 'src:<system>:<municipality>:<meeting
--     id>' with the municipality REQUIRED (defect 8): 007 used
--     coalesce(municipality, ''), so a revision with and one without an
--     envelope municipality got two keys (one meeting, two current
--     records), and numeric SBSYS ids of different kommuner without one
--     shared a key (one kommune's meeting superseded another's). An export
--     without a municipality is refused here (SQLSTATE MM003, a data
--     error); the worker dead-letters it before (export_invalid). Stored
--     keys are unchanged: a key with a municipality is built as before,
--     and no new key can have an empty one.
--   * a newer revision moves the meeting (defect 5): the supersede path
--     also sets meeting_date, committee and municipality;
--   * minutes are never replaced by an agenda, also when both carry a
--     publication time (004 let the later publication win whatever its
--     kind); between documents of one kind the later publication wins;
--   * a supplementary agenda (document.source.supplement = true; FirstAgenda
--     "Tillægsdagsorden") adds its items to the meeting and replaces
--     nothing (issue 18): it is stored as a live document of the meeting
--     (superseded_by NULL) beside the current agenda, becomes history when
--     minutes become current, and is history at once when minutes are
--     current already. The view current_meeting_items lists the items of
--     a meeting's current document and of its live supplements.
--
-- Long values (defect 3): the btree of agenda_items.case_number refused a
-- case number over about 2,700 bytes (SQLSTATE 54000, a program limit). It
-- is a hash index now (case numbers are looked up by equality); meeting
-- ids, keys and case numbers of exports are bounded where they enter the
-- model (common/mm_source_build.c), and a program limit that the worker's
-- isolation pins on one document dead-letters that document.
--
-- Upgrading a database that holds data: one column with a constant
-- default (no rewrite), one index rebuilt, functions and a view. Meetings
-- stored with an empty municipality in their key ('src:<system>::<id>')
-- keep their key; a later revision of them now names its municipality and
-- so starts a new meeting (they could not be told apart from another
-- kommune's meeting with the same id).

ALTER TABLE documents ADD COLUMN supplement boolean NOT NULL DEFAULT false;

DROP INDEX agenda_items_case_number_idx;
CREATE INDEX agenda_items_case_number_idx ON agenda_items USING hash (case_number);

DROP FUNCTION mm_ingest_batch(text, jsonb, jsonb);
DROP FUNCTION mm_ingest_documents(text, jsonb, jsonb);

CREATE OR REPLACE FUNCTION mm_ingest_documents(p_group text, docs jsonb, offsets jsonb,
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
    -- source identity of the new document and the current one
    src      jsonb;
    src_sys  text;
    src_mid  text;
    new_pub  timestamptz;
    cur_pub  timestamptz;
    -- 008: a supplementary agenda, and whether the new document is history
    new_supp boolean;
    history  boolean;
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
        new_supp := coalesce(jsonb_typeof(src->'supplement') = 'boolean'
                             AND (src->>'supplement')::boolean, false);
        doc_id := NULL;
        INSERT INTO documents (sha256, content_type, source_url, external_id, ce_id,
                               ce_source, ce_type, ce_time, kafka_topic, kafka_partition,
                               kafka_offset, byte_length, kind, municipality, committee,
                               meeting_date, confidence, warnings, raw_text,
                               source_system, source_meeting_id, source_publication_id,
                               source_published_at, supplement)
        VALUES (d->>'sha256', d->>'content_type', d->>'source_url', d->>'external_id',
                d->>'ce_id', d->>'ce_source', d->>'ce_type',
                mm_try_timestamptz(d->>'ce_time'), d->>'topic',
                (d->>'partition')::integer, (d->>'offset')::bigint,
                (d->>'byte_length')::bigint, pd->>'kind', pd->>'municipality',
                pd->>'committee', v_date, mm_try_real(pd->>'confidence'),
                pd->'warnings', coalesce(raw_texts[i + 1], d->>'raw_text'),
                src_sys, src_mid, src->>'publication_id', new_pub, new_supp)
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
            -- an export names its meeting: one meeting per kommune and source id
            IF nullif(pd->>'municipality', '') IS NULL THEN
                RAISE EXCEPTION 'export %/% names no municipality', src_sys, left(src_mid, 100)
                    USING ERRCODE = 'MM003';
            END IF;
            m_key := 'src:' || lower(src_sys) || ':' || lower(pd->>'municipality')
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
            -- history at once: an agenda or a supplement under minutes, or an
            -- older publication of the current kind arriving later
            history := (m_kind = 'minutes' AND (new_kind = 'agenda' OR new_supp))
                       OR (NOT new_supp AND new_kind = m_kind AND coalesce(new_pub < cur_pub, false));
            IF history THEN
                UPDATE documents SET superseded_by = m_cur WHERE id = doc_id;
            ELSIF new_supp THEN
                NULL; -- a live supplement beside the current agenda: nothing replaced
            ELSE
                -- the current document, and under minutes every live
                -- supplement, become history; an agenda leaves supplements live
                UPDATE documents dd SET superseded_by = doc_id
                 WHERE dd.meeting_id = m_id AND dd.superseded_by IS NULL AND dd.id <> doc_id
                   AND (dd.id = m_cur OR new_kind = 'minutes')
                   AND (NOT dd.supplement OR new_kind = 'minutes');
                UPDATE meetings
                   SET municipality = pd->>'municipality',
                       committee = pd->>'committee',
                       meeting_date = v_date,
                       start_time = mm_try_time(pd->>'start_time'),
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

-- CREATE OR REPLACE dropped its setting (see 005): no JIT again.
ALTER FUNCTION mm_ingest_documents(text, jsonb, jsonb, text[]) SET jit = off;

-- A meeting's items as they stand: those of its current document and of
-- its live supplementary agendas (a document that is not history).
CREATE VIEW current_meeting_items AS
    SELECT i.* FROM agenda_items i JOIN documents d ON d.id = i.document_id
     WHERE d.superseded_by IS NULL AND d.meeting_id IS NOT NULL;

DO $grant$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'minutes_worker') THEN
        GRANT SELECT ON current_meeting_items TO minutes_worker;
    END IF;
END
$grant$;
