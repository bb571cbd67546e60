/*
 * keygen.h -- cmtool keygen [--rotate] [--force] DIR: writes the
 * micro-update keys DIR/signing.key, DIR/signing.pub and DIR/content.key
 * (SPEC §5; key file format in updkeys.h).
 */
#ifndef CM_KEYGEN_H
#define CM_KEYGEN_H

/* argv[0] is the command word; argc counts it.  Returns the exit status:
 * 0 done, 2 bad usage or nothing written. */
int keygen_main(int argc, char **argv);

#endif
