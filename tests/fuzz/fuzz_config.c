/*
 * fuzz_config.c -- libFuzzer target for config_load: the CGPCloudmark.cfg
 * dictionary and the cartridge.cfg lines (libinih behind our line reader).
 *
 * The input is split at the first "\n%%\n": before it CGPCloudmark.cfg,
 * after it cartridge.cfg (no separator: cartridge.cfg is missing).  Both
 * are written to a scratch directory made once, because config_load reads
 * files.  Invariants: loading never fails but for memory; every problem
 * names file and key and says what is wrong; every value that reaches the
 * answer or the logs is a terminated, single-line string; numeric values
 * stay within their keys' bounds; the bars cover 0..100.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "caps.h"
#include "charset.h"
#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fuzz_dir[] = "/tmp/fuzz_config.XXXXXX";
static char fuzz_main[sizeof(fuzz_dir) + 32];
static char fuzz_cart[sizeof(fuzz_dir) + 32];

static void
check(int ok)
{
    if (!ok) {
        abort();
    }
}

static void
fuzz_cleanup(void)
{
    unlink(fuzz_main);
    unlink(fuzz_cart);
    rmdir(fuzz_dir);
}

static void
fuzz_init(void)
{
    if (fuzz_main[0] != '\0') {
        return;
    }
    check(mkdtemp(fuzz_dir) != NULL);
    snprintf(fuzz_main, sizeof(fuzz_main), "%s/CGPCloudmark.cfg", fuzz_dir);
    snprintf(fuzz_cart, sizeof(fuzz_cart), "%s/cartridge.cfg", fuzz_dir);
    atexit(fuzz_cleanup);
}

static void
write_file(const char *path, const uint8_t *p, size_t len)
{
    FILE *f;

    /* A fresh file, not a truncated one: ext4 flushes a file truncated
     * and rewritten on close, which made every run wait for the disk. */
    unlink(path);
    f = fopen(path, "wb");
    check(f != NULL);
    check(fwrite(p, 1, len, f) == len);
    check(fclose(f) == 0);
}

static void
on_problem(void *ctx, const struct config_problem *p)
{
    size_t *n = ctx;

    check(p->file != NULL && p->key != NULL && p->problem != NULL &&
          p->problem[0] != '\0');
    (*n) += !p->is_warning;
}

/* A terminated string of printable bytes (no CR, LF or other control). */
static void
check_text(const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);

    check(n < cap);
    for (size_t i = 0; i < n; i++) {
        check((unsigned char)s[i] >= 0x20 && (unsigned char)s[i] != 0x7f);
    }
}

static void
check_config(const struct config *c)
{
    check_text(c->junk_header, sizeof(c->junk_header));
    check_text(c->score_header, sizeof(c->score_header));
    check_text(c->alert_header, sizeof(c->alert_header));
    check_text(c->color_header, sizeof(c->color_header));
    check_text(c->report_time, sizeof(c->report_time));
    check_text(c->report_to, sizeof(c->report_to));
    check_text(c->main_domain, sizeof(c->main_domain));
    check_text(c->cart.mu_url, sizeof(c->cart.mu_url));
    check_text(c->cart.mu_hostname, sizeof(c->cart.mu_hostname));
    check_text(c->cart.http_proxy, sizeof(c->cart.http_proxy));
    check_text(c->cart.customer_id, sizeof(c->cart.customer_id));
    /* Header lines go into CGP's UTF-8 answer strings. */
    check(charset_utf8_valid((const uint8_t *)c->alert_header,
                             strlen(c->alert_header)));
    check(charset_utf8_valid((const uint8_t *)c->color_header,
                             strlen(c->color_header)));
    /* The updater brackets an IPv6 host itself and adds the port. */
    check(strchr(c->cart.mu_hostname, '[') == NULL &&
          strchr(c->cart.mu_hostname, ']') == NULL);
    /* Paths end up in problem lines and log lines: one line each. */
    check_text(c->state_path, sizeof(c->state_path));
    check_text(c->sitelayer_path, sizeof(c->sitelayer_path));
    check_text(c->submitted_dir, sizeof(c->submitted_dir));
    check_text(c->cartridge_cfg_path, sizeof(c->cartridge_cfg_path));
    check_text(c->whitelist_cfg_path, sizeof(c->whitelist_cfg_path));
    check_text(c->cart.cache_path, sizeof(c->cart.cache_path));
    check_text(c->cart.public_key_path, sizeof(c->cart.public_key_path));
    check_text(c->cart.content_key_path, sizeof(c->cart.content_key_path));
    check(strnlen(c->cart.http_proxy_auth, sizeof(c->cart.http_proxy_auth)) <
          sizeof(c->cart.http_proxy_auth));
    check(c->alert_threshold <= 101 && c->minimum_score <= 100);
    check(c->max_body_bytes >= 1024 &&
          c->max_body_bytes <= CAPS_BODY_CEILING_BYTES);
    check(c->threads <= CAPS_THREADS_MAX);
    check(c->intf_max >= 2 && c->intf_max <= 4);
    check(c->fail_answer == CONFIG_FAIL_OK ||
          c->fail_answer == CONFIG_FAIL_FAILURE);
    check(c->cart.mu_port >= 1 && c->cart.mu_port <= 65535);
    check(c->cart.mu_timeout_s >= 1 && c->cart.mu_timeout_s <= 3600);
    check(c->n_bars >= 1 && c->n_bars <= CONFIG_BARS_MAX);
    check(c->bars[c->n_bars - 1].max_score == 100);
    for (unsigned s = 0; s <= 100; s++) {
        const char *bar = config_bar_text(c, s);
        check(bar != NULL && strlen(bar) < sizeof(c->bars[0].text));
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct config *cfg = malloc(sizeof(*cfg));
    const uint8_t *sep = NULL;
    size_t n_problems = 0;
    size_t n_errors = 0;

    if (cfg == NULL) {
        return 0;
    }
    fuzz_init();
    for (size_t i = 0; i + 4 <= size; i++) {
        if (memcmp(data + i, "\n%%\n", 4) == 0) {
            sep = data + i;
            break;
        }
    }
    if (sep == NULL) {
        write_file(fuzz_main, data, size);
        unlink(fuzz_cart);
    } else {
        write_file(fuzz_main, data, (size_t)(sep - data) + 1);
        write_file(fuzz_cart, sep + 4, size - (size_t)(sep - data) - 4);
    }
    check(config_load(fuzz_main, cfg, on_problem, &n_problems, &n_errors) ==
          CM_OK);
    check(n_errors == n_problems);
    check_config(cfg);
    free(cfg);
    return 0;
}
