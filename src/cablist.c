/*
 * cablist.c -- member names of a Microsoft cabinet (cablist.h).
 *
 * CFHEADER: "MSCF", reserved(4), cbCabinet(4), reserved(4), coffFiles(4)
 * at 16, reserved(4), version(2), cFolders(2) at 26, cFiles(2) at 28,
 * flags(2), setID(2), iCabinet(2).  CFFILE: cbFile(4), uoffFolderStart(4),
 * iFolder(2), date(2), time(2), attribs(2), then szName with its NUL.
 */
#include "cablist.h"

#include <string.h>

#include "byteorder.h"
#include "caps.h"

enum {
    CAB_HEADER_LEN = 36,
    CAB_FILE_LEN = 16,
    CAB_NAME_MAX = 256 /* szName, without its NUL ([MS-CAB] 2.3) */
};

bool
cablist_is_cab(const uint8_t *p, size_t len)
{
    return p != NULL && len >= 8 && memcmp(p, "MSCF\0\0\0\0", 8) == 0;
}

void
cablist_init(struct cablist *c, const uint8_t *p, size_t len)
{
    uint32_t off;

    memset(c, 0, sizeof(*c));
    c->p = p;
    c->len = p != NULL ? len : 0;
    c->at = c->len;
    if (!cablist_is_cab(p, c->len) || c->len < CAB_HEADER_LEN) {
        c->flags |= p != NULL && c->len > 0 ? CABLIST_BROKEN : 0u;
        return;
    }
    off = byteorder_le32(p + 16);
    c->left = byteorder_le16(p + 28);
    c->at = off < c->len ? (size_t)off : c->len;
    if (c->left > 0 && off >= c->len) {
        c->flags |= CABLIST_BROKEN;
    }
}

bool
cablist_next(struct cablist *c, struct cablist_member *m)
{
    const uint8_t *name;
    size_t room;
    const uint8_t *nul;

    if (c->left == 0 || c->at >= c->len) {
        c->at = c->len;
        return false;
    }
    if (c->n_listed >= CAPS_CABLIST_MEMBERS_MAX) {
        c->flags |= CABLIST_CAPPED;
        c->at = c->len;
        return false;
    }
    if (c->len - c->at <= CAB_FILE_LEN) {
        c->flags |= CABLIST_BROKEN;
        c->at = c->len;
        return false;
    }
    name = c->p + c->at + CAB_FILE_LEN;
    room = c->len - c->at - CAB_FILE_LEN;
    nul = memchr(name, '\0', room < CAB_NAME_MAX + 1 ? room : CAB_NAME_MAX + 1);
    if (nul == NULL) {
        c->flags |= CABLIST_BROKEN;
        c->at = c->len;
        return false;
    }
    m->name = name;
    m->name_len = (size_t)(nul - name);
    c->at += CAB_FILE_LEN + m->name_len + 1;
    c->left--;
    c->n_listed++;
    return true;
}
