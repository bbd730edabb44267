"""Layout-change alarms: a site's run compared with its own recent runs.

When a publisher changes its templates, extraction rarely fails outright: it
finds fewer article links, fewer pages give an article, bylines or dates go
missing, bodies shrink. Each of these is measured per site in every run
record (``sites``); after a run, each measure is compared with the same
site's last ``history_runs`` runs, and one that fell by more than ``drop``
(a share of its usual value) is an alarm: a warning line at the end of the
crawl, an entry in the run record's ``alarms``, a row in the report.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pipelines.report.fields import TRACKED_FIELDS


@dataclass(frozen=True)
class AlarmPolicy:
    drop: float = 0.5  # a measure below (1 - drop) x its usual value is an alarm
    min_articles: int = 10  # fewer articles (or pages, or usual links) in a run: too few to tell
    history_runs: int = 10  # the site's recent runs a run is compared with
    min_runs: int = 3  # fewer earlier runs of the site: no usual value yet
    min_points: float = 0.2  # a fill rate must also fall by this much (0-1), so rare fields do not ring


def layout_alarms(sites: dict[str, dict[str, Any]], history: Iterable[dict[str, Any]],
                  policy: AlarmPolicy = AlarmPolicy()) -> list[dict[str, Any]]:
    """Alarms for this run's ``sites`` (run-record shape), against earlier run records, newest first."""
    earlier: dict[str, list[dict[str, Any]]] = {site: [] for site in sites}
    for record in history:
        for site, seen in (record.get("sites") or {}).items():
            if site in earlier and len(earlier[site]) < policy.history_runs:
                earlier[site].append(seen)
    alarms = []
    for site, seen in sorted(sites.items()):
        past = earlier[site]
        if len(past) < policy.min_runs:
            continue
        alarms.extend(_site_alarms(site, seen, past, policy))
    return alarms


def _site_alarms(site: str, seen: dict[str, Any], past: list[dict[str, Any]], policy: AlarmPolicy):
    runs = len(past)
    over = f"over the last {runs} runs"
    found = seen.get("found", 0)
    # links are counted where a spider reads sources; a replay (pages, no links) says nothing of them
    listing = [p.get("found", 0) for p in past if p.get("found", 0)]
    usual_found = sum(listing) / len(listing) if len(listing) >= policy.min_runs else 0
    if (
        (found or not seen.get("pages"))
        and usual_found >= policy.min_articles
        and found < (1 - policy.drop) * usual_found
    ):
        yield _alarm(site, "found", found, usual_found, len(listing), found,
                     f"{site}: {found:,} article links found, {usual_found:,.0f} on average over the last "
                     f"{len(listing)} runs")
    pages, articles = seen.get("pages", 0), seen.get("articles", 0)
    past_pages = sum(p.get("pages", 0) for p in past)
    if pages >= policy.min_articles and past_pages:
        now, usual = articles / pages, sum(p.get("articles", 0) for p in past) / past_pages
        if now < (1 - policy.drop) * usual:
            yield _alarm(site, "articles", now, usual, runs, pages,
                         f"{site}: an article from {articles:,} of {pages:,} article pages ({now:.0%}), "
                         f"{usual:.0%} {over}")
    past_articles = sum(p.get("articles", 0) for p in past)
    if articles < policy.min_articles or not past_articles:
        return
    fields = seen.get("fields") or {}
    for name in TRACKED_FIELDS:
        now = fields.get(name, 0) / articles
        usual = sum((p.get("fields") or {}).get(name, 0) for p in past) / past_articles
        if now < (1 - policy.drop) * usual and usual - now >= policy.min_points:
            yield _alarm(site, name, now, usual, runs, articles,
                         f"{site}: {name} on {now:.0%} of {articles:,} articles, {usual:.0%} {over}")
    now = seen.get("body_chars", 0) / articles
    usual = sum(p.get("body_chars", 0) for p in past) / past_articles
    if now < (1 - policy.drop) * usual:
        yield _alarm(site, "body_chars", now, usual, runs, articles,
                     f"{site}: body {now:,.0f} characters on average over {articles:,} articles, "
                     f"{usual:,.0f} {over}")


def _alarm(site: str, measure: str, value: float, usual: float, runs: int, count: int, message: str) -> dict:
    return {"site": site, "measure": measure, "value": round(value, 4), "usual": round(usual, 4),
            "runs": runs, "count": count, "message": message}
