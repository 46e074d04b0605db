# Sourced by scripts/check-deploy: docs/deploy-eks.md, executed. Its shell blocks run in order,
# as written, in one bash session (scripts/check-deploy.d/doc_blocks.py builds it), against
# stand-ins for what cannot run here:
#   - AWS (IAM, STS, ECR, EKS, Secrets Manager): moto_server, through AWS_ENDPOINT_URL; the EKS
#     cluster the guide takes as given is created in moto first;
#   - Cognito: local-cognito's admin API (AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER), which
#     refuses what Cognito refuses where moto accepts it (domain prefixes, scopes, client
#     settings), and its token endpoint;
#   - EKS: the test API server; pods cannot run here (no kubelet), so the operator (two replicas,
#     one Lease), premium-content and content-consumer run as processes with the environment
#     their Deployments give, the consumer reading the operator's Secret from a folder;
#   - the ALB: alb_standin.py, routing the Ingress's paths to those processes.
# The only edits to the guide's commands: the ALB's host name and, once the guide has built
# Cognito's, the token endpoint become local addresses. After each step the hooks below check
# what the guide says it shows. Uses check-deploy's log/die/step, free_port, $ROOT, $WORK, $PY,
# $OPERATOR_BIN and cargo_bin.

GUIDE_DOC="docs/deploy-eks.md"

# --- In the guide's session (a child bash; functions exported by live_deploy_guide_checks) -----

doc_block() { printf '\n[check-deploy] --- %s (%s)\n' "$1" "$2" >&2; }
doc_skip() { printf '\n[check-deploy] --- %s skipped, %s\n' "$1" "$2" >&2; }

# expect_output EXPECTED COMMAND...: runs the command, prints its output as the reader sees it,
# and fails unless every line of EXPECTED is a line of that output.
expect_output() {
  local expected=$1 output line
  shift
  output=$("$@")
  printf '%s\n' "$output"
  while IFS= read -r line; do
    tr -d '\r' <<<"$output" | grep -qxiF -- "$line" || die "expected the line '$line' in the output of: $*"
  done <<<"$expected"
}

# start_process NAME COMMAND...: in the background, logged to $GUIDE_WORK/NAME.log, stopped
# after the session.
start_process() {
  local name=$1
  shift
  "$@" >"$GUIDE_WORK/$name.log" 2>&1 &
  echo $! >>"$GUIDE_WORK/pids"
}

wait_for_url() {  # wait_for_url URL NAME
  for _ in $(seq 1 240); do
    curl -sf -o /dev/null "$1" && return 0
    sleep 0.25
  done
  tail -20 "$GUIDE_WORK/$2.log" >&2
  die "$2 did not answer $1"
}

# The environment of the Deployment's pod (pod_env.py), then the stand-in's overrides (KEY=VALUE
# each; an empty value removes the variable).
deployment_env() {  # deployment_env DEPLOYMENT POD_NAME [KEY=VALUE...]
  local deployment=$1 pod=$2
  shift 2
  kubectl -n "$NAMESPACE" get deployment "$deployment" -o json | "$PY" "$ROOT/scripts/check-deploy.d/pod_env.py" "$pod" \
    | "$PY" -c 'import sys
env = dict(l.rstrip("\n").split("=", 1) for l in sys.stdin)
for o in sys.argv[1:]:
    k, v = o.split("=", 1)
    env.pop(k, None) if v == "" else env.__setitem__(k, v)
print("\n".join(f"{k}={v}" for k, v in env.items()))' "$@"
}

# run_pod NAME DEPLOYMENT BINARY [KEY=VALUE...]: the binary as the Deployment's pod NAME would
# run it, with nothing of this shell's environment but PATH and HOME, then the overrides.
run_pod() {
  local name=$1 deployment=$2 binary=$3 env
  shift 3
  mapfile -t env < <(deployment_env "$deployment" "$name" "$@")
  start_process "$name" env -i PATH="$PATH" HOME="$HOME" "${env[@]}" "$binary"
}

alternative_env() {
  # An alternative path runs against a user pool of its own (a second local-cognito with the
  # same pool id), so the main path's resource server and app client stay as they are.
  export AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER=$GUIDE_SIDE_COGNITO
  log "alternative path: Cognito is the second local-cognito ($GUIDE_SIDE_COGNITO)"
}

guide_after_variables() {
  [[ $ACCOUNT_ID =~ ^[0-9]{12}$ ]] || die "ACCOUNT_ID is '$ACCOUNT_ID', not an account id"
  log "ACCOUNT_ID $ACCOUNT_ID (moto's)"
}

guide_after_repositories() {
  local repos
  repos=$(aws ecr describe-repositories --query 'repositories[].repositoryUri' --output text | tr '\t' '\n' | sort | tr '\n' ' ')
  [ "$repos" = "$REGISTRY/cognito-m2m/cognito-client-operator $REGISTRY/cognito-m2m/content-consumer $REGISTRY/cognito-m2m/premium-content " ] \
    || die "ECR repositories: $repos"
  log "three ECR repositories under $REGISTRY"
}

guide_after_user_pool() {
  [ "$POOL_ID" = "$GUIDE_POOL_ID" ] || die "POOL_ID is '$POOL_ID'"
  [ "$(aws cognito-idp describe-user-pool-domain --domain "$DOMAIN_PREFIX" --query DomainDescription.UserPoolId --output text)" = "$POOL_ID" ] \
    || die "the domain $DOMAIN_PREFIX is not the pool's"
  [ "$TOKEN_ENDPOINT" = "https://$DOMAIN_PREFIX.auth.$AWS_REGION.amazoncognito.com/oauth2/token" ] \
    || die "TOKEN_ENDPOINT is '$TOKEN_ENDPOINT'"
  log "user pool $POOL_ID, domain $DOMAIN_PREFIX accepted by Cognito's rules; token endpoint $TOKEN_ENDPOINT"
  export TOKEN_ENDPOINT="$GUIDE_COGNITO/oauth2/token"
  log "stand-in: TOKEN_ENDPOINT=$TOKEN_ENDPOINT (local-cognito's token endpoint)"
}

guide_after_iam() {
  local version document
  version=$(aws iam get-policy --policy-arn "$POLICY_ARN" --query Policy.DefaultVersionId --output text)
  document=$(aws iam get-policy-version --policy-arn "$POLICY_ARN" --version-id "$version" --query PolicyVersion.Document --output json)
  "$PY" - "$document" "$POOL_ID" "$(aws iam get-role --role-name cognito-client-operator --query Role.AssumeRolePolicyDocument --output json)" "$NAMESPACE" <<'PYEOF' || die "the operator's IAM policy or trust policy"
import json, sys, urllib.parse
doc = sys.argv[1]
doc = json.loads(json.loads(doc) if doc.startswith('"') else doc)
if isinstance(doc, str):
    doc = json.loads(urllib.parse.unquote(doc))
sids = {s["Sid"]: s for s in doc["Statement"]}
assert set(sids) == {"ManageResourceServersAndAppClientsOfOnePool", "ReadClientSecretsFromSecretsManager",
                     "DecryptThoseSecretsWithACustomerManagedKey"}, sorted(sids)
assert sids["ManageResourceServersAndAppClientsOfOnePool"]["Resource"].endswith(f":userpool/{sys.argv[2]}")
kms = sids["DecryptThoseSecretsWithACustomerManagedKey"]
assert kms["Action"] == "kms:Decrypt" and "kms:ViaService" in kms["Condition"]["StringEquals"], kms
trust = json.loads(sys.argv[3])
trust = json.loads(urllib.parse.unquote(trust)) if isinstance(trust, str) else trust
condition = trust["Statement"][0]["Condition"]["StringEquals"]
subs = [v for k, v in condition.items() if k.endswith(":sub")]
assert subs == [f"system:serviceaccount:{sys.argv[4]}:cognito-client-operator"], condition
print(f"[check-deploy] IAM policy: {sorted(sids)}; trust: {subs[0]}", file=sys.stderr)
PYEOF
  [ "$(aws iam list-attached-role-policies --role-name cognito-client-operator --query 'AttachedPolicies[0].PolicyArn' --output text)" = "$POLICY_ARN" ] \
    || die "the policy is not attached to the role"
}

guide_after_helm_install() {
  local annotation images
  annotation=$(kubectl -n "$NAMESPACE" get serviceaccount cognito-client-operator -o jsonpath='{.metadata.annotations.eks\.amazonaws\.com/role-arn}')
  [ "$annotation" = "$ROLE_ARN" ] || die "the operator's ServiceAccount carries role '$annotation', not $ROLE_ARN"
  images=$(kubectl -n "$NAMESPACE" get deployments -o jsonpath='{.items[*].spec.template.spec.containers[0].image}')
  for component in premium-content content-consumer cognito-client-operator; do
    [[ " $images " == *" $REGISTRY/cognito-m2m/$component:$TAG "* ]] || die "no Deployment runs $REGISTRY/cognito-m2m/$component:$TAG: $images"
  done
  log "ServiceAccount annotated with the IAM role; images from $REGISTRY"
  # The operator's two replicas, as the chart's ServiceAccount (impersonated), one Lease.
  impersonating_kubeconfig "system:serviceaccount:$NAMESPACE:cognito-client-operator" "$NAMESPACE" "$GUIDE_WORK/operator.kubeconfig"
  # IRSA's stand-in: moto's and local-cognito's addresses and test credentials.
  local replica
  for replica in 0 1; do
    run_pod "cognito-m2m-operator-guide-$replica" cognito-m2m-operator "$OPERATOR_BIN" \
      "LISTEN_ADDR=127.0.0.1:$(free_port)" "KUBECONFIG=$GUIDE_WORK/operator.kubeconfig" \
      "AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL" "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER=$AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER" \
      "AWS_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID" "AWS_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY"
  done
}

guide_after_managed_resources() {
  local secret
  [ -n "$CLIENT_ID" ] || die "CLIENT_ID is empty"
  aws cognito-idp describe-user-pool-client --user-pool-id "$POOL_ID" --client-id "$CLIENT_ID" --output json | "$PY" -c '
import json, sys
c = json.load(sys.stdin)["UserPoolClient"]
assert c["AllowedOAuthFlows"] == ["client_credentials"] and c["AllowedOAuthFlowsUserPoolClient"], c["AllowedOAuthFlows"]
assert sorted(c["AllowedOAuthScopes"]) == ["premium_api/read", "premium_api/write"], c["AllowedOAuthScopes"]
assert c["ClientName"] == "content-consumer", c["ClientName"]' || die "app client $CLIENT_ID is not content-consumer, client credentials only, with both scopes"
  secret=$(kubectl -n "$NAMESPACE" get secret premium-consumer-credentials -o json)
  "$PY" - "$secret" "$CLIENT_ID" "$TOKEN_ENDPOINT" "$GUIDE_WORK/credentials" <<'PYEOF' || die "the Secret premium-consumer-credentials"
import base64, json, os, sys
secret, client_id, endpoint, folder = json.loads(sys.argv[1]), *sys.argv[2:]
data = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
keys = ["client_id", "client_secret", "issuer", "scopes", "token_endpoint", "user_pool_id"]
assert sorted(data) == keys, sorted(data)
assert data["client_id"] == client_id and data["token_endpoint"] == endpoint, data["client_id"]
assert data["scopes"].split() == ["premium_api/read", "premium_api/write"], data["scopes"]
os.makedirs(folder, exist_ok=True)   # what the kubelet's Secret volume holds: one file per key
for key, value in data.items():
    with open(os.path.join(folder, key), "w") as f:
        f.write(value)
print(f"[check-deploy] Secret premium-consumer-credentials: keys {keys}", file=sys.stderr)
PYEOF
  # premium-content and content-consumer as their pods would run, but on loopback: the issuer is
  # the one the chart derives (awsRegion, userPoolId), its keys are local-cognito's.
  local premium_port consumer_port region pool
  premium_port=$(free_port)
  consumer_port=$(free_port)
  region=$(kubectl -n "$NAMESPACE" get deployment cognito-m2m-premium-content -o jsonpath='{.spec.template.spec.containers[0].env[?(@.name=="AWS_REGION")].value}')
  pool=$(kubectl -n "$NAMESPACE" get deployment cognito-m2m-premium-content -o jsonpath='{.spec.template.spec.containers[0].env[?(@.name=="COGNITO_USER_POOL_ID")].value}')
  [ "$pool" = "$POOL_ID" ] || die "premium-content's COGNITO_USER_POOL_ID is '$pool'"
  run_pod premium-content cognito-m2m-premium-content "$GUIDE_PREMIUM_BIN" "LISTEN_ADDR=127.0.0.1:$premium_port" \
    AWS_REGION= COGNITO_USER_POOL_ID= "COGNITO_ISSUER=https://cognito-idp.$region.amazonaws.com/$pool" \
    "COGNITO_JWKS_URL=$GUIDE_COGNITO/$pool/.well-known/jwks.json"
  # The Service's address becomes premium-content's; the path stays the chart's.
  local premium_url
  premium_url=$(kubectl -n "$NAMESPACE" get deployment cognito-m2m-content-consumer \
    -o jsonpath='{.spec.template.spec.containers[0].env[?(@.name=="PREMIUM_API_URL")].value}')
  [[ $premium_url == http://cognito-m2m-premium-content/* ]] || die "content-consumer's PREMIUM_API_URL is '$premium_url'"
  run_pod content-consumer cognito-m2m-content-consumer "$GUIDE_CONSUMER_BIN" "LISTEN_ADDR=127.0.0.1:$consumer_port" \
    "PREMIUM_API_URL=http://127.0.0.1:$premium_port/${premium_url#http://*/}" "CREDENTIALS_DIR=$GUIDE_WORK/credentials"
  wait_for_url "http://127.0.0.1:$premium_port/readyz" premium-content
  wait_for_url "http://127.0.0.1:$consumer_port/readyz" content-consumer
  kubectl -n "$NAMESPACE" get ingress cognito-m2m -o json | start_process alb-standin "$PY" "$ROOT/scripts/check-deploy.d/alb_standin.py" \
    "$GUIDE_ALB_PORT" "cognito-m2m-premium-content=http://127.0.0.1:$premium_port" "cognito-m2m-content-consumer=http://127.0.0.1:$consumer_port"
  for _ in $(seq 1 40); do curl -s -o /dev/null "http://127.0.0.1:$GUIDE_ALB_PORT/" && break; sleep 0.25; done
  log "premium-content, content-consumer and the ALB stand-in (127.0.0.1:$GUIDE_ALB_PORT) serve"
}

guide_after_secrets_manager_alternative() {
  aws secretsmanager get-secret-value --secret-id cognito-m2m/content-consumer --query SecretString --output text \
    | "$PY" -c 'import json,sys; d=json.load(sys.stdin); assert d["user_pool_client_id"]==sys.argv[1] and d["unicorn_read_scope"]=="read" and len(d)==7, sorted(d)' "$CLIENT_ID" \
    || die "the Secrets Manager secret of the alternative path"
  log "alternative path: app client $CLIENT_ID in the second pool, its secret in Secrets Manager ($SECRET_ARN)"
}

guide_after_leader() {
  [[ $LEADER == cognito-m2m-operator-guide-[01] ]] || die "the Lease names '$LEADER', not one of the operator's replicas"
  log "the Lease's holder is replica $LEADER"
}

guide_after_cleanup() {
  local applied
  applied=$(grep -o 'operation="\?[A-Za-z]*' "$GUIDE_WORK/local-cognito.log" | sed 's/.*[="]//' | sort -u | tr '\n' ' ')
  for operation in DeleteUserPoolClient DeleteResourceServer DeleteUserPoolDomain DeleteUserPool; do
    [[ " $applied " == *" $operation "* ]] || die "Cognito saw no $operation (operations: $applied)"
  done
  aws iam get-role --role-name cognito-client-operator >/dev/null 2>&1 && die "the IAM role is still there"
  [ "$(aws ecr describe-repositories --query 'length(repositories)' --output text)" = 0 ] || die "ECR repositories left"
  aws secretsmanager describe-secret --secret-id cognito-m2m/content-consumer >/dev/null 2>&1 && die "the Secrets Manager secret is still there"
  kubectl get namespace "$NAMESPACE" >/dev/null 2>&1 && die "namespace $NAMESPACE is still there"
  kubectl get crd cognitoclients.cognito-m2m.dev >/dev/null 2>&1 && die "the CRD is still there"
  log "clean: the operator deleted the app client and resource server, then the pool, IAM, ECR and the cluster objects went"
}

guide_after_without_helm() {
  [ "$(kubectl -n "$NAMESPACE" get serviceaccount cognito-client-operator -o jsonpath='{.metadata.annotations.eks\.amazonaws\.com/role-arn}')" = "$ROLE_ARN" ] \
    || die "section 9: the ServiceAccount lacks the IAM role"
  kubectl -n "$NAMESPACE" get deployment cognito-m2m-operator -o jsonpath='{.spec.template.spec.containers[0].image}' | grep -q "^$REGISTRY/" \
    || die "section 9: the operator's image is not from $REGISTRY"
  log "section 9: rendered for this server ($(grep -o '^apiVersion: policy/.*' cognito-m2m-manifests.yaml | sort -u | tr '\n' ' ')), applied"
  kubectl delete namespace "$NAMESPACE" --wait=true >/dev/null
  kubectl delete -f helm/cognito-m2m/crds/ --wait=true >/dev/null
  kubectl delete clusterrole,clusterrolebinding -l app.kubernetes.io/instance=cognito-m2m >/dev/null
}

# --- In check-deploy ---------------------------------------------------------------------------

# What keeps the documents and their test together: doc_blocks.py refuses a marker it does not
# know, a hook or stand-in matching nothing, and an excerpt the source does not run.
static_deploy_guide_checks() {
  step "the documents' shell blocks: markers, hooks, stand-ins and excerpts fit"
  local blocks="$ROOT/scripts/check-deploy.d/doc_blocks.py" doc="$WORK/doc.md"
  expect_doc_refusal() {  # expect_doc_refusal WHAT MESSAGE DOC_TEXT [ARGS...]
    local what=$1 message=$2
    printf '%s\n' "$3" >"$doc"
    shift 3
    if "$PY" "$blocks" "$doc" "$@" >/dev/null 2>"$WORK/doc-refusal.txt"; then
      die "doc_blocks.py accepted $what"
    fi
    grep -qF -- "$message" "$WORK/doc-refusal.txt" || { cat "$WORK/doc-refusal.txt" >&2; die "doc_blocks.py refused $what without saying '$message'"; }
  }
  expect_doc_refusal "a misspelt marker" "unknown marker 'not-run-hear'" $'```bash not-run-hear\necho hi\n```'
  expect_doc_refusal "a hook matching no block" "matches run blocks at lines []" $'```bash\necho hi\n```' --hook 'helm install=f'
  expect_doc_refusal "a hook on a skipped block only" "matches run blocks at lines []" $'```bash not-run-here\nhelm install x\n```' --hook 'helm install=f'
  expect_doc_refusal "a stand-in for a line that is not there" "not exactly one line" $'```bash\necho hi\n```' --replace '^ALB=.*=>ALB=x'
  expect_doc_refusal "an excerpt the source does not run" "excerpt commands not run" $'```sh excerpt\nhelm upgrade x\n```' --excerpt-of "$ROOT/$GUIDE_DOC"
  "$PY" "$blocks" "$ROOT/README.md" --excerpt-of "$ROOT/$GUIDE_DOC" >/dev/null || die "README.md's excerpt of $GUIDE_DOC"
  "$PY" "$blocks" "$ROOT/$GUIDE_DOC" >/dev/null || die "$GUIDE_DOC's shell blocks"
  log "misspelt markers, unmatched hooks and stand-ins, and foreign excerpts are refused; README.md and $GUIDE_DOC parse"
}

live_deploy_guide_checks() {
  step "$GUIDE_DOC, executed against moto, local-cognito and the test API server"
  local guide_work="$WORK/guide" pool=us-east-1_GuideTest1 moto_port cognito_port side_port rc=0
  mkdir -p "$guide_work/run"
  ln -s "$ROOT/helm" "$guide_work/run/helm"
  ln -s "$ROOT/k8s" "$guide_work/run/k8s"
  local cognito_bin premium_bin consumer_bin
  cognito_bin=$(cargo_bin local-cognito local-cognito)
  premium_bin=$(cargo_bin premium-content premium-content)
  consumer_bin=$(cargo_bin content-consumer content-consumer)
  # A cluster as the guide finds it: none of check-deploy's objects, nor an interrupted run's
  # managed resources, whose finalizer no operator would remove any more.
  local leftover
  for leftover in $(kubectl get cogc,cogrs -A -o jsonpath='{range .items[*]}{.kind}/{.metadata.name}@{.metadata.namespace}{" "}{end}' 2>/dev/null); do
    kubectl patch -n "${leftover#*@}" "${leftover%@*}" --type=merge -p '{"metadata":{"finalizers":null}}' >/dev/null
  done
  kubectl delete namespace "$NAMESPACE" --wait=true --ignore-not-found >/dev/null
  kubectl delete crd cognitoclients.cognito-m2m.dev cognitoresourceservers.cognito-m2m.dev --ignore-not-found >/dev/null

  moto_port=$(free_port)
  cognito_port=$(free_port)
  side_port=$(free_port)
  moto_server -H 127.0.0.1 -p "$moto_port" >"$guide_work/moto.log" 2>&1 &
  echo $! >>"$guide_work/pids"
  for port in "$cognito_port" "$side_port"; do
    # One configured client is required; its scope makes a resource server the guide never uses.
    LISTEN_ADDR="127.0.0.1:$port" COGNITO_USER_POOL_ID=$pool LOCAL_COGNITO_REGION=us-east-1 \
      LOCAL_COGNITO_CLIENTS="guide-probe:probe-secret:guide_probe/read" LOG_FORMAT=text \
      "$cognito_bin" >>"$guide_work/local-cognito$([ "$port" = "$side_port" ] && echo -side).log" 2>&1 &
    echo $! >>"$guide_work/pids"
  done
  for url in "http://127.0.0.1:$moto_port/moto-api/" "http://127.0.0.1:$cognito_port/$pool/.well-known/jwks.json" \
             "http://127.0.0.1:$side_port/$pool/.well-known/jwks.json"; do
    for _ in $(seq 1 120); do curl -sf -o /dev/null "$url" && break; sleep 0.25; done
    curl -sf -o /dev/null "$url" || die "$url does not answer"
  done

  "$PY" "$ROOT/scripts/check-deploy.d/doc_blocks.py" "$ROOT/$GUIDE_DOC" \
    --hook 'get-caller-identity=guide_after_variables' \
    --hook 'aws ecr create-repository=guide_after_repositories' \
    --hook 'create-user-pool-domain=guide_after_user_pool' \
    --hook '^aws iam attach-role-policy=guide_after_iam' \
    --hook '^helm install cognito-m2m=guide_after_helm_install' \
    --hook 'wait --for=condition=Ready=guide_after_managed_resources' \
    --hook 'secretsmanager create-secret=guide_after_secrets_manager_alternative' \
    --hook 'get lease cognito-client-operator=guide_after_leader' \
    --hook 'delete-user-pool --user-pool-id=guide_after_cleanup' \
    --hook '^helm template cognito-m2m=guide_after_without_helm' \
    --replace '^ALB=http://\$\(kubectl=>ALB=http://127.0.0.1:$GUIDE_ALB_PORT    # stand-in for the ALB (alb_standin.py)' \
    >"$guide_work/session.sh" || die "$GUIDE_DOC: its blocks, hooks and stand-ins do not fit"
  {
    echo "set -euo pipefail"
    echo ". \"\$ROOT/scripts/check-deploy.d/deploy-guide.sh\""
    echo "cd \"\$GUIDE_WORK/run\""
    echo "aws eks create-cluster --name my-cluster --role-arn arn:aws:iam::123456789012:role/eks \\"
    echo "  --resources-vpc-config subnetIds=subnet-guide >/dev/null   # the guide's prerequisite, in moto"
    cat "$guide_work/session.sh"
  } >"$guide_work/guide.sh"

  export -f log die step free_port impersonating_kubeconfig
  (
    unset AWS_REGION AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER
    export ROOT PY OPERATOR_BIN GUIDE_WORK="$guide_work" GUIDE_POOL_ID=$pool \
      GUIDE_COGNITO="http://127.0.0.1:$cognito_port" GUIDE_SIDE_COGNITO="http://127.0.0.1:$side_port" \
      GUIDE_PREMIUM_BIN=$premium_bin GUIDE_CONSUMER_BIN=$consumer_bin GUIDE_ALB_PORT=$(free_port) \
      AWS_ENDPOINT_URL="http://127.0.0.1:$moto_port" AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER="http://127.0.0.1:$cognito_port" \
      AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
      AWS_DEFAULT_REGION=us-east-1   # the AWS CLI here is v1 (v2 is not on PyPI), which reads no AWS_REGION
    # DOCS_TRACE=1: trace every command. A step that hangs (a wait that never ends) fails after
    # DOCS_TIMEOUT seconds instead of holding CI.
    timeout "${DOCS_TIMEOUT:-1200}" bash ${DOCS_TRACE:+-x} "$guide_work/guide.sh"
  ) || rc=$?
  while read -r pid; do kill "$pid" 2>/dev/null || true; done <"$guide_work/pids"
  while read -r pid; do wait "$pid" 2>/dev/null || true; done <"$guide_work/pids"
  [ "$rc" = 0 ] || die "$GUIDE_DOC failed as executed (logs in $guide_work)"
  log "$GUIDE_DOC: every block ran or is marked; every step showed what the guide says"
}
