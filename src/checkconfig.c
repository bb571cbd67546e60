/*
 * checkconfig.c -- CGPCloudmark CHECK-CONFIG [-c FILE] (SPEC §8).
 *
 * Loads CGPCloudmark.cfg (the given file, or CGPCloudmark.cfg in the
 * current directory), the cartridge.cfg and whitelist.cfg it names, exactly
 * as the helper does (and, when micro-updates are configured, the two key
 * files the updater loads), and prints one line per problem on stdout:
 *
 *   file:line: key: problem
 *   file:line: key: warning: problem
 *
 * (":line" is left out when the problem is about the whole file, "key: "
 * when it is not about one key).  Exit status: 0 and "configuration OK"
 * when there is no error (warnings allowed), 1 when there is at least one
 * error or the main file does not exist (nothing was checked), 2 for
 * unusable arguments.  CLI command: single thread, prints
 * to stdout and stderr directly.
 */
#include "checkconfig.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "updater.h"
#include "updkeys.h"
#include "whitelist.h"

static void
usage(FILE *to)
{
    fprintf(to,
            "usage: CGPCloudmark CHECK-CONFIG [-c CGPCloudmark.cfg]\n"
            "Checks CGPCloudmark.cfg and the cartridge.cfg and whitelist.cfg "
            "it names.\n"
            "Prints file:line: key: problem for each problem; exits 0 when "
            "there is no error, 1 otherwise.\n");
}

static void
print_problem(void *ctx, const struct config_problem *p)
{
    (void)ctx;
    if (p->line > 0) {
        printf("%s:%u: ", p->file, p->line);
    } else {
        printf("%s: ", p->file);
    }
    if (p->key != NULL && p->key[0] != '\0') {
        printf("%s: ", p->key);
    }
    printf("%s%s\n", p->is_warning ? "warning: " : "", p->problem);
}

/* The helper runs on defaults without its file, but a check that read
 * nothing must not say "configuration OK": a mistyped -c, or a run from
 * the wrong directory, would pass for a clean configuration. */
static bool
is_missing(const char *path)
{
    if (access(path, F_OK) == 0 || errno != ENOENT) {
        return false; /* other errors: config_load reports them */
    }
    printf("%s: not found; nothing checked (the helper would run on the "
           "defaults)\n",
           path);
    fflush(stdout);
    return true;
}

/* One key file as the updater loads it; a problem is reported under the
 * key file's path and line and the cartridge.cfg key that names it. */
static size_t
check_key_file(const char *path, enum updkeys_kind kind, const char *key)
{
    struct updkeys_ring *ring = malloc(sizeof(*ring));
    struct config_problem p;
    size_t line = 0;
    const char *why = NULL;
    enum cm_err rc;

    if (ring == NULL) {
        return 1;
    }
    rc = updkeys_load(path, kind, ring, &line, &why);
    updkeys_ring_clear(ring);
    free(ring);
    if (rc == CM_OK) {
        return 0;
    }
    p.file = path;
    p.line = line > UINT_MAX ? 0 : (unsigned)line;
    p.key = key;
    p.problem = why != NULL ? why : cm_strerror(rc);
    p.is_warning = false;
    print_problem(NULL, &p);
    return 1;
}

/*
 * With a micro-update url or hostname set, the helper loads both key
 * files at start and runs with updates off when one is missing or
 * unusable (a log line): a check that says "configuration OK" there
 * would hide that no update will ever be installed.
 */
static size_t
check_update_keys(const struct config *cfg)
{
    if (!updater_is_configured(cfg)) {
        return 0;
    }
    return check_key_file(cfg->cart.public_key_path, UPDKEYS_SIGNING_PUBLIC,
                          "update public key") +
           check_key_file(cfg->cart.content_key_path, UPDKEYS_CONTENT,
                          "update content key");
}

int
checkconfig_main(int argc, char **argv)
{
    const char *path = NULL;
    struct config cfg;
    struct whitelist *wl = NULL;
    size_t n_errors = 0;
    size_t n_wl_errors = 0;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(argv[i], "-c") == 0 && i + 1 < argc && path == NULL) {
            path = argv[++i];
            continue;
        }
        fprintf(stderr, "CGPCloudmark CHECK-CONFIG: unexpected argument "
                        "'%s'\n", argv[i]);
        usage(stderr);
        return 2;
    }
    if (is_missing(path != NULL ? path : CONFIG_DEFAULT_MAIN)) {
        return 1;
    }
    if (config_load(path, &cfg, print_problem, NULL, &n_errors) != CM_OK) {
        fflush(stdout);
        fprintf(stderr, "CGPCloudmark CHECK-CONFIG: out of memory\n");
        return 1;
    }
    if (whitelist_load(cfg.whitelist_cfg_path, &wl, print_problem, NULL,
                       &n_wl_errors) != CM_OK) {
        fflush(stdout);
        fprintf(stderr, "CGPCloudmark CHECK-CONFIG: out of memory\n");
        return 1;
    }
    whitelist_free(wl);
    n_errors += check_update_keys(&cfg);
    if (n_errors + n_wl_errors > 0) {
        printf("%zu error%s in the configuration\n", n_errors + n_wl_errors,
               n_errors + n_wl_errors == 1 ? "" : "s");
        fflush(stdout);
        return 1;
    }
    printf("configuration OK\n");
    fflush(stdout);
    return 0;
}
