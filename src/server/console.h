// The web console's files (console/ in the source tree), embedded in the binary at build time by
// cmake/embed_console.cmake, and served by the API without a token (the page itself asks for the
// token and keeps it in the browser's sessionStorage):
//
//   GET /                  -> console/index.html
//   GET /console/PATH      -> console/PATH
//
// Every answer has its content type, a strong ETag (If-None-Match -> 304), "Cache-Control:
// no-cache" (the browser revalidates, so a new binary's console is seen at once) and headers
// that keep the page from being framed or sniffed, with a Content-Security-Policy allowing only
// the console's own scripts and styles.
#pragma once

#include <optional>
#include <string>

#include "server/api.h"

namespace dts::server {

struct ConsoleAsset {
  const char* path;  // relative to console/, e.g. "app.js"
  const char* content_type;
  const char* etag;  // quoted, as sent in the ETag header
  const unsigned char* data;
  size_t size;
};

// The answer for a console path, or nullopt when the path is not the console's (the caller goes
// on routing). An unknown file under /console/ is 404; a method other than GET/HEAD is 405.
std::optional<HttpResponse> serveConsole(const HttpRequest& request);

// The embedded file at path (relative to console/), or nullptr.
const ConsoleAsset* findConsoleAsset(const std::string& path);

}  // namespace dts::server
