#include "common/secrets.h"

namespace dts {

std::string redactUri(std::string_view uri) {
  size_t scheme = uri.find("://");
  size_t start = scheme == std::string_view::npos ? 0 : scheme + 3;
  size_t at = uri.rfind('@');
  if (at == std::string_view::npos || at < start) return std::string(uri);
  size_t colon = uri.find(':', start);
  if (colon == std::string_view::npos || colon > at) return std::string(uri);
  return std::string(uri.substr(0, colon + 1)) + "***" + std::string(uri.substr(at));
}

std::string redactSecret(std::string text, std::string_view secret) {
  if (secret.empty()) return text;
  size_t pos = 0;
  while ((pos = text.find(secret, pos)) != std::string::npos) {
    text.replace(pos, secret.size(), "***");
    pos += 3;
  }
  return text;
}

}  // namespace dts
