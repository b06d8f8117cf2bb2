"""Renders the matrix as one self-contained HTML page (inline CSS and SVG, no script, no CDN)
through a Jinja2 template with autoescape: it opens offline from file://."""

from __future__ import annotations

import datetime
import importlib.util
import math
from pathlib import Path

from cnnspec import __version__

from .differences import ORDER, differences
from .matrix import Matrix, status
from .recipe_links import by_recipe, links
from .results import PARTLY, decode_number

COLOURS = {"pass": "#2e7d32", "deviation": "#b26a00", "unsupported": "#757575",
           "fail": "#c62828", "error": "#6a1b9a", "missing": "#bdbdbd"}


TEMPLATES = Path(__file__).with_name("templates")
TEMPLATE = "report.html.j2"


def missing() -> str | None:
    """Why the report cannot be written here (Jinja2 or the template is not installed), or None."""
    if importlib.util.find_spec("jinja2") is None:
        from cnnspec.spec.errors import install_hint

        return f"the HTML report needs Jinja2, which is not installed: {install_hint('report')}"
    if not (TEMPLATES / TEMPLATE).is_file():
        return (f"the report's template {TEMPLATES / TEMPLATE} is not installed: this cnnspec was "
                f"packaged without it; reinstall cnnspec")
    return None


def _environment():
    if missing():
        raise RuntimeError(missing())
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(["html", "j2"], default=True),
        trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    environment.filters["attr_status"] = status
    environment.filters["ratio"] = _ratio
    return jinja2, environment


def _ratio(value) -> str:
    """A largest error / allowed, as the results hold it (a number, or "inf" in JSON)."""
    value = decode_number(value)
    return f"{value:.3g}" if math.isfinite(value) else "inf (nothing was allowed)"


def summary_bar(counts: dict, width: int = 360, height: int = 16) -> str:
    """A stacked bar of the statuses of one adapter, with a text label per segment."""
    total = sum(counts.values()) or 1
    x, parts = 0.0, []
    for name in ("pass", "deviation", "unsupported", "fail", "error"):
        n = counts.get(name, 0)
        if not n:
            continue
        w = width * n / total
        parts.append(f'<rect x="{x:.1f}" y="0" width="{w:.1f}" height="{height}" '
                     f'fill="{COLOURS[name]}"><title>{n} {name}</title></rect>')
        x += w
    return (f'<svg class="bar" viewBox="0 0 {width} {height}" preserveAspectRatio="none" '
            f'style="width: 100%; max-width: {width}px; height: {height}px" role="img" '
            f'aria-label="status counts">{"".join(parts)}</svg>')


def error_map(grid: list, cell: int = 10) -> str:
    """|got - ref| / allowed as a heat map: white within tolerance, red beyond it."""
    rows = len(grid)
    cols = max((len(r) for r in grid), default=0)
    parts = []
    for i, row in enumerate(grid):
        for j, ratio in enumerate(row):
            if ratio <= 1:
                fill = "#ffffff"
            else:
                level = min(1.0, 0.25 + 0.75 * min(ratio, 1e3) ** 0.5 / 1e3 ** 0.5)
                shade = int(255 * (1 - level))
                fill = f"rgb(255,{shade},{shade})"
            parts.append(f'<rect x="{j * cell}" y="{i * cell}" width="{cell}" height="{cell}" '
                         f'fill="{fill}" stroke="#ddd"><title>[{i}, {j}] error/allowed = '
                         f'{ratio:g}</title></rect>')
    return (f'<svg class="errmap" width="{cols * cell}" height="{rows * cell}" role="img" '
            f'aria-label="error map">{"".join(parts)}</svg>')


def render(matrix: Matrix, routes: dict | None = None) -> str:
    """The page; `routes` ({NAME: {"adapter": "NAME+recipes", "rules": {rule id: [recipe import
    paths]}}}, cnnspec.recipes.adapter.recipes_by_rule) links the cells a recipe serves."""
    _, environment = _environment()
    template = environment.get_template(TEMPLATE)
    recipe_links = links(matrix, routes)
    return template.render(
        recipe_links=recipe_links, recipes=by_recipe(recipe_links),
        matrix=matrix, status=status, colours=COLOURS, version=__version__,
        rule_count=sum(len(rows) for _, rows in matrix.sections),
        differences=differences(matrix), ranks=ORDER,
        generated=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        PARTLY=PARTLY,
        bars=[_markup(summary_bar(c)) for c in matrix.counts()],
        error_map=lambda grid: _markup(error_map(grid)))


def _markup(text: str):
    from markupsafe import Markup

    return Markup(text)


def write(matrix: Matrix, path, routes: dict | None = None) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(matrix, routes), encoding="utf-8")
    return path
