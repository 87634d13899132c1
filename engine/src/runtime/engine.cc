// The case runtime: read the case, ask decide(), write the result.
#include "sopir/engine.h"
#include "sopir/migration.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstring>
#include <random>
#include <set>

#include <sodium.h>

#include "lang/expr/expr.h"
#include "rules/handoff.h"
#include "lang/procedure_codec.h"
#include "base/sha256.h"
#include "sopir/messages/runtime.h"
#include "sopir/text.h"
#include "sopir/privacy.h"
#include "sopir/clocks.h"

namespace sopir {

namespace {

// "budi has roles a, b" / "budi has no roles".
std::string roles_of(const Actor& who) {
  return who.roles.empty() ? tr(msg::runtime_has_no_roles, {who.id})
                           : tr(msg::runtime_has_roles, {who.id, join(who.roles)});
}

// The ids of the database's sites, in order.
std::vector<std::string> site_ids(Store& store) {
  std::vector<std::string> ids;
  for (const Site& s : store.sites()) ids.push_back(s.id);
  return ids;
}

// kNotFound, naming the nearest site and all of them, unless `site` is one.
void require_known_site(Store& store, const std::string& site) {
  const std::vector<std::string> ids = site_ids(store);
  if (std::find(ids.begin(), ids.end(), site) == ids.end())
    throw not_found(tr(msg::runtime_unknown_site, {site, did_you_mean(site, ids), join(ids)}));
}

// A note as given, or kRefused when it holds control characters other
// than tabs and line breaks.
const std::string& checked_note(const std::string& note) {
  if (std::string problem = control_problem(note, true); !problem.empty()) throw refused(tr(msg::runtime_note_control, {problem}));
  return note;
}

constexpr char kIdAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";  // Crockford base32

class SystemClock : public Clock {
 public:
  DateTime now() override {
    using namespace std::chrono;
    return DateTime{duration_cast<seconds>(system_clock::now().time_since_epoch()).count()};
  }
};

class RandomIds : public IdSource {
 public:
  std::string next() override {
    // Seeded on first use: most commands open no case, and a random_device
    // costs a one-shot process a CPU feature probe and a read.
    if (!seeded_) {
      engine_.seed(std::random_device{}());
      seeded_ = true;
    }
    std::uniform_int_distribution<int> pick(0, 31);
    std::string id;
    for (int i = 0; i < 6; ++i) {
      if (i == 3) id += '-';
      id += kIdAlphabet[pick(engine_)];
    }
    return id;
  }

 private:
  std::mt19937_64 engine_;
  bool seeded_ = false;
};

bool has_role(const Actor& actor, std::string_view role) {
  return std::find(actor.roles.begin(), actor.roles.end(), role) != actor.roles.end();
}

StoredValue stored_value(const FieldDef& field, const Value& value) {
  StoredValue out;
  out.field = field.id;
  out.missing = is_missing(value);
  out.text = format_value(value);
  out.pii = field.pii;
  if (field.pii && !out.missing) {
    out.salt = random_hex(16);
    out.digest = sha256_hex(out.salt + out.text);
  }
  return out;
}

const StoredValue* find_stored(const CaseRecord& record, const std::string& field) {
  for (const auto& v : record.data) {
    if (v.field == field) return &v;
  }
  return nullptr;
}

// Applies decided field changes to the record and describes them for the log.
std::vector<LogEntry::Change> apply_to_record(const Procedure& p,
                                              const std::vector<FieldChange>& changes,
                                              CaseRecord& record) {
  std::vector<LogEntry::Change> out;
  for (const auto& change : changes) {
    const FieldDef& field = p.fields[change.field];
    LogEntry::Change logged;
    if (const StoredValue* before = find_stored(record, field.id)) {
      logged.before = *before;
    } else {
      logged.before.field = field.id;
      logged.before.pii = field.pii;
    }
    logged.after = stored_value(field, change.after);
    record.data.erase(std::remove_if(record.data.begin(), record.data.end(),
                                     [&](const StoredValue& v) { return v.field == field.id; }),
                      record.data.end());
    if (!logged.after.missing) record.data.push_back(logged.after);
    out.push_back(std::move(logged));
  }
  // Keep the stored data in field order, whatever order changes came in.
  std::sort(record.data.begin(), record.data.end(), [&](const StoredValue& a, const StoredValue& b) {
    return p.field_index(a.field) < p.field_index(b.field);
  });
  return out;
}

// Inputs as the log keeps them: personal data never enters the log as text
// outside its salted change record, so pii inputs are kept as "<pii>" and
// an auditor's replay takes their value from the change. A set is kept in
// its canonical form (value.h), whatever order it was typed in.
std::vector<std::pair<std::string, std::string>> logged_inputs(
    const Procedure& p, const std::vector<std::pair<std::string, std::string>>& inputs) {
  auto out = inputs;
  for (auto& [field, text] : out) {
    const int index = p.field_index(field);
    if (index < 0) continue;
    const FieldDef& f = p.fields[index];
    if (f.pii) {
      text = kPersonalInput;
    } else if (f.type == Type::kSet) {
      // Only accepted inputs are logged, so this parses.
      if (auto v = parse_typed(Type::kSet, f.values, text, nullptr)) text = std::get<std::string>(*v);
    }
  }
  return out;
}

[[noreturn]] void throw_refusal(const std::string& case_id, Refusal refusal) {
  if (!case_id.empty()) refusal.message = tr(msg::runtime_case_prefix, {case_id, refusal.message});
  throw RefusedError(std::move(refusal), case_id);
}

// Values given as text must be UTF-8. A personal value's text is kept apart
// from the log row, whose own check catches the others. Live input only:
// audit replay decides the steps already stored.
void check_utf8_inputs(const std::vector<std::pair<std::string, std::string>>& inputs,
                       const std::string& case_id) {
  for (const auto& [name, text] : inputs)
    if (!valid_utf8(text))
      throw_refusal(case_id,
                    Refusal{RefusalKind::kBadInput, tr(msg::runtime_value_not_utf8, {name})});
}

}  // namespace

std::shared_ptr<Clock> system_clock() { return std::make_shared<SystemClock>(); }
std::shared_ptr<IdSource> random_ids() { return std::make_shared<RandomIds>(); }

std::optional<std::string> normalize_case_id_prefix(std::string_view text) {
  std::string chars;
  for (char c : text) {
    if (c == '-' || c == ' ') continue;
    char u = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    // Crockford decoding of look-alikes.
    if (u == 'O') u = '0';
    if (u == 'I' || u == 'L') u = '1';
    if (!std::strchr(kIdAlphabet, u) || u == '\0') return std::nullopt;
    chars += u;
  }
  if (chars.size() > 6) return std::nullopt;
  if (chars.size() > 3) chars.insert(3, "-");
  return chars;
}

std::optional<std::string> normalize_case_id(std::string_view text) {
  auto id = normalize_case_id_prefix(text);
  if (!id || id->size() != 7) return std::nullopt;
  return id;
}

Engine::Engine(std::unique_ptr<Store> store, std::shared_ptr<Clock> clock,
               std::shared_ptr<IdSource> ids)
    : store_(std::move(store)), clock_(std::move(clock)), ids_(std::move(ids)) {}

StaffMember Engine::add_first_administrator(Store& store, const std::string& id,
                                            const std::string& name) {
  if (!valid_staff_id(id))
    throw usage_error(tr(msg::runtime_first_admin_id, {id}));
  StaffMember member{id, name.empty() ? "Administrator" : name, {"admin", "policy"}, true};
  store.add_staff(member, RegistryStamp{id, system_clock()->now()});
  return member;
}

StaffMember Engine::add_first_administrator(Store& store, const std::string& id, const std::string& name,
                                            std::string_view passphrase, KdfCost cost) {
  if (!valid_staff_id(id))
    throw usage_error(tr(msg::runtime_first_admin_id, {id}));
  // The slow part first, outside the write transaction.
  const std::string hash = hash_passphrase(passphrase, cost);
  StaffMember member;
  store.transaction([&] {
    member = add_first_administrator(store, id, name);
    keep_passphrase(store, id, hash, passphrase, RegistryStamp{id, system_clock()->now()});
  });
  return member;
}

StaffMember Engine::add_first_administrator_on_server(Store& store, const std::string& id, const std::string& name) {
  StaffMember member;
  store.transaction([&] {
    member = add_first_administrator(store, id, name);
    const SessionIdentity who = store.session_identity();
    if (!who.server || who.superuser) return;
    store.set_staff_login(id, who.login, "", RegistryStamp{id, system_clock()->now()});
    member.login = who.login;
  });
  return member;
}

bool Engine::login_required() { return sopir::login_required(*store_); }

int64_t Engine::login_delay(const std::string& staff_id) {
  return sopir::login_delay(*store_, staff_id, clock_->now());
}

Actor Engine::log_in(const std::string& staff_id, std::string_view passphrase) {
  return sopir::log_in(*store_, staff_id, passphrase, clock_->now());
}

void Engine::set_passphrase(const std::string& by, const std::string& staff_id, std::string_view passphrase,
                            KdfCost cost) {
  sopir::set_passphrase(*store_, by, staff_id, passphrase, cost, clock_->now());
}

std::vector<PublishedProcedure> Engine::publish_all(const std::vector<std::string>& files,
                                                    const std::string& actor_id, bool strict) {
  LoadOptions options;
  options.strict = strict;
  options.today = date_of(clock_->now());
  std::vector<LoadResult> loaded;
  for (const std::string& file : files) loaded.push_back(load_procedure_file(file, options));
  // Targets first: each file after the files whose procedures it opens
  // (depth-first, in the order given; a loop is left for publish to report).
  std::vector<size_t> order;
  std::vector<int> mark(files.size(), 0);  // 0 new, 1 on the path, 2 placed
  std::function<void(size_t)> place = [&](size_t i) {
    if (mark[i] != 0) return;
    mark[i] = 1;
    if (loaded[i].procedure) {
      for (const auto& t : loaded[i].procedure->transitions) {
        for (const HandOff& h : t.opens) {
          for (size_t j = 0; j < files.size(); ++j) {
            if (j != i && loaded[j].procedure && loaded[j].procedure->id == h.sop) place(j);
          }
        }
      }
    }
    mark[i] = 2;
    order.push_back(i);
  };
  for (size_t i = 0; i < files.size(); ++i) place(i);
  std::vector<PublishedProcedure> published;
  store_->transaction([&] {
    for (size_t i : order) published.push_back(publish_loaded(loaded[i], files[i], actor_id));
  });
  return published;
}

std::vector<PublishedProcedure> Engine::procedures() { return store_->procedures(); }
std::vector<StaffMember> Engine::staff() { return store_->all_staff(); }
std::vector<CaseRecord> Engine::cases(const CaseFilter& filter) { return store_->cases(filter); }
int64_t Engine::count_cases(const CaseFilter& filter) { return store_->count_cases(filter); }

StaffMember Engine::staff_member(const std::string& staff_id) {
  if (auto member = store_->staff(staff_id)) return *member;
  std::vector<std::string> ids;
  for (const auto& m : store_->all_staff()) ids.push_back(m.id);
  throw not_found(tr(msg::runtime_unknown_staff, {staff_id, did_you_mean(staff_id, ids)}));
}

std::vector<std::string> Engine::case_ids(const std::string& typed_prefix, int64_t limit,
                                          const std::optional<std::vector<std::string>>& sites) {
  auto prefix = normalize_case_id_prefix(typed_prefix);
  if (!prefix) return {};
  return store_->case_ids(*prefix, limit, sites);
}

PublishedProcedure Engine::publish(const std::string& file, const std::string& actor_id,
                                   bool strict) {
  LoadOptions options;
  options.strict = strict;
  options.today = date_of(clock_->now());
  return publish_loaded(load_procedure_file(file, options), file, actor_id);
}

PublishedProcedure Engine::publish_source(const std::string& source, const std::string& name,
                                          const std::string& actor_id, bool strict,
                                          const std::vector<CalendarSource>& calendars) {
  LoadOptions options;
  options.strict = strict;
  options.today = date_of(clock_->now());
  for (const auto& c : calendars) options.calendars[c.name] = c;
  return publish_loaded(load_procedure_string(source, name, options), name, actor_id);
}

PublishedProcedure Engine::publish_loaded(const LoadResult& loaded, const std::string& file,
                                          const std::string& actor_id) {
  const Actor who = actor(actor_id);
  if (!has_role(who, "admin") && !has_role(who, "policy"))
    throw refused(tr(msg::runtime_publish_roles, {roles_of(who)}));
  // Everything after this is about the file: its name heads every message,
  // once (the hand-off message names it already).
  try {
    return publish_checked(loaded, file, who);
  } catch (const RefusedError&) {
    throw;
  } catch (const Error& e) {
    if (e.message().rfind(file + ":", 0) == 0) throw;
    throw e.with_context(file);
  }
}

void Engine::check_migration_published(const Procedure& procedure, const std::string& file,
                                       const std::vector<PublishedProcedure>& versions) {
  if (procedure.migrations.empty()) return;
  // The published versions the sections name: their cases may move here,
  // so the section naming each must fit it (sopir/migration.h).
  std::vector<Diagnostic> problems;
  for (const auto& other : versions) {
    ProcedurePtr old = this->procedure(other.sha256);
    if (!procedure.migration_from(old->version) || old->version >= procedure.version) continue;
    // Strict, as publishing checks the file itself: a field of the older
    // version neither kept nor dropped on purpose refuses too.
    for (auto& d : check_migration(*old, procedure, /*strict=*/true))
      if (d.severity == Severity::kError) problems.push_back(std::move(d));
  }
  if (problems.empty()) return;
  std::string listed = format_diagnostics(problems);
  while (!listed.empty() && listed.back() == '\n') listed.pop_back();
  throw refused(tr(msg::runtime_migration_does_not_fit, {file}) + "\n" + listed);
}

void Engine::check_version_order(const Procedure& procedure, const std::string& file,
                                 const std::vector<PublishedProcedure>& versions) {
  int highest = 0;
  for (const auto& other : versions) {
    if (other.sha256 == procedure.sha256) return;  // published already: nothing new is written
    // Above the file's number and the publication's: they differ for
    // versions published before the publication took the file's number.
    highest = std::max({highest, this->procedure(other.sha256)->version, other.version});
  }
  if (procedure.version <= highest)
    throw refused(tr(msg::runtime_publish_version_order,
                     {file, procedure.id, std::to_string(procedure.version),
                      std::to_string(highest), std::to_string(highest + 1)}));
}

PublishedProcedure Engine::publish_checked(const LoadResult& loaded, const std::string& file,
                                           const Actor& who) {
  ProcedurePtr procedure = expect_procedure(loaded);
  // Hand-offs are checked against what is published: this procedure's own,
  // and those of published procedures that hand off to it (its new version
  // must still fit them).
  const ProcedureLookup lookup = [&](const std::string& id) -> ProcedurePtr {
    if (id == procedure->id) return procedure;
    auto published = store_->current_procedure(id);
    return published ? this->procedure(published->sha256) : nullptr;
  };
  std::vector<std::string> problems = check_handoffs(*procedure, lookup);
  check_handoff_sites(*procedure, problems);
  for (const auto& other : store_->versions()) {
    if (!other.current || other.sop_id == procedure->id) continue;
    ProcedurePtr parent = this->procedure(other.sha256);
    const bool hands_to_it = std::any_of(
        parent->transitions.begin(), parent->transitions.end(),
        [&](const TransitionDef& t) {
          return std::any_of(t.opens.begin(), t.opens.end(),
                             [&](const HandOff& h) { return h.sop == procedure->id; });
        });
    if (!hands_to_it) continue;
    for (auto& problem : check_handoffs(*parent, lookup))
      problems.push_back(tr(msg::runtime_handoff_published_parent, {problem, parent->id, procedure->id}));
  }
  if (!problems.empty()) {
    std::string message = tr(msg::runtime_handoffs_do_not_fit, {file});
    for (const auto& problem : problems) message += "\n  " + problem;
    throw refused(message);
  }
  // This procedure's published versions, read once for the checks and the
  // note below (the version published here is left out where it matters).
  const std::vector<PublishedProcedure> versions = store_->versions_of(procedure->id);
  check_migration_published(*procedure, file, versions);
  check_version_order(*procedure, file, versions);
  std::optional<PublishedProcedure> published;
  store_->transaction([&] {
    published = store_->publish(procedure->id, procedure->sha256, procedure->source, file, who.id,
                                clock_->now(), procedure->version);
    if (procedure->calendar) store_->pin_calendars(procedure->sha256, procedure->calendar->sources);
    published->compiled = encode_procedure(*procedure);
    store_->set_compiled(procedure->sha256, published->compiled);
  });
  note_unpublished_migration_sources(*procedure, *published, versions);
  return *published;
}

void Engine::note_unpublished_migration_sources(const Procedure& procedure,
                                                PublishedProcedure& published,
                                                const std::vector<PublishedProcedure>& versions) {
  if (procedure.migrations.empty()) return;
  // By each version's `version:`, as from: names them (and migrate plan
  // matches them), not by the publication's number.
  std::vector<int> numbers;
  for (const auto& other : versions) {
    if (other.sha256 == procedure.sha256) continue;
    numbers.push_back(this->procedure(other.sha256)->version);
  }
  // A first publication of the procedure: no case of it runs here, so there
  // is nothing from: could fail to move (a new office installing national
  // files whose earlier versions it never had).
  if (numbers.empty()) return;
  std::sort(numbers.begin(), numbers.end());
  numbers.erase(std::unique(numbers.begin(), numbers.end()), numbers.end());
  std::vector<int>& unpublished = published.migrate_from_unpublished;
  // Every section's from:, in file order; each version is told once.
  for (int named : procedure.migrate_from_versions())
    if (!std::binary_search(numbers.begin(), numbers.end(), named)) unpublished.push_back(named);
  if (!unpublished.empty()) published.migrate_from_published = std::move(numbers);
}

namespace {

// A published version as it runs (Engine::procedure() without its cache);
// `from_source`: set when it was loaded from its source, its form missing
// or of another format.
ProcedurePtr read_published(Store& store, const std::string& sha256, bool* from_source) {
  // Read first without its source, which only a version without a form
  // it can run needs (read then).
  auto published = store.procedure_form_by_hash(sha256);
  if (!published) throw not_found(tr(msg::runtime_no_procedure_hash, {sha256}));
  // The compiled form saved at publishing spares parsing the YAML; without
  // one (or one this build does not read) the source is loaded. A published
  // procedure validated when it was published; lint changes in later sopir
  // versions must not stop running cases.
  // A procedure that counts working days is loaded with the calendar
  // pinned when it was published, never the file as it is now.
  std::optional<LoadOptions> pinned;
  const auto pinned_calendars = [&] {
    if (!pinned) {
      pinned.emplace();
      for (auto& c : store.pinned_calendars(sha256)) pinned->calendars[c.name] = c;
    }
    return pinned->calendars;
  };
  // A case runs by the compiled form when it names the hash the case is
  // pinned to; the source is then not hashed here. The form, not the
  // source, decides every step, and hashing the source (68 KB for victim
  // care, a fifth of a one-shot process's instructions) never proved the
  // form anyway: a form edited in place was run all the same. Both are
  // protected as every other row is: `audit verify` hashes each stored
  // source against its published hash and compares each form with its
  // source compiled again. A version read from its source (no form, or one
  // this build does not read, or naming another hash) is hashed first.
  ProcedurePtr compiled;
  if (!published->compiled.empty())
    compiled = decode_pinned_procedure(published->compiled, sha256, published->file, pinned_calendars);
  *from_source = !compiled;
  if (compiled) return compiled;
  published = store.procedure_by_hash(sha256);
  if (!published) throw not_found(tr(msg::runtime_no_procedure_hash, {sha256}));
  if (sha256_hex(published->source) != sha256)
    throw storage_error(
        tr(msg::runtime_procedure_edited, {published->sop_id, std::to_string(published->version)}));
  pinned_calendars();
  return expect_procedure(load_procedure_string(published->source, published->file, *pinned));
}

}  // namespace

ProcedurePtr Engine::procedure(const std::string& sha256) {
  if (auto it = compiled_.find(sha256); it != compiled_.end()) return it->second;
  bool from_source = false;
  ProcedurePtr compiled = read_published(*store_, sha256, &from_source);
  // A form of an older format (a database from an earlier sopir) is
  // written again in this build's, so that the next command runs by it.
  // Inside a step's transaction it stands or falls with the step; inside
  // reading() (a list read in one snapshot) the next command writes it.
  if (from_source && !store_->read_only() && !reading_) {
    const std::string form = encode_procedure(*compiled);
    store_->transaction([&] { store_->set_compiled(sha256, form); });
  }
  compiled_.emplace(sha256, compiled);
  return compiled;
}

std::vector<std::string> published_states(Store& store, const std::string& sop_id) {
  std::set<std::string> states;
  for (const PublishedProcedure& published : store.versions()) {
    if (!sop_id.empty() && published.sop_id != sop_id) continue;
    bool from_source = false;
    ProcedurePtr procedure;
    try {
      procedure = read_published(store, published.sha256, &from_source);
    } catch (const Error&) {
      continue;  // a version that does not load (edited, a calendar gone): verify names it
    }
    for (const StateDef& state : procedure->states) states.insert(state.id);
  }
  return {states.begin(), states.end()};
}

void Engine::reading(const std::function<void()>& body) {
  if (reading_) return body();
  reading_ = true;
  try {
    store_->read_snapshot(body);
  } catch (...) {
    reading_ = false;
    throw;
  }
  reading_ = false;
}

std::vector<ProcedurePtr> Engine::cached_procedures() const {
  std::vector<ProcedurePtr> out;
  out.reserve(compiled_.size());
  for (const auto& [sha256, p] : compiled_) out.push_back(p);
  return out;
}

namespace {

[[noreturn]] void no_procedure(Store& store, const std::string& sop_id) {
  std::vector<std::string> ids;
  for (const auto& p : store.versions()) ids.push_back(p.sop_id);
  throw not_found(no_procedure_message(sop_id, ids));
}

}  // namespace

ProcedurePtr Engine::current_procedure(const std::string& sop_id) {
  auto published = store_->current_procedure(sop_id);
  if (!published) no_procedure(*store_, sop_id);
  return procedure(published->sha256);
}

void require_procedure(Store& store, const std::string& sop_id) {
  if (!store.current_procedure(sop_id)) no_procedure(store, sop_id);
}

Actor Engine::actor(const std::string& staff_id) { return acting_staff(*store_, staff_id); }

std::string no_procedure_message(const std::string& sop_id, const std::vector<std::string>& published,
                                 std::string_view lang) {
  std::vector<std::string> ids = published;
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return tr(msg::runtime_no_procedure, lang_or_process(lang), {sop_id, suggest_name(sop_id, ids, 30, lang)});
}

Actor acting_staff(Store& store, const std::string& staff_id) {
  if (staff_id.empty()) throw usage_error(tr(msg::runtime_no_actor));
  if (staff_id == "system")
    throw refused(tr(msg::runtime_system_not_staff));
  auto member = store.staff(staff_id);
  if (!member) {
    std::vector<std::string> ids;
    for (const auto& m : store.all_staff()) ids.push_back(m.id);
    throw not_found(tr(msg::runtime_unknown_staff, {staff_id, did_you_mean(staff_id, ids)}));
  }
  if (!member->active) throw refused(tr(msg::runtime_staff_deactivated, {staff_id}));
  return Actor{member->id, member->roles, member->sites};
}

bool belongs_to_site(const Actor& who, const std::string& site) {
  return std::find(who.sites.begin(), who.sites.end(), site) != who.sites.end();
}

std::optional<std::vector<std::string>> readable_sites(const Actor& who) {
  if (has_role(who, "admin") || has_role(who, "national") || has_role(who, "auditor"))
    return std::nullopt;
  return who.sites;
}

std::optional<std::vector<std::string>> sites_held_to(Store& store, const Actor& who) {
  auto sites = readable_sites(who);
  if (!sites) return std::nullopt;
  for (const Site& site : store.sites())
    if (std::find(sites->begin(), sites->end(), site.id) == sites->end()) return sites;
  return std::nullopt;
}

RevealBar reveal_bar(const Actor& who, const std::string& site, const Procedure& procedure) {
  if (!who.id.empty() && !belongs_to_site(who, site)) return RevealBar::kSite;
  if (who.id.empty() || !may_see_personal_data(procedure, who)) return RevealBar::kRole;
  return RevealBar::kNone;
}

bool may_act_at_site(const Actor& who, const std::string& site) {
  return who.id.empty() || who.id == "system" || (belongs_to_site(who, site) && !has_role(who, "auditor"));
}

namespace {
// check_site_access()'s refusal, "" when there is none.
std::string site_problem(const Actor& who, const CaseRecord& record, bool acting) {
  if (who.id.empty() || who.id == "system") return {};
  if (acting && may_act_at_site(who, record.site)) return {};
  const bool member = belongs_to_site(who, record.site);
  if (!acting && (member || !readable_sites(who))) return {};
  const std::string sites = who.sites.empty() ? tr(msg::runtime_no_sites_word) : join(who.sites);
  if (acting && has_role(who, "auditor")) return tr(msg::runtime_auditor_acts, {who.id, record.id});
  // An administrator adds members to sites, themselves included: told so, not
  // to ask an administrator.
  const auto which = !acting                  ? msg::runtime_site_read
                     : has_role(who, "admin") ? msg::runtime_site_act_admin
                                              : msg::runtime_site_act;
  return tr(which, {record.id, record.site, who.id, sites});
}
}  // namespace

void check_site_access(const Actor& who, const CaseRecord& record, bool acting) {
  if (std::string problem = site_problem(who, record, acting); !problem.empty())
    throw refused(problem);
}

void check_site_access(Store& store, const Actor& who, const std::string& case_id) {
  if (who.id.empty() || who.id == "system") return;
  if (const std::optional<CaseRecord> record = store.find_case(case_id))
    check_site_access(who, *record, false);
}

namespace {
void require_admin(const Actor& who) {
  if (!has_role(who, "admin"))
    throw refused(tr(msg::runtime_manage_staff_roles, {roles_of(who)}));
}
}  // namespace

void Engine::add_staff(const std::string& admin, const StaffMember& member) {
  require_admin(actor(admin));
  if (!valid_staff_id(member.id))
    throw usage_error(tr(msg::runtime_staff_id, {member.id}));
  if (member.name.empty()) throw usage_error(tr(msg::runtime_staff_needs_name));
  if (member.roles.empty()) throw usage_error(tr(msg::runtime_staff_needs_role));
  const Actor as_actor{member.id, member.roles, member.sites};
  if (member.sites.empty() && readable_sites(as_actor)) {
    // Staff who read only their sites' cases need one; with a single site
    // the store makes them a member of it.
    const std::vector<std::string> ids = site_ids(*store_);
    if (ids.size() > 1) throw usage_error(tr(msg::runtime_staff_needs_site, {member.id, join(ids)}));
  }
  store_->add_staff(member, RegistryStamp{admin, clock_->now()});
}

void Engine::add_site(const std::string& admin, const Site& site) {
  const Actor who = actor(admin);
  if (!has_role(who, "admin")) throw refused(tr(msg::runtime_manage_sites, {roles_of(who)}));
  if (!valid_staff_id(site.id)) throw usage_error(tr(msg::runtime_site_id, {site.id}));
  if (!has_visible_text(site.name)) throw usage_error(tr(msg::runtime_site_needs_name, {site.id}));
  if (std::string problem = control_problem(site.name, false); !problem.empty())
    throw usage_error(tr(msg::runtime_site_name_control, {problem}));
  store_->add_site(site, RegistryStamp{who.id, clock_->now()});
}

std::vector<Site> Engine::sites() { return store_->sites(); }

void Engine::set_staff_site(const std::string& admin, const std::string& staff_id, const std::string& site,
                            bool held) {
  const Actor who = actor(admin);
  if (!has_role(who, "admin")) throw refused(tr(msg::runtime_manage_sites, {roles_of(who)}));
  auto member = store_->staff(staff_id);
  if (!member) actor(staff_id);  // kNotFound with "did you mean"
  require_known_site(*store_, site);
  const bool has = std::find(member->sites.begin(), member->sites.end(), site) != member->sites.end();
  if (has == held)
    throw conflict(tr(held ? msg::runtime_already_in_site : msg::runtime_not_in_site, {staff_id, site}));
  store_->set_staff_site(staff_id, site, held, RegistryStamp{who.id, clock_->now()});
}

void Engine::add_staff(const std::string& admin, const StaffMember& member, std::string_view passphrase,
                       KdfCost cost) {
  require_admin(actor(admin));
  check_new_passphrase(passphrase);
  const std::string hash = hash_passphrase(passphrase, cost);  // slow: before the write lock
  store_->transaction([&] {
    add_staff(admin, member);
    keep_passphrase(*store_, member.id, hash, passphrase, RegistryStamp{admin, clock_->now()});
  });
}

void Engine::set_staff_role(const std::string& admin, const std::string& staff_id, const std::string& role,
                            bool held) {
  const Actor who = actor(admin);
  require_admin(who);
  if (!valid_staff_id(role) || role == "system")
    throw usage_error(tr(msg::runtime_not_role_id, {role}));
  if (!held && staff_id == who.id && role == "admin")
    throw refused(tr(msg::runtime_own_admin_role));
  auto member = store_->staff(staff_id);
  if (!member) actor(staff_id);  // kNotFound with "did you mean"
  const bool has = std::find(member->roles.begin(), member->roles.end(), role) != member->roles.end();
  if (has == held)
    throw conflict(tr(held ? msg::runtime_already_has_role : msg::runtime_does_not_have_role, {staff_id, role}));
  if (!held && member->roles.size() == 1)
    throw refused(tr(msg::runtime_only_role, {role, staff_id}));
  store_->set_staff_role(staff_id, role, held, RegistryStamp{who.id, clock_->now()});
}

void Engine::deactivate_staff(const std::string& admin, const std::string& staff_id) {
  const Actor who = actor(admin);
  require_admin(who);
  if (staff_id == who.id) throw refused(tr(msg::runtime_deactivate_self));
  actor(staff_id);  // kNotFound with "did you mean", or kRefused when already inactive
  store_->set_staff_active(staff_id, false, RegistryStamp{who.id, clock_->now()});
}

SessionIdentity Engine::session_identity() { return store_->session_identity(); }

std::string Engine::set_staff_login(const std::string& admin, const std::string& staff_id, const std::string& login) {
  const Actor who = actor(admin);
  require_admin(who);
  if (!store_->staff(staff_id)) actor(staff_id);  // kNotFound with "did you mean"
  // A first password for a role the server does not have yet: 160 random
  // bits, hex (no quoting in SQL or a shell).
  if (sodium_init() < 0) throw storage_error(tr(msg::runtime_crypto_unavailable));
  unsigned char bytes[20];
  randombytes_buf(bytes, sizeof bytes);
  char hex[sizeof bytes * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, bytes, sizeof bytes);
  std::string password(hex);
  sodium_memzero(hex, sizeof hex);
  const bool created = store_->set_staff_login(staff_id, login, password, RegistryStamp{who.id, clock_->now()});
  if (!created) password.clear();
  return password;
}

void Engine::seal_database_key(const std::string& admin, const std::string& key_file_id, bool rotate) {
  require_admin(actor(admin));
  const std::string current = store_->key_file_id();
  if (!rotate && !current.empty()) throw conflict(tr(msg::runtime_key_exists, {current}));
  if (rotate && current.empty()) throw usage_error(tr(msg::runtime_key_none));
  if (rotate && current == key_file_id) throw usage_error(tr(msg::runtime_key_same, {current}));
  store_->seal_database_key(key_file_id);
}

std::string Engine::add_staff(const std::string& admin, const StaffMember& member, const std::string& login) {
  std::string password;
  store_->transaction([&] {
    add_staff(admin, member);
    password = set_staff_login(admin, member.id, login);
  });
  return password;
}


namespace {

// Fields a decision under `p` may read the value of: its guards, its `set:`
// expressions, the values its hand-offs copy and the dates deadlines count
// from (a stand-in date would give a wrong due time); with `event` >= 0, only
// those of that event's steps from `state`. Others a step only needs to
// know are present (requires:).
std::vector<bool> fields_decided_on(const Procedure& p, int event, int state) {
  std::vector<bool> read(p.fields.size(), false);
  auto mark = [&](const std::shared_ptr<const Expr>& expr) {
    if (!expr) return;
    for (int f : fields_read(*expr)) {
      if (f >= 0 && static_cast<size_t>(f) < read.size()) read[static_cast<size_t>(f)] = true;
    }
  };
  const auto anchor = [&](int s) {  // a deadline counted from a field's date
    const int f = s >= 0 ? p.states[static_cast<size_t>(s)].deadline_from : -1;
    if (f >= 0 && static_cast<size_t>(f) < read.size()) read[static_cast<size_t>(f)] = true;
  };
  for (const TransitionDef& t : p.transitions) {
    if (event >= 0 &&
        (t.event != event || std::find(t.from.begin(), t.from.end(), state) == t.from.end()))
      continue;
    if (event >= 0) anchor(t.target(state));
    mark(t.guard);
    for (const Assignment& a : t.set) mark(a.expr);
    for (const HandOff& h : t.opens) {
      for (const auto& copied : h.copy) {
        if (copied.second >= 0 && static_cast<size_t>(copied.second) < read.size()) read[static_cast<size_t>(copied.second)] = true;
      }
    }
  }
  if (event < 0) {
    mark(p.open_guard);
    for (size_t s = 0; s < p.states.size(); ++s) anchor(static_cast<int>(s));
  }
  return read;
}

// A present value of `type` standing in for a locked one no rule reads.
Value stand_in(Type type) {
  switch (type) {
    case Type::kInt: return int64_t{0};
    case Type::kBool: return false;
    case Type::kDate: return Date{};
    case Type::kDateTime: return DateTime{};
    case Type::kDuration: return Duration{};
    default: return std::string();
  }
}

}  // namespace

std::vector<Value> Engine::decode_data(const Procedure& p, const CaseRecord& record, int event,
                                       int state) {
  std::vector<Value> data(p.fields.size());
  // A locked value (encrypted, no key held: the timer pass) is present; a
  // rule that reads its text cannot be decided without it, so refuse then.
  std::vector<bool> read;
  for (const auto& stored : record.data) {
    const int index = p.field_index(stored.field);
    if (index < 0 || stored.missing || stored.erased) continue;
    const FieldDef& field = p.fields[index];
    if (stored.locked) {
      if (read.empty())
        read = fields_decided_on(p, event, state >= 0 ? state : p.state_index(record.state));
      // Deciding on a value not known would decide wrongly: refuse instead.
      if (read[static_cast<size_t>(index)]) throw denied(tr(msg::runtime_personal_locked, {record.id}));
      data[index] = stand_in(field.type);
      continue;
    }
    if (auto value = parse_typed(field.type, field.values, stored.text, nullptr)) {
      data[index] = std::move(*value);
    } else {
      throw storage_error(tr(msg::runtime_bad_stored_value, {record.id, field.id, type_name(field.type)}));
    }
  }
  return data;
}

std::string Engine::resolve_case_id(const std::string& typed, const std::string& reader) {
  auto id = normalize_case_id(typed);
  if (id && store_->case_exists(*id)) return *id;
  throw_no_case(typed, id, reader);
}

CaseRecord Engine::find_typed_case(const std::string& typed, const std::string& reader) {
  auto id = normalize_case_id(typed);
  if (id) {
    if (auto record = store_->find_case(*id)) return std::move(*record);
  }
  throw_no_case(typed, id, reader);
}

void Engine::throw_no_case(const std::string& typed, const std::optional<std::string>& id,
                           const std::string& reader) {
  std::string message = tr(msg::runtime_no_case, {typed});
  if (!id) message += tr(msg::runtime_case_id_form);
  std::string prefix;
  if (id) prefix = id->substr(0, 2);
  // Only ids of cases the reader reads are suggested (none for a reader
  // who is not staff: their own refusal comes next).
  std::optional<std::vector<std::string>> sites;
  if (!reader.empty() && reader != "system") {
    try {
      sites = readable_sites(actor(reader));
    } catch (const Error&) {
      sites = std::vector<std::string>{};
    }
  }
  auto close = store_->case_ids(prefix, 200, sites);
  throw not_found(message + did_you_mean(id.value_or(typed), close, ""));
}

namespace {

// Whether a decision from the case's state needs its history (four-eyes)
// or the cases it opened (has_child, child_closed guards).
struct SnapshotNeeds {
  bool history = false;
  bool children = false;
  bool clocks = false;  // clock_overdue guards: the clocks, from the history
};

SnapshotNeeds needs_of(const Procedure& p, int state) {
  SnapshotNeeds needs;
  if (state < 0) return needs;
  for (int t : p.transitions_from[state]) {
    const TransitionDef& def = p.transitions[t];
    needs.history = needs.history || !def.distinct_from.empty();
    needs.children = needs.children || (def.guard && reads_tracks(*def.guard));
    needs.clocks = needs.clocks || (def.guard && reads_clocks(*def.guard));
  }
  return needs;
}

LogEntry base_entry(const CaseRecord& record, const std::string& actor, DateTime at, DateTime now) {
  LogEntry entry;
  entry.case_id = record.id;
  entry.sha256 = record.sha256;
  entry.from_state = record.state;
  entry.from_status = to_string(record.status);
  entry.actor = actor;
  entry.occurred_at = at;
  entry.recorded_at = now;
  return entry;
}

}  // namespace

void Engine::fired_events(const Procedure& p, const std::vector<LogEntry>& history,
                          std::vector<std::pair<int, std::string>>& fired) {
  // Event indices in the version the case ran under at each row: the one
  // its first migration row left, or `p` when it never moved. A migration
  // row carries them into the version it moved to, as audit replay does
  // (carried_event), and forgets those the new version lacks.
  ProcedurePtr held;  // keeps a version read from the store alive
  const Procedure* at = &p;
  for (const auto& entry : history) {
    if (entry.kind != LogKind::kMigration) continue;
    for (const auto& [key, value] : entry.inputs)
      if (key == "from_sha256" && value != p.sha256) at = (held = procedure(value)).get();
    break;
  }
  std::vector<std::pair<int, const std::string*>> events;  // index in *at, actor
  for (const auto& entry : history) {
    if (entry.kind == LogKind::kMigration) {
      ProcedurePtr next = entry.sha256 == p.sha256 ? nullptr : procedure(entry.sha256);
      const Procedure& to = next ? *next : p;
      std::vector<std::pair<int, const std::string*>> carried;
      for (const auto& [e, actor] : events)
        if (const int c = to.carried_event(at->version, at->events[static_cast<size_t>(e)]); c >= 0)
          carried.emplace_back(c, actor);
      events = std::move(carried);
      held = std::move(next);
      at = &to;
    } else if (entry.kind == LogKind::kProcedure || entry.kind == LogKind::kOverride) {
      if (const int e = at->event_index(entry.event); e >= 0) events.emplace_back(e, &entry.actor);
    }
  }
  for (const auto& [e, actor] : events) fired.emplace_back(e, *actor);
}

CaseSnapshot Engine::snapshot(const Procedure& p, const CaseRecord& record,
                              const std::vector<LogEntry>* history,
                              const std::vector<ChildCase>* children_read, int event) {
  CaseSnapshot snapshot;
  snapshot.id = record.id;
  snapshot.state = p.state_index(record.state);
  if (snapshot.state < 0)
    throw storage_error(tr(msg::runtime_unknown_state, {record.id, record.state}));
  snapshot.status = record.status;
  snapshot.data = decode_data(p, record, event);
  snapshot.due_at = record.due_at;
  const SnapshotNeeds needs = needs_of(p, snapshot.state);
  if (needs.history || needs.clocks) {
    std::vector<LogEntry> read;
    if (!history) history = &(read = store_->history(record.id));
    fired_events(p, *history, snapshot.fired);
    if (needs.clocks) snapshot.clocks = clock_readings(p, *history);
  }
  if (needs.children) {
    std::vector<ChildCase> children =
        children_read ? *children_read : store_->child_cases(record.id);
    // Oldest first, as replay sees them (by log row): by opening time, and
    // the tracks of one step in the order its hand-offs are written.
    const auto rank = [&](const std::string& sop) {
      int k = 0;
      for (const auto& t : p.transitions) {
        for (const HandOff& h : t.opens) {
          if (h.sop == sop) return k;
          ++k;
        }
      }
      return k;
    };
    std::stable_sort(children.begin(), children.end(), [&](const ChildCase& a, const ChildCase& b) {
      if (a.opened_at.seconds != b.opened_at.seconds) return a.opened_at.seconds < b.opened_at.seconds;
      return rank(a.sop_id) < rank(b.sop_id);
    });
    for (const auto& c : children)
      snapshot.children.push_back(linked_case(c.id, c.sop_id, c.status, c.state, c.closure_reason));
  }
  return snapshot;
}

Engine::PartRead Engine::snapshots(const std::vector<CaseRecord>& records,
                                   const std::vector<ProcedurePtr>& procedures) {
  // Which cases need their log (four-eyes, clock guards, or clocks to show)
  // and which the cases they opened: read by one store call each.
  std::vector<std::string> log_ids, child_ids;
  std::vector<int> log_at(records.size(), -1), child_at(records.size(), -1);
  for (size_t i = 0; i < records.size(); ++i) {
    const Procedure& p = *procedures[i];
    const SnapshotNeeds needs = needs_of(p, p.state_index(records[i].state));
    if (needs.history || needs.clocks || !p.clocks.empty()) {
      log_at[i] = static_cast<int>(log_ids.size());
      log_ids.push_back(records[i].id);
    }
    if (needs.children) {
      child_at[i] = static_cast<int>(child_ids.size());
      child_ids.push_back(records[i].id);
    }
  }
  std::vector<std::vector<LogEntry>> read = store_->histories(log_ids);
  const std::vector<std::vector<ChildCase>> children = store_->children_of(child_ids);
  PartRead out;
  out.snapshots.reserve(records.size());
  out.logs.resize(records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    out.snapshots.push_back(snapshot(*procedures[i], records[i],
                                     log_at[i] < 0 ? nullptr : &read[log_at[i]],
                                     child_at[i] < 0 ? nullptr : &children[child_at[i]]));
    if (log_at[i] >= 0 && !procedures[i]->clocks.empty()) out.logs[i] = std::move(read[log_at[i]]);
  }
  return out;
}

std::string Engine::new_case_id() {
  for (int attempt = 0; attempt < 20; ++attempt) {
    std::string id = ids_->next();
    if (!store_->case_exists(id)) return id;
  }
  throw conflict(tr(msg::runtime_no_free_id));
}

std::string Engine::opening_site(const Actor& who, const std::string& asked) {
  if (has_role(who, "auditor")) throw refused(tr(msg::runtime_auditor_opens, {who.id}));
  if (asked.empty()) {
    if (who.sites.size() == 1) return who.sites.front();
    if (who.sites.empty()) throw refused(tr(msg::runtime_open_no_site, {who.id}));
    throw usage_error(tr(msg::runtime_open_which_site, {who.id, join(who.sites)}));
  }
  if (belongs_to_site(who, asked)) return asked;
  require_known_site(*store_, asked);
  throw refused(tr(msg::runtime_open_other_site, {who.id, asked,
                                                  who.sites.empty() ? tr(msg::runtime_no_sites_word) : join(who.sites)}));
}

DateTime Engine::occurred_at(const std::optional<DateTime>& given, DateTime now,
                             const CaseRecord* record) {
  if (!given) return now;
  const std::string id = record ? record->id : "";
  if (given->seconds > now.seconds)
    throw_refusal(
        id, Refusal{RefusalKind::kBadInput,
                    tr(msg::runtime_at_future, {format_datetime(*given), format_datetime(now)})});
  if (!record) return *given;
  const std::vector<LogEntry> log = store_->history(record->id);
  if (!log.empty() && given->seconds < log.back().occurred_at.seconds)
    throw_refusal(id,
                  Refusal{RefusalKind::kBadInput,
                          tr(msg::runtime_at_before_last,
                             {format_datetime(*given), format_datetime(log.back().occurred_at)})});
  return *given;
}

Engine::Opening Engine::plan_open(const Procedure& p, const Actor& who,
                                  const std::vector<std::pair<std::string, std::string>>& inputs,
                                  const std::string& note, DateTime at, DateTime now,
                                  bool by_handoff) {
  Decision decision = decide_open(p, who, inputs, at, by_handoff, lang_);
  if (auto* refusal = std::get_if<Refusal>(&decision)) throw_refusal("", *refusal);
  const Transition& t = std::get<Transition>(decision);

  Opening out;
  CaseRecord& record = out.record;
  record.id = new_case_id();
  record.sop_id = p.id;
  record.sha256 = p.sha256;
  record.state = p.states[t.to].id;
  record.status = t.closes_case ? Status::kClosed : Status::kActive;
  record.version = 1;
  record.opened_at = at;
  record.due_at = t.due_at;

  LogEntry& entry = out.entry;
  entry = base_entry(record, who.id, at, now);
  entry.kind = LogKind::kOpen;
  entry.event = "open";
  entry.from_state = "";
  entry.from_status = "";
  entry.to_state = record.state;
  entry.to_status = to_string(record.status);
  entry.role = t.role;
  entry.note = checked_note(note);
  entry.inputs = logged_inputs(p, inputs);
  entry.changes = apply_to_record(p, t.changes, record);
  entry.due_at = record.due_at;
  return out;
}

StepResult Engine::open_case(const OpenRequest& request) {
  const Actor who = actor(request.actor);
  ProcedurePtr p = current_procedure(request.sop_id);
  return open_resolved(*p, who, request);
}

StepResult Engine::open_resolved(const Procedure& p, const Actor& who, const OpenRequest& request) {
  const DateTime now = clock_->now();
  const std::string site = opening_site(who, request.site);
  check_utf8_inputs(request.inputs, "");
  Opening opening = plan_open(p, who, request.inputs, request.note,
                              occurred_at(request.at, now, nullptr), now, false);
  opening.record.site = site;
  opening.entry.site = site;
  store_->create_case(opening.record, opening.entry);
  set_chain_head(opening.record, opening.entry);
  return StepResult{opening.record, opening.entry, {}};
}

namespace {

// The value of `look` for `key`, looked up once: a failure other than a
// storage error is kept and thrown again, as the same exception object.
template <typename T, typename Looked, typename F>
const T& look_up_once(Looked& memo, const std::string& key, F&& look) {
  if (!memo.done || memo.key != key) {
    memo.key = key;
    memo.done = false;
    memo.error = nullptr;
    try {
      memo.value = look();
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::kStorage) throw;
      memo.error = std::current_exception();
    }
    memo.done = true;
  }
  if (memo.error) std::rethrow_exception(memo.error);
  return memo.value;
}

}  // namespace

StepResult Engine::Opener::open(const OpenRequest& request) {
  // The order of open_case: the actor first, then the procedure.
  const Actor& who = look_up_once<Actor>(actor_, request.actor,
                                         [&] { return engine_.actor(request.actor); });
  const ProcedurePtr& p = look_up_once<ProcedurePtr>(
      procedure_, request.sop_id, [&] { return engine_.current_procedure(request.sop_id); });
  return engine_.open_resolved(*p, who, request);
}

StepResult Engine::advance(const StepRequest& request) {
  // Read, decide and write in one write transaction, so that nothing
  // decide() saw (the case, its history, the cases it opened, whose status
  // the case row's version does not cover) changes before the step is
  // recorded. The case is read once: the id lookup is the read. Nothing in
  // the step catches a failed write, so its writes need no savepoints of
  // their own (all or nothing): a failure anywhere leaves the whole step
  // unwritten, as a savepoint per write would.
  std::optional<StepResult> result;
  store_->transaction_all_or_nothing([&] {
    result = advance_in_transaction(find_typed_case(request.case_id, request.actor), request);
  });
  return std::move(*result);
}

StepResult Engine::advance_held(const CaseRecord& held, const StepRequest& request) {
  std::optional<StepResult> result;
  store_->transaction_all_or_nothing([&] { result = advance_in_transaction(held, request); });
  return std::move(*result);
}

LogEntry Engine::checkpoint(const std::string& actor_id) {
  if (actor_id != "system") {
    const Actor who = actor(actor_id);  // kNotFound / kRefused for unknown or inactive staff
    // A checkpoint is a row of the log, and auditors write nothing.
    if (has_role(who, "auditor")) throw refused(tr(msg::runtime_auditor_checkpoint, {who.id}));
  }
  return store_->checkpoint(actor_id, clock_->now());
}

StepResult Engine::advance_in_transaction(const CaseRecord& held, const StepRequest& request) {
  Command command;
  command.actor = request.timer ? Actor{"system", {}} : actor(request.actor);
  command.timer = request.timer;
  if (!request.timer) check_site_access(command.actor, held, true);
  const CaseRecord* record = &held;
  const std::string& id = held.id;
  ProcedurePtr p = procedure(record->sha256);
  const CaseSnapshot before =
      snapshot(*p, *record, nullptr, nullptr, p->event_index(request.event));
  const DateTime now = clock_->now();
  command.event = request.event;
  command.inputs = request.inputs;
  command.reason = request.reason;
  command.override = request.override;
  check_utf8_inputs(request.inputs, id);
  command.at = occurred_at(request.at, now, record);
  command.lang = lang_;
  Decision decision = decide(*p, before, command, request.trace);
  if (auto* refusal = std::get_if<Refusal>(&decision)) throw_refusal(id, *refusal);
  const Transition& t = std::get<Transition>(decision);

  CaseRecord after = *record;
  after.state = p->states[t.to].id;
  after.version = record->version + 1;
  after.due_at = t.due_at;
  if (t.closes_case) after.status = Status::kClosed;

  LogEntry entry = base_entry(*record, command.actor.id, command.at, now);
  entry.kind = command.timer ? LogKind::kTimer : (t.overridden ? LogKind::kOverride : LogKind::kProcedure);
  entry.event = request.event;
  entry.to_state = after.state;
  entry.to_status = to_string(after.status);
  entry.role = t.role;
  entry.note = checked_note(request.note);
  entry.reason = t.overridden && request.reason.empty() ? t.guard_explanation : request.reason;
  entry.inputs = logged_inputs(*p, request.inputs);
  entry.changes = apply_to_record(*p, t.changes, after);
  entry.due_at = after.due_at;

  const TransitionDef& def = p->transitions[t.transition];
  if (def.opens.empty()) {
    store_->append_held(*record, after, entry);
    set_chain_head(after, entry);
    return StepResult{after, entry, {}};
  }
  // A hand-off: the step and every case it opens (its tracks) commit
  // together, or nothing does. All are planned (and may be refused) before
  // anything is written.
  std::vector<Opening> children;
  std::vector<std::string> ids;
  for (const HandOff& h : def.opens) {
    Opening child = plan_handoff(*p, def, before.state, h, after, command.actor, command.at, now);
    if (std::find(ids.begin(), ids.end(), child.record.id) != ids.end())
      throw conflict(tr(msg::runtime_same_new_id, {id}));
    ids.push_back(child.record.id);
    child.record.parent_case = id;
    child.entry.linked_case = id;
    children.push_back(std::move(child));
  }
  entry.linked_case = join_case_ids(ids);
  store_->transaction([&] {
    store_->append_held(*record, after, entry);
    for (Opening& child : children) store_->create_case(child.record, child.entry);
  });
  set_chain_head(after, entry);
  StepResult result{after, entry, {}};
  for (Opening& child : children) {
    set_chain_head(child.record, child.entry);
    result.opened.push_back(StepResult::Opened{child.record, child.entry});
  }
  return result;
}

StepResult Engine::transfer_case(const TransferRequest& request) {
  const Actor who = actor(request.actor);
  StepResult result;
  store_->transaction([&] {
    const CaseRecord record = find_typed_case(request.case_id, request.actor);
    // Moving a case between offices: an administrator, or staff of both.
    if (!has_role(who, "admin")) check_site_access(who, record, true);
    if (!has_visible_text(request.reason))
      throw usage_error(tr(msg::runtime_transfer_reason, {record.id}));
    if (std::string problem = control_problem(request.reason, false); !problem.empty())
      throw usage_error(tr(msg::runtime_reason_control, {problem}));
    if (request.to_site == record.site)
      throw usage_error(tr(msg::runtime_transfer_same, {record.id, record.site}));
    require_known_site(*store_, request.to_site);
    if (!has_role(who, "admin") && !belongs_to_site(who, request.to_site))
      throw refused(tr(msg::runtime_transfer_both_sites, {who.id, record.id, record.site, request.to_site}));
    const DateTime now = clock_->now();
    CaseRecord after = record;
    after.site = request.to_site;
    after.version = record.version + 1;
    LogEntry entry = base_entry(record, who.id, now, now);
    entry.kind = LogKind::kTransfer;
    entry.event = "transfer";
    entry.to_state = record.state;
    entry.to_status = to_string(record.status);
    entry.reason = request.reason;
    entry.note = checked_note(request.note);
    entry.inputs = {{"from_site", record.site}, {"to_site", request.to_site}};
    entry.site = request.to_site;
    entry.due_at = record.due_at;
    store_->append_held(record, after, entry);
    set_chain_head(after, entry);
    result = StepResult{after, entry, {}};
  });
  return result;
}

// The sites a procedure's hand-offs name (site:, or the values of an enum
// field named by site_from:) must be sites of this database.
void Engine::check_handoff_sites(const Procedure& p, std::vector<std::string>& problems) {
  const std::vector<std::string> ids = site_ids(*store_);
  const auto known = [&](const std::string& id) { return std::find(ids.begin(), ids.end(), id) != ids.end(); };
  for (const TransitionDef& t : p.transitions) {
    for (const HandOff& h : t.opens) {
      const std::string at = where(p, h.pos);
      if (!h.site.empty() && !known(h.site))
        problems.push_back(at + tr(msg::runtime_handoff_site_unpublishable, {h.sop, h.site, join(ids)}));
      if (h.site_field < 0) continue;
      const FieldDef& f = p.fields[static_cast<size_t>(h.site_field)];
      for (const std::string& value : f.values)
        if (!known(value))
          problems.push_back(at + tr(msg::runtime_handoff_site_value_unknown, {h.sop, f.id, value, join(ids)}));
    }
  }
}

// Where a hand-off opens its case: the site it names, the one the parent's
// field names after the step, or the parent's own. The procedure authorises
// opening a case at another office; the site must exist.
std::string Engine::handoff_site(const Procedure& p, const TransitionDef& def, const HandOff& h,
                                 const CaseRecord& parent, const std::vector<Value>& data) {
  std::string site = parent.site;
  if (!h.site.empty()) site = h.site;
  if (h.site_field >= 0) {
    const Value& v = data[static_cast<size_t>(h.site_field)];
    const std::string& field = p.fields[static_cast<size_t>(h.site_field)].id;
    if (is_missing(v))
      throw refused(tr(msg::runtime_handoff_site_missing, {parent.id, p.events[def.event], h.sop, field}));
    site = format_value(v);
  }
  if (site == parent.site) return site;
  const std::vector<std::string> ids = site_ids(*store_);
  if (std::find(ids.begin(), ids.end(), site) == ids.end())
    throw refused(tr(msg::runtime_handoff_site_unknown, {parent.id, p.events[def.event], h.sop, site, join(ids)}));
  return site;
}

Engine::Opening Engine::plan_handoff(const Procedure& p, const TransitionDef& def, int from_state,
                                     const HandOff& h, const CaseRecord& parent, const Actor& who,
                                     DateTime at, DateTime now) {
  auto published = store_->current_procedure(h.sop);
  if (!published)
    throw refused(tr(msg::runtime_handoff_unpublished, {parent.id, p.events[def.event], h.sop}));
  ProcedurePtr target = procedure(published->sha256);
  const std::vector<Value> data = decode_data(p, parent, def.event, from_state);
  std::vector<std::pair<std::string, std::string>> inputs;
  for (const auto& [to_field, from_index] : h.copy) {
    if (!is_missing(data[from_index])) inputs.emplace_back(to_field, format_value(data[from_index]));
  }
  inputs.insert(inputs.end(), h.set.begin(), h.set.end());
  const std::string note = "opened by case " + parent.id + " (" + p.id + ", " +
                           p.events[def.event] + ")";
  const std::string site = handoff_site(p, def, h, parent, data);
  try {
    Opening child = plan_open(*target, who, inputs, note, at, now, true);
    child.record.site = site;
    child.entry.site = site;
    return child;
  } catch (const RefusedError& e) {
    Refusal refusal = e.refusal();
    refusal.message = tr(msg::runtime_handoff_refused, {parent.id, h.sop, refusal.message});
    throw RefusedError(std::move(refusal), parent.id);
  }
}

StepResult Engine::lifecycle(const LifecycleRequest& request) {
  const std::optional<CaseRecord> record = find_typed_case(request.case_id, request.actor);
  const std::string& id = record->id;
  const Actor who = actor(request.actor);
  check_site_access(who, *record, true);
  ProcedurePtr p = procedure(record->sha256);
  const CaseSnapshot current = snapshot(*p, *record);
  const DateTime now = clock_->now();
  LifecycleCommand command{request.event, who, request.reason,
                           occurred_at(request.at, now, &*record), lang_};
  LifecycleDecision decision = decide_lifecycle(*p, current, command, record->hold_started);
  if (auto* refusal = std::get_if<Refusal>(&decision)) throw_refusal(id, *refusal);
  const LifecycleTransition& t = std::get<LifecycleTransition>(decision);

  CaseRecord after = *record;
  after.status = t.to;
  after.state = p->states[t.state_to].id;
  after.version = record->version + 1;
  after.due_at = t.due_at;
  after.hold_started.reset();
  if (t.to == Status::kOnHold) after.hold_started = command.at;
  if (request.event == LifecycleEvent::kClose) after.closure_reason = request.reason;
  if (request.event == LifecycleEvent::kReopen) after.closure_reason.clear();

  LogEntry entry = base_entry(*record, who.id, command.at, now);
  entry.kind = LogKind::kLifecycle;
  entry.event = to_string(request.event);
  entry.to_state = after.state;
  entry.to_status = to_string(after.status);
  entry.role = t.role;
  entry.note = checked_note(request.note);
  entry.reason = request.reason;
  entry.due_at = after.due_at;
  store_->append_held(*record, after, entry);
  set_chain_head(after, entry);
  return StepResult{after, entry, {}};
}

int Engine::due_event(const Procedure& p, const CaseRecord& record, DateTime now) {
  if (record.status != Status::kActive || !record.due_at || record.due_at->seconds > now.seconds)
    return -1;
  const int state = p.state_index(record.state);
  return state < 0 ? -1 : p.states[state].on_deadline;
}

std::vector<DueCase> Engine::due_cases(DateTime now, bool firing,
                                       const std::optional<std::vector<std::string>>& sites) {
  CaseFilter filter;
  filter.status = Status::kActive;
  filter.sites = sites;
  // A deadline is reached at its due time (workflows/README.md: "a due time
  // at or before T"); the store's due_before is strict, and times are whole
  // seconds, so ask for due times before now + 1s.
  filter.due_before = DateTime{now.seconds + 1};
  std::vector<DueCase> out;
  reading([&] {
    store_->each_part(
        filter,
        [&](std::vector<CaseRecord>& part) {
          for (CaseRecord& record : part) {
            if (firing && due_event(*procedure(record.sha256), record, now) < 0) continue;
            out.push_back({std::move(record.id), std::move(record.sop_id), std::move(record.state),
                           *record.due_at});
          }
        },
        static_cast<int64_t>(kCasesPerRead));
  });
  std::sort(out.begin(), out.end(), [](const DueCase& a, const DueCase& b) {
    if (a.due_at != b.due_at) return a.due_at < b.due_at;
    return a.id < b.id;
  });
  return out;
}

TickReport Engine::tick(const TraceFor& trace_for, const std::string& asked_by) {
  TickReport report;
  if (!asked_by.empty() && asked_by != "system") {
    const Actor who = actor(asked_by);  // kNotFound / kRefused for unknown or inactive staff
    // The pass writes the steps it fires, and auditors write nothing.
    if (has_role(who, "auditor")) throw refused(tr(msg::runtime_auditor_tick, {who.id}));
    report.sites = sites_held_to(*store_, who);
  }
  const std::optional<std::vector<std::string>>& sites = report.sites;
  const DateTime now = clock_->now();
  for (const DueCase& due : due_cases(now, true, sites)) {
    // Read again: a staff member may have moved it since the list was read.
    const std::optional<CaseRecord> record = store_->find_case(due.id);
    if (!record) continue;
    if (sites && std::find(sites->begin(), sites->end(), record->site) == sites->end())
      continue;  // moved away
    ProcedurePtr p = procedure(record->sha256);
    const int event = due_event(*p, *record, now);
    if (event < 0) continue;
    StepRequest step;
    step.case_id = record->id;
    step.event = p->events[event];
    step.timer = true;
    step.note = "deadline of " + record->state + " passed";
    step.trace = trace_for ? trace_for(*record) : nullptr;
    try {
      StepResult r = advance_held(*record, step);
      report.fired.push_back({std::move(r.entry.case_id), r.entry.seq, std::move(r.entry.event),
                              std::move(r.entry.from_state), std::move(r.entry.to_state),
                              std::move(r.opened)});
    } catch (const Error& e) {
      report.failures.push_back({e.kind(), e.message()});
    }
  }
  report.overdue = due_cases(now, false, sites);
  report.clocks_overdue = overdue_clocks(sites);
  int64_t not_yet = 0;  // counted, not reported
  each_retention_due(
      clock_->now(), [&](const RetentionItem& item) { report.retention_due += !item.erased; },
      not_yet, sites);
  return report;
}

std::vector<ClockStatus> Engine::clocks(const CaseRecord& record) {
  ProcedurePtr p = procedure(record.sha256);
  if (p->clocks.empty()) return {};
  return clock_statuses(*p, store_->history(record.id));
}

void Engine::each_case_with_log(
    CaseFilter filter, const std::function<bool(const Procedure&)>& wanted,
    const std::function<void(CaseRecord&, const ProcedurePtr&, const std::vector<LogEntry>&)>& fn) {
  store_->each_part(
      std::move(filter),
      [&](std::vector<CaseRecord>& records) {
        std::vector<std::pair<size_t, ProcedurePtr>> kept;  // index in records, its procedure
        std::vector<std::string> ids;
        for (size_t i = 0; i < records.size(); ++i) {
          ProcedurePtr p = procedure(records[i].sha256);
          if (!wanted(*p)) continue;
          kept.emplace_back(i, std::move(p));
          ids.push_back(records[i].id);
        }
        const std::vector<std::vector<LogEntry>> logs = store_->histories(ids);
        for (size_t k = 0; k < kept.size(); ++k)
          fn(records[kept[k].first], kept[k].second, logs[k]);
      },
      static_cast<int64_t>(kCasesPerRead));
}

std::vector<ClockOverdue> Engine::overdue_clocks(
    const std::optional<std::vector<std::string>>& sites) {
  const DateTime now = clock_->now();
  std::vector<ClockOverdue> out;
  std::set<std::string> sops;
  reading([&] {
    for (const PublishedProcedure& v : store_->versions()) {
      if (sops.count(v.sop_id) || procedure(v.sha256)->clocks.empty()) continue;
      sops.insert(v.sop_id);
      // The procedure's active cases with a clock; only the overdue ones are kept.
      CaseFilter filter;
      filter.sop_id = v.sop_id;
      filter.status = Status::kActive;
      filter.sites = sites;
      std::vector<ClockOverdue> found;
      each_case_with_log(
          filter, [](const Procedure& p) { return !p.clocks.empty(); },
          [&](CaseRecord& record, const ProcedurePtr& p, const std::vector<LogEntry>& log) {
            for (const ClockStatus& c : clock_statuses(*p, log))
              if (c.overdue(now)) found.push_back(ClockOverdue{record, p, c});
          });
      // In the order of the procedure's cases (Store::cases(): by opening
      // time, then id), each case's clocks in their order.
      std::stable_sort(
          found.begin(), found.end(), [](const ClockOverdue& a, const ClockOverdue& b) {
            return listed_before(a.record.opened_at, a.record.id, b.record.opened_at, b.record.id);
          });
      out.insert(out.end(), std::make_move_iterator(found.begin()),
                 std::make_move_iterator(found.end()));
    }
  });
  // Soonest due first; ties in procedure order, then the cases' order.
  std::stable_sort(out.begin(), out.end(), [](const ClockOverdue& a, const ClockOverdue& b) {
    return a.clock.due_at->seconds < b.clock.due_at->seconds;
  });
  return out;
}

CaseView Engine::view(const std::string& case_id, const std::string& actor_id) {
  return make_view(case_id, actor_id, nullptr);
}

CaseView Engine::show(const std::string& case_id, const std::string& actor_id, const RevealRequest* reveal) {
  return make_view(case_id, actor_id, reveal);
}

CaseView Engine::make_view(const std::string& case_id, const std::string& actor_id, const RevealRequest* reveal) {
  CaseView out;
  out.record = find_typed_case(case_id, actor_id);
  if (!actor_id.empty()) out.actor = actor(actor_id);
  check_site_access(out.actor, out.record, false);
  out.procedure = procedure(out.record.sha256);
  if (reveal) check_reveal(out.record, *out.procedure, out.actor, *reveal);
  std::vector<LogEntry> history;  // read once, for the snapshot and the clocks
  if (!out.procedure->clocks.empty()) history = store_->history(out.record.id);
  out.snapshot =
      snapshot(*out.procedure, out.record, out.procedure->clocks.empty() ? nullptr : &history);
  CaseFilter filter;
  filter.linked_to = out.record.id;
  out.linked = store_->cases(filter);
  // The case that opened this one, when it is at a site the reader does
  // not read, is named by its id only (CaseRecord::parent_case), as on a
  // server; the cases this one opened stay listed (their state is what the
  // hand-off's guards wait on).
  out.linked.erase(std::remove_if(out.linked.begin(), out.linked.end(),
                                  [&](const CaseRecord& c) {
                                    return c.id == out.record.parent_case &&
                                           !site_problem(out.actor, c, false).empty();
                                  }),
                   out.linked.end());
  if (!actor_id.empty()) {
    out.checks = check_events(*out.procedure, out.snapshot, out.actor, clock_->now(), lang_);
    // A reader of another site (an administrator, national staff) fires
    // none of them: each says so, as the step itself would be refused.
    if (std::string problem = site_problem(out.actor, out.record, true); !problem.empty())
      for (EventCheck& check : out.checks) {
        check.possible = false;
        check.refusal = Refusal{RefusalKind::kRole, problem};
      }
  }
  if (!out.procedure->clocks.empty()) out.clocks = clock_statuses(*out.procedure, history);
  out.personal_data_shown = reveal && holds_personal_data(out.record);
  if (out.personal_data_shown)
    store_->record_access(out.actor.id, out.record.id, reveal->what, reveal->reason, clock_->now());
  for (auto& value : out.record.data) value = as_shown(std::move(value), out.personal_data_shown);
  return out;
}

void Engine::check_reveal(const CaseRecord& record, const Procedure& procedure, const Actor& who,
                          const RevealRequest& reveal) {
  if (!has_visible_text(reveal.reason))
    throw RefusedError(Refusal{RefusalKind::kReasonRequired, tr(msg::runtime_reveal_needs_reason, {record.id})},
                       record.id);
  if (std::string problem = control_problem(reveal.reason, false); !problem.empty())
    throw refused(tr(msg::runtime_reason_control, {problem}));
  const RevealBar bar = reveal_bar(who, record.site, procedure);
  if (bar == RevealBar::kSite)
    throw refused(tr(msg::runtime_reveal_other_site, {who.id, record.id, record.site}));
  if (bar == RevealBar::kRole) {
    std::vector<std::string> allowed;
    for (int r : procedure.pii_roles) allowed.push_back(procedure.roles[static_cast<size_t>(r)]);
    throw refused(tr(allowed.empty() ? msg::runtime_reveal_no_roles : msg::runtime_reveal_not_allowed,
                     {who.id, record.id, procedure.id, join(allowed), roles_of(who)}));
  }
}

CaseHistory Engine::history(const std::string& case_id, const std::string& actor_id,
                            const RevealRequest* reveal) {
  const CaseRecord record = find_typed_case(case_id, actor_id);
  const Actor who = actor(actor_id);
  check_site_access(who, record, false);
  if (reveal) check_reveal(record, *procedure(record.sha256), who, *reveal);
  CaseHistory out = history_as(record, reveal != nullptr);
  if (out.personal_data_shown)
    store_->record_access(who.id, out.record.id, reveal->what, reveal->reason, clock_->now());
  return out;
}

CaseHistory Engine::history_as(const CaseRecord& record, bool shown) {
  CaseHistory out;
  out.record = record;
  out.procedure = procedure(out.record.sha256);
  out.entries = store_->history(out.record.id);
  const bool any = holds_personal_data(out.record) ||
                   std::any_of(out.entries.begin(), out.entries.end(),
                               [](const LogEntry& e) { return holds_personal_data(e); });
  out.personal_data_shown = shown && any;
  const bool reveal = out.personal_data_shown;
  for (auto& value : out.record.data) value = as_shown(std::move(value), reveal);
  for (auto& entry : out.entries) {
    // Inputs are what was typed; the log keeps none of a personal one, so
    // it shows masked to everyone. Its value is in the step's changes.
    entry.inputs = shown_inputs(entry, false);
    for (auto& change : entry.changes) {
      change.before = as_shown(std::move(change.before), reveal);
      change.after = as_shown(std::move(change.after), reveal);
    }
  }
  return out;
}

EventCheck Engine::check_event(const CaseView& view, const std::string& event) {
  for (const auto& check : view.checks) {
    if (check.event == event) return check;
  }
  // A reader of another site fires no event of it: that is the answer,
  // not the events "possible now" for its members.
  if (std::string problem = site_problem(view.actor, view.record, true); !problem.empty())
    throw refused(problem);
  Command command;
  command.event = event;
  command.actor = view.actor;
  command.at = clock_->now();
  command.lang = lang_;
  Decision decision = decide(*view.procedure, view.snapshot, command);
  if (auto* refusal = std::get_if<Refusal>(&decision)) throw_refusal(view.record.id, *refusal);
  // decide() allows only events from the state, which view.checks holds.
  throw storage_error(tr(msg::runtime_event_not_checked, {view.record.id, event}));
}

size_t BatchOutcome::refused() const {
  return static_cast<size_t>(std::count_if(
      errors.begin(), errors.end(), [](const std::optional<Error>& e) { return e.has_value(); }));
}

size_t BatchOutcome::written() const { return committed ? errors.size() - refused() : 0; }

namespace {
// Thrown inside a batch's transaction to undo it when a row was refused.
struct UndoBatch {};
}  // namespace

BatchOutcome Engine::run_batch(size_t rows, bool partial, const std::function<void(size_t)>& row,
                               const std::function<void(size_t)>& done) {
  BatchOutcome out;
  auto all_rows = [&] {
    out.errors.assign(rows, std::nullopt);
    for (size_t i = 0; i < rows; ++i) {
      try {
        if (partial) {
          store_->transaction([&] { row(i); });
        } else {
          row(i);
        }
      } catch (const Error& e) {
        // The transaction may be gone already: these end the whole batch.
        if (e.kind() == ErrorKind::kStorage || e.kind() == ErrorKind::kConflict) throw;
        out.errors[i] = e;
      }
      if (done) done(i);
    }
    if (!partial && out.refused() > 0) throw UndoBatch{};
  };
  try {
    if (partial) {
      store_->transaction(all_rows);
    } else {
      store_->transaction_all_or_nothing(all_rows);
    }
    out.committed = true;
  } catch (const UndoBatch&) {
    out.committed = false;
  }
  return out;
}

}  // namespace sopir
