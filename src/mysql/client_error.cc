#include "mysql/client_error.h"

#include <errmsg.h>

namespace dts::mysql {

Status writeFailure(unsigned err, const std::string& message) {
  std::string text = message + " (error " + std::to_string(err) + ")";
  if (err == CR_SERVER_GONE_ERROR || err == CR_SERVER_LOST || err == CR_CONNECTION_ERROR ||
      err == CR_CONN_HOST_ERROR || err == 1053 /* ER_SERVER_SHUTDOWN */ ||
      err == 1927 /* ER_CONNECTION_KILLED */) {
    return Status::Unavailable(text);
  }
  return Status::FailedPrecondition(text);
}

}  // namespace dts::mysql
