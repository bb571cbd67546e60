/*
 * html.c -- HTML → visible text, links and tell-tales (see html.h).
 *
 * DESIGN
 * A single forward scan, no allocation, no tree.  Text runs are copied
 * straight to the caller's buffer; white space only sets a "pending
 * separator" (blank or line break) that is written before the next
 * visible character, so output never holds runs of blanks.  Markup:
 * - "<!--" skips to "-->", "<!" and "<?" skip to ">", "</x" closes, "<x"
 *   opens; a "<" not followed by a letter, "/", "!" or "?" is text.
 * - Attributes are parsed as (name, value) views into the input; a quoted
 *   value ends at its quote found with memchr, so a 1 MB attribute or an
 *   unclosed quote is one scan to the end, never a rescan.
 * - Raw-text elements (script, style, title) skip to their end tag the
 *   same way; unclosed ones run to the end of the input.
 * - Hidden elements: a small stack of open non-void elements (name hash,
 *   tag, properties and a hidden bit), popped to the matching start tag on
 *   an end tag as browsers do for misnested markup -- but an end tag of a
 *   non-special element is ignored past a special one, a special
 *   element's when it is not in scope (stack_end_scoped), and a
 *   formatting element's runs the adoption agency
 *   (stack_adopt) -- and
 *   by the start tags that end an element implicitly (<p> by a block,
 *   <li> by <li>, cells and rows by the next, <option> by <option>).  Text while a hidden
 *   element is open is not written (see html.h for why and what counts as
 *   hidden).  The stack holds HTML_STACK_MAX entries; deeper elements are
 *   counted but not tracked, so hostile nesting costs at most
 *   HTML_STACK_MAX compares per end tag or block start tag.
 * - Formatting elements (b, font, a, ...) closed by an implied end are
 *   reopened before the next text or inline start tag, as browsers do,
 *   from a list of active formatting elements with markers at cells,
 *   captions, applets, marquees, objects and templates (afe_*, at most
 *   HTML_AFE_MAX entries): "<p><font size=1 color=white>x<p>y" hides y
 *   too.  </form> takes only the form off the stack (form_end).
 * - What opens directly in a table, section or row a browser moves
 *   before the table ("foster parenting"): the next row, cell, section,
 *   caption or table start tag closes it (table_clear), so it encloses
 *   none of the cells that follow.
 * - An <a href> stays open until </a>, the next <a> or the end; its
 *   visible text is taken from the output written meanwhile.  Every
 *   reported link is resolved against the page's first <base href>,
 *   before it (resolve_base) or after it (relink_init), as the reader's
 *   browser resolves it.
 * State: one struct html_state on the caller's stack.  Every loop
 * iteration consumes at least one byte.  WHATWG HTML 13.2 (tokenization,
 * character references), loosely.
 */
#include "html.h"

#include <string.h>

#include "bytetable.h"
#include "caps.h"
#include "charset.h"
#include "swar.h"

enum html_pend {
    HTML_PEND_NONE,
    HTML_PEND_SPACE,
    HTML_PEND_LINE
};

enum html_tag {
    HTML_TAG_OTHER,
    HTML_TAG_A,
    HTML_TAG_AREA,
    HTML_TAG_BASE,
    HTML_TAG_BODY, /* body and html */
    HTML_TAG_DETAILS,
    HTML_TAG_DIALOG,
    HTML_TAG_EMBED,
    HTML_TAG_FONT,
    HTML_TAG_FORM,
    HTML_TAG_IFRAME,
    HTML_TAG_IMG,
    HTML_TAG_INPUT,
    HTML_TAG_LI,
    HTML_TAG_META,
    HTML_TAG_NOEMBED, /* noembed and noframes */
    HTML_TAG_OPTION,
    HTML_TAG_P,
    HTML_TAG_RP,
    HTML_TAG_RT,
    HTML_TAG_SCRIPT,
    HTML_TAG_STYLE,
    HTML_TAG_SUMMARY,
    HTML_TAG_TABLE,
    HTML_TAG_TBODY, /* tbody, thead and tfoot */
    HTML_TAG_TD, /* td and th */
    HTML_TAG_TEMPLATE,
    HTML_TAG_TITLE,
    HTML_TAG_TR
};

/* Properties of known elements.  ENDS_P, SPECIAL, SCOPE and TSCOPE carry
 * what the WHATWG tree builder ("in body") needs to end an element that
 * has no end tag: see close_implied(). */
#define HTML_P_VOID 1u     /* never has an end tag */
#define HTML_P_BLOCK 2u    /* line break before and after */
#define HTML_P_CELL 4u     /* blank before and after */
#define HTML_P_ENDS_P 8u   /* its start tag closes an open <p> */
#define HTML_P_SPECIAL 16u /* HTML's "special" category less address, div
                            * and p: an open <li> is not looked for past */
#define HTML_P_SCOPE 32u   /* bounds "button scope": an open <p> is not
                            * looked for past it */
#define HTML_P_TSCOPE 64u  /* bounds "table scope" (table, html,
                            * template): an open cell or row is not
                            * looked for past it */
#define HTML_P_SPECIAL_TOO 128u /* address, div, p: the rest of HTML's
                                 * special category */
#define HTML_P_FORMAT 256u /* a formatting element: its end tag runs the
                            * adoption agency (stack_adopt) */
#define HTML_P_DSCOPE 512u /* bounds the default scope (13.2.4.2): the end
                            * tag of a special element is not looked for
                            * past it (stack_end_scoped) */
#define HTML_P_LSCOPE 1024u /* ol, ul: bound "list item scope" too */
#define HTML_P_HEADING 2048u /* h1-h6: one's end tag closes any other */
#define HTML_P_TPART 4096u /* a table part: its end tag looks in table
                            * scope */
#define HTML_P_MARKER 8192u /* td, th, caption, applet, marquee, object,
                             * template: a marker in the list of active
                             * formatting elements while it is open */
#define HTML_P_REOPENS 16384u /* a special element whose start tag still
                               * reopens formatting elements first
                               * (reopens_before) */
#define HTML_P_IMPLIED 32768u /* p, li, dd, dt, option, rp, rt: ended by
                               * "generate implied end tags" */
/* The default scope's boundaries bound button scope too. */
#define HTML_P_BOUNDS (HTML_P_SCOPE | HTML_P_DSCOPE)
/* HTML's whole special category: another end tag is not looked for past
 * it (stack_end_other). */
#define HTML_P_ANY_SPECIAL (HTML_P_SPECIAL | HTML_P_SPECIAL_TOO)
/* A block of flow content, the usual row below. */
#define HTML_P_FLOW (HTML_P_BLOCK | HTML_P_ENDS_P | HTML_P_SPECIAL)

/* Bytes of a tag or attribute name compared against the tables. */
#define HTML_NAME_MAX 16u

struct html_tag_info {
    uint32_t hash;
    const char *name;
    /* name with zeros after it: compared with read_name's zero-padded
     * copy as a whole, two words instead of a byte loop. */
    char key[HTML_NAME_MAX];
    enum html_tag tag;
    unsigned props;
};

/*
 * The known elements: X(FNV-1a hash of the name as read_name() computes
 * it, name, enum html_tag, HTML_P_* properties).  tag_lookup finds one
 * by its hash's slot in html_tag_slots (HTML_TAG_SLOT); recompute the
 * hash when a name is added, and when two names share a slot (the build
 * fails: -Woverride-init), change HTML_TAG_SLOT's multiplier.
 */
#define HTML_TAG_LIST(X) \
    X(0x0214FC64u, legend, HTML_TAG_OTHER, HTML_P_BLOCK) \
    X(0x02ACE84Bu, marquee, HTML_TAG_OTHER, HTML_P_SPECIAL | HTML_P_BOUNDS | \
        HTML_P_MARKER | HTML_P_REOPENS) \
    X(0x058C4484u, center, HTML_TAG_OTHER, HTML_P_FLOW) \
    X(0x0AA7F0B9u, dialog, HTML_TAG_DIALOG, HTML_P_FLOW) \
    X(0x0DDB0669u, link, HTML_TAG_OTHER, HTML_P_VOID) \
    X(0x10A44713u, summary, HTML_TAG_SUMMARY, HTML_P_FLOW) \
    X(0x114985B2u, footer, HTML_TAG_OTHER, HTML_P_FLOW) \
    X(0x11C2662Du, select, HTML_TAG_OTHER, HTML_P_CELL | HTML_P_SPECIAL | \
        HTML_P_REOPENS) \
    X(0x17676759u, article, HTML_TAG_OTHER, HTML_P_FLOW) \
    X(0x178EEDF2u, nav, HTML_TAG_OTHER, HTML_P_FLOW) \
    X(0x1BCF29D8u, source, HTML_TAG_OTHER, HTML_P_VOID) \
    X(0x203E6FAAu, script, HTML_TAG_SCRIPT, 0) \
    X(0x23375D91u, applet, HTML_TAG_OTHER, HTML_P_SPECIAL | HTML_P_BOUNDS | \
        HTML_P_MARKER | HTML_P_REOPENS) \
    X(0x25B4AF4Fu, strike, HTML_TAG_OTHER, HTML_P_FORMAT) \
    X(0x25DC1DCAu, wbr, HTML_TAG_OTHER, HTML_P_VOID) \
    X(0x274E1290u, font, HTML_TAG_FONT, HTML_P_FORMAT) \
    X(0x281BA64Eu, embed, HTML_TAG_EMBED, HTML_P_VOID) \
    X(0x2C6A2953u, address, HTML_TAG_OTHER, HTML_P_BLOCK | HTML_P_ENDS_P | \
        HTML_P_SPECIAL_TOO) \
    X(0x32694BC3u, head, HTML_TAG_OTHER, HTML_P_SPECIAL) \
    X(0x3D454045u, td, HTML_TAG_TD, HTML_P_CELL | HTML_P_SPECIAL | \
        HTML_P_BOUNDS | HTML_P_TPART | HTML_P_MARKER) \
    X(0x3DDC94D8u, base, HTML_TAG_BASE, HTML_P_VOID) \
    X(0x401A63F7u, em, HTML_TAG_OTHER, HTML_P_FORMAT) \
    X(0x4031BD46u, li, HTML_TAG_LI, HTML_P_FLOW | HTML_P_IMPLIED) \
    X(0x4058C747u, form, HTML_TAG_FORM, HTML_P_FLOW) \
    X(0x41454691u, th, HTML_TAG_TD, HTML_P_CELL | HTML_P_SPECIAL | \
        HTML_P_BOUNDS | HTML_P_TPART | HTML_P_MARKER) \
    X(0x43B27471u, button, HTML_TAG_OTHER, HTML_P_CELL | HTML_P_SPECIAL | \
        HTML_P_SCOPE | HTML_P_REOPENS) \
    X(0x47455003u, tr, HTML_TAG_TR, HTML_P_BLOCK | HTML_P_SPECIAL | \
        HTML_P_TPART) \
    X(0x49545DB3u, rt, HTML_TAG_RT, HTML_P_IMPLIED) \
    X(0x4A7AB7E6u, pre, HTML_TAG_OTHER, HTML_P_FLOW) \
    X(0x4A9C9BDFu, table, HTML_TAG_TABLE, HTML_P_FLOW | HTML_P_BOUNDS | \
        HTML_P_TSCOPE | HTML_P_TPART) \
    X(0x4D1CB705u, dt, HTML_TAG_OTHER, HTML_P_FLOW | HTML_P_IMPLIED) \
    X(0x4D455975u, tt, HTML_TAG_OTHER, HTML_P_FORMAT) \
    X(0x4D5463FFu, rp, HTML_TAG_RP, HTML_P_IMPLIED) \
    X(0x4E0E3632u, param, HTML_TAG_OTHER, HTML_P_VOID) \
    X(0x4F2BC4B5u, br, HTML_TAG_OTHER, HTML_P_VOID | HTML_P_BLOCK) \
    X(0x4F3ACF3Fu, hr, HTML_TAG_OTHER, HTML_P_VOID | HTML_P_BLOCK | \
        HTML_P_ENDS_P) \
    X(0x53CACDB9u, big, HTML_TAG_OTHER, HTML_P_FORMAT) \
    X(0x5967F3A5u, details, HTML_TAG_DETAILS, HTML_P_FLOW) \
    X(0x5D1CD035u, dd, HTML_TAG_OTHER, HTML_P_FLOW | HTML_P_IMPLIED) \
    X(0x5F433734u, ul, HTML_TAG_OTHER, HTML_P_FLOW | HTML_P_LSCOPE) \
    X(0x61A6D509u, figure, HTML_TAG_OTHER, HTML_P_FLOW) \
    X(0x633432F6u, ol, HTML_TAG_OTHER, HTML_P_FLOW | HTML_P_LSCOPE) \
    X(0x651CDCCDu, dl, HTML_TAG_OTHER, HTML_P_FLOW) \
    X(0x694AAA0Bu, template, HTML_TAG_TEMPLATE, HTML_P_SPECIAL | \
        HTML_P_BOUNDS | HTML_P_TSCOPE | HTML_P_MARKER) \
    X(0x7B3D6C3Cu, track, HTML_TAG_OTHER, HTML_P_VOID) \
    X(0x803328A9u, search, HTML_TAG_OTHER, HTML_P_FLOW) \
    X(0x81FE4F58u, meta, HTML_TAG_META, HTML_P_VOID) \
    X(0x83D3A088u, noframes, HTML_TAG_NOEMBED, 0) \
    X(0x84E72504u, img, HTML_TAG_IMG, HTML_P_VOID) \
    X(0x8512EF1Eu, hgroup, HTML_TAG_OTHER, HTML_P_FLOW) \
    X(0x8B3B2DB3u, h6, HTML_TAG_OTHER, HTML_P_FLOW | HTML_P_HEADING) \
    X(0x8B7CD36Bu, tbody, HTML_TAG_TBODY, HTML_P_BLOCK | HTML_P_SPECIAL | \
        HTML_P_TPART) \
    X(0x8C3B2F46u, h5, HTML_TAG_OTHER, HTML_P_FLOW | HTML_P_HEADING) \
    X(0x8D3B30D9u, h4, HTML_TAG_OTHER, HTML_P_FLOW | HTML_P_HEADING) \
    X(0x8E3B326Cu, h3, HTML_TAG_OTHER, HTML_P_FLOW | HTML_P_HEADING) \
    X(0x8F3B33FFu, h2, HTML_TAG_OTHER, HTML_P_FLOW | HTML_P_HEADING) \
    X(0x903B3592u, h1, HTML_TAG_OTHER, HTML_P_FLOW | HTML_P_HEADING) \
    X(0x94C91BFDu, fieldset, HTML_TAG_OTHER, HTML_P_FLOW) \
    X(0x9865B509u, title, HTML_TAG_TITLE, 0) \
    X(0x99E4DD3Au, menu, HTML_TAG_OTHER, HTML_P_FLOW) \
    X(0x9AB21F4Eu, nobr, HTML_TAG_OTHER, HTML_P_FORMAT) \
    X(0x9B0F2144u, area, HTML_TAG_AREA, HTML_P_VOID) \
    X(0xA2C4F48Cu, small, HTML_TAG_OTHER, HTML_P_FORMAT) \
    X(0xAA108E99u, thead, HTML_TAG_TBODY, HTML_P_BLOCK | HTML_P_SPECIAL | \
        HTML_P_TPART) \
    X(0xAC307ED6u, style, HTML_TAG_STYLE, 0) \
    X(0xB48709DFu, listing, HTML_TAG_OTHER, HTML_P_FLOW) \
    X(0xB72FCA95u, figcaption, HTML_TAG_OTHER, HTML_P_FLOW) \
    X(0xB8C60CBAu, object, HTML_TAG_OTHER, HTML_P_SPECIAL | HTML_P_BOUNDS | \
        HTML_P_MARKER | HTML_P_REOPENS) \
    X(0xBFB4741Bu, tfoot, HTML_TAG_TBODY, HTML_P_BLOCK | HTML_P_SPECIAL | \
        HTML_P_TPART) \
    X(0xC51F5D7Au, strong, HTML_TAG_OTHER, HTML_P_FORMAT) \
    X(0xD00085A1u, iframe, HTML_TAG_IFRAME, HTML_P_SPECIAL) \
    X(0xD20A71A6u, frame, HTML_TAG_IFRAME, HTML_P_VOID) \
    X(0xD6AAB9FBu, textarea, HTML_TAG_OTHER, HTML_P_BLOCK | HTML_P_SPECIAL) \
    X(0xD775A7D0u, html, HTML_TAG_BODY, HTML_P_SPECIAL | HTML_P_BOUNDS | \
        HTML_P_TSCOPE) \
    X(0xDBAA7975u, body, HTML_TAG_BODY, HTML_P_BLOCK | HTML_P_SPECIAL) \
    X(0xDBC0DCC7u, aside, HTML_TAG_OTHER, HTML_P_FLOW) \
    X(0xE18D189Eu, blockquote, HTML_TAG_OTHER, HTML_P_FLOW) \
    X(0xE40C292Cu, a, HTML_TAG_A, HTML_P_FORMAT) \
    X(0xE488D460u, header, HTML_TAG_OTHER, HTML_P_FLOW) \
    X(0xE562AB48u, div, HTML_TAG_OTHER, HTML_P_BLOCK | HTML_P_ENDS_P | \
        HTML_P_SPECIAL_TOO) \
    X(0xE70C2DE5u, b, HTML_TAG_OTHER, HTML_P_FORMAT) \
    X(0xE7E19B94u, option, HTML_TAG_OPTION, HTML_P_BLOCK | HTML_P_IMPLIED) \
    X(0xE962B194u, dir, HTML_TAG_OTHER, HTML_P_FLOW) \
    X(0xEA90E208u, main, HTML_TAG_OTHER, HTML_P_FLOW) \
    X(0xEC0C35C4u, i, HTML_TAG_OTHER, HTML_P_FORMAT) \
    X(0xEF131C65u, caption, HTML_TAG_OTHER, HTML_P_BLOCK | HTML_P_SPECIAL | \
        HTML_P_BOUNDS | HTML_P_TPART | HTML_P_MARKER) \
    X(0xF00C3C10u, u, HTML_TAG_OTHER, HTML_P_FORMAT) \
    X(0xF28DD471u, col, HTML_TAG_OTHER, HTML_P_VOID) \
    X(0xF4EF80A7u, noembed, HTML_TAG_NOEMBED, 0) \
    X(0xF50C43EFu, p, HTML_TAG_P, HTML_P_BLOCK | HTML_P_ENDS_P | \
        HTML_P_SPECIAL_TOO | HTML_P_IMPLIED) \
    X(0xF60C4582u, s, HTML_TAG_OTHER, HTML_P_FORMAT) \
    X(0xF9316CF4u, code, HTML_TAG_OTHER, HTML_P_FORMAT) \
    X(0xF9D86F7Bu, input, HTML_TAG_INPUT, HTML_P_VOID | HTML_P_CELL) \
    X(0xFCDD0CCCu, section, HTML_TAG_OTHER, HTML_P_FLOW) \
    /* end of HTML_TAG_LIST */

#define HTML_TAG_INFO(hash, name, tag, props) \
    {hash, #name, #name, tag, props},
static const struct html_tag_info html_tags[] = {
    HTML_TAG_LIST(HTML_TAG_INFO)
};
#undef HTML_TAG_INFO

/* Each element's index in html_tags. */
#define HTML_TAG_INDEX(hash, name, tag, props) HTML_TI_##name,
enum html_tag_index {
    HTML_TAG_LIST(HTML_TAG_INDEX)
    HTML_N_TAGS
};
#undef HTML_TAG_INDEX

/* A name hash's slot in html_tag_slots: a multiplier for which every
 * known element has a slot of its own (a perfect hash), so a lookup is
 * one multiply and one compare instead of a search. */
#define HTML_TAG_SLOT_BITS 9u
#define HTML_TAG_SLOT(hash) \
    ((uint32_t)((uint32_t)(hash) * 0xC5Bu) >> (32u - HTML_TAG_SLOT_BITS))

/* 1 + the index in html_tags of the element whose hash has the slot, or
 * 0: no element has it. */
#define HTML_TAG_SLOTTED(hash, name, tag, props) \
    [HTML_TAG_SLOT(hash)] = HTML_TI_##name + 1,
static const uint8_t html_tag_slots[1u << HTML_TAG_SLOT_BITS] = {
    HTML_TAG_LIST(HTML_TAG_SLOTTED)
};
#undef HTML_TAG_SLOTTED


/* "nobr"'s hash in html_tags: its start tag closes an open one. */
#define HTML_HASH_NOBR 0x9AB21F4Eu

struct html_entity_def {
    const char *name;
    uint32_t cp;
};

/* Sorted by name (strcmp order: upper case first).  HTML 4's names and
 * HTML5's for ASCII punctuation, tab and line feed ("&colon;", "&sol;",
 * "&period;", "&NewLine;"): a browser decodes those in an href, so
 * "http&colon;&sol;&sol;evil&period;example" is a link to evil.example
 * (and "&excl;" a '!' in text), which undecoded had no host at all. */
static const struct html_entity_def html_entities[] = {
    {"AElig", 0xC6}, {"AMP", 0x26}, {"Aacute", 0xC1}, {"Acirc", 0xC2},
    {"Agrave", 0xC0}, {"Aring", 0xC5}, {"Atilde", 0xC3}, {"Auml", 0xC4},
    {"COPY", 0xA9}, {"Ccedil", 0xC7}, {"Dagger", 0x2021},
    {"DiacriticalGrave", 0x60}, {"ETH", 0xD0}, {"Eacute", 0xC9},
    {"Ecirc", 0xCA}, {"Egrave", 0xC8}, {"Euml", 0xCB}, {"GT", 0x3E},
    {"Hat", 0x5E}, {"Iacute", 0xCD}, {"Icirc", 0xCE}, {"Igrave", 0xCC},
    {"Iuml", 0xCF}, {"LT", 0x3C}, {"NewLine", 0x0A}, {"NoBreak", 0x2060},
    {"NonBreakingSpace", 0xA0}, {"Ntilde", 0xD1}, {"OElig", 0x152},
    {"Oacute", 0xD3}, {"Ocirc", 0xD4}, {"Ograve", 0xD2}, {"Oslash", 0xD8},
    {"Otilde", 0xD5}, {"Ouml", 0xD6}, {"Prime", 0x2033}, {"QUOT", 0x22},
    {"REG", 0xAE}, {"Scaron", 0x160}, {"THORN", 0xDE}, {"Tab", 0x09},
    {"Uacute", 0xDA}, {"Ucirc", 0xDB}, {"Ugrave", 0xD9}, {"UnderBar", 0x5F},
    {"Uuml", 0xDC}, {"VerticalLine", 0x7C}, {"Yacute", 0xDD}, {"Yuml", 0x178},
    {"ZeroWidthSpace", 0x200B}, {"aacute", 0xE1}, {"acirc", 0xE2},
    {"acute", 0xB4}, {"aelig", 0xE6}, {"agrave", 0xE0}, {"amp", 0x26},
    {"apos", 0x27}, {"aring", 0xE5}, {"ast", 0x2A}, {"asymp", 0x2248},
    {"atilde", 0xE3}, {"auml", 0xE4}, {"bdquo", 0x201E}, {"brvbar", 0xA6},
    {"bsol", 0x5C}, {"bull", 0x2022}, {"ccedil", 0xE7}, {"cedil", 0xB8},
    {"cent", 0xA2}, {"circ", 0x2C6}, {"clubs", 0x2663}, {"colon", 0x3A},
    {"comma", 0x2C}, {"commat", 0x40}, {"copy", 0xA9}, {"curren", 0xA4},
    {"dagger", 0x2020}, {"darr", 0x2193}, {"deg", 0xB0}, {"diams", 0x2666},
    {"divide", 0xF7}, {"dollar", 0x24}, {"eacute", 0xE9}, {"ecirc", 0xEA},
    {"egrave", 0xE8}, {"emsp", 0x2003}, {"ensp", 0x2002}, {"equals", 0x3D},
    {"eth", 0xF0}, {"euml", 0xEB}, {"euro", 0x20AC}, {"excl", 0x21},
    {"fnof", 0x192}, {"frac12", 0xBD}, {"frac14", 0xBC}, {"frac34", 0xBE},
    {"ge", 0x2265}, {"grave", 0x60}, {"gt", 0x3E}, {"hearts", 0x2665},
    {"hellip", 0x2026}, {"iacute", 0xED}, {"icirc", 0xEE}, {"iexcl", 0xA1},
    {"igrave", 0xEC}, {"infin", 0x221E}, {"iquest", 0xBF}, {"iuml", 0xEF},
    {"laquo", 0xAB}, {"larr", 0x2190}, {"lbrace", 0x7B}, {"lbrack", 0x5B},
    {"lcub", 0x7B}, {"ldquo", 0x201C}, {"le", 0x2264}, {"lowbar", 0x5F},
    {"lpar", 0x28}, {"lrm", 0x200E}, {"lsaquo", 0x2039}, {"lsqb", 0x5B},
    {"lsquo", 0x2018}, {"lt", 0x3C}, {"macr", 0xAF}, {"mdash", 0x2014},
    {"micro", 0xB5}, {"midast", 0x2A}, {"middot", 0xB7}, {"minus", 0x2212},
    {"nbsp", 0xA0}, {"ndash", 0x2013}, {"ne", 0x2260}, {"not", 0xAC},
    {"ntilde", 0xF1}, {"num", 0x23}, {"oacute", 0xF3}, {"ocirc", 0xF4},
    {"oelig", 0x153}, {"ograve", 0xF2}, {"ordf", 0xAA}, {"ordm", 0xBA},
    {"oslash", 0xF8}, {"otilde", 0xF5}, {"ouml", 0xF6}, {"para", 0xB6},
    {"percnt", 0x25}, {"period", 0x2E}, {"permil", 0x2030}, {"plus", 0x2B},
    {"plusmn", 0xB1}, {"pound", 0xA3}, {"prime", 0x2032}, {"quest", 0x3F},
    {"quot", 0x22}, {"raquo", 0xBB}, {"rarr", 0x2192}, {"rbrace", 0x7D},
    {"rbrack", 0x5D}, {"rcub", 0x7D}, {"rdquo", 0x201D}, {"reg", 0xAE},
    {"rlm", 0x200F}, {"rpar", 0x29}, {"rsaquo", 0x203A}, {"rsqb", 0x5D},
    {"rsquo", 0x2019}, {"sbquo", 0x201A}, {"scaron", 0x161}, {"sect", 0xA7},
    {"semi", 0x3B}, {"shy", 0xAD}, {"sol", 0x2F}, {"spades", 0x2660},
    {"sup1", 0xB9}, {"sup2", 0xB2}, {"sup3", 0xB3}, {"szlig", 0xDF},
    {"thinsp", 0x2009}, {"thorn", 0xFE}, {"tilde", 0x2DC}, {"times", 0xD7},
    {"trade", 0x2122}, {"uacute", 0xFA}, {"uarr", 0x2191}, {"ucirc", 0xFB},
    {"ugrave", 0xF9}, {"uml", 0xA8}, {"uuml", 0xFC}, {"verbar", 0x7C},
    {"vert", 0x7C}, {"yacute", 0xFD}, {"yen", 0xA5}, {"yuml", 0xFF},
    {"zwj", 0x200D}, {"zwnj", 0x200C},
};

#define HTML_N_ENTITIES (sizeof(html_entities) / sizeof(html_entities[0]))

/* Longest entity name looked up (the table's longest, "DiacriticalGrave"
 * and "NonBreakingSpace", is 16). */
#define HTML_ENTITY_NAME_MAX 16u

/* The font-size an element sets itself (font-size is inherited). */
enum html_font {
    HTML_FONT_INHERIT,  /* none, or one relative to the parent's (em, %) */
    HTML_FONT_TINY,     /* one nobody reads (css_tiny_font) */
    HTML_FONT_READABLE  /* an absolute one a reader reads */
};

/* What an element is to a closed <details>. */
enum html_fold {
    HTML_FOLD_NONE,
    HTML_FOLD_CLOSED, /* a closed <details>: shows only its summary */
    HTML_FOLD_SUMMARY /* the first <summary> opened as a child of one */
};

struct html_elem {
    uint32_t name_hash;
    uint32_t serial;  /* names its entry in the list of active formatting
                       * elements (afe_find_serial); 0: it has none */
    bool is_hidden;   /* hides everything inside, whatever it sets */
    bool is_tiny;     /* its font-size, own or inherited, is tiny */
    bool is_folded;   /* in a closed <details>, not in its summary */
    bool has_summary; /* a closed <details> whose summary was opened */
    uint8_t font;     /* enum html_font: the font-size it sets */
    uint8_t fold;     /* enum html_fold */
    uint8_t tag;      /* enum html_tag */
    uint16_t props;   /* HTML_P_* */
};

/*
 * An entry of the list of active formatting elements (WHATWG 13.2.4.3):
 * a formatting element's start tag as far as we use it (name and what it
 * sets: its hidden bit and font-size), to open it again after an
 * implied close; or a marker (serial 0), pushed when a cell, caption,
 * applet, marquee, object or template opens, which bounds what is
 * reopened inside it and what its end clears.
 */
struct html_afe {
    uint32_t serial;  /* of the element open for it; 0: a marker */
    uint32_t name_hash;
    bool is_open;     /* that element is on the stack */
    bool is_hidden;
    uint8_t font;     /* enum html_font */
    uint8_t tag;      /* enum html_tag */
    uint16_t props;   /* HTML_P_* */
};

struct html_view {
    const uint8_t *p; /* NULL when the attribute is absent */
    size_t len;
};

/* Attributes of one start tag that matter to us. */
enum html_attr {
    HTML_ATTR_HREF,
    HTML_ATTR_SRC,
    HTML_ATTR_ACTION,
    HTML_ATTR_TYPE,
    HTML_ATTR_STYLE,
    HTML_ATTR_SIZE,
    HTML_ATTR_COLOR,
    HTML_ATTR_BACKGROUND,
    HTML_ATTR_HTTP_EQUIV,
    HTML_ATTR_CONTENT,
    HTML_ATTR_HIDDEN,
    HTML_ATTR_OPEN,
    HTML_ATTR_METHOD,
    HTML_ATTR_COUNT
};

/* Only the bit mask is cleared per tag: views are valid where set. */
struct html_attrs {
    unsigned present; /* bit (1u << enum html_attr) per attribute seen */
    struct html_view v[HTML_ATTR_COUNT];
};

struct html_state {
    const uint8_t *p;
    size_t len;
    char *out;
    size_t o;
    size_t out_max;
    bool is_full;
    bool is_quirks; /* no standards-mode DOCTYPE: see doctype_quirks() */
    enum html_pend pend;
    unsigned flags;
    html_link_fn on_link;
    void *ctx;
    bool has_form;        /* the form element pointer is set */
    uint32_t serial;      /* the last serial handed out (next_serial) */
    size_t n_afe;
    struct html_afe afe[HTML_AFE_MAX];
    struct html_elem stack[HTML_STACK_MAX];
    size_t depth;
    size_t n_overflow; /* open elements past the stack */
    size_t n_hidden;   /* hidden entries on the stack (is_hidden) */
    bool has_base;     /* a <base href> was seen: the first one counts */
    bool link_seen;    /* a link was read (before the base, if any) */
    bool late_base;    /* the base came after a link: relink_init */
    bool relink;       /* reading the links before a late base */
    size_t base_at;    /* where the base's href stands in p */
    size_t base_len;   /* base's length; 0 when it is not absolute */
    char base[MIME_URL_MAX_BYTES];
    bool has_anchor;
    size_t anchor_start;
    size_t href_len;
    char href[MIME_URL_MAX_BYTES];
};

/* Is the current element a table, row or table section?  Text or an
 * inline start tag there a browser moves out of the table ("foster
 * parenting"), blank text it keeps there, and the next row or cell
 * start tag closes back to the table what was opened since
 * (table_clear); a browser reopens formatting elements before the table
 * too, which is not modelled, so they are not reopened there; what
 * encloses the table styles text there (fostered_hiding). */
static bool
is_table_markup(const struct html_state *st)
{
    uint8_t tag;

    if (st->depth == 0) {
        return false;
    }
    tag = st->stack[st->depth - 1].tag;
    return tag == HTML_TAG_TABLE || tag == HTML_TAG_TBODY ||
           tag == HTML_TAG_TR;
}

/* Text directly in a table's markup a browser writes before the table
 * ("foster parenting"): what encloses the table styles it, not the
 * table, section or row.  Is that hiding?  (A stray section or row, with
 * no table open, is never on the stack: is_stray_table_part.)  At most
 * HTML_STACK_MAX steps, and only for text that would be hidden
 * otherwise. */
static bool
fostered_hiding(const struct html_state *st)
{
    size_t t = st->depth;

    while (t > 0 && st->stack[t - 1].tag != HTML_TAG_TABLE) {
        t--;
    }
    if (t == 0) {
        return true;
    }
    if (t == 1) {
        return false; /* nothing encloses the table */
    }
    t--; /* the table's index: what is below it encloses it */
    for (size_t k = 0; k < t; k++) {
        if (st->stack[k].is_hidden) {
            return true;
        }
    }
    return st->stack[t - 1].is_tiny || st->stack[t - 1].is_folded;
}

/* Bytes that interrupt a text run. */
/* Is text written now hidden: inside a hidden element, in a tiny font
 * no element since has set a readable size for, or in a closed <details>
 * outside its summary (the current element's is_tiny and is_folded;
 * past the stack, the last tracked one's)? */
static bool
is_hiding(const struct html_state *st)
{
    bool is_hidden = st->n_hidden > 0 ||
                     (st->depth > 0 && (st->stack[st->depth - 1].is_tiny ||
                                        st->stack[st->depth - 1].is_folded));

    if (!is_hidden || st->n_overflow > 0 || !is_table_markup(st)) {
        return is_hidden;
    }
    return fostered_hiding(st);
}

static const uint8_t html_special[256] = {
    [0] = 1,    ['\t'] = 1, ['\n'] = 1, ['\v'] = 1, ['\f'] = 1, ['\r'] = 1,
    [' '] = 1,  ['&'] = 1,  ['<'] = 1,  [0xC2] = 1, [0xE2] = 1, [0xEF] = 1,
};

/*
 * read_name's and attr_name_end's table: 0 for a byte that ends a tag or
 * attribute name
 * (html_is_space, '/', '>', and '=' except as the name's first byte),
 * else the byte as it goes into the name (A-Z lower-cased), so one lookup
 * per byte both tests and folds.  Built at compile time.
 */
#define HTML_NAME_STOP(c)                                                  \
    ((c) == 0 || (c) == '\t' || (c) == '\n' || (c) == '\v' ||             \
     (c) == '\f' || (c) == '\r' || (c) == ' ' || (c) == '/' || (c) == '>' || \
     (c) == '=')
#define HTML_FOLD(c)                                                       \
    ((uint8_t)(HTML_NAME_STOP(c) ? 0                                       \
               : (c) >= 'A' && (c) <= 'Z' ? (c) + 32                       \
                                          : (c)))
static const uint8_t html_name_fold[256] = {BYTETABLE(HTML_FOLD)};

/* Bytes attr_decode copies as they are: not a control byte, DEL or '&'. */
#define HTML_PLAIN(c) ((c) >= ' ' && (c) != 0x7F && (c) != '&')
static const uint8_t html_attr_plain[256] = {BYTETABLE(HTML_PLAIN)};

/* Bytes read_attrs skips before an attribute: html_is_space and '/'. */
#define HTML_GAP(c) (HTML_NAME_STOP(c) && (c) != '>' && (c) != '=')
static const uint8_t html_attr_gap[256] = {BYTETABLE(HTML_GAP)};

#undef HTML_NAME_STOP
#undef HTML_FOLD
#undef HTML_PLAIN
#undef HTML_GAP

static uint8_t
html_lower(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

static bool
html_is_alpha(uint8_t c)
{
    c = html_lower(c);
    return c >= 'a' && c <= 'z';
}

static bool
html_is_alnum(uint8_t c)
{
    return html_is_alpha(c) || (c >= '0' && c <= '9');
}

static bool
html_is_space(uint8_t c)
{
    /* One table lookup: blank runs of indented markup are walked byte
     * by byte, as are the blanks around attributes. */
    static const bool space[256] = {[' '] = true,  ['\t'] = true,
                                    ['\n'] = true, ['\r'] = true,
                                    ['\f'] = true, ['\v'] = true,
                                    [0] = true};

    return space[c];
}

/* Case-insensitive: does view v start with the lower-case literal? */
static bool
view_prefix(const uint8_t *p, size_t n, const char *lit)
{
    size_t k = strlen(lit);

    if (n < k) {
        return false;
    }
    for (size_t i = 0; i < k; i++) {
        if (html_lower(p[i]) != (uint8_t)lit[i]) {
            return false;
        }
    }
    return true;
}

static void
view_trim(const uint8_t **p, size_t *n)
{
    while (*n > 0 && html_is_space((*p)[0])) {
        (*p)++;
        (*n)--;
    }
    while (*n > 0 && html_is_space((*p)[*n - 1])) {
        (*n)--;
    }
}

/* Attribute k of a tag, or a view with p NULL when absent. */
static struct html_view
attr_get(const struct html_attrs *at, enum html_attr k)
{
    struct html_view none = {NULL, 0};

    return (at->present & (1u << k)) != 0 ? at->v[k] : none;
}

/* strcmp's order of two short names, in place: a call into strcmp per
 * tag and per entity-search step cost more than the compare (issue #7). */
static int
name_cmp(const char *a, const char *b)
{
    while (*a != '\0' && *a == *b) {
        a++;
        b++;
    }
    return (uint8_t)*a < (uint8_t)*b ? -1 : (uint8_t)*a > (uint8_t)*b;
}

/* The known element named name (read_name's copy and hash), or NULL.
 * The name is still compared, so a name that merely shares a known tag's
 * hash is no such tag. */
static inline const struct html_tag_info *
tag_lookup(const char *name, uint32_t hash)
{
    unsigned k = html_tag_slots[HTML_TAG_SLOT(hash)];
    const struct html_tag_info *ti;

    if (k == 0) {
        return NULL;
    }
    ti = &html_tags[k - 1];
    return ti->hash == hash && memcmp(name, ti->key, HTML_NAME_MAX) == 0
               ? ti
               : NULL;
}

static const struct html_entity_def *
entity_lookup(const char *name)
{
    size_t lo = 0;
    size_t hi = HTML_N_ENTITIES;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = name_cmp(name, html_entities[mid].name);
        if (c == 0) {
            return &html_entities[mid];
        }
        if (c < 0) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    return NULL;
}

/* Code point of a numeric reference after HTML's fix-ups. */
static uint32_t
entity_fix(uint32_t cp)
{
    if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        return 0xFFFD;
    }
    if (cp >= 0x80 && cp <= 0x9F) {
        return charset_cp1252((uint8_t)cp);
    }
    return cp;
}

/* Names that browsers decode without a ';' (the common legacy ones). */
static const char *const html_legacy[] = {
    "amp", "lt", "gt", "quot", "nbsp", "copy", "reg",
};

static size_t
entity_parse(const uint8_t *p, size_t len, bool is_attr, uint32_t *cp)
{
    char name[HTML_ENTITY_NAME_MAX + 1];
    size_t n = 0;
    const struct html_entity_def *e;

    if (len == 0) {
        return 0;
    }
    if (p[0] == '#') {
        bool is_hex = len > 1 && (p[1] == 'x' || p[1] == 'X');
        size_t i = is_hex ? 2 : 1;
        size_t start = i;
        uint32_t v = 0;
        for (; i < len; i++) {
            uint8_t c = html_lower(p[i]);
            uint32_t d;
            if (c >= '0' && c <= '9') {
                d = c - '0';
            } else if (is_hex && c >= 'a' && c <= 'f') {
                d = c - 'a' + 10u;
            } else {
                break;
            }
            /* Clamp instead of overflowing; digits are still consumed. */
            v = v > 0x10FFFF ? v : v * (is_hex ? 16u : 10u) + d;
        }
        if (i == start) {
            return 0;
        }
        if (i < len && p[i] == ';') {
            i++;
        }
        *cp = entity_fix(v);
        return i;
    }
    while (n < len && n < HTML_ENTITY_NAME_MAX && html_is_alnum(p[n])) {
        name[n] = (char)p[n];
        n++;
    }
    name[n] = '\0';
    if (n == 0) {
        return 0;
    }
    if (n < len && p[n] == ';') {
        e = entity_lookup(name);
        if (e != NULL) {
            *cp = e->cp;
            return n + 1;
        }
    }
    /* Legacy forms without ';': "&amp" "&copy2024" (text only), and in an
     * attribute only when not followed by a name character or '=' (so
     * "?a=1&copy=2" keeps its "&copy"). */
    for (size_t k = 0; k < sizeof(html_legacy) / sizeof(html_legacy[0]);
         k++) {
        size_t ln = strlen(html_legacy[k]);
        if (ln > n || memcmp(name, html_legacy[k], ln) != 0) {
            continue;
        }
        if (ln < len && p[ln] == ';') {
            continue; /* handled above or not in the table */
        }
        if (is_attr && ln < len && (html_is_alnum(p[ln]) || p[ln] == '=')) {
            return 0;
        }
        name[ln] = '\0';
        e = entity_lookup(name);
        if (e != NULL) {
            *cp = e->cp;
            return ln;
        }
    }
    return 0;
}

size_t
html_entity(const uint8_t *p, size_t len, uint32_t *cp)
{
    return entity_parse(p, len, false, cp);
}

/* Characters dropped from text: zero-width, soft hyphen, bidi marks. */
static bool
cp_is_invisible(uint32_t cp)
{
    return cp == 0xAD || (cp >= 0x200B && cp <= 0x200F) || cp == 0x2060 ||
           cp == 0xFEFF;
}

/* Characters rendered as a blank. */
static bool
cp_is_blank(uint32_t cp)
{
    return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' ||
           cp == '\f' || cp == 0xA0 || (cp >= 0x2000 && cp <= 0x200A) ||
           cp == 0x202F || cp == 0x3000;
}

static void
set_pend(struct html_state *st, enum html_pend pend)
{
    if (pend > st->pend) {
        st->pend = pend;
    }
}

/* emit for text known not to be hidden (n > 0). */
static void
emit_shown(struct html_state *st, const char *s, size_t n)
{
    size_t room;

    if (st->is_full) {
        return;
    }
    if (st->o > 0 && st->pend != HTML_PEND_NONE) {
        char last = st->out[st->o - 1];
        char sep = 0;
        if (st->pend == HTML_PEND_LINE && last != '\n') {
            sep = '\n';
        } else if (st->pend == HTML_PEND_SPACE && last != '\n' &&
                   last != ' ') {
            sep = ' ';
        }
        if (sep != 0) {
            if (st->o >= st->out_max) {
                st->is_full = true;
                st->flags |= HTML_OUT_CAPPED;
                return;
            }
            st->out[st->o++] = sep;
        }
    }
    st->pend = HTML_PEND_NONE;
    room = st->out_max - st->o;
    if (n > room) {
        size_t k = room;
        /* Cut before the lead byte of a character that does not fit. */
        while (k > 0 && ((uint8_t)s[k] & 0xC0) == 0x80) {
            k--;
        }
        if (k > 0) {
            memcpy(st->out + st->o, s, k);
            st->o += k;
        }
        st->is_full = true;
        st->flags |= HTML_OUT_CAPPED;
        return;
    }
    memcpy(st->out + st->o, s, n);
    st->o += n;
}

/* Write visible text (already UTF-8, no blanks at its ends). */
static void
emit(struct html_state *st, const char *s, size_t n)
{
    if (n == 0) {
        return;
    }
    if (is_hiding(st)) {
        st->flags |= HTML_HIDDEN_TEXT;
        return;
    }
    emit_shown(st, s, n);
}

static void
emit_cp(struct html_state *st, uint32_t cp)
{
    char tmp[4];

    if (cp_is_invisible(cp)) {
        return;
    }
    if (cp_is_blank(cp)) {
        set_pend(st, HTML_PEND_SPACE);
        return;
    }
    emit(st, tmp, charset_utf8_put(cp, tmp));
}

/* Whether the 8 bytes at p are all html_attr_plain (no control byte, DEL
 * or '&'): eight bytes per test on the URLs attr_decode copies.  The
 * "lowest" tests of swar.h: lanes above a found one may be wrong, which
 * a yes/no answer never asks. */
static bool
attr_plain8(const uint8_t *p)
{
    uint64_t x = swar_load(p);

    return (swar_lt_lowest(x, 0x20) | swar_eq_lowest(x, '&') |
            swar_eq_lowest(x, 0x7F)) == 0;
}

/*
 * Decode an attribute value (entities; tabs, line breaks and other control
 * bytes removed; surrounding blanks trimmed) into buf.  Returns the
 * length.
 */
static size_t
attr_decode(struct html_view v, char *buf, size_t max)
{
    const uint8_t *p = v.p;
    size_t n = v.len;
    size_t o = 0;
    size_t i = 0;

    view_trim(&p, &n);
    while (i < n && o < max) {
        uint8_t c = p[i];
        if (html_attr_plain[c]) {
            /* A run of plain bytes (most of any URL) copied at once. */
            size_t e = i + 1;
            size_t end = n - i < max - o ? n : i + (max - o);
            while (end - e >= 8 && attr_plain8(p + e)) {
                e += 8;
            }
            while (e < end && html_attr_plain[p[e]]) {
                e++;
            }
            memcpy(buf + o, p + i, e - i);
            o += e - i;
            i = e;
            continue;
        }
        /* Browsers drop tabs and line breaks; no control byte is kept. */
        if (c < ' ' || c == 0x7F) {
            i++;
            continue;
        }
        if (c == '&') {
            uint32_t cp;
            size_t k = entity_parse(p + i + 1, n - i - 1, true, &cp);
            if (k > 0 && (cp < ' ' || cp == 0x7F)) {
                i += 1 + k;
                continue;
            }
            if (k > 0) {
                char tmp[4];
                size_t m = charset_utf8_put(cp, tmp);
                if (m > max - o) {
                    break;
                }
                memcpy(buf + o, tmp, m);
                o += m;
                i += 1 + k;
                continue;
            }
        }
        buf[o++] = (char)c;
        i++;
    }
    if (i < n && (p[i] & 0xC0) == 0x80) {
        /* max cut a character copied byte for byte: drop what of it got
         * in, so a URL never ends in half a character. */
        while (o > 0 && ((uint8_t)buf[o - 1] & 0xC0) == 0x80) {
            o--;
        }
        if (o > 0) {
            o--;
        }
    }
    while (o > 0 && (uint8_t)buf[o - 1] <= ' ') {
        o--;
    }
    return o;
}

/* The byte of (p, n) at i, an entity read as its character ("&#64;" is
 * an '@' to a browser), and its length in *k. */
static uint32_t
raw_char(const uint8_t *p, size_t n, size_t i, size_t *k)
{
    uint32_t cp;
    size_t m = 0;

    if (p[i] == '&') {
        m = entity_parse(p + i + 1, n - i - 1, true, &cp);
    }
    *k = m > 0 ? 1 + m : 1;
    return m > 0 ? cp : p[i];
}

/* Offset in the raw attribute just past the last '@' of a URL's
 * authority (after the first "//", up to '/', '?', '#' or '\\'), or 0. */
static size_t
raw_userinfo_end(const uint8_t *p, size_t n)
{
    size_t i = 0;
    size_t at = 0;

    while (i + 1 < n && !(p[i] == '/' && p[i + 1] == '/')) {
        i++;
    }
    for (i += 2; i < n;) {
        size_t k;
        uint32_t c = raw_char(p, n, i, &k);

        if (c == '/' || c == '?' || c == '#' || c == '\\') {
            break;
        }
        i += k;
        at = c == '@' ? i : at;
    }
    return at;
}

/* The "://" after a scheme in the first bytes of buf (o long), or NULL
 * (buf is not NUL-terminated). */
static const char *
scheme_end(const char *buf, size_t o)
{
    for (size_t i = 0; i + 3 <= o && i <= 32; i++) {
        if (memcmp(buf + i, "://", 3) == 0) {
            return buf + i;
        }
    }
    return NULL;
}

/* Whether buf[from, o) holds no end of a URL's authority. */
static bool
is_authority_open(const char *buf, size_t from, size_t o)
{
    for (size_t i = from; i < o; i++) {
        if (buf[i] == '/' || buf[i] == '?' || buf[i] == '#' ||
            buf[i] == '\\') {
            return false;
        }
    }
    return true;
}

/*
 * attr_decode for a URL.  A URL longer than buf is cut; when the cut
 * falls inside its authority, a userinfo padded past the cap
 * ("https://aaaa...aaaa@evil.example/") would leave no host for
 * reputation, look-alike and fingerprints.  Then the userinfo is
 * shortened instead: the scheme, its first bytes, '@', and the rest of
 * the URL from after the authority's last '@'.
 */
static size_t
attr_decode_url(struct html_view v, char *buf, size_t max)
{
    enum { USERINFO_KEPT = 16 };
    size_t o = attr_decode(v, buf, max);
    const char *sep;
    size_t keep;
    size_t at;
    struct html_view rest;

    if (o + 4 < max) {
        return o; /* not cut (a cut loses at most a 3-byte character) */
    }
    sep = scheme_end(buf, o);
    if (sep == NULL || !is_authority_open(buf, (size_t)(sep - buf) + 3, o)) {
        return o;
    }
    at = raw_userinfo_end(v.p, v.len);
    if (at == 0) {
        return o;
    }
    keep = (size_t)(sep - buf) + 3 + USERINFO_KEPT;
    while (keep > 0 && ((uint8_t)buf[keep] & 0xC0) == 0x80) {
        keep--; /* not inside a character */
    }
    buf[keep++] = '@';
    rest.p = v.p + at;
    rest.len = v.len - at;
    return keep + attr_decode(rest, buf + keep, max - keep);
}

/* Length of the "scheme:" that starts buf (o bytes), or 0 (a relative
 * reference). */
static size_t
scheme_len(const char *buf, size_t o)
{
    size_t i = 1;

    if (o == 0 || !((buf[0] | 0x20) >= 'a' && (buf[0] | 0x20) <= 'z')) {
        return 0;
    }
    while (i < o && i <= 32 &&
           (((buf[i] | 0x20) >= 'a' && (buf[i] | 0x20) <= 'z') ||
            (buf[i] >= '0' && buf[i] <= '9') || buf[i] == '+' ||
            buf[i] == '-' || buf[i] == '.')) {
        i++;
    }
    return i < o && buf[i] == ':' ? i + 1 : 0;
}

/* Index of the first of the bytes in stops in b[from, n), or n. */
static size_t
first_of(const char *b, size_t from, size_t n, const char *stops)
{
    while (from < n && strchr(stops, b[from]) == NULL) {
        from++;
    }
    return from;
}

/*
 * How much of the base precedes a relative reference starting with c
 * (RFC 3986 5.2, as browsers merge): its scheme for "//host", scheme
 * and authority for "/path", up to the query for "?q", up to the
 * fragment for "#f", up to the last '/' of the path otherwise (*slash:
 * a '/' must follow, the base having no path).  '\' is '/' as in
 * http.  Dot segments are left: they never change the host.
 */
static size_t
base_prefix(const char *b, size_t n, const char *ref, bool *slash)
{
    size_t auth = scheme_len(b, n);
    size_t path;
    size_t dir;

    *slash = false;
    while (auth < n && (b[auth] == '/' || b[auth] == '\\')) {
        auth++; /* "http:\\\\host" is http://host to a browser */
    }
    auth = first_of(b, auth, n, "/\\?#");
    path = first_of(b, auth, n, "?#");
    if (ref[0] == '/' || ref[0] == '\\') {
        return ref[1] == '/' || ref[1] == '\\' ? scheme_len(b, n) : auth;
    }
    if (ref[0] == '?') {
        return path;
    }
    if (ref[0] == '#') {
        return first_of(b, auth, n, "#");
    }
    dir = path;
    while (dir > auth && b[dir - 1] != '/' && b[dir - 1] != '\\') {
        dir--;
    }
    *slash = dir == auth;
    return dir;
}

/*
 * A relative reference (buf, o bytes, at most max) made absolute with
 * the page's <base href>, in place; the new length.  A browser opens
 * <base href="http://evil.example/"><a href="/login"> at evil.example:
 * read alone, the link had no host, so a campaign could hide its site
 * from reputation, look-alike and fingerprints behind one base tag.
 * A result longer than max loses its end, never half a character.
 */
static size_t
resolve_base(const struct html_state *st, char *buf, size_t o, size_t max)
{
    bool slash;
    size_t pre;
    size_t add;

    if (st->base_len == 0 || o == 0 || scheme_len(buf, o) > 0) {
        return o;
    }
    pre = base_prefix(st->base, st->base_len, buf, &slash);
    add = pre + (slash ? 1 : 0);
    if (add >= max) {
        return o;
    }
    if (o > max - add) {
        o = max - add;
        while (o > 0 && ((uint8_t)buf[o] & 0xC0) == 0x80) {
            o--;
        }
    }
    memmove(buf + add, buf, o);
    memcpy(buf, st->base, pre);
    if (slash) {
        buf[pre] = '/';
    }
    return add + o;
}

/* The first <base href> sets the base of every later link (a browser's
 * "frozen base URL"); only an absolute one with an authority is kept,
 * since a relative base resolves against a page address mail has not. */
static void
base_set(struct html_state *st, struct html_view v)
{
    size_t n;
    size_t s;

    if (st->has_base || v.p == NULL) {
        return;
    }
    st->has_base = true;
    st->late_base = st->link_seen;
    /* An href without a value is a static "", not in the page. */
    st->base_at = v.p > st->p && v.p <= st->p + st->len
                      ? (size_t)(v.p - st->p)
                      : 0;
    n = attr_decode_url(v, st->base, sizeof(st->base));
    s = scheme_len(st->base, n);
    if (s > 0 && s < n && (st->base[s] == '/' || st->base[s] == '\\')) {
        st->base_len = n;
    }
}

/* attr_decode_url of a link, resolved against the <base href>; while
 * the links before a late base are read again, 0 for one the base does
 * not move (it was reported as it is). */
static size_t
link_decode(struct html_state *st, struct html_view v, char *buf,
            size_t max)
{
    size_t o = attr_decode_url(v, buf, max);
    size_t n = resolve_base(st, buf, o, max);

    st->link_seen = true;
    return st->relink && n == o ? 0 : n;
}

static void
report(struct html_state *st, enum html_link_kind kind, struct html_view v)
{
    char buf[MIME_URL_MAX_BYTES];
    size_t n;

    if (st->on_link == NULL || v.p == NULL) {
        return;
    }
    n = link_decode(st, v, buf, sizeof(buf));
    if (n > 0) {
        st->on_link(st->ctx, kind, buf, n, "", 0);
    }
}

/* What a <form> reports: a form that says method="get" sends its
 * fields in a URL, as a search box does (HTML_LINK_FORM_GET); any other
 * (post, or no method) may post credentials. */
static enum html_link_kind
form_kind(const struct html_attrs *at)
{
    struct html_view m = attr_get(at, HTML_ATTR_METHOD);
    const uint8_t *p = m.p;
    size_t n = m.len;

    if (p == NULL) {
        return HTML_LINK_FORM;
    }
    view_trim(&p, &n);
    return n == 3 && view_prefix(p, n, "get") ? HTML_LINK_FORM_GET
                                              : HTML_LINK_FORM;
}

static void
anchor_close(struct html_state *st)
{
    size_t s;
    size_t e;

    if (!st->has_anchor) {
        return;
    }
    st->has_anchor = false;
    if (st->on_link == NULL) {
        return;
    }
    if (st->out == NULL) {
        st->on_link(st->ctx, HTML_LINK_HREF, st->href, st->href_len, "", 0);
        return;
    }
    s = st->anchor_start;
    e = st->o;
    while (s < e && (st->out[s] == ' ' || st->out[s] == '\n')) {
        s++;
    }
    while (e > s && (st->out[e - 1] == ' ' || st->out[e - 1] == '\n')) {
        e--;
    }
    if (e - s > MIME_ANCHOR_MAX_BYTES) {
        e = s + MIME_ANCHOR_MAX_BYTES;
        while (e > s && ((uint8_t)st->out[e] & 0xC0) == 0x80) {
            e--;
        }
    }
    st->on_link(st->ctx, HTML_LINK_HREF, st->href, st->href_len,
                st->out + s, e - s);
}

/* Numeric CSS length → hundredths, and its unit; false if not a number. */
static bool
css_number(const uint8_t *p, size_t n, unsigned long *hundredths,
           const uint8_t **unit, size_t *unit_len)
{
    size_t i = 0;
    unsigned long v = 0;
    unsigned frac = 0;
    bool has_digit = false;

    while (i < n && p[i] >= '0' && p[i] <= '9') {
        if (v < 1000000ul) {
            v = v * 10 + (p[i] - '0');
        }
        has_digit = true;
        i++;
    }
    v *= 100;
    if (i < n && p[i] == '.') {
        i++;
        for (unsigned scale = 10; i < n && p[i] >= '0' && p[i] <= '9';
             i++) {
            frac += (p[i] - '0') * scale;
            scale /= 10;
            has_digit = true;
        }
    }
    if (!has_digit) {
        return false;
    }
    *hundredths = v + frac;
    *unit = p + i;
    *unit_len = n - i;
    return true;
}

/* font-size small enough that nobody reads it. */
static bool
css_tiny_font(const uint8_t *p, size_t n)
{
    unsigned long v;
    const uint8_t *u;
    size_t un;

    if (!css_number(p, n, &v, &u, &un)) {
        return false;
    }
    if (v == 0) {
        return true;
    }
    if (un == 0 || view_prefix(u, un, "px") || view_prefix(u, un, "pt")) {
        return v <= 100;
    }
    if (view_prefix(u, un, "em") || view_prefix(u, un, "rem")) {
        return v < 20;
    }
    if (view_prefix(u, un, "%")) {
        return v < 2000;
    }
    return false;
}

/* Is the CSS value at p the keyword lit (lower case), alone or with
 * "!important" after it? */
static bool
css_keyword(const uint8_t *p, size_t n, const char *lit)
{
    size_t k = strlen(lit);

    return view_prefix(p, n, lit) &&
           (n == k || html_is_space(p[k]) || p[k] == '!');
}

/* The font-size a value sets: a tiny one, a readable one (an absolute
 * length or keyword), or none of its own -- one relative to the parent's
 * (em, ex, ch, %, smaller, larger), inherit, or what is not understood
 * (a calc(), a unitless number in standards mode): the parent's size
 * stays, tiny or not. */
static enum html_font
css_font_size(const uint8_t *p, size_t n)
{
    static const char *const absolute[] = {
        "xx-small", "x-small", "small", "medium", "large", "x-large",
        "xx-large", "xxx-large", "initial",
    };
    unsigned long v;
    const uint8_t *u;
    size_t un;

    if (css_tiny_font(p, n)) {
        return HTML_FONT_TINY;
    }
    if (css_number(p, n, &v, &u, &un)) {
        if (view_prefix(u, un, "px") || view_prefix(u, un, "pt") ||
            view_prefix(u, un, "pc") || view_prefix(u, un, "rem") ||
            view_prefix(u, un, "cm") || view_prefix(u, un, "mm") ||
            view_prefix(u, un, "in")) {
            return HTML_FONT_READABLE;
        }
        return HTML_FONT_INHERIT;
    }
    for (size_t i = 0; i < sizeof(absolute) / sizeof(absolute[0]); i++) {
        if (css_keyword(p, n, absolute[i])) {
            return HTML_FONT_READABLE;
        }
    }
    return HTML_FONT_INHERIT;
}

static bool
css_zero(const uint8_t *p, size_t n)
{
    unsigned long v;
    const uint8_t *u;
    size_t un;

    return css_number(p, n, &v, &u, &un) && v == 0;
}

/* The CSS properties style_hidden looks at. */
enum css_prop {
    CSS_OTHER,
    CSS_DISPLAY,
    CSS_VISIBILITY,
    CSS_FONT_SIZE,
    CSS_OPACITY,
    CSS_MSO_HIDE,
    CSS_BOX,     /* width, height, max-width, max-height */
    CSS_OVERFLOW
};

/* The property named (p, n) (any case), by its length first: most
 * declarations of a style are none of them, and cost one switch. */
static enum css_prop
css_prop_kind(const uint8_t *p, size_t n)
{
    switch (n) {
    case 5:
        return view_prefix(p, n, "width") ? CSS_BOX : CSS_OTHER;
    case 6:
        return view_prefix(p, n, "height") ? CSS_BOX : CSS_OTHER;
    case 7:
        if (view_prefix(p, n, "display")) {
            return CSS_DISPLAY;
        }
        return view_prefix(p, n, "opacity") ? CSS_OPACITY : CSS_OTHER;
    case 8:
        if (view_prefix(p, n, "mso-hide")) {
            return CSS_MSO_HIDE;
        }
        return view_prefix(p, n, "overflow") ? CSS_OVERFLOW : CSS_OTHER;
    case 9:
        if (view_prefix(p, n, "font-size")) {
            return CSS_FONT_SIZE;
        }
        return view_prefix(p, n, "max-width") ? CSS_BOX : CSS_OTHER;
    case 10:
        if (view_prefix(p, n, "visibility")) {
            return CSS_VISIBILITY;
        }
        return view_prefix(p, n, "max-height") ? CSS_BOX : CSS_OTHER;
    default:
        return CSS_OTHER;
    }
}

/* Does an inline style hide its element, and everything inside it,
 * outright?  *font gets the font-size it sets (the last one), which
 * a descendant may set again (css_font_size).  Declarations are
 * "prop: value" up to ';' (a part without ':' is skipped); the value is
 * read only for a property that matters. */
static bool
style_hidden(struct html_view v, enum html_font *font)
{
    const uint8_t *s = v.p;
    size_t n = v.len;
    size_t i = 0;
    bool is_zero_box = false;
    bool is_overflow_hidden = false;

    while (i < n) {
        const uint8_t *prop = s + i;
        const uint8_t *semi = memchr(s + i, ';', n - i);
        size_t end = semi == NULL ? n : (size_t)(semi - s);
        const uint8_t *colon = memchr(s + i, ':', end - i);
        size_t prop_len;
        const uint8_t *val;
        size_t val_len;
        enum css_prop kind;

        i = end < n ? end + 1 : n;
        if (colon == NULL) {
            continue;
        }
        prop_len = (size_t)(colon - prop);
        view_trim(&prop, &prop_len);
        kind = css_prop_kind(prop, prop_len);
        if (kind == CSS_OTHER) {
            continue;
        }
        val = colon + 1;
        val_len = (size_t)(s + end - val);
        view_trim(&val, &val_len);
        switch (kind) {
        case CSS_OTHER:
            break;
        case CSS_DISPLAY:
            if (view_prefix(val, val_len, "none")) {
                return true;
            }
            break;
        case CSS_VISIBILITY:
            if (view_prefix(val, val_len, "hidden") ||
                view_prefix(val, val_len, "collapse")) {
                return true;
            }
            break;
        case CSS_FONT_SIZE: {
            enum html_font f = css_font_size(val, val_len);
            if (f != HTML_FONT_INHERIT) {
                *font = f;
            }
            break;
        }
        case CSS_OPACITY:
            if (css_zero(val, val_len)) {
                return true;
            }
            break;
        case CSS_MSO_HIDE:
            if (view_prefix(val, val_len, "all")) {
                return true;
            }
            break;
        case CSS_BOX:
            if (css_zero(val, val_len)) {
                is_zero_box = true;
            }
            break;
        case CSS_OVERFLOW:
            if (view_prefix(val, val_len, "hidden")) {
                is_overflow_hidden = true;
            }
            break;
        }
    }
    return is_zero_box && is_overflow_hidden;
}

/* <font size=1 color=white>: tiny and white on (presumably) white. */
static bool
font_hidden(const struct html_attrs *at)
{
    const uint8_t *p;
    size_t n;
    bool is_tiny;
    bool is_white;

    if (attr_get(at, HTML_ATTR_SIZE).p == NULL ||
        attr_get(at, HTML_ATTR_COLOR).p == NULL) {
        return false;
    }
    p = at->v[HTML_ATTR_SIZE].p;
    n = at->v[HTML_ATTR_SIZE].len;
    view_trim(&p, &n);
    is_tiny = (n == 1 && (p[0] == '0' || p[0] == '1')) ||
              (n == 2 && p[0] == '-' && p[1] >= '2' && p[1] <= '9');
    p = at->v[HTML_ATTR_COLOR].p;
    n = at->v[HTML_ATTR_COLOR].len;
    view_trim(&p, &n);
    is_white = (n == 5 && view_prefix(p, n, "white")) ||
               (n == 4 && view_prefix(p, n, "#fff")) ||
               (n == 7 && view_prefix(p, n, "#ffffff"));
    return is_tiny && is_white;
}

/* A <font size> a browser understands (WHATWG "rules for parsing a
 * legacy font size": blanks, an optional sign, a digit) sets a size from
 * x-small (10px) up, which a reader reads. */
static enum html_font
font_size_attr(const struct html_attrs *at)
{
    const uint8_t *p;
    size_t n;

    if (attr_get(at, HTML_ATTR_SIZE).p == NULL) {
        return HTML_FONT_INHERIT;
    }
    p = at->v[HTML_ATTR_SIZE].p;
    n = at->v[HTML_ATTR_SIZE].len;
    view_trim(&p, &n);
    if (n > 0 && (p[0] == '+' || p[0] == '-')) {
        p++;
        n--;
    }
    return n > 0 && p[0] >= '0' && p[0] <= '9' ? HTML_FONT_READABLE
                                               : HTML_FONT_INHERIT;
}

/* Target of <meta http-equiv=refresh content="5; url=...">. */
static void
meta_refresh(struct html_state *st, const struct html_attrs *at)
{
    const uint8_t *p;
    size_t n;
    struct html_view v;

    if (attr_get(at, HTML_ATTR_HTTP_EQUIV).p == NULL ||
        attr_get(at, HTML_ATTR_CONTENT).p == NULL) {
        return;
    }
    p = at->v[HTML_ATTR_HTTP_EQUIV].p;
    n = at->v[HTML_ATTR_HTTP_EQUIV].len;
    view_trim(&p, &n);
    if (n != 7 || !view_prefix(p, n, "refresh")) {
        return;
    }
    p = at->v[HTML_ATTR_CONTENT].p;
    n = at->v[HTML_ATTR_CONTENT].len;
    for (size_t i = 0; i + 3 < n; i++) {
        if (view_prefix(p + i, n - i, "url")) {
            size_t k = i + 3;
            while (k < n && html_is_space(p[k])) {
                k++;
            }
            if (k >= n || p[k] != '=') {
                continue;
            }
            k++;
            while (k < n && (html_is_space(p[k]) || p[k] == '\'' ||
                             p[k] == '"')) {
                k++;
            }
            v.p = p + k;
            v.len = n - k;
            while (v.len > 0 && (v.p[v.len - 1] == '\'' ||
                                 v.p[v.len - 1] == '"')) {
                v.len--;
            }
            report(st, HTML_LINK_OTHER, v);
            return;
        }
    }
}

/*
 * The list of active formatting elements (WHATWG 13.2.4.3).  A browser
 * keeps the formatting elements (a, b, font, ...) it opened in a list
 * apart from the stack: an implied close (a <p> by the next <p>, a
 * heading's or a <div>'s end tag...) takes them off the stack with the
 * element around them, but they stay in the list, and before the next
 * text or inline start tag it opens them again where the text goes.  So
 * "<p><font size=1 color=white>x<p>y" shows y tiny and white too, and
 * hidden filler written that way stays hidden here as well.  The list is
 * bounded twice: as the spec says, at most three entries alike after the
 * last marker (alike here: the same name, hidden bit and font-size, all
 * we reopen), and at most HTML_AFE_MAX in all, past which an entry that
 * changes nothing we track (afe_make_room) goes first.  Entries know
 * their element by serial; a popped element marks its entry closed
 * (stack_pop_at), so the check before each text run is O(1) unless
 * something was closed.
 */

/* A serial for a new element in the list; never 0 (a marker's). */
static uint32_t
next_serial(struct html_state *st)
{
    st->serial++;
    if (st->serial == 0) {
        st->serial = 1;
    }
    return st->serial;
}

/* Index of the entry of element serial, or n_afe. */
static size_t
afe_find_serial(const struct html_state *st, uint32_t serial)
{
    if (serial == 0) {
        return st->n_afe;
    }
    for (size_t i = st->n_afe; i > 0; i--) {
        if (st->afe[i - 1].serial == serial) {
            return i - 1;
        }
    }
    return st->n_afe;
}

/* Index just after the last marker (0 without one). */
static size_t
afe_after_marker(const struct html_state *st)
{
    for (size_t i = st->n_afe; i > 0; i--) {
        if (st->afe[i - 1].serial == 0) {
            return i;
        }
    }
    return 0;
}

/* Index of the last element of that name after the last marker, or
 * n_afe. */
static size_t
afe_find_name(const struct html_state *st, uint32_t hash)
{
    for (size_t i = st->n_afe; i > 0 && st->afe[i - 1].serial != 0; i--) {
        if (st->afe[i - 1].name_hash == hash) {
            return i - 1;
        }
    }
    return st->n_afe;
}

static void
afe_remove(struct html_state *st, size_t i)
{
    if (i >= st->n_afe) {
        return;
    }
    memmove(&st->afe[i], &st->afe[i + 1],
            (st->n_afe - i - 1) * sizeof(st->afe[0]));
    st->n_afe--;
}

/* Element serial left the stack: its entry (if any) is to be reopened.
 * *hint (n_afe at first) is where the search starts and is left where
 * it ended: elements popped innermost first have their entries mostly
 * in the list's order backwards, so popping n of them costs about
 * n + n_afe compares, not n * n_afe; out of order, the rest is searched
 * as well. */
static void
afe_note_closed(struct html_state *st, uint32_t serial, size_t *hint)
{
    size_t i = *hint < st->n_afe ? *hint : st->n_afe;

    while (i > 0 && st->afe[i - 1].serial != serial) {
        i--;
    }
    if (i == 0) {
        i = afe_find_serial(st, serial) + 1;
        if (i > st->n_afe) {
            return;
        }
    }
    st->afe[i - 1].is_open = false;
    *hint = i - 1;
}

/* A cell, caption, applet, marquee, object or template closed: what it
 * held is forgotten, up to and with its marker. */
static void
afe_clear_to_marker(struct html_state *st)
{
    while (st->n_afe > 0) {
        st->n_afe--;
        if (st->afe[st->n_afe].serial == 0) {
            return;
        }
    }
}

/* Does the entry change nothing we track (neither hides nor sets a
 * font-size)?  Such an entry makes room first. */
static bool
afe_is_plain(const struct html_afe *a)
{
    return a->serial != 0 && !a->is_hidden && a->font == HTML_FONT_INHERIT;
}

/* Free a slot when the list is full: the oldest plain entry, else the
 * oldest element, else (a marker wanted, the list all markers) the
 * oldest marker, whose element is the outermost open one, so its end
 * clears what it should anyway.  False: no room for an element (the list
 * is all markers: hostile nesting). */
static bool
afe_make_room(struct html_state *st, bool is_marker)
{
    size_t oldest = st->n_afe;

    if (st->n_afe < HTML_AFE_MAX) {
        return true;
    }
    for (size_t i = 0; i < st->n_afe; i++) {
        if (afe_is_plain(&st->afe[i])) {
            afe_remove(st, i);
            return true;
        }
        if (oldest == st->n_afe && st->afe[i].serial != 0) {
            oldest = i;
        }
    }
    if (oldest < st->n_afe) {
        afe_remove(st, oldest);
        return true;
    }
    if (is_marker) {
        afe_remove(st, 0);
        return true;
    }
    return false;
}

static void
afe_push_marker(struct html_state *st)
{
    if (!afe_make_room(st, true)) {
        return;
    }
    memset(&st->afe[st->n_afe], 0, sizeof(st->afe[0]));
    st->n_afe++;
}

/* Formatting element e was just pushed: list it, after dropping the
 * oldest of three alike after the last marker ("Noah's Ark"). */
static void
afe_push(struct html_state *st, struct html_elem *e)
{
    size_t n_alike = 0;
    size_t first = st->n_afe;
    struct html_afe *a;

    for (size_t i = afe_after_marker(st); i < st->n_afe; i++) {
        a = &st->afe[i];
        if (a->name_hash == e->name_hash && a->is_hidden == e->is_hidden &&
            a->font == e->font) {
            if (n_alike == 0) {
                first = i;
            }
            n_alike++;
        }
    }
    if (n_alike >= 3) {
        afe_remove(st, first);
    }
    if (!afe_make_room(st, false)) {
        return;
    }
    a = &st->afe[st->n_afe++];
    e->serial = next_serial(st);
    a->serial = e->serial;
    a->name_hash = e->name_hash;
    a->is_open = true;
    a->is_hidden = e->is_hidden;
    a->font = e->font;
    a->tag = e->tag;
    a->props = e->props;
}

/* What entry k inherits from its parent (the entry below it): its
 * font-size is tiny when it sets a tiny one, or sets none and its
 * parent's is; it is folded away when it is a closed <details>, or is in
 * one and is not its summary (the summary is as the details' parent). */
static void
stack_inherit(struct html_state *st, size_t k)
{
    struct html_elem *e = &st->stack[k];
    const struct html_elem *up = k > 0 ? &st->stack[k - 1] : NULL;

    if (e->font == HTML_FONT_INHERIT) {
        e->is_tiny = up != NULL && up->is_tiny;
    } else {
        e->is_tiny = e->font == HTML_FONT_TINY;
    }
    if (e->fold == HTML_FOLD_CLOSED) {
        e->is_folded = true;
    } else if (e->fold == HTML_FOLD_SUMMARY && up != NULL &&
               up->fold == HTML_FOLD_CLOSED) {
        e->is_folded = k > 1 && st->stack[k - 2].is_folded;
    } else {
        e->is_folded = up != NULL && up->is_folded;
    }
}

static void
stack_push(struct html_state *st, uint32_t hash, enum html_tag tag,
           unsigned props, bool is_hidden, enum html_font font,
           enum html_fold fold)
{
    if (st->depth >= HTML_STACK_MAX) {
        st->n_overflow++;
        return;
    }
    st->stack[st->depth].name_hash = hash;
    st->stack[st->depth].serial = 0;
    st->stack[st->depth].is_hidden = is_hidden;
    st->stack[st->depth].has_summary = false;
    st->stack[st->depth].font = (uint8_t)font;
    st->stack[st->depth].fold = (uint8_t)fold;
    stack_inherit(st, st->depth);
    st->stack[st->depth].tag = (uint8_t)tag;
    st->stack[st->depth].props = (uint16_t)props;
    st->depth++;
    if (is_hidden) {
        st->n_hidden++;
    }
}

/* Close stack entry k and everything opened after it, innermost first:
 * a formatting element's entry is left to be reopened, a marker element
 * clears the list to its marker. */
static void
stack_pop_at(struct html_state *st, size_t k)
{
    size_t hint = st->n_afe;

    for (size_t j = st->depth; j > k; j--) {
        const struct html_elem *e = &st->stack[j - 1];

        if (e->is_hidden) {
            st->n_hidden--;
        }
        if (e->serial != 0) {
            afe_note_closed(st, e->serial, &hint);
        }
        if ((e->props & HTML_P_MARKER) != 0) {
            afe_clear_to_marker(st);
            hint = st->n_afe;
        }
    }
    st->depth = k;
}

/*
 * Take entry k alone off the stack, leaving what was opened inside it
 * open (</form>, and an <a> left open by the adoption agency): in the
 * tree that stays inside it, so what it inherited stays, and a hidden
 * entry's hiding passes to the entry opened in it, if any.
 */
static void
stack_remove_keep(struct html_state *st, size_t k)
{
    bool is_hidden = st->stack[k].is_hidden;

    if (st->stack[k].serial != 0) {
        size_t hint = st->n_afe;

        afe_note_closed(st, st->stack[k].serial, &hint);
    }
    memmove(&st->stack[k], &st->stack[k + 1],
            (st->depth - k - 1) * sizeof(st->stack[0]));
    st->depth--;
    if (!is_hidden) {
        return;
    }
    if (k < st->depth && !st->stack[k].is_hidden) {
        st->stack[k].is_hidden = true;
    } else {
        st->n_hidden--;
    }
}

/* Reopen the formatting elements an implied close took off the stack
 * (13.2.4.3): from the earliest closed entry after the last open one
 * (or marker) on, each is opened again as it was, inside the last.  O(1)
 * when nothing is to be reopened; past the stack nothing is. */
static void
afe_reconstruct(struct html_state *st)
{
    size_t i = st->n_afe;

    if (st->n_overflow > 0) {
        return;
    }
    while (i > 0 && st->afe[i - 1].serial != 0 && !st->afe[i - 1].is_open) {
        i--;
    }
    for (; i < st->n_afe && st->depth < HTML_STACK_MAX; i++) {
        struct html_afe *a = &st->afe[i];

        stack_push(st, a->name_hash, (enum html_tag)a->tag, a->props,
                   a->is_hidden, (enum html_font)a->font, HTML_FOLD_NONE);
        a->serial = next_serial(st);
        a->is_open = true;
        st->stack[st->depth - 1].serial = a->serial;
    }
}

/*
 * An end tag closes the innermost open element of its name.  Past the
 * stack the names are not kept, so a tracked element of that name is
 * taken as the one meant, with everything after it, the untracked ones
 * too; without one, one untracked element is taken as closed.  So deep
 * nesting can end a hidden element early (filler shown to the engine),
 * never keep it open past its end tag: "<div hidden>" + 300 "<span>" +
 * "</div>" must not hide what follows, as a browser shows it.  A
 * formatting element closed so is not reopened: its end tag was seen.
 */
static void
stack_pop_to(struct html_state *st, uint32_t hash)
{
    for (size_t k = st->depth; k > 0; k--) {
        if (st->stack[k - 1].name_hash == hash) {
            uint32_t serial = st->stack[k - 1].serial;

            stack_pop_at(st, k - 1);
            afe_remove(st, afe_find_serial(st, serial));
            st->n_overflow = 0;
            return;
        }
    }
    if (st->n_overflow > 0) {
        st->n_overflow--;
    }
}

/* The scope an end tag of a special element looks in (13.2.4.2), as the
 * boundaries' property: table scope for table parts (the "in table",
 * "in row" and "in cell" rules), list item scope for <li>, the whole
 * stack for <template>, else the default scope. */
static unsigned
end_scope(enum html_tag tag, unsigned props)
{
    if ((props & HTML_P_TPART) != 0) {
        return HTML_P_TSCOPE;
    }
    if (tag == HTML_TAG_LI) {
        return HTML_P_DSCOPE | HTML_P_LSCOPE;
    }
    return tag == HTML_TAG_TEMPLATE ? 0 : HTML_P_DSCOPE;
}

/*
 * The end tag of a special element: the innermost open element of its
 * name (of a heading: any heading) is closed, with what was opened inside
 * it, only when it is in scope -- no boundary of the scope (end_scope)
 * between it and the current element.  Otherwise a browser ignores the
 * end tag, and what is open, a hidden element too, stays open: "<div
 * hidden><table><td></div>" does not end the div.  Past the stack the
 * names are unknown: when no element of the name is in scope on the
 * stack, one untracked element is taken as closed (see stack_pop_to).
 * At most HTML_STACK_MAX compares.
 */
static void
stack_end_scoped(struct html_state *st, uint32_t hash, enum html_tag tag,
                 unsigned props)
{
    unsigned stop = end_scope(tag, props);
    bool is_heading = (props & HTML_P_HEADING) != 0;

    for (size_t k = st->depth; k > 0; k--) {
        const struct html_elem *e = &st->stack[k - 1];

        if (e->name_hash == hash ||
            (is_heading && (e->props & HTML_P_HEADING) != 0)) {
            stack_pop_at(st, k - 1);
            st->n_overflow = 0;
            return;
        }
        if ((e->props & stop) != 0) {
            break;
        }
    }
    if (st->n_overflow > 0) {
        st->n_overflow--;
    }
}

/* Index of the stack entry of element serial, or depth. */
static size_t
stack_find_serial(const struct html_state *st, uint32_t serial)
{
    for (size_t k = st->depth; k > 0; k--) {
        if (st->stack[k - 1].serial == serial) {
            return k - 1;
        }
    }
    return st->depth;
}

/* Is entry k in the default scope (13.2.4.2): no cell, table, caption,
 * applet, marquee, object, template or html opened after it? */
static bool
stack_in_scope(const struct html_state *st, size_t k)
{
    for (size_t j = st->depth; j > k + 1; j--) {
        if ((st->stack[j - 1].props & HTML_P_DSCOPE) != 0) {
            return false;
        }
    }
    return true;
}

/*
 * One round of the adoption agency (13.2.6.4.7) for formatting element
 * k, with special element fb (the furthest block: the first special one
 * opened inside k) after it.  A browser moves fb out of the formatting
 * element and wraps fb's content in a clone of it, which takes its place
 * in the list of active formatting elements; of the elements between k
 * and fb, the (at most three) nearest fb that are in that list are
 * cloned around fb, the rest are closed (and so leave the list).  On the
 * stack: those leave, k leaves, and the clone is opened just inside fb.
 * The entries from k up have new parents, so what they inherit
 * (stack_inherit) is worked out again.  The stack never grows.
 */
static void
adopt_round(struct html_state *st, size_t k, size_t fb)
{
    struct html_elem fe = st->stack[k];
    struct html_elem block = st->stack[fb];
    size_t o = k;
    size_t ai;

    for (size_t j = k + 1; j < fb; j++) {
        size_t i = afe_find_serial(st, st->stack[j].serial);

        if (i < st->n_afe && fb - j <= 3) {
            st->stack[o++] = st->stack[j];
            continue;
        }
        afe_remove(st, i);
        if (st->stack[j].is_hidden) {
            st->n_hidden--;
        }
    }
    memmove(&st->stack[o + 2], &st->stack[fb + 1],
            (st->depth - fb - 1) * sizeof(st->stack[0]));
    st->depth = o + 2 + (st->depth - fb - 1);
    st->stack[o] = block;
    ai = afe_find_serial(st, fe.serial);
    fe.serial = next_serial(st);
    if (ai < st->n_afe) {
        st->afe[ai].serial = fe.serial;
        st->afe[ai].is_open = true;
    }
    st->stack[o + 1] = fe;
    for (size_t j = k; j < st->depth; j++) {
        stack_inherit(st, j);
    }
}

/*
 * The adoption agency (13.2.6.4.7) for the end tag of a formatting
 * element (name hash): true when it dealt with the tag, false when the
 * element is not in the list after the last marker, so the tag is "any
 * other end tag" (stack_end_other).  Closed already (an implied close),
 * the element just leaves the list; out of scope (past a cell, table...),
 * the tag is ignored; with no special element opened inside it, it is
 * closed with what was opened inside it (which is reopened later if it
 * is in the list); else adopt_round moves that special element out of
 * it and the search starts again on the clone, at most eight rounds as
 * in a browser.  "<b hidden>1<p>2</b>3</p>" is <b hidden>1</b><p><b
 * hidden>2</b>3</p>: 3 shows, in the <p>.  Text already written stays
 * as it was decided.  At most 8 rounds, each linear in the stack.
 */
static bool
stack_adopt(struct html_state *st, uint32_t hash)
{
    const struct html_elem *top =
        st->depth > 0 ? &st->stack[st->depth - 1] : NULL;

    if (top != NULL && top->name_hash == hash) {
        /* The usual "<b>x</b>": the current element, the list's last
         * entry or not listed at all, is closed outright. */
        if (top->serial != 0 && st->n_afe > 0 &&
            st->afe[st->n_afe - 1].serial == top->serial) {
            st->n_afe--;
            st->depth--;
            if (top->is_hidden) {
                st->n_hidden--;
            }
            return true;
        }
        if (afe_find_serial(st, top->serial) == st->n_afe) {
            stack_pop_at(st, st->depth - 1);
            return true;
        }
    }
    for (unsigned round = 0; round < 8; round++) {
        size_t ai = afe_find_name(st, hash);
        size_t k;
        size_t fb;
        uint32_t serial;

        if (ai == st->n_afe) {
            return round > 0;
        }
        serial = st->afe[ai].serial;
        k = st->afe[ai].is_open ? stack_find_serial(st, serial) : st->depth;
        if (k == st->depth) {
            afe_remove(st, ai);
            return true;
        }
        if (!stack_in_scope(st, k)) {
            return true;
        }
        fb = k + 1;
        while (fb < st->depth &&
               (st->stack[fb].props & HTML_P_ANY_SPECIAL) == 0) {
            fb++;
        }
        if (fb == st->depth) {
            stack_pop_at(st, k);
            afe_remove(st, afe_find_serial(st, serial));
            return true;
        }
        adopt_round(st, k, fb);
    }
    return true;
}

/*
 * Any other end tag (13.2.6.4.7), also a formatting element's that is
 * not in the list: walking down from the current element, the first of
 * its name is closed with what was opened inside it; a special element
 * met first makes a browser ignore the end tag, so what is open (a
 * hidden element too) stays open.  Formatting elements closed so stay
 * in the list, to be reopened.
 */
static void
stack_end_other(struct html_state *st, uint32_t hash)
{
    for (size_t k = st->depth; k > 0; k--) {
        const struct html_elem *e = &st->stack[k - 1];

        if (e->name_hash == hash) {
            stack_pop_at(st, k - 1);
            return;
        }
        if ((e->props & HTML_P_ANY_SPECIAL) != 0) {
            return;
        }
    }
}

/*
 * Close the innermost open element of the given tag, with what was opened
 * inside it, unless an element with a property in stop comes first: the
 * end a browser gives an element whose end tag is optional (WHATWG
 * 13.2.6.4.7).  Without it a hidden <p> or <td> would hide the rest of
 * the page, which a browser shows.  Past the stack nothing is tracked, so
 * nothing is closed; at most HTML_STACK_MAX compares.
 */
static void
stack_close(struct html_state *st, enum html_tag tag, unsigned stop)
{
    if (st->n_overflow > 0) {
        return;
    }
    for (size_t k = st->depth; k > 0; k--) {
        if (st->stack[k - 1].tag == tag) {
            stack_pop_at(st, k - 1);
            return;
        }
        if ((st->stack[k - 1].props & stop) != 0) {
            return;
        }
    }
}

/* Index of the innermost table among the first n stack entries, or
 * depth: a stray row or section (no table open) a browser ignored. */
static size_t
table_below(const struct html_state *st, size_t n)
{
    for (size_t k = n; k > 0; k--) {
        if (st->stack[k - 1].tag == HTML_TAG_TABLE) {
            return k - 1;
        }
    }
    return st->depth;
}

/*
 * Index of the table, section or row the insertion point is directly in,
 * or depth when it is not: a cell or caption (td, th and caption are the
 * table parts that are markers), a template or html comes first, or no
 * table is open (a stray row or section).  What is open above that
 * index was opened directly in the table's markup: a browser "foster
 * parents" it before the table, so it encloses none of the table's
 * cells.
 */
static size_t
table_context(const struct html_state *st)
{
    for (size_t k = st->depth; k > 0; k--) {
        unsigned props = st->stack[k - 1].props;

        if ((props & HTML_P_TPART) != 0) {
            if ((props & HTML_P_MARKER) != 0 ||
                table_below(st, k) == st->depth) {
                return st->depth;
            }
            return k - 1;
        }
        if ((props & HTML_P_TSCOPE) != 0) {
            return st->depth;
        }
    }
    return st->depth;
}

/*
 * A row, cell, section or caption start tag in a table's markup first
 * clears the stack back to the table, section or row (13.2.6.4.9-11,
 * "clear the stack back to a table ... context"): elements opened there
 * since were fostered before the table, and a hidden one among them
 * must not hide the cells that follow (an evasion: the reader sees
 * them).  A formatting element popped so stays listed, to be reopened
 * after the table as a browser does; a marker element clears the list to
 * its marker (stack_pop_at).  A <table> there closes the table it is in
 * ("in table": a table start tag ends the open one).  Past the stack the
 * context is unknown: nothing is cleared.
 */
static void
table_clear(struct html_state *st, enum html_tag tag)
{
    size_t k;

    if (st->n_overflow > 0) {
        return;
    }
    k = table_context(st);
    if (k == st->depth) {
        return;
    }
    if (tag != HTML_TAG_TABLE) {
        if (k + 1 < st->depth) {
            stack_pop_at(st, k + 1);
        }
        return;
    }
    stack_pop_at(st, table_below(st, k + 1));
}

/* A section or caption starts after the open cell, row and section ("in
 * table body": back to a table context). */
static void
close_to_table(struct html_state *st)
{
    stack_close(st, HTML_TAG_TD, HTML_P_TSCOPE);
    stack_close(st, HTML_TAG_TR, HTML_P_TSCOPE);
    stack_close(st, HTML_TAG_TBODY, HTML_P_TSCOPE);
}

/* What a start tag closes by the HTML rules for the usual cases: <li> an
 * open <li>, a cell the open cell, a row the open row (and its cell), an
 * <option> a current <option>, and a block (or <li>, <p>) an open <p> --
 * but not <table> in quirks mode; a table part what was opened directly
 * in the table's markup (table_clear). */
static void
close_implied(struct html_state *st, enum html_tag tag, unsigned props)
{
    if ((props & HTML_P_TPART) != 0) {
        if (tag == HTML_TAG_OTHER) {
            close_to_table(st); /* <caption> */
        }
        table_clear(st, tag);
    }
    switch (tag) {
    case HTML_TAG_LI:
        stack_close(st, HTML_TAG_LI, HTML_P_SPECIAL);
        break;
    case HTML_TAG_TR:
        stack_close(st, HTML_TAG_TD, HTML_P_TSCOPE);
        stack_close(st, HTML_TAG_TR, HTML_P_TSCOPE);
        break;
    case HTML_TAG_TD:
        stack_close(st, HTML_TAG_TD, HTML_P_TSCOPE);
        break;
    case HTML_TAG_TBODY:
        close_to_table(st);
        break;
    case HTML_TAG_OPTION:
        if (st->n_overflow == 0 && st->depth > 0 &&
            st->stack[st->depth - 1].tag == HTML_TAG_OPTION) {
            stack_pop_at(st, st->depth - 1);
        }
        break;
    case HTML_TAG_RP:
    case HTML_TAG_RT:
        /* "rp" and "rt" start tags generate implied end tags: an open
         * current <rp> or <rt> ends. */
        while (st->n_overflow == 0 && st->depth > 0 &&
               (st->stack[st->depth - 1].tag == HTML_TAG_RP ||
                st->stack[st->depth - 1].tag == HTML_TAG_RT)) {
            stack_pop_at(st, st->depth - 1);
        }
        break;
    case HTML_TAG_TABLE:
        if (st->is_quirks) {
            return; /* in quirks mode a table goes inside an open <p> */
        }
        break;
    case HTML_TAG_A:
    case HTML_TAG_AREA:
    case HTML_TAG_BASE:
    case HTML_TAG_BODY:
    case HTML_TAG_DETAILS:
    case HTML_TAG_DIALOG:
    case HTML_TAG_EMBED:
    case HTML_TAG_FONT:
    case HTML_TAG_FORM:
    case HTML_TAG_IFRAME:
    case HTML_TAG_IMG:
    case HTML_TAG_INPUT:
    case HTML_TAG_META:
    case HTML_TAG_NOEMBED:
    case HTML_TAG_OTHER:
    case HTML_TAG_P:
    case HTML_TAG_SCRIPT:
    case HTML_TAG_STYLE:
    case HTML_TAG_SUMMARY:
    case HTML_TAG_TEMPLATE:
    case HTML_TAG_TITLE:
        break;
    }
    if ((props & HTML_P_ENDS_P) != 0) {
        stack_close(st, HTML_TAG_P, HTML_P_SCOPE);
    }
}

/* Index after the end tag of a raw-text element ("</name"), or len;
 * *text_end, unless NULL, gets where its text ends (that end tag's "<",
 * or len). */
static size_t
skip_raw(const struct html_state *st, size_t i, const char *name,
         size_t *text_end)
{
    size_t nl = strlen(name);

    if (text_end != NULL) {
        *text_end = st->len;
    }
    while (i < st->len) {
        const uint8_t *q = memchr(st->p + i, '<', st->len - i);
        size_t k;
        const uint8_t *gt;
        if (q == NULL) {
            return st->len;
        }
        k = (size_t)(q - st->p);
        if (k + 2 + nl <= st->len && st->p[k + 1] == '/' &&
            view_prefix(st->p + k + 2, nl, name) &&
            (k + 2 + nl == st->len || !html_is_alnum(st->p[k + 2 + nl]))) {
            if (text_end != NULL) {
                *text_end = k;
            }
            gt = memchr(st->p + k, '>', st->len - k);
            return gt == NULL ? st->len : (size_t)(gt - st->p) + 1;
        }
        i = k + 1;
    }
    return st->len;
}

/* <noembed> or <noframes> at k (after its start tag): raw text, which a
 * browser that supports embeds and frames does not show -- hidden text
 * when it holds more than blanks.  Returns the index after its end tag. */
static size_t
skip_unshown(struct html_state *st, size_t k, const char *name)
{
    size_t e;
    size_t end = skip_raw(st, k, name, &e);

    for (; k < e; k++) {
        if (!html_is_space(st->p[k])) {
            st->flags |= HTML_HIDDEN_TEXT;
            break;
        }
    }
    return end;
}

/* Lower-case element name at p[i..] (markup calls it at a letter) into
 * buf (HTML_NAME_MAX + 1 bytes: cut at HTML_NAME_MAX, zeros after it)
 * and its FNV-1a hash over its full length; returns the index after the
 * name.  Inlined in markup's two calls, one per tag. */
static inline size_t
read_name(const struct html_state *st, size_t i, char *buf, uint32_t *hash)
{
    /* p and len in locals: a store through buf (a char pointer) may alias
     * *st and would otherwise reload them on every byte; one table lookup
     * per byte tests and folds it, one bound stands for both the input's
     * end and the cut, and the bytes past the cut are only hashed. */
    const uint8_t *p = st->p;
    size_t len = st->len;
    size_t start = i;
    size_t cut = len - i < HTML_NAME_MAX ? len : i + HTML_NAME_MAX;
    uint32_t h = 2166136261u;

    memset(buf, 0, HTML_NAME_MAX + 1); /* for tag_lookup's compare */
    for (; i < cut; i++) {
        uint8_t c = html_name_fold[p[i]];
        if (c == 0) {
            *hash = h;
            return i;
        }
        buf[i - start] = (char)c;
        h = (h ^ c) * 16777619u;
    }
    for (; i < len; i++) {
        uint8_t c = html_name_fold[p[i]];
        if (c == 0) {
            break;
        }
        h = (h ^ c) * 16777619u;
    }
    *hash = h;
    return i;
}

/* The names of enum html_attr, in its order. */
static const char *const html_attr_names[HTML_ATTR_COUNT] = {
    [HTML_ATTR_HREF] = "href",
    [HTML_ATTR_SRC] = "src",
    [HTML_ATTR_ACTION] = "action",
    [HTML_ATTR_TYPE] = "type",
    [HTML_ATTR_STYLE] = "style",
    [HTML_ATTR_SIZE] = "size",
    [HTML_ATTR_COLOR] = "color",
    [HTML_ATTR_BACKGROUND] = "background",
    [HTML_ATTR_HTTP_EQUIV] = "http-equiv",
    [HTML_ATTR_CONTENT] = "content",
    [HTML_ATTR_HIDDEN] = "hidden",
    [HTML_ATTR_OPEN] = "open",
    [HTML_ATTR_METHOD] = "method",
};

/* The attribute named (p, n) as in the page (any case), or -1 for one
 * that does not matter.  Its length and first letter name the only
 * candidate, so one compare decides, with no folded copy of the name
 * (every attribute of every tag comes through here). */
static int
attr_kind(const uint8_t *p, size_t n)
{
    int k;
    const char *lit;

    switch (n * 256 + html_lower(p[0])) {
    case 3 * 256 + 's':
        k = HTML_ATTR_SRC;
        break;
    case 4 * 256 + 'h':
        k = HTML_ATTR_HREF;
        break;
    case 4 * 256 + 'o':
        k = HTML_ATTR_OPEN;
        break;
    case 4 * 256 + 's':
        k = HTML_ATTR_SIZE;
        break;
    case 4 * 256 + 't':
        k = HTML_ATTR_TYPE;
        break;
    case 5 * 256 + 'c':
        k = HTML_ATTR_COLOR;
        break;
    case 5 * 256 + 's':
        k = HTML_ATTR_STYLE;
        break;
    case 6 * 256 + 'a':
        k = HTML_ATTR_ACTION;
        break;
    case 6 * 256 + 'h':
        k = HTML_ATTR_HIDDEN;
        break;
    case 6 * 256 + 'm':
        k = HTML_ATTR_METHOD;
        break;
    case 7 * 256 + 'c':
        k = HTML_ATTR_CONTENT;
        break;
    case 10 * 256 + 'b':
        k = HTML_ATTR_BACKGROUND;
        break;
    case 10 * 256 + 'h':
        k = HTML_ATTR_HTTP_EQUIV;
        break;
    default:
        return -1;
    }
    lit = html_attr_names[k];
    for (size_t i = 1; i < n; i++) {
        if (html_lower(p[i]) != (uint8_t)lit[i]) {
            return -1;
        }
    }
    return k;
}

static void
attr_store(struct html_attrs *at, const uint8_t *name, size_t n,
           struct html_view v)
{
    int k = attr_kind(name, n);

    /* The first occurrence wins, as in browsers. */
    if (k >= 0 && (at->present & (1u << k)) == 0) {
        at->present |= 1u << k;
        at->v[k] = v;
    }
}

/* Index after the attribute name at p[i] (read_name's extent: an '='
 * first is part of it).  Attribute names are only compared with
 * attr_kind's few, so they are neither copied nor hashed. */
static size_t
attr_name_end(const uint8_t *p, size_t i, size_t len)
{
    if (i < len && p[i] == '=') {
        i++;
    }
    while (i < len && html_name_fold[p[i]] != 0) {
        i++;
    }
    return i;
}

/* Parse attributes from i up to and including '>'; returns the index
 * after the tag. */
static size_t
read_attrs(const struct html_state *st, size_t i, struct html_attrs *at)
{
    const uint8_t *p = st->p;
    size_t len = st->len;

    for (;;) {
        size_t ns;
        size_t ne;
        struct html_view v = {(const uint8_t *)"", 0};
        while (i < len && html_attr_gap[p[i]]) {
            i++;
        }
        if (i >= len) {
            return len;
        }
        if (p[i] == '>') {
            return i + 1;
        }
        ns = i;
        i = ne = attr_name_end(p, i, len);
        while (i < len && html_is_space(p[i])) {
            i++;
        }
        if (i < len && p[i] == '=') {
            i++;
            while (i < len && html_is_space(p[i])) {
                i++;
            }
            if (i < len && (p[i] == '"' || p[i] == '\'')) {
                const uint8_t *q = memchr(p + i + 1, p[i], len - i - 1);
                size_t e = q == NULL ? len : (size_t)(q - p);
                v.p = p + i + 1;
                v.len = e - i - 1;
                i = e < len ? e + 1 : len;
            } else {
                size_t s = i;
                while (i < len && !html_is_space(p[i]) && p[i] != '>') {
                    i++;
                }
                v.p = p + s;
                v.len = i - s;
            }
        }
        if (i > ns) {
            attr_store(at, p + ns, ne - ns, v);
        }
    }
}

/* Is a <template> open?  Inside one a browser keeps no form element
 * pointer (13.2.6.4.7), so <form> and </form> work as for other
 * elements there. */
static bool
stack_has_template(const struct html_state *st)
{
    for (size_t k = st->depth; k > 0; k--) {
        if (st->stack[k - 1].tag == HTML_TAG_TEMPLATE) {
            return true;
        }
    }
    return false;
}

/*
 * </form> with the form element pointer set (13.2.6.4.7, no template
 * open; the caller unsets it): if the form is open and in scope, the
 * elements with implied end tags opened last (an open <p>, <li>,
 * <option>...) end, and the form alone leaves the stack
 * (stack_remove_keep): what else was opened inside it stays open, in it.
 */
static void
form_end(struct html_state *st)
{
    size_t k = st->depth;

    while (k > 0 && st->stack[k - 1].tag != HTML_TAG_FORM) {
        k--;
    }
    if (k == 0) {
        return;
    }
    k--;
    if (!stack_in_scope(st, k)) {
        return;
    }
    while (st->depth > k + 1 &&
           (st->stack[st->depth - 1].props & HTML_P_IMPLIED) != 0) {
        stack_pop_at(st, st->depth - 1);
    }
    stack_remove_keep(st, k);
}

/* Does a start tag reopen the formatting elements before it opens
 * (13.2.6.4.7 "in body"): formatting and other inline elements, <option>
 * and the like, and the few special elements marked HTML_P_REOPENS; not
 * blocks, table parts or ruby's rp and rt.  Void elements open nothing,
 * so the next text reopens them. */
static bool
reopens_before(enum html_tag tag, unsigned props)
{
    if ((props & HTML_P_REOPENS) != 0) {
        return true;
    }
    if ((props & (HTML_P_ENDS_P | HTML_P_ANY_SPECIAL | HTML_P_TPART |
                  HTML_P_VOID)) != 0) {
        return false;
    }
    return tag != HTML_TAG_RP && tag != HTML_TAG_RT;
}

/* A new <a> while one is still in the list after the last marker: a
 * browser runs the adoption agency for it, as for "</a>", and takes it
 * off the list and the stack if that left it there (out of scope). */
static void
anchor_adopt_open(struct html_state *st, uint32_t hash)
{
    size_t ai = afe_find_name(st, hash);
    uint32_t serial;
    size_t k;

    if (ai == st->n_afe) {
        return;
    }
    serial = st->afe[ai].serial;
    (void)stack_adopt(st, hash);
    ai = afe_find_serial(st, serial);
    if (ai == st->n_afe) {
        return;
    }
    afe_remove(st, ai);
    k = stack_find_serial(st, serial);
    if (k < st->depth) {
        stack_remove_keep(st, k);
    }
}

/* Is a <nobr> open in scope?  A new one closes it first. */
static bool
nobr_in_scope(const struct html_state *st, uint32_t hash)
{
    for (size_t k = st->depth; k > 0; k--) {
        if (st->stack[k - 1].name_hash == hash) {
            return true;
        }
        if ((st->stack[k - 1].props & HTML_P_DSCOPE) != 0) {
            return false;
        }
    }
    return false;
}

/* Content a browser parses but does not render: a template's (a
 * document fragment of its own), a dialog's until it is opened (the
 * user agent style sheet's dialog:not([open])) and an <rp>'s (display:
 * none there: the parentheses around ruby text for a browser without
 * ruby). */
static bool
is_unrendered(enum html_tag tag, const struct html_attrs *at)
{
    return tag == HTML_TAG_TEMPLATE || tag == HTML_TAG_RP ||
           (tag == HTML_TAG_DIALOG &&
            (at->present & (1u << HTML_ATTR_OPEN)) == 0);
}

/* The list of active formatting elements before a start tag opens its
 * element: a new <a> ends one still listed, a new <nobr> one open in
 * scope (then reopening again), and inline elements reopen what an
 * implied close took off the stack, so they open inside it. */
static void
start_reopen(struct html_state *st, enum html_tag tag, uint32_t hash,
             unsigned props)
{
    if (st->n_overflow > 0) {
        return;
    }
    if (tag == HTML_TAG_A) {
        anchor_adopt_open(st, hash);
    }
    if (!reopens_before(tag, props) || is_table_markup(st)) {
        return;
    }
    afe_reconstruct(st);
    if ((props & HTML_P_FORMAT) != 0 && hash == HTML_HASH_NOBR &&
        nobr_in_scope(st, hash)) {
        (void)stack_adopt(st, hash);
        afe_reconstruct(st);
    }
}

/* A row, cell, section or caption start tag with no table open (nor a
 * template, whose content is hidden anyway): a browser ignores it ("in
 * body": parse error, ignore the token), so its style must hide nothing
 * -- "<tr style=display:none>SPAM" shows SPAM.  Past the stack the
 * context is unknown: the tag is taken as usual. */
static bool
is_stray_table_part(const struct html_state *st, enum html_tag tag,
                    unsigned props)
{
    return (props & HTML_P_TPART) != 0 && tag != HTML_TAG_TABLE &&
           st->n_overflow == 0 && table_below(st, st->depth) == st->depth &&
           !stack_has_template(st);
}

static void
start_tag(struct html_state *st, const struct html_tag_info *ti, uint32_t hash,
          const struct html_attrs *at)
{
    enum html_tag tag = ti != NULL ? ti->tag : HTML_TAG_OTHER;
    unsigned props = ti != NULL ? ti->props : 0;
    bool is_hidden;
    enum html_font font = HTML_FONT_INHERIT;
    enum html_fold fold = HTML_FOLD_NONE;
    bool is_form_ptr = tag == HTML_TAG_FORM && !stack_has_template(st);

    if (is_form_ptr && st->has_form) {
        /* A browser ignores a <form> inside an open one; its action is
         * still a tell-tale. */
        st->flags |= HTML_HAS_FORM;
        report(st, form_kind(at), attr_get(at, HTML_ATTR_ACTION));
        return;
    }
    if (is_stray_table_part(st, tag, props)) {
        return;
    }
    if (props & HTML_P_BLOCK) {
        set_pend(st, HTML_PEND_LINE);
    } else if (props & HTML_P_CELL) {
        set_pend(st, HTML_PEND_SPACE);
    }
    close_implied(st, tag, props);
    start_reopen(st, tag, hash, props);
    switch (tag) {
    case HTML_TAG_A:
        anchor_close(st);
        if (attr_get(at, HTML_ATTR_HREF).p != NULL) {
            st->href_len = link_decode(st, at->v[HTML_ATTR_HREF], st->href,
                                       sizeof(st->href));
            st->has_anchor = st->href_len > 0;
            st->anchor_start = st->o;
        }
        break;
    case HTML_TAG_AREA:
        report(st, HTML_LINK_HREF, attr_get(at, HTML_ATTR_HREF));
        break;
    case HTML_TAG_BASE:
        base_set(st, attr_get(at, HTML_ATTR_HREF));
        break;
    case HTML_TAG_EMBED:
    case HTML_TAG_IFRAME:
        report(st, HTML_LINK_OTHER, attr_get(at, HTML_ATTR_SRC));
        break;
    case HTML_TAG_FORM:
        st->flags |= HTML_HAS_FORM;
        report(st, form_kind(at), attr_get(at, HTML_ATTR_ACTION));
        break;
    case HTML_TAG_IMG:
        st->flags |= HTML_HAS_IMAGES;
        report(st, HTML_LINK_IMAGE, attr_get(at, HTML_ATTR_SRC));
        break;
    case HTML_TAG_INPUT:
        if (attr_get(at, HTML_ATTR_TYPE).p != NULL) {
            const uint8_t *tp = at->v[HTML_ATTR_TYPE].p;
            size_t tn = at->v[HTML_ATTR_TYPE].len;
            view_trim(&tp, &tn);
            if (tn == 8 && view_prefix(tp, tn, "password")) {
                st->flags |= HTML_HAS_PASSWORD;
            }
        }
        break;
    case HTML_TAG_META:
        meta_refresh(st, at);
        break;
    case HTML_TAG_DETAILS:
        if ((at->present & (1u << HTML_ATTR_OPEN)) == 0) {
            fold = HTML_FOLD_CLOSED;
        }
        break;
    case HTML_TAG_SUMMARY:
        /* The first <summary> child of a closed <details> shows. */
        if (st->n_overflow == 0 && st->depth > 0 &&
            st->stack[st->depth - 1].fold == HTML_FOLD_CLOSED &&
            !st->stack[st->depth - 1].has_summary) {
            st->stack[st->depth - 1].has_summary = true;
            fold = HTML_FOLD_SUMMARY;
        }
        break;
    case HTML_TAG_BODY:
    case HTML_TAG_DIALOG:
    case HTML_TAG_FONT:
    case HTML_TAG_LI:
    case HTML_TAG_NOEMBED:
    case HTML_TAG_OPTION:
    case HTML_TAG_OTHER:
    case HTML_TAG_P:
    case HTML_TAG_RP:
    case HTML_TAG_RT:
    case HTML_TAG_SCRIPT:
    case HTML_TAG_STYLE:
    case HTML_TAG_TABLE:
    case HTML_TAG_TBODY:
    case HTML_TAG_TD:
    case HTML_TAG_TEMPLATE:
    case HTML_TAG_TITLE:
    case HTML_TAG_TR:
        break;
    }
    if (attr_get(at, HTML_ATTR_BACKGROUND).p != NULL) {
        report(st, HTML_LINK_IMAGE, at->v[HTML_ATTR_BACKGROUND]);
    }
    if (props & HTML_P_VOID) {
        return;
    }
    /* The style's font-size overrides <font size>'s. */
    if (tag == HTML_TAG_FONT) {
        font = font_size_attr(at);
    }
    is_hidden = (at->present & (1u << HTML_ATTR_HIDDEN)) != 0 ||
                (attr_get(at, HTML_ATTR_STYLE).p != NULL &&
                 style_hidden(at->v[HTML_ATTR_STYLE], &font)) ||
                (tag == HTML_TAG_FONT && font_hidden(at)) ||
                is_unrendered(tag, at);
    if (is_form_ptr) {
        st->has_form = true;
    }
    if (st->depth >= HTML_STACK_MAX) {
        stack_push(st, hash, tag, props, is_hidden, font, fold);
        return; /* past the stack: not listed either */
    }
    stack_push(st, hash, tag, props, is_hidden, font, fold);
    if ((props & HTML_P_FORMAT) != 0) {
        afe_push(st, &st->stack[st->depth - 1]);
    } else if ((props & HTML_P_MARKER) != 0) {
        afe_push_marker(st);
    }
}

static void
end_tag(struct html_state *st, const struct html_tag_info *ti, uint32_t hash)
{
    enum html_tag tag = ti != NULL ? ti->tag : HTML_TAG_OTHER;
    unsigned props = ti != NULL ? ti->props : 0;

    if (props & HTML_P_BLOCK) {
        set_pend(st, HTML_PEND_LINE);
    } else if (props & HTML_P_CELL) {
        set_pend(st, HTML_PEND_SPACE);
    }
    if (tag == HTML_TAG_A) {
        anchor_close(st);
    }
    if (props & HTML_P_VOID) {
        return;
    }
    if (tag == HTML_TAG_P && st->n_overflow == 0) {
        /* </p> closes a <p> only in button scope; past a <button>, cell
         * or quirks-mode <table> a browser inserts an empty <p> instead
         * (13.2.6.4.7), and what is open there stays open until its own
         * end tag: popping it left a hidden element opened after </p>
         * open past that end tag.  Past the stack scope is unknown, so
         * there it closes as any end tag does (see stack_pop_to). */
        stack_close(st, HTML_TAG_P, HTML_P_SCOPE);
        return;
    }
    if (tag == HTML_TAG_BODY) {
        /* </body> and </html> only move the tree builder to its "after
         * body" modes: what is open stays open, and text after them goes
         * into it (a hidden element still hides it). */
        return;
    }
    if (tag == HTML_TAG_FORM && !stack_has_template(st)) {
        /* Without the form element pointer a browser ignores it; past
         * the stack the form's place is unknown, so it closes as other
         * special elements do there. */
        if (!st->has_form) {
            return;
        }
        st->has_form = false;
        if (st->n_overflow == 0) {
            form_end(st);
            return;
        }
    }
    /* A special element's own end tag looks for it in scope, which is
     * wider than "not past a special element". */
    if ((props & HTML_P_ANY_SPECIAL) != 0) {
        stack_end_scoped(st, hash, tag, props);
        return;
    }
    /* Past the stack the names are unknown: stack_pop_to. */
    if (st->n_overflow > 0) {
        stack_pop_to(st, hash);
        return;
    }
    if ((props & HTML_P_FORMAT) != 0 && stack_adopt(st, hash)) {
        return;
    }
    stack_end_other(st, hash);
}

/* Index after the comment whose text starts at k (just after "<!--"), or
 * len when it is not closed: the endings a browser accepts. */
static size_t
comment_end(const uint8_t *p, size_t len, size_t k)
{
    const uint8_t *q;

    /* "<!-->" and "<!--->" are whole empty comments to a browser (WHATWG
     * tokenizer, comment start states): what follows them is shown. */
    if (k < len && p[k] == '>') {
        return k + 1;
    }
    if (k + 1 < len && p[k] == '-' && p[k + 1] == '>') {
        return k + 2;
    }
    while (k < len) {
        q = memchr(p + k, '-', len - k);
        if (q == NULL) {
            return len;
        }
        k = (size_t)(q - p);
        if (k + 2 < len && p[k + 1] == '-' && p[k + 2] == '>') {
            return k + 3;
        }
        /* "--!>" ends a comment too (a parse error browsers accept): text
         * after it is shown, so it must not be hidden here. */
        if (k + 3 < len && p[k + 1] == '-' && p[k + 2] == '!' &&
            p[k + 3] == '>') {
            return k + 4;
        }
        k++;
    }
    return len;
}

/* Text goes where the formatting elements an implied close ended are
 * open again (afe_reconstruct), unless in a table's own markup
 * (is_table_markup). */
static inline void
text_reopen(struct html_state *st)
{
    /* The usual case first: nothing closed since the last marker. */
    if (st->n_afe == 0 || st->afe[st->n_afe - 1].serial == 0 ||
        st->afe[st->n_afe - 1].is_open) {
        return;
    }
    if (!is_table_markup(st)) {
        afe_reconstruct(st);
    }
}

/* Markup at p[i] == '<'; returns the index after it. */
static size_t
markup(struct html_state *st, size_t i)
{
    const uint8_t *p = st->p;
    size_t len = st->len;
    char name[HTML_NAME_MAX + 1];
    uint32_t nh;
    const struct html_tag_info *ti;
    const uint8_t *q;

    if (i + 1 >= len) {
        text_reopen(st);
        emit(st, "<", 1);
        return len;
    }
    if (p[i + 1] == '!' && i + 3 < len && p[i + 2] == '-' && p[i + 3] == '-') {
        return comment_end(p, len, i + 4);
    }
    if (p[i + 1] == '!' || p[i + 1] == '?' ||
        (p[i + 1] == '/' && (i + 2 >= len || !html_is_alpha(p[i + 2])))) {
        q = memchr(p + i + 1, '>', len - i - 1);
        return q == NULL ? len : (size_t)(q - p) + 1;
    }
    if (p[i + 1] == '/') {
        size_t k = read_name(st, i + 2, name, &nh);
        ti = tag_lookup(name, nh);
        end_tag(st, ti, nh);
        if (k < len && p[k] == '>') {
            return k + 1; /* "</td>": most end tags, no memchr call */
        }
        q = memchr(p + k, '>', len - k);
        return q == NULL ? len : (size_t)(q - p) + 1;
    }
    if (!html_is_alpha(p[i + 1])) {
        text_reopen(st);
        emit(st, "<", 1);
        return i + 1;
    }
    {
        struct html_attrs at;
        size_t k = read_name(st, i + 1, name, &nh);
        at.present = 0;
        k = read_attrs(st, k, &at);
        ti = tag_lookup(name, nh);
        if (ti != NULL && ti->tag == HTML_TAG_SCRIPT) {
            st->flags |= HTML_HAS_SCRIPT;
            return skip_raw(st, k, "script", NULL);
        }
        if (ti != NULL && ti->tag == HTML_TAG_STYLE) {
            return skip_raw(st, k, "style", NULL);
        }
        if (ti != NULL && ti->tag == HTML_TAG_TITLE) {
            return skip_raw(st, k, "title", NULL);
        }
        if (ti != NULL && ti->tag == HTML_TAG_NOEMBED) {
            return skip_unshown(st, k, ti->name);
        }
        start_tag(st, ti, nh, &at);
        return k;
    }
}

/* run_end finds the first byte by swar_lowest_lane of a swar_load:
 * little-endian hosts only. */
#if SWAR_HOST_LE
#define HTML_RUN_WORDS 1

/* Bit 7 of each lane of y (a word with bit 7 of every byte clear) is
 * set in the result iff that byte is not c: y ^ c is 0 there, and 0x7F
 * added to any other lane sets its bit 7 without a carry into the next.
 * Not a mask (the low bits are left): run_stops8 ANDs three of these
 * and complements once, which swar_eq's masks, each with its own ~x,
 * do not fold to (issue #7: html_to_text +170 instructions a message). */
static uint64_t
lanes_ne(uint64_t y, uint8_t c)
{
    return (y ^ swar_bytes(c)) + swar_bytes(0x7F);
}

/*
 * The lanes of the 8 bytes x (lane k: byte k, bit 8k+7) where run_end
 * must look byte by byte: every byte html_special stops at, every
 * non-ASCII byte (most are not special, but the three lead bytes are),
 * and each blank that run_end would not take -- all of them unless
 * blanks, else one followed by such a byte or a blank, or the last
 * lane's (its follower is in the next word).  Exact, no carries between
 * lanes (a blank's lane reads the lane above); 0 means all eight bytes
 * belong to the run.
 */
static uint64_t
run_stops8(uint64_t x, bool blanks)
{
    uint64_t y = x & ~swar_bytes(0x80);
    /* Bit 7 survives the ANDs in a lane that is at least '!' (not a
     * blank, NUL or other control byte), not '&' and not '<'. */
    uint64_t plain = (y + swar_bytes(0x80u - '!')) & lanes_ne(y, '&') &
                     lanes_ne(y, '<');
    uint64_t any = swar_high(x | ~plain);
    uint64_t blank = swar_high(~(lanes_ne(y, ' ') | x));

    if (!blanks) {
        return any;
    }
    return (any & ~blank) |
           (blank & ((any >> 8) | (swar_bytes(0x80) << 56)));
}
#else
#define HTML_RUN_WORDS 0
#endif

/*
 * End of the text run from j: the first byte html_special stops at,
 * taking a single ' ' between two ASCII non-special bytes when blanks
 * (text's rule; ASCII after it, so a cut by the output cap never backs
 * off into the blank).  Eight bytes per test where no byte can stop the
 * run (run_stops8), then the exact byte-by-byte rule from the first that
 * may.
 */
static size_t
run_end(const uint8_t *p, size_t j, size_t len, bool blanks)
{
    for (;;) {
#if HTML_RUN_WORDS
        while (len - j >= 8) {
            uint64_t stop = run_stops8(swar_load(p + j), blanks);
            if (stop != 0) {
                j += swar_lowest_lane(stop);
                break;
            }
            j += 8;
        }
#endif
        while (j < len && !html_special[p[j]]) {
            j++;
        }
        if (blanks && j + 1 < len && p[j] == ' ' && p[j + 1] < 0x80 &&
            !html_special[p[j + 1]]) {
            j += 2;
            continue;
        }
        return j;
    }
}

/* Text or a special byte at p[i]; returns the index after it. */
static size_t
text(struct html_state *st, size_t i)
{
    const uint8_t *p = st->p;
    size_t len = st->len;
    uint8_t c = p[i];
    size_t j;
    bool is_hidden;

    if (c == '&') {
        uint32_t cp;
        size_t k = entity_parse(p + i + 1, len - i - 1, false, &cp);
        if (k == 0) {
            emit(st, "&", 1);
            return i + 1;
        }
        emit_cp(st, cp);
        return i + 1 + k;
    }
    if (html_is_space(c)) {
        /* A run of blanks (indentation, line breaks) at once. */
        j = i + 1;
        /* Indentation: eight spaces at a time first. */
        while (len - j >= 8 && swar_load(p + j) == swar_bytes(' ')) {
            j += 8;
        }
        while (j < len && html_is_space(p[j])) {
            j++;
        }
        set_pend(st, HTML_PEND_SPACE);
        return j;
    }
    /* U+00A0, U+00AD, U+200B-U+200F, U+2060, U+FEFF written literally. */
    if (c == 0xC2 && i + 1 < len && (p[i + 1] == 0xA0 || p[i + 1] == 0xAD)) {
        if (p[i + 1] == 0xA0) {
            set_pend(st, HTML_PEND_SPACE);
        }
        return i + 2;
    }
    if (c == 0xE2 && i + 2 < len && p[i + 1] == 0x80 && p[i + 2] >= 0x8B &&
        p[i + 2] <= 0x8F) {
        return i + 3;
    }
    if (c == 0xE2 && i + 2 < len && p[i + 1] == 0x81 && p[i + 2] == 0xA0) {
        return i + 3;
    }
    if (c == 0xEF && i + 2 < len && p[i + 1] == 0xBB && p[i + 2] == 0xBF) {
        return i + 3;
    }
    /* One blank between two words stays in the run: emit would write
     * it there anyway (a pending blank after a byte that is neither
     * blank nor line break), and a word per call cost a call of text
     * and of emit each.  Not in hidden text, where the blank's pending
     * separator outlives the words emit drops. */
    is_hidden = is_hiding(st);
    j = run_end(p, i + 1, len, !is_hidden);
    if (is_hidden) {
        st->flags |= HTML_HIDDEN_TEXT; /* as emit does */
        return j;
    }
    emit_shown(st, (const char *)p + i, j - i);
    return j;
}

/* Index after what a page may hold before its DOCTYPE and a browser
 * ignores there: blanks, a byte order mark, comments and "<?...>". */
static size_t
skip_prolog(const uint8_t *p, size_t len)
{
    size_t i = len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;

    for (;;) {
        const uint8_t *q;

        while (i < len && html_is_space(p[i])) {
            i++;
        }
        if (len - i >= 4 && memcmp(p + i, "<!--", 4) == 0) {
            /* The same endings as in the page (markup), so "<!-->" before
             * a DOCTYPE does not swallow it. */
            i = comment_end(p, len, i + 4);
            continue;
        }
        if (len - i < 2 || p[i] != '<' || p[i + 1] != '?') {
            return i;
        }
        q = memchr(p + i, '>', len - i);
        if (q == NULL) {
            return len;
        }
        i = (size_t)(q - p) + 1;
    }
}

/*
 * Whether the page puts a browser in quirks mode (WHATWG 13.2.6.4.1): no
 * DOCTYPE first -- most mail -- or an old one.  It matters here for one
 * rule: in quirks mode a <table> does not close an open <p>, so a table
 * in a hidden <p> (or a hidden <span> in a <p>) stays hidden, and spam
 * puts filler there.  Simplified: standards or limited-quirks mode for a
 * DOCTYPE html with no public identifier, or with that of XHTML, HTML 4.0
 * Strict or 4.01 (Transitional and Frameset only with a system
 * identifier); quirks mode for any other.
 */
static bool
doctype_quirks(const uint8_t *p, size_t len)
{
    size_t i = skip_prolog(p, len);
    const uint8_t *q;
    size_t e;
    size_t n;
    bool has_system;

    if (len - i < 9 || !view_prefix(p + i, len - i, "<!doctype")) {
        return true;
    }
    q = memchr(p + i, '>', len - i);
    e = q == NULL ? len : (size_t)(q - p);
    for (i += 9; i < e && html_is_space(p[i]); i++) {
    }
    if (e - i < 4 || !view_prefix(p + i, e - i, "html") ||
        (e - i > 4 && !html_is_space(p[i + 4]))) {
        return true;
    }
    for (i += 4; i < e && html_is_space(p[i]); i++) {
    }
    if (i == e || view_prefix(p + i, e - i, "system")) {
        return false;
    }
    if (!view_prefix(p + i, e - i, "public")) {
        return true;
    }
    for (i += 6; i < e && html_is_space(p[i]); i++) {
    }
    if (i >= e || (p[i] != '"' && p[i] != '\'')) {
        return true;
    }
    q = memchr(p + i + 1, p[i], e - i - 1);
    if (q == NULL) {
        return true;
    }
    n = (size_t)(q - p) - i - 1;
    has_system = memchr(q + 1, '"', (size_t)(p + e - q) - 1) != NULL ||
                 memchr(q + 1, '\'', (size_t)(p + e - q) - 1) != NULL;
    p += i + 1;
    if (view_prefix(p, n, "-//w3c//dtd xhtml ") ||
        view_prefix(p, n, "-//w3c//dtd html 4.0//") ||
        view_prefix(p, n, "-//w3c//dtd html 4.01//")) {
        return false;
    }
    return !(has_system &&
             (view_prefix(p, n, "-//w3c//dtd html 4.01 transitional//") ||
              view_prefix(p, n, "-//w3c//dtd html 4.01 frameset//")));
}

/* The label after the first "charset" [blanks] '=' [blanks] [quote] in
 * one meta tag's bytes (q, m) into out; its length, or 0. */
static size_t
meta_tag_charset(const uint8_t *q, size_t m, char *out, size_t out_max)
{
    for (size_t i = 0; i + 7 < m; i++) {
        size_t k = i + 7;
        size_t o = 0;

        if (!view_prefix(q + i, m - i, "charset")) {
            continue;
        }
        while (k < m && (q[k] == ' ' || q[k] == '\t' || q[k] == '\n' ||
                         q[k] == '\r' || q[k] == '\f')) {
            k++;
        }
        if (k >= m || q[k] != '=') {
            continue;
        }
        k++;
        while (k < m && (q[k] == ' ' || q[k] == '"' || q[k] == '\'')) {
            k++;
        }
        while (k < m && o + 1 < out_max &&
               (html_is_alnum(q[k]) || q[k] == '-' || q[k] == '_' ||
                q[k] == '.' || q[k] == ':')) {
            out[o++] = (char)html_lower(q[k++]);
        }
        if (o > 0) {
            out[o] = '\0';
            return o;
        }
    }
    return 0;
}

/* See html.h.  One pass over at most HTML_PRESCAN_BYTES: each "<meta"
 * tag's bytes up to its '>' are searched once. */
size_t
html_meta_charset(const uint8_t *p, size_t len, char *out, size_t out_max)
{
    size_t n = len < HTML_PRESCAN_BYTES ? len : HTML_PRESCAN_BYTES;

    for (size_t i = 0; i + 6 < n; i++) {
        /* To the next '<' that leaves room for "<meta" and a blank: most
         * of the 1024 bytes are not one (issue #7). */
        const uint8_t *lt = memchr(p + i, '<', n - 6 - i);
        size_t e;
        size_t k;

        if (lt == NULL) {
            break;
        }
        i = (size_t)(lt - p);
        e = i + 5;
        if (!view_prefix(p + i + 1, n - i - 1, "meta") ||
            !(p[e] == ' ' || p[e] == '\t' || p[e] == '\n' ||
              p[e] == '\r' || p[e] == '\f' || p[e] == '/')) {
            continue;
        }
        while (e < n && p[e] != '>') {
            e++;
        }
        k = meta_tag_charset(p + i + 5, e - i - 5, out, out_max);
        if (k > 0) {
            if (k >= 5 && memcmp(out, "utf", 3) == 0 &&
                (memcmp(out + 3, "16", 2) == 0 ||
                 memcmp(out + 3, "-16", 3) == 0) && out_max > 5) {
                memcpy(out, "utf-8", 6);
                k = 5;
            }
            return k;
        }
        i = e;
    }
    return 0;
}

static void
state_init(struct html_state *st, const uint8_t *p, size_t len, char *out,
           size_t out_max, html_link_fn on_link, void *ctx)
{
    memset(st, 0, offsetof(struct html_state, stack));
    st->depth = 0;
    st->n_overflow = 0;
    st->n_hidden = 0;
    st->has_base = false;
    st->link_seen = false;
    st->late_base = false;
    st->relink = false;
    st->base_at = 0;
    st->base_len = 0;
    st->has_anchor = false;
    st->anchor_start = 0;
    st->href_len = 0;
    st->p = p;
    st->len = len;
    st->out = out;
    st->out_max = out_max;
    st->on_link = on_link;
    st->ctx = ctx;
    /* No output wanted: scan for links and flags only. */
    st->is_full = out == NULL || out_max == 0;
}

/*
 * A browser resolves every link against the page's first <base href>
 * wherever it stands: "<a href=/login>..</a><base href=
 * http://evil.example/>" opens evil.example/login.  When the base came
 * after links, the page up to the base is read again (html_to_text's
 * loop, from relink_init's state) with the base set, and the links it
 * moves are reported (after the others; the relative ones were
 * reported as they are).  The text written again is
 * the same text, so the anchors' text is read as in the first pass.  A
 * page with no base or its base before every link pays nothing.
 */
static void
relink_init(struct html_state *st)
{
    size_t base_len = st->base_len;
    bool is_quirks = st->is_quirks;

    /* Up to the base's href: its tag then reads as another base. */
    state_init(st, st->p, st->base_at, st->out, st->out_max, st->on_link,
               st->ctx);
    st->is_quirks = is_quirks;
    st->has_base = true;
    st->base_len = base_len;
    st->relink = true;
}

size_t
html_to_text(const uint8_t *p, size_t len, char *out, size_t out_max,
             html_link_fn on_link, void *ctx, unsigned *flags)
{
    struct html_state st;
    size_t o = 0;

    state_init(&st, p, len, out, out_max, on_link, ctx);
    st.is_quirks = doctype_quirks(p, len);
    /* Once, or twice for a late base (relink_init); one loop, so the
     * tokenizer's steps stay inlined in it. */
    for (;;) {
        size_t i = 0;

        while (i < st.len) {
            if (p[i] == '<') {
                i = markup(&st, i);
            } else {
                text_reopen(&st);
                i = text(&st, i);
            }
        }
        anchor_close(&st);
        if (st.relink) {
            return o;
        }
        *flags |= st.flags;
        o = st.o;
        if (!st.late_base || st.base_len == 0 || st.base_at == 0 ||
            on_link == NULL) {
            return o;
        }
        relink_init(&st);
    }
}
