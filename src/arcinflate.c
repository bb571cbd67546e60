/*
 * arcinflate.c -- bounded inflate of an archive's compressed bytes
 * (arcinflate.h).
 *
 * zlib is fed the input in slices it can count (uInt) and writes into the
 * buffer's free room, which grows by buf_reserve (doubling, so the memory
 * is at most twice what was inflated, and never more than max_bytes).
 * Work is bounded by max_bytes of output and one pass over the input:
 * inflate makes progress on every call that does not end the loop.
 */
#include "arcinflate.h"

#include <limits.h>
#include <string.h>
#include <zlib.h>

#include "caps.h"

/* First room reserved: a small inner archive fits without regrowing. */
#define ARCINFLATE_START_BYTES (64u * 1024u)

/* Room for the next inflate call; 0 at the cap or without memory. */
static size_t
make_room(struct arcinflate_out *o, enum cm_err *rc)
{
    struct buf *b = &o->out;
    size_t want = b->cap > b->len ? 0 : (b->cap > 0 ? b->cap : ARCINFLATE_START_BYTES);
    enum cm_err r;

    if (want == 0) {
        return b->cap - b->len;
    }
    r = buf_reserve(b, want);
    if (r == CM_ENOMEM) {
        *rc = CM_ENOMEM;
        return 0;
    }
    return b->cap > b->len ? b->cap - b->len : 0;
}

/* Run inflate over the input until the end of the stream, the cap, damage
 * or no memory. */
static enum cm_err
pump(z_stream *z, const uint8_t *in, size_t in_len, struct arcinflate_out *o)
{
    size_t fed = 0;
    enum cm_err rc = CM_OK;

    for (;;) {
        size_t room;
        size_t before_out;
        size_t slice;
        int zrc;

        if (z->avail_in == 0 && fed < in_len) {
            slice = in_len - fed < UINT_MAX ? in_len - fed : UINT_MAX;
            z->next_in = (Bytef *)(uintptr_t)(in + fed);
            z->avail_in = (uInt)slice;
            fed += slice;
        }
        room = make_room(o, &rc);
        if (room == 0) {
            o->is_capped = rc == CM_OK;
            return rc;
        }
        room = room < UINT_MAX ? room : UINT_MAX;
        z->next_out = o->out.data + o->out.len;
        z->avail_out = (uInt)room;
        before_out = room;
        zrc = inflate(z, Z_NO_FLUSH);
        o->out.len += before_out - z->avail_out;
        if (zrc == Z_STREAM_END) {
            return CM_OK;
        }
        if ((zrc != Z_OK && zrc != Z_BUF_ERROR) ||
            (z->avail_in == 0 && fed == in_len && z->avail_out != 0)) {
            /* Corrupt, or the input ended inside the stream. */
            o->is_broken = true;
            return CM_OK;
        }
    }
}

enum cm_err
arcinflate(const uint8_t *in, size_t in_len, enum arcinflate_mode mode,
           size_t max_bytes, struct arcinflate_out *o)
{
    z_stream z;
    enum cm_err rc;

    memset(o, 0, sizeof(*o));
    buf_init(&o->out, max_bytes < CAPS_ARCINFLATE_MAX_BYTES
                          ? max_bytes
                          : CAPS_ARCINFLATE_MAX_BYTES);
    memset(&z, 0, sizeof(z));
    if (inflateInit2(&z, mode == ARCINFLATE_GZIP ? 16 + MAX_WBITS
                                                 : -MAX_WBITS) != Z_OK) {
        return CM_ENOMEM;
    }
    rc = pump(&z, in, in_len, o);
    o->in_used = (size_t)z.total_in;
    if (o->out.data != NULL) {
        o->out.data[o->out.len] = '\0'; /* as buf keeps it */
    }
    inflateEnd(&z);
    return rc;
}

void
arcinflate_free(struct arcinflate_out *o)
{
    buf_clear(&o->out);
}
