/*
 * hdrname.h -- the header field names the content features look at, and
 * what each one means to them (features.c header_features).
 *
 * One lookup per header field replaces a walk over the sender-side and
 * bulk-marker name lists with a string compare per entry (issue #7: that
 * walk was about 4% of all RATE instructions).  The lists themselves
 * (which fields are sender-side, which are bulk markers) are part of the
 * feature set: changing them changes feature ids and needs a
 * FEATURES_VERSION bump (featureset.h).
 *
 * Pure, no state, any thread.  Engine layer.
 */
#ifndef CM_HDRNAME_H
#define CM_HDRNAME_H

#include <stddef.h>

enum hdrname_role {
    HDRNAME_SENDER = 1u << 0,     /* sender-side field: "h:<name>" feature */
    HDRNAME_BULK = 1u << 1,       /* bulk marker: restricted "h:<name>" */
    HDRNAME_BULK_LIST = 1u << 2,  /* List-Unsubscribe(-Post), List-Id: the
                                     message is bulk mail */
    HDRNAME_DATE = 1u << 3,       /* Date */
    HDRNAME_MESSAGE_ID = 1u << 4, /* Message-ID */
    HDRNAME_THREAD = 1u << 5,     /* In-Reply-To, References */
    HDRNAME_PRECEDENCE = 1u << 6, /* Precedence */
    HDRNAME_MAILER = 1u << 7,     /* X-Mailer, User-Agent */
    HDRNAME_PRIORITY = 1u << 8    /* X-Priority */
};

/*
 * The enum hdrname_role bits of the lower-case field name (name, len);
 * 0 for a name the features do not look at.  name need not be
 * terminated; bytes are compared exactly (the caller lower-cases).
 */
unsigned hdrname_roles(const char *name, size_t len);

/* hdrname_roles of the field name as written (ASCII capitals count as
 * lower case), so a caller lower-cases only the names that have roles:
 * most fields of a message have none (issue #7). */
unsigned hdrname_roles_ci(const char *name, size_t len);

#endif
