#!/usr/bin/env python3
"""Compares two servers' answers to the same URLs as JSON (bench/api/run-api-bench.sh).

  compare.py A_NAME A_BASE B_NAME B_BASE URL... [--save-dir DIR]

For each URL prints one JSON line: {"bench":"compare","url","equal","status":{A,B},"bytes":{A,B},
"content_type":{A,B},"differences":[first 20 as "path: A=… B=…"],"difference_count"}. With --save-dir the
body A sent is written to DIR/<n>.json (n = the URL's index), for nginx to serve. Requests go without
Accept-Encoding (identity), as wrk sends them. Exits 0 even when answers differ: the caller reports it.
"""
import json
import sys
import urllib.error
import urllib.request


def fetch(url):
    request = urllib.request.Request(url, headers={"Accept-Encoding": "identity"})
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return r.status, r.headers.get("Content-Type"), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type"), e.read()
    except OSError as e:
        return 0, None, str(e).encode()


def short(v):
    s = json.dumps(v, separators=(",", ":"))
    return s if len(s) <= 80 else s[:77] + "..."


def diff(a, b, path, out, names):
    """Appends "path: what differs" for every difference of two parsed JSON values (numbers by value)."""
    na, nb = names
    if isinstance(a, dict) and isinstance(b, dict):
        for k in list(a) + [k for k in b if k not in a]:
            if k not in b:
                out.append(f"{path}.{k}: only in {na} ({short(a[k])})")
            elif k not in a:
                out.append(f"{path}.{k}: only in {nb} ({short(b[k])})")
            else:
                diff(a[k], b[k], f"{path}.{k}", out, names)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            out.append(f"{path}: {len(a)} elements in {na}, {len(b)} in {nb}")
        for i, (x, y) in enumerate(zip(a, b)):
            diff(x, y, f"{path}[{i}]", out, names)
    elif not (a == b and isinstance(a, bool) == isinstance(b, bool)):
        out.append(f"{path}: {na}={short(a)} {nb}={short(b)}")


def main(argv):
    save_dir = None
    if "--save-dir" in argv:
        i = argv.index("--save-dir")
        save_dir = argv[i + 1]
        del argv[i:i + 2]
    a_name, a_base, b_name, b_base, *urls = argv
    for n, url in enumerate(urls):
        sa, ta, ba = fetch(a_base + url)
        sb, tb, bb = fetch(b_base + url)
        differences = []
        if sa != sb:
            differences.append(f"status: {a_name}={sa} {b_name}={sb}")
        try:
            diff(json.loads(ba), json.loads(bb), "$", differences, (a_name, b_name))
        except ValueError as e:
            differences.append(f"not JSON: {e}")
        if save_dir is not None:
            with open(f"{save_dir}/{n}.json", "wb") as f:
                f.write(ba)
        print(json.dumps({"bench": "compare", "url": url, "a": a_name, "b": b_name, "equal": not differences,
                          "status": {a_name: sa, b_name: sb}, "bytes": {a_name: len(ba), b_name: len(bb)},
                          "content_type": {a_name: ta, b_name: tb}, "difference_count": len(differences),
                          "differences": differences[:20]}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
