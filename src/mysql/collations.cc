#include "mysql/collations.h"

#include <algorithm>
#include <array>
#include <iterator>
#include <string>
#include <unordered_map>

#include "common/strings.h"

namespace dts::mysql {

namespace {

// Every collation MariaDB knows, from the server's own tables (scripts/gen-collations.py).
constexpr Collation kServerCollations[] = {
#include "mysql/collations.inc"
};

// Hand-maintained: the MySQL 8 ids that MariaDB does not know, so the generator (which reads a
// MariaDB server; MySQL is not installable here) cannot produce them: 76 utf8mb3_tolower_ci,
// 248-250 gb18030, 255-323 the utf8mb4 UCA 9.0.0 (_0900_) family. Binlogs written by MySQL 8
// carry them. Their character sets are exact; the less common names are approximated as
// utf8mb4_mysql8_<id>: values are written by character set, and the name is read only for a
// _bin/_nopad_bin suffix (sink/dependency_tracker.cc), which an approximated name never has, so
// such a key is compared as case-insensitive: the cautious reading. Sorted by id.
constexpr Collation kMySqlOnlyCollations[] = {
    {76, "utf8mb3", "utf8mb3_tolower_ci", 3},
    {248, "gb18030", "gb18030_chinese_ci", 4},
    {249, "gb18030", "gb18030_bin", 4},
    {250, "gb18030", "gb18030_unicode_520_ci", 4},
    {255, "utf8mb4", "utf8mb4_0900_ai_ci", 4},
    {256, "utf8mb4", "utf8mb4_de_pb_0900_ai_ci", 4},
    {257, "utf8mb4", "utf8mb4_is_0900_ai_ci", 4},
    {258, "utf8mb4", "utf8mb4_lv_0900_ai_ci", 4},
    {259, "utf8mb4", "utf8mb4_ro_0900_ai_ci", 4},
    {260, "utf8mb4", "utf8mb4_sl_0900_ai_ci", 4},
    {261, "utf8mb4", "utf8mb4_pl_0900_ai_ci", 4},
    {262, "utf8mb4", "utf8mb4_et_0900_ai_ci", 4},
    {263, "utf8mb4", "utf8mb4_es_0900_ai_ci", 4},
    {264, "utf8mb4", "utf8mb4_sv_0900_ai_ci", 4},
    {265, "utf8mb4", "utf8mb4_tr_0900_ai_ci", 4},
    {266, "utf8mb4", "utf8mb4_cs_0900_ai_ci", 4},
    {267, "utf8mb4", "utf8mb4_da_0900_ai_ci", 4},
    {268, "utf8mb4", "utf8mb4_lt_0900_ai_ci", 4},
    {269, "utf8mb4", "utf8mb4_sk_0900_ai_ci", 4},
    {270, "utf8mb4", "utf8mb4_es_trad_0900_ai_ci", 4},
    {271, "utf8mb4", "utf8mb4_la_0900_ai_ci", 4},
    {272, "utf8mb4", "utf8mb4_eo_0900_ai_ci", 4},
    {273, "utf8mb4", "utf8mb4_hu_0900_ai_ci", 4},
    {274, "utf8mb4", "utf8mb4_hr_0900_ai_ci", 4},
    {275, "utf8mb4", "utf8mb4_vi_0900_ai_ci", 4},
    {278, "utf8mb4", "utf8mb4_0900_as_cs", 4},
    {279, "utf8mb4", "utf8mb4_mysql8_279", 4},
    {280, "utf8mb4", "utf8mb4_mysql8_280", 4},
    {281, "utf8mb4", "utf8mb4_mysql8_281", 4},
    {282, "utf8mb4", "utf8mb4_mysql8_282", 4},
    {283, "utf8mb4", "utf8mb4_mysql8_283", 4},
    {284, "utf8mb4", "utf8mb4_mysql8_284", 4},
    {285, "utf8mb4", "utf8mb4_mysql8_285", 4},
    {286, "utf8mb4", "utf8mb4_mysql8_286", 4},
    {287, "utf8mb4", "utf8mb4_mysql8_287", 4},
    {288, "utf8mb4", "utf8mb4_mysql8_288", 4},
    {289, "utf8mb4", "utf8mb4_mysql8_289", 4},
    {290, "utf8mb4", "utf8mb4_mysql8_290", 4},
    {291, "utf8mb4", "utf8mb4_mysql8_291", 4},
    {292, "utf8mb4", "utf8mb4_mysql8_292", 4},
    {293, "utf8mb4", "utf8mb4_mysql8_293", 4},
    {294, "utf8mb4", "utf8mb4_mysql8_294", 4},
    {295, "utf8mb4", "utf8mb4_mysql8_295", 4},
    {296, "utf8mb4", "utf8mb4_mysql8_296", 4},
    {297, "utf8mb4", "utf8mb4_mysql8_297", 4},
    {298, "utf8mb4", "utf8mb4_mysql8_298", 4},
    {299, "utf8mb4", "utf8mb4_mysql8_299", 4},
    {300, "utf8mb4", "utf8mb4_mysql8_300", 4},
    {301, "utf8mb4", "utf8mb4_mysql8_301", 4},
    {302, "utf8mb4", "utf8mb4_mysql8_302", 4},
    {303, "utf8mb4", "utf8mb4_ja_0900_as_cs_ks", 4},
    {304, "utf8mb4", "utf8mb4_ja_0900_as_cs", 4},
    {305, "utf8mb4", "utf8mb4_0900_as_ci", 4},
    {306, "utf8mb4", "utf8mb4_mysql8_306", 4},
    {307, "utf8mb4", "utf8mb4_mysql8_307", 4},
    {308, "utf8mb4", "utf8mb4_mysql8_308", 4},
    {309, "utf8mb4", "utf8mb4_0900_bin", 4},
    {310, "utf8mb4", "utf8mb4_mysql8_310", 4},
    {311, "utf8mb4", "utf8mb4_mysql8_311", 4},
    {312, "utf8mb4", "utf8mb4_mysql8_312", 4},
    {313, "utf8mb4", "utf8mb4_mysql8_313", 4},
    {314, "utf8mb4", "utf8mb4_mysql8_314", 4},
    {315, "utf8mb4", "utf8mb4_mysql8_315", 4},
    {316, "utf8mb4", "utf8mb4_mysql8_316", 4},
    {317, "utf8mb4", "utf8mb4_mysql8_317", 4},
    {318, "utf8mb4", "utf8mb4_mysql8_318", 4},
    {319, "utf8mb4", "utf8mb4_mysql8_319", 4},
    {320, "utf8mb4", "utf8mb4_mysql8_320", 4},
    {321, "utf8mb4", "utf8mb4_mysql8_321", 4},
    {322, "utf8mb4", "utf8mb4_mysql8_322", 4},
    {323, "utf8mb4", "utf8mb4_mysql8_323", 4},
};

template <size_t N>
constexpr bool sortedById(const Collation (&table)[N]) {
  for (size_t i = 1; i < N; ++i) {
    if (table[i - 1].id >= table[i].id) return false;
  }
  return true;
}
static_assert(sortedById(kServerCollations) && sortedById(kMySqlOnlyCollations),
              "collation tables must be sorted by id (binary search)");

template <size_t N>
const Collation* findIn(const Collation (&table)[N], uint16_t id) {
  const Collation* end = table + N;
  const Collation* it =
      std::lower_bound(table, end, id, [](const Collation& e, uint16_t v) { return e.id < v; });
  return it == end || it->id != id ? nullptr : it;
}

Charset familyOf(std::string_view charset) {
  if (charset == "utf8mb4" || charset == "utf8mb3" || charset == "utf8") return Charset::kUtf8;
  if (charset == "latin1") return Charset::kLatin1;
  if (charset == "ascii") return Charset::kAscii;
  if (charset == "binary") return Charset::kBinary;
  return Charset::kOther;
}

constexpr size_t kMaxId = std::max(kServerCollations[std::size(kServerCollations) - 1].id,
                                   kMySqlOnlyCollations[std::size(kMySqlOnlyCollations) - 1].id);

}  // namespace

const Collation* findCollation(uint16_t id) {
  const Collation* c = findIn(kServerCollations, id);
  return c != nullptr ? c : findIn(kMySqlOnlyCollations, id);
}

Charset charsetOfCollation(uint16_t id) {
  // Dense by id: this runs for every text value rendered.
  static const std::array<Charset, kMaxId + 1> kFamilies = [] {
    std::array<Charset, kMaxId + 1> f;
    f.fill(Charset::kOther);
    for (const Collation& c : kServerCollations) f[c.id] = familyOf(c.charset);
    for (const Collation& c : kMySqlOnlyCollations) f[c.id] = familyOf(c.charset);
    f[0] = Charset::kUnknown;
    return f;
  }();
  return id <= kMaxId ? kFamilies[id] : Charset::kOther;
}

namespace {

// MariaDB 10.11's default collation of each character set (information_schema.CHARACTER_SETS).
const char* defaultCollationName(const std::string& charset) {
  static const std::unordered_map<std::string, const char*> defaults = {
      {"big5", "big5_chinese_ci"},
      {"dec8", "dec8_swedish_ci"},
      {"cp850", "cp850_general_ci"},
      {"hp8", "hp8_english_ci"},
      {"koi8r", "koi8r_general_ci"},
      {"latin1", "latin1_swedish_ci"},
      {"latin2", "latin2_general_ci"},
      {"swe7", "swe7_swedish_ci"},
      {"ascii", "ascii_general_ci"},
      {"ujis", "ujis_japanese_ci"},
      {"sjis", "sjis_japanese_ci"},
      {"hebrew", "hebrew_general_ci"},
      {"tis620", "tis620_thai_ci"},
      {"euckr", "euckr_korean_ci"},
      {"koi8u", "koi8u_general_ci"},
      {"gb2312", "gb2312_chinese_ci"},
      {"greek", "greek_general_ci"},
      {"cp1250", "cp1250_general_ci"},
      {"gbk", "gbk_chinese_ci"},
      {"latin5", "latin5_turkish_ci"},
      {"armscii8", "armscii8_general_ci"},
      {"utf8mb3", "utf8mb3_general_ci"},
      {"ucs2", "ucs2_general_ci"},
      {"cp866", "cp866_general_ci"},
      {"keybcs2", "keybcs2_general_ci"},
      {"macce", "macce_general_ci"},
      {"macroman", "macroman_general_ci"},
      {"cp852", "cp852_general_ci"},
      {"latin7", "latin7_general_ci"},
      {"utf8mb4", "utf8mb4_general_ci"},
      {"cp1251", "cp1251_general_ci"},
      {"utf16", "utf16_general_ci"},
      {"utf16le", "utf16le_general_ci"},
      {"cp1256", "cp1256_general_ci"},
      {"cp1257", "cp1257_general_ci"},
      {"utf32", "utf32_general_ci"},
      {"binary", "binary"},
      {"geostd8", "geostd8_general_ci"},
      {"cp932", "cp932_japanese_ci"},
      {"eucjpms", "eucjpms_japanese_ci"},
      {"gb18030", "gb18030_chinese_ci"},
  };
  auto it = defaults.find(charset);
  return it == defaults.end() ? nullptr : it->second;
}

}  // namespace

const Collation* findCollationByName(std::string_view name) {
  static const std::unordered_map<std::string, const Collation*> by_name = [] {
    std::unordered_map<std::string, const Collation*> m;
    for (const Collation& c : kServerCollations) m.emplace(c.name, &c);
    for (const Collation& c : kMySqlOnlyCollations) m.emplace(c.name, &c);
    return m;
  }();
  std::string n = toLower(name);
  if (n.rfind("utf8_", 0) == 0) n = "utf8mb3_" + n.substr(5);
  auto it = by_name.find(n);
  return it == by_name.end() ? nullptr : it->second;
}

std::string canonicalCharset(std::string_view charset) {
  std::string cs = toLower(charset);
  if (cs == "utf8") return "utf8mb3";
  return cs;
}

const Collation* defaultCollationOf(std::string_view charset) {
  const char* name = defaultCollationName(canonicalCharset(charset));
  return name == nullptr ? nullptr : findCollationByName(name);
}

}  // namespace dts::mysql
