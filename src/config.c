/*
 * config.c -- CGPCloudmark.cfg and cartridge.cfg → struct config
 * (SPEC §8, cgp-protocol.md §4 and §5.2).
 *
 * DESIGN
 * Both files are described by tables with one row per key: its name, its
 * kind (which says how the text is checked and converted), its range, its
 * default and where it is stored in struct config.  Defaults are applied by
 * the same setters that read the files, so a default can never be a value
 * the file would refuse; tests load the sample files in conf/ and require
 * that they yield exactly the defaults.
 *
 *   CGPCloudmark.cfg  CGP dictionary syntax, parsed by cgpdict.  Keys are
 *                     matched ignoring case.  A syntax error makes the whole
 *                     file unusable: it is reported with its line and every
 *                     key keeps its default.
 *   cartridge.cfg     "key = value" lines read with libinih.  Our reader
 *                     hands inih one line at a time, so every value is
 *                     reported with its own line number; it also trims
 *                     leading blanks (inih would otherwise take an indented
 *                     line as the continuation of the previous value),
 *                     refuses over-long lines and lines without '=' itself,
 *                     and turns them into blank lines for inih; the value
 *                     is taken from the line as read (inih would cut it
 *                     at " ;").  Keys are matched ignoring case and runs
 *                     of blanks.
 *
 * Relative paths in CGPCloudmark.cfg are relative to its own directory
 * (base_dir), except SubmittedDir, which belongs to CGP and is relative to
 * the current directory (CGP's base directory); relative paths in cartridge.cfg to the directory of
 * cartridge.cfg.  A missing file means defaults; it is reported as a
 * warning only when its name was given explicitly.
 *
 * Every problem goes to the caller's callback with file, line and key, and
 * the key keeps its default.  Problem texts never quote the value, so the
 * proxy password cannot reach a log.
 *
 * State: none shared.  Called by main (and CHECK-CONFIG, RATE, tests)
 * before threads start; the struct config it fills is then read-only.
 * Limits: CAPS_CONFIG_FILE_MAX_BYTES per file, the field sizes in config.h.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "caps.h"
#include "cgpdict.h"
#include "charset.h"
#include "cursor.h"
#include "fsutil.h"
#include "log.h"

#define CONFIG_INTERVAL_AUTO_S 300u
#define CONFIG_WHY_MAX 200

/* How a value is checked and where it goes. */
enum config_kind {
    CONFIG_KIND_HEADER_NAME, /* header field name; "" disables */
    CONFIG_KIND_HEADER_LINE, /* "Name: value"; "" disables */
    CONFIG_KIND_TEXT,        /* printable text */
    CONFIG_KIND_ADDR,        /* mail address or local part */
    CONFIG_KIND_HOST,        /* host name or address literal */
    CONFIG_KIND_DOMAIN,      /* mail domain name; "" allowed */
    CONFIG_KIND_URL,         /* http:// or https:// URL */
    CONFIG_KIND_HOSTPORT,    /* host:port */
    CONFIG_KIND_USERPASS,    /* user:password (secret) */
    CONFIG_KIND_IPADDR,      /* IPv4 or IPv6 literal */
    CONFIG_KIND_PATH,        /* file or directory, resolved */
    CONFIG_KIND_CGP_PATH,    /* in CGP's base directory: the current one */
    CONFIG_KIND_UINT,        /* unsigned decimal */
    CONFIG_KIND_BOOL,        /* yes/no */
    CONFIG_KIND_BYTES,       /* size_t; K and M suffixes */
    CONFIG_KIND_MS,          /* milliseconds; "ms" and "s" suffixes */
    CONFIG_KIND_SECONDS,     /* seconds; "s", "m", "h" suffixes */
    CONFIG_KIND_INTERVAL,    /* "auto", hours, or s/m/h suffixed */
    CONFIG_KIND_FAIL_ANSWER, /* OK | FAILURE */
    CONFIG_KIND_LOG_LEVEL,   /* 0..3 or error/warn/info/debug */
    CONFIG_KIND_TIME,        /* HH:MM */
    CONFIG_KIND_BARS         /* array of upper bounds */
};

struct config_key {
    const char *name;
    enum config_kind kind;
    uint64_t min;        /* numeric kinds */
    uint64_t max;
    uint64_t def_num;    /* numeric kinds and BOOL */
    const char *def_str; /* text kinds and BARS */
    size_t offset;       /* offsetof(struct config, field) */
    size_t size;         /* sizeof the field (text kinds) */
};

#define CONFIG_FIELD(f)                                                     \
    offsetof(struct config, f), sizeof(((struct config *)0)->f)

/* CGPCloudmark.cfg.  Keep conf/CGPCloudmark.cfg in step with this table. */
static const struct config_key config_main_keys[] = {
    {"HeaderJunkScore", CONFIG_KIND_HEADER_NAME, 0, 0, 0, "X-Junk-Score",
     CONFIG_FIELD(junk_header)},
    {"HeaderScore", CONFIG_KIND_HEADER_NAME, 0, 0, 0, "X-Cloudmark-Score",
     CONFIG_FIELD(score_header)},
    {"AlertHeader", CONFIG_KIND_HEADER_LINE, 0, 0, 0,
     "X-Alert: possible spam!", CONFIG_FIELD(alert_header)},
    {"ColorHeader", CONFIG_KIND_HEADER_LINE, 0, 0, 0, "X-Color: red",
     CONFIG_FIELD(color_header)},
    {"AlertThreshold", CONFIG_KIND_UINT, 0, 101, 91, NULL,
     CONFIG_FIELD(alert_threshold)},
    {"AnalysisHeader", CONFIG_KIND_BOOL, 0, 1, 0, NULL,
     CONFIG_FIELD(add_analysis_header)},
    {"MinimumScore", CONFIG_KIND_UINT, 0, 100, 0, NULL,
     CONFIG_FIELD(minimum_score)},
    {"BarLevels", CONFIG_KIND_BARS, 0, 100, 0, "0 39 80 90 95 99 100",
     CONFIG_FIELD(bars)},
    {"Max_Body_Length", CONFIG_KIND_BYTES, 1024, CAPS_BODY_CEILING_BYTES,
     CAPS_BODY_DEFAULT_BYTES, NULL, CONFIG_FIELD(max_body_bytes)},
    {"Threads", CONFIG_KIND_UINT, 0, CAPS_THREADS_MAX, 0, NULL,
     CONFIG_FIELD(threads)},
    {"MessageTimeout", CONFIG_KIND_MS, 10, 600000, 10000, NULL,
     CONFIG_FIELD(time_budget_ms)},
    {"FailOpenAnswer", CONFIG_KIND_FAIL_ANSWER, 0, 0, CONFIG_FAIL_OK, NULL,
     CONFIG_FIELD(fail_answer)},
    {"InterfaceVersion", CONFIG_KIND_UINT, 2, 4, 3, NULL,
     CONFIG_FIELD(intf_max)},
    {"LogLevel", CONFIG_KIND_LOG_LEVEL, 0, 3, LOG_LEVEL_INFO, NULL,
     CONFIG_FIELD(log_level)},
    {"ReportTime", CONFIG_KIND_TIME, 0, 0, 0, "00:00",
     CONFIG_FIELD(report_time)},
    {"ReportTo", CONFIG_KIND_ADDR, 0, 0, 0, "", CONFIG_FIELD(report_to)},
    {"MainDomain", CONFIG_KIND_DOMAIN, 0, 0, 0, "",
     CONFIG_FIELD(main_domain)},
    {"SubmittedDir", CONFIG_KIND_CGP_PATH, 0, 0, 0, "Submitted",
     CONFIG_FIELD(submitted_dir)},
    {"StateFile", CONFIG_KIND_PATH, 0, 0, 0, "CGPCloudmark.state",
     CONFIG_FIELD(state_path)},
    {"SiteLayerFile", CONFIG_KIND_PATH, 0, 0, 0, "CGPCloudmark.learned",
     CONFIG_FIELD(sitelayer_path)},
    {"CartridgeConfig", CONFIG_KIND_PATH, 0, 0, 0, "cartridge.cfg",
     CONFIG_FIELD(cartridge_cfg_path)},
    {"WhitelistConfig", CONFIG_KIND_PATH, 0, 0, 0, "whitelist.cfg",
     CONFIG_FIELD(whitelist_cfg_path)},
};

/* cartridge.cfg.  Keep conf/cartridge.cfg in step with this table. */
static const struct config_key config_cart_keys[] = {
    {"micro-update url", CONFIG_KIND_URL, 0, 0, 0, "",
     CONFIG_FIELD(cart.mu_url)},
    {"micro-update hostname", CONFIG_KIND_HOST, 0, 0, 0, "",
     CONFIG_FIELD(cart.mu_hostname)},
    {"micro-update port", CONFIG_KIND_UINT, 1, 65535, 80, NULL,
     CONFIG_FIELD(cart.mu_port)},
    {"micro-update interval", CONFIG_KIND_INTERVAL, 10, 7u * 86400u,
     CONFIG_INTERVAL_AUTO_S, "auto", CONFIG_FIELD(cart.mu_interval_s)},
    {"micro-update timeout", CONFIG_KIND_SECONDS, 1, 3600, 30, NULL,
     CONFIG_FIELD(cart.mu_timeout_s)},
    {"micro-update cache path", CONFIG_KIND_PATH, 0, 0, 0, "micro_updates",
     CONFIG_FIELD(cart.cache_path)},
    {"download micro-updates before init", CONFIG_KIND_BOOL, 0, 1, 0, NULL,
     CONFIG_FIELD(cart.download_before_init)},
    {"http proxy", CONFIG_KIND_HOSTPORT, 0, 0, 0, "",
     CONFIG_FIELD(cart.http_proxy)},
    {"http proxy basic auth", CONFIG_KIND_USERPASS, 0, 0, 0, "",
     CONFIG_FIELD(cart.http_proxy_auth)},
    {"local address for m-u conns", CONFIG_KIND_IPADDR, 0, 0, 0, "",
     CONFIG_FIELD(cart.local_address)},
    {"customer id", CONFIG_KIND_TEXT, 0, 0, 0, "",
     CONFIG_FIELD(cart.customer_id)},
    {"report statistics", CONFIG_KIND_BOOL, 0, 1, 1, NULL,
     CONFIG_FIELD(cart.report_statistics)},
    {"anonymize statistics", CONFIG_KIND_BOOL, 0, 1, 0, NULL,
     CONFIG_FIELD(cart.anonymize_statistics)},
    {"favor analysis over speed", CONFIG_KIND_BOOL, 0, 1, 0, NULL,
     CONFIG_FIELD(cart.favor_analysis)},
    {"update public key", CONFIG_KIND_PATH, 0, 0, 0, "update.pub",
     CONFIG_FIELD(cart.public_key_path)},
    {"update content key", CONFIG_KIND_PATH, 0, 0, 0, "content.key",
     CONFIG_FIELD(cart.content_key_path)},
};

/* Keys of the original Cloudmark cartridge.cfg that this engine has no use
 * for: accepted silently so an old file loads without noise. */
static const char *const config_cart_ignored[] = {
    "micro-update signature type",     /* one signature format here */
    "image processing depth",          /* no image analysis */
    "http proxy ntlm auth",            /* basic auth only */
    "use ip information",              /* the peer IP is always used */
    "use envelope for ip information", /* the envelope is always used */
    "consider empty messages spam",    /* empty messages score as parsed */
};

#define CONFIG_N_MAIN (sizeof(config_main_keys) / sizeof(config_main_keys[0]))
#define CONFIG_N_CART (sizeof(config_cart_keys) / sizeof(config_cart_keys[0]))

/* One load: where problems go and what was seen. */
struct config_loader {
    struct config *cfg;
    config_problem_fn report;
    void *ctx;
    size_t n_errors;
    const char *file; /* for problem reports */
    const char *base; /* directory for relative paths */
    bool seen_main[CONFIG_N_MAIN];
    unsigned line_main[CONFIG_N_MAIN]; /* line of each seen key */
    bool seen_cart[CONFIG_N_CART];
    bool is_out_of_memory;
};

static void problem(struct config_loader *ld, unsigned line, const char *key,
                    bool is_warning, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void
problem(struct config_loader *ld, unsigned line, const char *key,
        bool is_warning, const char *fmt, ...)
{
    char text[CONFIG_WHY_MAX + 64];
    struct config_problem p;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    if (!is_warning) {
        ld->n_errors++;
    }
    if (ld->report == NULL) {
        return;
    }
    p.file = ld->file;
    p.line = line;
    p.key = key == NULL ? "" : key;
    p.problem = text;
    p.is_warning = is_warning;
    ld->report(ld->ctx, &p);
}

/*
 * An unknown key as printable text: checkconfig prints problems to stdout
 * and the other commands log them, so the key must be safe in both without
 * an escape that the log would escape again.  Bytes outside printable
 * ASCII read '?'; the line number finds the key itself.
 */
static void
key_sample(char *dst, size_t cap, const char *key, size_t len)
{
    size_t n = log_sample(dst, cap, (const uint8_t *)key, len);

    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)dst[i];

        if (ch < 0x20 || ch > 0x7e) {
            dst[i] = '?';
        }
    }
}

/* ---- text checks ---------------------------------------------------- */

static bool
ascii_ieq(const char *a, size_t a_len, const char *b)
{
    size_t b_len = strlen(b);

    if (a_len != b_len) {
        return false;
    }
    for (size_t i = 0; i < a_len; i++) {
        unsigned char x = (unsigned char)a[i];
        unsigned char y = (unsigned char)b[i];

        if (x >= 'A' && x <= 'Z') {
            x = (unsigned char)(x - 'A' + 'a');
        }
        if (y >= 'A' && y <= 'Z') {
            y = (unsigned char)(y - 'A' + 'a');
        }
        if (x != y) {
            return false;
        }
    }
    return true;
}

/* No control bytes (TAB included) and no DEL; UTF-8 is allowed. */
static bool
is_printable(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];

        if (ch < 0x20 || ch == 0x7f) {
            return false;
        }
    }
    return true;
}

/* RFC 5322 field name: printable ASCII except ':' and space. */
static bool
is_field_name(const char *s, size_t len)
{
    if (len == 0) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];

        if (ch <= 0x20 || ch >= 0x7f || ch == ':') {
            return false;
        }
    }
    return true;
}

static bool
is_host_text(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];

        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
              (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' ||
              ch == '_' || ch == ':' || ch == '[' || ch == ']')) {
            return false;
        }
    }
    return true;
}

static bool
has_blank_or_control(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];

        if (ch <= 0x20 || ch == 0x7f) {
            return true;
        }
    }
    return false;
}

/* A domain for an address header: letters, digits, '.' and '-', not
 * starting with '.' or '-'.  Kept to what report.c puts in To: and
 * Envelope-To:, so a value that passes here can be addressed. */
static bool
is_mail_domain(const char *s, size_t len)
{
    if (len == 0 || s[0] == '.' || s[0] == '-') {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];

        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
              (ch >= '0' && ch <= '9') || ch == '.' || ch == '-')) {
            return false;
        }
    }
    return true;
}

/* A local part of RFC 5322 atext and dots, optionally "@domain": the
 * plain addresses the daily report can send to (report_recipient). */
static bool
is_plain_address(const char *s, size_t len)
{
    const char *at = memchr(s, '@', len);
    size_t local_len = at == NULL ? len : (size_t)(at - s);

    if (local_len == 0) {
        return false;
    }
    for (size_t i = 0; i < local_len; i++) {
        unsigned char ch = (unsigned char)s[i];

        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
              (ch >= '0' && ch <= '9') ||
              (ch != '\0' && strchr(".-_+=!#$%&'*/?^`{|}~", ch) != NULL))) {
            return false;
        }
    }
    return at == NULL || is_mail_domain(at + 1, len - local_len - 1);
}

/* Whether (s, len) is an IPv6 literal without brackets. */
static bool
is_ipv6_text(const char *s, size_t len)
{
    char tmp[64];
    unsigned char addr[16];

    if (len == 0 || len >= sizeof(tmp)) {
        return false;
    }
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    return inet_pton(AF_INET6, tmp, addr) == 1;
}

/*
 * "host:port" or "[v6]:port", optionally after "http://"; *host_at is
 * where the host starts.  The updater hands curl "http://" plus what is
 * stored, so the prefix is not stored: kept, it made
 * "http://http://proxy:3128" ("Could not resolve proxy: http" at every
 * update).  An IPv6 address must be bracketed: "2001:db8::7:3128" reads
 * as a host with a port to curl and to a human alike.
 */
static bool
is_host_port(const char *s, size_t len, size_t *host_at)
{
    const char *colon = NULL;
    size_t host_len;
    uint64_t port;

    *host_at = 0;
    if (len >= 7 && ascii_ieq(s, 7, "http://")) {
        *host_at = 7;
        s += 7;
        len -= 7;
    }
    for (size_t i = 0; i < len; i++) {
        if (s[i] == ':') {
            colon = s + i;
        }
    }
    if (colon == NULL || colon == s) {
        return false;
    }
    host_len = (size_t)(colon - s);
    if (s[0] == '[') {
        if (host_len < 3 || s[host_len - 1] != ']' ||
            !is_ipv6_text(s + 1, host_len - 2)) {
            return false;
        }
    } else if (!is_host_text(s, host_len) ||
               memchr(s, ':', host_len) != NULL ||
               memchr(s, '[', host_len) != NULL ||
               memchr(s, ']', host_len) != NULL) {
        return false;
    }
    if (cursor_parse_u64(colon + 1, len - host_len - 1, 65535, &port) !=
            CM_OK ||
        port == 0) {
        return false;
    }
    return true;
}

/* ---- numbers -------------------------------------------------------- */

struct config_unit {
    const char *suffix; /* matched ignoring case */
    uint64_t mult;
};

/*
 * Decimal digits with an optional unit suffix from units (NULL-terminated
 * list, "" for a bare number).  The result is checked against [min, max].
 */
static const char *
parse_scaled(const char *s, size_t len, const struct config_unit *units,
             uint64_t min, uint64_t max, uint64_t *out)
{
    size_t digits = 0;
    uint64_t v;

    if (len > 0 && s[0] == '#') {
        /* CGP's typed number form "#50". */
        s++;
        len--;
    }
    while (digits < len && s[digits] >= '0' && s[digits] <= '9') {
        digits++;
    }
    if (digits == 0) {
        return "not a number";
    }
    for (const struct config_unit *u = units; u->suffix != NULL; u++) {
        if (!ascii_ieq(s + digits, len - digits, u->suffix)) {
            continue;
        }
        if (cursor_parse_u64(s, digits, max / u->mult, &v) != CM_OK) {
            return "out of range";
        }
        v *= u->mult;
        if (v < min || v > max) {
            return "out of range";
        }
        *out = v;
        return NULL;
    }
    return "unknown unit";
}

static const struct config_unit config_units_none[] = {{"", 1}, {NULL, 0}};
static const struct config_unit config_units_bytes[] = {
    {"", 1}, {"K", 1024}, {"M", 1024 * 1024}, {NULL, 0}};
static const struct config_unit config_units_ms[] = {
    {"", 1}, {"ms", 1}, {"s", 1000}, {NULL, 0}};
static const struct config_unit config_units_s[] = {
    {"", 1}, {"s", 1}, {"m", 60}, {"h", 3600}, {NULL, 0}};
/* The original product's "micro-update interval" is "auto" or hours: a
 * bare number copied from its cartridge.cfg must poll as often as there,
 * not 3600 times as often. */
static const struct config_unit config_units_interval[] = {
    {"", 3600}, {"s", 1}, {"m", 60}, {"h", 3600}, {NULL, 0}};

static bool
parse_bool(const char *s, size_t len, bool *out)
{
    static const char *const yes[] = {"yes", "true", "on", "1"};
    static const char *const no[] = {"no", "false", "off", "0"};

    for (size_t i = 0; i < 4; i++) {
        if (ascii_ieq(s, len, yes[i])) {
            *out = true;
            return true;
        }
        if (ascii_ieq(s, len, no[i])) {
            *out = false;
            return true;
        }
    }
    return false;
}

/* "H:MM" or "HH:MM" → "HH:MM". */
static bool
parse_time(const char *s, size_t len, char out[8])
{
    uint64_t h;
    uint64_t m;
    size_t colon = 0;

    while (colon < len && s[colon] != ':') {
        colon++;
    }
    if (colon == 0 || colon > 2 || len - colon != 3) {
        return false;
    }
    if (cursor_parse_u64(s, colon, 23, &h) != CM_OK ||
        cursor_parse_u64(s + colon + 1, 2, 59, &m) != CM_OK) {
        return false;
    }
    snprintf(out, 8, "%02u:%02u", (unsigned)h, (unsigned)m);
    return true;
}

/* ---- setters -------------------------------------------------------- */

static void *
field(struct config *cfg, const struct config_key *k)
{
    return (char *)cfg + k->offset;
}

static const char *
set_text(struct config *cfg, const struct config_key *k, const char *s,
         size_t len)
{
    char *dst = field(cfg, k);

    if (len >= k->size) {
        return "too long";
    }
    memcpy(dst, s, len);
    dst[len] = '\0';
    return NULL;
}

/* Resolve a relative path against base ("" or "." mean the current
 * directory, where the path is kept as written). */
static const char *
set_path(struct config *cfg, const struct config_key *k, const char *s,
         size_t len, const char *base)
{
    char rel[CONFIG_PATH_MAX];

    if (len == 0) {
        return "must not be empty";
    }
    /* "dir\new" in a quoted string is a LF: such a name is a mistake,
     * and the problem reports that carry a path (the cartridge.cfg and
     * whitelist.cfg ones, CHECK-CONFIG's output) must stay one line. */
    if (!is_printable(s, len)) {
        return "contains control characters";
    }
    if (len >= sizeof(rel)) {
        return "too long";
    }
    memcpy(rel, s, len);
    rel[len] = '\0';
    if (base == NULL || base[0] == '\0' || strcmp(base, ".") == 0) {
        return set_text(cfg, k, rel, len);
    }
    if (fsutil_join(field(cfg, k), k->size, base, rel) != CM_OK) {
        return "too long once joined to its directory";
    }
    return NULL;
}

static const char *
set_bars(struct config *cfg, const uint64_t *levels, size_t n)
{
    struct config_bar bars[CONFIG_BARS_MAX];

    /* Zeroed so that equal levels give byte-equal configs. */
    memset(bars, 0, sizeof(bars));
    if (n == 0) {
        return "needs at least one level";
    }
    if (n > CONFIG_BARS_MAX) {
        return "too many levels";
    }
    for (size_t i = 0; i < n; i++) {
        if (levels[i] > 100) {
            return "levels must be from 0 to 100";
        }
        if (i > 0 && levels[i] <= levels[i - 1]) {
            return "levels must be strictly increasing";
        }
        bars[i].min_score = i == 0 ? 0 : (unsigned)levels[i - 1] + 1;
        bars[i].max_score = (unsigned)levels[i];
        memset(bars[i].text, 'X', i);
        bars[i].text[i] = '\0';
    }
    if (levels[n - 1] != 100) {
        return "the last level must be 100";
    }
    memcpy(cfg->bars, bars, sizeof(bars));
    cfg->n_bars = n;
    return NULL;
}

/*
 * A host name, IPv4 address or IPv6 literal, stored bare: the updater
 * builds http://host:port/ from it and brackets an IPv6 literal itself.
 * "host:8080" or "[::1]" used to pass here and then made a URL curl
 * refuses at every update ("http://[host:8080]:80/") while CHECK-CONFIG
 * said OK; a bracketed IPv6 literal is taken without its brackets.
 */
static const char *
set_host(struct config *cfg, const struct config_key *k, const char *s,
         size_t len)
{
    if (len >= 2 && s[0] == '[' && s[len - 1] == ']' &&
        is_ipv6_text(s + 1, len - 2)) {
        return set_text(cfg, k, s + 1, len - 2);
    }
    if (memchr(s, ':', len) != NULL) {
        return is_ipv6_text(s, len)
                   ? set_text(cfg, k, s, len)
                   : "not a host name (give the port as micro-update port)";
    }
    if (!is_host_text(s, len) || memchr(s, '[', len) != NULL ||
        memchr(s, ']', len) != NULL) {
        return "not a host name";
    }
    return set_text(cfg, k, s, len);
}

/* The kinds held as text: checked, then copied into the field. */
static const char *
set_text_kind(struct config *cfg, const struct config_key *k, const char *s,
              size_t len, const char *base)
{
    unsigned char addr[16];
    char tmp[64];

    switch (k->kind) {
    case CONFIG_KIND_HEADER_NAME:
        if (len > 0 && !is_field_name(s, len)) {
            return "not a header field name (printable ASCII, no ':' or "
                   "blanks)";
        }
        return set_text(cfg, k, s, len);
    case CONFIG_KIND_HEADER_LINE: {
        const char *colon = memchr(s, ':', len);

        if (len > 0 &&
            (colon == NULL || !is_field_name(s, (size_t)(colon - s)) ||
             !is_printable(s, len))) {
            return "not a header line \"Name: value\"";
        }
        /* The line goes to CGP as is inside a CGP string, which is
         * UTF-8: a file saved in Latin-1 would put raw 8-bit bytes into
         * every tagged message's header. */
        if (!charset_utf8_valid((const uint8_t *)s, len)) {
            return "not valid UTF-8 (save the file as UTF-8)";
        }
        return set_text(cfg, k, s, len);
    }
    case CONFIG_KIND_TEXT:
        if (!is_printable(s, len)) {
            return "contains control characters";
        }
        return set_text(cfg, k, s, len);
    case CONFIG_KIND_ADDR:
        if (len > 0 && !is_plain_address(s, len)) {
            return "not a plain mail address";
        }
        return set_text(cfg, k, s, len);
    case CONFIG_KIND_HOST:
        return set_host(cfg, k, s, len);
    case CONFIG_KIND_DOMAIN:
        /* The report's addresses: '_', ':' or brackets would make
         * report_recipient refuse every report. */
        if (len > 0 && !is_mail_domain(s, len)) {
            return "not a host name";
        }
        return set_text(cfg, k, s, len);
    case CONFIG_KIND_URL:
        if (len > 0 && ((!(len > 7 && ascii_ieq(s, 7, "http://")) &&
                         !(len > 8 && ascii_ieq(s, 8, "https://"))) ||
                        has_blank_or_control(s, len))) {
            return "not an http:// or https:// URL";
        }
        return set_text(cfg, k, s, len);
    case CONFIG_KIND_HOSTPORT: {
        size_t host_at = 0;

        if (len > 0 && !is_host_port(s, len, &host_at)) {
            return "not host:port";
        }
        return set_text(cfg, k, s + host_at, len - host_at);
    }
    case CONFIG_KIND_USERPASS:
        if (len > 0 && (memchr(s, ':', len) == NULL || !is_printable(s, len))) {
            return "not user:password";
        }
        return set_text(cfg, k, s, len);
    case CONFIG_KIND_IPADDR:
        if (len == 0) {
            return set_text(cfg, k, s, len);
        }
        if (len >= sizeof(tmp)) {
            return "not an IP address";
        }
        memcpy(tmp, s, len);
        tmp[len] = '\0';
        if (inet_pton(AF_INET, tmp, addr) != 1 &&
            inet_pton(AF_INET6, tmp, addr) != 1) {
            return "not an IP address";
        }
        return set_text(cfg, k, s, len);
    case CONFIG_KIND_PATH:
        return set_path(cfg, k, s, len, base);
    case CONFIG_KIND_CGP_PATH:
        /* CGP starts helpers in its base directory, where its PIPE module
         * polls Submitted/, wherever this configuration file lives. */
        return set_path(cfg, k, s, len, ".");
    default:
        break;
    }
    return "unknown kind";
}

/* The numeric kinds, with their units and k's range. */
static const char *
set_number_kind(struct config *cfg, const struct config_key *k,
                const char *s, size_t len)
{
    uint64_t v = 0;
    const char *why;

    switch (k->kind) {
    case CONFIG_KIND_UINT:
        why = parse_scaled(s, len, config_units_none, k->min, k->max, &v);
        if (why == NULL) {
            *(unsigned *)field(cfg, k) = (unsigned)v;
        }
        return why;
    case CONFIG_KIND_BYTES:
        why = parse_scaled(s, len, config_units_bytes, k->min, k->max, &v);
        if (why == NULL) {
            *(size_t *)field(cfg, k) = (size_t)v;
        }
        return why;
    case CONFIG_KIND_MS:
        why = parse_scaled(s, len, config_units_ms, k->min, k->max, &v);
        if (why == NULL) {
            *(unsigned *)field(cfg, k) = (unsigned)v;
        }
        return why;
    case CONFIG_KIND_INTERVAL:
        if (ascii_ieq(s, len, "auto")) {
            *(unsigned *)field(cfg, k) = CONFIG_INTERVAL_AUTO_S;
            return NULL;
        }
        why = parse_scaled(s, len, config_units_interval, k->min, k->max,
                           &v);
        if (why == NULL) {
            *(unsigned *)field(cfg, k) = (unsigned)v;
        }
        return why;
    case CONFIG_KIND_SECONDS:
        why = parse_scaled(s, len, config_units_s, k->min, k->max, &v);
        if (why == NULL) {
            *(unsigned *)field(cfg, k) = (unsigned)v;
        }
        return why;
    default:
        break;
    }
    return "unknown kind";
}

/* The kinds that take one of a few words, or a time of day. */
static const char *
set_choice_kind(struct config *cfg, const struct config_key *k,
                const char *s, size_t len)
{
    uint64_t v = 0;
    bool b;

    switch (k->kind) {
    case CONFIG_KIND_BOOL:
        if (!parse_bool(s, len, &b)) {
            return "must be yes or no";
        }
        *(bool *)field(cfg, k) = b;
        return NULL;
    case CONFIG_KIND_FAIL_ANSWER:
        if (ascii_ieq(s, len, "OK")) {
            cfg->fail_answer = CONFIG_FAIL_OK;
        } else if (ascii_ieq(s, len, "FAILURE")) {
            cfg->fail_answer = CONFIG_FAIL_FAILURE;
        } else {
            return "must be OK or FAILURE";
        }
        return NULL;
    case CONFIG_KIND_LOG_LEVEL: {
        static const char *const names[] = {"error", "warn", "info",
                                            "debug"};

        for (size_t i = 0; i < 4; i++) {
            if (ascii_ieq(s, len, names[i])) {
                cfg->log_level = (enum log_level)i;
                return NULL;
            }
        }
        if (parse_scaled(s, len, config_units_none, 0, 3, &v) != NULL) {
            return "must be 0..3 (error, warn, info, debug)";
        }
        cfg->log_level = (enum log_level)v;
        return NULL;
    }
    case CONFIG_KIND_TIME:
        if (!parse_time(s, len, cfg->report_time)) {
            return "must be a time HH:MM";
        }
        return NULL;
    default:
        break;
    }
    return "unknown kind";
}

/* BarLevels in text form (defaults only): levels separated by blanks. */
static const char *
set_bars_text(struct config *cfg, const char *s, size_t len)
{
    uint64_t levels[CONFIG_BARS_MAX + 1];
    size_t n = 0;
    size_t i = 0;

    while (i < len) {
        size_t j = i;

        while (j < len && s[j] != ' ') {
            j++;
        }
        if (j > i) {
            if (n > CONFIG_BARS_MAX) {
                return "too many levels";
            }
            if (cursor_parse_u64(s + i, j - i, 100, &levels[n]) !=
                CM_OK) {
                return "levels must be numbers from 0 to 100";
            }
            n++;
        }
        i = j + 1;
    }
    return set_bars(cfg, levels, n);
}

/*
 * Check (s, len) for key k and store it.  NULL on success, else the reason
 * (static text).  base resolves relative paths.
 */
static const char *
set_value(struct config *cfg, const struct config_key *k, const char *s,
          size_t len, const char *base)
{
    if (memchr(s, '\0', len) != NULL) {
        return "contains a NUL byte";
    }
    switch (k->kind) {
    case CONFIG_KIND_UINT:
    case CONFIG_KIND_BYTES:
    case CONFIG_KIND_MS:
    case CONFIG_KIND_INTERVAL:
    case CONFIG_KIND_SECONDS:
        return set_number_kind(cfg, k, s, len);
    case CONFIG_KIND_BOOL:
    case CONFIG_KIND_FAIL_ANSWER:
    case CONFIG_KIND_LOG_LEVEL:
    case CONFIG_KIND_TIME:
        return set_choice_kind(cfg, k, s, len);
    case CONFIG_KIND_BARS:
        return set_bars_text(cfg, s, len);
    default:
        return set_text_kind(cfg, k, s, len, base);
    }
}

/* A reason plus the valid range, for numeric keys. */
static void
describe(const struct config_key *k, const char *why, char *out, size_t cap)
{
    switch (k->kind) {
    case CONFIG_KIND_UINT:
        snprintf(out, cap, "%s: must be a whole number from %llu to %llu",
                 why, (unsigned long long)k->min,
                 (unsigned long long)k->max);
        return;
    case CONFIG_KIND_BYTES:
        snprintf(out, cap, "%s: must be bytes (K and M suffixes allowed) "
                 "from %llu to %llu", why, (unsigned long long)k->min,
                 (unsigned long long)k->max);
        return;
    case CONFIG_KIND_MS:
        snprintf(out, cap, "%s: must be milliseconds (or seconds with "
                 "\"s\") from %llu to %llu ms", why,
                 (unsigned long long)k->min, (unsigned long long)k->max);
        return;
    case CONFIG_KIND_INTERVAL:
        snprintf(out, cap, "%s: must be auto, hours, or a time with an s, "
                 "m or h suffix, from %llu s to %llu h", why,
                 (unsigned long long)k->min,
                 (unsigned long long)k->max / 3600u);
        return;
    case CONFIG_KIND_SECONDS:
        snprintf(out, cap, "%s: must be seconds (s, m, h suffixes allowed) "
                 "from %llu to %llu s", why,
                 (unsigned long long)k->min, (unsigned long long)k->max);
        return;
    case CONFIG_KIND_HEADER_NAME:
    case CONFIG_KIND_HEADER_LINE:
    case CONFIG_KIND_TEXT:
    case CONFIG_KIND_ADDR:
    case CONFIG_KIND_HOST:
    case CONFIG_KIND_DOMAIN:
    case CONFIG_KIND_URL:
    case CONFIG_KIND_HOSTPORT:
    case CONFIG_KIND_USERPASS:
    case CONFIG_KIND_IPADDR:
    case CONFIG_KIND_PATH:
    case CONFIG_KIND_CGP_PATH:
        if (k->size > 0 && strcmp(why, "too long") == 0) {
            snprintf(out, cap, "too long (at most %zu bytes)", k->size - 1);
            return;
        }
        break;
    case CONFIG_KIND_BOOL:
    case CONFIG_KIND_FAIL_ANSWER:
    case CONFIG_KIND_LOG_LEVEL:
    case CONFIG_KIND_TIME:
    case CONFIG_KIND_BARS:
        break;
    }
    snprintf(out, cap, "%s", why);
}

static void
apply_default(struct config *cfg, const struct config_key *k,
              const char *base)
{
    char num[32];
    const char *text = k->def_str;

    if (text == NULL) {
        if (k->kind == CONFIG_KIND_BOOL) {
            text = k->def_num ? "yes" : "no";
        } else if (k->kind == CONFIG_KIND_FAIL_ANSWER) {
            text = k->def_num == CONFIG_FAIL_FAILURE ? "FAILURE" : "OK";
        } else {
            snprintf(num, sizeof(num), "%llu",
                     (unsigned long long)k->def_num);
            text = num;
        }
    }
    /* Defaults are constants that tests check against the sample files;
     * they cannot fail. */
    (void)set_value(cfg, k, text, strlen(text), base);
}

static void
apply_defaults(struct config *cfg, const struct config_key *keys, size_t n,
               const char *base)
{
    for (size_t i = 0; i < n; i++) {
        apply_default(cfg, &keys[i], base);
    }
}

void
config_defaults(struct config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    snprintf(cfg->main_path, sizeof(cfg->main_path), "%s",
             CONFIG_DEFAULT_MAIN);
    snprintf(cfg->base_dir, sizeof(cfg->base_dir), ".");
    apply_defaults(cfg, config_main_keys, CONFIG_N_MAIN, ".");
    apply_defaults(cfg, config_cart_keys, CONFIG_N_CART, ".");
}

/* ---- files ---------------------------------------------------------- */

/*
 * Read path into b; false when there is nothing to parse.  A missing file
 * is a problem only when it was named (-c, CartridgeConfig): the defaults
 * are a configuration of their own.  Out of memory is flagged for the
 * loader's summary; other failures are reported as problems.
 */
static bool
read_config_file(struct config_loader *ld, const char *path, bool is_explicit,
                 struct buf *b)
{
    bool is_truncated = false;
    const char *why = NULL;
    enum cm_err rc;

    rc = fsutil_read_file(path, CAPS_CONFIG_FILE_MAX_BYTES, b, &is_truncated,
                          &why);
    if (rc == CM_ENOENT) {
        if (is_explicit) {
            problem(ld, 0, "", true, "file not found; using defaults");
        }
        return false;
    }
    if (rc == CM_ENOMEM) {
        ld->is_out_of_memory = true;
        return false;
    }
    if (rc != CM_OK) {
        problem(ld, 0, "", false, "cannot read: %s",
                why != NULL ? why : cm_strerror(rc));
        return false;
    }
    if (is_truncated) {
        problem(ld, 0, "", false, "larger than %zu bytes; not read",
                (size_t)CAPS_CONFIG_FILE_MAX_BYTES);
        return false;
    }
    return true;
}

static const struct config_key *
find_key(const struct config_key *keys, size_t n, const char *name,
         size_t len, size_t *idx)
{
    for (size_t i = 0; i < n; i++) {
        if (ascii_ieq(name, len, keys[i].name)) {
            *idx = i;
            return &keys[i];
        }
    }
    return NULL;
}

/* BarLevels from an array node. */
static const char *
set_bars_node(struct config *cfg, const struct cgpdict_node *node)
{
    uint64_t levels[CONFIG_BARS_MAX];
    size_t n = 0;

    if (node->type != CGPDICT_ARRAY) {
        return "must be an array of levels, e.g. (0, 39, 80, 90, 95, 99, "
               "100)";
    }
    if (node->n_children > CONFIG_BARS_MAX) {
        return "too many levels";
    }
    for (const struct cgpdict_node *e = node->child; e != NULL; e = e->next) {
        const char *t = e->text;
        size_t len = e->text_len;

        if (e->type == CGPDICT_SCALAR && len > 0) {
            t++;
            len--;
        } else if (e->type != CGPDICT_STRING) {
            return "levels must be numbers from 0 to 100";
        }
        if (cursor_parse_u64(t, len, 100, &levels[n]) != CM_OK) {
            return "levels must be numbers from 0 to 100";
        }
        n++;
    }
    return set_bars(cfg, levels, n);
}

static void
load_main_member(struct config_loader *ld, const struct cgpdict_node *m)
{
    const struct config_key *k;
    const char *why;
    char text[CONFIG_WHY_MAX];
    size_t idx = 0;
    char key[64];

    k = find_key(config_main_keys, CONFIG_N_MAIN, m->key, m->key_len, &idx);
    if (k == NULL) {
        key_sample(key, sizeof(key), m->key, m->key_len);
        problem(ld, m->key_line, key, true, "unknown key (ignored)");
        return;
    }
    if (ld->seen_main[idx]) {
        problem(ld, m->key_line, k->name, true,
                "given more than once; the last one counts");
    }
    ld->seen_main[idx] = true;
    ld->line_main[idx] = m->key_line;
    if (k->kind == CONFIG_KIND_BARS) {
        why = set_bars_node(ld->cfg, m);
    } else if (m->type == CGPDICT_STRING ||
               (m->type == CGPDICT_SCALAR &&
                (k->kind == CONFIG_KIND_UINT || k->kind == CONFIG_KIND_MS ||
                 k->kind == CONFIG_KIND_BYTES ||
                 k->kind == CONFIG_KIND_LOG_LEVEL))) {
        why = set_value(ld->cfg, k, m->text, m->text_len, ld->base);
    } else {
        snprintf(text, sizeof(text), "must be a word or a quoted string, "
                 "not %s %s", m->type == CGPDICT_ARRAY ? "an" : "a",
                 cgpdict_type_name(m->type));
        problem(ld, m->line, k->name, false, "%s (default kept)", text);
        /* A valid earlier line for the key must not stay in effect: the
         * last one counts, and it was refused. */
        apply_default(ld->cfg, k, ld->base);
        return;
    }
    if (why != NULL) {
        describe(k, why, text, sizeof(text));
        problem(ld, m->line, k->name, false, "%s (default kept)", text);
        apply_default(ld->cfg, k, ld->base);
    }
}

/* Length of a UTF-8 byte order mark at the start of b (0 or 3).  Windows
 * editors put one in front of a file they save; CGP's dictionary syntax
 * has no place for it, and without this the whole file would be ignored
 * as "unexpected text after the value" on a line that looks fine. */
static size_t
bom_len(const struct buf *b)
{
    if (b->len >= 3 && memcmp(b->data, "\xef\xbb\xbf", 3) == 0) {
        return 3;
    }
    return 0;
}

static void
load_main(struct config_loader *ld, const char *path, bool is_explicit)
{
    struct buf b;
    struct cgpdict *d = NULL;
    struct cgpdict_error err = {0, NULL};
    const struct cgpdict_node *root;
    enum cm_err rc;
    size_t skip;

    buf_init(&b, CAPS_CONFIG_FILE_MAX_BYTES);
    if (!read_config_file(ld, path, is_explicit, &b)) {
        goto out;
    }
    skip = bom_len(&b); /* no arithmetic on the NULL of an empty buf */
    rc = cgpdict_parse(skip > 0 ? b.data + skip : b.data, b.len - skip, &d,
                       &err);
    if (rc == CM_ENOMEM) {
        ld->is_out_of_memory = true;
        goto out;
    }
    if (rc == CM_EPARSE && err.why != NULL &&
        strcmp(err.why, "empty input") == 0) {
        problem(ld, 0, "", true, "file is empty; using defaults");
        goto out;
    }
    if (rc != CM_OK) {
        problem(ld, err.line, "", false,
                "syntax error: %s; the whole file is ignored",
                err.why != NULL ? err.why : cm_strerror(rc));
        goto out;
    }
    root = cgpdict_root(d);
    if (root->type != CGPDICT_DICT) {
        problem(ld, root->line, "", false,
                "must hold one dictionary { Key = value; ... }; the whole "
                "file is ignored");
        goto out;
    }
    for (const struct cgpdict_node *m = root->child; m != NULL; m = m->next) {
        load_main_member(ld, m);
    }
out:
    cgpdict_free(d);
    buf_clear(&b);
}

/* ---- cartridge.cfg through libinih ------------------------------------ */

struct config_ini_stream {
    const char *p;
    size_t len;
    size_t off;
    unsigned line; /* the line last handed to inih */
    /* Its value: everything after the first '=', blanks around it
     * trimmed.  inih's own copy is cut at a ';' after a blank (an inline
     * comment, as Debian builds it), which cartridge.cfg(5) does not
     * have: "user:pa ;ss" must stay the password it is. */
    const char *value;
    size_t value_len;
    struct config_loader *ld;
};

static bool
is_ini_blank(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\f' || ch == '\v';
}

/*
 * fgets-like reader for ini_parse_stream: one line per call, left-trimmed.
 * Lines inih would misread are reported here and replaced by blank lines.
 */
static char *
config_ini_read(char *str, int num, void *stream)
{
    struct config_ini_stream *st = stream;
    size_t start;
    size_t end;
    size_t len;
    const char *line;
    const char *eq;
    const char *colon;

    if (st->off >= st->len || num < 3) {
        return NULL;
    }
    start = st->off;
    end = start;
    while (end < st->len && st->p[end] != '\n') {
        end++;
    }
    st->off = end < st->len ? end + 1 : end;
    st->line++;
    if (st->line == 1 && end - start >= 3 &&
        memcmp(st->p + start, "\xef\xbb\xbf", 3) == 0) {
        start += 3; /* UTF-8 byte order mark */
    }
    while (start < end && is_ini_blank(st->p[start])) {
        start++;
    }
    if (end > start && st->p[end - 1] == '\r') {
        end--;
    }
    line = st->p + start;
    len = end - start;
    str[0] = '\n';
    str[1] = '\0';
    if (len == 0 || line[0] == '#' || line[0] == ';') {
        return str;
    }
    if (memchr(line, '\0', len) != NULL) {
        problem(st->ld, st->line, "", false, "NUL byte in line; line "
                "ignored");
        return str;
    }
    if (len + 2 > (size_t)num) {
        problem(st->ld, st->line, "", false,
                "line longer than %d bytes; line ignored", num - 2);
        return str;
    }
    if (line[0] == '[') {
        problem(st->ld, st->line, "", true,
                "sections are not used; line ignored");
        return str;
    }
    eq = memchr(line, '=', len);
    colon = memchr(line, ':', len);
    if (eq == NULL || eq == line || (colon != NULL && colon < eq)) {
        problem(st->ld, st->line, "", false,
                "expected \"key = value\"; line ignored");
        return str;
    }
    memcpy(str, line, len);
    str[len] = '\n';
    str[len + 1] = '\0';
    st->value = eq + 1;
    st->value_len = len - (size_t)(eq + 1 - line);
    while (st->value_len > 0 &&
           (is_ini_blank(st->value[0]) || st->value[0] == '\r')) {
        st->value++;
        st->value_len--;
    }
    while (st->value_len > 0 &&
           (is_ini_blank(st->value[st->value_len - 1]) ||
            st->value[st->value_len - 1] == '\r')) {
        st->value_len--;
    }
    return str;
}

/* Case-insensitive compare that treats any run of blanks as one space. */
static bool
ini_key_equal(const char *a, const char *b)
{
    for (;;) {
        unsigned char x = (unsigned char)*a;
        unsigned char y = (unsigned char)*b;

        if (is_ini_blank((char)x) && is_ini_blank((char)y)) {
            while (is_ini_blank(*a)) {
                a++;
            }
            while (is_ini_blank(*b)) {
                b++;
            }
            continue;
        }
        if (x >= 'A' && x <= 'Z') {
            x = (unsigned char)(x - 'A' + 'a');
        }
        if (y >= 'A' && y <= 'Z') {
            y = (unsigned char)(y - 'A' + 'a');
        }
        if (x != y) {
            return false;
        }
        if (x == '\0') {
            return true;
        }
        a++;
        b++;
    }
}

static int
config_ini_handler(void *user, const char *section, const char *name,
                   const char *value)
{
    struct config_ini_stream *st = user;
    struct config_loader *ld = st->ld;
    const struct config_key *k = NULL;
    size_t idx = 0;
    const char *why;
    char text[CONFIG_WHY_MAX];
    char key[64];

    (void)section;
    (void)value; /* cut at an inline comment: st->value is the whole one */
    for (size_t i = 0; i < CONFIG_N_CART; i++) {
        if (ini_key_equal(name, config_cart_keys[i].name)) {
            k = &config_cart_keys[i];
            idx = i;
            break;
        }
    }
    if (k == NULL) {
        for (size_t i = 0; i < sizeof(config_cart_ignored) /
                                   sizeof(config_cart_ignored[0]);
             i++) {
            if (ini_key_equal(name, config_cart_ignored[i])) {
                return 1;
            }
        }
        key_sample(key, sizeof(key), name, strlen(name));
        problem(ld, st->line, key, true, "unknown key (ignored)");
        return 1;
    }
    if (ld->seen_cart[idx]) {
        problem(ld, st->line, k->name, true,
                "given more than once; the last one counts");
    }
    ld->seen_cart[idx] = true;
    why = set_value(ld->cfg, k, st->value, st->value_len, ld->base);
    if (why != NULL) {
        describe(k, why, text, sizeof(text));
        problem(ld, st->line, k->name, false, "%s (default kept)", text);
        apply_default(ld->cfg, k, ld->base);
    }
    return 1;
}

static void
load_cartridge(struct config_loader *ld, const char *path, bool is_explicit)
{
    struct buf b;
    struct config_ini_stream st;
    int line;

    buf_init(&b, CAPS_CONFIG_FILE_MAX_BYTES);
    if (!read_config_file(ld, path, is_explicit, &b)) {
        goto out;
    }
    memset(&st, 0, sizeof(st));
    st.p = (const char *)b.data;
    st.len = b.len;
    st.ld = ld;
    line = ini_parse_stream(config_ini_read, &st, config_ini_handler, &st);
    if (line == -2) {
        ld->is_out_of_memory = true;
    } else if (line != 0) {
        /* Our reader hands inih only lines it accepts; this is a guard. */
        problem(ld, line > 0 ? (unsigned)line : 0, "", false,
                "cannot parse this line");
    }
out:
    buf_clear(&b);
}

/*
 * A WhitelistConfig named in CGPCloudmark.cfg that does not exist (a typo,
 * a file not copied) would leave the site without its whitelist and
 * nothing said: whitelist_load takes a missing file as an empty list, as
 * it must for the default name on a site that has none.  Say it here, as
 * for a missing CartridgeConfig, so the helper logs it and CHECK-CONFIG
 * shows it.  Other errors (permissions) are whitelist_load's to report.
 */
static void
check_whitelist_exists(struct config_loader *ld)
{
    size_t idx = 0;
    const char *path = ld->cfg->whitelist_cfg_path;

    if (find_key(config_main_keys, CONFIG_N_MAIN, "WhitelistConfig",
                 strlen("WhitelistConfig"), &idx) == NULL ||
        !ld->seen_main[idx]) {
        return;
    }
    /* ENOTDIR (a directory in the path is a file) too: whitelist_load
     * takes both for a missing file. */
    if (access(path, F_OK) == 0 || (errno != ENOENT && errno != ENOTDIR)) {
        return;
    }
    ld->file = ld->cfg->main_path;
    problem(ld, ld->line_main[idx], "WhitelistConfig", true,
            "file not found; no site whitelist is used");
}

bool
config_given_file_exists(const char *command, const char *main_path)
{
    if (main_path == NULL || fsutil_is_file(main_path)) {
        return true;
    }
    fprintf(stderr, "%s: configuration file not found: %s (give the "
                    "helper's -c, from CGP's base directory)\n",
            command, main_path);
    return false;
}

enum cm_err
config_load(const char *main_path, struct config *cfg,
            config_problem_fn report, void *ctx, size_t *n_errors)
{
    struct config_loader ld;
    char cart_dir[CONFIG_PATH_MAX];
    size_t idx = 0;
    const char *path = main_path != NULL ? main_path : CONFIG_DEFAULT_MAIN;

    config_defaults(cfg);
    memset(&ld, 0, sizeof(ld));
    ld.cfg = cfg;
    ld.report = report;
    ld.ctx = ctx;
    ld.file = path;
    if (strlen(path) >= sizeof(cfg->main_path) ||
        fsutil_dirname(cfg->base_dir, sizeof(cfg->base_dir), path) !=
            CM_OK) {
        problem(&ld, 0, "", false, "path too long; using defaults");
        goto done;
    }
    snprintf(cfg->main_path, sizeof(cfg->main_path), "%s", path);
    ld.base = cfg->base_dir;
    apply_defaults(cfg, config_main_keys, CONFIG_N_MAIN, ld.base);
    load_main(&ld, path, main_path != NULL);

    /* cartridge.cfg: its own paths are relative to its directory. */
    if (fsutil_dirname(cart_dir, sizeof(cart_dir), cfg->cartridge_cfg_path) !=
        CM_OK) {
        snprintf(cart_dir, sizeof(cart_dir), ".");
    }
    ld.file = cfg->cartridge_cfg_path;
    ld.base = cart_dir;
    apply_defaults(cfg, config_cart_keys, CONFIG_N_CART, ld.base);
    load_cartridge(&ld, cfg->cartridge_cfg_path,
                   find_key(config_main_keys, CONFIG_N_MAIN, "CartridgeConfig",
                            strlen("CartridgeConfig"), &idx) != NULL &&
                       ld.seen_main[idx]);
    if (cfg->cart.favor_analysis) {
        cfg->add_analysis_header = true;
    }
    check_whitelist_exists(&ld);
done:
    if (n_errors != NULL) {
        *n_errors = ld.n_errors;
    }
    return ld.is_out_of_memory ? CM_ENOMEM : CM_OK;
}

const char *
config_bar_text(const struct config *cfg, unsigned score)
{
    if (cfg->n_bars == 0) {
        return "";
    }
    for (size_t i = 0; i < cfg->n_bars; i++) {
        if (score <= cfg->bars[i].max_score) {
            return cfg->bars[i].text;
        }
    }
    return cfg->bars[cfg->n_bars - 1].text;
}

/* ---- reporting problems ----------------------------------------------- */

void
config_problem_format(const struct config_problem *p, char *dst, size_t cap)
{
    const char *key = p->key != NULL ? p->key : "";
    char line[16] = "";

    if (p->line > 0) {
        snprintf(line, sizeof(line), ":%u", p->line);
    }
    snprintf(dst, cap, "%s%s: %s%s%s", p->file, line, key,
             key[0] != '\0' ? ": " : "", p->problem);
}

void
config_problem_log(void *ctx, const struct config_problem *p)
{
    char text[CONFIG_PATH_MAX + 512];

    (void)ctx;
    config_problem_format(p, text, sizeof(text));
    log_warn("%s", text);
}
