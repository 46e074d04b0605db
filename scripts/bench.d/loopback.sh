# Sourced by the bench-* scripts: loopback ports, readiness, wrk runs and their figures.
# Expects $work (a scratch directory) to exist.

# A free loopback port (the kernel's pick; free again once python exits).
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits up to 10 s for `url` to answer 200; otherwise prints `log` and exits.
wait_ready() { # url, log
    for _ in $(seq 100); do
        [ "$(curl -s -o /dev/null -w '%{http_code}' "$1")" = 200 ] && return 0
        sleep 0.1
    done
    echo "$1 never became ready" >&2
    cat "$2" >&2
    exit 1
}

# Runs wrk (THREADS threads, DURATION) with `connections` connections against `url`, prints one
# line of figures and sets ${key}_rps, ${key}_p50 and ${key}_p99 (wrk's units, see to_us). Any
# non-2xx answer or socket error ends the script: a figure of refusals measures nothing.
wrk_run() { # key, label, connections, url, [wrk args]
    local key=$1 name=$2 conns=$3 url=$4 out="$work/$1.wrk"
    shift 4
    wrk -t"$THREADS" -c"$conns" -d"$DURATION" --latency "$@" "$url" >"$out"
    if grep -qE 'Non-2xx|Socket errors' "$out"; then
        echo "$name: non-2xx answers or socket errors:" >&2
        cat "$out" >&2
        exit 1
    fi
    local rps p50 p99
    rps=$(awk '/^Requests\/sec:/ {print $2}' "$out")
    p50=$(awk '$1 == "50%" {print $2}' "$out")
    p99=$(awk '$1 == "99%" {print $2}' "$out")
    printf '%-36s %10s req/s   p50 %8s   p99 %8s\n' "$name" "$rps" "$p50" "$p99"
    printf -v "${key}_rps" '%s' "$rps"
    printf -v "${key}_p50" '%s' "$p50"
    printf -v "${key}_p99" '%s' "$p99"
}

# A wrk latency with its unit (us, ms, s) in microseconds.
to_us() {
    awk -v v="$1" 'BEGIN { n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
        if (u == "us") print n; else if (u == "ms") print n * 1000; else print n * 1000000 }'
}

# Peak resident set size (VmHWM) of process `pid`, in KiB.
peak_rss_kib() {
    awk '/^VmHWM:/ {print $2}' "/proc/$1/status"
}
