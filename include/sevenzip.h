/*
 * sevenzip.h -- what can be told about a 7z archive without an LZMA
 * decoder: whether it is one, and whether its header (the member names)
 * is encrypted (7-Zip's -mhe, "encrypt file names").
 *
 * 7-Zip compresses the header by default; reading names would need LZMA,
 * a dependency we do not take, so 7z members are not listed (see
 * rules_archive.c).  An encrypted header, though, is visible in the
 * small plain descriptor in front of it: the start header (32 bytes)
 * points to the next header, which for a compressed one is
 * kEncodedHeader (0x17) and a folder whose coders include AES-256
 * (method id 06 F1 07 01, written after its flag byte 0x24).  Such an
 * archive hides its names from every scanner, as a RAR with encrypted
 * headers does.
 *
 * Bounded: at most CAPS_SEVENZIP_DESCRIPTOR_BYTES of the descriptor are
 * searched; offsets are checked against the data.  Pure: no allocation,
 * no I/O; any thread.  Formats layer.
 */
#ifndef CM_SEVENZIP_H
#define CM_SEVENZIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* True when (p, len) starts with the 7z signature. */
bool sevenzip_is_7z(const uint8_t *p, size_t len);

/* True when (p, len) is a 7z whose header is encrypted. */
bool sevenzip_headers_encrypted(const uint8_t *p, size_t len);

#endif
