"""Whether the names the UI lists (hirer keys, check names) are shown whole, read from the DOM.

The Dagster UI shortens text two ways: `MiddleTruncate` replaces the middle of a name with "…"
to fit its column (a hidden, zero-height copy of the whole text measures it), and CSS cuts a
tag or a cell at its box (`overflow: hidden`, often with `text-overflow: ellipsis`). So, in every
rendered text node: a name whose characters lie outside the box of an ancestor that clips is cut;
a "…" between a head and a tail of a name is a name cut in the middle; any other occurrence of
the name is whole. Only horizontal clipping counts (a list scrolled down is not a cut name).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Page

FIND = r"""(names) => {
  const cut = new Set(), whole = new Set();
  const shown = (el) => {
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) return false;  // e.g. MiddleTruncate's measure
    for (let e = el; e; e = e.parentElement) {
      const style = getComputedStyle(e);
      if (style.display === 'none' || style.visibility === 'hidden' || style.opacity === '0')
        return false;
    }
    return true;
  };
  const clipped = (el, rect) => {
    for (let e = el; e && e !== document.documentElement; e = e.parentElement) {
      if (getComputedStyle(e).overflowX === 'visible') continue;
      const box = e.getBoundingClientRect();
      if (rect.left < box.left - 0.5 || rect.right > box.right + 0.5) return true;
    }
    return false;
  };
  const middleCut = (text, name) => {  // "head…tail", head a prefix and tail a suffix of name
    const longest = (fits, most) => {  // the longest n >= 3 that fits, else 0
      for (let n = most; n >= 3; n--) if (fits(n)) return n;
      return 0;
    };
    for (let at = text.indexOf('\u2026'); at >= 0; at = text.indexOf('\u2026', at + 1)) {
      const most = name.length - 1;
      const head = longest((n) => n <= at && name.startsWith(text.slice(at - n, at)), most);
      const tail = longest((n) => name.endsWith(text.slice(at + 1, at + 1 + n)) &&
        at + 1 + n <= text.length, most);
      if (head && tail && head + tail < name.length) return true;
    }
    return false;
  };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement, text = node.textContent;
    if (!el || !text.trim() || !shown(el)) continue;
    for (const name of names) {
      for (let at = text.indexOf(name); at >= 0; at = text.indexOf(name, at + 1)) {
        const range = document.createRange();
        range.setStart(node, at);
        range.setEnd(node, at + name.length);
        (clipped(el, range.getBoundingClientRect()) ? cut : whole).add(name);
      }
      if (text.includes('\u2026') && middleCut(text, name)) cut.add(name);
    }
  }
  return {cut: [...cut].sort(), whole: [...whole].sort()};
}"""


@dataclass(frozen=True)
class Shown:
    cut: list[str]  # names shown cut somewhere on the page
    whole: list[str]  # names shown whole somewhere on the page


def shown(page: Page, names: list[str]) -> Shown:
    found = page.evaluate(FIND, names)
    return Shown(list(found["cut"]), list(found["whole"]))


def assert_readable(page: Page, names: list[str], *, whole: list[str], where: str) -> None:
    """No name of `names` is shown cut on the page, and each of `whole` is shown whole."""
    seen = shown(page, names)
    assert seen.cut == [], f"{where}: cut at 1,600 px: {seen.cut}"
    missing = sorted(set(whole) - set(seen.whole))
    assert missing == [], f"{where}: not shown whole: {missing} (whole: {seen.whole})"


CONTROL = """([name, width]) => {
  const box = document.createElement('div');
  box.id = 'readable-control';
  box.style.cssText = 'position:fixed;top:0;left:0;z-index:99999;background:#fff';
  const clip = document.createElement('span');
  clip.style.cssText = `display:inline-block;width:${width}px;overflow:hidden;` +
    'white-space:nowrap;text-overflow:ellipsis';
  clip.textContent = name;
  const middle = document.createElement('span');
  middle.textContent = ' ' + name.slice(0, 4) + '\u2026' + name.slice(-4);
  box.append(clip, middle);
  document.body.append(box);
}"""


def control(page: Page, name: str) -> None:
    """Positive control: a name cut by CSS and one cut in the middle, put on the page, are seen
    cut; removed again, the page is as before."""
    page.evaluate(CONTROL, [name, 40])
    try:
        assert shown(page, [name]).cut == [name]
        page.evaluate("() => document.querySelector('#readable-control > span').remove()")
        assert shown(page, [name]).cut == [name]  # the middle-cut copy alone
    finally:
        page.evaluate("() => document.getElementById('readable-control').remove()")
