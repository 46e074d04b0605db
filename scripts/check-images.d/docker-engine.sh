# Sourced by scripts/check-images: a Docker engine and a BuildKit-capable client.
#
# Sets DOCKER (the client) and DOCKER_ENGINE_PID (the dockerd started here, empty when one was
# already answering); stop_docker_engine stops only what start_docker_engine started.
#
# The client: DOCKER when given, else Debian's /usr/bin/docker (its built-in BuildKit builds
# without the buildx plugin, which other clients need and no registry here offers), else `docker`.
# The engine: the one DOCKER_HOST or /var/run/docker.sock answers on; none -> Debian's docker.io
# is installed when missing and dockerd started in the background, its images, build cache and
# containers kept under DOCKER_DATA_ROOT (default ~/.cache/cognito-m2m/docker) so that a second
# run on one machine reuses the builder base and BuildKit's cache of compiled crates.

DOCKER_ENGINE_PID=""

start_docker_engine() {
  if [ -z "${DOCKER:-}" ]; then
    if [ -x /usr/bin/docker ]; then DOCKER=/usr/bin/docker; else DOCKER=docker; fi
  fi
  if "$DOCKER" info >/dev/null 2>&1; then
    log "Docker engine: answering ($("$DOCKER" version -f '{{.Server.Version}}'))"
    return 0
  fi
  if ! command -v dockerd >/dev/null && ! [ -x /usr/sbin/dockerd ]; then
    if [ "$(id -u)" -ne 0 ]; then
      log "no Docker engine answers and dockerd is not installed; as root this script installs Debian's docker.io"
      return 1
    fi
    log "apt-get install docker.io"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null
    DOCKER=/usr/bin/docker
  fi
  if [ "$(id -u)" -ne 0 ]; then
    log "no Docker engine answers, and starting dockerd needs root: start one (or set DOCKER_HOST)"
    return 1
  fi
  local data_root=${DOCKER_DATA_ROOT:-$HOME/.cache/cognito-m2m/docker}
  mkdir -p "$data_root"
  log "Docker engine: starting dockerd (data root $data_root)"
  setsid dockerd --data-root "$data_root" --pidfile "$data_root.pid" \
    >"$data_root.log" 2>&1 </dev/null &
  DOCKER_ENGINE_PID=$!
  for _ in $(seq 1 120); do
    "$DOCKER" info >/dev/null 2>&1 && return 0
    kill -0 "$DOCKER_ENGINE_PID" 2>/dev/null || break
    sleep 0.5
  done
  tail -20 "$data_root.log" >&2
  log "dockerd did not become ready (log above: $data_root.log)"
  return 1
}

stop_docker_engine() {
  [ -n "$DOCKER_ENGINE_PID" ] || return 0
  kill "$DOCKER_ENGINE_PID" 2>/dev/null || true
  for _ in $(seq 1 60); do
    kill -0 "$DOCKER_ENGINE_PID" 2>/dev/null || return 0
    sleep 0.5
  done
  kill -9 "$DOCKER_ENGINE_PID" 2>/dev/null || true
}
