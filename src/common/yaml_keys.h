// YAML documents that say one thing twice are refused: yaml-cpp keeps every entry of a mapping,
// and a lookup by key finds the first while a walk over the entries applies the last, so
// `objects:` written twice would silently mean one of them. Every YAML file or body dts reads
// (task and instance files, the server's config, API bodies) goes through this check.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>

#include "common/status.h"

namespace dts {

// kInvalidArgument "WHAT: duplicate key 'K' at line L (first at line M)" for the first mapping,
// at any depth, with a key written twice; OK otherwise. Keys are compared as written.
Status rejectDuplicateKeys(const YAML::Node& node, const std::string& what);

}  // namespace dts
