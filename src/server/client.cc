#include "server/client.h"

#include <httplib.h>

#include <cstdlib>

#include "server/api.h"
#include "server/task_manager.h"

namespace dts::server {

namespace {

// What went wrong on the way, as a sentence (httplib's own names are single words:
// "Connection").
std::string transportError(httplib::Error e) {
  switch (e) {
    case httplib::Error::Connection:
      return "no connection (refused or unreachable: is dts server running and listening there?)";
    case httplib::Error::ConnectionTimeout: return "the connection timed out";
    case httplib::Error::Read: return "the connection closed before the answer was read";
    case httplib::Error::Write: return "the connection closed while the request was sent";
    case httplib::Error::SSLConnection: return "the TLS handshake failed (is it an https URL?)";
    case httplib::Error::SSLServerVerification:
      return "the server's TLS certificate was not accepted";
    default: return httplib::to_string(e);
  }
}

}  // namespace

ApiClient::~ApiClient() = default;

Result<std::unique_ptr<ApiClient>> ApiClient::remote(const std::string& url, std::string token) {
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0)
    return Status::InvalidArgument(
        "--server: must be http://HOST:PORT or https://HOST:PORT, got '" + url + "'");
  std::unique_ptr<ApiClient> c(new ApiClient());
  c->url_ = url;
  while (!c->url_.empty() && c->url_.back() == '/') c->url_.pop_back();
  c->token_ = std::move(token);
  return c;
}

Result<std::unique_ptr<ApiClient>> ApiClient::local(const std::string& data_dir) {
  std::unique_ptr<ApiClient> c(new ApiClient());
  TaskManager::Options o;
  o.data_dir = data_dir;
  DTS_ASSIGN_OR_RETURN(c->manager_, TaskManager::open(o));
  c->token_ = "local";
  c->api_ = std::make_unique<Api>(c->manager_.get(), c->token_, nullptr);
  return c;
}

Status statusFromError(int http_status, const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  std::string message = "HTTP " + std::to_string(http_status);
  if (j.is_object() && j["error"].is_object() && j["error"]["message"].is_string())
    message = j["error"]["message"].get<std::string>();
  switch (http_status) {
    case 400: return Status::InvalidArgument(message);
    case 401:
    case 403:
      return Status::FailedPrecondition(message +
                                        " (set DTS_TOKEN, or --data-dir to the server's data dir)");
    case 404: return Status::NotFound(message);
    case 409: return Status::FailedPrecondition(message);
    case 503: return Status::Unavailable(message);
    default: return Status::Internal("server: " + message);
  }
}

Result<nlohmann::json> ApiClient::call(const std::string& method, const std::string& path,
                                       const std::string& body) {
  int status = 0;
  std::string text;
  if (api_) {
    HttpRequest r = makeRequest(method, path, "Bearer " + token_, body);
    HttpResponse resp = api_->handle(r);
    status = resp.status;
    text = resp.body;
  } else {
    httplib::Client cli(url_);
    if (const char* ca = std::getenv("DTS_CA_CERT"); ca != nullptr && *ca != '\0')
      cli.set_ca_cert_path(ca);
    cli.set_connection_timeout(5);
    cli.set_read_timeout(300);  // pause/stop wait for a checkpoint
    httplib::Headers headers = {{"Authorization", "Bearer " + token_}};
    const char* type = body.find_first_not_of(" \t\r\n") != std::string::npos &&
                               body[body.find_first_not_of(" \t\r\n")] == '{'
                           ? "application/json"
                           : "application/yaml";
    auto send = [&]() -> httplib::Result {
      if (method == "POST") return cli.Post(path, headers, body, type);
      if (method == "PATCH") return cli.Patch(path, headers, body, type);
      if (method == "DELETE") return cli.Delete(path, headers);
      return cli.Get(path, headers);
    };
    if (method != "GET" && method != "POST" && method != "PATCH" && method != "DELETE")
      return Status::Internal("unsupported method " + method);
    httplib::Result res = send();
    if (!res)
      return Status::Unavailable("cannot reach the server at " + url_ + ": " +
                                 transportError(res.error()));
    status = res->status;
    text = res->body;
  }
  if (status < 200 || status > 299) return statusFromError(status, text);
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return Status::Internal("server: the answer is not JSON");
  return j;
}

}  // namespace dts::server
