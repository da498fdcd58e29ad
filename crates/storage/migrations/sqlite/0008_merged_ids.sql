-- A town's SQLite database merged into the county's (`taizhang merge`, storage::merge): which
-- row of the county holds which row of the town, so that merging again brings only what
-- changed. Never edit a migration that has run; add a new one.
--
-- `source` is the town's place code; `kind` the table the row lies in (places, persons,
-- households, household_events, cadres, organisations, attachments, a ledger's ld_<key>);
-- `source_version` the town row's row_version when it was last brought over (places and
-- attachments: a digest of what was compared). `linked` = 1: the town's row was found already
-- in the county, registered by another town (same ID number or USCC), and the town's records
-- point at that row, which the merge never changes. The audit trail is kept as one row,
-- kind 'audit', source_id 0, source_version the last town entry appended.
CREATE TABLE merged_ids (
    source TEXT NOT NULL,
    kind TEXT NOT NULL,
    source_id INTEGER NOT NULL,
    target_id INTEGER NOT NULL,
    source_version INTEGER NOT NULL,
    linked INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (source, kind, source_id)
);
