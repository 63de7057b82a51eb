"""The validation table for the terminal (``loyalty-sim validate``; also at the end of the report), in
English or 简体中文, with East Asian wide characters counted as two columns."""

from __future__ import annotations

from .core import KIND_NAMES, KINDS, Validation
from .variant import kept_keys

__all__ = ["console_table", "headline", "WORDS"]


WORDS = {
    "fact": ("fact", "事实"), "measured": ("measured", "测量内容"), "value": ("value [95% interval]", "数值 [95% 区间]"),
    "target": ("target", "目标"), "result": ("result", "结果"), "pass": ("PASS", "通过"), "fail": ("FAIL", "未通过"),
    "error": ("ERROR", "出错"), "kind": ("evidence", "证据"),
    "summary": ("held-out: {p} of {n} facts pass ({cp} of {cn} checks)",
                "留出验证：{n} 个事实中 {p} 个通过（{cn} 项检验中 {cp} 项）"),
    "verification": ("verification: {cp} of {cn} checks hold (the rules do what they say)",
                     "验证：{cn} 项检验中 {cp} 项成立（规则按其所述运作）"),
    "calibration": ("calibration: {cp} of {cn} fitted targets within tolerance",
                    "校准：{cn} 个拟合目标中 {cp} 个在容差之内"),
    "seeds": ("{n} seeds per fact (master seed {m})", "每个事实 {n} 个种子（主种子 {m}）"),
}


def _w(key: str, lang: str, **fmt) -> str:
    en, zh = WORDS[key]
    return (zh if lang == "zh" else en).format(**fmt)


def _width(s: str) -> int:
    return sum(2 if ord(ch) >= 0x1100 and (0x1100 <= ord(ch) <= 0x115F or 0x2E80 <= ord(ch) <= 0xFFDC) else 1
               for ch in s)


def _pad(s: str, n: int) -> str:
    return s + " " * max(0, n - _width(s))


def _clip(s: str, n: int) -> str:
    if _width(s) <= n:
        return s
    out = ""
    for ch in s:
        if _width(out + ch + "…") > n:
            break
        out += ch
    return out + "…"


def headline(v: Validation, lang: str = "en") -> list[str]:
    """The results by kind of evidence: held-out facts (the headline), then verification and calibration
    checks, each on its own line."""
    out = []
    for kind in ("held_out", "verification", "calibration"):
        t = v.tally(kind)
        if not t["facts"]:
            continue
        line = _w("summary" if kind == "held_out" else kind, lang, p=t["facts_passed"], n=t["facts"],
                  cp=t["checks_passed"], cn=t["checks"])
        if t["failing"]:
            line += (" — 未通过：" if lang == "zh" else " — failing: ") + ", ".join(t["failing"])
        out.append(line)
    return out


def variant_text(v: Validation, lang: str = "en") -> str:
    """One line naming the values a variant of the model ran with (``validate --set``) and the facts
    whose own file kept a value of its own; empty for the model as declared."""
    if not v.values:
        return ""
    vals = ", ".join(f"{k} = {x}" for k, x in v.values.items())
    kept = {r.fact.id: kept_keys(r.fact.id, v.values) for r in v.results}
    kept = {f: ks for f, ks in kept.items() if ks}
    if lang == "zh":
        line = f"模型的变体：每个事实的市场都改为 {vals}（--set）"
        if kept:
            line += "；以下事实的文件自己设定了这些键，保留其设计：" + "；".join(f"{f}（{'、'.join(ks)}）" for f, ks in kept.items())
        return line + "。"
    line = f"A variant of the model: every fact's markets ran with {vals} (--set)"
    if kept:
        line += "; these facts' own files set the key and kept their design: " + "; ".join(
            f"{f} ({', '.join(ks)})" for f, ks in kept.items())
    return line + "."


def console_table(v: Validation, lang: str = "en", width: int = 150) -> list[str]:
    """The validation table for the terminal: one row per check that counts (not the info rows)."""
    zh = lang == "zh"
    cols = [_w("fact", lang), _w("kind", lang), _w("measured", lang), _w("value", lang), _w("target", lang), _w("result", lang)]
    rows = []
    for r in v.results:
        if r.error:
            rows.append([r.fact.id, "", _clip(r.error, 70), "", "", _w("error", lang)])
            continue
        for c in sorted((c for c in r.checks if not c.info), key=lambda c: KINDS.index(c.kind)):
            rows.append([r.fact.id, KIND_NAMES[c.kind][1 if zh else 0], c.measured_zh if zh else c.measured_en, c.value_text(),
                         c.target_zh if zh else c.target_en, _w("pass" if c.passed else "fail", lang)])
    w_kind = max([_width(cols[1])] + [_width(x[1]) for x in rows])
    w_val = max([_width(cols[3])] + [_width(x[3]) for x in rows])
    w_tgt = min(28, max([_width(cols[4])] + [_width(x[4]) for x in rows]))
    w_res = max(_width(cols[5]), 6)
    w_meas = max(30, width - (5 + w_kind + w_val + w_tgt + w_res + 10))
    widths = [5, w_kind, w_meas, w_val, w_tgt, w_res]
    lines = ["  ".join(_pad(c, w) for c, w in zip(cols, widths)), "  ".join("-" * w for w in widths)]
    for row in rows:
        row = [_clip(x, w) for x, w in zip(row, widths)]
        lines.append("  ".join(_pad(x, w) for x, w in zip(row, widths)).rstrip())
    lines.append("")
    lines.extend(headline(v, lang))
    lines.append(_w("seeds", lang, n=len(v.seeds), m=v.master) + f"; {v.seconds:.0f} s, {v.executor}")
    if v.values:
        lines.append(variant_text(v, lang))
    return lines
