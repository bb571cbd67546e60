/*
 * update.c -- CGPCloudmark UPDATE [-c FILE]: one micro-update cycle from
 * the shell (SPEC §9; the cycle itself is updater_run_once).
 *
 * Reads CGPCloudmark.cfg (current directory, or -c) and the cartridge.cfg
 * it names, starts from the cartridge the helper would start with (newest
 * cached, else the embedded default), and runs one cycle: manifest, file,
 * verification, cache.  A running helper picks the new cartridge up at its
 * next cycle or restart.  Messages go to stdout (success) or stderr
 * (failure); the exit status says what happened (update.h).
 */
#include "update.h"

#include <stdio.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "updater.h"

static void
usage(FILE *to)
{
    fprintf(to,
            "usage: CGPCloudmark UPDATE [-c CGPCloudmark.cfg]\n"
            "  runs one micro-update cycle now with the configured server,"
            " keys and cache.\n"
            "  exit 0: a newer cartridge was installed in the cache; 1: "
            "already current;\n"
            "  2: unusable configuration or out of memory; 3: network or "
            "server error;\n  4: update refused"
            " (signature, key, decryption, version, size, digest, expiry,\n"
            "  format);"
            " 5: the cache could not be written.\n");
}

static int
exit_status(enum cm_err err)
{
    if (err == CM_OK) {
        return 0;
    }
    if (err == CM_ENET || err == CM_ETIMEOUT) {
        return 3;
    }
    if (err == CM_EIO || err == CM_ENOENT || err == CM_ENOTREG) {
        return 5;
    }
    if (err == CM_EINVAL || err == CM_ENOMEM) {
        return 2;
    }
    return 4;
}

int
update_main(int argc, char **argv)
{
    static struct config cfg;
    struct updater_result res;
    const char *cfg_path = NULL;
    enum cm_err rc;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
            cfg_path = argv[++i];
            continue;
        }
        usage(stderr);
        return 2;
    }
    /* A mistyped -c would run on the defaults and blame cartridge.cfg
     * ("micro-updates are off"): name the real problem. */
    if (!config_given_file_exists("CGPCloudmark UPDATE", cfg_path)) {
        return 2;
    }
    if (config_load(cfg_path, &cfg, config_problem_log, NULL, NULL) != CM_OK) {
        fprintf(stderr, "CGPCloudmark UPDATE: out of memory reading the "
                        "configuration\n");
        return 2;
    }
    rc = updater_run_once(&cfg, &res);
    if (res.outcome == UPDATER_INSTALLED) {
        printf("%s\n", res.why);
        return 0;
    }
    if (res.outcome == UPDATER_CURRENT) {
        printf("%s\n", res.why);
        return 1;
    }
    fprintf(stderr, "CGPCloudmark UPDATE: %s\n", res.why);
    return exit_status(rc);
}
