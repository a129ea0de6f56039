#!/usr/bin/env bash
# Copies the files the Helm chart renders from their single sources into the chart, which cannot read
# files outside its own folder: crds/ → files/crds/, monitoring/prometheus/operator-rules.yaml →
# files/monitoring/, monitoring/grafana/*.json → files/grafana/. Run it after changing any of them;
# the unit test `chart.crd-in-sync` fails while a copy differs.
#
#   hack/sync-chart-files.sh           copy
#   hack/sync-chart-files.sh --check   copy nothing; exit 1 and name the files that differ
set -euo pipefail

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CHART_FILES="${REPO_DIR}/charts/financialapi-operator/files"
# source folder | chart folder | file pattern
PAIRS=(
  "crds|crds|*.yaml"
  "monitoring/prometheus|monitoring|operator-rules.yaml"
  "monitoring/grafana|grafana|*.json"
)

check=false
case "${1:-}" in
  --check) check=true ;;
  "") ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

status=0
for pair in "${PAIRS[@]}"; do
  IFS='|' read -r source target pattern <<<"${pair}"
  source="${REPO_DIR}/${source}"
  target="${CHART_FILES}/${target}"
  if [[ "${check}" == true ]]; then
    # The same set of files, byte for byte.
    expected=$(cd "${source}" && ls ${pattern})
    present=$(cd "${target}" 2>/dev/null && ls ${pattern} 2>/dev/null || true)
    if [[ "${expected}" != "${present}" ]]; then
      echo "${target#"${REPO_DIR}/"}: files differ from ${source#"${REPO_DIR}/"} (${present:-none} vs ${expected})" >&2
      status=1
      continue
    fi
    for file in ${expected}; do
      cmp -s "${source}/${file}" "${target}/${file}" || { echo "${target#"${REPO_DIR}/"}/${file} differs from ${source#"${REPO_DIR}/"}/${file}" >&2; status=1; }
    done
  else
    mkdir -p "${target}"
    (cd "${target}" && rm -f ${pattern})
    (cd "${source}" && cp ${pattern} "${target}/")
  fi
done
if [[ "${check}" == true ]]; then
  if [[ ${status} -eq 0 ]]; then echo "chart files match crds/ and monitoring/"; else echo "run hack/sync-chart-files.sh" >&2; fi
  exit "${status}"
fi
echo "copied crds/ and monitoring/ into ${CHART_FILES#"${REPO_DIR}/"}"
