#!/usr/bin/env python3
"""A tiny DNS server for the busted specs (standard library only).

Binds UDP 127.0.0.1 port 0, prints "port N" on one line, then answers from a fixed zone:
  v4.test    A     127.0.0.1
  v6.test    AAAA  ::1
  both.test  A     127.0.0.1 and AAAA ::1
  nodata.test       exists, no addresses (NOERROR, empty answer)
  anything else     NXDOMAIN
With --silent it reads queries and never answers (a resolver must time out).

It stops by itself: on a query for "shutdown.test" (answered NXDOMAIN unless silent), or
after --lifetime seconds (default 120), whichever comes first. The specs send the shutdown
query through the module under test, so nothing is left running.
"""

import argparse
import socket
import struct
import sys
import time

ZONE = {
    "v4.test": {1: [bytes([127, 0, 0, 1])]},
    "v6.test": {28: [socket.inet_pton(socket.AF_INET6, "::1")]},
    "both.test": {
        1: [bytes([127, 0, 0, 1])],
        28: [socket.inet_pton(socket.AF_INET6, "::1")],
    },
    "nodata.test": {},
}
NXDOMAIN = 3
FORMERR = 1


def parse_question(data):
    """Returns (name, qtype, end offset of the question) or None."""
    if len(data) < 12:
        return None
    qdcount = struct.unpack("!H", data[4:6])[0]
    if qdcount < 1:
        return None
    pos = 12
    labels = []
    while True:
        if pos >= len(data):
            return None
        length = data[pos]
        pos += 1
        if length == 0:
            break
        if length & 0xC0 or pos + length > len(data):
            return None
        labels.append(data[pos:pos + length].decode("ascii", "replace"))
        pos += length
    if pos + 4 > len(data):
        return None
    qtype = struct.unpack("!H", data[pos:pos + 2])[0]
    return ".".join(labels).lower(), qtype, pos + 4


def reply(data):
    question = parse_question(data)
    ident = data[0:2] if len(data) >= 2 else b"\0\0"
    rd = (data[2] & 0x01) if len(data) > 2 else 0
    if question is None:
        flags = 0x8000 | (rd << 8) | 0x0080 | FORMERR
        return ident + struct.pack("!HHHHH", flags, 0, 0, 0, 0)
    name, qtype, end = question
    records = ZONE.get(name)
    rcode = NXDOMAIN if records is None else 0
    answers = (records or {}).get(qtype, [])
    # QR, AA, RD copied, RA.
    flags = 0x8000 | 0x0400 | (rd << 8) | 0x0080 | rcode
    out = ident + struct.pack("!HHHHH", flags, 1, len(answers), 0, 0) + data[12:end]
    for rdata in answers:
        # Name as a pointer to the question (offset 12), class IN, TTL 60.
        out += struct.pack("!HHHIH", 0xC00C, qtype, 1, 60, len(rdata)) + rdata
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--silent", action="store_true")
    parser.add_argument("--lifetime", type=float, default=120.0)
    args = parser.parse_args()

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    print("port %d" % sock.getsockname()[1], flush=True)
    deadline = time.monotonic() + args.lifetime
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        sock.settimeout(remaining)
        try:
            data, peer = sock.recvfrom(4096)
        except socket.timeout:
            break
        question = parse_question(data)
        stop = question is not None and question[0] == "shutdown.test"
        if not args.silent:
            sock.sendto(reply(data), peer)
        if stop:
            break
    sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
