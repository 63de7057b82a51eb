"""Reading an input file (a scenario, an experiment, a calibration) safely: only a regular file, and
never more than its size limit, whatever the path points to (``/dev/zero``, a pipe, a huge file).

>>> len(read_input(__file__, 1 << 20, ValueError)) > 0
True
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Callable

__all__ = ["read_input"]


def read_input(path: str | os.PathLike, limit: int, error: Callable[..., Exception], source: str | None = None) -> bytes:
    """The bytes of the regular file at ``path``, at most ``limit``. Anything else raises
    ``error(key, message, source, message_zh)`` (a :class:`~sim.params.ParamError` subclass): no such
    file, a folder, a device or pipe, more than ``limit`` bytes, unreadable."""
    p = Path(path)
    src = source if source is not None else os.fspath(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise error("", "no such file", src, "文件不存在") from None
    except OSError as e:
        raise error("", f"cannot read the file: {e.strerror or e}", src, f"无法读取文件：{e.strerror or e}") from None
    if stat.S_ISDIR(st.st_mode):
        raise error("", "this is a folder, not a file", src, "这是文件夹，不是文件") from None
    if not stat.S_ISREG(st.st_mode):
        raise error("", "this is not a regular file (a device, a pipe or a socket): give a .toml file", src,
                    "这不是普通文件（而是设备、管道或套接字）：请给出 .toml 文件") from None
    try:
        with open(p, "rb") as f:
            data = f.read(limit + 1)
    except OSError as e:
        raise error("", f"cannot read the file: {e.strerror or e}", src, f"无法读取文件：{e.strerror or e}") from None
    if len(data) > limit:
        raise error("", f"the file is larger than {limit:,} bytes ({limit // 1024} KB), the most an input file may be",
                    src, f"文件超过 {limit:,} 字节（{limit // 1024} KB），输入文件最多这么大") from None
    return data
