/*
 * cmtool.c -- the publisher's tool: command dispatch.
 *
 *   cmtool train DIR... -o FILE     train a cartridge from labelled mail
 *   cmtool feedback DIR... -o OUTDIR  reported mail into a training tree
 *   cmtool inspect FILE             print a cartridge, manifest or update
 *   cmtool reputation IN -o OUT     replace a cartridge's reputation lists
 *   cmtool keygen DIR               make signing and content keys
 *   cmtool publish CART WEBROOT     publish a cartridge as micro-updates
 *   cmtool help [command]           usage (same as <command> --help)
 */
#include <stdio.h>
#include <string.h>

#include "cmdtab.h"
#include "feedback.h"
#include "inspect.h"
#include "keygen.h"
#include "log.h"
#include "publish.h"
#include "repcmd.h"
#include "train.h"

static void
usage(FILE *to)
{
    fprintf(to, "usage: cmtool train [--version N] DIR... -o FILE\n"
                "       cmtool feedback [--label spam|phish|ham] DIR... "
                "-o OUTDIR\n"
                "       cmtool inspect [--all] [-k KEYDIR] [--public FILE] "
                "[--content FILE] FILE\n"
                "       cmtool reputation IN.cmc [--list FILE]... [--merge] "
                "[--version N] -o OUT.cmc\n"
                "       cmtool keygen [--force|--rotate] DIR\n"
                "       cmtool publish CARTRIDGE WEBROOT -k KEYDIR "
                "[--version N] [--expires-days D]\n"
                "                      [--keep K] [--history DIR]\n"
                "       cmtool publish --refresh WEBROOT -k KEYDIR "
                "[--expires-days D]\n"
                "       cmtool help [command]\n"
                "       cmtool <command> --help\n"
                "See cmtool(1).\n");
}

static const struct cmdtab_command commands[] = {
    {"train", train_main},
    {"feedback", feedback_main},
    {"inspect", inspect_main},
    {"reputation", repcmd_main},
    {"keygen", keygen_main},
    {"publish", publish_main},
};

static const struct cmdtab table = {
    "cmtool", commands, sizeof(commands) / sizeof(commands[0]), false, usage,
};

int
main(int argc, char **argv)
{
    static char program[] = "cmtool";

    /* Its warnings on stderr are cmtool's, not the helper's. */
    log_setup(NULL, program, LOG_LEVEL_INFO);
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "help") == 0) {
        return cmdtab_help(&table, argc - 1, argv + 1);
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return 0;
    }
    return cmdtab_run(&table, argc - 1, argv + 1);
}
