/*
 * cgpstr.c -- CGP quoted strings: the escaper every answer goes through and
 * the decoder for quoted request arguments and configuration values.
 *
 * DESIGN
 * The writer maps each input byte to one output piece: itself (printable
 * ASCII other than '"' and '\\', and every byte >= 0x80 so UTF-8 passes
 * unchanged), a two-byte escape (\" \\ \t, and \e for LF when the caller
 * joins header lines), nothing (CR in multi-line text: the EOL is \e), or
 * \nnn with three decimal digits for every other control byte and DEL.  No
 * output byte is ever below 0x20, '"' unescaped or a lone backslash, so the
 * result cannot end the quoted string or the protocol line it sits in.
 * Pieces are appended whole: when the buffer's maximum is reached the output
 * stops before the piece that does not fit, never inside an escape nor
 * inside a UTF-8 character.
 *
 * The reader accepts the escapes of cgp-protocol.md §4 (\" \\ \r \n \e \t
 * and \nnn decimal <= 255); any other escape is CM_EPARSE.  Raw bytes
 * between the quotes, including control bytes, are kept as they are: the
 * caller already split its input into lines.  On any error the output
 * buffer is restored to its length before the call (the decoded prefix of
 * a string that failed is of no use to anyone).
 *
 * State: none.  Pure; any thread.  Limits: the caller's buf maximum.
 * Implements SPEC §2 (answer quoting) and cgp-protocol.md §1.7, §4.
 */
#include "cgpstr.h"

#include <string.h>

/* How one input byte is written. */
enum cgpstr_piece {
    CGPSTR_PLAIN, /* the byte itself */
    CGPSTR_PAIR,  /* backslash + one letter */
    CGPSTR_DROP,  /* nothing (CR in multi-line text) */
    CGPSTR_DEC    /* backslash + three decimal digits */
};

static enum cgpstr_piece
piece_of(uint8_t ch, bool is_multiline, char *letter)
{
    switch (ch) {
    case '"':
        *letter = '"';
        return CGPSTR_PAIR;
    case '\\':
        *letter = '\\';
        return CGPSTR_PAIR;
    case '\t':
        *letter = 't';
        return CGPSTR_PAIR;
    case '\n':
        if (is_multiline) {
            *letter = 'e';
            return CGPSTR_PAIR;
        }
        return CGPSTR_DEC;
    case '\r':
        return is_multiline ? CGPSTR_DROP : CGPSTR_DEC;
    default:
        break;
    }
    if (ch < 0x20 || ch == 0x7f) {
        return CGPSTR_DEC;
    }
    return CGPSTR_PLAIN;
}

static size_t
piece_len(enum cgpstr_piece piece)
{
    switch (piece) {
    case CGPSTR_PLAIN:
        return 1;
    case CGPSTR_PAIR:
        return 2;
    case CGPSTR_DROP:
        return 0;
    case CGPSTR_DEC:
        return 4;
    }
    return 0;
}

size_t
cgpstr_escaped_len(const uint8_t *p, size_t len, bool is_multiline)
{
    size_t n = 0;

    for (size_t i = 0; i < len; i++) {
        char letter;
        n += piece_len(piece_of(p[i], is_multiline, &letter));
    }
    return n;
}

enum cm_err
cgpstr_escape(const uint8_t *p, size_t len, bool is_multiline,
              struct buf *out)
{
    size_t i = 0;
    enum cm_err rc;

    /* One reservation for the common case keeps this to one allocation;
     * a failure here is retried piecewise below so the cap still cuts
     * between pieces. */
    if (buf_reserve(out, len) == CM_ENOMEM) {
        return CM_ENOMEM;
    }
    while (i < len) {
        size_t run = 0;
        size_t room = out->max_bytes - out->len;
        char letter = 0;
        enum cgpstr_piece piece;
        uint8_t esc[4];
        size_t n;

        /* Copy a run of plain bytes in one append. */
        while (i + run < len &&
               piece_of(p[i + run], is_multiline, &letter) == CGPSTR_PLAIN) {
            run++;
        }
        if (run > room) {
            /* Capped inside the run: stop before the UTF-8 character
             * that does not fit whole (a cut one is not UTF-8). */
            size_t cut = room;

            for (size_t k = 0;
                 k < 3 && cut > 0 && (p[i + cut] & 0xc0) == 0x80; k++) {
                cut--;
            }
            rc = buf_append(out, p + i, cut);
            if (rc != CM_OK) {
                return rc;
            }
            out->is_capped = true;
            return CM_ELIMIT;
        }
        if (run > 0) {
            rc = buf_append(out, p + i, run);
            if (rc != CM_OK) {
                return rc;
            }
            i += run;
            continue;
        }
        piece = piece_of(p[i], is_multiline, &letter);
        n = piece_len(piece);
        if (n > room) {
            out->is_capped = true;
            return CM_ELIMIT;
        }
        esc[0] = '\\';
        if (piece == CGPSTR_PAIR) {
            esc[1] = (uint8_t)letter;
        } else if (piece == CGPSTR_DEC) {
            esc[1] = (uint8_t)('0' + p[i] / 100);
            esc[2] = (uint8_t)('0' + p[i] / 10 % 10);
            esc[3] = (uint8_t)('0' + p[i] % 10);
        }
        if (n > 0) {
            rc = buf_append(out, esc, n);
            if (rc != CM_OK) {
                return rc;
            }
        }
        i++;
    }
    return CM_OK;
}

/* Value of the escape "\<p[0]>..." into *ch and its length after the
 * backslash into *used; CM_EPARSE for an unknown or short escape. */
static enum cm_err
decode_escape(const uint8_t *p, size_t left, uint8_t *ch, size_t *used)
{
    unsigned v;

    if (left == 0) {
        return CM_EPARSE;
    }
    switch (p[0]) {
    case '"':
    case '\\':
        *ch = p[0];
        *used = 1;
        return CM_OK;
    case 'r':
        *ch = '\r';
        *used = 1;
        return CM_OK;
    case 'n':
    case 'e':
        /* \e is CGP's system-independent EOL; on Unix that is LF. */
        *ch = '\n';
        *used = 1;
        return CM_OK;
    case 't':
        *ch = '\t';
        *used = 1;
        return CM_OK;
    default:
        break;
    }
    if (left < 3) {
        return CM_EPARSE;
    }
    v = 0;
    for (size_t k = 0; k < 3; k++) {
        if (p[k] < '0' || p[k] > '9') {
            return CM_EPARSE;
        }
        v = v * 10 + (unsigned)(p[k] - '0');
    }
    if (v > 255) {
        return CM_EPARSE;
    }
    *ch = (uint8_t)v;
    *used = 3;
    return CM_OK;
}

enum cm_err
cgpstr_unquote(const uint8_t *p, size_t len, size_t *consumed,
               struct buf *out)
{
    size_t start_len = out->len;
    size_t i = 1;
    enum cm_err rc = CM_EPARSE;

    if (len == 0 || p[0] != '"') {
        return CM_EPARSE;
    }
    while (i < len) {
        size_t run = 0;
        uint8_t ch;
        size_t used;

        while (i + run < len && p[i + run] != '"' && p[i + run] != '\\') {
            run++;
        }
        if (run > 0) {
            rc = buf_append(out, p + i, run);
            if (rc != CM_OK) {
                goto fail;
            }
            i += run;
            continue;
        }
        if (p[i] == '"') {
            *consumed = i + 1;
            return CM_OK;
        }
        rc = decode_escape(p + i + 1, len - i - 1, &ch, &used);
        if (rc != CM_OK) {
            goto fail;
        }
        rc = buf_putc(out, ch);
        if (rc != CM_OK) {
            goto fail;
        }
        i += 1 + used;
    }
    rc = CM_EPARSE; /* no closing quote */
fail:
    out->len = start_len;
    if (out->data != NULL) {
        out->data[out->len] = '\0';
    }
    return rc;
}
