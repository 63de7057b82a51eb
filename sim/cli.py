"""``loyalty-sim``: the command line for researchers and trainers.

Thin layer over :mod:`sim.inputs`, :mod:`sim.runs` and :mod:`sim.analysis`: it parses options,
prints (numbers formatted by :mod:`sim.analysis.formatting`, as the web app shows them), and turns every bad input into a clear message (English or Chinese, ``--lang zh``) and
exit code 2 — never a traceback. Every command has ``--help`` with examples.

The module is a little over 600 lines: each command is a thin layer (options, help text with
examples in both languages, printing), and keeping them side by side keeps their options and
messages alike; the work is done in :mod:`sim.runs`, :mod:`sim.calibration` and :mod:`sim.analysis`.
"""

from __future__ import annotations

import os
import shutil
import sys
import textwrap
from pathlib import Path

import click

from .params import GROUPS, MAX_STEPS, MERCHANT_PARAMS, PARAMS, ParamError
from .runs.executors import WorkerLost, executor_text
from .words import DEFAULT_LANG, LANGS, normalize_lang, pick, word

__all__ = ["main", "cli"]

# user-visible words of the CLI, in both languages
T = {
    "error": ("error", "错误"),
    "usage_range": ("{value} is not allowed: give {kind} from {lo} to {hi}", "不允许 {value}，请给出 {lo} 到 {hi} 之间的{kind}"),
    "usage_number": ("{value} is not {kind}", "{value} 不是{kind}"),
    "whole": ("a whole number", "整数"),
    "number": ("a number", "数"),
    "usage_choice": ("{value} is not one of {choices}", "{value} 不在可选值 {choices} 之中"),
    "usage_missing_option": ("missing option {name}", "缺少选项 {name}"),
    "usage_missing_argument": ("missing {name}", "缺少 {name}"),
    "usage_no_option": ("no option {name}", "没有选项 {name}"),
    "usage_did_you_mean": (" (did you mean {names}?)", "（是否想用 {names}？）"),
    "usage_bad": ("{name}: {detail}", "{name} 的值无效：{detail}"),
    "usage_help": ("see: loyalty-sim {command} --help", "参见：loyalty-sim {command} --help"),
    "scenarios": ("Scenarios (run one with: loyalty-sim run NAME --out DIR)",
                  "情景（运行：loyalty-sim run 名称 --out 文件夹）"),
    "values": ("Values over the defaults", "相对默认值的设置"),
    "none": ("(none: the default market)", "（无：默认市场）"),
    "events": ("Scheduled changes", "计划中的变化"),
    "market_params": ("Market-wide parameters", "市场参数"),
    "merchant_params": ("Merchant parameters (per merchant: A.price=1.2 or merchants[0].price=1.2)",
                        "商家参数（逐个商家：A.price=1.2 或 merchants[0].price=1.2）"),
    "metrics": ("Observables (columns of the results tables)", "观测量（结果表的列）"),
    "merchant_metrics": ("Per-merchant observables", "商家层面的观测量"),
    "default": ("default", "默认"),
    "range": ("range", "范围"),
    "runs": ("runs", "次运行"),
    "runs_one": ("run", "次运行"),
    "running": ("Running", "正在运行"),
    "done": ("done", "完成"),
    "failed": ("failed", "失败"),
    "skipped": ("already done (resume)", "已完成（继续运行时跳过）"),
    "wrote": ("Results in", "结果位于"),
    "tables": ("Tables", "表格"),
    "csv_tables": ("Tables as CSV", "CSV 表格"),
    "summary": ("Summary over replicates (mean [95% interval])", "各次重复的汇总（均值 [95% 区间]）"),
    "final_loyal": ("loyal share at the end", "期末忠诚客户占比"),
    "churn_last": ("churn per step, last {k} steps", "最后 {k} 步的每步流失率"),
    "value_churn_last": ("value-weighted churn per step, last {k} steps", "最后 {k} 步的价值加权流失率"),
    "satisfaction_end": ("mean satisfaction at the end", "期末平均满意度"),
    "profit_last": ("profit per step, last {k} steps", "最后 {k} 步的每步利润"),
    "merchant": ("merchant", "商家"),
    "executor": ("executor", "执行方式"),
    "plan": ("Experiment", "实验"),
    "points": ("configurations", "个配置"),
    "points_one": ("configuration", "个配置"),
    "replicates": ("replicates", "次重复"),
    "replicates_one": ("replicate", "次重复"),
    "steps": ("steps", "步"),
    "seed": ("master seed", "主种子"),
    "dry": ("(dry run: nothing was run)", "（试运行：未实际运行）"),
    "next_analyze": ("Next: loyalty-sim analyze", "下一步：loyalty-sim analyze"),
    "failures": ("Failed runs (recorded in the manifest; --resume retries them)",
                 "失败的运行（已记录在清单中；--resume 会重试）"),
    "compare": ("Comparison (mean [95% interval]; difference vs the first)", "比较（均值 [95% 区间]；与第一个的差）"),
    "trials": ("trials", "次试验"),
    "new": ("new", "次新增"),
    "best": ("best objective", "最佳目标函数值"),
    "memory": ("this machine ran out of memory: lower n_customers, history_limit or history_depth, or use fewer "
               "--workers; finished runs are kept (--resume continues)",
               "本机内存不足：请减小 n_customers、history_limit 或 history_depth，或减少 --workers；已完成的运行都会保留（--resume 可继续）"),
    "runs_failed": ("{n} of {total} runs failed (the reasons are above and in {dir}/manifest.json): the results are "
                    "incomplete. Fix the cause, then run the same command with --resume to redo them",
                    "{total} 次运行中有 {n} 次失败（原因见上文及 {dir}/manifest.json）：结果不完整。排除原因后加 --resume "
                    "重新运行同一命令即可重做这些运行"),
    "missing_runs": ("note: {n} of {total} runs of this experiment have no results in this folder (failed or not "
                     "run yet); the tables below use the {done} that finished. `--resume` runs the others",
                     "注意：该实验 {total} 次运行中有 {n} 次在此文件夹中没有结果（失败或尚未运行）；下表只用已完成的 {done} 次。"
                     "`--resume` 会运行其余的"),
    "trial_failures": ("Failed trials (recorded in trials.parquet, column error; report.md lists them)",
                       "失败的试验（记录在 trials.parquet 的 error 列；report.md 中列出）"),
    "trial": ("trial {n}", "第 {n} 次试验"),
    "more_failures": ("… and {n} more", "……另有 {n} 次"),
    "trials_failed": ("{n} of {total} trials failed (the reasons are above and in {dir}/report.md): the best set comes "
                      "from the {done} that finished. Fix the cause (often bounds under which the scenario breaks a "
                      "rule between its parameters) and calibrate into a new folder; --resume --trials N only adds "
                      "trials of the same file",
                      "{total} 次试验中有 {n} 次失败（原因见上文及 {dir}/report.md）：最佳参数组合只来自完成的 {done} 次。"
                      "排除原因（常见的是取值范围使情景违反参数之间的规则）后校准到新文件夹；--resume --trials N 只会为同一"
                      "文件增加试验"),
    "summary_one": ("Summary (one replicate: means without an interval)", "汇总（只有一次重复：只有均值，没有区间）"),
    "interrupted": ("Interrupted: finished runs are kept; continue with --resume", "已中断：已完成的运行均已保存；用 --resume 继续"),
}


def t(key: str, lang: str, **fmt) -> str:
    """A word of the CLI (:data:`T`) in ``lang``, formatted with ``fmt``."""
    text = pick(*T[key], lang)
    return text.format(**fmt) if fmt else text


def _many(n: int, key: str, lang: str) -> str:
    """``n`` and the word ``key`` of :data:`T` for that many (its ``_one`` form for 1)."""
    return f"{n} {t(key + '_one' if n == 1 and key + '_one' in T else key, lang)}"


def _lang(ctx: click.Context | None) -> str:
    while ctx is not None:
        if ctx.obj and "lang" in ctx.obj:
            return ctx.obj["lang"]
        ctx = ctx.parent
    return normalize_lang(os.environ.get("LOYALTY_SIM_LANG", DEFAULT_LANG))


def _say_error(e: ParamError, lang: str) -> None:
    """Print bad input's message (``e``, a :class:`ParamError`) in ``lang`` on stderr."""
    click.echo(f"{t('error', lang)}: {e.text(lang)}", err=True)


class _OwnWords:
    """A click type whose refusals are in the CLI's words and language (``refusal``)."""

    def convert(self, value, param, ctx):
        try:
            return super().convert(value, param, ctx)
        except click.BadParameter:
            self.fail(self.refusal(value, _lang(ctx)), param, ctx)


class _Whole(_OwnWords, click.IntRange):
    """A whole-number option with a range."""

    def refusal(self, value, lang: str) -> str:
        try:
            int(str(value).strip())
        except ValueError:
            return t("usage_number", lang, value=repr(value), kind=t("whole", lang))
        lo = "−∞" if self.min is None else f"{self.min:,}"
        hi = "∞" if self.max is None else f"{self.max:,}"
        return t("usage_range", lang, value=repr(value), kind=t("whole", lang), lo=lo, hi=hi)


class _OneOf(_OwnWords, click.Choice):
    """A choice option."""

    def refusal(self, value, lang: str) -> str:
        return t("usage_choice", lang, value=repr(value), choices=", ".join(map(str, self.choices)))


def _usage_text(e: click.UsageError, lang: str) -> str:
    """A usage error of the command line (an option out of range, missing, unknown …) in the words
    and the language of the CLI's other messages (click's own are English only)."""
    param = getattr(e, "param", None)
    name = (" / ".join(param.opts) if isinstance(param, click.Option) else param.human_readable_name) if param else ""
    if isinstance(e, click.MissingParameter) and param is not None:
        key = "usage_missing_option" if isinstance(param, click.Option) else "usage_missing_argument"
        return t(key, lang, name=name)
    if isinstance(e, click.NoSuchOption):
        text = t("usage_no_option", lang, name=e.option_name)
        if e.possibilities:
            text += t("usage_did_you_mean", lang, names=", ".join(sorted(e.possibilities)))
        return text
    if isinstance(e, click.BadParameter) and param is not None:
        if isinstance(param.type, (_Whole, _OneOf)):
            return f"{name}: {e.message}"
        return t("usage_bad", lang, name=name, detail=e.message)
    return e.format_message()


class _Group(click.Group):
    """Turns bad input anywhere below into a message and exit code 2."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except click.UsageError as e:  # click's own checks of the command line, in the CLI's words
            lang = _lang(ctx)
            command = e.ctx.info_name if e.ctx is not None and e.ctx is not ctx else ""
            hint = t("usage_help", lang, command=command).replace("  ", " ")
            click.echo(f"{t('error', lang)}: {_usage_text(e, lang)}{pick('; ', '；', lang)}{hint}", err=True)
            ctx.exit(2)
        except ParamError as e:
            _say_error(e, _lang(ctx))
            ctx.exit(2)
        except OSError as e:  # the operating system refused (disk full, read-only, no permission)
            from .runs.store import storage_error

            _say_error(storage_error(e, e.filename or "?", ""), _lang(ctx))
            ctx.exit(2)
        except WorkerLost as e:  # not bad input: the work stopped, what is done is kept
            lang = _lang(ctx)
            click.echo(f"{t('error', lang)}: {e.text(lang)}", err=True)
            ctx.exit(1)
        except MemoryError:
            lang = _lang(ctx)
            click.echo(f"{t('error', lang)}: {t('memory', lang)}", err=True)
            ctx.exit(2)
        except KeyboardInterrupt:
            click.echo("\n" + t("interrupted", _lang(ctx)), err=True)
            ctx.exit(130)


CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(cls=_Group, context_settings=CONTEXT)
@click.option("--lang", type=click.Choice(LANGS), default=None, envvar="LOYALTY_SIM_LANG",
              help="Language of messages, tables and figures / 输出语言 (en, zh).")
@click.version_option(package_name="loyalty-sim")
@click.pass_context
def cli(ctx, lang):
    """Simulate how ordinary customers become loyal customers, and how they leave.
    模拟普通客户如何成为忠诚客户，以及他们如何流失。

    \b
    Examples / 示例:
      loyalty-sim list
      loyalty-sim describe botched_repair
      loyalty-sim run baseline --replicates 10 --out results/baseline
      loyalty-sim sweep scenarios/experiments/price_sensitivity.toml --out results/ps --workers 2
      loyalty-sim analyze results/ps
      loyalty-sim compare botched_repair recovery_done_well --out results/recovery
      loyalty-sim calibrate scenarios/experiments/calibration/trust.toml --out results/cal --trials 8
    """
    ctx.ensure_object(dict)
    ctx.obj["lang"] = lang or _lang(None)


# ---- list / describe / params ----------------------------------------------------------------------
@cli.command("list")
@click.pass_context
def list_cmd(ctx):
    """List the named scenarios with a one-line description. 列出全部情景。

    \b
    Example / 示例:  loyalty-sim list --lang zh
    """
    from .inputs.scenario import list_scenarios

    lang = _lang(ctx)
    scs = list_scenarios()
    click.echo(t("scenarios", lang))
    width = max((len(s.name) for s in scs), default=10)
    for s in scs:
        click.echo(f"  {s.name:<{width}}  {s.text('summary', lang)}")


def _blocks(para: str) -> list[str]:
    """A paragraph as printable blocks: each "- " bullet line is its own block, other lines join."""
    blocks: list[str] = []
    for line in para.strip().splitlines():
        line = " ".join(line.split())
        if line.startswith("- ") or not blocks:
            blocks.append(line)
        else:
            blocks[-1] += ("" if line[:1] > "\u2e80" else " ") + line
    return blocks


@cli.command()
@click.argument("scenario")
@click.pass_context
def describe(ctx, scenario):
    """Print a scenario's notes and the values it sets. 显示情景说明与其设置。

    SCENARIO is a name from `loyalty-sim list` or a path to a .toml file.

    \b
    Example / 示例:  loyalty-sim describe monopoly_hostages
    """
    from .inputs.scenario import INFO_LABELS, INFO_SECTIONS, load_scenario

    lang = _lang(ctx)
    sc = load_scenario(scenario)
    cols = min(shutil.get_terminal_size((100, 20)).columns, 100)
    click.echo(f"{sc.name}: {sc.text('title', lang)}")
    click.echo(f"  ({sc.source})")
    for sec in INFO_SECTIONS[1:]:
        body = sc.text(sec, lang)
        if not body:
            continue
        click.echo("")
        click.echo(pick(INFO_LABELS[sec][0].upper(), INFO_LABELS[sec][1], lang))
        for para in body.strip().split("\n\n"):
            for block in _blocks(para):
                if lang == "zh":
                    click.echo("  " + block)
                else:
                    bullet = block.startswith("- ")
                    click.echo(textwrap.fill(block, cols, initial_indent="  ",
                                             subsequent_indent="    " if bullet else "  "))
    click.echo("")
    click.echo(t("values", lang))
    vals = {k: v for k, v in sc.values.items() if k not in ("merchants", "events")}
    if not vals and "merchants" not in sc.values:
        click.echo("  " + t("none", lang))
    for k, v in vals.items():
        click.echo(f"  {k} = {v!r}")
    for i, m in enumerate(sc.values.get("merchants", []) or []):
        click.echo(f"  merchants[{i}]: " + ", ".join(f"{k}={v!r}" for k, v in m.items()))
    if sc.events:
        click.echo("")
        click.echo(t("events", lang))
        for e in sc.events:
            note = pick(e.note_en, e.note_zh, lang) or ""
            click.echo(f"  step {e.step}: {e.target} " + ", ".join(f"{k}={v!r}" for k, v in e.changes.items())
                       + (f"  — {note}" if note else ""))


@cli.command()
@click.option("--group", type=_OneOf(list(GROUPS)), default=None, help="Only this group / 只显示该组.")
@click.option("--metrics", "show_metrics", is_flag=True, help="List the observables instead / 改为列出观测量.")
@click.pass_context
def params(ctx, group, show_metrics):
    """Print every parameter with its default, range and meaning. 列出全部参数（默认值、范围、含义）。

    \b
    Examples / 示例:
      loyalty-sim params
      loyalty-sim params --group word_of_mouth --lang zh
      loyalty-sim params --metrics
    """
    lang = _lang(ctx)
    if show_metrics:
        from .metrics import MERCHANT_METRICS, METRICS

        for title, table in (("metrics", METRICS), ("merchant_metrics", MERCHANT_METRICS)):
            click.echo(t(title, lang))
            for m in table.values():
                click.echo(f"  {m.name:<28} {m.label(lang)} [{m.unit}]: {pick(m.help_en, m.help_zh, lang)}")
            click.echo("")
        return
    for title, table in (("market_params", PARAMS), ("merchant_params", MERCHANT_PARAMS)):
        click.echo(t(title, lang))
        for g, (gen, gzh) in GROUPS.items():
            ps = [p for p in table.values() if p.group == g and (group is None or group == g)]
            if not ps:
                continue
            click.echo(f"  [{pick(gen, gzh, lang)}]")
            for p in ps:
                rng = pick(p.range_text(), p.range_text_zh(), lang)
                label = p.label(lang)
                help_ = p.help(lang)
                click.echo(f"    {p.name:<26} {t('default', lang)} {p.default!r:<10} {t('range', lang)} {rng}")
                click.echo(f"    {'':<26} {label}: {help_}")
        click.echo("")


# ---- running -------------------------------------------------------------------------------------
class _Progress:
    """A tqdm progress bar (runs done, failed, ETA) on stderr."""

    def __init__(self, total: int, lang: str, quiet: bool, unit: str = "runs"):
        from tqdm import tqdm

        self.bar = tqdm(total=total, unit=pick(f" {unit}", t(unit, lang), lang), file=sys.stderr,
                        disable=quiet, dynamic_ncols=True, smoothing=0.1, mininterval=0.5)
        self.lang = lang
        self.last = 0

    def __call__(self, done, failed, total):
        self.bar.update(done + failed - self.last)
        self.last = done + failed
        if failed:
            self.bar.set_postfix_str(f"{t('failed', self.lang)}: {failed}")

    def close(self):
        self.bar.close()


def _execute(exp, out, lang, workers=None, scheduler=None, cluster=None, resume=False, csv=False, quiet=False):
    from .runs import run_experiment

    if not quiet:
        click.echo(f"{t('plan', lang)}: {exp.name} — {_many(len(exp.points), 'points', lang)} × "
                   f"{_many(exp.replicates, 'replicates', lang)} = {_many(exp.n_runs, 'runs', lang)}, {exp.steps} "
                   f"{t('steps', lang)}, "
                   f"{t('seed', lang)} {exp.seed}", err=True)
    bar = _Progress(exp.n_runs, lang, quiet)
    try:
        summ = run_experiment(exp, out, workers=workers, scheduler=scheduler, cluster=cluster, resume=resume,
                              progress=bar, csv=csv)
    finally:
        bar.close()
    click.echo(f"{t('wrote', lang)} {summ.out}: {summ.done}/{summ.total} {t('done', lang)}"
               + (f", {summ.failed} {t('failed', lang)}" if summ.failed else "")
               + (f" ({summ.skipped} {t('skipped', lang)})" if summ.skipped else "")
               + f" — {executor_text(summ.executor, lang)}, {summ.seconds:.1f} s")
    if summ.failures:
        click.echo(t("failures", lang), err=True)
        for rid, msg in sorted(summ.failures.items())[:20]:
            click.echo(f"  run {rid}: {msg}", err=True)
    return summ


def _exit_if_failed(ctx, summ, lang: str) -> None:
    """Exit 1 (after everything finished was written and shown) when any run failed."""
    if summ.failed:
        click.echo(t("runs_failed", lang, n=summ.failed, total=summ.total, dir=summ.out), err=True)
        ctx.exit(1)


def _note_missing(rs, lang: str) -> None:
    """Say so when a folder's experiment has runs without results."""
    if rs.missing:
        total = len(rs.manifest.get("runs") or [])
        click.echo(t("missing_runs", lang, n=len(rs.missing), total=total, done=total - len(rs.missing)), err=True)


def _given_once(sets, **options) -> None:
    """An option (``--steps``, ``--seed``) and a ``--set run.steps=…`` / ``run.seed=…`` give one value
    twice: refuse, rather than silently use one of them."""
    for name, value in options.items():
        if value is None:
            continue
        for item in sets or ():
            if isinstance(item, str) and item.partition("=")[0].strip() == f"run.{name}":
                raise ParamError(f"--{name}", f"--{name} {value} and --set {item} both give the run's {name}: give it once",
                                 None, f"--{name} {value} 与 --set {item} 都设置了运行的 {name}：只能给出一次")


def _workers_option(f):
    f = click.option("--workers", "-w", type=_Whole(1, 256), default=None,
                     help="Worker processes (1 = in this process; default: one per core) / 工作进程数.")(f)
    return f


def _run_summary(rs, lang: str) -> list[str]:
    """The short summary printed after `run`: loyal share, churn, satisfaction, profit per merchant,
    each with its 95% interval over replicates (:func:`sim.analysis.stats.summarize_mixed`: levels at
    the end, flows over the last steps), formatted as the reports and the app show them."""
    from .analysis.formatting import interval_text
    from .analysis.stats import FLOW_WINDOW, measured_every_step, summarize_mixed

    mk, mc = rs.market, rs.merchants
    lines = [t("summary_one" if rs.manifest.get("replicates") == 1 else "summary", lang)]
    rows = {"loyal_share": "final_loyal", "churn_rate": "churn_last", "value_churn_rate": "value_churn_last",
            "satisfaction": "satisfaction_end"}
    metrics = [m for m in rows if m in mk]
    every = measured_every_step(rs.manifest, mk)
    summ = summarize_mixed(mk, metrics, ["label"], every) if metrics else None
    msumm = (summarize_mixed(mc, ["profit"], ["label"], every, merchant=True)
             if len(mc) and "profit" in mc else None)

    def row(text: str, s) -> str:
        return f"    {text:<44} {interval_text(s['mean'], s['ci_low'], s['ci_high'])}"

    for label in mk["label"].unique():
        lines.append(f"  {label}")
        if summ is not None:
            for _, s in summ[summ["label"] == label].iterrows():
                lines.append(row(t(rows[s["metric"]], lang, k=FLOW_WINDOW), s))
        if msumm is not None:
            for _, s in msumm[msumm["label"] == label].iterrows():
                what = t("profit_last", lang, k=FLOW_WINDOW) + " — " + t("merchant", lang) + " " + str(s["merchant"])
                lines.append(row(what, s))
    return lines


def _figures(rs, out: Path, lang: str, kind: str = "analyze", baseline=None) -> list[str]:
    from .analysis import writers

    fig_dir = out / "analysis"
    if kind == "compare":
        res = writers.compare(rs.manifest, rs.market, rs.merchants, fig_dir, lang=lang, baseline=baseline)
    else:
        res = writers.analyze(rs.manifest, rs.market, rs.merchants, fig_dir, lang=lang)
    return res


@cli.command()
@click.argument("scenario")
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="New folder for the results (never overwritten) / 结果文件夹（不会被覆盖）.")
@click.option("--steps", "-n", type=_Whole(1, MAX_STEPS), default=None,
              help="Steps per run (default: the scenario's, usually 104 = two years of weeks) / 每次运行步数.")
@click.option("--seed", "-s", type=_Whole(0, 2**63 - 1), default=None,
              help="Master seed; replicate seeds are spawned from it (default: the scenario's or 0) / 主种子.")
@click.option("--run-seed", type=_Whole(0, 2**63 - 1), default=None,
              help="One run with exactly this seed, e.g. the 'seed' of a row of a results table, to re-do that "
                   "run on its own (not a master seed; without --seed, one replicate) / 单次运行自身的种子"
                   "（例如结果表中某行的 seed），用于单独重现该运行.")
@click.option("--replicates", "-r", type=_Whole(1, 10_000), default=1, show_default=True,
              help="Runs with independent seeds / 重复次数.")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
              help="Change a value: n_customers=5000, A.price=1.2, merchants[0].programme=financial / 修改参数.")
@click.option("--measure", type=_OneOf(["every", "end"]), default="every", show_default=True,
              help="Keep every step or only the last / 保存每一步或仅最后一步.")
@_workers_option
@click.option("--resume", is_flag=True, help="Finish an interrupted run in the same folder / 继续未完成的运行.")
@click.option("--csv", is_flag=True, help="Also write market.csv and merchants.csv / 同时导出 CSV.")
@click.option("--customers", is_flag=True,
              help="Also keep every customer's final state (parts/customers/) / 同时保存每位客户的最终状态.")
@click.option("--no-figures", is_flag=True, help="Skip the figures / 不生成图表.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar / 不显示进度条.")
@click.pass_context
def run(ctx, scenario, out, steps, seed, run_seed, replicates, sets, measure, workers, resume, csv, customers,
        no_figures, quiet):
    """Run a scenario (with replicates) and write its results. 运行一个情景并保存结果。

    SCENARIO is a name from `loyalty-sim list` or a path to a .toml file. Writes DIR/manifest.json
    and tidy Parquet parts (one row per run × step, and per merchant), prints a summary with 95%
    intervals over replicates, and draws figures into DIR/analysis/figures.

    \b
    Examples / 示例:
      loyalty-sim run baseline --out results/base
      loyalty-sim run baseline --replicates 20 --steps 156 --seed 42 --out results/base20
      loyalty-sim run baseline --set trust_gain=0.2 --run-seed 1669736841572013746 --out results/row7
      loyalty-sim run scenarios/price_war.toml --set A.price=0.9 --set n_customers=5000 --out results/pw
    """
    from .runs import read_results, single_experiment
    from .inputs.overrides import apply_overrides
    from .inputs.scenario import load_scenario

    lang = _lang(ctx)
    _given_once(sets, steps=steps, seed=seed)
    if run_seed is not None:
        for item in sets or ():
            if isinstance(item, str) and item.partition("=")[0].strip() == "run.seed":
                raise ParamError("--run-seed", f"--run-seed {run_seed} and --set {item} both give the run's seed: give it once",
                                 None, f"--run-seed {run_seed} 与 --set {item} 都设置了运行的种子：只能给出一次")
    sc = load_scenario(scenario)
    if sets:
        sc = apply_overrides(sc, list(sets))
    exp = single_experiment(sc, replicates=replicates, steps=steps, seed=seed, measure=measure, customers=customers,
                            run_seed=run_seed)
    summ = _execute(exp, out, lang, workers=workers if workers is not None else (1 if replicates == 1 else None),
                    resume=resume, csv=csv, quiet=quiet)
    rs = read_results(out)
    if len(rs.market):
        for line in _run_summary(rs, lang):
            click.echo(line)
    if not no_figures and len(rs.market):
        res = _figures(rs, out, lang)
        click.echo(word("figures", lang) + ":")
        for p in res.figures:
            click.echo(f"  {p}")
    _exit_if_failed(ctx, summ, lang)


@cli.command()
@click.argument("experiment", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path), required=False, default=None,
              help="New folder for the results (never overwritten) / 结果文件夹.")
@_workers_option
@click.option("--scheduler", metavar="ADDRESS", default=None,
              help="Run on a Dask cluster: tcp://host:8786 / 在 Dask 集群上运行.")
@click.option("--cluster", type=_OneOf(["local"]), default=None,
              help="Start a Dask LocalCluster with --workers processes / 启动本地 Dask 集群.")
@click.option("--resume", is_flag=True, help="Continue an interrupted sweep: finished runs are kept / 继续未完成的扫描.")
@click.option("--csv", is_flag=True, help="Also write market.csv and merchants.csv / 同时导出 CSV.")
@click.option("--dry-run", is_flag=True, help="Only print the plan (number of runs) / 只显示计划.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar / 不显示进度条.")
@click.pass_context
def sweep(ctx, experiment, out, workers, scheduler, cluster, resume, csv, dry_run, quiet):
    """Run an experiment file: a design over varied parameters × replicates. 运行参数扫描实验。

    The experiment file names a base scenario, the varied parameters (lists or min/max/step), the
    design (factorial, lhs, sobol, morris), replicates, steps, a stop condition and the metrics;
    see docs/experiments.md. Each finished run is written at once; kill it at any time and
    continue with --resume.

    \b
    Examples / 示例:
      loyalty-sim sweep scenarios/experiments/price_sensitivity.toml --out results/ps
      loyalty-sim sweep exp.toml --out results/exp --workers 2
      loyalty-sim sweep exp.toml --out results/exp --cluster local --workers 2
      loyalty-sim sweep exp.toml --out results/exp --scheduler tcp://10.0.0.5:8786
      loyalty-sim sweep exp.toml --out results/exp --resume
    """
    from .inputs.experiment import load_experiment

    lang = _lang(ctx)
    exp = load_experiment(experiment)
    if out is None and not dry_run:
        raise ParamError("--out", "missing --out DIR: the new folder for the results (not needed with --dry-run)", None,
                         "缺少 --out 文件夹：存放结果的新文件夹（--dry-run 时不需要）")
    if dry_run:
        click.echo(f"{t('plan', lang)}: {exp.name} — {exp.design}, {_many(len(exp.points), 'points', lang)} × "
                   f"{_many(exp.replicates, 'replicates', lang)} = {_many(exp.n_runs, 'runs', lang)}, {exp.steps} "
                   f"{t('steps', lang)} {t('dry', lang)}")
        return
    summ = _execute(exp, out, lang, workers=workers, scheduler=scheduler, cluster=cluster, resume=resume, csv=csv,
                    quiet=quiet)
    click.echo(f"{t('next_analyze', lang)} {out}")
    _exit_if_failed(ctx, summ, lang)


@cli.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--csv", is_flag=True, help="Also export market.csv and merchants.csv / 同时导出 CSV.")
@click.pass_context
def analyze(ctx, folder, csv):
    """Summaries with 95% intervals, sensitivity indices and figures for a results folder.
    为结果文件夹生成汇总表（95% 区间）、敏感性指数和图表。

    Writes DIR/analysis/summary.md, summary.csv (and sensitivity.csv for Sobol/Morris designs) and
    PNG + SVG figures: metric over time with replicate bands, metric vs parameter, 2-D heatmaps.

    \b
    Example / 示例:  loyalty-sim analyze results/ps --lang zh
    """
    from .runs import export_csv, read_results

    lang = _lang(ctx)
    rs = read_results(folder)
    if not len(rs.market):
        raise ParamError("DIR", f"{folder}: no finished runs to analyse", None, f"{folder}：没有已完成的运行可供分析")
    _note_missing(rs, lang)
    try:
        res = _figures(rs, folder, lang, "compare" if rs.manifest.get("kind") == "compare" else "analyze")
    except (KeyError, TypeError, ValueError, IndexError) as e:  # a folder edited by hand or by another tool
        raise ParamError("DIR", f"{folder}: its manifest or tables are not as loyalty-sim wrote them, so they cannot be "
                         f"analysed ({type(e).__name__}: {e}); rerun the experiment into a new folder", None,
                         f"{folder}：其清单或表格与 loyalty-sim 写出的不一致，无法分析（{type(e).__name__}: {e}）；"
                         "请把实验重新运行到新文件夹") from None
    click.echo(res.markdown)
    click.echo(word("figures", lang) + ":")
    for p in res.figures:
        click.echo(f"  {p}")
    if csv:
        click.echo(t("csv_tables", lang) + ":")
        for p in export_csv(folder):
            click.echo(f"  {p}")


@cli.command()
@click.argument("scenarios", nargs=-1, required=True)
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="New folder for the results / 结果文件夹.")
@click.option("--steps", "-n", type=_Whole(1, MAX_STEPS), default=None, help="Steps per run / 每次运行步数.")
@click.option("--seed", "-s", type=_Whole(0, 2**63 - 1), default=None,
              help="Master seed (default 0; or --set run.seed=…) / 主种子（默认 0）.")
@click.option("--replicates", "-r", type=_Whole(1, 10_000), default=10, show_default=True,
              help="Runs per scenario (the same seeds for each) / 每个情景的重复次数.")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="Change a value in every scenario / 修改所有情景的参数.")
@_workers_option
@click.option("--resume", is_flag=True, help="Continue an interrupted comparison / 继续未完成的比较.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar / 不显示进度条.")
@click.pass_context
def compare(ctx, scenarios, out, steps, seed, replicates, sets, workers, resume, quiet):
    """Run two or more scenarios with the same seeds and compare them side by side.
    以相同种子运行两个或多个情景并并排比较。

    Prints a table of final values with 95% intervals and differences against the first scenario,
    and draws overlay figures into DIR/analysis/figures.

    \b
    Examples / 示例:
      loyalty-sim compare botched_repair recovery_done_well --out results/recovery
      loyalty-sim compare baseline my_policy.toml --replicates 30 --out results/policy
    """
    from .runs import compare_experiment, read_results
    from .inputs.overrides import apply_overrides
    from .inputs.scenario import load_scenario

    lang = _lang(ctx)
    if len(scenarios) < 2:
        raise ParamError("SCENARIOS", "compare needs at least two scenarios", None, "比较至少需要两个情景")
    _given_once(sets, steps=steps, seed=seed)
    scs = [load_scenario(s) for s in scenarios]
    if sets:
        scs = [apply_overrides(s, list(sets)) for s in scs]
        if seed is None and any(str(x).partition("=")[0].strip() == "run.seed" for x in sets):
            seed = scs[0].seed  # --set run.seed=… is the comparison's master seed, as --seed would be
    exp = compare_experiment(scs, replicates=replicates, steps=steps, seed=0 if seed is None else seed)
    summ = _execute(exp, out, lang, workers=workers, resume=resume, quiet=quiet)
    rs = read_results(out)
    if len(rs.market):
        _note_missing(rs, lang)
        res = _figures(rs, out, lang, "compare")
        click.echo(t("compare", lang))
        click.echo(res.markdown)
        click.echo(word("figures", lang) + ":")
        for p in res.figures:
            click.echo(f"  {p}")
    _exit_if_failed(ctx, summ, lang)


@cli.command()
@click.argument("calibration", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="New folder for the study and its outputs (never overwritten) / 结果文件夹.")
@click.option("--trials", "-t", type=_Whole(1, 100_000), default=None,
              help="Budget: trials in all (default: the file's) / 试验总数.")
@_workers_option
@click.option("--resume", is_flag=True, help="Continue the study in DIR (also after kill -9) / 继续未完成的校准.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar / 不显示进度条.")
@click.pass_context
def calibrate(ctx, calibration, out, trials, workers, resume, quiet):
    """Fit free parameters of a scenario to targets (Optuna TPE). 将情景的自由参数拟合到目标值。

    The calibration file names the base scenario, the free parameters with bounds, the targets
    (observable, target, tolerance, weight; side for a bound) and the budget; see docs/experiments.md.
    Writes DIR/best.toml (a scenario), trials.parquet, report.md (the best set on fresh seeds), study.db
    and manifest.json. Kill it at any time and continue with --resume.

    \b
    Examples / 示例:
      loyalty-sim calibrate scenarios/experiments/calibration/trust.toml --out results/cal --trials 8
      loyalty-sim calibrate cal.toml --out results/cal --resume --trials 60 --workers 2
    """
    from .calibration import calibrate as run_calibration, load_calibration

    lang = _lang(ctx)
    cal = load_calibration(calibration)
    bars: list[_Progress] = []  # made at the first report, so a refused folder prints only its message

    def progress(done, total):
        if not bars:
            bars.append(_Progress(total, lang, quiet, unit="trials"))
        bars[0](done, 0, total)

    try:
        res = run_calibration(cal, out, trials=trials, workers=workers, resume=resume, lang=lang, progress=progress)
    finally:
        for bar in bars:
            bar.close()
    o = res.outcome
    click.echo(f"{t('wrote', lang)} {o.out}: {o.done} {t('trials', lang)} ({o.new} {t('new', lang)}"
               + (f", {o.failed} {t('failed', lang)}" if o.failed else "") + f") — {executor_text(o.executor, lang)}, "
               f"{o.seconds:.1f} s")
    click.echo(f"{t('best', lang)} {o.best_objective:.4g}: " + ", ".join(f"{k} = {v:.4g}" for k, v in
                                                                    o.best_values.items()))
    for p in res.files:
        click.echo(f"  {p}")
    if o.failed:  # as _exit_if_failed: after everything finished was written and shown
        from .calibration.study import SHOWN_FAILURES

        click.echo(t("trial_failures", lang), err=True)
        for n, en, zh in o.failures[:SHOWN_FAILURES]:
            click.echo(f"  {t('trial', lang, n=n)}: {pick(en, zh, lang)}", err=True)
        if o.failed > SHOWN_FAILURES:
            click.echo("  " + t("more_failures", lang, n=o.failed - SHOWN_FAILURES), err=True)
        done = int((o.trials["state"] == "COMPLETE").sum())
        click.echo(t("trials_failed", lang, n=o.failed, total=o.done, done=done, dir=o.out), err=True)
        ctx.exit(1)


# ---- validate ------------------------------------------------------------------------------------------
@cli.command()
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="New folder for the report: validation.md, figures/, results.json (never overwritten) / 报告文件夹.")
@click.option("--fast", is_flag=True,
              help="Fewer seeds (8 instead of 30): a quick check, e.g. for CI / 快速检验（8 个种子）.")
@click.option("--only", metavar="F5,F7", default=None, help="Only these facts / 只检验这些事实.")
@click.option("--seeds", type=_Whole(2, 1000), default=None,
              help="Seeds per fact (default 30, or 8 with --fast) / 每个事实的种子数.")
@click.option("--seed", "master", type=_Whole(0, 2**63 - 1), default=None,
              help="Master seed the seeds are spawned from / 主种子.")
@_workers_option
@click.option("--doc", is_flag=True,
              help="Regenerate docs/validation.md and docs/validation/*.png (needs a full run) / 重新生成文档.")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
              help="Run every fact on a variant of the model: a market-wide parameter changed (keys a fact's "
                   "own file sets keep its value) / 在模型的变体上检验：修改全市场参数（事实文件自己设定的键保持不变）.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar / 不显示进度条.")
@click.pass_context
def validate(ctx, out, fast, only, seeds, master, workers, doc, sets, quiet):
    """Check the model against the stylized facts of the field literature (F1–F13) and what bad word
    of mouth costs a merchant (F14).
    检验模型能否重现实地研究中的典型事实（F1–F13）以及负面口碑让商家付出的代价（F14）。

    Runs each fact's scenario or experiment file in scenarios/validation/ with 30 seeds (8 with
    --fast), prints a table (fact, what was measured, value with 95% interval, target, pass/fail) and
    writes a report to DIR: validation.md, one figure per fact and results.json with every number.
    Exit code 0 when every selected fact passes, 1 when some fail, 2 on bad input.

    \b
    Examples / 示例:
      loyalty-sim validate --fast --out results/validation
      loyalty-sim validate --only F5,F7 --out results/f5f7 --lang zh
      loyalty-sim validate --workers 2 --out results/validation-full
      loyalty-sim validate --doc --workers 2      # regenerates docs/validation.md
      loyalty-sim validate --only F5,F7 --set voice_fit=20 --out results/variant
    """
    from . import validation as val
    from .validation.variant import variant_values

    lang = _lang(ctx)
    ids = val.parse_only(only)
    values = variant_values(sets) if sets else {}
    if doc and values:
        raise ParamError("--doc", "--doc documents the model as declared: drop --set (a variant's report goes to "
                         "--out DIR)", None, "--doc 记录的是按声明设定的模型：请去掉 --set（变体的报告请写入 --out 文件夹）")
    n = seeds if seeds is not None else (val.FAST_SEEDS if fast else val.FULL_SEEDS)
    if out is None and not doc:
        raise ParamError("--out", "give --out DIR for the report (or --doc to regenerate docs/validation.md)", None,
                         "请用 --out 文件夹 指定报告位置（或用 --doc 重新生成 docs/validation.md）")
    if doc and (len(ids) != len(val.FACT_IDS) or n < val.FULL_SEEDS):
        raise ParamError("--doc", f"--doc regenerates the documentation from a full run: all facts and at least "
                         f"{val.FULL_SEEDS} seeds (drop --fast, --only and small --seeds)", None,
                         f"--doc 需要完整运行才能重新生成文档：全部事实且至少 {val.FULL_SEEDS} 个种子（请去掉 --fast、--only 和较小的 --seeds）")
    if out is not None:
        if out.exists() and not out.is_dir():
            raise ParamError("--out", f"--out {out}: exists and is not a folder", None, f"--out {out}：已存在且不是文件夹")
        if out.exists() and any(out.iterdir()):
            raise ParamError("--out", f"--out {out}: the folder is not empty; nothing was overwritten. Choose a new "
                             "or empty folder", None, f"--out {out}：文件夹非空，未覆盖任何内容。请选择新的或空的文件夹")
        from .runs.store import check_target

        check_target(out)  # before the facts run, not after
    if not quiet:
        click.echo(f"{t('plan', lang)}: {len(ids)} × {n} {t('runs', lang)} ({', '.join(ids)})", err=True)
    bar = _Progress(len(ids) * n, lang, quiet)

    def progress(done, total):
        bar(done, 0, total)

    try:
        v = val.run_validation(ids, n_seeds=n, workers=workers, progress=progress, values=values,
                               **({"master": master} if master is not None else {}))
    finally:
        bar.close()
    for line in val.console_table(v, lang, width=min(shutil.get_terminal_size((150, 20)).columns, 170)):
        click.echo(line)
    written = []
    if out is not None:
        written.append(val.write_report(v, out)["markdown"])
    if doc:
        written.append(val.write_report(v, None, doc=True)["markdown"])
    for p in written:
        click.echo(f"{t('wrote', lang)} {p}")
    ctx.exit(0 if v.passed else 1)


def main(argv=None) -> int:
    """Entry point of the ``loyalty-sim`` command."""
    try:
        cli.main(args=argv, prog_name="loyalty-sim", standalone_mode=True)
    except SystemExit as e:  # click exits; keep the code
        return int(e.code or 0)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())


# ---- workshop --------------------------------------------------------------------------------------
def _workshop_db(db: Path | None):
    """The workshops of the log ``db``, opened to be read only: a missing file, or one that is not a
    workshop log, is refused (:class:`sim.workshop.WorkshopError`) and left as it is."""
    from .workshop.registry import Registry

    reg = Registry(db, readonly=True)
    reg.log  # noqa: B018 - open it now: a file that is not a log is refused before anything is printed
    return reg


_DB_OPTION = click.option("--db", type=click.Path(dir_okay=False, path_type=Path), default=None,
                          help="The workshops' log (default: LSIM_WORKSHOP_DB or workshops/workshops.sqlite) / 工作坊日志文件.")


@cli.group()
def workshop():
    """Live classroom markets run from the app's Workshop page: list, export, replay.
    课堂实时市场（应用的“工作坊”页面）：列出、导出、回放。"""


@workshop.command("list")
@_DB_OPTION
@click.pass_context
def workshop_list(ctx, db):
    """The open workshops of the log / 列出未结束的工作坊."""
    from .workshop import WorkshopError

    lang = _lang(ctx)
    reg = _workshop_db(db)
    codes = reg.codes()
    if not codes:
        click.echo(pick("No open workshop.", "没有未结束的工作坊。", lang))
    damaged = []
    for code in codes:
        try:
            ws = reg.get(code)
        except WorkshopError as e:  # a damaged record: say which, and list the other workshops
            damaged.append(e)
            _say_error(e, lang)
            continue
        taken = sum(s.taken for s in ws.seats.values())
        click.echo(pick(f"{code}  {ws.scenario_name}  seed {ws.seed}  {ws.n_markets} market(s)  "
                        f"{len(ws.rounds)} round(s) played  {taken}/{len(ws.seats)} seats taken",
                        f"{code}  {ws.scenario_name}  种子 {ws.seed}  {ws.n_markets} 个市场  已进行 {len(ws.rounds)} 轮  "
                        f"{taken}/{len(ws.seats)} 个席位有人", lang))
    if damaged:
        ctx.exit(2)


@workshop.command("export")
@click.argument("code")
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder to write decisions.csv, weeks.csv, rounds.csv, log.csv / 输出文件夹.")
@click.option("--force", is_flag=True, help="Replace files of an earlier export / 覆盖之前导出的文件.")
@_DB_OPTION
@click.pass_context
def workshop_export(ctx, code, out, force, db):
    """Write a workshop's decisions and week-by-week data as CSV / 导出工作坊的决策和逐周数据（CSV）."""
    lang = _lang(ctx)
    ws = _workshop_db(db).get(code)
    names = ("decisions.csv", "weeks.csv", "rounds.csv", "log.csv")
    there = [n for n in names if (out / n).exists()]
    if there and not force:
        raise ParamError("--out", f"{out} already holds {', '.join(there)}: choose another folder or add --force", None,
                         f"{out} 中已有 {'、'.join(there)}：请换一个文件夹，或加 --force")
    for p in ws.export(out):
        click.echo(str(p))
    click.echo(pick(f"Workshop {ws.code}: {len(ws.rounds)} round(s), {ws.n_markets} market(s).",
                    f"工作坊 {ws.code}：{len(ws.rounds)} 轮，{ws.n_markets} 个市场。", lang))


@workshop.command("replay")
@click.argument("code")
@_DB_OPTION
@click.pass_context
def workshop_replay(ctx, code, db):
    """Replay a workshop from its log, round by round: decisions and leaderboard /
    按轮回放工作坊：各轮的决策与排行榜."""
    from .analysis.formatting import percent_text
    from .workshop import Workshop

    lang = _lang(ctx)
    reg = _workshop_db(db)
    from .workshop.registry import normal_code

    for rec, ws in Workshop.replay(reg.log, normal_code(code)):
        if rec.kind == "decide":
            click.echo(pick(f"  {rec.actor} decides {rec.data['fields']}", f"  {rec.actor} 决策 {rec.data['fields']}", lang))
        elif rec.kind == "inject":
            click.echo(pick(f"  event: {rec.data['event']}", f"  事件：{rec.data['event']}", lang))
        elif rec.kind == "undo":  # (the round numbers as applied, not as the record says)
            n = len(ws.rounds) + 1
            click.echo(pick(f"Round {n} undone", f"第 {n} 轮已撤销", lang))
        elif rec.kind == "advance":
            n = len(ws.rounds)
            click.echo(pick(f"Round {n} played:", f"第 {n} 轮结束：", lang))
            for m in range(ws.n_markets):
                for _, row in ws.scorecard(m).iterrows():
                    who = row["player"] or pick("bot", "机器人", lang)
                    click.echo(f"    {m + 1}:{row['merchant']} {who}  " + pick(
                        f"score {row['score']:.2f}  profit {row['cumulative_profit']:.0f}  "
                        f"loyal {percent_text(row['loyal_share'])}  satisfaction {row['satisfaction']:.3f}",
                        f"得分 {row['score']:.2f}  累计利润 {row['cumulative_profit']:.0f}  "
                        f"忠诚 {percent_text(row['loyal_share'])}  满意度 {row['satisfaction']:.3f}", lang))
