/*
 * update.h -- CGPCloudmark UPDATE [-c FILE]: one micro-update cycle now in
 * the current directory's configuration (SPEC §9, issue #4).
 */
#ifndef CM_UPDATE_H
#define CM_UPDATE_H

/* argv[0] is the command word; argc counts it.  Exit status: 0 a newer
 * cartridge was installed in the cache, 1 already current, 2 unusable
 * configuration or arguments, 3 network or server error, 4 the update was
 * refused (signature, key, decryption, version, size or digest, expiry,
 * format), 5 the cache could not be written.  The message says what. */
int update_main(int argc, char **argv);

#endif
