-- The audit trail chained by hash (等保2.0: the trail cannot be changed or cut unnoticed).
-- Never edit a migration that has run; add a new one.
--
-- Every entry carries `hash`, the SHA-256 (hex) of the previous entry's hash and this entry's
-- own fields (`audit::chain_hash`), written by the statement that appends it. `audit_head` is
-- the chain's head: the last entry's id and hash, read and moved forward by every append in
-- the appending transaction, so appends form one line. Entries written before this migration
-- (ids up to `legacy_upto`) are chained once by the program right after it (`audit::seal`).
ALTER TABLE audit ADD COLUMN hash TEXT;

CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    last_id INTEGER NOT NULL,
    last_hash TEXT NOT NULL,
    legacy_upto INTEGER NOT NULL
);
INSERT INTO audit_head (id, last_id, last_hash, legacy_upto)
SELECT 1, 0, '0000000000000000000000000000000000000000000000000000000000000000', COALESCE(MAX(id), 0) FROM audit;

-- The head only moves forward and is never removed.
CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head
BEGIN SELECT RAISE(ABORT, '操作日志的链头不能删除'); END;
CREATE TRIGGER audit_head_forward BEFORE UPDATE ON audit_head
WHEN NEW.id <> OLD.id OR NEW.last_id < OLD.last_id OR NEW.legacy_upto <> OLD.legacy_upto
BEGIN SELECT RAISE(ABORT, '操作日志的链头只能向前移动'); END;
