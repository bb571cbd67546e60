/*
 * train.h -- cmtool train DIR... -o FILE [--version N]: trains a cartridge from ham/ spam/ phish/ folders.
 */
#ifndef CM_TRAIN_H
#define CM_TRAIN_H

/* argv[0] is the command word; argc counts it. */
int train_main(int argc, char **argv);

#endif
