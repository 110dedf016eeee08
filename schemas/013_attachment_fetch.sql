-- minutes-ingest schema, migration 013: minutes-source's state of the
-- attachments (Bilag) it fetches (issue 22; the message format is in
-- docs/source-connector.md#attachments).
--
-- source_attachments: one row per host and attachment Id. A row is made
-- when a produced publication names the attachment, with what the message
-- needs (the publication's Id and key, the item, the name, the release
-- time), so that an attachment whose fetch failed is retried in a later
-- cycle even when its publication does not change. produced_at is set only
-- after Kafka's delivery report: a crash repeats a fetch, never loses one.
-- A row with produced_at is never fetched again (once per Id); sha256 is
-- the hash of the bytes produced (the message's ce_id), skipped the reason
-- when an empty record was produced instead (too_large, http_404, ...).
--
-- A new table and a new nullable column only (numbered 013; 012 is another change of issue 22, and
-- the runner applies every missing migration by name, so the gap is fine):
-- upgrading a database that holds data changes nothing that is there.

CREATE TABLE source_attachments (
    host            text NOT NULL REFERENCES source_hosts (host),
    attachment_id   text NOT NULL,                -- Bilag Id
    entry_id        text NOT NULL,                -- the publication that named it first
    meeting_key     text NOT NULL,                -- that publication's message key
    released_date   text NOT NULL,                -- its ReleasedDate ('' when null): ce_time
    name            text NOT NULL,                -- Bilag Navn
    item_number     text,                         -- Punktnummer of the item, when known
    sha256          text,                         -- of the bytes produced, NULL before
    size_bytes      bigint,                       -- bytes, or the size that was over the cap
    content_type    text,
    skipped         text,                         -- reason of an empty record, NULL when bytes
    produced_at     timestamptz,                  -- delivery report received
    attempts        integer NOT NULL DEFAULT 0,   -- failed fetches since the row was made
    last_error      text,
    last_error_kind text,                         -- transient, permanent
    last_error_at   timestamptz,
    first_seen_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (host, attachment_id)
);
-- the rows still to fetch, read at every poll of a host
CREATE INDEX source_attachments_pending_idx ON source_attachments (host)
    WHERE produced_at IS NULL;

-- source_entries: when the publication's attachments were registered. A
-- publication produced before this migration (or while --attachments was
-- off) has none yet, so it is fetched once more to register them: the
-- archive's attachments are not missed after an upgrade.
ALTER TABLE source_entries ADD COLUMN attachments_at timestamptz;

DO $grant$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'minutes_worker') THEN
        GRANT SELECT, INSERT, UPDATE ON source_attachments TO minutes_worker;
    END IF;
END
$grant$;
