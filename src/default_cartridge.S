/*
 * default_cartridge.S -- embeds cartridge/default.cmc (the cartridge
 * `make cartridge` trains from ../shared/corpus) so a fresh clone scores
 * with no network and no data files.  cartridge.c reads it through
 * cartridge_default_image().
 */
    .section .rodata
    .balign 16
    .globl cm_default_cartridge_start
    .globl cm_default_cartridge_end
cm_default_cartridge_start:
#ifdef CARTRIDGE_FILE
    .incbin CARTRIDGE_FILE
#endif
cm_default_cartridge_end:
    .byte 0
    .section .note.GNU-stack,"",@progbits
