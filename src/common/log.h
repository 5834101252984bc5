// Logging: spdlog to stderr, one format for the whole binary. Messages must never contain a
// password (see common/secrets.h).
//
// Every message is one line: control characters and bytes that are not UTF-8 are written
// escaped (logSafe), so text a client or a server sent (a SASL user name, a group id, a path, an
// SQL statement, a server's error message) can neither forge a log line nor reach a terminal
// as an escape sequence.
#pragma once

#include <spdlog/spdlog.h>

#include <memory>
#include <string>
#include <string_view>

namespace dts {

// level: trace|debug|info|warn|error|off. Unknown names keep "info".
void initLogging(std::string_view level);

// `text` with "\n", "\r" and "\xNN" for the other control characters (but tab), DEL and each
// byte that is not part of well-formed UTF-8; everything else as it is.
std::string logSafe(std::string_view text);

// The formatter initLogging installs: "TIME LEVEL MESSAGE", the message through logSafe.
std::unique_ptr<spdlog::formatter> logFormatter();

}  // namespace dts
