/*
 * mime_rfc2047.c -- RFC 2047 encoded words in header values → UTF-8.
 *
 * DESIGN
 * One left-to-right pass over an unfolded value.  An encoded word is
 * "=?charset[*lang]?B|Q?text?=" with no blanks inside (RFC 2047 5); blanks
 * between two adjacent encoded words are dropped (6.2).  Decoded bytes of
 * consecutive words in the same charset are collected and converted once,
 * because many mailers split a multi-byte character across two words.
 * Unencoded 8-bit bytes (RFC 6532 UTF-8 headers, or raw legacy bytes) are
 * taken as UTF-8 where valid and as windows-1252 elsewhere.  Control bytes
 * in the result become blanks so a decoded value can never carry a line
 * break or a NUL into later stages.
 *
 * Linear time: the search for a word's "?=" stops at the first blank, and
 * a failed search is remembered, so "=?a?q?=?a?q?..." junk is not
 * rescanned.  Output comes from the caller's arena (3 bytes per input byte
 * at most, plus the collection buffer).  Thread-safe given its own arena
 * and charset cache.
 */
#include "mime-int.h"

#include <string.h>

/* Charset labels longer than this are not encoded words. */
#define RFC2047_CHARSET_MAX 64u

struct rfc2047_state {
    struct charset_cache *cc;
    char *out;
    size_t o;
    size_t out_max;
    uint8_t *run;         /* decoded bytes of the current charset run */
    size_t run_len;
    const char *run_cs;   /* charset of the run (points into the input) */
    size_t run_cs_len;
    unsigned *flags;
};

bool
mime_rfc2047_needed(const char *p, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        uint8_t c = (uint8_t)p[i];
        if (c >= 0x80 || (c == '=' && i + 1 < len && p[i + 1] == '?')) {
            return true;
        }
    }
    return false;
}

static void
map_charset_flags(unsigned cf, unsigned *flags)
{
    if (cf & CHARSET_UNKNOWN) {
        *flags |= MIME_HDR_UNKNOWN_CHARSET;
    }
    if (cf & CHARSET_BAD_BYTES) {
        *flags |= MIME_HDR_BAD_BYTES;
    }
}

static void
flush_run(struct rfc2047_state *st)
{
    unsigned cf = 0;

    if (st->run_len == 0) {
        return;
    }
    st->o += charset_to_utf8(st->cc, st->run_cs, st->run_cs_len, st->run,
                             st->run_len, st->out + st->o,
                             st->out_max - st->o, &cf);
    map_charset_flags(cf, st->flags);
    st->run_len = 0;
}

static void
emit_literal(struct rfc2047_state *st, const char *p, size_t n)
{
    unsigned cf = 0;
    bool has_8bit = false;

    if (n == 0) {
        return;
    }
    flush_run(st);
    for (size_t i = 0; i < n; i++) {
        if ((uint8_t)p[i] >= 0x80) {
            has_8bit = true;
            break;
        }
    }
    if (!has_8bit) {
        size_t k = n <= st->out_max - st->o ? n : st->out_max - st->o;
        memcpy(st->out + st->o, p, k);
        st->o += k;
        return;
    }
    *st->flags |= MIME_HDR_RAW_8BIT;
    /* An empty label means "UTF-8 where valid, else windows-1252". */
    st->o += charset_to_utf8(st->cc, "", 0, (const uint8_t *)p, n,
                             st->out + st->o, st->out_max - st->o, &cf);
}

static bool
cs_equal(const char *a, size_t an, const char *b, size_t bn)
{
    if (an != bn) {
        return false;
    }
    for (size_t i = 0; i < an; i++) {
        if (mime_lower((uint8_t)a[i]) != mime_lower((uint8_t)b[i])) {
            return false;
        }
    }
    return true;
}

struct rfc2047_word {
    const char *cs; /* charset label, "*language" removed */
    size_t cs_len;
    uint8_t enc;    /* 'b' or 'q' */
    size_t text;    /* index of the encoded text */
    size_t text_len;
    size_t end;     /* index after "?=" */
};

/*
 * Parse an encoded word at in[i] ("=?" already seen).  Returns false when
 * there is none; *fail_until is raised past a text span known to hold no
 * "?=" so it is not searched again.
 */
static bool
parse_word(const char *in, size_t len, size_t i, size_t *fail_until,
           struct rfc2047_word *w)
{
    size_t cs = i + 2;
    size_t j = cs;
    size_t cs_len = 0;
    size_t text;
    size_t end;

    while (j < len && j - cs <= RFC2047_CHARSET_MAX && in[j] != '?' &&
           !mime_is_wsp((uint8_t)in[j])) {
        j++;
    }
    if (j >= len || in[j] != '?' || j == cs || j - cs > RFC2047_CHARSET_MAX) {
        return false;
    }
    /* RFC 2231 5: "charset*language". */
    while (cs + cs_len < j && in[cs + cs_len] != '*') {
        cs_len++;
    }
    if (cs_len == 0 || j + 2 >= len || in[j + 2] != '?') {
        return false;
    }
    w->enc = mime_lower((uint8_t)in[j + 1]);
    if (w->enc != 'b' && w->enc != 'q') {
        return false;
    }
    text = j + 3;
    if (text < *fail_until) {
        return false;
    }
    end = text;
    while (end + 1 < len && !(in[end] == '?' && in[end + 1] == '=') &&
           !mime_is_wsp((uint8_t)in[end])) {
        end++;
    }
    if (end + 1 >= len || in[end] != '?' || in[end + 1] != '=') {
        *fail_until = end + 1;
        return false;
    }
    w->cs = in + cs;
    w->cs_len = cs_len;
    w->text = text;
    w->text_len = end - text;
    w->end = end + 2;
    return true;
}

static void
add_word(struct rfc2047_state *st, const char *in, size_t len,
         const struct rfc2047_word *w)
{
    bool is_bad = false;
    bool is_cut = false;
    const uint8_t *t = (const uint8_t *)in + w->text;

    if (st->run_len > 0 &&
        !cs_equal(st->run_cs, st->run_cs_len, w->cs, w->cs_len)) {
        flush_run(st);
    }
    st->run_cs = w->cs;
    st->run_cs_len = w->cs_len;
    /* The run buffer holds len bytes: decoded words never exceed that. */
    if (w->enc == 'b') {
        st->run_len += mime_b64_decode(t, w->text_len, st->run + st->run_len,
                                       len - st->run_len, &is_bad, &is_cut);
    } else {
        st->run_len += mime_qp_decode(t, w->text_len, st->run + st->run_len,
                                      len - st->run_len, true, &is_bad,
                                      &is_cut);
    }
    if (is_bad) {
        *st->flags |= w->enc == 'b' ? MIME_HDR_BAD_B64 : MIME_HDR_BAD_QP;
    }
    *st->flags |= MIME_HDR_ENCODED_WORDS;
}

static bool
all_blank(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!mime_is_wsp((uint8_t)p[i])) {
            return false;
        }
    }
    return true;
}

char *
mime_rfc2047_decode(struct arena *a, struct charset_cache *cc, const char *in,
                    size_t len, size_t *out_len, unsigned *flags)
{
    struct rfc2047_state st;
    size_t i = 0;
    size_t lit = 0;          /* start of pending literal text */
    bool is_after_word = false; /* the pending literal follows a word */
    size_t fail_until = 0;
    uint8_t *mem;

    if (len > (SIZE_MAX - 8) / 4) {
        return NULL;
    }
    mem = arena_alloc(a, 4 * len + 8);
    if (mem == NULL) {
        return NULL;
    }
    memset(&st, 0, sizeof(st));
    st.cc = cc;
    st.out = (char *)mem;
    st.out_max = 3 * len + 4;
    st.run = mem + 3 * len + 5;
    st.flags = flags;

    while (i < len) {
        struct rfc2047_word w;
        if (in[i] != '=' || i + 1 >= len || in[i + 1] != '?' ||
            !parse_word(in, len, i, &fail_until, &w)) {
            i++;
            continue;
        }
        if (!(is_after_word && all_blank(in + lit, i - lit))) {
            emit_literal(&st, in + lit, i - lit);
        }
        add_word(&st, in, len, &w);
        i = w.end;
        lit = i;
        is_after_word = true;
    }
    emit_literal(&st, in + lit, len - lit);
    flush_run(&st);
    /* No control byte (CR, LF, NUL from a decoded word) leaves here. */
    for (size_t k = 0; k < st.o; k++) {
        if ((uint8_t)st.out[k] < 0x20 || st.out[k] == 0x7F) {
            st.out[k] = ' ';
        }
    }
    st.out[st.o] = '\0';
    *out_len = st.o;
    return st.out;
}
