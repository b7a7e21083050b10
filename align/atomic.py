"""Write files so that a failure never leaves half of one behind."""
from __future__ import annotations

import os
import tempfile
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import IO, Iterable, Iterator


@contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "w", encoding: str | None = "utf-8") -> Iterator[IO]:
    """Open a temporary file beside ``path``; rename it over ``path`` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, mode, encoding=None if "b" in mode else encoding) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it private; the result gets a new file's usual mode
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_all(files: Iterable[tuple[str | os.PathLike, bytes]]) -> None:
    """Several files, all or nothing: each goes through ``atomic_write`` and the renames wait until every one
    is complete, so a failure while writing any of them leaves all of them as they were."""
    with ExitStack() as stack:
        for path, data in files:
            stack.enter_context(atomic_write(path, "wb")).write(data)


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current
