/*
 * html.h -- HTML (already UTF-8) → visible text, links and tell-tales.
 *
 * One forward pass with no allocation: tags are removed; block-level tags
 * (p, br, div, tr, li, h1-h6, table, ...) become line breaks and cells
 * blanks; runs of white space collapse to one blank; <script>, <style>
 * and <title> content and comments are dropped (that is all a browser
 * hides of <head>: other text there is shown, so it is kept, which also
 * means a missing </head> can never swallow the body); character
 * references (decimal, hex and the common named ones) are decoded to
 * UTF-8.
 * Zero-width characters (U+200B-U+200D, U+2060, U+FEFF, soft hyphen) are
 * removed and no-break spaces become blanks, because spammers use both to
 * split words.
 *
 * Hidden text -- inside an element styled display:none, visibility:hidden,
 * font-size 0/1px, opacity 0, zero width/height with overflow hidden,
 * mso-hide:all, the "hidden" attribute, or <font> with size <= 1 and a
 * white colour, and what a browser does not render (<template>, a closed
 * <dialog>, <rp>, the raw text of <noembed> and <noframes>, a closed
 * <details> but for its summary) -- is NOT
 * written to the text (it is what a reader does not see, and is usually
 * filler meant to poison statistical filters);
 * HTML_HIDDEN_TEXT is set when such an element held visible characters.
 * font-size is inherited, so a tiny one hides only until a descendant sets
 * a readable size of its own (an absolute font-size, or <font size=N>);
 * the rest hides everything inside whatever it sets.  A formatting
 * element (<font>, <b>, <i>, <a>, ...) that a <p>, <li>, heading or <div>
 * ended implicitly is reopened for the text after it, as a browser does
 * (WHATWG 13.2.4.3), so it goes on hiding until its own end tag or the
 * end of the cell it is in.
 *
 * Links are reported through a callback: <a>/<area> href (with the
 * visible anchor text, reported when the anchor closes), <img> src and
 * background attributes, <form> action, <iframe>/<frame>/<embed> src and
 * <meta http-equiv=refresh> targets.  URLs are entity-decoded, stripped of
 * surrounding blanks and of tabs and line breaks inside (as browsers do)
 * and cut at MIME_URL_MAX_BYTES.
 *
 * Bounded: linear in the input whatever its shape (unclosed tags, quotes
 * or comments, megabyte attributes); never reads outside (p, len).  Pure;
 * thread-safe.  Formats layer; no logging.
 */
#ifndef CM_HTML_H
#define CM_HTML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum html_flag {
    HTML_HIDDEN_TEXT = 1u << 0,  /* visible characters in a hidden element */
    HTML_HAS_FORM = 1u << 1,     /* <form> */
    HTML_HAS_PASSWORD = 1u << 2, /* <input type=password> */
    HTML_HAS_SCRIPT = 1u << 3,   /* <script> (content dropped) */
    HTML_HAS_IMAGES = 1u << 4,   /* <img> */
    HTML_OUT_CAPPED = 1u << 5    /* out_max reached; text cut */
};

enum html_link_kind {
    HTML_LINK_HREF,  /* <a href>, <area href> */
    HTML_LINK_IMAGE, /* <img src>, background= */
    HTML_LINK_FORM,  /* <form action> */
    HTML_LINK_FORM_GET, /* <form method=get action>: fields go in a URL,
                           as a search box sends them */
    HTML_LINK_OTHER  /* iframe/frame/embed src, meta refresh */
};

/*
 * One link.  url (url_len bytes, not NUL-terminated) and anchor (the
 * visible text of an <a>, trimmed, at most MIME_ANCHOR_MAX_BYTES; length 0
 * otherwise) are valid only during the call.
 */
typedef void (*html_link_fn)(void *ctx, enum html_link_kind kind,
                             const char *url, size_t url_len,
                             const char *anchor, size_t anchor_len);

/*
 * Render (p, len) into out (at most out_max bytes, never a partial UTF-8
 * character, no NUL added) and return the bytes written.  on_link may be
 * NULL.  ORs enum html_flag bits into *flags.  Links and flags are still
 * reported after out is full.
 */
size_t html_to_text(const uint8_t *p, size_t len, char *out, size_t out_max,
                    html_link_fn on_link, void *ctx, unsigned *flags);

/*
 * The charset label an HTML page declares in its first
 * HTML_PRESCAN_BYTES (WHATWG HTML 13.2.3.2, the prescan, loosely):
 * <meta charset=X> or <meta http-equiv=Content-Type content="...;
 * charset=X">.  Copies X (at most out_max - 1 bytes of [A-Za-z0-9._:-],
 * NUL-terminated) into out and returns its length; 0 when there is
 * none.  A UTF-16 label is returned as "utf-8" (a page whose meta could
 * be read as ASCII is not UTF-16), as the prescan does.
 */
#define HTML_PRESCAN_BYTES 1024u
size_t html_meta_charset(const uint8_t *p, size_t len, char *out,
                         size_t out_max);

/*
 * Decode one character reference at p ('&' already consumed: p points
 * after it).  On success stores the code point in *cp and returns the
 * bytes consumed (including a ';'); 0 when there is none.
 */
size_t html_entity(const uint8_t *p, size_t len, uint32_t *cp);

#endif
