#include "server/token.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "common/log.h"

namespace dts::server {
namespace {

Result<std::string> readToken(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Status::NotFound("no API token at " + path);
    return Status::FailedPrecondition("reading " + path + ": " + std::strerror(errno));
  }
  char buf[256];
  ssize_t n = ::read(fd, buf, sizeof buf);
  ::close(fd);
  if (n < 0) return Status::FailedPrecondition("reading " + path + ": " + std::strerror(errno));
  std::string token(buf, static_cast<size_t>(n));
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' '))
    token.pop_back();
  if (token.size() < 16)
    return Status::FailedPrecondition(path + ": the token is shorter than 16 characters");
  return token;
}

}  // namespace

Result<ApiToken> loadOrCreateToken(const std::string& data_dir) {
  ApiToken out;
  out.path = data_dir + "/api-token";
  if (::mkdir(data_dir.c_str(), 0700) != 0 && errno != EEXIST)
    return Status::FailedPrecondition("creating " + data_dir + ": " + std::strerror(errno));
  int fd = ::open(out.path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd >= 0) {
    unsigned char raw[32];
    if (RAND_bytes(raw, sizeof raw) != 1) {
      ::close(fd);
      ::unlink(out.path.c_str());
      return Status::Internal("generating the API token: RAND_bytes failed");
    }
    static const char* hex = "0123456789abcdef";
    for (unsigned char c : raw) {
      out.token += hex[c >> 4];
      out.token += hex[c & 15];
    }
    std::string line = out.token + "\n";
    bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
              ::fsync(fd) == 0;
    ::close(fd);
    if (!ok) {
      ::unlink(out.path.c_str());
      return Status::FailedPrecondition("writing " + out.path + ": " + std::strerror(errno));
    }
    out.created = true;
    return out;
  }
  if (errno != EEXIST)
    return Status::FailedPrecondition("creating " + out.path + ": " + std::strerror(errno));
  struct stat st {};
  if (::stat(out.path.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
    spdlog::warn("{} was readable by others (mode {:o}): made owner-only (0600)", out.path,
                 st.st_mode & 0777);
    if (::chmod(out.path.c_str(), 0600) != 0)
      return Status::FailedPrecondition("chmod 600 " + out.path + ": " + std::strerror(errno));
  }
  DTS_ASSIGN_OR_RETURN(out.token, readToken(out.path));
  return out;
}

Result<std::string> clientToken(const std::string& data_dir) {
  if (const char* env = std::getenv("DTS_TOKEN"); env != nullptr && *env != '\0')
    return std::string(env);
  auto t = readToken(data_dir + "/api-token");
  if (!t.ok() && t.status().code() == Status::Code::kNotFound)
    return Status::NotFound(
        "no API token: set DTS_TOKEN, or --data-dir to the server's data dir (" +
        t.status().message() + ")");
  return t;
}

bool tokenEquals(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace dts::server
