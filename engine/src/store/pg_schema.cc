// PostgreSQL schema migrations: migration N (1-based) turns a version N-1
// database into version N. Steps are only ever appended; a released step
// never changes. The shape follows the SQLite schema (store/schema.cc) and
// the shared log design: a hash chain per case (the case row holds its
// head) plus the registry chain (rows with an empty case_id, its head in
// registry_head); `seq` is a total order for readers, not hashed.
#include "store/pg_schema.h"

#include <algorithm>
#include <ctime>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "base/sha256.h"
#include "store/log_json.h"
#include "store/pg_connection.h"
#include "store/registry.h"

namespace sopir::pg {

namespace {

// Version 1. Ids sort bytewise (COLLATE "C"), as in SQLite, whatever the
// server's locale. Times are bigint seconds since 1970-01-01T00:00:00Z (UTC); the
// *_view views show them as ISO-8601 text.
constexpr const char* kVersion1 = R"sql(
CREATE TABLE sopir_schema (
  id           integer PRIMARY KEY CHECK (id = 1),
  application  text    NOT NULL,
  version      integer NOT NULL
);
INSERT INTO sopir_schema (id, application, version) VALUES (1, 'sopir', 0);

CREATE TABLE procedures (
  id            bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  sop_id        text    COLLATE "C" NOT NULL,
  version       integer NOT NULL CHECK (version >= 1),
  sha256        text    NOT NULL UNIQUE,
  source        text    NOT NULL,
  file          text    NOT NULL,
  published_at  bigint  NOT NULL,
  published_by  text    NOT NULL,
  current       boolean NOT NULL DEFAULT false,
  compiled      text    NOT NULL DEFAULT '',
  UNIQUE (sop_id, version)
);
CREATE UNIQUE INDEX procedures_one_current ON procedures (sop_id) WHERE current;

CREATE TABLE staff (
  id      text    COLLATE "C" PRIMARY KEY,
  name    text    NOT NULL,
  roles   text    NOT NULL DEFAULT '[]',
  active  boolean NOT NULL DEFAULT true
);

CREATE TABLE personal_text (
  digest  text PRIMARY KEY,
  text    text
);

CREATE TABLE cases (
  id              text    COLLATE "C" PRIMARY KEY,
  sop_id          text    COLLATE "C" NOT NULL,
  sha256          text    NOT NULL REFERENCES procedures (sha256),
  state           text    NOT NULL,
  status          text    NOT NULL CHECK (status IN ('active', 'on_hold', 'closed')),
  data            text    NOT NULL DEFAULT '[]',
  version         bigint  NOT NULL,
  last_seq        bigint  NOT NULL,
  head_hash       text    NOT NULL,
  opened_at       bigint  NOT NULL,
  due_at          bigint,
  hold_started    bigint,
  closure_reason  text    NOT NULL DEFAULT '',
  parent_case     text    COLLATE "C" REFERENCES cases (id)
);
CREATE INDEX cases_by_opened ON cases (opened_at, id);
CREATE INDEX cases_by_sop_state ON cases (sop_id, state);
CREATE INDEX cases_by_state ON cases (state);
CREATE INDEX cases_by_status ON cases (status);
CREATE INDEX cases_by_due ON cases (due_at) WHERE due_at IS NOT NULL;
CREATE INDEX cases_by_sha256 ON cases (sha256);
CREATE INDEX cases_by_parent ON cases (parent_case) WHERE parent_case IS NOT NULL;

CREATE TABLE registry_head (
  id         integer PRIMARY KEY CHECK (id = 1),
  last_seq   bigint  NOT NULL,
  head_hash  text    NOT NULL
);
INSERT INTO registry_head (id, last_seq, head_hash) VALUES (1, 0, '');

CREATE TABLE transitions (
  seq          bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  record       text    NOT NULL,
  prev_hash    text    NOT NULL,
  hash         text    NOT NULL,
  case_id      text    NOT NULL GENERATED ALWAYS AS (record::jsonb ->> 'case_id') STORED,
  case_seq     bigint  NOT NULL CHECK (case_seq >= 1)
               GENERATED ALWAYS AS ((record::jsonb ->> 'case_seq')::bigint) STORED,
  sha256       text    GENERATED ALWAYS AS (record::jsonb ->> 'sha256') STORED,
  kind         text    NOT NULL
               CHECK (kind IN ('open', 'procedure', 'override', 'lifecycle', 'timer',
                               'publish', 'staff', 'checkpoint'))
               GENERATED ALWAYS AS (record::jsonb ->> 'kind') STORED,
  event        text    NOT NULL GENERATED ALWAYS AS (record::jsonb ->> 'event') STORED,
  from_state   text    GENERATED ALWAYS AS (record::jsonb ->> 'from_state') STORED,
  to_state     text    GENERATED ALWAYS AS (record::jsonb ->> 'to_state') STORED,
  actor        text    NOT NULL GENERATED ALWAYS AS (record::jsonb ->> 'actor') STORED,
  occurred_at  bigint  NOT NULL GENERATED ALWAYS AS ((record::jsonb ->> 'occurred_at')::bigint) STORED,
  UNIQUE (case_id, case_seq)
);
CREATE INDEX transitions_by_occurred ON transitions (occurred_at);
CREATE INDEX transitions_by_actor ON transitions (actor);

CREATE FUNCTION sopir_append_only() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
  RAISE EXCEPTION 'the transition log is append-only';
END
$body$;
CREATE TRIGGER transitions_no_change BEFORE UPDATE OR DELETE ON transitions
  FOR EACH ROW EXECUTE FUNCTION sopir_append_only();
CREATE TRIGGER transitions_no_truncate BEFORE TRUNCATE ON transitions
  FOR EACH STATEMENT EXECUTE FUNCTION sopir_append_only();

CREATE TABLE access_log (
  id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  actor    text   NOT NULL,
  case_id  text   NOT NULL,
  what     text   NOT NULL,
  at       bigint NOT NULL
);
CREATE INDEX access_log_by_case ON access_log (case_id);

CREATE FUNCTION sopir_iso(seconds bigint) RETURNS text LANGUAGE sql IMMUTABLE AS $body$
  SELECT to_char(to_timestamp(seconds) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
$body$;

CREATE VIEW log_view AS
SELECT t.seq, t.case_id, t.case_seq, p.sop_id, p.version AS procedure_version,
       t.kind, t.event, t.from_state, t.to_state,
       r.doc ->> 'from_status' AS from_status, r.doc ->> 'to_status' AS to_status,
       t.actor, r.doc ->> 'role' AS role,
       sopir_iso(t.occurred_at) AS occurred_at,
       sopir_iso((r.doc ->> 'recorded_at')::bigint) AS recorded_at,
       sopir_iso((r.doc ->> 'due_at')::bigint) AS due_at,
       r.doc ->> 'note' AS note, r.doc ->> 'reason' AS reason,
       r.doc ->> 'linked_case' AS linked_case,
       r.doc -> 'inputs' AS inputs, r.doc -> 'changes' AS changes,
       t.sha256, t.prev_hash, t.hash
FROM transitions t
CROSS JOIN LATERAL (SELECT t.record::jsonb AS doc) r
LEFT JOIN procedures p ON p.sha256 = t.sha256;

CREATE VIEW cases_view AS
SELECT c.id, c.sop_id, p.version AS procedure_version, c.state, c.status,
       sopir_iso(c.opened_at) AS opened_at, sopir_iso(c.due_at) AS due_at,
       sopir_iso(c.hold_started) AS hold_started,
       c.closure_reason, c.parent_case, c.version, c.last_seq, c.head_hash, c.data, c.sha256
FROM cases c LEFT JOIN procedures p ON p.sha256 = c.sha256;

CREATE VIEW procedures_view AS
SELECT p.sop_id, p.version, p.current, p.file, p.published_by,
       sopir_iso(p.published_at) AS published_at,
       (SELECT count(*) FROM cases c WHERE c.sha256 = p.sha256) AS cases, p.sha256
FROM procedures p;

CREATE VIEW access_view AS
SELECT a.id, a.actor, a.case_id, a.what, sopir_iso(a.at) AS at FROM access_log a;
)sql";

// Version 2: holiday calendars pinned with the procedure versions that
// count working days (sopir/calendar.h), their bytes kept once by SHA-256.
constexpr const char* kVersion2 = R"sql(
CREATE TABLE calendars (
  sha256  text PRIMARY KEY,
  source  text NOT NULL
);
CREATE TABLE procedure_calendars (
  procedure_sha256  text    NOT NULL REFERENCES procedures (sha256),
  position          integer NOT NULL,
  name              text    NOT NULL,
  file              text    NOT NULL,
  calendar_sha256   text    NOT NULL REFERENCES calendars (sha256),
  PRIMARY KEY (procedure_sha256, position)
);
)sql";

// Version 3: staff logged in by the server (issue #13). A member's login is
// the server role that connects as them; once an active administrator has
// one, the server itself refuses a log row whose actor is not the member
// the session is logged in as (timers and checkpoints are the system's).
constexpr const char* kVersion3 = R"sql(
ALTER TABLE staff ADD COLUMN login text COLLATE "C" UNIQUE;

CREATE FUNCTION sopir_actor_is_session() RETURNS trigger LANGUAGE plpgsql AS $body$
DECLARE
  doc jsonb := NEW.record::jsonb;
BEGIN
  IF (doc ->> 'actor' = 'system' AND doc ->> 'kind' IN ('timer', 'checkpoint'))
     OR NOT EXISTS (SELECT 1 FROM public.staff
                    WHERE login IS NOT NULL AND active AND roles::jsonb ? 'admin') THEN
    RETURN NEW;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM public.staff
                 WHERE id = doc ->> 'actor' AND login = session_user AND active) THEN
    RAISE EXCEPTION 'the actor % is not the staff member the server logged this session (%) in as',
      doc ->> 'actor', session_user USING ERRCODE = '42501';
  END IF;
  RETURN NEW;
END
$body$;
CREATE TRIGGER transitions_actor_is_session BEFORE INSERT ON transitions
  FOR EACH ROW EXECUTE FUNCTION sopir_actor_is_session();
)sql";

// Version 4: every view of personal data carries a reason (issue #16 item
// 6), as SQLite's version 8: access_log.reason, shown by access_view; the
// access log is append-only (checked by schema_differences()). Rows from
// before have the reason ''.
constexpr const char* kVersion4 = R"sql(
ALTER TABLE access_log ADD COLUMN reason text NOT NULL DEFAULT '';
CREATE INDEX access_log_by_at ON access_log (at);
CREATE FUNCTION sopir_access_append_only() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
  RAISE EXCEPTION 'the access log is append-only';
END
$body$;
CREATE TRIGGER access_log_no_change BEFORE UPDATE OR DELETE ON access_log
  FOR EACH ROW EXECUTE FUNCTION sopir_access_append_only();
CREATE TRIGGER access_log_no_truncate BEFORE TRUNCATE ON access_log
  FOR EACH STATEMENT EXECUTE FUNCTION sopir_access_append_only();
DROP VIEW access_view;
CREATE VIEW access_view AS
SELECT a.id, a.actor, a.case_id, a.what, a.reason, sopir_iso(a.at) AS at FROM access_log a;
)sql";

// Version 5: moving cases to a newer version of their procedure
// (sopir/migration_apply.h): the log takes the kinds migration (a case
// moved by an approved plan) and migration-plan (registry rows: a plan
// proposed, approved). The constraint is the one version 1's CHECK on kind
// made, under PostgreSQL's default name.
constexpr const char* kVersion5 = R"sql(
ALTER TABLE transitions DROP CONSTRAINT transitions_kind_check;
ALTER TABLE transitions ADD CONSTRAINT transitions_kind_check
  CHECK (kind IN ('open', 'procedure', 'override', 'lifecycle', 'timer',
                  'publish', 'staff', 'checkpoint', 'migration', 'migration-plan'));
)sql";

// Version 6: personal text encrypted at rest and erasure (issue #16 items
// 2-3; docs/PRIVACY.md), as SQLite's version 7 but with the database key
// sealed by a key file's key held outside the server (database_key.sealed,
// key_file_id naming that key file) instead of staff passphrases. Each
// personal text names its case, filled here from the log rows that wrote
// it (a text no row names keeps NULL). Once a database key exists the
// server refuses personal text in clear (sopir_personal_sealed), so a
// process that started before the key was set cannot write clear text
// after. The log takes the kind erasure. Members' logins get the new
// tables as set_staff_login gave them the others.
constexpr const char* kVersion6 = R"sql(
CREATE TABLE database_key (
  id           integer PRIMARY KEY CHECK (id = 1),
  key_id       text    NOT NULL,
  key_file_id  text    NOT NULL,
  sealed       bytea   NOT NULL,
  created_at   bigint  NOT NULL,
  sealed_at    bigint  NOT NULL
);
CREATE TABLE case_keys (
  case_id  text  COLLATE "C" PRIMARY KEY,
  sealed   bytea NOT NULL
);
ALTER TABLE personal_text ADD COLUMN case_id text COLLATE "C";
ALTER TABLE personal_text ADD COLUMN sealed bytea;
UPDATE personal_text p SET case_id = o.case_id
  FROM (SELECT DISTINCT ON (c -> 'after' ->> 'digest') c -> 'after' ->> 'digest' AS digest, t.case_id
        FROM transitions t CROSS JOIN LATERAL jsonb_array_elements(t.record::jsonb -> 'changes') c
        WHERE t.case_id <> '' AND c -> 'after' ->> 'pii' = 'true' AND c -> 'after' ? 'digest'
        ORDER BY c -> 'after' ->> 'digest', t.seq) o
  WHERE o.digest = p.digest;
CREATE INDEX personal_text_by_case ON personal_text (case_id) WHERE case_id IS NOT NULL;
CREATE FUNCTION sopir_personal_sealed() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
  IF NEW.text IS NOT NULL AND EXISTS (SELECT 1 FROM public.database_key) THEN
    RAISE EXCEPTION 'personal text is encrypted on this database: it is not stored in clear'
      USING ERRCODE = 'SP006';
  END IF;
  RETURN NEW;
END
$body$;
CREATE TRIGGER personal_text_sealed BEFORE INSERT OR UPDATE ON personal_text
  FOR EACH ROW EXECUTE FUNCTION sopir_personal_sealed();
ALTER TABLE transitions DROP CONSTRAINT transitions_kind_check;
ALTER TABLE transitions ADD CONSTRAINT transitions_kind_check
  CHECK (kind IN ('open', 'procedure', 'override', 'lifecycle', 'timer',
                  'publish', 'staff', 'checkpoint', 'migration', 'migration-plan', 'erasure'));
DO $grant$
DECLARE
  member record;
BEGIN
  FOR member IN SELECT s.login FROM staff s JOIN pg_roles r ON r.rolname = s.login LOOP
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON database_key, case_keys TO %I', member.login);
  END LOOP;
END
$grant$;
)sql";

// Version 7: no change (the number was reserved for a branch that in the
// end changed no table; a database passes through it as it is).
constexpr const char* kVersion7 = "";

// Version 8: sites and row-level security (docs/DEPLOY.md "Sites"). The
// default site `main` holds everything the database held before; staff.sites
// is a member's sites (JSON, like roles); personal_text keeps the case
// whose value it is. Once an active administrator has a login (the mode in
// which the server names the actor, version 3) the server shows a session
// only the case data of the sites its member belongs to: the policies key
// on session_user through staff.login, and are forced on the owner too.
// Members holding admin (the timer and checkpoints run as an
// administrator and cover every chain), national or auditor read every
// site's cases and log rows; personal text only a member of the case's
// site (or an administrator) reads. Case rows are written by members of
// their site (an administrator's session: every site). The log's rows
// follow their case (registry rows, case_id '', are everyone's).
constexpr const char* kVersion8 = R"sql(
CREATE TABLE sites (
  id    text COLLATE "C" PRIMARY KEY,
  name  text NOT NULL
);
INSERT INTO sites (id, name) VALUES ('main', 'Main office');
ALTER TABLE staff ADD COLUMN sites text NOT NULL DEFAULT '[]';
UPDATE staff SET sites = '["main"]';
ALTER TABLE cases ADD COLUMN site text COLLATE "C" NOT NULL DEFAULT 'main' REFERENCES sites (id);
CREATE INDEX cases_by_site ON cases (site, opened_at, id);
-- personal_text.case_id (added by version 6) for texts named only by a
-- change's "before" side, which row-level security reads.
UPDATE personal_text p SET case_id = d.case_id
FROM (SELECT DISTINCT ON (v.value ->> 'digest') v.value ->> 'digest' AS digest, t.case_id
      FROM transitions t
      CROSS JOIN LATERAL jsonb_array_elements(t.record::jsonb -> 'changes') ch
      CROSS JOIN LATERAL (VALUES (ch -> 'before'), (ch -> 'after')) AS v(value)
      WHERE v.value ->> 'digest' IS NOT NULL
      ORDER BY v.value ->> 'digest', t.seq) d
WHERE d.digest = p.digest AND p.case_id IS NULL;

CREATE FUNCTION sopir_rls_claim_mode() RETURNS boolean LANGUAGE sql STABLE AS $body$
  SELECT NOT EXISTS (SELECT 1 FROM public.staff WHERE login IS NOT NULL AND active AND roles::jsonb ? 'admin')
$body$;
CREATE FUNCTION sopir_session_roles() RETURNS text[] LANGUAGE sql STABLE AS $body$
  SELECT coalesce((SELECT array_agg(r) FROM public.staff s, jsonb_array_elements_text(s.roles::jsonb) r
                   WHERE s.login = session_user AND s.active), '{}')
$body$;
CREATE FUNCTION sopir_session_sites() RETURNS text[] LANGUAGE sql STABLE AS $body$
  SELECT coalesce((SELECT array_agg(x) FROM public.staff s, jsonb_array_elements_text(s.sites::jsonb) x
                   WHERE s.login = session_user AND s.active), '{}')
$body$;

ALTER TABLE cases ENABLE ROW LEVEL SECURITY;
ALTER TABLE cases FORCE ROW LEVEL SECURITY;
CREATE POLICY cases_read ON cases FOR SELECT USING (
  (SELECT sopir_rls_claim_mode()) OR (SELECT sopir_session_roles() && '{admin,national,auditor}')
  OR site = ANY ((SELECT sopir_session_sites())::text[]));
CREATE POLICY cases_open ON cases FOR INSERT WITH CHECK (
  (SELECT sopir_rls_claim_mode()) OR (SELECT sopir_session_roles() && '{admin}')
  OR site = ANY ((SELECT sopir_session_sites())::text[]));
CREATE POLICY cases_step ON cases FOR UPDATE USING (
  (SELECT sopir_rls_claim_mode()) OR (SELECT sopir_session_roles() && '{admin}')
  OR site = ANY ((SELECT sopir_session_sites())::text[]))
  WITH CHECK (true);

ALTER TABLE transitions ENABLE ROW LEVEL SECURITY;
ALTER TABLE transitions FORCE ROW LEVEL SECURITY;
CREATE POLICY transitions_read ON transitions FOR SELECT USING (
  case_id = '' OR (SELECT sopir_rls_claim_mode()) OR (SELECT sopir_session_roles() && '{admin,national,auditor}')
  OR case_id IN (SELECT c.id FROM cases c));
CREATE POLICY transitions_append ON transitions FOR INSERT WITH CHECK (
  (record::jsonb ->> 'case_id') = '' OR (SELECT sopir_rls_claim_mode())
  OR (SELECT sopir_session_roles() && '{admin}')
  OR ((record::jsonb ->> 'kind') = 'open' AND (record::jsonb ->> 'site') = ANY ((SELECT sopir_session_sites())::text[]))
  OR (record::jsonb ->> 'case_id') IN (SELECT c.id FROM cases c WHERE c.site = ANY ((SELECT sopir_session_sites())::text[])));

ALTER TABLE personal_text ENABLE ROW LEVEL SECURITY;
ALTER TABLE personal_text FORCE ROW LEVEL SECURITY;
CREATE POLICY personal_text_read ON personal_text FOR SELECT USING (
  (SELECT sopir_rls_claim_mode()) OR (SELECT sopir_session_roles() && '{admin}')
  OR case_id IN (SELECT c.id FROM cases c WHERE c.site = ANY ((SELECT sopir_session_sites())::text[])));
CREATE POLICY personal_text_keep ON personal_text FOR INSERT WITH CHECK (true);
CREATE POLICY personal_text_erase ON personal_text FOR UPDATE USING (
  (SELECT sopir_rls_claim_mode()) OR (SELECT sopir_session_roles() && '{admin}')
  OR case_id IN (SELECT c.id FROM cases c WHERE c.site = ANY ((SELECT sopir_session_sites())::text[])))
  WITH CHECK (true);

ALTER TABLE access_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE access_log FORCE ROW LEVEL SECURITY;
CREATE POLICY access_log_read ON access_log FOR SELECT USING (
  (SELECT sopir_rls_claim_mode()) OR (SELECT sopir_session_roles() && '{admin,national,auditor}')
  OR case_id IN (SELECT c.id FROM cases c));
CREATE POLICY access_log_record ON access_log FOR INSERT WITH CHECK (
  (SELECT sopir_rls_claim_mode()) OR case_id IN (SELECT c.id FROM cases c));

ALTER TABLE transitions DROP CONSTRAINT transitions_kind_check;
ALTER TABLE transitions ADD CONSTRAINT transitions_kind_check
  CHECK (kind IN ('open', 'procedure', 'override', 'lifecycle', 'timer', 'publish', 'staff', 'checkpoint',
                  'migration', 'migration-plan', 'erasure', 'site', 'transfer'));

DO $do$
DECLARE
  member record;
BEGIN
  FOR member IN SELECT login, roles::jsonb ? 'admin' AS admin FROM staff WHERE login IS NOT NULL LOOP
    EXECUTE format('GRANT SELECT ON sites TO %I', member.login);
    IF member.admin THEN
      EXECUTE format('GRANT INSERT, UPDATE, DELETE ON sites TO %I', member.login);
    END IF;
  END LOOP;
END
$do$;
)sql";

// Version 9: a hand-off may open its case at another site (docs/DEPLOY.md
// "Sites"): a step of a case at one of the session's sites opens a case at
// the site its procedure names. The new case row is let in when its parent
// is a case of the session's sites, its open row when it names such a
// parent, and that open row stays readable where the parent is (the
// statement that writes it reads its seq back). The function reads cases
// in a query of its own: a policy on cases cannot select from cases.
constexpr const char* kVersion9 = R"sql(
CREATE FUNCTION sopir_session_site_case(parent text) RETURNS boolean LANGUAGE plpgsql STABLE AS $body$
BEGIN
  RETURN EXISTS (SELECT 1 FROM public.cases c WHERE c.id = parent AND c.site = ANY (public.sopir_session_sites()));
END
$body$;
DROP POLICY cases_open ON cases;
CREATE POLICY cases_open ON cases FOR INSERT WITH CHECK (
  (SELECT sopir_rls_claim_mode()) OR (SELECT sopir_session_roles() && '{admin}')
  OR site = ANY ((SELECT sopir_session_sites())::text[])
  OR (parent_case IS NOT NULL AND sopir_session_site_case(parent_case)));
DROP POLICY transitions_append ON transitions;
CREATE POLICY transitions_append ON transitions FOR INSERT WITH CHECK (
  (record::jsonb ->> 'case_id') = '' OR (SELECT sopir_rls_claim_mode())
  OR (SELECT sopir_session_roles() && '{admin}')
  OR ((record::jsonb ->> 'kind') = 'open' AND (record::jsonb ->> 'site') = ANY ((SELECT sopir_session_sites())::text[]))
  OR (record::jsonb ->> 'case_id') IN (SELECT c.id FROM cases c WHERE c.site = ANY ((SELECT sopir_session_sites())::text[]))
  OR ((record::jsonb ->> 'kind') = 'open'
      AND (record::jsonb ->> 'linked_case') IN (SELECT c.id FROM cases c WHERE c.site = ANY ((SELECT sopir_session_sites())::text[]))));
DROP POLICY transitions_read ON transitions;
CREATE POLICY transitions_read ON transitions FOR SELECT USING (
  case_id = '' OR (SELECT sopir_rls_claim_mode()) OR (SELECT sopir_session_roles() && '{admin,national,auditor}')
  OR case_id IN (SELECT c.id FROM cases c)
  OR (kind = 'open' AND (record::jsonb ->> 'linked_case') IN (SELECT c.id FROM cases c)));
)sql";

// Version 10: a case's guards read the cases it handed on to another site
// (has_child, child_closed, track_state). sopir_child_cases(parent) gives the
// state and status of the cases `parent` opened, when the session reads
// `parent` (as the cases_read policy decides); it runs as the tables' owner
// (SECURITY DEFINER), and the policy cases_children lets such a call, and
// nothing else, read every case row: current_user is then the owner while
// session_user is the member. Only it and sopir_personal_gone (version 12) run so, and a
// member cannot make one. The member still reads nothing else of the other
// site's case, not even with psql: not its data, not its log rows.
constexpr const char* kVersion10 = R"sql(
CREATE FUNCTION sopir_definer_reads() RETURNS boolean LANGUAGE sql STABLE AS $body$
  SELECT current_user <> session_user AND current_user = (
    SELECT r.rolname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_roles r ON r.oid = c.relowner
    WHERE c.oid = 'public.cases'::regclass)
$body$;
CREATE POLICY cases_children ON cases FOR SELECT USING ((SELECT sopir_definer_reads()));
CREATE FUNCTION sopir_child_cases(parent text)
  RETURNS TABLE (id text, sop_id text, state text, status text, closure_reason text, opened_at bigint)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $body$
  SELECT c.id, c.sop_id, c.state, c.status, c.closure_reason, c.opened_at FROM public.cases c
  WHERE c.parent_case = parent AND EXISTS (
    SELECT 1 FROM public.cases p WHERE p.id = parent
      AND (public.sopir_rls_claim_mode() OR public.sopir_session_roles() && '{admin,national,auditor}'
           OR p.site = ANY (public.sopir_session_sites())))
$body$;
)sql";

// Version 11: another office's database moved into this one (`sopir db
// copy FROM SERVER --into-site SITE`, sopir/copy.h move_in). Its case rows
// join the log as they are; its registry rows, issued again on this
// registry chain, are kept as they were there in moved_registry (append
// only; written by administrators), numbered as its rows are here. The rows
// a move writes carry the actors who made them in that office: a session
// may write them when it is an administrator's, has set sopir.move_in,
// holds the log table's EXCLUSIVE lock (a move's first statement), and the
// row's actor is a member added in the same transaction (the moved office's
// staff, new to this database) or none (an upgrade's rows). No member
// already here can be named so.
constexpr const char* kVersion11 = R"sql(
CREATE TABLE moved_registry (
  seq        bigint PRIMARY KEY,
  record     text   NOT NULL,
  prev_hash  text   NOT NULL,
  hash       text   NOT NULL
);
CREATE FUNCTION sopir_moved_append_only() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
  RAISE EXCEPTION 'the moved registry is append-only';
END
$body$;
CREATE TRIGGER moved_registry_no_change BEFORE UPDATE OR DELETE ON moved_registry
  FOR EACH ROW EXECUTE FUNCTION sopir_moved_append_only();
CREATE TRIGGER moved_registry_no_truncate BEFORE TRUNCATE ON moved_registry
  FOR EACH STATEMENT EXECUTE FUNCTION sopir_moved_append_only();
CREATE OR REPLACE FUNCTION sopir_actor_is_session() RETURNS trigger LANGUAGE plpgsql AS $body$
DECLARE
  doc jsonb := NEW.record::jsonb;
BEGIN
  IF (doc ->> 'actor' = 'system' AND doc ->> 'kind' IN ('timer', 'checkpoint'))
     OR NOT EXISTS (SELECT 1 FROM public.staff
                    WHERE login IS NOT NULL AND active AND roles::jsonb ? 'admin') THEN
    RETURN NEW;
  END IF;
  IF current_setting('sopir.move_in', true) = 'on'
     AND EXISTS (SELECT 1 FROM public.staff WHERE login = session_user AND active AND roles::jsonb ? 'admin')
     AND EXISTS (SELECT 1 FROM pg_catalog.pg_locks WHERE pid = pg_backend_pid() AND locktype = 'relation'
                 AND relation = 'public.transitions'::regclass AND mode = 'ExclusiveLock' AND granted)
     AND (doc ->> 'actor' = '' OR EXISTS (
          SELECT 1 FROM public.staff s WHERE s.id = doc ->> 'actor'
            AND s.xmin::text = (pg_current_xact_id()::text::bigint % 4294967296)::text)) THEN
    RETURN NEW;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM public.staff
                 WHERE id = doc ->> 'actor' AND login = session_user AND active) THEN
    RAISE EXCEPTION 'the actor % is not the staff member the server logged this session (%) in as',
      doc ->> 'actor', session_user USING ERRCODE = '42501';
  END IF;
  RETURN NEW;
END
$body$;
DO $do$
DECLARE
  member record;
BEGIN
  FOR member IN SELECT s.login, s.roles::jsonb ? 'auditor' AS auditor, s.roles::jsonb ? 'admin' AS admin FROM staff s
                JOIN pg_roles r ON r.rolname = s.login LOOP
    EXECUTE format('GRANT SELECT ON moved_registry TO %I', member.login);
    IF member.admin AND NOT member.auditor THEN
      EXECUTE format('GRANT INSERT ON moved_registry TO %I', member.login);
    END IF;
  END LOOP;
END
$do$;
)sql";

// Version 12: whether personal text is still there, for sessions the
// policies do not show it to (an auditor's; a national login's). verify tells
// a value erased behind the engine's back (a `pii-gone` finding) from one
// hidden from the session by asking sopir_personal_gone(digests): which of
// the digests have no text left (no row, text and sealed text NULL, or a
// sealed text whose case key is gone). It returns digests only, never text,
// to any session; SECURITY DEFINER like sopir_child_cases, and read through
// the policy personal_text_presence (sopir_definer_reads()). Its search_path
// is pg_catalog and pg_temp only, every name in it qualified, so that no
// function a member may create in `public` runs as the owner.
constexpr const char* kVersion12 = R"sql(
CREATE POLICY personal_text_presence ON personal_text FOR SELECT USING ((SELECT sopir_definer_reads()));
CREATE FUNCTION sopir_personal_gone(digests text[]) RETURNS SETOF text
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $body$
  SELECT d FROM pg_catalog.unnest(digests) AS d WHERE NOT EXISTS (
    SELECT 1 FROM public.personal_text p WHERE p.digest = d
      AND (p.text IS NOT NULL
           OR (p.sealed IS NOT NULL AND EXISTS (SELECT 1 FROM public.case_keys k WHERE k.case_id = p.case_id))))
$body$;
)sql";

// Version 13: sopir_child_cases (version 10) runs with the search_path
// sopir_personal_gone has, pg_catalog and pg_temp only: every name in its
// body is qualified already, and with `public` off its path no operator or
// function a login may have made there can be picked over pg_catalog's
// while it runs as the owner. verify compares each function's security
// (SECURITY DEFINER or not, its settings) as well as its body.
constexpr const char* kVersion13 = R"sql(
ALTER FUNCTION sopir_child_cases(text) SET search_path = pg_catalog, pg_temp;
)sql";

// The version the sites step makes (one place to renumber).
constexpr int kSitesVersion = 8;

// Index i holds the step to version i + 1.
constexpr const char* kMigrations[] = {kVersion1,  kVersion2,  kVersion3, kVersion4, kVersion5,
                                       kVersion6,  kVersion7,  kVersion8, kVersion9, kVersion10,
                                       kVersion11, kVersion12, kVersion13};

// Part of the sites step: a database that already has a log gets the rows
// that say where what it held went (registry.h: the default site
// "existing" and each member joining it, actor "", dated at the upgrade),
// chained after the registry's head. The actor trigger (version 3) would
// refuse a row without an actor in a session the server names: it is
// switched off for these rows only, inside the migration's transaction
// (the migrating session owns the tables).
void sites_backfill(Connection& conn) {
  if (conn.exec("SELECT count(*) FROM transitions").integer(0, 0) == 0) return;
  const DateTime now{static_cast<int64_t>(std::time(nullptr))};
  std::vector<LogEntry> rows;
  rows.push_back(registry::existing_site(Site{kDefaultSite, kDefaultSiteName}, now));
  const Result staff = conn.exec("SELECT id FROM staff ORDER BY id");
  for (int i = 0; i < staff.rows(); ++i)
    rows.push_back(registry::existing_staff_site(staff.str(i, 0), kDefaultSite, now));
  const Result head = conn.exec("SELECT last_seq, head_hash FROM registry_head WHERE id = 1 FOR UPDATE");
  int64_t case_seq = head.integer(0, 0);
  std::string prev = head.str(0, 1);
  conn.exec("ALTER TABLE transitions DISABLE TRIGGER transitions_actor_is_session");
  for (LogEntry& e : rows) {
    e.case_seq = ++case_seq;
    const std::string record = log_json::record(e);
    Sha256 hash;
    hash.update(prev);
    hash.update(record);
    const std::string digest = hash.hex_digest();
    conn.exec("INSERT INTO transitions (record, prev_hash, hash) VALUES ($1, $2, $3)", {record, prev, digest});
    prev = digest;
  }
  conn.exec("ALTER TABLE transitions ENABLE TRIGGER transitions_actor_is_session");
  conn.exec("UPDATE registry_head SET last_seq = $1, head_hash = $2 WHERE id = 1", {std::to_string(case_seq), prev});
}

// Serialises migrations across processes (any constant: "SOPR").
constexpr const char* kMigrationLock = "SELECT pg_advisory_xact_lock(1397706834)";

// The body of function `name` as a migration defines it (what pg_proc's
// prosrc holds: the text between the $body$ quotes).
std::string function_body(const char* migration, const std::string& name) {
  const std::string sql = migration;
  const size_t fn = sql.find("FUNCTION " + name + "(");
  const size_t open = sql.find("$body$", fn);
  const size_t close = sql.find("$body$", open + 6);
  return sql.substr(open + 6, close - open - 6);
}

// How the two SECURITY DEFINER functions run (versions 10, 12 and 13), as
// actual_protections() writes it; every other function of the list runs as
// its caller with no settings of its own (kInvokerSecurity).
constexpr const char* kDefinerSecurity = "SECURITY DEFINER, search_path=pg_catalog, pg_temp";
constexpr const char* kInvokerSecurity = "SECURITY INVOKER";

// The functions verify compares, each with the argument list migrate()
// gives it, as pg_get_function_identity_arguments() prints it.
constexpr std::pair<const char*, const char*> kFunctions[] = {
    {"sopir_append_only", ""},        {"sopir_actor_is_session", ""},
    {"sopir_access_append_only", ""}, {"sopir_personal_sealed", ""},
    {"sopir_rls_claim_mode", ""},     {"sopir_session_roles", ""},
    {"sopir_session_sites", ""},      {"sopir_session_site_case", "parent text"},
    {"sopir_definer_reads", ""},      {"sopir_child_cases", "parent text"},
    {"sopir_moved_append_only", ""},  {"sopir_personal_gone", "digests text[]"},
};

std::string sopir_function_arguments(const std::string& name) {
  for (const auto& [function, arguments] : kFunctions)
    if (name == function) return arguments;
  return {};
}

// What the log's protections look like when migrate() made them, as this
// server's catalog shows them (pg_get_triggerdef, prosrc, pg_get_expr):
// name -> definition. A test checks a fresh database matches.
const std::map<std::string, std::string>& expected_protections() {
  static const std::map<std::string, std::string> expected = {
      {"trigger transitions_no_change",
       "CREATE TRIGGER transitions_no_change BEFORE DELETE OR UPDATE ON public.transitions FOR "
       "EACH ROW "
       "EXECUTE FUNCTION sopir_append_only() (enabled)"},
      {"trigger transitions_no_truncate",
       "CREATE TRIGGER transitions_no_truncate BEFORE TRUNCATE ON public.transitions FOR EACH "
       "STATEMENT "
       "EXECUTE FUNCTION sopir_append_only() (enabled)"},
      {"function sopir_append_only",
       "\nBEGIN\n  RAISE EXCEPTION 'the transition log is append-only';\nEND\n"},
      {"function sopir_actor_is_session", function_body(kVersion11, "sopir_actor_is_session")},
      {"trigger moved_registry_no_change",
       "CREATE TRIGGER moved_registry_no_change BEFORE DELETE OR UPDATE ON public.moved_registry "
       "FOR EACH ROW "
       "EXECUTE FUNCTION sopir_moved_append_only() (enabled)"},
      {"trigger moved_registry_no_truncate",
       "CREATE TRIGGER moved_registry_no_truncate BEFORE TRUNCATE ON public.moved_registry FOR "
       "EACH STATEMENT "
       "EXECUTE FUNCTION sopir_moved_append_only() (enabled)"},
      {"function sopir_moved_append_only",
       "\nBEGIN\n  RAISE EXCEPTION 'the moved registry is append-only';\nEND\n"},
      {"trigger transitions_actor_is_session",
       "CREATE TRIGGER transitions_actor_is_session BEFORE INSERT ON public.transitions FOR EACH "
       "ROW "
       "EXECUTE FUNCTION sopir_actor_is_session() (enabled)"},
      {"trigger access_log_no_change",
       "CREATE TRIGGER access_log_no_change BEFORE DELETE OR UPDATE ON public.access_log FOR EACH "
       "ROW "
       "EXECUTE FUNCTION sopir_access_append_only() (enabled)"},
      {"trigger access_log_no_truncate",
       "CREATE TRIGGER access_log_no_truncate BEFORE TRUNCATE ON public.access_log FOR EACH "
       "STATEMENT "
       "EXECUTE FUNCTION sopir_access_append_only() (enabled)"},
      {"function sopir_access_append_only",
       "\nBEGIN\n  RAISE EXCEPTION 'the access log is append-only';\nEND\n"},
      {"function sopir_personal_sealed", function_body(kVersion6, "sopir_personal_sealed")},
      {"trigger personal_text_sealed",
       "CREATE TRIGGER personal_text_sealed BEFORE INSERT OR UPDATE ON public.personal_text FOR "
       "EACH ROW "
       "EXECUTE FUNCTION sopir_personal_sealed() (enabled)"},
      {"column transitions.case_id", "text not null = ((record)::jsonb ->> 'case_id'::text)"},
      {"column transitions.case_seq",
       "bigint not null = (((record)::jsonb ->> 'case_seq'::text))::bigint"},
      {"column transitions.sha256", "text = ((record)::jsonb ->> 'sha256'::text)"},
      {"column transitions.kind", "text not null = ((record)::jsonb ->> 'kind'::text)"},
      {"column transitions.event", "text not null = ((record)::jsonb ->> 'event'::text)"},
      {"column transitions.from_state", "text = ((record)::jsonb ->> 'from_state'::text)"},
      {"column transitions.to_state", "text = ((record)::jsonb ->> 'to_state'::text)"},
      {"column transitions.actor", "text not null = ((record)::jsonb ->> 'actor'::text)"},
      {"column transitions.occurred_at",
       "bigint not null = (((record)::jsonb ->> 'occurred_at'::text))::bigint"},
      {"function sopir_rls_claim_mode", function_body(kVersion8, "sopir_rls_claim_mode")},
      {"function sopir_session_roles", function_body(kVersion8, "sopir_session_roles")},
      {"function sopir_session_sites", function_body(kVersion8, "sopir_session_sites")},
      {"function sopir_session_site_case", function_body(kVersion9, "sopir_session_site_case")},
      {"function sopir_definer_reads", function_body(kVersion10, "sopir_definer_reads")},
      {"function sopir_child_cases", function_body(kVersion10, "sopir_child_cases")},
      {"function sopir_personal_gone", function_body(kVersion12, "sopir_personal_gone")},
      {"security of function sopir_child_cases", kDefinerSecurity},
      {"security of function sopir_personal_gone", kDefinerSecurity},
      {"row security of cases", "enabled, forced"},
      {"row security of transitions", "enabled, forced"},
      {"row security of personal_text", "enabled, forced"},
      {"row security of access_log", "enabled, forced"},
      {"policy cases_read", "cases SELECT"},
      {"policy cases_open", "cases INSERT"},
      {"policy cases_step", "cases UPDATE"},
      {"policy cases_children", "cases SELECT"},
      {"policy transitions_read", "transitions SELECT"},
      {"policy transitions_append", "transitions INSERT"},
      {"policy personal_text_read", "personal_text SELECT"},
      {"policy personal_text_keep", "personal_text INSERT"},
      {"policy personal_text_erase", "personal_text UPDATE"},
      {"policy personal_text_presence", "personal_text SELECT"},
      {"policy access_log_read", "access_log SELECT"},
      {"policy access_log_record", "access_log INSERT"},
      {"column transitions.seq", "bigint not null"},
      {"column transitions.record", "text not null"},
      {"column transitions.prev_hash", "text not null"},
      {"column transitions.hash", "text not null"},
  };
  return expected;
}

// The same facts read from the database.
std::map<std::string, std::string> actual_protections(Connection& conn) {
  std::map<std::string, std::string> out;
  const Result triggers = conn.exec(
      "SELECT t.tgname, pg_get_triggerdef(t.oid), t.tgenabled FROM pg_trigger t "
      "WHERE NOT t.tgisinternal AND t.tgrelid IN ('public.transitions'::regclass, 'public.cases'::regclass, "
      "'public.registry_head'::regclass, 'public.personal_text'::regclass, 'public.procedures'::regclass, "
      "'public.staff'::regclass, 'public.access_log'::regclass, 'public.moved_registry'::regclass)");
  for (int i = 0; i < triggers.rows(); ++i)
    out["trigger " + triggers.str(i, 0)] =
        triggers.str(i, 1) + (triggers.text(i, 2) == "D" ? " (disabled)" : " (enabled)");
  std::string names;
  for (const auto& [name, arguments] : kFunctions)
    names += (names.empty() ? "('" : ", '") + std::string(name) + "'";
  const Result functions = conn.exec(
      "SELECT p.proname, pg_get_function_identity_arguments(p.oid), p.prosrc, p.prosecdef, "
      "coalesce(array_to_string(p.proconfig, ', '), '') FROM pg_proc p "
      "JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public' "
      "AND p.proname IN " +
      names + ")");
  for (int i = 0; i < functions.rows(); ++i) {
    const std::string name = functions.str(i, 0);
    const std::string arguments = functions.str(i, 1);
    // Keyed by name and argument list, not by which was made first (a
    // restored dump may number them otherwise): sopir's own is compared, any
    // other of the same name is one sopir does not create.
    if (sopir_function_arguments(name) != arguments) {
      out["function " + name + "(" + arguments + ")"] = functions.str(i, 2);
      continue;
    }
    out["function " + name] = functions.str(i, 2);
    std::string security = functions.boolean(i, 3) ? "SECURITY DEFINER" : kInvokerSecurity;
    if (!functions.str(i, 4).empty()) security += ", " + functions.str(i, 4);
    // Listed only where it is not the caller's: a function redefined to run
    // as the owner, or given settings, is a change as one no longer doing so is.
    if (security != kInvokerSecurity) out["security of function " + name] = security;
  }
  // Row-level security (version 8): switched on and forced on the tables
  // of case data, and the policies by name and command.
  const Result secured = conn.exec(
      "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity FROM pg_class c "
      "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' "
      "AND c.relname IN ('cases', 'transitions', 'personal_text', 'access_log')");
  for (int i = 0; i < secured.rows(); ++i)
    out["row security of " + secured.str(i, 0)] = std::string(secured.boolean(i, 1) ? "enabled" : "disabled") +
                                                   (secured.boolean(i, 2) ? ", forced" : ", not forced");
  const Result policies = conn.exec(
      "SELECT policyname, tablename, cmd FROM pg_policies WHERE schemaname = 'public'");
  for (int i = 0; i < policies.rows(); ++i)
    out["policy " + policies.str(i, 0)] = policies.str(i, 1) + " " + policies.str(i, 2);
  const Result columns = conn.exec(
      "SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, "
      "coalesce(pg_get_expr(d.adbin, d.adrelid), ''), a.attgenerated FROM pg_attribute a "
      "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
      "WHERE a.attrelid = 'public.transitions'::regclass AND a.attnum > 0 AND NOT a.attisdropped");
  for (int i = 0; i < columns.rows(); ++i) {
    std::string text = columns.str(i, 1) + (columns.boolean(i, 2) ? " not null" : "");
    if (columns.text(i, 4) == "s") text += " = " + columns.str(i, 3);
    out["column transitions." + columns.str(i, 0)] = text;
  }
  return out;
}

}  // namespace

int latest_schema_version() { return static_cast<int>(std::size(kMigrations)); }

const char* const kSchemaTables =
    "SELECT count(*) FILTER (WHERE c.relname = 'sopir_schema'), count(*) FROM pg_class c "
    "JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'v', 'p')";

SchemaState schema_state(Connection& conn) {
  const Result tables = conn.exec(kSchemaTables);
  return schema_state_of(conn, tables.integer(0, 0), tables.integer(0, 1));
}

SchemaState schema_state_of(Connection& conn, int64_t schema_tables, int64_t tables) {
  SchemaState state;
  if (schema_tables == 0) {
    state.other_tables = tables > 0;
    return state;
  }
  const Result row = conn.exec("SELECT application, version FROM public.sopir_schema WHERE id = 1");
  if (row.rows() == 0 || row.text(0, 0) != "sopir") {
    state.version = -1;
    return state;
  }
  state.version = static_cast<int>(row.integer(0, 1));
  return state;
}

void migrate(Connection& conn, int up_to) {
  up_to = std::min(up_to, latest_schema_version());
  conn.exec("BEGIN");
  try {
    conn.exec(kMigrationLock);
    // Another process may have migrated while we waited for the lock.
    const SchemaState state = schema_state(conn);
    int version = state.version;
    for (; version < up_to; ++version) {
      if (*kMigrations[version]) conn.exec(kMigrations[version]);
      if (version + 1 == kSitesVersion) sites_backfill(conn);
    }
    conn.exec("UPDATE sopir_schema SET version = " + std::to_string(version) + " WHERE id = 1");
    conn.exec("COMMIT");
  } catch (...) {
    if (conn.ok()) conn.exec("ROLLBACK");
    throw;
  }
}

std::vector<std::string> schema_differences(Connection& conn) {
  const auto& expected = expected_protections();
  const auto actual = actual_protections(conn);
  std::vector<std::string> out;
  const std::string security = "security of ";
  for (const auto& [name, definition] : expected) {
    const auto it = actual.find(name);
    if (name.rfind(security, 0) == 0) {
      // A function redefined is reported by its own entry; this one says
      // how it runs, when only that was changed (ALTER FUNCTION).
      if (!actual.count(name.substr(security.size()))) continue;
      const std::string now = it == actual.end() ? kInvokerSecurity : it->second;
      if (now != definition)
        out.push_back("the " + name.substr(security.size()) + " runs as " + now +
                      " where sopir makes it " + definition +
                      ": it is not the one sopir creates (compare with docs/SCHEMA.md)");
      continue;
    }
    if (it == actual.end()) {
      out.push_back("the " + name + " is missing" +
                    (name.rfind("trigger", 0) == 0 ? ": a protection of the log was removed" : ""));
    } else if (it->second != definition) {
      out.push_back("the " + name + " was redefined: it is not the one sopir creates (" + it->second +
                    "; compare with docs/SCHEMA.md)");
    }
  }
  for (const auto& [name, definition] : actual) {
    if (!expected.count(name)) {
      if (name.rfind("trigger", 0) == 0) out.push_back("the " + name + " was added: sopir does not create it");
      if (name.rfind("column", 0) == 0) out.push_back("the " + name + " was added: sopir does not create it");
      if (name.rfind("policy", 0) == 0)
        out.push_back("the " + name + " was added: sopir does not create it, and it can show rows to other sites");
      if (name.rfind("function", 0) == 0)
        out.push_back("the " + name + " was added: sopir does not create it");
      if (name.rfind(security, 0) == 0)
        out.push_back("the " + name.substr(security.size()) + " runs as " + definition +
                      " where sopir makes it " + kInvokerSecurity +
                      ": it is not the one sopir creates (compare with docs/SCHEMA.md)");
    }
  }
  return out;
}

}  // namespace sopir::pg
