#!/usr/bin/env bash
# Runs `financial-api-server check` with the URLs of the test databases.
set -euo pipefail
server="$1" state="$2"
DATABASE_URL="$(cat "${state}/postgres-url")" REDIS_URL="$(cat "${state}/redis-url")" exec "${server}" check
