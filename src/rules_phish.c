/*
 * rules_phish.c -- structural phishing signals for rules.c (see
 * rules-int.h): what a lure does to its path and its addresses, whatever
 * its words or its era.
 *
 *   auth-failed        a receiving server found the sender forged (SPF
 *                      fail/softfail, DMARC fail, Microsoft's compauth
 *                      fail).  Only failures count: a forger may write
 *                      "pass" into his own headers, nobody writes "fail"
 *                      about himself;
 *   hidden-link        a link through a URL shortener or a data: URI
 *                      (the page travels in the link), so neither the
 *                      reader nor a host list sees the destination;
 *   reply-to-freemail  the answer goes to a free mailbox outside the
 *                      sender's domain (the advance-fee pattern: a
 *                      company or an official on From, a private box
 *                      collecting the replies);
 *   recipient-named    the victim's address pasted into the Subject or
 *                      the From display name ("you@example.org: mailbox
 *                      full"), a mail merge newsletters do with names;
 *   mixed-script-text  a word of the Subject or the From display name
 *                      mixing Latin with Cyrillic or Greek letters
 *                      ("iPhone" with a Cyrillic "o"), or disguised by
 *                      marks of other scripts or invisible characters
 *                      inside it ("A\u073fmazon", "P\u200drime"): text
 *                      dressed to pass word filters.
 * The lists here (shorteners, free mailbox providers) name long-lived
 * infrastructure, not campaigns.
 */
#include "rules-int.h"

#include <string.h>

#include "bytetable.h"
#include "caps.h"
#include "lookalike.h"
#include "mime.h"
#include "rules.h"
#include "url.h"

static char
lower(char c)
{
    return (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
}

static bool
is_letter(char c)
{
    c = lower(c);
    return c >= 'a' && c <= 'z';
}

/* Does (p, n) start with the lower-case text w, in any case? */
static bool
has_prefix(const char *p, size_t n, const char *w)
{
    size_t wl = strlen(w);

    if (n < wl) {
        return false;
    }
    for (size_t i = 0; i < wl; i++) {
        if (lower(p[i]) != w[i]) {
            return false;
        }
    }
    return true;
}

/* The word w at the start of (p, n), not the start of a longer word
 * ("fail" is not "failover"). */
static bool
is_word(const char *p, size_t n, const char *w)
{
    size_t wl = strlen(w);

    return has_prefix(p, n, w) && (n == wl || !is_letter(p[wl]));
}

/* The bytes of an address (letters, digits, ".-_+@"): one table load
 * per byte of every To address walked (issue #7).  Built at compile
 * time. */
#define RULES_ADDR_CHAR(c)                                                 \
    (((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z') ||          \
     ((c) >= '0' && (c) <= '9') || (c) == '.' || (c) == '-' ||             \
     (c) == '_' || (c) == '+' || (c) == '@')
static const bool addr_char[256] = {BYTETABLE(RULES_ADDR_CHAR)};

static bool
is_addr_char(char c)
{
    return addr_char[(uint8_t)c];
}

/* ASCII lower case by one load (issue #7: contains_ci folds every byte
 * of a Subject and display name it searches). */
static const unsigned char lower_of[256] = {BYTETABLE(BYTETABLE_LOWER)};

/* Is (needle, nl) in (hay, hl), in any case?  A position is compared on
 * from the needle's first byte only. */
static bool
contains_ci(const char *hay, size_t hl, const char *needle, size_t nl)
{
    unsigned char first;

    if (nl == 0 || nl > hl) {
        return false;
    }
    first = lower_of[(uint8_t)needle[0]];
    for (size_t i = 0; i + nl <= hl; i++) {
        size_t k = 1;

        if (lower_of[(uint8_t)hay[i]] != first) {
            continue;
        }
        while (k < nl && lower_of[(uint8_t)hay[i + k]] ==
                             lower_of[(uint8_t)needle[k]]) {
            k++;
        }
        if (k == nl) {
            return true;
        }
    }
    return false;
}

/* ---- auth-failed ------------------------------------------------------ */

/* Does the "method=result" at v + i (RFC 8601 resinfo) say the sender
 * failed? */
static bool
is_failed_result(const char *v, size_t n, size_t i)
{
    static const struct {
        const char *method;
        const char *result;
    } fails[] = {{"spf=", "fail"},
                 {"spf=", "softfail"},
                 {"dmarc=", "fail"},
                 {"compauth=", "fail"}};

    for (size_t k = 0; k < sizeof(fails) / sizeof(fails[0]); k++) {
        size_t ml = strlen(fails[k].method);

        if (has_prefix(v + i, n - i, fails[k].method) &&
            is_word(v + i + ml, n - i - ml, fails[k].result)) {
            return true;
        }
    }
    return false;
}

static bool
results_say_failed(const struct mime_header *h)
{
    for (size_t i = 0; i < h->value_len; i++) {
        /* A method name follows a separator: "xspf=fail" or a comment's
         * "(spf=fail would ...)" inside a word is no result. */
        bool at_start = i == 0 || h->value[i - 1] == ' ' ||
                        h->value[i - 1] == '\t' || h->value[i - 1] == ';';

        if (at_start && is_failed_result(h->value, h->value_len, i)) {
            return true;
        }
    }
    return false;
}

static bool
received_spf_failed(const struct mime_header *h)
{
    size_t i = 0;

    while (i < h->value_len &&
           (h->value[i] == ' ' || h->value[i] == '\t')) {
        i++;
    }
    return is_word(h->value + i, h->value_len - i, "fail") ||
           is_word(h->value + i, h->value_len - i, "softfail");
}

bool
rules_auth_failed(const struct mime_doc *doc)
{
    const struct mime_header *h = NULL;
    unsigned n = 0;

    while (n < CAPS_RULES_AUTH_HEADERS_MAX &&
           (h = mime_header_next(doc, h, "Authentication-Results")) != NULL) {
        n++;
        if (results_say_failed(h)) {
            return true;
        }
    }
    h = NULL;
    n = 0;
    while (n < CAPS_RULES_AUTH_HEADERS_MAX &&
           (h = mime_header_next(doc, h, "Received-SPF")) != NULL) {
        n++;
        if (received_spf_failed(h)) {
            return true;
        }
    }
    return false;
}

/* ---- hidden-link ------------------------------------------------------ */

/* A listed name with its length, measured at compile time: a lookup
 * compares lengths and first bytes, no strlen of every name per host
 * (issue #7: the freemail test ran one per listed name, 41 a call). */
struct listed_name {
    const char *name;
    size_t len;
};
#define LISTED(s) {s, sizeof(s) - 1}

static bool
host_in(const char *host, size_t len, const struct listed_name *list,
        size_t n)
{
    for (size_t i = 0; i < n; i++) {
        /* A name is never empty: len > 0 before host[0] is read. */
        if (list[i].len == len && list[i].name[0] == host[0] &&
            memcmp(host, list[i].name, len) == 0) {
            return true;
        }
    }
    return false;
}

/* Every URL the parse kept (at most MIME_MAX_URLS): the test is a
 * prefix compare and a length check, and a cap on it (the look-alike
 * check's host cap was used) let 64 pictures or links put in front of
 * the shortener hide it. */
bool
rules_hidden_link(const struct mime_doc *doc)
{
    for (size_t i = 0; i < doc->n_urls; i++) {
        const struct mime_url *u = &doc->urls[i];

        if (!u->is_image && has_prefix(u->url, u->url_len, "data:")) {
            return true;
        }
        if (u->host_len > 0 && (u->host_flags & URL_IS_MAILTO) == 0 &&
            url_is_shortener(u->host, u->host_len)) {
            return true;
        }
    }
    return false;
}

/* ---- reply-to-freemail ------------------------------------------------ */

bool
rules_is_freemail(const char *dom, size_t len)
{
    static const struct listed_name doms[] = {
        LISTED("gmail.com"),      LISTED("googlemail.com"),
        LISTED("yahoo.com"),      LISTED("ymail.com"),
        LISTED("rocketmail.com"), LISTED("yahoo.co.uk"),
        LISTED("yahoo.fr"),       LISTED("yahoo.de"),
        LISTED("hotmail.com"),    LISTED("hotmail.co.uk"),
        LISTED("hotmail.fr"),     LISTED("outlook.com"),
        LISTED("outlook.fr"),     LISTED("live.com"),
        LISTED("msn.com"),        LISTED("aol.com"),
        LISTED("aim.com"),        LISTED("icloud.com"),
        LISTED("me.com"),         LISTED("mail.com"),
        LISTED("email.com"),      LISTED("usa.com"),
        LISTED("consultant.com"), LISTED("gmx.com"),
        LISTED("gmx.net"),        LISTED("gmx.de"),
        LISTED("web.de"),         LISTED("mail.ru"),
        LISTED("inbox.ru"),       LISTED("list.ru"),
        LISTED("bk.ru"),          LISTED("yandex.ru"),
        LISTED("yandex.com"),     LISTED("protonmail.com"),
        LISTED("proton.me"),      LISTED("zoho.com"),
        LISTED("qq.com"),         LISTED("163.com"),
        LISTED("126.com"),        LISTED("rediffmail.com"),
        LISTED("libero.it")};

    return host_in(dom, len, doms, sizeof(doms) / sizeof(doms[0]));
}

/* Is the address of Reply-To also among the recipients?  A list that
 * sets Reply-To to itself ("groups.example" discussion lists) sends its
 * answers where the message went, not elsewhere. */
static bool
reply_to_is_recipient(const struct mime_doc *doc)
{
    static const char *const fields[] = {"To", "Cc"};
    const struct mime_header *rt = mime_header_find(doc, "Reply-To");
    const char *v;
    size_t vl;
    const char *at;
    size_t off;
    size_t s;
    size_t e;

    if (rt == NULL) {
        return false;
    }
    mime_header_addr_text(rt, &v, &vl);
    /* The mailbox after the last '<', where rules_header_domain found
     * the freemail domain: a recipient's address written into the
     * display name ("bob@example.org" <claims@gmail.com>) is not where
     * the answers go. */
    off = rules_angle_addr_offset(v, vl);
    at = memchr(v + off, '@', vl - off);
    if (at == NULL) {
        return false;
    }
    s = (size_t)(at - v);
    e = s + 1;
    while (s > 0 && is_addr_char(v[s - 1])) {
        s--;
    }
    while (e < vl && is_addr_char(v[e])) {
        e++;
    }
    if (e - s > CAPS_RULES_ADDRESS_MAX) {
        return false; /* no mailbox: and searching for it is quadratic */
    }
    for (size_t k = 0; k < sizeof(fields) / sizeof(fields[0]); k++) {
        const struct mime_header *h = mime_header_find(doc, fields[k]);

        if (h != NULL &&
            contains_ci(h->value, h->value_len, v + s, e - s)) {
            return true;
        }
    }
    return false;
}

bool
rules_reply_to_freemail(const struct mime_doc *doc,
                        const struct rules_senders *s)
{
    const char *from = s->from;
    const char *reply = s->reply_to;
    size_t fl = s->from_len;
    size_t rl = s->reply_to_len;
    const char *freg = "";
    const char *rreg = "";
    size_t frl = 0;
    size_t rrl;

    /* The provider's own domain, not a host below it: groups.msn.com is
     * a list server, msn.com a mailbox anyone may open. */
    if (rl == 0 || !rules_is_freemail(reply, rl)) {
        return false;
    }
    rrl = url_registered_domain(reply, rl, &rreg);
    if (fl > 0) {
        frl = url_registered_domain(from, fl, &freg);
    }
    return !(frl == rrl && memcmp(freg, rreg, rrl) == 0) &&
           !reply_to_is_recipient(doc);
}

/* ---- recipient-named -------------------------------------------------- */

/* The address around the '@' at v[at]: its start into *start, its
 * length. */
static size_t
address_at(const char *v, size_t n, size_t at, size_t *start)
{
    size_t s = at;
    size_t e = at + 1;

    while (s > 0 && is_addr_char(v[s - 1])) {
        s--;
    }
    while (e < n && is_addr_char(v[e])) {
        e++;
    }
    *start = s;
    return e - s;
}

/* The address of a To value holding exactly one, as a view; 0 when none
 * or several.  The address written again as the display name
 * ("bob@example.org" <bob@example.org>) is the same one. */
static size_t
only_address(const struct mime_header *h, const char **addr)
{
    const char *v = h->value;
    size_t n = h->value_len;
    const char *at = memchr(v, '@', n);
    size_t s;
    size_t al;

    if (at == NULL) {
        return 0;
    }
    al = address_at(v, n, (size_t)(at - v), &s);
    if (al > CAPS_RULES_ADDRESS_MAX) {
        return 0; /* no mailbox: and searching for it is quadratic */
    }
    for (size_t i = s + al; i < n; i++) {
        size_t s2;
        size_t l2;

        if (v[i] != '@') {
            continue;
        }
        l2 = address_at(v, n, i, &s2);
        if (l2 != al || !contains_ci(v + s2, l2, v + s, al)) {
            return 0;
        }
        i = s2 + l2 - 1; /* past this address ('@' is an address byte) */
    }
    *addr = v + s;
    return al;
}

/* A calendar invitation (a text/calendar part): calendar servers name
 * the invitee in the Subject ("Invitation: ... (ann@example.org)"). */
static bool
is_calendar_invitation(const struct mime_doc *doc)
{
    for (size_t i = 0; i < doc->n_parts; i++) {
        if (strcmp(doc->parts[i].content_type, "text/calendar") == 0) {
            return true;
        }
    }
    return false;
}

bool
rules_recipient_named(const struct mime_doc *doc,
                      const struct rules_senders *s)
{
    const struct mime_header *to = mime_header_find(doc, "To");
    const struct mime_header *subj = mime_header_find(doc, "Subject");
    const char *addr = NULL;
    size_t al;

    if (to == NULL || is_calendar_invitation(doc)) {
        return false;
    }
    al = only_address(to, &addr);
    /* "a@b.c" at least: a bare "@" or "x@y" says nothing */
    if (al < 5) {
        return false;
    }
    if (subj != NULL && contains_ci(subj->value, subj->value_len, addr, al)) {
        return true;
    }
    /* rules_from_parts' answer, read with the sender domains: false
     * without a From. */
    return s->has_from_name &&
           contains_ci(s->from_name, s->from_name_len, addr, al);
}

/* ---- mixed-script-text ------------------------------------------------ */

static bool
dressed_text(const char *text, size_t len)
{
    return lookalike_text_mixed_script(text, len) ||
           lookalike_text_disguised(text, len);
}

bool
rules_mixed_script_text(const struct mime_doc *doc,
                        const struct rules_senders *s)
{
    const struct mime_header *subj = mime_header_find(doc, "Subject");

    if (subj != NULL && dressed_text(subj->value, subj->value_len)) {
        return true;
    }
    /* The display name up to the last '<', as the other From rules read
     * it (rules_from_parts, read with the sender domains; false without
     * a From): a '<' inside the name ("<Apple Supp\u03bfrt>") does not
     * end it. */
    return s->has_from_name && dressed_text(s->from_name, s->from_name_len);
}
