-- minutes-ingest schema, migration 003: full text that never rejects a
-- document.
--
-- 001 indexed to_tsvector('danish', heading || ' ' || text) of each whole
-- section (and of each whole item title). to_tsvector raises SQLSTATE 54000
-- ("string is too long for tsvector") when the distinct lexemes of one value
-- exceed 1 MB, so one large section (a budget appendix) made the INSERT, and
-- with it the whole batch, fail.
--
-- The indexes now cover a bounded prefix: the first 100,000 characters of
-- the heading and text (and of the title). The text itself is stored whole;
-- only words beyond the prefix are not found by a full-text search. Why
-- 100,000 characters can never reach the limit: a character is at most 4
-- bytes in UTF-8, lower-casing maps one character to one character, the
-- Danish stemmer only shortens, and the tokenizer emits a word at most about
-- twice (a hyphenated word as a whole and as its parts, a URL as a whole and
-- as host and path): at most 8 bytes of lexemes per character, 800 kB
-- (measured: 550 kB for hyphenated 4-byte letters, 190 kB for URLs). That is
-- about 15,000 words, 40 pages, of one section.
--
-- Queries must use the same expression for the index to be used, so it is a
-- function: mm_fts_section(heading, text) and mm_fts_title(title), e.g.
--   SELECT ... FROM current_sections s
--    WHERE mm_fts_section(s.heading, s.text) @@ plainto_tsquery('danish', 'budget');
-- Both are plain SQL functions: the planner inlines them in the index and in
-- the query alike, so the two expressions match.
--
-- Upgrading builds the two indexes over the stored rows inside the migration's
-- transaction: writes to item_sections and agenda_items wait until it is
-- done (measured: 5 s for 200,000 short sections and 20,000 titles on a
-- 2-core machine; it grows with the text indexed). Stop the workers, or
-- accept the pause.

CREATE FUNCTION mm_fts_section(heading text, body text) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT to_tsvector('danish'::regconfig,
                       left(coalesce(heading, '') || ' ' || coalesce(body, ''), 100000)) $$;

CREATE FUNCTION mm_fts_title(title text) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT to_tsvector('danish'::regconfig, left(coalesce(title, ''), 100000)) $$;

DROP INDEX item_sections_fts;
CREATE INDEX item_sections_fts_bounded ON item_sections USING gin (mm_fts_section(heading, text));

DROP INDEX agenda_items_title_fts;
CREATE INDEX agenda_items_title_fts_bounded ON agenda_items USING gin (mm_fts_title(title));

-- The worker role inserts the rows, so it evaluates the index expressions.
DO $grant$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'minutes_worker') THEN
        GRANT EXECUTE ON FUNCTION mm_fts_section(text, text), mm_fts_title(text) TO minutes_worker;
    END IF;
END
$grant$;
