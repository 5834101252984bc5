#include "mysql/json_binary.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <memory>
#include <vector>

#include "common/byte_reader.h"
#include "common/strings.h"
#include "mysql/column_type.h"
#include "mysql/decimal.h"
#include "mysql/temporal.h"

namespace dts::mysql {
namespace {

enum JsonType : uint8_t {
  kSmallObject = 0x00,
  kLargeObject = 0x01,
  kSmallArray = 0x02,
  kLargeArray = 0x03,
  kLiteral = 0x04,
  kInt16 = 0x05,
  kUInt16 = 0x06,
  kInt32 = 0x07,
  kUInt32 = 0x08,
  kInt64 = 0x09,
  kUInt64 = 0x0a,
  kDouble = 0x0b,
  kString = 0x0c,
  kOpaque = 0x0f,
};

enum Literal : uint8_t { kNullLiteral = 0, kTrueLiteral = 1, kFalseLiteral = 2 };

Status bad(const char* what) {
  return Status::Corruption(std::string("bad binary JSON: ") + what);
}

// Variable-length length of strings and opaque values: 7 bits per byte, low bits first, at most
// 5 bytes, the high bit set on every byte but the last.
bool readVarLength(ByteReader* r, uint64_t* out) {
  uint64_t v = 0;
  for (int i = 0; i < 5; ++i) {
    uint8_t b;
    if (!r->getU8(&b)) return false;
    v |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
    if ((b & 0x80) == 0) {
      if (v > 0xffffffffULL) return false;
      *out = v;
      return true;
    }
  }
  return false;
}

void appendDouble(double d, std::string* out) {
  if (!std::isfinite(d)) {  // not produced by MySQL; keep the output valid JSON anyway
    out->append("null");
    return;
  }
  char buf[40];
  auto res = std::to_chars(buf, buf + sizeof buf, d);
  std::string_view s(buf, static_cast<size_t>(res.ptr - buf));
  bool has_point_or_exp = false;
  for (char c : s) {
    if (c == '.' || c == 'e') has_point_or_exp = true;
  }
  for (char c : s) {
    if (c != '+') out->push_back(c);  // MySQL prints 1e300, not 1e+300
  }
  if (!has_point_or_exp) out->append(".0");
}

constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void appendBase64(std::string_view in, std::string* out) {
  size_t i = 0;
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  for (; i + 3 <= in.size(); i += 3) {
    uint32_t v = (p[i] << 16) | (p[i + 1] << 8) | p[i + 2];
    out->push_back(kBase64[v >> 18]);
    out->push_back(kBase64[(v >> 12) & 63]);
    out->push_back(kBase64[(v >> 6) & 63]);
    out->push_back(kBase64[v & 63]);
  }
  if (i + 1 == in.size()) {
    uint32_t v = p[i] << 16;
    out->push_back(kBase64[v >> 18]);
    out->push_back(kBase64[(v >> 12) & 63]);
    out->append("==");
  } else if (i + 2 == in.size()) {
    uint32_t v = (p[i] << 16) | (p[i + 1] << 8);
    out->push_back(kBase64[v >> 18]);
    out->push_back(kBase64[(v >> 12) & 63]);
    out->push_back(kBase64[(v >> 6) & 63]);
    out->push_back('=');
  }
}

Status appendOpaque(uint8_t field_type, std::string_view data, std::string* out) {
  switch (static_cast<ColumnType>(field_type)) {
    case ColumnType::kNewDecimal: {
      if (data.size() < 2) return bad("truncated DECIMAL opaque value");
      const int precision = static_cast<uint8_t>(data[0]), scale = static_cast<uint8_t>(data[1]);
      if (!decodeDecimal(data.substr(2), precision, scale, out))
        return bad("invalid DECIMAL opaque value");
      return Status::OK();
    }
    case ColumnType::kDate:
    case ColumnType::kNewDate:
    case ColumnType::kTime:
    case ColumnType::kTime2:
    case ColumnType::kDateTime:
    case ColumnType::kDateTime2:
    case ColumnType::kTimestamp:
    case ColumnType::kTimestamp2: {
      ByteReader r(data);
      uint64_t packed;
      if (data.size() < 8 || !r.getU64(&packed)) return bad("truncated temporal opaque value");
      out->push_back('"');
      auto type = static_cast<ColumnType>(field_type);
      if (type == ColumnType::kDate || type == ColumnType::kNewDate) {
        formatPackedDate(static_cast<int64_t>(packed), out);
      } else if (type == ColumnType::kTime || type == ColumnType::kTime2) {
        formatPackedTime(static_cast<int64_t>(packed), out);
      } else {
        formatPackedDateTime(static_cast<int64_t>(packed), out);
      }
      out->push_back('"');
      return Status::OK();
    }
    default:
      out->append("\"base64:type");
      appendUInt(field_type, out);
      out->push_back(':');
      appendBase64(data, out);
      out->push_back('"');
      return Status::OK();
  }
}

// Appends a scalar of `type` whose bytes start at r (inline values were already handled).
Status appendScalar(uint8_t type, ByteReader* r, std::string* out) {
  uint64_t v;
  switch (type) {
    case kLiteral: {
      uint8_t lit;
      if (!r->getU8(&lit)) return bad("truncated literal");
      if (lit == kNullLiteral)
        out->append("null");
      else if (lit == kTrueLiteral)
        out->append("true");
      else if (lit == kFalseLiteral)
        out->append("false");
      else
        return bad("unknown literal");
      return Status::OK();
    }
    case kInt16:
      if (!r->getUint(2, &v)) return bad("truncated int16");
      appendInt(static_cast<int16_t>(v), out);
      return Status::OK();
    case kUInt16:
      if (!r->getUint(2, &v)) return bad("truncated uint16");
      appendUInt(v, out);
      return Status::OK();
    case kInt32:
      if (!r->getUint(4, &v)) return bad("truncated int32");
      appendInt(static_cast<int32_t>(v), out);
      return Status::OK();
    case kUInt32:
      if (!r->getUint(4, &v)) return bad("truncated uint32");
      appendUInt(v, out);
      return Status::OK();
    case kInt64:
      if (!r->getUint(8, &v)) return bad("truncated int64");
      appendInt(static_cast<int64_t>(v), out);
      return Status::OK();
    case kUInt64:
      if (!r->getUint(8, &v)) return bad("truncated uint64");
      appendUInt(v, out);
      return Status::OK();
    case kDouble: {
      if (!r->getUint(8, &v)) return bad("truncated double");
      double d;
      std::memcpy(&d, &v, sizeof d);
      appendDouble(d, out);
      return Status::OK();
    }
    case kString: {
      uint64_t len;
      std::string_view s;
      if (!readVarLength(r, &len) || !r->getBytes(len, &s)) return bad("truncated string");
      appendJsonQuoted(s, out);
      return Status::OK();
    }
    case kOpaque: {
      uint8_t field_type;
      uint64_t len;
      std::string_view data;
      if (!r->getU8(&field_type) || !readVarLength(r, &len) || !r->getBytes(len, &data))
        return bad("truncated opaque value");
      return appendOpaque(field_type, data, out);
    }
    default: return bad("unknown value type");
  }
}

bool isInlined(uint8_t type, bool large) {
  switch (type) {
    case kLiteral:
    case kInt16:
    case kUInt16: return true;
    case kInt32:
    case kUInt32: return large;
    default: return false;
  }
}

// A value entry of a container: either an inlined scalar or the bytes at an offset.
struct Entry {
  uint8_t type = 0;
  std::string_view inline_bytes;  // when inlined: the offset field itself
  uint64_t offset = 0;            // when not inlined
  bool inlined = false;
};

// Visits a container (object or array) stored in `body` (the bytes after the type byte).
// For objects calls on_key(key) before each value. Calls on_value(type, value_bytes_reader).
class Container {
 public:
  Container(std::string_view body, bool large, bool object)
      : body_(body), large_(large), object_(object) {}

  Status open() {
    ByteReader r(body_);
    const size_t osize = large_ ? 4 : 2;
    uint64_t count, size;
    if (!r.getUint(osize, &count) || !r.getUint(osize, &size))
      return bad("truncated container header");
    if (size > body_.size()) return bad("container larger than its value");
    body_ = body_.substr(0, size);
    count_ = count;
    const size_t key_entry = object_ ? osize + 2 : 0;
    const size_t value_entry = 1 + osize;
    // Header, key entries and value entries must fit in the container.
    if (count > (size / (key_entry + value_entry)) + 1 ||
        2 * osize + count * (key_entry + value_entry) > size)
      return bad("container entries exceed its size");
    key_entries_ = 2 * osize;
    value_entries_ = key_entries_ + count * key_entry;
    return Status::OK();
  }

  uint64_t count() const { return count_; }

  Status key(uint64_t i, std::string_view* out) const {
    const size_t osize = large_ ? 4 : 2;
    ByteReader r(body_);
    uint64_t off, len;
    if (!r.skip(key_entries_ + i * (osize + 2)) || !r.getUint(osize, &off) || !r.getUint(2, &len))
      return bad("truncated key entry");
    if (off > body_.size() || len > body_.size() - off) return bad("key outside its object");
    *out = body_.substr(off, len);
    return Status::OK();
  }

  Status entry(uint64_t i, Entry* e) const {
    const size_t osize = large_ ? 4 : 2;
    ByteReader r(body_);
    if (!r.skip(value_entries_ + i * (1 + osize)) || !r.getU8(&e->type))
      return bad("truncated value entry");
    e->inlined = isInlined(e->type, large_);
    if (e->inlined) {
      if (!r.getBytes(osize, &e->inline_bytes)) return bad("truncated value entry");
      e->offset = 0;
    } else {
      if (!r.getUint(osize, &e->offset)) return bad("truncated value entry");
      if (e->offset >= body_.size()) return bad("value outside its container");
    }
    return Status::OK();
  }

  // The bytes a non-inlined value starts at (to the container's end).
  std::string_view valueBytes(const Entry& e) const { return body_.substr(e.offset); }

 private:
  std::string_view body_;
  bool large_, object_;
  uint64_t count_ = 0;
  size_t key_entries_ = 0, value_entries_ = 0;
};

Status appendValue(uint8_t type, std::string_view bytes, int depth, std::string* out);

Status appendEntry(const Container& c, const Entry& e, int depth, std::string* out) {
  if (e.inlined) {
    ByteReader r(e.inline_bytes);
    return appendScalar(e.type, &r, out);
  }
  return appendValue(e.type, c.valueBytes(e), depth, out);
}

Status appendValue(uint8_t type, std::string_view bytes, int depth, std::string* out) {
  if (depth > kMaxJsonDepth) return bad("nesting too deep");
  switch (type) {
    case kSmallObject:
    case kLargeObject:
    case kSmallArray:
    case kLargeArray: {
      const bool object = type == kSmallObject || type == kLargeObject;
      Container c(bytes, type == kLargeObject || type == kLargeArray, object);
      DTS_RETURN_IF_ERROR(c.open());
      out->push_back(object ? '{' : '[');
      for (uint64_t i = 0; i < c.count(); ++i) {
        if (i > 0) out->append(", ");
        if (object) {
          std::string_view key;
          DTS_RETURN_IF_ERROR(c.key(i, &key));
          appendJsonQuoted(key, out);
          out->append(": ");
        }
        Entry e;
        DTS_RETURN_IF_ERROR(c.entry(i, &e));
        DTS_RETURN_IF_ERROR(appendEntry(c, e, depth + 1, out));
      }
      out->push_back(object ? '}' : ']');
      return Status::OK();
    }
    default: {
      ByteReader r(bytes);
      return appendScalar(type, &r, out);
    }
  }
}

// ---- A small DOM for applying diffs: scalars keep their rendered text. ----

struct Node {
  enum class Kind : uint8_t { kScalar, kObject, kArray } kind = Kind::kScalar;
  std::string text;               // scalars
  std::vector<std::string> keys;  // objects: keys[i] names items[i], in MySQL key order
  std::vector<Node> items;        // object member values, array elements
};

bool keyLess(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return a.size() < b.size();
  return a < b;
}

Status buildNode(uint8_t type, std::string_view bytes, int depth, Node* node);

Status buildEntry(const Container& c, const Entry& e, int depth, Node* node) {
  if (e.inlined) {
    node->kind = Node::Kind::kScalar;
    ByteReader r(e.inline_bytes);
    return appendScalar(e.type, &r, &node->text);
  }
  return buildNode(e.type, c.valueBytes(e), depth, node);
}

Status buildNode(uint8_t type, std::string_view bytes, int depth, Node* node) {
  if (depth > kMaxJsonDepth) return bad("nesting too deep");
  switch (type) {
    case kSmallObject:
    case kLargeObject:
    case kSmallArray:
    case kLargeArray: {
      const bool object = type == kSmallObject || type == kLargeObject;
      Container c(bytes, type == kLargeObject || type == kLargeArray, object);
      DTS_RETURN_IF_ERROR(c.open());
      node->kind = object ? Node::Kind::kObject : Node::Kind::kArray;
      for (uint64_t i = 0; i < c.count(); ++i) {
        Entry e;
        DTS_RETURN_IF_ERROR(c.entry(i, &e));
        Node child;
        DTS_RETURN_IF_ERROR(buildEntry(c, e, depth + 1, &child));
        if (object) {
          std::string_view key;
          DTS_RETURN_IF_ERROR(c.key(i, &key));
          node->keys.emplace_back(key);
        }
        node->items.push_back(std::move(child));
      }
      return Status::OK();
    }
    default: {
      node->kind = Node::Kind::kScalar;
      ByteReader r(bytes);
      return appendScalar(type, &r, &node->text);
    }
  }
}

Status buildDocument(std::string_view bin, Node* node) {
  if (bin.empty()) {
    node->kind = Node::Kind::kScalar;
    node->text = "null";
    return Status::OK();
  }
  return buildNode(static_cast<uint8_t>(bin[0]), bin.substr(1), 0, node);
}

void renderNode(const Node& n, std::string* out) {
  switch (n.kind) {
    case Node::Kind::kScalar: out->append(n.text); return;
    case Node::Kind::kObject:
      out->push_back('{');
      for (size_t i = 0; i < n.keys.size() && i < n.items.size(); ++i) {
        if (i > 0) out->append(", ");
        appendJsonQuoted(n.keys[i], out);
        out->append(": ");
        renderNode(n.items[i], out);
      }
      out->push_back('}');
      return;
    case Node::Kind::kArray:
      out->push_back('[');
      for (size_t i = 0; i < n.items.size(); ++i) {
        if (i > 0) out->append(", ");
        renderNode(n.items[i], out);
      }
      out->push_back(']');
      return;
  }
}

// One leg of a JSON path as MySQL prints it: .member, ."quoted member", [index], [last], [last-N].
struct Leg {
  bool is_member = false;
  std::string member;
  bool from_last = false;
  uint64_t index = 0;  // from_last: N of last-N
};

Status badPath(std::string_view path) {
  return Status::Corruption("bad JSON diff path '" + std::string(path.substr(0, 200)) + "'");
}

Status parsePath(std::string_view path, std::vector<Leg>* legs) {
  size_t i = 0;
  auto skipSpace = [&] {
    while (i < path.size() && (path[i] == ' ' || path[i] == '\t')) ++i;
  };
  skipSpace();
  if (i >= path.size() || path[i] != '$') return badPath(path);
  ++i;
  while (true) {
    skipSpace();
    if (i >= path.size()) break;
    Leg leg;
    if (path[i] == '.') {
      ++i;
      skipSpace();
      leg.is_member = true;
      if (i < path.size() && path[i] == '"') {
        ++i;
        while (true) {
          if (i >= path.size()) return badPath(path);
          char c = path[i++];
          if (c == '"') break;
          if (c != '\\') {
            leg.member.push_back(c);
            continue;
          }
          if (i >= path.size()) return badPath(path);
          char e = path[i++];
          switch (e) {
            case 'b': leg.member.push_back('\b'); break;
            case 'f': leg.member.push_back('\f'); break;
            case 'n': leg.member.push_back('\n'); break;
            case 'r': leg.member.push_back('\r'); break;
            case 't': leg.member.push_back('\t'); break;
            case 'u': {
              if (i + 4 > path.size()) return badPath(path);
              uint32_t cp = 0;
              for (int k = 0; k < 4; ++k) {
                char h = path[i++];
                cp <<= 4;
                if (h >= '0' && h <= '9')
                  cp |= static_cast<uint32_t>(h - '0');
                else if (h >= 'a' && h <= 'f')
                  cp |= static_cast<uint32_t>(h - 'a' + 10);
                else if (h >= 'A' && h <= 'F')
                  cp |= static_cast<uint32_t>(h - 'A' + 10);
                else
                  return badPath(path);
              }
              // Encode the BMP code point as UTF-8 (paths MySQL writes only escape controls).
              if (cp < 0x80) {
                leg.member.push_back(static_cast<char>(cp));
              } else if (cp < 0x800) {
                leg.member.push_back(static_cast<char>(0xc0 | (cp >> 6)));
                leg.member.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
              } else {
                leg.member.push_back(static_cast<char>(0xe0 | (cp >> 12)));
                leg.member.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
                leg.member.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
              }
              break;
            }
            default: leg.member.push_back(e); break;
          }
        }
      } else {
        size_t start = i;
        while (i < path.size() && path[i] != '.' && path[i] != '[' && path[i] != ' ') ++i;
        if (i == start) return badPath(path);
        leg.member.assign(path.substr(start, i - start));
        if (leg.member == "*" || leg.member.find('*') != std::string::npos) return badPath(path);
      }
    } else if (path[i] == '[') {
      ++i;
      skipSpace();
      if (path.substr(i, 4) == "last") {
        leg.from_last = true;
        i += 4;
        skipSpace();
        if (i < path.size() && path[i] == '-') {
          ++i;
          skipSpace();
          auto res = std::from_chars(path.data() + i, path.data() + path.size(), leg.index);
          if (res.ec != std::errc()) return badPath(path);
          i = static_cast<size_t>(res.ptr - path.data());
        }
      } else {
        auto res = std::from_chars(path.data() + i, path.data() + path.size(), leg.index);
        if (res.ec != std::errc()) return badPath(path);
        i = static_cast<size_t>(res.ptr - path.data());
      }
      skipSpace();
      if (i >= path.size() || path[i] != ']') return badPath(path);
      ++i;
    } else {
      return badPath(path);
    }
    legs->push_back(std::move(leg));
  }
  return Status::OK();
}

// Resolves an array leg against an array of `size` items; false when out of range.
bool arrayPosition(const Leg& leg, size_t size, size_t* pos) {
  if (leg.from_last) {
    if (size == 0 || leg.index >= size) return false;
    *pos = size - 1 - leg.index;
    return true;
  }
  if (leg.index >= size) return false;
  *pos = leg.index;
  return true;
}

Node* seek(Node* node, const std::vector<Leg>& legs, size_t count) {
  for (size_t i = 0; i < count; ++i) {
    const Leg& leg = legs[i];
    if (node->kind == Node::Kind::kObject && leg.is_member) {
      Node* next = nullptr;
      for (size_t k = 0; k < node->keys.size(); ++k) {
        if (node->keys[k] == leg.member) {
          next = &node->items[k];
          break;
        }
      }
      if (next == nullptr) return nullptr;
      node = next;
    } else if (node->kind == Node::Kind::kArray && !leg.is_member) {
      size_t pos;
      if (!arrayPosition(leg, node->items.size(), &pos)) return nullptr;
      node = &node->items[pos];
    } else {
      return nullptr;
    }
  }
  return node;
}

Status applyOne(Node* root, uint8_t op, std::string_view path_text, std::string_view value_bin) {
  std::vector<Leg> legs;
  DTS_RETURN_IF_ERROR(parsePath(path_text, &legs));
  if (legs.empty()) return Status::Corruption("JSON diff on the document root");
  auto notFound = [&] {
    return Status::Corruption("JSON diff path '" + std::string(path_text.substr(0, 200)) +
                              "' does not exist in the before image");
  };
  Node value;
  if (op != 2) {
    if (value_bin.empty()) return bad("empty diff value");
    DTS_RETURN_IF_ERROR(
        buildNode(static_cast<uint8_t>(value_bin[0]), value_bin.substr(1), 1, &value));
  }
  Node* parent = seek(root, legs, legs.size() - 1);
  if (parent == nullptr) return notFound();
  const Leg& last = legs.back();
  switch (op) {
    case 0: {  // REPLACE
      Node* target = seek(parent, {last}, 1);
      if (target == nullptr) return notFound();
      *target = std::move(value);
      return Status::OK();
    }
    case 1: {  // INSERT
      if (parent->kind == Node::Kind::kObject && last.is_member) {
        size_t k = 0;
        while (k < parent->keys.size() && keyLess(parent->keys[k], last.member)) ++k;
        if (k < parent->keys.size() && parent->keys[k] == last.member)
          return Status::Corruption("JSON diff inserts existing member '" + last.member + "'");
        parent->keys.insert(parent->keys.begin() + static_cast<std::ptrdiff_t>(k), last.member);
        parent->items.insert(parent->items.begin() + static_cast<std::ptrdiff_t>(k),
                             std::move(value));
        return Status::OK();
      }
      if (parent->kind == Node::Kind::kArray && !last.is_member) {
        size_t size = parent->items.size(), pos;
        if (last.from_last) {
          pos = last.index >= size ? 0 : size - last.index;  // insert after position last-N
          if (pos > size) pos = size;
        } else {
          pos = last.index > size ? size : static_cast<size_t>(last.index);
        }
        parent->items.insert(parent->items.begin() + static_cast<std::ptrdiff_t>(pos),
                             std::move(value));
        return Status::OK();
      }
      return notFound();
    }
    case 2: {  // REMOVE
      if (parent->kind == Node::Kind::kObject && last.is_member) {
        for (size_t k = 0; k < parent->keys.size(); ++k) {
          if (parent->keys[k] == last.member) {
            parent->keys.erase(parent->keys.begin() + static_cast<std::ptrdiff_t>(k));
            parent->items.erase(parent->items.begin() + static_cast<std::ptrdiff_t>(k));
            return Status::OK();
          }
        }
        return notFound();
      }
      if (parent->kind == Node::Kind::kArray && !last.is_member) {
        size_t pos;
        if (!arrayPosition(last, parent->items.size(), &pos)) return notFound();
        parent->items.erase(parent->items.begin() + static_cast<std::ptrdiff_t>(pos));
        return Status::OK();
      }
      return notFound();
    }
    default: return Status::Corruption("unknown JSON diff operation " + std::to_string(op));
  }
}

}  // namespace

namespace {

// True when one of the 8 bytes of w needs escaping: < 0x20, '"', '\\' or (escape_del) 0x7f.
// Bytes >= 0x80 (UTF-8 sequences) never do. The classic "has a zero byte" test, exact here
// because every byte tested is < 0x80 (the high bits are masked out first).
inline bool needsEscape(uint64_t w, bool escape_del) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL, kHigh = 0x8080808080808080ULL;
  const uint64_t ascii = ~w & kHigh;  // the bytes < 0x80
  auto zero = [&](uint64_t x) { return (x - kOnes) & ~x & kHigh; };
  uint64_t hit = ((w & ~kHigh) - 0x20 * kOnes) & kHigh;  // low 7 bits < 0x20 (borrow)
  hit |= zero(w ^ (0x22 * kOnes)) | zero(w ^ (0x5c * kOnes));
  if (escape_del) hit |= zero(w ^ (0x7f * kOnes));
  return (hit & ascii) != 0;
}

}  // namespace

void appendJsonQuoted(std::string_view s, std::string* out, bool escape_del) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  size_t run = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    // Eight bytes at a time while none needs escaping (most text).
    while (s.size() - i >= 8) {
      uint64_t w;
      std::memcpy(&w, s.data() + i, 8);
      if (needsEscape(w, escape_del)) break;
      i += 8;
    }
    if (i >= s.size()) break;
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\' && !(escape_del && c == 0x7f)) continue;
    out->append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\b': out->append("\\b"); break;
      case '\f': out->append("\\f"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      default:
        out->append("\\u00");
        out->push_back(kHex[c >> 4]);
        out->push_back(kHex[c & 15]);
    }
  }
  out->append(s.data() + run, s.size() - run);
  out->push_back('"');
}

Status jsonBinaryToText(std::string_view bin, std::string* out) {
  if (bin.empty()) {
    out->append("null");
    return Status::OK();
  }
  return appendValue(static_cast<uint8_t>(bin[0]), bin.substr(1), 0, out);
}

Status applyJsonDiffToText(std::string_view before, std::string_view diffs, std::string* out) {
  Node root;
  DTS_RETURN_IF_ERROR(buildDocument(before, &root));
  ByteReader r(diffs);
  while (!r.empty()) {
    uint8_t op;
    std::string_view path, value;
    if (!r.getU8(&op) || !r.getLenencBytes(&path)) return Status::Corruption("truncated JSON diff");
    if (op > 2) return Status::Corruption("unknown JSON diff operation " + std::to_string(op));
    if (op != 2 && !r.getLenencBytes(&value))
      return Status::Corruption("truncated JSON diff value");
    DTS_RETURN_IF_ERROR(applyOne(&root, op, path, value));
  }
  renderNode(root, out);
  return Status::OK();
}

}  // namespace dts::mysql
