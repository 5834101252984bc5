// The table of known collation ids (MariaDB and MySQL 8), sorted by id. Generated; see the .cc.
#pragma once

#include <cstddef>
#include <cstdint>

namespace dts::sink {

struct CollationEntry {
  uint16_t id;
  const char* charset;
  const char* name;
};

extern const CollationEntry kCollations[];
extern const size_t kCollationCount;

}  // namespace dts::sink
