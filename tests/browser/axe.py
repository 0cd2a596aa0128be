"""axe-core inside the browser tests: run it on the page a test is on and fail on what blocks people.

The script is the axe.min.js that the `axe-playwright-python` wheel ships (a dev dependency), injected with
Playwright, so the check needs no npm and no download at test time.
"""

from importlib.resources import files

from playwright.sync_api import Page

AXE_SCRIPT = files("axe_playwright_python") / "axe.min.js"
# "moderate" and "minor" findings are often matters of taste (heading order, landmarks); these two are what
# keeps a screen-reader or keyboard user from using the page.
BLOCKING_IMPACTS = ("critical", "serious")
# axe-core files some findings under "needs review" when it cannot be sure. For these rules that review is
# a formality: an aria-describedby or aria-labelledby naming an id the page lacks is never right.
REVIEW_COUNTS_AS_VIOLATION = ("aria-valid-attr-value",)
MAX_TARGETS = 12


def _describe(result: dict, *, kind: str) -> str:
    nodes = result["nodes"]
    targets = ", ".join(" ".join(map(str, node["target"])) for node in nodes[:MAX_TARGETS])
    if len(nodes) > MAX_TARGETS:
        targets += f" and {len(nodes) - MAX_TARGETS} more"
    return f"{result['impact']} {result['id']}{kind}: {result['help']} [{targets}]"


def axe_violations(page: Page, *, impacts: tuple[str, ...] = BLOCKING_IMPACTS) -> list[str]:
    """Every axe-core violation of the given impacts on the current page, one line each: impact, rule id,
    what it asks for, and the selectors of the offending elements."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_SCRIPT))
    results = page.evaluate("axe.run(document, {resultTypes: ['violations', 'incomplete']})")
    lines = [_describe(result, kind="") for result in results["violations"] if result["impact"] in impacts]
    lines += [
        _describe(result, kind=" (needs review)")
        for result in results["incomplete"]
        if result["id"] in REVIEW_COUNTS_AS_VIOLATION and result["impact"] in impacts
    ]
    return lines


def assert_accessible(page: Page) -> None:
    """Fail the test, listing each one, if axe-core finds a critical or serious violation on the page."""
    violations = axe_violations(page)
    assert not violations, f"axe-core on {page.url}:\n" + "\n".join(violations)


def horizontal_overflow(page: Page) -> int:
    """How many CSS pixels the page is wider than the window (0 when nothing scrolls sideways)."""
    return page.evaluate("Math.max(0, document.documentElement.scrollWidth - window.innerWidth)")


_WIDEST = """() => {
  const width = window.innerWidth, found = [];
  // What sticks out of a scrolling box (a wide table in its own scroller) does not widen the page.
  const clipped = element => {
    for (let outer = element.parentElement; outer && outer !== document.body; outer = outer.parentElement) {
      if (getComputedStyle(outer).overflowX !== 'visible') return true;
    }
    return false;
  };
  for (const element of document.body.querySelectorAll('*')) {
    const box = element.getBoundingClientRect();
    if (box.right <= width + 0.5 || box.width === 0 || clipped(element)) continue;
    // Only the outermost element that sticks out: its children go with it.
    if (found.some(outer => outer.contains(element))) continue;
    found.push(element);
  }
  return found.slice(0, 8).map(element => {
    const classes = [...element.classList].map(name => '.' + name).join('');
    const name = element.tagName.toLowerCase() + (element.id ? '#' + element.id : '') + classes;
    return `${name} (${Math.round(element.getBoundingClientRect().right - width)} px)`;
  });
}"""


def overflowing_elements(page: Page) -> list[str]:
    """The outermost elements that stick out past the window's right edge, with by how much."""
    return page.evaluate(_WIDEST)
