"""templib.py -- the leftovers of a killed writer, planted for the
integration tests of stale temporary file removal (fsutil_write_temp
names its files "<target>.tmp.<pid>.<n>").  Standard library only."""
import os


def plant_temps(stem, outside, link_stem=None):
    """Beside stem, a path a program writes by temp file and rename: an
    hour-old temporary file of ours, a fresh one, an hour-old file whose
    name is not ours, and an hour-old symlink under our pattern (beside
    link_stem, stem by default) to outside, an hour-old file elsewhere.
    Returns (old, fresh, other, link); only old may be removed."""
    old = stem + ".tmp.4242.0"
    fresh = stem + ".tmp.4243.1"
    other = os.path.join(os.path.dirname(stem), "notes.tmp.4242.0")
    link = (link_stem or stem) + ".tmp.4242.3"
    for p in (old, fresh, other, outside):
        with open(p, "wb") as f:
            f.write(b"x")
    os.symlink(outside, link)
    hour_ago = os.stat(old).st_mtime - 7200
    for p in (old, other, outside):
        os.utime(p, (hour_ago, hour_ago))
    os.utime(link, (hour_ago, hour_ago), follow_symlinks=False)
    return old, fresh, other, link
