/*
 * fuzz_tarlist.c -- libFuzzer target for tarlist: every name listed lies
 * inside the input, the member cap holds, and the listing
 * ends (fuzz_lister.h).
 */
#include "tarlist.h"

#include "fuzz_lister.h"

FUZZ_LISTER(tar, is_tar, CAPS_TARLIST_MEMBERS_MAX)
