// json_view::Document and Node (see json_view.h).
#include "base/json_view.h"

#include <array>
#include <charconv>
#include <cstring>
#include <limits>
#include <stdexcept>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace sopir::json_view {

namespace {

[[noreturn]] void wrong(const char* what) { throw std::runtime_error(what); }

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The four hex digits at `at`, or -1.
int hex4(std::string_view s, size_t at) {
  if (at + 4 > s.size()) return -1;
  int v = 0;
  for (size_t i = at; i < at + 4; ++i) {
    const int d = hex_digit(s[i]);
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

// The length of the UTF-8 sequence starting at `at` (its first byte is
// 0x80 or above), or 0 when it is not one: RFC 3629, so no overlong forms,
// no surrogates, nothing past U+10FFFF.
size_t utf8_sequence(std::string_view s, size_t at) {
  const auto byte = [&](size_t i) { return i < s.size() ? static_cast<unsigned char>(s[i]) : 0u; };
  const unsigned b0 = byte(at);
  size_t n = 0;
  unsigned low = 0x80, high = 0xBF;  // the second byte's range
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    n = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    n = 3;
    if (b0 == 0xE0) low = 0xA0;
    if (b0 == 0xED) high = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    n = 4;
    if (b0 == 0xF0) low = 0x90;
    if (b0 == 0xF4) high = 0x8F;
  } else {
    return 0;
  }
  if (byte(at + 1) < low || byte(at + 1) > high) return 0;
  for (size_t i = 2; i < n; ++i)
    if (byte(at + i) < 0x80 || byte(at + i) > 0xBF) return 0;
  return n;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// The bytes a string holds as they are: printable ASCII but '"' and '\\'.
constexpr auto kPlain = [] {
  std::array<bool, 256> plain{};
  for (int c = 0x20; c < 0x80; ++c) plain[static_cast<size_t>(c)] = c != '"' && c != '\\';
  return plain;
}();

// How many bytes from `at` are plain (kPlain) before the first that is not
// or the end of `s`: sixteen bytes a test where SSE2 is (every x86-64 CPU),
// then a byte a test. As signed bytes, those of 0x80 and above are negative,
// so one "less than a space" finds them and the control bytes together.
size_t plain_run(const unsigned char* s, size_t at, size_t size) {
  size_t i = at;
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\'), space = _mm_set1_epi8(' ');
  while (i + 16 <= size) {
    const __m128i chunk = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i));
    const __m128i special = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(chunk, quote), _mm_cmpeq_epi8(chunk, backslash)),
                                         _mm_cmplt_epi8(chunk, space));
    const auto mask = static_cast<unsigned>(_mm_movemask_epi8(special));
    if (mask != 0) return i + static_cast<size_t>(__builtin_ctz(mask)) - at;
    i += 16;
  }
#endif
  while (i < size && kPlain[s[i]]) ++i;
  return i - at;
}

// A string's text as written (checked by the parser) without its escapes.
std::string unescape(std::string_view s, bool escaped) {
  if (!escaped) return std::string(s);
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\') {
      out += s[i];
      continue;
    }
    const char c = s[++i];
    switch (c) {
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'u': {
        uint32_t cp = static_cast<uint32_t>(hex4(s, i + 1));
        i += 4;
        if (cp >= 0xD800 && cp <= 0xDBFF) {  // a pair, as the parser checked
          const auto low = static_cast<uint32_t>(hex4(s, i + 3));
          cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          i += 6;
        }
        append_utf8(out, cp);
        break;
      }
      default: out += c; break;  // '"', '\\', '/'
    }
  }
  return out;
}

}  // namespace

bool Document::parse(std::string_view text) {
  entries_.clear();
  if (text.size() >= std::numeric_limits<uint32_t>::max()) return false;  // offsets are 32-bit
  text_ = text;
  at_ = 0;
  entries_.reserve(text.size() / 16 + 1);
  if (!value(0)) {
    entries_.clear();
    return false;
  }
  skip_space();
  if (at_ != text_.size()) {
    entries_.clear();
    return false;
  }
  return true;
}

void Document::skip_space() {
  // sopir writes its forms without whitespace: one test, most times.
  if (at_ < text_.size() && static_cast<unsigned char>(text_[at_]) > ' ') return;
  while (at_ < text_.size()) {
    const char c = text_[at_];
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
    ++at_;
  }
}

bool Document::value(int depth) {
  if (depth >= kMaxDepth) return false;
  skip_space();
  if (at_ >= text_.size()) return false;
  const auto index = static_cast<uint32_t>(entries_.size());
  const char c = text_[at_];
  if (c == '{' || c == '[') {
    const bool object = c == '{';
    const char close = object ? '}' : ']';
    entries_.emplace_back(object ? Kind::kObject : Kind::kArray);
    ++at_;
    skip_space();
    uint32_t count = 0;
    if (at_ < text_.size() && text_[at_] == close) {
      ++at_;
    } else {
      for (;;) {
        std::string_view key;
        bool key_escaped = false;
        if (object) {
          skip_space();
          if (!string(key, key_escaped)) return false;
          skip_space();
          if (at_ >= text_.size() || text_[at_] != ':') return false;
          ++at_;
        }
        const auto child = static_cast<uint32_t>(entries_.size());
        if (!value(depth + 1)) return false;
        if (object) {
          entries_[child].key = static_cast<uint32_t>(key.data() - text_.data());
          entries_[child].key_size = static_cast<uint32_t>(key.size());
          entries_[child].key_escaped = key_escaped;
        }
        ++count;
        skip_space();
        if (at_ >= text_.size()) return false;
        if (text_[at_] == ',') {
          ++at_;
          continue;
        }
        if (text_[at_] != close) return false;
        ++at_;
        break;
      }
    }
    entries_[index].count = count;
  } else if (c == '"') {
    Entry e(Kind::kString);
    std::string_view body;
    if (!string(body, e.escaped)) return false;
    e.text = static_cast<uint32_t>(body.data() - text_.data());
    e.text_size = static_cast<uint32_t>(body.size());
    entries_.push_back(e);
  } else if (c == '-' || (c >= '0' && c <= '9')) {
    const size_t start = at_;
    if (!number()) return false;
    Entry e(Kind::kNumber);
    e.text = static_cast<uint32_t>(start);
    e.text_size = static_cast<uint32_t>(at_ - start);
    entries_.push_back(e);
  } else {
    Entry e(Kind::kNull);
    for (std::string_view word : {"null", "true", "false"}) {
      if (text_.substr(at_, word.size()) == word) {
        e.kind = word == "null" ? Kind::kNull : Kind::kBool;
        e.text = static_cast<uint32_t>(at_);
        e.text_size = static_cast<uint32_t>(word.size());
        break;
      }
    }
    if (e.text_size == 0) return false;
    at_ += e.text_size;
    entries_.push_back(e);
  }
  entries_[index].end = static_cast<uint32_t>(entries_.size());
  return true;
}

bool Document::string(std::string_view& out, bool& escaped) {
  if (at_ >= text_.size() || text_[at_] != '"') return false;
  const size_t start = ++at_;
  escaped = false;
  const size_t size = text_.size();
  const auto* bytes = reinterpret_cast<const unsigned char*>(text_.data());
  while (at_ < size) {
    // Most of a compiled form's text is labels and descriptions without
    // escapes.
    at_ += plain_run(bytes, at_, size);
    if (at_ >= size) break;
    const auto c = bytes[at_];
    if (c == '"') {
      out = text_.substr(start, at_ - start);
      ++at_;
      return true;
    }
    if (c < 0x20) return false;
    if (c >= 0x80) {
      const size_t n = utf8_sequence(text_, at_);
      if (n == 0) return false;
      at_ += n;
      continue;
    }
    if (c != '\\') {
      ++at_;
      continue;
    }
    escaped = true;
    if (++at_ >= text_.size()) return false;
    const char e = text_[at_];
    if (e == 'u') {
      const int cp = hex4(text_, at_ + 1);
      if (cp < 0 || (cp >= 0xDC00 && cp <= 0xDFFF)) return false;
      at_ += 5;
      if (cp >= 0xD800 && cp <= 0xDBFF) {  // must be followed by its low half
        if (text_.substr(at_, 2) != "\\u") return false;
        const int low = hex4(text_, at_ + 2);
        if (low < 0xDC00 || low > 0xDFFF) return false;
        at_ += 6;
      }
    } else if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' || e == 'r' || e == 't') {
      ++at_;
    } else {
      return false;
    }
  }
  return false;
}

bool Document::number() {
  auto digit = [&] { return at_ < text_.size() && text_[at_] >= '0' && text_[at_] <= '9'; };
  auto digits = [&] {
    if (!digit()) return false;
    while (digit()) ++at_;
    return true;
  };
  if (text_[at_] == '-') ++at_;
  if (at_ < text_.size() && text_[at_] == '0') {
    ++at_;
  } else if (!digits()) {
    return false;
  }
  if (at_ < text_.size() && text_[at_] == '.') {
    ++at_;
    if (!digits()) return false;
  }
  if (at_ < text_.size() && (text_[at_] == 'e' || text_[at_] == 'E')) {
    ++at_;
    if (at_ < text_.size() && (text_[at_] == '+' || text_[at_] == '-')) ++at_;
    if (!digits()) return false;
  }
  return true;
}

Kind Node::kind() const { return doc_->entry(index_).kind; }

bool Node::boolean() const {
  const auto& e = doc_->entry(index_);
  if (e.kind != Kind::kBool) wrong("not a boolean");
  return doc_->text_of(e) == "true";
}

int64_t Node::integer() const {
  const auto& e = doc_->entry(index_);
  if (e.kind != Kind::kNumber) wrong("not a number");
  const std::string_view text = doc_->text_of(e);
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) wrong("not a whole number in range");
  return v;
}

int Node::integer32() const {
  const int64_t v = integer();
  if (v < std::numeric_limits<int>::min() || v > std::numeric_limits<int>::max()) wrong("number out of range");
  return static_cast<int>(v);
}

std::string Node::str() const {
  const auto& e = doc_->entry(index_);
  if (e.kind != Kind::kString) wrong("not a string");
  return unescape(doc_->text_of(e), e.escaped);
}

std::string_view Node::str_view(std::string& scratch) const {
  const auto& e = doc_->entry(index_);
  if (e.kind != Kind::kString) wrong("not a string");
  if (!e.escaped) return doc_->text_of(e);
  scratch = unescape(doc_->text_of(e), true);
  return scratch;
}

size_t Node::written_size() const {
  const auto& e = doc_->entry(index_);
  if (e.kind != Kind::kString) wrong("not a string");
  return e.text_size;
}

size_t Node::size() const {
  const auto& e = doc_->entry(index_);
  if (e.kind != Kind::kArray && e.kind != Kind::kObject) wrong("not an array or object");
  return e.count;
}

Node Node::at(size_t i) const {
  if (kind() != Kind::kArray) wrong("not an array");
  for (Node n : *this)
    if (i-- == 0) return n;
  wrong("index out of range");
}

std::optional<Node> Node::find(std::string_view key) const {
  const auto& object = doc_->entry(index_);
  if (object.kind != Kind::kObject) wrong("not an object");
  // The members' entries walked directly (no bounds-checked views): every
  // decoded field of a compiled form is a lookup here.
  const Document::Entry* entries = doc_->entries_.data();
  const char* text = doc_->text_.data();
  for (uint32_t i = index_ + 1; i != object.end; i = entries[i].end) {
    const auto& e = entries[i];
    if (e.key_escaped) {
      if (unescape(doc_->key_of(e), true) == key) return Node(doc_, i);
    } else if (e.key_size == key.size() && std::memcmp(text + e.key, key.data(), key.size()) == 0) {
      return Node(doc_, i);
    }
  }
  return std::nullopt;
}

Node Node::at(std::string_view key) const {
  if (auto n = find(key)) return *n;
  wrong("missing key");
}

std::string Node::key() const {
  const auto& e = doc_->entry(index_);
  return unescape(doc_->key_of(e), e.key_escaped);
}

std::string_view Node::key_view(std::string& scratch) const {
  const auto& e = doc_->entry(index_);
  if (!e.key_escaped) return doc_->key_of(e);
  scratch = unescape(doc_->key_of(e), true);
  return scratch;
}

Node::Iterator& Node::Iterator::operator++() {
  index_ = doc_->entry(index_).end;
  return *this;
}

Node::Iterator Node::begin() const {
  size();  // throws for a scalar
  return Iterator(doc_, index_ + 1);
}

Node::Iterator Node::end() const { return Iterator(doc_, doc_->entry(index_).end); }

}  // namespace sopir::json_view
