-- A town's year: persons lost contact with, status reasons and places of moves; cadres and
-- organisations that end; household history; settings that hold words; relations by GB/T 4761.
-- Never edit a migration that has run; add a new one.
--
-- SQLite cannot change a CHECK constraint in place: persons is rebuilt (the documented
-- twelve-step procedure). Db::migrate runs migrations on a connection with foreign keys off,
-- so dropping the old table leaves the tables referring to persons as they are.

CREATE TABLE persons_new (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    id_number TEXT NOT NULL UNIQUE,
    sex TEXT NOT NULL CHECK (sex IN ('male', 'female')),
    birth_date TEXT NOT NULL,
    ethnicity TEXT NOT NULL DEFAULT '',
    phone TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'alive' CHECK (status IN ('alive', 'dead', 'moved_out', 'lost_contact')),
    status_date TEXT,
    place_id INTEGER NOT NULL REFERENCES places(id),
    household_id INTEGER REFERENCES households(id),
    relation TEXT,
    row_version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    status_reason TEXT NOT NULL DEFAULT '',
    status_place TEXT NOT NULL DEFAULT ''
);
INSERT INTO persons_new (id, name, id_number, sex, birth_date, ethnicity, phone, status, status_date, place_id,
                         household_id, relation, row_version, created_at, updated_at)
SELECT id, name, id_number, sex, birth_date, ethnicity, phone, status, status_date, place_id,
       household_id, relation, row_version, created_at, updated_at FROM persons;
DROP TABLE persons;
ALTER TABLE persons_new RENAME TO persons;
CREATE INDEX persons_place ON persons(place_id);
CREATE INDEX persons_household ON persons(household_id);
CREATE INDEX persons_name ON persons(name);
CREATE TRIGGER persons_counted_update AFTER UPDATE OF household_id ON persons BEGIN
    INSERT INTO change_counts (entity, place_id, n) VALUES ('persons', 0, 1)
    ON CONFLICT (entity, place_id) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER persons_counted_delete AFTER DELETE ON persons BEGIN
    INSERT INTO change_counts (entity, place_id, n) VALUES ('persons', 0, 1)
    ON CONFLICT (entity, place_id) DO UPDATE SET n = n + 1;
END;

-- Relations as GB/T 4761 names them (the 扶贫 system's 之子 becomes 子).
UPDATE persons SET relation = CASE relation
    WHEN '之子' THEN '子' WHEN '之女' THEN '女' WHEN '之儿媳' THEN '儿媳' WHEN '之女婿' THEN '女婿'
    WHEN '之孙子' THEN '孙子' WHEN '之孙女' THEN '孙女' WHEN '之外孙子' THEN '外孙子' WHEN '之外孙女' THEN '外孙女'
    WHEN '之父' THEN '父亲' WHEN '之母' THEN '母亲' WHEN '之岳父' THEN '岳父' WHEN '之岳母' THEN '岳母'
    WHEN '之公公' THEN '公公' WHEN '之婆婆' THEN '婆婆' WHEN '之祖父' THEN '祖父' WHEN '之祖母' THEN '祖母'
    WHEN '之兄弟姐妹' THEN '兄弟姐妹' WHEN '其他' THEN '其他亲属' ELSE relation END
WHERE relation IS NOT NULL;

ALTER TABLE cadres ADD COLUMN ended_on TEXT;
ALTER TABLE cadres ADD COLUMN end_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE organisations ADD COLUMN ended_on TEXT;
ALTER TABLE settings ADD COLUMN text_value TEXT;

-- What happened to a household, in order: members joining and leaving, head changes, splits,
-- moves. The audit trail holds the same changes field by field; this is the story a clerk reads.
CREATE TABLE household_events (
    id INTEGER PRIMARY KEY,
    household_id INTEGER NOT NULL REFERENCES households(id),
    on_date TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('join', 'leave', 'head_change', 'split', 'split_from', 'move', 'relation')),
    person_id INTEGER REFERENCES persons(id),
    other_household_id INTEGER REFERENCES households(id),
    detail TEXT NOT NULL DEFAULT '',
    actor TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX household_events_household ON household_events(household_id, on_date);
