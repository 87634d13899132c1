// The `standards:` block: how a procedure's fields fill a case data standard
// (today IOM's HTCDS), checked against the standard's field list
// (htcds_fields.h) with every problem located; and the lint for the
// standard's core fields nothing fills.
#include <algorithm>
#include <set>

#include "lang/htcds_fields.h"
#include "lang/loader_internal.h"
#include "lang/yaml_reader.h"
#include "sopir/messages/lang.h"
#include "sopir/messages/standards.h"

namespace sopir {

const StandardMapping* Procedure::standard(std::string_view name) const {
  for (const auto& s : standards)
    if (s.standard == name) return &s;
  return nullptr;
}

namespace {

using Keys = std::vector<std::string>;
const Keys kStandardNames = {"htcds"};
const Keys kMappingKeys = {"fields", "values", "case_status", "referrals", "not_recorded"};
const Keys kCaseStatusKeys = {"states", "closure_reasons"};
// The sections whose core fields the lint asks for, of a mapping that fills
// a case record: what makes a trafficking case record. Person fields are
// personal data a procedure may rightly not keep; referral fields come from
// the referral tracks.
const Keys kLintSections = {"victim", "case", "consent"};

class MappingReader {
 public:
  MappingReader(DiagnosticSink& sink, Procedure& p) : sink_(sink), p_(p), std_(htcds::standard()) {}

  void read(const YAML::Node& key, const YAML::Node& value) {
    StandardMapping m;
    m.standard = "htcds";
    m.pos = pos(key);
    auto parts = map_entries(value, tr(msg::std_where), kMappingKeys);
    // fields: first, since values: and not_recorded: refer to it.
    if (auto it = parts.find("fields"); it != parts.end()) read_fields(it->second, m);
    if (auto it = parts.find("values"); it != parts.end()) read_values(it->second, m);
    check_complete(m);
    if (auto it = parts.find("case_status"); it != parts.end()) read_case_status(it->second, m);
    if (auto it = parts.find("referrals"); it != parts.end()) read_referrals(it->second, m);
    if (auto it = parts.find("not_recorded"); it != parts.end()) read_not_recorded(it->second, m);
    p_.standards.push_back(std::move(m));
  }

 private:
  using Entry = std::pair<YAML::Node, YAML::Node>;

  SourcePos pos(const YAML::Node& node) const { return position_of(node.Mark()); }
  std::string part(const std::string& name) const { return tr(msg::std_where_part, {name}); }

  // The entries of a map, by key; unknown keys reported when `allowed` is
  // not empty. A value that is not a map is reported and gives none.
  std::map<std::string, Entry> map_entries(const YAML::Node& value, const std::string& where,
                                          const Keys& allowed, const YAML::Node* owner = nullptr) {
    std::map<std::string, Entry> out;
    if (value.IsNull()) return out;
    if (!value.IsMap()) {
      sink_.error("bad-value", pos(owner && !value.IsDefined() ? *owner : value),
                  allowed.empty() ? tr(msg::std_not_map, {where, "NAME: VALUE"})
                                  : tr(msg::lang_must_be_map_of_keys, {where, join(allowed)}));
      return out;
    }
    for (auto it = value.begin(); it != value.end(); ++it) {
      if (!it->first.IsScalar()) continue;  // the reader reports keys that are not plain
      const std::string& k = it->first.Scalar();
      if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), k) == allowed.end()) {
        sink_.error("unknown-key", pos(it->first),
                    tr(msg::lang_unknown_key, {k, where, suggest_name(k, allowed, 16)}));
        continue;
      }
      out.emplace(k, Entry{it->first, it->second});
    }
    return out;
  }

  // Entries in file order (map_entries sorts by key).
  std::vector<Entry> ordered(const YAML::Node& value, const std::string& where) {
    std::vector<Entry> out;
    if (value.IsNull()) return out;
    if (!value.IsMap()) {
      sink_.error("bad-value", pos(value), tr(msg::std_not_map, {where, "NAME: VALUE"}));
      return out;
    }
    for (auto it = value.begin(); it != value.end(); ++it)
      if (it->first.IsScalar()) out.emplace_back(it->first, it->second);
    return out;
  }

  // A scalar value, or an error at it.
  std::optional<std::string> scalar(const Entry& e, const std::string& what) {
    if (e.second.IsScalar()) return e.second.Scalar();
    sink_.error("bad-value", pos(e.second.IsNull() ? e.first : e.second),
                e.second.IsNull() ? tr(msg::lang_has_no_value, {what})
                                  : tr(e.second.IsMap() ? msg::lang_single_not_map : msg::lang_single_not_list, {what}));
    return std::nullopt;
  }

  // The standard's field named at `node`, or null with an error.
  const htcds::Field* standard_field(const std::string& name, const YAML::Node& node) {
    const htcds::Field* f = std_.find(name);
    if (!f) {
      sink_.error("unknown-standard-field", pos(node),
                  tr(msg::std_unknown_field, {name, std_.version, did_you_mean(name, std_.names())}));
      return nullptr;
    }
    if (f->deprecated) {
      sink_.error("bad-standard-field", pos(node), tr(msg::std_deprecated, {name, std_.version}));
      return nullptr;
    }
    return f;
  }

  int own_field(const std::string& name, const YAML::Node& node, const std::string& where) {
    const int f = p_.field_index(name);
    if (f < 0)
      sink_.error("unknown-field", pos(node),
                  tr(msg::lang_unknown_name, {tr(msg::lang_kind_field), name, where,
                                              suggest_name(name, p_.field_ids(), 0)}));
    return f;
  }

  // Whether our field's type can fill the standard's field; an error if not.
  bool fits(const FieldDef& ours, const htcds::Field& theirs, const YAML::Node& at) {
    const Message* fits = nullptr;
    switch (theirs.kind) {
      case htcds::Kind::kPicklist:
        if (ours.type != Type::kEnum && ours.type != Type::kBool) fits = &msg::std_fits_coded;
        break;
      case htcds::Kind::kMultiPicklist:
        if (ours.type != Type::kSet && ours.type != Type::kEnum && ours.type != Type::kBool)
          fits = &msg::std_fits_multi;
        break;
      case htcds::Kind::kCheckbox:
        if (ours.type != Type::kBool) fits = &msg::std_fits_checkbox;
        break;
      case htcds::Kind::kDate:
        if (ours.type != Type::kDate && ours.type != Type::kDateTime) fits = &msg::std_fits_date;
        break;
      case htcds::Kind::kNumber:
        if (ours.type != Type::kInt) fits = &msg::std_fits_number;
        break;
      default:  // text, long text, lookup: any value, as text (a coded text field, below)
        if (theirs.coded() && ours.type != Type::kEnum && ours.type != Type::kBool) fits = &msg::std_fits_coded;
        break;
    }
    if (!fits) return true;
    sink_.error("bad-standard-field", pos(at),
                tr(msg::std_type_mismatch, {ours.id, type_name(ours.type), theirs.name,
                                            htcds::kind_name(theirs.kind), tr(*fits)}));
    return false;
  }

  void read_fields(const Entry& e, StandardMapping& m) {
    std::map<std::string, size_t> filled;  // standard field -> index in m.fields
    for (const auto& entry : ordered(e.second, part("fields"))) {
      const std::string name = entry.first.Scalar();
      const int f = own_field(name, entry.first, part("fields"));
      auto target = scalar(entry, tr(msg::lang_where_field, {name}));
      if (f < 0 || !target) continue;
      const htcds::Field* theirs = standard_field(*target, entry.second);
      if (!theirs) continue;
      if (htcds::filled_by_sopir(theirs->name)) {
        const Message& why = theirs->name == htcds::kStatusField    ? msg::std_filled_status
                             : theirs->name == htcds::kClosureField ? msg::std_filled_closure
                                                                    : msg::std_filled_referral_date;
        sink_.error("bad-standard-field", pos(entry.second), tr(why, {theirs->name}));
        continue;
      }
      if (auto it = filled.find(theirs->name); it != filled.end()) {
        const StandardField& first = m.fields[it->second];
        sink_.error("bad-standard-field", pos(entry.second),
                    tr(msg::std_filled_twice, {theirs->name, p_.fields[static_cast<size_t>(first.field)].id,
                                               std::to_string(first.pos.line), name}));
        continue;
      }
      if (!fits(p_.fields[static_cast<size_t>(f)], *theirs, entry.second)) continue;
      filled.emplace(theirs->name, m.fields.size());
      m.fields.push_back(StandardField{f, theirs->name, {}, pos(entry.first)});
      value_pos_.push_back(pos(entry.first));
    }
  }

  // Our values a field can hold: enum and set values, or true and false.
  static Keys own_values(const FieldDef& f) {
    if (f.type == Type::kBool) return {"true", "false"};
    return f.values;
  }

  void read_values(const Entry& e, StandardMapping& m) {
    for (const auto& entry : ordered(e.second, part("values"))) {
      const std::string name = entry.first.Scalar();
      const int f = own_field(name, entry.first, part("values"));
      if (f < 0) continue;
      auto it = std::find_if(m.fields.begin(), m.fields.end(), [&](const StandardField& s) { return s.field == f; });
      if (it == m.fields.end()) {
        sink_.error("bad-standard-field", pos(entry.first), tr(msg::std_values_unmapped, {name}));
        continue;
      }
      const htcds::Field& theirs = *std_.find(it->target);
      if (!theirs.coded()) {
        sink_.error("bad-standard-field", pos(entry.first), tr(msg::std_values_free_text, {theirs.name, name}));
        continue;
      }
      value_pos_[static_cast<size_t>(it - m.fields.begin())] = pos(entry.first);
      const Keys ours = own_values(p_.fields[static_cast<size_t>(f)]);
      for (const auto& v : ordered(entry.second, tr(msg::std_where_part, {"values: " + name}))) {
        const std::string value = v.first.Scalar();
        if (std::find(ours.begin(), ours.end(), value) == ours.end()) {
          sink_.error("bad-enum-value", pos(v.first), tr(msg::std_not_a_value, {value, name, suggest_name(value, ours, 16)}));
          continue;
        }
        if (v.second.IsNull()) {  // ~: no code, left out
          it->codes[value] = "";
          continue;
        }
        if (!v.second.IsScalar()) {
          sink_.error("bad-value", pos(v.second), tr(msg::std_code_not_text, {value}));
          continue;
        }
        const std::string code = v.second.Scalar();
        if (!theirs.accepts(code)) {
          sink_.error("bad-standard-code", pos(v.second), tr(msg::std_bad_code, {code, theirs.name, codes_hint(theirs, code)}));
          continue;
        }
        it->codes[value] = code;
      }
    }
  }

  std::string codes_hint(const htcds::Field& f, const std::string& code) {
    if (!f.code_list.empty()) return tr(msg::std_code_list, {f.code_list == "iso3166" ? "ISO 3166-1" : "ISO 639"});
    const std::string near = did_you_mean(code, f.codes);
    return near.empty() ? tr(msg::std_codes_are, {join(f.codes)}) : near;
  }

  // Every value of a field that fills a coded field needs a code: written
  // under values:, or the value is itself one of the codes.
  void check_complete(const StandardMapping& m) {
    for (size_t i = 0; i < m.fields.size(); ++i) {
      const StandardField& s = m.fields[i];
      const htcds::Field& theirs = *std_.find(s.target);
      if (!theirs.coded()) continue;
      const FieldDef& ours = p_.fields[static_cast<size_t>(s.field)];
      for (const auto& v : own_values(ours)) {
        if (s.codes.count(v) || theirs.accepts(v)) continue;
        sink_.error("bad-standard-code", value_pos_[i], tr(msg::std_missing_code, {v, ours.id, theirs.name}));
      }
    }
  }

  void read_case_status(const Entry& e, StandardMapping& m) {
    const htcds::Field& status = *std_.find(htcds::kStatusField);
    auto parts = map_entries(e.second, part("case_status"), kCaseStatusKeys);
    auto code = [&](const Entry& v) -> std::optional<std::string> {
      auto c = scalar(v, v.first.Scalar());
      if (c && !status.accepts(*c)) {
        sink_.error("bad-standard-code", pos(v.second), tr(msg::std_bad_code, {*c, status.name, codes_hint(status, *c)}));
        return std::nullopt;
      }
      return c;
    };
    if (auto it = parts.find("states"); it != parts.end()) {
      for (const auto& v : ordered(it->second.second, part("case_status: states"))) {
        const std::string state = v.first.Scalar();
        const int s = p_.state_index(state);
        if (s < 0) {
          sink_.error("unknown-state", pos(v.first),
                      tr(msg::lang_unknown_name, {tr(msg::lang_kind_state), state, part("case_status: states"),
                                                  suggest_name(state, p_.state_ids(), 0)}));
          continue;
        }
        if (auto c = code(v)) m.state_status[s] = *c;
      }
    }
    if (auto it = parts.find("closure_reasons"); it != parts.end()) {
      Keys reasons;
      for (const auto& r : p_.closure_reasons) reasons.push_back(r.id);
      for (const auto& v : ordered(it->second.second, part("case_status: closure_reasons"))) {
        const std::string reason = v.first.Scalar();
        if (std::find(reasons.begin(), reasons.end(), reason) == reasons.end()) {
          sink_.error("unknown-closure-reason", pos(v.first),
                      tr(msg::lang_unknown_name, {tr(msg::lang_kind_closure_reason), reason,
                                                  part("case_status: closure_reasons"), suggest_name(reason, reasons, 16)}));
          continue;
        }
        if (auto c = code(v)) m.closure_status[reason] = *c;
      }
    }
  }

  // Names listed under a key: one name or a list of them, with their nodes.
  std::vector<std::pair<std::string, YAML::Node>> names(const Entry& e, const std::string& what) {
    std::vector<std::pair<std::string, YAML::Node>> out;
    if (e.second.IsScalar()) {
      out.emplace_back(e.second.Scalar(), e.second);
    } else if (e.second.IsSequence()) {
      for (const auto& n : e.second) {
        if (n.IsScalar()) {
          out.emplace_back(n.Scalar(), n);
        } else {
          sink_.error("bad-value", pos(n), tr(msg::lang_entry_plain_name, {what}));
        }
      }
    } else if (!e.second.IsNull()) {
      sink_.error("bad-value", pos(e.second), tr(msg::lang_names_not_map, {what}));
    }
    return out;
  }

  void read_referrals(const Entry& e, StandardMapping& m) {
    Keys opened;
    for (const auto& t : p_.transitions)
      for (const auto& h : t.opens)
        if (std::find(opened.begin(), opened.end(), h.sop) == opened.end()) opened.push_back(h.sop);
    for (const auto& [name, node] : names(e, part("referrals"))) {
      if (std::find(opened.begin(), opened.end(), name) == opened.end()) {
        sink_.error("unknown-track", pos(node), tr(msg::std_unknown_referral, {name, suggest_name(name, opened, 16)}));
        continue;
      }
      m.referrals.push_back(name);
    }
  }

  void read_not_recorded(const Entry& e, StandardMapping& m) {
    for (const auto& [name, node] : names(e, part("not_recorded"))) {
      if (!standard_field(name, node)) continue;
      const std::string& target = name;  // C++17 lambdas cannot capture a structured binding
      auto it = std::find_if(m.fields.begin(), m.fields.end(), [&](const StandardField& s) { return s.target == target; });
      if (it != m.fields.end()) {
        sink_.error("bad-standard-field", pos(node),
                    tr(msg::std_not_recorded_mapped, {name, p_.fields[static_cast<size_t>(it->field)].id}));
        continue;
      }
      m.not_recorded.push_back(name);
    }
  }

  DiagnosticSink& sink_;
  Procedure& p_;
  const htcds::Standard& std_;
  std::vector<SourcePos> value_pos_;  // by m.fields index: its values: entry, else its fields: entry
};

}  // namespace

void read_standards(const YAML::Node& key, const YAML::Node& value, DiagnosticSink& sink, Procedure* p) {
  if (value.IsNull()) return;
  if (!value.IsMap()) {
    sink.error("bad-value", position_of(value.Mark()),
               tr(msg::lang_must_be_map_of_keys, {key.Scalar(), join(kStandardNames)}));
    return;
  }
  for (auto it = value.begin(); it != value.end(); ++it) {
    if (!it->first.IsScalar()) continue;
    const std::string& name = it->first.Scalar();
    if (std::find(kStandardNames.begin(), kStandardNames.end(), name) == kStandardNames.end()) {
      sink.error("unknown-key", position_of(it->first.Mark()),
                 tr(msg::lang_unknown_key, {name, key.Scalar(), suggest_name(name, kStandardNames, 16)}));
      continue;
    }
    MappingReader(sink, *p).read(it->first, it->second);
  }
}

void lint_standards(const Procedure& p, DiagnosticSink& sink) {
  for (const auto& m : p.standards) {
    // A mapping of referral fields only describes a referral track.
    if (!htcds::fills_case_record(m)) continue;
    std::set<std::string> said(m.not_recorded.begin(), m.not_recorded.end());
    for (const auto& f : m.fields) said.insert(f.target);
    std::vector<std::string> missing;
    for (const auto& f : htcds::standard().fields) {
      if (!f.core || f.deprecated || htcds::filled_by_sopir(f.name) || said.count(f.name)) continue;
      if (std::find(kLintSections.begin(), kLintSections.end(), f.section) == kLintSections.end()) continue;
      missing.push_back(f.name);
    }
    if (!missing.empty()) sink.warning("standard-unmapped", m.pos, tr(msg::std_unmapped_core, {join(missing)}));
  }
}

}  // namespace sopir
