/*
 * fuzz_cablist.c -- libFuzzer target for cablist: every name listed lies
 * inside the input, the member cap holds, and the listing
 * ends (fuzz_lister.h).
 */
#include "cablist.h"

#include "fuzz_lister.h"

FUZZ_LISTER(cab, is_cab, CAPS_CABLIST_MEMBERS_MAX)
