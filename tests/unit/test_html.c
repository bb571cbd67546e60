/*
 * test_html.c -- html_to_text: text, blocks, dropped content, entities,
 * hidden text, tell-tale flags, links with anchor text, output cap and
 * hostile shapes; html_entity.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "caps.h"
#include "html.h"

#define MAX_LINKS 16

struct links {
    size_t n;
    enum html_link_kind kind[MAX_LINKS];
    char url[MAX_LINKS][MIME_URL_MAX_BYTES + 1];
    char anchor[MAX_LINKS][MIME_ANCHOR_MAX_BYTES + 1];
    size_t url_len[MAX_LINKS];
};

static void
on_link(void *ctx, enum html_link_kind kind, const char *url, size_t url_len,
        const char *anchor, size_t anchor_len)
{
    struct links *l = ctx;

    assert_true(url_len <= MIME_URL_MAX_BYTES);
    assert_true(anchor_len <= MIME_ANCHOR_MAX_BYTES);
    if (l->n >= MAX_LINKS) {
        return;
    }
    l->kind[l->n] = kind;
    memcpy(l->url[l->n], url, url_len);
    l->url[l->n][url_len] = '\0';
    l->url_len[l->n] = url_len;
    memcpy(l->anchor[l->n], anchor, anchor_len);
    l->anchor[l->n][anchor_len] = '\0';
    l->n++;
}

/* Render html into a static buffer; flags and links optional. */
static const char *
render(const char *html, unsigned *flags, struct links *l)
{
    static char out[8192];
    unsigned f = 0;
    size_t n;

    if (l != NULL) {
        memset(l, 0, sizeof(*l));
    }
    n = html_to_text((const uint8_t *)html, strlen(html), out,
                     sizeof(out) - 1, l != NULL ? on_link : NULL, l, &f);
    out[n] = '\0';
    if (flags != NULL) {
        *flags = f;
    }
    return out;
}

/* Each case renders as just "shown" (its "poison" hidden, as a browser
 * hides it) and is flagged as holding hidden text. */
static void
assert_each_hides_poison(const char *const *cases, size_t n)
{
    unsigned f;

    for (size_t i = 0; i < n; i++) {
        const char *t = render(cases[i], &f, NULL);

        if (strcmp(t, "shown") != 0) {
            print_error("%s\n", cases[i]);
        }
        assert_string_equal(t, "shown");
        assert_true(f & HTML_HIDDEN_TEXT);
    }
}

static void
test_html_text_and_blocks(void **state)
{
    (void)state;
    assert_string_equal(render("Hello   <b>big</b>\n\n world", NULL, NULL),
                        "Hello big world");
    assert_string_equal(render("<p>one</p><p>two<br>three</p>", NULL, NULL),
                        "one\ntwo\nthree");
    assert_string_equal(
        render("<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr>"
               "</table><ul><li>x<li>y</ul><h1>T</h1>z",
               NULL, NULL),
        "a b\nc\nx\ny\nT\nz");
    assert_string_equal(render("  <div> </div> lead", NULL, NULL), "lead");
    assert_string_equal(render("a < b and c<3 and <>", NULL, NULL),
                        "a < b and c<3 and <>");
    assert_string_equal(render("", NULL, NULL), "");
}

/* Tag and attribute names are folded and cut by one table (read_name);
 * attribute values are copied a plain run at a time (attr_decode). */
static void
test_html_names_and_values(void **state)
{
    struct links l;

    (void)state;
    /* Upper case and a name longer than the kept 16 bytes: only the full
     * name matches a known tag or attribute. */
    assert_string_equal(render("a<BLOCKQUOTE>b<blockquoteblockquote>c"
                               "</BlockQuote>d",
                               NULL, NULL),
                        "a\nbc\nd");
    /* "awsaueg" has the FNV-1a hash of "div": a tag that shares a known
     * tag's hash is no such tag, before or after that tag was seen. */
    assert_string_equal(render("<div>x</div><awsaueg>y</awsaueg>z<div>w"
                               "</div><AWSAUEG>v</awsaueg>u",
                               NULL, NULL),
                        "x\nyz\nw\nvu");
    render("<a hrefhrefhrefhrefhref=\"http://no.example/\" "
           "HREF=\"http://yes.example/\">x</a>",
           NULL, &l);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.url[0], "http://yes.example/");
    /* A name may start with '=' (and is no attribute we keep). */
    render("<img =src=\"http://no.example/\" src=http://img.example/>", NULL,
           &l);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.url[0], "http://img.example/");
    /* Control bytes dropped and entities decoded between plain runs;
     * blanks trimmed at both ends. */
    render("<a href=\" \thttp://x.example/a&amp;b\tc\nd\x7F&#x65;&zz; \">y</a>",
           NULL, &l);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.url[0], "http://x.example/a&bcde&zz;");
    assert_string_equal(l.anchor[0], "y");
}

/* Attribute values go through eight bytes at a time: a control byte,
 * DEL, an entity or an 8-bit byte at every offset from a block boundary
 * is still dropped, decoded or kept as byte by byte; blanks and indents
 * between words still join. */
static void
test_html_attr_every_offset(void **state)
{
    static const struct {
        const char *in;
        const char *out;
    } cases[] = {
        {"\t", ""},        {"\x01", ""},   {"\x7F", ""},  {"&amp;", "&"},
        {"&#x41;", "A"},   {"&zz;", "&zz;"}, {"\xc3\xa9", "\xc3\xa9"},
        {" ", " "},
    };
    static const char plain[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    struct links l;

    (void)state;
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        for (size_t off = 0; off < 20; off++) {
            char html[256];
            char want[128];

            snprintf(html, sizeof(html),
                     "<a href=\"http://x.example/%.*s%s%.17s\">y</a>",
                     (int)off, plain, cases[k].in, plain);
            snprintf(want, sizeof(want), "http://x.example/%.*s%s%.17s",
                     (int)off, plain, cases[k].out, plain);
            render(html, NULL, &l);
            assert_int_equal(l.n, 1);
            assert_string_equal(l.url[0], want);
        }
    }
    {
        char want[64];
        const char *r = render("<p>a</p>\nb\nc", NULL, NULL);

        assert_true(strlen(r) < sizeof(want));
        memcpy(want, r, strlen(r) + 1);
        assert_string_equal(render("<p>a</p>\n                    b\n"
                                   "\t\t        c",
                                   NULL, NULL),
                            want);
    }
}

/* Words and the single blanks between them go out as one run: the same
 * text, caps and separators as word by word. */
static void
test_html_word_runs(void **state)
{
    static const char html[] = "one two  three\tfour five<b>six</b> seven";
    char out[64];
    unsigned f = 0;
    size_t n;

    (void)state;
    assert_string_equal(render(html, NULL, NULL),
                        "one two three four fivesix seven");
    /* The blank a hidden run holds still separates what surrounds it. */
    assert_string_equal(
        render("a<span style=\"display:none\">x y</span>b", &f, NULL),
        "a b");
    assert_true(f & HTML_HIDDEN_TEXT);
    assert_string_equal(render("a<span hidden>x</span>b", NULL, NULL), "ab");
    /* Every output cap cuts where the word-by-word writer cut: the
     * first max bytes, separators included. */
    for (size_t max = 0; max <= 12; max++) {
        f = 0;
        n = html_to_text((const uint8_t *)"one two three", 13, out, max, NULL,
                         NULL, &f);
        assert_int_equal(n, max);
        assert_memory_equal(out, "one two three", n);
        if (max > 0) { /* no buffer at all: links and flags only */
            assert_true(f & HTML_OUT_CAPPED);
        }
    }
}

static void
test_html_dropped_content(void **state)
{
    unsigned f;

    (void)state;
    assert_string_equal(
        render("<html><head><title>T</title><meta charset=x>"
               "<style>body{color:red}</style></head>"
               "<body>A<script type=text/javascript>if (a<b) x();</script>B"
               "<!-- comment <p>hidden</p> -->C<!DOCTYPE html><?xml x?>D"
               "<STYLE>x</STYLE >E</body></html>",
               &f, NULL),
        "ABCDE");
    assert_true(f & HTML_HAS_SCRIPT);
    assert_false(f & HTML_HIDDEN_TEXT);
    /* An unclosed <head> swallows nothing. */
    assert_string_equal(render("text<head>more", NULL, NULL), "textmore");
    assert_string_equal(render("<html><head><title>t</title><p>Buy now",
                               NULL, NULL),
                        "Buy now");
    /* Outlook conditional comments. */
    assert_string_equal(render("a<!--[if mso]>b<![endif]-->c", NULL, NULL),
                        "ac");
    /* "<!-->" and "<!--->" are whole (empty) comments to a browser: the
     * text after them is shown, not dropped up to a later "-->". */
    assert_string_equal(render("<!-->Buy now<!-- x -->!", NULL, NULL),
                        "Buy now!");
    assert_string_equal(render("a<!--->b<!-- x -->c", NULL, NULL), "abc");
    assert_string_equal(render("a<!---", NULL, NULL), "a");
    /* "--!>" closes a comment as browsers read it: what follows is shown
     * (hiding it would let a sender show text the engine never sees). */
    assert_string_equal(render("a<!-- x --!>Buy now<!-- y -->!", NULL, NULL),
                        "aBuy now!");
    assert_string_equal(render("a<!-- x -!>b-->c", NULL, NULL), "ac");
}

static void
test_html_entities(void **state)
{
    uint32_t cp;

    (void)state;
    assert_string_equal(
        render("&lt;&gt;&amp;&quot;&apos;&copy;&reg;&euro;&hellip;&mdash;"
               "&ndash;&lsquo;&rsquo;&ldquo;&rdquo;&trade;&bull;&middot;",
               NULL, NULL),
        "<>&\"'\xc2\xa9\xc2\xae\xe2\x82\xac\xe2\x80\xa6\xe2\x80\x94"
        "\xe2\x80\x93\xe2\x80\x98\xe2\x80\x99\xe2\x80\x9c\xe2\x80\x9d"
        "\xe2\x84\xa2\xe2\x80\xa2\xc2\xb7");
    assert_string_equal(render("&#65;&#x42;&#X43;&#0;&#x110000;&#150;",
                               NULL, NULL),
                        "ABC\xef\xbf\xbd\xef\xbf\xbd\xe2\x80\x93");
    assert_string_equal(render("a&nbsp;&nbsp;b &amp c &unknown; &", NULL,
                               NULL),
                        "a b & c &unknown; &");
    /* Zero-width characters vanish so words are not split. */
    assert_string_equal(render("Vi&#8203;ag&zwnj;ra V\xe2\x80\x8bi"
                               "\xc2\xad" "a",
                               NULL, NULL),
                        "Viagra Via");
    assert_int_equal(html_entity((const uint8_t *)"amp;x", 5, &cp), 4);
    assert_int_equal(cp, '&');
    assert_int_equal(html_entity((const uint8_t *)"#x41", 4, &cp), 4);
    assert_int_equal(cp, 'A');
    assert_int_equal(html_entity((const uint8_t *)"zz;", 3, &cp), 0);
    assert_int_equal(html_entity((const uint8_t *)"", 0, &cp), 0);
    assert_int_equal(html_entity((const uint8_t *)"#;", 2, &cp), 0);
}

static void
test_html_hidden_text(void **state)
{
    static const char *const hidden[] = {
        "<div style=\"display: none\">poison</div>",
        "<span style='VISIBILITY:hidden'>poison</span>",
        "<p style=\"font-size:0px\">poison</p>",
        "<p style=\"font-size: 1px;\">poison</p>",
        "<div style=\"opacity:0\">poison</div>",
        "<div style=\"height:0;overflow:hidden\">poison</div>",
        "<div style=\"max-height:0px; overflow: hidden;\">poison</div>",
        "<div style=\"mso-hide:all\">poison</div>",
        "<div hidden>poison</div>",
        "<font size=1 color=#FFFFFF>poison</font>",
        "<font size=\"-2\" color=\"white\">poison</font>",
    };
    unsigned f;

    (void)state;
    for (size_t i = 0; i < sizeof(hidden) / sizeof(hidden[0]); i++) {
        char buf[256];
        const char *t;
        snprintf(buf, sizeof(buf), "seen %s shown", hidden[i]);
        t = render(buf, &f, NULL);
        assert_true(strcmp(t, "seen shown") == 0 ||
                    strcmp(t, "seen\nshown") == 0);
        assert_true(f & HTML_HIDDEN_TEXT);
    }
    /* Visible styles, and hidden elements with no text, are not flagged. */
    assert_string_equal(
        render("<p style=\"font-size:12px;height:0\">a</p>"
               "<font size=1>b</font><font color=white>c</font>"
               "<div style=\"display:none\"> </div><img style=display:none>",
               &f, NULL),
        "a\nbc");
    assert_false(f & HTML_HIDDEN_TEXT);
    /* Nesting inside a hidden element, and misnested closing. */
    assert_string_equal(
        render("<div style=display:none><p>x<span>y</span></p></div>z"
               "<div hidden><b>q</div>w",
               &f, NULL),
        "z\nw");
}

/* font-size is inherited: a tiny font (style font-size, or <font size=1
 * color=white>) hides its element's own text, but a descendant that sets
 * a readable font-size of its own shows its text (the inline-block gap
 * trick of email templates); em, % and the like stay relative to the
 * tiny size.  What hides outright (display:none, visibility, opacity,
 * mso-hide, hidden, a zero box, unrendered elements) hides everything
 * below it whatever font-size a descendant sets; so does <font size=1
 * color=white>, whose white a descendant's size does not change. */
static void
test_html_tiny_font_descendant(void **state)
{
    static const char *const cases[] = {
        "<table><tr><td style=\"font-size:0\">poison<span "
        "style=\"font-size:14px\">shown</span>poison</td></tr></table>",
        "<div style=\"font-size:0px\">poison<font size=3>shown</font>"
        "poison</div>",
        "<div style=\"font-size:1px\"><p style=\"font-size:1.5em\">poison"
        "</p><p style=\"font-size:120%\">poison</p><p style=\"font-size:"
        "larger\">poison</p><p style=\"font-size:medium\">shown</p></div>",
        "<div style=\"font-size:0\"><span style=\"font-size:16px\">shown"
        "<b style=\"font-size:0\">poison</b></span>poison</div>",
        "<div style=\"font-size:0\"><p style=\"font-size:12pt\"><b>shown"
        "</b></p>poison</div>",
        /* The last font-size of a style counts. */
        "<span style=\"font-size:14px;font-size:0\">poison</span>"
        "<span style=\"font-size:0;font-size:1rem\">shown</span>",
        /* Hiding outright is not undone by a readable font-size. */
        "<div style=\"display:none\"><span style=\"font-size:14px\">"
        "poison</span></div>shown",
        "<div style=\"font-size:14px;visibility:hidden\">poison</div>"
        "<div hidden><p style=\"font-size:16px\">poison</p></div>shown",
        "<div style=\"opacity:0\"><font size=4>poison</font></div>"
        "<div style=\"mso-hide:all\"><p style=\"font-size:16px\">"
        "poison</p></div>shown",
        "<div style=\"height:0;overflow:hidden\"><span style=\"font-size:"
        "16px\">poison</span></div><template><p style=\"font-size:16px\">"
        "poison</p></template>shown",
        "<font size=1 color=white><span style=\"font-size:14px\">poison"
        "</span><font size=3>poison</font></font>shown",
        "<div style=\"font-size:0\"><div hidden><p style=\"font-size:"
        "16px\">poison</p></div></div>shown",
        /* Moved by the adoption agency, the <p> inherits from the <div>
         * again once the <b> clone is closed. */
        "<div style=\"font-size:0\"><b style=\"font-size:14px\"><p>"
        "shown</b></b>poison</p></div>",
    };
    unsigned f;

    (void)state;
    assert_each_hides_poison(cases, sizeof(cases) / sizeof(cases[0]));
    /* A readable font-size in a readable page is no change. */
    assert_string_equal(
        render("<div style=\"font-size:14px\"><span style=\"font-size:"
               "1.2em\">a</span><font size=2>b</font></div>",
               &f, NULL),
        "ab");
    assert_false(f & HTML_HIDDEN_TEXT);
}

/* Elements a browser closes without an end tag (WHATWG 13.2.6.4.7, "in
 * body"): a hidden one must not hide what follows its implied end. */
static void
test_html_implied_end_tags(void **state)
{
    static const char *const shown[] = {
        /* <p> ends at the next <p>, a block start tag, its parent's end. */
        "<p style=\"display:none\">poison<p>shown",
        "<p hidden>poison<div>shown</div>",
        "<!DOCTYPE html><p hidden>poison<table><tr><td>shown</table>",
        "<?xml version=\"1.0\"?>\n<!-- x --><!DOCTYPE html PUBLIC \"-//W3C//"
        "DTD XHTML 1.0 Transitional//EN\" \"http://www.w3.org/TR/xhtml1/DTD/"
        "xhtml1-transitional.dtd\"><p hidden>poison<table><td>shown</table>",
        /* An empty comment before the DOCTYPE ends where a browser ends
         * it, so the DOCTYPE still counts. */
        "<!--><!DOCTYPE html><p hidden>poison<table><td>shown</table>",
        "<p hidden>poison<ul><li>shown</ul>",
        "<p hidden>poison<ol><li>shown</ol>",
        "<p hidden>poison<h2>shown</h2>",
        "<p hidden>poison<hr>shown",
        "<p hidden>poison<form>shown</form>",
        "<p hidden>poison<blockquote>shown</blockquote>",
        "<p hidden>poison<span>more poison<div>shown",
        "<div><p hidden>poison</div>shown",
        "<table><tr><td><p hidden>poison<div>shown</div></td></tr></table>",
        /* <li> at the next <li>, passing a <div> or <p> inside it. */
        "<ul><li hidden>poison<li>shown</ul>",
        "<ul><li hidden><div>poison<li>shown</ul>",
        /* <td>/<th> at the next cell or row, <tr> at the next row. */
        "<table><tr><td hidden>poison<td>shown</table>",
        "<table><tr><th hidden>poison<td>shown</table>",
        "<table><tr><td hidden><b>poison<th>shown</table>",
        "<table><tr><td hidden>poison<tr><td>shown</table>",
        "<table><tr hidden><td>poison<tr><td>shown</table>",
        "<table><tr><td hidden><table><tr><td>poison</table>poison"
        "<td>shown</table>",
        /* <option> at the next <option>. */
        "<select><option hidden>poison<option>shown</select>",
    };
    static const char *const hidden[] = {
        /* A <button> bounds where an open <p> is looked for, a nested
         * list where an open <li> is; a cell of an inner table does not
         * close the outer one. */
        "<p hidden><button>poison<div>poison</div></button></p>shown",
        "<ul><li hidden>poison<ul><li>poison</ul>poison</ul>shown",
        "<table><tr><td hidden><table><tr><td>poison<td>poison</table>"
        "poison</table>shown",
        /* Only a current <option> is closed by the next. */
        "<option hidden><b>poison<option>poison</b></option>shown",
        /* In quirks mode (no DOCTYPE, or an old one) a <table> does not
         * close an open <p>. */
        "<p hidden>poison<table><tr><td>poison</table></p>shown",
        "<p><span style=\"display:none\">poison<table><tr><td>poison"
        "</table></span>shown",
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.0 Transitional//EN\">"
        "<p hidden><table><td>poison</table></p>shown",
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01 Transitional//EN\">"
        "<p hidden><table><td>poison</table></p>shown",
    };

    (void)state;
    assert_each_hides_poison(shown, sizeof(shown) / sizeof(shown[0]));
    assert_each_hides_poison(hidden, sizeof(hidden) / sizeof(hidden[0]));
}

/* Any other end tag (WHATWG 13.2.6.4.7, "in body"): the innermost open
 * element of its name is closed unless an element of HTML's special
 * category comes first; then a browser ignores the end tag, and a hidden
 * element stays open past it. */
static void
test_html_end_tag_special_stop(void **state)
{
    static const char *const cases[] = {
        /* A special element between: the end tag is ignored. */
        "<span hidden>poison<div>poison</span>poison</div></span>shown",

        "<span style=display:none>poison<table><tr><td>poison</span>poison"
        "</td></tr></table></span>shown",
        "<span hidden>poison<b>poison<ul><li>poison</span>poison</ul>"
        "</span>shown",
        /* A formatting element's end tag runs the adoption agency: the
         * special element leaves the hidden <i>, which is closed (its
         * clone inside the <address> too), and the hidden <span>
         * between <b> and the <div> is left: what follows shows. */
        "<i hidden>poison<address>poison</i>shown</address>",
        "<font size=1 color=white>poison<p>poison</font>shown</p>",
        "<b><span hidden>poison<div>poison</b>shown</div>",
        "<b><span hidden>poison<div><span>poison</b>shown</span></div>",
        /* A cell bounds the scope: </b> inside it is ignored. */
        "<b><table><tr><td><span hidden>poison</b>poison</span>shown",
        /* Only non-special elements between: closed as before. */
        "<span hidden>poison<b>poison<i>poison</span>shown",
        "<font size=1 color=white>poison<a href=x>poison</font>shown",
        /* A special element's own end tag still closes across others. */
        "<div hidden><ul><li>poison</div>shown",
    };

    (void)state;
    assert_each_hides_poison(cases, sizeof(cases) / sizeof(cases[0]));
}

/* Foster parenting (WHATWG 13.2.6.4.9-11, "in table", "in table body",
 * "in row"): an element opened directly in a table, section or row is
 * moved before the table by a browser, and the next row, cell, section
 * or caption start tag clears the stack back to the table part first, so
 * it does not enclose the cells that follow: a hidden one there hides
 * nothing of them.  Each case shows exactly its text, unflagged. */
static void
test_html_foster_parenting(void **state)
{
    static const struct {
        const char *html;
        const char *text;
    } shown[] = {
        {"<table><font style=\"display:none\"><tr><td>BUY NOW</td></tr>"
         "</table>",
         "BUY NOW"},
        {"<table><tbody><span style=font-size:0><tr><td>BUY NOW",
         "BUY NOW"},
        {"<table><tr><div style=\"display:none\"><td>BUY NOW", "BUY NOW"},
        {"<table><tr><td>a</td><span hidden><td>b</td></tr></table>",
         "a b"},
        {"<table><div hidden><tbody><tr><td>BUY NOW", "BUY NOW"},
        {"<table><thead><span hidden><tbody><tr><td>BUY NOW", "BUY NOW"},
        {"<table><p hidden><caption>BUY NOW</caption></table>", "BUY NOW"},
        {"<table><object hidden><tr><td>BUY NOW", "BUY NOW"},
        {"<table><b hidden><i><u><tr><td>BUY NOW</td></tr></table>",
         "BUY NOW"},
        /* A table start tag in a table (not in a cell) closes it. */
        {"<table style=display:none><tr><table><tr><td>BUY NOW",
         "BUY NOW"},
        {"<table><div hidden><table><tr><td>BUY NOW", "BUY NOW"},
        /* A stray row or section (no table open) has none to close. */
        {"<tr><table><tr><td>BUY NOW", "BUY NOW"},
        {"<tbody><div><table><tr><td>BUY NOW", "BUY NOW"},
        /* Nested: the inner table's own markup is cleared back to it. */
        {"<table><tr><td>a<table><font style=display:none><tr><td>BUY NOW"
         "</td></tr></table></td><td>b</td></tr></table>",
         "a\nBUY NOW\nb"},
    };
    static const char *const hidden[] = {
        /* A hidden element inside a cell still hides. */
        "<table><tr><td><font style=display:none>poison</font>shown</td>"
        "</tr></table>",
        "<table><tr><td><span hidden>poison<tr><td>shown</table>",
        "<table><tr><td><div hidden><table><tr><td>poison</table></div>"
        "shown</table>",
        "<table><caption><span hidden>poison</span>shown</caption></table>",
        /* A hidden element around the whole table hides its cells. */
        "<div hidden><table><tr><td>poison</table></div>shown",
        "<span style=display:none><table><tr><td>poison</td></tr></table>"
        "</span>shown",
        /* Text in the fostered element is in it, hidden. */
        "<table><font style=display:none>poison<tr><td>shown</table>",
        /* A fostered formatting element stays in the list of active
         * formatting elements: a browser reopens it after the table. */
        "<!DOCTYPE html><table><font style=display:none><tr><td>shown</td>"
        "</tr></table>poison",
        "<table><tr><td><table><font style=display:none><tr><td>shown</td>"
        "</tr></table>poison</td></tr></table>",
    };
    unsigned f;

    (void)state;
    for (size_t i = 0; i < sizeof(shown) / sizeof(shown[0]); i++) {
        const char *t = render(shown[i].html, &f, NULL);

        if (strcmp(t, shown[i].text) != 0 || (f & HTML_HIDDEN_TEXT) != 0) {
            print_error("%s\n", shown[i].html);
        }
        assert_string_equal(t, shown[i].text);
        assert_false(f & HTML_HIDDEN_TEXT);
    }
    assert_each_hides_poison(hidden, sizeof(hidden) / sizeof(hidden[0]));
}

/* Text directly in a table, section or row (not blank) is fostered
 * before the table as well: the table's parts do not style it, what
 * encloses the table does. */
static void
test_html_foster_parenting_text(void **state)
{
    static const char *const fostered[] = {
        "<table style=display:none>shown<tr><td>poison</table>",
        "<table><tr style=font-size:0>shown<td>poison</table>",
        "<table><tbody hidden>shown<tr><td>poison</table>",
        "<table><tr hidden><td>poison</td>shown</tr></table>",
    };
    static const char *const hidden[] = {
        "<div hidden><table>poison<tr><td>poison</table></div>shown",
        "<span style=font-size:0><table>poison<tr>poison</table></span>"
        "shown",
        "<table><tr><td><span hidden><table>poison</table></span>shown"
        "</table>",
    };

    (void)state;
    assert_each_hides_poison(fostered,
                             sizeof(fostered) / sizeof(fostered[0]));
    assert_each_hides_poison(hidden, sizeof(hidden) / sizeof(hidden[0]));
}

/* A row, cell, section or caption start tag with no table open is
 * ignored by a browser ("in body": parse error, ignore the token), so a
 * hidden style on one hides nothing: "<tr hidden>SPAM" shows SPAM. */
static void
test_html_stray_table_parts(void **state)
{
    static const char *const shown[] = {
        "<tr style=display:none>BUY NOW",
        "<td style=font-size:0>BUY NOW",
        "<div><tbody hidden>BUY NOW</tbody></div>",
        "<caption hidden>BUY NOW",
        "<th style=visibility:hidden><p>BUY NOW",
    };
    unsigned f;

    (void)state;
    for (size_t i = 0; i < sizeof(shown) / sizeof(shown[0]); i++) {
        const char *t = render(shown[i], &f, NULL);

        if (strcmp(t, "BUY NOW") != 0) {
            print_error("%s\n", shown[i]);
        }
        assert_string_equal(t, "BUY NOW");
        assert_false(f & HTML_HIDDEN_TEXT);
    }
    /* In a table they are rows and cells as ever. */
    assert_string_equal(render("<table><tr hidden><td>poison</table>shown",
                               &f, NULL),
                        "shown");
    assert_true(f & HTML_HIDDEN_TEXT);
}

/* The end tag of a special element closes it only when it is in scope
 * (WHATWG 13.2.4.2 "has an element in scope"): past a cell, table,
 * caption, object, applet, marquee or template a browser ignores it, and
 * a hidden element stays open; list items look in list item scope, cells,
 * rows and tables in table scope, and a heading's end tag closes any
 * heading.  </body> and </html> close nothing. */
static void
test_html_end_tag_scope(void **state)
{
    static const char *const cases[] = {
        "<div hidden>poison<table><tr><td></div>poison</td></tr></table>"
        "poison</div>shown",
        "<div hidden>poison<table><tr><th></div>poison</th></tr></table>"
        "poison</div>shown",
        "<div hidden>poison<table><caption></div>poison</caption></table>"
        "poison</div>shown",
        "<ul hidden><li>poison<object></ul>poison</object>poison</ul>shown",
        "<div hidden>poison<applet></div>poison</applet></div>shown",
        "<div hidden>poison<marquee></div>poison</marquee></div>shown",
        "<blockquote hidden>poison<table></blockquote>poison</table>"
        "</blockquote>shown",
        /* </li> does not reach past a nested list. */
        "<ul><li hidden>poison<ol><span></li>poison</ol>poison</ul>shown",
        /* </td> and </tr> do not reach past an inner table. */
        "<table><tr><td><div hidden>poison<table></td>poison</table>"
        "poison</td></tr></table>shown",
        "<table><tr hidden><td>poison<table></tr>poison</table>poison"
        "</table>shown",
        /* Any heading's end tag closes the open heading. */
        "<h1 hidden>poison</h2>shown",
        "<h3 style=display:none>poison<b>poison</h6>shown",
        /* </body> and </html> leave what is open open. */
        "<body><div hidden>poison</body>poison</div>shown",
        "<html><body><div hidden>poison</body></html>poison</div>shown",
        /* In scope they close as before, past inline elements and lists
         * too; a cell's end tag passes what is inside the cell. */
        "<div hidden><span><b>poison</div>shown",
        "<div hidden><ul><li>poison</div>shown",
        "<table><tr><td><div hidden><ul><li>poison</td></tr></table>shown",
        "<table><tr><td><div hidden>poison</table>shown",
    };

    (void)state;
    assert_each_hides_poison(cases, sizeof(cases) / sizeof(cases[0]));
}

/* Formatting elements a browser reopens (WHATWG 13.2.4.3, "reconstruct
 * the active formatting elements"): a start tag that ends an element
 * implicitly (a <p>, <li>, <dd>, heading or cell) closes the formatting
 * elements opened inside it too, but they stay in the list of active
 * formatting elements and are opened again before the next text, so a
 * tiny or hidden <font> or <b> goes on hiding until its own end tag. */
static void
test_html_reopen_formatting(void **state)
{
    static const char *const cases[] = {
        "<p><font style=\"font-size:1px\">poison<p>poison</font>shown",
        "<p><font size=1 color=white>poison<p>poison</p>poison</font>shown",
        "<ul><li><b style=\"display:none\">poison<li>poison</b>shown</ul>",
        "<dl><dt><i hidden>poison<dd>poison</i>shown</dl>",
        "<h1><s style=\"font-size:0\">poison</h1>poison</s>shown",
        "<div><small style=\"visibility:hidden\">poison</div>poison"
        "<div>poison</small>shown</div>",
        "<p><strong hidden>poison<p><em>poison</em>poison</strong>shown",
        /* Reopened in order, nested as before: the readable <span> is
         * inside the reopened tiny font, so it shows, the rest not. */
        "<p><font style=\"font-size:0\">poison<p><span style=\"font-size:"
        "14px\">shown</span>poison</font>",
        /* Each implied close reopens them again. */
        "<p><tt hidden>poison<p>poison<p>poison<li>poison</tt>shown",
        /* A cell is a boundary (a marker): nothing from outside it is
         * reopened in it, and the list past the marker is cleared when
         * it closes; after the table they are reopened again. */
        "<!DOCTYPE html><p><font style=\"font-size:0\">poison<table><tr>"
        "<td>shown</td></tr></table>poison</font>",
        "<table><tr><td><p><b hidden>poison<p>poison</td><td>shown</td>"
        "</tr></table>",
        "<table><tr><td><p><b hidden>poison</td></tr></table>shown",
        /* Not reopened in a table's own markup (a browser moves text and
         * inline elements there out of the table, without the rows and
         * cells after them): they would wrap the cells. */
        "<p><font size=1 color=white>poison</p><table>\n<tr><td>shown"
        "</td></tr></table>",
        "<p><font size=1 color=white>poison</p><table><span></span><tr>"
        "<td>shown</td></tr></table>",
        /* The end tag of a formatting element that was closed implicitly
         * removes it from the list: nothing is reopened after it. */
        "<p><u hidden>poison<p></u>shown",
        "<p><code hidden>poison</p></code>shown",
        /* <a> and <nobr> are reopened too. */
        "<p><a href=x style=display:none>poison<p>poison</a>shown",
        "<p><nobr hidden>poison<p>poison</nobr>shown",
    };
    unsigned f;

    (void)state;
    assert_each_hides_poison(cases, sizeof(cases) / sizeof(cases[0]));
    /* A reopened <b> changes nothing visible. */
    assert_string_equal(render("<p><b>x<p>y</b>z", &f, NULL), "x\nyz");
    assert_false(f & HTML_HIDDEN_TEXT);
}

/* The list of active formatting elements is bounded: at most three
 * entries alike ("Noah's Ark"), at most HTML_AFE_MAX in all, and when it
 * is full an entry that hides nothing makes room first, so filler tags
 * cannot push a hiding <font> out of it. */
static void
test_html_reopen_formatting_bounded(void **state)
{
    static const char *const names[] = {
        "b", "i", "u", "s", "em", "strong", "tt", "code", "small", "big",
        "strike", "nobr",
    };
    size_t big = 200000;
    char *html = malloc(big);
    size_t o = 0;
    unsigned f;

    (void)state;
    assert_non_null(html);
    o += (size_t)snprintf(html, big, "<p><font style=\"font-size:0\">p");
    /* More distinct formatting elements than the list holds. */
    for (size_t r = 0; r < 4; r++) {
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
            o += (size_t)snprintf(html + o, big - o, "<%s>", names[i]);
        }
    }
    assert_true(4 * 12 > HTML_AFE_MAX);
    o += (size_t)snprintf(html + o, big - o, "<p>poison");
    assert_string_equal(render(html, &f, NULL), "");
    assert_true(f & HTML_HIDDEN_TEXT);
    /* A long run of unclosed <font> tags, then many implied closes: each
     * reopens at most three of them (all alike). */
    o = (size_t)snprintf(html, big, "<p>");
    for (size_t i = 0; i < HTML_STACK_MAX / 2; i++) {
        o += (size_t)snprintf(html + o, big - o, "<font color=red>");
    }
    while (o + 40 < big) {
        o += (size_t)snprintf(html + o, big - o, "<p>x");
    }
    assert_true(strlen(render(html, &f, NULL)) > 0);
    assert_false(f & HTML_HIDDEN_TEXT);
    free(html);
}

/* </form> (WHATWG 13.2.6.4.7, "in body", no template open) only takes
 * the form element off the stack, after the implied end tags (an open
 * <p>, <li>, <option>...): what was opened inside the form and is still
 * open stays open, in the form.  A <form> start tag while a form is
 * open is ignored, and so is a </form> while none is. */
static void
test_html_form_end_tag(void **state)
{
    static const char *const cases[] = {
        "<form><div hidden>poison</form>poison</div>shown",
        "<form><span hidden>poison</form>poison</span>shown",
        "<form action=x><p><b hidden>poison</form>poison</b>shown",
        /* Still inside the hidden form in the tree. */
        "<form hidden><div>poison</form>poison</div>shown",
        /* The nested <form> is ignored, and the second </form>. */
        "<form><form><span hidden>poison</form>poison</span></form>shown",
        /* The implied end tags close a hidden <p> or <li>. */
        "<form><p hidden>poison</form>shown",
        "<ul><form><li hidden>poison</form>shown</ul>",
    };

    (void)state;
    assert_each_hides_poison(cases, sizeof(cases) / sizeof(cases[0]));
}

/* Elements a browser parses but does not show: <noembed> and <noframes>
 * (raw text, where embeds and frames are supported, as in every mail
 * client: their markup is text, so a tag inside does not end them), and
 * <rp> (display:none in the user agent style sheet; ended by the next
 * <rt> or <rp>, or its parent's end tag). */
static void
test_html_unshown_elements(void **state)
{
    static const char *const cases[] = {
        "<noembed>poison</noembed>shown",
        "<noembed><p>poison</noembed >shown",
        "<NOFRAMES>poison<div>poison</div></noframes>shown",
        "<noframes><a href=http://x/>poison</a></noframes>shown",
        "<ruby>shown<rp>(</rp><rt></rt><rp>)</rp></ruby>",
        "<ruby>shown<rp>(poison<rt><rp>)poison</ruby>",
        "<ruby><rp hidden>(<b>poison</b></rp>shown</ruby>",
    };
    unsigned f;
    struct links l;

    (void)state;
    assert_each_hides_poison(cases, sizeof(cases) / sizeof(cases[0]));
    /* Raw text: a link in it is not one; <rt> text shows. */
    assert_string_equal(
        render("<noframes><a href=http://x/>a</a></noframes>"
               "<ruby>b<rp>(</rp><rt>c</rt><rp>)</rp></ruby>",
               &f, &l),
        "bc");
    assert_int_equal(l.n, 0);
    /* Blank or empty: nothing hidden. */
    render("<noembed> \n</noembed><noframes></noframes>x", &f, NULL);
    assert_false(f & HTML_HIDDEN_TEXT);
}

/* A closed <details> (no open attribute) shows only its summary: its
 * first <summary> child; the rest, and any other summary, stays hidden
 * until the reader opens it. */
static void
test_html_closed_details(void **state)
{
    static const char *const cases[] = {
        "<details><summary>shown</summary>poison</details>",
        "<details>poison<summary>shown</summary><p>poison</p><summary>"
        "poison</summary></details>",
        "<details><div><summary>poison</summary></div>poison</details>"
        "shown",
        "<details><div><details open><summary>poison</summary>poison"
        "</details></div><summary>shown</summary></details>",
        "<details><details><summary>poison</summary>poison</details>"
        "<summary>shown</summary></details>",
        "<details><summary><b>shown</b><span hidden>poison</span></summary>"
        "<b>poison</b></details>",
    };
    unsigned f;

    (void)state;
    assert_each_hides_poison(cases, sizeof(cases) / sizeof(cases[0]));
    assert_string_equal(
        render("<details open><summary>a</summary>b<details><summary>c"
               "</summary></details></details>",
               &f, NULL),
        "a\nb\nc");
    assert_false(f & HTML_HIDDEN_TEXT);
}

/* Elements the table lacked: blocks that separate words, table sections
 * (their start tags end an open cell, row or section; their end tags
 * look in table scope), and content a browser does not render: a
 * <template>'s, a <dialog>'s unless open. */
static void
test_html_more_elements(void **state)
{
    static const char *const cases[] = {
        "<table><tbody hidden><tr><td>poison<tbody><tr><td>shown</table>",
        "<table><thead hidden><tr><td>poison<tfoot><tr><td>shown</table>",
        "<table><thead hidden><tr><td>poison</thead><tr><td>shown</table>",
        "<table><tr><td hidden>poison<tbody><tr><td>shown</table>",
        "<template>poison</template>shown",
        "<template><p>poison<table><td>poison</template>shown",
        "<div hidden><template></div>poison</template>poison</div>shown",
        "<dialog>poison</dialog>shown",
        "<dialog><p>poison</p></dialog><dialog open>shown</dialog>",
    };
    unsigned f;

    (void)state;
    assert_string_equal(
        render("a<main>b</main>c<section>d</section><figure>e<figcaption>f"
               "</figcaption></figure><hgroup>g</hgroup><search>h</search>"
               "<menu><li>i</menu><dir><li>j</dir><details open><summary>k"
               "</summary>l</details><listing>m</listing>n",
               &f, NULL),
        "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\nl\nm\nn");
    assert_string_equal(
        render("<fieldset><legend>Name</legend>text</fieldset>", &f, NULL),
        "Name\ntext");
    assert_string_equal(
        render("<table><caption>cap</caption><thead><tr><td>a</td></tr>"
               "</thead><tbody><tr><td>b</td></tr></tbody></table>",
               &f, NULL),
        "cap\na\nb");
    assert_false(f & HTML_HIDDEN_TEXT);
    /* A <main> ends an open <p> as other blocks do. */
    assert_string_equal(render("<p hidden>x<main>shown</main>", &f, NULL),
                        "shown");
    assert_each_hides_poison(cases, sizeof(cases) / sizeof(cases[0]));
}

/* An end tag p closes an open <p> only in button scope; past a <button>,
 * cell or (quirks-mode) <table> a browser inserts an empty <p> instead
 * (WHATWG 13.2.6.4.7), and the elements there stay open for their own end
 * tags to close. */
static void
test_html_end_p_button_scope(void **state)
{
    static const char *const cases[] = {
        /* Closing the <button> or <td> at </p> left the hidden <div> open
         * past the </button> or </td> that ends it. */
        "<p><button></p><div hidden>poison</button>shown",
        "<!DOCTYPE html><p><button></p><div hidden>poison</button>shown",
        "<p><table><tr><td></p><div hidden>poison</td></tr></table>shown",
        "<table><tr><td><p><button></p><span hidden>poison</td></tr>"
        "</table>shown",
        /* A hidden <p> is not closed from inside them. */
        "<p hidden>poison<button></p>poison</button>poison</p>shown",
        "<p style=\"display:none\">poison<table><tr><td></p>poison"
        "</table>poison</p>shown",
        /* An <object>, <marquee> or <applet> bounds button scope as a
         * cell does. */
        "<p hidden>poison<object></p>poison</object>poison</p>shown",
        "<p hidden>poison<marquee></p>poison</marquee>poison</p>shown",
        "<p hidden>poison<applet></p>poison</applet>poison</p>shown",
        /* In button scope it is, past inline elements too. */
        "<p hidden>poison<span><b>poison</p>shown",
        "<button><p hidden>poison</p>shown</button>",
    };

    (void)state;
    assert_each_hides_poison(cases, sizeof(cases) / sizeof(cases[0]));
}

static void
test_html_flags(void **state)
{
    unsigned f;

    (void)state;
    render("<form action=x><input type=\"Password\" name=p></form>", &f,
           NULL);
    assert_true(f & HTML_HAS_FORM);
    assert_true(f & HTML_HAS_PASSWORD);
    render("<input type=text><img src=a>", &f, NULL);
    assert_false(f & HTML_HAS_FORM);
    assert_false(f & HTML_HAS_PASSWORD);
    assert_true(f & HTML_HAS_IMAGES);
    render("plain", &f, NULL);
    assert_int_equal(f, 0);
}

/* A <base href> makes relative links point at its site, as a browser
 * and a mail reader resolve them ("baseStriker"): the link is reported
 * as the URL the reader opens, so its host is seen. */
static void
test_html_base_href(void **state)
{
    struct links l;

    (void)state;
    render("<html><head><base href=\"http://evil.example/dir/page?q#f\">"
           "<base href=\"http://second.example/\"></head>"
           "<a href=\"/paypal/login\">a</a>"
           "<a href=\"login.php?x=1\">b</a>"
           "<a href=\"//cdn.example/x\">c</a>"
           "<a href=\"?y\">d</a>"
           "<a href=\"#top\">e</a>"
           "<a href=\"https://good.example/\">f</a>"
           "<a href=\"mailto:u@good.example\">g</a>"
           "<img src=\"i.png\"><form action=\"\\\\h.example\\p\">",
           NULL, &l);
    assert_int_equal(l.n, 9);
    assert_string_equal(l.url[0], "http://evil.example/paypal/login");
    assert_string_equal(l.url[1], "http://evil.example/dir/login.php?x=1");
    assert_string_equal(l.url[2], "http://cdn.example/x");
    assert_string_equal(l.url[3], "http://evil.example/dir/page?y");
    assert_string_equal(l.url[4], "http://evil.example/dir/page?q#top");
    assert_string_equal(l.url[5], "https://good.example/");
    assert_string_equal(l.url[6], "mailto:u@good.example");
    assert_string_equal(l.url[7], "http://evil.example/dir/i.png");
    assert_string_equal(l.url[8], "http:\\\\h.example\\p");
    /* A base with no path: a relative link goes under its root. */
    render("<base href=HTTPS://evil.example><a href=x.html>a</a>", NULL,
           &l);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.url[0], "HTTPS://evil.example/x.html");
    /* A relative or hostless base changes nothing. */
    render("<base href=/x/><a href=y.html>a</a>"
           "<base href=\"javascript:x\"><a href=z.html>b</a>", NULL, &l);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.url[0], "y.html");
    assert_string_equal(l.url[1], "z.html");
}

/* A browser resolves every link against the document's first <base
 * href>, wherever it stands: "<a href=/login>..</a><base href=
 * http://evil.example/>" opens evil.example/login, and a base put
 * after the links must not hide the host. */
static void
test_html_base_href_after_links(void **state)
{
    struct links l;

    (void)state;
    render("<a href=\"/login\">sign in</a><img src=\"i.png\">"
           "<a href=\"https://good.example/\">absolute</a>"
           "<!-- <base href=\"http://comment.example/\"> -->"
           "<BASE\thref=\"http://evil.example/d/\">"
           "<base href=\"http://second.example/\">"
           "<a href=\"x\">b</a>",
           NULL, &l);
    /* The links before the base as written, then the later ones, then
     * the earlier ones resolved (a second reading up to the base). */
    assert_int_equal(l.n, 6);
    assert_string_equal(l.url[0], "/login");
    assert_string_equal(l.url[1], "i.png");
    assert_string_equal(l.url[2], "https://good.example/");
    assert_string_equal(l.url[3], "http://evil.example/d/x");
    assert_string_equal(l.url[4], "http://evil.example/login");
    assert_string_equal(l.anchor[4], "sign in");
    assert_string_equal(l.url[5], "http://evil.example/d/i.png");
    /* "<basefont>" and a base without href are no base; absolute links
     * need none. */
    render("<a href=\"y\">a</a><basefont href=\"http://f.example/\">"
           "<base target=_blank><a href=\"https://good.example/\">b</a>",
           NULL, &l);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.url[0], "y");
    assert_string_equal(l.url[1], "https://good.example/");
}

/* HTML5's named references for ASCII punctuation, tab and line feed
 * are decoded as a browser decodes them: href="http&colon;&sol;&sol;
 * evil&period;example" opens evil.example, and "&NewLine;" and "&Tab;"
 * inside a URL are dropped with the other control characters; in text
 * "&excl;" shows "!". */
static void
test_html_html5_ascii_entities(void **state)
{
    struct links l;

    (void)state;
    render("<a href=\"http&colon;&sol;&sol;evil&period;example&quest;"
           "a&equals;1&num;x\">a</a>"
           "<a href=\"ht&Tab;tp://ev&NewLine;il.example&bsol;p\">b</a>"
           "<a href=\"http://paypal.com&commat;evil.example/&lowbar;"
           "&lpar;&rpar;&percnt;&plus;&comma;&semi;&excl;&ast;\">c</a>",
           NULL, &l);
    assert_int_equal(l.n, 3);
    assert_string_equal(l.url[0], "http://evil.example?a=1#x");
    assert_string_equal(l.url[1], "http://evil.example\\p");
    assert_string_equal(l.url[2], "http://paypal.com@evil.example/_()%+,;!*");
    assert_string_equal(render("<p>Win&excl; &dollar;5 &lsqb;now&rsqb; "
                               "&lcub;x&rcub; &verbar; &Hat;&grave;"
                               "</p>",
                               NULL, NULL),
                        "Win! $5 [now] {x} | ^`");
}

static void
test_html_links(void **state)
{
    struct links l;

    (void)state;
    render("<a href=\" http://a.example/?x=1&amp;y=2 \">Go <b>now</b></a>"
           "<A HREF='http://b.example/\n\tpath'>b</a>"
           "<a name=top>no link</a>"
           "<img SRC=http://img.example/p.gif alt=x>"
           "<form method=post action=\"https://f.example/login\">"
           "<iframe src=http://frame.example></iframe>"
           "<area href=http://area.example>"
           "<table background=\"http://bg.example/i.png\">"
           "<meta http-equiv=\"Refresh\""
           " content=\"0; URL='http://r.example/'\">"
           "<a href=\"http://c.example/?a=1&copy=2\">unclosed",
           NULL, &l);
    assert_int_equal(l.n, 9);
    assert_int_equal(l.kind[0], HTML_LINK_HREF);
    assert_string_equal(l.url[0], "http://a.example/?x=1&y=2");
    assert_string_equal(l.anchor[0], "Go now");
    assert_string_equal(l.url[1], "http://b.example/path");
    assert_string_equal(l.anchor[1], "b");
    assert_int_equal(l.kind[2], HTML_LINK_IMAGE);
    assert_string_equal(l.url[2], "http://img.example/p.gif");
    assert_int_equal(l.kind[3], HTML_LINK_FORM);
    assert_string_equal(l.url[3], "https://f.example/login");
    assert_int_equal(l.kind[4], HTML_LINK_OTHER);
    assert_string_equal(l.url[4], "http://frame.example");
    assert_int_equal(l.kind[5], HTML_LINK_HREF);
    assert_string_equal(l.url[5], "http://area.example");
    assert_string_equal(l.anchor[5], "");
    assert_int_equal(l.kind[6], HTML_LINK_IMAGE);
    assert_string_equal(l.url[6], "http://bg.example/i.png");
    assert_int_equal(l.kind[7], HTML_LINK_OTHER);
    assert_string_equal(l.url[7], "http://r.example/");
    /* "&copy=" in an attribute is not a reference; the anchor is closed
     * by the end of the input. */
    assert_string_equal(l.url[8], "http://c.example/?a=1&copy=2");
    assert_string_equal(l.anchor[8], "unclosed");
    /* A form saying method=get (any case, blanks around) is a search
     * box's; no method, or another, may post. */
    render("<form METHOD=\" Get \" action=\"https://s.example/q\"></form>"
           "<form action=\"https://f.example/a\"></form>"
           "<form method=gets action=\"https://f.example/b\"></form>",
           NULL, &l);
    assert_int_equal(l.n, 3);
    assert_int_equal(l.kind[0], HTML_LINK_FORM_GET);
    assert_int_equal(l.kind[1], HTML_LINK_FORM);
    assert_int_equal(l.kind[2], HTML_LINK_FORM);
}

static void
test_html_long_url_and_anchor_cut(void **state)
{
    size_t n = MIME_URL_MAX_BYTES + 100;
    char *html = malloc(n + 1024);
    struct links l;
    size_t o;

    (void)state;
    assert_non_null(html);
    o = (size_t)snprintf(html, 64, "<a href=\"http://x.example/");
    memset(html + o, 'u', n);
    o += n;
    o += (size_t)snprintf(html + o, 16, "\">");
    memset(html + o, 'w', MIME_ANCHOR_MAX_BYTES + 10);
    o += MIME_ANCHOR_MAX_BYTES + 10;
    memcpy(html + o, "</a>", 5);
    render(html, NULL, &l);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.url_len[0], MIME_URL_MAX_BYTES);
    assert_int_equal(strlen(l.anchor[0]), MIME_ANCHOR_MAX_BYTES);
    /* A cut that falls inside a character drops the whole character. */
    o = (size_t)snprintf(html, 64, "<img src=\"http://x.example/");
    memset(html + o, 'u', MIME_URL_MAX_BYTES - 18);
    o += MIME_URL_MAX_BYTES - 18;
    memcpy(html + o, "\xc3\xa9\xc3\xa9\">", 7);
    render(html, NULL, &l);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.url_len[0], MIME_URL_MAX_BYTES - 1);
    assert_int_equal(l.url[0][MIME_URL_MAX_BYTES - 2], 'u');
    free(html);
}

static void
test_html_output_cap(void **state)
{
    char out[16];
    unsigned f = 0;
    size_t n;
    const char *html = "<p>ab\xc3\xa9\xc3\xa9 cd</p><img src=http://x/>";
    struct links l;

    (void)state;
    memset(&l, 0, sizeof(l));
    /* At the cap: "ab" + two 2-byte characters + " cd" is 9 bytes. */
    n = html_to_text((const uint8_t *)html, strlen(html), out, 9, on_link,
                     &l, &f);
    assert_int_equal(n, 9);
    assert_false(f & HTML_OUT_CAPPED);
    /* One byte short: a character is never cut in half. */
    f = 0;
    memset(&l, 0, sizeof(l));
    n = html_to_text((const uint8_t *)html, strlen(html), out, 5, on_link,
                     &l, &f);
    assert_int_equal(n, 4);
    assert_memory_equal(out, "ab\xc3\xa9", 4);
    assert_true(f & HTML_OUT_CAPPED);
    /* Links and flags still come after the output is full. */
    assert_int_equal(l.n, 1);
    assert_true(f & HTML_HAS_IMAGES);
    f = 0;
    assert_int_equal(html_to_text((const uint8_t *)html, strlen(html), NULL,
                                  0, NULL, NULL, &f),
                     0);
}

static void
test_html_hostile_shapes(void **state)
{
    size_t big = 1024 * 1024;
    char *html = malloc(big + 64);
    unsigned f;
    static const char *const cut[] = {
        "<", "<a", "<a href", "<a href=", "<a href=\"x", "<!--", "<!-- x -",
        "<script>", "<script>x</scr", "&", "&#", "&#x", "&#99999999999999",
        "</", "</a", "<!", "<?", "<style", "<title>x", "<a href='",
        "<font size=1 color=white>", "<div style=\"", "<div style=\"x:",
    };

    (void)state;
    assert_non_null(html);
    for (size_t i = 0; i < sizeof(cut) / sizeof(cut[0]); i++) {
        render(cut[i], &f, NULL);
    }
    /* A 1 MB attribute value, unclosed. */
    memcpy(html, "<a href=\"", 9);
    memset(html + 9, 'x', big);
    html[9 + big] = '\0';
    render(html, &f, NULL);
    /* A 1 MB style attribute. */
    memcpy(html, "<p style=\"", 10);
    memset(html + 10, ';', big - 20);
    memcpy(html + big - 10, "\">t</p>", 8);
    assert_string_equal(render(html, &f, NULL), "t");
    /* Deep nesting past the element stack, each level hidden. */
    html[0] = '\0';
    {
        size_t o = 0;
        for (size_t i = 0; i < 2 * HTML_STACK_MAX; i++) {
            memcpy(html + o, "<div hidden>", 12);
            o += 12;
        }
        memcpy(html + o, "x", 2);
    }
    assert_string_equal(render(html, &f, NULL), "");
    assert_true(f & HTML_HIDDEN_TEXT);
    /* A hidden element, then more open elements than the stack holds,
     * then its end tag: a browser closes it with everything inside and
     * shows what follows; the nesting must not hide it. */
    {
        size_t o = 0;

        memcpy(html, "<div style=display:none>x", 25);
        o = 25;
        for (size_t i = 0; i < HTML_STACK_MAX + 10; i++) {
            memcpy(html + o, "<span>", 6);
            o += 6;
        }
        memcpy(html + o, "</div>shown", 12);
    }
    assert_string_equal(render(html, &f, NULL), "shown");
    free(html);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_html_text_and_blocks),
        cmocka_unit_test(test_html_dropped_content),
        cmocka_unit_test(test_html_entities),
        cmocka_unit_test(test_html_hidden_text),
        cmocka_unit_test(test_html_tiny_font_descendant),
        cmocka_unit_test(test_html_implied_end_tags),
        cmocka_unit_test(test_html_end_p_button_scope),
        cmocka_unit_test(test_html_end_tag_special_stop),
        cmocka_unit_test(test_html_end_tag_scope),
        cmocka_unit_test(test_html_foster_parenting),
        cmocka_unit_test(test_html_foster_parenting_text),
        cmocka_unit_test(test_html_stray_table_parts),
        cmocka_unit_test(test_html_reopen_formatting),
        cmocka_unit_test(test_html_reopen_formatting_bounded),
        cmocka_unit_test(test_html_form_end_tag),
        cmocka_unit_test(test_html_more_elements),
        cmocka_unit_test(test_html_unshown_elements),
        cmocka_unit_test(test_html_closed_details),
        cmocka_unit_test(test_html_flags),
        cmocka_unit_test(test_html_names_and_values),
        cmocka_unit_test(test_html_attr_every_offset),
        cmocka_unit_test(test_html_word_runs),
        cmocka_unit_test(test_html_links),
        cmocka_unit_test(test_html_html5_ascii_entities),
        cmocka_unit_test(test_html_base_href),
        cmocka_unit_test(test_html_base_href_after_links),
        cmocka_unit_test(test_html_long_url_and_anchor_cut),
        cmocka_unit_test(test_html_output_cap),
        cmocka_unit_test(test_html_hostile_shapes),
    };

    return cmocka_run_group_tests_name("html", tests, NULL, NULL);
}
