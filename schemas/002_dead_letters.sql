-- minutes-ingest schema, migration 002: dead letters recorded in SQL, attempt
-- counters for poison inputs, and lenient casts that cannot throw.
--
-- Applied on top of 001 (which is in production and never edited). Only new
-- tables and functions, plus CREATE OR REPLACE of the mm_try_* casts (same
-- signatures, so mm_ingest_batch keeps calling them).

-- One row per dead-lettered input, written by the worker in the SAME
-- transaction as the batch's offsets (see mm_store_write_batch): a batch that
-- is redone after a crash finds the row already there (ON CONFLICT DO
-- NOTHING), so the table holds each dead letter exactly once. The Kafka
-- dead-letter topic stays at-least-once.
CREATE TABLE dead_letters (
    id                bigserial PRIMARY KEY,
    source_topic      text NOT NULL,
    source_partition  integer NOT NULL,
    source_offset     bigint NOT NULL,
    message_key       bytea,
    stage             text NOT NULL,                -- extract | parse | store
    code              text NOT NULL,
    reason            text NOT NULL,
    sha256            text NOT NULL,                -- of the whole message value
    byte_length       bigint NOT NULL,              -- of the whole message value
    payload           bytea,                        -- the value, NULL when over the cap
    payload_complete  boolean NOT NULL,             -- payload holds every byte
    dlq_delivery      text NOT NULL DEFAULT 'full', -- full | headers_only (copy on the topic)
    created_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (source_topic, source_partition, source_offset)
);
CREATE INDEX dead_letters_code_idx ON dead_letters (code, created_at);

-- Attempts per input before the risky steps (extraction, parsing). A worker
-- works on one input at a time, so one row per (group, topic, partition)
-- holds the input of that partition a worker started on last and how often
-- it was started without passing: the next input a worker starts tells that
-- the previous one passed (p_prev_*). A worker that crashes on an input
-- leaves its count behind. An input started twice without passing goes to
-- input_crashes as well, so it is still known when its partition's row has
-- moved on (its dead letter was not committed, the batch is re-read).
CREATE TABLE input_attempts (
    group_id     text NOT NULL,
    topic        text NOT NULL,
    partition    integer NOT NULL,
    input_offset bigint NOT NULL,
    attempts     integer NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (group_id, topic, partition)
);
CREATE TABLE input_crashes (
    group_id     text NOT NULL,
    topic        text NOT NULL,
    partition    integer NOT NULL,
    input_offset bigint NOT NULL,
    attempts     integer NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (group_id, topic, partition, input_offset)
);

-- Counts one attempt at input p_offset; p_prev_* (may be NULL) is the
-- input this worker passed last. Returns the attempts so far including this
-- one (a known crasher's count), or 0 for an input below the highest offset
-- started that never failed to pass (a re-read). Committed asynchronously:
-- it must only survive a worker crash, not a PostgreSQL crash.
CREATE FUNCTION mm_input_attempt(p_group text, p_topic text, p_partition integer,
                                 p_offset bigint, p_prev_topic text,
                                 p_prev_partition integer, p_prev_offset bigint)
RETURNS integer
LANGUAGE plpgsql AS $fn$
DECLARE
    n integer;
BEGIN
    PERFORM set_config('synchronous_commit', 'off', true);
    IF p_prev_topic IS NOT NULL THEN
        UPDATE input_attempts SET attempts = 0, updated_at = now()
         WHERE group_id = p_group AND topic = p_prev_topic AND partition = p_prev_partition
           AND input_offset = p_prev_offset AND attempts <> 0;
        UPDATE input_crashes SET attempts = 0, updated_at = now()
         WHERE group_id = p_group AND topic = p_prev_topic AND partition = p_prev_partition
           AND input_offset = p_prev_offset AND attempts <> 0;
    END IF;
    UPDATE input_crashes SET attempts = attempts + 1, updated_at = now()
     WHERE group_id = p_group AND topic = p_topic AND partition = p_partition
       AND input_offset = p_offset
    RETURNING attempts INTO n;
    IF n IS NOT NULL THEN
        RETURN n;
    END IF;
    INSERT INTO input_attempts AS a (group_id, topic, partition, input_offset, attempts)
    VALUES (p_group, p_topic, p_partition, p_offset, 1)
    ON CONFLICT (group_id, topic, partition) DO UPDATE
        SET attempts = CASE WHEN a.input_offset = EXCLUDED.input_offset
                            THEN a.attempts + 1 ELSE 1 END,
            input_offset = EXCLUDED.input_offset,
            updated_at = now()
        WHERE a.input_offset <= EXCLUDED.input_offset
    RETURNING attempts INTO n;
    IF n >= 2 THEN
        INSERT INTO input_crashes AS c (group_id, topic, partition, input_offset, attempts)
        VALUES (p_group, p_topic, p_partition, p_offset, n)
        ON CONFLICT (group_id, topic, partition, input_offset) DO UPDATE
            SET attempts = EXCLUDED.attempts, updated_at = now();
    END IF;
    RETURN coalesce(n, 0);
END;
$fn$;

-- Clears the attempts of inputs below `p_next` (they passed the risky steps).
CREATE FUNCTION mm_inputs_passed(p_group text, p_topic text, p_partition integer,
                                 p_next bigint)
RETURNS void
LANGUAGE sql AS $fn$
    UPDATE input_attempts SET attempts = 0, updated_at = now()
     WHERE group_id = p_group AND topic = p_topic AND partition = p_partition
       AND input_offset < p_next AND attempts <> 0;
$fn$;

-- Lenient casts that cannot throw: year 0000 (make_date raises 22008), a
-- real that underflows or overflows (22003), or anything out of range gives
-- NULL. Same signatures as in 001, so mm_ingest_batch uses them unchanged.
CREATE OR REPLACE FUNCTION mm_try_date(t text) RETURNS date
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN t ~ '^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])'
                 AND substr(t, 1, 4) <> '0000'
                 AND extract(month FROM make_date(substr(t, 1, 4)::int, substr(t, 6, 2)::int, 1)
                                       + (substr(t, 9, 2)::int - 1)) = substr(t, 6, 2)::int
                THEN make_date(substr(t, 1, 4)::int, substr(t, 6, 2)::int, substr(t, 9, 2)::int) END $$;
CREATE OR REPLACE FUNCTION mm_try_timestamptz(t text) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN mm_try_date(t) IS NOT NULL
                 AND t ~ '^\d{4}-\d{2}-\d{2}([Tt ]([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,6})?)?([Zz]|[+-]([01]\d|2[0-3])(:?[0-5]\d)?)?)?$'
                THEN t::timestamptz END $$;
CREATE OR REPLACE FUNCTION mm_try_time(t text) RETURNS time
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN t ~ '^([01]?\d|2[0-3])[:.][0-5]\d([:.][0-5]\d)?$'
                THEN replace(t, '.', ':')::time END $$;
CREATE OR REPLACE FUNCTION mm_try_int(t text) RETURNS integer
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN t ~ '^\s*[-+]?\d{1,9}\s*$' THEN t::integer END $$;
CREATE OR REPLACE FUNCTION mm_try_bigint(t text) RETURNS bigint
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN t ~ '^\s*[-+]?\d{1,18}\s*$' THEN t::bigint END $$;
CREATE OR REPLACE FUNCTION mm_try_numeric(t text) RETURNS numeric
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN t ~ '^\s*[-+]?(\d{1,30}(\.\d{0,30})?|\.\d{1,30})([eE][-+]?\d{1,2})?\s*$'
                THEN t::numeric END $$;
-- real holds about 1e-37 .. 3.4e38; outside 1e-30 .. 1e30 (and not 0) is NULL.
CREATE OR REPLACE FUNCTION mm_try_real(t text) RETURNS real
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN mm_try_numeric(t) = 0 OR abs(mm_try_numeric(t)) BETWEEN 1e-30 AND 1e30
                THEN mm_try_numeric(t)::real END $$;

-- The worker role: exactly what the worker does with the new objects.
-- dead_letters: INSERT (ON CONFLICT DO NOTHING needs no more) and SELECT for
-- operators' tools; the sequence for its id. input_attempts, input_crashes:
-- SELECT, INSERT, UPDATE through the two functions. No DELETE, no TRUNCATE.
DO $grant$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'minutes_worker') THEN
        GRANT SELECT, INSERT ON dead_letters TO minutes_worker;
        GRANT USAGE ON SEQUENCE dead_letters_id_seq TO minutes_worker;
        GRANT SELECT, INSERT, UPDATE ON input_attempts, input_crashes TO minutes_worker;
        GRANT EXECUTE ON FUNCTION mm_input_attempt(text, text, integer, bigint, text, integer,
                                                   bigint),
                                  mm_inputs_passed(text, text, integer, bigint)
              TO minutes_worker;
    END IF;
END
$grant$;
