// The text of LogEntry::linked_case when a step opened several cases.
#include "sopir/store.h"

namespace sopir {

std::string join_case_ids(const std::vector<std::string>& ids) {
  std::string out;
  for (const auto& id : ids) out += (out.empty() ? "" : ", ") + id;
  return out;
}

std::vector<std::string> split_case_ids(const std::string& linked_case) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < linked_case.size()) {
    size_t comma = linked_case.find(',', start);
    if (comma == std::string::npos) comma = linked_case.size();
    size_t first = linked_case.find_first_not_of(' ', start);
    size_t last = linked_case.find_last_not_of(' ', comma - 1);
    if (first != std::string::npos && first < comma && last >= first)
      out.push_back(linked_case.substr(first, last - first + 1));
    start = comma + 1;
  }
  return out;
}

}  // namespace sopir
