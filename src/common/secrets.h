// Keeping secrets out of logs, errors, the API and the console.
#pragma once

#include <string>
#include <string_view>

namespace dts {

// Replaces the password of a "scheme://user:password@host" URI with "***".
std::string redactUri(std::string_view uri);

// Replaces every occurrence of secret in text with "***" (no-op for an empty secret).
std::string redactSecret(std::string text, std::string_view secret);

}  // namespace dts
