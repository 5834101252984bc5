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
// at any depth, with a key written twice; OK otherwise. Keys are compared as written. A document
// of more than a million values with its aliases expanded is kInvalidArgument too: a few nested
// aliases (the "billion laughs") would otherwise keep every later walk busy for ever.
Status rejectDuplicateKeys(const YAML::Node& node, const std::string& what);

// Types as written. A body may be YAML or its JSON form, read by the same YAML parser; JSON says
// which values are strings ("8") and which are numbers or booleans (8, true), and that is kept:
// a quoted scalar is never read as a number or a boolean, and in a JSON document an unquoted one
// (a JSON number, boolean) is never read as a string. In YAML an unquoted 8 may still be a
// string (a password, a database name), as YAML writers expect.
//
// Whether text is a JSON document (a YAML flow mapping such as {a: 1} is not).
bool looksLikeJson(const std::string& text);
// YAML::Load of a YAML or JSON document. JSON writes a character beyond U+FFFF as an escaped
// UTF-16 surrogate pair ("\ud83d\ude00", Python's json.dumps default), which yaml-cpp refuses
// ("invalid unicode"); in a JSON document each pair becomes the one YAML escape "\U0001F600"
// first. YAML text is read as it is (there \u may be a plain scalar's own characters).
// Throws YAML::Exception as YAML::Load does.
YAML::Node loadYamlOrJson(const std::string& text);
// Whether a scalar was written quoted (a JSON string, or a quoted YAML string), or tagged !!str.
inline bool isQuotedScalar(const YAML::Node& node) {
  return node.IsScalar() && (node.Tag() == "!" || node.Tag() == "tag:yaml.org,2002:str");
}
// Tags every quoted scalar under node !!str, so that YAML::Emitter (which drops the quotes of
// "8") writes a document that still says it is a string.
void keepQuotedAsStrings(YAML::Node node);
// "a string", "a number", "true"/"false" or "null" as JSON would name the scalar's type; for
// errors that must not show the value (a password).
std::string jsonTypeOf(const YAML::Node& node);

}  // namespace dts
