-- minutes-ingest schema, migration 010: votes and reservations per item
-- (issue 21).
--
-- minutes-parse prints, per item, `votes` (vote events in the order of the
-- decision text, each with for/against/abstain: a count, the parties voting
-- as a group and the members named on their own) and `reservations`. The
-- tables follow the Open Civic Data vote model (VoteEvent, VoteCount,
-- PersonVote), with party votes beside the person votes, since Danish
-- minutes mostly record how each party group voted:
--
--   vote_events        one row per vote event of an item (item_id, ord)
--   vote_counts        the count of an option, when the text states it
--   party_votes        a party (letter, or a local list as printed) and its option
--   person_votes       a member named on his own and his option
--   item_reservations  a party or a member that reserved its position
--
-- An event is keyed by its item and its place (ord, from 1), so the worker
-- COPYs all five tables in the batch transaction without drawing ids
-- (common/mm_store_votes.c). Rows of a superseded document stay, like its
-- items; the views below read the current documents only.
--
-- party_vote_summary answers "how did each party vote in kommune K since
-- date D":
--   SELECT party, option, votes, items FROM party_vote_summary(K, D);

CREATE TABLE vote_events (
    item_id  bigint  NOT NULL REFERENCES agenda_items (id),
    ord      integer NOT NULL CHECK (ord >= 1),
    motion   text,
    result   text CHECK (result IN ('adopted', 'rejected')),
    PRIMARY KEY (item_id, ord)
);

CREATE TABLE vote_counts (
    item_id    bigint  NOT NULL,
    event_ord  integer NOT NULL,
    option     text    NOT NULL CHECK (option IN ('for', 'against', 'abstain')),
    value      integer NOT NULL CHECK (value >= 0),
    PRIMARY KEY (item_id, event_ord, option),
    FOREIGN KEY (item_id, event_ord) REFERENCES vote_events (item_id, ord)
);

CREATE TABLE party_votes (
    item_id    bigint  NOT NULL,
    event_ord  integer NOT NULL,
    option     text    NOT NULL CHECK (option IN ('for', 'against', 'abstain')),
    party      text    NOT NULL,
    FOREIGN KEY (item_id, event_ord) REFERENCES vote_events (item_id, ord)
);
CREATE INDEX party_votes_event ON party_votes (item_id, event_ord);
CREATE INDEX party_votes_party ON party_votes (party);

CREATE TABLE person_votes (
    item_id     bigint  NOT NULL,
    event_ord   integer NOT NULL,
    option      text    NOT NULL CHECK (option IN ('for', 'against', 'abstain')),
    voter_name  text    NOT NULL,
    FOREIGN KEY (item_id, event_ord) REFERENCES vote_events (item_id, ord)
);
CREATE INDEX person_votes_event ON person_votes (item_id, event_ord);

CREATE TABLE item_reservations (
    item_id  bigint  NOT NULL REFERENCES agenda_items (id),
    ord      integer NOT NULL,
    party    text,
    member   text,
    CHECK (num_nonnulls(party, member) = 1)
);
CREATE INDEX item_reservations_item ON item_reservations (item_id);

-- Every party vote of a current document with its meeting: the kommune,
-- the date, the body and the item.
CREATE VIEW current_party_votes AS
    SELECT m.municipality, m.meeting_date, m.committee, i.id AS item_id, i.number AS item_number,
           i.title, e.ord AS event_ord, e.motion, e.result, pv.option, pv.party
      FROM party_votes pv
      JOIN vote_events e ON e.item_id = pv.item_id AND e.ord = pv.event_ord
      JOIN current_items i ON i.id = pv.item_id
      JOIN meetings m ON m.id = i.meeting_id;

-- How each party voted in kommune K since date D: per party and option,
-- the number of vote events and of items. K is compared with the stored
-- municipality ("Greve Kommune") case-insensitively, with or without the
-- word "Kommune". Parties come in code-point order (COLLATE "C"), the same
-- on every server.
CREATE FUNCTION party_vote_summary(p_kommune text, p_since date)
RETURNS TABLE (party text, option text, votes bigint, items bigint)
LANGUAGE sql STABLE AS $$
    SELECT v.party, v.option, count(*), count(DISTINCT v.item_id)
      FROM current_party_votes v
     WHERE v.meeting_date >= p_since
       AND (lower(v.municipality) = lower(p_kommune)
            OR lower(v.municipality) = lower(p_kommune) || ' kommune')
     GROUP BY v.party, v.option
     ORDER BY v.party COLLATE "C", array_position(ARRAY['for', 'against', 'abstain'], v.option) $$;

DO $grant$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'minutes_worker') THEN
        GRANT SELECT, INSERT ON vote_events, vote_counts, party_votes, person_votes,
              item_reservations TO minutes_worker;
        GRANT SELECT ON current_party_votes TO minutes_worker;
        GRANT EXECUTE ON FUNCTION party_vote_summary(text, date) TO minutes_worker;
    END IF;
END
$grant$;
