// Schema migrations: migration N (1-based) turns a version N-1 database into
// version N. Steps are only ever appended; a released step never changes.
#include "store/schema.h"

#include "base/sha256.h"
#include "store/log_json.h"
#include "store/registry.h"

#include <SQLiteCpp/SQLiteCpp.h>

#include <algorithm>
#include <ctime>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace sopir::schema {

namespace {

// Version 1: the whole first schema. Times are INTEGER seconds since
// 1970-01-01T00:00:00Z (UTC); the *_view views show them as ISO-8601 text.
constexpr const char* kVersion1 = R"sql(
CREATE TABLE procedures (
  id            INTEGER PRIMARY KEY,
  sop_id        TEXT    NOT NULL,
  version       INTEGER NOT NULL CHECK (version >= 1),
  sha256        TEXT    NOT NULL UNIQUE,
  source        TEXT    NOT NULL,
  file          TEXT    NOT NULL,
  published_at  INTEGER NOT NULL,
  published_by  TEXT    NOT NULL,
  current       INTEGER NOT NULL DEFAULT 0 CHECK (current IN (0, 1)),
  UNIQUE (sop_id, version)
);
CREATE UNIQUE INDEX procedures_one_current ON procedures (sop_id) WHERE current = 1;

CREATE TABLE staff (
  id      TEXT    PRIMARY KEY,
  name    TEXT    NOT NULL,
  roles   TEXT    NOT NULL DEFAULT '[]',   -- JSON array of role ids
  active  INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1))
);

-- Text of personal (pii) values, keyed by their salted digest. The log and
-- the case rows hold only salt and digest of such values; erasing a value
-- sets its text here to NULL and leaves the hash chain intact.
CREATE TABLE personal_text (
  digest  TEXT PRIMARY KEY,
  text    TEXT
);

CREATE TABLE cases (
  id              TEXT    PRIMARY KEY,
  sop_id          TEXT    NOT NULL,
  sha256          TEXT    NOT NULL REFERENCES procedures (sha256),
  state           TEXT    NOT NULL,
  status          TEXT    NOT NULL CHECK (status IN ('active', 'on_hold', 'closed')),
  data            TEXT    NOT NULL DEFAULT '[]',  -- JSON array of stored values
  version         INTEGER NOT NULL,
  last_seq        INTEGER NOT NULL,
  opened_at       INTEGER NOT NULL,
  due_at          INTEGER,
  hold_started    INTEGER,
  closure_reason  TEXT    NOT NULL DEFAULT '',
  parent_case     TEXT    REFERENCES cases (id)
);
CREATE INDEX cases_by_sop_state ON cases (sop_id, state);
CREATE INDEX cases_by_state ON cases (state);
CREATE INDEX cases_by_status ON cases (status);
CREATE INDEX cases_by_due ON cases (due_at) WHERE due_at IS NOT NULL;
CREATE INDEX cases_by_sha256 ON cases (sha256);
CREATE INDEX cases_by_parent ON cases (parent_case) WHERE parent_case IS NOT NULL;

-- The transition log. Each row's content is one JSON object, `record`,
-- written once; every other column is generated from it by SQLite, so the
-- columns can never disagree with the bytes the hash chain covers:
-- hash = hex(SHA-256(prev_hash || record)) (docs/SCHEMA.md).
CREATE TABLE transitions (
  seq          INTEGER PRIMARY KEY,
  record       TEXT    NOT NULL CHECK (json_valid(record)),
  prev_hash    TEXT    NOT NULL,
  hash         TEXT    NOT NULL,
  case_id      TEXT    NOT NULL REFERENCES cases (id)
               GENERATED ALWAYS AS (json_extract(record, '$.case_id')) VIRTUAL,
  case_seq     INTEGER NOT NULL CHECK (case_seq >= 1)
               GENERATED ALWAYS AS (json_extract(record, '$.case_seq')) VIRTUAL,
  sha256       TEXT    NOT NULL REFERENCES procedures (sha256)
               GENERATED ALWAYS AS (json_extract(record, '$.sha256')) VIRTUAL,
  kind         TEXT    NOT NULL
               CHECK (kind IN ('open', 'procedure', 'override', 'lifecycle', 'timer'))
               GENERATED ALWAYS AS (json_extract(record, '$.kind')) VIRTUAL,
  event        TEXT    NOT NULL GENERATED ALWAYS AS (json_extract(record, '$.event')) VIRTUAL,
  from_state   TEXT    NOT NULL GENERATED ALWAYS AS (json_extract(record, '$.from_state')) VIRTUAL,
  to_state     TEXT    NOT NULL GENERATED ALWAYS AS (json_extract(record, '$.to_state')) VIRTUAL,
  from_status  TEXT    NOT NULL GENERATED ALWAYS AS (json_extract(record, '$.from_status')) VIRTUAL,
  to_status    TEXT    NOT NULL GENERATED ALWAYS AS (json_extract(record, '$.to_status')) VIRTUAL,
  actor        TEXT    NOT NULL GENERATED ALWAYS AS (json_extract(record, '$.actor')) VIRTUAL,
  role         TEXT    NOT NULL GENERATED ALWAYS AS (json_extract(record, '$.role')) VIRTUAL,
  occurred_at  INTEGER NOT NULL GENERATED ALWAYS AS (json_extract(record, '$.occurred_at')) VIRTUAL,
  recorded_at  INTEGER NOT NULL GENERATED ALWAYS AS (json_extract(record, '$.recorded_at')) VIRTUAL,
  note         TEXT    NOT NULL GENERATED ALWAYS AS (json_extract(record, '$.note')) VIRTUAL,
  reason       TEXT    NOT NULL GENERATED ALWAYS AS (json_extract(record, '$.reason')) VIRTUAL,
  -- JSON array of [name, text] pairs, as given
  inputs       TEXT    NOT NULL GENERATED ALWAYS AS (json_extract(record, '$.inputs')) VIRTUAL,
  -- JSON array of {"before": value, "after": value}
  changes      TEXT    NOT NULL GENERATED ALWAYS AS (json_extract(record, '$.changes')) VIRTUAL,
  due_at       INTEGER GENERATED ALWAYS AS (json_extract(record, '$.due_at')) VIRTUAL,
  -- case opened by this step / whose step opened this case
  linked_case  TEXT    NOT NULL GENERATED ALWAYS AS (json_extract(record, '$.linked_case')) VIRTUAL,
  UNIQUE (case_id, case_seq)
);
CREATE INDEX transitions_by_occurred ON transitions (occurred_at);
CREATE INDEX transitions_by_actor ON transitions (actor);

CREATE TRIGGER transitions_no_update BEFORE UPDATE ON transitions
BEGIN
  SELECT RAISE(ABORT, 'the transition log is append-only');
END;
CREATE TRIGGER transitions_no_delete BEFORE DELETE ON transitions
BEGIN
  SELECT RAISE(ABORT, 'the transition log is append-only');
END;

CREATE TABLE access_log (
  id       INTEGER PRIMARY KEY,
  actor    TEXT    NOT NULL,
  case_id  TEXT    NOT NULL,
  what     TEXT    NOT NULL,
  at       INTEGER NOT NULL
);
CREATE INDEX access_log_by_case ON access_log (case_id);

-- Read-only views for auditors: times as ISO-8601 UTC text, the procedure
-- version beside its hash.
CREATE VIEW log_view AS
SELECT t.seq, t.case_id, t.case_seq,
       p.sop_id, p.version AS procedure_version,
       t.kind, t.event, t.from_state, t.to_state, t.from_status, t.to_status,
       t.actor, t.role,
       strftime('%Y-%m-%dT%H:%M:%SZ', t.occurred_at, 'unixepoch') AS occurred_at,
       strftime('%Y-%m-%dT%H:%M:%SZ', t.recorded_at, 'unixepoch') AS recorded_at,
       strftime('%Y-%m-%dT%H:%M:%SZ', t.due_at, 'unixepoch') AS due_at,
       t.note, t.reason, t.linked_case, t.inputs, t.changes, t.sha256, t.prev_hash, t.hash
FROM transitions t LEFT JOIN procedures p ON p.sha256 = t.sha256;

CREATE VIEW cases_view AS
SELECT c.id, c.sop_id, p.version AS procedure_version, c.state, c.status,
       strftime('%Y-%m-%dT%H:%M:%SZ', c.opened_at, 'unixepoch') AS opened_at,
       strftime('%Y-%m-%dT%H:%M:%SZ', c.due_at, 'unixepoch') AS due_at,
       strftime('%Y-%m-%dT%H:%M:%SZ', c.hold_started, 'unixepoch') AS hold_started,
       c.closure_reason, c.parent_case, c.version, c.last_seq, c.data, c.sha256
FROM cases c LEFT JOIN procedures p ON p.sha256 = c.sha256;

CREATE VIEW procedures_view AS
SELECT p.sop_id, p.version, p.current, p.file, p.published_by,
       strftime('%Y-%m-%dT%H:%M:%SZ', p.published_at, 'unixepoch') AS published_at,
       (SELECT count(*) FROM cases c WHERE c.sha256 = p.sha256) AS cases, p.sha256
FROM procedures p;

CREATE VIEW access_view AS
SELECT a.id, a.actor, a.case_id, a.what,
       strftime('%Y-%m-%dT%H:%M:%SZ', a.at, 'unixepoch') AS at
FROM access_log a;
)sql";

// Version 2: each published version's compiled form beside its source, so
// a process need not parse the YAML again (engine/src/lang/procedure_codec.h).
constexpr const char* kVersion2 = R"sql(
ALTER TABLE procedures ADD COLUMN compiled TEXT NOT NULL DEFAULT '';
)sql";

// Version 3: the log as many hash chains (docs/SCHEMA.md "The hash chains"):
// one per case and the registry chain (case_id '') for rows that change no
// case, such as checkpoints. Each case row holds its chain's head, so a step
// reads nothing but the case. Rows written before this migration stay
// chained in seq order; chain_rule.per_chain_from is the first seq chained
// per case. Registry rows have case_id NULL in the column. The log keeps only the index a documented query needs
// (a case's history, which also keeps each chain's numbers unique); its
// generated columns carry no constraints, so an insert computes only
// case_id and case_seq from the record. The cases table loses the indexes
// no documented query needs (docs/SCHEMA.md "Indexes").
constexpr const char* kVersion3 = R"sql(
CREATE TABLE chain_rule (
  id              INTEGER PRIMARY KEY CHECK (id = 1),
  per_chain_from  INTEGER NOT NULL
);
INSERT INTO chain_rule (id, per_chain_from) SELECT 1, coalesce(max(seq), 0) + 1 FROM transitions;

DROP VIEW log_view;
ALTER TABLE transitions RENAME TO transitions_v2;
CREATE TABLE transitions (
  seq          INTEGER PRIMARY KEY,
  record       TEXT    NOT NULL,
  prev_hash    TEXT    NOT NULL,
  hash         TEXT    NOT NULL,
  -- NULL on registry rows (their record's case_id is ""), so the foreign
  -- key holds only for case rows
  case_id      TEXT    REFERENCES cases (id)
               GENERATED ALWAYS AS (nullif(json_extract(record, '$.case_id'), '')) VIRTUAL,
  case_seq     INTEGER GENERATED ALWAYS AS (json_extract(record, '$.case_seq')) VIRTUAL,
  sha256       TEXT    GENERATED ALWAYS AS (json_extract(record, '$.sha256')) VIRTUAL,
  kind         TEXT    GENERATED ALWAYS AS (json_extract(record, '$.kind')) VIRTUAL,
  event        TEXT    GENERATED ALWAYS AS (json_extract(record, '$.event')) VIRTUAL,
  from_state   TEXT    GENERATED ALWAYS AS (json_extract(record, '$.from_state')) VIRTUAL,
  to_state     TEXT    GENERATED ALWAYS AS (json_extract(record, '$.to_state')) VIRTUAL,
  from_status  TEXT    GENERATED ALWAYS AS (json_extract(record, '$.from_status')) VIRTUAL,
  to_status    TEXT    GENERATED ALWAYS AS (json_extract(record, '$.to_status')) VIRTUAL,
  actor        TEXT    GENERATED ALWAYS AS (json_extract(record, '$.actor')) VIRTUAL,
  role         TEXT    GENERATED ALWAYS AS (json_extract(record, '$.role')) VIRTUAL,
  occurred_at  INTEGER GENERATED ALWAYS AS (json_extract(record, '$.occurred_at')) VIRTUAL,
  recorded_at  INTEGER GENERATED ALWAYS AS (json_extract(record, '$.recorded_at')) VIRTUAL,
  note         TEXT    GENERATED ALWAYS AS (json_extract(record, '$.note')) VIRTUAL,
  reason       TEXT    GENERATED ALWAYS AS (json_extract(record, '$.reason')) VIRTUAL,
  inputs       TEXT    GENERATED ALWAYS AS (json_extract(record, '$.inputs')) VIRTUAL,
  changes      TEXT    GENERATED ALWAYS AS (json_extract(record, '$.changes')) VIRTUAL,
  due_at       INTEGER GENERATED ALWAYS AS (json_extract(record, '$.due_at')) VIRTUAL,
  linked_case  TEXT    GENERATED ALWAYS AS (json_extract(record, '$.linked_case')) VIRTUAL,
  -- checkpoint rows only: {"upto_seq":N,"chains":N,"root":HEX}
  checkpoint   TEXT    GENERATED ALWAYS AS (json_extract(record, '$.checkpoint')) VIRTUAL,
  UNIQUE (case_id, case_seq)
);
INSERT INTO transitions (seq, record, prev_hash, hash)
  SELECT seq, record, prev_hash, hash FROM transitions_v2 ORDER BY seq;
DROP TABLE transitions_v2;

CREATE TRIGGER transitions_no_update BEFORE UPDATE ON transitions
BEGIN
  SELECT RAISE(ABORT, 'the transition log is append-only');
END;
CREATE TRIGGER transitions_no_delete BEFORE DELETE ON transitions
BEGIN
  SELECT RAISE(ABORT, 'the transition log is append-only');
END;

ALTER TABLE cases ADD COLUMN head_hash TEXT NOT NULL DEFAULT '';
UPDATE cases SET head_hash = coalesce(
  (SELECT t.hash FROM transitions t WHERE t.case_id = cases.id AND t.case_seq = cases.last_seq), '');
DROP INDEX cases_by_sop_state;
DROP INDEX cases_by_state;
DROP INDEX cases_by_status;
DROP INDEX cases_by_due;

CREATE VIEW log_view AS
SELECT t.seq, t.case_id, t.case_seq,
       p.sop_id, p.version AS procedure_version,
       t.kind, t.event, t.from_state, t.to_state, t.from_status, t.to_status,
       t.actor, t.role,
       strftime('%Y-%m-%dT%H:%M:%SZ', t.occurred_at, 'unixepoch') AS occurred_at,
       strftime('%Y-%m-%dT%H:%M:%SZ', t.recorded_at, 'unixepoch') AS recorded_at,
       strftime('%Y-%m-%dT%H:%M:%SZ', t.due_at, 'unixepoch') AS due_at,
       t.note, t.reason, t.linked_case, t.inputs, t.changes, t.checkpoint, t.sha256, t.prev_hash, t.hash
FROM transitions t LEFT JOIN procedures p ON p.sha256 = t.sha256;
)sql";

// Version 4: publishing and staff changes are registry rows (kinds publish
// and staff, registry chain; store.h). Version 3's log table already takes
// them, so no definition changes: backfill_registry() writes one row per
// procedure version and staff member already in the database.
constexpr const char* kVersion4 = "";

// Version 5: holiday calendars pinned with the procedure versions that
// count working days (sopir/calendar.h), their bytes kept once by SHA-256.
constexpr const char* kVersion5 = R"sql(
CREATE TABLE calendars (
  sha256  TEXT PRIMARY KEY,
  source  TEXT NOT NULL
);
CREATE TABLE procedure_calendars (
  procedure_sha256  TEXT    NOT NULL REFERENCES procedures (sha256),
  position          INTEGER NOT NULL,
  name              TEXT    NOT NULL,
  file              TEXT    NOT NULL,
  calendar_sha256   TEXT    NOT NULL REFERENCES calendars (sha256),
  PRIMARY KEY (procedure_sha256, position)
);
)sql";

// Version 6: staff log-in (sopir/login.h). Each staff member's passphrase
// as an Argon2id hash string (crypto_pwhash_str: the algorithm, its cost
// and the salt are inside it), and failed log-ins, which slow the next
// attempts down. Neither is part of the log: setting a passphrase writes a
// registry row (staff "passphrase-set") naming whose, never the hash.
constexpr const char* kVersion6 = R"sql(
CREATE TABLE staff_passphrases (
  staff_id  TEXT    PRIMARY KEY REFERENCES staff (id),
  hash      TEXT    NOT NULL,
  set_at    INTEGER NOT NULL
);
CREATE TABLE login_failures (
  staff_id  TEXT    NOT NULL,
  at        INTEGER NOT NULL
);
CREATE INDEX login_failures_by_staff ON login_failures (staff_id, at);
)sql";

// Version 7: personal text encrypted at rest (docs/PRIVACY.md,
// store/sealing.h). The database key, its id and one wrapping of it per
// staff member who may unlock it (sealed by a key derived from their
// passphrase: Argon2id with its own salt, at the cost `ops`, `mem`); each
// case's key sealed by the database key; and, in personal_text, the case
// whose key seals a text (`sealed`: nonce, ciphertext and tag) in place of
// `text`. Until a database key exists (the first log-in or passphrase of an
// administrator makes it) text stays as it was; then it is encrypted once.
// Erasing a case's personal data deletes its key and sets text and sealed
// to NULL. None of these tables is part of the log.
constexpr const char* kVersion7 = R"sql(
CREATE TABLE database_key (
  id          INTEGER PRIMARY KEY CHECK (id = 1),
  key_id      TEXT    NOT NULL,
  created_at  INTEGER NOT NULL
);
CREATE TABLE key_wraps (
  staff_id  TEXT    PRIMARY KEY REFERENCES staff (id),
  salt      BLOB    NOT NULL,
  ops       INTEGER NOT NULL,
  mem       INTEGER NOT NULL,
  sealed    BLOB    NOT NULL
);
CREATE TABLE case_keys (
  case_id  TEXT PRIMARY KEY,
  sealed   BLOB NOT NULL
);
ALTER TABLE personal_text ADD COLUMN case_id TEXT;
ALTER TABLE personal_text ADD COLUMN sealed BLOB;
CREATE INDEX personal_text_by_case ON personal_text (case_id) WHERE case_id IS NOT NULL;
)sql";

// Version 8: every view of personal data carries a reason (issue #16 item
// 6): access_log.reason, shown by access_view; access rows can no longer
// be changed or deleted through SQL (the log's protections, and
// Store::schema_changes() reports a removed trigger). Rows from before
// version 8 have the reason ''.
constexpr const char* kVersion8 = R"sql(
ALTER TABLE access_log ADD COLUMN reason TEXT NOT NULL DEFAULT '';
CREATE INDEX access_log_by_at ON access_log (at);
CREATE TRIGGER access_log_no_update BEFORE UPDATE ON access_log
BEGIN
  SELECT RAISE(ABORT, 'the access log is append-only');
END;
CREATE TRIGGER access_log_no_delete BEFORE DELETE ON access_log
BEGIN
  SELECT RAISE(ABORT, 'the access log is append-only');
END;
DROP VIEW access_view;
CREATE VIEW access_view AS
SELECT a.id, a.actor, a.case_id, a.what, a.reason,
       strftime('%Y-%m-%dT%H:%M:%SZ', a.at, 'unixepoch') AS at
FROM access_log a;
)sql";

// Version 9: reserved for a step made on another branch in parallel (the
// merge puts it here).
constexpr const char* kVersion9 = "";

// Version 10: sites (docs/DEPLOY.md "Sites"). The default site `main`
// exists in every database; staff.sites is the JSON array of a member's
// sites (like roles); every case belongs to one site. Everything a
// database held before belongs to `main`; sites_backfill() logs that.
constexpr const char* kVersion10 = R"sql(
CREATE TABLE sites (
  id    TEXT PRIMARY KEY,
  name  TEXT NOT NULL
);
INSERT INTO sites (id, name) VALUES ('main', 'Main office');
ALTER TABLE staff ADD COLUMN sites TEXT NOT NULL DEFAULT '[]';
UPDATE staff SET sites = '["main"]';
ALTER TABLE cases ADD COLUMN site TEXT NOT NULL DEFAULT 'main';
CREATE INDEX cases_by_site ON cases (site, opened_at);
)sql";

// Version 11: a copy of a server's log (`sopir db copy`, sopir/copy.h)
// keeps the server's seq numbers, which may skip (a rolled-back server
// transaction uses its number up): chain_rule.seq_gaps is then 1 and
// verify reports no gaps (removed rows still show in their chain).
constexpr const char* kVersion11 = R"sql(
ALTER TABLE chain_rule ADD COLUMN seq_gaps INTEGER NOT NULL DEFAULT 0 CHECK (seq_gaps IN (0, 1));
)sql";

// Version 12: a copy of one site's cases (`sopir db copy --site`,
// sopir/copy.h) keeps the proof that its chains are among those of the
// source's newest checkpoint, whose root covers every site's chains:
// site_copy names the site, that checkpoint row and the newest row copied
// (the copy's own rows follow it), site_copy_chains the
// position of each chain kept among the root's leaves, site_copy_nodes the
// subtrees without them (store/merkle.h). Empty in a whole database.
constexpr const char* kVersion12 = R"sql(
CREATE TABLE site_copy (
  id              INTEGER PRIMARY KEY CHECK (id = 1),
  site            TEXT NOT NULL,
  checkpoint_seq  INTEGER NOT NULL,
  copied_upto     INTEGER NOT NULL,
  leaves          INTEGER NOT NULL
);
CREATE TABLE site_copy_chains (
  chain     TEXT PRIMARY KEY,
  position  INTEGER NOT NULL
);
CREATE TABLE site_copy_nodes (
  level  INTEGER NOT NULL,
  idx    INTEGER NOT NULL,
  hash   TEXT NOT NULL,
  PRIMARY KEY (level, idx)
);
)sql";

// Version 13: the log table keeps only the generated columns its unique
// index needs (case_id, case_seq). SQLite computes every generated column
// of a row it inserts, so version 3's twenty others, which no constraint
// used, cost each step twenty json_extract calls (EXPLAIN INSERT: 21
// functions against 2; a batch of 1,000 cases' steps on this schema ran at
// 74,000 steps/s against 103,000 without them). log_view computes them from
// the record instead, as they always were, and keeps its columns.
constexpr const char* kVersion13 = R"sql(
DROP VIEW log_view;
ALTER TABLE transitions RENAME TO transitions_v12;
CREATE TABLE transitions (
  seq          INTEGER PRIMARY KEY,
  record       TEXT    NOT NULL,
  prev_hash    TEXT    NOT NULL,
  hash         TEXT    NOT NULL,
  -- NULL on registry rows (their record's case_id is ""), so the foreign
  -- key holds only for case rows
  case_id      TEXT    REFERENCES cases (id)
               GENERATED ALWAYS AS (nullif(json_extract(record, '$.case_id'), '')) VIRTUAL,
  case_seq     INTEGER GENERATED ALWAYS AS (json_extract(record, '$.case_seq')) VIRTUAL,
  UNIQUE (case_id, case_seq)
);
INSERT INTO transitions (seq, record, prev_hash, hash)
  SELECT seq, record, prev_hash, hash FROM transitions_v12 ORDER BY seq;
DROP TABLE transitions_v12;

CREATE TRIGGER transitions_no_update BEFORE UPDATE ON transitions
BEGIN
  SELECT RAISE(ABORT, 'the transition log is append-only');
END;
CREATE TRIGGER transitions_no_delete BEFORE DELETE ON transitions
BEGIN
  SELECT RAISE(ABORT, 'the transition log is append-only');
END;

CREATE VIEW log_view AS
SELECT t.seq, t.case_id, t.case_seq,
       p.sop_id, p.version AS procedure_version,
       json_extract(t.record, '$.kind') AS kind, json_extract(t.record, '$.event') AS event,
       json_extract(t.record, '$.from_state') AS from_state, json_extract(t.record, '$.to_state') AS to_state,
       json_extract(t.record, '$.from_status') AS from_status, json_extract(t.record, '$.to_status') AS to_status,
       json_extract(t.record, '$.actor') AS actor, json_extract(t.record, '$.role') AS role,
       strftime('%Y-%m-%dT%H:%M:%SZ', json_extract(t.record, '$.occurred_at'), 'unixepoch') AS occurred_at,
       strftime('%Y-%m-%dT%H:%M:%SZ', json_extract(t.record, '$.recorded_at'), 'unixepoch') AS recorded_at,
       strftime('%Y-%m-%dT%H:%M:%SZ', json_extract(t.record, '$.due_at'), 'unixepoch') AS due_at,
       json_extract(t.record, '$.note') AS note, json_extract(t.record, '$.reason') AS reason,
       json_extract(t.record, '$.linked_case') AS linked_case, json_extract(t.record, '$.inputs') AS inputs,
       json_extract(t.record, '$.changes') AS changes, json_extract(t.record, '$.checkpoint') AS checkpoint,
       json_extract(t.record, '$.sha256') AS sha256, t.prev_hash, t.hash
FROM transitions t LEFT JOIN procedures p ON p.sha256 = json_extract(t.record, '$.sha256');
)sql";

// Version 14: another office's database moved into this one (sopir/copy.h
// move_in): its registry rows as they were there, each issued again on
// this registry chain, kept append-only and numbered as its rows are here
// (docs/SCHEMA.md "Moving an office in").
constexpr const char* kVersion14 = R"sql(
CREATE TABLE moved_registry (
  seq        INTEGER PRIMARY KEY,
  record     TEXT NOT NULL,
  prev_hash  TEXT NOT NULL,
  hash       TEXT NOT NULL
);
CREATE TRIGGER moved_registry_no_update BEFORE UPDATE ON moved_registry
BEGIN
  SELECT RAISE(ABORT, 'the moved registry is append-only');
END;
CREATE TRIGGER moved_registry_no_delete BEFORE DELETE ON moved_registry
BEGIN
  SELECT RAISE(ABORT, 'the moved registry is append-only');
END;
)sql";

// Version 15: a case's history is found by links, not by an index. Each
// case row of the log names the seq of its case's previous row (prev_row;
// NULL on a case's first row and on registry rows) and each case row names
// its newest (cases.head_row), so a history is read by primary-key lookups
// from the head back. Version 13's unique (case_id, case_seq) index cost
// every step a page write at a place the step chooses (the case's entry)
// on top of the log's append and the case row's update: about 4.1 WAL
// frames a step against 2.6 without it (tests/bench/store_bench.cc). The
// registry chain, which no case row heads, keeps a small partial index of
// its own, unique per number as before. A reader checks that the links lead
// through the case's rows last_seq down to 1 and reads the rows by case_id
// when they do not (rows written by something other than sopir), so a
// wrong link can slow a read but never change what it returns.
constexpr const char* kVersion15 = R"sql(
DROP VIEW log_view;
ALTER TABLE transitions RENAME TO transitions_v14;
CREATE TABLE transitions (
  seq          INTEGER PRIMARY KEY,
  record       TEXT    NOT NULL,
  prev_hash    TEXT    NOT NULL,
  hash         TEXT    NOT NULL,
  -- the seq of the case's previous row: NULL on its first and on registry rows
  prev_row     INTEGER,
  -- NULL on registry rows (their record's case_id is ""), so the foreign
  -- key holds only for case rows
  case_id      TEXT    REFERENCES cases (id)
               GENERATED ALWAYS AS (nullif(json_extract(record, '$.case_id'), '')) VIRTUAL,
  case_seq     INTEGER GENERATED ALWAYS AS (json_extract(record, '$.case_seq')) VIRTUAL
);
CREATE UNIQUE INDEX transitions_registry ON transitions (case_seq) WHERE case_id IS NULL;
INSERT INTO transitions (seq, record, prev_hash, hash, prev_row)
  SELECT t.seq, t.record, t.prev_hash, t.hash,
         (SELECT p.seq FROM transitions_v14 p WHERE p.case_id = t.case_id AND p.case_seq = t.case_seq - 1)
  FROM transitions_v14 t ORDER BY t.seq;
ALTER TABLE cases ADD COLUMN head_row INTEGER;
UPDATE cases SET head_row =
  (SELECT t.seq FROM transitions_v14 t WHERE t.case_id = cases.id AND t.case_seq = cases.last_seq);
DROP TABLE transitions_v14;

CREATE TRIGGER transitions_no_update BEFORE UPDATE ON transitions
BEGIN
  SELECT RAISE(ABORT, 'the transition log is append-only');
END;
CREATE TRIGGER transitions_no_delete BEFORE DELETE ON transitions
BEGIN
  SELECT RAISE(ABORT, 'the transition log is append-only');
END;

CREATE VIEW log_view AS
SELECT t.seq, t.case_id, t.case_seq,
       p.sop_id, p.version AS procedure_version,
       json_extract(t.record, '$.kind') AS kind, json_extract(t.record, '$.event') AS event,
       json_extract(t.record, '$.from_state') AS from_state, json_extract(t.record, '$.to_state') AS to_state,
       json_extract(t.record, '$.from_status') AS from_status, json_extract(t.record, '$.to_status') AS to_status,
       json_extract(t.record, '$.actor') AS actor, json_extract(t.record, '$.role') AS role,
       strftime('%Y-%m-%dT%H:%M:%SZ', json_extract(t.record, '$.occurred_at'), 'unixepoch') AS occurred_at,
       strftime('%Y-%m-%dT%H:%M:%SZ', json_extract(t.record, '$.recorded_at'), 'unixepoch') AS recorded_at,
       strftime('%Y-%m-%dT%H:%M:%SZ', json_extract(t.record, '$.due_at'), 'unixepoch') AS due_at,
       json_extract(t.record, '$.note') AS note, json_extract(t.record, '$.reason') AS reason,
       json_extract(t.record, '$.linked_case') AS linked_case, json_extract(t.record, '$.inputs') AS inputs,
       json_extract(t.record, '$.changes') AS changes, json_extract(t.record, '$.checkpoint') AS checkpoint,
       json_extract(t.record, '$.sha256') AS sha256, t.prev_hash, t.hash
FROM transitions t LEFT JOIN procedures p ON p.sha256 = json_extract(t.record, '$.sha256');
)sql";

// The version the sites step makes (one place to renumber).
constexpr int kSitesVersion = 10;

// Index i holds the step to version i + 1.
constexpr const char* kMigrations[] = {kVersion1, kVersion2, kVersion3, kVersion4, kVersion5,
                                       kVersion6, kVersion7, kVersion8, kVersion9, kVersion10,
                                       kVersion11, kVersion12, kVersion13, kVersion14, kVersion15};

int user_version(SQLite::Database& db) {
  return db.execAndGet("PRAGMA user_version").getInt();
}

// Appends `rows` to the registry chain (after its newest row; rows from
// chain_rule.per_chain_from on are chained per chain, registry rows have
// case_id NULL in the column), hashed as
// the stores hash them.
void append_registry_rows(SQLite::Database& db, std::vector<LogEntry>& rows) {
  std::string head;
  int64_t case_seq = 0;
  {
    SQLite::Statement q(db, "SELECT hash, case_seq FROM transitions WHERE case_id IS NULL AND seq >= "
                            "(SELECT per_chain_from FROM chain_rule) ORDER BY seq DESC LIMIT 1");
    if (q.executeStep()) {
      head = q.getColumn(0).getString();
      case_seq = q.getColumn(1).getInt64();
    }
  }
  SQLite::Statement insert(db, "INSERT INTO transitions (record, prev_hash, hash) VALUES (?, ?, ?)");
  for (LogEntry& e : rows) {
    e.case_seq = ++case_seq;
    const std::string record = log_json::record(e);
    Sha256 hash;
    hash.update(head);
    hash.update(record);
    const std::string digest = hash.hex_digest();
    insert.reset();
    insert.bind(1, record);
    insert.bind(2, head);
    insert.bind(3, digest);
    insert.exec();
    head = digest;
  }
}

// Part of the sites step: a database that already has a log gets the rows
// that say where what it held went: the default site ("existing") and each
// staff member joining it (registry.h, dated at the upgrade, actor "").
// A new database (empty log) needs none: its first administrator joins the
// default site in their "added" row.
void sites_backfill(SQLite::Database& db) {
  if (db.execAndGet("SELECT count(*) FROM transitions").getInt64() == 0) return;
  const DateTime now{static_cast<int64_t>(std::time(nullptr))};
  std::vector<LogEntry> rows;
  rows.push_back(registry::existing_site(Site{kDefaultSite, kDefaultSiteName}, now));
  SQLite::Statement q(db, "SELECT id FROM staff ORDER BY id");
  while (q.executeStep()) rows.push_back(registry::existing_staff_site(q.getColumn(0).getString(), kDefaultSite, now));
  append_registry_rows(db, rows);
}

// Part of migration 4: one registry row per published version and per
// staff member already in the database, chained after the newest row, so
// that replay knows them (registry.h: "existing" rows, dated now).
void backfill_registry(SQLite::Database& db) {
  const DateTime now{static_cast<int64_t>(std::time(nullptr))};
  std::vector<LogEntry> rows;
  {
    SQLite::Statement q(db, "SELECT sop_id, version, sha256, file, published_at, published_by FROM procedures "
                            "ORDER BY published_at, sop_id, version");
    while (q.executeStep()) {
      PublishedProcedure p;
      p.sop_id = q.getColumn(0).getString();
      p.version = q.getColumn(1).getInt();
      p.sha256 = q.getColumn(2).getString();
      p.file = q.getColumn(3).getString();
      p.published_at = DateTime{q.getColumn(4).getInt64()};
      p.published_by = q.getColumn(5).getString();
      rows.push_back(registry::existing_procedure(p, now));
    }
  }
  {
    SQLite::Statement q(db, "SELECT id, name, roles, active FROM staff ORDER BY id");
    while (q.executeStep()) {
      StaffMember m;
      m.id = q.getColumn(0).getString();
      m.name = q.getColumn(1).getString();
      m.roles = nlohmann::json::parse(q.getColumn(2).getString()).get<std::vector<std::string>>();
      m.active = q.getColumn(3).getInt() != 0;
      rows.push_back(registry::existing_staff(m, now));
    }
  }
  append_registry_rows(db, rows);
}

}  // namespace

int latest_version() { return static_cast<int>(std::size(kMigrations)); }

void migrate(SQLite::Database& db, int up_to) {
  up_to = std::min(up_to, latest_version());
  if (user_version(db) >= up_to) return;
  // The steps that rebuild the log (3, 13, 15) drop its old table. With
  // secure_delete (on in Debian's SQLite) every freed page would be zeroed
  // and its old content kept in memory until the statement ends: about the
  // log's size (147 MB for 100,000 rows, 7 MB without). The old table holds
  // only what the new one holds, so its pages are freed as they are and
  // the connection's setting is put back afterwards.
  const int secure_delete = db.execAndGet("PRAGMA secure_delete").getInt();
  db.exec("PRAGMA secure_delete = 0");
  struct Restore {
    SQLite::Database& db;
    int value;
    ~Restore() { db.tryExec("PRAGMA secure_delete = " + std::to_string(value)); }
  } restore{db, secure_delete};
  db.exec("BEGIN IMMEDIATE");
  try {
    // Another process may have migrated while we waited for the lock.
    int version = user_version(db);
    for (; version < up_to; ++version) {
      db.exec(kMigrations[version]);
      if (version + 1 == 4) backfill_registry(db);
      if (version + 1 == kSitesVersion) sites_backfill(db);
    }
    db.exec("PRAGMA application_id = " + std::to_string(kApplicationId));
    db.exec("PRAGMA user_version = " + std::to_string(version));
    db.exec("COMMIT");
  } catch (...) {
    db.tryExec("ROLLBACK");
    throw;
  }
}

namespace {

// (type, name) -> sql of every schema object sopir made (SQLite's own
// sqlite_* objects left out).
std::map<std::pair<std::string, std::string>, std::string> objects(SQLite::Database& db) {
  std::map<std::pair<std::string, std::string>, std::string> out;
  SQLite::Statement q(db, "SELECT type, name, coalesce(sql, '') FROM sqlite_master WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\'");
  while (q.executeStep()) out[{q.getColumn(0).getString(), q.getColumn(1).getString()}] = q.getColumn(2).getString();
  return out;
}

}  // namespace

std::vector<std::string> differences(SQLite::Database& db) {
  const int version = user_version(db);
  SQLite::Database expected_db(":memory:", SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
  for (int i = 0; i < version && i < latest_version(); ++i) expected_db.exec(kMigrations[i]);
  const auto expected = objects(expected_db);
  const auto actual = objects(db);
  std::vector<std::string> out;
  for (const auto& [key, sql] : expected) {
    const auto& [type, name] = key;
    const auto it = actual.find(key);
    if (it == actual.end()) {
      out.push_back("the " + type + " " + name + " is missing" +
                    (type == "trigger" ? ": a protection of the log was removed" : ""));
    } else if (it->second != sql) {
      out.push_back("the " + type + " " + name + " was redefined: it is not the one sopir creates "
                    "(compare `sqlite3 FILE \".schema " + name + "\"` with docs/SCHEMA.md)");
    }
  }
  // Anything added is reported: an added trigger can change what is
  // written, an added table or index can hold a shadow copy, an added view
  // can show something the chain does not cover. An auditor's own views
  // are accepted under the prefix kAuditorViewPrefix (docs/AUDIT.md).
  for (const auto& [key, sql] : actual) {
    const auto& [type, name] = key;
    if (expected.count(key)) continue;
    if (type == "view" && name.rfind(kAuditorViewPrefix, 0) == 0) continue;
    out.push_back("the " + type + " " + name + " was added: sopir does not create it" +
                  (type == "trigger" ? " and it can change what is written" : "") +
                  (type == "view" ? std::string(" (an auditor's own views must be named ") + kAuditorViewPrefix +
                                        "...)"
                                  : ""));
  }
  return out;
}

}  // namespace sopir::schema
