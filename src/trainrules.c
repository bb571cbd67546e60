/*
 * trainrules.c -- the heuristic-rules half of cmtool train (see
 * trainrules.h).
 */
#include "trainrules.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "caps.h"
#include "failpoint.h"
#include "fsutil.h"
#include "lookalike.h"
#include "mime.h"
#include "url.h"

#define TRAINRULES_NEWTON_ROUNDS 30u
#define TRAINRULES_PROTECT_FILE_MAX (1024u * 1024u)

struct trainrules_item {
    uint32_t fired;  /* rules firing without a protected list */
    size_t n_hosts;
    char *hosts;     /* n_hosts NUL-terminated names back to back */
    char *from_name; /* From display name, or NULL */
    char *from_host; /* From domain ("" when none), with from_name */
};

/* Brands phishing imitates most; the corpus's ham is too old or too
 * private to name them all. */
static const char *const seed_brands[] = {
    "paypal.com",        "apple.com",         "icloud.com",
    "microsoft.com",     "office.com",        "outlook.com",
    "live.com",          "hotmail.com",       "microsoftonline.com",
    "sharepoint.com",    "google.com",        "gmail.com",
    "amazon.com",        "ebay.com",          "netflix.com",
    "facebook.com",      "instagram.com",     "whatsapp.com",
    "linkedin.com",      "twitter.com",       "dropbox.com",
    "docusign.com",      "docusign.net",      "adobe.com",
    "yahoo.com",         "aol.com",           "wellsfargo.com",
    "chase.com",         "bankofamerica.com", "citibank.com",
    "americanexpress.com", "capitalone.com",  "usbank.com",
    "barclays.co.uk",    "hsbc.com",          "natwest.com",
    "lloydsbank.com",    "santander.com",     "dhl.com",
    "fedex.com",         "ups.com",           "usps.com",
    "irs.gov",           "coinbase.com",      "binance.com",
    "blockchain.com",    "metamask.io",       "spotify.com",
    "steamcommunity.com", "steampowered.com", "wetransfer.com",
    "verizon.com",       "att.com",           "comcast.net",
    "xfinity.com",       "walmart.com",       "bestbuy.com",
    "aliexpress.com",    "alibaba.com",       "booking.com",
    "airbnb.com",        "zoom.us",           "intuit.com",
    "quickbooks.com",    "github.com",        "mailchimp.com",
    /* Banks, payments and couriers phished outside the US as well. */
    "bradesco.com.br",   "itau.com.br",       "caixa.gov.br",
    "nubank.com.br",     "mercadopago.com",   "mercadolivre.com.br",
    "mercadolibre.com",  "correios.com.br",   "mastercard.com",
    "revolut.com",       "westernunion.com",  "moneygram.com",
    "venmo.com",         "zellepay.com",      "interac.ca",
    "commbank.com.au",   "scotiabank.com",    "postfinance.ch",
    "royalmail.com",     "evri.com",          "facebookmail.com",
    "postnl.nl",         "laposte.fr",        "auspost.com.au",
    "canadapost.ca",     "aramex.com",        "hmrc.gov.uk",
    /* Mailbox, cloud and security vendors (account and renewal lures). */
    "office365.com",     "onedrive.com",      "skype.com",
    "proton.me",         "zimbra.com",        "okta.com",
    "salesforce.com",    "godaddy.com",       "namecheap.com",
    "cpanel.net",        "mcafee.com",        "avast.com",
    "kaspersky.com",
    /* Crypto exchanges and wallets (seed-phrase and airdrop lures). */
    "ledger.com",        "trezor.io",         "trustwallet.com",
    "kraken.com",        "kucoin.com",        "bybit.com",
    "bitfinex.com",      "bitpanda.com",      "opensea.io",
    "uniswap.org",       "pancakeswap.finance", "ethereum.org",
    "tether.to",         "ripple.com",
    /* Shops, streaming, games, telecoms and travel. */
    "disneyplus.com",    "hbomax.com",        "primevideo.com",
    "shopee.com",        "temu.com",          "shein.com",
    "rakuten.com",       "ikea.com",          "costco.com",
    "homedepot.com",     "etsy.com",          "tiktok.com",
    "snapchat.com",      "roblox.com",        "epicgames.com",
    "playstation.com",   "xbox.com",          "nintendo.com",
    "vodafone.com",      "telstra.com.au",    "docomo.ne.jp",
    "expedia.com",       "emirates.com",      "ryanair.com"};

static void
add_host(struct trainrules_item *it, size_t *cap, const char *host,
         size_t len, bool *failed)
{
    size_t used = 0;
    const char *p = it->hosts;

    for (size_t i = 0; i < it->n_hosts; i++) {
        size_t l = strlen(p);

        if (l == len && memcmp(p, host, len) == 0) {
            return;
        }
        p += l + 1;
    }
    used = (size_t)(p - it->hosts);
    if (used + len + 1 > *cap) {
        size_t ncap = (*cap + len + 1) * 2;
        char *n = realloc(it->hosts, ncap);

        if (n == NULL) {
            *failed = true;
            return;
        }
        it->hosts = n;
        *cap = ncap;
    }
    memcpy(it->hosts + used, host, len);
    it->hosts[used + len] = '\0';
    it->n_hosts++;
}

struct collect_ctx {
    struct trainrules_item *it;
    size_t cap;
    bool failed;
};

static void
collect_host(void *ctx, const char *host, size_t len, const char *reg,
             size_t reg_len)
{
    struct collect_ctx *cc = ctx;

    (void)reg;
    (void)reg_len;
    if (!cc->failed) {
        add_host(cc->it, &cc->cap, host, len, &cc->failed);
    }
}

/* Test hook: the nth item allocation from now on fails (0: none). */
static struct failpoint item_failpoint;

void
trainrules_test_fail_nth_alloc(unsigned nth)
{
    failpoint_arm(&item_failpoint, nth);
}

struct trainrules_item *
trainrules_collect(const struct mime_doc *doc, unsigned fflags)
{
    struct trainrules_item *it =
        failpoint_hit(&item_failpoint) ? NULL : calloc(1, sizeof(*it));
    struct collect_ctx cc;

    if (it == NULL) {
        return NULL;
    }
    it->fired = rules_detect(rules_builtin(), doc, fflags, NULL) &
                ~(1u << RULES_LOOKALIKE_DOMAIN);
    cc.it = it;
    cc.cap = 0;
    cc.failed = false;
    rules_for_each_host(doc, collect_host, &cc);
    {
        const char *name = NULL;
        size_t nl = 0;
        char host[256];
        size_t hl = 0;

        if (rules_from_parts(doc, &name, &nl, host, sizeof(host), &hl)) {
            it->from_name = strndup(name, nl);
            it->from_host = strndup(host, hl);
            cc.failed |= it->from_name == NULL || it->from_host == NULL;
        }
    }
    if (cc.failed) {
        trainrules_item_free(it);
        return NULL;
    }
    return it;
}

void
trainrules_item_free(struct trainrules_item *it)
{
    if (it != NULL) {
        free(it->hosts);
        free(it->from_name);
        free(it->from_host);
        free(it);
    }
}

/* The rule's own test (rules_lookalike_host), for a host kept by name. */
static bool
is_lookalike_host(const struct rules *r, const char *host, size_t len)
{
    const char *reg = host;
    size_t rl = 0;

    if (len > 0 && len <= LOOKALIKE_DOMAIN_MAX && !url_host_is_ip(host, len)) {
        rl = url_registered_domain(host, len, &reg);
    }
    return rules_lookalike_host(r, host, len, reg, rl) != LOOKALIKE_NONE;
}

uint32_t
trainrules_item_fired(const struct rules *r, const struct trainrules_item *it)
{
    uint32_t fired;
    const char *p;

    if (it == NULL) {
        return 0;
    }
    fired = it->fired;
    if (it->from_name != NULL &&
        rules_brand_display_name(r, it->from_name, strlen(it->from_name),
                                 it->from_host, strlen(it->from_host))) {
        fired |= 1u << RULES_BRAND_DISPLAY_NAME;
    }
    p = it->hosts;
    for (size_t i = 0; i < it->n_hosts; i++) {
        size_t l = strlen(p);

        if (is_lookalike_host(r, p, l)) {
            fired |= 1u << RULES_LOOKALIKE_DOMAIN;
            break;
        }
        p += l + 1;
    }
    return fired;
}

/* ---- the protected list ---------------------------------------------- */

struct dom_count {
    char *name;
    size_t ham;
    size_t junk;
};

static int
cmp_name(const void *a, const void *b)
{
    return strcmp(((const struct dom_count *)a)->name,
                  ((const struct dom_count *)b)->name);
}

static int
cmp_ham_desc(const void *a, const void *b)
{
    const struct dom_count *x = a;
    const struct dom_count *y = b;

    if (x->ham != y->ham) {
        return x->ham < y->ham ? 1 : -1;
    }
    return strcmp(x->name, y->name);
}

/* Registered domains of one item's hosts, each once, appended to *v. */
static enum cm_err
item_domains(const struct trainrules_item *it, bool is_junk,
             struct dom_count **v, size_t *n, size_t *cap)
{
    const char *p = it->hosts;
    size_t first = *n;

    for (size_t i = 0; i < it->n_hosts; i++) {
        size_t l = strlen(p);
        const char *reg = NULL;
        size_t rl = url_registered_domain(p, l, &reg);
        bool seen = false;

        p += l + 1;
        if (rl == 0 || memchr(reg, '.', rl) == NULL) {
            continue;
        }
        for (size_t k = first; k < *n && !seen; k++) {
            seen = strlen((*v)[k].name) == rl &&
                   memcmp((*v)[k].name, reg, rl) == 0;
        }
        if (seen) {
            continue;
        }
        if (*n == *cap) {
            size_t nc = *cap > 0 ? *cap * 2 : 4096;
            struct dom_count *nv = realloc(*v, nc * sizeof(*nv));

            if (nv == NULL) {
                return CM_ENOMEM;
            }
            *v = nv;
            *cap = nc;
        }
        (*v)[*n].name = strndup(reg, rl);
        if ((*v)[*n].name == NULL) {
            return CM_ENOMEM;
        }
        (*v)[*n].ham = is_junk ? 0 : 1;
        (*v)[*n].junk = is_junk ? 1 : 0;
        (*n)++;
    }
    return CM_OK;
}

/* Protected domains frequent in training ham, most frequent first, into
 * out (strings owned by the caller). */
static enum cm_err
frequent_ham_domains(const struct trainrules_input *in, size_t n,
                     char ***out, size_t *n_out)
{
    struct dom_count *v = NULL;
    size_t nv = 0;
    size_t cap = 0;
    size_t k = 0;
    double n_ham = 0;
    double n_junk = 0;
    enum cm_err rc = CM_OK;

    *out = NULL;
    *n_out = 0;
    for (size_t i = 0; i < n && rc == CM_OK; i++) {
        n_ham += !in[i].is_junk;
        n_junk += in[i].is_junk;
        if (in[i].it != NULL) {
            rc = item_domains(in[i].it, in[i].is_junk, &v, &nv, &cap);
        }
    }
    if (rc != CM_OK) {
        goto out;
    }
    qsort(v, nv, sizeof(*v), cmp_name);
    for (size_t i = 0; i < nv; i++) {
        if (k > 0 && strcmp(v[k - 1].name, v[i].name) == 0) {
            v[k - 1].ham += v[i].ham;
            v[k - 1].junk += v[i].junk;
            free(v[i].name);
            continue;
        }
        v[k++] = v[i];
    }
    nv = k;
    qsort(v, nv, sizeof(*v), cmp_ham_desc);
    *out = calloc(TRAINRULES_PROTECTED_MAX, sizeof(char *));
    if (*out == NULL) {
        rc = CM_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < nv && *n_out < TRAINRULES_PROTECTED_MAX; i++) {
        /* A ham sender's domain, not one spam uses as much. */
        if (v[i].ham >= TRAINRULES_PROTECT_MIN_HAM &&
            (double)v[i].ham / (n_ham > 0 ? n_ham : 1) >=
                (double)v[i].junk / (n_junk > 0 ? n_junk : 1)) {
            (*out)[(*n_out)++] = v[i].name;
            v[i].name = NULL;
        }
    }

out:
    for (size_t i = 0; i < nv; i++) {
        free(v[i].name);
    }
    free(v);
    return rc;
}

/* Why the lower-cased entry (s, len) is no domain the look-alike list
 * can hold, or NULL.  lookalike_db_build skips what fails this test, so
 * an entry let through here would be left out without a word. */
static const char *
protect_entry_problem(const char *s, size_t len)
{
    if (len < 3 || len > LOOKALIKE_DOMAIN_MAX) {
        return "is not 3 to 253 characters long";
    }
    for (size_t i = 0; i < len; i++) {
        char c = s[i];

        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-')) {
            return "holds a character other than a-z 0-9 . -";
        }
        if (c == '.' && i + 1 < len && s[i + 1] == '.') {
            return "has an empty label (\"..\")";
        }
    }
    if (s[0] == '.' || s[len - 1] == '.') {
        return "starts or ends with a dot";
    }
    if (memchr(s, '.', len) == NULL) {
        return "has no dot";
    }
    return NULL;
}

/* One line of the --protect file, on stderr: path, line number, a bounded
 * sample of the entry (control bytes as '?'), what is wrong with it. */
static void
protect_say(const char *path, size_t line, const char *s, size_t len,
            const char *what)
{
    char shown[65];
    size_t k = 0;

    for (size_t i = 0; i < len && k < sizeof(shown) - 1; i++) {
        unsigned char c = (unsigned char)s[i];

        shown[k++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    shown[k] = '\0';
    fprintf(stderr, "cmtool train: --protect %s line %zu: \"%s%s\" %s\n",
            path, line, shown, len > k ? "..." : "", what);
}

/*
 * The admin's --protect FILE: one domain a line, '#' comments, upper case
 * folded.  Every line that is no domain is named and then fails the
 * command (CM_EPARSE); entries past cap (with what *list already holds)
 * are each named in a warning and left out (list NULL: only check, n and
 * cap unused); a file over
 * TRAINRULES_PROTECT_FILE_MAX fails (CM_ELIMIT) instead of losing its
 * tail, or keeping half a line as a domain.
 */
static enum cm_err
read_protect_file(const char *path, char ***list, size_t *n, size_t cap)
{
    struct buf b;
    bool is_truncated = false;
    const char *why = NULL;
    enum cm_err rc;
    size_t i = 0;
    size_t line = 0;
    size_t n_bad = 0;

    buf_init(&b, TRAINRULES_PROTECT_FILE_MAX);
    rc = fsutil_read_file(path, TRAINRULES_PROTECT_FILE_MAX, &b,
                          &is_truncated, &why);
    if (rc != CM_OK) {
        fprintf(stderr, "cmtool train: --protect %s: %s\n", path,
                why != NULL ? why : "cannot read");
        buf_clear(&b);
        return CM_EIO;
    }
    if (is_truncated) {
        fprintf(stderr, "cmtool train: --protect %s: larger than %u bytes\n",
                path, TRAINRULES_PROTECT_FILE_MAX);
        buf_clear(&b);
        return CM_ELIMIT;
    }
    while (i < b.len && rc == CM_OK) {
        size_t s = i;
        size_t e;
        char *d;
        const char *problem;

        line++;
        while (i < b.len && b.data[i] != '\n') {
            i++;
        }
        e = i++;
        while (s < e && (b.data[s] == ' ' || b.data[s] == '\t')) {
            s++;
        }
        while (e > s && (b.data[e - 1] == ' ' || b.data[e - 1] == '\t' ||
                         b.data[e - 1] == '\r')) {
            e--;
        }
        if (e == s || b.data[s] == '#') {
            continue;
        }
        d = strndup((const char *)b.data + s, e - s);
        if (d == NULL) {
            rc = CM_ENOMEM;
            break;
        }
        for (char *q = d; *q != '\0'; q++) {
            *q = (char)(*q >= 'A' && *q <= 'Z' ? *q + 32 : *q);
        }
        /* strlen, not e - s: a NUL byte in the line ends the copy, and
         * is then no domain character. */
        problem = strlen(d) == e - s ? protect_entry_problem(d, e - s)
                                     : "holds a NUL byte";
        if (problem != NULL) {
            protect_say(path, line, (const char *)b.data + s, e - s,
                        problem);
            n_bad++;
            free(d);
        } else if (list == NULL) {
            free(d); /* only checking */
        } else if (*n >= cap) {
            protect_say(path, line, d, e - s,
                        "left out: the protected list is full");
            free(d);
        } else {
            (*list)[(*n)++] = d;
        }
    }
    buf_clear(&b);
    if (rc == CM_OK && n_bad > 0) {
        fprintf(stderr, "cmtool train: --protect %s: %zu line%s not a "
                "domain (lower-case a-z 0-9 . - with a dot)\n", path,
                n_bad, n_bad == 1 ? " is" : "s are");
        rc = CM_EPARSE;
    }
    return rc;
}

enum cm_err
trainrules_protect_check(const char *path)
{
    return read_protect_file(path, NULL, NULL, 0);
}

/* ---- weights --------------------------------------------------------- */

static double
sigmoid(double z)
{
    return z >= 0 ? 1.0 / (1.0 + exp(-z)) : exp(z) / (1.0 + exp(z));
}

/* Weighted logistic fit of the rule weights with the margins as offsets
 * (see trainrules.h). */
static void
fit_weights(const struct trainrules_input *in, const uint32_t *fired,
            size_t n, double *w)
{
    for (unsigned r = 0; r < RULES_COUNT; r++) {
        w[r] = 0.0;
    }
    for (unsigned round = 0; round < TRAINRULES_NEWTON_ROUNDS; round++) {
        for (unsigned r = 0; r < RULES_COUNT; r++) {
            double g = TRAINRULES_L2 * w[r];
            double h = TRAINRULES_L2;

            /* They name the kind of junk: what they fire on in training
             * mail (of whatever era it is) is no evidence for the score. */
            if (rules_is_category_only((enum rules_id)r)) {
                continue;
            }
            for (size_t i = 0; i < n; i++) {
                double z = in[i].margin;
                double p;

                if ((fired[i] & (1u << r)) == 0) {
                    continue;
                }
                for (unsigned k = 0; k < RULES_COUNT; k++) {
                    if ((fired[i] & (1u << k)) != 0) {
                        z += w[k];
                    }
                }
                p = sigmoid(z);
                g += in[i].weight * (p - (in[i].is_junk ? 1.0 : 0.0));
                h += in[i].weight * p * (1.0 - p);
            }
            w[r] -= g / h;
            if (w[r] > TRAINRULES_CLIP) {
                w[r] = TRAINRULES_CLIP;
            } else if (w[r] < -TRAINRULES_CLIP) {
                w[r] = -TRAINRULES_CLIP;
            }
            if (r == RULES_BULK_MARKERS && w[r] > 0.0) {
                w[r] = 0.0;
            }
        }
    }
}

/* Phishing rules that fire as often in spam as in phish say "junk", not
 * "phishing": they name spam then, when the training mail shows enough
 * of them to tell (trainrules.h). */
static void
fit_categories(const struct trainrules_input *in, const uint32_t *fired,
               size_t n, struct rules_rule *table)
{
    for (unsigned r = 0; r < RULES_COUNT; r++) {
        double phish = 0;
        double spam = 0;
        double n_phish = 0;
        double n_spam = 0;

        if (table[r].category != RULES_CAT_PHISHING) {
            continue;
        }
        for (size_t i = 0; i < n; i++) {
            bool f = (fired[i] & (1u << r)) != 0;

            if (in[i].is_phish) {
                n_phish++;
                phish += f;
            } else if (in[i].is_junk) {
                n_spam++;
                spam += f;
            }
        }
        if (n_phish > 0 && n_spam > 0 && phish / n_phish < spam / n_spam &&
            n_phish * spam / n_spam >= TRAINRULES_FLIP_MIN_EXPECTED) {
            table[r].category = RULES_CAT_SPAM;
        }
    }
}

static void
report(const struct trainrules_input *in, const uint32_t *fired, size_t n,
       const double *w, const struct rules_rule *table, size_t n_protected)
{
    fprintf(stderr, "rules: %zu protected domains\n", n_protected);
    for (unsigned r = 0; r < RULES_COUNT; r++) {
        size_t ham = 0;
        size_t junk = 0;
        size_t n_ham = 0;
        size_t n_junk = 0;

        for (size_t i = 0; i < n; i++) {
            n_ham += !in[i].is_junk;
            n_junk += in[i].is_junk;
            if ((fired[i] & (1u << r)) != 0) {
                ham += !in[i].is_junk;
                junk += in[i].is_junk;
            }
        }
        fprintf(stderr,
                "  rule %-22s ham %5zu (%.2f%%)  junk %5zu (%.2f%%)  "
                "weight %+.3f  %s\n",
                rules_name(r), ham,
                n_ham > 0 ? 100.0 * (double)ham / (double)n_ham : 0.0, junk,
                n_junk > 0 ? 100.0 * (double)junk / (double)n_junk : 0.0,
                w[r],
                table[r].category == RULES_CAT_MALWARE    ? "malware"
                : table[r].category == RULES_CAT_PHISHING ? "phishing"
                : table[r].category == RULES_CAT_SPAM     ? "spam"
                : table[r].category == RULES_CAT_BULK     ? "bulk"
                                                          : "legit");
    }
}

enum cm_err
trainrules_build(const struct trainrules_input *in, size_t n,
                 const char *protect_file, struct buf *section,
                 struct rules **out)
{
    char **prot = NULL;
    size_t n_prot = 0;
    char **all = NULL;
    bool *brand = NULL;
    size_t n_all = 0;
    size_t n_seed = sizeof(seed_brands) / sizeof(seed_brands[0]);
    uint32_t *fired = calloc(n > 0 ? n : 1, sizeof(*fired));
    struct rules_rule table[RULES_COUNT];
    struct rules *probe = NULL;
    struct buf tmp;
    double w[RULES_COUNT];
    enum cm_err rc;

    buf_init(&tmp, CAPS_CARTRIDGE_MAX_BYTES);
    *out = NULL;
    if (fired == NULL) {
        return CM_ENOMEM;
    }
    rc = frequent_ham_domains(in, n, &prot, &n_prot);
    all = calloc(CAPS_RULES_PROTECTED_MAX, sizeof(char *));
    brand = calloc(CAPS_RULES_PROTECTED_MAX, sizeof(bool));
    if (rc != CM_OK || all == NULL || brand == NULL) {
        rc = CM_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n_seed && n_all < CAPS_RULES_PROTECTED_MAX; i++) {
        brand[n_all] = true;
        all[n_all] = strdup(seed_brands[i]);
        if (all[n_all++] == NULL) {
            rc = CM_ENOMEM;
            goto out;
        }
    }
    if (protect_file != NULL) {
        size_t from = n_all;

        rc = read_protect_file(protect_file, &all, &n_all,
                               CAPS_RULES_PROTECTED_MAX);
        if (rc != CM_OK) {
            goto out;
        }
        for (size_t i = from; i < n_all; i++) {
            brand[i] = true; /* the admin's own names */
        }
    }
    for (size_t i = 0; i < n_prot && n_all < CAPS_RULES_PROTECTED_MAX; i++) {
        all[n_all++] = prot[i];
        prot[i] = NULL;
    }
    /* The protected list alone first: which messages fire under it. */
    for (unsigned r = 0; r < RULES_COUNT; r++) {
        rules_builtin_rule((enum rules_id)r, &table[r]);
    }
    rc = rules_format(table, (const char *const *)all, brand, n_all, &tmp);
    if (rc == CM_OK) {
        rc = rules_parse(tmp.data, tmp.len, &probe, NULL);
    }
    if (rc != CM_OK) {
        fprintf(stderr, "cmtool train: a protected domain is malformed "
                        "(lower-case a-z 0-9 . - with a dot, please)\n");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        fired[i] = trainrules_item_fired(probe, in[i].it);
    }
    fit_weights(in, fired, n, w);
    fit_categories(in, fired, n, table);
    for (unsigned r = 0; r < RULES_COUNT; r++) {
        table[r].weight = w[r];
    }
    report(in, fired, n, w, table,
           lookalike_db_count(rules_protected(probe)));
    rc = rules_format(table, (const char *const *)all, brand, n_all,
                      section);
    if (rc == CM_OK) {
        rc = rules_parse(section->data, section->len, out, NULL);
    }

out:
    rules_free(probe);
    buf_clear(&tmp);
    for (size_t i = 0; prot != NULL && i < n_prot; i++) {
        free(prot[i]);
    }
    free(prot);
    for (size_t i = 0; all != NULL && i < n_all; i++) {
        free(all[i]);
    }
    free(all);
    free(brand);
    free(fired);
    return rc;
}
