// Access requests (UU 27/2022; issue #16 item 4): everything held on one
// person, gathered for an allowed staff member who gave a reason, the
// access recorded before anything is returned.
#include <algorithm>

#include "audit/links.h"
#include "sopir/engine.h"
#include "sopir/privacy.h"

namespace sopir {

PersonalExport Engine::export_personal(const std::string& case_id, const std::string& actor_id,
                                       const RevealRequest& reveal) {
  PersonalExport out;
  const CaseRecord record = find_typed_case(case_id, actor_id);
  const Actor who = actor(actor_id);
  check_site_access(who, record, false);  // before the reveal's own refusal
  check_reveal(record, *procedure(record.sha256), who, reveal);
  // The person's story across hand-offs: the cases it came from and the
  // ones it opened (as `audit case --with-linked` tells it).
  const std::vector<CaseRecord> family = audit_internal::linked_family(*store_, record.id);
  std::vector<std::string> ids{record.id};
  store_->transaction([&] {
    out.at = clock_->now();
    // make_view records the access when the case row holds personal data;
    // the export is recorded for the case in any case (it is itself a view
    // of everything held on the person, its steps included).
    out.view = make_view(record.id, actor_id, &reveal);
    if (!out.view.personal_data_shown) store_->record_access(who.id, record.id, reveal.what, reveal.reason, out.at);
    out.history = history_as(record, true);
    const std::optional<std::vector<std::string>> readable = readable_sites(who);
    for (const CaseRecord& other : family) {
      if (other.id == record.id) continue;
      // A linked case at a site the reader does not read is left out
      // (counted), as `audit case --with-linked` leaves it out.
      if (readable &&
          std::find(readable->begin(), readable->end(), other.site) == readable->end()) {
        ++out.linked_not_shown;
        continue;
      }
      ids.push_back(other.id);
      const bool may = reveal_bar(who, other.site, *procedure(other.sha256)) == RevealBar::kNone;
      CaseHistory linked = history_as(other, may);
      if (linked.personal_data_shown)
        store_->record_access(who.id, other.id, reveal.what, reveal.reason, out.at);
      out.linked.push_back(std::move(linked));
    }
  });
  AccessFilter filter;
  filter.case_ids = ids;
  out.accesses = store_->access_records(filter);
  return out;
}

}  // namespace sopir
