/*
 * mime_qp.c -- quoted-printable Content-Transfer-Encoding (RFC 2045 6.7)
 * and RFC 2047 "Q" words.
 *
 * One pass into a caller-sized buffer; never longer than the input.
 * Tolerated breakage: lower-case hex digits (decoded, not flagged), blanks
 * between a soft-break "=" and the line end, bare LF line ends.  An "="
 * that starts no valid escape is copied as it is and reported through
 * *is_bad, which is what mail readers show.  Literal blanks at the end of
 * a line were added in transport (rule 3) and are dropped.  Stateless and
 * thread-safe.
 */
#include "mime-int.h"

#include <string.h>

#include "swar.h"

/* Bytes copied as they are in a body: printable ASCII but '=', 8-bit
 * bytes, DEL and tab -- (c >= ' ' && c != '=') || c == '\t'. */
#define QP_ROW_1 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1
static const uint8_t qp_literal[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, /* 0x00: tab */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    QP_ROW_1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, /* 0x30: '=' */
    QP_ROW_1, QP_ROW_1, QP_ROW_1, QP_ROW_1,
    QP_ROW_1, QP_ROW_1, QP_ROW_1, QP_ROW_1,
    QP_ROW_1, QP_ROW_1, QP_ROW_1, QP_ROW_1,
};
#undef QP_ROW_1

/*
 * Bit 7 of each lane of x (swar_load_le) that is '=' or below ' ', so may
 * end a literal run (tab, the one literal control byte, is among them and
 * left to the caller).  swar.h's "lowest" tests, exact for the lowest
 * marked lane, the only one read: a borrow out of a lane marks only lanes
 * above a marked one.  Both end in the same ~x & 0x80.. ('=' has bit 7
 * clear), which the compiler ANDs once (issue #7: an operation less on
 * each block).
 */
static uint64_t
qp_stop_lanes(uint64_t x)
{
    return swar_lt_lowest(x, 0x20) | swar_eq_lowest(x, '=');
}

/* decode is inlined into each of its two calls, so each is compiled with
 * its flags constant, and qp_copy_run into decode's loop; GCC would
 * otherwise keep one copy testing the flags and a call for each run. */
#if defined(__GNUC__)
#define QP_ALWAYS_INLINE __attribute__((always_inline))
#else
#define QP_ALWAYS_INLINE
#endif

/*
 * Copy the run of qp_literal bytes from in + i, but not past end, to out;
 * returns where it stops.  Eight bytes at a time: each block is stored
 * whole as it is loaded (out has room up to end; bytes past the run are
 * written over later or lie past the decoded length), and the first byte
 * that may stop the run is found in the block at once (issue #7: one pass
 * instead of a scan, a byte loop for the run's last block and a memcpy
 * call, and runs are short: a line, or the text between two escapes).
 */
static inline QP_ALWAYS_INLINE size_t
qp_copy_run(const uint8_t *in, size_t i, size_t end, uint8_t *out)
{
    const uint8_t *p = in + i;
    const uint8_t *e = in + end;
    uint8_t *d = out;

    if (end - i >= 8) {
        const uint8_t *last = e - 8; /* the last block start */

        while (p <= last) {
            uint8_t w[8];
            uint64_t stop;

            /* One load for the copy and the test (w is a register). */
            memcpy(w, p, sizeof(w));
            memcpy(d, w, sizeof(w));
            stop = qp_stop_lanes(swar_load_le(w));
            if (stop == 0) {
                p += 8;
                d += 8;
                continue;
            }
            p += swar_lowest_lane(stop);
            if (*p != '\t') {
                return (size_t)(p - in);
            }
            d += swar_lowest_lane(stop) + 1;
            p++;
        }
    }
    while (p < e && qp_literal[*p]) {
        *d++ = *p++;
    }
    return (size_t)(p - in);
}

/*
 * Where out[0..o) ends without the literal blanks at its end, not going
 * below keep (the end of the last output that came from no literal run:
 * decoded "=20" stays).  Looked for at a line break only, not at the end
 * of every run (issue #7: most runs end in no blank, and there are about
 * three runs to a line).
 */
static size_t
trim_blanks(const uint8_t *out, size_t o, size_t keep)
{
    while (o > keep && mime_is_wsp(out[o - 1])) {
        o--;
    }
    return o;
}

/*
 * Whether out has less than n bytes left after o.  With is_roomy (out_max
 * >= len: the output is never longer than the input) never, and the
 * compiler drops the test from the copy decoded with is_roomy constant.
 */
static inline bool
is_short(bool is_roomy, size_t o, size_t out_max, size_t n)
{
    return !is_roomy && out_max - o < n;
}

/* mime_qp_decode (mime-int.h); is_roomy as for is_short. */
static inline QP_ALWAYS_INLINE size_t
decode(const uint8_t *in, size_t len, uint8_t *out, size_t out_max,
       bool is_header, bool is_roomy, bool *is_bad, bool *is_cut)
{
    size_t i = 0;
    size_t o = 0;
    size_t o_keep = 0; /* end of the output not from literal runs */

    while (i < len) {
        uint8_t c = in[i];
        if (!is_header && qp_literal[c]) {
            /* A run of literal bytes (blanks included) up to the next
             * '=' or line break, copied at once, as far as out has room:
             * a run stopped there by a literal byte is cut. */
            size_t end = is_short(is_roomy, o, out_max, len - i)
                             ? i + (out_max - o)
                             : len;
            size_t j = qp_copy_run(in, i, end, out + o);
            size_t n = j - i;

            if (n == 0) {
                /* out is full (end == i).  Also the guard that keeps a
                 * run that made no progress from looping for ever, with
                 * room or without: qp_copy_run should copy c itself, but
                 * a stop test that flagged a plain byte would hang here. */
                *is_cut = true;
                return o;
            }
            o += n;
            if (!is_roomy && j == end && j < len && qp_literal[in[j]]) {
                *is_cut = true;
                return o;
            }
            i = j;
            continue;
        }
        if (c == '=') {
            int hi = i + 2 < len ? mime_hexval(in[i + 1]) : -1;
            int lo = i + 2 < len ? mime_hexval(in[i + 2]) : -1;
            size_t j;
            if ((hi | lo) >= 0) { /* both hex digits (-1 if not) */
                if (is_short(is_roomy, o, out_max, 1)) {
                    *is_cut = true;
                    return o;
                }
                out[o++] = (uint8_t)(hi * 16 + lo);
                o_keep = o;
                i += 3;
                continue;
            }
            /* Soft line break: "=" [blanks] (CRLF | LF | end). */
            j = i + 1;
            while (j < len && mime_is_wsp(in[j])) {
                j++;
            }
            if (j >= len) {
                i = len;
                continue;
            }
            if (in[j] == '\n') {
                i = j + 1;
                continue;
            }
            if (in[j] == '\r' && (j + 1 >= len || in[j + 1] == '\n')) {
                i = j + 2 <= len ? j + 2 : len;
                continue;
            }
            *is_bad = true;
            if (is_short(is_roomy, o, out_max, 1)) {
                *is_cut = true;
                return o;
            }
            out[o++] = '=';
            o_keep = o;
            i++;
            continue;
        }
        if (c == '\n' || (c == '\r' && i + 1 < len && in[i + 1] == '\n')) {
            size_t n = c == '\r' ? 2 : 1;
            o = trim_blanks(out, o, o_keep); /* drop transport blanks */
            if (is_short(is_roomy, o, out_max, n)) {
                *is_cut = true;
                return o;
            }
            /* The line break as it came: "\r\n" or "\n". */
            if (n == 2) {
                out[o++] = '\r';
            }
            out[o++] = '\n';
            o_keep = o;
            i += n;
            continue;
        }
        if (is_short(is_roomy, o, out_max, 1)) {
            *is_cut = true;
            return o;
        }
        if (is_header && c == '_') {
            c = ' ';
        }
        out[o++] = c;
        if (!mime_is_wsp(c) || is_header) {
            o_keep = o;
        }
        i++;
    }
    return o;
}

size_t
mime_qp_decode(const uint8_t *in, size_t len, uint8_t *out, size_t out_max,
               bool is_header, bool *is_bad, bool *is_cut)
{
    /* A body part gets a buffer as long as its text (mime.c): decoded
     * without a test for room at each step (issue #7). */
    if (!is_header && out_max >= len) {
        return decode(in, len, out, out_max, false, true, is_bad, is_cut);
    }
    return decode(in, len, out, out_max, is_header, false, is_bad, is_cut);
}
