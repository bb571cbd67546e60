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

#define QP_ONES UINT64_C(0x0101010101010101)
#define QP_HIGHS UINT64_C(0x8080808080808080)

/* True when none of the eight bytes at p is '=' or below ' ': all are
 * qp_literal (tab, the one literal control byte, is left to the table).
 * The range test masks the high bits off first, so no carry crosses. */
static bool
qp_literal8(const uint8_t *p)
{
    uint64_t x;
    uint64_t eq;
    uint64_t small;

    memcpy(&x, p, sizeof(x));
    eq = x ^ (QP_ONES * '=');
    small = ~(((x & ~QP_HIGHS) + QP_ONES * 0x60u) | x) & QP_HIGHS;
    return small == 0 && ((eq - QP_ONES) & ~eq & QP_HIGHS) == 0;
}

/* End of the run of qp_literal bytes from i: eight at a time while no
 * block holds a stop byte or tab, then the table for one block's worth
 * (a failed block test is not retried at every byte of its block). */
static size_t
qp_literal_run(const uint8_t *in, size_t i, size_t len)
{
    for (;;) {
        size_t stop;

        while (len - i >= 8 && qp_literal8(in + i)) {
            i += 8;
        }
        stop = len - i > 8 ? i + 8 : len;
        while (i < stop && qp_literal[in[i]]) {
            i++;
        }
        if (i < stop || i >= len) {
            return i;
        }
    }
}

size_t
mime_qp_decode(const uint8_t *in, size_t len, uint8_t *out, size_t out_max,
               bool is_header, bool *is_bad, bool *is_cut)
{
    size_t i = 0;
    size_t o = 0;
    size_t o_keep = 0; /* end of output that is not trailing literal blanks */

    while (i < len) {
        uint8_t c = in[i];
        if (!is_header && qp_literal[c]) {
            /* A run of literal bytes (blanks included) up to the next
             * '=' or line break, copied at once. */
            size_t j = qp_literal_run(in, i + 1, len);
            size_t n;
            size_t blanks = 0;
            n = j - i;
            if (n > out_max - o) {
                n = out_max - o;
                memcpy(out + o, in + i, n);
                *is_cut = true;
                return o + n;
            }
            memcpy(out + o, in + i, n);
            o += n;
            while (blanks < n && mime_is_wsp(in[j - 1 - blanks])) {
                blanks++;
            }
            if (blanks < n) {
                o_keep = o - blanks;
            }
            i = j;
            continue;
        }
        if (c == '=') {
            int hi = i + 2 < len ? mime_hexval(in[i + 1]) : -1;
            int lo = i + 2 < len ? mime_hexval(in[i + 2]) : -1;
            size_t j;
            if ((hi | lo) >= 0) { /* both hex digits (-1 if not) */
                if (o >= out_max) {
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
            if (o >= out_max) {
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
            o = o_keep; /* drop transport blanks */
            if (out_max - o < n) {
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
        if (o >= out_max) {
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
