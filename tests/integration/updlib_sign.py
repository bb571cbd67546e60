"""updlib_sign.py -- re-sign micro-update files for the updater tests.

With the publisher's own signing key (the test made it with `cmtool
keygen`), a test can build refusals the publisher never would: a manifest
that expired, a .cmu whose payload is corrupt but whose signature and
manifest digest hold, a .cmu signed by another key.  Signing goes through
the `openssl` command (Ed25519, `pkeyutl -rawin`); formats are those in
src/updfile.c's header comment.  Python standard library plus openssl.
"""

import hashlib
import os
import subprocess
import tempfile

# DER of a PKCS#8 Ed25519 private key, less its 32-byte seed (RFC 8410).
_PKCS8_ED25519 = bytes.fromhex("302e020100300506032b657004220420")

CMU_SIG_LEN = 64
CMU_SIGNING_ID_OFF = 40
CMU_HEADER_LEN = 112


def load_secret(keydir):
    """(key id hex, 32-byte seed) from KEYDIR/signing.key."""
    with open(os.path.join(keydir, "signing.key")) as f:
        for line in f:
            w = line.split()
            if len(w) == 3 and w[0] == "ed25519-secret":
                return w[1], bytes.fromhex(w[2])
    raise ValueError("no ed25519-secret line in %s" % keydir)


def sign(seed, data):
    with tempfile.TemporaryDirectory(prefix="updsign.") as d:
        key = os.path.join(d, "k.der")
        msg = os.path.join(d, "m")
        with open(key, "wb") as f:
            f.write(_PKCS8_ED25519 + seed)
        with open(msg, "wb") as f:
            f.write(data)
        p = subprocess.run(["openssl", "pkeyutl", "-sign", "-rawin",
                            "-keyform", "DER", "-inkey", key, "-in", msg],
                           capture_output=True, timeout=30)
    if p.returncode != 0 or len(p.stdout) != 64:
        raise RuntimeError("openssl sign failed: %r" % p.stderr)
    return p.stdout


def resign_cmu(data, key_id_hex, seed):
    """data (a whole .cmu, old signature included) signed again by the key
    (its id written into the header)."""
    body = bytearray(data[:-CMU_SIG_LEN])
    body[CMU_SIGNING_ID_OFF:CMU_SIGNING_ID_OFF + 8] = bytes.fromhex(key_id_hex)
    return bytes(body) + sign(seed, bytes(body))


def manifest_fields(text):
    """(list of [word, ...] lines without the signature line)."""
    lines = text.decode().split("\n")
    return [ln.split(" ") for ln in lines
            if ln and not ln.startswith("signature ")]


def manifest_bytes(fields, key_id_hex, seed):
    body = "".join(" ".join(w) + "\n" for w in fields).encode()
    return body + b"signature %s %s\n" % (key_id_hex.encode(),
                                          sign(seed, body).hex().encode())


def rewrite_root(src, dst, key_id_hex, seed, cmu_fn=None, fields_fn=None):
    """Copy web root src to dst with each .cmu passed through cmu_fn(name,
    bytes) and the manifest lines through fields_fn(fields); sizes and
    digests in the manifest follow the new files; the manifest is signed
    again.  Returns dst."""
    os.makedirs(dst)
    with open(os.path.join(src, "manifest"), "rb") as f:
        fields = manifest_fields(f.read())
    for w in fields:
        if w[0] != "file":
            continue
        with open(os.path.join(src, w[1]), "rb") as f:
            data = f.read()
        if cmu_fn is not None:
            data = cmu_fn(w[1], data)
        with open(os.path.join(dst, w[1]), "wb") as f:
            f.write(data)
        w[5] = str(len(data))
        w[6] = hashlib.sha256(data).hexdigest()
    if fields_fn is not None:
        fields = fields_fn(fields)
    with open(os.path.join(dst, "manifest"), "wb") as f:
        f.write(manifest_bytes(fields, key_id_hex, seed))
    return dst
