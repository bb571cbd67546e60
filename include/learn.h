/*
 * learn.h -- CGPCloudmark LEARN spam|ham (see learn.c).
 */
#ifndef CM_LEARN_H
#define CM_LEARN_H

/* The LEARN command; argv[0] is "LEARN".  Returns the exit status. */
int learn_main(int argc, char **argv);

#endif
