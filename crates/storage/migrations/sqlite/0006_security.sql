-- 等保2.0 level 3: three separate administrators (三员分立), failed sign-ins counted in the
-- database (the lockout holds under concurrency and across processes), password history and
-- expiry, the last sign-in shown to its user. Never edit a migration that has run; add a new one.
--
-- Existing 'admin' users keep the key 'admin', which now means 系统管理员: users, definitions
-- and settings, but no longer the audit trail (only an 审计管理员 reads it) nor the security
-- policy (only a 安全管理员 sets it). Those two accounts are created at the console
-- (`taizhang user add NAME --role audit_admin|security_admin`); docs/security.md.
-- Existing passwords count as set now, so none expires on the day of the upgrade.
--
-- SQLite cannot change a CHECK constraint in place: users is rebuilt (the documented
-- twelve-step procedure; Db::migrate runs with foreign keys off).

CREATE TABLE users_new (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'security_admin', 'audit_admin', 'leader', 'clerk', 'village_cadre')),
    place_id INTEGER NOT NULL REFERENCES places(id),
    ledgers TEXT NOT NULL DEFAULT '[]',
    must_change_password INTEGER NOT NULL DEFAULT 1,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    password_changed_at TEXT,
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    locked_until TEXT,
    last_sign_in_at TEXT,
    last_sign_in_from TEXT NOT NULL DEFAULT '',
    previous_sign_in_at TEXT,
    previous_sign_in_from TEXT NOT NULL DEFAULT '',
    failures_before_sign_in INTEGER NOT NULL DEFAULT 0
);
INSERT INTO users_new (id, username, display_name, password_hash, role, place_id, ledgers, must_change_password, disabled, created_at, password_changed_at)
SELECT id, username, display_name, password_hash, role, place_id, ledgers, must_change_password, disabled, created_at,
       strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
FROM users;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;

-- The hashes a user's password had before, newest last (the policy's history).
CREATE TABLE password_history (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    password_hash TEXT NOT NULL,
    replaced_at TEXT NOT NULL
);
CREATE INDEX password_history_user ON password_history(user_id, id);
