"""The environment a Deployment gives its pod's first container, as KEY=VALUE lines, for running
the same binary as a process where no kubelet runs pods (the test API server). `value`s are
copied; `fieldRef` metadata.name and metadata.namespace resolve to the pod name given and the
Deployment's namespace; any other valueFrom fails, so nothing is silently left out.

Usage: kubectl get deployment NAME -o json | pod_env.py POD_NAME
"""

import json
import sys

deployment = json.load(sys.stdin)
pod_name = sys.argv[1]
fields = {"metadata.name": pod_name, "metadata.namespace": deployment["metadata"]["namespace"]}
for env in deployment["spec"]["template"]["spec"]["containers"][0].get("env", []):
    if "value" in env:
        value = env["value"]
    elif "fieldRef" in env.get("valueFrom", {}) and env["valueFrom"]["fieldRef"]["fieldPath"] in fields:
        value = fields[env["valueFrom"]["fieldRef"]["fieldPath"]]
    else:
        sys.exit(f"pod_env.py: {env['name']} comes from {env.get('valueFrom')}, which this stand-in cannot resolve")
    if "\n" in value:
        sys.exit(f"pod_env.py: {env['name']} holds a line break")
    print(f"{env['name']}={value}")
