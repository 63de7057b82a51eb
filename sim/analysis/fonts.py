"""Text in matplotlib figures: the CJK font shipped with the project's dependencies, and text drawn
as written.

:func:`figure_text` is what every figure maker calls first.

:func:`use_cjk_font` registers a CJK font found inside an installed Python package (or, failing
that, among the system's fonts) as a fallback family of matplotlib, so figures in Chinese render
the same offline on a fresh machine; :func:`packaged_cjk_fonts` lists those font files (the web
app serves the first one to browsers without a Chinese font).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

__all__ = ["FONT_PACKAGES", "SYSTEM_CJK_FAMILIES", "packaged_cjk_fonts", "figure_text", "use_cjk_font",
           "forget_cjk_font"]

#: Python packages known to ship a CJK font file, and which of their files to prefer; the first one
#: installed is used (``paperang-p2-fonts-cjk`` is the project's dependency: WenQuanYi Micro Hei)
FONT_PACKAGES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("paperang_p2_fonts_cjk", ("wqy-microhei.ttc",)),
    ("pylopdf_fonts_zh_cn", ("NotoSansSC-Regular.otf",)),
    ("mplfonts", ("NotoSansCJKsc-Regular.otf", "SourceHanSerifSC-Regular.otf")),
    ("mpl_font", ("NotoSansCJKsc-Regular.otf", "wqy-microhei.ttc")),
)
#: CJK families looked for among the system's fonts when no package ships one
SYSTEM_CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN",
                       "WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "Sarasa Gothic SC", "Microsoft YaHei", "SimHei",
                       "PingFang SC", "Hiragino Sans GB", "Heiti SC", "STHeiti", "Noto Sans CJK JP",
                       "Noto Sans CJK TC", "Droid Sans Fallback", "AR PL UMing CN", "AR PL UKai CN",
                       "Arial Unicode MS")
_UNSET = object()
_cjk_family: object = _UNSET


def packaged_cjk_fonts() -> list[Path]:
    """The CJK font files shipped inside installed Python packages (found without importing them), one per
    package in the order of :data:`FONT_PACKAGES`; the web app serves the first to browsers without a
    Chinese font."""
    found = []
    for module, preferred in FONT_PACKAGES:
        try:
            spec = importlib.util.find_spec(module)
        except (ImportError, ValueError):
            spec = None
        if spec is None or not spec.submodule_search_locations:
            continue
        for root in spec.submodule_search_locations:
            files = [p for ext in ("ttf", "otf", "ttc") for p in Path(root).rglob(f"*.{ext}")]
            rank = {name: i for i, name in enumerate(preferred)}
            files.sort(key=lambda p: (rank.get(p.name, len(rank)), p.name))
            found.extend(files[:1])
    return found


def figure_text() -> str | None:
    """Prepare matplotlib for the project's figures: Chinese text renders (:func:`use_cjk_font`,
    whose answer is returned), and every text is drawn as written — a ``$`` in a merchant's name or a
    scenario file's name is a dollar sign, not the start of a formula (matplotlib's math text would
    fail on ``$$ Discount`` or italicise ``a$b$c``; the figures use no formulas)."""
    import matplotlib as mpl

    mpl.rcParams["text.parse_math"] = False
    return use_cjk_font()


def use_cjk_font() -> str | None:
    """Make Chinese text render in matplotlib figures; return the CJK font family used (or ``None``).

    On first call it registers the CJK font shipped inside an installed Python package (the
    project depends on ``paperang-p2-fonts-cjk``, which ships WenQuanYi Micro Hei) with
    matplotlib's font manager; if no such package is installed it looks for a CJK font among
    the system's fonts. It then appends that family to ``rcParams["font.family"]`` as a fallback:
    Latin letters and digits keep the default font, and characters it lacks (Chinese) come from
    the CJK font. Nothing is downloaded. Later calls return the same answer at once. Safe to call
    from an app before drawing.
    """
    global _cjk_family
    if _cjk_family is not _UNSET:
        _ensure_fallback(_cjk_family)
        return _cjk_family  # type: ignore[return-value]
    from matplotlib import font_manager as fm

    family = None
    for path in packaged_cjk_fonts():
        try:
            fm.fontManager.addfont(str(path))
            family = fm.get_font(str(path)).family_name
            break
        except Exception:  # a damaged or unreadable file: try the next source
            continue
    if family is None:
        known = {f.name for f in fm.fontManager.ttflist}
        family = next((name for name in SYSTEM_CJK_FAMILIES if name in known), None)
    _cjk_family = family
    _ensure_fallback(family)
    return family


def _ensure_fallback(family) -> None:
    if not family:
        return
    import matplotlib as mpl

    fam = mpl.rcParams["font.family"]
    fam = [fam] if isinstance(fam, str) else list(fam)
    if family not in fam:
        mpl.rcParams["font.family"] = fam + [family]


def forget_cjk_font() -> None:
    """Forget the family :func:`use_cjk_font` found, so that its next call looks again (tests)."""
    global _cjk_family
    _cjk_family = _UNSET
