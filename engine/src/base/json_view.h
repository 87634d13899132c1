// A JSON document read in place: one pass over the text into a flat array
// of nodes that point back into it, so that reading a large document costs
// one allocation instead of a tree of maps and strings. For text sopir wrote
// itself and reads often (a published procedure's compiled form, decoded by
// every one-shot command); anything general goes through nlohmann::json.
//
// The grammar is RFC 8259's, checked in full (a document either parses
// whole or not at all), nested at most kMaxDepth deep; strings must be
// UTF-8 (RFC 3629). Strings are kept as written and unescaped when asked
// for. Numbers are kept as text; integer() reads whole numbers only.
//
// Where it differs from nlohmann::json: a name given twice in an object
// finds the first (nlohmann keeps the last); a number past a double's range
// is not refused; text after a NUL byte is not ignored; a byte order mark is
// refused. sopir's own writer produces none of these.
//
// Reading what is not there (a missing key, an index past the end, a
// string read as a number) throws std::runtime_error: a caller decoding a
// document of a known layout catches it once and treats the document as
// damaged.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sopir::json_view {

enum class Kind : uint8_t { kNull, kBool, kNumber, kString, kArray, kObject };

inline constexpr int kMaxDepth = 256;

class Document;

// One value of a Document (valid while the document and its text are).
class Node {
 public:
  Kind kind() const;
  bool is_null() const { return kind() == Kind::kNull; }

  // Scalars; each throws when the value is of another kind.
  bool boolean() const;
  int64_t integer() const;  // a whole number in int64_t's range
  int integer32() const;    // the same, in int's range
  std::string str() const;  // unescaped
  // The same, as a view: of the document's text when the string holds no
  // escape, else of `scratch`, which it fills.
  std::string_view str_view(std::string& scratch) const;
  // The string's size as written (escapes included): at least its size.
  size_t written_size() const;

  // Arrays and objects: the number of elements or members.
  size_t size() const;
  // Array element `i`, or throws.
  Node at(size_t i) const;
  // Object member `key` (the first of that name), or throws / nullopt.
  Node at(std::string_view key) const;
  std::optional<Node> find(std::string_view key) const;
  // An object member's name (unescaped); empty for any other value.
  std::string key() const;
  // The same, as a view (as str_view()).
  std::string_view key_view(std::string& scratch) const;

  // The elements of an array or the members' values of an object, in order.
  class Iterator {
   public:
    Node operator*() const { return Node(doc_, index_); }
    Iterator& operator++();
    bool operator!=(const Iterator& other) const { return index_ != other.index_; }

   private:
    friend class Node;
    Iterator(const Document* doc, uint32_t index) : doc_(doc), index_(index) {}
    const Document* doc_;
    uint32_t index_;
  };
  Iterator begin() const;  // throws for a scalar
  Iterator end() const;

 private:
  friend class Document;
  Node(const Document* doc, uint32_t index) : doc_(doc), index_(index) {}
  const Document* doc_;
  uint32_t index_;
};

class Document {
 public:
  // Parses `text`, which must outlive the document; false when it is not
  // exactly one JSON value (surrounding whitespace aside) or is 4 GiB long.
  bool parse(std::string_view text);
  // The top value; only after parse() returned true.
  Node root() const { return Node(this, 0); }

 private:
  friend class Node;
  // 28 bytes a value: a large document's nodes are most of the memory it
  // touches.
  struct Entry {
    explicit Entry(Kind k) : kind(k) {}
    uint32_t end = 0;           // index one past this value's last descendant
    uint32_t count = 0;         // elements or members
    uint32_t text = 0, text_size = 0;  // a scalar as written (strings without quotes)
    uint32_t key = 0, key_size = 0;    // the member name as written, in an object
    Kind kind;
    bool escaped = false;      // the string (value) holds a backslash
    bool key_escaped = false;  // the member name holds a backslash
  };
  static_assert(sizeof(Entry) == 28, "a node's size is part of the design");
  std::string_view text_of(const Entry& e) const { return text_.substr(e.text, e.text_size); }
  std::string_view key_of(const Entry& e) const { return text_.substr(e.key, e.key_size); }
  bool value(int depth);
  bool string(std::string_view& out, bool& escaped);
  bool number();
  void skip_space();
  const Entry& entry(uint32_t index) const { return entries_[index]; }

  std::string_view text_;
  size_t at_ = 0;
  std::vector<Entry> entries_;
};

}  // namespace sopir::json_view
