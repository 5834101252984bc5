// Logging: spdlog to stderr, one format for the whole binary. Messages must never contain a
// password (see common/secrets.h).
#pragma once

#include <spdlog/spdlog.h>

#include <string_view>

namespace dts {

// level: trace|debug|info|warn|error|off. Unknown names keep "info".
void initLogging(std::string_view level);

}  // namespace dts
