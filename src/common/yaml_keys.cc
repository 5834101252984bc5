#include "common/yaml_keys.h"

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
