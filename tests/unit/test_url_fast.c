/*
 * test_url_fast.c -- url.c's fast paths against simple references kept
 * here: url_host without its short cuts (the wide-form fold and the
 * IDNA step run on every host, its last '@' and ':' found and its
 * control bytes tested byte by byte) and url_registered_domain with a
 * linear scan of the suffix table instead of its hash set.  Edge hosts
 * and thousands of pseudo-random ones (fixed seed) built from suffix
 * labels, dots, digits, percent escapes, userinfo, ports, brackets and
 * non-ASCII bytes must give the same bytes, lengths and flags.  Every
 * input sits at the end of its own allocation, so an ASan build catches
 * a read past it.
 *
 * url.c is included: the suffix table and the host helpers are static.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/url.c"

#define HOST_CAP 300

/* The bytes that end a host, written out as url.c's table was made
 * from them. */
static bool
ref_auth_stop(uint8_t c)
{
    return c == '/' || c == '\\' || c == '?' || c == '#' || c <= ' ' ||
           c == '<' || c == '>' || c == '"' || c == '\'' || c == 0x7F;
}

/* The reference host: url_host as it was before the ASCII short cut,
 * folding wide forms and asking IDNA for every host. */
static size_t
ref_url_host(const char *url, size_t url_len, char *out, size_t out_max,
             unsigned *flags)
{
    size_t as;
    size_t ae;
    size_t hs;
    size_t he;
    size_t o = 0;
    unsigned f = 0;
    uint32_t addr;
    bool is_odd = false;

    if (out_max == 0) {
        return 0;
    }
    out[0] = '\0';
    if (!url_authority(url, url_len, &as, &ae, &f)) {
        return 0;
    }
    hs = as;
    if (!(f & URL_IS_MAILTO)) {
        for (size_t k = as; k < ae; k++) {
            if (url[k] == '@') {
                hs = k + 1;
                f |= URL_HAS_USERINFO;
            }
        }
    }
    he = hs;
    while (he < ae && !ref_auth_stop((uint8_t)url[he])) {
        he++;
    }
    if (hs < he && url[hs] == '[') {
        size_t k = hs;
        while (k < he && url[k] != ']') {
            k++;
        }
        if (k < he) {
            k++;
        }
        if (k < he && url[k] == ':') {
            f |= URL_HAS_PORT;
        }
        he = k;
        f |= URL_IS_IP;
    } else {
        for (size_t k = he; k > hs; k--) {
            if (url[k - 1] == ':') {
                he = k - 1;
                f |= URL_HAS_PORT;
                break;
            }
        }
    }
    for (size_t k = hs; k < he; k++) {
        uint8_t c = (uint8_t)url[k];
        if (c == '%' && k + 2 < he) {
            int hi = hexval((uint8_t)url[k + 1]);
            int lo = hexval((uint8_t)url[k + 2]);
            if (hi >= 0 && lo >= 0) {
                c = (uint8_t)(hi * 16 + lo);
                k += 2;
                f |= URL_PCT_HOST;
            }
        }
        if (c < ' ' || c == 0x7F) {
            break;
        }
        if (o + 1 >= out_max || o >= URL_HOST_MAX_BYTES) {
            out[0] = '\0';
            return 0;
        }
        out[o++] = (char)url_lower(c);
    }
    o = fold_wide_host(out, o);
    while (o > 0 && out[o - 1] == '.') {
        o--;
    }
    out[o] = '\0';
    if ((f & URL_IS_IP) && out_max >= URL_IPV6_TEXT_MAX) {
        o = ipv6_canonical(out, o);
    }
    o = url_host_to_ascii(out, o, out_max);
    if (o > 0 && !(f & URL_IS_IP) && last_label_numeric(out, o) &&
        url_parse_ipv4(out, o, &addr, &is_odd)) {
        f |= URL_IS_IP;
        if (is_odd) {
            f |= URL_IS_ODD_IP;
        }
        if (out_max >= 16) {
            o = ipv4_format(addr, out);
        }
    }
    *flags |= f;
    return o;
}

/* The reference suffix test: a linear scan of the table. */
static bool
ref_suffix_known(const char *s, size_t n)
{
    for (size_t i = 0; i < URL_N_SUFFIXES; i++) {
        if (strlen(url_suffixes[i]) == n &&
            memcmp(url_suffixes[i], s, n) == 0) {
            return true;
        }
    }
    return false;
}

/* The reference registered domain, written from its contract: one
 * label more than the longest table suffix (three labels, then two) the
 * host ends in, the host itself when it is one, else its last two
 * labels. */
static size_t
ref_registered_domain(const char *host, size_t host_len, const char **out)
{
    size_t dots[64];
    size_t n_dots = 0;

    while (host_len > 0 && host[host_len - 1] == '.') {
        host_len--;
    }
    *out = host;
    if (host_len == 0 || url_host_is_ip(host, host_len)) {
        return host_len;
    }
    for (size_t k = host_len; k > 0 && n_dots < 64; k--) {
        if (host[k - 1] == '.') {
            dots[n_dots++] = k - 1;
        }
    }
    for (size_t labels = 3; labels >= 2; labels--) {
        size_t s;
        if (n_dots + 1 < labels) {
            continue;
        }
        s = n_dots >= labels ? dots[labels - 1] + 1 : 0;
        if (!ref_suffix_known(host + s, host_len - s)) {
            continue;
        }
        if (n_dots < labels) {
            return host_len;
        }
        s = n_dots > labels ? dots[labels] + 1 : 0;
        *out = host + s;
        return host_len - s;
    }
    if (n_dots < 2) {
        return host_len;
    }
    *out = host + dots[1] + 1;
    return host_len - dots[1] - 1;
}

static uint32_t
rnd(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/* A copy of (p, n) at the end of its own allocation. */
static char *
tail_copy(const char *p, size_t n)
{
    char *q = malloc(n > 0 ? n : 1);

    assert_non_null(q);
    memcpy(q, p, n);
    return q;
}

static void
check_regdom(const char *h, size_t n)
{
    char *q = tail_copy(h, n);
    const char *a = NULL;
    const char *b = NULL;
    size_t an = url_registered_domain(q, n, &a);
    size_t bn = ref_registered_domain(q, n, &b);

    if (an != bn || a != b) {
        fail_msg("registered domain of \"%.*s\": %zu@%td, want %zu@%td",
                 (int)n, h, an, a - q, bn, b - q);
    }
    free(q);
}

static void
check_host(const char *u, size_t n)
{
    char *q = tail_copy(u, n);
    char a[HOST_CAP];
    char b[HOST_CAP];
    size_t caps[] = {HOST_CAP, 17, 5, 1};

    for (size_t c = 0; c < sizeof(caps) / sizeof(caps[0]); c++) {
        unsigned af = 0;
        unsigned bf = 0;
        size_t an = url_host(q, n, a, caps[c], &af);
        size_t bn = ref_url_host(q, n, b, caps[c], &bf);

        if (an != bn || af != bf || memcmp(a, b, an) != 0) {
            fail_msg("host of \"%.*s\" (cap %zu): \"%.*s\" %zu/%x, want "
                     "\"%.*s\" %zu/%x",
                     (int)n, u, caps[c], (int)an, a, an, af, (int)bn, b, bn,
                     bf);
        }
    }
    free(q);
}

static void
test_regdom_edges(void **state)
{
    static const char *const hosts[] = {
        "", ".", "..", "com", "co.uk", "a.co.uk", "a.b.co.uk", "www.co.uk.",
        "s3.amazonaws.com", "amazonaws.com", "x.s3.amazonaws.com",
        "y.x.s3.amazonaws.com", "000webhostapp.com", "a.000webhostapp.com",
        "a.b.c.d.e.f.example.com", "za.com", ".za.com", "a..za.com",
        "CO.UK", "a.CO.uk", "1.2.3.4", "[::1]", "a.1.2.3", "co.uk.x",
        "a.b.c.d", "x.zapto.org", "ab.ca", "a.ab.ca", "b.a.ab.ca",
        "com.", "a.com..", ".a.com", "a.b.c.d.co.uk", "a.b.c.d.e.co.uk"};

    (void)state;
    for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
        check_regdom(hosts[i], strlen(hosts[i]));
    }
    /* Every table suffix as a host, with one and two labels more, and
     * with a byte added or removed. */
    for (size_t i = 0; i < URL_N_SUFFIXES; i++) {
        char h[80];
        int n = snprintf(h, sizeof(h), "b.a.%s", url_suffixes[i]);

        assert_true(n > 0 && (size_t)n < sizeof(h));
        check_regdom(h + 4, (size_t)n - 4);
        check_regdom(h + 2, (size_t)n - 2);
        check_regdom(h, (size_t)n);
        check_regdom(h, (size_t)n - 1);
        check_regdom(h + 5, (size_t)n - 5);
    }
}

/* Pieces the random hosts are made of. */
static const char *const pieces[] = {
    ".", ".", ".", "co", "uk", "com", "org", "net", "github", "io", "s3",
    "amazonaws", "za", "au", "jp", "000webhostapp", "example", "a", "x1",
    "www", "Www", "CO", "0x7f", "1", "255", "09", "%41", "%2e", "%e3%80%82",
    "\xe3\x80\x82", "\xef\xbc\xa1", "\xef\xbd\x90", "\xc3\xa9", "\xff",
    "-", "_", "@", ":", ":80", "[", "]", "::1", "/", "?", "#", "\\", " ",
    "'", "\"", "<", "\t", "\x7f", "%00", "%1f", "%1F", "%7F", "%20",
    "xn--bcher-kva", "b\xc3\xbc" "cher"};
#define N_PIECES (sizeof(pieces) / sizeof(pieces[0]))

static size_t
random_text(uint32_t *seed, char *buf, size_t cap, size_t max_pieces)
{
    size_t n = 0;
    size_t k = rnd(seed) % max_pieces;

    for (size_t i = 0; i < k; i++) {
        const char *p = pieces[rnd(seed) % N_PIECES];
        size_t pl = strlen(p);
        if (n + pl >= cap) {
            break;
        }
        memcpy(buf + n, p, pl);
        n += pl;
    }
    return n;
}

static void
test_regdom_random(void **state)
{
    uint32_t seed = 0x2545f491u;
    char h[256];

    (void)state;
    for (int i = 0; i < 20000; i++) {
        size_t n = random_text(&seed, h, sizeof(h), 12);
        check_regdom(h, n);
    }
}

static void
test_host_edges(void **state)
{
    static const char *const urls[] = {
        "http://example.com/", "http://EXAMPLE.com:8080/x",
        "https://u:p@a.example/", "http://a\xe3\x80\x82" "example/",
        "http://\xef\xbd\x90" "aypal.com", "http://b\xc3\xbc" "cher.de/",
        "http://%62%c3%bc" "cher.de", "http://[::1]:80/", "http://[0:0::1]",
        "http://0x7f.1/", "http://1.2.3.4./", "www.example.com.",
        "mailto:a@b.example?x", "http://a.example's", "http:\\\\x.example",
        "http://\xff\xfe", "http://a%00b.example", "//host.example/p", ""};

    (void)state;
    for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
        check_host(urls[i], strlen(urls[i]));
    }
    /* Hosts about URL_HOST_MAX_BYTES long, plain and with an escape
     * (which decodes shorter): where the plain copy's one room check
     * and the escape loop's check per byte must agree. */
    for (size_t n = URL_HOST_MAX_BYTES - 3; n <= URL_HOST_MAX_BYTES + 3;
         n++) {
        char u[HOST_CAP];

        memcpy(u, "http://", 7);
        memset(u + 7, 'A', n);
        memcpy(u + 7 + n, "/p", 2);
        check_host(u, 7 + n + 2);
        memcpy(u + 7 + n / 2, "%41", 3);
        check_host(u, 7 + n + 2);
    }
}

static void
test_host_random(void **state)
{
    static const char *const schemes[] = {"http://", "https://", "www.",
                                          "HTTP:///", "//", "mailto:x@",
                                          "ftp://", "x:", ""};
    uint32_t seed = 0x9e3779b9u;
    char u[300];

    (void)state;
    for (int i = 0; i < 20000; i++) {
        const char *s = schemes[rnd(&seed) % (sizeof(schemes) /
                                              sizeof(schemes[0]))];
        size_t sl = strlen(s);
        size_t n;

        memcpy(u, s, sl);
        n = sl + random_text(&seed, u + sl, sizeof(u) - sl, 14);
        check_host(u, n);
    }
}

/* copy_plain_host's eight-byte steps against a byte loop: every byte
 * value at every position of hosts of 1 to 24 bytes (the rest random
 * letters, digits and dots), and random hosts of every length. */
static void
check_plain_copy(const char *h, size_t n)
{
    char *q = tail_copy(h, n);
    char a[HOST_CAP];
    char want[HOST_CAP];
    size_t an = 0;
    uint8_t ahigh = 0;
    uint8_t whigh = 0;
    bool has_pct = false;
    bool ok = copy_plain_host(q, n, a, sizeof(a), &an, &ahigh);

    for (size_t k = 0; k < n; k++) {
        whigh |= (uint8_t)h[k];
        has_pct |= h[k] == '%';
        want[k] = (char)url_lower((uint8_t)h[k]);
    }
    assert_int_equal(ok, !has_pct);
    if (ok) {
        assert_int_equal(an, n);
        assert_int_equal(ahigh, whigh);
        assert_memory_equal(a, want, n);
    }
    free(q);
}

static void
test_plain_copy(void **state)
{
    static const char fill[] = "abcxyzABCXYZ019.-";
    uint32_t seed = 0x1b873593u;
    char h[64];

    (void)state;
    for (size_t n = 1; n <= 24; n++) {
        for (size_t at = 0; at < n; at++) {
            for (unsigned c = 0; c < 256; c++) {
                for (size_t k = 0; k < n; k++) {
                    h[k] = fill[rnd(&seed) % (sizeof(fill) - 1)];
                }
                h[at] = (char)c;
                check_plain_copy(h, n);
            }
        }
    }
    for (int i = 0; i < 20000; i++) {
        size_t n = rnd(&seed) % sizeof(h);

        for (size_t k = 0; k < n; k++) {
            h[k] = (char)(rnd(&seed) % 4 == 0 ? (uint8_t)rnd(&seed)
                                              : (uint8_t)fill[rnd(&seed) % 17]);
        }
        check_plain_copy(h, n);
    }
}

/* url_is_shortener as it was before its first-letter filter: the walk
 * over every name, case folded. */
static bool
ref_is_shortener(const char *host, size_t len)
{
    if (len > 4 && (host[0] | 0x20) == 'w' && (host[1] | 0x20) == 'w' &&
        (host[2] | 0x20) == 'w' && host[3] == '.') {
        host += 4;
        len -= 4;
    }
    for (size_t i = 0; i < URL_N_SHORTENERS; i++) {
        const char *h = url_shorteners[i];
        size_t k = 0;

        while (k < len && h[k] != '\0' &&
               (char)url_lower((uint8_t)host[k]) == h[k]) {
            k++;
        }
        if (len > 0 && k == len && h[k] == '\0') {
            return true;
        }
    }
    return false;
}

static void
check_shortener(const char *h, size_t n)
{
    char *q = tail_copy(h, n);

    if (url_is_shortener(q, n) != ref_is_shortener(q, n)) {
        fail_msg("url_is_shortener(\"%.*s\") is %d", (int)n, h,
                 (int)url_is_shortener(q, n));
    }
    free(q);
}

/* Every name as written, upper-cased, behind "www." and one byte off
 * (each byte changed, dropped, or one added), and random short hosts
 * of name letters. */
static void
test_shortener(void **state)
{
    uint32_t seed = 0x85ebca6bu;
    char h[64];

    (void)state;
    for (size_t i = 0; i < URL_N_SHORTENERS; i++) {
        const char *name = url_shorteners[i];
        size_t n = strlen(name);

        check_shortener(name, n);
        for (size_t k = 0; k < n; k++) {
            h[k] = (char)(name[k] >= 'a' && name[k] <= 'z' ? name[k] - 32
                                                           : name[k]);
        }
        check_shortener(h, n);
        memcpy(h, "wWw.", 4);
        memcpy(h + 4, name, n);
        check_shortener(h, n + 4);
        for (size_t k = 0; k <= n; k++) {
            memcpy(h, name, n);
            memmove(h + k + 1, h + k, n - k);
            h[k] = 'o';
            check_shortener(h, n + 1); /* a byte added */
            memcpy(h, name, n);
            memmove(h + k, h + k + 1, n - k);
            check_shortener(h, n > 0 ? n - 1 : 0); /* a byte dropped */
            if (k < n) {
                for (unsigned c = 0; c < 256; c++) {
                    memcpy(h, name, n);
                    h[k] = (char)c;
                    check_shortener(h, n);
                }
            }
        }
    }
    for (int i = 0; i < 50000; i++) {
        static const char letters[] = "btgoivrcsuqlxwWB.dyTLn";
        size_t n = rnd(&seed) % 16;

        for (size_t k = 0; k < n; k++) {
            h[k] = letters[rnd(&seed) % (sizeof(letters) - 1)];
        }
        check_shortener(h, n);
    }
}

/* url_host_read's read_to: a URL with the same bytes up to and
 * including it, anything after, has the same host and flags (mime
 * takes them from the URL before on that word). */
static void
test_read_to(void **state)
{
    static const char *const schemes[] = {"http://", "https://", "www.",
                                          "HTTP:///", "//", "mailto:x@",
                                          "ftp://", "x:", ""};
    static const char tails[] = "/?#@:. a'\"<>\\,x\x01";
    uint32_t seed = 0x27d4eb2fu;
    char u[300];
    char v[300];

    (void)state;
    for (int i = 0; i < 20000; i++) {
        const char *sc = schemes[rnd(&seed) % (sizeof(schemes) /
                                               sizeof(schemes[0]))];
        size_t sl = strlen(sc);
        size_t n;
        size_t r;
        char a[HOST_CAP];
        char b[HOST_CAP];
        unsigned af = 0;
        unsigned bf = 0;
        size_t an;
        size_t bn;
        size_t vn;

        memcpy(u, sc, sl);
        n = sl + random_text(&seed, u + sl, sizeof(u) - sl, 14);
        an = url_host_read(u, n, a, sizeof(a), &af, &r);
        assert_int_equal(url_host(u, n, b, sizeof(b), &bf), an);
        assert_int_equal(af, bf);
        assert_true(r <= n);
        if (r == n) {
            continue;
        }
        memcpy(v, u, r + 1);
        vn = r + 1 + rnd(&seed) % 12;
        for (size_t k = r + 1; k < vn; k++) {
            v[k] = tails[rnd(&seed) % (sizeof(tails) - 1)];
        }
        {
            char *q = tail_copy(v, vn);

            bf = 0;
            bn = url_host(q, vn, b, sizeof(b), &bf);
            free(q);
        }
        if (an != bn || af != bf || memcmp(a, b, an) != 0) {
            fail_msg("\"%.*s\" read to %zu: \"%.*s\" %x, but \"%.*s\" "
                     "gives \"%.*s\" %x",
                     (int)n, u, r, (int)an, a, af, (int)vn, v, (int)bn, b, bf);
        }
    }
}

/* The byte table's authority end against the compares it replaced. */
static void
test_authority_end_table(void **state)
{
    (void)state;
    for (unsigned c = 0; c < 256; c++) {
        bool want = c == '/' || c == '\\' || c == '?' || c == '#' ||
                    c < ' ' || c == 0x7F;

        assert_int_equal(url_authority_end((uint8_t)c), want);
        /* url_host finds the authority's end with the host's stop: every
         * end byte must be a stop byte. */
        assert_int_equal((url_abyte[c] & URL_AB_STOP) != 0,
                         ref_auth_stop((uint8_t)c));
        if (want) {
            assert_true(ref_auth_stop((uint8_t)c));
        }
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_regdom_edges),
        cmocka_unit_test(test_regdom_random),
        cmocka_unit_test(test_host_edges),
        cmocka_unit_test(test_host_random),
        cmocka_unit_test(test_authority_end_table),
        cmocka_unit_test(test_plain_copy),
        cmocka_unit_test(test_shortener),
        cmocka_unit_test(test_read_to),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
