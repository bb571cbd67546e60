/*
 * feedback.h -- cmtool feedback DIR... -o OUTDIR: reported mail into a
 * training tree (see feedback.c; SPEC §5 "folds misclassification
 * feedback back in").
 */
#ifndef CM_FEEDBACK_H
#define CM_FEEDBACK_H

#include <stddef.h>

/* The directory under OUTDIR that holds the extracted messages; it is the
 * source name cmtool train sees, and it trusts that source's junk as
 * reported (trainfp.h). */
#define FEEDBACK_SOURCE "feedback"

/*
 * The verdict a feedback mail's path asks for: the deepest directory (or
 * the file itself) named spam, phish or ham -- any case, a ".mdir" or
 * ".mbox" suffix and a msgsrc ":n" mbox suffix allowed -- as enum
 * model_label, or -1 when none.  Pure.
 */
int feedback_label_of_path(const char *path);

/*
 * feedback_label_of_path over the components of path at or below dir
 * only: dir's own last component and those after it, so folders above
 * the DIR given on the command line never label.  path must be dir or a
 * path msgsrc made from it (dir + "/" + ..., or dir + ":n"); else -1.
 * A file given as dir itself is labelled by its own name only.  Pure.
 */
int feedback_label_below(const char *dir, const char *path);

/* argv[0] is the command word; argc counts it.  Exit status: 0 done
 * (problems with single mails are warnings), 1 an input could not be
 * read or an output could not be written, 2 bad arguments. */
int feedback_main(int argc, char **argv);

#endif
