// Holiday calendar files: reading, checking, merging (calendar_loader.h).
#include "lang/calendar_loader.h"

#include <fstream>
#include <sstream>

#include "base/sha256.h"
#include "lang/yaml_reader.h"
#include "sopir/messages/lang.h"

namespace sopir {

namespace {

const std::vector<std::string> kCalendarKeys = {"calendar", "title", "source", "covers", "weekend", "days",
                                                 "partial_from"};
const std::vector<std::string> kCoversKeys = {"from", "to"};
const std::vector<std::string> kDayKeys = {"date", "kind", "name"};
const std::vector<std::string> kKinds = {"holiday", "collective_leave"};
const std::vector<std::string> kWeekdays = {"monday", "tuesday", "wednesday", "thursday",
                                            "friday", "saturday", "sunday"};


class CalendarReader {
 public:
  CalendarReader(const SourceText& text, DiagnosticSink& sink) : text_(text), sink_(sink) {}

  std::shared_ptr<Calendar> read(const YAML::Node& root) {
    auto calendar = std::make_shared<Calendar>();
    if (!root.IsMap()) {
      fail(SourcePos{}, tr(msg::lang_cal_not_map));
      return nullptr;
    }
    check_keys(root, kCalendarKeys, tr(msg::lang_cal_the_calendar));
    read_covers(root["covers"], calendar.get());
    read_partial(root["partial_from"], calendar.get());
    read_weekend(root["weekend"], calendar.get());
    const YAML::Node days = root["days"];
    if (!days || days.IsNull()) {
      fail(SourcePos{}, tr(msg::lang_cal_no_days));
    } else if (!days.IsSequence()) {
      fail(pos(days), tr(msg::lang_cal_days_list));
    } else {
      for (const auto& day : days) read_day(day, calendar.get());
    }
    if (sink_.has_errors()) return nullptr;
    return calendar;
  }

 private:
  SourcePos pos(const YAML::Node& n) const { return position_of(n.Mark()); }
  void fail(SourcePos at, const std::string& message) { sink_.error("bad-calendar", at, message); }

  void check_keys(const YAML::Node& map, const std::vector<std::string>& allowed, const std::string& where) {
    for (auto it = map.begin(); it != map.end(); ++it) {
      const std::string key = it->first.IsScalar() ? it->first.Scalar() : "";
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
        fail(pos(it->first), tr(msg::lang_unknown_key, {key, where, suggest_name(key, allowed, 12)}));
    }
  }

  std::optional<Date> date(const YAML::Node& n, const std::string& what) {
    if (!n.IsScalar()) {
      fail(pos(n), tr(msg::lang_cal_date_form, {what}));
      return std::nullopt;
    }
    auto d = parse_date(n.Scalar());
    if (!d) fail(pos(n), tr(msg::lang_cal_not_real_day, {what, n.Scalar()}));
    return d;
  }

  void read_covers(const YAML::Node& covers, Calendar* c) {
    if (!covers || !covers.IsMap()) {
      fail(covers ? pos(covers) : SourcePos{},
           tr(msg::lang_cal_covers));
      return;
    }
    check_keys(covers, kCoversKeys, "covers");
    auto from = covers["from"] ? date(covers["from"], "covers.from") : std::nullopt;
    auto to = covers["to"] ? date(covers["to"], "covers.to") : std::nullopt;
    if (!from || !to) {
      if (!covers["from"] || !covers["to"]) fail(pos(covers), tr(msg::lang_cal_covers_both));
      return;
    }
    if (*to < *from) {
      fail(pos(covers["to"]), tr(msg::lang_cal_covers_order, {format_date(*to), format_date(*from)}));
      return;
    }
    c->first = *from;
    c->last = *to;
    covered_ = true;
  }

  // `partial_from: DATE`: from that day to covers.to only the listed days
  // are known (the decree with the rest is not out yet).
  void read_partial(const YAML::Node& partial, Calendar* c) {
    if (!partial) return;
    auto d = date(partial, "partial_from");
    if (!d || !covered_) return;
    if (!c->covers(*d)) {
      fail(pos(partial), tr(msg::lang_cal_partial_outside, {format_date(*d), format_date(c->first), format_date(c->last)}));
      return;
    }
    c->partial_from = *d;
  }

  void read_weekend(const YAML::Node& weekend, Calendar* c) {
    if (!weekend) {  // Saturday and Sunday unless the file says otherwise
      c->weekend[5] = c->weekend[6] = true;
      return;
    }
    if (!weekend.IsSequence()) {
      fail(pos(weekend), tr(msg::lang_cal_weekend_list));
      return;
    }
    int count = 0;
    for (const auto& day : weekend) {
      const std::string name = day.IsScalar() ? day.Scalar() : "";
      auto it = std::find(kWeekdays.begin(), kWeekdays.end(), name);
      if (it == kWeekdays.end()) {
        fail(pos(day), tr(msg::lang_cal_unknown_day, {name, suggest_name(name, kWeekdays, 12)}));
        continue;
      }
      c->weekend[it - kWeekdays.begin()] = true;
      ++count;
    }
    if (count == 7) fail(pos(weekend), tr(msg::lang_cal_all_weekend));
  }

  void read_day(const YAML::Node& day, Calendar* c) {
    if (!day.IsMap()) {
      fail(pos(day), tr(msg::lang_cal_day_map));
      return;
    }
    check_keys(day, kDayKeys, tr(msg::lang_cal_a_day));
    if (!day["date"]) {
      fail(pos(day), tr(msg::lang_cal_day_date));
      return;
    }
    auto d = date(day["date"], "date");
    CalendarDay entry;
    const YAML::Node kind = day["kind"];
    const std::string kind_text = kind && kind.IsScalar() ? kind.Scalar() : "";
    if (kind_text == "holiday") {
      entry.kind = DayKind::kHoliday;
    } else if (kind_text == "collective_leave") {
      entry.kind = DayKind::kCollectiveLeave;
    } else {
      fail(kind ? pos(kind) : pos(day),
           kind_text.empty() ? tr(msg::lang_cal_day_kind)
                             : tr(msg::lang_cal_unknown_kind, {kind_text, suggest_name(kind_text, kKinds, 12)}));
    }
    const YAML::Node name = day["name"];
    if (name && name.IsMap() && name["id"] && name["en"] && name["id"].IsScalar() && name["en"].IsScalar()) {
      entry.name_id = name["id"].Scalar();
      entry.name_en = name["en"].Scalar();
    } else {
      fail(name ? pos(name) : pos(day), tr(msg::lang_cal_day_name));
    }
    if (!d) return;
    entry.date = *d;
    if (covered_ && !c->covers(*d)) {
      fail(pos(day["date"]), tr(msg::lang_cal_outside, {format_date(*d), format_date(c->first), format_date(c->last)}));
      return;
    }
    auto [it, fresh] = seen_.emplace(d->days, pos(day["date"]).line);
    if (!fresh) {
      fail(pos(day["date"]), tr(msg::lang_cal_twice, {format_date(*d), std::to_string(it->second)}));
      return;
    }
    c->days.emplace(d->days, entry);
  }

  const SourceText& text_;
  DiagnosticSink& sink_;
  bool covered_ = false;
  std::map<int64_t, int> seen_;  // date -> line
};

std::optional<CalendarSource> find_source(const std::string& name, const LoadOptions& options,
                                          const std::string& procedure_dir) {
  if (auto it = options.calendars.find(name); it != options.calendars.end()) return it->second;
  std::vector<std::string> dirs = options.calendar_dirs;
  if (!procedure_dir.empty()) dirs.push_back(procedure_dir + "/calendars");
  for (const auto& dir : dirs) {
    const std::string file = (dir.empty() ? std::string(".") : dir) + "/" + name + ".yaml";
    std::ifstream in(file, std::ios::binary);
    if (!in) continue;
    std::stringstream ss;
    ss << in.rdbuf();
    return CalendarSource{name, file, ss.str(), ""};
  }
  return std::nullopt;
}

// Adds `calendar` to `merged` (which it becomes when null). Several
// calendars: every listed day counts, a weekend day of any is a weekend
// day, and only the days all of them cover are covered.
void merge_into(std::shared_ptr<Calendar>& merged, const std::shared_ptr<Calendar>& calendar) {
  if (!merged) {
    merged = calendar;
    return;
  }
  for (const auto& [day, entry] : calendar->days) merged->days.emplace(day, entry);
  for (int d = 0; d < 7; ++d) merged->weekend[d] = merged->weekend[d] || calendar->weekend[d];
  if (merged->first < calendar->first) merged->first = calendar->first;
  if (calendar->last < merged->last) merged->last = calendar->last;
  // Known in part where any of them is.
  if (calendar->partial_from && (!merged->partial_from || *calendar->partial_from < *merged->partial_from))
    merged->partial_from = calendar->partial_from;
  merged->name += "+" + calendar->name;
  merged->sources.push_back(calendar->sources.front());
}

std::vector<std::string> known_names(const LoadOptions& options) {
  std::vector<std::string> out;
  for (const auto& [name, source] : options.calendars) out.push_back(name);
  return out;
}

}  // namespace

std::shared_ptr<Calendar> read_calendar(const CalendarSource& source, std::vector<Diagnostic>* diagnostics) {
  const SourceText text(source.text);
  DiagnosticSink sink(source.file, &text);
  std::shared_ptr<Calendar> calendar;
  if (auto root = read_yaml(text, sink, YamlDocument::kCalendar)) {
    try {
      calendar = CalendarReader(text, sink).read(*root);
    } catch (const YAML::Exception& e) {
      sink.error("yaml-syntax", position_of(e.mark), tr(msg::lang_yaml_unreadable_here, {e.msg}));
      calendar = nullptr;
    }
  }
  if (sink.has_errors()) calendar = nullptr;
  auto found = sink.take(false);
  diagnostics->insert(diagnostics->end(), found.begin(), found.end());
  if (calendar) {
    CalendarSource pinned = source;
    pinned.sha256 = sha256_hex(source.text);
    calendar->name = source.name;
    calendar->sources.push_back(std::move(pinned));
  }
  return calendar;
}

void attach_calendar(Procedure* procedure, const SourceMap& map, const LoadOptions& options,
                     const std::string& procedure_dir, DiagnosticSink& sink,
                     std::vector<Diagnostic>* calendar_diagnostics) {
  std::shared_ptr<Calendar> merged;
  for (size_t i = 0; i < procedure->calendar_names.size(); ++i) {
    const std::string& name = procedure->calendar_names[i];
    const SourcePos at = i < map.calendar_pos.size() ? map.calendar_pos[i] : SourcePos{};
    auto source = find_source(name, options, procedure_dir);
    if (!source) {
      const auto known = known_names(options);
      sink.error("unknown-calendar", at,
                 tr(msg::lang_cal_unknown,
                    {name, procedure_dir.empty() ? tr(msg::lang_cal_folders) : procedure_dir + "/calendars",
                     known.empty() ? "" : suggest_name(name, known, 12)}));
      continue;
    }
    auto calendar = read_calendar(*source, calendar_diagnostics);
    if (!calendar) {
      sink.error("bad-calendar", at, tr(msg::lang_cal_has_errors, {name, source->file}));
      continue;
    }
    merge_into(merged, calendar);
  }
  if (merged && !sink.has_errors()) procedure->calendar = merged;
}

CalendarPtr pinned_calendar(const std::vector<std::string>& names,
                            const std::map<std::string, CalendarSource>& pinned) {
  std::shared_ptr<Calendar> merged;
  std::vector<Diagnostic> ignored;
  for (const std::string& name : names) {
    const auto it = pinned.find(name);
    if (it == pinned.end()) return nullptr;
    auto calendar = read_calendar(it->second, &ignored);
    if (!calendar) return nullptr;
    merge_into(merged, calendar);
  }
  return merged;
}

}  // namespace sopir
