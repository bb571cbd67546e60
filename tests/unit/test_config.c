/*
 * test_config.c -- CGPCloudmark.cfg and cartridge.cfg loading: defaults,
 * the sample files, every key, bad values (golden problem list), syntax
 * errors, missing and oversized files, relative paths, bars.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "buf.h"
#include "caps.h"
#include "checkconfig.h"
#include "config.h"
#include "fsutil.h"
#include "report.h"
#include "updkeys.h"

/* Problems as "<file basename>:<line>: <key>: <problem>" lines. */
struct problems {
    struct buf text;
    size_t n;
    size_t n_warnings;
};

static void
collect(void *ctx, const struct config_problem *p)
{
    struct problems *ps = ctx;
    const char *base = strrchr(p->file, '/');

    base = base == NULL ? p->file : base + 1;
    buf_printf(&ps->text, "%s:%u: %s: %s\n", base, p->line, p->key,
               p->problem);
    ps->n++;
    ps->n_warnings += p->is_warning;
}

static void
problems_init(struct problems *ps)
{
    buf_init(&ps->text, 1 << 20);
    ps->n = 0;
    ps->n_warnings = 0;
}

static const char *
problems_text(struct problems *ps)
{
    return ps->text.data == NULL ? "" : (const char *)ps->text.data;
}

/* Load path; returns the number of errors. */
static size_t
load(const char *path, struct config *cfg, struct problems *ps)
{
    size_t n_errors = 99;

    problems_init(ps);
    assert_int_equal(config_load(path, cfg, collect, ps, &n_errors), CM_OK);
    assert_int_equal(n_errors, ps->n - ps->n_warnings);
    return n_errors;
}

static char *
read_all(const char *path)
{
    struct buf b;
    bool is_truncated;
    char *out;

    buf_init(&b, 1 << 20);
    assert_int_equal(fsutil_read_file(path, 1 << 20, &b, &is_truncated,
                                      NULL),
                     CM_OK);
    out = malloc(b.len + 1);
    assert_non_null(out);
    memcpy(out, b.data, b.len);
    out[b.len] = '\0';
    buf_clear(&b);
    return out;
}

static void
write_file(const char *dir, const char *name, const char *text, size_t len)
{
    char path[1024];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    fclose(f);
}

static char *
make_tmpdir(void)
{
    char tmpl[] = "/tmp/test_config.XXXXXX";
    char *dir = mkdtemp(tmpl);

    assert_non_null(dir);
    return strdup(dir);
}

static void
remove_tree(const char *dir)
{
    static const char *const names[] = {"CGPCloudmark.cfg", "cartridge.cfg",
                                        "big.cfg", "sub/c.cfg", "sub",
                                        "adir"};

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char path[1024];

        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        if (remove(path) != 0) {
            rmdir(path);
        }
    }
    assert_int_equal(rmdir(dir), 0);
}

static void
assert_default_values(const struct config *cfg)
{
    assert_string_equal(cfg->junk_header, "X-Junk-Score");
    assert_string_equal(cfg->score_header, "X-Cloudmark-Score");
    assert_string_equal(cfg->alert_header, "X-Alert: possible spam!");
    assert_string_equal(cfg->color_header, "X-Color: red");
    assert_int_equal(cfg->alert_threshold, 91);
    assert_false(cfg->add_analysis_header);
    assert_int_equal(cfg->minimum_score, 0);
    assert_int_equal(cfg->n_bars, 7);
    assert_int_equal(cfg->max_body_bytes, CAPS_BODY_DEFAULT_BYTES);
    assert_int_equal(cfg->threads, 0);
    assert_int_equal(cfg->time_budget_ms, 10000);
    assert_int_equal(cfg->fail_answer, CONFIG_FAIL_OK);
    assert_int_equal(cfg->intf_max, 3);
    assert_int_equal(cfg->log_level, LOG_LEVEL_INFO);
    assert_string_equal(cfg->report_time, "00:00");
    assert_string_equal(cfg->report_to, "");
    assert_string_equal(cfg->main_domain, "");
    assert_string_equal(cfg->cart.mu_url, "");
    assert_string_equal(cfg->cart.mu_hostname, "");
    assert_int_equal(cfg->cart.mu_port, 80);
    assert_int_equal(cfg->cart.mu_interval_s, 300);
    assert_int_equal(cfg->cart.mu_timeout_s, 30);
    assert_false(cfg->cart.download_before_init);
    assert_string_equal(cfg->cart.http_proxy, "");
    assert_string_equal(cfg->cart.http_proxy_auth, "");
    assert_string_equal(cfg->cart.local_address, "");
    assert_string_equal(cfg->cart.customer_id, "");
    assert_true(cfg->cart.report_statistics);
    assert_false(cfg->cart.anonymize_statistics);
    assert_false(cfg->cart.favor_analysis);
}

static void
test_config_defaults(void **state)
{
    struct config cfg;
    static const struct {
        unsigned min;
        unsigned max;
        const char *text;
    } bars[] = {{0, 0, ""},       {1, 39, "X"},      {40, 80, "XX"},
                {81, 90, "XXX"},  {91, 95, "XXXX"},  {96, 99, "XXXXX"},
                {100, 100, "XXXXXX"}};

    (void)state;
    memset(&cfg, 0xa5, sizeof(cfg));
    config_defaults(&cfg);
    assert_default_values(&cfg);
    for (size_t i = 0; i < 7; i++) {
        assert_int_equal(cfg.bars[i].min_score, bars[i].min);
        assert_int_equal(cfg.bars[i].max_score, bars[i].max);
        assert_string_equal(cfg.bars[i].text, bars[i].text);
    }
    assert_string_equal(cfg.main_path, "CGPCloudmark.cfg");
    assert_string_equal(cfg.base_dir, ".");
    assert_string_equal(cfg.cartridge_cfg_path, "cartridge.cfg");
    assert_string_equal(cfg.whitelist_cfg_path, "whitelist.cfg");
    assert_string_equal(cfg.submitted_dir, "Submitted");
    assert_string_equal(cfg.state_path, "CGPCloudmark.state");
    assert_string_equal(cfg.cart.cache_path, "micro_updates");
    assert_string_equal(cfg.cart.public_key_path, "update.pub");
    assert_string_equal(cfg.cart.content_key_path, "content.key");
}

static void
test_config_bar_text(void **state)
{
    struct config cfg;
    static const struct {
        unsigned score;
        const char *bar;
    } cases[] = {{0, ""},        {1, "X"},        {39, "X"},
                 {40, "XX"},     {80, "XX"},      {81, "XXX"},
                 {90, "XXX"},    {91, "XXXX"},    {95, "XXXX"},
                 {96, "XXXXX"},  {99, "XXXXX"},   {100, "XXXXXX"},
                 {1000, "XXXXXX"}};

    (void)state;
    config_defaults(&cfg);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_string_equal(config_bar_text(&cfg, cases[i].score),
                            cases[i].bar);
    }
    cfg.n_bars = 0;
    assert_string_equal(config_bar_text(&cfg, 50), "");
}

/* The shipped samples load without a single problem and give exactly the
 * defaults; every key is documented in them. */
static void
test_config_samples_are_defaults(void **state)
{
    struct config cfg;
    struct config def;
    struct problems ps;
    char *sample;
    char *top;
    char *cart;
    static const char *const main_keys[] = {
        "HeaderJunkScore", "HeaderScore", "AlertHeader", "ColorHeader",
        "AlertThreshold", "AnalysisHeader", "MinimumScore", "BarLevels",
        "Max_Body_Length", "Threads", "MessageTimeout", "FailOpenAnswer",
        "InterfaceVersion", "LogLevel", "ReportTime", "ReportTo",
        "MainDomain", "SubmittedDir", "StateFile", "SiteLayerFile",
        "CartridgeConfig",
        "WhitelistConfig"};
    static const char *const cart_keys[] = {
        "micro-update url =", "micro-update hostname =",
        "micro-update port =", "micro-update interval =",
        "micro-update timeout =", "micro-update cache path =",
        "download micro-updates before init =", "http proxy =",
        "http proxy basic auth =", "local address for m-u conns =",
        "customer id =", "report statistics =", "anonymize statistics =",
        "favor analysis over speed =", "update public key =",
        "update content key ="};

    (void)state;
    assert_int_equal(load("conf/CGPCloudmark.cfg", &cfg, &ps), 0);
    if (ps.n != 0) {
        print_error("%s", problems_text(&ps));
    }
    assert_int_equal(ps.n, 0);
    assert_default_values(&cfg);
    config_defaults(&def);
    assert_memory_equal(cfg.bars, def.bars, sizeof(def.bars));
    assert_string_equal(cfg.base_dir, "conf");
    assert_string_equal(cfg.main_path, "conf/CGPCloudmark.cfg");
    assert_string_equal(cfg.cartridge_cfg_path, "conf/cartridge.cfg");
    assert_string_equal(cfg.whitelist_cfg_path, "conf/whitelist.cfg");
    /* SubmittedDir belongs to CGP: relative to the current directory. */
    assert_string_equal(cfg.submitted_dir, "Submitted");
    assert_string_equal(cfg.state_path, "conf/CGPCloudmark.state");
    assert_string_equal(cfg.cart.cache_path, "conf/micro_updates");
    assert_string_equal(cfg.cart.public_key_path, "conf/update.pub");
    assert_string_equal(cfg.cart.content_key_path, "conf/content.key");
    buf_clear(&ps.text);

    sample = read_all("conf/CGPCloudmark.cfg");
    top = read_all("CGPCloudmark.cfg.sample");
    assert_string_equal(sample, top);
    for (size_t i = 0; i < sizeof(main_keys) / sizeof(main_keys[0]); i++) {
        char want[64];

        snprintf(want, sizeof(want), "\n  %s = ", main_keys[i]);
        assert_non_null(strstr(sample, want));
    }
    cart = read_all("conf/cartridge.cfg");
    for (size_t i = 0; i < sizeof(cart_keys) / sizeof(cart_keys[0]); i++) {
        char want[64];

        snprintf(want, sizeof(want), "\n%s", cart_keys[i]);
        assert_non_null(strstr(cart, want));
    }
    free(sample);
    free(top);
    free(cart);
}

static void
test_config_every_key(void **state)
{
    struct config cfg;
    struct problems ps;

    (void)state;
    assert_int_equal(load("testdata/config/good/CGPCloudmark.cfg", &cfg,
                          &ps),
                     0);
    if (ps.n != 0) {
        print_error("%s", problems_text(&ps));
    }
    assert_int_equal(ps.n, 0);
    assert_string_equal(cfg.junk_header, "X-Spam-Level");
    assert_string_equal(cfg.score_header, "");
    assert_string_equal(cfg.alert_header, "X-Alert: \"spam\" here");
    assert_string_equal(cfg.color_header, "");
    assert_int_equal(cfg.alert_threshold, 101);
    assert_true(cfg.add_analysis_header);
    assert_int_equal(cfg.minimum_score, 40);
    assert_int_equal(cfg.n_bars, 3);
    assert_int_equal(cfg.bars[0].max_score, 10);
    assert_int_equal(cfg.bars[1].min_score, 11);
    assert_int_equal(cfg.bars[2].min_score, 51);
    assert_string_equal(config_bar_text(&cfg, 10), "");
    assert_string_equal(config_bar_text(&cfg, 11), "X");
    assert_string_equal(config_bar_text(&cfg, 100), "XX");
    assert_int_equal(cfg.max_body_bytes, 512 * 1024);
    assert_int_equal(cfg.threads, 4);
    assert_int_equal(cfg.time_budget_ms, 2000);
    assert_int_equal(cfg.fail_answer, CONFIG_FAIL_FAILURE);
    assert_int_equal(cfg.intf_max, 4);
    assert_int_equal(cfg.log_level, LOG_LEVEL_DEBUG);
    assert_string_equal(cfg.report_time, "07:05");
    assert_string_equal(cfg.report_to, "spam-admin@example.com");
    assert_string_equal(cfg.main_domain, "example.com");
    assert_string_equal(cfg.submitted_dir, "/var/CommuniGate/Submitted");
    assert_string_equal(cfg.state_path,
                        "testdata/config/good/state/cm.state");
    assert_string_equal(cfg.cartridge_cfg_path,
                        "testdata/config/good/sub/cart.cfg");
    assert_string_equal(cfg.whitelist_cfg_path,
                        "testdata/config/good/white list.cfg");

    assert_string_equal(cfg.cart.mu_url, "https://updates.example.com/cm/");
    assert_string_equal(cfg.cart.mu_hostname, "updates.example.com");
    assert_int_equal(cfg.cart.mu_port, 8080);
    assert_int_equal(cfg.cart.mu_interval_s, 900);
    assert_int_equal(cfg.cart.mu_timeout_s, 60);
    assert_string_equal(cfg.cart.cache_path, "/var/cache/cm");
    assert_true(cfg.cart.download_before_init);
    assert_string_equal(cfg.cart.http_proxy, "proxy.example.com:3128");
    assert_string_equal(cfg.cart.http_proxy_auth, "user:pa:ss");
    assert_string_equal(cfg.cart.local_address, "2001:db8::1");
    assert_string_equal(cfg.cart.customer_id, "Example Corp");
    assert_false(cfg.cart.report_statistics);
    assert_true(cfg.cart.anonymize_statistics);
    assert_false(cfg.cart.favor_analysis);
    assert_string_equal(cfg.cart.public_key_path,
                        "testdata/config/good/sub/keys/update.pub");
    assert_string_equal(cfg.cart.content_key_path, "/etc/cm/content.key");
    buf_clear(&ps.text);
}

/* Every bad value is reported with file, line and key, and keeps its
 * default; the golden list is testdata/config/bad.expected. */
static void
test_config_bad_values(void **state)
{
    struct config cfg;
    struct problems ps;
    char *want;

    (void)state;
    load("testdata/config/bad/CGPCloudmark.cfg", &cfg, &ps);
    want = read_all("testdata/config/bad.expected");
    if (strcmp(problems_text(&ps), want) != 0) {
        print_error("got:\n%s", problems_text(&ps));
    }
    assert_string_equal(problems_text(&ps), want);
    /* Nothing the file said was taken except the valid duplicates. */
    cfg.threads = 0;
    cfg.cart.mu_port = 80;
    assert_default_values(&cfg);
    /* The proxy password is never quoted in a problem. */
    assert_null(strstr(problems_text(&ps), "secret"));
    free(want);
    buf_clear(&ps.text);
}

static void
test_config_syntax_error(void **state)
{
    struct config cfg;
    struct problems ps;

    (void)state;
    assert_int_equal(load("testdata/config/syntax/CGPCloudmark.cfg", &cfg,
                          &ps),
                     1);
    assert_string_equal(problems_text(&ps),
                        "CGPCloudmark.cfg:3: : syntax error: ';' expected "
                        "after value; the whole file is ignored\n");
    assert_default_values(&cfg);
    buf_clear(&ps.text);
}

/* A UTF-8 byte order mark (Windows editors) in front of the dictionary:
 * the file is read, not ignored as a syntax error. */
static void
test_config_main_bom(void **state)
{
    static const char text[] = "\xef\xbb\xbf{\r\n  Threads = 3;\r\n"
                               "  AlertThreshold = 50;\r\n}\r\n";
    struct config cfg;
    struct problems ps;
    char *dir = make_tmpdir();
    char path[1024];

    (void)state;
    write_file(dir, "CGPCloudmark.cfg", text, sizeof(text) - 1);
    snprintf(path, sizeof(path), "%s/CGPCloudmark.cfg", dir);
    assert_int_equal(load(path, &cfg, &ps), 0);
    assert_string_equal(problems_text(&ps), "");
    assert_int_equal(cfg.threads, 3);
    assert_int_equal(cfg.alert_threshold, 50);
    buf_clear(&ps.text);
    remove_tree(dir);
    free(dir);
}

static void
test_config_missing_files(void **state)
{
    static const char ctl_paths[] = "{ CartridgeConfig = \"sub\\new.cfg\"; "
                                    "StateFile = \"st\\tate\"; }";
    struct config cfg;
    struct problems ps;
    char *dir = make_tmpdir();
    char path[1024];
    char cwd[1024];

    (void)state;
    /* Explicit main file missing: a warning, defaults. */
    snprintf(path, sizeof(path), "%s/CGPCloudmark.cfg", dir);
    assert_int_equal(load(path, &cfg, &ps), 0);
    assert_int_equal(ps.n, 1);
    assert_int_equal(ps.n_warnings, 1);
    assert_non_null(strstr(problems_text(&ps), "file not found"));
    assert_default_values(&cfg);
    buf_clear(&ps.text);

    /* Default main file missing from the current directory: silence. */
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    assert_int_equal(chdir(dir), 0);
    assert_int_equal(load(NULL, &cfg, &ps), 0);
    assert_int_equal(ps.n, 0);
    assert_string_equal(cfg.main_path, "CGPCloudmark.cfg");
    assert_string_equal(cfg.cartridge_cfg_path, "cartridge.cfg");
    buf_clear(&ps.text);

    /* A named cartridge.cfg that is missing: a warning. */
    write_file(".", "CGPCloudmark.cfg", "{CartridgeConfig=sub/c.cfg;}", 28);
    assert_int_equal(load(NULL, &cfg, &ps), 0);
    assert_string_equal(problems_text(&ps),
                        "c.cfg:0: : file not found; using "
                        "defaults\n");
    buf_clear(&ps.text);

    /* A named whitelist.cfg that is missing: a warning on the key's line
     * (whitelist_load alone takes it for an empty list, silently). */
    write_file(".", "CGPCloudmark.cfg", "{\n Threads = 2;\n"
               " WhitelistConfig = wl/typo.cfg;\n}\n", 50);
    assert_int_equal(load(NULL, &cfg, &ps), 0);
    assert_string_equal(problems_text(&ps),
                        "CGPCloudmark.cfg:3: WhitelistConfig: file not "
                        "found; no site whitelist is used\n");
    assert_int_equal(ps.n_warnings, 1);
    buf_clear(&ps.text);
    /* Likewise when a directory in its path is a file (ENOTDIR), which
     * whitelist_load also takes for a missing file. */
    write_file(".", "CGPCloudmark.cfg",
               "{ WhitelistConfig = CGPCloudmark.cfg/wl.cfg; }\n",
               strlen("{ WhitelistConfig = CGPCloudmark.cfg/wl.cfg; }\n"));
    assert_int_equal(load(NULL, &cfg, &ps), 0);
    assert_string_equal(problems_text(&ps),
                        "CGPCloudmark.cfg:1: WhitelistConfig: file not "
                        "found; no site whitelist is used\n");
    buf_clear(&ps.text);

    /* A path with a control byte ("sub\new" is a LF) is refused, so the
     * problem lines that name the file stay one line each. */
    write_file(".", "CGPCloudmark.cfg", ctl_paths, strlen(ctl_paths));
    assert_int_equal(load(NULL, &cfg, &ps), 2);
    assert_string_equal(problems_text(&ps),
                        "CGPCloudmark.cfg:1: CartridgeConfig: contains "
                        "control characters (default kept)\n"
                        "CGPCloudmark.cfg:1: StateFile: contains control "
                        "characters (default kept)\n"
                        "cartridge.cfg:0: : file not found; using "
                        "defaults\n");
    assert_string_equal(cfg.cartridge_cfg_path, "cartridge.cfg");
    buf_clear(&ps.text);

    /* The default name missing (a site without a whitelist): silence. */
    write_file(".", "CGPCloudmark.cfg", "{ Threads = 2; }", 16);
    assert_int_equal(load(NULL, &cfg, &ps), 0);
    assert_int_equal(ps.n, 0);
    buf_clear(&ps.text);
    assert_int_equal(chdir(cwd), 0);
    remove_tree(dir);
    free(dir);
}

static void
test_config_unreadable_and_big(void **state)
{
    struct config cfg;
    struct problems ps;
    char *dir = make_tmpdir();
    char path[1024];
    size_t n = CAPS_CONFIG_FILE_MAX_BYTES + 1;
    char *big = malloc(n);

    (void)state;
    /* A directory in place of the file. */
    snprintf(path, sizeof(path), "%s/adir", dir);
    assert_int_equal(mkdir(path, 0700), 0);
    assert_int_equal(load(path, &cfg, &ps), 1);
    assert_non_null(strstr(problems_text(&ps), "cannot read"));
    buf_clear(&ps.text);

    /* At the cap: read (and here an empty dictionary plus blanks). */
    assert_non_null(big);
    memset(big, ' ', n);
    big[0] = '{';
    big[n - 2] = '}';
    write_file(dir, "big.cfg", big, n - 1);
    snprintf(path, sizeof(path), "%s/big.cfg", dir);
    assert_int_equal(load(path, &cfg, &ps), 0);
    assert_int_equal(ps.n, 0);
    buf_clear(&ps.text);
    /* One byte more: refused. */
    big[n - 1] = '\n';
    write_file(dir, "big.cfg", big, n);
    assert_int_equal(load(path, &cfg, &ps), 1);
    assert_non_null(strstr(problems_text(&ps), "larger than"));
    assert_default_values(&cfg);
    buf_clear(&ps.text);
    free(big);

    /* Empty file: a warning and defaults. */
    write_file(dir, "big.cfg", "  # nothing\n", 12);
    assert_int_equal(load(path, &cfg, &ps), 0);
    assert_int_equal(ps.n_warnings, 1);
    buf_clear(&ps.text);

    /* Not a dictionary. */
    write_file(dir, "big.cfg", "(a, b)", 6);
    assert_int_equal(load(path, &cfg, &ps), 1);
    assert_non_null(strstr(problems_text(&ps), "one dictionary"));
    buf_clear(&ps.text);
    remove_tree(dir);
    free(dir);
}

/* cartridge.cfg quirks: BOM, CRLF, indentation, blanks inside keys,
 * duplicate keys, favor analysis → analysis header, long lines. */
static void
test_config_cartridge_lines(void **state)
{
    struct config cfg;
    struct problems ps;
    char *dir = make_tmpdir();
    char path[1024];
    char line[400];
    const char text[] = "\xef\xbb\xbf# BOM and CRLF\r\n"
                        "micro-update port = 81\r\n"
                        "\t   micro-update timeout = 1h\r\n"
                        "FAVOR  ANALYSIS\tOVER SPEED = Yes\r\n"
                        "use envelope for ip information = no\r\n"
                        "consider empty messages spam = yes\r\n"
                        "http proxy ntlm auth = d:u:p\r\n"
                        "micro-update interval = 10s\r\n";
    size_t n;

    (void)state;
    write_file(dir, "CGPCloudmark.cfg", "{ }", 3);
    write_file(dir, "cartridge.cfg", text, sizeof(text) - 1);
    snprintf(path, sizeof(path), "%s/CGPCloudmark.cfg", dir);
    load(path, &cfg, &ps);
    if (ps.n != 0) {
        print_error("%s", problems_text(&ps));
    }
    assert_int_equal(ps.n, 0);
    assert_int_equal(cfg.cart.mu_port, 81);
    assert_int_equal(cfg.cart.mu_timeout_s, 3600);
    assert_int_equal(cfg.cart.mu_interval_s, 10);
    assert_true(cfg.cart.favor_analysis);
    assert_true(cfg.add_analysis_header);
    buf_clear(&ps.text);

    /* Longest line inih takes, then one byte more. */
    for (size_t extra = 0; extra < 2; extra++) {
        n = (size_t)snprintf(line, sizeof(line), "customer id = ");
        while (n < 198 + extra) {
            line[n++] = 'c';
        }
        line[n++] = '\n';
        write_file(dir, "cartridge.cfg", line, n);
        load(path, &cfg, &ps);
        if (extra == 0) {
            assert_int_equal(ps.n, 0);
            assert_int_equal(strlen(cfg.cart.customer_id), 198 - 14);
        } else {
            assert_string_equal(problems_text(&ps),
                                "cartridge.cfg:1: : line longer than 198 "
                                "bytes; line ignored\n");
            assert_string_equal(cfg.cart.customer_id, "");
        }
        buf_clear(&ps.text);
    }
    /* Interval below the minimum and "auto". */
    write_file(dir, "cartridge.cfg", "micro-update interval = 9s\n", 27);
    assert_int_equal(load(path, &cfg, &ps), 1);
    assert_int_equal(cfg.cart.mu_interval_s, 300);
    buf_clear(&ps.text);
    write_file(dir, "cartridge.cfg", "micro-update interval = AUTO\n", 29);
    assert_int_equal(load(path, &cfg, &ps), 0);
    assert_int_equal(cfg.cart.mu_interval_s, 300);
    buf_clear(&ps.text);
    /* A bare number is hours, as in the original product's cartridge.cfg:
     * a copied "= 24" polls daily, not every 24 seconds. */
    write_file(dir, "cartridge.cfg", "micro-update interval = 24\n", 27);
    assert_int_equal(load(path, &cfg, &ps), 0);
    assert_int_equal(cfg.cart.mu_interval_s, 24u * 3600u);
    buf_clear(&ps.text);
    write_file(dir, "cartridge.cfg", "micro-update interval = 1\n", 26);
    assert_int_equal(load(path, &cfg, &ps), 0);
    assert_int_equal(cfg.cart.mu_interval_s, 3600);
    buf_clear(&ps.text);
    write_file(dir, "cartridge.cfg", "micro-update interval = 169\n", 28);
    assert_int_equal(load(path, &cfg, &ps), 1);
    assert_int_equal(cfg.cart.mu_interval_s, 300);
    buf_clear(&ps.text);
    remove_tree(dir);
    free(dir);
}

/* Numbers: suffixes, limits at the cap and one past it. */
static void
test_config_number_limits(void **state)
{
    static const struct {
        const char *text;
        bool is_ok;
        size_t bytes;
    } cases[] = {
        {"{Max_Body_Length = 64M;}", true, 64u * 1024 * 1024},
        {"{Max_Body_Length = 67108864;}", true, 64u * 1024 * 1024},
        {"{Max_Body_Length = 67108865;}", false, 0},
        {"{Max_Body_Length = 1024;}", true, 1024},
        {"{Max_Body_Length = 1023;}", false, 0},
        {"{Max_Body_Length = 1k;}", true, 1024},
        {"{Max_Body_Length = 2G;}", false, 0},
        {"{Max_Body_Length = 99999999999999999999999M;}", false, 0},
        {"{Max_Body_Length = \"\";}", false, 0},
        {"{Max_Body_Length = M;}", false, 0},
    };
    struct config cfg;
    struct problems ps;
    char *dir = make_tmpdir();
    char path[1024];

    (void)state;
    snprintf(path, sizeof(path), "%s/CGPCloudmark.cfg", dir);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        write_file(dir, "CGPCloudmark.cfg", cases[i].text,
                   strlen(cases[i].text));
        assert_int_equal(load(path, &cfg, &ps), cases[i].is_ok ? 0 : 1);
        assert_int_equal(cfg.max_body_bytes, cases[i].is_ok
                                                 ? cases[i].bytes
                                                 : CAPS_BODY_DEFAULT_BYTES);
        buf_clear(&ps.text);
    }
    write_file(dir, "CGPCloudmark.cfg", "{Threads=64;MessageTimeout=600s;}",
               33);
    assert_int_equal(load(path, &cfg, &ps), 0);
    assert_int_equal(cfg.threads, 64);
    assert_int_equal(cfg.time_budget_ms, 600000);
    buf_clear(&ps.text);
    /* CGP's typed number form "#n" for every numeric key of this file. */
    write_file(dir, "CGPCloudmark.cfg",
               "{Threads=#8;MessageTimeout=#2000;LogLevel=#3;}", 46);
    assert_int_equal(load(path, &cfg, &ps), 0);
    assert_int_equal(cfg.threads, 8);
    assert_int_equal(cfg.time_budget_ms, 2000);
    assert_int_equal(cfg.log_level, LOG_LEVEL_DEBUG);
    buf_clear(&ps.text);
    write_file(dir, "CGPCloudmark.cfg", "{Threads=65;MessageTimeout=601s;}",
               33);
    assert_int_equal(load(path, &cfg, &ps), 2);
    assert_int_equal(cfg.threads, 0);
    assert_int_equal(cfg.time_budget_ms, 10000);
    buf_clear(&ps.text);
    /* Sixteen bar levels fit, seventeen do not. */
    write_file(dir, "CGPCloudmark.cfg",
               "{BarLevels=(1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,100);}", 54);
    assert_int_equal(load(path, &cfg, &ps), 0);
    assert_int_equal(cfg.n_bars, 16);
    assert_string_equal(config_bar_text(&cfg, 100), "XXXXXXXXXXXXXXX");
    buf_clear(&ps.text);
    write_file(dir, "CGPCloudmark.cfg",
               "{BarLevels=(0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,100);}", 56);
    assert_int_equal(load(path, &cfg, &ps), 1);
    assert_int_equal(cfg.n_bars, 7);
    buf_clear(&ps.text);
    write_file(dir, "CGPCloudmark.cfg", "{BarLevels=(100);}", 18);
    assert_int_equal(load(path, &cfg, &ps), 0);
    assert_string_equal(config_bar_text(&cfg, 100), "");
    buf_clear(&ps.text);
    write_file(dir, "CGPCloudmark.cfg", "{BarLevels=();}", 15);
    assert_int_equal(load(path, &cfg, &ps), 1);
    buf_clear(&ps.text);
    remove_tree(dir);
    free(dir);
}

static void
test_config_text_limits(void **state)
{
    struct config cfg;
    struct problems ps;
    char *dir = make_tmpdir();
    char path[1024];
    char text[600];
    size_t n;

    (void)state;
    snprintf(path, sizeof(path), "%s/CGPCloudmark.cfg", dir);
    /* A header name of CONFIG_HEADER_MAX - 1 bytes fits; one more does
     * not. */
    for (size_t extra = 0; extra < 2; extra++) {
        n = (size_t)snprintf(text, sizeof(text), "{HeaderScore=");
        for (size_t i = 0; i < CONFIG_HEADER_MAX - 1 + extra; i++) {
            text[n++] = 'h';
        }
        text[n++] = '}';
        write_file(dir, "CGPCloudmark.cfg", text, n);
        assert_int_equal(load(path, &cfg, &ps), extra);
        assert_int_equal(strlen(cfg.score_header),
                         extra == 0 ? CONFIG_HEADER_MAX - 1
                                    : strlen("X-Cloudmark-Score"));
        buf_clear(&ps.text);
    }

    /* Header lines go to CGP inside a UTF-8 string: UTF-8 is kept, a
     * Latin-1 byte (a file saved in Latin-1, or "\246" written for it)
     * is refused with the default kept. */
    n = (size_t)snprintf(text, sizeof(text),
                         "{AlertHeader=\"X-Alert: Spam m\xc3\xb6glich!\";}");
    write_file(dir, "CGPCloudmark.cfg", text, n);
    assert_int_equal(load(path, &cfg, &ps), 0);
    assert_string_equal(cfg.alert_header, "X-Alert: Spam m\xc3\xb6glich!");
    buf_clear(&ps.text);
    n = (size_t)snprintf(text, sizeof(text),
                         "{ColorHeader=\"X-Color: r\xf6t\";\n"
                         "AlertHeader=\"X-Alert: m\\246glich\";}");
    write_file(dir, "CGPCloudmark.cfg", text, n);
    assert_int_equal(load(path, &cfg, &ps), 2);
    assert_string_equal(cfg.color_header, "X-Color: red");
    assert_string_equal(cfg.alert_header, "X-Alert: possible spam!");
    assert_non_null(strstr(problems_text(&ps),
                           "CGPCloudmark.cfg:1: ColorHeader: not valid "
                           "UTF-8"));
    assert_non_null(strstr(problems_text(&ps),
                           "CGPCloudmark.cfg:2: AlertHeader: not valid "
                           "UTF-8"));
    buf_clear(&ps.text);
    remove_tree(dir);
    free(dir);
}

/* A cartridge.cfg value and what is stored of it. */
struct stored_case {
    const char *value;
    const char *stored; /* NULL: refused, default "" kept */
};

/* "key = value" for each case, alone in cartridge.cfg: a refused value
 * is one problem and keeps "", an accepted one is stored as the case
 * says, in the text field at field_offset of struct config. */
static void
check_stored_cases(const char *key, const struct stored_case *cases,
                   size_t n_cases, size_t field_offset)
{
    struct config cfg;
    struct problems ps;
    char *dir = make_tmpdir();
    char path[1024];
    char text[256];

    snprintf(path, sizeof(path), "%s/CGPCloudmark.cfg", dir);
    write_file(dir, "CGPCloudmark.cfg", "{}", 2);
    for (size_t i = 0; i < n_cases; i++) {
        int n = snprintf(text, sizeof(text), "%s = %s\n", key,
                         cases[i].value);

        write_file(dir, "cartridge.cfg", text, (size_t)n);
        assert_int_equal(load(path, &cfg, &ps),
                         cases[i].stored == NULL ? 1 : 0);
        assert_string_equal((const char *)&cfg + field_offset,
                            cases[i].stored == NULL ? "" : cases[i].stored);
        buf_clear(&ps.text);
    }
    remove_tree(dir);
    free(dir);
}

/* micro-update hostname: what the updater can put in http://host:port/.
 * A port or brackets in it made a URL curl refuses at every update while
 * CHECK-CONFIG said OK. */
static void
test_config_update_host(void **state)
{
    static const struct stored_case cases[] = {
        {"updates.example.com", "updates.example.com"},
        {"192.0.2.7", "192.0.2.7"},
        {"2001:db8::7", "2001:db8::7"},
        {"[2001:db8::7]", "2001:db8::7"},
        {"updates.example.com:8080", NULL},
        {"192.0.2.7:80", NULL},
        {"[updates.example.com]", NULL},
        {"[2001:db8::7]:80", NULL},
        {"up[dates", NULL},
        {"bad host", NULL},
    };

    (void)state;
    check_stored_cases("micro-update hostname", cases,
                       sizeof(cases) / sizeof(cases[0]),
                       offsetof(struct config, cart.mu_hostname));
}

/* http proxy: what the updater can put after "http://" in the proxy URL it
 * hands curl.  "http://proxy:3128" passed CHECK-CONFIG and became
 * "http://http://proxy:3128" ("Could not resolve proxy: http" at every
 * update); an unbracketed IPv6 address reads as a host with a port. */
static void
test_config_http_proxy(void **state)
{
    static const struct stored_case cases[] = {
        {"proxy.example.com:3128", "proxy.example.com:3128"},
        {"192.0.2.7:8080", "192.0.2.7:8080"},
        {"[2001:db8::7]:3128", "[2001:db8::7]:3128"},
        {"http://proxy.example.com:3128", "proxy.example.com:3128"},
        {"HTTP://[2001:db8::7]:3128", "[2001:db8::7]:3128"},
        {"2001:db8::7:3128", NULL},
        {"[proxy.example.com]:3128", NULL},
        {"pro]xy.example.com:3128", NULL},
        {"[2001:db8::7:3128", NULL},
        {"http://", NULL},
        {"https://proxy.example.com:3128", NULL},
        {"proxy.example.com", NULL},
        {"proxy.example.com:0", NULL},
        {":3128", NULL},
    };

    (void)state;
    check_stored_cases("http proxy", cases, sizeof(cases) / sizeof(cases[0]),
                       offsetof(struct config, cart.http_proxy));
}

/* A key given twice whose last value is refused keeps its default, as the
 * problems say ("the last one counts", "default kept"), not the earlier
 * valid value. */
static void
test_config_refused_repeat_keeps_default(void **state)
{
    static const char text[] =
        "{ Threads = 4; Threads = 99x; MessageTimeout = 2s;\n"
        "  MessageTimeout = (a); }";
    struct config cfg;
    struct config defaults;
    struct problems ps;
    char *dir = make_tmpdir();
    char path[1024];

    (void)state;
    config_defaults(&defaults);
    snprintf(path, sizeof(path), "%s/CGPCloudmark.cfg", dir);
    write_file(dir, "CGPCloudmark.cfg", text, sizeof(text) - 1);
    assert_int_equal(load(path, &cfg, &ps), 2);
    assert_non_null(strstr(problems_text(&ps), "the last one counts"));
    assert_int_equal(cfg.threads, defaults.threads);
    assert_int_equal(cfg.time_budget_ms, defaults.time_budget_ms);
    buf_clear(&ps.text);
    remove_tree(dir);
    free(dir);
}

/* A value of key (held in struct config at field_off) that is accepted
 * must be one the daily report can address, and a refused one leaves
 * the key empty: a value accepted here and refused by report_recipient
 * would make every midnight report fail while the configuration looks
 * fine. */
struct usable_case {
    const char *value;
    bool is_ok;
};

static void
check_report_key(const char *key, size_t field_off,
                 const struct usable_case *cases, size_t n_cases)
{
    struct config cfg;
    struct problems ps;
    char *dir = make_tmpdir();
    char path[1024];
    char text[256];
    char want[64];
    char rcpt[CAPS_ADDR_MAX];

    snprintf(path, sizeof(path), "%s/CGPCloudmark.cfg", dir);
    snprintf(want, sizeof(want), "%s: ", key);
    for (size_t i = 0; i < n_cases; i++) {
        int n = snprintf(text, sizeof(text), "{%s = \"%s\";}", key,
                         cases[i].value);

        write_file(dir, "CGPCloudmark.cfg", text, (size_t)n);
        assert_int_equal(load(path, &cfg, &ps), cases[i].is_ok ? 0 : 1);
        if (!cases[i].is_ok) {
            assert_non_null(strstr(problems_text(&ps), want));
            assert_string_equal((const char *)&cfg + field_off, "");
        }
        assert_int_equal(report_recipient(&cfg, rcpt, sizeof(rcpt)), CM_OK);
        buf_clear(&ps.text);
    }
    remove_tree(dir);
    free(dir);
}

static void
test_config_report_to_is_usable(void **state)
{
    static const struct usable_case cases[] = {
        {"postmaster", true},
        {"spam-admin@example.com", true},
        {"first.last+cm@mail.example.com", true},
        {"pm@x.com;boss@x.com", false},
        {"pm@x.com:boss@x.com", false},
        {"pm@[192.0.2.1]", false},
        {"pm@x@example.com", false},
        {"pm@", false},
        {"@example.com", false},
        {"pm@-example.com", false},
        {"pm@\xc3\xa9xample.com", false},
    };

    (void)state;
    check_report_key("ReportTo", offsetof(struct config, report_to), cases,
                     sizeof(cases) / sizeof(cases[0]));
}

/* The same for MainDomain, which makes the recipient postmaster@<it>
 * when ReportTo is empty. */
static void
test_config_main_domain_is_usable(void **state)
{
    static const struct usable_case cases[] = {
        {"example.com", true},
        {"mail-1.Example.COM", true},
        {"mail_gw.example.com", false},
        {"[192.0.2.1]", false},
        {"example.com:25", false},
        {".example.com", false},
        {"-example.com", false},
    };

    (void)state;
    check_report_key("MainDomain", offsetof(struct config, main_domain),
                     cases, sizeof(cases) / sizeof(cases[0]));
}

static void
test_config_null_report(void **state)
{
    struct config cfg;
    size_t n_errors = 0;

    (void)state;
    assert_int_equal(config_load("testdata/config/bad/CGPCloudmark.cfg",
                                 &cfg, NULL, NULL, &n_errors),
                     CM_OK);
    assert_true(n_errors > 20);
    assert_int_equal(config_load("testdata/config/bad/CGPCloudmark.cfg",
                                 &cfg, NULL, NULL, NULL),
                     CM_OK);
}

/* Run CHECK-CONFIG with args; its stdout goes to *out (malloc'ed). */
static int
run_check_config(char **args, int n_args, char **out)
{
    char tmpl[] = "/tmp/test_config_out.XXXXXX";
    int fd = mkstemp(tmpl);
    int saved;
    int rc;

    assert_true(fd >= 0);
    fflush(stdout);
    saved = dup(STDOUT_FILENO);
    assert_true(saved >= 0);
    assert_int_equal(dup2(fd, STDOUT_FILENO), STDOUT_FILENO);
    rc = checkconfig_main(n_args, args);
    fflush(stdout);
    assert_int_equal(dup2(saved, STDOUT_FILENO), STDOUT_FILENO);
    close(saved);
    close(fd);
    *out = read_all(tmpl);
    unlink(tmpl);
    return rc;
}

static void
test_config_check_config_command(void **state)
{
    char *out = NULL;
    char *good[] = {"CHECK-CONFIG", "-c", "conf/CGPCloudmark.cfg"};
    char *bad[] = {"CHECK-CONFIG", "-c",
                   "testdata/config/bad/CGPCloudmark.cfg"};
    char *help[] = {"check-config", "--help"};
    char *wrong[] = {"CHECK-CONFIG", "-c"};
    char *missing[] = {"CHECK-CONFIG", "-c", "testdata/config/no-such.cfg"};

    (void)state;
    assert_int_equal(run_check_config(good, 3, &out), 0);
    assert_string_equal(out, "configuration OK\n");
    free(out);
    assert_int_equal(run_check_config(bad, 3, &out), 1);
    assert_non_null(strstr(out, "testdata/config/bad/CGPCloudmark.cfg:7: "
                                "AlertThreshold: out of range"));
    assert_non_null(strstr(out, "testdata/config/bad/CGPCloudmark.cfg:22: "
                                "NoSuchKey: warning: unknown key"));
    assert_non_null(strstr(out, "testdata/config/bad/cartridge.cfg:13: "
                                "expected \"key = value\""));
    assert_non_null(strstr(out, "37 errors in the configuration\n"));
    assert_null(strstr(out, "configuration OK"));
    free(out);
    assert_int_equal(run_check_config(help, 2, &out), 0);
    assert_non_null(strstr(out, "usage: CGPCloudmark CHECK-CONFIG"));
    free(out);
    assert_int_equal(run_check_config(wrong, 2, &out), 2);
    free(out);
    /* A mistyped -c checked nothing: that is no "configuration OK". */
    assert_int_equal(run_check_config(missing, 3, &out), 1);
    assert_non_null(strstr(out, "testdata/config/no-such.cfg: not found; "
                                "nothing checked"));
    assert_null(strstr(out, "configuration OK"));
    free(out);
}

/*
 * cartridge.cfg(5): "a comment cannot follow a value on the same line".
 * libinih as Debian builds it cuts a value at a ';' after a blank, so
 * "http proxy basic auth = user:pa ;ss" became "user:pa" with nothing
 * said, and every update failed at the proxy.  The value is everything
 * after the '=', blanks around it trimmed.
 */
static void
test_config_cartridge_value_with_semicolon(void **state)
{
    static const char main_cfg[] = "{ CartridgeConfig = cartridge.cfg; }\n";
    static const char cart_cfg[] =
        "http proxy basic auth = user:pa ;ss\n"
        "customer id =  acme ; billing \t\n"
        "micro-update url = ;http://x/\n"
        "micro-update interval =5m\n";
    char *dir = make_tmpdir();
    char path[1024];
    struct config cfg;
    struct problems ps;

    (void)state;
    snprintf(path, sizeof(path), "%s/CGPCloudmark.cfg", dir);
    write_file(dir, "CGPCloudmark.cfg", main_cfg, sizeof(main_cfg) - 1);
    write_file(dir, "cartridge.cfg", cart_cfg, sizeof(cart_cfg) - 1);
    assert_int_equal(load(path, &cfg, &ps), 1);
    assert_string_equal(cfg.cart.http_proxy_auth, "user:pa ;ss");
    assert_string_equal(cfg.cart.customer_id, "acme ; billing");
    assert_string_equal(cfg.cart.mu_url, "");
    assert_non_null(strstr(problems_text(&ps),
                           "cartridge.cfg:3: micro-update url: not an "
                           "http:// or https:// URL"));
    assert_int_equal(cfg.cart.mu_interval_s, 300);
    buf_clear(&ps.text);
    remove_tree(dir);
    free(dir);
}

/*
 * With a micro-update url set, the helper loads "update public key" and
 * "update content key" at start and, when one is missing or damaged,
 * logs it and runs with updates off.  CHECK-CONFIG must say so too,
 * not "configuration OK".
 */
static void
test_config_check_config_update_keys(void **state)
{
    static const char main_cfg[] = "{ CartridgeConfig = cartridge.cfg; }\n";
    static const char cart_cfg[] =
        "micro-update url = http://127.0.0.1:9/\n"
        "update public key = keys.pub\n"
        "update content key = keys.key\n";
    char *dir = make_tmpdir();
    char path[1024];
    char *args[] = {"CHECK-CONFIG", "-c", path};
    struct updkeys_key secret;
    struct updkeys_key pub;
    struct updkeys_key content;
    struct updkeys_ring ring;
    char *out = NULL;

    (void)state;
    snprintf(path, sizeof(path), "%s/CGPCloudmark.cfg", dir);
    write_file(dir, "CGPCloudmark.cfg", main_cfg, sizeof(main_cfg) - 1);
    write_file(dir, "cartridge.cfg", cart_cfg, sizeof(cart_cfg) - 1);
    assert_int_equal(run_check_config(args, 3, &out), 1);
    assert_non_null(strstr(out, "keys.pub: update public key: "));
    assert_null(strstr(out, "configuration OK"));
    free(out);

    /* Both keys there: OK. */
    assert_int_equal(updkeys_generate(&secret, &pub, &content), CM_OK);
    memset(&ring, 0, sizeof(ring));
    ring.kind = UPDKEYS_SIGNING_PUBLIC;
    ring.keys[0] = pub;
    ring.n_keys = 1;
    snprintf(path, sizeof(path), "%s/keys.pub", dir);
    assert_int_equal(updkeys_save(path, &ring, true), CM_OK);
    ring.kind = UPDKEYS_CONTENT;
    ring.keys[0] = content;
    snprintf(path, sizeof(path), "%s/keys.key", dir);
    assert_int_equal(updkeys_save(path, &ring, true), CM_OK);
    snprintf(path, sizeof(path), "%s/CGPCloudmark.cfg", dir);
    assert_int_equal(run_check_config(args, 3, &out), 0);
    assert_string_equal(out, "configuration OK\n");
    free(out);

    /* A public key where the content key belongs: named with its line. */
    snprintf(path, sizeof(path), "%s/keys.key", dir);
    ring.kind = UPDKEYS_SIGNING_PUBLIC;
    ring.keys[0] = pub;
    assert_int_equal(updkeys_save(path, &ring, true), CM_OK);
    snprintf(path, sizeof(path), "%s/CGPCloudmark.cfg", dir);
    assert_int_equal(run_check_config(args, 3, &out), 1);
    assert_non_null(strstr(out, "keys.key:2: update content key: wrong key "
                                "type"));
    free(out);

    snprintf(path, sizeof(path), "%s/keys.pub", dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/keys.key", dir);
    unlink(path);
    remove_tree(dir);
    free(dir);
    updkeys_ring_clear(&ring);
}

/* The one spelling of a problem: ":line" only when known, "key: " only
 * when there is a key (NULL counts as none); a short buffer still ends
 * in a terminator. */
static void
test_config_problem_format(void **state)
{
    struct config_problem p = {"a.cfg", 7, "Threads", "out of range", false};
    char out[128];

    (void)state;
    config_problem_format(&p, out, sizeof(out));
    assert_string_equal(out, "a.cfg:7: Threads: out of range");
    p.line = 0;
    config_problem_format(&p, out, sizeof(out));
    assert_string_equal(out, "a.cfg: Threads: out of range");
    p.key = "";
    config_problem_format(&p, out, sizeof(out));
    assert_string_equal(out, "a.cfg: out of range");
    p.key = NULL;
    p.line = 3;
    config_problem_format(&p, out, sizeof(out));
    assert_string_equal(out, "a.cfg:3: out of range");
    config_problem_format(&p, out, 6);
    assert_string_equal(out, "a.cfg");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_defaults),
        cmocka_unit_test(test_config_bar_text),
        cmocka_unit_test(test_config_samples_are_defaults),
        cmocka_unit_test(test_config_every_key),
        cmocka_unit_test(test_config_bad_values),
        cmocka_unit_test(test_config_syntax_error),
        cmocka_unit_test(test_config_main_bom),
        cmocka_unit_test(test_config_missing_files),
        cmocka_unit_test(test_config_unreadable_and_big),
        cmocka_unit_test(test_config_cartridge_lines),
        cmocka_unit_test(test_config_number_limits),
        cmocka_unit_test(test_config_text_limits),
        cmocka_unit_test(test_config_update_host),
        cmocka_unit_test(test_config_http_proxy),
        cmocka_unit_test(test_config_refused_repeat_keeps_default),
        cmocka_unit_test(test_config_report_to_is_usable),
        cmocka_unit_test(test_config_main_domain_is_usable),
        cmocka_unit_test(test_config_null_report),
        cmocka_unit_test(test_config_check_config_command),
        cmocka_unit_test(test_config_check_config_update_keys),
        cmocka_unit_test(test_config_cartridge_value_with_semicolon),
        cmocka_unit_test(test_config_problem_format),
    };

    return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
