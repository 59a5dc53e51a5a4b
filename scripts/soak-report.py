#!/usr/bin/env python3
"""Writes the soak's report (Markdown and SVG plots) from what scripts/soak.sh recorded.

    python3 scripts/soak-report.py --dir target/soak --report docs/benchmarks/soak.md [--command ...]

Reads, in --dir: samples.csv (the gateway every 10 s), faults.csv, client.csv (the resume clients'
counters every 10 s), client-events.csv, gatling-requests.csv, metrics-<gen>.txt, gateway-<gen>.log,
simulation-start / simulation-end, containers-end.txt, health-end.json. Writes the report and,
next to it, <report name>-<plot>.svg. Standard library only (no pip here).
"""

import argparse
import csv
import datetime
import glob
import html
import math
import os
import re
import statistics
import subprocess
import sys

FAULT_STYLE = {  # kind: (colour, label)
    "container_kill": ("#d62728", "container killed"),
    "engine_cut": ("#ff7f0e", "engine socket cut"),
    "gateway_kill": ("#9467bd", "gateway SIGKILLed, restarted"),
}
PALETTE = ["#1f77b4", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#17becf", "#bcbd22"]


def read_csv(path):
    if not os.path.exists(path):
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def num(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def nice_ticks(lo, hi, count=5):
    if hi <= lo:
        hi = lo + 1
    span = hi - lo
    raw = span / count
    mag = 10 ** math.floor(math.log10(raw))
    step = min((m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw), default=10 * mag)
    start = math.floor(lo / step) * step
    ticks = [round(start, 10)]
    while ticks[-1] < hi - step * 0.001:
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


def fmt_tick(v):
    if abs(v) >= 1000 and v == int(v):
        return f"{int(v):,}"
    if v == int(v):
        return str(int(v))
    return f"{v:g}"


def svg_chart(path, title, ylabel, series, faults, t0, t_end, marks=(), ymin0=True, note=None, t_first=None):
    """series: list of (label, [(t_seconds, value)], colour, style) with style 'line', 'step' or 'dots'."""
    W = 900
    left, right, top = 70, 20, 40
    # the legend: series, then the fault kinds present, wrapped to the width
    items = [(label, colour, "line") for label, pts, colour, _ in series if label]
    kinds = []
    for fault in faults:
        if fault["kind"] not in kinds:
            kinds.append(fault["kind"])
    items += [(FAULT_STYLE.get(k, ("#999", k))[1], FAULT_STYLE.get(k, ("#999", k))[0], "fault") for k in kinds]
    legend_rows = [[]]
    used = 0
    for item in items:
        width = 30 + 6.2 * len(item[0])
        if used + width > W - left - right and legend_rows[-1]:
            legend_rows.append([])
            used = 0
        legend_rows[-1].append(item)
        used += width
    bottom = 50 + 18 * len(legend_rows)
    H = 260 + bottom
    pw, ph = W - left - right, H - top - bottom
    values = [v for _, pts, _, _ in series for _, v in pts if v is not None]
    ymax = max(values) if values else 1
    ylo = 0 if ymin0 else (min(values) if values else 0)
    if ymax <= ylo:
        ymax = ylo + 1
    yt = nice_ticks(ylo, ymax * 1.05)
    ylo, yhi = yt[0], yt[-1]
    xmax_min = max((t_end - t0) / 60.0, 0.1)
    xmin_min = min(0.0, ((t_first if t_first is not None else t0) - t0) / 60.0)
    xt = nice_ticks(xmin_min, xmax_min, 8)
    xlo, xhi = xt[0], xt[-1]

    def x(t):
        return left + pw * ((t / 60.0 - xlo) / (xhi - xlo))

    def y(v):
        return top + ph * (1 - (v - ylo) / (yhi - ylo))

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" '
           f'font-family="sans-serif" font-size="11">',
           f'<rect width="{W}" height="{H}" fill="white"/>',
           f'<text x="{left}" y="20" font-size="14" font-weight="bold">{html.escape(title)}</text>']
    # faults: bands for durations, lines for instants
    for fault in faults:
        colour = FAULT_STYLE.get(fault["kind"], ("#999", fault["kind"]))[0]
        a, b = fault["start"] - t0, fault["end"] - t0
        if a / 60.0 > xhi or a / 60.0 < xlo:
            continue
        if b - a >= 1.0:
            out.append(f'<rect x="{x(a):.1f}" y="{top}" width="{max(1.5, x(b) - x(a)):.1f}" height="{ph}" '
                       f'fill="{colour}" opacity="0.18"/>')
        out.append(f'<line x1="{x(a):.1f}" y1="{top}" x2="{x(a):.1f}" y2="{top + ph}" stroke="{colour}" '
                   f'stroke-width="1" stroke-dasharray="3,2" opacity="0.8"/>')
    for i, (label, t) in enumerate(marks):
        out.append(f'<line x1="{x(t - t0):.1f}" y1="{top}" x2="{x(t - t0):.1f}" y2="{top + ph}" stroke="#444" '
                   f'stroke-width="1" stroke-dasharray="6,3"/>')
        out.append(f'<text x="{x(t - t0) - 3:.1f}" y="{top + 11 + 12 * i}" fill="#444" text-anchor="end" '
                   f'font-size="10">{html.escape(label)}</text>')
    # axes and grid
    for v in yt:
        out.append(f'<line x1="{left}" y1="{y(v):.1f}" x2="{left + pw}" y2="{y(v):.1f}" stroke="#e5e5e5"/>')
        out.append(f'<text x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{fmt_tick(v)}</text>')
    for v in xt:
        out.append(f'<line x1="{x(v * 60):.1f}" y1="{top + ph}" x2="{x(v * 60):.1f}" y2="{top + ph + 4}" stroke="#333"/>')
        out.append(f'<text x="{x(v * 60):.1f}" y="{top + ph + 16}" text-anchor="middle">{fmt_tick(v)}</text>')
    out.append(f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#333"/>')
    out.append(f'<text x="{left + pw / 2}" y="{top + ph + 30}" text-anchor="middle">minutes since the simulation started</text>')
    out.append(f'<text x="16" y="{top + ph / 2}" text-anchor="middle" transform="rotate(-90 16 {top + ph / 2})">'
               f'{html.escape(ylabel)}</text>')
    # series
    for label, pts, colour, style in series:
        pts = [(t - t0, v) for t, v in pts if v is not None and xlo <= (t - t0) / 60.0 <= xhi]
        if not pts:
            continue
        if style == "dots":
            for t, v in pts:
                out.append(f'<circle cx="{x(t):.1f}" cy="{y(v):.1f}" r="2.5" fill="{colour}"/>')
            continue
        d = []
        prev = None
        for t, v in pts:
            if prev is None:
                d.append(f"M{x(t):.1f},{y(v):.1f}")
            elif style.startswith("step"):
                d.append(f"H{x(t):.1f}V{y(v):.1f}")
            else:
                d.append(f"L{x(t):.1f},{y(v):.1f}")
            prev = (t, v)
        width = 2.6 if style.endswith("bold") else 1.6
        dash = ' stroke-dasharray="5,3"' if style.endswith("dash") else ""
        out.append(f'<path d="{" ".join(d)}" fill="none" stroke="{colour}" stroke-width="{width}"{dash}/>')
    ly = top + ph + 50
    for row in legend_rows:
        lx = left
        for label, colour, kind in row:
            if kind == "line":
                out.append(f'<line x1="{lx}" y1="{ly - 4}" x2="{lx + 18}" y2="{ly - 4}" stroke="{colour}" stroke-width="2.5"/>')
            else:
                out.append(f'<line x1="{lx + 9}" y1="{ly - 11}" x2="{lx + 9}" y2="{ly + 3}" stroke="{colour}" '
                           f'stroke-width="1.5" stroke-dasharray="3,2"/>')
            out.append(f'<text x="{lx + 22}" y="{ly}">{html.escape(label)}</text>')
            lx += 30 + 6.2 * len(label)
        ly += 18
    if note:
        out.append(f'<text x="{W - right}" y="20" text-anchor="end" fill="#555">{html.escape(note)}</text>')
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def slope_per_hour(points):
    """Least-squares slope of (t_seconds, value) in units per hour."""
    pts = [(t, v) for t, v in points if v is not None]
    if len(pts) < 3:
        return None
    mt = statistics.fmean(t for t, _ in pts)
    mv = statistics.fmean(v for _, v in pts)
    den = sum((t - mt) ** 2 for t, _ in pts)
    if den == 0:
        return None
    return sum((t - mt) * (v - mv) for t, v in pts) / den * 3600


def metrics_sum(paths, name):
    """Sums a Prometheus counter by its label set over several gateways' /metrics."""
    totals = {}
    pattern = re.compile(r"^" + re.escape(name) + r"\{([^}]*)\} ([0-9.eE+-]+)$")
    for path in paths:
        with open(path) as f:
            for line in f:
                m = pattern.match(line.strip())
                if m:
                    value = float(m.group(2))
                    if value:
                        totals[m.group(1)] = totals.get(m.group(1), 0) + value
    return totals


def label(labels, key):
    m = re.search(key + r'="([^"]*)"', labels)
    return m.group(1) if m else "?"


def mmss(seconds):
    seconds = int(round(seconds))
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    return f"{sign}{seconds // 60}:{seconds % 60:02d}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--report", required=True)
    ap.add_argument("--command", default="scripts/soak.sh")
    ap.add_argument("--minutes", default="?")
    ap.add_argument("--fault-every", default="?")
    ap.add_argument("--faults", default="container,engine,gateway")
    ap.add_argument("--cut-seconds", default="5")
    ap.add_argument("--gatling-status", default="0")
    ap.add_argument("--properties", default="")
    args = ap.parse_args()
    d = args.dir

    samples = read_csv(os.path.join(d, "samples.csv"))
    client = read_csv(os.path.join(d, "client.csv"))
    faults_raw = read_csv(os.path.join(d, "faults.csv"))
    events = read_csv(os.path.join(d, "client-events.csv"))
    requests = read_csv(os.path.join(d, "gatling-requests.csv"))
    if not samples or not client:
        sys.exit("soak-report.py: no samples.csv or client.csv in " + d)

    def read_int(name):
        try:
            with open(os.path.join(d, name)) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    t0 = read_int("simulation-start") or int(samples[0]["epoch_ms"]) / 1000
    t_gatling_end = read_int("simulation-end") or int(client[-1]["epoch_ms"]) / 1000
    t_end = max(int(samples[-1]["epoch_ms"]), int(client[-1]["epoch_ms"])) / 1000
    faults = [{"start": int(f["start_ms"]) / 1000, "end": int(f["end_ms"]) / 1000, "kind": f["kind"], "detail": f["detail"]}
              for f in faults_raw]
    try:
        fault_end = t0 + float(args.minutes) * 60
    except ValueError:
        fault_end = t_gatling_end

    report = args.report
    report_dir = os.path.dirname(report) or "."
    base = os.path.splitext(os.path.basename(report))[0]
    os.makedirs(report_dir, exist_ok=True)

    def svg(name):
        return os.path.join(report_dir, f"{base}-{name}.svg"), f"{base}-{name}.svg"

    def series(rows, column, scale=1.0):
        return [(int(r["epoch_ms"]) / 1000, (num(r[column]) * scale) if num(r[column]) is not None else None) for r in rows]

    last = client[-1]
    total = {k: int(float(v)) for k, v in last.items() if k not in ("epoch_ms",) and v not in ("", None) and not k.startswith("echo_")}
    marks = [("arrivals end", fault_end), ("last user left", t_gatling_end)]

    # ---- plots
    plots = []
    t_first = int(samples[0]["epoch_ms"]) / 1000

    def chart(*a, **k):  # every plot starts at the first sample, before the simulation
        return svg_chart(*a, t_first=t_first, **k)

    p, rel = svg("fds")
    chart(p, "Gateway: open file descriptors (/proc/PID/fd)", "open fds",
              [("open fds", series(samples, "fds"), PALETTE[0], "line"),
               ("client connections open (berth_connections_open)", series(samples, "connections_open"), PALETTE[1], "line")],
              faults, t0, t_end, marks)
    plots.append(("fds", rel))
    p, rel = svg("heap")
    chart(p, "Gateway: heap after a full GC (jcmd GC.run, then GC.heap_info), once a minute", "MiB",
              [("heap used after GC", series(samples, "heap_after_gc_kb", 1 / 1024), PALETTE[0], "dots")]
              + ([("heap committed (after GC)", series(samples, "heap_committed_kb", 1 / 1024), PALETTE[6], "dots")]
                 if any(num(r.get("heap_committed_kb")) for r in samples) else []),
              faults, t0, t_end, marks)
    plots.append(("heap", rel))
    p, rel = svg("rss")
    chart(p, "Gateway: resident memory (VmRSS)", "MiB",
              [("RSS", series(samples, "rss_kb", 1 / 1024), PALETTE[4], "line")], faults, t0, t_end, marks)
    plots.append(("rss", rel))
    p, rel = svg("threads")
    chart(p, "Gateway: threads (/proc/PID/status)", "threads",
              [("threads", series(samples, "threads"), PALETTE[0], "line")], faults, t0, t_end, marks)
    plots.append(("threads", rel))
    p, rel = svg("sessions")
    chart(p, "Live sessions (GET /health) against running containers (docker ps)", "count",
              [("gateway sessions", series(samples, "sessions"), PALETTE[0], "line"),
               ("session containers running", series(samples, "session_containers"), PALETTE[2], "line"),
               ("pool containers", series(samples, "pool_containers"), PALETTE[6], "line"),
               ("users holding a session (client)", series(client, "users_active"), PALETTE[1], "line")],
              faults, t0, t_end, marks)
    plots.append(("sessions", rel))
    p, rel = svg("ko")
    chart(p, "KO count (cumulative)", "count",
              [("users that gave up", series(client, "users_gave_up"), PALETTE[3], "step-dash"),
               ("KO: failures no fault explains (client)", series(client, "ko"), PALETTE[2], "step-bold")],
              faults, t0, t_end, marks)
    plots.append(("ko", rel))
    p, rel = svg("frames")
    chart(p, "Resume clients: frames lost and duplicated (cumulative, stream level)", "frames",
              [("across a new stream: echoes repeated", series(client, "crash_app_repeat"), PALETTE[3], "step-dash"),
               ("across a new stream: echoes lost", series(client, "crash_app_lost"), PALETTE[4], "step-dash"),
               ("across a new stream: listings lost", series(client, "crash_listing_gap"), PALETTE[5], "step-dash"),
               ("duplicated", series(client, "duplicated"), PALETTE[0], "step-bold"),
               ("lost", series(client, "lost"), PALETTE[2], "step-bold")],
              faults, t0, t_end, marks)
    plots.append(("frames", rel))
    p, rel = svg("disruptions")
    chart(p, "Resume clients: what the faults did to them (cumulative)", "count",
              [("Gatling requests KO (those the faults interrupted included)", series(client, "gatling_ko"), PALETTE[6], "step"),
               ("drops", series(client, "drops"), PALETTE[0], "step"),
               ("handshakes refused 503", series(client, "refused_503"), PALETTE[1], "step"),
               ("handshakes refused (no gateway)", series(client, "connect_refused"), PALETTE[3], "step"),
               ("new streams", series(client, "new_streams"), PALETTE[4], "step"),
               ("sessions lost", series(client, "sessions_lost"), PALETTE[2], "step")],
              faults, t0, t_end, marks)
    plots.append(("disruptions", rel))
    p, rel = svg("echo")
    chart(p, "Echo round trip (message sent -> its echo), per 10 s", "ms",
              [("p50", series(client, "echo_p50_ms"), PALETTE[0], "line"),
               ("p99", series(client, "echo_p99_ms"), PALETTE[2], "line")],
              faults, t0, t_end, marks)
    plots.append(("echo", rel))

    # ---- flatness, per gateway process and over the run
    gens = {}
    for r in samples:
        g = r["gen"]
        if g:
            gens.setdefault(int(g), []).append(r)
    before = [r for r in samples if int(r["epoch_ms"]) / 1000 < t0]
    baseline_row = before[-1] if before else samples[0]
    final_row = samples[-1]

    def value(r, col):
        return num(r.get(col))

    def trend(pts):
        """Least squares v = a + b*sessions + c*t over [(t, sessions, v)]: returns (b, c per hour) or None."""
        pts = [(t, s_, v) for t, s_, v in pts if v is not None and s_ is not None]
        if len(pts) < 6:
            return None
        mt = statistics.fmean(p_[0] for p_ in pts)
        ms = statistics.fmean(p_[1] for p_ in pts)
        mv = statistics.fmean(p_[2] for p_ in pts)
        stt = sum((p_[0] - mt) ** 2 for p_ in pts)
        sss = sum((p_[1] - ms) ** 2 for p_ in pts)
        sst = sum((p_[0] - mt) * (p_[1] - ms) for p_ in pts)
        svt = sum((p_[0] - mt) * (p_[2] - mv) for p_ in pts)
        svs = sum((p_[1] - ms) * (p_[2] - mv) for p_ in pts)
        det = sss * stt - sst * sst
        if stt == 0:
            return None
        if det <= 1e-9 * max(1.0, sss * stt):  # sessions constant: time alone
            return 0.0, svt / stt * 3600
        b = (svs * stt - svt * sst) / det
        c = (svt * sss - svs * sst) / det
        return b, c * 3600

    def describe(col):
        """Per gateway process: life, first/min/max/last, and the trend at constant load over its loaded part."""
        rows_ = []
        for g, grows in sorted(gens.items()):
            pts = [(int(r["epoch_ms"]) / 1000, value(r, "sessions"), value(r, col)) for r in grows]
            vals = [(t, v) for t, _, v in pts if v is not None]
            if not vals:
                continue
            g_start = int(grows[0]["epoch_ms"]) / 1000
            loaded = [p_ for p_ in pts if max(t0, g_start + 60) <= p_[0] <= t_gatling_end]
            fit = trend(loaded)
            span = (loaded[-1][0] - loaded[0][0]) if len(loaded) > 1 else 0
            mean = statistics.fmean(v for _, v in vals)
            idle0 = None
            if fit is not None:
                lt = [p_ for p_ in loaded if p_[1] is not None and p_[2] is not None]
                mt = statistics.fmean(p_[0] for p_ in lt)
                ms = statistics.fmean(p_[1] for p_ in lt)
                mv = statistics.fmean(p_[2] for p_ in lt)
                idle0 = mv - fit[0] * ms + fit[1] / 3600 * (vals[-1][0] - mt)  # the fit at 0 sessions, at the end
            rows_.append({"gen": g, "life": (vals[-1][0] - vals[0][0]) / 60, "first": vals[0][1],
                          "min": min(v for _, v in vals), "max": max(v for _, v in vals), "last": vals[-1][1],
                          "fit": fit, "span": span, "mean": mean, "idle0": idle0})
        return rows_

    scale = {"fds": (1, ""), "threads": (1, ""), "rss_kb": (1 / 1024, " MiB"), "heap_after_gc_kb": (1 / 1024, " MiB")}

    def judge(col, tol_abs, tol_rel, end_test):
        """end_test: "baseline" (the idle end against the idle start), "fit" (the idle end against what the last
        process's fit predicts at 0 sessions), or None (trend only)."""
        rows_ = describe(col)
        rows_with = [r for r in samples if value(r, col) is not None]
        before_ = [r for r in rows_with if int(r["epoch_ms"]) / 1000 < t0]
        start = value(before_[-1] if before_ else (rows_with[0] if rows_with else baseline_row), col)
        end = value(rows_with[-1], col) if rows_with else None
        s, unit = scale[col]
        problems = []
        for r in rows_:
            if r["fit"] is None or r["span"] < 120:
                continue
            drift = r["fit"][1] * r["span"] / 3600
            if abs(drift) > max(tol_abs, tol_rel * r["mean"]):
                problems.append(f"gateway {r['gen']} drifts {drift * s:+.1f}{unit} over {r['span'] / 60:.1f} min of load "
                                f"at constant sessions")
        if end_test == "within":
            grew = [r for r in rows_ if r["first"] and (r["max"] - r["first"]) > max(tol_abs, tol_rel * r["first"])]
            if grew:
                problems.append(f"{len(grew)} of {len(rows_)} gateway processes rose by more than "
                                f"{tol_rel:.0%} from their start: " + ", ".join(
                                    f"{r['gen']}: {r['first'] * s:.0f} → {r['max'] * s:.0f}{unit}" for r in grew))
        if end is not None:
            if end_test == "fit" and rows_ and rows_[-1]["idle0"] is not None:
                expect = rows_[-1]["idle0"]
                if abs(end - expect) > max(tol_abs, tol_rel * expect):
                    problems.append(f"the idle end ({end * s:.1f}{unit}) is not what gateway {rows_[-1]['gen']}'s own fit "
                                    f"predicts at 0 sessions ({expect * s:.1f}{unit}): something stayed after the sessions ended")
            elif end_test in ("fit", "baseline") and start is not None:
                if abs(end - start) > max(tol_abs, tol_rel * start):
                    problems.append(f"the idle end ({end * s:.1f}{unit}) differs from the idle start ({start * s:.1f}{unit}) "
                                    f"by more than {max(tol_abs, tol_rel * start) * s:.1f}{unit}")
        return ("flat" if not problems else "NOT flat"), problems, rows_, start, end

    # ---- report
    lines = []
    w = lines.append
    now = datetime.datetime.fromtimestamp(t0, datetime.timezone.utc)
    commit = "?"
    try:
        with open(os.path.join(d, "commit")) as f:
            commit = f.read().strip()
    except OSError:
        try:
            commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
        except OSError:
            pass
    try:
        engine_version = subprocess.run(["docker", "version", "-f", "{{.Server.Version}}"], capture_output=True, text=True).stdout.strip()
    except OSError:
        engine_version = "?"
    description = ""
    gl = os.path.join(d, "gatling.log")
    if os.path.exists(gl):
        with open(gl, errors="replace") as f:
            for line in f:
                if "SoakSimulation against" in line:
                    description = re.sub(r"^\x1b\[[0-9;]*m|\x1b\[[0-9;]*m", "", line.strip())
                    description = description[description.index("SoakSimulation"):]
                    break

    count_by_kind = {}
    for f in faults:
        if f["detail"].startswith("skipped"):
            continue
        count_by_kind[f["kind"]] = count_by_kind.get(f["kind"], 0) + 1
    lost, dup, ko = total.get("lost", 0), total.get("duplicated", 0), total.get("ko", 0)
    verdict_ok = lost == 0 and dup == 0

    def fault_before_(t_):
        prior = [f for f in faults if f["start"] <= t_]
        if not prior:
            return "no fault before it"
        f = prior[-1]
        return f"{t_ - f['start']:.0f} s after {FAULT_STYLE.get(f['kind'], ('', f['kind']))[1]} at {mmss(f['start'] - t0)}"

    w("# Soak with faults")
    w("")
    w(f"Written by `scripts/soak.sh` for its run of {now:%Y-%m-%d %H:%M} UTC (commit {commit}); the raw CSVs and logs of the run are "
      f"in `target/soak/` (not kept in git). What the soak does and how to read it: "
      f"[loadtest/README.md](../../loadtest/README.md#the-soak-soaksh).")
    w("")
    w("| | |")
    w("|---|---|")
    w(f"| command | `{args.command.strip()}` |")
    loads = [num(r.get("loadavg")) for r in samples if num(r.get("loadavg")) is not None]
    load_text = (f"; load average (1 min) during the run {statistics.fmean(loads):.1f} on average, {max(loads):.1f} at most "
                 f"(whatever else ran on the machine included)") if loads else ""
    w(f"| machine | {os.cpu_count()} cores, Docker engine {engine_version}; the gateway, Gatling and every session's "
      f"container (128 MiB, 0.5 CPU each) on the same machine{load_text} |")
    w(f"| duration | arrivals for {mmss(fault_end - t0)} (min:s), the last user left at {mmss(t_gatling_end - t0)}, "
      f"sampled until {mmss(t_end - t0)} |")
    w(f"| load | {html.escape(description) or '?'}{' (' + args.properties + ')' if args.properties else ''} |")
    w(f"| faults | every {args.fault_every} s in turn ({args.faults}): "
      + ", ".join(f"{n} × {FAULT_STYLE.get(k, ('', k))[1]}" for k, n in count_by_kind.items()) + (" (none)" if not count_by_kind else "")
      + f"; the engine cut lasts {args.cut_seconds} s |")
    w(f"| gateway processes | {len(gens)} (each SIGKILL starts the next one on the same port and config) |")
    w("")
    w("## Verdict")
    w("")
    w(f"- **Frames lost: {lost}, duplicated: {dup}** (stream level, every gateway sequence number each resume "
      f"client received: each must be exactly the last + 1). {'Both 0, as they must be.' if verdict_ok else '**Not 0: see the events below.**'}")
    w(f"- **KO (failures no injected fault explains): {ko}.** Gatling marked {total.get('gatling_ko', 0)} requests KO in all, "
      f"the requests the faults interrupted included (a reply that a SIGKILL cut off, a handshake refused while the gateway "
      f"restarted or the engine was cut).")
    leaked = []
    cpath = os.path.join(d, "containers-end.txt")
    if os.path.exists(cpath):
        with open(cpath) as f:
            leaked = [line.split()[0] for line in f if line.strip() and "-pool-" not in line.split()[0]]
    health_end = ""
    hpath = os.path.join(d, "health-end.json")
    if os.path.exists(hpath):
        with open(hpath) as f:
            health_end = f.read().strip()
    m = re.search(r'"sessions":(\d+)', health_end)
    sessions_end = int(m.group(1)) if m else None
    w(f"- **At the end**, {t_end - t_gatling_end:.0f} s after the last user left: the gateway held "
      f"{sessions_end if sessions_end is not None else '?'} sessions and {len(leaked)} session containers were still running"
      f"{' (' + ', '.join(leaked[:5]) + ')' if leaked else ''}; "
      f"{'nothing leaked.' if not leaked and sessions_end == 0 else '**something was left behind.**'}")

    killed = {}
    for f in faults:
        if f["kind"] == "container_kill" and f["detail"].startswith("berth-"):
            killed[f["detail"].rsplit("-", 1)[-1]] = f
    lost_sessions = []
    for e in events:
        if e["kind"] == "session_lost":
            m_ = re.match(r"session (\S+) gone", e["detail"])
            if m_:
                lost_sessions.append((int(e["epoch_ms"]) / 1000, e["user"], m_.group(1)))
    by_kill = [s_ for s_ in lost_sessions if s_[2] in killed]
    not_by_kill = [s_ for s_ in lost_sessions if s_[2] not in killed]
    w(f"- **Sessions lost under their users: {len(lost_sessions)}**, {len(by_kill)} of them the sessions whose containers "
      f"the injector killed ({len(killed)} killed; a killed session whose user had just left is not seen by anyone)"
      + (f"; **{len(not_by_kill)} lost otherwise**: " + ", ".join(f"user {u} at {mmss(t_ - t0)} (session {k}, "
                                                                     f"{fault_before_(t_)})" for t_, u, k in not_by_kill[:12])
         + (" …" if len(not_by_kill) > 12 else "") + "." if not_by_kill else "; none lost otherwise."))
    w("")

    w("## Totals (the resume clients)")
    w("")
    w("| | |")
    w("|---|---|")
    rows = [
        ("users (virtual users arrived / departed normally / gave up)", f"{total.get('users_started', 0)} / {total.get('users_done', 0)} / {total.get('users_gave_up', 0)}"),
        ("sessions started (a hello with a key new to the user) / ended by their user (close 1000) / lost under the user (container killed)",
         f"{total.get('sessions_started', 0)} / {total.get('sessions_ended', 0)} / {total.get('sessions_lost', 0)}"),
        ("app messages sent / echoed", f"{total.get('messages_sent', 0):,} / {total.get('echoes', 0):,}"),
        ("gateway data messages received (hello, echoes, listings) / acks received", f"{total.get('frames_received', 0):,} / {total.get('acks_received', 0):,}"),
        ("listing updates received (the handler's feed, 1/s per session)", f"{total.get('listings', 0):,}"),
        ("handshakes: succeeded / failed (of which 503 / refused, no gateway)",
         f"{total.get('connects', 0):,} / {total.get('connect_failures', 0)} ({total.get('refused_503', 0)} / {total.get('connect_refused', 0)})"),
        ("reconnects (after a drop or a leave) / voluntary (close 1001, then back) / handovers / with a message in flight",
         f"{total.get('reconnects', 0)} / {total.get('voluntary_reconnects', 0)} / {total.get('handovers', 0)} / {total.get('midflight', 0)}"),
        ("drops (closed under the user) / of which unexplained (same stream resumed)", f"{total.get('drops', 0)} / {total.get('drops_unexplained', 0)}"),
        ("resumes on the same stream / new streams (of which a restarted gateway's, same session)",
         f"{total.get('resumes_same_stream', 0)} / {total.get('new_streams', 0)} ({total.get('restarts_seen', 0)})"),
        ("messages sent again after a resume (of which renumbered for a new stream)", f"{total.get('resent', 0)} ({total.get('renumbered', 0)})"),
        ("**frames lost / duplicated** (stream level)", f"**{lost} / {dup}**"),
        ("echoes repeated / missing on one stream; listing gaps / repeats on one stream",
         f"{total.get('app_repeat', 0)} / {total.get('app_lost', 0)}; {total.get('listing_gap', 0)} / {total.get('listing_repeat', 0)}"),
        ("across a new stream (docs: at-least-once): echoes repeated / missing; listings missing / repeated",
         f"{total.get('crash_app_repeat', 0)} / {total.get('crash_app_lost', 0)}; {total.get('crash_listing_gap', 0)} / {total.get('crash_listing_repeat', 0)}"),
        ("protocol errors; late echoes", f"{total.get('protocol_errors', 0)}; {total.get('late_echoes', 0)}"),
        ("**KO** (client) / Gatling KO", f"**{ko}** / {total.get('gatling_ko', 0)}"),
    ]
    for k, v in rows:
        w(f"| {k} | {v} |")
    w("")

    # ---- the lines
    w("## Over time")
    w("")
    w("Every plot: minutes since the simulation started (before 0: the idle gateway while Gatling starts); dashed vertical lines are faults (red: a container killed, "
      "orange band: the engine socket cut, purple band: the gateway SIGKILLed until the next one answered); "
      "black dashed: the end of arrivals and the moment the last user left. Gateway values have gaps while no gateway runs.")
    w("")

    def gen_table(rows_, s, unit, fmt="{:.0f}"):
        out = ["| gateway | life (min) | first | min | max | last | per session | trend at constant sessions |",
               "|---|---|---|---|---|---|---|---|"]
        for r in rows_:
            if r["fit"] is None:
                per, tr = "-", "-"
            else:
                per = f"{r['fit'][0] * s:.2f}{unit}"
                tr = f"{r['fit'][1] * s:+.1f}{unit}/h ({r['fit'][1] * r['span'] / 3600 * s:+.1f}{unit} over {r['span'] / 60:.1f} min)"
            out.append(f"| {r['gen']} | {r['life']:.1f} | {fmt.format(r['first'] * s)}{unit} | {fmt.format(r['min'] * s)}{unit} | "
                       f"{fmt.format(r['max'] * s)}{unit} | {fmt.format(r['last'] * s)}{unit} | {per} | {tr} |")
        return out

    def section(title, rel, col, tol_abs, tol_rel, fmt="{:.0f}", end_test=None, how="", why_flat="", why_not=""):
        verdict, problems, rows_, start, end = judge(col, tol_abs, tol_rel, end_test)
        s, unit = scale[col]
        w(f"### {title}")
        w("")
        w(f"![{title}]({rel})")
        w("")
        if start is not None and end is not None:
            w(f"**{verdict}.** Idle before the load (gateway 1): {fmt.format(start * s)}{unit}; idle at the end (gateway "
              f"{final_row['gen'] or '?'}, every user gone): {fmt.format(end * s)}{unit}. {how}")
            w("")
            for p_ in problems:
                w(f"- {p_}")
            if problems:
                w("")
            for line in gen_table(rows_, s, unit, fmt):
                w(line)
            w("")
        if why_flat and verdict == "flat":
            w(why_flat)
            w("")
        if why_not and verdict != "flat":
            w(why_not)
            w("")

    how = ("Per gateway process below: \"per session\" and \"trend\" are a least-squares fit of the value on the live "
           "sessions and time over the process's loaded part (its first minute left out); a leak is a trend at constant "
           "sessions.")
    section("Open file descriptors", plots[0][1], "fds", 10, 0.10, end_test="fit", how=how + " The idle end is "
            "compared with the last process's fit at 0 sessions (a fresh gateway before any load holds fewer: its pools "
            "and clients are not open yet).",
            why_flat="The descriptors follow the connections (a client websocket and a backend websocket per attached "
                     "session, plus the engine's connections) and come back to the idle level when the sessions end.",
            why_not="See the connections line (client websockets) and the session containers left at the end.")
    section("Heap after GC", plots[1][1], "heap_after_gc_kb", 4 * 1024, 0.25, fmt="{:.1f}", end_test="baseline", how=how,
            why_flat="Measured right after a forced full GC, so it is live data: it follows the live sessions and "
                     "returns to the idle level when they end.",
            why_not="Live data after a full GC grows at constant load, or stays higher when every session is gone: "
                    "something is retained.")
    section("Threads", plots[3][1], "threads", 6, 0.10, end_test=None, how=how + " Only the trend is judged: worker "
            "pools (engine calls, stops) start their threads when first needed, so an idle gateway after load holds more "
            "than a fresh one.",
            why_flat="The gateway's threads are event loops and bounded worker pools: they reach their plateau and stay.",
            why_not="The per-process table says whether threads grow within one process's life.")
    section("Resident memory", plots[2][1], "rss_kb", 16 * 1024, 0.20, end_test="within", how=how + " Judged "
            "by how far each process rises from its start.",
            why_not="Read it with the heap after GC: when that is flat, the rise is not retained heap data but the JVM's "
                    "own growth (committed heap, plotted with the heap when recorded; code cache; metaspace; no -Xmx is "
                    "set); whether it levels off shows in each process's maximum against its last value, and only a "
                    "process that lives long shows it for long.")

    # sessions vs containers
    w("### Live sessions against running containers")
    w("")
    w(f"![sessions]({plots[4][1]})")
    w("")
    mism = []
    for r in samples:
        s_, c_ = num(r["sessions"]), num(r["session_containers"])
        if s_ is not None and c_ is not None:
            mism.append((int(r["epoch_ms"]) / 1000, c_ - s_))
    if mism:
        worst = max(mism, key=lambda p: abs(p[1]))
        persistent = []
        run_start = None
        for t, diff in mism:
            if diff != 0:
                run_start = run_start or t
            else:
                if run_start and t - run_start >= 60:
                    persistent.append((run_start, t))
                run_start = None
        if run_start and mism[-1][0] - run_start >= 60:
            persistent.append((run_start, mism[-1][0]))
        equal = sum(1 for _, diff in mism if diff == 0)
        w(f"In {equal} of {len(mism)} samples the gateway's sessions equal the session containers running; the largest "
          f"difference (containers − sessions) is {worst[1]:+.0f} at {mmss(worst[0] - t0)}. "
          + ("No difference lasted a minute or more." if not persistent else
             "Differences that lasted a minute or more: " + ", ".join(f"{mmss(a - t0)}–{mmss(b - t0)}" for a, b in persistent) + "."))
        w("Differences of one in single samples are the sampling: /health and docker ps are read a moment apart while "
          "sessions start (a session counts before its container is made, or renamed from the pool, and the sampler "
          "counts a container by its name) and end; a container killed shows as a session until its engine event "
          "ends it; while a restarted gateway adopts the containers there is no /health to read. The users' own "
          "count (green) includes users between a drop and their reconnect.")
        w("")

    # KO
    w("### KO count")
    w("")
    w(f"![KO]({plots[5][1]})")
    w("")
    ko_events = [e for e in events if e["kind"] not in ("drop", "connect_failed", "new_stream", "restart_seen", "session_lost",
                                                        "crash_app_repeat", "crash_app_lost", "crash_listing_gap",
                                                        "crash_listing_repeat", "late_echo")]
    if ko:
        w(f"**Not flat: {ko} KO.** Each one, with the fault before it:")
        w("")
    else:
        w("**Flat at 0** for the client's own KO.")
        w("")

    def fault_before(t):
        before = [f for f in faults if f["start"] <= t]
        if not before:
            return "no fault before it"
        f = before[-1]
        return f"{t - f['start']:.1f} s after {FAULT_STYLE.get(f['kind'], ('', f['kind']))[1]} at {mmss(f['start'] - t0)}"

    if ko_events:
        w("| time | user | what | detail | fault before it |")
        w("|---|---|---|---|---|")
        for e in ko_events[:40]:
            t = int(e["epoch_ms"]) / 1000
            w(f"| {mmss(t - t0)} | {e['user']} | {e['kind']} | {html.escape(e['detail'])[:200].replace('|', '&#124;')} | {fault_before(t)} |")
        if len(ko_events) > 40:
            w(f"| … | | {len(ko_events) - 40} more in target/soak/client-events.csv | | |")
        w("")
    # Gatling KO steps vs faults
    steps = []
    prev = 0
    for r in client:
        v = num(r["gatling_ko"]) or 0
        if v > prev:
            steps.append((int(r["epoch_ms"]) / 1000, v - prev))
        prev = v
    if steps:
        far = [(t, n) for t, n in steps if not any(f["start"] - 1 <= t <= f["end"] + 60 for f in faults)]
        w(f"Gatling's own KOs (in the next plot) are mostly the requests the faults interrupted; they rose in {len(steps)} of the 10 s intervals, "
          + ("every one within a minute after a fault." if not far else
             f"{len(far)} of them not within a minute after a fault: " + ", ".join(f"{mmss(t - t0)} (+{n:.0f})" for t, n in far[:10]) + "."))
        w("")

    # frames
    w("### Frames lost and duplicated")
    w("")
    w(f"![frames]({plots[6][1]})")
    w("")
    if verdict_ok:
        w(f"**Flat at 0**: no resume client received a gateway sequence number other than the last + 1, through "
          f"{total.get('drops', 0)} drops, {total.get('reconnects', 0)} reconnects, {total.get('handovers', 0)} handovers and "
          f"{total.get('new_streams', 0)} new streams.")
    else:
        w(f"**Not flat: {lost} lost and {dup} duplicated.** The events (stream, sequence numbers) are in the KO table above.")
    w("")
    w(f"Across a new stream (a restarted gateway, or a session lost with its container) the docs promise at-least-once "
      f"for messages in flight, not exactly-once, so the app-level effects there are counted apart (dashed): "
      f"{total.get('crash_app_repeat', 0)} echoes came twice (a message sent again to the new gateway that the old one "
      f"had passed on), {total.get('crash_app_lost', 0)} never came, {total.get('crash_listing_gap', 0)} listing updates "
      f"were skipped and {total.get('crash_listing_repeat', 0)} repeated. Each, with the fault before it:")
    w("")
    crash_events = [e for e in events if e["kind"].startswith("crash_")]
    if crash_events:
        w("| time | user | what | detail | fault before it |")
        w("|---|---|---|---|---|")
        for e in crash_events[:40]:
            t_ = int(e["epoch_ms"]) / 1000
            w(f"| {mmss(t_ - t0)} | {e['user']} | {e['kind']} | {html.escape(e['detail'])[:160].replace('|', '&#124;')} | {fault_before(t_)} |")
        w("")
    w("### What the faults did to the clients")
    w("")
    w(f"![disruptions]({plots[7][1]})")
    w("")
    w(f"![echo]({plots[8][1]})")
    w("")

    # faults list
    w("## Faults injected")
    w("")
    w("| at (min:s) | took | fault | detail |")
    w("|---|---|---|---|")
    for f in faults:
        w(f"| {mmss(f['start'] - t0)} | {f['end'] - f['start']:.1f} s | {FAULT_STYLE.get(f['kind'], ('', f['kind']))[1]} | "
          f"{html.escape(f['detail'])} |")
    w("")

    # the gateway's view
    mpaths = sorted(glob.glob(os.path.join(d, "metrics-*.txt")))
    if mpaths:
        w("## The gateways' own counts")
        w("")
        w(f"Summed over the {len(mpaths)} gateway processes' `/metrics` (each read just before its SIGKILL, the last one "
          f"at the end; a process's counts start at 0).")
        w("")
        for name, key, title in [("berth_sessions_ended_total", "reason", "sessions ended, by reason"),
                                 ("berth_refusals_total", "reason", "handshakes refused, by reason"),
                                 ("berth_launches_total", "outcome", "container launches, by outcome"),
                                 ("berth_pool_claims_total", "outcome", "pool claims, by outcome")]:
            totals = metrics_sum(mpaths, name)
            if totals:
                by = {}
                for labels, v in totals.items():
                    by[label(labels, key)] = by.get(label(labels, key), 0) + v
                w(f"- {title}: " + ", ".join(f"{k} {v:.0f}" for k, v in sorted(by.items(), key=lambda kv: -kv[1])))
        w("")

    # gateway logs
    logs = sorted(glob.glob(os.path.join(d, "gateway-*.log")), key=lambda p: int(re.search(r"gateway-(\d+)", p).group(1)))
    if logs:
        w("## The gateways' logs")
        w("")
        counts = {}
        examples = {}
        for path in logs:
            with open(path, errors="replace") as f:
                for line in f:
                    m = re.match(r"^\S+ (WARNING|WARN|SEVERE|ERROR)\s+(\S+): (.*)$", line.rstrip())
                    if not m:
                        continue
                    msg = re.sub(r"\b[0-9a-f]{24}\b", "<key>", m.group(3))
                    msg = re.sub(r"\b[0-9a-f]{12,64}\b", "<id>", msg)
                    msg = re.sub(r"\d+(\.\d+)?", "N", msg)[:160]
                    k = (m.group(1), m.group(2).split(".")[-1], msg)
                    counts[k] = counts.get(k, 0) + 1
                    examples.setdefault(k, f"{os.path.basename(path)}: {line.strip()[:300]}")
        adopted = []
        for path in logs:
            with open(path, errors="replace") as f:
                for line in f:
                    if "adopted" in line and "running session" in line:
                        adopted.append(f"{os.path.basename(path)}: {line.strip()[:200]}")
        if adopted:
            w("Adoptions at start:")
            w("")
            w("```")
            for a in adopted:
                w(a)
            w("```")
            w("")
        if counts:
            w(f"WARNING and SEVERE lines, grouped (numbers and ids replaced), {sum(counts.values())} in all:")
            w("")
            w("| level | logger | message | count |")
            w("|---|---|---|---|")
            for (lvl, logger, msg), n in sorted(counts.items(), key=lambda kv: -kv[1])[:25]:
                w(f"| {lvl} | {logger} | {html.escape(msg).replace('|', '&#124;')} | {n} |")
            w("")
        else:
            w("No WARNING or SEVERE line in any gateway's log.")
            w("")

    if requests:
        w("## Gatling's requests")
        w("")
        w("Gatling's own table (`" + (open(os.path.join(d, "gatling-report-dir")).read().strip() if os.path.exists(os.path.join(d, "gatling-report-dir")) else "loadtest/target/gatling") + "`). "
          "`reply` is a message's first reply (its echo, or a listing or an ack that came first); sends are 0 ms.")
        w("")
        w("| request | total | OK | KO | p50 ms | p95 ms | p99 ms | max ms |")
        w("|---|---|---|---|---|---|---|---|")
        for r in requests:
            w(f"| {r['request']} | {r['total']} | {r['ok']} | {r['ko']} | {r['p50_ms']} | {r['p95_ms']} | {r['p99_ms']} | {r['max_ms']} |")
        w("")

    kinds = {}
    for e in events:
        kinds[e["kind"]] = kinds.get(e["kind"], 0) + 1
    if kinds:
        w("Client events by kind (target/soak/client-events.csv): " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items(), key=lambda kv: -kv[1])) + ".")
        w("")

    with open(report, "w") as f:
        f.write("\n".join(lines).rstrip() + "\n")
    print(f"soak-report.py: wrote {report} and {len(plots)} plots next to it", file=sys.stderr)
    failed = lost or dup or ko or not_by_kill or leaked or (sessions_end not in (0, None)) or args.gatling_status not in ("0", "")
    print(f"soak-report.py: lost {lost}, duplicated {dup}, KO {ko}, Gatling KO {total.get('gatling_ko', 0)}, "
          f"sessions lost not by a container kill {len(not_by_kill)}, sessions at the end {sessions_end}, "
          f"session containers left {len(leaked)}", file=sys.stderr)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
