/*
 * repcmd.h -- cmtool reputation IN.cmc [--list FILE]... [--merge]
 * [--version N] -o OUT.cmc: replaces the REPUTATION section of a
 * cartridge without retraining (a publisher pushes a list change fast).
 */
#ifndef CM_REPCMD_H
#define CM_REPCMD_H

/* argv[0] is the command word; argc counts it. */
int repcmd_main(int argc, char **argv);

#endif
