-- Registry, users, ledger definitions, settings and the audit trail.
-- Never edit a migration that has run; add a new one.

CREATE TABLE places (
    id INTEGER PRIMARY KEY,
    parent_id INTEGER REFERENCES places(id),
    level TEXT NOT NULL CHECK (level IN ('county', 'town', 'village', 'group')),
    code TEXT UNIQUE,
    name TEXT NOT NULL,
    path TEXT NOT NULL DEFAULT '',
    attributes TEXT NOT NULL DEFAULT '[]',
    created_at TEXT NOT NULL
);
CREATE INDEX places_path ON places(path);
CREATE INDEX places_parent ON places(parent_id);

CREATE TABLE households (
    id INTEGER PRIMARY KEY,
    number TEXT NOT NULL UNIQUE,
    place_id INTEGER NOT NULL REFERENCES places(id),
    head_person_id INTEGER,
    row_version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX households_place ON households(place_id);

CREATE TABLE persons (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    id_number TEXT NOT NULL UNIQUE,
    sex TEXT NOT NULL CHECK (sex IN ('male', 'female')),
    birth_date TEXT NOT NULL,
    ethnicity TEXT NOT NULL DEFAULT '',
    phone TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'alive' CHECK (status IN ('alive', 'dead', 'moved_out')),
    status_date TEXT,
    place_id INTEGER NOT NULL REFERENCES places(id),
    household_id INTEGER REFERENCES households(id),
    relation TEXT,
    row_version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX persons_place ON persons(place_id);
CREATE INDEX persons_household ON persons(household_id);
CREATE INDEX persons_name ON persons(name);

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'leader', 'clerk', 'village_cadre')),
    place_id INTEGER NOT NULL REFERENCES places(id),
    ledgers TEXT NOT NULL DEFAULT '[]',
    must_change_password INTEGER NOT NULL DEFAULT 1,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);

CREATE TABLE cadres (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('town', 'village', 'resident', 'other')),
    post TEXT NOT NULL DEFAULT '',
    unit TEXT NOT NULL DEFAULT '',
    birth_date TEXT,
    place_id INTEGER NOT NULL REFERENCES places(id),
    person_id INTEGER REFERENCES persons(id),
    user_id INTEGER REFERENCES users(id),
    phone TEXT NOT NULL DEFAULT '',
    row_version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX cadres_place ON cadres(place_id);

CREATE TABLE organisations (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    uscc TEXT UNIQUE,
    kind TEXT NOT NULL,
    address TEXT NOT NULL DEFAULT '',
    place_id INTEGER NOT NULL REFERENCES places(id),
    contact TEXT NOT NULL DEFAULT '',
    phone TEXT NOT NULL DEFAULT '',
    row_version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX organisations_place ON organisations(place_id);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_seen TEXT NOT NULL
);

CREATE TABLE ledger_defs (
    key TEXT PRIMARY KEY,
    definition TEXT NOT NULL,
    source TEXT NOT NULL CHECK (source IN ('builtin', 'clerk')),
    builtin_version INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL
);

CREATE TABLE settings (
    key TEXT NOT NULL,
    year INTEGER NOT NULL,
    value INTEGER NOT NULL,
    PRIMARY KEY (key, year)
);

CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE audit (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id INTEGER,
    place_id INTEGER,
    before_json TEXT,
    after_json TEXT,
    note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_entity ON audit(entity, entity_id);
CREATE INDEX audit_at ON audit(at);

-- The audit trail is append-only: nothing may edit or delete it.
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, '审计记录只能追加，不能修改'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, '审计记录只能追加，不能删除'); END;
