#!/usr/bin/env python3
"""Writes the seed corpora of the ziplist and fingerprint fuzz targets
(tests/fuzz/corpus/{ziplist,fingerprint}/).  Run from the top of the tree;
the output is committed so the replay in `make check` needs no Python.
Seeds are synthetic: no mail, no real malware."""
import hashlib
import io
import os
import struct
import zipfile


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def zip_bytes(members, compression=zipfile.ZIP_STORED, comment=b""):
    bio = io.BytesIO()
    with zipfile.ZipFile(bio, "w", compression) as z:
        for name, data in members:
            z.writestr(name, data)
        z.comment = comment
    return bio.getvalue()


def ziplist_seeds(out):
    plain = zip_bytes([("readme.txt", b"hello"),
                       ("invoice.pdf.exe", b"MZ" + b"\0" * 64)])
    write(out + "/stored.zip", plain)
    write(out + "/deflated.zip",
          zip_bytes([("docs/report.doc", b"x" * 500), ("run.js", b"var a;")],
                    zipfile.ZIP_DEFLATED, b"a comment"))
    write(out + "/nested.zip",
          zip_bytes([("inner.zip", plain), ("note.txt", b"see inner")]))
    write(out + "/prefixed.zip", b"MZ stub " * 16 + plain)
    write(out + "/truncated.zip", plain[: len(plain) - 30])
    write(out + "/empty.zip", zip_bytes([]))
    # Encrypted flag set by hand on every header (names stay readable).
    enc = bytearray(plain)
    for sig, off in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        i = enc.find(sig)
        while i >= 0:
            enc[i + off] |= 1
            i = enc.find(sig, i + 4)
    write(out + "/encrypted.zip", bytes(enc))


def fp_entry(kind, cat, weight, sub, payload):
    return struct.pack("<BBBB", kind, cat, weight, len(sub)) + sub + payload


def fingerprint_seeds(out):
    body = fp_entry(1, 1, 97, b"campaign",
                    struct.pack("<16I", *range(1000, 1016)))
    # digest entries: SHA-256 | filter u64 (attachment: its length; URL:
    # a hash the engine computes, here an arbitrary non-zero value)
    att = fp_entry(2, 3, 99, b"known-attachment",
                   hashlib.sha256(b"MZ payload").digest() +
                   struct.pack("<Q", 10))
    url = fp_entry(3, 2, 98, b"", hashlib.sha256(b"bad.example/login").digest()
                   + struct.pack("<Q", 0x1234))
    entries = [body, att, url]
    hdr = b"CMFP" + struct.pack("<IHHHHI", 2, 16, 10, 4, 30, len(entries))
    write(out + "/section.bin", hdr + b"".join(entries))
    write(out + "/empty.bin", b"CMFP" + struct.pack("<IHHHHI", 2, 16, 12, 4,
                                                    30, 0))
    write(out + "/text.txt",
          b"Dear customer, your parcel 12345 is waiting. Please confirm "
          b"the delivery address at http://x.example/track?id=9 within "
          b"two days or the parcel will be returned to the sender and "
          b"the fee will not be refunded. Thank you for choosing our "
          b"service, we hope to see you again soon.")


if __name__ == "__main__":
    ziplist_seeds("tests/fuzz/corpus/ziplist")
    fingerprint_seeds("tests/fuzz/corpus/fingerprint")
