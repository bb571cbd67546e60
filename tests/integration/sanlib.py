"""sanlib.py -- what a sanitizer build changes for the integration tests:
which sanitizer a binary was built with, and how long a command may
take under it.  Standard library only.

A ThreadSanitizer `cmtool train` runs 10-15 times slower than a plain
one (36 s with the machine to itself, past 120 s on a loaded 2-CPU
machine running the other checks), so a timeout sized for a plain build
fails a correct TSan run.  The timeouts stay: a hung program must still
fail its test."""

_KINDS = {}  # binary path -> "tsan", "asan" or None

# How many times longer a command may take under each sanitizer.
_SLOWDOWN = {"tsan": 5, "asan": 2, None: 1}


def sanitizer(binary):
    """"tsan", "asan" or None: the runtime linked into binary (its
    initialiser's name is in the image).  An unreadable binary counts as
    a plain one; running it will say what is wrong."""
    if binary not in _KINDS:
        try:
            with open(binary, "rb") as f:
                image = f.read()
        except OSError:
            image = b""
        if b"__tsan_init" in image:
            _KINDS[binary] = "tsan"
        elif b"__asan_init" in image:
            _KINDS[binary] = "asan"
        else:
            _KINDS[binary] = None
    return _KINDS[binary]


def is_sanitized(binary):
    """True for an ASan or TSan build (they need terabytes of address
    space, so address-space limit tests cannot run on them)."""
    return sanitizer(binary) is not None


def timeout_s(binary, plain_s):
    """The timeout for a command of binary that a plain build finishes
    well within plain_s seconds."""
    return plain_s * _SLOWDOWN[sanitizer(binary)]
