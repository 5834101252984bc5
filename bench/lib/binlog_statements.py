#!/usr/bin/env python3
"""The row events of a binlog range as BINLOG statements a client session can replay.

    binlog_statements.py BINLOG_FILE START_POS OUT [MAX_BYTES]

Reads BINLOG_FILE from START_POS to its end and writes SQL to OUT: the file's
FORMAT_DESCRIPTION first, then per transaction BEGIN, its TABLE_MAP and ROWS events, COMMIT.
`mariadb-binlog | mariadb` replays a statement's events as one BINLOG statement, which for one
UPDATE of a million rows is larger than any max_allowed_packet; here a statement's rows events are
cut every MAX_BYTES (default 4 MB), each part repeating its TABLE_MAPs and ending with a rows event
marked STMT_END_F (checksum recomputed), so the server applies them with the replica's own row
code, part by part, inside the same transaction. The large-transaction bench uses it as the floor
of a client session: the same row events the native replica applies, through a connection.
"""
import base64
import struct
import sys
import zlib

HEADER = 19
FORMAT_DESCRIPTION, QUERY, TABLE_MAP, XID, GTID = 15, 2, 19, 16, 162
ROWS = {23, 24, 25, 30, 31, 32}  # WRITE/UPDATE/DELETE_ROWS, v1 and v2
STMT_END_F = 0x0001


def events(data, pos):
    while pos + HEADER <= len(data):
        size = struct.unpack_from("<I", data, pos + 9)[0]
        if size < HEADER or pos + size > len(data):
            sys.exit(f"truncated event at {pos}")
        yield data[pos + 4], data[pos:pos + size]
        pos += size


def main():
    path, start, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    max_bytes = int(sys.argv[4]) if len(sys.argv) > 4 else 4 << 20
    data = open(path, "rb").read()
    kind, fde = next(events(data, 4))
    if kind != FORMAT_DESCRIPTION:
        sys.exit(f"{path}: no FORMAT_DESCRIPTION at 4")
    checksum = 4 if fde[-5] == 1 else 0  # binlog_checksum CRC32 or NONE
    table_maps, parts, size, mapped_rows = [], [], 0, False
    with open(out, "w") as o:
        def statement(blob):
            o.write("BINLOG '" + base64.b64encode(blob).decode() + "';\n")

        def flush():
            nonlocal parts, size
            if not parts:
                return
            last = bytearray(parts[-1])
            flags_at = HEADER + 6  # post-header: table id (6 bytes), flags (2)
            struct.pack_into("<H", last, flags_at, struct.unpack_from("<H", last, flags_at)[0] | STMT_END_F)
            if checksum:
                struct.pack_into("<I", last, len(last) - 4, zlib.crc32(bytes(last[:-4])))
            parts[-1] = bytes(last)
            statement(b"".join(table_maps + parts))
            parts, size = [], 0

        statement(fde)
        for kind, ev in events(data, start):
            if kind == GTID:
                table_maps, mapped_rows = [], False
                o.write("BEGIN;\n")
            elif kind == XID:
                flush()
                o.write("COMMIT;\n")
            elif kind == TABLE_MAP:  # the maps of one statement come together, before its rows
                if mapped_rows:
                    flush()
                    table_maps, mapped_rows = [], False
                table_maps.append(ev)
            elif kind in ROWS:
                parts.append(ev)
                size += len(ev)
                mapped_rows = True
                if size >= max_bytes:
                    flush()
            elif kind == QUERY:
                sys.exit("a statement event in the range: only row events are replayed")


main()
