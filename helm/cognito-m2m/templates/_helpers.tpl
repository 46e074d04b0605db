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

{{/* Cognito issuer URL. */}}
{{- define "cognito-m2m.issuer" -}}
{{- if .Values.cognito.issuer }}
{{- .Values.cognito.issuer | trimSuffix "/" }}
{{- else }}
{{- printf "https://cognito-idp.%s.amazonaws.com/%s" .Values.awsRegion .Values.cognito.userPoolId }}
{{- end }}
{{- end }}

{{/* Name of the Secret the CognitoClient produces and content-consumer mounts. */}}
{{- define "cognito-m2m.credentialsSecretName" -}}
{{- default (printf "%s-consumer-credentials" (include "cognito-m2m.fullname" .)) .Values.cognitoClient.secretName }}
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
startupProbe:
  httpGet: {path: /healthz, port: http}
  periodSeconds: 2
  failureThreshold: 30
livenessProbe:
  httpGet: {path: /healthz, port: http}
  periodSeconds: 10
  timeoutSeconds: 2
  failureThreshold: 3
readinessProbe:
  httpGet: {path: /readyz, port: http}
  periodSeconds: 5
  timeoutSeconds: 2
  failureThreshold: 2
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
