/*
 * test_url.c -- url_find, url_host, url_parse_ipv4, url_host_is_ip and
 * url_registered_domain.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "url.h"

/* All URLs url_find reports in text, joined with '|'. */
static void
find_all(const char *text, char *out, size_t max)
{
    size_t pos = 0;
    size_t s;
    size_t n;
    size_t o = 0;

    out[0] = '\0';
    while (url_find(text, strlen(text), &pos, &s, &n)) {
        assert_true(o + n + 2 < max);
        if (o > 0) {
            out[o++] = '|';
        }
        memcpy(out + o, text + s, n);
        o += n;
        out[o] = '\0';
    }
}

static void
test_url_find_forms(void **state)
{
    char out[512];

    (void)state;
    find_all("see http://a.example/x and HTTPS://B.example?q=1 now", out,
             sizeof(out));
    assert_string_equal(out, "http://a.example/x|HTTPS://B.example?q=1");
    find_all("www.c.example/page, next", out, sizeof(out));
    assert_string_equal(out, "www.c.example/page");
    find_all("<http://d.example/>\"http://e.example\"", out, sizeof(out));
    assert_string_equal(out, "http://d.example/|http://e.example");
    find_all("nothing here: http:// www. http://.x xhttp://f.example", out,
             sizeof(out));
    assert_string_equal(out, "");
    find_all("", out, sizeof(out));
    assert_string_equal(out, "");
}

static void
test_url_find_trailing_punctuation(void **state)
{
    char out[512];

    (void)state;
    find_all("Visit http://a.example/page. Then http://b.example!", out,
             sizeof(out));
    assert_string_equal(out, "http://a.example/page|http://b.example");
    find_all("(http://c.example/x) and http://w.example/A_(b)", out,
             sizeof(out));
    assert_string_equal(out, "http://c.example/x|http://w.example/A_(b)");
    find_all("end http://d.example/?a=1;", out, sizeof(out));
    assert_string_equal(out, "http://d.example/?a=1");
    /* Brackets: a closing one is kept while it closes one opened inside
     * the URL, through trailing punctuation and nesting. */
    find_all("[see http://e.example/a[1]] (http://f.example/B_(c)).",
             out, sizeof(out));
    assert_string_equal(out, "http://e.example/a[1]|http://f.example/B_(c)");
    find_all("x http://g.example/((a)))), y http://h.example/a)b]!", out,
             sizeof(out));
    assert_string_equal(out, "http://g.example/((a))|http://h.example/a)b");
}

static void
test_url_find_utf8_kept(void **state)
{
    char out[512];

    (void)state;
    find_all("go http://\xd0\xbf\xd1\x80.example/\xc3\xa9 now", out,
             sizeof(out));
    assert_string_equal(out, "http://\xd0\xbf\xd1\x80.example/\xc3\xa9");
}

static size_t
host(const char *url, char *out, unsigned *flags)
{
    *flags = 0;
    return url_host(url, strlen(url), out, URL_HOST_MAX_BYTES + 1, flags);
}

static void
test_url_host_basic(void **state)
{
    char h[URL_HOST_MAX_BYTES + 1];
    unsigned f;

    (void)state;
    assert_int_equal(host("http://Example.COM/path", h, &f), 11);
    assert_string_equal(h, "example.com");
    assert_int_equal(f, 0);
    host("https://user:pw@www.Example.com.:8443/x", h, &f);
    assert_string_equal(h, "www.example.com");
    assert_true(f & URL_HAS_USERINFO);
    assert_true(f & URL_HAS_PORT);
    host("//cdn.example.net/a.js", h, &f);
    assert_string_equal(h, "cdn.example.net");
    host("www.example.org/x", h, &f);
    assert_string_equal(h, "www.example.org");
    host("  http://a.example?q#f", h, &f);
    assert_string_equal(h, "a.example");
    host("mailto:Bob@Mail.Example?subject=x", h, &f);
    assert_string_equal(h, "mail.example");
    assert_true(f & URL_IS_MAILTO);
}

static void
test_url_host_none(void **state)
{
    char h[URL_HOST_MAX_BYTES + 1];
    unsigned f;

    (void)state;
    assert_int_equal(host("/relative/path", h, &f), 0);
    assert_string_equal(h, "");
    assert_int_equal(host("javascript:alert(1)", h, &f), 0);
    assert_int_equal(host("cid:part1@x", h, &f), 0);
    assert_int_equal(host("data:text/html,hi", h, &f), 0);
    assert_int_equal(host("mailto:nobody", h, &f), 0);
    assert_int_equal(host("", h, &f), 0);
    assert_int_equal(host("#top", h, &f), 0);
}

/* A "www." URL with a port, as url_find reports it from plain text: the
 * host name is no scheme, however short it is. */
static void
test_url_host_www_with_port(void **state)
{
    char h[URL_HOST_MAX_BYTES + 1];
    unsigned f;

    (void)state;
    assert_int_equal(host("www.evil.example:8080/login", h, &f), 16);
    assert_string_equal(h, "www.evil.example");
    assert_true(f & URL_HAS_PORT);
    host("WWW.Evil.Example:80", h, &f);
    assert_string_equal(h, "www.evil.example");
    /* Past 32 bytes it already worked: both lengths give the same. */
    host("www.a-much-longer-host-name.example:8080/", h, &f);
    assert_string_equal(h, "www.a-much-longer-host-name.example");
}

static void
test_url_host_browser_quirks(void **state)
{
    char h[URL_HOST_MAX_BYTES + 1];
    unsigned f;

    (void)state;
    /* Backslashes and extra slashes after a special scheme. */
    host("http:\\\\evil.example\\path", h, &f);
    assert_string_equal(h, "evil.example");
    host("https:///evil.example", h, &f);
    assert_string_equal(h, "evil.example");
    /* The last '@' wins: the part before it is userinfo. */
    host("http://good.example@evil.example/", h, &f);
    assert_string_equal(h, "evil.example");
    host("http://good.example%2F@evil.example/", h, &f);
    assert_string_equal(h, "evil.example");
    /* A browser's authority ends only at '/', '\\', '?' or '#': a
     * quote, blank or angle bracket before the '@' is userinfo (it is
     * percent-encoded there), so href="http://paypal.com'@evil.example/"
     * opens evil.example.  After the last '@' those bytes still end
     * the host, as before. */
    host("http://paypal.com'@evil.example/", h, &f);
    assert_string_equal(h, "evil.example");
    assert_true(f & URL_HAS_USERINFO);
    host("http://paypal.com @evil.example/", h, &f);
    assert_string_equal(h, "evil.example");
    host("http://paypal.com\"<>@evil.example:8080/", h, &f);
    assert_string_equal(h, "evil.example");
    assert_true(f & URL_HAS_PORT);
    host("http://a.example's/", h, &f);
    assert_string_equal(h, "a.example");
    assert_false(f & URL_HAS_USERINFO);
    host("http://a.example x/@b.example", h, &f);
    assert_string_equal(h, "a.example");
    host("mailto:u@b.example'x", h, &f);
    assert_string_equal(h, "b.example");
    /* Percent-encoded host. */
    host("http://%65vil.%45xample/", h, &f);
    assert_string_equal(h, "evil.example");
    assert_true(f & URL_PCT_HOST);
    /* IPv6 literal. */
    host("http://[2001:DB8::1]:80/", h, &f);
    assert_string_equal(h, "[2001:db8::1]");
    assert_true(f & URL_IS_IP);
    /* Every spelling of one IPv6 address is the one a browser
     * serialises (WHATWG URL 3.7: lower-case hex, no leading zeros, the
     * first longest run of two or more zero pieces as "::", no dotted
     * IPv4 tail), so lists and fingerprints see one host. */
    host("http://[2001:0DB8:0:0::0001]/", h, &f);
    assert_string_equal(h, "[2001:db8::1]");
    host("http://[0:0:0:0:0:0:0:1]/", h, &f);
    assert_string_equal(h, "[::1]");
    host("http://[::ffff:192.168.1.1]/", h, &f);
    assert_string_equal(h, "[::ffff:c0a8:101]");
    host("http://[1:0:0:2:0:0:0:3]/", h, &f);
    assert_string_equal(h, "[1:0:0:2::3]");
    host("http://[1:0:2:3:4:5:6:7]/", h, &f);
    assert_string_equal(h, "[1:0:2:3:4:5:6:7]");
    /* Not an address: kept as written (a browser refuses the URL). */
    host("http://[1::2::3]/", h, &f);
    assert_string_equal(h, "[1::2::3]");
    /* Wide dots and fullwidth letters and digits, raw or %-encoded:
     * browsers map them to ASCII (UTS #46), so the host is the ASCII
     * one. */
    host("https://evil\xe3\x80\x82" "example/", h, &f);
    assert_string_equal(h, "evil.example");
    host("https://paypal.com\xef\xbc\x8e" "evil\xef\xbd\xa1" "example/", h,
         &f);
    assert_string_equal(h, "paypal.com.evil.example");
    host("https://\xef\xbd\x90\xef\xbc\xa1ypal.com/", h, &f);
    assert_string_equal(h, "paypal.com");
    host("https://evil%E3%80%82example%EF%BD%A1/", h, &f);
    assert_string_equal(h, "evil.example");
    host("http://\xef\xbc\x91\xef\xbc\x92\xef\xbc\x97.0.0.1/", h, &f);
    assert_string_equal(h, "127.0.0.1");
    assert_true(f & URL_IS_IP);
    /* An IDN host is the ASCII (punycode) name the browser looks up,
     * however it is written (raw UTF-8, %-encoded, upper case, already
     * punycode), so reputation lists and fingerprints see one name. */
    host("https://b\xc3\xbc" "cher.example/", h, &f);
    assert_string_equal(h, "xn--bcher-kva.example");
    host("https://B\xc3\x9c" "CHER.example/", h, &f);
    assert_string_equal(h, "xn--bcher-kva.example");
    host("https://b%C3%BCcher.example/", h, &f);
    assert_string_equal(h, "xn--bcher-kva.example");
    host("https://XN--BCHER-KVA.example/", h, &f);
    assert_string_equal(h, "xn--bcher-kva.example");
    host("https://p\xd0\xb0ypal.com/", h, &f); /* Cyrillic a */
    assert_string_equal(h, "xn--pypal-4ve.com");
    /* What does not convert (a cut sequence at the end, no valid name)
     * stays as it was; a cut sequence is no dot. */
    host("https://a.example\xe3\x80", h, &f);
    assert_string_equal(h, "a.example\xe3\x80");
}

static void
test_url_host_ip_forms(void **state)
{
    char h[URL_HOST_MAX_BYTES + 1];
    unsigned f;

    (void)state;
    host("http://192.168.1.10/", h, &f);
    assert_string_equal(h, "192.168.1.10");
    assert_true(f & URL_IS_IP);
    assert_false(f & URL_IS_ODD_IP);
    host("http://3232235777/", h, &f);
    assert_string_equal(h, "192.168.1.1");
    assert_true(f & URL_IS_ODD_IP);
    host("http://0xC0A80101/", h, &f);
    assert_string_equal(h, "192.168.1.1");
    assert_true(f & URL_IS_ODD_IP);
    host("http://0300.0250.1.1/", h, &f);
    assert_string_equal(h, "192.168.1.1");
    host("http://127.1/", h, &f);
    assert_string_equal(h, "127.0.0.1");
    /* Not addresses: a name label last, or too many parts. */
    host("http://1.2.3.example/", h, &f);
    assert_string_equal(h, "1.2.3.example");
    assert_false(f & URL_IS_IP);
    host("http://1.2.3.4.5/", h, &f);
    assert_string_equal(h, "1.2.3.4.5");
    assert_false(f & URL_IS_IP);
    host("http://256.1.1.1/", h, &f);
    assert_false(f & URL_IS_IP);
}

static void
test_url_host_too_long(void **state)
{
    char url[URL_HOST_MAX_BYTES + 64];
    char h[URL_HOST_MAX_BYTES + 1];
    char small[4];
    unsigned f = 0;

    (void)state;
    memcpy(url, "http://", 7);
    memset(url + 7, 'a', URL_HOST_MAX_BYTES);
    url[7 + URL_HOST_MAX_BYTES] = '\0';
    assert_int_equal(url_host(url, strlen(url), h, sizeof(h), &f),
                     URL_HOST_MAX_BYTES);
    url[7 + URL_HOST_MAX_BYTES] = 'a';
    url[8 + URL_HOST_MAX_BYTES] = '\0';
    assert_int_equal(url_host(url, strlen(url), h, sizeof(h), &f), 0);
    assert_int_equal(url_host("http://abcd/", 12, small, sizeof(small), &f),
                     0);
    assert_int_equal(url_host("http://abc/", 11, small, sizeof(small), &f),
                     3);
}

static void
test_url_parse_ipv4(void **state)
{
    uint32_t a;
    bool is_odd;

    (void)state;
    assert_true(url_parse_ipv4("10.0.0.1", 8, &a, &is_odd));
    assert_int_equal(a, 0x0A000001u);
    assert_false(is_odd);
    assert_true(url_parse_ipv4("4294967295", 10, &a, &is_odd));
    assert_int_equal(a, 0xFFFFFFFFu);
    assert_true(is_odd);
    assert_false(url_parse_ipv4("4294967296", 10, &a, &is_odd));
    assert_false(url_parse_ipv4("1..2", 4, &a, &is_odd));
    assert_false(url_parse_ipv4("08.1.1.1", 8, &a, &is_odd));
    assert_false(url_parse_ipv4("0x", 2, &a, &is_odd));
    assert_false(url_parse_ipv4("", 0, &a, &is_odd));
    /* Every part starts with a digit. */
    assert_false(url_parse_ipv4("a1.2.3.4", 8, &a, &is_odd));
    assert_false(url_parse_ipv4(".1.2.3", 6, &a, &is_odd));
    assert_false(url_parse_ipv4("x7f.1", 5, &a, &is_odd));
    assert_true(url_parse_ipv4("0x7f.1", 6, &a, &is_odd));
    assert_int_equal(a, 0x7F000001u);
    assert_true(is_odd);
    assert_true(url_host_is_ip("1.2.3.4", 7));
    assert_true(url_host_is_ip("[::1]", 5));
    assert_false(url_host_is_ip("example.com", 11));
    assert_false(url_host_is_ip("3232235777", 10));
}

static const char *
regdom(const char *h)
{
    static char out[300];
    const char *p = NULL;
    size_t n = url_registered_domain(h, strlen(h), &p);

    assert_true(p >= h && p + n <= h + strlen(h));
    memcpy(out, p, n);
    out[n] = '\0';
    return out;
}

/* One shortener list for features and rules: case and "www." do not
 * matter, a longer or shorter name does not match. */
static void
test_url_is_shortener(void **state)
{
    (void)state;
    assert_true(url_is_shortener("bit.ly", 6));
    assert_true(url_is_shortener("WWW.Bit.Ly", 10));
    assert_true(url_is_shortener("clck.ru", 7));
    assert_false(url_is_shortener("bit.lyx", 7));
    assert_false(url_is_shortener("t.c", 3));
    assert_false(url_is_shortener("at.co", 5));
    assert_false(url_is_shortener("www.", 4));
    assert_false(url_is_shortener("", 0));
    assert_false(url_is_shortener("example.com", 11));
    /* The longest names, with and without "www.", and one byte more. */
    assert_true(url_is_shortener("shorturl.at", 11));
    assert_true(url_is_shortener("www.TinyURL.com", 15));
    assert_false(url_is_shortener("xshorturl.at", 12));
    assert_false(url_is_shortener("www.tinyurl.comx", 16));
}

static void
test_url_registered_domain(void **state)
{
    (void)state;
    assert_string_equal(regdom("www.example.com"), "example.com");
    assert_string_equal(regdom("a.b.c.example.com"), "example.com");
    assert_string_equal(regdom("example.com"), "example.com");
    assert_string_equal(regdom("localhost"), "localhost");
    assert_string_equal(regdom("mail.example.co.uk"), "example.co.uk");
    assert_string_equal(regdom("example.co.uk"), "example.co.uk");
    assert_string_equal(regdom("co.uk"), "co.uk");
    assert_string_equal(regdom("shop.example.com.au"), "example.com.au");
    assert_string_equal(regdom("x.y.example.co.jp"), "example.co.jp");
    assert_string_equal(regdom("loja.example.com.br"), "example.com.br");
    assert_string_equal(regdom("www.afip.gov.ar"), "afip.gov.ar");
    assert_string_equal(regdom("evil.github.io"), "evil.github.io");
    assert_string_equal(regdom("a.evil.github.io"), "evil.github.io");
    assert_string_equal(regdom("b.bucket.s3.amazonaws.com"),
                        "bucket.s3.amazonaws.com");
    assert_string_equal(regdom("192.168.1.1"), "192.168.1.1");
    assert_string_equal(regdom("[::1]"), "[::1]");
    assert_string_equal(regdom("www.example.com."), "example.com");
    assert_string_equal(regdom(""), "");
    assert_string_equal(regdom("."), "");
}

/* Suffix lookups at the edges of the sorted table and of its entries:
 * a host that is a prefix of a suffix, or a suffix plus one byte, is not
 * that suffix. */
static void
test_url_registered_domain_suffix_edges(void **state)
{
    (void)state;
    assert_string_equal(regdom("a.b.000webhostapp.com"),
                        "b.000webhostapp.com");
    assert_string_equal(regdom("a.b.zapto.org"), "b.zapto.org");
    assert_string_equal(regdom("a.b.za.com"), "b.za.com");
    assert_string_equal(regdom("a.example.co.u"), "co.u");
    assert_string_equal(regdom("a.example.co.ukk"), "co.ukk");
    assert_string_equal(regdom("a.example.o.uk"), "o.uk");
    assert_string_equal(regdom("a.example.zz.zz"), "zz.zz");
    assert_string_equal(regdom("a.example.0.uk"), "0.uk");
    assert_string_equal(regdom("a.b.\xc3\xa9.uk"), "\xc3\xa9.uk");
}

/*
 * url_find tests eight bytes at a time for a start byte: a URL must be
 * found at every offset from a block boundary, after filler holding every
 * byte that is not a start byte (including ones that differ from h, H, w
 * or W by one bit), and a start byte that begins no URL must not hide a
 * later one in the same block.
 */
static void
test_url_find_at_every_offset(void **state)
{
    static const char url[] = "http://a.example/x";
    char filler[256];
    size_t n_fill = 0;
    char text[512];

    (void)state;
    for (unsigned c = 1; c < 256; c++) {
        if (c != 'h' && c != 'H' && c != 'w' && c != 'W' && c != ' ') {
            filler[n_fill++] = (char)c;
        }
    }
    for (size_t off = 0; off < 40; off++) {
        const char *prefixes[] = {"", "wh ", "H w "};
        for (size_t k = 0; k < 3; k++) {
            size_t pos = 0;
            size_t s;
            size_t l;
            size_t pl = strlen(prefixes[k]);
            size_t at;

            memcpy(text, filler + 100 - off, off);
            text[off] = ' ';
            memcpy(text + off + 1, prefixes[k], pl);
            at = off + 1 + pl;
            memcpy(text + at, url, sizeof(url) - 1);
            text[at + sizeof(url) - 1] = ' ';
            memcpy(text + at + sizeof(url), filler, n_fill);
            assert_true(url_find(text, at + sizeof(url) + n_fill, &pos, &s,
                                 &l));
            assert_int_equal(s, at);
            assert_int_equal(l, sizeof(url) - 1);
            assert_false(url_find(text, at + sizeof(url) + n_fill, &pos, &s,
                                  &l));
        }
    }
}

static void
test_url_find_linear_on_hostile_text(void **state)
{
    size_t n = 1024 * 1024;
    char *t = malloc(n + 1);
    size_t pos = 0;
    size_t s;
    size_t l;
    size_t count = 0;

    (void)state;
    assert_non_null(t);
    /* One URL followed by a megabyte of closing parentheses. */
    memcpy(t, "http://x.example/", 17);
    memset(t + 17, ')', n - 17);
    t[n] = '\0';
    assert_true(url_find(t, n, &pos, &s, &l));
    assert_int_equal(l, 17);
    /* A megabyte of candidates that all fail. */
    for (size_t i = 0; i + 4 <= n; i += 4) {
        memcpy(t + i, "www ", 4);
    }
    pos = 0;
    while (url_find(t, n, &pos, &s, &l)) {
        count++;
    }
    assert_int_equal(count, 0);
    assert_int_equal(pos, n);
    free(t);
}

/* ---- url_find against a position-by-position reference -------------- */

static bool
ref_stop(uint8_t c)
{
    return c <= ' ' || c == 0x7F || c == '<' || c == '>' || c == '"' ||
           c == '`';
}

static bool
ref_prefix(const char *p, size_t len, const char *lit)
{
    size_t n = strlen(lit);

    if (len < n) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = p[i];

        if (c >= 'A' && c <= 'Z') {
            c = (char)(c + 32);
        }
        if (c != lit[i]) {
            return false;
        }
    }
    return true;
}

static size_t
ref_extent(const char *p, size_t len)
{
    size_t n = 0;
    size_t opens = 0;
    size_t closes = 0;
    size_t bopens = 0;
    size_t bcloses = 0;

    while (n < len && !ref_stop((uint8_t)p[n])) {
        opens += p[n] == '(';
        closes += p[n] == ')';
        bopens += p[n] == '[';
        bcloses += p[n] == ']';
        n++;
    }
    while (n > 0) {
        char c = p[n - 1];

        if (strchr(".,;:!?'*", c) != NULL && c != '\0') {
            n--;
        } else if (c == ')' && closes > opens) {
            closes--;
            n--;
        } else if (c == ']' && bcloses > bopens) {
            bcloses--;
            n--;
        } else {
            break;
        }
    }
    return n;
}

/* The documented rule, tried at every byte from *pos on: a prefix at a
 * word start, followed by a byte that can start a host. */
static bool
ref_find(const char *t, size_t len, size_t *pos, size_t *start, size_t *n)
{
    for (size_t i = *pos; i < len; i++) {
        size_t skip = 0;
        char b = i > 0 ? t[i - 1] : ' ';
        bool glued = (b >= '0' && b <= '9') || (b >= 'a' && b <= 'z') ||
                     (b >= 'A' && b <= 'Z') || b == '.' || b == '/';

        if (ref_prefix(t + i, len - i, "http://")) {
            skip = 7;
        } else if (ref_prefix(t + i, len - i, "https://")) {
            skip = 8;
        } else if (ref_prefix(t + i, len - i, "www.")) {
            skip = 4;
        }
        if (skip == 0 || glued || i + skip >= len ||
            ref_stop((uint8_t)t[i + skip]) || t[i + skip] == '.' ||
            t[i + skip] == '/') {
            continue;
        }
        *n = ref_extent(t + i, len - i);
        if (*n <= skip) {
            continue;
        }
        *start = i;
        *pos = i + *n;
        return true;
    }
    *pos = len;
    return false;
}

/* Random texts over the bytes the prefixes are made of, the anchors and
 * the bytes around them: url_find (which looks for the ':' and '.' of
 * the prefixes) reports what the byte-by-byte rule does. */
static void
test_url_find_matches_reference(void **state)
{
    static const char alphabet[] = "hHtTpPsSwW:/.  x1()[],\n\x80<";
    uint32_t r = 12345u;
    char text[96];

    (void)state;
    for (int round = 0; round < 20000; round++) {
        size_t len = 0;
        size_t pa = 0;
        size_t pb = 0;
        size_t sa = 0;
        size_t sb = 0;
        size_t na = 0;
        size_t nb = 0;
        bool fa = true;

        r = r * 1103515245u + 12345u;
        len = (r >> 16) % sizeof(text);
        for (size_t i = 0; i < len; i++) {
            r = r * 1103515245u + 12345u;
            /* Mostly whole prefixes, so that URLs do occur. */
            if ((r >> 24) % 6 == 0 && i + 8 <= len) {
                const char *const pre[] = {"http://", "https://", "www.",
                                           "HTTP://", "wWw."};
                const char *w = pre[(r >> 8) % 5];

                memcpy(text + i, w, strlen(w));
                i += strlen(w) - 1;
                continue;
            }
            text[i] = alphabet[(r >> 16) % (sizeof(alphabet) - 1)];
        }
        while (fa) {
            bool fb;

            fa = url_find(text, len, &pa, &sa, &na);
            fb = ref_find(text, len, &pb, &sb, &nb);
            assert_int_equal(fa, fb);
            assert_int_equal(pa, pb);
            if (fa) {
                assert_int_equal(sa, sb);
                assert_int_equal(na, nb);
            }
        }
    }
}

static void
test_url_userinfo_host(void **state)
{
    char out[64];

    (void)state;
    assert_int_equal(url_userinfo_host("https://www.PayPal.com@evil.example/",
                                       36, out, sizeof(out)),
                     14);
    assert_string_equal(out, "www.paypal.com");
    /* The password is no part of the name; the last '@' ends it. */
    assert_int_equal(url_userinfo_host("http://paypal.com.:pw@x@evil.example",
                                       36, out, sizeof(out)),
                     10);
    assert_string_equal(out, "paypal.com");
    /* No userinfo, no dot, not a host name's bytes, mailto, too long. */
    assert_int_equal(url_userinfo_host("https://evil.example/a@b", 24, out,
                                       sizeof(out)),
                     0);
    assert_int_equal(url_userinfo_host("https://user@evil.example/", 26, out,
                                       sizeof(out)),
                     0);
    assert_int_equal(url_userinfo_host("https://a%2eb@evil.example/", 27,
                                       out, sizeof(out)),
                     0);
    assert_int_equal(url_userinfo_host("mailto:a.b@evil.example", 23, out,
                                       sizeof(out)),
                     0);
    assert_int_equal(url_userinfo_host("https://www.paypal.com@evil.example/",
                                       36, out, 8),
                     0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url_find_forms),
        cmocka_unit_test(test_url_find_trailing_punctuation),
        cmocka_unit_test(test_url_find_utf8_kept),
        cmocka_unit_test(test_url_host_basic),
        cmocka_unit_test(test_url_userinfo_host),
        cmocka_unit_test(test_url_host_none),
        cmocka_unit_test(test_url_host_browser_quirks),
        cmocka_unit_test(test_url_host_www_with_port),
        cmocka_unit_test(test_url_host_ip_forms),
        cmocka_unit_test(test_url_host_too_long),
        cmocka_unit_test(test_url_parse_ipv4),
        cmocka_unit_test(test_url_registered_domain),
        cmocka_unit_test(test_url_find_linear_on_hostile_text),
        cmocka_unit_test(test_url_registered_domain_suffix_edges),
        cmocka_unit_test(test_url_is_shortener),
        cmocka_unit_test(test_url_find_at_every_offset),
        cmocka_unit_test(test_url_find_matches_reference),
    };

    return cmocka_run_group_tests_name("url", tests, NULL, NULL);
}
