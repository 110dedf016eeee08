-- minutes-ingest schema, migration 011: an attempt that ended without a
-- verdict on its input is withdrawn.
--
-- mm_input_attempt (002) counts an input before the risky steps and
-- learns that it passed only when the same worker counts its next input.
-- A worker that stopped gracefully, lost the partition in a rebalance, or
-- put the input aside for a reason of the system (the sandbox could not
-- run) never counted a next input, so the input kept a count it did not
-- earn, and after a few rolling deploys a valid input looked like one that
-- crashes workers. The worker now settles its last input on those paths:
-- passed (the steps ended: the count is cleared, as the next count would
-- have done) or withdrawn (the steps were abandoned: this one count is
-- taken back, earlier ones stay). The protocol is described in one place:
-- common/mm_attempts.h.
CREATE FUNCTION mm_input_settle(p_group text, p_topic text, p_partition integer,
                                p_offset bigint, p_passed boolean)
RETURNS void
LANGUAGE plpgsql AS $fn$
BEGIN
    PERFORM set_config('synchronous_commit', 'off', true);
    UPDATE input_attempts
       SET attempts = CASE WHEN p_passed THEN 0 ELSE greatest(attempts - 1, 0) END,
           updated_at = now()
     WHERE group_id = p_group AND topic = p_topic AND partition = p_partition
       AND input_offset = p_offset AND attempts <> 0;
    UPDATE input_crashes
       SET attempts = CASE WHEN p_passed THEN 0 ELSE greatest(attempts - 1, 0) END,
           updated_at = now()
     WHERE group_id = p_group AND topic = p_topic AND partition = p_partition
       AND input_offset = p_offset AND attempts <> 0;
END;
$fn$;

DO $grant$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'minutes_worker') THEN
        GRANT EXECUTE ON FUNCTION mm_input_settle(text, text, integer, bigint, boolean)
              TO minutes_worker;
    END IF;
END
$grant$;
