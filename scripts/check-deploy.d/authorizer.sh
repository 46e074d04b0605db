# Sourced by scripts/check-deploy: the chart's optional cognito-authorizer (values "authorizer"),
# as a sidecar (ci/authorizer-sidecar-values.yaml) and standalone
# (ci/authorizer-standalone-values.yaml): lint, schema validation, the wiring schemas cannot see
# (Service -> traffic port, probes on the admin port, the policy ConfigMap mounted as a folder so
# updates reach the pod, UPSTREAM_URL to the app on localhost) and refused values. Uses
# check-deploy's log/die/step, expect_reject, validate, $CHART, $WORK, $PY, $RELEASE and
# $NAMESPACE. Against the test API server: a server-side dry run of both renders. The docs
# pages' values, Ingresses and peer configurations are tested by e2e/tests/peers.rs.

static_authorizer_checks() {
  step "cognito-authorizer: sidecar and standalone renders"
  local mode
  for mode in sidecar standalone; do
    helm lint --strict "$CHART" -f "$CHART/ci/authorizer-$mode-values.yaml" >"$WORK/lint-authorizer-$mode.txt" \
      || { cat "$WORK/lint-authorizer-$mode.txt" >&2; die "helm lint (authorizer $mode)"; }
    helm template "$RELEASE" "$CHART" -n "$NAMESPACE" --kube-version 1.30.0 \
      -f "$CHART/ci/authorizer-$mode-values.yaml" >"$WORK/authorizer-$mode.yaml"
    validate "$WORK/authorizer-$mode.yaml"
  done
  "$PY" - "$WORK/authorizer-sidecar.yaml" "$WORK/authorizer-standalone.yaml" "$WORK/default.yaml" <<'PYEOF'
import sys, yaml
from urllib.parse import urlsplit
def docs(path):
    return [d for d in yaml.safe_load_all(open(path)) if d]
def authorizer(path):
    objs = [d for d in docs(path) if d["metadata"]["labels"].get("app.kubernetes.io/component") == "authorizer"]
    of = lambda kind: [d for d in objs if d["kind"] == kind]
    (cm,), (svc,), (dep,), (pdb,) = of("ConfigMap"), of("Service"), of("Deployment"), of("PodDisruptionBudget")
    return cm, svc, dep, pdb
for path, mode in ((sys.argv[1], "sidecar"), (sys.argv[2], "standalone")):
    cm, svc, dep, pdb = authorizer(path)
    pod = dep["spec"]["template"]
    labels = pod["metadata"]["labels"]
    assert all(labels.get(k) == v for k, v in svc["spec"]["selector"].items()), "Service selects the pods"
    assert all(labels.get(k) == v for k, v in pdb["spec"]["selector"]["matchLabels"].items()), "PDB selects the pods"
    # A policy change must reach the pods as a reload, never as a rollout.
    assert not any("checksum" in k for k in pod["metadata"].get("annotations", {})), pod["metadata"]
    containers = {c["name"]: c for c in pod["spec"]["containers"]}
    auth = containers["cognito-authorizer"]
    env = {e["name"]: e.get("value") for e in auth["env"]}
    ports = {p["name"]: p["containerPort"] for p in auth["ports"]}
    assert env["LISTEN_ADDR"].rsplit(":", 1)[1] == str(ports["http"]), env
    assert env["ADMIN_LISTEN_ADDR"].rsplit(":", 1)[1] == str(ports["admin"]) == "9090", env
    assert {p["name"]: p["targetPort"] for p in svc["spec"]["ports"]}["http"] == "http", svc["spec"]["ports"]
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert auth[probe]["httpGet"]["port"] == "admin", (probe, auth[probe])
    # The ConfigMap as a folder: no subPath (a subPath mount is a copy the kubelet never updates).
    (mount,) = [m for m in auth["volumeMounts"] if m["name"] == "policy"]
    assert "subPath" not in mount and mount["readOnly"], mount
    (volume,) = [v for v in pod["spec"]["volumes"] if v["name"] == "policy"]
    assert volume["configMap"]["name"] == cm["metadata"]["name"] and "items" not in volume["configMap"], volume
    folder, key = env["POLICY_FILE"].rsplit("/", 1)
    assert folder == mount["mountPath"] and key in cm["data"], (env["POLICY_FILE"], mount, list(cm["data"]))
    policy = yaml.safe_load(cm["data"][key])
    assert policy["issuers"] and policy["rules"], policy
    if mode == "sidecar":
        (app,) = [c for n, c in containers.items() if n != "cognito-authorizer"]
        url = urlsplit(env["UPSTREAM_URL"])
        assert url.hostname == "127.0.0.1" and str(url.port) in " ".join(app.get("args", [])), (url, app)
        assert app["securityContext"]["readOnlyRootFilesystem"], "the app gets the chart's container securityContext"
        # No issuers in the values: the chart's own pool.
        assert policy["issuers"] == [{"userPoolId": "us-east-1_EXAMPLE", "region": "us-east-1"}], policy
    else:
        assert list(containers) == ["cognito-authorizer"] and "UPSTREAM_URL" not in env, (list(containers), env)
        assert len(policy["issuers"]) == 2 and policy["default"] == "authenticated", policy
# Off by default: nothing of it in the default render.
assert not [d for d in docs(sys.argv[3]) if "authorizer" in d["metadata"]["name"]], "authorizer rendered by default"
print("[check-deploy] authorizer: Service -> traffic port, probes on admin, policy ConfigMap as a folder, UPSTREAM_URL on localhost", file=sys.stderr)
PYEOF
  local sidecar="$CHART/ci/authorizer-sidecar-values.yaml"
  expect_reject "a sidecar without its app" "needs authorizer.app.container" --set authorizer.enabled=true
  expect_reject "a policy refusing everything" "every request would be refused" -f "$sidecar" --set-json 'authorizer.policy.rules=[]'
  expect_reject "an app port the authorizer listens on" "is a port of the authorizer in the same pod" -f "$sidecar" --set authorizer.app.port=9090
  expect_reject "unknown authorizer mode" "/authorizer/mode" -f "$sidecar" --set authorizer.mode=gateway
  expect_reject "unknown policy key" "/authorizer/policy/rules/0" -f "$sidecar" --set 'authorizer.policy.rules[0].path=/x,authorizer.policy.rules[0].scope=a'
}

live_authorizer_checks() {
  step "cognito-authorizer: the API server takes both renders (server-side dry run)"
  # What schemas cannot judge and admission does: two containers in one pod (names, ports), the
  # ConfigMap volume, the probes on a named port of the container.
  local ns=authorizer-dry-run mode
  kubectl create namespace "$ns" >/dev/null
  for mode in sidecar standalone; do
    # Its own objects (the PDB's apiVersion follows the server: the cluster checks cover it).
    helm template "$RELEASE" "$CHART" -n "$ns" -f "$CHART/ci/authorizer-$mode-values.yaml" \
      --show-only templates/authorizer.yaml \
      | kubectl apply --dry-run=server -n "$ns" -f - >"$WORK/authorizer-dry-run-$mode.txt" \
      || { cat "$WORK/authorizer-dry-run-$mode.txt" >&2; die "server-side dry run of the authorizer ($mode)"; }
    grep -q "^deployment.apps/$RELEASE-authorizer .*(server dry run)" "$WORK/authorizer-dry-run-$mode.txt" \
      || { cat "$WORK/authorizer-dry-run-$mode.txt" >&2; die "the dry run ($mode) did not take the authorizer's Deployment"; }
  done
  kubectl delete namespace "$ns" --wait=false >/dev/null
  log "the server takes the authorizer's Deployment, Service and ConfigMap, sidecar and standalone"
}
