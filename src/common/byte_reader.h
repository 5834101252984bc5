// ByteReader: the one bounds-checked little-endian cursor every decoder of untrusted bytes uses
// (binlog events, row images, binary JSON). Reads never go past the end: each getter returns
// false (and leaves the cursor where it was) when too few bytes remain, so a truncated or hostile
// input turns into an error at the call site, never a crash.
//
// The reader holds a view: the bytes must outlive it. Views it returns point into the same bytes.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace dts {

class ByteReader {
 public:
  ByteReader() = default;
  explicit ByteReader(std::string_view data) : data_(data) {}
  ByteReader(const void* data, size_t size) : data_(static_cast<const char*>(data), size) {}

  size_t remaining() const { return data_.size() - pos_; }
  size_t position() const { return pos_; }
  bool empty() const { return remaining() == 0; }
  std::string_view rest() const { return data_.substr(pos_); }
  std::string_view data() const { return data_; }

  bool skip(size_t n) {
    if (n > remaining()) return false;
    pos_ += n;
    return true;
  }

  // Little-endian unsigned integer of n bytes (1..8).
  bool getUint(size_t n, uint64_t* out) {
    if (n == 0 || n > 8 || n > remaining()) return false;
    const auto* p = reinterpret_cast<const unsigned char*>(data_.data() + pos_);
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v |= static_cast<uint64_t>(p[i]) << (8 * i);
    *out = v;
    pos_ += n;
    return true;
  }
  // Big-endian unsigned integer of n bytes (1..8); DECIMAL and new temporal formats use these.
  bool getUintBE(size_t n, uint64_t* out) {
    if (n == 0 || n > 8 || n > remaining()) return false;
    const auto* p = reinterpret_cast<const unsigned char*>(data_.data() + pos_);
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v = (v << 8) | p[i];
    *out = v;
    pos_ += n;
    return true;
  }
  bool getU8(uint8_t* out) { return getTyped(out); }
  bool getU16(uint16_t* out) { return getTyped(out); }
  bool getU32(uint32_t* out) { return getTyped(out); }
  bool getU64(uint64_t* out) { return getTyped(out); }

  // MySQL length-encoded integer (0xfb..0xfe prefixes). 0xfb (NULL) and 0xff are rejected.
  bool getLenenc(uint64_t* out) {
    uint8_t first;
    size_t save = pos_;
    if (!getU8(&first)) return false;
    bool ok = true;
    if (first < 0xfb) {
      *out = first;
    } else if (first == 0xfc) {
      ok = getUint(2, out);
    } else if (first == 0xfd) {
      ok = getUint(3, out);
    } else if (first == 0xfe) {
      ok = getUint(8, out);
    } else {
      ok = false;
    }
    if (!ok) pos_ = save;
    return ok;
  }

  bool getBytes(size_t n, std::string_view* out) {
    if (n > remaining()) return false;
    *out = data_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  bool getLenencBytes(std::string_view* out) {
    size_t save = pos_;
    uint64_t n;
    if (!getLenenc(&n) || n > remaining()) {
      pos_ = save;
      return false;
    }
    return getBytes(static_cast<size_t>(n), out);
  }
  // Bytes up to a NUL (the NUL is consumed, not returned).
  bool getCString(std::string_view* out) {
    size_t end = data_.find('\0', pos_);
    if (end == std::string_view::npos) return false;
    *out = data_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return true;
  }

 private:
  template <typename T>
  bool getTyped(T* out) {
    uint64_t v;
    if (!getUint(sizeof(T), &v)) return false;
    *out = static_cast<T>(v);
    return true;
  }

  std::string_view data_;
  size_t pos_ = 0;
};

// Little-endian encoders, the pairs of the getters above (tests build events with these).
inline void putUint(std::string* dst, uint64_t v, size_t n) {
  for (size_t i = 0; i < n; ++i) dst->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
inline void putUintBE(std::string* dst, uint64_t v, size_t n) {
  for (size_t i = n; i > 0; --i) dst->push_back(static_cast<char>((v >> (8 * (i - 1))) & 0xff));
}
inline void putLenenc(std::string* dst, uint64_t v) {
  if (v < 0xfb) {
    dst->push_back(static_cast<char>(v));
  } else if (v <= 0xffff) {
    dst->push_back(static_cast<char>(0xfc));
    putUint(dst, v, 2);
  } else if (v <= 0xffffff) {
    dst->push_back(static_cast<char>(0xfd));
    putUint(dst, v, 3);
  } else {
    dst->push_back(static_cast<char>(0xfe));
    putUint(dst, v, 8);
  }
}

}  // namespace dts
