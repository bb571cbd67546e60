/*
 * charset.c -- MIME charset labels to UTF-8 (see charset.h).
 *
 * DESIGN
 * - A label is folded once: lower-cased, quotes and blanks stripped, then
 *   looked up by its key (no "x-" prefix, no '-' or '_') in a small alias
 *   table that maps it to an in-code decoder (ASCII, UTF-8, windows-1252,
 *   and tables generated from glibc for windows-1250/1251/1256, koi8-r,
 *   iso-8859-2/15: the same output as iconv, without its per-call cost) or
 *   to the glibc iconv name of a superset (gb2312 → GB18030,
 *   ks_c_5601-1987 → CP949, shift_jis → CP932, big5 → BIG5-HKSCS,
 *   iso-8859-1 → windows-1252 as in the WHATWG Encoding standard).
 *   Labels not in the table go to iconv as written (and, if it refuses
 *   that, with '_' as '-'), but only if they consist of [a-z0-9._:-], so
 *   a label cannot smuggle "//IGNORE".
 * - The in-code paths copy ASCII eight bytes at a time and validate UTF-8
 *   strictly (no overlongs, surrogates or code points past U+10FFFF).  Text
 *   labelled us-ascii (or not labelled) that holds 8-bit bytes is taken as
 *   UTF-8 where it validates and as windows-1252 elsewhere: that is what
 *   such mail almost always is.
 * - iconv errors never stop conversion: an invalid sequence becomes U+FFFD
 *   and one code unit is skipped (a byte; 2 or 4 bytes of UTF-16/32 and
 *   UCS-2/4).  A label iconv refuses is remembered in the cache (negative
 *   entry) and decoded as windows-1252.
 * - State: the caller's struct charset_cache (one per message/thread), and
 *   one process-wide table of "pins": the first descriptor opened for each
 *   iconv charset is kept open until exit.  glibc unloads a gconv module
 *   (dlclose, munmap) soon after its last descriptor closes, so without a
 *   pin every message in, say, gb2312 paid a dlopen and an munmap, whose
 *   TLB shoot-down stalls every other thread (1,500 module loads over the
 *   33,934-message corpus).  The modules are process-wide already; the pin
 *   table only mirrors them, so it is global on purpose.  Bounded by
 *   CHARSET_PINS_MAX, guarded by pin_lock.
 * Limits: output never exceeds out_max and never ends in a partial
 * character.  RFC 2045 5.1 (charset parameter), RFC 2978 (labels).
 */
#include "charset.h"

#include <errno.h>
#include <iconv.h>
#include <pthread.h>
#include <string.h>

#include "swar.h"

enum charset_kind {
    CHARSET_KIND_ASCII, /* us-ascii or no label: UTF-8, else cp1252 */
    CHARSET_KIND_UTF8,
    CHARSET_KIND_CP1252,
    CHARSET_KIND_SBCS, /* a single-byte table here, the same as glibc's */
    CHARSET_KIND_ICONV,
    CHARSET_KIND_BAD /* not a usable label at all */
};

struct charset_alias {
    const char *label;
    enum charset_kind kind;
    const char *iconv_name; /* for CHARSET_KIND_ICONV; for
                               CHARSET_KIND_SBCS the table's glibc name */
};

/* Sorted by label (strcmp order) for bsearch-style lookup.  Labels are
 * written as label_key() leaves them: "utf8" finds utf-8, UTF_8 and
 * x-utf-8, "iso88591" finds iso-8859-1, iso_8859-1 and iso88591. */
static const struct charset_alias charset_aliases[] = {
    {"646", CHARSET_KIND_ASCII, NULL},
    {"88591", CHARSET_KIND_CP1252, NULL},
    {"ansix3.41968", CHARSET_KIND_ASCII, NULL},
    {"ascii", CHARSET_KIND_ASCII, NULL},
    {"big5", CHARSET_KIND_ICONV, "BIG5-HKSCS"},
    {"big5hkscs", CHARSET_KIND_ICONV, "BIG5-HKSCS"},
    {"chinese", CHARSET_KIND_ICONV, "GB18030"},
    {"cnbig5", CHARSET_KIND_ICONV, "BIG5-HKSCS"},
    {"cp1250", CHARSET_KIND_SBCS, "CP1250"},
    {"cp1251", CHARSET_KIND_SBCS, "CP1251"},
    {"cp1252", CHARSET_KIND_CP1252, NULL},
    {"cp1256", CHARSET_KIND_SBCS, "CP1256"},
    {"cp367", CHARSET_KIND_ASCII, NULL},
    {"cp819", CHARSET_KIND_CP1252, NULL},
    {"cp850", CHARSET_KIND_ICONV, "CP850"},
    {"cp874", CHARSET_KIND_ICONV, "CP874"},
    {"cp932", CHARSET_KIND_ICONV, "CP932"},
    {"cp936", CHARSET_KIND_ICONV, "GB18030"},
    {"cp949", CHARSET_KIND_ICONV, "CP949"},
    {"csbig5", CHARSET_KIND_ICONV, "BIG5-HKSCS"},
    {"csgb2312", CHARSET_KIND_ICONV, "GB18030"},
    {"csiso2022jp", CHARSET_KIND_ICONV, "ISO-2022-JP"},
    {"csisolatin1", CHARSET_KIND_CP1252, NULL},
    {"csksc56011987", CHARSET_KIND_ICONV, "CP949"},
    {"csshiftjis", CHARSET_KIND_ICONV, "CP932"},
    {"euccn", CHARSET_KIND_ICONV, "GB18030"},
    {"eucjp", CHARSET_KIND_ICONV, "EUC-JP"},
    {"euckr", CHARSET_KIND_ICONV, "CP949"},
    {"gb18030", CHARSET_KIND_ICONV, "GB18030"},
    {"gb2312", CHARSET_KIND_ICONV, "GB18030"},
    {"gb231280", CHARSET_KIND_ICONV, "GB18030"},
    {"gbk", CHARSET_KIND_ICONV, "GB18030"},
    {"ibm367", CHARSET_KIND_ASCII, NULL},
    {"ibm819", CHARSET_KIND_CP1252, NULL},
    {"iso646us", CHARSET_KIND_ASCII, NULL},
    {"iso88591", CHARSET_KIND_CP1252, NULL},
    {"iso885911", CHARSET_KIND_ICONV, "CP874"},
    {"iso885915", CHARSET_KIND_SBCS, "ISO-8859-15"},
    {"iso88591:1987", CHARSET_KIND_CP1252, NULL},
    {"iso88592", CHARSET_KIND_SBCS, "ISO-8859-2"},
    {"iso88598i", CHARSET_KIND_ICONV, "ISO-8859-8"},
    {"isoir100", CHARSET_KIND_CP1252, NULL},
    {"koi8r", CHARSET_KIND_SBCS, "KOI8-R"},
    {"korean", CHARSET_KIND_ICONV, "CP949"},
    {"ksc5601", CHARSET_KIND_ICONV, "CP949"},
    {"ksc56011987", CHARSET_KIND_ICONV, "CP949"},
    {"ksc56011989", CHARSET_KIND_ICONV, "CP949"},
    {"l1", CHARSET_KIND_CP1252, NULL},
    {"l2", CHARSET_KIND_SBCS, "ISO-8859-2"},
    {"latin1", CHARSET_KIND_CP1252, NULL},
    {"latin2", CHARSET_KIND_SBCS, "ISO-8859-2"},
    {"latin9", CHARSET_KIND_SBCS, "ISO-8859-15"},
    {"mac", CHARSET_KIND_ICONV, "MACINTOSH"},
    {"macintosh", CHARSET_KIND_ICONV, "MACINTOSH"},
    {"macroman", CHARSET_KIND_ICONV, "MACINTOSH"},
    {"ms936", CHARSET_KIND_ICONV, "GB18030"},
    {"mskanji", CHARSET_KIND_ICONV, "CP932"},
    {"shiftjis", CHARSET_KIND_ICONV, "CP932"},
    {"sjis", CHARSET_KIND_ICONV, "CP932"},
    {"tis620", CHARSET_KIND_ICONV, "CP874"},
    {"uhc", CHARSET_KIND_ICONV, "CP949"},
    {"unicode", CHARSET_KIND_ICONV, "UTF-16"},
    {"unicode11utf7", CHARSET_KIND_ICONV, "UTF-7"},
    {"unicode11utf8", CHARSET_KIND_UTF8, NULL},
    {"unicode20utf8", CHARSET_KIND_UTF8, NULL},
    {"us", CHARSET_KIND_ASCII, NULL},
    {"usascii", CHARSET_KIND_ASCII, NULL},
    {"utf8", CHARSET_KIND_UTF8, NULL},
    {"win1250", CHARSET_KIND_SBCS, "CP1250"},
    {"win1251", CHARSET_KIND_SBCS, "CP1251"},
    {"win1252", CHARSET_KIND_CP1252, NULL},
    {"win1256", CHARSET_KIND_SBCS, "CP1256"},
    {"windows1250", CHARSET_KIND_SBCS, "CP1250"},
    {"windows1251", CHARSET_KIND_SBCS, "CP1251"},
    {"windows1252", CHARSET_KIND_CP1252, NULL},
    {"windows1256", CHARSET_KIND_SBCS, "CP1256"},
    {"windows31j", CHARSET_KIND_ICONV, "CP932"},
    {"windows874", CHARSET_KIND_ICONV, "CP874"},
    {"windows949", CHARSET_KIND_ICONV, "CP949"},
};

#define CHARSET_N_ALIASES (sizeof(charset_aliases) / sizeof(charset_aliases[0]))

/* cp1252 0x80..0x9F; the five undefined bytes keep their C1 value. */
static const uint16_t charset_cp1252_hi[32] = {
    0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
    0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D, 0x017D, 0x008F,
    0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
    0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
};

/*
 * Single-byte charsets common in mail, 0x80..0xFF as glibc's iconv
 * converts them (0 where it rejects the byte), decoded here: every text
 * part in one of them went through iconv, whose per-call set-up and byte
 * loop cost several times a table.  Generated from glibc's modules;
 * test_charset compares every byte of every table with iconv.
 */
static const uint16_t sbcs_cp1250[128] = {
    0x20AC, 0x0000, 0x201A, 0x0000, 0x201E, 0x2026, 0x2020, 0x2021,
    0x0000, 0x2030, 0x0160, 0x2039, 0x015A, 0x0164, 0x017D, 0x0179,
    0x0000, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
    0x0000, 0x2122, 0x0161, 0x203A, 0x015B, 0x0165, 0x017E, 0x017A,
    0x00A0, 0x02C7, 0x02D8, 0x0141, 0x00A4, 0x0104, 0x00A6, 0x00A7,
    0x00A8, 0x00A9, 0x015E, 0x00AB, 0x00AC, 0x00AD, 0x00AE, 0x017B,
    0x00B0, 0x00B1, 0x02DB, 0x0142, 0x00B4, 0x00B5, 0x00B6, 0x00B7,
    0x00B8, 0x0105, 0x015F, 0x00BB, 0x013D, 0x02DD, 0x013E, 0x017C,
    0x0154, 0x00C1, 0x00C2, 0x0102, 0x00C4, 0x0139, 0x0106, 0x00C7,
    0x010C, 0x00C9, 0x0118, 0x00CB, 0x011A, 0x00CD, 0x00CE, 0x010E,
    0x0110, 0x0143, 0x0147, 0x00D3, 0x00D4, 0x0150, 0x00D6, 0x00D7,
    0x0158, 0x016E, 0x00DA, 0x0170, 0x00DC, 0x00DD, 0x0162, 0x00DF,
    0x0155, 0x00E1, 0x00E2, 0x0103, 0x00E4, 0x013A, 0x0107, 0x00E7,
    0x010D, 0x00E9, 0x0119, 0x00EB, 0x011B, 0x00ED, 0x00EE, 0x010F,
    0x0111, 0x0144, 0x0148, 0x00F3, 0x00F4, 0x0151, 0x00F6, 0x00F7,
    0x0159, 0x016F, 0x00FA, 0x0171, 0x00FC, 0x00FD, 0x0163, 0x02D9,
};

static const uint16_t sbcs_cp1251[128] = {
    0x0402, 0x0403, 0x201A, 0x0453, 0x201E, 0x2026, 0x2020, 0x2021,
    0x20AC, 0x2030, 0x0409, 0x2039, 0x040A, 0x040C, 0x040B, 0x040F,
    0x0452, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
    0x0000, 0x2122, 0x0459, 0x203A, 0x045A, 0x045C, 0x045B, 0x045F,
    0x00A0, 0x040E, 0x045E, 0x0408, 0x00A4, 0x0490, 0x00A6, 0x00A7,
    0x0401, 0x00A9, 0x0404, 0x00AB, 0x00AC, 0x00AD, 0x00AE, 0x0407,
    0x00B0, 0x00B1, 0x0406, 0x0456, 0x0491, 0x00B5, 0x00B6, 0x00B7,
    0x0451, 0x2116, 0x0454, 0x00BB, 0x0458, 0x0405, 0x0455, 0x0457,
    0x0410, 0x0411, 0x0412, 0x0413, 0x0414, 0x0415, 0x0416, 0x0417,
    0x0418, 0x0419, 0x041A, 0x041B, 0x041C, 0x041D, 0x041E, 0x041F,
    0x0420, 0x0421, 0x0422, 0x0423, 0x0424, 0x0425, 0x0426, 0x0427,
    0x0428, 0x0429, 0x042A, 0x042B, 0x042C, 0x042D, 0x042E, 0x042F,
    0x0430, 0x0431, 0x0432, 0x0433, 0x0434, 0x0435, 0x0436, 0x0437,
    0x0438, 0x0439, 0x043A, 0x043B, 0x043C, 0x043D, 0x043E, 0x043F,
    0x0440, 0x0441, 0x0442, 0x0443, 0x0444, 0x0445, 0x0446, 0x0447,
    0x0448, 0x0449, 0x044A, 0x044B, 0x044C, 0x044D, 0x044E, 0x044F,
};

static const uint16_t sbcs_cp1256[128] = {
    0x20AC, 0x067E, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
    0x02C6, 0x2030, 0x0679, 0x2039, 0x0152, 0x0686, 0x0698, 0x0688,
    0x06AF, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
    0x06A9, 0x2122, 0x0691, 0x203A, 0x0153, 0x200C, 0x200D, 0x06BA,
    0x00A0, 0x060C, 0x00A2, 0x00A3, 0x00A4, 0x00A5, 0x00A6, 0x00A7,
    0x00A8, 0x00A9, 0x06BE, 0x00AB, 0x00AC, 0x00AD, 0x00AE, 0x00AF,
    0x00B0, 0x00B1, 0x00B2, 0x00B3, 0x00B4, 0x00B5, 0x00B6, 0x00B7,
    0x00B8, 0x00B9, 0x061B, 0x00BB, 0x00BC, 0x00BD, 0x00BE, 0x061F,
    0x06C1, 0x0621, 0x0622, 0x0623, 0x0624, 0x0625, 0x0626, 0x0627,
    0x0628, 0x0629, 0x062A, 0x062B, 0x062C, 0x062D, 0x062E, 0x062F,
    0x0630, 0x0631, 0x0632, 0x0633, 0x0634, 0x0635, 0x0636, 0x00D7,
    0x0637, 0x0638, 0x0639, 0x063A, 0x0640, 0x0641, 0x0642, 0x0643,
    0x00E0, 0x0644, 0x00E2, 0x0645, 0x0646, 0x0647, 0x0648, 0x00E7,
    0x00E8, 0x00E9, 0x00EA, 0x00EB, 0x0649, 0x064A, 0x00EE, 0x00EF,
    0x064B, 0x064C, 0x064D, 0x064E, 0x00F4, 0x064F, 0x0650, 0x00F7,
    0x0651, 0x00F9, 0x0652, 0x00FB, 0x00FC, 0x200E, 0x200F, 0x06D2,
};

static const uint16_t sbcs_koi8r[128] = {
    0x2500, 0x2502, 0x250C, 0x2510, 0x2514, 0x2518, 0x251C, 0x2524,
    0x252C, 0x2534, 0x253C, 0x2580, 0x2584, 0x2588, 0x258C, 0x2590,
    0x2591, 0x2592, 0x2593, 0x2320, 0x25A0, 0x2219, 0x221A, 0x2248,
    0x2264, 0x2265, 0x00A0, 0x2321, 0x00B0, 0x00B2, 0x00B7, 0x00F7,
    0x2550, 0x2551, 0x2552, 0x0451, 0x2553, 0x2554, 0x2555, 0x2556,
    0x2557, 0x2558, 0x2559, 0x255A, 0x255B, 0x255C, 0x255D, 0x255E,
    0x255F, 0x2560, 0x2561, 0x0401, 0x2562, 0x2563, 0x2564, 0x2565,
    0x2566, 0x2567, 0x2568, 0x2569, 0x256A, 0x256B, 0x256C, 0x00A9,
    0x044E, 0x0430, 0x0431, 0x0446, 0x0434, 0x0435, 0x0444, 0x0433,
    0x0445, 0x0438, 0x0439, 0x043A, 0x043B, 0x043C, 0x043D, 0x043E,
    0x043F, 0x044F, 0x0440, 0x0441, 0x0442, 0x0443, 0x0436, 0x0432,
    0x044C, 0x044B, 0x0437, 0x0448, 0x044D, 0x0449, 0x0447, 0x044A,
    0x042E, 0x0410, 0x0411, 0x0426, 0x0414, 0x0415, 0x0424, 0x0413,
    0x0425, 0x0418, 0x0419, 0x041A, 0x041B, 0x041C, 0x041D, 0x041E,
    0x041F, 0x042F, 0x0420, 0x0421, 0x0422, 0x0423, 0x0416, 0x0412,
    0x042C, 0x042B, 0x0417, 0x0428, 0x042D, 0x0429, 0x0427, 0x042A,
};

static const uint16_t sbcs_iso8859_2[128] = {
    0x0080, 0x0081, 0x0082, 0x0083, 0x0084, 0x0085, 0x0086, 0x0087,
    0x0088, 0x0089, 0x008A, 0x008B, 0x008C, 0x008D, 0x008E, 0x008F,
    0x0090, 0x0091, 0x0092, 0x0093, 0x0094, 0x0095, 0x0096, 0x0097,
    0x0098, 0x0099, 0x009A, 0x009B, 0x009C, 0x009D, 0x009E, 0x009F,
    0x00A0, 0x0104, 0x02D8, 0x0141, 0x00A4, 0x013D, 0x015A, 0x00A7,
    0x00A8, 0x0160, 0x015E, 0x0164, 0x0179, 0x00AD, 0x017D, 0x017B,
    0x00B0, 0x0105, 0x02DB, 0x0142, 0x00B4, 0x013E, 0x015B, 0x02C7,
    0x00B8, 0x0161, 0x015F, 0x0165, 0x017A, 0x02DD, 0x017E, 0x017C,
    0x0154, 0x00C1, 0x00C2, 0x0102, 0x00C4, 0x0139, 0x0106, 0x00C7,
    0x010C, 0x00C9, 0x0118, 0x00CB, 0x011A, 0x00CD, 0x00CE, 0x010E,
    0x0110, 0x0143, 0x0147, 0x00D3, 0x00D4, 0x0150, 0x00D6, 0x00D7,
    0x0158, 0x016E, 0x00DA, 0x0170, 0x00DC, 0x00DD, 0x0162, 0x00DF,
    0x0155, 0x00E1, 0x00E2, 0x0103, 0x00E4, 0x013A, 0x0107, 0x00E7,
    0x010D, 0x00E9, 0x0119, 0x00EB, 0x011B, 0x00ED, 0x00EE, 0x010F,
    0x0111, 0x0144, 0x0148, 0x00F3, 0x00F4, 0x0151, 0x00F6, 0x00F7,
    0x0159, 0x016F, 0x00FA, 0x0171, 0x00FC, 0x00FD, 0x0163, 0x02D9,
};

static const uint16_t sbcs_iso8859_15[128] = {
    0x0080, 0x0081, 0x0082, 0x0083, 0x0084, 0x0085, 0x0086, 0x0087,
    0x0088, 0x0089, 0x008A, 0x008B, 0x008C, 0x008D, 0x008E, 0x008F,
    0x0090, 0x0091, 0x0092, 0x0093, 0x0094, 0x0095, 0x0096, 0x0097,
    0x0098, 0x0099, 0x009A, 0x009B, 0x009C, 0x009D, 0x009E, 0x009F,
    0x00A0, 0x00A1, 0x00A2, 0x00A3, 0x20AC, 0x00A5, 0x0160, 0x00A7,
    0x0161, 0x00A9, 0x00AA, 0x00AB, 0x00AC, 0x00AD, 0x00AE, 0x00AF,
    0x00B0, 0x00B1, 0x00B2, 0x00B3, 0x017D, 0x00B5, 0x00B6, 0x00B7,
    0x017E, 0x00B9, 0x00BA, 0x00BB, 0x0152, 0x0153, 0x0178, 0x00BF,
    0x00C0, 0x00C1, 0x00C2, 0x00C3, 0x00C4, 0x00C5, 0x00C6, 0x00C7,
    0x00C8, 0x00C9, 0x00CA, 0x00CB, 0x00CC, 0x00CD, 0x00CE, 0x00CF,
    0x00D0, 0x00D1, 0x00D2, 0x00D3, 0x00D4, 0x00D5, 0x00D6, 0x00D7,
    0x00D8, 0x00D9, 0x00DA, 0x00DB, 0x00DC, 0x00DD, 0x00DE, 0x00DF,
    0x00E0, 0x00E1, 0x00E2, 0x00E3, 0x00E4, 0x00E5, 0x00E6, 0x00E7,
    0x00E8, 0x00E9, 0x00EA, 0x00EB, 0x00EC, 0x00ED, 0x00EE, 0x00EF,
    0x00F0, 0x00F1, 0x00F2, 0x00F3, 0x00F4, 0x00F5, 0x00F6, 0x00F7,
    0x00F8, 0x00F9, 0x00FA, 0x00FB, 0x00FC, 0x00FD, 0x00FE, 0x00FF,
};

struct charset_sbcs {
    const char *iconv_name;
    const uint16_t *hi; /* 0x80..0xFF */
};

static const struct charset_sbcs charset_sbcs_tables[] = {
    {"CP1250", sbcs_cp1250},
    {"CP1251", sbcs_cp1251},
    {"CP1256", sbcs_cp1256},
    {"KOI8-R", sbcs_koi8r},
    {"ISO-8859-2", sbcs_iso8859_2},
    {"ISO-8859-15", sbcs_iso8859_15},
};

#define CHARSET_N_SBCS \
    (sizeof(charset_sbcs_tables) / sizeof(charset_sbcs_tables[0]))

uint32_t
charset_cp1252(uint8_t b)
{
    if (b >= 0x80 && b <= 0x9F) {
        return charset_cp1252_hi[b - 0x80];
    }
    return b;
}

size_t
charset_utf8_put(uint32_t cp, char out[4])
{
    if (cp >= 0xD800 && cp <= 0xDFFF) {
        cp = 0xFFFD;
    }
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp > 0x10FFFF) {
        cp = 0xFFFD;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* See charset.h. */
size_t
charset_utf8_seq_len(const uint8_t *p, size_t left)
{
    uint8_t c = p[0];
    uint8_t lo = 0x80;
    uint8_t hi = 0xBF;
    size_t n;

    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0) {
            lo = 0xA0;
        } else if (c == 0xED) {
            hi = 0x9F; /* no UTF-16 surrogates */
        }
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0) {
            lo = 0x90;
        } else if (c == 0xF4) {
            hi = 0x8F; /* nothing past U+10FFFF */
        }
    } else {
        return 0;
    }
    if (left < n || p[1] < lo || p[1] > hi) {
        return 0;
    }
    for (size_t i = 2; i < n; i++) {
        if (p[i] < 0x80 || p[i] > 0xBF) {
            return 0;
        }
    }
    return n;
}

/* The index of the first of the eight bytes at p (all of them in the
 * buffer) that is 0x80 or above, or 8: the word read as little-endian,
 * so its lowest high bit is its first such byte. */
static size_t
first_high(const uint8_t *p)
{
    uint64_t m = swar_high(swar_load_le(p));

    return m != 0 ? swar_lowest_lane(m) : 8u;
}

/* Bytes at the start of (p, len) below 0x80: 64 at a time with one test
 * for eight words (issue #7: mail text is mostly long ASCII runs, and the
 * loop's own counting was a third of a 32-byte step), then eight at a
 * time to find the word that stopped it, and in it the byte at once. */
static size_t
ascii_run(const uint8_t *p, size_t len)
{
    size_t i = 0;

    while (len - i >= 64) {
        const uint8_t *q = p + i;

        /* Loaded one word at a time into registers (a copy of the block
         * into an array went through the stack). */
        if (swar_high(swar_load(q) | swar_load(q + 8) | swar_load(q + 16) |
                      swar_load(q + 24) | swar_load(q + 32) |
                      swar_load(q + 40) | swar_load(q + 48) |
                      swar_load(q + 56)) != 0) {
            break;
        }
        i += 64;
    }
    while (len - i >= 8) {
        size_t k = first_high(p + i);

        if (k < 8) {
            return i + k;
        }
        i += 8;
    }
    while (i < len && p[i] < 0x80) {
        i++;
    }
    return i;
}

bool
charset_utf8_valid(const uint8_t *p, size_t len)
{
    size_t i = 0;

    while (i < len) {
        size_t n;
        i += ascii_run(p + i, len - i);
        if (i >= len) {
            break;
        }
        n = charset_utf8_seq_len(p + i, len - i);
        if (n == 0) {
            return false;
        }
        i += n;
    }
    return true;
}

/*
 * UTF-8 copy.  An invalid byte becomes U+FFFD (is_cp1252_fallback false)
 * or its windows-1252 character (true); either way CHARSET_BAD_BYTES.
 */
static size_t
conv_utf8(const uint8_t *in, size_t len, char *out, size_t out_max,
          bool is_cp1252_fallback, unsigned *flags)
{
    size_t i = 0;
    size_t o = 0;

    while (i < len) {
        size_t run = ascii_run(in + i, len - i);
        size_t n;
        if (run > out_max - o) {
            run = out_max - o;
            memcpy(out + o, in + i, run);
            o += run;
            *flags |= CHARSET_OUT_CAPPED;
            return o;
        }
        memcpy(out + o, in + i, run);
        o += run;
        i += run;
        if (i >= len) {
            break;
        }
        n = charset_utf8_seq_len(in + i, len - i);
        if (n > 0) {
            if (n > out_max - o) {
                *flags |= CHARSET_OUT_CAPPED;
                return o;
            }
            memcpy(out + o, in + i, n);
            o += n;
            i += n;
        } else {
            char tmp[4];
            uint32_t cp = is_cp1252_fallback ? charset_cp1252(in[i]) : 0xFFFD;
            size_t k = charset_utf8_put(cp, tmp);
            if (k > out_max - o) {
                *flags |= CHARSET_OUT_CAPPED;
                return o;
            }
            memcpy(out + o, tmp, k);
            o += k;
            i++;
            *flags |= CHARSET_BAD_BYTES;
        }
    }
    return o;
}

static size_t
conv_cp1252(const uint8_t *in, size_t len, char *out, size_t out_max,
            unsigned *flags)
{
    size_t i = 0;
    size_t o = 0;

    while (i < len) {
        size_t run = ascii_run(in + i, len - i);
        char tmp[4];
        size_t k;
        if (run > out_max - o) {
            run = out_max - o;
            memcpy(out + o, in + i, run);
            *flags |= CHARSET_OUT_CAPPED;
            return o + run;
        }
        memcpy(out + o, in + i, run);
        o += run;
        i += run;
        if (i >= len) {
            break;
        }
        k = charset_utf8_put(charset_cp1252(in[i]), tmp);
        if (k > out_max - o) {
            *flags |= CHARSET_OUT_CAPPED;
            return o;
        }
        memcpy(out + o, tmp, k);
        o += k;
        i++;
    }
    return o;
}

/* The 0x80..0xFF table of a CHARSET_KIND_SBCS alias's glibc name. */
static const uint16_t *
sbcs_table(const char *iconv_name)
{
    for (size_t i = 0; i < CHARSET_N_SBCS; i++) {
        if (strcmp(charset_sbcs_tables[i].iconv_name, iconv_name) == 0) {
            return charset_sbcs_tables[i].hi;
        }
    }
    return NULL;
}

/*
 * A single-byte charset through its table, with the same output, flags
 * and cap as conv_iconv with glibc's module: a byte it rejects becomes
 * U+FFFD (CHARSET_BAD_BYTES), a character that does not fit stops the
 * conversion (CHARSET_OUT_CAPPED).
 */
static size_t
conv_sbcs(const uint16_t *hi, const uint8_t *in, size_t len, char *out,
          size_t out_max, unsigned *flags)
{
    size_t i = 0;
    size_t o = 0;

    while (i < len) {
        size_t run = ascii_run(in + i, len - i);
        uint32_t cp;
        char tmp[4];
        size_t k;
        if (run > out_max - o) {
            run = out_max - o;
            memcpy(out + o, in + i, run);
            *flags |= CHARSET_OUT_CAPPED;
            return o + run;
        }
        memcpy(out + o, in + i, run);
        o += run;
        i += run;
        if (i >= len) {
            break;
        }
        cp = hi[in[i] - 0x80];
        if (cp == 0) {
            *flags |= CHARSET_BAD_BYTES;
            cp = 0xFFFD;
        }
        k = charset_utf8_put(cp, tmp);
        if (k > out_max - o) {
            *flags |= CHARSET_OUT_CAPPED;
            return o;
        }
        memcpy(out + o, tmp, k);
        o += k;
        i++;
    }
    return o;
}

/*
 * Fold a label into buf (lower-case, no quotes or blanks).  Returns false
 * when it is empty-after-folding too long or holds bytes no charset name
 * has.
 */
static bool
fold_label(const char *name, size_t name_len, char *buf, size_t buf_max,
           size_t *out_len)
{
    size_t n = 0;

    while (name_len > 0 && (name[0] == ' ' || name[0] == '\t' ||
                            name[0] == '"' || name[0] == '\'')) {
        name++;
        name_len--;
    }
    while (name_len > 0 &&
           (name[name_len - 1] == ' ' || name[name_len - 1] == '\t' ||
            name[name_len - 1] == '"' || name[name_len - 1] == '\'')) {
        name_len--;
    }
    if (name_len >= buf_max) {
        return false;
    }
    for (size_t i = 0; i < name_len; i++) {
        uint8_t c = (uint8_t)name[i];
        if (c >= 'A' && c <= 'Z') {
            c = (uint8_t)(c + 32);
        }
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.' || c == ':')) {
            return false;
        }
        buf[n++] = (char)c;
    }
    buf[n] = '\0';
    *out_len = n;
    return true;
}

/*
 * The key a folded label (n bytes) is looked up by, into key (at least
 * n + 1 bytes): a leading "x-" dropped, then every '-' and '_'.  Mail
 * writes utf_8, x-utf-8, cp-1251, latin-2, iso_8859_1, iso88591 and
 * win-1251 for the charsets the table knows as utf-8, cp1251, latin2,
 * iso-8859-1 and windows-1251, and glibc's iconv knows few of those
 * spellings; one key for all of them keeps the table short, and no two
 * charsets' labels differ only in where their separators are.
 */
static void
label_key(const char *s, size_t n, char *key)
{
    size_t i = 0;
    size_t o = 0;

    if (n > 2 && s[0] == 'x' && (s[1] == '-' || s[1] == '_')) {
        i = 2;
    }
    for (; i < n; i++) {
        if (s[i] != '-' && s[i] != '_') {
            key[o++] = s[i];
        }
    }
    key[o] = '\0';
}

static const struct charset_alias *
alias_find(const char *label)
{
    size_t lo = 0;
    size_t hi = CHARSET_N_ALIASES;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(label, charset_aliases[mid].label);
        if (c == 0) {
            return &charset_aliases[mid];
        }
        if (c < 0) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    return NULL;
}

/*
 * Resolve a label; *iconv_name is set for CHARSET_KIND_ICONV (to buf, the
 * folded label, when the table does not know it).
 */
static enum charset_kind
label_kind(const char *name, size_t name_len, char *buf, size_t buf_max,
           const char **iconv_name)
{
    size_t n = 0;
    char key[MIME_CHARSET_NAME_MAX];
    const struct charset_alias *al;

    if (buf_max > sizeof(key)) {
        buf_max = sizeof(key); /* so key holds what fold_label takes */
    }
    if (!fold_label(name, name_len, buf, buf_max, &n)) {
        return CHARSET_KIND_BAD;
    }
    if (n == 0) {
        return CHARSET_KIND_ASCII;
    }
    label_key(buf, n, key);
    al = alias_find(key);
    if (al != NULL) {
        *iconv_name = al->iconv_name;
        return al->kind;
    }
    /* Folded label passed on as written (not its key: glibc knows
     * iso-2022-jp, not iso2022-jp); glibc ignores case. */
    *iconv_name = buf;
    return CHARSET_KIND_ICONV;
}

bool
charset_is_utf8_label(const char *name, size_t name_len)
{
    char buf[MIME_CHARSET_NAME_MAX];
    const char *iname = NULL;
    enum charset_kind k = label_kind(name, name_len, buf, sizeof(buf), &iname);

    return k == CHARSET_KIND_ASCII || k == CHARSET_KIND_UTF8;
}

void
charset_cache_init(struct charset_cache *cc)
{
    memset(cc, 0, sizeof(*cc));
}

void
charset_cache_clear(struct charset_cache *cc)
{
    if (cc == NULL) {
        return;
    }
    for (size_t i = 0; i < cc->n_slots; i++) {
        if (cc->slot[i].cd != NULL) {
            iconv_close((iconv_t)cc->slot[i].cd);
        }
    }
    memset(cc, 0, sizeof(*cc));
}

/* See the DESIGN note on pins.  Never closed: they live as long as the
 * modules they hold. */
static pthread_mutex_t pin_lock = PTHREAD_MUTEX_INITIALIZER;
static struct charset_cache_slot pins[CHARSET_PINS_MAX];
static size_t n_pins;

/* Keep the gconv module of iconv_name loaded (a no-op once pinned). */
static void
pin_module(const char *iconv_name)
{
    size_t len = strlen(iconv_name);
    bool is_pinned = false;

    if (len >= sizeof(pins[0].name)) {
        return;
    }
    pthread_mutex_lock(&pin_lock);
    for (size_t i = 0; i < n_pins && !is_pinned; i++) {
        is_pinned = strcmp(pins[i].name, iconv_name) == 0;
    }
    if (!is_pinned && n_pins < CHARSET_PINS_MAX) {
        iconv_t cd = iconv_open("UTF-8", iconv_name);

        if (cd != (iconv_t)-1) {
            memcpy(pins[n_pins].name, iconv_name, len + 1);
            pins[n_pins].cd = cd;
            n_pins++;
        }
    }
    pthread_mutex_unlock(&pin_lock);
}

/*
 * Descriptor for iconv_name → UTF-8 from the cache, opening it on a miss;
 * NULL when iconv does not know the name.  *is_owned tells the caller to
 * close it (no cache).
 */
static iconv_t
cache_get(struct charset_cache *cc, const char *iconv_name, bool *is_owned)
{
    iconv_t cd;
    struct charset_cache_slot *s;

    *is_owned = false;
    if (cc != NULL) {
        for (size_t i = 0; i < cc->n_slots; i++) {
            if (strcmp(cc->slot[i].name, iconv_name) == 0) {
                return (iconv_t)cc->slot[i].cd;
            }
        }
    }
    cd = iconv_open("UTF-8", iconv_name);
    if (cd == (iconv_t)-1) {
        cd = NULL;
    } else {
        pin_module(iconv_name);
    }
    if (cc == NULL || strlen(iconv_name) >= sizeof(cc->slot[0].name)) {
        *is_owned = cd != NULL;
        return cd;
    }
    if (cc->n_slots < CHARSET_CACHE_SLOTS) {
        s = &cc->slot[cc->n_slots++];
    } else {
        s = &cc->slot[cc->next_evict];
        cc->next_evict = (cc->next_evict + 1) % CHARSET_CACHE_SLOTS;
        if (s->cd != NULL) {
            iconv_close((iconv_t)s->cd);
        }
    }
    memcpy(s->name, iconv_name, strlen(iconv_name) + 1);
    s->cd = cd;
    return cd;
}

/* Append U+FFFD if it fits; false when out is full. */
static bool
put_fffd(char **op, size_t *oleft)
{
    if (*oleft < 3) {
        return false;
    }
    (*op)[0] = (char)0xEF;
    (*op)[1] = (char)0xBF;
    (*op)[2] = (char)0xBD;
    *op += 3;
    *oleft -= 3;
    return true;
}

/*
 * Bytes of one code unit of an iconv charset: 2 for UTF-16 and UCS-2, 4
 * for UTF-32 and UCS-4 (either byte order, under any of glibc's names a
 * label can spell), else 1.
 */
static size_t
iconv_unit(const char *iconv_name)
{
    static const struct {
        const char *key; /* prefix of the name's label_key() */
        size_t unit;
    } wide[] = {
        {"utf16", 2}, {"ucs2", 2}, {"unicode", 2}, {"csunicode", 2},
        {"utf32", 4}, {"ucs4", 4}, {"csucs4", 4}, {"iso10646", 4},
        {"106461:1993", 4}, {"wchart", 4},
    };
    char low[MIME_CHARSET_NAME_MAX];
    char key[MIME_CHARSET_NAME_MAX];
    size_t n = strlen(iconv_name);

    if (n >= sizeof(low)) {
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        char c = iconv_name[i];
        low[i] = c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
    }
    label_key(low, n, key);
    for (size_t i = 0; i < sizeof(wide) / sizeof(wide[0]); i++) {
        if (strncmp(key, wide[i].key, strlen(wide[i].key)) == 0) {
            return wide[i].unit;
        }
    }
    return 1;
}

/* Length of glibc's old-style UTF-8 form (4 to 6 bytes, lead F4 to FD,
 * all continuation bytes present) at the start of (p, len); else 0. */
static size_t
old_form_len(const uint8_t *p, size_t len)
{
    size_t n = p[0] >= 0xFC && p[0] <= 0xFD   ? 6
               : p[0] >= 0xF8 && p[0] <= 0xFB ? 5
               : p[0] >= 0xF4 && p[0] <= 0xF7 ? 4
                                              : 0;

    if (n == 0 || n > len) {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80) {
            return 0;
        }
    }
    return n;
}

/*
 * glibc's UTF-8 encoder still writes the old 4- to 6-byte forms for code
 * points past U+10FFFF, which UCS-4 and WCHAR_T input can carry (up to
 * 0x7FFFFFFF); that is not UTF-8, and every caller relies on UTF-8.  Each
 * such form becomes U+FFFD, in place (3 bytes for 4 to 6: it only
 * shrinks).  Any other invalid byte, which glibc does not write, is
 * dropped for the same reason.  Returns the new length.
 */
static size_t
squash_beyond_unicode(char *out, size_t len, unsigned *flags)
{
    uint8_t *p = (uint8_t *)out;
    size_t o = 0;
    size_t i = 0;

    while (i < len) {
        size_t n = p[i] < 0x80 ? 1 : charset_utf8_seq_len(p + i, len - i);

        if (n > 0) {
            memmove(p + o, p + i, n);
            o += n;
            i += n;
            continue;
        }
        *flags |= CHARSET_BAD_BYTES;
        n = old_form_len(p + i, len - i);
        if (n > 0) {
            memcpy(p + o, "\xEF\xBF\xBD", 3);
            o += 3;
        }
        i += n > 0 ? n : 1;
    }
    return o;
}

/* What iconv wrote, made UTF-8 if it is not (squash_beyond_unicode); the
 * check alone is cheap next to iconv. */
static size_t
valid_iconv_output(char *out, size_t len, unsigned *flags)
{
    if (charset_utf8_valid((const uint8_t *)out, len)) {
        return len;
    }
    return squash_beyond_unicode(out, len, flags);
}

/* Convert through cd; unit is iconv_unit() of its charset. */
static size_t
conv_iconv(iconv_t cd, size_t unit, const uint8_t *in, size_t len,
           char *out, size_t out_max, unsigned *flags)
{
    char *ip = (char *)(uintptr_t)in; /* iconv's prototype is not const */
    size_t ileft = len;
    char *op = out;
    size_t oleft = out_max;

    iconv(cd, NULL, NULL, NULL, NULL); /* reset shift state */
    while (ileft > 0) {
        size_t r = iconv(cd, &ip, &ileft, &op, &oleft);
        if (r != (size_t)-1) {
            break;
        }
        if (errno == E2BIG) {
            *flags |= CHARSET_OUT_CAPPED;
            return valid_iconv_output(out, (size_t)(op - out), flags);
        }
        /* EILSEQ or EINVAL (truncated sequence at the end). */
        *flags |= CHARSET_BAD_BYTES;
        if (!put_fffd(&op, &oleft)) {
            *flags |= CHARSET_OUT_CAPPED;
            return valid_iconv_output(out, (size_t)(op - out), flags);
        }
        if (errno != EILSEQ) {
            ileft = 0;
            break;
        }
        /* Skip the code unit the error is in: one byte on, every later
         * character of UTF-16 or UTF-32 would be read across two. */
        if (unit > ileft) {
            unit = ileft;
        }
        ip += unit;
        ileft -= unit;
    }
    /* Stateful encodings (ISO-2022-JP) may owe a final reset sequence. */
    if (iconv(cd, NULL, NULL, &op, &oleft) == (size_t)-1) {
        *flags |= CHARSET_OUT_CAPPED;
    }
    return valid_iconv_output(out, (size_t)(op - out), flags);
}

/* Replace every '_' in the string s by '-'; false when it had none. */
static bool
underscores_to_dashes(char *s)
{
    bool is_changed = false;

    for (; *s != '\0'; s++) {
        if (*s == '_') {
            *s = '-';
            is_changed = true;
        }
    }
    return is_changed;
}

size_t
charset_to_utf8(struct charset_cache *cc, const char *name, size_t name_len,
                const uint8_t *in, size_t in_len, char *out, size_t out_max,
                unsigned *flags)
{
    char buf[MIME_CHARSET_NAME_MAX];
    const char *iname = NULL;
    enum charset_kind k;
    iconv_t cd;
    bool is_owned = false;
    size_t n;

    if (name == NULL) {
        name_len = 0;
        name = "";
    }
    k = label_kind(name, name_len, buf, sizeof(buf), &iname);
    switch (k) {
    case CHARSET_KIND_ASCII:
        return conv_utf8(in, in_len, out, out_max, true, flags);
    case CHARSET_KIND_UTF8:
        return conv_utf8(in, in_len, out, out_max, false, flags);
    case CHARSET_KIND_CP1252:
        return conv_cp1252(in, in_len, out, out_max, flags);
    case CHARSET_KIND_SBCS: {
        const uint16_t *hi = sbcs_table(iname);

        if (hi != NULL) { /* always: every such alias has its table */
            return conv_sbcs(hi, in, in_len, out, out_max, flags);
        }
        break;
    }
    case CHARSET_KIND_ICONV: {
        size_t unit = iconv_unit(iname);
        /* glibc's UTF-16 and UTF-32 decoders keep the byte order a BOM
         * set in the descriptor, and the reset in conv_iconv does not
         * clear it: a cached one read the next BOM-less part in that
         * order.  Their parts get a fresh descriptor (the pin keeps the
         * module loaded, so that is cheap). */
        struct charset_cache *use = unit > 1 ? NULL : cc;

        cd = cache_get(use, iname, &is_owned);
        if (cd == NULL && iname == buf && underscores_to_dashes(buf)) {
            /* glibc knows utf-16, iso-2022-jp and windows-1255 but not
             * utf_16, iso_2022_jp or windows_1255 (and a few names, such
             * as iso_8859-5:1988, only with their '_'). */
            cd = cache_get(use, buf, &is_owned);
        }
        if (cd == NULL) {
            break;
        }
        n = conv_iconv(cd, unit, in, in_len, out, out_max, flags);
        if (is_owned) {
            iconv_close(cd);
        }
        return n;
    }
    case CHARSET_KIND_BAD:
        break;
    }
    /* Which bytes are invalid in an unknown charset cannot be told, so
     * only CHARSET_UNKNOWN (and a cap) is reported. */
    {
        unsigned f = 0;
        n = conv_utf8(in, in_len, out, out_max, true, &f);
        *flags |= CHARSET_UNKNOWN | (f & CHARSET_OUT_CAPPED);
        return n;
    }
}
