// `audit export --format htcds`: a procedure's cases as records of IOM's
// Human Trafficking Case Data Standard (HTCDS), through the procedure's
// `standards: htcds:` mapping, in CSV or JSON. Personal values are masked
// unless revealed; each reveal is recorded before anything is written.
#include <algorithm>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <ostream>
#include <set>

#include "audit/common.h"
#include "audit/links.h"
#include "lang/htcds_fields.h"
#include "sopir/audit.h"
#include "sopir/engine.h"
#include "sopir/error.h"
#include "sopir/messages/standards.h"
#include "sopir/privacy.h"

namespace sopir::audit {

using namespace audit_internal;
using json = nlohmann::ordered_json;  // records keep the standard's field order

FileFormat parse_file_format(const std::string& text) {
  if (text == "csv") return FileFormat::kCsv;
  if (text == "json") return FileFormat::kJson;
  throw usage_error(tr(msg::std_unknown_file_format, {text}));
}

void check_export_standard(const std::string& standard) {
  if (standard != "htcds") throw usage_error(tr(msg::std_unknown_export_format, {standard}));
}

namespace {

// One case as a record: HTCDS field -> value (a string, bool, number, an
// array of codes or of one value per referral, or null).
using Record = std::map<std::string, json>;

// The procedure to export and its mapping (the current version's).
struct Chosen {
  ProcedurePtr procedure;
  const StandardMapping* mapping = nullptr;
};

Chosen choose(Store& store, ProcedureCache& procedures, const std::optional<std::string>& sop_id) {
  std::vector<std::string> ids, mapped;
  Chosen chosen;
  for (const auto& pub : store.versions()) {
    if (!pub.current) continue;
    ids.push_back(pub.sop_id);
    ProcedurePtr p = procedures.get(pub.sha256, nullptr);
    const bool has = p && p->standard("htcds");
    // Without --sop, only mappings of case records count (not referral tracks').
    if (has && htcds::fills_case_record(*p->standard("htcds"))) mapped.push_back(pub.sop_id);
    if ((sop_id && pub.sop_id == *sop_id) || (!sop_id && !mapped.empty() && mapped.back() == pub.sop_id))
      chosen = Chosen{p, p ? p->standard("htcds") : nullptr};
  }
  if (sop_id) {
    if (std::find(ids.begin(), ids.end(), *sop_id) == ids.end())
      throw not_found(no_procedure_message(*sop_id, ids));
    if (!chosen.mapping) throw usage_error(tr(msg::std_no_mapping, {*sop_id}));
    return chosen;
  }
  if (mapped.empty()) throw usage_error(tr(msg::std_none_mapped));
  std::sort(mapped.begin(), mapped.end());
  if (mapped.size() > 1) throw usage_error(tr(msg::std_several_mapped, {join(mapped)}));
  return chosen;
}

// Values of the standard's fields for one case under one mapping. Personal
// values show masked unless the case is revealed.
class RecordMaker {
 public:
  RecordMaker(const Procedure& procedure, const StandardMapping& mapping, bool reveal)
      : p_(procedure), m_(mapping), reveal_(reveal) {}

  // The mapped fields' values of `record`.
  void fields(const CaseRecord& record, Record& out, bool referral_fields_only = false) const {
    for (const StandardField& s : m_.fields) {
      if (referral_fields_only && !htcds::outgoing_referral(s.target)) continue;
      const std::string& id = p_.fields[static_cast<size_t>(s.field)].id;
      auto v = std::find_if(record.data.begin(), record.data.end(), [&](const StoredValue& x) { return x.field == id; });
      out[s.target] = v == record.data.end() || v->missing ? json() : value(*v, s);
    }
  }

  // cas_Status and cas_ReasonForCaseClosure.
  void status(const CaseRecord& record, Record& out) const {
    const int state = p_.state_index(record.state);
    std::string code = record.status == Status::kClosed ? "Closed" : "Active";
    if (record.status == Status::kClosed && !record.closure_reason.empty()) {
      if (auto it = m_.closure_status.find(record.closure_reason); it != m_.closure_status.end()) code = it->second;
    } else if (auto it = m_.state_status.find(state); it != m_.state_status.end()) {
      code = it->second;
    }
    out[htcds::kStatusField] = code;
    out[htcds::kClosureField] = record.status == Status::kClosed ? json(closure_text(record, state)) : json();
  }

 private:
  // A closure reason's or end state's English label, else its id.
  std::string closure_text(const CaseRecord& record, int state) const {
    if (!record.closure_reason.empty()) {
      for (const auto& r : p_.closure_reasons)
        if (r.id == record.closure_reason && !r.label.get("en").empty()) return r.label.get("en");
      return record.closure_reason;
    }
    const std::string label = state >= 0 ? p_.states[static_cast<size_t>(state)].label.get("en") : "";
    return label.empty() ? record.state : label;
  }

  // Our value's code; "" when it has none.
  static std::string code(const StandardField& s, const htcds::Field& theirs, const std::string& ours) {
    if (auto it = s.codes.find(ours); it != s.codes.end()) return it->second;
    return theirs.accepts(ours) ? ours : "";
  }

  json value(const StoredValue& v, const StandardField& s) const {
    if (v.pii && !reveal_) return kMaskedValue;
    if (v.pii && v.erased) return kErasedValue;
    const htcds::Field& theirs = *htcds::standard().find(s.target);
    const FieldDef& ours = p_.fields[static_cast<size_t>(s.field)];
    if (theirs.coded()) {
      std::vector<std::string> codes;
      const std::vector<std::string> members =
          ours.type == Type::kSet ? set_members(v.text) : std::vector<std::string>{v.text};
      for (const auto& member : members) {
        const std::string c = code(s, theirs, member);
        if (!c.empty() && std::find(codes.begin(), codes.end(), c) == codes.end()) codes.push_back(c);
      }
      if (theirs.kind == htcds::Kind::kMultiPicklist) return codes;
      return codes.empty() ? json() : json(codes.front());
    }
    switch (theirs.kind) {
      case htcds::Kind::kCheckbox:
        return v.text == "true";
      case htcds::Kind::kNumber:
        return json::parse(v.text, nullptr, false).is_number() ? json::parse(v.text) : json(v.text);
      case htcds::Kind::kDate:
        return v.text.substr(0, 10);  // a date, or a datetime's day (UTC)
      default:
        return v.text;
    }
  }

  const Procedure& p_;
  const StandardMapping& m_;
  bool reveal_;
};

// A cell of the CSV: codes and referral values joined by ';', checkboxes
// TRUE or FALSE (as the standard's survey form writes them).
std::string csv_text(const json& v) {
  if (v.is_null()) return "";
  if (v.is_boolean()) return v.get<bool>() ? "TRUE" : "FALSE";
  if (v.is_string()) return v.get<std::string>();
  if (v.is_array()) {
    std::string out;
    for (size_t i = 0; i < v.size(); ++i) out += (i ? ";" : "") + csv_text(v[i]);
    return out;
  }
  return v.dump();
}

// Whether the record's exported values (of a referral track: its outgoing
// referral fields only) hold personal data a reveal would show.
bool shows_personal(const CaseRecord& record, const StandardMapping& m, const Procedure& p, bool referral = false) {
  for (const StandardField& s : m.fields) {
    if (referral && !htcds::outgoing_referral(s.target)) continue;
    const std::string& id = p.fields[static_cast<size_t>(s.field)].id;
    for (const auto& v : record.data)
      if (v.field == id && v.pii && !v.missing && !v.erased) return true;
  }
  return false;
}

// The procedure's cases (every version) a part at a time in id order, each
// with its referral tracks (the mapping's procedures) in the order they were
// opened, as of the caller's read snapshot.
void each_case(
    Store& store, const Chosen& chosen,
    const std::function<void(const CaseRecord&, const std::vector<CaseRecord>& tracks)>& fn) {
  const std::vector<std::string>& wanted = chosen.mapping->referrals;
  CaseFilter filter;
  filter.sop_id = chosen.procedure->id;
  std::vector<CaseRecord> tracks;
  store.each_case(
      std::move(filter),
      [&](const CaseRecord& c) {
        tracks.clear();
        if (!wanted.empty()) {
          for (auto& child : children_of(store, c.id))
            if (std::find(wanted.begin(), wanted.end(), child.sop_id) != wanted.end())
              tracks.push_back(std::move(child));
          std::stable_sort(tracks.begin(), tracks.end(),
                           [](const CaseRecord& a, const CaseRecord& b) {
                             return a.opened_at.seconds < b.opened_at.seconds;
                           });
        }
        fn(c, tracks);
      },
      static_cast<int64_t>(Engine::kCasesPerRead));
}

// A case's place in the export: the order of Store::cases() (oldest first,
// then by id), which the export keeps.
struct Listed {
  DateTime opened_at;
  std::string id;
};

bool export_order(const Listed& a, const Listed& b) {
  return listed_before(a.opened_at, a.id, b.opened_at, b.id);
}

// One case's record as written.
struct Written : Listed {
  std::string text;
};

// For a reveal: a case's ids (its own, its tracks') that show personal data.
struct Revealing : Listed {
  std::vector<std::string> personal;
};

// `text` re-indented by `by` spaces after each line break: a record dumped
// alone, as it reads inside the document's "records" array. Line breaks
// inside values are escaped in JSON, so every one is the layout's.
std::string indented(const std::string& text, const std::string& by) {
  std::string out;
  out.reserve(text.size() +
              by.size() * static_cast<size_t>(1 + std::count(text.begin(), text.end(), '\n')));
  out += by;
  for (char c : text) {
    out += c;
    if (c == '\n') out += by;
  }
  return out;
}

}  // namespace

// The cases are read a part at a time and only their written records are
// kept: what the export holds grows with its output, not with the cases'
// data. Everything is still written at the end, so an error writes nothing.
int64_t export_htcds(Store& store, const HtcdsOptions& options, std::ostream& out) {
  ProcedureCache procedures(store);
  Chosen chosen;
  // Each referral track's procedure (current version) and mapping.
  std::map<std::string, Chosen> referral_maps;
  auto choose_all = [&] {
    chosen = choose(store, procedures, options.sop_id);
    for (const auto& sop : chosen.mapping->referrals) {
      for (const auto& pub : store.versions()) {
        if (!pub.current || pub.sop_id != sop) continue;
        ProcedurePtr rp = procedures.get(pub.sha256, nullptr);
        if (rp) referral_maps[sop] = Chosen{rp, rp->standard("htcds")};
      }
    }
  };

  // Reveal: the cases whose exported values hold personal data, recorded
  // first (revealing writes the access log, so it comes between two reads,
  // as export_log's does: a case opened or changed in between shows as any
  // case not revealed, masked).
  std::set<std::string> revealed;
  if (options.reveal) {
    // Each case's own and its tracks' ids, recorded in the export's order.
    std::vector<Revealing> cases;
    store.read_snapshot([&] {
      choose_all();
      const Procedure& p = *chosen.procedure;
      each_case(store, chosen, [&](const CaseRecord& c, const std::vector<CaseRecord>& tracks) {
        std::vector<std::string> ids;
        if (shows_personal(c, *chosen.mapping, p)) ids.push_back(c.id);
        for (const auto& r : tracks) {
          const Chosen& rc = referral_maps[r.sop_id];
          if (rc.mapping && shows_personal(r, *rc.mapping, *rc.procedure, true))
            ids.push_back(r.id);
        }
        if (!ids.empty()) cases.push_back({{c.opened_at, c.id}, std::move(ids)});
      });
    });
    std::sort(cases.begin(), cases.end(), export_order);
    std::vector<std::string> personal;
    for (Revealing& c : cases)
      personal.insert(personal.end(), c.personal.begin(), c.personal.end());
    cases.clear();
    const auto allowed = record_reveal(store, procedures, *options.reveal, personal);
    revealed.insert(allowed.begin(), allowed.end());
  }

  std::vector<std::string> columns;
  std::vector<Written> written;
  // The cases and their tracks as of one moment (a track opened while they
  // are read is in the export with its case, or not at all).
  store.read_snapshot([&] {
    if (!options.reveal) choose_all();
    const Procedure& p = *chosen.procedure;
    const StandardMapping& m = *chosen.mapping;
    // The columns: what the mapping fills, sopir's own, and the referral fields.
    std::set<std::string> used = {htcds::kStatusField, htcds::kClosureField};
    for (const auto& s : m.fields) used.insert(s.target);
    if (!m.referrals.empty()) used.insert(htcds::kReferralDateField);
    for (const auto& [sop, rc] : referral_maps)
      if (rc.mapping)
        for (const auto& s : rc.mapping->fields)
          if (htcds::outgoing_referral(s.target)) used.insert(s.target);
    for (const auto& f : htcds::standard().fields)
      if (used.count(f.name)) columns.push_back(f.name);

    each_case(store, chosen, [&](const CaseRecord& c, const std::vector<CaseRecord>& tracks) {
      Record rec;
      RecordMaker maker(p, m, revealed.count(c.id) > 0);
      maker.fields(c, rec);
      maker.status(c, rec);
      if (!m.referrals.empty()) {
        std::map<std::string, json> lists;
        for (const auto& col : columns)
          if (htcds::outgoing_referral(col)) lists[col] = json::array();
        for (const auto& r : tracks) {
          Record one;
          const Chosen& rc = referral_maps[r.sop_id];
          if (rc.mapping)
            RecordMaker(*rc.procedure, *rc.mapping, revealed.count(r.id) > 0).fields(r, one, true);
          one[htcds::kReferralDateField] = format_date(Date{r.opened_at.seconds / 86400});
          for (auto& [col, list] : lists) list.push_back(one.count(col) ? one[col] : json());
        }
        for (auto& [col, list] : lists) rec[col] = list.empty() ? json() : list;
      }
      Written& w = written.emplace_back();
      w.opened_at = c.opened_at;
      w.id = c.id;
      if (options.format == FileFormat::kCsv) {
        for (size_t i = 0; i < columns.size(); ++i) {
          auto it = rec.find(columns[i]);
          w.text += (i ? "," : "") + csv_field(it == rec.end() ? "" : csv_text(it->second));
        }
        w.text += "\r\n";
      } else {
        json j = json::object();
        for (const auto& col : columns) {
          auto it = rec.find(col);
          j[col] = it == rec.end() ? json() : it->second;
        }
        w.text = indented(j.dump(2, ' ', false, json::error_handler_t::replace), "    ");
      }
    });
  });
  std::sort(written.begin(), written.end(), export_order);

  // All worked out: now written, one record at a time.
  if (options.format == FileFormat::kCsv) {
    out << "\xEF\xBB\xBF";  // BOM: Excel then reads the file as UTF-8
    for (size_t i = 0; i < columns.size(); ++i) out << (i ? "," : "") << csv_field(columns[i]);
    out << "\r\n";
    for (const Written& w : written) out << w.text;
  } else {
    // The document as json::dump(2) writes it, with the records as written
    // above in its "records" array.
    const json head = {{"standard", htcds::standard().name},
                       {"version", htcds::standard().version},
                       {"procedure", chosen.procedure->id},
                       {"records", json::array()}};
    std::string doc = head.dump(2, ' ', false, json::error_handler_t::replace);
    const std::string empty_list = "[]\n}";  // how the dump ends
    if (written.empty()) {
      out << doc << "\n";
    } else {
      out << doc.substr(0, doc.size() - empty_list.size()) << "[\n";
      for (size_t i = 0; i < written.size(); ++i)
        out << written[i].text << (i + 1 < written.size() ? ",\n" : "\n");
      out << "  ]\n}\n";
    }
  }
  return static_cast<int64_t>(written.size());
}

}  // namespace sopir::audit
