// LocalInfileLoader: LOAD DATA LOCAL INFILE whose "file" is a buffer in memory. The server asks
// the client for the file named in the statement; Connector/C's local infile handler streams the
// buffer instead (https://mariadb.com/kb/en/load-data-infile/,
// https://mariadb.com/kb/en/com_query/#local-infile-data).
//
// Lifetime: the handler is installed on the connection for as long as the loader lives; the
// destructor puts Connector/C's default handler back. One loader per connection at a time;
// not thread-safe (one connection per thread).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "mysql/connection.h"

namespace dts::mysql {

// Lets conn send LOAD DATA LOCAL (the client-side switch, MYSQL_OPT_LOCAL_INFILE). Without it
// the server or client refuses the statement, which LocalInfileLoader::refused() recognizes.
void enableLocalInfile(Connection& conn);

class LocalInfileLoader {
 public:
  // REQUIRES: conn outlives the loader.
  explicit LocalInfileLoader(Connection& conn);
  ~LocalInfileLoader();
  LocalInfileLoader(const LocalInfileLoader&) = delete;
  LocalInfileLoader& operator=(const LocalInfileLoader&) = delete;

  // Runs `statement` (LOAD DATA LOCAL INFILE '<any name>' ...) with `file` as the file's
  // content and returns the rows the server inserted (the affected rows, which
  // Connection::execute would lose). A lost connection or a server going away is kUnavailable,
  // any other failure kFailedPrecondition; the message names the endpoint and the error number.
  // REQUIRES: file outlives the call.
  Result<uint64_t> load(std::string_view statement, const std::string& file);

  // True when the last load() failed because the server or the client does not allow LOAD DATA
  // LOCAL (local_infile=OFF, the capability not negotiated, the client switch off).
  bool refused() const { return refused_; }

 private:
  struct Source;
  Connection* conn_;
  std::unique_ptr<Source> source_;
  bool refused_ = false;
};

}  // namespace dts::mysql
