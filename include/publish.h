/*
 * publish.h -- cmtool publish CARTRIDGE WEBROOT -k KEYDIR: writes the
 * static micro-update tree (manifest, full and delta *.cmu) that any HTTP
 * server serves (SPEC §5), and the inspect view of those files.
 */
#ifndef CM_PUBLISH_H
#define CM_PUBLISH_H

/* argv[0] is the command word; argc counts it.  Exit status: 0 published,
 * 2 bad usage, 3 refused (version, keys, cartridge), 4 I/O failure. */
int publish_main(int argc, char **argv);

/* publish_inspect_main's answer when FILE is neither a manifest nor an
 * update file (nothing printed then). */
#define PUBLISH_INSPECT_NOT_MINE (-1)

/*
 * cmtool inspect [--all] [-k KEYDIR] [--public FILE] [--content FILE] FILE
 * for a manifest or an update file: prints the header or fields, and with
 * keys verifies the signature, decrypts, inflates and checks the payload
 * (--all changes nothing: these are always shown whole).  -h and --help
 * are inspect_main's to answer.
 * argv[0] is the command word.  Returns PUBLISH_INSPECT_NOT_MINE when FILE
 * is not one of these formats (the caller handles it, e.g. a cartridge),
 * else the exit status: 0 everything checked out (or no keys were given
 * and the file is shown unverified), 1 a check failed, 2 bad usage or
 * unreadable, including keys given without a signing public key (a -k
 * directory without signing.pub, --content alone): nothing is printed
 * then, as the signature asked about cannot be verified.
 */
int publish_inspect_main(int argc, char **argv);

#endif
