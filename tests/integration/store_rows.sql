-- Every stored row of the ingest tables, without generated ids (for
-- test_store_copy.sh): a document by its sha256, a meeting by its key, an
-- item by (document sha256, position among the document's items), as COPY
-- text so tabs, newlines and backslashes compare exactly.
CREATE TEMP VIEW it AS
    SELECT i.*, d.sha256, row_number() OVER (PARTITION BY i.document_id ORDER BY i.id) AS pos
      FROM agenda_items i JOIN documents d ON d.id = i.document_id;
\echo documents
COPY (SELECT d.sha256, content_type, source_url, external_id, ce_id, ce_source, ce_type, ce_time,
             kafka_topic, kafka_partition, kafka_offset, byte_length, kind, municipality,
             committee, meeting_date, confidence, warnings, raw_text,
             (SELECT s.sha256 FROM documents s WHERE s.id = d.superseded_by),
             (SELECT m.meeting_key FROM meetings m WHERE m.id = d.meeting_id),
             source_system, source_meeting_id, source_publication_id, source_published_at
        FROM documents d ORDER BY d.sha256) TO STDOUT;
\echo meetings
COPY (SELECT meeting_key, municipality, committee, meeting_date, start_time, end_time, location,
             kind, state, (SELECT d.sha256 FROM documents d WHERE d.id = m.current_document_id),
             version, source_system, source_meeting_id, source_published_at
        FROM meetings m ORDER BY meeting_key) TO STDOUT;
\echo participants
COPY (SELECT d.sha256, m.meeting_key, p.ord, p.name
        FROM participants p JOIN documents d ON d.id = p.document_id
        JOIN meetings m ON m.id = p.meeting_id ORDER BY 1, 3, 4) TO STDOUT;
\echo agenda_items
COPY (SELECT it.sha256, it.pos, m.meeting_key, number, ord, title, case_number, case_number_kind,
             kle_code, kle_main_group, kle_main_group_name, public, outcome, outcome_parts,
             decision, confidence, text_offset, text_length, title_fts
        FROM it JOIN meetings m ON m.id = it.meeting_id ORDER BY 1, 2) TO STDOUT;
\echo item_sections
COPY (SELECT it.sha256, it.pos, s.ord, s.heading, s.kind, s.text, s.text_offset, s.history, s.fts
        FROM item_sections s JOIN it ON it.id = s.item_id ORDER BY 1, 2, 3) TO STDOUT;
\echo item_absences
COPY (SELECT it.sha256, it.pos, a.name
        FROM item_absences a JOIN it ON it.id = a.item_id ORDER BY 1, 2, 3) TO STDOUT;
\echo attachments
COPY (SELECT it.sha256, it.pos, a.ord, a.name
        FROM attachments a JOIN it ON it.id = a.item_id ORDER BY 1, 2, 3, 4) TO STDOUT;
\echo amounts
COPY (SELECT it.sha256, it.pos, a.value, a.text, a.sentence
        FROM amounts a JOIN it ON it.id = a.item_id ORDER BY 1, 2, 3, 4, 5) TO STDOUT;
\echo law_references
COPY (SELECT it.sha256, it.pos, l.text, l.law, l.paragraph
        FROM law_references l JOIN it ON it.id = l.item_id ORDER BY 1, 2, 3, 4, 5) TO STDOUT;
