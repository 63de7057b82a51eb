"""HTML that is safe to put in the page: :func:`clean_html`, the one filter every Markdown text of the
app goes through on its way to the browser (:func:`sim.ui.pages_common.markdown_html`, hence
``Md``) — the project's docs, the notes of every scenario (shipped or uploaded), tables and labels.

A scenario file can come from anyone (the Explore page takes uploads), and Markdown lets raw HTML
through; the app must also work offline and never make the browser ask another machine for
anything. So the HTML is rebuilt from an allow-list:

- formatting tags (paragraphs, headings, lists, tables, emphasis, code, ``details`` …) are kept with a
  few harmless attributes (``class``, ``title``, an ``id`` on anchors and headings, table alignment);
  no ``style`` but a table cell's ``text-align``, no event handlers;
- ``script``, ``style``, ``iframe``, ``object``, ``svg``, ``template`` … are dropped with everything
  inside them; any other tag (``form``, ``input``, ``video``, ``link`` …) is dropped, its text kept;
- an image stays only when it is embedded in the page (a ``data:image/…`` URI, as the Learn page's
  figures are); any other image (a web address, a file) is replaced by its alternative text;
- a link stays a link only when it goes to the web (``http``/``https``/``mailto``, opened in a new
  tab, and only when clicked) or to a place on the same page (``#id``). Every other target — a
  ``javascript:`` or ``data:`` URL, or a path of the repository such as
  ``../scenarios/validation/f11_bank.toml``, which the app does not serve — is shown as text:
  the link's text, and the path in ``code`` after it when the text does not already name it.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

__all__ = ["clean_html", "link_kind"]

#: tags kept (with the attributes of :data:`ATTRS`)
TAGS = frozenset("""
a abbr b blockquote br caption code dd del details dfn div dl dt em h1 h2 h3 h4 h5 h6 hr i img ins kbd li mark
ol p pre q s samp small span strong sub summary sup table tbody td tfoot th thead tr u ul var
""".split())
#: tags that hold nothing to show: dropped with everything inside them
DROP_WITH_CONTENT = frozenset("""
script style iframe frame frameset object embed applet noscript noembed noframes template textarea select
svg math xmp plaintext title head audio video canvas
""".split())
#: tags without an end tag
VOID = frozenset("br hr img wbr area base col embed input link meta param source track".split())
#: attributes kept on every kept tag, and per tag
ATTRS = {"*": {"class", "title", "lang", "dir"},
         "a": {"href", "id", "name"}, "img": {"src", "alt", "width", "height"},
         "td": {"style", "align", "colspan", "rowspan"}, "th": {"style", "align", "colspan", "rowspan"},
         "ol": {"start"}, "li": {"value"}, "details": {"open"},
         **{f"h{k}": {"id"} for k in range(1, 7)}}
_CLASS = re.compile(r"^[\w\- ]*$")
_ID = re.compile(r"^[A-Za-z][\w\-]*$")
_NUMBER = re.compile(r"^\d{1,4}%?$")
_ALIGN = re.compile(r"^\s*text-align:\s*(left|right|center);?\s*$", re.I)
_DATA_IMAGE = re.compile(r"^data:image/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=\s]+$", re.I)
_SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):", re.I)
#: what browsers ignore inside a URL (so "java\tscript:" is a javascript: URL)
_IGNORED_IN_URL = re.compile(r"[\x00-\x20\x7f]+")


def link_kind(href: str) -> str:
    """How a link's target is treated: ``web`` (kept, opened in a new tab), ``anchor`` (a place on the
    same page, kept) or ``text`` (shown as text: a script, data or another scheme, or a path the app
    does not serve)."""
    h = _IGNORED_IN_URL.sub("", html.unescape(href or ""))
    if h.startswith("#") and len(h) > 1:
        return "anchor"
    m = _SCHEME.match(h)
    if m and m.group(1).lower() in ("http", "https") and h[len(m.group(0)):].startswith("//"):
        return "web"
    if m and m.group(1).lower() == "mailto":
        return "web"
    return "text"


def _attr_ok(tag: str, name: str, value: str) -> bool:
    if name not in ATTRS["*"] and name not in ATTRS.get(tag, ()):
        return False
    if name == "class":
        return bool(_CLASS.match(value))
    if name in ("id", "name"):
        return bool(_ID.match(value))
    if name in ("width", "height", "colspan", "rowspan", "start", "value"):
        return bool(_NUMBER.match(value))
    if name == "style":
        return bool(_ALIGN.match(value))
    if name == "align":
        return value.lower() in ("left", "right", "center")
    return True


def _attrs_html(attrs) -> str:
    return "".join(f' {n}="{html.escape(v, quote=True)}"' for n, v in attrs)


class _Cleaner(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.open: list[str] = []          # kept tags not yet closed
        self.links: list[tuple] = []       # per open <a>: (kept?, href, index of its text in out)
        self.skip: list[str] = []          # tags whose content is dropped

    # -- tags ----------------------------------------------------------------------------------
    def handle_starttag(self, tag, attrs):
        if self.skip:
            if tag == self.skip[-1] or (tag in DROP_WITH_CONTENT and tag not in VOID):
                self.skip.append(tag)
            return
        if tag in DROP_WITH_CONTENT:
            if tag not in VOID:
                self.skip.append(tag)
            return
        if tag not in TAGS:
            return
        kept = [(n, v or "") for n, v in attrs if n not in ("href", "src") and _attr_ok(tag, n, v or "")]
        values = dict(attrs)
        if tag == "img":
            src = _IGNORED_IN_URL.sub("", values.get("src") or "")
            if not _DATA_IMAGE.match(src):
                alt = values.get("alt") or ""
                if alt:
                    self.out.append(html.escape(alt, quote=False))
                return
            kept.append(("src", src))
        if tag == "a":
            href = values.get("href")
            kind = link_kind(href) if href is not None else "none"
            if kind == "text":
                self.links.append((False, href, len(self.out)))
                return
            if kind in ("web", "anchor"):
                kept.append(("href", _IGNORED_IN_URL.sub("", href)))
            if kind == "web":
                kept += [("target", "_blank"), ("rel", "noopener noreferrer")]
            self.links.append((True, href, len(self.out)))
        self.out.append(f"<{tag}{_attrs_html(kept)}>")
        if tag not in VOID:
            self.open.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag):
        if self.skip:
            if tag == self.skip[-1]:
                self.skip.pop()
            return
        if tag == "a" and self.links:
            kept, href, at = self.links.pop()
            if not kept:
                self.out.append(_path_note(href, "".join(self.out[at:])))
                return
        if tag in self.open:
            while self.open:
                t = self.open.pop()
                self.out.append(f"</{t}>")
                if t == tag:
                    break

    # -- text ----------------------------------------------------------------------------------
    def handle_data(self, data):
        if not self.skip:
            self.out.append(html.escape(data, quote=False))

    def close(self):
        super().close()
        while self.links:  # an <a> never closed
            kept, href, at = self.links.pop()
            if not kept:
                self.out.append(_path_note(href, "".join(self.out[at:])))
        self.out.extend(f"</{t}>" for t in reversed(self.open))
        self.open.clear()


def _path_note(href: str | None, shown: str) -> str:
    """After a link shown as text: `` (<code>path</code>)`` when the target is a path the link's text
    does not name already, else nothing (a script or data URL is never repeated)."""
    h = _IGNORED_IN_URL.sub("", html.unescape(href or ""))
    if not h or _SCHEME.match(h) or h.startswith("//"):
        return ""
    last = h.split("#")[0].split("?")[0].rstrip("/").rsplit("/", 1)[-1]
    text = html.unescape(re.sub(r"<[^>]*>", "", shown))
    if last and last in text:
        return ""
    return f" (<code>{html.escape(h, quote=False)}</code>)"


def clean_html(markup: str) -> str:
    """``markup`` with only what the allow-list keeps (see the module's text): no script, no event
    handler, nothing loaded from another machine, no link to a script or to a path the app does not
    serve. Text is kept (escaped as needed)."""
    c = _Cleaner()
    c.feed(markup or "")
    c.close()
    return "".join(c.out)
