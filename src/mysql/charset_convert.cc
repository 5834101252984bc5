#include "mysql/charset_convert.h"

#include <iconv.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include "mysql/collations.h"

namespace dts::mysql {
namespace {

enum class CharsetKind : uint8_t { kUnicode, kSingleByte, kMultiByte };

// A code (its bytes read big-endian) whose server code point differs from glibc's.
struct CodeOverride {
  uint32_t code;
  uint32_t cp;
};

struct CharsetTable {
  const char* name;
  CharsetKind kind;
  const uint32_t* single;         // kSingleByte: code point of each byte
  const uint8_t* lead;            // kMultiByte: length of the character a byte starts (0 = invalid)
  const CodeOverride* overrides;  // kMultiByte: sorted by code
  const char* iconv_name;
  size_t override_count;
  const uint32_t* lossy;  // sorted codes whose character the server converts back into other bytes
  size_t lossy_count;
};

#include "mysql/charsets.inc"

constexpr uint32_t kInvalidCp = 0xFFFFFFFF;

enum class Method : uint8_t {
  kUnsupported,
  kBinary,
  kUtf8mb3,
  kUtf8mb4,
  kUtf16,
  kUtf16le,
  kUtf32,
  kUcs2,
  kSingleByte,
  kMultiByte,
};

// Each byte of a single-byte character set as UTF-8 (len 0 = invalid).
struct SingleByteMap {
  std::array<uint8_t, 256> len{};
  std::array<std::array<char, 4>, 256> utf8{};
  bool ascii_identity = true;
};

struct Decoder {
  Method method = Method::kUnsupported;
  const CharsetTable* table = nullptr;
  std::unique_ptr<SingleByteMap> single;
  size_t iconv_slot = 0;
  std::array<uint64_t, 4> override_first{};  // bitmap: bytes that begin an overridden code
  std::array<uint64_t, 4> lossy_first{};     // bitmap: bytes that begin a lossy code
  bool hasOverride(uint8_t b) const { return (override_first[b >> 6] >> (b & 63)) & 1; }
  bool mayBeLossy(uint8_t b) const { return (lossy_first[b >> 6] >> (b & 63)) & 1; }
};

// The byte a code of 1 to 3 bytes (read big-endian) begins with.
uint32_t firstByte(uint32_t code) {
  return code >> 16 ? code >> 16 : code >> 8 ? code >> 8 : code;
}

size_t encodeUtf8(uint32_t cp, char* p) {
  if (cp < 0x80) {
    p[0] = static_cast<char>(cp);
    return 1;
  }
  if (cp < 0x800) {
    p[0] = static_cast<char>(0xc0 | (cp >> 6));
    p[1] = static_cast<char>(0x80 | (cp & 0x3f));
    return 2;
  }
  if (cp < 0x10000) {
    p[0] = static_cast<char>(0xe0 | (cp >> 12));
    p[1] = static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    p[2] = static_cast<char>(0x80 | (cp & 0x3f));
    return 3;
  }
  p[0] = static_cast<char>(0xf0 | (cp >> 18));
  p[1] = static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
  p[2] = static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
  p[3] = static_cast<char>(0x80 | (cp & 0x3f));
  return 4;
}

bool representable(uint32_t cp) {
  return cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff);
}

void appendCp(uint32_t cp, std::string* out) {
  char buf[4];
  out->append(buf, encodeUtf8(cp, buf));
}

constexpr size_t kMaxCollationId = 4096;

struct Registry {
  std::vector<std::unique_ptr<Decoder>> by_charset;  // parallel to names
  std::vector<std::string_view> names;
  std::array<const Decoder*, kMaxCollationId> by_collation{};
  Decoder unsupported;
  size_t iconv_slots = 0;

  const Decoder* find(std::string_view charset) const {
    if (charset == "utf8") charset = "utf8mb3";
    for (size_t i = 0; i < names.size(); ++i)
      if (names[i] == charset) return by_charset[i].get();
    return nullptr;
  }
};

Method unicodeMethod(std::string_view name) {
  if (name == "utf8mb3") return Method::kUtf8mb3;
  if (name == "utf8mb4") return Method::kUtf8mb4;
  if (name == "utf16") return Method::kUtf16;
  if (name == "utf16le") return Method::kUtf16le;
  if (name == "utf32") return Method::kUtf32;
  if (name == "ucs2") return Method::kUcs2;
  if (name == "binary") return Method::kBinary;
  return Method::kUnsupported;  // a Unicode set the generator lists but this file does not decode
}

template <size_t N>
constexpr bool overridesSorted(const CharsetTable (&tables)[N]) {
  for (const CharsetTable& t : tables)
    for (size_t i = 1; i < t.override_count; ++i)
      if (t.overrides[i - 1].code >= t.overrides[i].code) return false;
  return true;
}
static_assert(overridesSorted(kCharsetTables), "charsets.inc overrides must be sorted by code");

const Registry& registry() {
  static const Registry* r = [] {
    auto* reg = new Registry();
    for (const CharsetTable& t : kCharsetTables) {
      auto d = std::make_unique<Decoder>();
      d->table = &t;
      switch (t.kind) {
        case CharsetKind::kUnicode: d->method = unicodeMethod(t.name); break;
        case CharsetKind::kSingleByte: {
          d->method = Method::kSingleByte;
          d->single = std::make_unique<SingleByteMap>();
          for (size_t b = 0; b < 256; ++b) {
            uint32_t cp = t.single[b];
            if (b < 0x80 && cp != b) d->single->ascii_identity = false;
            if (cp == kInvalidCp || !representable(cp)) continue;
            d->single->len[b] = static_cast<uint8_t>(encodeUtf8(cp, d->single->utf8[b].data()));
          }
          break;
        }
        case CharsetKind::kMultiByte:
          d->method = Method::kMultiByte;
          d->iconv_slot = reg->iconv_slots++;
          for (size_t i = 0; i < t.override_count; ++i) {
            const uint32_t first = firstByte(t.overrides[i].code);
            d->override_first[first >> 6] |= uint64_t{1} << (first & 63);
          }
          break;
      }
      for (size_t i = 0; i < t.lossy_count; ++i) {
        const uint32_t first = firstByte(t.lossy[i]);
        d->lossy_first[first >> 6] |= uint64_t{1} << (first & 63);
      }
      reg->names.emplace_back(t.name);
      reg->by_charset.push_back(std::move(d));
    }
    reg->by_collation.fill(&reg->unsupported);
    for (uint16_t id = 1; id < kMaxCollationId; ++id) {
      const Collation* c = findCollation(id);
      if (c == nullptr) continue;
      const Decoder* d = reg->find(c->charset);
      if (d != nullptr) reg->by_collation[id] = d;
    }
    return reg;
  }();
  return *r;
}

// iconv descriptors are stateful, so one per thread and character set, opened on first use.
class IconvCache {
 public:
  ~IconvCache() {
    for (iconv_t cd : cds_)
      if (cd != invalid()) iconv_close(cd);
  }
  // nullptr-like invalid() when glibc cannot open the converter (gconv modules missing).
  iconv_t get(const Decoder& d) {
    if (cds_.size() <= d.iconv_slot) {
      cds_.resize(d.iconv_slot + 1, invalid());
      tried_.resize(d.iconv_slot + 1, false);
    }
    if (!tried_[d.iconv_slot]) {
      tried_[d.iconv_slot] = true;
      cds_[d.iconv_slot] = iconv_open("UTF-8", d.table->iconv_name);
    }
    return cds_[d.iconv_slot];
  }
  static iconv_t invalid() { return reinterpret_cast<iconv_t>(-1); }

 private:
  std::vector<iconv_t> cds_;
  std::vector<bool> tried_;
};

thread_local IconvCache t_iconv;

// ASCII prefix length, 8 bytes at a time.
size_t asciiPrefix(const unsigned char* p, size_t n) {
  size_t i = 0;
  while (n - i >= 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    if (w & 0x8080808080808080ULL) break;
    i += 8;
  }
  while (i < n && p[i] < 0x80) ++i;
  return i;
}

TextConversion invalidAt(size_t at, size_t start, std::string* out, size_t* bad_offset) {
  out->resize(start);
  if (bad_offset != nullptr) *bad_offset = at;
  return TextConversion::kInvalid;
}

TextConversion convertUtf8(std::string_view s, int max_bytes, std::string* out, size_t* bad) {
  size_t at = firstInvalidUtf8(s, max_bytes);
  if (at != s.size()) return invalidAt(at, out->size(), out, bad);
  out->append(s);
  return TextConversion::kConverted;
}

// utf16 / utf16le / ucs2 (2-byte units) and utf32.
template <bool kLittle>
uint32_t unit16(const unsigned char* p) {
  return kLittle ? (p[0] | (p[1] << 8)) : ((p[0] << 8) | p[1]);
}

template <bool kLittle, bool kSurrogatePairs>
TextConversion convertUtf16(std::string_view s, std::string* out, size_t* bad) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  const size_t start = out->size();
  out->reserve(start + n + n / 2);
  size_t i = 0;
  while (i < n) {
    if (n - i < 2) return invalidAt(i, start, out, bad);
    uint32_t u = unit16<kLittle>(p + i);
    if (u >= 0xd800 && u <= 0xdfff) {
      if (!kSurrogatePairs || u >= 0xdc00 || n - i < 4) return invalidAt(i, start, out, bad);
      uint32_t lo = unit16<kLittle>(p + i + 2);
      if (lo < 0xdc00 || lo > 0xdfff) return invalidAt(i, start, out, bad);
      appendCp(0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00), out);
      i += 4;
      continue;
    }
    appendCp(u, out);
    i += 2;
  }
  return TextConversion::kConverted;
}

TextConversion convertUtf32(std::string_view s, std::string* out, size_t* bad) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t start = out->size();
  for (size_t i = 0; i < s.size(); i += 4) {
    if (s.size() - i < 4) return invalidAt(i, start, out, bad);
    uint32_t cp =
        (uint32_t{p[i]} << 24) | (uint32_t{p[i + 1]} << 16) | (uint32_t{p[i + 2]} << 8) | p[i + 3];
    if (!representable(cp)) return invalidAt(i, start, out, bad);
    appendCp(cp, out);
  }
  return TextConversion::kConverted;
}

TextConversion convertSingleByte(const SingleByteMap& m, std::string_view s, std::string* out,
                                 size_t* bad) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  const size_t start = out->size();
  size_t i = 0;
  if (m.ascii_identity) {
    i = asciiPrefix(p, n);
    if (i == n) {
      out->append(s);
      return TextConversion::kConverted;
    }
  }
  out->resize(start + i + 3 * (n - i));
  char* o = out->data() + start;
  std::memcpy(o, p, i);
  o += i;
  for (; i < n; ++i) {
    const uint8_t len = m.len[p[i]];
    if (len == 0) return invalidAt(i, start, out, bad);
    std::memcpy(o, m.utf8[p[i]].data(), 4);  // the array always holds 4 bytes
    o += len;
  }
  out->resize(static_cast<size_t>(o - out->data()));
  return TextConversion::kConverted;
}

// Converts s[from, to) with glibc. false with *bad set when glibc rejects a byte.
bool iconvRun(iconv_t cd, std::string_view s, size_t from, size_t to, std::string* out,
              size_t* bad) {
  if (from == to) return true;
  iconv(cd, nullptr, nullptr, nullptr, nullptr);
  const size_t at = out->size();
  // At most 4 UTF-8 bytes per input byte (a 1-byte code becomes at most 3, a longer one at most 4).
  out->resize(at + 4 * (to - from));
  char* in = const_cast<char*>(s.data() + from);
  size_t in_left = to - from;
  char* o = out->data() + at;
  size_t o_left = 4 * (to - from);
  size_t r = iconv(cd, &in, &in_left, &o, &o_left);
  if (r == static_cast<size_t>(-1) || in_left != 0) {
    *bad = static_cast<size_t>(in - s.data());
    return false;
  }
  out->resize(static_cast<size_t>(o - out->data()));
  return true;
}

TextConversion convertMultiByte(const Decoder& d, std::string_view s, std::string* out,
                                size_t* bad) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  const size_t start = out->size();
  // Every multi-byte set maps ASCII to itself (checked by the generator); an override on an
  // ASCII byte (sjis 0x5c, where glibc says YEN SIGN) only corrects glibc.
  size_t i = asciiPrefix(p, n);
  if (i == n) {
    out->append(s);
    return TextConversion::kConverted;
  }
  iconv_t cd = t_iconv.get(d);
  if (cd == IconvCache::invalid()) return TextConversion::kUnsupported;
  const CharsetTable& t = *d.table;
  const CodeOverride* ov_end = t.overrides + t.override_count;
  size_t run = 0;
  i = 0;
  size_t at = 0;
  while (i < n) {
    const uint8_t b = p[i];
    const uint8_t len = t.lead[b];
    if (len == 0 || len > n - i) return invalidAt(i, start, out, bad);
    if (d.hasOverride(b)) {
      uint32_t code = 0;
      for (uint8_t k = 0; k < len; ++k) code = (code << 8) | p[i + k];
      const CodeOverride* o = std::lower_bound(
          t.overrides, ov_end, code, [](const CodeOverride& e, uint32_t c) { return e.code < c; });
      if (o != ov_end && o->code == code) {
        if (!iconvRun(cd, s, run, i, out, &at)) return invalidAt(at, start, out, bad);
        if (o->cp == kInvalidCp || !representable(o->cp)) return invalidAt(i, start, out, bad);
        appendCp(o->cp, out);
        i += len;
        run = i;
        continue;
      }
    }
    i += len;
  }
  if (!iconvRun(cd, s, run, n, out, &at)) return invalidAt(at, start, out, bad);
  return TextConversion::kConverted;
}

TextConversion convert(const Decoder& d, std::string_view s, std::string* out, size_t* bad) {
  switch (d.method) {
    case Method::kUtf8mb4: return convertUtf8(s, 4, out, bad);
    case Method::kUtf8mb3: return convertUtf8(s, 3, out, bad);
    case Method::kSingleByte: return convertSingleByte(*d.single, s, out, bad);
    case Method::kMultiByte: return convertMultiByte(d, s, out, bad);
    case Method::kUtf16: return convertUtf16<false, true>(s, out, bad);
    case Method::kUtf16le: return convertUtf16<true, true>(s, out, bad);
    case Method::kUcs2: return convertUtf16<false, false>(s, out, bad);
    case Method::kUtf32: return convertUtf32(s, out, bad);
    case Method::kBinary: return TextConversion::kBinary;
    case Method::kUnsupported: return TextConversion::kUnsupported;
  }
  return TextConversion::kUnsupported;
}

}  // namespace

size_t firstInvalidUtf8(std::string_view s, int max_bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    while (n - i >= 8) {
      uint64_t w;
      std::memcpy(&w, p + i, 8);
      if (w & 0x8080808080808080ULL) break;
      i += 8;
    }
    if (i >= n) break;
    const unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t more;
    uint32_t cp;
    if ((c & 0xe0) == 0xc0) {
      more = 1;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      more = 2;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0 && max_bytes >= 4) {
      more = 3;
      cp = c & 0x07;
    } else {
      return i;
    }
    if (n - i <= more) return i;
    for (size_t k = 1; k <= more; ++k) {
      if ((p[i + k] & 0xc0) != 0x80) return i;
      cp = (cp << 6) | (p[i + k] & 0x3f);
    }
    if ((more == 1 && cp < 0x80) || (more == 2 && cp < 0x800) || (more == 3 && cp < 0x10000) ||
        !representable(cp))
      return i;
    i += more + 1;
  }
  return n;
}

TextConversion appendUtf8(uint16_t collation, std::string_view bytes, std::string* out,
                          size_t* bad_offset) {
  if (collation == 0 || collation >= kMaxCollationId) return TextConversion::kUnsupported;
  return convert(*registry().by_collation[collation], bytes, out, bad_offset);
}

TextConversion appendUtf8(std::string_view charset, std::string_view bytes, std::string* out,
                          size_t* bad_offset) {
  const Decoder* d = registry().find(charset);
  if (d == nullptr) return TextConversion::kUnsupported;
  return convert(*d, bytes, out, bad_offset);
}

int utf8MaxBytes(uint16_t collation) {
  if (collation == 0 || collation >= kMaxCollationId) return 0;
  Method m = registry().by_collation[collation]->method;
  return m == Method::kUtf8mb4 ? 4 : m == Method::kUtf8mb3 ? 3 : 0;
}

bool convertsBack(uint16_t collation, std::string_view bytes) {
  if (collation == 0 || collation >= kMaxCollationId) return true;
  const Decoder& d = *registry().by_collation[collation];
  if (d.table == nullptr || d.table->lossy_count == 0) return true;
  const CharsetTable& t = *d.table;
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const size_t n = bytes.size();
  for (size_t i = 0; i < n;) {
    const uint8_t len = d.method == Method::kMultiByte ? t.lead[p[i]] : 1;
    if (len == 0 || len > n - i) return true;  // not text appendUtf8 converts: not this question
    if (d.mayBeLossy(p[i])) {
      uint32_t code = 0;
      for (uint8_t k = 0; k < len; ++k) code = (code << 8) | p[i + k];
      if (std::binary_search(t.lossy, t.lossy + t.lossy_count, code)) return false;
    }
    i += len;
  }
  return true;
}

bool canConvertToUtf8(uint16_t collation) {
  if (collation == 0 || collation >= kMaxCollationId) return false;
  Method m = registry().by_collation[collation]->method;
  return m != Method::kUnsupported && m != Method::kBinary;
}

}  // namespace dts::mysql
