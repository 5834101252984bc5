#include "common/yaml_keys.h"

#include <map>

namespace dts {

Status rejectDuplicateKeys(const YAML::Node& node, const std::string& what) {
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
      DTS_RETURN_IF_ERROR(rejectDuplicateKeys(kv.second, what));
    }
  } else if (node.IsSequence()) {
    for (const auto& item : node) DTS_RETURN_IF_ERROR(rejectDuplicateKeys(item, what));
  }
  return Status::OK();
}

}  // namespace dts
