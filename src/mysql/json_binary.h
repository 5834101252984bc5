// MySQL binary JSON (the storage format of JSON columns in MySQL 5.7+ row images) converted to
// JSON text, and the partial-update JSON diffs of PARTIAL_UPDATE_ROWS_EVENT applied to it.
// Format: https://dev.mysql.com/doc/dev/mysql-server/latest/json__binary_8h.html
// Diffs:  https://dev.mysql.com/doc/dev/mysql-server/latest/classJson__diff__vector.html
//
// Text is printed the way MySQL prints JSON: {"a": 1, "b": [true, null]}, object keys in the
// stored order (by length, then bytewise), doubles shortest round-trip with ".0" kept for whole
// numbers, DECIMAL opaque values as numbers, DATE/TIME/DATETIME/TIMESTAMP opaque values as
// strings with 6 fraction digits, other opaque values as "base64:typeNN:<base64>".
//
// All functions treat their input as untrusted: every offset and length is checked, nesting is
// limited (kMaxJsonDepth), and bad bytes are a kCorruption error, never a crash.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace dts::mysql {

constexpr int kMaxJsonDepth = 150;

// Appends the text of the binary JSON document `bin` to *out. An empty document (zero bytes,
// what MySQL stores for a JSON null produced by some paths) is "null".
Status jsonBinaryToText(std::string_view bin, std::string* out);

// Applies a serialized Json_diff_vector body (the bytes after its 4-byte length: a sequence of
// {operation u8 (0 REPLACE, 1 INSERT, 2 REMOVE), lenenc path, [lenenc binary JSON value]}) to
// the binary document `before`, and appends the resulting document's text to *out.
// kCorruption when the diff bytes do not decode or a path does not exist in the document.
Status applyJsonDiffToText(std::string_view before, std::string_view diffs, std::string* out);

// Appends `s` as a JSON string literal (quotes and escapes) the way MySQL prints it; with
// escape_del, DEL (0x7f) is written as \u007f too (NDJSON output keeps lines printable).
void appendJsonQuoted(std::string_view s, std::string* out, bool escape_del = false);

}  // namespace dts::mysql
