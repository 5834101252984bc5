// The CLI's side of the API: one call = one HTTP request with the bearer token, the JSON answer
// or the server's error as a Status (400 kInvalidArgument, 404 kNotFound, 409
// kFailedPrecondition, 401/403 kFailedPrecondition naming the token, 503 kUnavailable).
//
// Without a server URL the same calls go to an in-process Api over the data dir (no HTTP), so
// every `dts task` command has one code path; only starting tasks needs a running server.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "common/status.h"

namespace dts::server {

class Api;
class TaskManager;

class ApiClient {
 public:
  // url "http(s)://host:port"; https trusts $DTS_CA_CERT when set (a PEM file).
  static Result<std::unique_ptr<ApiClient>> remote(const std::string& url, std::string token);
  // The data dir's tasks and instances without a server.
  static Result<std::unique_ptr<ApiClient>> local(const std::string& data_dir);
  ~ApiClient();

  Result<nlohmann::json> call(const std::string& method, const std::string& path,
                              const std::string& body = "");
  bool isRemote() const { return !url_.empty(); }

 private:
  ApiClient() = default;
  std::string url_;
  std::string token_;
  std::unique_ptr<TaskManager> manager_;
  std::unique_ptr<Api> api_;
};

// The Status for an API error answer (status code and {"error": {...}} body).
Status statusFromError(int http_status, const std::string& body);

}  // namespace dts::server
