#!/usr/bin/env python3
"""nxdns.py -- a DNS stub on 127.0.0.1 that answers every query at once
with NXDOMAIN (bench/run.sh, issue #7).

Usage: nxdns.py PORT

rspamd's default local rules look names up (hfilter checks the sender's
host, for example).  A dead resolver would make each of those wait for
its timeout, so the benchmark would time DNS timeouts instead of rspamd.
This stub keeps every lookup local and immediate and never forwards
anything.  UDP only; the question is echoed and no records are returned,
except an EDNS OPT record when the query carried one (rspamd's resolver
ignores an answer without it and waits for its timeout).
"""
import socket
import struct
import sys

RCODE_NXDOMAIN = 3
RCODE_FORMERR = 1
# OPT pseudo-record: root name, TYPE 41, CLASS = UDP size 4096, TTL 0,
# no data.
OPT_RR = b"\x00" + struct.pack("!HHIH", 41, 4096, 0, 0)


def answer(query):
    if len(query) < 12:
        return None
    qid, flags, qdcount, _, _, arcount = struct.unpack("!HHHHHH",
                                                         query[:12])
    if flags & 0x8000:  # a response, not a query
        return None
    # Walk the first question's name: labels up to the root label.
    pos = 12
    rcode = RCODE_NXDOMAIN
    end = None
    if qdcount >= 1:
        while pos < len(query):
            n = query[pos]
            if n == 0:
                end = pos + 1 + 4  # root label, QTYPE, QCLASS
                break
            if n & 0xC0:  # no compression in a question we accept
                break
            pos += 1 + n
    if end is None or end > len(query):
        rcode = RCODE_FORMERR
        question = b""
        qd = 0
    else:
        question = query[12:end]
        qd = 1
    # QR, the opcode and RD copied, RA, the rcode.
    out_flags = 0x8000 | (flags & 0x7900) | 0x0080 | rcode
    opt = OPT_RR if arcount > 0 else b""
    return (struct.pack("!HHHHHH", qid, out_flags, qd, 0, 0,
                        1 if opt else 0) + question + opt)


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", int(sys.argv[1])))
    while True:
        query, peer = sock.recvfrom(4096)
        reply = answer(query)
        if reply is not None:
            sock.sendto(reply, peer)


if __name__ == "__main__":
    sys.exit(main())
