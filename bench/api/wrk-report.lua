-- wrk script of bench/api/run-api-bench.sh: after the run, one line "WRK_JSON {...}" with exact
-- percentiles (wrk's own table rounds them). Latencies in ms; no request hook, so wrk keeps its fast path.
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_s":%.3f,"bytes":%d,"rps":%.1f,"mean_ms":%.3f,"p50_ms":%.3f,' ..
    '"p90_ms":%.3f,"p99_ms":%.3f,"max_ms":%.3f,"errors_connect":%d,"errors_read":%d,"errors_write":%d,' ..
    '"errors_status":%d,"errors_timeout":%d}\n',
    summary.requests, summary.duration / 1e6, summary.bytes, summary.requests / (summary.duration / 1e6),
    latency.mean / 1000, latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000,
    e.connect, e.read, e.write, e.status, e.timeout))
end
