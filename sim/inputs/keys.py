"""The one resolver of parameter keys, and parameters from flat keyword values.

A *key* names one parameter of a market, the same way everywhere (``--set``, experiment files'
``[set]`` and ``[vary]``, the app's edits, ``LoyaltyModel(**keywords)``):

``trust_gain`` (or ``params.trust_gain``)
    a market-wide parameter of :data:`sim.params.PARAMS`;
``A.price``
    a parameter of :data:`sim.params.MERCHANT_PARAMS` of the merchant named ``A``;
``merchants[1].price``
    the same, of the merchant at position 1 (0-based).

:func:`parse_key` reads a key's form; :func:`resolve_key` checks it against a market's merchants and
returns a :class:`ParamKey` (the declaration, the merchant's position). Every failure is a
:class:`~sim.params.ParamError` naming the key and what is allowed, in English and Chinese::

    >>> resolve_key("A.prize")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    sim.params.ParamError: unknown merchant parameter 'prize' in 'A.prize'; did you mean 'price'? (merchant parameters: quality, ...)

:func:`set_values` applies ``{key: value}`` to a :class:`~sim.params.Params`;
:func:`params_from_keys` builds validated parameters from flat keyword values (what
``LoyaltyModel(n_customers=3000, trust_gain=0.1)`` and ``mesa.batch_run`` give);
:func:`mesa_model_params` turns keys into the sliders of Mesa's ``SolaraViz`` (``model_params``),
from the declarations.

This module imports only :mod:`sim.params` (and the project-free :mod:`sim.inputs.hints`): the model
may import it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

from ..params import MERCHANT_PARAMS, PARAMS, MerchantParams, Param, ParamError, Params, default_merchants
from .hints import did_you_mean

__all__ = ["KEY_FORMS_EN", "KEY_FORMS_ZH", "KeyForm", "ParamKey", "parse_key", "resolve_key", "market_keys",
           "set_values", "params_from_keys", "same_parameter", "check_once", "mesa_model_params"]

KEY_FORMS_EN = ("a market parameter (trust_gain), a merchant parameter by name (A.price) or by position "
                "(merchants[0].price)")
KEY_FORMS_ZH = "市场参数（trust_gain）、按名称指定的商家参数（A.price）或按位置指定的商家参数（merchants[0].price）"

_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
_MARKET = re.compile(rf"^(?:params\.)?({_IDENT})$")
_INDEX = re.compile(rf"^merchants\[\s*(\d+)\s*\]\.({_IDENT})$")
_NAMED = re.compile(rf"^([^.\[\]=\s][^.\[\]=]*?)\.({_IDENT})$")
_SHOWN = 12  # allowed keys listed in a message before "…"


@dataclass(frozen=True)
class KeyForm:
    """What a key says before it is checked against a market: the parameter's name (``field``) and
    whose it is (``merchant``: ``None`` for the market, a position, or a merchant's name)."""

    key: str
    field: str
    merchant: int | str | None = None


@dataclass(frozen=True)
class ParamKey:
    """A key resolved against a market: its declaration and, for a merchant's parameter, the
    merchant's position and name."""

    key: str
    field: str
    param: Param
    merchant: int | None = None
    merchant_name: str | None = None

    @property
    def is_market(self) -> bool:
        return self.merchant is None

    def get(self, params: Params) -> Any:
        """The value this key has in ``params``."""
        if self.merchant is None:
            return getattr(params, self.field)
        return getattr(params.merchants[self.merchant], self.field)


def _list(xs: Iterable[Any]) -> str:
    xs = [str(x) for x in xs]
    return ", ".join(xs[:_SHOWN]) + (", …" if len(xs) > _SHOWN else "")


def _fail(key: str, en: str, zh: str, source: str | None):
    raise ParamError(str(key), en, source, zh)


def parse_key(key: Any, *, where: tuple[str, str] = ("", ""), source: str | None = None) -> KeyForm:
    """The form of ``key`` (see the module's docstring); :class:`ParamError` for a key of no form.
    ``where`` (``(" in [vary]", "（位于 [vary]）")``) says in messages where the key was written."""
    w, wz = where
    if not isinstance(key, str):
        _fail(str(key), f"a parameter key{w} must be a text, not {type(key).__name__} {key!r}",
              f"参数键{wz}必须是文本，而不是 {type(key).__name__} {key!r}", source)
    k = key.strip()
    if m := _MARKET.match(k):
        return KeyForm(key, m.group(1))
    if m := _INDEX.match(k):
        return KeyForm(key, m.group(2), int(m.group(1)))
    if m := _NAMED.match(k):
        return KeyForm(key, m.group(2), m.group(1).strip())
    _fail(key, f"malformed parameter key '{key}'{w}: write {KEY_FORMS_EN}",
          f"参数键 '{key}'{wz}格式错误：应写成{KEY_FORMS_ZH}", source)


def _names(merchants: Params | Sequence | None) -> list[str]:
    if merchants is None:
        merchants = default_merchants()
    elif isinstance(merchants, Params):
        merchants = merchants.merchants
    out = []
    for m in merchants:
        if isinstance(m, MerchantParams):
            out.append(m.name)
        elif isinstance(m, Mapping):
            out.append(str(m.get("name", "")))
        else:
            out.append(str(m))
    return out


def market_keys(merchants: Params | Sequence | None = None, name_allowed: bool = False) -> list[str]:
    """Every key of a market with these merchants: market parameters, then ``A.price``, …"""
    fields = [q for q in MERCHANT_PARAMS if name_allowed or q != "name"]
    return list(PARAMS) + [f"{n}.{q}" for n in _names(merchants) for q in fields]


def resolve_key(key: Any, merchants: Params | Sequence | None = None, *, name_allowed: bool = False,
                where: tuple[str, str] = ("", ""), source: str | None = None) -> ParamKey:
    """``key`` resolved against a market whose merchants are ``merchants`` (a :class:`Params`, a list
    of :class:`MerchantParams`, of merchant tables or of names; default: the default market).

    A merchant's ``name`` is a key only with ``name_allowed`` (``--set C.name=Cee``); it cannot vary
    in an experiment. Raises :class:`ParamError` naming the key, with the allowed keys, the
    merchants, or a close match ("did you mean"), in English and Chinese.
    """
    form = parse_key(key, where=where, source=source)
    w, wz = where
    names = _names(merchants)
    f = form.field
    if form.merchant is None:
        if f in PARAMS:
            return ParamKey(key, f, PARAMS[f])
        if f in MERCHANT_PARAMS and (f != "name" or name_allowed):
            first = names[0] if names else "A"
            h, hz = (f"; '{f}' is a merchant parameter: write MERCHANT.{f} (e.g. {first}.{f}) or merchants[0].{f}",
                     f"；'{f}' 是商家参数：请写成 商家.{f}（例如 {first}.{f}）或 merchants[0].{f}")
        else:
            h, hz = did_you_mean(key, market_keys(names, name_allowed))
        _fail(key, f"unknown parameter '{key}'{w}{h} (market parameters: {_list(PARAMS)}; a merchant's parameter "
                   "is written A.price or merchants[0].price; `loyalty-sim params` lists them all)",
              f"未知参数 '{key}'{wz}{hz}（市场参数：{_list(PARAMS)}；商家参数写成 A.price 或 merchants[0].price；"
              "`loyalty-sim params` 可列出全部）", source)
    who = form.merchant
    if isinstance(who, int):
        if not 0 <= who < len(names):
            positions = f"0 … {len(names) - 1}: {', '.join(names)}" if names else "none"
            _fail(key, f"'{key}'{w}: there is no merchant at position {who} (positions {positions})",
                  f"'{key}'{wz}：位置 {who} 没有商家（位置 {positions}）", source)
        j = who
    elif who in names:
        j = names.index(who)
    else:
        h, hz = did_you_mean(who, names)
        _fail(key, f"'{key}'{w}: no merchant named '{who}'{h} (merchants: {', '.join(names)})",
              f"'{key}'{wz}：没有名为 '{who}' 的商家{hz}（商家：{', '.join(names)}）", source)
    fields = [q for q in MERCHANT_PARAMS if name_allowed or q != "name"]
    if f not in fields:
        if f in PARAMS:
            h, hz = f"; '{f}' is a market parameter: write {f}", f"；'{f}' 是市场参数：请写成 {f}"
        elif f == "name":
            h, hz = "; a merchant's name cannot change here", "；此处不能修改商家名称"
        else:
            h, hz = did_you_mean(f, fields)
        _fail(key, f"unknown merchant parameter '{f}' in '{key}'{w}{h} (merchant parameters: {_list(fields)})",
              f"'{key}'{wz}中有未知的商家参数 '{f}'{hz}（商家参数：{_list(fields)}）", source)
    return ParamKey(key, f, MERCHANT_PARAMS[f], j, names[j])


def same_parameter(pk: ParamKey) -> tuple:
    """What ``pk`` names, whatever the key's form: ``A.price``, ``merchants[0].price`` (when A is
    first) and ``params.price_sensitivity`` / ``price_sensitivity`` name one parameter each."""
    return (pk.merchant, pk.field)


def check_once(pk: ParamKey, seen: dict, *, where: tuple[str, str] = ("", ""), source: str | None = None,
               first_where: tuple[str, str] | None = None) -> None:
    """Record ``pk`` in ``seen`` (``{same_parameter: key}``); a :class:`ParamError` if another key
    already named the same parameter — two values for one parameter would leave one of them
    silently unused (and a results table recording a value the market never had)."""
    ident = same_parameter(pk)
    if ident in seen:
        other = seen[ident]
        w, wz = where
        fw, fwz = first_where if first_where is not None else where
        what = (f"merchant {pk.merchant_name}'s {pk.field}" if pk.merchant is not None else f"the market's {pk.field}")
        what_zh = (f"商家 {pk.merchant_name} 的 {pk.field}" if pk.merchant is not None else f"市场参数 {pk.field}")
        same = str(other).strip() == str(pk.key).strip()
        _fail(pk.key, (f"'{pk.key}'{w} is given twice" if same and fw == w else
                       f"'{other}'{fw} and '{pk.key}'{w} are the same parameter ({what})")
              + ": give each parameter once",
              (f"'{pk.key}'{wz}出现了两次" if same and fw == w else
               f"'{other}'{fwz}与 '{pk.key}'{wz}是同一个参数（{what_zh}）") + "：每个参数只能给出一次", source)
    seen[ident] = pk.key


def set_values(params: Params, values: Mapping[str, Any], *, where: tuple[str, str] = ("", ""),
               source: str | None = None) -> Params:
    """``params`` with ``values`` (``{key: value}``) set and validated: merchants' keys first, in
    order, then the market's together (so rules between market parameters see all new values)."""
    market: dict[str, Any] = {}
    merchants = list(params.merchants)
    seen: dict[tuple, str] = {}
    for k, v in values.items():
        pk = resolve_key(k, merchants, where=where, source=source)
        check_once(pk, seen, where=where, source=source)
        if pk.is_market:
            market[pk.field] = v
            continue
        v = pk.param.validate(v, key=str(k), source=source)
        merchants[pk.merchant] = merchants[pk.merchant].replace(**{pk.field: v})
    for f, v in market.items():
        market[f] = PARAMS[f].validate(v, key=f, source=source)
    try:
        return params.replace(merchants=tuple(merchants), **market)
    except ParamError as e:
        if source and not e.source:
            raise ParamError(e.key, e.message, source, e.message_zh) from None
        raise


def params_from_keys(mapping: Mapping[str, Any], base: Params | None = None) -> Params:
    """Validated :class:`Params`: ``base`` (default: ``Params()``, the default market) with the flat
    keyword values of ``mapping`` set, e.g. ``{"n_customers": 3000, "trust_gain": 0.1, "A.price": 1.2,
    "merchants[2].quality": 0.6}``. A ``"merchants"`` entry (a list of :class:`MerchantParams` or of
    merchant tables) replaces the merchants first; the other keys then name them. Raises
    :class:`ParamError` naming the key and its allowed range, or the keys allowed."""
    if not isinstance(mapping, Mapping):
        raise ParamError("", f"parameters must be given as name = value pairs, not {type(mapping).__name__}", None,
                         f"参数必须以“名称 = 值”给出，而不是 {type(mapping).__name__}")
    params = base if base is not None else Params()
    if not isinstance(params, Params):
        raise ParamError("base", f"base must be Params, not {type(params).__name__}", None,
                         f"base 必须是 Params，而不是 {type(params).__name__}")
    values = dict(mapping)
    if "merchants" in values:
        params = params.replace(merchants=values.pop("merchants"))
    return set_values(params, values) if values else params


def mesa_model_params(keys: Iterable[str], fixed: Mapping[str, Any] | None = None, *, base: Params | None = None,
                      lang: str = "en") -> dict[str, Any]:
    """``model_params`` for Mesa's ``SolaraViz``, taken from the declarations: one input per key of
    ``keys`` (``"trust_gain"``, ``"A.price"``, …) — a ``SliderFloat`` or ``SliderInt`` over the
    declared range on the declared step (inside the range, on a grid of the step, and of a whole
    number's multiple, so that every position is a value the model takes), a ``Select`` of the
    declared choices — starting at its value in ``base`` (default: the default market), labelled in
    ``lang``; then ``fixed`` values as they are (e.g. ``{"seed": 1}``), checked. A bad key or fixed
    value is a :class:`ParamError`, before any page is shown::

        SolaraViz(LoyaltyModel(seed=1), components=[make_plot_component("loyal_share")],
                  model_params=mesa_model_params(["n_customers", "trust_gain", "A.price"], {"seed": 1}))
    """
    base = base if base is not None else Params()
    fixed = dict(fixed or {})
    seeds = {k: fixed.pop(k) for k in ("seed", "rng") if k in fixed}
    if fixed:
        set_values(base, fixed)
    out: dict[str, Any] = {**seeds, **fixed}
    for key in keys:
        pk = resolve_key(key, base)
        p, value = pk.param, pk.get(base)
        label = p.label(lang) if pk.is_market else f"{pk.merchant_name}: {p.label(lang)}"
        if p.kind == "choice":
            out[key] = {"type": "Select", "value": value, "values": list(p.choices), "label": label}
            continue
        if p.kind == "str" or p.lo is None or p.hi is None:
            _fail(key, f"'{key}' has no range a slider could show: give it in fixed",
                  f"'{key}' 没有可供滑块显示的范围：请在 fixed 中给出", None)
        if p.kind == "int":
            step = max(int(p.step or 1), p.multiple)
            step = step if step % p.multiple == 0 else step * p.multiple
            lo, hi = math.ceil(p.lo / step) * step, math.floor(p.hi / step) * step
            out[key] = {"type": "SliderInt", "value": int(value), "min": int(lo), "max": int(hi), "step": step,
                        "label": label}
        else:
            step = p.step or 0.01
            lo = round(math.ceil(p.lo / step - 1e-9) * step, 10)
            hi = round(math.floor(p.hi / step + 1e-9) * step, 10)
            out[key] = {"type": "SliderFloat", "value": float(value), "min": lo, "max": hi, "step": step,
                        "label": label}
    return out
