/*
 * rules.c -- heuristics in code, weighted from the cartridge's RULES
 * section (see rules.h for the rules, the section layout and how the
 * verdict's category is chosen).
 */
#include "rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "bytetable.h"
#include "caps.h"
#include "cursor.h"
#include "featureset.h"
#include "hashing.h"
#include "lookalike.h"
#include "mime.h"
#include "rules-int.h"
#include "url.h"

#define RULES_MAGIC "CMRL"
#define RULES_MAGIC_LEN 4u
#define RULES_WEIGHT_SCALE 1000.0

struct rules {
    struct rules_rule rule[RULES_COUNT];
    struct lookalike_db *protected; /* NULL: none */
};

static const char *const rule_names[RULES_COUNT] = {
    [RULES_EXECUTABLE_ATTACHMENT] = "executable-attachment",
    [RULES_SCRIPT_ATTACHMENT] = "script-attachment",
    [RULES_EXECUTABLE_IN_ZIP] = "executable-in-zip",
    [RULES_HTML_ATTACHMENT] = "html-attachment",
    [RULES_DECEPTIVE_LINK] = "deceptive-link",
    [RULES_LOOKALIKE_DOMAIN] = "lookalike-domain",
    [RULES_CREDENTIAL_FORM] = "credential-form",
    [RULES_BULK_MARKERS] = "bulk-markers",
    [RULES_BRAND_DISPLAY_NAME] = "brand-display-name",
    [RULES_AUTH_FAILED] = "auth-failed",
    [RULES_HIDDEN_LINK] = "hidden-link",
    [RULES_REPLY_TO_FREEMAIL] = "reply-to-freemail",
    [RULES_RECIPIENT_NAMED] = "recipient-named",
    [RULES_MIXED_SCRIPT_TEXT] = "mixed-script-text",
};

/* Weights 0: a cartridge without the section was calibrated without
 * them.  Categories and floors are what the engine always did. */
static const struct rules builtin_rules = {
    {
        [RULES_EXECUTABLE_ATTACHMENT] = {0.0, RULES_CAT_MALWARE,
                                         RULES_MALWARE_SCORE,
                                         "executable-attachment"},
        [RULES_SCRIPT_ATTACHMENT] = {0.0, RULES_CAT_MALWARE,
                                     RULES_MALWARE_SCORE,
                                     "script-attachment"},
        [RULES_EXECUTABLE_IN_ZIP] = {0.0, RULES_CAT_MALWARE,
                                     RULES_MALWARE_SCORE,
                                     "executable-in-zip"},
        [RULES_HTML_ATTACHMENT] = {0.0, RULES_CAT_PHISHING, 0,
                                   "html-attachment"},
        [RULES_DECEPTIVE_LINK] = {0.0, RULES_CAT_PHISHING, 0,
                                  "deceptive-link"},
        [RULES_LOOKALIKE_DOMAIN] = {0.0, RULES_CAT_PHISHING, 0,
                                    "lookalike-domain"},
        [RULES_CREDENTIAL_FORM] = {0.0, RULES_CAT_PHISHING, 0,
                                   "credential-form"},
        [RULES_BULK_MARKERS] = {0.0, RULES_CAT_BULK, 0, ""},
        [RULES_BRAND_DISPLAY_NAME] = {0.0, RULES_CAT_PHISHING, 0,
                                      "brand-display-name"},
        [RULES_AUTH_FAILED] = {0.0, RULES_CAT_PHISHING, 0, "auth-failed"},
        [RULES_HIDDEN_LINK] = {0.0, RULES_CAT_PHISHING, 0, "hidden-link"},
        [RULES_REPLY_TO_FREEMAIL] = {0.0, RULES_CAT_PHISHING, 0,
                                     "reply-to-freemail"},
        [RULES_RECIPIENT_NAMED] = {0.0, RULES_CAT_PHISHING, 0,
                                   "recipient-named"},
        [RULES_MIXED_SCRIPT_TEXT] = {0.0, RULES_CAT_PHISHING, 0,
                                     "mixed-script-text"},
    },
    NULL};

const char *
rules_name(unsigned id)
{
    return id < RULES_COUNT ? rule_names[id] : "unknown";
}

bool
rules_is_category_only(enum rules_id i)
{
    return i >= RULES_AUTH_FAILED && i <= RULES_MIXED_SCRIPT_TEXT;
}

void
rules_builtin_rule(enum rules_id i, struct rules_rule *out)
{
    *out = builtin_rules.rule[i < RULES_COUNT ? i : 0];
}

const struct rules *
rules_builtin(void)
{
    return &builtin_rules;
}

const struct rules_rule *
rules_rule_at(const struct rules *r, enum rules_id i)
{
    return &r->rule[i < RULES_COUNT ? i : 0];
}

const struct lookalike_db *
rules_protected(const struct rules *r)
{
    return r->protected;
}

void
rules_free(struct rules *r)
{
    if (r == NULL || r == &builtin_rules) {
        return;
    }
    lookalike_db_free(r->protected);
    free(r);
}

/* ---- the section ----------------------------------------------------- */

static bool
is_sub_text(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];

        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
            return false;
        }
    }
    return true;
}

static enum cm_err
parse_rule(struct cursor *c, struct rules *r, bool *seen, const char **why)
{
    uint16_t id = 0;
    uint8_t cat = 0;
    uint8_t floor = 0;
    uint32_t w = 0;
    uint8_t sl = 0;
    const uint8_t *sub = NULL;
    int32_t wm;

    if (cursor_u16le(c, &id) != CM_OK || cursor_u8(c, &cat) != CM_OK ||
        cursor_u8(c, &floor) != CM_OK || cursor_u32le(c, &w) != CM_OK ||
        cursor_u8(c, &sl) != CM_OK || cursor_bytes(c, sl, &sub) != CM_OK) {
        *why = "RULES rule truncated";
        return CM_EPARSE;
    }
    memcpy(&wm, &w, sizeof(wm));
    if (cat > RULES_CAT_BULK || floor > 100 || sl > RULES_SUB_MAX ||
        !is_sub_text(sub, sl) ||
        (double)(wm < 0 ? -(int64_t)wm : wm) >
            RULES_WEIGHT_MAX * RULES_WEIGHT_SCALE) {
        *why = "RULES rule value out of range";
        return CM_EPARSE;
    }
    if (id < RULES_COUNT) {
        if (seen[id]) {
            *why = "RULES rule repeated";
            return CM_EPARSE;
        }
        seen[id] = true;
        r->rule[id].weight = (double)wm / RULES_WEIGHT_SCALE;
        r->rule[id].category = cat;
        r->rule[id].floor = floor;
        memcpy(r->rule[id].sub, sub, sl);
        r->rule[id].sub[sl] = '\0';
    }
    return CM_OK;
}

/* The protected list: n sorted names into a lookalike database. */
static enum cm_err
parse_protected(struct cursor *c, struct rules *r, const char **why)
{
    uint32_t n = 0;
    char **names = NULL;
    bool *is_brand = NULL;
    enum cm_err rc = CM_EPARSE;
    uint32_t k = 0;

    if (cursor_u32le(c, &n) != CM_OK) {
        *why = "RULES protected count truncated";
        return CM_EPARSE;
    }
    if (n > CAPS_RULES_PROTECTED_MAX) {
        *why = "RULES holds too many protected domains";
        return CM_ELIMIT;
    }
    if (cursor_left(c) / 5u < n) { /* the shortest entry: 0 3 "a.b" */
        *why = "RULES protected count exceeds the section";
        return CM_EPARSE;
    }
    names = calloc(n > 0 ? n : 1, sizeof(*names));
    is_brand = calloc(n > 0 ? n : 1, sizeof(*is_brand));
    if (names == NULL || is_brand == NULL) {
        free(names);
        free(is_brand);
        *why = "out of memory";
        return CM_ENOMEM;
    }
    for (; k < n; k++) {
        uint8_t flags = 0;
        uint8_t len = 0;
        const uint8_t *d = NULL;

        if (cursor_u8(c, &flags) != CM_OK || cursor_u8(c, &len) != CM_OK ||
            cursor_bytes(c, len, &d) != CM_OK) {
            *why = "RULES protected domain truncated";
            goto out;
        }
        if ((flags & ~RULES_PROTECTED_BRAND) != 0) {
            *why = "RULES protected domain flags unknown";
            goto out;
        }
        is_brand[k] = (flags & RULES_PROTECTED_BRAND) != 0;
        names[k] = malloc((size_t)len + 1);
        if (names[k] == NULL) {
            *why = "out of memory";
            rc = CM_ENOMEM;
            goto out;
        }
        memcpy(names[k], d, len);
        names[k][len] = '\0';
        if (len < 3 || memchr(d, '\0', len) != NULL ||
            (k > 0 && strcmp(names[k - 1], names[k]) >= 0)) {
            *why = "RULES protected domains out of order or malformed";
            k++;
            goto out;
        }
        for (uint8_t i = 0; i < len; i++) {
            char ch = names[k][i];

            if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
                  ch == '.' || ch == '-')) {
                *why = "RULES protected domain malformed";
                k++;
                goto out;
            }
        }
        if (strchr(names[k], '.') == NULL) {
            *why = "RULES protected domain malformed";
            k++;
            goto out;
        }
    }
    rc = lookalike_db_build((const char *const *)names, is_brand, n,
                            &r->protected);
    if (rc != CM_OK) {
        *why = "out of memory";
    }

out:
    for (uint32_t i = 0; i < k && i < n; i++) {
        free(names[i]);
    }
    free(names);
    free(is_brand);
    return rc;
}

enum cm_err
rules_parse(const uint8_t *p, size_t len, struct rules **out,
            const char **why)
{
    struct cursor c;
    const uint8_t *magic = NULL;
    uint32_t version = 0;
    uint32_t n = 0;
    bool seen[RULES_COUNT] = {false};
    const char *reason = NULL;
    struct rules *r = calloc(1, sizeof(*r));
    enum cm_err rc = CM_EPARSE;

    if (r == NULL) {
        reason = "out of memory";
        rc = CM_ENOMEM;
        goto fail;
    }
    *r = *rules_builtin();
    cursor_init(&c, p, len);
    if (cursor_bytes(&c, RULES_MAGIC_LEN, &magic) != CM_OK ||
        memcmp(magic, RULES_MAGIC, RULES_MAGIC_LEN) != 0) {
        reason = "RULES section: bad magic";
        goto fail;
    }
    if (cursor_u32le(&c, &version) != CM_OK || cursor_u32le(&c, &n) != CM_OK) {
        reason = "RULES header truncated";
        goto fail;
    }
    if (version != RULES_FORMAT) {
        reason = "RULES section version differs from this build";
        rc = CM_EVERSION;
        goto fail;
    }
    if (n > CAPS_RULES_MAX) {
        reason = "RULES holds too many rules";
        rc = CM_ELIMIT;
        goto fail;
    }
    for (uint32_t i = 0; i < n; i++) {
        rc = parse_rule(&c, r, seen, &reason);
        if (rc != CM_OK) {
            goto fail;
        }
    }
    rc = parse_protected(&c, r, &reason);
    if (rc != CM_OK) {
        goto fail;
    }
    if (cursor_left(&c) != 0) {
        reason = "bytes after the RULES protected domains";
        rc = CM_EPARSE;
        goto fail;
    }
    *out = r;
    return CM_OK;

fail:
    rules_free(r);
    if (why != NULL) {
        *why = reason;
    }
    return rc;
}

struct prot_entry {
    const char *name;
    bool is_brand;
};

static int
cmp_prot(const void *a, const void *b)
{
    return strcmp(((const struct prot_entry *)a)->name,
                  ((const struct prot_entry *)b)->name);
}

static enum cm_err
format_protected(const char *const *protected, const bool *is_brand,
                 size_t n, struct buf *out)
{
    struct prot_entry *sorted = calloc(n > 0 ? n : 1, sizeof(*sorted));
    size_t k = 0;
    uint8_t le[4];
    enum cm_err rc = CM_OK;

    if (sorted == NULL) {
        return CM_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        sorted[i].name = protected[i];
        sorted[i].is_brand = is_brand != NULL && is_brand[i];
    }
    qsort(sorted, n, sizeof(*sorted), cmp_prot);
    for (size_t i = 0; i < n; i++) {
        if (k > 0 && strcmp(sorted[k - 1].name, sorted[i].name) == 0) {
            sorted[k - 1].is_brand |= sorted[i].is_brand;
        } else {
            sorted[k++] = sorted[i];
        }
    }
    if (k > CAPS_RULES_PROTECTED_MAX) {
        free(sorted);
        return CM_ELIMIT;
    }
    le[0] = (uint8_t)k;
    le[1] = (uint8_t)(k >> 8);
    le[2] = (uint8_t)(k >> 16);
    le[3] = (uint8_t)(k >> 24);
    rc = buf_append(out, le, 4);
    for (size_t i = 0; i < k && rc == CM_OK; i++) {
        size_t l = strlen(sorted[i].name);

        if (l < 3 || l > LOOKALIKE_DOMAIN_MAX) {
            rc = CM_EPARSE;
            break;
        }
        rc = buf_putc(out, sorted[i].is_brand ? RULES_PROTECTED_BRAND : 0);
        if (rc == CM_OK) {
            rc = buf_putc(out, (uint8_t)l);
        }
        if (rc == CM_OK) {
            rc = buf_append(out, sorted[i].name, l);
        }
    }
    free(sorted);
    return rc;
}

enum cm_err
rules_format(const struct rules_rule *table, const char *const *protected,
             const bool *is_brand, size_t n, struct buf *out)
{
    uint8_t hdr[12] = {'C', 'M', 'R', 'L', RULES_FORMAT, 0, 0, 0,
                       RULES_COUNT, 0, 0, 0};
    enum cm_err rc = buf_append(out, hdr, sizeof(hdr));

    for (unsigned i = 0; i < RULES_COUNT && rc == CM_OK; i++) {
        const struct rules_rule *t = &table[i];
        size_t sl = strlen(t->sub);
        double wf = t->weight * RULES_WEIGHT_SCALE;
        int32_t w = (int32_t)(wf < 0 ? wf - 0.5 : wf + 0.5);
        uint32_t wu;
        uint8_t b[9];

        if (t->category > RULES_CAT_BULK || t->floor > 100 ||
            sl > RULES_SUB_MAX || !is_sub_text((const uint8_t *)t->sub, sl) ||
            !(t->weight >= -RULES_WEIGHT_MAX && t->weight <= RULES_WEIGHT_MAX)) {
            return CM_EPARSE;
        }
        memcpy(&wu, &w, sizeof(wu));
        b[0] = (uint8_t)i;
        b[1] = 0;
        b[2] = t->category;
        b[3] = t->floor;
        b[4] = (uint8_t)wu;
        b[5] = (uint8_t)(wu >> 8);
        b[6] = (uint8_t)(wu >> 16);
        b[7] = (uint8_t)(wu >> 24);
        b[8] = (uint8_t)sl;
        rc = buf_append(out, b, sizeof(b));
        if (rc == CM_OK) {
            rc = buf_append(out, t->sub, sl);
        }
    }
    return rc == CM_OK ? format_protected(protected, is_brand, n, out) : rc;
}

/* ---- detection ------------------------------------------------------- */

static bool
ieq(const char *a, size_t n, const char *b)
{
    if (strlen(b) != n) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = a[i];

        if (c >= 'A' && c <= 'Z') {
            c = (char)(c + 32);
        }
        if (c != b[i]) {
            return false;
        }
    }
    return true;
}

/* Extension of a file name (after the last dot, trailing dots and blanks
 * ignored as Windows does), or length 0. */
static size_t
name_ext(const char *name, size_t len, const char **ext)
{
    size_t e = len;

    while (len > 0 && (name[len - 1] == ' ' || name[len - 1] == '.')) {
        len--;
    }
    e = len;
    while (e > 0 && name[e - 1] != '.') {
        e--;
    }
    if (e == 0 || len - e > 8) {
        return 0;
    }
    *ext = name + e;
    return len - e;
}

static bool
ext_in(const char *name, size_t len, const char *const *list, size_t n)
{
    const char *ext = NULL;
    size_t el = name_ext(name, len, &ext);

    for (size_t i = 0; el > 0 && i < n; i++) {
        if (ieq(ext, el, list[i])) {
            return true;
        }
    }
    return false;
}

/* Scripts, shortcuts and disk images: what opens a script host or mounts
 * an image on a double click (features_is_dangerous_name has them too). */
static bool
is_script_name(const char *name, size_t len)
{
    static const char *const exts[] = {"js",  "jse", "vbs", "vbe", "wsf",
                                       "wsh", "hta", "ps1", "lnk", "iso",
                                       "img", "vhd", "vhdx", "one"};

    return ext_in(name, len, exts, sizeof(exts) / sizeof(exts[0]));
}

static bool
is_html_name(const char *name, size_t len)
{
    static const char *const exts[] = {"html", "htm", "shtml", "xhtml",
                                       "svg"};

    return ext_in(name, len, exts, sizeof(exts) / sizeof(exts[0]));
}

/* See rules-int.h. */
bool
rules_ext_in(const char *name, size_t len, const char *const *list, size_t n)
{
    return ext_in(name, len, list, n);
}

/* Script or executable by one of a part's names (fn, fl bytes). */
static uint32_t
name_rules(const char *fn, size_t fl)
{
    if (is_script_name(fn, fl)) {
        return 1u << RULES_SCRIPT_ATTACHMENT;
    }
    if (features_is_dangerous_name(fn, fl)) {
        return 1u << RULES_EXECUTABLE_ATTACHMENT;
    }
    return 0;
}

static uint32_t
attachment_rules(const struct mime_doc *doc, unsigned fflags)
{
    uint32_t fired = 0;

    for (size_t i = 0; i < doc->n_parts; i++) {
        const struct mime_part *p = &doc->parts[i];
        const char *fn = p->filename != NULL ? p->filename : "";
        const char *other = p->other_filename != NULL ? p->other_filename
                                                      : "";
        size_t fl = strlen(fn);
        uint32_t by_name;

        if (!p->is_attachment && fl == 0) {
            continue;
        }
        /* A client may save the part under either name. */
        by_name = name_rules(fn, fl) | name_rules(other, strlen(other));
        if (by_name != 0) {
            fired |= by_name;
        } else if (p->is_attachment && is_html_name(fn, fl) &&
                   (p->disp_attachment || p->depth > 0)) {
            /* A message whose whole body is one inline HTML part with a
             * file name (weather and news alerts: "accuwx.htm") shows
             * that page as its text; it is not an attached page. */
            fired |= 1u << RULES_HTML_ATTACHMENT;
        }
        if ((fired & (1u << RULES_EXECUTABLE_IN_ZIP)) == 0 &&
            rules_archive_is_dangerous(p)) {
            fired |= 1u << RULES_EXECUTABLE_IN_ZIP;
        }
    }
    /* features also counts "x.pdf.exe" (an inner extension before a
     * dangerous one): the same verdict. */
    if ((fflags & FEATURES_DANGEROUS_ATTACHMENT) != 0 &&
        (fired & ((1u << RULES_SCRIPT_ATTACHMENT) |
                  (1u << RULES_EXECUTABLE_ATTACHMENT))) == 0) {
        fired |= 1u << RULES_EXECUTABLE_ATTACHMENT;
    }
    return fired;
}

/* See rules-int.h.  Not the first '@' nor the first '<':
 * "support@metamask.io" <x@spam.example> and "PayPal <pp@paypal.com>"
 * <x@spam.example> put a brand's address in the display name, and the
 * mail comes from the last one, as mail clients reply to it. */
size_t
rules_angle_addr_offset(const char *v, size_t len)
{
    const char *lt = len > 0 ? memchr(v, '<', len) : NULL;
    const char *next;

    /* memchr forward from '<' to '<': nearly every value has one or
     * none, and a walk back byte by byte from the end crossed the whole
     * value when it had none (issue #7). */
    if (lt == NULL) {
        return 0;
    }
    while ((next = memchr(lt + 1, '<', len - (size_t)(lt + 1 - v))) != NULL) {
        lt = next;
    }
    return (size_t)(lt - v) + 1;
}

/* The first '@' outside a (comment) of the n bytes at v: in
 * "(support@paypal.com) x@evil.example" the comment is the name a mail
 * client shows and the mail comes from evil.example.  With unbalanced
 * parentheses, the first '@' as before. */
static const char *
at_outside_comments(const char *v, size_t n)
{
    unsigned depth = 0;

    for (size_t i = 0; i < n; i++) {
        if (v[i] == '(') {
            depth++;
        } else if (v[i] == ')' && depth > 0) {
            depth--;
        } else if (v[i] == '@' && depth == 0) {
            return v + i;
        }
    }
    return memchr(v, '@', n);
}

/* Bytes that end an address's domain: one table load per byte of it
 * rather than eight compares (issue #7).  Built at compile time. */
#define RULES_DOMAIN_STOP(c)                                               \
    ((c) == '>' || (c) == ' ' || (c) == '\t' || (c) == ',' || (c) == ';' || \
     (c) == '"' || (c) == ')' || (c) == '(')
static const bool domain_stop[256] = {BYTETABLE(RULES_DOMAIN_STOP)};

/* See rules-int.h. */
size_t
rules_header_domain(const struct mime_doc *doc, const char *name, char *dst,
              size_t cap)
{
    const struct mime_header *h = mime_header_find(doc, name);
    const char *v;
    size_t vl;
    const char *at;
    size_t n = 0;
    size_t i;
    size_t off;

    if (h == NULL || h->value_len == 0) {
        return 0;
    }
    mime_header_addr_text(h, &v, &vl);
    off = rules_angle_addr_offset(v, vl);
    at = at_outside_comments(v + off, vl - off);
    if (at == NULL) {
        return 0;
    }
    for (i = (size_t)(at - v) + 1; i < vl && n + 1 < cap; i++) {
        uint8_t c = (uint8_t)v[i];

        if (domain_stop[c]) {
            break;
        }
        dst[n++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    while (n > 0 && dst[n - 1] == '.') {
        n--;
    }
    dst[n] = '\0';
    return n;
}

void
rules_senders_read(const struct mime_doc *doc, struct rules_senders *s)
{
    s->from_len = rules_header_domain(doc, "From", s->from, sizeof(s->from));
    s->from_reg = s->from;
    s->from_reg_len = s->from_len > 0 ? url_registered_domain(
                                            s->from, s->from_len, &s->from_reg)
                                      : 0;
    s->reply_to_len =
        rules_header_domain(doc, "Reply-To", s->reply_to, sizeof(s->reply_to));
    s->from_name = NULL;
    s->from_name_len = 0;
    s->has_from_name = rules_from_parts(doc, &s->from_name, &s->from_name_len,
                                        NULL, 0, NULL);
}

/* The distinct hosts seen, an open-addressing set of their hashes (0 is
 * a free slot, so a hash is stored with its low bit set): a power of two
 * at least twice the URLs to add, so a probe stays short and a message
 * with a few links clears a few slots, not the whole table. */
#define RULES_HOST_SLOTS (2u * CAPS_RULES_HOSTS_MAX)
_Static_assert((RULES_HOST_SLOTS & (RULES_HOST_SLOTS - 1)) == 0 &&
                   RULES_HOST_SLOTS >= 16,
               "the host set's size is a power of two");

/* Adds h to the set of mask + 1 slots; false when it was there. */
static bool
host_add(uint64_t *slots, size_t mask, uint64_t h)
{
    size_t i = (size_t)h & mask;

    h |= 1u;
    while (slots[i] != 0) {
        if (slots[i] == h) {
            return false;
        }
        i = (i + 1) & mask;
    }
    slots[i] = h;
    return true;
}

/* rules_for_each_host with the sender domains read.  The cap counts
 * distinct link hosts: counting every URL let 64 copies of one harmless
 * link in front of the lure's link hide it. */
static void
each_host(const struct mime_doc *doc, const struct rules_senders *s,
          rules_host_fn fn, void *ctx)
{
    const char *const hosts[] = {s->from, s->reply_to};
    const size_t lens[] = {s->from_len, s->reply_to_len};
    /* From's registered domain was read with it; Reply-To's only here. */
    const char *const regs[] = {s->from_reg, NULL};
    const size_t reg_lens[] = {s->from_reg_len, 0};
    uint64_t slots[RULES_HOST_SLOTS];
    size_t n_slots = 16;
    size_t n_done = 0;

    for (size_t k = 0; k < sizeof(hosts) / sizeof(hosts[0]); k++) {
        const char *host = hosts[k];
        size_t hl = lens[k];

        if (hl > 0 && !url_host_is_ip(host, hl)) {
            const char *reg = regs[k];
            size_t rl = reg != NULL ? reg_lens[k]
                                    : url_registered_domain(host, hl, &reg);

            fn(ctx, host, hl, reg, rl);
        }
    }
    while (n_slots < RULES_HOST_SLOTS && n_slots < 2 * doc->n_urls) {
        n_slots *= 2;
    }
    memset(slots, 0, n_slots * sizeof(slots[0]));
    /* mime kept each URL's host and url_host's flags: no second parse. */
    for (size_t i = 0; i < doc->n_urls && n_done < CAPS_RULES_HOSTS_MAX; i++) {
        const struct mime_url *u = &doc->urls[i];

        /* Not image sources: a brand's own image host may carry its name
         * as a part (m.media-amazon.com), and a phish is reached by its
         * links and forms, not by its pictures. */
        if (u->host_len == 0 || u->is_image ||
            (u->host_flags & (URL_IS_MAILTO | URL_IS_IP)) != 0 ||
            !host_add(slots, n_slots - 1,
                      hashing_hash64(u->host, u->host_len, 0x686f7374ull))) {
            continue;
        }
        n_done++;
        fn(ctx, u->host, u->host_len, u->reg, u->reg_len);
    }
}

void
rules_for_each_host(const struct mime_doc *doc, rules_host_fn fn, void *ctx)
{
    struct rules_senders s;

    rules_senders_read(doc, &s);
    each_host(doc, &s, fn, ctx);
}

#define RULES_SEEN_HOSTS 8u

struct lookalike_ctx {
    const struct rules *rules;
    enum lookalike_kind kind;
    uint64_t seen[RULES_SEEN_HOSTS]; /* recent hosts: newsletters repeat */
    unsigned n_seen;
};

static void
lookalike_host(void *ctx, const char *host, size_t len, const char *reg,
               size_t reg_len)
{
    struct lookalike_ctx *lc = ctx;
    uint64_t h = hashing_hash64(host, len, 0x686f7374ull);

    if (lc->kind != LOOKALIKE_NONE) {
        return;
    }
    for (unsigned i = 0; i < RULES_SEEN_HOSTS && i < lc->n_seen; i++) {
        if (lc->seen[i] == h) {
            return;
        }
    }
    lc->seen[lc->n_seen++ % RULES_SEEN_HOSTS] = h;
    lc->kind = rules_lookalike_host(lc->rules, host, len, reg, reg_len);
}

enum lookalike_kind
rules_lookalike_host(const struct rules *r, const char *host, size_t len,
                     const char *reg, size_t reg_len)
{
    enum lookalike_kind k =
        lookalike_check_reg(r->protected, host, len, reg, reg_len, NULL);

    /* The provider test second: it is a list walk, and nearly every host
     * imitates nothing. */
    if (k != LOOKALIKE_NONE && rules_is_freemail(reg, reg_len)) {
        return LOOKALIKE_NONE;
    }
    return k;
}

/* A link whose userinfo reads as a protected host, or as a look-alike
 * of one, while the link goes elsewhere: "https://www.paypal.com@
 * evil.example/" shows paypal and opens evil.example.  Only URLs whose
 * host parse saw an '@' are read again. */
static enum lookalike_kind
userinfo_lure(const struct rules *r, const struct mime_doc *doc)
{
    for (size_t i = 0; i < doc->n_urls; i++) {
        const struct mime_url *u = &doc->urls[i];
        char ui[256];
        size_t ul;
        const char *reg;
        size_t rl;

        if ((u->host_flags & URL_HAS_USERINFO) == 0 || u->is_image ||
            (u->host_flags & URL_IS_MAILTO) != 0) {
            continue;
        }
        ul = url_userinfo_host(u->url, u->url_len, ui, sizeof(ui));
        if (ul == 0 || url_host_is_ip(ui, ul)) {
            continue;
        }
        rl = url_registered_domain(ui, ul, &reg);
        if (rl == 0 || (rl == u->reg_len && memcmp(reg, u->reg, rl) == 0)) {
            continue;
        }
        if (lookalike_is_protected(r->protected, reg, rl)) {
            return LOOKALIKE_BRAND_LABEL;
        }
        {
            enum lookalike_kind k =
                rules_lookalike_host(r, ui, ul, reg, rl);

            if (k != LOOKALIKE_NONE) {
                return k;
            }
        }
    }
    return LOOKALIKE_NONE;
}

static bool
text_has_login_words(const struct mime_doc *doc)
{
    /* Words of a credential request, not of a newsletter's "log in to
     * manage your subscription". */
    static const char *const words[] = {
        "password", "passwort", "passcode", "passwd",      "mot de passe",
        "username", "user name", "user id", "verify your", "confirm your"};
    size_t n = doc->text_len < CAPS_RULES_LOGIN_TEXT_BYTES
                   ? doc->text_len
                   : CAPS_RULES_LOGIN_TEXT_BYTES;

    if (doc->text == NULL) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = doc->text[i];

        if (c >= 'A' && c <= 'Z') {
            c = (char)(c + 32);
        }
        for (size_t w = 0; w < sizeof(words) / sizeof(words[0]); w++) {
            size_t wl;

            /* The first byte rejects nearly every position: measure the
             * word only then (this loop runs per byte of the text). */
            if (c != words[w][0]) {
                continue;
            }
            wl = strlen(words[w]);
            if (i + wl <= n && ieq(doc->text + i, wl, words[w])) {
                return true;
            }
        }
    }
    return false;
}

/* A password input anywhere, or a form that posts to a host outside the
 * sender's registered domain in a message that talks of logging in.  A
 * form that says method=get to a named host is a search box (a
 * newsletter's, beside an article about passwords), not a login form; no
 * site's search lives at an IP address. */
static bool
has_credential_form(const struct mime_doc *doc, const struct rules_senders *s)
{
    const char *from_reg = s->from_reg_len > 0 ? s->from_reg : "";
    size_t frl = s->from_reg_len;

    if ((doc->flags & MIME_HTML_HAS_PASSWORD) != 0) {
        return true;
    }
    if ((doc->flags & MIME_HTML_HAS_FORM) == 0) {
        return false;
    }
    for (size_t i = 0; i < doc->n_urls; i++) {
        const struct mime_url *u = &doc->urls[i];

        if (!u->is_form || u->host_len == 0 ||
            (u->host_flags & URL_IS_MAILTO) != 0 ||
            (u->is_get_form && (u->host_flags & URL_IS_IP) == 0)) {
            continue;
        }
        if (!(u->reg_len == frl && memcmp(u->reg, from_reg, frl) == 0)) {
            return text_has_login_words(doc);
        }
    }
    return false;
}

/* Bulk markers: what features counts (List-Unsubscribe, List-Id,
 * Precedence) and the email service providers' own headers. */
static bool
has_bulk_markers(const struct mime_doc *doc, unsigned fflags)
{
    static const char *const esp[] = {
        "Feedback-ID",    "X-CSA-Complaints", "X-SG-EID",
        "X-SES-Outgoing", "X-MC-User",        "X-Mailgun-Sid",
        "X-SFMC-Stack",   "X-Campaign",       "X-CampaignID"};

    if ((fflags & FEATURES_HAS_BULK_MARKERS) != 0) {
        return true;
    }
    for (size_t i = 0; i < sizeof(esp) / sizeof(esp[0]); i++) {
        if (mime_header_find(doc, esp[i]) != NULL) {
            return true;
        }
    }
    return false;
}

/* The name of "x@evil.example (PayPal)", the older form without angle
 * brackets: the comment, which mail clients show as the sender's name
 * (and features' addr_split reads so); 0 when there is none. */
static size_t
comment_name(const char *v, size_t len, const char **name)
{
    const char *lp = memchr(v, '(', len);
    const char *rp;

    if (lp == NULL) {
        return 0;
    }
    *name = lp + 1;
    rp = memchr(lp, ')', len - (size_t)(lp - v));
    return rp != NULL ? (size_t)(rp - lp - 1) : len - (size_t)(lp - v) - 1;
}

/* The From display name shows a brand the address does not belong to. */
bool
rules_from_parts(const struct mime_doc *doc, const char **name,
                 size_t *name_len, char *host, size_t cap, size_t *host_len)
{
    const struct mime_header *h = mime_header_find(doc, "From");
    size_t off;

    if (h == NULL || h->value_len == 0) {
        return false;
    }
    off = rules_angle_addr_offset(h->value, h->value_len);
    if (off == 0) {
        *name_len = comment_name(h->value, h->value_len, name);
        if (*name_len == 0) {
            return false;
        }
    } else if (off == 1) {
        return false;
    } else {
        *name = h->value;
        *name_len = off - 1;
    }
    if (host != NULL) {
        *host_len = rules_header_domain(doc, "From", host, cap);
    }
    return true;
}

/* rules_brand_display_name with the From host's registered domain (reg,
 * reg_len) given. */
static bool
brand_display_name_reg(const struct rules *r, const char *name,
                       size_t name_len, const char *host, size_t host_len,
                       const char *reg, size_t reg_len)
{
    return r->protected != NULL &&
           lookalike_display_name_reg(r->protected, name, name_len, reg,
                                      reg_len,
                                      rules_is_freemail(host, host_len),
                                      NULL);
}

bool
rules_brand_display_name(const struct rules *r, const char *name,
                         size_t name_len, const char *host, size_t host_len)
{
    return r->protected != NULL &&
           lookalike_display_name(r->protected, name, name_len, host,
                                  host_len, rules_is_freemail(host, host_len),
                                  NULL);
}

static bool
has_brand_display_name(const struct rules *r, const struct rules_senders *s)
{
    return s->has_from_name &&
           brand_display_name_reg(r, s->from_name, s->from_name_len, s->from,
                                  s->from_len, s->from_reg, s->from_reg_len);
}

/* The category-only rules (rules_phish.c). */
static uint32_t
lure_rules(const struct mime_doc *doc, const struct rules_senders *s)
{
    uint32_t fired = 0;

    if (rules_auth_failed(doc)) {
        fired |= 1u << RULES_AUTH_FAILED;
    }
    if (rules_hidden_link(doc)) {
        fired |= 1u << RULES_HIDDEN_LINK;
    }
    if (rules_reply_to_freemail(doc, s)) {
        fired |= 1u << RULES_REPLY_TO_FREEMAIL;
    }
    if (rules_recipient_named(doc, s)) {
        fired |= 1u << RULES_RECIPIENT_NAMED;
    }
    if (rules_mixed_script_text(doc, s)) {
        fired |= 1u << RULES_MIXED_SCRIPT_TEXT;
    }
    return fired;
}

uint32_t
rules_detect(const struct rules *r, const struct mime_doc *doc,
             unsigned fflags, const char **lookalike)
{
    uint32_t fired = attachment_rules(doc, fflags);
    struct lookalike_ctx lc;
    struct rules_senders s;

    memset(&lc, 0, sizeof(lc));
    lc.rules = r;
    lc.kind = LOOKALIKE_NONE;
    if ((fflags & FEATURES_DECEPTIVE_FOREIGN_LINK) != 0) {
        fired |= 1u << RULES_DECEPTIVE_LINK;
    }
    rules_senders_read(doc, &s);
    each_host(doc, &s, lookalike_host, &lc);
    if (lc.kind == LOOKALIKE_NONE) {
        lc.kind = userinfo_lure(r, doc);
    }
    if (lc.kind != LOOKALIKE_NONE) {
        fired |= 1u << RULES_LOOKALIKE_DOMAIN;
    }
    if (lookalike != NULL) {
        *lookalike = lookalike_kind_name(lc.kind);
    }
    if (has_brand_display_name(r, &s)) {
        fired |= 1u << RULES_BRAND_DISPLAY_NAME;
    }
    if (has_credential_form(doc, &s)) {
        fired |= 1u << RULES_CREDENTIAL_FORM;
    }
    if (has_bulk_markers(doc, fflags)) {
        fired |= 1u << RULES_BULK_MARKERS;
    }
    return fired | lure_rules(doc, &s);
}

double
rules_margin(const struct rules *r, uint32_t fired)
{
    double m = 0.0;

    for (unsigned i = 0; i < RULES_COUNT; i++) {
        if ((fired & (1u << i)) != 0) {
            m += r->rule[i].weight;
        }
    }
    return m;
}

/* ---- the verdict ----------------------------------------------------- */

static unsigned
category_rank(unsigned cat)
{
    switch (cat) {
    case RULES_CAT_MALWARE:
        return 4;
    case RULES_CAT_PHISHING:
        return 3;
    case RULES_CAT_SPAM:
        return 2;
    case RULES_CAT_BULK:
        return 1;
    default:
        return 0;
    }
}

void
rules_classify(const struct rules *r, uint32_t fired, bool phish_vote,
               unsigned *score, enum rules_category *cat, const char **sub)
{
    unsigned best = RULES_CAT_SPAM;
    const char *best_sub = "";

    for (unsigned i = 0; i < RULES_COUNT; i++) {
        if ((fired & (1u << i)) != 0 && *score < r->rule[i].floor) {
            *score = r->rule[i].floor;
        }
    }
    if (*score < RULES_LEGIT_BELOW) {
        *cat = RULES_CAT_LEGIT;
        *sub = (fired & (1u << RULES_BULK_MARKERS)) != 0 ? "newsletter" : "";
        return;
    }
    if (phish_vote && *score >= RULES_PHISH_VOTE_FROM) {
        best = RULES_CAT_PHISHING;
    } else if ((fired & (1u << RULES_BULK_MARKERS)) != 0 &&
               *score < RULES_BULK_BELOW &&
               r->rule[RULES_BULK_MARKERS].category == RULES_CAT_BULK) {
        best = RULES_CAT_BULK;
        best_sub = r->rule[RULES_BULK_MARKERS].sub;
    }
    for (unsigned i = 0; i < RULES_COUNT; i++) {
        const struct rules_rule *t = &r->rule[i];

        if ((fired & (1u << i)) == 0 || t->category == RULES_CAT_LEGIT ||
            t->category == RULES_CAT_BULK) {
            continue;
        }
        if (category_rank(t->category) > category_rank(best) ||
            (t->category == best && best_sub[0] == '\0')) {
            best = t->category;
            best_sub = t->sub;
        }
    }
    *cat = (enum rules_category)best;
    *sub = best_sub;
}

void
rules_describe(const struct rules *r, uint32_t fired, bool with_weights,
               char *dst, size_t cap)
{
    size_t used = strlen(dst);
    bool first = true;

    for (unsigned i = 0; i < RULES_COUNT && used + 1 < cap; i++) {
        int w;

        if ((fired & (1u << i)) == 0) {
            continue;
        }
        if (with_weights) {
            w = snprintf(dst + used, cap - used, "%s%s:%+.2f",
                         first ? " rulew=" : ",", rules_name(i),
                         r->rule[i].weight);
        } else {
            /* "%s%s" put together in place: once per message that fires
             * a rule (issue #7); an entry that does not fit whole is left
             * out as below. */
            const char *sep = first ? " rules=" : ",";
            const char *name = rules_name(i);
            size_t sl = strlen(sep);
            size_t nl = strlen(name);

            if (sl + nl >= cap - used) {
                dst[used] = '\0';
                return;
            }
            memcpy(dst + used, sep, sl);
            memcpy(dst + used + sl, name, nl + 1);
            w = (int)(sl + nl);
        }
        if (w < 0 || (size_t)w >= cap - used) {
            dst[used] = '\0'; /* no half entry */
            return;
        }
        used += (size_t)w;
        first = false;
    }
}
