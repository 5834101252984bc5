// Keeping secrets out of logs, errors, the API and the console.
#pragma once

#include <string>
#include <string_view>

namespace dts {

// Replaces the password of a "scheme://user:password@host" URI with "***".
std::string redactUri(std::string_view uri);

// Replaces every occurrence of secret in text with "***" (no-op for an empty secret).
std::string redactSecret(std::string text, std::string_view secret);

// Replaces the quoted literal after each password clause of SQL text with '***': IDENTIFIED BY,
// IDENTIFIED ... USING, PASSWORD(...), PASSWORD = / PASSWORD FOR ... =, MASTER_PASSWORD =,
// SOURCE_PASSWORD = (case-insensitive). For server texts that may quote a statement, such as a
// replica's Last_SQL_Error.
std::string redactSqlPasswords(std::string text);

}  // namespace dts
