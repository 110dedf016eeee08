-- minutes-ingest schema, migration 005: full text computed once per row.
--
-- 003 indexed the expressions mm_fts_section(heading, text) and
-- mm_fts_title(title). Now each row stores its tsvector in a generated
-- column, computed once when the row is written, and the GIN indexes are
-- over those columns:
--   item_sections.fts       = mm_fts_section(heading, text)
--   agenda_items.title_fts  = mm_fts_title(title)
-- The expressions are 003's, so 003's guarantee stands: a bounded prefix
-- (100,000 characters) is indexed and to_tsvector never rejects a document.
--
-- Why (measured, README "Write path"): to_tsvector is about three quarters
-- of the cost of full text on insert and GIN maintenance the rest; both
-- are the same for an expression index and a stored column. The stored
-- column makes everything after the insert cheap: a search reads the
-- vector instead of parsing and stemming the text again on every recheck
-- and for ts_rank/ts_headline-style ranking, and VACUUM/REINDEX never
-- re-run the Danish stemmer. A generated column (not a value the batch
-- function computes) keeps every writer right: mm_ingest_batch, a COPY
-- and a hand-written INSERT all fill it the same way, and it cannot
-- drift from the text.
--
-- The GIN indexes keep PostgreSQL's defaults: fastupdate = off made
-- loading 2.8 times slower, and a 16 MB gin_pending_list_limit (default
-- 4 MB) gained nothing measurable while a search scans a longer unsorted
-- pending list.
--
-- Queries search the columns:
--   SELECT ... FROM current_sections s WHERE s.fts @@ plainto_tsquery('danish', 'budget');
--   SELECT ... FROM current_items i WHERE i.title_fts @@ plainto_tsquery('danish', 'budget');
-- A query that still searches mm_fts_section(...)/mm_fts_title(...) gets the
-- same rows, but by a sequential scan.
--
-- Upgrading rewrites item_sections and agenda_items (ADD COLUMN ... STORED
-- computes the vector of every stored row) and builds the new indexes,
-- inside the migration's transaction: writes and reads of the two tables
-- wait until it is done (measured: 42 s for 101,200 sections, 58 million
-- characters, of 2,000 documents, on a shared and busy 2-core machine; it
-- grows with the text, about 10 MB/s of to_tsvector). Stop the workers, or
-- accept the pause.

ALTER TABLE item_sections
    ADD COLUMN fts tsvector GENERATED ALWAYS AS (mm_fts_section(heading, text)) STORED;
DROP INDEX item_sections_fts_bounded;
CREATE INDEX item_sections_fts ON item_sections USING gin (fts);

ALTER TABLE agenda_items
    ADD COLUMN title_fts tsvector GENERATED ALWAYS AS (mm_fts_title(title)) STORED;
DROP INDEX agenda_items_title_fts_bounded;
CREATE INDEX agenda_items_title_fts ON agenda_items USING gin (title_fts);

-- The views of 001 list the columns the tables had then (SELECT * is
-- expanded when a view is created): add the new columns at the end.
CREATE OR REPLACE VIEW current_items AS
    SELECT i.* FROM agenda_items i JOIN meetings m ON m.current_document_id = i.document_id;
CREATE OR REPLACE VIEW current_sections AS
    SELECT s.* FROM item_sections s JOIN current_items i ON i.id = s.item_id;

-- mm_ingest_batch (004's definition, unchanged) runs without JIT. Its
-- set-based INSERT of the children is estimated from jsonb_array_elements'
-- default of 100 rows per call, so its estimated cost (about 330,000)
-- passes jit_above_cost (100,000) and every batch compiled about 39
-- functions: 21-23 ms of LLVM emission per batch (auto_explain), for one
-- execution over a few thousand rows. A COPY never pays that.
-- (A later CREATE OR REPLACE of the function resets this setting: repeat it.)
ALTER FUNCTION mm_ingest_batch(text, jsonb, jsonb) SET jit = off;
