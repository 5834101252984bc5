// How mysql/ classes that talk to Connector/C directly (bulk insert, LOAD DATA) turn a server or
// client error into a Status. Internal to src/mysql/.
#pragma once

#include <string>

#include "common/status.h"

namespace dts::mysql {

// A failed write: kUnavailable when the connection or the server went away (retryable), else
// kFailedPrecondition. The message is `message` followed by " (error <err>)".
Status writeFailure(unsigned err, const std::string& message);

}  // namespace dts::mysql
