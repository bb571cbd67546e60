/*
 * err.c -- text for the status codes of err.h.  No state; any thread.
 */
#include "err.h"

const char *
cm_strerror(enum cm_err err)
{
    switch (err) {
    case CM_OK:
        return "ok";
    case CM_ENOMEM:
        return "out of memory";
    case CM_EIO:
        return "i/o error";
    case CM_ENOENT:
        return "no such file";
    case CM_ENOTREG:
        return "not a regular file";
    case CM_EPARSE:
        return "parse error";
    case CM_ELIMIT:
        return "limit exceeded";
    case CM_EINVAL:
        return "invalid value";
    case CM_ECRYPTO:
        return "decryption failed";
    case CM_ESIG:
        return "bad signature";
    case CM_EKEY:
        return "unknown key";
    case CM_EVERSION:
        return "unsupported or stale version";
    case CM_EDIGEST:
        return "size or digest mismatch";
    case CM_ETIMEOUT:
        return "time budget exceeded";
    case CM_EEXPIRED:
        return "expired";
    case CM_ENET:
        return "network error";
    }
    return "unknown error";
}
