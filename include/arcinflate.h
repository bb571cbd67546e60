/*
 * arcinflate.h -- inflate a deflate or gzip stream from an archive into a
 * buffer, bounded.
 *
 * The engine uses it to read the member names of an archive that is
 * itself compressed: a zip deflated inside a zip, a tar inside gzip
 * (.tar.gz, .tgz).  Attacker-controlled sizes are never trusted: the
 * output grows (doubling from a small start) as zlib produces bytes, and
 * stops at max_bytes (at most CAPS_ARCINFLATE_MAX_BYTES) with is_capped;
 * what was inflated so far is kept, so a listing can go over the prefix.
 * A corrupt or truncated stream keeps what inflated before the damage
 * (is_broken).  Formats layer; one call, one buffer, any thread.
 */
#ifndef CM_ARCINFLATE_H
#define CM_ARCINFLATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

enum arcinflate_mode {
    ARCINFLATE_RAW, /* a zip member's deflate data (method 8) */
    ARCINFLATE_GZIP /* a gzip file (RFC 1952), its first member */
};

struct arcinflate_out {
    struct buf out;  /* inflated bytes; buf_clear when done */
    bool is_capped;  /* stopped at max_bytes with more to come */
    bool is_broken;  /* the stream was corrupt or ended early */
    size_t in_used;  /* input bytes inflate consumed */
};

/* Inflate (in, in_len) into o->out, at most max_bytes.  CM_OK with what
 * could be inflated (flags say how complete), CM_ENOMEM when memory ran
 * out (o->out then holds what fitted).  Call arcinflate_free after. */
enum cm_err arcinflate(const uint8_t *in, size_t in_len,
                       enum arcinflate_mode mode, size_t max_bytes,
                       struct arcinflate_out *o);

void arcinflate_free(struct arcinflate_out *o);

#endif
