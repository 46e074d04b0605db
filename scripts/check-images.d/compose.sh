#!/usr/bin/env bash
# compose.yaml as a user runs it: the stack up from the images check-images built (IMAGE_TAG),
# the three seed calls through the consumer's published port, then down. Uses `docker compose`
# when the client has it, else docker-compose (Debian's, installed when missing).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DOCKER=${DOCKER:-docker}
log() { printf '[check-images] %s\n' "$*" >&2; }

if "$DOCKER" compose version >/dev/null 2>&1; then
  compose=("$DOCKER" compose)
else
  if ! command -v docker-compose >/dev/null; then
    log "apt-get install docker-compose"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >/dev/null
  fi
  compose=(docker-compose)
fi

port_is_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
CONSUMER_PORT=${CONSUMER_PORT:-}
while [ -z "$CONSUMER_PORT" ] || ! port_is_free "$CONSUMER_PORT"; do
  CONSUMER_PORT=$((30000 + RANDOM % 2000))
done
export CONSUMER_PORT IMAGE_TAG=${IMAGE_TAG:-dev}
project="cognito-m2m-check-$$"
compose+=(--project-name "$project" --file "$ROOT/compose.yaml")

down() { "${compose[@]}" down --timeout 30 >/dev/null 2>&1 || true; }
trap down EXIT
"${compose[@]}" up --detach --no-build >/dev/null 2>&1 || {
  "${compose[@]}" logs >&2 || true
  log "compose.yaml: up failed"
  exit 1
}

base="http://127.0.0.1:$CONSUMER_PORT"
for _ in $(seq 1 120); do
  curl -fsS --max-time 2 "$base/readyz" >/dev/null 2>&1 && break
  sleep 0.5
done
expect() {
  local path=$1 status=$2 body=$3 got
  got=$(curl -sS --max-time 10 -o /dev/stdout -w ' %{http_code}' "$base$path")
  if [ "$got" != "$body $status" ]; then
    "${compose[@]}" logs >&2 || true
    log "compose.yaml: GET $path answered '$got', not '$body $status'"
    exit 1
  fi
  printf '  GET %-30s %s %s\n' "$path" "$status" "$body" >&2
}
expect /content/unauthorized-read 401 '{"message":"Unauthorized"}'
expect /content/authorized-read 200 '{"message":"Premium Content: OAuth Scope: Read"}'
expect /content/authorized-write 200 '{"message":"Premium Content: OAuth Scope: Write"}'
log "compose.yaml: the three seed answers"
