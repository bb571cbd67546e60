/*
 * features.c -- parsed message → deduplicated set of hashed feature ids
 * (see featureset.h; SPEC §4 "statistical content model").
 *
 * Families, in emission order (the set is capped at CAPS_FEATURES_MAX, so
 * the few high-value structural features come first and body words last):
 *   header  sender relations (From / Reply-To / Return-Path / Message-ID
 *           domains), missing fields, display-name tricks, mailer product,
 *           presence of sender-side header fields from a fixed table,
 *           bulk markers (restricted id range);
 *   mime    structure string, flags (html-only, hidden text, forms,
 *           password inputs, scripts), charsets, attachment types and
 *           extensions, dangerous attachments;
 *   subject words and shape (caps, !!!, RE:/FW:);
 *   urls    hosts, registered domains, counts, IP hosts, userinfo, ports,
 *           shorteners, link text showing another domain, path shape,
           letter words of paths and queries ("unsubscribe", "login",
           "verify": what a link does, whoever hosts it);
 *   text    length, case and script statistics, obfuscation (zero-width
 *           characters, mixed-script words);
 *   words   body tokens: lower-cased (ASCII and the common Latin, Greek
 *           and Cyrillic capitals), digit runs of 3+ collapsed to "#<n>",
 *           e-mail addresses and URLs replaced by placeholders, CJK
 *           characters one per token, tokens over
 *           CAPS_FEATURES_TOKEN_MAX_BYTES replaced by a shape.
 * No word pairs: sparse bigrams fit the training corpus better but scored
 * mail from unseen sources worse (scripts/eval-crosssource.sh), as they
 * memorise phrasing rather than vocabulary.
 *
 * Deliberately absent (see featureset.h): To/Cc/Delivered-To, Received
 * hosts/IPs/dates, Date, verdict headers of other filters, any header not
 * in the sender-side table.  Two corpus artifacts are dropped by name: the
 * "[SPAM]" subject tag that csdmc2010 added to some spam, and the
 * anonymised recipient of phishing_pot ("phishing@pot", "rodrigo-f-p");
 * csdmc2010's rewritten domain csmining.org yields no domain feature.
 *
 * State: all in struct features_scratch (id array, an open-addressing
 * set of this message's ids -- 32 KiB, twice CAPS_FEATURES_MAX slots, so
 * it stays in the L1/L2 cache where a bitmap over the whole id space
 * missed on nearly every feature; cleared per message through the id
 * list -- and token buffers).  No allocation
 * after features_scratch_new.  Any thread, one scratch each.
 */
#include "featureset.h"

#include <stdlib.h>
#include <string.h>

#include "bytetable.h"
#include "caps.h"
#include "hashing.h"
#include "hdrname.h"
#include "mime.h"
#include "minhash.h"
#include "queuefile.h"
#include "swar.h"
#include "url.h"

/* The id set: linear probing over 2^FEATURES_SET_BITS slots, at most
 * half full. */
#define FEATURES_SET_BITS 13u
#define FEATURES_SET_SLOTS (1u << FEATURES_SET_BITS)
_Static_assert(FEATURES_SET_SLOTS >= 2u * CAPS_FEATURES_MAX,
               "the id set must stay at most half full");
_Static_assert(FEATURES_SET_SLOTS <= 65536u, "slot_of holds 16-bit slots");
_Static_assert(FEATURES_HASH_BITS < 32u, "ids + 1 must fit a slot");
#define FEATURES_TEXT_BUF 256u
#define FEATURES_NS_SEED 0x43474d4665617431ull /* "CGMFeat1" */

struct features_scratch {
    uint32_t ids[CAPS_FEATURES_MAX];
    size_t n;
    uint32_t set[FEATURES_SET_SLOTS];   /* id + 1, or 0 for a free slot */
    uint16_t slot_of[CAPS_FEATURES_MAX]; /* where ids[i] sits in set */
    unsigned flags;
    features_trace_fn trace;
    void *trace_ctx;
    struct minhash sketch; /* body words, for the campaign signature */
};

/* Statistics the tokenizer keeps while it walks a text. */
struct tok_stats {
    size_t ascii_letters;
    size_t ascii_upper;
    size_t excl;
    size_t zero_width;
    size_t latin_ext;
    size_t cyrillic;
    size_t greek;
    size_t cjk;
    size_t arabic_hebrew;
    size_t other_script;
    size_t mixed_script_tokens;
    size_t tokens;
};

enum tok_kind {
    TOK_WORD,
    TOK_CJK,
    TOK_EMAIL,
    TOK_URL,
    TOK_LONG
};

struct tokenizer {
    const uint8_t *p;
    size_t len;
    size_t pos;
    size_t start;   /* where the last token began */
    bool has_digit; /* the last token held a digit */
    struct tok_stats st;
};

/* ---- the set -------------------------------------------------------- */

static void
set_clear(struct features_scratch *s)
{
    /* Only this message's slots are taken: free just those. */
    for (size_t i = 0; i < s->n; i++) {
        s->set[s->slot_of[i]] = 0;
    }
    s->n = 0;
}

static void
set_add(struct features_scratch *s, uint32_t id)
{
    /* Fibonacci hashing spreads ids that differ only in high bits. */
    uint32_t slot = (uint32_t)(id * 0x9e3779b1u) >> (32u - FEATURES_SET_BITS);

    while (s->set[slot] != 0) {
        if (s->set[slot] == id + 1u) {
            return;
        }
        slot = (slot + 1u) & (FEATURES_SET_SLOTS - 1u);
    }
    if (s->n >= CAPS_FEATURES_MAX) {
        s->flags |= FEATURES_CAPPED;
        return;
    }
    s->set[slot] = id + 1u;
    s->slot_of[s->n] = (uint16_t)slot;
    s->ids[s->n++] = id;
}

/* Namespaces of "dense" facts (a few thousand values, each present in
 * many messages) as opposed to open-ended vocabularies. */
static bool
is_dense_ns(enum features_ns ns)
{
    switch (ns) {
    case FEATURES_NS_URL:
    case FEATURES_NS_FROM:
    case FEATURES_NS_HEADER:
    case FEATURES_NS_MAILER:
    case FEATURES_NS_SUBJECT_SHAPE:
    case FEATURES_NS_MIME:
    case FEATURES_NS_TEXT:
        return true;
    case FEATURES_NS_WORD:
    case FEATURES_NS_SUBJECT:
    case FEATURES_NS_URL_HOST:
    case FEATURES_NS_URL_DOMAIN:
    case FEATURES_NS_FROM_NAME:
    case FEATURES_NS_FROM_DOMAIN:
    case FEATURES_NS_URL_PATH:
    case FEATURES_NS_BULK:
        return false;
    }
    return false;
}

static uint32_t
id_of(enum features_ns ns, uint64_t h)
{
    uint64_t dense = FEATURES_DENSE_IDS_END - FEATURES_RESTRICTED_IDS;
    uint64_t space = ((uint64_t)1 << FEATURES_HASH_BITS) -
                     FEATURES_DENSE_IDS_END;

    if (ns == FEATURES_NS_BULK) {
        return (uint32_t)(h % FEATURES_RESTRICTED_IDS);
    }
    if (is_dense_ns(ns)) {
        return (uint32_t)(FEATURES_RESTRICTED_IDS + h % dense);
    }
    return (uint32_t)(FEATURES_DENSE_IDS_END + h % space);
}

/* hashing_mix64 of FEATURES_NS_SEED + ns as a constant expression, so
 * the seeds are a table filled at compile time: emit (about 140 calls a
 * message) no longer mixes its namespace's seed on every call (issue #7).
 * test_features pins an id of every namespace. */
#define NS_MIX_A(x) (((x) ^ ((x) >> 30)) * 0xbf58476d1ce4e5b9ull)
#define NS_MIX_B(x) (((x) ^ ((x) >> 27)) * 0x94d049bb133111ebull)
#define NS_MIX_C(x) ((x) ^ ((x) >> 31))
#define NS_SEED(ns)                                                        \
    [ns] = NS_MIX_C(NS_MIX_B(NS_MIX_A(FEATURES_NS_SEED + (uint64_t)(ns))))

static const uint64_t ns_seeds[] = {
    NS_SEED(FEATURES_NS_WORD),          NS_SEED(FEATURES_NS_SUBJECT),
    NS_SEED(FEATURES_NS_URL_HOST),      NS_SEED(FEATURES_NS_URL_DOMAIN),
    NS_SEED(FEATURES_NS_URL),           NS_SEED(FEATURES_NS_FROM),
    NS_SEED(FEATURES_NS_FROM_NAME),     NS_SEED(FEATURES_NS_HEADER),
    NS_SEED(FEATURES_NS_MAILER),        NS_SEED(FEATURES_NS_SUBJECT_SHAPE),
    NS_SEED(FEATURES_NS_MIME),          NS_SEED(FEATURES_NS_TEXT),
    NS_SEED(FEATURES_NS_BULK),          NS_SEED(FEATURES_NS_FROM_DOMAIN),
    NS_SEED(FEATURES_NS_URL_PATH),
};

static uint64_t
ns_seed(enum features_ns ns)
{
    if ((size_t)ns < sizeof(ns_seeds) / sizeof(ns_seeds[0])) {
        return ns_seeds[ns];
    }
    return hashing_mix64(FEATURES_NS_SEED + (uint64_t)ns);
}

/* Inline: body_words emits every body token through here with a constant
 * namespace, which folds id_of's switch away (issue #7). */
static inline void
emit_hash(struct features_scratch *s, enum features_ns ns, uint64_t h,
          const char *text, size_t len)
{
    uint32_t id = id_of(ns, h);

    if (s->trace != NULL) {
        s->trace(s->trace_ctx, ns, text, len, id);
    }
    set_add(s, id);
}

static void
emit(struct features_scratch *s, enum features_ns ns, const char *text,
     size_t len)
{
    emit_hash(s, ns, hashing_hash64(text, len, ns_seed(ns)), text, len);
}

static void
emit_str_n(struct features_scratch *s, enum features_ns ns, const char *text,
           size_t len)
{
    emit(s, ns, text, len);
}

/* "prefix" (pl bytes) + (p, len), cut to the buffer. */
static void
emit_kv_n(struct features_scratch *s, enum features_ns ns, const char *prefix,
          size_t pl, const char *p, size_t len)
{
    char b[FEATURES_TEXT_BUF];

    if (pl >= sizeof(b)) {
        return;
    }
    memcpy(b, prefix, pl);
    if (len > sizeof(b) - pl) {
        len = sizeof(b) - pl;
    }
    memcpy(b + pl, p, len);
    emit(s, ns, b, pl + len);
}

/* "prefix" (pl bytes) + a small bucket number. */
static void
emit_bucket_n(struct features_scratch *s, enum features_ns ns,
              const char *prefix, size_t pl, unsigned bucket)
{
    char num[12];
    size_t n = 0;
    char rev[12];
    size_t r = 0;

    if (bucket < 10) { /* nearly every bucket: one digit */
        num[0] = (char)('0' + bucket);
        emit_kv_n(s, ns, prefix, pl, num, 1);
        return;
    }
    do {
        rev[r++] = (char)('0' + bucket % 10u);
        bucket /= 10u;
    } while (bucket > 0 && r < sizeof(rev));
    while (r > 0) {
        num[n++] = rev[--r];
    }
    emit_kv_n(s, ns, prefix, pl, num, n);
}

/* Every prefix and fixed feature text is a string literal: its length
 * is taken at compile time ("" lit refuses anything else), not by a
 * strlen per emitted feature (issue #7: about 75 per message). */
#define emit_str(s, ns, lit)                                               \
    emit_str_n((s), (ns), "" lit, sizeof(lit) - 1u)
#define emit_kv(s, ns, lit, p, len)                                        \
    emit_kv_n((s), (ns), "" lit, sizeof(lit) - 1u, (p), (len))
#define emit_bucket(s, ns, lit, bucket)                                    \
    emit_bucket_n((s), (ns), "" lit, sizeof(lit) - 1u, (bucket))

/* 0, 1, 2-3, 4-7, ... as 0, 1, 2, 3, ... capped at max. */
static unsigned
log2_bucket(size_t v, unsigned max)
{
    unsigned b = 0;

    while (v > 0 && b < max) {
        v >>= 1;
        b++;
    }
    return b;
}

/* ---- small text helpers --------------------------------------------- */

/* Each byte ASCII-lower-cased: one load instead of a compare and a
 * select, for lower() and lower_copy, which fold every header name,
 * host and address byte they compare or copy (issue #7). */
static const uint8_t lower_of[256] = {BYTETABLE(BYTETABLE_LOWER)};

static uint8_t
lower(uint8_t c)
{
    return lower_of[c];
}

/* The literals are walked to their terminator rather than measured
 * first: these run against every header name, host and token, and a
 * strlen per call cost as much as the compare. */
static bool
ieq(const char *a, size_t alen, const char *b)
{
    for (size_t i = 0; i < alen; i++) {
        if (b[i] == '\0' || lower((uint8_t)a[i]) != lower((uint8_t)b[i])) {
            return false;
        }
    }
    return b[alen] == '\0';
}

static bool
iprefix(const char *a, size_t alen, const char *prefix)
{
    for (size_t i = 0; prefix[i] != '\0'; i++) {
        if (i >= alen || lower((uint8_t)a[i]) != lower((uint8_t)prefix[i])) {
            return false;
        }
    }
    return true;
}

/* Case-insensitive substring search in (h, hlen). */
static const char *
ifind(const char *h, size_t hlen, const char *needle)
{
    size_t nl = strlen(needle);
    size_t k = 0;

    if (nl == 0 || hlen < nl) {
        return NULL;
    }
    /* A byte of the needle that is no letter has one case ('-' of
     * "xn--", ':' of "://"): memchr finds the places where it could be
     * and only those are tried, instead of a fold and a compare per byte
     * of h (issue #7: every URL host is searched for "xn--"). */
    while (k < nl && ((uint8_t)needle[k] | 0x20u) >= 'a' &&
           ((uint8_t)needle[k] | 0x20u) <= 'z') {
        k++;
    }
    if (k < nl) {
        const char *q = h + k;
        const char *last = h + (hlen - nl) + k;

        while (q <= last &&
               (q = memchr(q, needle[k], (size_t)(last - q) + 1u)) != NULL) {
            const char *at = q - k;

            if (iprefix(at, hlen - (size_t)(at - h), needle)) {
                return at;
            }
            q++;
        }
        return NULL;
    }
    {
        uint8_t first = lower((uint8_t)needle[0]);

        for (size_t i = 0; i + nl <= hlen; i++) {
            /* The first byte rejects nearly every position. */
            if (lower((uint8_t)h[i]) == first &&
                iprefix(h + i, hlen - i, needle)) {
                return h + i;
            }
        }
    }
    return NULL;
}

static bool
is_space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void
trim(const char **p, size_t *len)
{
    while (*len > 0 && is_space((uint8_t)(*p)[0])) {
        (*p)++;
        (*len)--;
    }
    while (*len > 0 && is_space((uint8_t)(*p)[*len - 1])) {
        (*len)--;
    }
}

/* Lower-case copy into dst (capacity cap, NUL-terminated); returns len. */
static size_t
lower_copy(char *dst, size_t cap, const char *p, size_t len)
{
    size_t n = len < cap - 1 ? len : cap - 1;

    for (size_t i = 0; i < n; i++) {
        dst[i] = (char)lower((uint8_t)p[i]);
    }
    dst[n] = '\0';
    return n;
}

/* ---- UTF-8 and character classes ------------------------------------- */

/* Decode one code point; invalid or truncated sequences yield U+FFFD
 * consuming one byte, so every call advances. */
static size_t
utf8_decode(const uint8_t *p, size_t len, uint32_t *cp)
{
    uint8_t c = p[0];
    size_t n;
    uint32_t v;

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        v = c & 0x1fu;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        v = c & 0x0fu;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        v = c & 0x07u;
    } else {
        *cp = 0xfffd;
        return 1;
    }
    if (len < n) {
        *cp = 0xfffd;
        return 1;
    }
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0u) != 0x80u) {
            *cp = 0xfffd;
            return 1;
        }
        v = (v << 6) | (p[i] & 0x3fu);
    }
    if ((n == 3 && v < 0x800) || (n == 4 && (v < 0x10000 || v > 0x10ffff)) ||
        (v >= 0xd800 && v <= 0xdfff)) {
        *cp = 0xfffd;
        return 1;
    }
    *cp = v;
    return n;
}

static size_t
utf8_encode(uint32_t cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0u | (cp >> 6));
        out[1] = (char)(0x80u | (cp & 0x3fu));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0u | (cp >> 12));
        out[1] = (char)(0x80u | ((cp >> 6) & 0x3fu));
        out[2] = (char)(0x80u | (cp & 0x3fu));
        return 3;
    }
    out[0] = (char)(0xf0u | (cp >> 18));
    out[1] = (char)(0x80u | ((cp >> 12) & 0x3fu));
    out[2] = (char)(0x80u | ((cp >> 6) & 0x3fu));
    out[3] = (char)(0x80u | (cp & 0x3fu));
    return 4;
}

/* Simple case folding for the scripts spam is mostly written in. */
static uint32_t
fold(uint32_t cp)
{
    if (cp >= 'A' && cp <= 'Z') {
        return cp + 32;
    }
    if (cp < 0xc0) {
        return cp;
    }
    if (cp <= 0xde && cp != 0xd7) {
        return cp + 0x20;
    }
    if ((cp >= 0x100 && cp <= 0x137) || (cp >= 0x14a && cp <= 0x177)) {
        return (cp & 1u) == 0 ? cp + 1 : cp;
    }
    if (cp >= 0x139 && cp <= 0x148) {
        return (cp & 1u) == 1 ? cp + 1 : cp;
    }
    if (cp >= 0x391 && cp <= 0x3a9 && cp != 0x3a2) {
        return cp + 0x20;
    }
    if (cp >= 0x410 && cp <= 0x42f) {
        return cp + 0x20;
    }
    if (cp >= 0x400 && cp <= 0x40f) {
        return cp + 0x50;
    }
    return cp;
}

static bool
is_zero_width(uint32_t cp)
{
    return cp == 0xad || (cp >= 0x200b && cp <= 0x200f) || cp == 0x2060 ||
           cp == 0xfeff || cp == 0x34f || cp == 0x180e;
}

static bool
is_cjk(uint32_t cp)
{
    return (cp >= 0x3040 && cp <= 0x30ff) || (cp >= 0x3400 && cp <= 0x4dbf) ||
           (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0xac00 && cp <= 0xd7af) ||
           (cp >= 0xf900 && cp <= 0xfaff);
}

/* Joiners stay inside a token ("e-mail", "o'neil", "paypal.com", "$5"). */
static bool
is_joiner(uint32_t cp)
{
    return cp == '.' || cp == '-' || cp == '\'' || cp == '_' || cp == '@' ||
           cp == '$' || cp == '%' || cp == '/' || cp == ':' || cp == '&' ||
           cp == '+' || cp == 0x2019;
}

/* Letters and digits in the broad sense: ASCII alnum and every non-ASCII
 * code point that is not punctuation, a symbol or a space. */
static bool
is_word_char(uint32_t cp)
{
    if (cp < 0x80) {
        return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') ||
               (cp >= '0' && cp <= '9');
    }
    if (cp == 0xa3 || cp == 0xa5 || cp == 0x20ac) { /* £ ¥ € like '$' */
        return true;
    }
    if (cp < 0xc0) {
        return false; /* Latin-1 punctuation and symbols, NBSP */
    }
    if (cp == 0xd7 || cp == 0xf7 || cp == 0xfffd) {
        return false;
    }
    if (cp >= 0x2000 && cp <= 0x2bff) {
        return false; /* punctuation, arrows, math, boxes, symbols */
    }
    if (cp >= 0x3000 && cp <= 0x303f) {
        return false; /* CJK punctuation and ideographic space */
    }
    if (cp >= 0xfe00 && cp <= 0xfe0f) {
        return false; /* variation selectors */
    }
    if (cp >= 0x1f000) {
        return false; /* emoji and pictographs */
    }
    return true;
}

static void
note_script(struct tok_stats *st, uint32_t cp, unsigned *scripts)
{
    if (cp < 0x80) {
        if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z')) {
            st->ascii_letters++;
            st->ascii_upper += cp <= 'Z';
            *scripts |= 1u;
        }
    } else if (cp < 0x250) {
        st->latin_ext++;
        *scripts |= 1u;
    } else if (cp >= 0x370 && cp < 0x400) {
        st->greek++;
        *scripts |= 2u;
    } else if (cp >= 0x400 && cp < 0x530) {
        st->cyrillic++;
        *scripts |= 4u;
    } else if (cp >= 0x590 && cp < 0x700) {
        st->arabic_hebrew++;
    } else if (is_cjk(cp)) {
        st->cjk++;
    } else {
        st->other_script++;
    }
}

/* ---- tokenizer ------------------------------------------------------- */

static void
tok_init(struct tokenizer *t, const char *p, size_t len)
{
    memset(t, 0, sizeof(*t));
    t->p = (const uint8_t *)p;
    t->len = len;
}

/* Collapse digit runs of 3 or more into "#<n>" (n = 1..9, 'n' beyond):
 * phone numbers, prices, years and order numbers become shapes instead of
 * thousands of one-off tokens. */
static size_t
collapse_digits(char *b, size_t len)
{
    size_t o;
    size_t i = 0;
    size_t run = 0;

    /* Nothing moves before the first run to collapse: find its third
     * digit without writing (most tokens with a digit have none, "mp3",
     * "10am"), one byte and one counter at a time. */
    for (; i < len; i++) {
        if ((unsigned char)(b[i] - '0') >= 10u) {
            run = 0;
        } else if (++run == 3) {
            break;
        }
    }
    if (i == len) {
        return len;
    }
    i -= 2;
    o = i;
    while (i < len) {
        size_t j = i + 1;

        if ((unsigned char)(b[i] - '0') >= 10u) {
            b[o++] = b[i++]; /* no digit: copied, one test */
            continue;
        }
        while (j < len && (unsigned char)(b[j] - '0') < 10u) {
            j++;
        }
        if (j - i >= 3) {
            size_t r = j - i;

            b[o++] = '#';
            b[o++] = r <= 9 ? (char)('0' + r) : 'n';
            i = j;
        } else {
            while (i < j) {
                b[o++] = b[i++];
            }
        }
    }
    return o;
}

/* The tokenizer's steps are inlined into body_words, which runs them on
 * every body token (issue #7); GCC would otherwise keep some as calls
 * once the loop grows past its inlining budget. */
#if defined(__GNUC__)
#define TOK_ALWAYS_INLINE __attribute__((always_inline))
#define TOK_NOINLINE __attribute__((noinline))
#else
#define TOK_ALWAYS_INLINE
#define TOK_NOINLINE
#endif

/* What each ASCII byte is to the tokenizer (the same answers as
 * is_word_char, is_joiner and fold give for code points below U+0080). */
enum tok_ascii_class {
    TOKC_LETTER = 1u << 0,
    TOKC_UPPER = 1u << 1, /* with TOKC_LETTER */
    TOKC_DIGIT = 1u << 2,
    TOKC_JOINER = 1u << 3
};

#define L TOKC_LETTER
#define U (TOKC_LETTER | TOKC_UPPER)
#define D TOKC_DIGIT
#define J TOKC_JOINER
static const uint8_t tok_ascii[128] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, J, J, J, J, 0, 0, 0, J, 0, J, J, J, /*  $%&' + -./ */
    D, D, D, D, D, D, D, D, D, D, J, 0, 0, 0, 0, 0, /* 0-9 : */
    J, U, U, U, U, U, U, U, U, U, U, U, U, U, U, U, /* @ A-O */
    U, U, U, U, U, U, U, U, U, U, U, 0, 0, 0, 0, J, /* P-Z _ */
    0, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, /* a-o */
    L, L, L, L, L, L, L, L, L, L, L, 0, 0, 0, 0, 0, /* p-z */
};
#undef L
#undef U
#undef D
#undef J

/* The word paths store and hash a token's bytes as swar_load leaves
 * them, and find the first byte by swar_lowest_lane: little-endian hosts
 * only. */
#if SWAR_HOST_LE
#define TOK_WORD_AT_A_TIME 1

/*
 * The ASCII letters and digits at the start of the 8 bytes at p, eight
 * per step instead of one: their number (0..8) is returned, their folded
 * (lower-case) bytes go to out[0..8) (all 8 written, zeros past the run)
 * and to *word as a little-endian number, and the letters,
 * the capitals and whether a digit was among them are added to *letters,
 * *upper, *has_digit.  The first lane that is not alphanumeric is the
 * one of the lowest set bit of fails (bit 8k+7), the swar.h tests
 * being exact in every lane.
 */
static inline TOK_ALWAYS_INLINE size_t
alnum_run8(const uint8_t *p, char *out, size_t *letters, size_t *upper,
           bool *has_digit, uint64_t *word)
{
    uint64_t x = swar_load(p);
    uint64_t alpha;
    uint64_t caps;
    uint64_t digits;
    uint64_t fails;
    size_t k = 8;

    /* The capitals are the letters whose bit 5 (moved up to bit 7) is
     * clear. */
    alpha = swar_letter(x);
    digits = swar_in(x, '0', '9');
    fails = swar_high(~(alpha | digits));
    if (fails != 0) {
        uint64_t keep;

        k = swar_lowest_lane(fails);
        keep = swar_lanes_below(k);
        alpha &= keep;
        digits &= keep;
        x &= keep;
    }
    caps = alpha & ~(x << 2);
    x |= caps >> 2; /* 'A'..'Z' + 0x20 */
    memcpy(out, &x, sizeof(x));
    *word = x;
    /* The run is letters and digits: most runs have no digit and no
     * capital, so the lanes are counted only when there are some. */
    *letters += k;
    if (digits != 0) {
        *letters -= swar_count(digits);
        *has_digit = true;
    }
    if (caps != 0) {
        *upper += swar_count(caps);
    }
    return k;
}
#else
#define TOK_WORD_AT_A_TIME 0
#endif

/* A byte of a token that is an ASCII joiner (UTF-8 bytes never are). */
static inline TOK_ALWAYS_INLINE bool
is_ascii_joiner(uint8_t ch)
{
    return ch < 0x80 && (tok_ascii[ch] & TOKC_JOINER) != 0;
}

/* Whether p[pos], an ASCII byte, is a joiner whose next byte ends the
 * token (a blank, plain punctuation or the end of the text). */
static inline TOK_ALWAYS_INLINE bool
joiner_ends_token(const uint8_t *p, size_t pos, size_t len)
{
    return (tok_ascii[p[pos]] & TOKC_JOINER) != 0 &&
           (pos + 1 >= len ||
            (p[pos + 1] < 0x80 && tok_ascii[p[pos + 1]] == 0));
}

/* What tok_skip does with each byte: passes over it, counts it and
 * passes over it ('!'), stops at it (an ASCII letter or digit) or
 * decodes the character it starts (>= 0x80).  Built at compile time. */
enum tok_skip_class {
    TOKS_PASS,
    TOKS_EXCL,
    TOKS_STOP,
    TOKS_DECODE
};

#define TOKS_ALNUM(c)                                                      \
    (((c) >= '0' && (c) <= '9') ||                                        \
     (((c) | 0x20) >= 'a' && ((c) | 0x20) <= 'z'))
#define TOKS(c)                                                            \
    ((c) >= 0x80      ? TOKS_DECODE                                        \
     : TOKS_ALNUM(c)  ? TOKS_STOP                                          \
     : (c) == '!'     ? TOKS_EXCL                                          \
                      : TOKS_PASS)
static const uint8_t tok_skip_class[256] = {BYTETABLE(TOKS)};

/* Skip to the start of the next token, counting the '!' and zero-width
 * characters passed over.  ASCII is classed by one table lookup (the
 * blanks and punctuation between words are most of what is skipped);
 * only bytes >= 0x80 are decoded. */
static inline TOK_ALWAYS_INLINE void
tok_skip(struct tokenizer *t)
{
    const uint8_t *p = t->p;
    size_t len = t->len;
    size_t pos = t->pos;

    /* Most gaps between words are one blank: that one first. */
    if (len - pos >= 2 && tok_skip_class[p[pos]] == TOKS_PASS &&
        tok_skip_class[p[pos + 1]] == TOKS_STOP) {
        t->pos = pos + 1;
        return;
    }
    while (pos < len) {
        unsigned cls = tok_skip_class[p[pos]];
        uint32_t cp;
        size_t k;

        if (cls == TOKS_PASS) {
            pos++;
            continue;
        }
        if (cls == TOKS_STOP) {
            break;
        }
        if (cls == TOKS_EXCL) {
            t->st.excl++;
            pos++;
            continue;
        }
        k = utf8_decode(p + pos, len - pos, &cp);
        if (is_word_char(cp)) {
            break;
        }
        if (is_zero_width(cp)) {
            t->st.zero_width++;
        }
        pos += k;
    }
    t->pos = pos;
}

/* What tok_next's byte-wise path met, as bits of one local (one
 * register to clear per token rather than five flags on the stack),
 * above the bits note_script sets (1 Latin, 2 Greek, 4 Cyrillic). */
enum tok_seen {
    TOK_SEEN_JOINER = 1u << 3, /* an ASCII joiner may be in out */
    TOK_SEEN_AT = 1u << 4,
    TOK_SEEN_COLON = 1u << 5,
    TOK_SEEN_LONG = 1u << 6 /* bytes past the token maximum dropped */
};

/* Whether "://" is in the n bytes at p (ifind's answer for it, which
 * has no letter to fold): memchr finds each ':' where the three fit. */
static bool
has_scheme_sep(const char *p, size_t n)
{
    const char *end = p + n;
    const char *c = p;

    while (end - c >= 3 &&
           (c = memchr(c, ':', (size_t)(end - c) - 2u)) != NULL) {
        if (c[1] == '/' && c[2] == '/') {
            return true;
        }
        c++;
    }
    return false;
}

/*
 * The rest of the token that tok_scan began at t->start, when it is no
 * plain word: pos, n, letters, upper and has_digit are where its 8-byte
 * runs stopped (out[0..n) written; p[pos] is not a letter or digit, or
 * fewer than 8 bytes are left, or the token is near the maximum).  Not
 * inlined: the byte-wise path, its UTF-8 and the checks at the end are
 * a tenth of the body's tokens, and kept out of body_words' loop they
 * no longer crowd its registers (issue #7).
 */
static TOK_NOINLINE bool
tok_scan_rest(struct tokenizer *t, char *out, size_t *out_len,
              enum tok_kind *kind, size_t pos, size_t n, size_t letters,
              size_t upper, bool has_digit)
{
    const uint8_t *p = t->p;
    size_t len = t->len;
    size_t raw = n; /* the runs copied the bytes they read */
#if TOK_WORD_AT_A_TIME
    bool try_run = false; /* p[pos] was no letter or digit */
#endif
    unsigned seen = 0; /* scripts, TOK_SEEN_*: what the byte-wise path met */

    for (;;) {
        uint32_t cp;
        size_t k;
        size_t el;
        uint8_t ch;

        if (pos >= len) {
            break;
        }
#if TOK_WORD_AT_A_TIME
        /* Letters and digits eight at a time while eight fit (out has 8
         * bytes of slack past the token maximum for the over-write). */
        if (try_run && len - pos >= 8 &&
            n + 8 <= CAPS_FEATURES_TOKEN_MAX_BYTES) {
            uint64_t word;
            size_t run = alnum_run8(p + pos, out + n, &letters, &upper,
                                    &has_digit, &word);

            n += run;
            raw += run;
            pos += run;
            if (run == 8) {
                continue;
            }
            /* p[pos] is not a letter or digit: the byte-wise path. */
        } else if (try_run && len - pos >= 8 &&
                   n >= CAPS_FEATURES_TOKEN_MAX_BYTES) {
            /* Past the maximum (a link, a long identifier): its letters
             * and digits still counted eight at a time, not kept (out's
             * 8 bytes of slack take the over-write). */
            uint64_t word;
            size_t run = alnum_run8(p + pos,
                                    out + CAPS_FEATURES_TOKEN_MAX_BYTES,
                                    &letters, &upper, &has_digit, &word);

            raw += run;
            pos += run;
            if (run > 0) {
                seen |= TOK_SEEN_LONG;
            }
            if (run == 8) {
                continue;
            }
        }
        try_run = true;
#endif
        ch = p[pos];
        if (ch < 0x80) {
            /* ASCII fast path: most mail is mostly ASCII.  Same result as
             * the general path below: ASCII folds to lower case, encodes
             * as itself and is never CJK or zero-width. */
            unsigned cls = tok_ascii[ch];

            if (cls == 0) {
                break;
            }
            if ((cls & TOKC_LETTER) != 0) {
                letters++;
                if ((cls & TOKC_UPPER) != 0) {
                    upper++;
                    ch = (uint8_t)(ch + 32);
                }
            } else if ((cls & TOKC_DIGIT) != 0) {
                has_digit = true;
            } else {
                seen |= TOK_SEEN_JOINER | (ch == '@' ? TOK_SEEN_AT : 0u) |
                        (ch == ':' ? TOK_SEEN_COLON : 0u);
            }
            if (n < CAPS_FEATURES_TOKEN_MAX_BYTES) {
                out[n++] = (char)ch;
            } else {
                seen |= TOK_SEEN_LONG;
            }
            raw++;
            pos++;
            /* A byte that ends the token next ("end." before a blank):
             * stop here rather than try an 8-byte run on it first. */
            if (pos < len && p[pos] < 0x80 && tok_ascii[p[pos]] == 0) {
                break;
            }
            continue;
        }
        k = utf8_decode(p + pos, len - pos, &cp);
        if (is_cjk(cp)) {
            if (raw == 0) {
                note_script(&t->st, cp, &seen);
                *out_len = utf8_encode(cp, out);
                *kind = TOK_CJK;
                t->has_digit = false;
                t->pos = pos + k;
                t->st.tokens++;
                return true;
            }
            break;
        }
        if (is_zero_width(cp)) {
            t->st.zero_width++;
            pos += k;
            continue;
        }
        if (!is_word_char(cp) && !is_joiner(cp)) {
            break;
        }
        note_script(&t->st, cp, &seen);
        cp = cp == 0x2019 ? '\'' : fold(cp);
        if (cp < 0x80) {
            seen |= TOK_SEEN_JOINER; /* U+2019 is written as '\'' */
        }
        /* Encoded in place, not through a copy: n is at most the
         * maximum and out has 8 bytes of slack past it, room for the 4
         * of any character; one that does not fit is not counted. */
        el = utf8_encode(cp, out + n);
        if (n + el <= CAPS_FEATURES_TOKEN_MAX_BYTES) {
            n += el;
        } else {
            seen |= TOK_SEEN_LONG;
        }
        raw += k;
        pos += k;
    }
    t->pos = pos;
    t->st.ascii_letters += letters;
    t->st.ascii_upper += upper;
    if (letters > 0) {
        seen |= 1u;
    }
    /* Joiners at the ends are punctuation, except a leading currency
     * (most tokens are letters and digits only: nothing to look at). */
    while ((seen & TOK_SEEN_JOINER) != 0 && n > 0 &&
           is_ascii_joiner((uint8_t)out[n - 1])) {
        n--;
    }
    if ((seen & TOK_SEEN_JOINER) != 0) {
        size_t lead = 0;

        while (lead < n && is_ascii_joiner((uint8_t)out[lead]) &&
               out[lead] != '$') {
            lead++;
        }
        if (lead > 0) {
            memmove(out, out + lead, n - lead);
            n -= lead;
        }
    }
    t->st.tokens++;
    if ((seen & 1u) != 0 && (seen & 6u) != 0) {
        t->st.mixed_script_tokens++;
    }
    if (((seen & TOK_SEEN_COLON) != 0 && has_scheme_sep(out, n)) ||
        (n > 4 && out[0] == 'w' && iprefix(out, n, "www."))) {
        *kind = TOK_URL;
    } else if ((seen & TOK_SEEN_AT) != 0 && memchr(out, '@', n) != NULL &&
               n > 3) {
        *kind = TOK_EMAIL;
    } else if ((seen & TOK_SEEN_LONG) != 0) {
        *kind = TOK_LONG;
    } else {
        *kind = TOK_WORD;
    }
    t->has_digit = has_digit;
    if (has_digit) {
        n = collapse_digits(out, n);
    }
    *out_len = n;
    return true;
}

#if TOK_WORD_AT_A_TIME
/* What first_run found. */
enum first_run {
    RUN_WORD, /* a plain word of 1..7 bytes, out and t done */
    RUN_FULL, /* 8 letters and digits: the run loop goes on */
    RUN_REST  /* 0..7, then no plain end: tok_scan_rest goes on */
};

/*
 * tok_scan's first 8-byte run at t->pos (8 bytes readable there), in
 * straight-line code: the most common token, a plain word of 1..7
 * bytes, leaves here whole (issue #7: the run loop kept its counters on
 * the stack).  Otherwise its bytes are in out and *n, *letters, *upper,
 * *has_digit and *h (the hashing_step state, valid for RUN_FULL) hold
 * the run for the loop or tok_scan_rest to go on from, so no token reads
 * its first run twice.  The other arguments are tok_scan's.
 */
static inline TOK_ALWAYS_INLINE enum first_run
first_run(struct tokenizer *t, char *out, size_t *out_len,
          enum tok_kind *kind, uint64_t *hash, bool *hashed, size_t *n,
          size_t *letters, size_t *upper, bool *has_digit, uint64_t *h)
{
    const uint8_t *p = t->p;
    size_t pos = t->pos;
    uint64_t x = swar_load(p + pos);
    uint64_t alpha;
    uint64_t digits;
    uint64_t fails;
    uint64_t caps;
    uint64_t keep;
    size_t k;
    size_t end;
    uint8_t c;

    alpha = swar_letter(x);
    digits = swar_in(x, '0', '9');
    fails = swar_high(~(alpha | digits));
    if (fails == 0) {
        caps = alpha & ~(x << 2);
        x |= caps >> 2;
        memcpy(out, &x, sizeof(x));
        *h = hashing_step(*h, x);
        *n = 8;
        *letters = 8;
        if ((digits | caps) != 0) {
            *letters -= swar_count(digits);
            *upper = swar_count(caps);
            *has_digit = digits != 0;
        }
        return RUN_FULL;
    }
    k = swar_lowest_lane(fails);
    keep = swar_lanes_below(k);
    alpha &= keep;
    digits &= keep;
    caps = alpha & ~(x << 2);
    x = (x & keep) | caps >> 2;
    memcpy(out, &x, sizeof(x));
    end = pos + k;
    c = p[end]; /* one of the 8 read */
    if (c >= 0x80 ||
        (tok_ascii[c] != 0 && !joiner_ends_token(p, end, t->len))) {
        /* UTF-8 or a joiner inside the token: the byte-wise rest. */
        *n = k;
        *letters = k;
        if ((digits | caps) != 0) {
            *letters -= swar_count(digits);
            *upper = swar_count(caps);
            *has_digit = digits != 0;
        }
        return RUN_REST;
    }
    /* Ended by a blank or plain punctuation, or by a joiner before one
     * ("end." before a blank), which would be stripped again as
     * trailing punctuation. */
    end += tok_ascii[c] != 0;
    t->start = pos;
    t->pos = end;
    t->st.tokens++;
    t->st.ascii_letters += k;
    *kind = TOK_WORD;
    if (caps != 0) {
        t->st.ascii_upper += swar_count(caps);
    }
    if (digits != 0) {
        t->st.ascii_letters -= swar_count(digits);
        t->has_digit = true;
        if (alpha == 0 && k >= 3) {
            /* A number of 3..7 digits ("2024", "100"): collapse_digits'
             * "#<n>" without the walk. */
            out[0] = '#';
            out[1] = (char)('0' + k);
            *out_len = 2;
        } else {
            *out_len = collapse_digits(out, k);
        }
        return RUN_WORD;
    }
    t->has_digit = false;
    if (hash != NULL) {
        *hash = hashing_step(*h, x);
        *hashed = true;
    }
    *out_len = k;
    return RUN_WORD;
}
#endif

/*
 * Next token of t into out (capacity CAPS_FEATURES_TOKEN_MAX_BYTES + 8,
 * not NUL-terminated).  Returns false at the end of the text.
 *
 * Most tokens are plain words -- ASCII letters and digits only, ended by
 * a blank or plain punctuation -- read here 8 bytes at a time; the rest
 * go on in tok_scan_rest from where the runs stopped.  The position and
 * the ASCII letter counts live in locals: out is a char pointer, and a
 * store through it would otherwise make the compiler reload everything
 * in *t after every run.
 *
 * With hash (body_words; NULL from tok_next), a plain word with no digit
 * also has its hash under seed folded in as its runs are read (issue #7:
 * instead of being loaded from out again): *hash is the hashing_step
 * state of all its bytes, for hashing_finish, and *hashed says so;
 * *hashed is false for every other token.
 */
static inline TOK_ALWAYS_INLINE bool
tok_scan(struct tokenizer *t, char *out, size_t *out_len,
         enum tok_kind *kind, uint64_t seed, uint64_t *hash, bool *hashed)
{
    const uint8_t *p = t->p;
    size_t len = t->len;
    size_t pos;
    size_t n = 0;
    size_t letters = 0;
    size_t upper = 0;
    bool has_digit = false;

    if (hash != NULL) {
        *hashed = false;
    }
    tok_skip(t);
    pos = t->pos;
    if (pos >= len) {
        return false;
    }
    t->start = pos;
#if TOK_WORD_AT_A_TIME
    {
        uint64_t h = hashing_start(seed); /* the runs so far */

        if (len - pos >= 8) {
            enum first_run r = first_run(t, out, out_len, kind, hash, hashed,
                                         &n, &letters, &upper, &has_digit,
                                         &h);

            if (r == RUN_WORD) {
                return true;
            }
            pos += n;
            if (r == RUN_REST) {
                return tok_scan_rest(t, out, out_len, kind, pos, n, letters,
                                     upper, has_digit);
            }
        }

        /* Out has 8 bytes of slack past the token maximum for the
         * over-write of the last run. */
        while (len - pos >= 8 && n + 8 <= CAPS_FEATURES_TOKEN_MAX_BYTES) {
            uint64_t word;
            size_t run = alnum_run8(p + pos, out + n, &letters, &upper,
                                    &has_digit, &word);

            n += run;
            pos += run;
            if (hash != NULL) {
                /* The runs start at multiples of 8 in out, and a short
                 * one (the tail, masked) ends the word. */
                h = hashing_step(h, word);
            }
            if (run == 8) {
                continue;
            }
            /* Ended by a blank or plain punctuation: nothing for
             * tok_scan_rest's checks to find (no joiner, UTF-8 or
             * overflow), so the word leaves here with its digit runs
             * collapsed. */
            if (p[pos] < 0x80 &&
                (tok_ascii[p[pos]] == 0 || joiner_ends_token(p, pos, len))) {
                /* A joiner that ends the token ("end." before a blank)
                 * would be stripped again as trailing punctuation. */
                pos += tok_ascii[p[pos]] != 0;
                t->pos = pos;
                t->st.ascii_letters += letters;
                t->st.ascii_upper += upper;
                t->st.tokens++;
                t->has_digit = has_digit;
                *kind = TOK_WORD;
                if (hash != NULL && !has_digit) {
                    *hash = h;
                    *hashed = true;
                }
                *out_len = has_digit ? collapse_digits(out, n) : n;
                return true;
            }
            break; /* p[pos] is not a letter or digit */
        }
    }
#else
    (void)seed;
#endif
    return tok_scan_rest(t, out, out_len, kind, pos, n, letters, upper,
                         has_digit);
}

/* tok_scan for the callers that tokenize a header or a name: one copy
 * of the tokenizer for them all, while body_words, which runs it on
 * every body token, has it inlined (issue #7: the call, its saved
 * registers, the out-parameters through memory and its steps kept as
 * calls were an eighth of the body tokenizer's instructions). */
static bool
tok_next(struct tokenizer *t, char *out, size_t *out_len,
         enum tok_kind *kind)
{
    return tok_scan(t, out, out_len, kind, 0, NULL, NULL);
}

/* ---- words ---------------------------------------------------------- */

/* Tokens that only mark where a corpus came from (see the top comment). */
static bool
is_artifact_token(const char *p, size_t len)
{
    return (len == 11 && memcmp(p, "rodrigo-f-p", 11) == 0) ||
           (len == 12 && memcmp(p, "phishing@pot", 12) == 0);
}

/* Token text as it enters the feature: placeholders for the kinds that are
 * not words. */
static void
token_view(const char *tok, size_t len, enum tok_kind kind, const char **p,
           size_t *plen)
{
    *p = "<?>";
    *plen = 3;
    switch (kind) {
    case TOK_WORD:
    case TOK_CJK:
        *p = tok;
        *plen = len;
        return;
    case TOK_EMAIL:
        *p = "<email>";
        *plen = sizeof("<email>") - 1u;
        return;
    case TOK_URL:
        *p = "<url>";
        *plen = sizeof("<url>") - 1u;
        return;
    case TOK_LONG:
        *p = "<long>";
        *plen = sizeof("<long>") - 1u;
        return;
    }
}

/*
 * The word a body token adds to the campaign signature (minhash.h): the
 * token's own hash, except that a token holding a digit is "#" and a link
 * or an address is "<u>", so a campaign that varies a number or a link
 * per recipient keeps its shingles.
 */
struct sig_words {
    uint64_t number;
    uint64_t link;
};

static void
sig_words_init(struct sig_words *w)
{
    w->number = hashing_hash64("#", 1, MINHASH_SEED);
    w->link = hashing_hash64("<u>", 3, MINHASH_SEED);
}

static void
sig_add(struct minhash *mh, const struct sig_words *w, uint64_t h,
        enum tok_kind kind, bool has_digit)
{
    if (mh->n_words >= CAPS_FINGERPRINT_WORDS_MAX) {
        return;
    }
    if (kind == TOK_URL || kind == TOK_EMAIL) {
        h = w->link;
    } else if (has_digit) {
        h = w->number;
    }
    minhash_add_word(mh, h);
}

/* Whether (p, n), the bytes between two tokens, holds a blank (any byte
 * >= 0x80 counts: NBSP and the Unicode spaces). */
static bool
gap_has_blank(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t ch = (uint8_t)p[i];

        if (ch >= 0x80 || is_space(ch)) {
            return true;
        }
    }
    return false;
}

/*
 * Body tokens: word features into s (NULL: none emitted) and the
 * campaign signature's words into mh -- one tokenizer pass for both
 * (issue #7: the signature used to scan the text a second time).  For
 * the signature a link is one word with whatever is glued to it (its
 * query "?id=123&u=bob": per-recipient tokens), up to the next blank.
 */
static void
body_words(struct features_scratch *s, const char *text, size_t len,
           struct tok_stats *st, struct minhash *mh)
{
    struct tokenizer t;
    char tok[CAPS_FEATURES_TOKEN_MAX_BYTES + 8];
    size_t tl = 0;
    enum tok_kind kind = TOK_WORD;
    size_t count = 0;
    uint64_t seed = ns_seed(FEATURES_NS_WORD);
    struct sig_words sw;
    size_t prev_end = 0;
    bool in_link = false;
    uint64_t h = 0;
    bool hashed = false;

    if (len > CAPS_FEATURES_TEXT_MAX_BYTES) {
        len = CAPS_FEATURES_TEXT_MAX_BYTES;
    }
    sig_words_init(&sw);
    tok_init(&t, text, len);
    /* Defined bytes past every token: a word is hashed with one masked
     * 8-byte load over its tail (tok has 8 bytes of slack past the
     * longest token). */
    memset(tok, 0, sizeof(tok));
    while (count < CAPS_FEATURES_TOKENS_MAX &&
           tok_scan(&t, tok, &tl, &kind, seed, &h, &hashed)) {
        const char *p;
        size_t pl;
        bool is_glued = in_link && !gap_has_blank(text + prev_end,
                                                  t.start - prev_end);

        prev_end = t.pos;
        if (hashed) {
            /* A plain word with no digit, hashed as it was read: a word
             * of its own text (no placeholder, no artifact: both hold a
             * joiner) and of its own hash in the signature.  Most body
             * tokens; their own short way (issue #7). */
            in_link = is_glued;
            if (tl < 2) {
                continue; /* single letters say nothing */
            }
            count++;
            h = hashing_finish(h, tl);
            if (s != NULL) {
                emit_hash(s, FEATURES_NS_WORD, h, tok, tl);
            }
            if (!is_glued && mh->n_words < CAPS_FINGERPRINT_WORDS_MAX) {
                minhash_add_word(mh, h);
            }
            continue;
        }
        in_link = is_glued || kind == TOK_URL || kind == TOK_EMAIL;
        token_view(tok, tl, kind, &p, &pl);
        if (pl < 2 && kind == TOK_WORD) {
            continue; /* single letters and digits say nothing */
        }
        if (is_artifact_token(tok, tl)) {
            continue;
        }
        count++;
        if (p == tok) {
            h = hashing_hash64_padded(tok, pl, seed);
        } else {
            h = hashing_hash64(p, pl, seed); /* a placeholder */
        }
        if (s != NULL) {
            emit_hash(s, FEATURES_NS_WORD, h, p, pl);
        }
        if (!is_glued) {
            sig_add(mh, &sw, h, kind, t.has_digit);
        }
    }
    *st = t.st;
}

/* The signature of the words in mh; false below FINGERPRINT_MIN_WORDS
 * words or FINGERPRINT_MIN_BINS filled bins (fingerprint.h). */
static bool
sig_finish(const struct minhash *mh, struct fingerprint_sig *sig)
{
    if (mh->n_words < FINGERPRINT_MIN_WORDS ||
        minhash_filled(mh) < FINGERPRINT_MIN_BINS) {
        return false;
    }
    minhash_finish(mh, sig->h);
    return true;
}

bool
features_body_sig(const struct features_scratch *s,
                  struct fingerprint_sig *sig)
{
    return sig_finish(&s->sketch, sig);
}

bool
features_text_sig(const char *text, size_t len, struct fingerprint_sig *sig)
{
    struct minhash mh;
    struct tok_stats st;

    minhash_init(&mh);
    if (text != NULL && len > 0) {
        body_words(NULL, text, len, &st, &mh);
    }
    return sig_finish(&mh, sig);
}

/* ---- subject --------------------------------------------------------- */

/* How many of the len bytes at p lie in lo..hi (< 0x80), and whether
 * one is c: a subject's digits and '$', a host's dots and '-'.  Eight
 * bytes a step while eight are left, the tail byte by byte, never past
 * p + len (issue #7: every subject and link host is looked at). */
static size_t
count_in_and_has(const char *p, size_t len, uint8_t lo, uint8_t hi,
                 uint8_t c, bool *has_c)
{
    size_t n = 0;
    size_t k = 0;

#if TOK_WORD_AT_A_TIME
    uint64_t seen = 0;

    for (; len - k >= 8; k += 8) {
        uint64_t x = swar_load(p + k);

        n += swar_count(swar_in(x, lo, hi));
        seen |= swar_eq(x, c);
    }
    *has_c = seen != 0;
#else
    *has_c = false;
#endif
    for (; k < len; k++) {
        uint8_t byte = (uint8_t)p[k];

        n += byte >= lo && byte <= hi;
        *has_c = *has_c || byte == c;
    }
    return n;
}

static void
subject_features(struct features_scratch *s, const char *subj, size_t len)
{
    struct tokenizer t;
    char tok[CAPS_FEATURES_TOKEN_MAX_BYTES + 8];
    size_t tl = 0;
    enum tok_kind kind = TOK_WORD;
    size_t words = 0;
    size_t digits = 0;
    bool has_dollar = false;
    const char *tag;
    char clean[512];
    size_t cl;

    trim(&subj, &len);
    if (len == 0) {
        emit_str(s, FEATURES_NS_SUBJECT_SHAPE, "empty");
        return;
    }
    /* Drop csdmc2010's "[SPAM]" tag wherever it sits. */
    cl = len < sizeof(clean) ? len : sizeof(clean);
    memcpy(clean, subj, cl);
    while ((tag = ifind(clean, cl, "[spam]")) != NULL) {
        size_t at = (size_t)(tag - clean);

        memmove(clean + at, clean + at + 6, cl - at - 6);
        cl -= 6;
    }
    subj = clean;
    len = cl;
    trim(&subj, &len);
    if (len == 0) {
        emit_str(s, FEATURES_NS_SUBJECT_SHAPE, "empty");
        return;
    }
    if (iprefix(subj, len, "re:") || iprefix(subj, len, "re[") ||
        iprefix(subj, len, "aw:") || iprefix(subj, len, "sv:")) {
        emit_str(s, FEATURES_NS_SUBJECT_SHAPE, "reply");
    } else if (iprefix(subj, len, "fw:") || iprefix(subj, len, "fwd:") ||
               iprefix(subj, len, "wg:") || iprefix(subj, len, "tr:")) {
        emit_str(s, FEATURES_NS_SUBJECT_SHAPE, "forward");
    }
    digits = count_in_and_has(subj, len, '0', '9', '$', &has_dollar);
    tok_init(&t, subj, len);
    while (tok_next(&t, tok, &tl, &kind)) {
        const char *p;
        size_t pl;
        uint64_t h;

        token_view(tok, tl, kind, &p, &pl);
        if (is_artifact_token(tok, tl)) {
            continue;
        }
        words++;
        h = hashing_hash64(p, pl, ns_seed(FEATURES_NS_SUBJECT));
        emit_hash(s, FEATURES_NS_SUBJECT, h, p, pl);
    }
    emit_bucket(s, FEATURES_NS_SUBJECT_SHAPE, "words:",
                log2_bucket(words, 5));
    if (t.st.ascii_letters >= 8) {
        size_t pct = t.st.ascii_upper * 100 / t.st.ascii_letters;

        emit_bucket(s, FEATURES_NS_SUBJECT_SHAPE, "caps:",
                    pct >= 90 ? 3 : pct >= 50 ? 2 : pct >= 25 ? 1 : 0);
    }
    if (t.st.excl > 0) {
        emit_bucket(s, FEATURES_NS_SUBJECT_SHAPE, "excl:",
                    t.st.excl >= 3 ? 3 : (unsigned)t.st.excl);
    }
    if (has_dollar) {
        emit_str(s, FEATURES_NS_SUBJECT_SHAPE, "dollar");
    }
    if (digits >= 6) {
        emit_str(s, FEATURES_NS_SUBJECT_SHAPE, "many-digits");
    }
    if (t.st.zero_width > 0) {
        emit_str(s, FEATURES_NS_SUBJECT_SHAPE, "zero-width");
    }
    if (t.st.mixed_script_tokens > 0) {
        emit_str(s, FEATURES_NS_SUBJECT_SHAPE, "mixed-script");
    }
    if (t.st.cyrillic + t.st.greek + t.st.cjk + t.st.arabic_hebrew +
            t.st.other_script >
        0) {
        emit_str(s, FEATURES_NS_SUBJECT_SHAPE, "non-latin");
    }
}

/* ---- addresses and domains ------------------------------------------- */

struct addr {
    const char *name; /* display name (quotes removed), may be empty */
    size_t name_len;
    const char *addr; /* address, may be empty */
    size_t addr_len;
};

/* The last '<' of v, or NULL: the mailbox follows it even when the
 * display name shows another address ("PayPal <pp@paypal.com>"
 * <x@evil.tk>), as in the rules (rules_angle_addr_offset). */
static const char *
last_lt(const char *v, size_t len)
{
    /* memchr forward: nearly every value has one '<' or none, and a
     * byte-by-byte walk back over a long Message-ID cost more. */
    const char *lt = memchr(v, '<', len);
    const char *next;

    while (lt != NULL &&
           (next = memchr(lt + 1, '<', len - (size_t)(lt + 1 - v))) != NULL) {
        lt = next;
    }
    return lt;
}

/* Split "Name <a@b>", "a@b (Name)" or "a@b" (one mailbox, lenient). */
static void
addr_split(const char *v, size_t len, struct addr *out)
{
    const char *lt = last_lt(v, len);

    memset(out, 0, sizeof(*out));
    out->name = "";
    out->addr = "";
    if (lt != NULL) {
        const char *gt = memchr(lt, '>', len - (size_t)(lt - v));
        size_t nl = (size_t)(lt - v);
        const char *n = v;

        out->addr = lt + 1;
        out->addr_len = gt != NULL ? (size_t)(gt - lt - 1)
                                   : len - (size_t)(lt - v) - 1;
        trim(&n, &nl);
        while (nl > 0 && (n[0] == '"' || n[0] == '\'')) {
            n++;
            nl--;
        }
        while (nl > 0 && (n[nl - 1] == '"' || n[nl - 1] == '\'')) {
            nl--;
        }
        trim(&n, &nl);
        out->name = n;
        out->name_len = nl;
    } else {
        const char *lp = memchr(v, '(', len);
        size_t al = lp != NULL ? (size_t)(lp - v) : len;
        const char *a = v;

        if (lp != NULL) {
            const char *rp = memchr(lp, ')', len - (size_t)(lp - v));

            out->name = lp + 1;
            out->name_len = rp != NULL ? (size_t)(rp - lp - 1)
                                       : len - (size_t)(lp - v) - 1;
            trim(&a, &al);
            /* "(PayPal) x@evil.example": the comment comes first (RFC
             * 5322 CFWS) and the address after it, up to another one. */
            if (al == 0 && rp != NULL) {
                const char *lp2;

                a = rp + 1;
                al = len - (size_t)(a - v);
                lp2 = memchr(a, '(', al);
                if (lp2 != NULL) {
                    al = (size_t)(lp2 - a);
                }
            }
        }
        trim(&a, &al);
        out->addr = a;
        out->addr_len = al;
    }
    trim(&out->addr, &out->addr_len);
}

/* addr_split on header h: the display name from the decoded value, the
 * address from the text mime_header_addr_text picks (an encoded word
 * decoding to "<dse@bank.example>" after the real address is not where
 * the mail comes from). */
static void
header_addr_split(const struct mime_header *h, struct addr *out)
{
    const char *v;
    size_t vl;
    struct addr raw;

    addr_split(h->value, h->value_len, out);
    mime_header_addr_text(h, &v, &vl);
    if (v != h->value) {
        addr_split(v, vl, &raw);
        out->addr = raw.addr;
        out->addr_len = raw.addr_len;
    }
}

/* Lower-case domain of an address into dst; 0 when there is none. */
static size_t
addr_domain(const char *a, size_t len, char *dst, size_t cap)
{
    const char *at = NULL;
    size_t dl;

    /* The last '@', from the end: only the domain is walked. */
    for (size_t i = len; i > 0; i--) {
        if (a[i - 1] == '@') {
            at = a + i - 1;
            break;
        }
    }
    if (at == NULL) {
        return 0;
    }
    dl = len - (size_t)(at - a) - 1;
    while (dl > 0 && (at[dl] == '.' || at[dl] == '>' || at[dl] == ' ')) {
        dl--;
    }
    if (dl == 0 || dl >= cap) {
        return 0;
    }
    dl = lower_copy(dst, cap, at + 1, dl);
    for (size_t i = 0; i < dl; i++) {
        uint8_t c = (uint8_t)dst[i];

        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '-' || c >= 0x80)) {
            return 0;
        }
    }
    /* An IDN domain by its ASCII name, as link hosts are: one sender
     * domain however the address spells it. */
    return url_host_to_ascii(dst, dl, cap);
}

size_t
features_address_domain(const char *value, size_t len, char *dst, size_t cap)
{
    struct addr a;

    addr_split(value, len, &a);
    return addr_domain(a.addr, a.addr_len, dst, cap);
}

/* Registered domain of a lower-case host as a view into it. */
static size_t
reg_domain(const char *host, size_t len, const char **out)
{
    if (len == 0) {
        *out = host;
        return 0;
    }
    return url_registered_domain(host, len, out);
}

/* Domains rewritten by a corpus's makers: no feature may name them. */
static bool
is_artifact_domain(const char *d, size_t len)
{
    /* The length first: this runs for every host and domain. */
    return (len == 12 && ieq(d, len, "csmining.org")) ||
           (len == 3 && ieq(d, len, "pot"));
}

/* Relation of two registered domains (either may be empty). */
static void
emit_relation(struct features_scratch *s, const char *what, const char *a,
              size_t alen, const char *b, size_t blen)
{
    char name[64];
    size_t wl = strlen(what);
    const char *rel;
    size_t rl;

    if (alen == 0 || blen == 0) {
        rel = alen == 0 && blen == 0 ? ":none" : ":missing";
    } else if (alen == blen && memcmp(a, b, alen) == 0) {
        rel = ":same";
    } else {
        rel = ":diff";
    }
    rl = strlen(rel);
    if (wl + rl >= sizeof(name)) {
        return;
    }
    memcpy(name, what, wl);
    memcpy(name + wl, rel, rl);
    emit(s, FEATURES_NS_HEADER, name, wl + rl);
}

static const struct mime_header *
find_header(const struct mime_doc *doc, const char *name)
{
    /* mime's name index (seven lookups per message each passed every
     * header, issue #7); the first header of the name, if within the
     * first CAPS_FEATURES_HEADERS_MAX. */
    const struct mime_header *h = mime_header_find(doc, name);

    if (h != NULL &&
        (size_t)(h - doc->headers) >= CAPS_FEATURES_HEADERS_MAX) {
        return NULL;
    }
    return h;
}

static void
name_words(struct features_scratch *s, const char *p, size_t len)
{
    struct tokenizer t;
    char tok[CAPS_FEATURES_TOKEN_MAX_BYTES + 8];
    size_t tl = 0;
    enum tok_kind kind = TOK_WORD;
    size_t n = 0;

    tok_init(&t, p, len);
    while (n < 8 && tok_next(&t, tok, &tl, &kind)) {
        const char *v;
        size_t vl;

        if (is_artifact_token(tok, tl)) {
            continue;
        }
        token_view(tok, tl, kind, &v, &vl);
        emit(s, FEATURES_NS_FROM_NAME, v, vl);
        n++;
    }
}

/* The From address's registered domain and top-level domain (dl bytes of
 * from_dom, lower-cased); its registered domain into reg. */
static void
from_domain_features(struct features_scratch *s, const char *from_dom,
                     size_t dl, const char **reg, size_t *rl)
{
    const char *tld = from_dom;

    *rl = reg_domain(from_dom, dl, reg);
    for (size_t i = 0; i < dl; i++) {
        if (from_dom[i] == '.') {
            tld = from_dom + i + 1;
        }
    }
    if (!is_artifact_domain(*reg, *rl)) {
        emit(s, FEATURES_NS_FROM_DOMAIN, *reg, *rl);
        emit_kv(s, FEATURES_NS_FROM, "tld:", tld,
                dl - (size_t)(tld - from_dom));
    }
}

/* Local part shape: random-looking senders carry many digits; role
 * addresses (noreply, support, ...). */
static void
from_local_features(struct features_scratch *s, const char *addr,
                    size_t addr_len)
{
    static const char *const roles[] = {
        "noreply", "no-reply", "no_reply", "donotreply", "support",
        "info", "service", "admin", "security", "news", "newsletter",
        "account", "billing", "alert", "notification", "team",
        "webmaster", "help", "sales", "marketing", "contact", "mail"};
    size_t digits = 0;
    size_t local = 0;
    bool has_sep = false;

    while (local < addr_len && addr[local] != '@') {
        digits += addr[local] >= '0' && addr[local] <= '9';
        has_sep |= addr[local] == '.' || addr[local] == '_' ||
                   addr[local] == '-';
        local++;
    }
    emit_bucket(s, FEATURES_NS_FROM, "local-digits:",
                digits >= 5 ? 3 : digits >= 3 ? 2 : digits > 0 ? 1 : 0);
    emit_bucket(s, FEATURES_NS_FROM, "local-len:",
                local > 20 ? 3 : local > 12 ? 2 : local > 6 ? 1 : 0);
    if (has_sep) {
        emit_str(s, FEATURES_NS_FROM, "local-sep");
    }
    for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
        /* The first byte rejects nearly every name. */
        if (local > 0 && lower((uint8_t)addr[0]) == roles[i][0] &&
            ieq(addr, local, roles[i])) {
            emit_kv(s, FEATURES_NS_FROM, "role:", roles[i],
                    strlen(roles[i]));
        }
    }
}

/* The display name: its words, an address written into it (and how its
 * domain relates to the sender's registered domain reg), the address
 * repeated as the name, all capitals, mixed scripts. */
static void
from_name_features(struct features_scratch *s, const struct addr *a,
                   const char *reg, size_t rl)
{
    const char *at = memchr(a->name, '@', a->name_len);
    char tmp[256];
    struct tokenizer t;
    char tok[CAPS_FEATURES_TOKEN_MAX_BYTES + 8];
    size_t tl = 0;
    enum tok_kind kind = TOK_WORD;

    name_words(s, a->name, a->name_len);
    if (at != NULL) {
        char nd[256];
        size_t ndl = addr_domain(a->name, a->name_len, nd, sizeof(nd));
        const char *nreg = "";
        size_t nrl = 0;

        emit_str(s, FEATURES_NS_FROM, "name-has-address");
        if (ndl > 0) {
            nrl = reg_domain(nd, ndl, &nreg);
            emit_relation(s, "name-addr-domain", nreg, nrl, reg, rl);
        }
    }
    if (a->addr_len > 0 && a->addr_len < sizeof(tmp) &&
        a->name_len == a->addr_len &&
        (lower_copy(tmp, sizeof(tmp), a->addr, a->addr_len),
         ieq(a->name, a->name_len, tmp))) {
        emit_str(s, FEATURES_NS_FROM, "name-is-address");
    }
    tok_init(&t, a->name, a->name_len);
    while (tok_next(&t, tok, &tl, &kind)) {
    }
    if (t.st.ascii_letters >= 6 &&
        t.st.ascii_upper * 10 >= t.st.ascii_letters * 9) {
        emit_str(s, FEATURES_NS_FROM, "name-caps");
    }
    if (t.st.mixed_script_tokens > 0) {
        emit_str(s, FEATURES_NS_FROM, "name-mixed-script");
    }
}

static void
from_features(struct features_scratch *s, const struct mime_doc *doc,
              const struct envelope *env, const char **from_reg,
              size_t *from_reg_len, char *from_dom, size_t from_dom_cap)
{
    const struct mime_header *h = find_header(doc, "From");
    struct addr a;
    size_t dl;
    const char *reg = "";
    size_t rl = 0;

    *from_reg = "";
    *from_reg_len = 0;
    if (h == NULL) {
        emit_str(s, FEATURES_NS_FROM, "missing");
        return;
    }
    header_addr_split(h, &a);
    dl = addr_domain(a.addr, a.addr_len, from_dom, from_dom_cap);
    if (dl == 0) {
        emit_str(s, FEATURES_NS_FROM, "no-domain");
    } else {
        from_domain_features(s, from_dom, dl, &reg, &rl);
        *from_reg = reg;
        *from_reg_len = rl;
    }
    from_local_features(s, a.addr, a.addr_len);
    if (a.name_len == 0) {
        emit_str(s, FEATURES_NS_FROM, "no-name");
    } else {
        from_name_features(s, &a, reg, rl);
    }
    /* No Return-Path relation: in the corpus it mostly tells list mail
     * (bounce address at the list) from the rest, a stand-in for "ham"
     * that does not hold for other mail. */
    (void)env;
}

/* ---- other header facts ---------------------------------------------- */

static void
mailer_features(struct features_scratch *s, const struct mime_header *h)
{
    struct tokenizer t;
    char tok[CAPS_FEATURES_TOKEN_MAX_BYTES + 8];
    size_t tl = 0;
    enum tok_kind kind = TOK_WORD;
    size_t n = 0;

    tok_init(&t, h->value, h->value_len);
    while (n < 8 && tok_next(&t, tok, &tl, &kind)) {
        bool alpha = tl >= 3;

        /* Product words only: versions and build numbers vary per
         * release and would split one product into many features. */
        for (size_t i = 0; i < tl && alpha; i++) {
            uint8_t c = (uint8_t)tok[i];

            alpha = (c >= 'a' && c <= 'z') || c == '-' || c >= 0x80;
        }
        if (alpha && kind == TOK_WORD) {
            emit(s, FEATURES_NS_MAILER, tok, tl);
            n++;
        }
    }
}

/* One field with a role (hdrname.h; name lower-cased, nl bytes): a
 * sender-side field's presence, bulk markers (*bulk set for list markers
 * and a bulk, list or junk Precedence), the mailer, X-Priority. */
static void
header_field_features(struct features_scratch *s,
                      const struct mime_header *h, unsigned roles,
                      const char *name, size_t nl, bool *bulk)
{
    if (roles & HDRNAME_SENDER) {
        emit_kv(s, FEATURES_NS_HEADER, "h:", name, nl);
    }
    if (roles & HDRNAME_BULK) {
        emit_kv(s, FEATURES_NS_BULK, "h:", name, nl);
        *bulk |= (roles & HDRNAME_BULK_LIST) != 0;
    }
    if (roles & HDRNAME_PRECEDENCE) {
        const char *v = h->value;
        size_t vl = h->value_len;
        char lv[16];

        trim(&v, &vl);
        if (vl > 0 && vl < sizeof(lv)) {
            vl = lower_copy(lv, sizeof(lv), v, vl);
            if (strcmp(lv, "bulk") == 0 || strcmp(lv, "list") == 0 ||
                strcmp(lv, "junk") == 0) {
                emit_kv(s, FEATURES_NS_BULK, "precedence:", lv, vl);
                *bulk = true;
            }
        }
    }
    if (roles & HDRNAME_MAILER) {
        mailer_features(s, h);
    }
    if ((roles & HDRNAME_PRIORITY) && h->value_len > 0) {
        const char *v = h->value;
        size_t vl = h->value_len;

        trim(&v, &vl);
        if (vl > 0 && v[0] >= '1' && v[0] <= '5') {
            emit_kv(s, FEATURES_NS_HEADER, "x-priority:", v, 1);
        }
    }
}

/* A Message-ID without a domain.  (Whether its domain matches From's says
 * more about the sending infrastructure -- lists, hosted mail -- than
 * about spam.) */
static void
message_id_features(struct features_scratch *s, const struct mime_doc *doc)
{
    const struct mime_header *m = find_header(doc, "Message-ID");
    struct addr a;
    char dom[256];

    addr_split(m->value, m->value_len, &a);
    if (addr_domain(a.addr, a.addr_len, dom, sizeof(dom)) == 0) {
        emit_str(s, FEATURES_NS_HEADER, "message-id:malformed");
    }
}

/* How the Reply-To address's registered domain relates to From's. */
static void
reply_to_features(struct features_scratch *s, const struct mime_header *r,
                  const char *from_reg, size_t from_reg_len)
{
    struct addr a;
    char dom[256];
    size_t dl;
    const char *reg = "";
    size_t rl = 0;

    header_addr_split(r, &a);
    dl = addr_domain(a.addr, a.addr_len, dom, sizeof(dom));
    if (dl > 0) {
        rl = reg_domain(dom, dl, &reg);
    }
    emit_relation(s, "reply-to", reg, rl, from_reg, from_reg_len);
}

/* A reply ("Re:", "Aw:") without In-Reply-To or References, or a message
 * that has them. */
static void
thread_features(struct features_scratch *s, const struct mime_doc *doc,
                bool has_refs)
{
    const char *subj = doc->subject != NULL ? doc->subject : "";
    size_t sl = strlen(subj);
    bool reply;

    trim(&subj, &sl);
    reply = iprefix(subj, sl, "re:") || iprefix(subj, sl, "aw:");
    if (reply && !has_refs) {
        emit_str(s, FEATURES_NS_HEADER, "reply-without-references");
    } else if (has_refs) {
        emit_str(s, FEATURES_NS_HEADER, "has-references");
    }
}

static void
header_features(struct features_scratch *s, const struct mime_doc *doc,
                const char *from_reg, size_t from_reg_len)
{
    size_t n = doc->n_headers < CAPS_FEATURES_HEADERS_MAX
                   ? doc->n_headers
                   : CAPS_FEATURES_HEADERS_MAX;
    const struct mime_header *reply_to;
    bool has_date = false;
    bool has_msgid = false;
    bool has_refs = false;
    bool bulk = false;

    for (size_t i = 0; i < n; i++) {
        const struct mime_header *h = &doc->headers[i];
        char name[64];
        size_t nl;
        unsigned roles;

        if (h->name_len == 0 || h->name_len >= sizeof(name)) {
            continue;
        }
        /* Which fields count (sender-side, bulk markers) is in hdrname.c:
         * one lookup instead of a strcmp per listed name, on the name as
         * written; only a field with a role is lower-cased. */
        roles = hdrname_roles_ci(h->name, h->name_len);
        if (roles == 0) {
            continue;
        }
        nl = lower_copy(name, sizeof(name), h->name, h->name_len);
        has_date |= (roles & HDRNAME_DATE) != 0;
        has_msgid |= (roles & HDRNAME_MESSAGE_ID) != 0;
        has_refs |= (roles & HDRNAME_THREAD) != 0;
        header_field_features(s, h, roles, name, nl, &bulk);
    }
    if (bulk) {
        s->flags |= FEATURES_HAS_BULK_MARKERS;
    }
    if (!has_date) {
        emit_str(s, FEATURES_NS_HEADER, "date:missing");
    }
    if (!has_msgid) {
        emit_str(s, FEATURES_NS_HEADER, "message-id:missing");
    } else {
        message_id_features(s, doc);
    }
    reply_to = find_header(doc, "Reply-To");
    if (reply_to != NULL) {
        reply_to_features(s, reply_to, from_reg, from_reg_len);
    }
    thread_features(s, doc, has_refs);
}

/* ---- MIME structure ---------------------------------------------------- */

static size_t
file_ext(const char *name, size_t len, const char **ext)
{
    while (len > 0 && (name[len - 1] == ' ' || name[len - 1] == '.')) {
        len--;
    }
    /* The last dot, looked for in the last 9 bytes only: one further
     * back would make an extension over 8 bytes, none (issue #7: every
     * URL path was walked from its start). */
    for (size_t i = len; i > 0 && len - i <= 8; i--) {
        if (name[i - 1] == '.') {
            *ext = name + i;
            return len - i;
        }
    }
    return 0;
}

bool
features_is_dangerous_name(const char *name, size_t len)
{
    static const char *const exts[] = {
        "exe", "scr", "pif", "com", "bat", "cmd", "js",  "jse", "vbs", "vbe",
        "jar", "wsf", "wsh", "hta", "lnk", "iso", "img", "msi", "cpl", "ps1",
        "reg", "vhd", "vhdx", "xll", "one", "appx", "msix"};
    const char *ext = NULL;
    size_t el = file_ext(name, len, &ext);

    if (el == 0) {
        return false;
    }
    for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
        if (ieq(ext, el, exts[i])) {
            return true;
        }
    }
    return false;
}

/* "x.pdf.exe", "invoice.doc   .scr": a harmless-looking inner extension. */
static bool
is_double_ext(const char *name, size_t len)
{
    const char *ext = NULL;
    size_t el = file_ext(name, len, &ext);
    const char *inner = NULL;
    size_t il;

    if (el == 0) {
        return false;
    }
    il = file_ext(name, (size_t)(ext - name - 1), &inner);
    return il >= 2 && il <= 4;
}

/* The parse's flags (hidden text, forms, scripts, bad encodings, ...)
 * and which text kinds the message has. */
static void
mime_flag_features(struct features_scratch *s, const struct mime_doc *doc)
{
    static const struct {
        unsigned bit;
        const char *name;
    } flags[] = {
        {MIME_HTML_HIDDEN_TEXT, "hidden-text"},
        {MIME_HTML_HAS_FORM, "form"},
        {MIME_HTML_HAS_PASSWORD, "password"},
        {MIME_HTML_HAS_SCRIPT, "script"},
        {MIME_HTML_HAS_IMAGES, "images"},
        {MIME_BAD_BASE64, "bad-base64"},
        {MIME_BAD_QP, "bad-qp"},
        {MIME_UNKNOWN_CHARSET, "unknown-charset"},
        {MIME_BAD_CHARSET_BYTES, "bad-charset-bytes"},
        {MIME_NO_CLOSING_BOUNDARY, "no-closing-boundary"},
        {MIME_RAW_8BIT_HEADERS, "raw-8bit-headers"},
        {MIME_ENCODED_WORDS, "encoded-words"},
    };

    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
        if ((doc->flags & flags[i].bit) != 0) {
            emit_kv(s, FEATURES_NS_MIME, "flag:", flags[i].name,
                    strlen(flags[i].name));
        }
    }
    if ((doc->flags & MIME_HAS_HTML) != 0 &&
        (doc->flags & MIME_HAS_PLAIN) == 0) {
        emit_str(s, FEATURES_NS_MIME, "html-only");
    } else if ((doc->flags & MIME_HAS_HTML) != 0) {
        emit_str(s, FEATURES_NS_MIME, "html-and-plain");
    } else if ((doc->flags & MIME_HAS_PLAIN) != 0) {
        emit_str(s, FEATURES_NS_MIME, "plain-only");
    }
}

/* The top Content-Type (text/plain when there is none), lower-cased into
 * top (at most 64 bytes); its length. */
static size_t
mime_top_type(const struct mime_doc *doc, char top[64])
{
    const struct mime_header *ct = find_header(doc, "Content-Type");
    const char *v = "text/plain";
    size_t vl = strlen(v);

    if (ct != NULL) {
        v = ct->value;
        vl = 0;
        while (vl < ct->value_len && v[vl] != ';' && !is_space(v[vl])) {
            vl++;
        }
    }
    return lower_copy(top, 64, v, vl);
}

/* An attachment (or a part with a file name) of type t: its type,
 * extension, a dangerous name, a double extension. */
/* A part's name (or its second name, mime.h other_filename: a client may
 * save the part under it) that is dangerous: the flag rules reads and
 * the feature.  The second name adds nothing else, so a part named twice
 * harmlessly reads as before. */
static void
mime_dangerous_name_features(struct features_scratch *s, const char *fn,
                             size_t fl)
{
    if (features_is_dangerous_name(fn, fl)) {
        s->flags |= FEATURES_DANGEROUS_ATTACHMENT;
        emit_str(s, FEATURES_NS_MIME, "att-dangerous");
    }
}

static void
mime_attachment_features(struct features_scratch *s, const char *t,
                         size_t tl, const char *fn, size_t fl)
{
    const char *ext = NULL;
    size_t el = file_ext(fn, fl, &ext);

    emit_kv(s, FEATURES_NS_MIME, "att-ct:", t, tl);
    if (el > 0) {
        char le[16];
        size_t ll = lower_copy(le, sizeof(le), ext, el);

        emit_kv(s, FEATURES_NS_MIME, "att-ext:", le, ll);
    } else if (fl > 0) {
        emit_str(s, FEATURES_NS_MIME, "att-no-ext");
    }
    mime_dangerous_name_features(s, fn, fl);
    if (is_double_ext(fn, fl)) {
        emit_str(s, FEATURES_NS_MIME, "att-double-ext");
    }
}

static void
mime_features(struct features_scratch *s, const struct mime_doc *doc)
{
    char st[FEATURES_TEXT_BUF];
    size_t sl;
    char top[64];
    size_t n_att = 0;
    size_t n_img = 0;
    size_t nparts = doc->n_parts < 64 ? doc->n_parts : 64;

    mime_flag_features(s, doc);
    /* Structure string: the top type, then up to six leaves with their
     * depth ("multipart/alternative|1text/plain,1text/html"). */
    sl = mime_top_type(doc, top);
    emit_kv(s, FEATURES_NS_MIME, "top:", top, sl);
    memcpy(st, top, sl);
    st[sl++] = '|';
    for (size_t i = 0; i < nparts; i++) {
        const struct mime_part *p = &doc->parts[i];
        const char *t = p->content_type != NULL ? p->content_type : "";
        size_t tl = strlen(t);
        const char *fn = p->filename != NULL ? p->filename : "";
        size_t fl = strlen(fn);

        if (i < 6 && sl + tl + 4 < sizeof(st)) {
            st[sl++] = (char)('0' + (p->depth > 9 ? 9 : p->depth));
            memcpy(st + sl, t, tl);
            sl += tl;
            if (p->is_attachment) {
                st[sl++] = '@';
            }
            st[sl++] = ',';
        }
        if (p->charset != NULL && p->charset[0] != '\0') {
            emit_kv(s, FEATURES_NS_MIME, "cs:", p->charset,
                    strlen(p->charset));
        }
        if (strncmp(t, "image/", 6) == 0) {
            n_img++;
        }
        if (p->is_attachment || fl > 0) {
            const char *other = p->other_filename != NULL
                                    ? p->other_filename
                                    : "";

            n_att++;
            mime_attachment_features(s, t, tl, fn, fl);
            mime_dangerous_name_features(s, other, strlen(other));
        } else {
            emit_kv(s, FEATURES_NS_MIME, "leaf:", t, tl);
        }
    }
    emit(s, FEATURES_NS_MIME, st, sl);
    emit_bucket(s, FEATURES_NS_MIME, "parts:", log2_bucket(doc->n_parts, 5));
    emit_bucket(s, FEATURES_NS_MIME, "attachments:", log2_bucket(n_att, 3));
    emit_bucket(s, FEATURES_NS_MIME, "images:", log2_bucket(n_img, 3));
    emit_bucket(s, FEATURES_NS_MIME, "depth:",
                doc->max_depth > 3 ? 3 : doc->max_depth);
}

/* ---- URLs ------------------------------------------------------------ */

/* Letter-only words (3..20) of a URL's path and query ("unsubscribe",
 * "login", "verify", "track"): what the link does, not where it goes. */
static void
url_path_words(struct features_scratch *s, const char *p, size_t len)
{
    size_t i = 0;
    size_t n = 0;

    while (i < len && n < 8) {
        size_t j = i;
        char w[24];
        size_t wl = 0;

        while (j < len && ((p[j] | 0x20) >= 'a' && (p[j] | 0x20) <= 'z')) {
            if (wl < sizeof(w)) {
                w[wl] = (char)(p[j] | 0x20);
            }
            wl++;
            j++;
        }
        if (wl >= 3 && wl <= 20) {
            emit(s, FEATURES_NS_URL_PATH, w, wl);
            n++;
        }
        i = j + 1;
    }
}

/* A last label that is a file type, not a TLD a reader would take for
 * one: link text "Q3 Report.docx" or "index.html" names a file (a
 * shared document's link), not a site.  "zip" and "mov" are TLDs too,
 * but in link text a file. */
static bool
is_file_type_label(const char *p, size_t len)
{
    static const char *const exts[] = {
        "pdf", "doc",  "docx", "docm", "xls", "xlsx", "xlsm", "csv",
        "ppt", "pptx", "odt",  "ods",  "odp", "rtf",  "txt",  "htm",
        "html", "shtml", "php", "asp", "aspx", "jsp", "xml",  "json",
        "jpg", "jpeg", "png",  "gif",  "bmp", "tif",  "tiff", "svg",
        "webp", "heic", "mp3", "wav",  "avi", "mov",  "wmv",  "mkv",
        "eml", "msg",  "ics",  "vcf",  "zip", "rar",  "gz",   "tgz",
        "exe", "msi",  "dmg",  "apk",  "js",  "css",  "log"};

    for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
        if (ieq(p, len, exts[i])) {
            return true;
        }
    }
    return false;
}

/* The text (len bytes) with its fullwidth forms (U+FF01..FF5E) and
 * ideographic full stops (U+3002, U+FF61) written as the ASCII they show
 * into out (cap bytes; it never grows), the rest as it is; its length.
 * Link text "\uff50\uff41\uff59\uff50\uff41\uff4c.com" reads as
 * paypal.com, as a browser reads such a host. */
static size_t
fold_fullwidth(const char *text, size_t len, char *out, size_t cap)
{
    size_t o = 0;

    for (size_t i = 0; i < len && o < cap;) {
        uint32_t cp;
        size_t k = utf8_decode((const uint8_t *)text + i, len - i, &cp);

        if (cp >= 0xff01 && cp <= 0xff5e) {
            out[o++] = (char)(cp - 0xfee0u);
        } else if (cp == 0x3002 || cp == 0xff61) {
            out[o++] = '.';
        } else if (o + k <= cap) {
            memcpy(out + o, text + i, k);
            o += k;
        } else {
            break;
        }
        i += k;
    }
    return o;
}

/* A word of link text that reads as a host name into host (cap bytes,
 * NUL-terminated): [a-z0-9-] labels, a dot, a last label of two or more
 * letters that is no file type.  A word with other letters is read by
 * the ASCII name a browser resolves for it ("p\u0430ypal.com" with a
 * Cyrillic a is xn--pypal-4ve.com), as url_host reads a link's host.
 * Its length, 0 when it is none. */
static size_t
anchor_word_host(const char *tok, size_t tl, char *host, size_t cap)
{
    const char *dot = NULL;
    size_t tld;
    size_t hl;

    for (size_t i = 0; i < tl; i++) {
        dot = tok[i] == '.' ? tok + i : dot;
    }
    /* The last label first: it is ASCII in every host this takes, so
     * only such a word is worth converting (libidn2 allocates). */
    if (dot == NULL || tl >= cap) {
        return 0;
    }
    tld = (size_t)(tok + tl - dot - 1);
    for (size_t i = 0; i < tld; i++) {
        if (dot[1 + i] < 'a' || dot[1 + i] > 'z') {
            return 0;
        }
    }
    if (tld < 2 || is_file_type_label(dot + 1, tld)) {
        return 0;
    }
    memcpy(host, tok, tl);
    host[tl] = '\0';
    hl = url_host_to_ascii(host, tl, cap);
    for (size_t i = 0; i < hl; i++) {
        char c = host[i];

        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
              c == '.')) {
            return 0;
        }
    }
    return hl;
}

/* A domain-looking word in link text ("www.paypal.com", "paypal.com/x"):
 * its registered domain into dst, 0 when the text shows none; *addr
 * holds the whole address when it came from one (else ""). */
static size_t
anchor_domain(const char *text, size_t len, char *dst, size_t cap,
              char *addr, size_t addr_cap)
{
    size_t pos = 0;
    size_t start = 0;
    size_t ul = 0;
    unsigned fl = 0;
    char host[256];
    size_t hl;
    const char *reg = "";
    size_t rl;
    char folded[MIME_ANCHOR_MAX_BYTES];

    addr[0] = '\0';
    if (memchr(text, 0xef, len) != NULL || memchr(text, 0xe3, len) != NULL) {
        len = fold_fullwidth(text, len, folded, sizeof(folded));
        text = folded;
    }
    if (url_find(text, len, &pos, &start, &ul)) {
        hl = url_host(text + start, ul, host, sizeof(host), &fl);
    } else {
        /* "paypal.com" without a scheme: the first token with a dot and a
         * letter-only last label, or the domain of an address. */
        struct tokenizer t;
        char tok[CAPS_FEATURES_TOKEN_MAX_BYTES + 8];
        size_t tl = 0;
        enum tok_kind kind = TOK_WORD;

        hl = 0;
        tok_init(&t, text, len);
        while (hl == 0 && tok_next(&t, tok, &tl, &kind)) {
            size_t at = tl;

            /* An address shows its domain ("service@paypal.com"). */
            while (kind == TOK_EMAIL && at > 0 && tok[at - 1] != '@') {
                at--;
            }
            if (kind == TOK_EMAIL && at > 0) {
                hl = anchor_word_host(tok + at, tl - at, host, sizeof(host));
                if (hl > 0 && tl < addr_cap) {
                    memcpy(addr, tok, tl);
                    addr[tl] = '\0';
                }
            } else if (kind == TOK_WORD) {
                hl = anchor_word_host(tok, tl, host, sizeof(host));
            }
        }
    }
    if (hl == 0) {
        return 0;
    }
    rl = reg_domain(host, hl, &reg);
    if (rl == 0 || rl >= cap) {
        return 0;
    }
    memcpy(dst, reg, rl);
    return rl;
}

/* What a URL's host flags say: an IP or odd IP, userinfo, a port, a
 * percent-encoded host. */
static void
url_flag_features(struct features_scratch *s, unsigned fl)
{
    if ((fl & URL_IS_IP) != 0) {
        emit_str(s, FEATURES_NS_URL, "ip-host");
    }
    if ((fl & URL_IS_ODD_IP) != 0) {
        emit_str(s, FEATURES_NS_URL, "odd-ip");
    }
    if ((fl & URL_HAS_USERINFO) != 0) {
        emit_str(s, FEATURES_NS_URL, "userinfo");
    }
    if ((fl & URL_HAS_PORT) != 0) {
        emit_str(s, FEATURES_NS_URL, "port");
    }
    if ((fl & URL_PCT_HOST) != 0) {
        emit_str(s, FEATURES_NS_URL, "pct-host");
    }
}

/* A named host: the host and its registered domain, punycode, a link
 * shortener, a deep host, the top-level domain. */
static void
url_name_features(struct features_scratch *s, const char *host, size_t hl,
                  const char *reg, size_t rl)
{
    const char *tld = reg;
    size_t dots;
    bool dash = false;

    emit(s, FEATURES_NS_URL_HOST, host, hl);
    emit(s, FEATURES_NS_URL_DOMAIN, reg, rl);
    dots = count_in_and_has(host, hl, '.', '.', '-', &dash);
    /* No '-', no "xn--": most hosts are not searched. */
    if (dash && ifind(host, hl, "xn--") != NULL) {
        emit_str(s, FEATURES_NS_URL, "punycode");
    }
    if (url_is_shortener(reg, rl)) {
        emit_str(s, FEATURES_NS_URL, "shortener");
    }
    if (dots >= 4) {
        emit_str(s, FEATURES_NS_URL, "deep-host");
    }
    /* The last label: from the end back to its dot, not a walk over
     * the whole name. */
    for (size_t k = rl; k > 0; k--) {
        if (reg[k - 1] == '.') {
            tld = reg + k;
            break;
        }
    }
    emit_kv(s, FEATURES_NS_URL, "tld:", tld, rl - (size_t)(tld - reg));
}

/* Registered domains seen so far, for the message's domain count (the
 * first 16 distinct ones: the count's buckets end below that). */
struct url_domains {
    uint64_t hash[16];
    size_t n;
};

static void
url_domains_note(struct url_domains *d, const char *reg, size_t rl)
{
    uint64_t dh = hashing_hash64(reg, rl, 0);
    bool seen = false;

    for (size_t k = 0; k < d->n; k++) {
        seen |= d->hash[k] == dh;
    }
    if (!seen && d->n < sizeof(d->hash) / sizeof(d->hash[0])) {
        d->hash[d->n++] = dh;
    }
}

/* Link text showing another domain than the link's.  The recipient's
 * own address ("Unsubscribe jane.doe@example.org", to, lower-case)
 * says where the mail went, not where the link goes: every ESP's
 * unsubscribe and profile links show it. */
static void
url_anchor_features(struct features_scratch *s, const struct mime_url *u,
                    const char *reg, size_t rl, const char *from_reg,
                    size_t from_reg_len, const char *to)
{
    char ad[256];
    char addr[256];
    size_t al = anchor_domain(u->anchor_text, u->anchor_len, ad, sizeof(ad),
                              addr, sizeof(addr));

    if (al == 0 || (al == rl && memcmp(ad, reg, rl) == 0) ||
        (addr[0] != '\0' && strcmp(addr, to) == 0)) {
        return;
    }
    s->flags |= FEATURES_DECEPTIVE_LINK;
    emit_str(s, FEATURES_NS_URL, "deceptive-link");
    /* A newsletter's click tracker on the sender's own domain shows the
     * site and links to the tracker; a lure links away from the domain it
     * claims to be from. */
    if (!(rl == from_reg_len && memcmp(reg, from_reg, rl) == 0)) {
        s->flags |= FEATURES_DECEPTIVE_FOREIGN_LINK;
    }
}

/* Path shape: a query, the target's file type, an '@' in the path, and
 * the letter words of path and query. */
static void
url_path_features(struct features_scratch *s, const struct mime_url *u)
{
    const char *path = memchr(u->url, '/', u->url_len);
    const char *ext = NULL;
    const char *q;
    size_t rest;
    size_t el;

    /* Skip "scheme://host". */
    if (path != NULL && path + 1 < u->url + u->url_len && path[1] == '/') {
        path = memchr(path + 2, '/', u->url_len - (size_t)(path + 2 - u->url));
    }
    if (path == NULL) {
        return;
    }
    rest = u->url_len - (size_t)(path - u->url);
    q = memchr(path, '?', rest);
    if (q != NULL) {
        emit_str(s, FEATURES_NS_URL, "query");
        rest = (size_t)(q - path);
    }
    el = file_ext(path, rest, &ext);
    if (el > 0 && memchr(ext, '/', el) == NULL) {
        char le[16];
        size_t ll = lower_copy(le, sizeof(le), ext, el);

        emit_kv(s, FEATURES_NS_URL, "ext:", le, ll);
    }
    if (memchr(path, '@', rest) != NULL) {
        emit_str(s, FEATURES_NS_URL, "at-in-path");
    }
    url_path_words(s, path, u->url_len - (size_t)(path - u->url));
}

/* The first To address, lower-case, into dst ("" when none fits). */
static void
to_address(const struct mime_doc *doc, char *dst, size_t cap)
{
    const struct mime_header *h = find_header(doc, "To");
    struct addr a;

    dst[0] = '\0';
    if (h == NULL) {
        return;
    }
    header_addr_split(h, &a);
    if (a.addr_len > 0 && a.addr_len < cap) {
        lower_copy(dst, cap, a.addr, a.addr_len);
    }
}

static void
url_features(struct features_scratch *s, const struct mime_doc *doc,
             const char *from_reg, size_t from_reg_len)
{
    size_t n = doc->n_urls < CAPS_FEATURES_URLS_MAX ? doc->n_urls
                                                    : CAPS_FEATURES_URLS_MAX;
    size_t n_href = 0;
    struct url_domains doms;
    char to[256];
    bool have_to = false;

    doms.n = 0;
    to[0] = '\0';
    emit_bucket(s, FEATURES_NS_URL, "count:", log2_bucket(doc->n_urls, 6));
    for (size_t i = 0; i < n; i++) {
        const struct mime_url *u = &doc->urls[i];
        unsigned fl = u->host_flags;

        if ((fl & URL_IS_MAILTO) != 0) {
            emit_str(s, FEATURES_NS_URL, "mailto");
            continue; /* addresses, not sites (and phishing_pot's
                         anonymised recipient) */
        }
        if (u->is_href) {
            n_href++;
        }
        if (u->is_form) {
            emit_str(s, FEATURES_NS_URL, "form-action");
        }
        if (u->host_len == 0) {
            continue;
        }
        url_flag_features(s, fl);
        if (is_artifact_domain(u->reg, u->reg_len)) {
            continue;
        }
        if ((fl & URL_IS_IP) == 0) {
            url_name_features(s, u->host, u->host_len, u->reg, u->reg_len);
        }
        url_domains_note(&doms, u->reg, u->reg_len);
        if (u->is_href && u->anchor_len > 0) {
            if (!have_to) {
                to_address(doc, to, sizeof(to));
                have_to = true;
            }
            url_anchor_features(s, u, u->reg, u->reg_len, from_reg,
                                from_reg_len, to);
        }
        url_path_features(s, u);
    }
    emit_bucket(s, FEATURES_NS_URL, "hrefs:", log2_bucket(n_href, 5));
    emit_bucket(s, FEATURES_NS_URL, "domains:", log2_bucket(doms.n, 4));
}

/*
 * How many of the linked sites belong to the sender: a newsletter links to
 * its own domain (or a tracking host under it), spam and phishing mostly
 * to domains that have nothing to do with the From address they show.
 * Buckets of the share of web links (not mailto, IP or corpus-artifact
 * hosts) whose registered domain is the From address's.
 */
static void
link_sender_features(struct features_scratch *s, const struct mime_doc *doc,
                     const char *from_reg, size_t from_reg_len)
{
    size_t n = doc->n_urls < CAPS_FEATURES_URLS_MAX ? doc->n_urls
                                                    : CAPS_FEATURES_URLS_MAX;
    size_t links = 0;
    size_t own = 0;

    if (from_reg_len == 0 || is_artifact_domain(from_reg, from_reg_len)) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const struct mime_url *u = &doc->urls[i];
        const char *reg = u->reg;
        size_t rl = u->reg_len;

        if (u->host_len == 0 ||
            (u->host_flags & (URL_IS_MAILTO | URL_IS_IP)) != 0) {
            continue;
        }
        if (is_artifact_domain(reg, rl)) {
            continue;
        }
        links++;
        own += rl == from_reg_len && memcmp(reg, from_reg, rl) == 0;
    }
    if (links == 0) {
        return;
    }
    if (own == 0) {
        emit_str(s, FEATURES_NS_URL, "from-dom:none");
    } else if (own == links) {
        emit_str(s, FEATURES_NS_URL, "from-dom:all");
    } else if (2 * own >= links) {
        emit_str(s, FEATURES_NS_URL, "from-dom:most");
    } else {
        emit_str(s, FEATURES_NS_URL, "from-dom:some");
    }
}

/* Registered domain of one List-Unsubscribe entry (a mailto: address or
 * a web URL) is the From address's; *kind gets "https", "http" or
 * "mailto" (NULL for anything else). */
static bool
unsub_entry_own(const char *e, size_t el, const char *from_reg,
                size_t from_reg_len, const char **kind)
{
    char host[256];
    size_t hl = 0;
    const char *reg = "";
    size_t rl;

    *kind = NULL;
    if (iprefix(e, el, "mailto:")) {
        size_t al = 7;

        while (al < el && e[al] != '?') {
            al++;
        }
        *kind = "mailto";
        hl = addr_domain(e + 7, al - 7, host, sizeof(host));
    } else if (iprefix(e, el, "https://") || iprefix(e, el, "http://")) {
        unsigned fl = 0;

        *kind = iprefix(e, el, "https://") ? "https" : "http";
        hl = url_host(e, el, host, sizeof(host), &fl);
    }
    if (hl == 0 || from_reg_len == 0) {
        return false;
    }
    rl = reg_domain(host, hl, &reg);
    return rl == from_reg_len && memcmp(reg, from_reg, rl) == 0;
}

/*
 * What a legitimate bulk sender sets up and a spammer rarely bothers to:
 * a List-Unsubscribe that names the sender's own domain, the RFC 8058
 * one-click form, a DKIM signature by the From domain.  Today's
 * newsletters carry these; without them the model only sees an HTML
 * mail with many links, which is what spam looks like too.  Emitted as
 * bulk markers (restricted ids: ham evidence only, bounded), since
 * nothing here is verified -- a forger gains at most that bound.
 */
static void
sender_legitimacy_features(struct features_scratch *s,
                           const struct mime_doc *doc, const char *from_reg,
                           size_t from_reg_len)
{
    const struct mime_header *u = find_header(doc, "List-Unsubscribe");
    const struct mime_header *post = find_header(doc, "List-Unsubscribe-Post");
    const struct mime_header *dkim = find_header(doc, "DKIM-Signature");

    if (u != NULL) {
        const char *v = u->value;
        size_t vl = u->value_len;
        size_t i = 0;
        size_t entries = 0;

        while (i < vl && entries < 4) {
            const char *gt;
            const char *kind = NULL;

            if (v[i] != '<') {
                i++;
                continue;
            }
            gt = memchr(v + i + 1, '>', vl - i - 1);
            if (gt == NULL) {
                break;
            }
            entries++;
            if (unsub_entry_own(v + i + 1, (size_t)(gt - v - i - 1),
                                from_reg, from_reg_len, &kind)) {
                emit_str(s, FEATURES_NS_BULK, "legit:unsub-own-domain");
            }
            if (kind != NULL) {
                emit_kv(s, FEATURES_NS_BULK, "legit:unsub-", kind,
                        strlen(kind));
            }
            i = (size_t)(gt - v) + 1;
        }
    }
    if (post != NULL && ifind(post->value, post->value_len,
                              "list-unsubscribe=one-click")) {
        emit_str(s, FEATURES_NS_BULK, "legit:one-click");
    }
    if (dkim != NULL && from_reg_len > 0) {
        const char *v = dkim->value;
        size_t vl = dkim->value_len;

        for (size_t i = 0; i + 2 < vl; i++) {
            /* The d= tag: at the start or after ';', spaces allowed. */
            size_t j = i;

            if (i > 0 && v[i - 1] != ';' && !is_space((uint8_t)v[i - 1])) {
                continue;
            }
            if (lower((uint8_t)v[j]) != 'd' || v[j + 1] != '=') {
                continue;
            }
            j += 2;
            {
                size_t e = j;
                char dom[256];
                size_t dl;
                const char *reg = "";
                size_t rl;

                while (e < vl && v[e] != ';' && !is_space((uint8_t)v[e])) {
                    e++;
                }
                if (e == j || e - j >= sizeof(dom)) {
                    break;
                }
                dl = lower_copy(dom, sizeof(dom), v + j, e - j);
                rl = reg_domain(dom, dl, &reg);
                if (rl == from_reg_len && memcmp(reg, from_reg, rl) == 0) {
                    emit_str(s, FEATURES_NS_BULK, "legit:dkim-from-domain");
                }
            }
            break;
        }
    }
}

/* ---- body text shape -------------------------------------------------- */

static void
text_features(struct features_scratch *s, const struct mime_doc *doc,
              const struct tok_stats *st)
{
    size_t letters = st->ascii_letters + st->latin_ext + st->cyrillic +
                     st->greek + st->cjk + st->arabic_hebrew +
                     st->other_script;

    emit_bucket(s, FEATURES_NS_TEXT, "len:", log2_bucket(doc->text_len, 20));
    emit_bucket(s, FEATURES_NS_TEXT, "tokens:", log2_bucket(st->tokens, 14));
    if (st->ascii_letters >= 40) {
        size_t pct = st->ascii_upper * 100 / st->ascii_letters;

        emit_bucket(s, FEATURES_NS_TEXT, "caps:",
                    pct >= 50 ? 4 : pct >= 25 ? 3 : pct >= 12 ? 2
                                                   : pct >= 5 ? 1 : 0);
    }
    if (st->excl > 0) {
        emit_bucket(s, FEATURES_NS_TEXT, "excl:", log2_bucket(st->excl, 4));
    }
    if (st->zero_width > 0) {
        emit_bucket(s, FEATURES_NS_TEXT, "zero-width:",
                    log2_bucket(st->zero_width, 3));
    }
    if (st->mixed_script_tokens > 0) {
        emit_bucket(s, FEATURES_NS_TEXT, "mixed-script:",
                    log2_bucket(st->mixed_script_tokens, 3));
    }
    if (letters >= 20) {
        static const char *const names[] = {"latin", "latin-ext", "cyrillic",
                                            "greek", "cjk", "rtl", "other"};
        size_t counts[7];
        size_t best = 0;

        counts[0] = st->ascii_letters;
        counts[1] = st->latin_ext;
        counts[2] = st->cyrillic;
        counts[3] = st->greek;
        counts[4] = st->cjk;
        counts[5] = st->arabic_hebrew;
        counts[6] = st->other_script;
        for (size_t i = 1; i < 7; i++) {
            if (counts[i] > counts[best]) {
                best = i;
            }
        }
        emit_kv(s, FEATURES_NS_TEXT, "script:", names[best],
                strlen(names[best]));
        if (st->latin_ext * 20 > letters) {
            emit_str(s, FEATURES_NS_TEXT, "accented");
        }
    } else {
        emit_str(s, FEATURES_NS_TEXT, "little-text");
    }
}

/* ---- entry points ----------------------------------------------------- */

struct features_scratch *
features_scratch_new(void)
{
    return calloc(1, sizeof(struct features_scratch));
}

void
features_scratch_free(struct features_scratch *s)
{
    free(s);
}

void
features_extract(const struct mime_doc *doc, const struct envelope *env,
                 struct features_scratch *s, features_trace_fn trace,
                 void *trace_ctx, const uint32_t **ids, size_t *n,
                 unsigned *flags)
{
    char from_dom[256];
    const char *from_reg = "";
    size_t from_reg_len = 0;
    struct tok_stats st;
    const char *subject = doc->subject != NULL ? doc->subject : "";

    set_clear(s);
    s->flags = 0;
    s->trace = trace;
    s->trace_ctx = trace_ctx;
    from_features(s, doc, env, &from_reg, &from_reg_len, from_dom,
                  sizeof(from_dom));
    header_features(s, doc, from_reg, from_reg_len);
    mime_features(s, doc);
    subject_features(s, subject, strlen(subject));
    url_features(s, doc, from_reg, from_reg_len);
    link_sender_features(s, doc, from_reg, from_reg_len);
    sender_legitimacy_features(s, doc, from_reg, from_reg_len);
    memset(&st, 0, sizeof(st));
    minhash_init(&s->sketch);
    if (doc->text != NULL && doc->text_len > 0) {
        body_words(s, doc->text, doc->text_len, &st, &s->sketch);
    }
    text_features(s, doc, &st);
    s->trace = NULL;
    s->trace_ctx = NULL;
    *ids = s->ids;
    *n = s->n;
    *flags = s->flags;
}

const char *
features_ns_name(enum features_ns ns)
{
    switch (ns) {
    case FEATURES_NS_WORD:
        return "word";
    case FEATURES_NS_SUBJECT:
        return "subj";
    case FEATURES_NS_URL_HOST:
        return "url-host";
    case FEATURES_NS_URL_DOMAIN:
        return "url-dom";
    case FEATURES_NS_URL:
        return "url";
    case FEATURES_NS_FROM:
        return "from";
    case FEATURES_NS_FROM_NAME:
        return "from-name";
    case FEATURES_NS_HEADER:
        return "hdr";
    case FEATURES_NS_MAILER:
        return "mailer";
    case FEATURES_NS_SUBJECT_SHAPE:
        return "subj-shape";
    case FEATURES_NS_MIME:
        return "mime";
    case FEATURES_NS_TEXT:
        return "text";
    case FEATURES_NS_BULK:
        return "bulk";
    case FEATURES_NS_FROM_DOMAIN:
        return "from-dom";
    case FEATURES_NS_URL_PATH:
        return "url-path";
    }
    return "?";
}
