// Text laid out in columns on a terminal: widths in terminal cells, not bytes. A table name in
// UTF-8 (`订单`, `café`) takes as many cells as a terminal draws, so columns stay aligned; a name
// longer than its column is cut in the middle with "…", keeping both ends (a long database
// prefix and the table's own name stay recognisable). Pure functions, thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace dts {

// Cells `s` takes on a terminal: East Asian wide and fullwidth characters (CJK, Hangul, fullwidth
// forms, most emoji) 2, combining marks and zero-width characters 0, every other character 1.
// Bytes that are not UTF-8 count 1 each (a terminal shows a replacement for each).
size_t displayWidth(std::string_view s);

// `s` padded with spaces to exactly `width` cells; longer text is cut in the middle with "…"
// (whole characters only; a wide character that would not fit is left out, and the line padded).
// REQUIRES: width >= 1.
std::string fitWidth(std::string_view s, size_t width);

// Rows `text` takes on a terminal `columns` cells wide: each line (up to a '\n', and a last
// line without one) one row per `columns` cells it fills, at least one. columns 0: one per line.
// A frame redrawn in place moves up this many rows (a line wider than the terminal wraps, and
// counting it as one left the top of every earlier frame on the screen).
size_t terminalRows(std::string_view text, size_t columns);

// The width of the terminal on file descriptor fd in cells; 0 when it is not a terminal.
size_t terminalColumns(int fd);

}  // namespace dts
