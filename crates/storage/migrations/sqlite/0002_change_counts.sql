-- The roll-up's stored figures (reports::stored) and what keeps them honest.
-- Never edit a migration that has run; add a new one.

-- How many times rows of a table lying in a place have been written (inserted, updated or
-- deleted), counted by triggers in the writing transaction itself: the counts only grow, so a
-- figure stored with the counts of its places is current exactly while they are unchanged.
-- Ledger tables get their triggers when they are created (storage::ledgers); the registry's
-- are below, for the writes that change what a figure counts: place moves and household moves.
CREATE TABLE change_counts (
    entity TEXT NOT NULL,
    place_id INTEGER NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (entity, place_id)
) WITHOUT ROWID;

-- Figures of one ledger's indicators for one place of a level (a town of the county), under
-- one context (level, scope, period, as-of date), with a digest of the definitions and queries
-- they came from, and the change counts they were computed at ("ledger/places/persons").
CREATE TABLE rollup_store (
    context TEXT NOT NULL,
    ledger TEXT NOT NULL,
    definitions TEXT NOT NULL,
    group_id INTEGER NOT NULL,
    fingerprint TEXT NOT NULL,
    figures TEXT NOT NULL,
    saved_at TEXT NOT NULL,
    PRIMARY KEY (context, ledger, group_id)
) WITHOUT ROWID;

-- Which place lies in which town or village: any change to the tree counts for every figure.
-- A new place holds no records yet (and its own id was counted when an earlier place of that id
-- was deleted), so adding a village changes no figure.
CREATE TRIGGER places_counted_update AFTER UPDATE OF parent_id, level, path ON places BEGIN
    INSERT INTO change_counts (entity, place_id, n) VALUES ('places', 0, 1)
    ON CONFLICT (entity, place_id) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER places_counted_delete AFTER DELETE ON places BEGIN
    INSERT INTO change_counts (entity, place_id, n) VALUES ('places', 0, 1)
    ON CONFLICT (entity, place_id) DO UPDATE SET n = n + 1;
END;

-- Households counted through persons follow a person's household: a move counts for every
-- figure of a person ledger counting households (the person's records may lie anywhere).
-- A new person has no records yet, so an insert changes no figure.
CREATE TRIGGER persons_counted_update AFTER UPDATE OF household_id ON persons BEGIN
    INSERT INTO change_counts (entity, place_id, n) VALUES ('persons', 0, 1)
    ON CONFLICT (entity, place_id) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER persons_counted_delete AFTER DELETE ON persons BEGIN
    INSERT INTO change_counts (entity, place_id, n) VALUES ('persons', 0, 1)
    ON CONFLICT (entity, place_id) DO UPDATE SET n = n + 1;
END;
