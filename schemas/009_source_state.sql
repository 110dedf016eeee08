-- minutes-ingest schema, migration 009: the state of minutes-source, the
-- connector that polls the kommuner's FirstAgenda publishing API.
--
-- source_hosts: one row per polled host: when it was last polled, last
-- polled successfully, its last error and how many polls in a row failed,
-- and when it is due again. Several minutes-source processes share it; the
-- one holding the host's advisory lock (pg_try_advisory_lock) polls it.
--
-- source_entries: one row per host and listing entry (one publication of
-- a meeting): the listing fields that say whether it changed (Navn,
-- ReleasedDate, Afsluttet), the sha256 of the last body produced to Kafka,
-- and the entry's last success, last error and attempts. A row advances
-- only after Kafka's delivery report, so a crash repeats a submission but
-- never loses one.
--
-- New tables only: upgrading a database that holds data changes nothing
-- that is there.

CREATE TABLE source_hosts (
    host            text PRIMARY KEY,
    kommune         text NOT NULL,
    last_poll_at    timestamptz,
    last_success_at timestamptz,
    last_error      text,
    last_error_at   timestamptz,
    failures        integer NOT NULL DEFAULT 0,   -- polls in a row that failed
    next_poll_at    timestamptz,
    polled_by       text,                         -- host name and pid of the last poller
    entries_listed  integer,                      -- entries in the last listing read
    created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE source_entries (
    host            text NOT NULL REFERENCES source_hosts (host),
    entry_id        text NOT NULL,                -- the listing's Id of the publication
    committee_id    text NOT NULL,
    meeting_start   text NOT NULL,                -- UTC, YYYY-MM-DDTHH:MM:SSZ
    navn            text NOT NULL,                -- Dagsorden, Tillægsdagsorden, Referat, ...
    released_date   text NOT NULL,                -- ReleasedDate as listed ('' when null)
    afsluttet       boolean NOT NULL,
    body_sha256     text,                         -- of the last body produced, NULL before
    produced_at     timestamptz,
    last_success_at timestamptz,                  -- fetched and produced (or unchanged)
    last_error      text,
    last_error_kind text,                         -- transient, permanent, too_large, invalid
    last_error_at   timestamptz,
    attempts        integer NOT NULL DEFAULT 0,   -- failed fetches since the last success
    first_seen_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (host, entry_id)
);
CREATE INDEX source_entries_meeting_idx ON source_entries (host, committee_id, meeting_start);

-- The connector connects as the worker role: it reads and writes these rows.
DO $grant$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'minutes_worker') THEN
        GRANT SELECT, INSERT, UPDATE ON source_hosts, source_entries TO minutes_worker;
    END IF;
END
$grant$;
