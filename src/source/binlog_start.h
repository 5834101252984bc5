// Where a change stream that starts at a time reads from: a tracking task's options.start given
// as a time ("2026-12-05 02:00:00" UTC, or seconds since the epoch).
//
// The binlog has no index by time, but each file says when the server began it: the timestamp
// of its FORMAT_DESCRIPTION event. Every transaction of a file was written before the next file
// began, so its commit time is below the next file's start plus one second (binlog times have
// whole seconds). Files whose successor began before the start second can only hold
// transactions committed before the start: the stream starts at the last file begun at least
// one whole second before the start time, at the GTID position before that file's first
// transaction, and the change log drops the transactions committed before the start time.
//
// A start earlier than the oldest file the node still has is refused when the node purged
// older files (that file's position is not empty): the transactions committed between the start
// and that file are gone, and a change log that began at that file would lack them without a
// word. A node whose oldest file holds its first transaction (position empty) lost nothing.
//
// Thread-safety: free functions.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/status.h"
#include "mysql/connection.h"

namespace dts::source {

struct BinlogFileStart {
  std::string file;
  int64_t created_s = 0;  // when the server began the file, seconds since the epoch
  // The GTID position before the file's first transaction, in the server's flavour: MariaDB's
  // BINLOG_GTID_POS(file, 4), MySQL's PREVIOUS_GTIDS event. Empty before the first transaction.
  std::string gtid;
};

// Reads one file's start (tests give their own).
using BinlogFileProbe = std::function<Result<BinlogFileStart>(const std::string& file)>;

// The rule above over `files`, oldest first, as SHOW BINARY LOGS lists them; probes about
// log2(files) of them. `node` names the server in messages. kFailedPrecondition for a start
// the node's binlog no longer covers, or no file at all (binary logging off).
Result<BinlogFileStart> binlogFileAtTime(const std::vector<std::string>& files, int64_t start_ms,
                                         const BinlogFileProbe& probe, const std::string& node);

// Over a server: lists its files and reads the first events of the probed ones by
// COM_BINLOG_DUMP from their offset 4.
Result<BinlogFileStart> binlogStartAtTime(const mysql::ConnectOptions& node_options,
                                          const std::string& node, int64_t start_ms);

// "2026-12-05 02:03:04 UTC".
std::string utcSecondsText(int64_t seconds);

}  // namespace dts::source
