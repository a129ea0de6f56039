#!/usr/bin/env bash
# promtool on the monitoring rules: renders the PrometheusRule the operator builds for the examples
# (financialapi-render-rules, i.e. platform::BuildChildren), then in a work directory laid out like
# monitoring/ runs `promtool check rules` on every rules file and `promtool test rules` on
# monitoring/tests/*.yaml.
#   promtool_rules.sh <financialapi-render-rules> <source dir> <work dir>
set -euo pipefail
render="$1" source_dir="$2" work="$3"
fail() { echo "FAIL: $*" >&2; exit 1; }
command -v promtool >/dev/null || fail "promtool is not on PATH (make deps installs the Debian package prometheus)"

rm -rf "${work}"
mkdir -p "${work}/prometheus" "${work}/tests"
"${render}" "${source_dir}/examples/financialapi.yaml" finance >"${work}/prometheus/financialapi-prod-rules.yaml" ||
  fail "rendering examples/financialapi.yaml"
"${render}" "${source_dir}/examples/financialapi-minimal.yaml" finance >"${work}/prometheus/financialapi-minimal-rules.yaml" ||
  fail "rendering examples/financialapi-minimal.yaml"
cp "${source_dir}/monitoring/prometheus/operator-rules.yaml" "${work}/prometheus/"
cp "${source_dir}"/monitoring/tests/*.yaml "${work}/tests/"

cd "${work}"
promtool check rules prometheus/*.yaml || fail "promtool check rules"
promtool test rules tests/*.yaml || fail "promtool test rules"
echo "promtool: $(ls prometheus | wc -l) rules files check, $(ls tests | wc -l) test files pass"
