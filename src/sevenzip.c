/*
 * sevenzip.c -- 7z signature and encrypted-header test (sevenzip.h; 7-Zip's
 * 7zFormat.txt: SignatureHeader, kEncodedHeader, Folder coders).
 *
 * SignatureHeader: '7' 'z' BC AF 27 1C, version (2), StartHeaderCRC (4),
 * NextHeaderOffset (8, from the end of these 32 bytes), NextHeaderSize
 * (8), NextHeaderCRC (4).  The coder id is searched for in the
 * descriptor rather than the descriptor parsed: it holds only numbers,
 * property ids and coder records, and 7-Zip writes the AES record as
 * the flag byte 0x24 (id size 4, has properties) then the id.  CRCs are
 * not checked (a damaged archive still hides what it hides).
 */
#include "sevenzip.h"

#include <string.h>

#include "byteorder.h"
#include "caps.h"

enum { SZ_START_LEN = 32, SZ_ENCODED_HEADER = 0x17 };

static const uint8_t sz_signature[6] = {'7', 'z', 0xbc, 0xaf, 0x27, 0x1c};
static const uint8_t sz_aes_coder[5] = {0x24, 0x06, 0xf1, 0x07, 0x01};

bool
sevenzip_is_7z(const uint8_t *p, size_t len)
{
    return p != NULL && len >= sizeof(sz_signature) &&
           memcmp(p, sz_signature, sizeof(sz_signature)) == 0;
}

bool
sevenzip_headers_encrypted(const uint8_t *p, size_t len)
{
    uint64_t off;
    uint64_t size;
    size_t at;
    size_t n;

    if (!sevenzip_is_7z(p, len) || len < SZ_START_LEN) {
        return false;
    }
    off = byteorder_le64(p + 12);
    size = byteorder_le64(p + 20);
    if (off >= len - SZ_START_LEN || size < 1) {
        return false;
    }
    at = SZ_START_LEN + (size_t)off;
    if (p[at] != SZ_ENCODED_HEADER) {
        return false;
    }
    n = len - at;
    n = size < n ? (size_t)size : n;
    n = n < CAPS_SEVENZIP_DESCRIPTOR_BYTES ? n : CAPS_SEVENZIP_DESCRIPTOR_BYTES;
    for (size_t i = 1; i + sizeof(sz_aes_coder) <= n; i++) {
        if (memcmp(p + at + i, sz_aes_coder, sizeof(sz_aes_coder)) == 0) {
            return true;
        }
    }
    return false;
}
