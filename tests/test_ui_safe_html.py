"""Markdown shown by the app is safe: no script, nothing loaded from another machine, no link the app
cannot follow (:func:`sim.ui.safe_html.clean_html`, applied by ``markdown_html`` to every ``Md``).

A scenario file can come from anyone (the Explore page takes uploads) and its notes are Markdown,
which lets raw HTML through. Component tests (``solara.render``, no browser); the same upload in a
real browser is in ``tests/test_browser.py``.
"""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser

import pytest

import solara.server.starlette  # noqa: F401  (reactive values scoped per virtual kernel)
import solara

from sim.inputs.scenario import INFO_SECTIONS, load_scenario, scenario_names
from sim.ui import explore, i18n, state
from sim.ui.files import handle_upload
from sim.ui.notes import app_markdown
from sim.ui.pages_common import markdown_html
from sim.ui.safe_html import clean_html, link_kind
from ui_kit import all_widgets, virtual_session

#: notes an uploaded scenario may carry (the real-browser test uploads the same)
HOSTILE_TOML = """\
[info]
title = { en = "T<script>document.title='PWNED'</script>", zh = "标题<script>document.title='PWNED'</script>" }
[info.summary]
en = "<img src=x onerror=\\"document.title='PWNED'\\"> **bold**"
zh = "<img src=x onerror=\\"document.title='PWNED'\\"> 摘要"
[info.what]
en = "<iframe src='http://example.com'></iframe> [link](javascript:alert(1)) ![pic](http://example.com/a.png)"
zh = "<iframe src='http://example.com'></iframe> [链接](javascript:alert(1)) ![图](https://example.com/b.png)"
[info.how]
en = "<a href='data:text/html,<script>alert(1)</script>'>data</a> <a href='java&#9;script:alert(1)'>tab</a> \
<div style='background:url(http://example.com/bg.png)'>styled</div> <svg onload=alert(1)><script>alert(1)</script></svg> \
<form action='http://example.com'><input name=q></form> <link rel=stylesheet href='http://example.com/x.css'> \
<a href='https://example.org/page' onclick='alert(1)'>web</a>"
zh = "<video src='http://example.com/v.mp4' autoplay></video> <object data='http://example.com/o'></object> 说明"
"""


class _Tags(HTMLParser):
    """Every start tag and its attributes."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def tags(markup: str) -> list[tuple[str, dict]]:
    p = _Tags()
    p.feed(markup)
    p.close()
    return p.tags


def unsafe(markup: str) -> list[str]:
    """What in ``markup`` could run a script, load anything from another machine, or link to
    something the app does not serve."""
    bad = []
    for tag, attrs in tags(markup):
        if tag in ("script", "iframe", "object", "embed", "svg", "style", "link", "form", "input", "video",
                   "audio", "source", "frame", "base", "meta"):
            bad.append(f"<{tag}>")
        for name, value in attrs.items():
            value = value or ""
            if name.startswith("on"):
                bad.append(f"{tag} {name}")
            if name == "style" and not re.fullmatch(r"\s*text-align:\s*(left|right|center);?\s*", value):
                bad.append(f"{tag} style={value!r}")
            if name == "src" and not value.startswith("data:image/"):
                bad.append(f"{tag} src={value!r}")
            if name == "href" and not re.match(r"(https?://|mailto:|#\w)", value):
                bad.append(f"{tag} href={value!r}")
    return bad


# ---- the filter ---------------------------------------------------------------------------------
@pytest.mark.parametrize("payload, gone, kept", [
    ("T<script>document.title='PWNED'</script>", ["<script", "PWNED"], ["T"]),
    ("<img src=x onerror=\"document.title='PWNED'\"> **bold**", ["<img", "onerror", "PWNED"], ["<strong>bold</strong>"]),
    ("<iframe src='http://example.com'></iframe> text", ["<iframe", "example.com"], ["text"]),
    ("[link](javascript:alert(1))", ["<a", "javascript:"], ["link"]),
    ("[d](data:text/html;base64,PHNjcmlwdD4=)", ["<a", "data:"], ["d"]),
    ("<a href='java&#9;script:alert(1)'>tab</a>", ["<a", "script:"], ["tab"]),
    ("![pic](http://example.com/a.png)", ["<img", "example.com"], ["pic"]),
    ("<div style='background:url(http://example.com/bg.png)'>styled</div>", ["style=", "example.com"], ["styled"]),
    ("<svg onload=alert(1)><script>alert(1)</script></svg>after", ["<svg", "alert"], ["after"]),
    ("<link rel=stylesheet href='http://example.com/x.css'>x", ["<link", "example.com"], ["x"]),
    ("[web](https://example.org/page)", [],
     ['<a href="https://example.org/page" target="_blank" rel="noopener noreferrer">web</a>']),
    ("1 < 2 & 3 > 2", ["<2"], ["1 &lt; 2 &amp; 3 &gt; 2"]),
])
def test_raw_html_scripts_and_foreign_content_do_not_reach_the_page(payload, gone, kept):
    out = markdown_html(payload)
    assert not unsafe(out), (payload, out)
    for g in gone:
        assert g not in out, (payload, out)
    for k in kept:
        assert k in out, (payload, out)


def test_relative_links_become_text_that_names_the_path():
    out = markdown_html("Files in [`scenarios/validation/`](../scenarios/validation); "
                        "[the bank market](../scenarios/validation/f11_bank.toml); [F1](#f1)")
    assert [t for t, _ in tags(out)].count("a") == 1 and '<a href="#f1">F1</a>' in out
    assert "<code>scenarios/validation/</code>;" in out  # the text names the path already
    assert "the bank market (<code>../scenarios/validation/f11_bank.toml</code>)" in out
    assert [link_kind(h) for h in ("https://x.org", "HTTP://x.org", "mailto:a@b.c", "#f1", "f.toml", "/learn",
                                   "//x.org", "javascript:x", " jAvAscript:x", "data:text/html,x", "http:x")] == \
        ["web", "web", "web", "anchor", "text", "text", "text", "text", "text", "text", "text"]


def test_the_projects_own_markup_is_kept():
    """What the app's texts use: tables with aligned cells, code blocks, the command-line line under a
    note, anchors, embedded figures, ``<br>`` in table cells."""
    md = ('<a id="f1"></a>\n\n## F1\n\n| a | b |\n|:--|--:|\n| 1<br>2 | `x` |\n\n'
          '![F1](data:image/png;base64,iVBORw0KGgo=)\n\n'
          'text<br><small class="lsim-cli">command line: <code>--set C.quality=0.65</code></small>\n\n'
          '<details><summary>more</summary>hidden</details>')
    out = markdown_html(md)
    for piece in ('<a id="f1"></a>', '<th style="text-align: left;">a</th>',
                  '<td style="text-align: right;"><code>x</code></td>',
                  "1<br>2", '<img alt="F1" src="data:image/png;base64,iVBORw0KGgo=">',
                  '<small class="lsim-cli">command line: <code>--set C.quality=0.65</code></small>',
                  "<details><summary>more</summary>hidden</details>"):
        assert piece in out, (piece, out)
    assert clean_html(out) == out  # a second pass changes nothing


@pytest.mark.parametrize("name", scenario_names())
def test_shipped_notes_render_unchanged_by_the_filter(name):
    """The filter takes nothing from the project's own notes."""
    from sim.ui.pages_common import _md_parser

    sc = load_scenario(name)
    for lang in ("en", "zh"):
        for sec in INFO_SECTIONS[1:]:
            text = app_markdown(sc.text(sec, lang), lang)
            raw = _md_parser().convert(text)
            assert markdown_html(text) == raw.replace("<br />", "<br>").replace("<hr />", "<hr>"), (name, sec, lang)


# ---- an uploaded scenario on the Explore page ---------------------------------------------------
@pytest.fixture
def ctx():
    with virtual_session("test-safe-html") as c:
        yield c


def test_an_uploaded_scenarios_notes_are_shown_without_its_html(ctx):
    data = HOSTILE_TOML.encode()
    loaded = []
    err, ok = handle_upload({"name": "hostile.toml", "size": len(data), "file_obj": io.BytesIO(data), "data": None},
                            loaded.append, "en")
    assert not err and len(loaded) == 1
    box, rc = solara.render(explore.Explore(), handle_error=False)
    sess = state.session.value
    sess.load(loaded[0])
    state.edited()
    for lang in ("en", "zh"):
        i18n.lang.value = lang
        # every Markdown text of the page (the app's own charts are inline SVG, drawn by the app)
        md = "\n".join(w.unsafe_innerHTML for w in all_widgets(rc)
                       if "solara-markdown" in (getattr(w, "attributes", None) or {}).get("class", "").split())
        # the notes are there …
        assert ("bold" if lang == "en" else "说明") in md and ("link" if lang == "en" else "链接") in md
        assert not unsafe(md), unsafe(md)  # … without what could run or load anything
        assert "PWNED" not in md and "example.com" not in md and "javascript" not in md
    i18n.lang.value = "en"
