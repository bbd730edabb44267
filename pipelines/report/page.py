"""The report as one self-contained HTML page: styles, charts (SVG) and the figures (JSON) inline.

The page has no script to run and asks for nothing over the network (its
Content-Security-Policy forbids it), so it can be mailed, archived or opened
offline and shows the same thing every time. Every text from the store is
escaped.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

from pipelines.report import svg
from pipelines.report.fields import TRACKED_FIELDS
from pipelines.report.units import human_bytes, percent

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1b1f24;background:#f6f7f9}
header{background:#1b2a3a;color:#fff;padding:18px 28px}header h1{margin:0 0 4px;font-size:22px}
header p{margin:0;color:#c9d4df}main{padding:16px 28px;max-width:1400px}
h2{font-size:18px;margin:28px 0 10px}h3{font-size:15px;margin:18px 0 6px}
.tiles{display:flex;flex-wrap:wrap;gap:10px}.tile{background:#fff;border:1px solid #dde2e8;border-radius:6px;
padding:8px 14px;min-width:110px}.tile b{display:block;font-size:20px}.tile span{color:#57606a;font-size:12px}
.grid2{display:grid;grid-template-columns:repeat(auto-fit,minmax(460px,1fr));gap:14px}
.card{background:#fff;border:1px solid #dde2e8;border-radius:6px;padding:10px 14px}
.chart{width:100%;height:auto;font-size:11px}.chart text{fill:#57606a}.axis{stroke:#8c959f}.grid{stroke:#eef1f4}
.legend{font-size:12px;color:#57606a}.key{margin-right:12px}.key i{display:inline-block;width:10px;height:10px;
margin-right:4px;border-radius:2px}
table{border-collapse:collapse;background:#fff;width:100%;font-size:13px}th,td{border-bottom:1px solid #e5e9ee;
padding:4px 8px;text-align:left;vertical-align:top}th{background:#f0f2f5}td.n,th.n{text-align:right}
.alarm td{background:#fff4f2}.bad{color:#b42318;font-weight:600}.nodata{color:#8c959f}
details summary{cursor:pointer}details ul{margin:4px 0 8px;padding-left:18px;word-break:break-all}
section.site{border-top:2px solid #dde2e8;margin-top:26px}
"""


def render_page(report: dict[str, Any]) -> str:
    totals = report["totals"]
    body = [
        (f"<header><h1>Archive report</h1><p>{escape(report['store'])} · generated {escape(report['generated'])}"
         f" · runs {escape(totals['first_run'] or '–')} to {escape(totals['last_run'] or '–')}</p></header><main>"),
        _tiles(totals),
        _alarms(report["alarms"]),
        _store_charts(report),
        _reasons("Errors by reason", report["errors"], "errors"),
        _reasons("Skipped by reason", report["skipped"], "skipped"),
        _site_overview(report["sites"]),
        *(_site(site, figures) for site, figures in report["sites"].items()),
        _runs_table(report["runs"]),
        "</main>",
    ]
    # no '<' in the script element at all: a title saying "</script>" or "<!--" stays data
    data = json.dumps(report, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e")
    return (
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Archive report: {escape(report['store'])}</title><style>{STYLE}</style></head><body>"
        + "".join(body)
        + f'<script type="application/json" id="report-data">{data}</script></body></html>\n'
    )


def _tiles(totals: dict[str, Any]) -> str:
    tiles = [
        ("sites", f"{totals['sites']:,}"), ("articles", f"{totals['articles']:,}"),
        ("documents written", f"{totals['documents']:,}"), ("revisions", f"{totals['revisions']:,}"),
        ("runs", f"{totals['runs']:,}"), ("pages fetched", f"{totals['pages_fetched']:,}"),
        ("errors", f"{totals['errors']:,}"), ("archive", human_bytes(totals["archive_bytes"])),
        ("WARC records", f"{totals['archive_records']:,}"), ("alarms", f"{totals['alarms']:,}"),
    ]
    return '<div class="tiles">' + "".join(
        f'<div class="tile" data-total="{escape(name)}"><b>{value}</b><span>{escape(name)}</span></div>'
        for name, value in tiles
    ) + "</div>"


def _alarms(alarms: list[dict[str, Any]]) -> str:
    if not alarms:
        return "<h2>Layout-change alarms</h2><p class=\"nodata\">None: every site's fields and counts are as usual.</p>"
    rows = "".join(
        f'<tr class="alarm" data-site="{escape(a["site"])}" data-measure="{escape(a["measure"])}">'
        f"<td>{escape(a.get('finished', '') or '')}</td><td>{escape(a['site'])}</td><td>{escape(a['measure'])}</td>"
        f"<td>{escape(a['message'])}</td><td>{escape(a.get('run_id', ''))}</td></tr>"
        for a in alarms[:200]
    )
    return ("<h2>Layout-change alarms</h2><table id=\"alarms\"><tr><th>run finished</th><th>site</th><th>measure</th>"
            f"<th>what changed</th><th>run</th></tr>{rows}</table>")


def _store_charts(report: dict[str, Any]) -> str:
    runs = report["runs"]
    labels = [_when(r["started"]) or r["run_id"] for r in runs]
    growth = report["archive"]
    return (
        '<h2>The store</h2><div class="grid2">'
        '<div class="card"><h3>Articles stored and pages fetched per run</h3>'
        + svg.lines(labels, {"articles stored": [r["articles_stored"] for r in runs],
                             "pages fetched": [r["pages_fetched"] for r in runs]}, title="articles and pages per run")
        + '</div><div class="card"><h3>Archive size (WARC, all runs)</h3>'
        + svg.lines([_when(g["finished"]) for g in growth], {"archive": [g["bytes"] for g in growth]},
                    title="archive size", fmt=human_bytes)
        + "</div></div>"
    )


def _when(stamp: str) -> str:
    """``2026-09-01T06:00:00Z`` -> ``09-01 06:00``: short enough for an axis (the full time is in the JSON)."""
    return stamp[5:16].replace("T", " ")


def _reasons(title: str, reasons: dict[str, dict[str, Any]], kind: str) -> str:
    if not reasons:
        return f'<h2>{escape(title)}</h2><p class="nodata">none</p>'
    rows = "".join(
        f'<tr data-{kind}="{escape(reason)}"><td>{escape(reason)}</td><td class="n">{entry["count"]:,}</td>'
        f"<td>{_url_list(entry['urls'], entry['count'])}</td></tr>"
        for reason, entry in reasons.items()
    )
    return (f'<h2>{escape(title)}</h2><table id="{kind}"><tr><th>reason</th><th class="n">count</th><th>URLs</th></tr>'
            f"{rows}</table>")


def _url_list(urls: list[str], count: int) -> str:
    if not urls:
        return '<span class="nodata">–</span>'
    items = "".join(f"<li>{escape(url)}</li>" for url in urls)
    more = f" (first {len(urls)} of {count:,})" if count > len(urls) else ""
    return f"<details><summary>{len(urls)} URL{'s' if len(urls) > 1 else ''}{more}</summary><ul>{items}</ul></details>"


def _site_overview(sites: dict[str, dict[str, Any]]) -> str:
    head = "".join(f'<th class="n">{escape(name)}</th>' for name in TRACKED_FIELDS)
    rows = "".join(
        f'<tr data-site="{escape(site)}"><td><a href="#site-{escape(site)}">{escape(site)}</a></td>'
        f'<td class="n" data-figure="articles">{s["articles"]:,}</td><td class="n">{s["revisions"]:,}</td>'
        + "".join(f'<td class="n" data-field="{name}">{percent(s["fill"][name])}</td>' for name in TRACKED_FIELDS)
        + f'<td class="n">{s["body_chars"]["median"] or "–"}</td><td class="n">{len(s["alarms"])}</td></tr>'
        for site, s in sites.items()
    )
    return ('<h2>Sites</h2><table id="sites"><tr><th>site</th><th class="n">articles</th><th class="n">revisions</th>'
            f'{head}<th class="n">median body (chars)</th><th class="n">alarms</th></tr>{rows}</table>')


def _site(site: str, s: dict[str, Any]) -> str:
    days = list(s["per_day"])
    runs = s["runs"]
    labels = [_when(r["started"]) or r["run_id"] for r in runs]
    fill = {name: [r["fill"].get(name) for r in runs] for name in TRACKED_FIELDS}
    charts = (
        '<div class="grid2">'
        '<div class="card"><h3>Articles stored per day (by fetch date)</h3>'
        + svg.bars(days, [s["per_day"][d] for d in days], title=f"{site} articles per day")
        + '</div><div class="card"><h3>Articles per run</h3>'
        + svg.lines(labels, {"articles": [r["articles"] for r in runs],
                             "article pages": [r.get("pages") for r in runs]}, title=f"{site} articles per run")
        + '</div><div class="card"><h3>Fields filled, share of articles per run</h3>'
        + svg.lines(labels, fill, title=f"{site} fill rates", top=1, fmt=lambda v: f"{v:.0%}")
        + '</div><div class="card"><h3>Body length per run (mean characters)</h3>'
        + svg.lines(labels, {"body": [r.get("body_chars_mean") for r in runs]}, title=f"{site} body length")
        + "</div></div>"
    )
    revised = "".join(
        f"<li>revision {r['revision']}: {escape(r['title'] or r['url'])} <small>{escape(r['url'])}</small></li>"
        for r in s["most_revised"]
    )
    alarms = "".join(f"<li class=\"bad\">{escape(a['message'])} <small>({escape(a['run_id'])})</small></li>"
                     for a in s["alarms"][:20])
    return (
        f'<section class="site" id="site-{escape(site)}" data-site="{escape(site)}"><h2>{escape(site)}</h2>'
        f'<p><b data-figure="articles">{s["articles"]:,}</b> articles, {s["documents"]:,} documents written, '
        f'<b data-figure="revisions">{s["revisions"]:,}</b> revisions; fields measured on {s["fill_measured"]:,}.</p>'
        + (f"<ul>{alarms}</ul>" if alarms else "")
        + charts
        + _reasons(f"{site}: errors", s["errors"], "errors").replace("<h2>", "<h3>").replace("</h2>", "</h3>")
        + _reasons(f"{site}: skipped", s["skipped"], "skipped").replace("<h2>", "<h3>").replace("</h2>", "</h3>")
        + (f"<details><summary>Most revised ({len(s['most_revised'])})</summary><ul>{revised}</ul></details>"
           if revised else "")
        + "</section>"
    )


def _runs_table(runs: list[dict[str, Any]], limit: int = 200) -> str:
    shown = runs[-limit:][::-1]
    rows = "".join(
        f'<tr data-run="{escape(r["run_id"])}"><td>{escape(r["started"])}</td><td>{escape(r["job"])}</td>'
        f'<td>{escape(r["finish_reason"])}</td><td class="n">{r["pages_fetched"]:,}</td>'
        f'<td class="n">{r["articles_stored"]:,}</td><td class="n">{r["articles_unchanged"]:,}</td>'
        f'<td class="n">{r["errors"]:,}</td><td class="n">{human_bytes(r["archive_bytes"])}</td>'
        f'<td class="n">{r["alarms"]}</td><td>{escape(r["run_id"])}</td></tr>'
        for r in shown
    )
    note = f" (last {limit} of {len(runs):,})" if len(runs) > limit else ""
    return (f'<h2>Runs{note}</h2><table id="runs"><tr><th>started</th><th>job</th><th>finish</th>'
            '<th class="n">pages</th><th class="n">stored</th><th class="n">unchanged</th><th class="n">errors</th>'
            f'<th class="n">archive</th><th class="n">alarms</th><th>run</th></tr>{rows}</table>')
