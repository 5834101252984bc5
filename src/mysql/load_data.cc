#include "mysql/load_data.h"

#include <errmsg.h>
#include <mysql.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>

#include "common/strings.h"
#include "mysql/client_error.h"

namespace dts::mysql {

// The buffer the local infile handler streams (Connector/C calls these with our userdata).
struct LocalInfileLoader::Source {
  const std::string* data = nullptr;
  size_t offset = 0;

  static int init(void** ptr, const char* /*filename*/, void* userdata) {
    auto* s = static_cast<Source*>(userdata);
    s->offset = 0;
    *ptr = s;
    return s->data == nullptr ? 1 : 0;
  }
  static int read(void* ptr, char* buf, unsigned int len) {
    auto* s = static_cast<Source*>(ptr);
    size_t n = std::min<size_t>(len, s->data->size() - s->offset);
    std::memcpy(buf, s->data->data() + s->offset, n);
    s->offset += n;
    return static_cast<int>(n);
  }
  static void end(void* /*ptr*/) {}
  static int error(void* /*ptr*/, char* msg, unsigned int len) {
    std::snprintf(msg, len, "dts: the LOAD DATA buffer is missing");
    return CR_UNKNOWN_ERROR;
  }
};

void enableLocalInfile(Connection& conn) {
  unsigned int on = 1;
  mysql_optionsv(conn.handle(), MYSQL_OPT_LOCAL_INFILE, &on);
}

LocalInfileLoader::LocalInfileLoader(Connection& conn)
    : conn_(&conn), source_(std::make_unique<Source>()) {
  mysql_set_local_infile_handler(conn.handle(), Source::init, Source::read, Source::end,
                                 Source::error, source_.get());
}

LocalInfileLoader::~LocalInfileLoader() {
  mysql_set_local_infile_default(conn_->handle());
}

namespace {

// Server or client refusing LOAD DATA LOCAL (local_infile=OFF, capability not negotiated).
bool localInfileRefused(MYSQL* conn) {
  unsigned err = mysql_errno(conn);
  if (err == CR_UNKNOWN_ERROR) {
    // Connector/C: "Load data local infile forbidden".
    std::string msg = toLower(mysql_error(conn));
    return msg.find("local infile") != std::string::npos;
  }
  return err == 1148 /* ER_NOT_ALLOWED_COMMAND */ ||
         err == 4166 /* ER_LOAD_INFILE_CAPABILITY_DISABLED */ ||
         err == 2068 /* CR_LOAD_DATA_LOCAL_INFILE_REJECTED */;
}

}  // namespace

Result<uint64_t> LocalInfileLoader::load(std::string_view statement, const std::string& file) {
  MYSQL* h = conn_->handle();
  source_->data = &file;
  int failed = mysql_real_query(h, statement.data(), statement.size());
  source_->data = nullptr;
  refused_ = false;
  if (failed != 0) {
    refused_ = localInfileRefused(h);
    return writeFailure(
        mysql_errno(h),
        "LOAD DATA LOCAL on " + conn_->options().endpoint.toString() + ": " + mysql_error(h));
  }
  return static_cast<uint64_t>(mysql_affected_rows(h));
}

}  // namespace dts::mysql
