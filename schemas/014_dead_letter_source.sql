-- 014: where a dead letter came from. The envelope metadata of the refused
-- message (plain headers, CloudEvents binary headers or a structured
-- event's attributes): its source URL (minutes-submit: the file's path;
-- minutes-source: the publication's or attachment's URL), the document id,
-- the content type and the kommune as the message named it. With them an
-- operator finds the original and can fix and resend it. NULL where a
-- message does not say, and for rows written before 014 (their headers
-- were not kept).
ALTER TABLE dead_letters
    ADD COLUMN source_url   text,
    ADD COLUMN document_id  text,
    ADD COLUMN content_type text,
    ADD COLUMN municipality text;
