/*
 * mime_uu.c -- uuencoded files: blocks inside text parts ("begin 644
 * invoice.exe" ... "end"), as mail clients wrote attachments before MIME
 * and some still decode and show as attachments, and the body of a part
 * sent with Content-Transfer-Encoding: x-uuencode.  Without this an
 * executable sent that way was only text to us.
 *
 * Format: a "begin MODE NAME" line (MODE three or four octal digits),
 * encoded lines, a line of length 0 ("`" or a blank) and "end".  An
 * encoded line starts with its byte count as (' ' + n) and holds
 * ceil(n / 3) groups of four characters, each 6 bits as (' ' + v), with
 * '`' for 0.  Encoders differ in trailing blanks (stripped by some mail
 * paths) and an extra checksum character, so a short line is padded
 * with zero bits and characters past the groups are ignored.
 *
 * Pure, no allocation: the caller gives the output buffer.  Every loop
 * moves forward over (p, len); nothing recurses.
 */
#include "mime-int.h"

#include <string.h>

static size_t
line_end_at(const uint8_t *p, size_t len, size_t pos)
{
    const uint8_t *nl = memchr(p + pos, '\n', len - pos);

    return nl == NULL ? len : (size_t)(nl - p);
}

/* The line [at, end) without a trailing CR and blanks. */
static size_t
trim_end(const uint8_t *p, size_t at, size_t end)
{
    while (end > at && (p[end - 1] == '\r' || p[end - 1] == ' ' ||
                        p[end - 1] == '\t')) {
        end--;
    }
    return end;
}

static bool
is_uu_char(uint8_t c)
{
    return c >= 0x20 && c <= 0x60;
}

/* Bytes an encoded line says it holds (0..63). */
static unsigned
uu_count(uint8_t c)
{
    return (unsigned)(c - 0x20) & 0x3fu;
}

/*
 * Whether [at, end) is an encoded line: a count, then no more characters
 * than its groups and a checksum, all within the alphabet.  Fewer are
 * fine: encoders that write 0 as a blank end a short file's line in
 * blanks, which mail paths strip.
 */
static bool
is_encoded_line(const uint8_t *p, size_t at, size_t end)
{
    unsigned n;
    size_t want;

    end = trim_end(p, at, end);
    if (end <= at || !is_uu_char(p[at])) {
        return false;
    }
    n = uu_count(p[at]);
    want = (n + 2) / 3 * 4;
    if (n == 0 || end - at - 1 > want + 2) {
        return false;
    }
    for (size_t i = at + 1; i < end; i++) {
        if (!is_uu_char(p[i])) {
            return false;
        }
    }
    return true;
}

static bool
is_end_line(const uint8_t *p, size_t at, size_t end)
{
    end = trim_end(p, at, end);
    return end - at == 3 && memcmp(p + at, "end", 3) == 0;
}

/*
 * Whether the line [at, end) is "begin MODE NAME"; sets the name's
 * place.
 */
static bool
is_begin_line(const uint8_t *p, size_t at, size_t end,
              struct mime_uu_block *b)
{
    size_t i = at + 6;
    size_t digits = 0;

    end = trim_end(p, at, end);
    if (end - at < 6 || memcmp(p + at, "begin ", 6) != 0) {
        return false;
    }
    while (i < end && p[i] >= '0' && p[i] <= '7' && digits < 5) {
        i++;
        digits++;
    }
    if (digits < 3 || digits > 4 || i >= end || p[i] != ' ') {
        return false;
    }
    while (i < end && p[i] == ' ') {
        i++;
    }
    if (i >= end) {
        return false;
    }
    b->name_at = i;
    b->name_len = end - i;
    return true;
}

bool
mime_uu_find(const uint8_t *p, size_t len, size_t from,
             struct mime_uu_block *b)
{
    size_t at = from;

    /* From 'b' to 'b' from from (a line start), looking only at those
     * that start a line: most text has no "begin ", and fewer 'b's than
     * lines (issue #7: a memchr per line was most of this). */
    while (at < len) {
        const uint8_t *q = memchr(p + at, 'b', len - at);
        size_t end;
        size_t next;

        if (q == NULL) {
            break;
        }
        at = (size_t)(q - p);
        if (at != from && p[at - 1] != '\n') {
            at++;
            continue;
        }
        end = line_end_at(p, len, at);
        next = end < len ? end + 1 : len;
        if (end - at < 6 || !is_begin_line(p, at, end, b) ||
            !is_encoded_line(p, next, line_end_at(p, len, next))) {
            at = next;
            continue;
        }
        b->begin_at = at;
        b->data_at = next;
        /* The block runs to its "end" line, or to the first line that is
         * not part of it (a broken or cut block still counts). */
        while (next < len) {
            size_t e = line_end_at(p, len, next);
            size_t after = e < len ? e + 1 : len;

            if (is_end_line(p, next, e)) {
                b->data_end = next;
                b->end_at = after;
                return true;
            }
            if (!is_encoded_line(p, next, e) &&
                trim_end(p, next, e) - next > 1) {
                break;
            }
            next = after;
        }
        b->data_end = next;
        b->end_at = next;
        return true;
    }
    return false;
}

/* Decode one encoded line [at, end) into out; false when out is full. */
static bool
decode_line(const uint8_t *p, size_t at, size_t end, uint8_t *out,
            size_t out_max, size_t *o)
{
    unsigned n = uu_count(p[at]);
    size_t i = at + 1;

    while (n > 0) {
        uint32_t v = 0;

        for (unsigned k = 0; k < 4; k++, i++) {
            uint8_t c = i < end ? p[i] : ' ';

            v = v << 6 | (uu_count(is_uu_char(c) ? c : ' '));
        }
        for (unsigned k = 0; k < 3 && n > 0; k++, n--) {
            if (*o >= out_max) {
                return false;
            }
            out[(*o)++] = (uint8_t)(v >> (16 - 8 * k));
        }
    }
    return true;
}

size_t
mime_uu_decode(const uint8_t *in, size_t len, uint8_t *out, size_t out_max,
               bool *is_bad, bool *is_cut)
{
    size_t o = 0;
    size_t pos = 0;

    while (pos < len) {
        size_t end = line_end_at(in, len, pos);
        size_t t = trim_end(in, pos, end);

        if (t > pos && uu_count(in[pos]) > 0) {
            if (!is_encoded_line(in, pos, end)) {
                *is_bad = true;
            } else if (!decode_line(in, pos, t, out, out_max, &o)) {
                *is_cut = true;
                break;
            }
        }
        pos = end < len ? end + 1 : len;
    }
    return o;
}
