/*
 * train-int.h -- pieces of train.c its unit test calls directly.  Not
 * for other modules.
 */
#ifndef CM_TRAIN_INT_H
#define CM_TRAIN_INT_H

#include <stdint.h>

struct mime_doc;

/*
 * The sender a training message is grouped by (folds never split one
 * sender; reputation counts per sender): a hash of the lower-cased From
 * address, read as the engine reads it (mime_header_addr_text: before
 * RFC 2047 decoding when the raw value holds an address), or of the
 * whole From value when it has no "@".  A message without From is a
 * sender of its own (path).  Pure; any thread.
 */
uint64_t train_sender_key(const struct mime_doc *doc, const char *path);

#endif
