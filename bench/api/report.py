#!/usr/bin/env python3
"""Writes the markdown report of bench/api/run-api-bench.sh from its raw JSON lines alone.

  report.py RAW.jsonl REPORT.md        the whole report
  report.py RAW.jsonl - --table-only   the tables, to stdout

Each figure is the median of the rounds (with 2 rounds: their mean); the rounds are shown in brackets.
"""
import json
import statistics
import sys

SERVER_NAMES = {"cpp": "C++ `financial-api-server`", "fastapi": "FastAPI + uvicorn", "nginx": "nginx (static file)"}
GOAL_RATIO_FASTAPI, GOAL_P99_MS, GOAL_RATIO_NGINX = 5.0, 10.0, 0.5


def fmt(v, digits=0):
    if v is None:
        return "n/a"
    if digits == 0:
        return f"{v:,.0f}"
    return f"{v:,.{digits}f}"


def cell(values, digits=0):
    m = statistics.median(values)
    if len(values) == 1:
        return fmt(m, digits)
    return f"{fmt(m, digits)} ({' / '.join(fmt(v, digits) for v in values)})"


def load(path):
    lines = [json.loads(line) for line in open(path) if line.strip()]
    run = next((x for x in lines if x["bench"] == "run"), {})
    end = next((x for x in lines if x["bench"] == "end"), {})
    compares = [x for x in lines if x["bench"] == "compare"]
    runs = [x for x in lines if x["bench"] == "wrk"]
    return run, end, compares, runs


def tables(runs):
    out = []
    scenarios = sorted({(r["scenario"], r["name"], r["url"], r["cache"]) for r in runs})
    by = {}
    for r in sorted(runs, key=lambda r: r["round"]):
        by.setdefault((r["scenario"], r["server"]), []).append(r)

    out.append("| # | scenario | server | req/s | p50 ms | p99 ms | errors | server CPU µs per request "
               "| CPU s in the run: server / PostgreSQL / Redis / wrk |")
    out.append("|---|---|---|---|---|---|---|---|---|")
    for scenario, name, url, cache in scenarios:
        for server in ("cpp", "fastapi", "nginx"):
            rs = by.get((scenario, server))
            if not rs:
                continue
            errors = sum(r["errors_status"] + r["errors_connect"] + r["errors_read"] + r["errors_write"]
                         + r["errors_timeout"] for r in rs)
            cpu = " / ".join(fmt(max(0.0, statistics.median(r["cpu_s"][k] for r in rs)), 1)
                             for k in ("server", "postgres", "redis", "wrk"))
            per_request = [r["cpu_s"]["server"] * 1e6 / r["requests"] for r in rs if r["requests"]]
            bold = "**" if server == "cpp" else ""
            out.append(f"| {scenario} | {name} (`{url}`) | {SERVER_NAMES[server]} | {bold}{cell([r['rps'] for r in rs])}{bold} "
                       f"| {cell([r['p50_ms'] for r in rs], 2)} | {cell([r['p99_ms'] for r in rs], 2)} | {errors} "
                       f"| {cell(per_request) if per_request else 'n/a'} | {cpu} |")
    out.append("")
    out.append("| # | scenario | C++ / FastAPI req/s | C++ / nginx req/s | C++ p99 ms | goal: ≥ 5× FastAPI, p99 < 10 ms, ≥ ½ nginx |")
    out.append("|---|---|---|---|---|---|")
    for scenario, name, url, cache in scenarios:
        med = {s: statistics.median(r["rps"] for r in by[(scenario, s)]) for s in ("cpp", "fastapi", "nginx")
               if (scenario, s) in by}
        cpp = med.get("cpp")
        vs_fastapi = cpp / med["fastapi"] if cpp and med.get("fastapi") else None
        vs_nginx = cpp / med["nginx"] if cpp and med.get("nginx") else None
        p99 = statistics.median(r["p99_ms"] for r in by[(scenario, "cpp")]) if cpp else None
        if cpp is None:
            goal = "n/a (no C++ server)"
        elif cache != "cached":
            goal = "(uncached: no goal; for reading)"
        else:
            misses = []
            if vs_fastapi is not None and vs_fastapi < GOAL_RATIO_FASTAPI:
                misses.append(f"{vs_fastapi:.1f}× FastAPI")
            if p99 is not None and p99 >= GOAL_P99_MS:
                misses.append(f"p99 {p99:.1f} ms")
            if vs_nginx is not None and vs_nginx < GOAL_RATIO_NGINX:
                misses.append(f"{vs_nginx:.2f}× nginx")
            goal = "met" if not misses else "**not met**: " + ", ".join(misses)
        out.append(f"| {scenario} | {name} | {fmt(vs_fastapi, 2)}× | {fmt(vs_nginx, 2)}{'×' if vs_nginx else ''} "
                   f"| {fmt(p99, 2)} | {goal} |")
    return out


def report(run, end, compares, runs):
    out = [f"# API server benchmark: C++ vs FastAPI vs nginx — {run.get('date', '?')[:10]}", "",
           "Raw results: the `.jsonl` file of the same name (one line per wrk run, with its output). Produced by",
           "`make bench-api` (`bench/api/run-api-bench.sh`); see `docs/benchmarks.md` for what the numbers mean.",
           "Rewrite this file from the raw lines: `bench/api/run-api-bench.sh report bench/results/api-<date>.jsonl`.",
           "", "## Machine and software", "", "| | |", "|---|---|"]
    rows = [
        ("date (UTC)", run.get("date")), ("CPUs (nproc)", run.get("nproc")), ("CPU model", run.get("cpu_model")),
        ("memory", run.get("memory")), ("kernel", run.get("kernel")),
        ("load average (1/5/15 min) before / after", f"{run.get('load_before')} / {end.get('end_load', 'n/a')}"),
        ("commit", f"{run.get('commit')} (\"+changes\": api-server/ or bench/api/ differed from it)"),
        ("C++ server", f"{run.get('api_server')} ({run.get('build_type', '?')} build), WORKER_THREADS={run.get('worker_threads')} "
                       "(DB_POOL_SIZE = WORKER_THREADS), RATE_LIMIT_RPS=0, LOG_LEVEL=warn, Redis database 0"),
        ("FastAPI peer", f"{run.get('python')}; {run.get('packages')}; uvicorn --workers {run.get('fastapi_workers')} "
                         "--loop uvloop --http httptools --no-access-log; asyncpg pool ≤ 10 per worker; Redis database 1"),
        ("nginx", f"{run.get('nginx')}, worker_processes {run.get('fastapi_workers')}, access_log off, sendfile, "
                  "open_file_cache, keepalive_requests 1000000"),
        ("PostgreSQL / Redis", f"{run.get('postgres')} / {run.get('redis')} (hack/local-databases, loopback)"),
        ("load generator", f"wrk {run.get('wrk')}: -t{run.get('wrk_threads')} -c{run.get('connections')} "
                           f"-d{run.get('duration_s')}s --latency after a {run.get('warmup_s')} s warm-up; "
                           f"{run.get('rounds')} rounds, servers in alternating order"),
        ("cache", f"CACHE_TTL_SECONDS={run.get('cache_ttl')} for scenarios 1-3, 0 for scenario 4 (both servers)"),
        ("data", f"data/sec, loaded in {run.get('load_seconds')} s"),
        ("whole run", f"{end.get('seconds', 'n/a')} s"),
    ]
    out += [f"| {k} | {v} |" for k, v in rows]
    out += ["", "## Results", "",
            "Median of the rounds (each round in brackets). Everything — wrk, the servers, PostgreSQL, Redis — on the",
            "same CPUs: a load average above the number of CPUs means other work competed for them. CPU s: CPU-seconds",
            "each used during the measured run (server = the process and its workers); server CPU µs per request is",
            "the server's CPU-seconds over the requests wrk completed, the figure least moved by other work.", ""]
    out += tables(runs)
    out += ["", "## Do the answers agree?", "",
            "Before measuring, each URL was fetched from both servers and compared as JSON (numbers by value).", ""]
    for c in compares:
        sizes = ", ".join(f"{k} {v:,} B" for k, v in c["bytes"].items())
        if c["equal"]:
            out.append(f"- {c['a']} vs {c['b']} `{c['url']}`: equal ({sizes})")
        else:
            out.append(f"- {c['a']} vs {c['b']} `{c['url']}`: **{c['difference_count']} differences** ({sizes}; "
                       f"status {c['status']})")
            out += [f"  - `{d}`" for d in c["differences"]]
            if c["difference_count"] > len(c["differences"]):
                out.append(f"  - … and {c['difference_count'] - len(c['differences'])} more")
    out += ["", "## Raw wrk output", ""]
    for r in sorted(runs, key=lambda r: (r["scenario"], r["round"])):
        out += [f"### Scenario {r['scenario']}, {SERVER_NAMES[r['server']]}, round {r['round']}", "",
                "```", f"$ {r['command']}", r["output"].rstrip(), "```", ""]
    return out


def main(argv):
    raw, dest, *flags = argv
    run, end, compares, runs = load(raw)
    lines = tables(runs) if "--table-only" in flags else report(run, end, compares, runs)
    text = "\n".join(lines) + "\n"
    if dest == "-":
        sys.stdout.write(text)
    else:
        with open(dest, "w") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
