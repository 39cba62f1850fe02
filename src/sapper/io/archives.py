"""Limits on what an imported file may cost before it is read: its size on disk, and, for a zip container (a
zipped Shapefile, ODK Central's CSV zip, an XLSX workbook, KMZ), what it unpacks to.

A zip bomb is a small file that unpacks to gigabytes: the central directory says what each member unpacks to, so
it is refused from that, before anything is inflated — when the members add up to more than
``MAX_UNPACKED_BYTES``, or a member of more than ``RATIO_FLOOR_BYTES`` is packed more than ``MAX_RATIO`` times
(real exports pack text 5–20 times; XLSX at most ~100). A reader still never inflates a member beyond the size the
directory declares (Python's zipfile stops there), so a directory that lies gains nothing. A file larger than
``MAX_FILE_BYTES`` on disk is refused before it is opened (the readers hold a layer in memory).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from sapper.errors import ImportFileError
from sapper.messages import msg

#: The largest file an import reads (bytes on disk).
MAX_FILE_BYTES = 1024**3
#: The most a zip container may unpack to, all members together.
MAX_UNPACKED_BYTES = 2 * 1024**3
#: The highest compression ratio a member may have (when it unpacks to more than RATIO_FLOOR_BYTES).
MAX_RATIO = 200
RATIO_FLOOR_BYTES = 1024**2


def check_file(path: Path, *, max_bytes: int = MAX_FILE_BYTES) -> None:
    """Refuse ``path`` when it is larger than ``max_bytes``, or a zip container that would unpack to too much
    (ImportFileError, one line naming the file and the limit)."""
    if not path.is_file():
        return
    size = path.stat().st_size
    if size > max_bytes:
        raise ImportFileError(msg("{path}: is {size:,} bytes, more than the {most:,} an import reads; split it",
                                  path=path, size=size, most=max_bytes))
    check_archive(path)


def check_archive(path: Path, *, max_unpacked: int = MAX_UNPACKED_BYTES, max_ratio: int = MAX_RATIO) -> None:
    """Refuse a zip container (any file that is one, whatever its suffix) that would unpack to more than
    ``max_unpacked`` bytes, or holds a member packed more than ``max_ratio`` times; other files pass."""
    try:
        if not zipfile.is_zipfile(path):
            return
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError):
        return  # the reader says what is wrong with it
    total = sum(m.file_size for m in members)
    if total > max_unpacked:
        raise ImportFileError(msg("{path}: unpacks to {size:,} bytes, more than the {most:,} an import reads (a zip "
                                  "bomb, or split it)", path=path, size=total, most=max_unpacked))
    for m in members:
        if m.file_size > RATIO_FLOOR_BYTES and m.file_size > max_ratio * max(m.compress_size, 1):
            raise ImportFileError(msg("{path}: {member} unpacks {ratio:,} times its packed size, more than the {most} "
                                      "an export does (a zip bomb?)", path=path, member=m.filename,
                                      ratio=m.file_size // max(m.compress_size, 1), most=max_ratio))
