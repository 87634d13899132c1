// IOM's Human Trafficking Case Data Standard (HTCDS): the fields of one case
// record, their types and value sets, as engine/data/htcds-2.0.fields writes
// them down (built into the engine). The `standards: htcds:` checker
// (standards.cc) and the HTCDS export (audit/htcds_export.cc) read them here
// and nowhere else.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sopir {
struct StandardMapping;  // sopir/procedure.h
}

namespace sopir::htcds {

enum class Kind { kText, kLongText, kLookup, kPicklist, kMultiPicklist, kCheckbox, kDate, kNumber };

struct Field {
  std::string name;     // "vic_TypeOfExploitation"
  Kind kind = Kind::kText;
  bool core = false;    // the standard's "Core" column
  bool deprecated = false;
  std::string section;  // "person", "victim", "case", "referral", "consent"
  std::vector<std::string> codes;  // a picklist's value names, in the standard's order
  std::string code_list;           // "iso3166" or "iso639" when the standard names one instead

  bool coded() const { return !codes.empty() || !code_list.empty(); }
  // Whether `code` is one of the field's values (or of its code list's form).
  bool accepts(std::string_view code) const;
};

struct Standard {
  std::string name;     // "HTCDS"
  std::string version;  // "2.0"
  std::vector<Field> fields;  // the data file's order
  const Field* find(std::string_view name) const;  // null when absent
  std::vector<std::string> names() const;
};

// The built-in standard, read once. Throws nothing: the data file is checked
// by the tests that read it.
const Standard& standard();

// The field type's word in the data file: "picklist", "multi-picklist", ...
const char* kind_name(Kind kind);

// Fields sopir fills itself from the case, never from a mapping: the case's
// status, why it closed, and when each outgoing referral was sent.
inline constexpr const char* kStatusField = "cas_Status";
inline constexpr const char* kClosureField = "cas_ReasonForCaseClosure";
inline constexpr const char* kReferralDateField = "cas_OutgoingReferralDate";
bool filled_by_sopir(std::string_view name);
// The fields of an outgoing referral, which a case takes from its referral
// tracks (`referrals:`): the organisation, worker, reason, date and details.
bool outgoing_referral(std::string_view name);
// Whether an HTCDS mapping fills a case record: some field outside the
// referral section. A mapping of referral fields only describes a referral
// track, whose values fill the record of the case that sent it.
bool fills_case_record(const StandardMapping& mapping);

}  // namespace sopir::htcds
