-- 佐证材料: files attached to a ledger's record (photos, PDF, Word, Excel), kept in the database
-- itself so that a backup and a restore carry them with the records they prove. A file is
-- never changed or deleted: removing it from a record voids it (with the reason), as records
-- are voided. `place_id` is the record's place at upload (records never move), so a list is
-- confined by the same condition as records. docs/attachments.md.
CREATE TABLE attachments (
    id INTEGER PRIMARY KEY,
    ledger TEXT NOT NULL,
    record_id INTEGER NOT NULL,
    place_id INTEGER NOT NULL REFERENCES places(id),
    file_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    bytes BLOB NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    voided_at TEXT,
    voided_by TEXT,
    void_reason TEXT
);
CREATE INDEX attachments_record ON attachments(ledger, record_id);

CREATE TRIGGER attachments_no_delete BEFORE DELETE ON attachments
BEGIN SELECT RAISE(ABORT, '佐证材料不能删除，只能撤下（作废）'); END;
CREATE TRIGGER attachments_no_change BEFORE UPDATE OF ledger, record_id, place_id, file_name, content_type, size_bytes, sha256, bytes, created_at, created_by ON attachments
BEGIN SELECT RAISE(ABORT, '佐证材料上传后不能修改'); END;
