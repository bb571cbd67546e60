/*
 * cmtool.c -- the publisher's tool: command dispatch.
 *
 *   cmtool train DIR... -o FILE     train a cartridge from labelled mail
 *   cmtool inspect FILE             print a cartridge, manifest or update
 *   cmtool keygen DIR               make signing and content keys
 *   cmtool publish CART WEBROOT     publish a cartridge as micro-updates
 */
#include <stdio.h>
#include <string.h>

#include "inspect.h"
#include "keygen.h"
#include "publish.h"
#include "train.h"

static void
usage(FILE *to)
{
    fprintf(to, "usage: cmtool train [--version N] DIR... -o FILE\n"
                "       cmtool inspect [-k KEYDIR] FILE\n"
                "       cmtool keygen [--force|--rotate] DIR\n"
                "       cmtool publish CARTRIDGE WEBROOT -k KEYDIR "
                "[--version N] [--expires-days D] [--keep K] "
                "[--history DIR]\n"
                "       cmtool <command> --help\n");
}

int
main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "train") == 0) {
        return train_main(argc - 1, argv + 1);
    }
    if (strcmp(argv[1], "keygen") == 0) {
        return keygen_main(argc - 1, argv + 1);
    }
    if (strcmp(argv[1], "publish") == 0) {
        return publish_main(argc - 1, argv + 1);
    }
    if (strcmp(argv[1], "inspect") == 0) {
        return inspect_main(argc - 1, argv + 1);
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "cmtool: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
