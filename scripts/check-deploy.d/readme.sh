# Sourced by scripts/check-deploy: the README's commands, executed (doc_blocks.py builds the
# session, as for docs/deploy-eks.md): the walk-through's curls against `cargo run -p
# local-stack` as the README starts it, whose printout must be the README's, and the local
# issuer example as written (its own `cargo run ... &`). The one edit: free ports for the fixed
# ones (8080-8082, 9229, 8090), which other programs on a test machine may hold; local-stack
# gets its ports through its LOCAL_STACK_*_PORT variables. The EKS excerpt's commands must be
# the guide's, which deploy-guide.sh runs. Uses check-deploy's log/die/step, free_port, $ROOT,
# $WORK and $PY, and deploy-guide.sh's doc_block, doc_skip, expect_output and start_process.

# Before the walk-through's curls: local-stack serving, having printed what the README shows.
readme_start_local_stack() {
  LOCAL_STACK_CONSUMER_PORT=$README_PORT_8080 LOCAL_STACK_PREMIUM_PORT=$README_PORT_8081 \
    LOCAL_STACK_ISSUER_PORT=$README_PORT_8082 start_process local-stack cargo run -q -p local-stack
  local shown
  shown=$("$PY" "$ROOT/scripts/check-deploy.d/doc_blocks.py" "$ROOT/README.md" --block-after '## Walk-through' \
    | sed "s/127.0.0.1:8080/127.0.0.1:$README_PORT_8080/")
  for _ in $(seq 1 600); do
    [ "$(grep -c '^    [0-9][0-9][0-9] ' "$GUIDE_WORK/local-stack.log")" -ge 3 ] && break
    sleep 0.5
  done
  diff <(grep -e '^GET ' -e '^    [0-9]' "$GUIDE_WORK/local-stack.log") <(printf '%s\n' "$shown") >&2 \
    || die "cargo run -p local-stack does not print what the README shows (above: its output against the README's)"
  log "cargo run -p local-stack printed the README's three calls"
}

live_readme_checks() {
  step "README.md's walk-through and local issuer example, executed"
  local readme_work="$WORK/readme" rc=0 pid
  mkdir -p "$readme_work"
  local -a ports=()
  for fixed in 8080 8081 8082 9229 8090; do ports+=("$fixed=$(free_port)"); done
  local -a texts=()
  for pair in "${ports[@]}"; do texts+=(--text "127.0.0.1:${pair%=*}=>127.0.0.1:${pair#*=}"); done
  "$PY" "$ROOT/scripts/check-deploy.d/doc_blocks.py" "$ROOT/README.md" --excerpt-of "$ROOT/docs/deploy-eks.md" \
    --before 'content/unauthorized-read=readme_start_local_stack' "${texts[@]}" >"$readme_work/session.sh" \
    || die "README.md: its blocks, hooks and stand-ins do not fit"
  {
    echo "set -euo pipefail"
    echo ". \"\$ROOT/scripts/check-deploy.d/deploy-guide.sh\""
    echo ". \"\$ROOT/scripts/check-deploy.d/readme.sh\""
    echo "cd \"\$ROOT\""
    cat "$readme_work/session.sh"
  } >"$readme_work/readme.sh"
  export -f log die step free_port
  (
    export ROOT PY GUIDE_WORK="$readme_work"
    for pair in "${ports[@]}"; do export "README_PORT_${pair%=*}=${pair#*=}"; done
    touch "$readme_work/pids"
    # Its own process group: the README's `cargo run ... &` leave children that cargo does not
    # stop. timeout (DOCS_TIMEOUT seconds) signals that whole group if a step hangs.
    setsid timeout "${DOCS_TIMEOUT:-1200}" bash ${DOCS_TRACE:+-x} "$readme_work/readme.sh" &
    pid=$!
    wait "$pid" || rc=$?
    kill -TERM -- "-$pid" 2>/dev/null || true
    while read -r child; do kill "$child" 2>/dev/null || true; done <"$readme_work/pids"
    exit "$rc"
  ) || rc=$?
  [ "$rc" = 0 ] || die "README.md failed as executed (logs in $readme_work)"
  log "README.md: the walk-through and the local issuer example answer as shown; the EKS excerpt is the guide's"
}
