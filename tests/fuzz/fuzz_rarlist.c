/*
 * fuzz_rarlist.c -- libFuzzer target for rarlist: every name listed lies
 * inside the input, the member cap holds, and the listing
 * ends (fuzz_lister.h).
 */
#include "rarlist.h"

#include "fuzz_lister.h"

FUZZ_LISTER(rar, is_rar, CAPS_RARLIST_MEMBERS_MAX)
