{{/* Chart name, overridable. */}}
{{- define "cognito-m2m.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Resource-name prefix: the release name, with the chart name unless the release already has it. */}}
{{- define "cognito-m2m.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Name of one component's resources: call with (list $ "premium-content"). */}}
{{- define "cognito-m2m.componentName" -}}
{{- $root := index . 0 }}
{{- printf "%s-%s" (include "cognito-m2m.fullname" $root) (index . 1) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels on every resource. */}}
{{- define "cognito-m2m.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "cognito-m2m.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: cognito-m2m
{{- end }}

{{/* Selector labels of one component: call with (list $ "premium-content"). */}}
{{- define "cognito-m2m.selectorLabels" -}}
{{- $root := index . 0 -}}
app.kubernetes.io/name: {{ include "cognito-m2m.name" $root }}
app.kubernetes.io/instance: {{ $root.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{/* All labels of one component: call with (list $ "premium-content"). */}}
{{- define "cognito-m2m.componentLabels" -}}
{{ include "cognito-m2m.labels" (index . 0) }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{/* Image reference: call with (list $ .Values.premiumContent.image). */}}
{{- define "cognito-m2m.image" -}}
{{- $root := index . 0 }}
{{- $image := index . 1 }}
{{- $tag := default $root.Chart.AppVersion $root.Values.image.tag }}
{{- if $root.Values.image.registry }}
{{- printf "%s/%s:%s" (trimSuffix "/" $root.Values.image.registry) $image.repository $tag }}
{{- else }}
{{- printf "%s:%s" $image.repository $tag }}
{{- end }}
{{- end }}

{{/* Cognito issuer URL: cognito.issuer, else the form cognito.issuerConfiguration names
     (Cognito API IssuerConfigurationType: ORIGINAL cognito-idp, UPDATED issuer-cognito-idp). */}}
{{- define "cognito-m2m.issuer" -}}
{{- if .Values.cognito.issuer }}
{{- .Values.cognito.issuer | trimSuffix "/" }}
{{- else }}
{{- $host := ternary "issuer-cognito-idp" "cognito-idp" (eq .Values.cognito.issuerConfiguration "UPDATED") }}
{{- printf "https://%s.%s.amazonaws.com/%s" $host .Values.awsRegion .Values.cognito.userPoolId }}
{{- end }}
{{- end }}

{{/* Name of the Secret the CognitoClient produces and content-consumer mounts. */}}
{{- define "cognito-m2m.credentialsSecretName" -}}
{{- default (printf "%s-consumer-credentials" (include "cognito-m2m.fullname" .)) .Values.cognitoClient.secretName }}
{{- end }}

{{/* The services' read and write scopes (READ_SCOPE / WRITE_SCOPE as the services derive them):
     cognito.readScope / cognito.writeScope, else {cognito.resourceServer}/read and /write. */}}
{{- define "cognito-m2m.readScope" -}}
{{- default (printf "%s/read" .Values.cognito.resourceServer) .Values.cognito.readScope }}
{{- end }}
{{- define "cognito-m2m.writeScope" -}}
{{- default (printf "%s/write" .Values.cognito.resourceServer) .Values.cognito.writeScope }}
{{- end }}

{{/* Environment shared by the two HTTP services: scope configuration and logging. */}}
{{- define "cognito-m2m.scopeEnv" -}}
- name: RESOURCE_SERVER
  value: {{ .Values.cognito.resourceServer | quote }}
{{- with .Values.cognito.readScope }}
- name: READ_SCOPE
  value: {{ . | quote }}
{{- end }}
{{- with .Values.cognito.writeScope }}
- name: WRITE_SCOPE
  value: {{ . | quote }}
{{- end }}
{{- end }}

{{/* Probes on /healthz (alive) and /readyz (ready to serve) of the named port "http". */}}
{{- define "cognito-m2m.probes" -}}
{{- include "cognito-m2m.probesOn" "http" }}
{{- end }}

{{/* The same probes on the named port given (cognito-authorizer answers them on "admin"). */}}
{{- define "cognito-m2m.probesOn" -}}
startupProbe:
  httpGet: {path: /healthz, port: {{ . }}}
  periodSeconds: 2
  failureThreshold: 30
livenessProbe:
  httpGet: {path: /healthz, port: {{ . }}}
  periodSeconds: 10
  timeoutSeconds: 2
  failureThreshold: 3
readinessProbe:
  httpGet: {path: /readyz, port: {{ . }}}
  periodSeconds: 5
  timeoutSeconds: 2
  failureThreshold: 2
{{- end }}

{{/* premium-content's and content-consumer's grace period: SHUTDOWN_DELAY, then the binaries'
     DRAIN_TIMEOUT (10 s, telemetry::shutdown) for requests in flight, then 5 s of margin before
     the kubelet's SIGKILL. */}}
{{- define "cognito-m2m.terminationGracePeriodSeconds" -}}
{{- add (int .Values.shutdown.delaySeconds) 10 5 }}
{{- end }}

{{/* API version for PodDisruptionBudget: policy/v1 where served (1.21+), else policy/v1beta1.
     helm lint/template only know the kube version (--kube-version), so both are asked. */}}
{{- define "cognito-m2m.pdbApiVersion" -}}
{{- if or (.Capabilities.APIVersions.Has "policy/v1/PodDisruptionBudget") (semverCompare ">=1.21-0" .Capabilities.KubeVersion.Version) -}}
policy/v1
{{- else -}}
policy/v1beta1
{{- end }}
{{- end }}

{{/* API version for HorizontalPodAutoscaler: autoscaling/v2 where served (1.23+), else v2beta2. */}}
{{- define "cognito-m2m.hpaApiVersion" -}}
{{- if or (.Capabilities.APIVersions.Has "autoscaling/v2/HorizontalPodAutoscaler") (semverCompare ">=1.23-0" .Capabilities.KubeVersion.Version) -}}
autoscaling/v2
{{- else -}}
autoscaling/v2beta2
{{- end }}
{{- end }}

{{/* ALB listen ports as JSON: the configured list, or HTTP 80 (+ HTTPS 443 with a certificate). */}}
{{- define "cognito-m2m.listenPorts" -}}
{{- if .Values.ingress.listenPorts }}
{{- toJson .Values.ingress.listenPorts }}
{{- else if .Values.ingress.certificateArn }}
{{- `[{"HTTP":80},{"HTTPS":443}]` }}
{{- else }}
{{- `[{"HTTP":80}]` }}
{{- end }}
{{- end }}

{{/* A component's lowest replica count: the HPA's minReplicas while autoscaling, else
     replicaCount. Call with the component's values (.Values.premiumContent). */}}
{{- define "cognito-m2m.minReplicas" -}}
{{- if dig "autoscaling" "enabled" false . }}
{{- .autoscaling.minReplicas }}
{{- else }}
{{- .replicaCount }}
{{- end }}
{{- end }}

{{/* Which value cognito-m2m.minReplicas came from, for error messages. */}}
{{- define "cognito-m2m.minReplicasSource" -}}
{{- ternary "autoscaling.minReplicas" "replicaCount" (dig "autoscaling" "enabled" false .) }}
{{- end }}

{{/* spec.replicas of a component's Deployment: call with (list $ "premium-content" $values).
     Without autoscaling, replicaCount. With it the HPA owns the count, but leaving the field out
     makes an upgrade that drops it (switching autoscaling on) reset the Deployment to 1 replica
     (the API default) until the HPA reacts; so the live count is kept, never below minReplicas
     (minReplicas on a first install, or where the cluster cannot be read, e.g. helm template). */}}
{{- define "cognito-m2m.replicas" -}}
{{- $root := index . 0 }}
{{- $values := index . 2 }}
{{- if $values.autoscaling.enabled }}
{{- $live := lookup "apps/v1" "Deployment" $root.Release.Namespace (include "cognito-m2m.componentName" (list $root (index . 1))) }}
{{- max (int (dig "spec" "replicas" 0 $live)) (int $values.autoscaling.minReplicas) }}
{{- else }}
{{- $values.replicaCount }}
{{- end }}
{{- end }}

{{/* cognito-authorizer's policy file (YAML): authorizer.policy, its issuers defaulting to the
     chart's pool: cognito.issuer (with cognito.jwksUrl), else cognito.userPoolId in awsRegion
     (the authorizer then accepts both Cognito issuer forms), with cognito.clientIds. */}}
{{- define "cognito-m2m.authorizerPolicy" -}}
{{- $policy := deepCopy .Values.authorizer.policy }}
{{- if not $policy.issuers }}
{{- $pool := dict }}
{{- if .Values.cognito.issuer }}
{{- $_ := set $pool "issuer" (.Values.cognito.issuer | trimSuffix "/") }}
{{- with .Values.cognito.jwksUrl }}
{{- $_ := set $pool "jwksUrl" . }}
{{- end }}
{{- else }}
{{- $_ := set $pool "userPoolId" .Values.cognito.userPoolId }}
{{- $_ := set $pool "region" .Values.awsRegion }}
{{- end }}
{{- with .Values.cognito.clientIds }}
{{- $_ := set $pool "clientIds" . }}
{{- end }}
{{- $_ := set $policy "issuers" (list $pool) }}
{{- end }}
{{- toYaml $policy }}
{{- end }}
