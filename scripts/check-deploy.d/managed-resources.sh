# Sourced by scripts/check-deploy: the managed Cognito resources (CognitoResourceServer, and
# CognitoClient with source.managed) in the chart, in k8s/ and on a real API server: the values
# that create them render to valid, consistent objects, contradictory values are refused, the
# server validates the examples against the CRDs, and `kubectl explain` / `kubectl get` show
# the CRDs' descriptions and printer columns. Uses check-deploy's log/die/step, expect_reject,
# validate, $CHART, $ROOT, $WORK, $PY, $RELEASE and $NAMESPACE.

MANAGED_VALUES="$CHART/ci/managed-values.yaml"

# --- Without a cluster -----------------------------------------------------------------------

static_managed_resource_checks() {
  step "managed Cognito resources: ci/managed-values.yaml renders a consistent stack"
  helm lint --strict "$CHART" -f "$MANAGED_VALUES" >"$WORK/lint-managed.txt" \
    || { cat "$WORK/lint-managed.txt" >&2; die "helm lint (managed values)"; }
  helm template "$RELEASE" "$CHART" -n "$NAMESPACE" --kube-version 1.30.0 -f "$MANAGED_VALUES" >"$WORK/managed.yaml"
  validate "$WORK/managed.yaml"
  "$PY" - "$WORK/managed.yaml" "$WORK/default.yaml" <<'PYEOF'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
of = lambda kind: [d for d in docs if d["kind"] == kind]
(rs,), (cc,) = of("CognitoResourceServer"), of("CognitoClient")
deployments = {d["metadata"]["name"]: d for d in of("Deployment")}
env = lambda part: {e["name"]: e.get("value") for e in next(
    d for n, d in deployments.items() if n.endswith(part))["spec"]["template"]["spec"]["containers"][0]["env"]}
premium, operator = env("premium-content"), env("operator")
spec = rs["spec"]
# The resource server premium-content's scopes belong to: same identifier, its scopes defined.
assert spec["identifier"] == premium["RESOURCE_SERVER"] == "premium_api", (spec, premium)
defined = {f"{spec['identifier']}/{s['name']}" for s in spec["scopes"]}
assert {"premium_api/read", "premium_api/write"} <= defined, defined
assert spec["deletionPolicy"] == "Retain" and rs["metadata"]["annotations"] == {"cognito-m2m.dev/adopt": "true"}, rs
# content-consumer's managed client: both scopes, of that resource server, into the mounted Secret.
m = cc["spec"]["source"]
assert set(m) == {"managed"}, f"managed client carries another source too: {m}"
assert cc["spec"]["scopes"] == ["premium_api/read", "premium_api/write"] and set(cc["spec"]["scopes"]) <= defined, cc["spec"]
assert cc["spec"]["tokenEndpoint"].endswith("/oauth2/token"), cc["spec"]
assert m["managed"] == {"clientName": "content-consumer", "accessTokenValidity": "30m", "deletionPolicy": "Delete",
                        "secretRotation": {"interval": "720h", "overlap": "15m"}}, m
consumer = next(d for n, d in deployments.items() if n.endswith("content-consumer"))
(volume,) = [v for v in consumer["spec"]["template"]["spec"]["volumes"] if v["name"] == "credentials"]
assert volume["secret"]["secretName"] == cc["spec"]["target"]["secretName"] == "premium-consumer-credentials", volume
assert operator["COGNITO_API_RATE_LIMIT"] == "5", operator
# Off by default: no resource server, a Secrets Manager client, the operator's default rate.
default = [d for d in yaml.safe_load_all(open(sys.argv[2])) if d]
assert not [d for d in default if d["kind"] == "CognitoResourceServer"], "a CognitoResourceServer by default"
(dcc,) = [d for d in default if d["kind"] == "CognitoClient"]
assert set(dcc["spec"]["source"]) == {"secretsManager"}, dcc["spec"]["source"]
(dop,) = [d for d in default if d["kind"] == "Deployment" and d["metadata"]["name"].endswith("operator")]
assert {"name": "COGNITO_API_RATE_LIMIT", "value": "10"} in dop["spec"]["template"]["spec"]["containers"][0]["env"]
print("[check-deploy] managed stack: premium_api (read, write, admin) + content-consumer's managed client "
      "with both scopes into the mounted Secret; defaults unchanged", file=sys.stderr)
PYEOF

  step "managed Cognito resources: contradictory or invalid values are refused"
  local managed="cognitoClient.source.managed.enabled=true"
  local endpoint="cognitoClient.tokenEndpoint=https://d.auth.us-east-1.amazoncognito.com/oauth2/token"
  expect_reject "managed beside the default Secrets Manager source" "not both secretsManager.secretId and managed.enabled" --set "$managed"
  expect_reject "managed without a token endpoint" "managed needs cognitoClient.tokenEndpoint" \
    --set "$managed,cognitoClient.source.secretsManager.secretId="
  expect_reject "unknown deletionPolicy (client)" "/cognitoClient/source/managed/deletionPolicy" \
    --set "$managed,cognitoClient.source.secretsManager.secretId=,$endpoint,cognitoClient.source.managed.deletionPolicy=Keep"
  expect_reject "unknown deletionPolicy (resource server)" "/cognitoResourceServer/deletionPolicy" \
    --set cognitoResourceServer.create=true,cognitoResourceServer.deletionPolicy=delete
  expect_reject "accessTokenValidity not a duration" "/cognitoClient/source/managed/accessTokenValidity" \
    --set cognitoClient.source.managed.accessTokenValidity=one-hour
  expect_reject "accessTokenValidity off whole minutes" "/cognitoClient/source/managed/accessTokenValidity" \
    --set cognitoClient.source.managed.accessTokenValidity=90s
  expect_reject "accessTokenValidity beyond Cognito's 24h" "outside Cognito's limits" \
    --set "$managed,cognitoClient.source.secretsManager.secretId=,$endpoint,cognitoClient.source.managed.accessTokenValidity=25h"
  expect_reject "rotation interval not a duration" "/cognitoClient/source/managed/secretRotation/interval" \
    --set cognitoClient.source.managed.secretRotation.interval=monthly
  expect_reject "a read scope the resource server does not define" "cognito.readScope is other/read, which cognitoResourceServer does not define" \
    --set cognitoResourceServer.create=true,cognito.readScope=other/read
  expect_reject "the write scope dropped from the resource server" "cognito.writeScope is premium_api/write" \
    --set cognitoResourceServer.create=true --set-json 'cognitoResourceServer.scopes=[{"name":"read"}]'
  expect_reject "a managed client asking for a scope the resource server lacks" "cognitoClient.scopes asks for premium_api/admin" \
    -f "$MANAGED_VALUES" --set 'cognitoClient.scopes={premium_api/read,premium_api/admin}' --set-json 'cognitoResourceServer.scopes=[{"name":"read"},{"name":"write"}]'
  expect_reject "a scope named twice" 'names "read" twice' \
    --set cognitoResourceServer.create=true --set-json 'cognitoResourceServer.scopes=[{"name":"read"},{"name":"read"},{"name":"write"}]'
  expect_reject "a scope name with '/'" "/cognitoResourceServer/scopes/0/name" \
    --set cognitoResourceServer.create=true --set-json 'cognitoResourceServer.scopes=[{"name":"a/b"}]'
  expect_reject "a negative Cognito API rate" "/operator/cognitoApiRateLimit" --set operator.cognitoApiRateLimit=-1
}

# --- Against the test API server ---------------------------------------------------------------

# The description of a field (dotted path from the kind, e.g. spec.source.managed) and the names
# of its fields, read from k8s/crd.yaml: what `kubectl explain` must print.
crd_field() {  # crd_field PLURAL PATH -> JSON {"description": ..., "fields": [...], "nullable": [...]}
  "$PY" - "$ROOT/k8s/crd.yaml" "$1" "$2" <<'PYEOF'
import json, sys, yaml
crds = {d["spec"]["names"]["plural"]: d for d in yaml.safe_load_all(open(sys.argv[1])) if d}
node = crds[sys.argv[2]]["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
nullable = []   # ancestors (and the field) marked nullable: true
walked = []
for part in sys.argv[3].split("."):
    node = node["properties"][part]
    walked.append(part)
    if node.get("items"):
        node = {**node["items"], "description": node.get("description", "")}
    if node.get("nullable"):
        nullable.append(".".join(walked))
print(json.dumps({"description": node.get("description", ""), "fields": sorted(node.get("properties", {})), "nullable": nullable}))
PYEOF
}

expect_explain() {  # expect_explain PLURAL PATH: kubectl explain prints the field's description and fields
  local plural=$1 path=$2 want out
  want=$(crd_field "$plural" "$path")
  out=$(kubectl explain "$plural.$path" 2>&1) || { echo "$out" >&2; die "kubectl explain $plural.$path failed"; }
  "$PY" - "$want" "$out" "$plural.$path" <<'PYEOF' || die "kubectl explain $plural.$path does not show the CRD's description and fields"
import json, re, sys
want, out, what = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3]
flat = lambda s: " ".join(s.split())
problems = []
if not want["description"]:
    problems.append("the CRD has no description for it (a doc comment missing in the Rust type)")
elif flat(want["description"]) not in flat(out):
    problems.append(f"description {want['description']!r} not printed")
shown = set(re.findall(r"^   (\w+)\t", out, re.M))
if set(want["fields"]) - shown:
    problems.append(f"fields {sorted(set(want['fields']) - shown)} not listed (listed: {sorted(shown)})")
if problems:
    print(out, file=sys.stderr)
    for p in problems:
        print(f"[check-deploy] kubectl explain {what}: {p}", file=sys.stderr)
    if want["nullable"]:
        print(f"[check-deploy] cause: k8s/crd.yaml marks {', '.join(want['nullable'])} nullable: true; an API server before "
              "OpenAPI v3 (this one) publishes a nullable field without its type or properties, so kubectl explain "
              "cannot descend into it: generate the CRD schema without nullable", file=sys.stderr)
    sys.exit(1)
print(f"[check-deploy] kubectl explain {what}: description and fields {want['fields']} shown", file=sys.stderr)
PYEOF
}

live_managed_resource_checks() {
  local ns=managed-check
  kubectl delete namespace "$ns" --wait=true --ignore-not-found >/dev/null
  kubectl create namespace "$ns" >/dev/null

  step "the API server validates the managed kinds against the CRDs"
  kubectl apply -n "$ns" -f "$ROOT/k8s/examples/example-cognitoresourceserver.yaml" -f "$ROOT/k8s/examples/example-cognitoclient-managed.yaml" >&2 \
    || die "the server refused the k8s/ examples of the managed kinds"
  local bad
  for bad in 's/deletionPolicy: Delete/deletionPolicy: Keep/' 's/^  identifier: .*//' 's/    - name: read/    - description: no name/'; do
    if sed "$bad" "$ROOT/k8s/examples/example-cognitoresourceserver.yaml" | kubectl apply --dry-run=server -n "$ns" -f - >/dev/null 2>"$WORK/refused.txt"; then
      die "the server accepted a CognitoResourceServer edited with $bad"
    fi
    log "refused by the CRD schema ($bad): $(grep -o 'spec[^ ]*: [^,]*' "$WORK/refused.txt" | head -1)"
  done
  if sed 's/deletionPolicy: Delete/deletionPolicy: retain/' "$ROOT/k8s/examples/example-cognitoclient-managed.yaml" \
      | kubectl apply --dry-run=server -n "$ns" -f - >/dev/null 2>&1; then
    die "the server accepted a managed CognitoClient with deletionPolicy: retain"
  fi

  step "kubectl get cogrs / cogc: the printer columns"
  # No operator runs here: write the status the operator would, then read the columns.
  local now; now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  local ready="{\"type\":\"Ready\",\"status\":\"True\",\"reason\":\"Synced\",\"message\":\"in sync\",\"lastTransitionTime\":\"$now\"}"
  kubectl patch cogrs premium-api -n "$ns" --subresource=status --type=merge \
    -p "{\"status\":{\"scopes\":[\"premium_api/read\",\"premium_api/write\"],\"conditions\":[$ready]}}" >/dev/null \
    || die "status patch of the CognitoResourceServer"
  kubectl patch cogc content-consumer -n "$ns" --subresource=status --type=merge \
    -p "{\"status\":{\"clientId\":\"1example23456789\",\"secretName\":\"premium-consumer-credentials\",\"lastSyncTime\":\"$now\",\"conditions\":[$ready]}}" >/dev/null \
    || die "status patch of the CognitoClient"
  kubectl get cogrs -n "$ns" -o wide >"$WORK/get-cogrs.txt"
  kubectl get cogc -n "$ns" >"$WORK/get-cogc.txt"
  "$PY" - "$WORK/get-cogrs.txt" "$WORK/get-cogc.txt" <<'PYEOF'
import re, sys
def table(path):
    # kubectl pads columns with at least three spaces; a header may hold one ("LAST SYNC").
    header, *rows = [re.split(r"\s{2,}", line.strip()) for line in open(path).read().splitlines()]
    assert len(rows) == 1 and len(rows[0]) == len(header), (header, rows)
    return dict(zip(header, rows[0]))
rs, cc = table(sys.argv[1]), table(sys.argv[2])
assert list(rs) == ["NAME", "READY", "IDENTIFIER", "POOL", "REASON", "AGE"], rs
assert (rs["NAME"], rs["READY"], rs["IDENTIFIER"], rs["POOL"], rs["REASON"]) == \
    ("premium-api", "True", "premium_api", "us-east-1_AbCdEf123", "Synced"), rs
assert list(cc) == ["NAME", "READY", "SECRET", "CLIENT", "LAST SYNC", "AGE"], cc
assert (cc["NAME"], cc["READY"], cc["SECRET"], cc["CLIENT"]) == \
    ("content-consumer", "True", "premium-consumer-credentials", "1example23456789"), cc
assert re.fullmatch(r"\d+s", cc["LAST SYNC"]), cc
print(f"[check-deploy] kubectl get cogrs -o wide: {rs}", file=sys.stderr)
print(f"[check-deploy] kubectl get cogc: {cc}", file=sys.stderr)
PYEOF
  kubectl get cogrs -n "$ns" | grep -q REASON && die "REASON is a wide column (priority 1) but kubectl get shows it"

  kubectl delete -n "$ns" -f "$ROOT/k8s/examples/example-cognitoresourceserver.yaml" -f "$ROOT/k8s/examples/example-cognitoclient-managed.yaml" --wait=true >/dev/null

  step "helm install with ci/managed-values.yaml: the server takes the chart's managed resources"
  helm install managed "$CHART" -n "$ns" -f "$MANAGED_VALUES" >/dev/null 2>"$WORK/install-managed.txt" \
    || { cat "$WORK/install-managed.txt" >&2; die "helm install (managed values)"; }
  [ "$(kubectl get cogrs premium-api -n "$ns" -o jsonpath='{.spec.identifier} {.spec.deletionPolicy}')" = "premium_api Retain" ] \
    || die "the chart's CognitoResourceServer is not premium_api with Retain"
  [ "$(kubectl get cogc content-consumer -n "$ns" -o jsonpath='{.spec.source.managed.secretRotation.interval}')" = 720h ] \
    || die "the chart's managed CognitoClient lost its rotation"
  helm uninstall managed -n "$ns" --wait --timeout 60s >/dev/null
  kubectl get cogrs premium-api -n "$ns" >/dev/null 2>&1 && die "helm uninstall left the CognitoResourceServer"
  log "installed and uninstalled: CognitoResourceServer premium-api, managed CognitoClient content-consumer"

  step "kubectl explain shows the managed kinds' field descriptions"
  expect_explain cognitoresourceservers spec.scopes
  expect_explain cognitoresourceservers spec.deletionPolicy
  expect_explain cognitoclients spec.source.managed
  expect_explain cognitoclients spec.source.managed.secretRotation
  kubectl delete namespace "$ns" --wait=false >/dev/null
}
