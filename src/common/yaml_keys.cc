#include "common/yaml_keys.h"

#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>

namespace dts {

namespace {

// A document's values, its aliases expanded, beyond which it is refused: a few aliases of
// aliases (the "billion laughs") expand to more than any walk can visit.
constexpr size_t kMaxValues = 1000000;

Status rejectDuplicateKeys(const YAML::Node& node, const std::string& what, size_t* visited) {
  if (++*visited > kMaxValues) {
    return Status::InvalidArgument(what + ": more than " + std::to_string(kMaxValues) +
                                   " values with its aliases (*name) expanded");
  }
  if (node.IsMap()) {
    std::map<std::string, int> seen;  // key -> its first line
    for (const auto& kv : node) {
      const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : YAML::Dump(kv.first);
      const int line = kv.first.Mark().line + 1;
      auto [it, fresh] = seen.emplace(key, line);
      if (!fresh) {
        return Status::InvalidArgument(what + ": duplicate key '" + key + "'" +
                                       (line > 0 ? " at line " + std::to_string(line) : "") +
                                       (it->second > 0
                                            ? " (first at line " + std::to_string(it->second) + ")"
                                            : std::string()));
      }
      DTS_RETURN_IF_ERROR(rejectDuplicateKeys(kv.second, what, visited));
    }
  } else if (node.IsSequence()) {
    for (const auto& item : node) DTS_RETURN_IF_ERROR(rejectDuplicateKeys(item, what, visited));
  }
  return Status::OK();
}

}  // namespace

Status rejectDuplicateKeys(const YAML::Node& node, const std::string& what) {
  size_t visited = 0;
  return rejectDuplicateKeys(node, what, &visited);
}

bool looksLikeJson(const std::string& text) {
  size_t at = text.find_first_not_of(" \t\r\n");
  // A YAML flow mapping ({a: 1}) starts the same way but is not JSON.
  return at != std::string::npos && (text[at] == '{' || text[at] == '[') &&
         nlohmann::json::accept(text);
}

namespace {

// The value of the 4 hex digits at s[i..i+4), or -1.
int hex4(const std::string& s, size_t i) {
  if (i + 4 > s.size()) return -1;
  int v = 0;
  for (size_t k = i; k < i + 4; ++k) {
    const char c = s[k];
    const int d = c >= '0' && c <= '9'   ? c - '0'
                  : c >= 'a' && c <= 'f' ? c - 'a' + 10
                  : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                         : -1;
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

// The one document of `text`. A second one (after '---') would be ignored without a word: it is
// an error at its position.
YAML::Node loadOne(const std::string& text) {
  std::vector<YAML::Node> docs = YAML::LoadAll(text);
  if (docs.size() > 1)
    throw YAML::ParserException(docs[1].Mark(),
                                "a second YAML document (after '---'): give one document only");
  return docs.empty() ? YAML::Node() : docs[0];
}

}  // namespace

YAML::Node loadYamlOrJson(const std::string& text) {
  if (text.find("\\u") == std::string::npos || !looksLikeJson(text)) return loadOne(text);
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\' || i + 1 >= text.size()) {
      out.push_back(text[i]);
      continue;
    }
    // An escape: "\\" and the like are copied whole, so that "\\\\ud83d" stays text.
    const int high = text[i + 1] == 'u' ? hex4(text, i + 2) : -1;
    const int low = high >= 0xD800 && high <= 0xDBFF && i + 12 <= text.size() &&
                            text.compare(i + 6, 2, "\\u") == 0
                        ? hex4(text, i + 8)
                        : -1;
    if (low >= 0xDC00 && low <= 0xDFFF) {
      const unsigned cp = 0x10000u + ((static_cast<unsigned>(high) - 0xD800u) << 10) +
                          (static_cast<unsigned>(low) - 0xDC00u);
      char esc[11];
      std::snprintf(esc, sizeof esc, "\\U%08X", cp);
      out += esc;
      i += 11;
      continue;
    }
    out.push_back(text[i]);
    out.push_back(text[i + 1]);
    ++i;
  }
  return loadOne(out);
}

void keepQuotedAsStrings(YAML::Node node) {
  if (node.IsMap()) {
    for (auto kv : node) keepQuotedAsStrings(kv.second);
  } else if (node.IsSequence()) {
    for (auto v : node) keepQuotedAsStrings(v);
  } else if (node.IsScalar() && node.Tag() == "!") {
    node.SetTag("tag:yaml.org,2002:str");
  }
}

std::string jsonTypeOf(const YAML::Node& node) {
  if (node.IsNull()) return "null";
  if (node.IsSequence()) return "a list";
  if (node.IsMap()) return "an object";
  if (isQuotedScalar(node)) return "a string";
  const std::string& s = node.Scalar();
  if (s == "true" || s == "false") return "a boolean";
  return "a number";
}

}  // namespace dts
