/*
 * lookalike.c -- host names that imitate a protected domain (see
 * lookalike.h).
 *
 * The database keeps the protected domains sorted (an index names one)
 * with a hash set of them (exact lookups), three
 * sorted key arrays -- the folded "skeleton" of each name, each brand
 * name, and the brands' domains ordered by length -- so a check makes a
 * few binary searches and compares its registered domain with only the
 * brands' domains one byte shorter, as long or one byte longer.
 */
#include "lookalike.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hashing.h"
#include "swar.h"
#include "url.h"

#define LOOKALIKE_LABEL_CPS 64u /* code points of one decoded label */
#define LOOKALIKE_SKEL_SEED 0x736b656cull
#define LOOKALIKE_BRAND_SEED 0x6272616eull
#define LOOKALIKE_NAME_SEED 0x6e616d65ull

struct lookalike_key {
    uint64_t h;
    uint32_t idx; /* into names */
};

struct lookalike_db {
    char **names; /* sorted, distinct */
    bool *is_brand; /* [i]: names[i] is a brand (lookalike.h) */
    size_t n;
    struct lookalike_key *skel; /* skeleton of each name, sorted by h */
    size_t n_skel;
    struct lookalike_key *brand; /* brand-eligible names, sorted by h */
    size_t n_brand;
    /* The names an edit-1 check compares with (brands whose name has at
     * least LOOKALIKE_EDIT_MIN bytes), ordered by domain length, the
     * ones of length l from edit_start[l]: a check walks only them, not
     * every protected name of its length (issue #7). */
    uint32_t *edit_by_len;
    size_t edit_start[LOOKALIKE_DOMAIN_MAX + 2];
    /* [i]: the first byte of names[edit_by_len[i]] | its second << 8,
     * beside each other: the edit-1 walk rejects nearly every name on
     * them (check_edit_1), and reads them here with one load, not four
     * dependent ones through names[] (issue #7). */
    uint16_t *edit_heads;
    /* [i]: strlen(names[i]) and the length of its first label, measured
     * once at build: every URL host's check used to measure the names
     * it compared against (strlen, memchr per name, issue #7). */
    uint8_t *len;
    uint8_t *label_len;
    /* The names as an open-addressing hash set (index + 1, 0 free), a
     * power of two over twice n: lookalike_is_protected, asked for every
     * link host and sender, probes a slot or two where a binary search
     * compared about ten names (issue #7). */
    uint32_t *name_slots;
    size_t name_mask;
};

/* ---- punycode (RFC 3492 §6.2) ---------------------------------------- */

#define PUNY_BASE 36u
#define PUNY_TMIN 1u
#define PUNY_TMAX 26u
#define PUNY_SKEW 38u
#define PUNY_DAMP 700u
#define PUNY_MAX_CP 0x10FFFFu

static uint32_t
puny_adapt(uint32_t delta, uint32_t n_points, bool first)
{
    uint32_t k = 0;

    delta = first ? delta / PUNY_DAMP : delta / 2;
    delta += delta / n_points;
    while (delta > ((PUNY_BASE - PUNY_TMIN) * PUNY_TMAX) / 2) {
        delta /= PUNY_BASE - PUNY_TMIN;
        k += PUNY_BASE;
    }
    return k + (PUNY_BASE - PUNY_TMIN + 1) * delta / (delta + PUNY_SKEW);
}

static int
puny_digit(char c)
{
    if (c >= 'a' && c <= 'z') {
        return c - 'a';
    }
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 26;
    }
    return -1;
}

size_t
lookalike_punycode_decode(const char *p, size_t len, unsigned *out,
                          size_t max)
{
    size_t delim = 0;
    size_t n_out = 0;
    size_t pos = 0;
    uint32_t n = 128;
    uint32_t i = 0;
    uint32_t bias = 72;

    for (size_t k = 0; k < len; k++) {
        if (p[k] == '-') {
            delim = k;
            pos = k + 1;
        }
    }
    if (delim > max) {
        return 0;
    }
    for (size_t k = 0; k < delim; k++) {
        if ((unsigned char)p[k] >= 0x80) {
            return 0;
        }
        out[n_out++] = (unsigned char)p[k];
    }
    while (pos < len) {
        uint32_t old_i = i;
        uint32_t w = 1;

        for (uint32_t k = PUNY_BASE;; k += PUNY_BASE) {
            int d = pos < len ? puny_digit(p[pos++]) : -1;
            uint32_t t;

            if (d < 0 || (uint32_t)d > (UINT32_MAX - i) / w) {
                return 0;
            }
            i += (uint32_t)d * w;
            t = k <= bias ? PUNY_TMIN
                : k >= bias + PUNY_TMAX ? PUNY_TMAX
                                        : k - bias;
            if ((uint32_t)d < t) {
                break;
            }
            if (w > UINT32_MAX / (PUNY_BASE - t) || k > 0x10000u) {
                return 0;
            }
            w *= PUNY_BASE - t;
        }
        bias = puny_adapt(i - old_i, (uint32_t)n_out + 1, old_i == 0);
        if (i / ((uint32_t)n_out + 1) > PUNY_MAX_CP - n) {
            return 0;
        }
        n += i / ((uint32_t)n_out + 1);
        i %= (uint32_t)n_out + 1;
        if (n_out >= max) {
            return 0;
        }
        memmove(&out[i + 1], &out[i], (n_out - i) * sizeof(out[0]));
        out[i] = n;
        n_out++;
        i++;
    }
    return n_out;
}

/* ---- labels as code points ------------------------------------------ */

/* One label as code points: punycode decoded, UTF-8 decoded, or ASCII.
 * Returns the count; 0 when it does not decode or is too long. */
static size_t
label_code_points(const char *l, size_t len, unsigned *cp, size_t max)
{
    size_t n = 0;

    if (len > 4 && memcmp(l, "xn--", 4) == 0) {
        return lookalike_punycode_decode(l + 4, len - 4, cp, max);
    }
    for (size_t i = 0; i < len;) {
        unsigned char b = (unsigned char)l[i];
        unsigned v;
        size_t extra;

        if (n >= max) {
            return 0;
        }
        if (b < 0x80) {
            v = b;
            extra = 0;
        } else if ((b & 0xE0) == 0xC0) {
            v = b & 0x1F;
            extra = 1;
        } else if ((b & 0xF0) == 0xE0) {
            v = b & 0x0F;
            extra = 2;
        } else if ((b & 0xF8) == 0xF0) {
            v = b & 0x07;
            extra = 3;
        } else {
            return 0;
        }
        if (extra > 0 && i + extra >= len) {
            return 0;
        }
        for (size_t k = 1; k <= extra; k++) {
            unsigned char c = (unsigned char)l[i + k];

            if ((c & 0xC0) != 0x80) {
                return 0;
            }
            v = (v << 6) | (c & 0x3F);
        }
        cp[n++] = v;
        i += extra + 1;
    }
    return n;
}

static bool
is_idn_label(const char *l, size_t len)
{
    if (len > 4 && memcmp(l, "xn--", 4) == 0) {
        return true;
    }
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)l[i] >= 0x80) {
            return true;
        }
    }
    return false;
}

enum script { SCRIPT_OTHER = 0, SCRIPT_LATIN, SCRIPT_CYRILLIC, SCRIPT_GREEK };

static enum script
script_of(unsigned cp)
{
    if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') ||
        (cp >= 0xC0 && cp <= 0x24F && cp != 0xD7 && cp != 0xF7)) {
        return SCRIPT_LATIN;
    }
    if (cp >= 0x400 && cp <= 0x52F) {
        return SCRIPT_CYRILLIC;
    }
    if (cp >= 0x370 && cp <= 0x3FF) {
        return SCRIPT_GREEK;
    }
    return SCRIPT_OTHER;
}

static bool
is_mixed_script(const unsigned *cp, size_t n)
{
    bool latin = false;
    bool other = false;

    for (size_t i = 0; i < n; i++) {
        enum script s = script_of(cp[i]);

        latin |= s == SCRIPT_LATIN;
        other |= s == SCRIPT_CYRILLIC || s == SCRIPT_GREEK;
    }
    return latin && other;
}

/* next_code_point of a lead byte b >= 0x80. */
static unsigned
next_code_point_multi(const char *text, size_t len, size_t *i,
                      unsigned char b)
{
    size_t extra = (b & 0xE0) == 0xC0 ? 1 : (b & 0xF0) == 0xE0 ? 2
                                          : (b & 0xF8) == 0xF0 ? 3
                                                               : 0;
    unsigned v = extra == 1 ? b & 0x1Fu : extra == 2 ? b & 0x0Fu : b & 0x07u;

    if (extra == 0 || *i + extra >= len) {
        (*i)++;
        return 0xFFFDu;
    }
    for (size_t k = 1; k <= extra; k++) {
        unsigned char c = (unsigned char)text[*i + k];

        if ((c & 0xC0) != 0x80) {
            (*i)++;
            return 0xFFFDu;
        }
        v = (v << 6) | (c & 0x3Fu);
    }
    *i += extra + 1;
    return v;
}

/* The code point at text[*i] (UTF-8), *i moved past it; U+FFFD and one
 * byte for a malformed sequence.  An ASCII byte (nearly every one of a
 * display name) costs a compare where it is called, not a call that
 * first worked out a sequence length (issue #7). */
static inline unsigned
next_code_point(const char *text, size_t len, size_t *i)
{
    unsigned char b = (unsigned char)text[*i];

    if (b < 0x80) {
        (*i)++;
        return b;
    }
    return next_code_point_multi(text, len, i, b);
}

/* Whether (p, n) holds a byte >= 0x80: eight bytes per step. */
static bool
has_non_ascii(const char *p, size_t n)
{
    size_t i = 0;

    for (; n - i >= 8; i += 8) {
        if (swar_high(swar_load(p + i)) != 0) {
            return true;
        }
    }
    for (; i < n; i++) {
        if (((uint8_t)p[i] & 0x80u) != 0) {
            return true;
        }
    }
    return false;
}

bool
lookalike_text_mixed_script(const char *text, size_t len)
{
    bool latin = false;
    bool other = false;
    size_t i = 0;

    /* Greek and Cyrillic letters are never ASCII: most subjects and
     * display names are, and are passed over eight bytes at a time
     * instead of decoded letter by letter (issue #7). */
    if (!has_non_ascii(text, len)) {
        return false;
    }
    while (i < len) {
        enum script s = script_of(next_code_point(text, len, &i));

        if (s == SCRIPT_OTHER) {
            latin = false; /* a word ends */
            other = false;
            continue;
        }
        latin |= s == SCRIPT_LATIN;
        other |= s == SCRIPT_CYRILLIC || s == SCRIPT_GREEK;
        if (latin && other) {
            return true;
        }
    }
    return false;
}

/* Marks no Latin-script language sets on a Latin letter: the overlays
 * (U+0334..0338, "UPs\u0337") and the combining marks of other scripts
 * (Cyrillic, Hebrew, Arabic, Syriac, NKo, Samaritan) and of the extended
 * and symbol blocks.  On a Latin letter they only dress a word so that
 * it no longer matches ("A\u073fm\u073fazon"). */
static bool
is_disguise_mark(unsigned cp)
{
    static const unsigned ranges[][2] = {
        {0x0334, 0x0338}, {0x0483, 0x0489}, {0x0591, 0x05C7},
        {0x0610, 0x061A}, {0x064B, 0x065F}, {0x06D6, 0x06ED},
        {0x0730, 0x074A}, {0x07EB, 0x07F3}, {0x0816, 0x082D},
        {0x1AB0, 0x1AFF}, {0x1DC0, 0x1DFF}, {0x20D0, 0x20FF},
        {0xFE20, 0xFE2F}};

    if (cp < ranges[0][0]) {
        return false; /* ASCII and Latin-1: most of what is asked */
    }
    for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
        if (cp >= ranges[i][0] && cp <= ranges[i][1]) {
            return true;
        }
    }
    return false;
}

/* Characters that print as nothing: soft hyphen, combining grapheme
 * joiner, Mongolian vowel separator, zero-width space/joiners, word
 * joiner and invisible operators, zero-width no-break space. */
static bool
is_invisible(unsigned cp)
{
    if (cp < 0xAD) {
        return false;
    }
    return cp == 0xAD || cp == 0x34F || cp == 0x180E ||
           (cp >= 0x200B && cp <= 0x200D) ||
           (cp >= 0x2060 && cp <= 0x2064) || cp == 0xFEFF;
}

static bool
is_ascii_alnum(unsigned cp)
{
    return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') ||
           (cp >= '0' && cp <= '9');
}

bool
lookalike_text_disguised(const char *text, size_t len)
{
    unsigned prev = 0;        /* the code point before, 0 at the start */
    bool after_alnum = false; /* an ASCII letter/digit, then invisibles */
    bool hidden = false;      /* ... at least one invisible since it */
    size_t i = 0;

    if (!has_non_ascii(text, len)) {
        return false; /* nothing but ASCII: nothing hidden */
    }
    while (i < len) {
        unsigned cp = next_code_point(text, len, &i);

        if (is_disguise_mark(cp)) {
            if (script_of(prev) == SCRIPT_LATIN) {
                return true;
            }
            after_alnum = false; /* a mark ends a word of ASCII */
            hidden = false;
            continue; /* prev stays the letter the mark sits on */
        }
        if (is_invisible(cp)) {
            hidden |= after_alnum;
        } else if (is_ascii_alnum(cp)) {
            if (hidden) {
                return true;
            }
            after_alnum = true;
        } else {
            after_alnum = false;
            hidden = false;
        }
        prev = cp;
    }
    return false;
}

/* ---- skeletons: what a name reads as -------------------------------- */

/* The ASCII letter a code point is mistaken for, or 0. */
static char
confusable_ascii(unsigned cp)
{
    static const struct {
        unsigned cp;
        char as;
    } map[] = {
        /* Cyrillic */
        {0x430, 'a'}, {0x435, 'e'}, {0x43E, 'o'}, {0x440, 'p'},
        {0x441, 'c'}, {0x443, 'y'}, {0x445, 'x'}, {0x456, 'i'},
        {0x458, 'j'}, {0x455, 's'}, {0x501, 'd'}, {0x4BB, 'h'},
        {0x51B, 'q'}, {0x51D, 'w'}, {0x4CF, 'l'}, {0x432, 'b'},
        {0x43A, 'k'}, {0x43D, 'h'}, {0x442, 't'}, {0x448, 'w'},
        /* Greek */
        {0x3BF, 'o'}, {0x3B1, 'a'}, {0x3BD, 'v'}, {0x3C1, 'p'},
        {0x3B9, 'i'}, {0x3BA, 'k'}, {0x3C5, 'u'}, {0x3C4, 't'},
        {0x3B5, 'e'}, {0x3C7, 'x'},
        /* Latin with marks, dotless i, l with stroke */
        {0x131, 'i'}, {0x142, 'l'}, {0xF1, 'n'}, {0xE7, 'c'},
        {0xFD, 'y'}, {0xFF, 'y'}, {0xF8, 'o'}, {0x111, 'd'}};

    if (cp < 0x80) {
        return (char)cp;
    }
    if (cp >= 0xE0 && cp <= 0xE5) {
        return 'a';
    }
    if (cp >= 0xE8 && cp <= 0xEB) {
        return 'e';
    }
    if (cp >= 0xEC && cp <= 0xEF) {
        return 'i';
    }
    if (cp >= 0xF2 && cp <= 0xF6) {
        return 'o';
    }
    if (cp >= 0xF9 && cp <= 0xFC) {
        return 'u';
    }
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        if (map[i].cp == cp) {
            return map[i].as;
        }
    }
    return 0;
}

/* Digits and letters read alike: both sides of a comparison fold the
 * same way, so the mapping only has to be consistent. */
static char
fold_ascii(char c)
{
    switch (c) {
    case '0':
        return 'o';
    case '1':
    case 'i':
    case '|':
        return 'l';
    case '3':
        return 'e';
    case '5':
        return 's';
    case '4':
        return 'a';
    default:
        return c;
    }
}

/* One character more of a skeleton: c as confusable_ascii read it, out
 * holding *k bytes of max.  False when c has no ASCII reading (0) or out
 * is full: then the name has no skeleton. */
static inline bool
skeleton_add(char c, char *out, size_t *k, size_t max)
{
    if (c == 0) {
        return false;
    }
    if (c >= 'A' && c <= 'Z') {
        c = (char)(c + 32);
    }
    if (c == '-') {
        return true;
    }
    c = fold_ascii(c);
    if (*k > 0 && ((out[*k - 1] == 'r' && c == 'n') ||
                   (out[*k - 1] == 'v' && c == 'v'))) {
        out[*k - 1] = c == 'n' ? 'm' : 'w';
        return true;
    }
    if (*k + 1 >= max) {
        return false;
    }
    out[(*k)++] = c;
    return true;
}

/*
 * Skeleton of the code points of a name into out (NUL-terminated):
 * confusables to ASCII, look-alike digits folded, hyphens dropped, "rn"
 * → "m", "vv" → "w".  Returns its length; 0 when a code point has no
 * ASCII reading (a genuinely foreign name imitates nothing).
 */
static size_t
skeleton(const unsigned *cp, size_t n, char *out, size_t max)
{
    size_t k = 0;

    for (size_t i = 0; i < n; i++) {
        if (!skeleton_add(confusable_ascii(cp[i]), out, &k, max)) {
            return 0;
        }
    }
    out[k] = '\0';
    return k;
}

/* Whether a label is written in punycode ("xn--" and more). */
static bool
is_ace_label(const char *l, size_t len)
{
    return len > 4 && memcmp(l, "xn--", 4) == 0;
}

static size_t
ascii_skeleton(const char *s, size_t len, char *out, size_t max)
{
    unsigned cp[LOOKALIKE_LABEL_CPS];
    size_t n;
    size_t k = 0;

    if (is_ace_label(s, len) || has_non_ascii(s, len)) {
        n = label_code_points(s, len, cp, LOOKALIKE_LABEL_CPS);
        return n > 0 ? skeleton(cp, n, out, max) : 0;
    }
    /* Plain ASCII (nearly every name): each byte is its code point and
     * its own confusable_ascii reading, so the skeleton is taken from
     * the bytes, not from a code point array (issue #7).  What
     * label_code_points refuses is refused here too. */
    if (len == 0 || len > LOOKALIKE_LABEL_CPS) {
        return 0;
    }
    for (size_t i = 0; i < len; i++) {
        if (!skeleton_add(s[i], out, &k, max)) {
            return 0;
        }
    }
    out[k] = '\0';
    return k;
}

/* ---- building -------------------------------------------------------- */

/* A listed word with its length, measured at compile time: a lookup
 * compares lengths and first bytes, no strlen of each word per query
 * (issue #7: every display-name word asked is_common_display_word). */
struct listed_word {
    const char *word;
    size_t len;
};
#define LISTED(s) {s, sizeof(s) - 1}

/* Whether (s, len) is one of the n words. */
static bool
in_word_list(const struct listed_word *words, size_t n, const char *s,
             size_t len)
{
    for (size_t i = 0; i < n; i++) {
        /* A word is never empty: len > 0 before s[0] is read. */
        if (words[i].len == len && words[i].word[0] == s[0] &&
            memcmp(words[i].word, s, len) == 0) {
            return true;
        }
    }
    return false;
}

/* Names that are words, not brands: as a label of another host they say
 * nothing ("mail.example.org", "news-letter.com"). */
static bool
is_generic_name(const char *s, size_t len)
{
    static const struct listed_word words[] = {
        LISTED("mail"),      LISTED("email"),       LISTED("news"),
        LISTED("list"),      LISTED("lists"),       LISTED("info"),
        LISTED("shop"),      LISTED("store"),       LISTED("bank"),
        LISTED("home"),      LISTED("live"),        LISTED("blog"),
        LISTED("site"),      LISTED("host"),        LISTED("link"),
        LISTED("links"),     LISTED("online"),      LISTED("secure"),
        LISTED("login"),     LISTED("account"),     LISTED("support"),
        LISTED("service"),   LISTED("update"),      LISTED("cloud"),
        LISTED("media"),     LISTED("group"),       LISTED("global"),
        LISTED("click"),     LISTED("track"),       LISTED("admin"),
        LISTED("portal"),    LISTED("webmail"),     LISTED("images"),
        LISTED("static"),    LISTED("free"),        LISTED("best"),
        LISTED("world"),     LISTED("digital"),     LISTED("direct"),
        LISTED("server"),    LISTED("mailer"),      LISTED("example"),
        LISTED("localhost"), LISTED("news-letter"), LISTED("newsletter"),
        LISTED("web"),       LISTED("www"),         LISTED("mobile"),
        LISTED("google-analytics"), LISTED("office"), LISTED("money"),
        LISTED("today"),     LISTED("daily"),       LISTED("post"),
        LISTED("yahoogroups"), LISTED("groups"),    LISTED("forum"),
        LISTED("press"),     LISTED("city"),        LISTED("health")};

    return in_word_list(words, sizeof(words) / sizeof(words[0]), s, len);
}

static bool
is_domain_name(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > LOOKALIKE_DOMAIN_MAX || strchr(s, '.') == NULL ||
        s[0] == '.' || s[n - 1] == '.') {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];

        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '-')) {
            return false;
        }
    }
    return true;
}

static int
cmp_key(const void *a, const void *b)
{
    const struct lookalike_key *x = a;
    const struct lookalike_key *y = b;

    if (x->h != y->h) {
        return x->h < y->h ? -1 : 1;
    }
    return (x->idx > y->idx) - (x->idx < y->idx);
}

/* Length of the name (first label) of a registered domain. */
static size_t
name_len(const char *d, size_t len)
{
    const char *dot = memchr(d, '.', len);

    return dot != NULL ? (size_t)(dot - d) : len;
}

/* Brands only: the other protected names are the training ham's
 * frequent senders, and a name one edit from one of those is as often
 * another real site ("wirex.com", "cnsnews.com") as a lure;
 * typosquatters imitate the brands phishing trades on.  A brand's name
 * shorter than LOOKALIKE_EDIT_MIN is one edit from too many words. */
static bool
is_edit_candidate(const struct lookalike_db *db, size_t i)
{
    return db->is_brand[i] && db->label_len[i] >= LOOKALIKE_EDIT_MIN;
}

static void
build_keys(struct lookalike_db *db)
{
    for (size_t i = 0; i < db->n; i++) {
        const char *d = db->names[i];
        size_t nl = name_len(d, strlen(d));

        /* is_domain_name admitted it: at most LOOKALIKE_DOMAIN_MAX. */
        db->len[i] = (uint8_t)strlen(d);
        db->label_len[i] = (uint8_t)nl;
    }
    for (size_t i = 0; i < db->n; i++) {
        const char *d = db->names[i];
        size_t nl = db->label_len[i];
        char sk[LOOKALIKE_DOMAIN_MAX + 1];
        size_t sl = ascii_skeleton(d, nl, sk, sizeof(sk));

        if (nl >= LOOKALIKE_BRAND_MIN && sl > 0) {
            db->skel[db->n_skel].h = hashing_hash64(sk, sl,
                                                    LOOKALIKE_SKEL_SEED);
            db->skel[db->n_skel++].idx = (uint32_t)i;
        }
        if (db->is_brand[i] && nl >= LOOKALIKE_BRAND_MIN &&
            !is_generic_name(d, nl)) {
            db->brand[db->n_brand].h = hashing_hash64(d, nl,
                                                      LOOKALIKE_BRAND_SEED);
            db->brand[db->n_brand++].idx = (uint32_t)i;
        }
    }
    for (size_t i = 0; i < db->n; i++) {
        size_t k = (size_t)hashing_hash64(db->names[i], db->len[i],
                                          LOOKALIKE_NAME_SEED) &
                   db->name_mask;

        while (db->name_slots[k] != 0) {
            k = (k + 1) & db->name_mask;
        }
        db->name_slots[k] = (uint32_t)i + 1;
    }
    qsort(db->skel, db->n_skel, sizeof(db->skel[0]), cmp_key);
    qsort(db->brand, db->n_brand, sizeof(db->brand[0]), cmp_key);
    {
        size_t count[LOOKALIKE_DOMAIN_MAX + 2] = {0};

        for (size_t i = 0; i < db->n; i++) {
            count[db->len[i]] += is_edit_candidate(db, i);
        }
        db->edit_start[0] = 0;
        for (size_t l = 1; l < LOOKALIKE_DOMAIN_MAX + 2; l++) {
            db->edit_start[l] = db->edit_start[l - 1] + count[l - 1];
        }
        memset(count, 0, sizeof(count));
        for (size_t i = 0; i < db->n; i++) {
            size_t l = db->len[i];

            if (is_edit_candidate(db, i)) {
                size_t at = db->edit_start[l] + count[l]++;

                db->edit_by_len[at] = (uint32_t)i;
                /* A candidate has LOOKALIKE_EDIT_MIN bytes and more. */
                db->edit_heads[at] =
                    (uint16_t)((uint8_t)db->names[i][0] |
                               (uint8_t)db->names[i][1] << 8);
            }
        }
    }
}

/* names sorted, is_brand permuted along. */
static void
sort_names(struct lookalike_db *db, size_t k)
{
    for (size_t i = 1; i < k; i++) {
        char *nm = db->names[i];
        bool b = db->is_brand[i];
        size_t j = i;

        while (j > 0 && strcmp(db->names[j - 1], nm) > 0) {
            db->names[j] = db->names[j - 1];
            db->is_brand[j] = db->is_brand[j - 1];
            j--;
        }
        db->names[j] = nm;
        db->is_brand[j] = b;
    }
}

enum cm_err
lookalike_db_build(const char *const *domains, const bool *is_brand,
                   size_t n, struct lookalike_db **out)
{
    struct lookalike_db *db = calloc(1, sizeof(*db));
    size_t k = 0;

    if (db == NULL) {
        return CM_ENOMEM;
    }
    db->is_brand = calloc(n > 0 ? n : 1, sizeof(bool));
    db->names = calloc(n > 0 ? n : 1, sizeof(char *));
    db->skel = calloc(n > 0 ? n : 1, sizeof(db->skel[0]));
    db->brand = calloc(n > 0 ? n : 1, sizeof(db->brand[0]));
    db->edit_by_len = calloc(n > 0 ? n : 1, sizeof(db->edit_by_len[0]));
    db->edit_heads = calloc(n > 0 ? n : 1, sizeof(db->edit_heads[0]));
    db->len = calloc(n > 0 ? n : 1, sizeof(db->len[0]));
    db->label_len = calloc(n > 0 ? n : 1, sizeof(db->label_len[0]));
    if (db->names == NULL || db->skel == NULL || db->brand == NULL ||
        db->is_brand == NULL || db->edit_by_len == NULL ||
        db->edit_heads == NULL || db->len == NULL ||
        db->label_len == NULL) {
        lookalike_db_free(db);
        return CM_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        if (domains[i] == NULL || !is_domain_name(domains[i])) {
            continue;
        }
        db->names[k] = strdup(domains[i]);
        if (db->names[k] == NULL) {
            db->n = k;
            lookalike_db_free(db);
            return CM_ENOMEM;
        }
        db->is_brand[k] = is_brand != NULL && is_brand[i];
        k++;
    }
    if (k > 1) {
        /* Sorted input (the RULES section) needs no work; anything else
         * is small (cmtool train, tests). */
        bool sorted = true;

        for (size_t i = 1; i < k && sorted; i++) {
            sorted = strcmp(db->names[i - 1], db->names[i]) < 0;
        }
        if (!sorted) {
            sort_names(db, k);
        }
    }
    db->n = 0;
    for (size_t i = 0; i < k; i++) {
        if (db->n > 0 && strcmp(db->names[db->n - 1], db->names[i]) == 0) {
            db->is_brand[db->n - 1] |= db->is_brand[i];
            free(db->names[i]);
            continue;
        }
        db->is_brand[db->n] = db->is_brand[i];
        db->names[db->n++] = db->names[i];
    }
    db->name_mask = 15;
    while (db->name_mask + 1 < 2 * db->n) {
        db->name_mask = 2 * db->name_mask + 1;
    }
    db->name_slots = calloc(db->name_mask + 1, sizeof(db->name_slots[0]));
    if (db->name_slots == NULL) {
        lookalike_db_free(db);
        return CM_ENOMEM;
    }
    build_keys(db);
    *out = db;
    return CM_OK;
}

void
lookalike_db_free(struct lookalike_db *db)
{
    if (db == NULL) {
        return;
    }
    for (size_t i = 0; db->names != NULL && i < db->n; i++) {
        free(db->names[i]);
    }
    free(db->names);
    free(db->is_brand);
    free(db->skel);
    free(db->brand);
    free(db->edit_by_len);
    free(db->edit_heads);
    free(db->len);
    free(db->label_len);
    free(db->name_slots);
    free(db);
}

size_t
lookalike_db_count(const struct lookalike_db *db)
{
    return db != NULL ? db->n : 0;
}

const char *
lookalike_db_at(const struct lookalike_db *db, size_t i)
{
    return db != NULL && i < db->n ? db->names[i] : NULL;
}

/* ---- checking -------------------------------------------------------- */

bool
lookalike_is_protected(const struct lookalike_db *db, const char *name,
                       size_t len)
{
    size_t k;

    if (db == NULL || db->n == 0) {
        return false;
    }
    k = (size_t)hashing_hash64(name, len, LOOKALIKE_NAME_SEED) & db->name_mask;
    /* Under half full: an empty slot always ends the probe. */
    while (db->name_slots[k] != 0) {
        size_t i = db->name_slots[k] - 1;

        if (db->len[i] == len && memcmp(db->names[i], name, len) == 0) {
            return true;
        }
        k = (k + 1) & db->name_mask;
    }
    return false;
}

/* First key with hash h, or NULL. */
static const struct lookalike_key *
find_key(const struct lookalike_key *keys, size_t n, uint64_t h)
{
    size_t lo = 0;
    size_t hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (keys[mid].h < h) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo < n && keys[lo].h == h ? &keys[lo] : NULL;
}

/* (p, n) and (q, n) hold the same bytes.  A loop, not memcmp: the edit-1
 * scan compares each URL host against every protected name of about its
 * length, nearly all of which differ at the first byte compared, where
 * a call into memcmp cost more than the compare (issue #7). */
static bool
same_bytes(const char *p, const char *q, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        if (p[k] != q[k]) {
            return false;
        }
    }
    return true;
}

/* a and b differ by exactly one insertion, deletion or substitution. */
static bool
is_edit_1(const char *a, size_t al, const char *b, size_t bl)
{
    size_t i = 0;

    if (al > bl) {
        const char *t = a;
        size_t tl = al;

        a = b;
        al = bl;
        b = t;
        bl = tl;
    }
    if (bl - al > 1) {
        return false;
    }
    while (i < al && a[i] == b[i]) {
        i++;
    }
    if (al == bl) {
        return i < al && same_bytes(a + i + 1, b + i + 1, al - i - 1);
    }
    return same_bytes(a + i, b + i + 1, al - i);
}

static enum lookalike_kind
check_skeleton(const struct lookalike_db *db, const char *name, size_t nl,
               size_t *which)
{
    char sk[LOOKALIKE_DOMAIN_MAX + 1];
    size_t sl = ascii_skeleton(name, nl, sk, sizeof(sk));
    const struct lookalike_key *k;

    if (sl < LOOKALIKE_BRAND_MIN) {
        return LOOKALIKE_NONE;
    }
    k = find_key(db->skel, db->n_skel,
                 hashing_hash64(sk, sl, LOOKALIKE_SKEL_SEED));
    for (; k != NULL && k < db->skel + db->n_skel &&
           k->h == hashing_hash64(sk, sl, LOOKALIKE_SKEL_SEED);
         k++) {
        const char *p = db->names[k->idx];
        size_t pl = db->label_len[k->idx];

        /* The same name under another TLD is the brand's own. */
        if (!(pl == nl && memcmp(p, name, nl) == 0)) {
            *which = k->idx;
            return LOOKALIKE_CONFUSABLE;
        }
    }
    return LOOKALIKE_NONE;
}

static bool
is_brand(const struct lookalike_db *db, const char *s, size_t len,
         size_t *which)
{
    const struct lookalike_key *k;

    if (len < LOOKALIKE_BRAND_MIN) {
        return false;
    }
    k = find_key(db->brand, db->n_brand,
                 hashing_hash64(s, len, LOOKALIKE_BRAND_SEED));
    for (; k != NULL && k < db->brand + db->n_brand &&
           k->h == hashing_hash64(s, len, LOOKALIKE_BRAND_SEED);
         k++) {
        const char *p = db->names[k->idx];

        if (db->label_len[k->idx] == len && memcmp(p, s, len) == 0) {
            *which = k->idx;
            return true;
        }
    }
    return false;
}

/* The brand's whole domain follows at p, up to a dot ("paypal.com." in
 * "paypal.com.secure.tk") or a hyphen ("paypal.com-" in
 * "paypal.com-login.tk": the reader sees paypal.com just the same, and
 * the hyphen only moved it out of the registered name's first label). */
static bool
whole_domain_at(const char *p, size_t left, const char *domain)
{
    size_t dl = strlen(domain);

    return dl < left && memcmp(p, domain, dl) == 0 &&
           (p[dl] == '.' || p[dl] == '-');
}

/*
 * A brand before the registered domain -- with its TLD after it
 * ("paypal.com.secure.tk") or as a hyphen part of a label
 * ("paypal-login.evil.tk") -- or as a hyphen part of the registered
 * name ("paypal-verify.com").  A lone brand label of another site
 * ("outlook.example.biz", "apple.news.example") is a host name, not a
 * disguise.
 */
static bool
check_brand_labels(const struct lookalike_db *db, const char *host,
                   size_t reg_off, size_t nl, size_t *which)
{
    size_t start = 0;
    bool label_has_hyphen = false;

    for (size_t i = 0; i <= reg_off + nl; i++) {
        bool end = i == reg_off + nl || host[i] == '.' || host[i] == '-';
        size_t w = SIZE_MAX;
        bool hyphen_part;

        if (!end) {
            continue;
        }
        hyphen_part = label_has_hyphen || (i < reg_off + nl && host[i] == '-');
        if (!(start == reg_off && i == reg_off + nl) &&
            is_brand(db, host + start, i - start, &w) &&
            (hyphen_part ||
             whole_domain_at(host + start, reg_off + nl - start,
                             db->names[w]))) {
            *which = w;
            return true;
        }
        label_has_hyphen = i < reg_off + nl && host[i] == '-';
        start = i + 1;
    }
    return false;
}

/* Letters one takes for the other at a glance, beyond what the
 * skeleton folds ("amazom", "skvpe"). */
static bool
is_confusable_pair(char a, char b)
{
    static const char pairs[][2] = {{'m', 'n'}, {'u', 'v'}, {'v', 'y'},
                                    {'c', 'e'}, {'c', 'o'}, {'g', 'q'},
                                    {'p', 'q'}, {'i', 'j'}, {'l', 't'}};

    for (size_t k = 0; k < sizeof(pairs) / sizeof(pairs[0]); k++) {
        if ((a == pairs[k][0] && b == pairs[k][1]) ||
            (a == pairs[k][1] && b == pairs[k][0])) {
            return true;
        }
    }
    return false;
}

static bool
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/*
 * The one edit between a and b (is_edit_1 holds) is a typosquat's slip,
 * not another word: a confusable letter or a digit in place of a letter
 * ("amazom", "paypa7"), a digit or a doubled letter added or taken away
 * ("paypal1", "paypall", "aple").  Any edit of a short brand's name
 * makes ordinary words ("apply", "adore", "chaser", "revolt",
 * "finance"), which real companies send from; a long brand's name
 * (brand_len >= LOOKALIKE_EDIT_ANY_MIN) is no word one edit away.
 */
static bool
edit_is_slip(const char *a, size_t al, const char *b, size_t bl,
             size_t brand_len)
{
    size_t i = 0;

    if (brand_len >= LOOKALIKE_EDIT_ANY_MIN) {
        return true;
    }
    if (al < bl) {
        const char *t = a;
        size_t tl = al;

        a = b;
        al = bl;
        b = t;
        bl = tl;
    }
    while (i < bl && a[i] == b[i]) {
        i++;
    }
    if (al == bl) {
        return is_digit(a[i]) || is_digit(b[i]) ||
               is_confusable_pair(a[i], b[i]);
    }
    /* a has the extra byte at i. */
    return is_digit(a[i]) || (i > 0 && a[i - 1] == a[i]) ||
           (i + 1 < al && a[i + 1] == a[i]);
}

static bool
check_edit_1(const struct lookalike_db *db, const char *reg, size_t rl,
             size_t *which)
{
    size_t nl = name_len(reg, rl);
    size_t lo = rl > 1 ? rl - 1 : 0;
    size_t hi = rl + 1 < LOOKALIKE_DOMAIN_MAX ? rl + 1 : LOOKALIKE_DOMAIN_MAX;
    /* A name walked has pl >= LOOKALIKE_EDIT_MIN bytes, so rl >= pl - 1
     * >= 4 whenever the walk runs: reg[1] is there. */
    unsigned r0 = rl > 1 ? (uint8_t)reg[0] : 0;
    unsigned r1 = rl > 1 ? (uint8_t)reg[1] : 0;

    for (size_t i = db->edit_start[lo]; i < db->edit_start[hi + 1]; i++) {
        unsigned p0 = db->edit_heads[i] & 0xFFu;
        unsigned p1 = db->edit_heads[i] >> 8;
        uint32_t j;
        const char *p;
        size_t pl;
        size_t pn;

        /* One edit after the first byte keeps it (p0 == r0); one at it
         * keeps what follows: the second bytes agree (a byte changed),
         * or one name's second byte is the other's first (a byte added
         * or dropped).  That rejects most names before is_edit_1, where
         * the last byte (the TLD's, 'm' of nearly every .com) did not. */
        if (p0 != r0 && p1 != r1 && p1 != r0 && p0 != r1) {
            continue;
        }
        j = db->edit_by_len[i];
        p = db->names[j];
        pl = db->len[j];
        pn = db->label_len[j];
        /* Only edit candidates (is_edit_candidate) are walked. */
        if (pn == nl && same_bytes(p, reg, nl)) {
            continue;
        }
        if (is_edit_1(reg, rl, p, pl) && edit_is_slip(reg, rl, p, pl, pn)) {
            *which = j;
            return true;
        }
    }
    return false;
}

static bool
host_is_mixed_script(const char *host, size_t len)
{
    size_t start = 0;

    /* A label is IDN (is_idn_label) by a byte >= 0x80 or an "xn--"
     * prefix, which has a '-': a host with neither has none, known
     * without the walk over its labels (issue #7: nearly every host). */
    if (!has_non_ascii(host, len) && memchr(host, '-', len) == NULL) {
        return false;
    }
    for (size_t i = 0; i <= len; i++) {
        if (i < len && host[i] != '.') {
            continue;
        }
        if (is_idn_label(host + start, i - start)) {
            unsigned cp[LOOKALIKE_LABEL_CPS];
            size_t n = label_code_points(host + start, i - start, cp,
                                         LOOKALIKE_LABEL_CPS);

            if (is_mixed_script(cp, n)) {
                return true;
            }
        }
        start = i + 1;
    }
    return false;
}

enum lookalike_kind
lookalike_check(const struct lookalike_db *db, const char *host, size_t len,
                size_t *which)
{
    const char *reg = host;
    size_t rl = 0;

    if (len > 0 && len <= LOOKALIKE_DOMAIN_MAX &&
        !url_host_is_ip(host, len)) {
        rl = url_registered_domain(host, len, &reg);
    }
    return lookalike_check_reg(db, host, len, reg, rl, which);
}

enum lookalike_kind
lookalike_check_reg(const struct lookalike_db *db, const char *host,
                    size_t len, const char *reg, size_t rl, size_t *which)
{
    size_t nl;
    size_t dummy;

    if (which == NULL) {
        which = &dummy;
    }
    *which = SIZE_MAX;
    if (len == 0 || len > LOOKALIKE_DOMAIN_MAX || url_host_is_ip(host, len)) {
        return LOOKALIKE_NONE;
    }
    if (rl == 0 || lookalike_is_protected(db, reg, rl)) {
        return LOOKALIKE_NONE;
    }
    if (host_is_mixed_script(host, len)) {
        return LOOKALIKE_MIXED_SCRIPT;
    }
    if (db == NULL || db->n == 0) {
        return LOOKALIKE_NONE;
    }
    nl = name_len(reg, rl);
    if (check_skeleton(db, reg, nl, which) != LOOKALIKE_NONE) {
        return LOOKALIKE_CONFUSABLE;
    }
    if (check_brand_labels(db, host, (size_t)(reg - host), nl, which)) {
        return LOOKALIKE_BRAND_LABEL;
    }
    if (check_edit_1(db, reg, rl, which)) {
        return LOOKALIKE_EDIT_1;
    }
    return LOOKALIKE_NONE;
}

bool
lookalike_is_brand(const struct lookalike_db *db, size_t i)
{
    return db != NULL && i < db->n && db->is_brand[i];
}

/* Brand names that are also first names, surnames or everyday words in
 * a display name ("Chase Miller", "Market Outlook", "Salon Booking",
 * "Blockchain Weekly"): there they claim no brand.  In host labels they
 * still do ("chase-secure.example"). */
static bool
is_common_display_word(const char *w, size_t len)
{
    static const struct listed_word words[] = {
        LISTED("chase"), LISTED("booking"), LISTED("outlook"),
        LISTED("blockchain"), LISTED("santander")};

    return in_word_list(words, sizeof(words) / sizeof(words[0]), w, len);
}

/* The ASCII letter an accented Latin-1 letter is written with ("Itaú"
 * is "itau"), lower-case; 0 for anything else. */
static unsigned
fold_latin1(unsigned c)
{
    /* U+00C0..U+00FF; '-' where no one letter stands for it (Æ, ×, Þ, ß). */
    static const char base[] = "aaaaaa-ceeeeiiiidnooooo-ouuuuy--"
                               "aaaaaa-ceeeeiiiidnooooo-ouuuuy-y";

    if (c < 0xC0 || c > 0xFF || base[c - 0xC0] == '-') {
        return 0;
    }
    return (unsigned char)base[c - 0xC0];
}

/* The ASCII letter or digit (lower case) a styled one stands for, or 0:
 * fullwidth forms (U+FF10..FF19, FF21..FF3A, FF41..FF5A) and the
 * mathematical alphanumerics (U+1D400..1D6A3: bold, italic, script,
 * fraktur, double-struck, sans-serif and monospace, A-Z then a-z each;
 * U+1D7CE..1D7FF: five sets of digits).  A mail client shows
 * "\uff30\uff41\uff59\uff30\uff41\uff4c" or
 * "\U0001d40f\U0001d41a\U0001d432..." as PayPal in another type face. */
static unsigned
fold_styled(unsigned c)
{
    if (c >= 0xFF10 && c <= 0xFF5A) {
        unsigned a = c - 0xFEE0u; /* fullwidth to ASCII */

        if ((a >= '0' && a <= '9') || (a >= 'a' && a <= 'z')) {
            return a;
        }
        return a >= 'A' && a <= 'Z' ? a + 32u : 0;
    }
    if (c >= 0x1D400 && c <= 0x1D6A3) {
        unsigned k = (c - 0x1D400u) % 52u;

        return 'a' + (k < 26 ? k : k - 26);
    }
    if (c >= 0x1D7CE && c <= 0x1D7FF) {
        return '0' + (c - 0x1D7CEu) % 10u;
    }
    return 0;
}

/* Does the word (or words run together) claim a brand?  Not the From
 * domain's own name, nor a brand name that is also an everyday word. */
static bool
claims_brand(const struct lookalike_db *db, const char *w, size_t wl,
             const char *own, size_t own_len, size_t *which)
{
    return wl > 0 && !(wl == own_len && memcmp(w, own, own_len) == 0) &&
           !is_common_display_word(w, wl) && is_brand(db, w, wl, which);
}

/* Does the word end a brand claim, alone or run together with the one
 * or two words before it (prev[0] the last)? */
static bool
claims_brand_run(const struct lookalike_db *db, const char *w, size_t wl,
                 char prev[2][LOOKALIKE_DOMAIN_MAX + 1], const size_t *pl,
                 const char *own, size_t own_len, size_t *which)
{
    char joined[LOOKALIKE_DOMAIN_MAX + 1];
    size_t jl = wl; /* length of prev[k] .. prev[0] and w together */

    if (claims_brand(db, w, wl, own, own_len, which)) {
        return true;
    }
    for (size_t k = 0; k < 2 && pl[k] > 0; k++) {
        size_t at = 0;

        jl += pl[k];
        if (jl > LOOKALIKE_DOMAIN_MAX) {
            return false;
        }
        for (size_t j = k + 1; j-- > 0;) {
            memcpy(joined + at, prev[j], pl[j]);
            at += pl[j];
        }
        memcpy(joined + at, w, wl);
        if (claims_brand(db, joined, jl, own, own_len, which)) {
            return true;
        }
    }
    return false;
}

/* A display-name word as a reader may take it: a capital I where a
 * small l belongs ("PayPaI", "AppIe") or a small l for a capital I
 * ("MlCROSOFT") -- one glyph in most sans-serif faces. */
struct misread {
    char i_as_l[LOOKALIKE_DOMAIN_MAX + 1];
    char l_as_i[LOOKALIKE_DOMAIN_MAX + 1];
    bool has_cap_i;
    bool has_small_l;
};

/* Letter c (lower-cased; raw as written) at position at of the word. */
static void
misread_add(struct misread *m, size_t at, unsigned raw, char c)
{
    m->i_as_l[at] = raw == 'I' ? 'l' : c;
    m->l_as_i[at] = raw == 'l' ? 'i' : c;
    m->has_cap_i |= raw == 'I';
    m->has_small_l |= raw == 'l';
}

/* Does the word (wl letters), misread, claim a brand?  The flags are
 * cleared for the next word. */
static bool
claims_brand_misread(const struct lookalike_db *db, struct misread *m,
                     size_t wl, const char *own, size_t own_len,
                     size_t *which)
{
    bool claims =
        (m->has_cap_i && claims_brand(db, m->i_as_l, wl, own, own_len,
                                      which)) ||
        (m->has_small_l && claims_brand(db, m->l_as_i, wl, own, own_len,
                                        which));

    m->has_cap_i = false;
    m->has_small_l = false;
    return claims;
}

/* Letters and digits of a display name, lower-cased, as words; what
 * does not show (invisibles, combining marks) is left out of them, and
 * accents are dropped.  A brand may be one word or two or three run
 * together ("Wells Fargo", "Bank of America"). */
bool
lookalike_display_name(const struct lookalike_db *db, const char *name,
                       size_t len, const char *from_host, size_t from_len,
                       bool from_anyone, size_t *which)
{
    const char *reg = NULL;
    size_t rl = from_len > 0
                    ? url_registered_domain(from_host, from_len, &reg)
                    : 0;

    return lookalike_display_name_reg(db, name, len, reg, rl, from_anyone,
                                      which);
}

bool
lookalike_display_name_reg(const struct lookalike_db *db, const char *name,
                           size_t len, const char *reg, size_t rl,
                           bool from_anyone, size_t *which)
{
    size_t nl = rl > 0 ? name_len(reg, rl) : 0;
    char word[LOOKALIKE_DOMAIN_MAX + 1];
    char prev[2][LOOKALIKE_DOMAIN_MAX + 1]; /* the last two words */
    size_t pl[2] = {0, 0};
    size_t wl = 0;
    size_t dummy;
    struct misread mr;

    mr.has_cap_i = false;
    mr.has_small_l = false;
    if (which == NULL) {
        which = &dummy;
    }
    if (db == NULL || db->n_brand == 0 ||
        (rl > 0 && !from_anyone && lookalike_is_protected(db, reg, rl))) {
        return false;
    }
    for (size_t i = 0; i <= len;) {
        unsigned c = ' '; /* past the end: the last word ends */
        unsigned raw;

        if (i < len) {
            c = next_code_point(name, len, &i);
        } else {
            i++;
        }
        raw = c;

        /* "A\u073fm\u073fazon", "P\u200dr\u200dime": what does not show
         * does not split the word it hides in, nor do accents. */
        if (is_invisible(c) || is_disguise_mark(c) ||
            (c >= 0x300 && c <= 0x36F)) {
            continue;
        }
        if (c >= 'A' && c <= 'Z') {
            c += 32;
        } else if (c >= 0xC0) {
            unsigned base = c <= 0xFF ? fold_latin1(c) : fold_styled(c);

            c = base != 0 ? base : c;
        }
        if (((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) &&
            wl + 1 < sizeof(word)) {
            misread_add(&mr, wl, raw, (char)c);
            word[wl++] = (char)c;
            continue;
        }
        if (wl == 0) {
            continue;
        }
        if (claims_brand_run(db, word, wl, prev, pl, reg, nl, which) ||
            claims_brand_misread(db, &mr, wl, reg, nl, which)) {
            return true;
        }
        memcpy(prev[1], prev[0], pl[0]);
        pl[1] = pl[0];
        memcpy(prev[0], word, wl);
        pl[0] = wl;
        wl = 0;
    }
    return false;
}

const char *
lookalike_kind_name(enum lookalike_kind k)
{
    switch (k) {
    case LOOKALIKE_MIXED_SCRIPT:
        return "mixed-script";
    case LOOKALIKE_CONFUSABLE:
        return "confusable";
    case LOOKALIKE_BRAND_LABEL:
        return "brand-label";
    case LOOKALIKE_EDIT_1:
        return "edit-1";
    case LOOKALIKE_NONE:
        break;
    }
    return "none";
}
