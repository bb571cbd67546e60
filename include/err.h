/*
 * err.h -- status codes shared by every module.
 *
 * A function that can fail returns enum cm_err; CM_OK is 0 so calls chain
 * with ||.  Outputs are left untouched on failure.
 */
#ifndef CM_ERR_H
#define CM_ERR_H

enum cm_err {
    CM_OK = 0,
    CM_ENOMEM,   /* allocation failed or arena budget exhausted */
    CM_EIO,      /* read/write/open failed; errno has the detail */
    CM_ENOENT,   /* file does not exist */
    CM_ENOTREG,  /* not a regular file (directory, FIFO, device) */
    CM_EPARSE,   /* input does not follow its grammar */
    CM_ELIMIT,   /* a cap from caps.h was hit */
    CM_EINVAL,   /* bad argument or configuration value */
    CM_ECRYPTO,  /* decryption or key failure */
    CM_ESIG,     /* signature verification failed */
    CM_EKEY,     /* unknown key id */
    CM_EVERSION, /* unknown format or version not newer */
    CM_EDIGEST,  /* size or digest mismatch */
    CM_ETIMEOUT, /* time budget exceeded */
    CM_EEXPIRED, /* signed data past its expiry */
    CM_ENET      /* network transfer failed */
};

/* Static text for a code; never NULL. Thread-safe. */
const char *cm_strerror(enum cm_err err);

#endif
