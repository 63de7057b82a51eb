"""A customer's story: pick a customer and read what happened to them, in plain sentences.

:func:`story_lines` turns a customer's recent history (``model.customer(id)``) into sentences in
English or Chinese, week by week: quiet stretches of satisfied purchases (Cycle A) are summed up
in one line; encounters that fell short, complaints and recoveries (Cycle B), the trust
bottleneck, loyalty, switches and departures each get their own. :func:`why_text` says why the
customer stays or why they left. :func:`pick` finds "a loyal customer", "a hostage", "a recovered
complainer", "a customer who left", … with the session's page generator (``sess.page_rng``, a
stream of its own spawned from the run's seed: never the model's, so looking at customers does not
change the run).
"""

from __future__ import annotations

import numpy as np
import solara

from .. import mechanism as mc
from ..mechanism.switching_costs import held_by_points, points_cost
from ..metrics import SATISFIED_MIN
from .pages_common import Md
from .i18n import tr
from .plots import fig_customer

__all__ = ["KINDS", "pick", "kind_title", "story_lines", "why_text", "Inspector"]

#: kinds of customer one can ask for: key → (English, Chinese)
KINDS: dict[str, tuple[str, str]] = {
    "loyal": ("a loyal customer", "一位忠诚客户"),
    "trusting": ("a trusting customer", "一位信任客户"),
    "ordinary": ("an ordinary customer", "一位普通客户"),
    "hostage": ("a hostage", "一位人质型客户"),
    "recovered": ("a recovered complainer", "一位投诉被妥善解决的客户"),
    "botched": ("a complainer let down", "一位投诉被搞砸的客户"),
    "left": ("a customer who left", "一位已离开的客户"),
}

def kind_title(kind: str, cid: int, lang: str = "en") -> str:
    """A story's heading from the kind of customer asked for: "A loyal customer (#577)"."""
    en, zh = KINDS.get(kind, (kind, kind))
    return f"{zh}（#{cid}）" if lang == "zh" else f"{en[:1].upper()}{en[1:]} (#{cid})"


def pick(sess, kind: str, rng: np.random.Generator | None = None) -> int | None:
    """The id of a random customer of ``kind`` (see :data:`KINDS`) in the session's market, or
    ``None`` if there is none (:meth:`sim.model.LoyaltyModel.pick_customer`). Draws from ``rng``, by
    default the session's ``page_rng``."""
    with sess.lock:
        return sess.model.pick_customer(kind, sess.page_rng if rng is None else rng)


# --------------------------------------------------------------------------------------------
# the story
# --------------------------------------------------------------------------------------------
_ROUTINE = {"purchase", "satisfied", "heard_good", "heard_bad"}


def _pron(cid: int, zh: bool) -> tuple[str, str, str]:
    """(subject, possessive, Subject) — customers with even ids are "she", odd "he"."""
    if zh:
        p = "她" if cid % 2 == 0 else "他"
        return p, p + "的", p
    return ("she", "her", "She") if cid % 2 == 0 else ("he", "his", "He")


def _weeks(a: int, b: int, zh: bool) -> str:
    if zh:
        return f"第 {a} 周" if a == b else f"第 {a}–{b} 周"
    return f"Week {a}" if a == b else f"Weeks {a}–{b}"


def _trust_change(prev: float | None, now: float, zh: bool, pos: str) -> str:
    if prev is None or abs(now - prev) < 0.02:
        return ""
    if zh:
        return f"{pos}信任{'升' if now > prev else '降'}至 {now:.2f}"
    return f"{pos} trust {'rose' if now > prev else 'fell'} to {now:.2f}"


def story_lines(story: dict | None, lang: str = "en") -> list[str]:
    """The customer's recent history as sentences (oldest first)."""
    if not story:
        return []
    zh = lang == "zh"
    cid = int(story["id"])
    she, her, She = _pron(cid, zh)
    rows = story.get("history") or []
    out: list[str] = []
    run: list[dict] = []  # a quiet stretch
    prev: dict | None = None
    complained_at: dict[str, int] = {}

    def flush():
        nonlocal run
        if not run:
            return
        buys = [r for r in run if "purchase" in r["events"]]
        a, b = run[0]["step"], run[-1]["step"]
        t0 = run_prev["trust"] if run_prev else run[0]["trust"]
        t1 = run[-1]["trust"]
        shops = sorted({r["merchant"] for r in buys if r["merchant"]})
        where = "、".join(shops) if zh else " and ".join(shops)
        if buys:
            if zh:
                s = f"{_weeks(a, b, zh)}：在 {where} 满意地购买了 {len(buys)} 次（甲循环）"
                if abs(t1 - t0) >= 0.02:
                    s += f"；信任 {t0:.2f} → {t1:.2f}"
            else:
                s = (f"{_weeks(a, b, zh)}: {len(buys)} satisfied purchase{'s' if len(buys) > 1 else ''} from {where} "
                     f"(Cycle A)")
                if abs(t1 - t0) >= 0.02:
                    s += f"; trust {t0:.2f} → {t1:.2f}"
            heard_bad = sum("heard_bad" in r["events"] for r in run)
            if heard_bad:
                s += (f"；听到 {heard_bad} 次负面口碑" if zh else
                      f"; heard bad word of mouth {heard_bad} time{'s' if heard_bad > 1 else ''}")
            out.append(s + ("。" if zh else "."))
        elif b - a >= 1:
            out.append(f"{_weeks(a, b, zh)}：没有购买。" if zh else f"{_weeks(a, b, zh)}: no purchase.")
        run = []

    run_prev = None
    for r in rows:
        ev = set(r["events"])
        if not (ev - _ROUTINE) and ("satisfied" in ev or "purchase" not in ev):
            if not run:
                run_prev = prev
            run.append(r)
            prev = r
            continue
        flush()
        parts: list[str] = []
        m = r["merchant"]
        bought_from = (prev["merchant"] if prev is not None and "switched" in ev and prev["merchant"] else m)
        if "arrived" in ev:
            parts.append(f"来到市场，预期约 {r['expectation']:.2f}，选择了 {m}" if zh else
                         f"arrived in the market expecting about {r['expectation']:.2f}, and chose {m}")
        if "purchase" in ev:
            if "tried_other" in ev:
                parts.append("换一家商家试了一次" if zh else "tried another merchant for once")
            elif "delighted" in ev:
                parts.append(f"在 {bought_from} 购买；服务超出了{her}期望（惊喜）" if zh else
                             f"bought from {bought_from}; the service beat what {she} hoped for (delighted)")
            elif "dissatisfied" in ev:
                if "failed" in ev:
                    parts.append(f"在 {bought_from} 购买；出了差错（服务失误），{she}心存怨气" if zh else
                                 f"bought from {bought_from}; something went wrong (a service failure) and {she} holds a grievance")
                else:
                    parts.append(f"在 {bought_from} 购买；服务没有达到{her}预期" if zh else
                                 f"bought from {bought_from}; the service fell short of what {she} expected")
                if "complained" in ev:
                    complained_at[bought_from] = r["step"]
                    parts.append(f"{she}投诉了" if zh else f"{she} complained")
                else:
                    parts.append(f"{she}没有投诉（默默不满）" if zh else f"{she} said nothing (silent dissatisfaction)")
            elif "satisfied" in ev:
                parts.append(f"在 {bought_from} 满意地购买（甲循环）" if zh else
                             f"bought from {bought_from} and was satisfied (Cycle A)")
        elif "complained" in ev:
            parts.append(f"{she}投诉了" if zh else f"{she} complained")
        if "recovered" in ev or "botched" in ev:
            at = complained_at.pop(m, None)
            later = ""
            if at is not None and r["step"] > at:
                k = r["step"] - at
                later = (f"{k} 周后，" if zh else f" {k} week{'s' if k > 1 else ''} later")
            if "recovered" in ev:
                parts.append(f"{later}{m} 妥善解决了{her}投诉（乙循环）" if zh else
                             f"{m} put {her} complaint right{later} (Cycle B)")
            else:
                parts.append(f"{later}{m} 对{her}投诉的处理令人失望（补救失败）" if zh else
                             f"{m}'s answer to {her} complaint{later} let {'her' if she == 'she' else 'him'} down (botched recovery)")
        if "became_trusting" in ev:
            parts.append(f"{she}越过了信任瓶颈（G）" if zh else f"{she} passed the trust bottleneck (G)")
        if "became_loyal" in ev:
            parts.append(f"{she}成为 {m} 的忠诚客户（H）" if zh else f"{she} became loyal to {m} (H)")
        if "lost_loyalty" in ev:
            parts.append(f"{her}信任破裂，不再忠诚" if zh else f"{her} trust broke: {she} is loyal no more")
        if "switched" in ev and prev is not None:
            parts.append(f"{she}从 {prev['merchant']} 转向了 {m}" if zh else
                         f"{she} switched from {prev['merchant']} to {m}")
        if "left" in ev:
            parts.append(f"{she}离开了市场" if zh else f"{she} left the market")
        if "heard_bad" in ev:
            parts.append(f"{she}听到了负面口碑" if zh else f"{she} heard bad word of mouth")
        if "heard_good" in ev and "arrived" not in ev:
            parts.append(f"{she}听到了推荐" if zh else f"{she} heard a recommendation")
        tc = _trust_change(prev["trust"] if prev else None, r["trust"], zh, her)
        if tc:
            parts.append(tc)
        if parts:
            if zh:
                out.append(f"{_weeks(r['step'], r['step'], zh)}：" + "；".join(parts) + "。")
            else:
                out.append(f"{_weeks(r['step'], r['step'], zh)}: " + "; ".join(parts) + ".")
        prev = r
    flush()
    return out


def why_text(story: dict | None, params, n_merchants: int, lang: str = "en") -> str:
    """Why the customer stays with their merchant, or why they left."""
    if not story:
        return ""
    zh = lang == "zh"
    s = story["state"]
    cid = int(story["id"])
    she, her, She = _pron(cid, zh)
    stage = s["stage"]
    m = s["merchant"]
    sat = s["satisfaction"]
    feel = ((("总体满意度 %.2f，较高" if zh else "overall satisfaction %.2f, high") % sat) if sat > 0.52 else
            (("总体满意度 %.2f，大致中等" if zh else "overall satisfaction %.2f, about neutral") % sat) if sat >= SATISFIED_MIN else
            (("总体满意度 %.2f，较低" if zh else "overall satisfaction %.2f, low") % sat))
    fit = float(s.get("fit", 0.0))
    if fit >= 0.03:
        feel += (f"（{m} 的产品很契合{her}需求，契合度 {fit:+.2f}）" if zh else
                 f" ({m}'s offer suits {her} needs well, fit {fit:+.2f})")
    elif fit <= -0.03:
        feel += (f"（{m} 的产品不太契合{her}需求，契合度 {fit:+.2f}）" if zh else
                 f" ({m}'s offer suits {her} needs less well, fit {fit:+.2f})")
    if stage == "churned":
        reason = mc.REASON_LABELS.get(s.get("churn_reason", "none"), ("", ""))[1 if zh else 0]
        if zh:
            return f"{She}已离开市场。原因：{reason or '未记录'}。最后的信任 {s['trust']:.2f}，{feel}。"
        return f"{She} left the market. Why: {reason or 'not recorded'}. Last trust {s['trust']:.2f}; {feel}."
    if stage == "prospect":
        return (f"{She}刚来到市场，选择了 {m}，还没有购买。" if zh else
                f"{She} has just arrived, chose {m}, and has not bought yet.")
    trust = s["trust"]
    if stage == "loyal":
        core = (f"{She}出于忠诚留在 {m}：信任 {trust:.2f}（越过 {params.loyalty_threshold:.2f} 后成为忠诚客户，"
                f"跌破 {params.loyalty_exit:.2f} 才会背叛）；{she}只在 {m} 购买，对价格和失误更宽容" if zh else
                f"{She} stays with {m} out of loyalty: trust {trust:.2f} (loyal since it passed "
                f"{params.loyalty_threshold:.2f}; only a fall below {params.loyalty_exit:.2f} would break it); "
                f"{she} buys only from {m} and forgives more on price and mistakes")
    elif stage == "trusting":
        core = (f"{She}因为信任留在 {m}：信任 {trust:.2f} 已越过瓶颈 {params.trust_threshold:.2f}，"
                f"但要成为忠诚客户还需达到 {params.loyalty_threshold:.2f}" if zh else
                f"{She} stays with {m} because {she} trusts it: trust {trust:.2f} is past the bottleneck "
                f"{params.trust_threshold:.2f}, but loyalty needs {params.loyalty_threshold:.2f}")
    elif n_merchants == 1:
        core = (f"{She}留在 {m} 是因为别无选择（人质型的典型来源）" if zh else
                f"{She} stays with {m} for lack of any other merchant (how hostages are made)")
    else:
        points = points_cost(s["financial"], s["price_sens"], max(s["expected_price"], 1e-6))
        if held_by_points(points, s["procedural"], s["relational"], params) and points > 0:
            core = (f"{She}留在 {m} 主要是为了忠诚计划的奖励（会员积分）" if zh else
                    f"{She} stays with {m} mainly for the programme's rewards (points banked)")
        else:
            core = (f"{She}留在 {m} 是出于惯性：换商家有成本（转换成本 {s['switch_cost']:.2f}），"
                    f"信任 {trust:.2f} 还没有越过瓶颈 {params.trust_threshold:.2f}" if zh else
                    f"{She} stays with {m} by inertia: switching has a cost ({s['switch_cost']:.2f}) and trust "
                    f"{trust:.2f} is still below the bottleneck {params.trust_threshold:.2f}")
    extra = []
    if s["switches"]:
        extra.append(f"换过 {s['switches']} 次商家" if zh else f"switched {s['switches']} time{'s' if s['switches'] > 1 else ''}")
    if s["complaints"]:
        extra.append(f"投诉 {s['complaints']} 次，其中 {s['recoveries_ok']} 次得到妥善解决" if zh else
                     f"complained {s['complaints']} time{'s' if s['complaints'] > 1 else ''}, "
                     f"{s['recoveries_ok']} put right")
    extra.append((f"甲循环 {s['cycle_a']} 次，乙循环 {s['cycle_b']} 次" if zh else
                  f"{s['cycle_a']} Cycle A and {s['cycle_b']} Cycle B passes"))
    sep = "；" if zh else "; "
    return core + sep + feel + sep + sep.join(extra) + ("。" if zh else ".")


# --------------------------------------------------------------------------------------------
# the component
# --------------------------------------------------------------------------------------------
@solara.component
def Inspector(sess, version: int, lang: str, selected: int, on_select):
    """Pick a customer (by id or by kind) and read their story."""
    from .files import FigureView

    message, set_message = solara.use_state("")
    typed, set_typed = solara.use_state("")
    story = solara.use_memo(lambda: sess.model.customer(selected) if selected >= 0 else None,
                            [id(sess), version, selected])

    def by_id(text):
        set_typed(text)
        try:
            cid = int(str(text).strip())
        except ValueError:
            set_message(tr(f"'{text}' is not a customer id (a whole number).", f"'{text}' 不是客户编号（应为整数）。"))
            return
        if sess.model.customer(cid) is None:
            set_message(tr(f"No customer {cid} in this market (yet).", f"本市场（目前）没有编号为 {cid} 的客户。"))
            return
        set_message("")
        on_select(cid)

    def by_kind(kind):
        cid = pick(sess, kind)
        if cid is None:
            en, zh = KINDS[kind]
            en = en.split(" ", 1)[1] if en.startswith(("a ", "an ")) else en
            set_message(tr(f"No {en} in the market right now.", f"目前市场上没有{zh[2:] if zh.startswith('一位') else zh}。"))
            return
        set_message("")
        on_select(cid)

    with solara.Column(classes=["lsim-inspector"], gap="6px"):
        with solara.Row(style={"flex-wrap": "wrap", "align-items": "center"}, gap="6px"):
            solara.InputText(tr("Customer id", "客户编号"), value=typed, on_value=by_id, continuous_update=False,
                             classes=["lsim-customer-id"], style={"max-width": "150px"})
            for kind, (en, zh) in KINDS.items():
                solara.Button(tr(en, zh), on_click=lambda kind=kind: by_kind(kind), small=True, outlined=True,
                              classes=["lsim-pick", f"lsim-pick-{kind}"])
        if message:
            solara.Warning(message, dense=True)
        if story is None:
            solara.Info(tr("Click a customer in the network, type an id, or ask for a kind of customer.",
                           "在网络图中点击一位客户、输入编号，或选择一类客户。"), dense=True)
            return
        s = story["state"]
        stage = mc.STAGE_LABELS[s["stage"]][1 if lang == "zh" else 0]
        Md(
            f"**{tr('Customer', '客户')} #{story['id']}** · {stage} · {tr('merchant', '商家')} {s['merchant'] or '–'} · "
            f"{tr('trust', '信任')} {s['trust']:.2f} · {tr('satisfaction', '满意度')} {s['satisfaction']:.2f} · "
            f"{tr('expectation', '预期')} {s['expectation']:.2f}")
        Md("*" + why_text(story, sess.model.params, len(sess.model.merchant_list), lang) + "*")
        if story.get("history"):
            FigureView("customer", lambda: fig_customer(story, lang, sess.model.params), [version, selected, lang],
                       filename=f"customer_{story['id']}.png")
        lines = story_lines(story, lang)
        if not lines:
            solara.Text(tr("No recorded history for this customer (large markets record a sample).",
                           "该客户没有记录的历史（大型市场只记录样本）。"))
        with solara.Column(classes=["lsim-story"], gap="2px", style={"max-height": "340px", "overflow-y": "auto"}):
            for line in lines[-40:]:
                solara.Text(line, style={"display": "block", "font-size": "0.92em"})
