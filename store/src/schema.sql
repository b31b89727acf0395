-- Vigil's alert store, version 1. Times are UTC text, `YYYY-MM-DDTHH:MM:SS.sssZ`,
-- so that they sort and compare as text and match SQLite's strftime('%Y-%m-%dT%H:%M:%fZ').

CREATE TABLE alerts (
    id              TEXT PRIMARY KEY,           -- the alerter's deterministic alert id
    tenant          TEXT NOT NULL,
    audience        TEXT NOT NULL,              -- who the rule tells: dsl (safeguarding) or ict (cyber)
    category        TEXT NOT NULL,
    severity        TEXT NOT NULL,
    severity_rank   INTEGER NOT NULL,           -- low 0 … critical 3, for ordering and filtering
    rule            TEXT NOT NULL,
    user_name       TEXT,
    subject         TEXT,                       -- whom the alert is about: group, user or address
    time            TEXT NOT NULL,              -- when the matching event happened
    summary         TEXT NOT NULL,
    event_id        TEXT NOT NULL,
    context         TEXT NOT NULL,              -- the context block, JSON
    detail          TEXT NOT NULL,              -- the whole alert as the alerter published it, JSON
    raised_at       TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'acknowledged', 'closed')),
    assignee        TEXT,
    outcome         TEXT CHECK (outcome IN ('concern-logged', 'no-concern', 'false-positive', 'referred')),
    outcome_reason  TEXT,
    acknowledged_at TEXT,
    acknowledged_by TEXT,
    closed_at       TEXT,
    closed_by       TEXT,
    escalated_at    TEXT
);
CREATE INDEX alerts_by_tenant_time ON alerts (tenant, time DESC);
CREATE INDEX alerts_by_user ON alerts (tenant, user_name, time DESC);

CREATE TABLE notes (
    id       INTEGER PRIMARY KEY,
    alert_id TEXT NOT NULL REFERENCES alerts (id),
    author   TEXT NOT NULL,
    at       TEXT NOT NULL,
    text     TEXT NOT NULL
);
CREATE INDEX notes_by_alert ON notes (alert_id, id);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    roles         TEXT NOT NULL,                -- comma-separated: dsl, ict, governor, admin
    tenants       TEXT NOT NULL,                -- comma-separated tenants, or * for trust-wide
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,                -- SHA-256 of the cookie's token: a stolen file holds no live token
    user_id    INTEGER NOT NULL REFERENCES users (id),
    csrf       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);

CREATE TABLE audit (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      TEXT NOT NULL,
    actor   TEXT NOT NULL,
    address TEXT NOT NULL,
    action  TEXT NOT NULL,
    tenant  TEXT,
    target  TEXT,
    detail  TEXT NOT NULL
);
CREATE INDEX audit_by_time ON audit (at);

-- How long audit entries must be kept; entries younger than that cannot be deleted.
CREATE TABLE audit_policy (
    retention_days INTEGER NOT NULL CHECK (retention_days >= 1)
);
INSERT INTO audit_policy (retention_days) VALUES (2190);

CREATE TRIGGER audit_append_only BEFORE UPDATE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

CREATE TRIGGER audit_kept_for_retention BEFORE DELETE ON audit
WHEN OLD.at >= (SELECT strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-' || retention_days || ' days') FROM audit_policy)
BEGIN
    SELECT RAISE(ABORT, 'audit entries are kept for the retention period');
END;
