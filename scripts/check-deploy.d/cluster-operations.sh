# Sourced by scripts/check-deploy: what the chart's defaults do to the operations a cluster runs
# on it besides install (node drains, upgrades, rollbacks, namespace deletion). Each check fails
# on a chart that silently blocks or breaks one of them. Uses check-deploy's log/die/step,
# expect_reject, $CHART, $WORK, $PY and $SHARED.

# --- Without a cluster -----------------------------------------------------------------------

static_cluster_operation_checks() {
  step "PodDisruptionBudgets never block a drain (renders at 1 replica, HPA minReplicas 1, percentages)"
  # disruptionsAllowed as the disruption controller computes it for healthy pods (percentages
  # rounded up), at each component's lowest replica count: it must be at least 1, or
  # `kubectl drain` waits forever ("Cannot evict pod as it would violate the pod's disruption budget").
  local one="premiumContent.replicaCount=1,contentConsumer.replicaCount=1,operator.replicaCount=1"
  local hpa1="premiumContent.autoscaling.enabled=true,premiumContent.autoscaling.minReplicas=1,contentConsumer.autoscaling.enabled=true,contentConsumer.autoscaling.minReplicas=1"
  local -a renders=()
  render_case() {
    local name=$1; shift
    helm template "$RELEASE" "$CHART" -n "$NAMESPACE" --kube-version 1.30.0 "$@" >"$WORK/pdb-$name.yaml" \
      || die "render ($name): $*"
    renders+=("$WORK/pdb-$name.yaml")
  }
  render_case defaults
  render_case all-options -f "$CHART/ci/all-options-values.yaml"
  render_case one-replica --set "$one"
  render_case hpa-min-1 --set "$hpa1,operator.replicaCount=1"
  render_case percent --set "$one" --set premiumContent.pdb.maxUnavailable=10%,contentConsumer.pdb.maxUnavailable=100%
  render_case min-available --set premiumContent.replicaCount=3,premiumContent.pdb.minAvailable=50% \
    --set contentConsumer.replicaCount=2,contentConsumer.pdb.minAvailable=1
  "$PY" - "${renders[@]}" <<'PYEOF'
import math, sys, yaml
def scaled(value, pods):
    s = str(value)
    return math.ceil(int(s[:-1]) * pods / 100) if s.endswith("%") else int(s)
for path in sys.argv[1:]:
    docs = [d for d in yaml.safe_load_all(open(path)) if d]
    deployments = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Deployment"}
    hpa_min = {d["spec"]["scaleTargetRef"]["name"]: d["spec"]["minReplicas"] for d in docs if d["kind"] == "HorizontalPodAutoscaler"}
    budgets = [d for d in docs if d["kind"] == "PodDisruptionBudget"]
    assert len(budgets) == len(deployments), f"{path}: {len(budgets)} PodDisruptionBudgets for {len(deployments)} Deployments"
    for pdb in budgets:
        spec, name = pdb["spec"], pdb["metadata"]["name"]
        assert ("minAvailable" in spec) != ("maxUnavailable" in spec), f"{path}: {name} sets both or neither"
        (target,) = [n for n, d in deployments.items() if all(
            d["spec"]["template"]["metadata"]["labels"].get(k) == v for k, v in spec["selector"]["matchLabels"].items())]
        pods = hpa_min.get(target, deployments[target]["spec"]["replicas"])
        desired = scaled(spec["minAvailable"], pods) if "minAvailable" in spec else max(0, pods - scaled(spec["maxUnavailable"], pods))
        allowed = pods - desired
        assert allowed >= 1, f"{path.rsplit('/', 1)[-1]}: PodDisruptionBudget {name} allows {allowed} disruptions at {pods} pod(s): {spec}"
        print(f"[check-deploy] {path.rsplit('/', 1)[-1][4:-5]}: {name} at {pods} pod(s) allows {allowed} eviction(s)", file=sys.stderr)
PYEOF
  expect_reject "minAvailable 1 at one replica" "no pod could ever be evicted" --set premiumContent.replicaCount=1,premiumContent.pdb.minAvailable=1
  expect_reject "minAvailable 1 under an HPA with minReplicas 1" "autoscaling.minReplicas" --set "$hpa1,contentConsumer.pdb.minAvailable=1"
  expect_reject "minAvailable 100% of the operator" "no pod could ever be evicted" --set operator.pdb.minAvailable=100%
  expect_reject "minAvailable 50% of one pod (rounds up to 1)" "keeps 1 of 1" --set contentConsumer.replicaCount=1,contentConsumer.pdb.minAvailable=50%
  expect_reject "maxUnavailable 0" "/premiumContent/pdb/maxUnavailable" --set premiumContent.pdb.maxUnavailable=0
  expect_reject "maxUnavailable 0%" "/operator/pdb/maxUnavailable" --set operator.pdb.maxUnavailable=0%
  # A budget spent by pods that are not Ready (a crash loop) would block a drain too: where the
  # server has the field (1.27+), such pods may always be evicted.
  grep -q '^  unhealthyPodEvictionPolicy: AlwaysAllow$' "$WORK/pdb-defaults.yaml" || die "no unhealthyPodEvictionPolicy: AlwaysAllow on 1.30"
  helm template "$RELEASE" "$CHART" -n "$NAMESPACE" --kube-version 1.26.0 | grep -q unhealthyPodEvictionPolicy \
    && die "unhealthyPodEvictionPolicy rendered for Kubernetes 1.26, which does not have it"
  log "unhealthyPodEvictionPolicy: AlwaysAllow on 1.27+, left out before"

  step "upgrades keep selectors (immutable) and never take the only pod down"
  # Deployment selectors cannot change after creation (an upgrade changing them fails with "field
  # is immutable"): they must not carry the chart version, appVersion, image tag or pod labels.
  cp -r "$CHART" "$WORK/chart-next"
  sed -i 's/^version: .*/version: 99.0.0/; s/^appVersion: .*/appVersion: "99.0.0"/' "$WORK/chart-next/Chart.yaml"
  helm template "$RELEASE" "$WORK/chart-next" -n "$NAMESPACE" --set image.tag=next \
    --set premiumContent.podLabels.tier=api,contentConsumer.podLabels.tier=edge,operator.podLabels.tier=control >"$WORK/next.yaml"
  "$PY" - "$WORK/pdb-defaults.yaml" "$WORK/next.yaml" <<'PYEOF'
import sys, yaml
def selectors(path):
    docs = [d for d in yaml.safe_load_all(open(path)) if d]
    out = {(d["kind"], d["metadata"]["name"]): d["spec"]["selector"].get("matchLabels", d["spec"]["selector"])
           for d in docs if d["kind"] in ("Deployment", "PodDisruptionBudget")}
    out.update({("Service", d["metadata"]["name"]): d["spec"]["selector"] for d in docs if d["kind"] == "Service"})
    return out, [d for d in docs if d["kind"] == "Deployment"]
before, deployments = selectors(sys.argv[1])
after, _ = selectors(sys.argv[2])
assert before == after, f"selectors change between chart versions:\n{before}\n{after}"
# No strategy set: the API default RollingUpdate maxUnavailable 25% (rounded down) and maxSurge
# 25% (rounded up) starts a new pod before stopping one for up to 3 replicas, so one replica
# is never taken down before its replacement is Ready.
for d in deployments:
    assert "strategy" not in d["spec"], f"{d['metadata']['name']}: strategy {d['spec']['strategy']}"
    for pods in (1, 2, 3):
        assert pods * 25 // 100 == 0 and -(-pods * 25 // 100) == 1
print(f"[check-deploy] {len(before)} selectors identical across chart version, appVersion, image tag and pod labels", file=sys.stderr)
PYEOF
}

# --- Against the test control plane ------------------------------------------------------------

# A second controller manager with the controllers the drain check needs: deployment and
# replicaset (pods exist, owned by the Deployment's ReplicaSet, whose replicas the disruption
# controller reads for maxUnavailable) and disruption (computes each budget's disruptionsAllowed,
# which the Eviction API enforces). The shared cluster runs only the garbage collector and
# namespace controllers. No kubelet or scheduler: pods stay Pending unless bound and marked
# Running and Ready by hand, as below.
start_workload_controllers() {
  xz -dc "$SHARED/k8s-test-cluster/kube-controller-manager.xz" >"$WORK/kube-controller-manager"
  chmod +x "$WORK/kube-controller-manager"
  "$WORK/kube-controller-manager" --kubeconfig="$KUBECONFIG" --controllers=deployment,replicaset,disruption \
    --leader-elect=false --secure-port=0 --port=0 >"$WORK/workload-controllers.log" 2>&1 &
  PIDS+=($!)
  WORKLOAD_CONTROLLERS_PID=$!
}

stop_workload_controllers() {
  kill "$WORKLOAD_CONTROLLERS_PID" 2>/dev/null || true
  wait "$WORKLOAD_CONTROLLERS_PID" 2>/dev/null || true
}

# Binds the pods of namespace $1 (matching label selector $3, if given) to node $2 and reports
# them Running and Ready, as the scheduler and a kubelet would.
run_pods_on() {
  local ns=$1 node=$2 pod
  for pod in $(kubectl get pods -n "$ns" ${3:+-l "$3"} -o jsonpath='{.items[*].metadata.name}'); do
    kubectl create --raw "/api/v1/namespaces/$ns/pods/$pod/binding" -f - >/dev/null <<EOF
{"apiVersion":"v1","kind":"Binding","metadata":{"name":"$pod"},"target":{"apiVersion":"v1","kind":"Node","name":"$node"}}
EOF
    kubectl patch pod "$pod" -n "$ns" --subresource=status --type=merge \
      -p '{"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"}]}}' >/dev/null
  done
}

wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...
  local seconds=$1 what=$2; shift 2
  for _ in $(seq 1 $((seconds * 2))); do "$@" && return 0; sleep 0.5; done
  die "timed out after ${seconds}s waiting for $what"
}

pod_count_is() { [ "$(kubectl get pods -n "$1" --no-headers 2>/dev/null | wc -l)" -eq "$2" ]; }
budgets_see_pods() {  # every budget in namespace $1 counts $2 healthy pods (the disruption controller ran)
  kubectl get pdb -n "$1" -o json | "$PY" -c '
import json, sys
items = json.load(sys.stdin)["items"]
sys.exit(0 if items and all(p.get("status", {}).get("observedGeneration") == p["metadata"]["generation"]
                            and p["status"].get("currentHealthy") == int(sys.argv[1]) for p in items) else 1)' "$2"
}

live_cluster_operation_checks() {
  start_workload_controllers

  step "kubectl drain of a node holding every component at one replica (real Eviction API)"
  # premium-content under an HPA with minReplicas 1, content-consumer and the operator (leader
  # election on) at replicaCount 1: with the old minAvailable: 1 budgets this drain fails.
  local ns=drain node=check-deploy-drain
  helm install drain "$CHART" -n "$ns" --create-namespace --set operator.serviceAccount.name=drain-operator \
    --set premiumContent.autoscaling.enabled=true,premiumContent.autoscaling.minReplicas=1 \
    --set contentConsumer.replicaCount=1,operator.replicaCount=1 >/dev/null || die "helm install (one replica each)"
  wait_for 60 "3 pods in $ns" pod_count_is "$ns" 3
  kubectl create -f - >/dev/null <<EOF
apiVersion: v1
kind: Node
metadata: {name: $node}
EOF
  run_pods_on "$ns" "$node"
  wait_for 60 "the disruption controller to count the pods" budgets_see_pods "$ns" 1
  kubectl get pdb -n "$ns" -o jsonpath='{range .items[*]}{.metadata.name}: {.status.currentHealthy} healthy, {.status.disruptionsAllowed} allowed{"\n"}{end}' >&2
  kubectl drain "$node" --ignore-daemonsets --grace-period=0 --timeout=30s >"$WORK/drain.txt" 2>&1 \
    || { cat "$WORK/drain.txt" >&2; die "kubectl drain $node was blocked"; }
  [ "$(grep -c '^pod/.* evicted$' "$WORK/drain.txt")" -eq 3 ] || { cat "$WORK/drain.txt" >&2; die "drain did not evict 3 pods"; }
  [ -z "$(kubectl get pods -n "$ns" --field-selector "spec.nodeName=$node" -o name)" ] || die "pods left on $node"
  log "drained: $(grep -c evicted "$WORK/drain.txt") pods evicted through the Eviction API"
  # Control: on this control plane the Eviction API does refuse a spent budget (the old chart's
  # minAvailable: 1 at one replica), so the drain above passed on the budgets, not by accident.
  local policy=policy/v1beta1
  kubectl api-versions | grep -qx policy/v1 && policy=policy/v1
  kubectl create -n "$ns" -f - >/dev/null <<EOF
apiVersion: $policy
kind: PodDisruptionBudget
metadata: {name: control}
spec: {minAvailable: 1, selector: {matchLabels: {control: "true"}}}
---
apiVersion: v1
kind: Pod
metadata: {name: control, labels: {control: "true"}}
spec: {containers: [{name: c, image: control}]}
EOF
  run_pods_on "$ns" "$node" control=true
  wait_for 30 "the control budget to count its pod" eval "[ \"\$(kubectl get pdb control -n $ns -o jsonpath='{.status.currentHealthy}')\" = 1 ]"
  # --force: the control pod has no controller (it is still evicted, not deleted).
  if kubectl drain "$node" --ignore-daemonsets --force --grace-period=0 --timeout=8s >"$WORK/drain-control.txt" 2>&1; then
    die "the control pod under minAvailable: 1 was evicted: this drain check cannot tell a blocking budget"
  fi
  grep -q "Cannot evict pod as it would violate the pod's disruption budget" "$WORK/drain-control.txt" \
    || { cat "$WORK/drain-control.txt" >&2; die "the control drain failed for another reason"; }
  log "control: minAvailable 1 at one pod is refused (\"Cannot evict pod as it would violate the pod's disruption budget\")"
  kubectl delete pod control -n "$ns" --grace-period=0 --force >/dev/null 2>&1 || true
  kubectl delete node "$node" >/dev/null

  step "helm upgrade: budget form switch, autoscaling switched on, new image; then helm rollback"
  # Revision 1: an explicit minAvailable (as older values files have) and 3 fixed replicas.
  helm upgrade drain "$CHART" -n "$ns" --reuse-values --set premiumContent.autoscaling.enabled=false \
    --set premiumContent.replicaCount=3,premiumContent.pdb.minAvailable=2 >/dev/null || die "helm upgrade (minAvailable 2)"
  local deploy=drain-cognito-m2m-premium-content
  local selector_before
  selector_before=$(kubectl get deployment "$deploy" -n "$ns" -o jsonpath='{.spec.selector}')
  # Then autoscaling on (minReplicas 2), the default maxUnavailable budget, a new image tag.
  helm upgrade drain "$CHART" -n "$ns" --reuse-values --set premiumContent.autoscaling.enabled=true \
    --set premiumContent.autoscaling.minReplicas=2,premiumContent.pdb.minAvailable=,image.tag=next >/dev/null \
    || die "helm upgrade (autoscaling on, new image)"
  local replicas pdb
  replicas=$(kubectl get deployment "$deploy" -n "$ns" -o jsonpath='{.spec.replicas}')
  [ "$replicas" = 3 ] || die "switching autoscaling on scaled $deploy from 3 to $replicas replicas"
  pdb=$(kubectl get pdb "$deploy" -n "$ns" -o jsonpath='{.spec.minAvailable}/{.spec.maxUnavailable}')
  [ "$pdb" = "/1" ] || die "PodDisruptionBudget after the upgrade: minAvailable/maxUnavailable = $pdb, want /1"
  [ "$(kubectl get deployment "$deploy" -n "$ns" -o jsonpath='{.spec.selector}')" = "$selector_before" ] || die "selector changed"
  kubectl get deployment "$deploy" -n "$ns" -o jsonpath='{.spec.template.spec.containers[0].image}' | grep -q ':next$' \
    || die "the upgrade did not roll out the new image"
  log "upgrade: replicas stay 3 with the HPA switched on, budget minAvailable 2 -> maxUnavailable 1, selector unchanged"
  helm rollback drain 2 -n "$ns" >/dev/null 2>&1 || die "helm rollback to revision 2"
  replicas=$(kubectl get deployment "$deploy" -n "$ns" -o jsonpath='{.spec.replicas}')
  pdb=$(kubectl get pdb "$deploy" -n "$ns" -o jsonpath='{.spec.minAvailable}/{.spec.maxUnavailable}')
  [ "$replicas/$pdb" = "3/2/" ] || die "after rollback: replicas/minAvailable/maxUnavailable = $replicas/$pdb, want 3/2/"
  kubectl get hpa "$deploy" -n "$ns" >/dev/null 2>&1 && die "rollback left the HorizontalPodAutoscaler"
  log "rollback to revision 2: 3 replicas, minAvailable 2, no HPA"

  step "helm upgrade leaves the CRD alone (crds/ is install-only); the documented apply updates it"
  local crd=cognitoclients.cognito-m2m.dev
  sed -i '0,/^metadata:/s//metadata:\n  labels: {check-deploy\/crd-revision: next}/' "$WORK/chart-next/crds/cognito-m2m.dev.yaml"
  helm upgrade drain "$WORK/chart-next" -n "$ns" --reuse-values >/dev/null || die "helm upgrade to the next chart"
  [ -z "$(kubectl get crd "$crd" -o jsonpath='{.metadata.labels.check-deploy/crd-revision}')" ] \
    || die "helm upgraded the CRD: the README's upgrade note is wrong"
  kubectl apply --server-side --force-conflicts -f "$WORK/chart-next/crds/" >/dev/null || die "kubectl apply of crds/"
  [ "$(kubectl get crd "$crd" -o jsonpath='{.metadata.labels.check-deploy/crd-revision}')" = next ] || die "crds/ apply did not update the CRD"
  kubectl label crd "$crd" check-deploy/crd-revision- >/dev/null
  log "helm upgrade left the CRD as it was; kubectl apply --server-side --force-conflicts -f crds/ updated it"

  step "kubectl delete namespace with the release in it: nothing blocks it, reinstall works"
  # The CognitoClient with a Secret it owns (as the operator writes it) and the operator's Lease:
  # no finalizer may hold the namespace in Terminating.
  local cc uid
  cc=$(kubectl get cognitoclients -n "$ns" -o jsonpath='{.items[0].metadata.name}')
  uid=$(kubectl get cognitoclient "$cc" -n "$ns" -o jsonpath='{.metadata.uid}')
  kubectl create -n "$ns" -f - >/dev/null <<EOF
apiVersion: v1
kind: Secret
metadata:
  name: owned-credentials
  ownerReferences: [{apiVersion: cognito-m2m.dev/v1alpha1, kind: CognitoClient, name: $cc, uid: $uid, controller: true}]
stringData: {client_id: x}
---
apiVersion: coordination.k8s.io/v1
kind: Lease
metadata: {name: cognito-client-operator}
spec: {holderIdentity: drain-operator-0, leaseDurationSeconds: 15}
EOF
  kubectl delete namespace "$ns" --timeout=90s >/dev/null || die "namespace $ns did not finish deleting within 90 s"
  # Cluster-scoped objects outlive the namespace (and the release record in it).
  local left
  left=$(kubectl get clusterrole,clusterrolebinding -l app.kubernetes.io/instance=drain -o name | sort | tr '\n' ' ')
  [ "$left" = "clusterrole.rbac.authorization.k8s.io/drain-operator clusterrolebinding.rbac.authorization.k8s.io/drain-operator " ] \
    || die "left after the namespace: '$left'"
  helm install drain "$CHART" -n "$ns" --create-namespace --set operator.serviceAccount.name=drain-operator >/dev/null \
    || die "reinstall after namespace deletion"
  helm uninstall drain -n "$ns" --wait --timeout 60s >/dev/null
  [ -z "$(kubectl get clusterrole,clusterrolebinding -l app.kubernetes.io/instance=drain -o name)" ] || die "uninstall left RBAC"
  kubectl delete namespace "$ns" --wait=false >/dev/null
  log "namespace deleted in time; its ClusterRole(Binding) stayed and were adopted by the reinstall, then uninstalled"

  stop_workload_controllers
}
