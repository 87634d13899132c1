// Reading the built-in HTCDS field list (engine/data/htcds-2.0.fields).
#include "lang/htcds_fields.h"

#include <algorithm>
#include <regex>
#include <sstream>

#include "sopir/procedure.h"

namespace sopir {
extern const char kHtcdsFieldsText[];  // generated from the data file (engine/CMakeLists.txt)
}

namespace sopir::htcds {

namespace {

struct KindWord {
  Kind kind;
  const char* word;
};
constexpr KindWord kKinds[] = {{Kind::kText, "text"},         {Kind::kLongText, "long-text"},
                               {Kind::kLookup, "lookup"},     {Kind::kPicklist, "picklist"},
                               {Kind::kMultiPicklist, "multi-picklist"}, {Kind::kCheckbox, "checkbox"},
                               {Kind::kDate, "date"},         {Kind::kNumber, "number"}};

Standard read(std::string_view text) {
  Standard s;
  std::istringstream in{std::string(text)};
  std::string section;
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    std::vector<std::string> w;
    for (std::string word; words >> word;) w.push_back(word);
    if (w.empty() || w[0][0] == '#') continue;
    if (w[0] == "standard" && w.size() == 3) {
      s.name = w[1];
      s.version = w[2];
    } else if (w[0] == "section" && w.size() == 2) {
      section = w[1];
    } else if (w.size() >= 4) {
      Field f;
      f.name = w[0];
      for (const auto& k : kKinds)
        if (w[1] == k.word) f.kind = k.kind;
      f.core = w[2] == "core";
      f.deprecated = w[3] == "deprecated";
      f.section = section;
      for (size_t i = 4; i < w.size(); ++i) {
        if (w[i][0] == '@') {
          f.code_list = w[i].substr(1);
        } else {
          f.codes.push_back(w[i]);
        }
      }
      s.fields.push_back(std::move(f));
    }
  }
  return s;
}

}  // namespace

bool Field::accepts(std::string_view code) const {
  static const std::regex kCountry("[A-Z]{2}"), kLanguage("[a-z]{2,3}");
  if (code_list == "iso3166") return std::regex_match(std::string(code), kCountry);
  if (code_list == "iso639") return std::regex_match(std::string(code), kLanguage);
  return std::find(codes.begin(), codes.end(), code) != codes.end();
}

const Field* Standard::find(std::string_view name) const {
  for (const auto& f : fields)
    if (f.name == name) return &f;
  return nullptr;
}

std::vector<std::string> Standard::names() const {
  std::vector<std::string> out;
  for (const auto& f : fields)
    if (!f.deprecated) out.push_back(f.name);
  return out;
}

const Standard& standard() {
  static const Standard s = read(kHtcdsFieldsText);
  return s;
}

const char* kind_name(Kind kind) {
  for (const auto& k : kKinds)
    if (k.kind == kind) return k.word;
  return "text";
}

bool filled_by_sopir(std::string_view name) {
  return name == kStatusField || name == kClosureField || name == kReferralDateField;
}

bool outgoing_referral(std::string_view name) {
  return name == "cas_ReferredOrganisation" || name == "cas_ReferredPrimaryCaseWorker" ||
         name == "cas_ReasonForOutgoingReferral" || name == kReferralDateField ||
         name == "cas_OutgoingReferralDetails";
}

bool fills_case_record(const StandardMapping& mapping) {
  for (const auto& f : mapping.fields) {
    const Field* field = standard().find(f.target);
    if (field && field->section != "referral") return true;
  }
  return false;
}

}  // namespace sopir::htcds
