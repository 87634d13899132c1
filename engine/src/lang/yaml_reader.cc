#include "lang/yaml_reader.h"

#include <cstdio>
#include <unordered_map>
#include "sopir/messages/lang.h"
#include "sopir/text.h"

namespace sopir {

SourcePos position_of(const YAML::Mark& mark) {
  if (mark.is_null() || mark.line < 0) return SourcePos{1, 1};
  return SourcePos{mark.line + 1, mark.column + 1};
}

namespace {

std::string hex_byte(unsigned char c) {
  char buffer[8];
  std::snprintf(buffer, sizeof buffer, "0x%02X", c);
  return buffer;
}

// Encoding and stray bytes. Stops at the first problem: after a binary or
// mis-encoded byte, nothing else in the file can be trusted.
bool check_bytes(const SourceText& source, DiagnosticSink& sink) {
  const std::string_view text = source.text();
  for (size_t i = 0; i < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    // Built only for a message: this loop runs once per byte of every
    // procedure loaded.
    auto where = [i] { return tr(msg::lang_byte_offset, {std::to_string(i)}); };
    if (c == 0) {
      sink.error("binary", source.position(i),
                 tr(msg::lang_binary, {where()}));
      return false;
    }
    if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F) {
      sink.error("bad-character", source.position(i),
                 tr(msg::lang_control_byte, {hex_byte(c), where()}));
      return false;
    }
    const size_t length = utf8_length(text, i);
    if (length == 0) {
      sink.error("not-utf8", source.position(i),
                 tr(msg::lang_not_utf8, {where(), hex_byte(c)}));
      return false;
    }
    i += length;
  }
  return true;
}

bool is_space(char c) { return c == ' ' || c == '\t'; }

// A line-by-line look at the layout, done before yaml-cpp recurses into it:
// tabs in block indentation, and an upper bound on nesting depth (block
// indentation levels, `- `, `? ` and `: ` indicators on a line, and open
// flow brackets). The bound may overcount (a plain scalar with " - " in
// it), never undercount by much: quoted scalars and comments are skipped,
// block scalar bodies are skipped. yaml-cpp's own guard (2000 levels)
// remains behind it.
class LayoutScan {
 public:
  LayoutScan(const SourceText& source, DiagnosticSink& sink) : source_(source), sink_(sink) {}

  bool run() {
    for (int n = 1; n <= source_.line_count(); ++n) {
      if (!scan_line(n)) return false;
    }
    return true;
  }

 private:
  bool scan_line(int n) {
    const std::string_view line = source_.line(n);
    size_t i = 0;
    if (quote_ != 0) {
      i = skip_quoted(line, 0);
      if (quote_ != 0) return true;  // still inside
    } else {
      size_t indent = 0;
      while (indent < line.size() && line[indent] == ' ') ++indent;
      size_t first = indent;
      while (first < line.size() && is_space(line[first])) ++first;
      const bool blank = first == line.size() || line[first] == '#';
      if (block_parent_ >= 0) {
        if (blank || static_cast<int>(indent) > block_parent_) return true;  // block scalar body
        block_parent_ = -1;
      }
      if (blank) return true;
      if (indent == 0 && flow_ == 0 && !document_marker(n, line)) return false;
      seen_content_ = true;
      if (flow_ == 0) {
        if (first != indent) {
          sink_.error("tab-indent", SourcePos{n, static_cast<int>(indent) + 1},
                      tr(msg::lang_tab_indent));
          return false;
        }
        while (!indents_.empty() && indents_.back() > static_cast<int>(indent)) indents_.pop_back();
        if (indents_.empty() || indents_.back() < static_cast<int>(indent)) {
          indents_.push_back(static_cast<int>(indent));
        }
      }
      line_indent_ = static_cast<int>(indent);
      i = first;
      prev_ = 0;
    }
    int tokens = 0;
    for (; i < line.size(); ++i) {
      const char c = line[i];
      if (c == '#' && (i == 0 || is_space(line[i - 1]))) break;
      const bool at_token = prev_ == 0 || prev_ == '[' || prev_ == '{' || prev_ == ',' ||
                            prev_ == ':' || prev_ == '-' || prev_ == '?';
      const bool followed_by_space = i + 1 == line.size() || is_space(line[i + 1]);
      if ((c == '\'' || c == '"') && at_token) {
        quote_ = c;
        i = skip_quoted(line, i + 1);
        if (quote_ != 0) return true;
        prev_ = c;
        if (i > 0) --i;  // the loop's ++i lands after the closing quote
        continue;
      }
      if (c == '[' || c == '{') {
        ++flow_;
      } else if ((c == ']' || c == '}') && flow_ > 0) {
        --flow_;
      } else if ((c == '|' || c == '>') && flow_ == 0 && at_token) {
        block_parent_ = line_indent_;
        return check_depth(n, i, tokens);
      } else if ((c == '-' || c == '?' || c == ':') && followed_by_space &&
                 (flow_ == 0 || c != ':')) {
        ++tokens;
      }
      if (!is_space(c)) prev_ = c;
      if (!check_depth(n, i, tokens)) return false;
    }
    return true;
  }

  // `---` starts a document and `...` ends one; a file holds one document,
  // so content after `...` or a `---` after content is refused.
  bool document_marker(int n, std::string_view line) {
    const auto marker = [&](std::string_view m) {
      return line.substr(0, 3) == m && (line.size() == 3 || is_space(line[3]));
    };
    const bool start = marker("---"), end = marker("...");
    if ((start && seen_content_) || (ended_ && !end)) {
      sink_.error("several-documents", SourcePos{n, 1},
                  tr(msg::lang_second_document));
      return false;
    }
    if (end) ended_ = true;
    return true;
  }

  // Moves past the rest of a quoted scalar on this line; leaves quote_ set
  // when it continues on the next. Returns the index after the closing quote.
  size_t skip_quoted(std::string_view line, size_t i) {
    for (; i < line.size(); ++i) {
      if (quote_ == '"' && line[i] == '\\') {
        ++i;
      } else if (line[i] == quote_) {
        if (quote_ == '\'' && i + 1 < line.size() && line[i + 1] == '\'') {
          ++i;
        } else {
          quote_ = 0;
          return i + 1;
        }
      }
    }
    return i;
  }

  bool check_depth(int n, size_t i, int tokens) {
    const int depth = static_cast<int>(indents_.size()) + tokens + flow_;
    if (depth <= kMaxYamlDepth) return true;
    sink_.error("too-deep", SourcePos{n, static_cast<int>(i) + 1},
                tr(msg::lang_too_deep, {std::to_string(kMaxYamlDepth)}));
    return false;
  }

  const SourceText& source_;
  DiagnosticSink& sink_;
  std::vector<int> indents_;
  int flow_ = 0;
  char quote_ = 0;
  char prev_ = 0;
  int line_indent_ = 0;
  int block_parent_ = -1;
  bool seen_content_ = false;  // anything but comments and a leading ---
  bool ended_ = false;         // a `...` was seen
};

std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Sequence: return tr(msg::lang_a_list);
    case YAML::NodeType::Scalar: return tr(msg::lang_a_single_value, {node.Scalar()});
    default: return tr(msg::lang_empty);
  }
}

// A scalar's text after its escapes: check_bytes() refuses control
// characters in the file, and "\0" or "\x1b" in a quoted scalar must not
// bring them back (a NUL cuts a text short where it is stored or shown).
void check_scalar(const YAML::Node& node, DiagnosticSink& sink) {
  const std::string& text = node.Scalar();
  if (const auto found = find_control(text, true))
    sink.error("bad-character", position_of(node.Mark()),
               tr(msg::lang_control_escape, {found->name, escape_for_display(text, false)}));
}

// Walks every node once per use (aliases included), reporting duplicate
// keys and control characters in scalars, and gives up past the node
// budget.
bool check_nodes(const YAML::Node& root, DiagnosticSink& sink) {
  std::vector<YAML::Node> stack{root};
  size_t visited = 0;
  while (!stack.empty()) {
    YAML::Node node = stack.back();
    stack.pop_back();
    if (++visited > kMaxYamlNodes) {
      sink.error("too-large", SourcePos{},
                 tr(msg::lang_too_many_nodes, {std::to_string(kMaxYamlNodes)}));
      return false;
    }
    if (node.IsMap()) {
      std::unordered_map<std::string, YAML::Mark> seen;
      for (auto it = node.begin(); it != node.end(); ++it) {
        if (it->first.IsScalar()) {
          auto [at, inserted] = seen.emplace(it->first.Scalar(), it->first.Mark());
          if (!inserted) {
            sink.error("duplicate-key", position_of(it->first.Mark()),
                       tr(msg::lang_duplicate_key, {it->first.Scalar(), std::to_string(at->second.line + 1)}));
          }
        }
        stack.push_back(it->first);
        stack.push_back(it->second);
      }
    } else if (node.IsSequence()) {
      for (auto it = node.begin(); it != node.end(); ++it) stack.push_back(*it);
    } else if (node.IsScalar()) {
      check_scalar(node, sink);
    }
  }
  return true;
}

}  // namespace

std::optional<YAML::Node> read_yaml(const SourceText& source, DiagnosticSink& sink,
                                    YamlDocument kind) {
  if (!check_bytes(source, sink)) return std::nullopt;
  if (!LayoutScan(source, sink).run()) return std::nullopt;
  // YAML::LoadAll can loop forever on some malformed input (yaml-cpp 0.7);
  // Load reads the first document only, and the layout scan above has
  // already refused a second one.
  YAML::Node root;
  try {
    root = YAML::Load(std::string(source.text()));
  } catch (const YAML::Exception& e) {
    sink.error("yaml-syntax", position_of(e.mark), tr(msg::lang_yaml_syntax, {e.msg}));
    return std::nullopt;
  } catch (const std::exception& e) {
    sink.error("yaml-syntax", SourcePos{}, tr(msg::lang_yaml_unreadable, {e.what()}));
    return std::nullopt;
  }
  if (root.IsNull() && root.Mark().is_null()) {
    sink.error("empty-file", SourcePos{},
               tr(kind == YamlDocument::kScenarios  ? msg::lang_empty_scenario_file
                  : kind == YamlDocument::kCalendar ? msg::lang_empty_calendar_file
                                                    : msg::lang_empty_file));
    return std::nullopt;
  }
  if (!root.IsMap()) {
    sink.error("not-a-map", position_of(root.Mark()),
               tr(kind == YamlDocument::kScenarios  ? msg::lang_scenario_file_not_a_map
                  : kind == YamlDocument::kCalendar ? msg::lang_calendar_not_a_map
                                                    : msg::lang_not_a_map,
                  {describe(root)}));
    return std::nullopt;
  }
  if (!check_nodes(root, sink)) return std::nullopt;
  return root;
}

}  // namespace sopir
