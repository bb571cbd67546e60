/*
 * fuzz_ziplist.c -- libFuzzer target for ziplist: every name listed lies
 * inside the input, the member cap holds (one cap a phase: the central
 * directory, then the local headers), and the listing ends
 * (fuzz_lister.h).
 */
#include "ziplist.h"

#include "fuzz_lister.h"

FUZZ_LISTER(zip, is_zip, 2u * CAPS_ZIPLIST_MEMBERS_MAX)
