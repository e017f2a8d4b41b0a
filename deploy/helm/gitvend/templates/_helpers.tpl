{{/* The chart's name, or nameOverride. */}}
{{- define "gitvend.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's full name: fullnameOverride, or the release name with the chart's name unless it contains it. */}}
{{- define "gitvend.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := include "gitvend.name" . }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Labels that select gitvend's pods. */}}
{{- define "gitvend.selectorLabels" -}}
app.kubernetes.io/name: {{ include "gitvend.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: server
{{- end }}

{{/* Labels that select the metrics Service, which routes to the ops port. */}}
{{- define "gitvend.metricsLabels" -}}
app.kubernetes.io/name: {{ include "gitvend.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: metrics
{{- end }}

{{/* Labels of every object; gitvend's required-labels policy asks for app.kubernetes.io/name and gitvend.dev/owner. */}}
{{- define "gitvend.labels" -}}
app.kubernetes.io/name: {{ include "gitvend.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: gitvend
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
gitvend.dev/owner: {{ .Values.owner }}
{{- end }}

{{/* The ServiceAccount's name. */}}
{{- define "gitvend.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "gitvend.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The image reference: repository, tag (appVersion by default) and digest. */}}
{{- define "gitvend.image" -}}
{{- $ref := printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- if .Values.image.digest }}
{{- $ref = printf "%s@%s" $ref .Values.image.digest }}
{{- end }}
{{- $ref }}
{{- end }}

{{/* Where the Secret with the GitHub App's credentials is mounted. */}}
{{- define "gitvend.secretDir" -}}/etc/gitvend/github{{- end }}

{{/*
The server configuration: config with apiVersion and kind, the credential
files in the mounted Secret, and the Lease and the targets' inventories in
the release namespace unless set.
*/}}
{{- define "gitvend.config" -}}
{{- $cfg := deepCopy .Values.config }}
{{- $_ := set $cfg "apiVersion" "gitvend.dev/v1alpha1" }}
{{- $_ = set $cfg "kind" "ServerConfig" }}
{{- $github := get $cfg "github" | default dict }}
{{- $_ = set $github "privateKeyFile" (printf "%s/private-key.pem" (include "gitvend.secretDir" .)) }}
{{- $_ = set $github "webhookSecretFile" (printf "%s/webhook-secret" (include "gitvend.secretDir" .)) }}
{{- $_ = set $cfg "github" $github }}
{{- $le := get $cfg "leaderElection" | default dict }}
{{- if not (get $le "namespace") }}
{{- $_ = set $le "namespace" .Release.Namespace }}
{{- end }}
{{- if not (get $le "name") }}
{{- $_ = set $le "name" (include "gitvend.fullname" .) }}
{{- end }}
{{- $_ = set $cfg "leaderElection" $le }}
{{- range $t := (get $cfg "targets" | default list) }}
{{- if not (get $t "inventoryNamespace") }}
{{- $_ = set $t "inventoryNamespace" $.Release.Namespace }}
{{- end }}
{{- end }}
{{- if and (gt (int .Values.replicas) 1) (not (get $le "enabled")) }}
{{- fail "replicas above 1 need config.leaderElection.enabled: true, or every replica would reconcile" }}
{{- end }}
{{- toYaml $cfg }}
{{- end }}

{{/*
The port of a listen address, for the container port that must match it:
(list ADDRESS FIELD). The host must be empty or a wildcard, since the
kubelet, Services and Prometheus reach the pod's own address, not loopback.
*/}}
{{- define "gitvend.listenPort" -}}
{{- $addr := index . 0 }}
{{- $field := index . 1 }}
{{- $port := regexFind ":[0-9]+$" $addr }}
{{- if not $port }}
{{- fail (printf "config.%s: %q is not host:port, such as \":8080\"" $field $addr) }}
{{- end }}
{{- $host := trimSuffix $port $addr }}
{{- if not (has $host (list "" "0.0.0.0" "[::]")) }}
{{- fail (printf "config.%s: %q listens on %s alone, which the kubelet, Services and Prometheus cannot reach; use \"%s\"" $field $addr $host $port) }}
{{- end }}
{{- trimPrefix ":" $port }}
{{- end }}

{{/* The container port of the public listener, from config.listen. */}}
{{- define "gitvend.httpPort" -}}
{{- include "gitvend.listenPort" (list (.Values.config.listen | default ":8080") "listen") }}
{{- end }}

{{/* The container port of the ops listener, from config.opsListen. */}}
{{- define "gitvend.opsPort" -}}
{{- include "gitvend.listenPort" (list (.Values.config.opsListen | default ":9090") "opsListen") }}
{{- end }}

{{/* PromQL label matchers selecting this installation's series. */}}
{{- define "gitvend.promSelector" -}}
{{- .Values.prometheusRule.selector | default (printf "namespace=%q, job=%q" .Release.Namespace (printf "%s-metrics" (include "gitvend.fullname" .))) }}
{{- end }}
