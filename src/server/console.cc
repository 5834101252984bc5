#include "server/console.h"

namespace dts::server {

// kConsoleAssets (generated).
#include "console_assets.inc"

const ConsoleAsset* findConsoleAsset(const std::string& path) {
  for (const auto& a : kConsoleAssets)
    if (path == a.path) return &a;
  return nullptr;
}

std::optional<HttpResponse> serveConsole(const HttpRequest& r) {
  static const std::string kPrefix = "/console/";
  std::string file;
  if (r.path == "/" || r.path == "/console" || r.path == "/console/") {
    file = "index.html";
  } else if (r.path.compare(0, kPrefix.size(), kPrefix) == 0) {
    file = r.path.substr(kPrefix.size());
  } else {
    return std::nullopt;
  }
  if (r.method != "GET" && r.method != "HEAD")
    return errorResponse(405, "method_not_allowed", r.method + " is not allowed on " + r.path);
  const ConsoleAsset* asset = findConsoleAsset(file);
  if (asset == nullptr) return errorResponse(404, "not_found", "no such console file: " + r.path);
  HttpResponse resp;
  resp.content_type = asset->content_type;
  resp.headers = {
      {"ETag", asset->etag},
      {"Cache-Control", "no-cache"},
      {"X-Content-Type-Options", "nosniff"},
      {"Referrer-Policy", "no-referrer"},
      {"Content-Security-Policy",
       "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"},
  };
  if (!r.if_none_match.empty() && r.if_none_match == asset->etag) {
    resp.status = 304;
    return resp;
  }
  resp.body.assign(reinterpret_cast<const char*>(asset->data), asset->size);
  return resp;
}

}  // namespace dts::server
