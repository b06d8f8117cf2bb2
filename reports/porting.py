"""`cnnspec port --from SRC --to DST`: what changes when a model moves from SRC to DST, ranked.

From the results of SRC, DST and DST+recipes (cnnspec.recipes), rule by rule:
1. changes outputs: DST fails, errs or deviates where SRC passes, or the two follow different
   conventions (pool.max_nan, grad.kinks, ...): the model computes other numbers;
2. cannot run as written: DST declares the call unsupported where SRC runs it;
each with the recipe that DST+recipes ran on that rule, its examples and its verdict there
(the verification), or the reason there is none (the deviation's kind and evidence);
3. coverage: one line per adapter, what it runs and what it leaves out.
Plain data (`Port`), rendered as text by `text` or written as JSON by the CLI.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from cnnspec.spec import RULES

SCHEMA = "cnnspec.port/1"
CHANGES, BLOCKS = "changes outputs", "cannot run as written"
COVERAGE = "coverage"
RANKS = (CHANGES, BLOCKS, COVERAGE)  # the order of the list: what breaks a model first
RUNS = ("pass", "deviation")


@dataclass
class Recipe:
    path: str  # import path, e.g. cnnspec.recipes.tensorflow.max_pool
    examples: int  # examples it ran on in this rule on DST+recipes
    source: str | None = None


@dataclass
class Item:
    rank: str  # CHANGES or BLOCKS
    rule: str
    title: str
    what: str  # what DST does, in one sentence
    recipes: list = field(default_factory=list)  # [Recipe]
    verification: str | None = None  # the DST+recipes verdict, with versions and profile
    reason: str | None = None  # why there is no verified recipe


@dataclass
class Port:
    source: dict  # adapter info of SRC
    target: dict  # of DST
    recipes: dict | None  # of DST+recipes, None when not available
    items: list  # [Item], ranked
    coverage: list  # one line per adapter

    def to_dict(self) -> dict:
        return {"schema": SCHEMA, "from": self.source, "to": self.target,
                "recipes_adapter": self.recipes, "items": [asdict(i) for i in self.items],
                "coverage": self.coverage}


def classify(src_row, dst_row) -> tuple[str, str] | None:
    """(rank, cause) when moving a model from the adapter of `src_row` to that of `dst_row`
    (RuleResults of one rule) changes or blocks it, else None. The rank is CHANGES (cause
    "fails", "errs", "deviates" or "convention") or BLOCKS (cause "unsupported"); a rule SRC
    does not run (no pass, no deviation) cannot break a port. The one ranking of `cnnspec port`
    and of the report's "Where they differ" (reports.differences)."""
    if src_row is None or src_row.status not in RUNS:
        return None
    if dst_row.status in ("fail", "error"):
        return CHANGES, "fails" if dst_row.status == "fail" else "errs"
    if dst_row.status == "deviation" and src_row.status == "pass":
        return CHANGES, "deviates"
    if dst_row.status in RUNS and src_row.conventions and dst_row.conventions \
            and list(src_row.conventions) != list(dst_row.conventions):
        return CHANGES, "convention"
    if dst_row.status == "unsupported":
        return BLOCKS, "unsupported"
    return None


def observed(row) -> str:
    """A deviating row's declared observation, on one line."""
    return " ".join((row.deviation or {}).get("observed", "").split())


def _what(src_row, dst_row, dst_name: str, src_name: str = "the source") -> tuple[str, str] | None:
    """(rank, what DST does) when the rule changes or blocks a port, else None."""
    found = classify(src_row, dst_row)
    if found is None:
        return None
    rank, cause = found
    if cause in ("fails", "errs"):
        return rank, f"{dst_name} {cause}: {dst_row.headline_text()}"
    if cause == "deviates":
        entry = dst_row.deviation or {}
        return rank, f"{dst_name} deviates ({entry.get('kind', 'declared')}): {observed(dst_row)}"
    if cause == "convention":
        return rank, f"a different convention: {dst_row.convention} where {src_name} has " \
                     f"{src_row.convention}"
    return rank, f"{dst_name} cannot run it: {dst_row.summary()}"


def _verify(item: Item, dst_row, recipe_row, recipes_info: dict | None, profile: str):
    """Fills the item's recipes and verification from the DST+recipes row, or its reason."""
    ran = (recipe_row.recipes or {}) if recipe_row is not None else {}
    if ran and recipe_row.status in RUNS:
        item.recipes = [Recipe(path, n) for path, n in sorted(ran.items())]
        runs = ", ".join(f"{path.rsplit('.', 1)[1]} on {n} examples" for path, n in ran.items())
        verdict = "passes" if recipe_row.status == "pass" else "passes but for a declared " \
            "deviation of the kernel underneath"
        item.verification = (f"{recipe_row.id} {verdict} on {recipes_info['name']} "
                             f"{recipes_info['version']} (profile {profile}): {runs}")
        return
    if ran:
        item.recipes = [Recipe(path, n) for path, n in sorted(ran.items())]
        item.reason = f"the recipe does not pass yet: {recipe_row.status}: " \
                      f"{recipe_row.summary()}"
        return
    entry = dst_row.deviation or {}
    if entry:
        item.reason = f"no recipe: a framework {entry.get('kind')} ({entry.get('evidence')})"
    elif recipes_info is None:
        item.reason = "no recipes for this framework"
    else:
        item.reason = "no recipe covers it"


def _coverage(results) -> str:
    counts = results.counts()
    shown = ", ".join(f"{n} {status}" for status, n in counts.items() if n)
    missing = results.adapter.get("capabilities", {}).get("missing", {})
    lacks = "; ".join(f"{key}: {', '.join(map(str, value))}" for key, value in missing.items()
                      if key in ("ops", "dtypes", "spatial_ranks", "gradients"))
    return f"{results.adapter['name']} {results.adapter['version']}: {shown}" + (
        f"; lacks {lacks}" if lacks else "")


def port(source, target, with_recipes=None) -> Port:
    """The ranked differences of moving from `source` to `target` (Results), verified on
    `with_recipes` (the Results of target+recipes) when given."""
    src_rows = {row.id: row for row in source.rules}
    recipe_rows = {row.id: row for row in with_recipes.rules} if with_recipes else {}
    profile = (with_recipes or target).suite.get("profile", "?")
    items = []
    for row in target.rules:
        found = _what(src_rows.get(row.id), row, target.adapter["name"], source.adapter["name"])
        if found is None:
            continue
        rank, what = found
        item = Item(rank, row.id, RULES[row.id].title if row.id in RULES else row.id, what)
        _verify(item, row, recipe_rows.get(row.id),
                with_recipes.adapter if with_recipes else None, profile)
        items.append(item)
    items.sort(key=lambda i: (RANKS.index(i.rank), i.verification is None))
    coverage = [_coverage(r) for r in (source, target, with_recipes) if r is not None]
    return Port(source=source.adapter, target=target.adapter,
                recipes=with_recipes.adapter if with_recipes else None, items=items,
                coverage=coverage)


def text(ported: Port) -> str:
    """The ranked list as text: each item with its recipe (import path, and its source the
    first time it appears), its verification or its reason; coverage last."""
    src, dst = ported.source, ported.target
    lines = [f"cnnspec port: {src['name']} {src['version']} -> {dst['name']} {dst['version']}"]
    shown = set()
    for rank in (CHANGES, BLOCKS):
        group = [i for i in ported.items if i.rank == rank]
        lines += ["", f"{rank.capitalize()} ({len(group)})"]
        for number, item in enumerate(group, start=1):
            lines.append(f"  {number}. {item.rule} ({item.title}): {item.what}")
            for recipe in item.recipes:
                module, name = recipe.path.rsplit(".", 1)
                lines.append(f"     recipe: from {module} import {name}")
                if recipe.source and recipe.path not in shown:
                    shown.add(recipe.path)
                    lines += [f"       | {line}" for line in recipe.source.rstrip().splitlines()]
            if item.verification:
                lines.append(f"     verified: {item.verification}")
            if item.reason:
                lines.append(f"     {item.reason}")
    lines += ["", "Coverage"] + [f"  {line}" for line in ported.coverage]
    return "\n".join(lines) + "\n"
