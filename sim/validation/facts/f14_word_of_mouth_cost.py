"""F14 — what bad word of mouth costs a merchant: of the customers a merchant loses after problems it
never puts right, how many had the problem and how many only heard about it (listeners of negative word
of mouth about that merchant), each against a control that had no problem and heard nothing.

The market is `scenarios/validation/f14_word_of_mouth_cost.toml`; the texts of the report (source, test,
measurement, evidence) are in `docs/validation/facts/F14.md`."""

from __future__ import annotations

import numpy as np

from ...mechanism import CHURNED, EV
from ..core import Cohort, Fact, above_check, band_check, ci, new_figure, ratio_ci, run_scenario, series

F14_FROM, F14_UNTIL, F14_HORIZON = 13, 78, 26
F14_MERCHANT = 0  # 'Leaky', the first merchant of the file
GROUPS = ("problem", "heard", "ctrl_buyers", "ctrl_all")


def measure(markets, seed):
    sc = markets[0]
    mem = np.float32(sc.params.wom_memory)
    x = F14_MERCHANT
    pending: dict[int, list[tuple[str, Cohort]]] = {}
    acc = {g: np.zeros(2) for g in GROUPS}  # [followed, retained]
    state = {"id": None, "heard": None}
    seen: dict[str, set] = {"problem": set(), "heard": set()}  # each customer enters a group once

    def on_step(model):
        pop, t = model.pop, model.steps
        h = pop.heard[:, x].copy()
        if F14_FROM <= t <= F14_UNTIL and state["id"] is not None:
            f = pop.flags
            mine = np.flatnonzero((pop.merchant == x) & (pop.stage > CHURNED))
            same = pop.id[mine] == state["id"][mine]  # the same customer as a step ago in that place
            # heard bad word of mouth about x this step: its view of x fell below what fading alone leaves
            fell = same & (h[mine] < state["heard"][mine] * mem - 1e-6) & ((f[mine] & EV.HEARD_BAD) != 0)
            bought = ((f[mine] & EV.PURCHASE) != 0) & ((f[mine] & EV.TRIED_OTHER) == 0)
            problem = bought & ((f[mine] & EV.DISSATISFIED) != 0)
            unresolved = problem & ~(((f[mine] & EV.COMPLAINED) != 0) & pop.recovery_ok[mine])
            quiet = same & ~problem & ((f[mine] & (EV.HEARD_BAD | EV.HEARD_GOOD)) == 0)
            cohorts = []
            for g, mask in (("problem", unresolved), ("heard", fell & ~problem)):
                idx = mine[mask]
                new = np.array([i not in seen[g] for i in pop.id[idx].tolist()], dtype=bool)
                idx = idx[new]
                seen[g].update(pop.id[idx].tolist())
                cohorts.append((g, Cohort(pop, idx)))
            cohorts.append(("ctrl_buyers", Cohort(pop, mine[quiet & bought])))
            cohorts.append(("ctrl_all", Cohort(pop, mine[quiet])))
            pending[t + F14_HORIZON] = cohorts
        if t in pending:
            for g, c in pending.pop(t):
                acc[g] += (len(c), c.retained(pop).sum())
        state["id"], state["heard"] = pop.id.copy(), h

    run_scenario(sc, seed, on_step)
    out = {f"n_{g}": float(a[0]) for g, a in acc.items()}
    out.update({f"ret_{g}": float(a[1] / a[0]) if a[0] else float("nan") for g, a in acc.items()})
    out["lost_problem"] = out["n_problem"] * (out["ret_ctrl_buyers"] - out["ret_problem"])
    out["lost_heard"] = out["n_heard"] * (out["ret_ctrl_all"] - out["ret_heard"])
    return out


def evaluate(ps):
    excess_heard = [d["ret_ctrl_all"] - d["ret_heard"] for d in ps]
    return [
        above_check("heard_cost", "retention 26 weeks later: control − listeners of bad word of mouth "
                    "(customers who heard, without a problem of their own)",
                    "26 周后的保留率：对照组 − 听到负面口碑者（自己没有问题）", ci(excess_heard), 0.0),
        band_check("ratio", "customers lost through hearing / customers lost through their own problem",
                   "因听说而失去的客户 / 因自身问题而失去的客户", ratio_ci(series(ps, "lost_heard"),
                                                                   series(ps, "lost_problem")),
                   -np.inf, np.inf, "{:.2f}", info=True),
        band_check("problem_cost", "retention 26 weeks later: control − customers with an unresolved problem",
                   "26 周后的保留率：对照组 − 问题未解决的客户",
                   ci([d["ret_ctrl_buyers"] - d["ret_problem"] for d in ps]), -np.inf, np.inf, info=True),
        band_check("lost_problem", "customers lost through their own problem, per run", "每次运行因自身问题失去的客户",
                   ci(series(ps, "lost_problem")), -np.inf, np.inf, "{:.0f}", info=True),
        band_check("lost_heard", "customers lost through hearing, per run", "每次运行因听说而失去的客户",
                   ci(series(ps, "lost_heard")), -np.inf, np.inf, "{:.0f}", info=True),
        band_check("n_problem", "customers with an unresolved problem followed, per run", "每次运行跟踪的问题未解决客户数",
                   ci(series(ps, "n_problem")), -np.inf, np.inf, "{:.0f}", info=True),
        band_check("n_heard", "listeners of bad word of mouth followed, per run", "每次运行跟踪的负面口碑听者数",
                   ci(series(ps, "n_heard")), -np.inf, np.inf, "{:.0f}", info=True),
    ]


def plot(ps, checks):
    fig, axes = new_figure(2)
    names = (("ret_ctrl_buyers", "control\n(buyers)"), ("ret_problem", "own problem"),
             ("ret_ctrl_all", "control\n(all)"), ("ret_heard", "heard"))
    m = [ci(series(ps, k)) for k, _ in names]
    axes[0].bar(range(4), [v[0] for v in m], yerr=[[v[0] - v[1] for v in m], [v[2] - v[0] for v in m]],
                color=["C0", "C3", "C0", "C1"])
    axes[0].set_xticks(range(4), [n for _, n in names], fontsize=8)
    axes[0].set_ylabel("still a customer 26 weeks later / 26 周后仍是客户")
    lost = [ci(series(ps, "lost_problem")), ci(series(ps, "lost_heard"))]
    axes[1].bar(range(2), [v[0] for v in lost], yerr=[[v[0] - v[1] for v in lost], [v[2] - v[0] for v in lost]],
                color=["C3", "C1"])
    axes[1].set_xticks(range(2), ["own problem / 自身问题", "heard / 听说"], fontsize=8)
    axes[1].set_ylabel("customers lost per run / 每次运行失去的客户")
    return fig


FACT = Fact("F14", "f14_word_of_mouth_cost.toml", measure, evaluate, plot, cost=2)
