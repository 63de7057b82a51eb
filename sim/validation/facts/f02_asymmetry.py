"""F2 — asymmetry with diminishing sensitivity, on the shock design of
:mod:`sim.validation.shocks`.

The market is `scenarios/validation/f02_asymmetry.toml`; the texts of the report (source, test,
measurement, diagnoses) are in `docs/validation/facts/F2.md`."""

from __future__ import annotations

from ..core import interval_errors, interval_means
from ..core import Fact, band_check, below_check, ci, diff_ci, new_figure, ratio_ci
from ..shocks import ZONE_HALF, measure_shock, shock_effects, with_logit

F2_MEASURES = (("sat", "satisfaction", "满意度", "{:.3f}"),
               ("int", "retention: intention to buy again", "保留：再购意愿", "{:.3f}"),
               ("ret", "retention: still a customer 26 weeks later", "保留：26 周后仍是客户", "{:.4f}"))


def measure(markets, seed):
    return measure_shock(markets[0], seed, horizon=26)


def evaluate(ps):
    checks = []
    for key, en, zh, fmt in F2_MEASURES:
        for d in (0.1, 0.2, 0.3):
            loss = shock_effects(ps, key, -(ZONE_HALF + d), -1)
            gain = shock_effects(ps, key, ZONE_HALF + d, 1)
            # behaviour is reported beside the intention (the sources measured intentions)
            checks.append(band_check(
                f"ratio_{key}_{d}", f"{en}: effect of a shortfall / of a surplus, d = {d} beyond the zone",
                f"{zh}：不足效应 / 超出效应，超出区间 d = {d}", ratio_ci(loss, gain), 1.5, 3.0, "{:.2f}",
                info=(key == "ret")))
        for side, sgn, en_s, zh_s in (("loss", -1, "shortfall", "不足"), ("gain", 1, "surplus", "超出")):
            eff = [shock_effects(ps, key, sgn * (ZONE_HALF + d), sgn) for d in (0.0, 0.1, 0.2, 0.3)]
            sd1 = [b - 2 * a + z for z, a, b in zip(eff[0], eff[1], eff[2])]
            sd2 = [b - 2 * a + z for z, a, b in zip(eff[1], eff[2], eff[3])]
            worst = [max(x, y) for x, y in zip(sd1, sd2)]
            checks.append(below_check(
                f"concave_{key}_{side}", f"{en}: concavity of the {en_s} effect in d (larger second difference "
                "over d = 0, 0.1, 0.2, 0.3 beyond the zone)",
                f"{zh}：{zh_s}效应随 d 的凹性（d = 0、0.1、0.2、0.3 上较大的二阶差分）", ci(worst), 0.0, fmt,
                significant=False, info=(key == "ret"),
                target_en="< 0 (mean)", target_zh="< 0（均值）"))
    # behaviour moves the same way as the intention, by less: a shortfall lowers 26-week retention
    # (significantly), and by less than it lowers the intention to buy again
    for d in (0.1, 0.2, 0.3):
        beh = shock_effects(ps, "ret", -(ZONE_HALF + d))
        drop_int = shock_effects(ps, "int", -(ZONE_HALF + d), -1)
        drop_ret = shock_effects(ps, "ret", -(ZONE_HALF + d), -1)
        less = diff_ci(drop_int, drop_ret)
        chk = below_check(
            f"ret_same_way_{d}", f"behaviour: effect of a shortfall (d = {d} beyond the zone) on still being a "
            f"customer 26 weeks later; the intention's drop less the behaviour's: {less[0]:.3f} "
            f"[{less[1]:.3f}, {less[2]:.3f}]",
            f"行为：不足（超出区间 d = {d}）对 26 周后仍是客户的效应；意愿的下降减去行为的下降："
            f"{less[0]:.3f} [{less[1]:.3f}, {less[2]:.3f}]",
            ci(beh), 0.0, "{:.4f}", target_en="< 0 (95% interval), and a smaller drop than the intention's "
            "(difference > 0, 95% interval)", target_zh="< 0（95% 区间），且下降小于意愿的下降（差 > 0，95% 区间）")
        chk.passed = chk.passed and less[1] > 0
        checks.append(chk)
    # the intention's ratios on its logit scale (the latent utility a rating reads), reported beside the
    # probabilities: near a high intention a probability can fall much further than it can rise
    for d in (0.1, 0.2, 0.3):
        loss, gain = _logit_effects(ps, d)
        checks.append(band_check(
            f"logit_int_{d}", f"intention on its logit scale: effect of a shortfall / of a surplus, d = {d}",
            f"意愿（logit 尺度）：不足效应 / 超出效应，d = {d}", ratio_ci(loss, gain), 1.5, 3.0, "{:.2f}", info=True))
    # the same ratio with d read from the expectation instead of the zone edges (reported only)
    for key, en, zh, fmt in F2_MEASURES[:2]:
        for d in (0.1, 0.2, 0.3):
            loss = shock_effects(ps, key, -d, -1)
            gain = shock_effects(ps, key, d, 1)
            checks.append(band_check(
                f"fromE_{key}_{d}", f"{en}: shortfall / surplus with d = {d} read from the expectation",
                f"{zh}：以预期为起点的 d = {d} 的不足 / 超出", ratio_ci(loss, gain), 1.5, 3.0, "{:.2f}", info=True))
    return checks


def _logit_effects(ps, d):
    """Per seed, the shortfall's and the surplus's effect of size ``d`` on the logit of the mean
    intention (:func:`shock_effects` on the intentions' logits)."""
    logits = with_logit(ps)
    return (shock_effects(logits, "int_logit", -(ZONE_HALF + d), -1),
            shock_effects(logits, "int_logit", ZONE_HALF + d, 1))


def plot(ps, checks):
    fig, axes = new_figure(3)
    ds = [0.0, 0.1, 0.2, 0.3]
    for ax, (key, en, _, _) in zip(axes, F2_MEASURES):
        for sgn, lab, c in ((-1, "shortfall (sign flipped)", "C3"), (1, "surplus", "C2")):
            vals = [shock_effects(ps, key, sgn * (ZONE_HALF + d), sgn) for d in ds]
            m = [ci(v) for v in vals]
            ax.errorbar(ds, interval_means(m), yerr=interval_errors(m),
                        marker="o", color=c, label=lab, capsize=3)
        ax.set_xlabel("d beyond the zone of tolerance")
        ax.set_title(f"Effect on {en}", fontsize=9)
        ax.axhline(0, color="0.3", lw=0.8)
        ax.legend(fontsize=7)
    return fig


FACT = Fact("F2", "f02_asymmetry.toml", measure, evaluate, plot, cost=3,
            kinds=(("ratio_sat", "verification"), ("concave_sat", "verification"),
                   ("fromE_sat", "verification")))
