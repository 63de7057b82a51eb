"""F8 — word of mouth, read from the model's own word-of-mouth observables.

The market is `scenarios/validation/f08_word_of_mouth.toml`; the texts of the report (source, test,
measurement, diagnoses) are in `docs/validation/facts/F8.md`."""

from __future__ import annotations

import math

import numpy as np

from ..core import (Fact, above_check, band_check, ci, interval_errors, interval_means, new_figure, ratio_ci,
                   run_scenario, series)

F8_FROM = 53


def measure(markets, seed):
    sc = markets[0]
    mk = run_scenario(sc, seed).metrics
    w = mk[mk.index >= F8_FROM]
    with np.errstate(invalid="ignore", divide="ignore"):
        neg_speakers = np.where(w["wom_per_negative_speaker"] > 0, w["wom_negative"] / w["wom_per_negative_speaker"], 0)
        pos_speakers = np.where(w["wom_per_positive_speaker"] > 0, w["wom_positive"] / w["wom_per_positive_speaker"], 0)
    neg, pos = float(w["wom_negative"].sum()), float(w["wom_positive"].sum())
    return {"per_neg": neg / neg_speakers.sum(), "per_pos": pos / pos_speakers.sum(), "pos": pos, "neg": neg,
            "satisfied": float((w["loyalists"] + w["mercenaries"]).mean()),
            "neg_speakers": float(neg_speakers.sum()), "pos_speakers": float(pos_speakers.sum())}


def evaluate(ps):
    return [
        band_check("per_person", "listeners per dissatisfied speaker / per satisfied speaker",
                   "每位不满传播者的听众 / 每位满意传播者的听众", ratio_ci(series(ps, "per_neg"), series(ps, "per_pos")),
                   1.5, 3.0, "{:.2f}"),
        above_check("satisfied", "share of customers satisfied (cumulative satisfaction ≥ 0.45)",
                    "满意客户比例（累积满意度 ≥ 0.45）", ci(series(ps, "satisfied")), 0.70, "{:.3f}",
                    significant=False, target_en="≥ 0.70 (precondition)", target_zh="≥ 0.70（前提条件）"),
        band_check("total", "positive : negative messages heard, in total", "听到的正面 : 负面信息总量",
                   ratio_ci(series(ps, "pos"), series(ps, "neg")), 2.0, 4.0, "{:.2f}"),
        band_check("per_neg", "listeners per dissatisfied speaker", "每位不满传播者的听众", ci(series(ps, "per_neg")),
                   0, math.inf, "{:.2f}", info=True),
        band_check("per_pos", "listeners per satisfied speaker", "每位满意传播者的听众", ci(series(ps, "per_pos")),
                   0, math.inf, "{:.2f}", info=True),
        band_check("speakers", "satisfied speakers / dissatisfied speakers", "满意传播者 / 不满传播者",
                   ratio_ci(series(ps, "pos_speakers"), series(ps, "neg_speakers")), 0, math.inf, "{:.2f}",
                   info=True),
    ]


def plot(ps, checks):
    fig, (a1, a2) = new_figure(2)
    m = [ci(series(ps, k)) for k in ("per_neg", "per_pos")]
    a1.bar([0, 1], interval_means(m), yerr=interval_errors(m),
           color=["C3", "C2"], capsize=3)
    a1.set_xticks([0, 1], ["per dissatisfied\nspeaker", "per satisfied\nspeaker"])
    a1.set_title("Listeners per speaker (target ratio 1.5–3)", fontsize=9)
    m = [ci(series(ps, k)) for k in ("neg", "pos")]
    a2.bar([0, 1], interval_means(m), yerr=interval_errors(m),
           color=["C3", "C2"], capsize=3)
    a2.set_xticks([0, 1], ["negative", "positive"])
    a2.set_title("Messages heard in weeks 53–104 (target pos:neg 2–4)", fontsize=9)
    return fig


FACT = Fact("F8", "f08_word_of_mouth.toml", measure, evaluate, plot,
            kinds=(("per_", "verification"),))
