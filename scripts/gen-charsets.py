#!/usr/bin/env python3
"""Generates src/mysql/charsets.inc: how the server itself converts every character set it knows
to Unicode, for src/mysql/charset_convert.cc.

    scripts/gen-charsets.py                      start a throwaway MariaDB (Debian's
                                                 mariadb-server), read it, stop it
    scripts/gen-charsets.py --socket PATH        read a running server as root over its socket
    scripts/gen-charsets.py --check              compare instead of writing (exit 1 if stale)

For every character set of `SHOW CHARACTER SET`:
  - Unicode ones (utf8mb3, utf8mb4, utf16, utf16le, utf32, ucs2) and binary are decoded by code
    (their encodings are specifications); the script only checks that no other one appeared.
  - single-byte ones (Maxlen 1): the code point of each of the 256 bytes, asked of the server
    (CONVERT(CAST(byte AS CHAR CHARACTER SET cs) USING utf8mb4)); a byte the server turns into
    '?' is invalid. MariaDB's latin1 is cp1252 with 0x81/0x8d/0x8f/0x90/0x9d kept as C1
    controls, swe7 maps [\\]{|}` to letters: the server is the reference, not a name.
  - multi-byte ones: converted at run time by glibc iconv under the name in ICONV_NAMES, and
    verified here against the server code by code. Every 1-byte code, every 2-byte code, and
    every 3-byte code of the leads in THREE_BYTE_LEADS is converted by both; where glibc does
    not turn the code alone into exactly the server's character (or rejects it other than with
    EILSEQ at its first byte), the server's answer is written as an override. The converter
    segments text by the lead-byte lengths written here and consults the overrides first, so its
    output equals the server's for every code. glibc is called through ctypes: the same library
    the C++ code calls.
  - every non-Unicode one: the codes that do not survive the way back. A code whose character
    the server converts back (CONVERT(CONVERT(code USING utf8mb4) USING cs)) into other bytes is
    listed: one of two codes sharing a character (cp932's NEC and IBM twins; sjis 0x5C and 0x815F
    are both U+005C, which goes back as 0x815F; armscii8 0xA4 is ')' as 0x29 is) or a code the
    server reads as U+FFFD (tis620 0xA0). Change records give text holding such a code as its
    bytes, since its UTF-8 would store other bytes.
A character set the script does not know how to check stops it with an error.
"""

import argparse
import ctypes
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_common  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "src", "mysql", "charsets.inc")

UNICODE = {"utf8mb3", "utf8mb4", "utf16", "utf16le", "utf32", "ucs2", "binary"}
# MariaDB multi-byte character set -> the glibc iconv name closest to it (the overrides cover the
# rest). euckr is MariaDB's extended EUC-KR, which is exactly glibc's CP949 (UHC).
ICONV_NAMES = {"big5": "BIG5", "sjis": "SJIS", "cp932": "CP932", "gbk": "GBK",
               "gb2312": "EUC-CN", "euckr": "CP949", "ujis": "EUC-JP", "eucjpms": "EUC-JP-MS"}
THREE_BYTE_LEADS = {"ujis": [0x8F], "eucjpms": [0x8F]}
INVALID = 0xFFFFFFFF

libc = ctypes.CDLL("libc.so.6", use_errno=True)
libc.iconv_open.restype = ctypes.c_void_p
libc.iconv_open.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
libc.iconv.restype = ctypes.c_size_t
libc.iconv.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_char_p),
                       ctypes.POINTER(ctypes.c_size_t), ctypes.POINTER(ctypes.c_char_p),
                       ctypes.POINTER(ctypes.c_size_t)]
libc.iconv_close.argtypes = [ctypes.c_void_p]
EILSEQ = 84


class Iconv:
    def __init__(self, name):
        self.cd = libc.iconv_open(b"UTF-8", name.encode())
        if self.cd == ctypes.c_void_p(-1).value or self.cd is None:
            sys.exit("gen-charsets: glibc iconv does not know %s" % name)

    def one(self, code):
        """The code point glibc makes of `code` alone, or None (rejected with EILSEQ at byte 0),
        or "other" (anything else: several characters, a partial read, EINVAL)."""
        libc.iconv(self.cd, None, None, None, None)
        inb = ctypes.create_string_buffer(code, len(code))
        outb = ctypes.create_string_buffer(32)
        ip = ctypes.c_char_p(ctypes.addressof(inb))
        il = ctypes.c_size_t(len(code))
        op = ctypes.c_char_p(ctypes.addressof(outb))
        ol = ctypes.c_size_t(32)
        r = libc.iconv(self.cd, ctypes.byref(ip), ctypes.byref(il), ctypes.byref(op),
                       ctypes.byref(ol))
        if r == ctypes.c_size_t(-1).value:
            err = ctypes.get_errno()
            return None if err == EILSEQ and il.value == len(code) else "other"
        text = outb.raw[:32 - ol.value].decode("utf-8")
        return ord(text) if len(text) == 1 else "other"


def client(args, statement):
    cmd = ["mariadb", "--no-defaults", "--batch", "--skip-column-names", "-uroot",
           "--socket=" + args.socket, "mysql", "-e", statement]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        sys.exit("gen-charsets: %r failed: %s" % (statement[:100], r.stderr.strip()))
    return [line.split("\t") for line in r.stdout.splitlines()]


def server_codes(args, charset, first, last, width):
    """{code: code point or INVALID} for every code in [first, last] read as `width` bytes."""
    q = ("SELECT seq, HEX(CONVERT(CAST(UNHEX(LPAD(HEX(seq), %d, '0')) AS CHAR CHARACTER SET %s)"
         " USING utf8mb4)) FROM seq_%d_to_%d" % (2 * width, charset, first, last))
    out = {}
    for code, hexed in client(args, q):
        code = int(code)
        text = bytes.fromhex(hexed).decode("utf-8", "surrogatepass")
        raw = code.to_bytes(width, "big")
        if len(text) != 1 or (text == "?" and raw != b"?"):
            out[code] = INVALID
        else:
            out[code] = ord(text)
    return out


def lossy_codes(args, charset, first, last, width, valid):
    """The codes in [first, last] (`width` bytes) that valid(code) accepts and the server, converting
    the code's character to utf8mb4 and back, does not give back as the same bytes."""
    code = "UNHEX(LPAD(HEX(seq), %d, '0'))" % (2 * width)
    q = ("SELECT seq FROM seq_%d_to_%d WHERE CAST(CONVERT(CONVERT(CAST(%s AS CHAR CHARACTER SET %s)"
         " USING utf8mb4) USING %s) AS BINARY) <> %s" % (first, last, code, charset, charset, code))
    return [int(row[0]) for row in client(args, q) if valid(int(row[0]))]


def single_byte(args, charset):
    codes = server_codes(args, charset, 0, 255, 1)
    lossy = lossy_codes(args, charset, 0, 255, 1, lambda c: codes[c] != INVALID)
    return [codes[b] for b in range(256)], lossy


def multi_byte(args, charset, maxlen):
    glibc = Iconv(ICONV_NAMES[charset])
    one = server_codes(args, charset, 0, 255, 1)
    two = server_codes(args, charset, 0x8000, 0xFFFF, 2)
    three = {}
    for lead in THREE_BYTE_LEADS.get(charset, []):
        three.update(server_codes(args, charset, lead << 16, (lead << 16) | 0xFFFF, 3))
    if maxlen > 2 and not three:
        sys.exit("gen-charsets: %s has %d-byte characters: list its leads in THREE_BYTE_LEADS"
                 % (charset, maxlen))
    for b in range(128):
        if one[b] != b:
            sys.exit("gen-charsets: %s does not map byte %#x to itself" % (charset, b))
    lead = [0] * 256
    for b in range(256):
        if one[b] != INVALID:
            lead[b] = 1
    for code, cp in two.items():
        if cp != INVALID and lead[code >> 8] == 0:
            lead[code >> 8] = 2
    for code, cp in three.items():
        if cp != INVALID:
            if lead[code >> 16] not in (0, 3):
                sys.exit("gen-charsets: %s lead %#x starts characters of two lengths"
                         % (charset, code >> 16))
            lead[code >> 16] = 3
    overrides = []
    for width, codes in ((1, one), (2, two), (3, three)):
        for code in sorted(codes):
            if lead[code >> (8 * (width - 1))] != width:
                continue  # the converter never reads a character of this length here
            mine = codes[code]
            theirs = glibc.one(code.to_bytes(width, "big"))
            agree = (mine == INVALID and theirs is None) or (mine != INVALID and theirs == mine)
            if not agree:
                overrides.append((code, mine))
    lossy = []
    for width, codes, first, last in ((1, one, 0, 255), (2, two, 0x8000, 0xFFFF)) + tuple(
            (3, three, lead_byte << 16, (lead_byte << 16) | 0xFFFF)
            for lead_byte in THREE_BYTE_LEADS.get(charset, [])):
        lossy += lossy_codes(args, charset, first, last, width,
                             lambda c, w=width, k=codes: lead[c >> (8 * (w - 1))] == w
                             and k[c] != INVALID)
    return lead, overrides, sorted(lossy)


def read_server(args):
    version = client(args, "SELECT VERSION()")[0][0]
    charsets = {}
    for name, _desc, _coll, maxlen in client(args, "SHOW CHARACTER SET"):
        maxlen = int(maxlen)
        if name in UNICODE:
            charsets[name] = ("unicode",)
        elif maxlen == 1:
            charsets[name] = ("single",) + single_byte(args, name)
        elif name in ICONV_NAMES:
            charsets[name] = ("multi", ICONV_NAMES[name]) + multi_byte(args, name, maxlen)
        else:
            sys.exit("gen-charsets: no way to check multi-byte character set %s: add its glibc "
                     "name to ICONV_NAMES" % name)
    return version, charsets


def hex_list(values, fmt, per_line):
    lines = []
    for i in range(0, len(values), per_line):
        lines.append("    " + ", ".join(fmt % v for v in values[i:i + per_line]) + ",")
    return lines


def render(version, charsets, command):
    out = ["// GENERATED by `%s` from %s (SHOW CHARACTER SET; each code" % (command, version),
           "// converted by the server with CONVERT(... USING utf8mb4), multi-byte ones compared",
           "// with glibc iconv). Do not edit: rerun the script. Included by",
           "// src/mysql/charset_convert.cc. 0xFFFFFFFF = a code the server rejects; kLossy_*: the",
           "// codes whose character the server converts back into other bytes.",
           "// clang-format off"]
    entries = []
    for name in sorted(charsets):
        kind = charsets[name]
        ident = name.replace("-", "_")
        if kind[0] == "unicode":
            entries.append('{"%s", CharsetKind::kUnicode, nullptr, nullptr, nullptr, nullptr, 0, '
                           'nullptr, 0},' % name)
            continue
        lossy = kind[-1]
        if lossy:
            out.append("constexpr uint32_t kLossy_%s[] = {" % ident)
            out += hex_list(lossy, "0x%X", 10)
            out.append("};")
        lossy_ref = ("kLossy_%s, %d" % (ident, len(lossy))) if lossy else "nullptr, 0"
        if kind[0] == "single":
            out.append("constexpr uint32_t kSingle_%s[256] = {" % ident)
            out += hex_list(kind[1], "0x%04X", 8)
            out.append("};")
            entries.append('{"%s", CharsetKind::kSingleByte, kSingle_%s, nullptr, nullptr, '
                           'nullptr, 0, %s},' % (name, ident, lossy_ref))
        else:
            _, iconv_name, lead, overrides, _ = kind
            out.append("constexpr uint8_t kLead_%s[256] = {" % ident)
            out += hex_list(lead, "%d", 32)
            out.append("};")
            n = len(overrides)
            if n:
                out.append("constexpr CodeOverride kOverrides_%s[] = {" % ident)
                out += hex_list(["{0x%X, 0x%X}" % o for o in overrides], "%s", 6)
                out.append("};")
            entries.append('{"%s", CharsetKind::kMultiByte, nullptr, kLead_%s, %s, "%s", %d, %s},'
                           % (name, ident, ("kOverrides_%s" % ident) if n else "nullptr",
                              iconv_name, n, lossy_ref))
    out.append("constexpr CharsetTable kCharsetTables[] = {")
    out += ["    " + e for e in entries]
    out.append("};")
    out.append("// clang-format on")
    return "\n".join(out) + "\n"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--socket")
    p.add_argument("--output", default=OUT)
    p.add_argument("--check", action="store_true")
    args = p.parse_args()

    command = "scripts/gen-charsets.py"
    if args.socket:
        command += " --socket ..."
    version, charsets = gen_common.read_server(args, "dts-charsets-", read_server)
    text = render(gen_common.server_label(version), charsets, command)
    if not gen_common.write_or_check(args.output, text, command, "gen-charsets", args.check):
        return
    summary = ", ".join("%s %d overrides" % (n, len(c[3])) for n, c in sorted(charsets.items())
                        if c[0] == "multi")
    summary += "; codes that do not survive the way back: " + ", ".join(
        "%s %d" % (n, len(c[-1])) for n, c in sorted(charsets.items())
        if c[0] != "unicode" and c[-1])
    print("gen-charsets: %d character sets from %s -> %s (%s)" % (
        len(charsets), version, os.path.relpath(args.output, ROOT), summary))


if __name__ == "__main__":
    main()
