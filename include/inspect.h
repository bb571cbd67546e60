/*
 * inspect.h -- cmtool inspect FILE: prints what a cartridge (later also manifest, update file) holds.
 */
#ifndef CM_INSPECT_H
#define CM_INSPECT_H

/* argv[0] is the command word; argc counts it. */
int inspect_main(int argc, char **argv);

#endif
