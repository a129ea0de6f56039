{{/* The chart name, or nameOverride. */}}
{{- define "financialapi-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The prefix of every object name: fullnameOverride, else <release>-<name> (or <release> when it
already contains the name). At most 63 characters. */}}
{{- define "financialapi-operator.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "financialapi-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels every object of the release carries. */}}
{{- define "financialapi-operator.labels" -}}
helm.sh/chart: {{ include "financialapi-operator.chart" . }}
{{ include "financialapi-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | trunc 63 | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: edgartools
{{- end -}}

{{/* Labels that select the operator pods of the release (all watched scopes). */}}
{{- define "financialapi-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "financialapi-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "financialapi-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "financialapi-operator.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "financialapi-operator.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}
{{- end -}}

{{/* The leader-election Lease of the operator's replicas, in the release namespace. */}}
{{- define "financialapi-operator.leaseName" -}}
{{- printf "%s-leader" (include "financialapi-operator.fullname" .) -}}
{{- end -}}

{{/* Checks across values that the schema cannot express. */}}
{{- define "financialapi-operator.validate" -}}
{{- $le := .Values.leaderElection -}}
{{- if not (gt ($le.leaseDurationSeconds | float64) ($le.renewDeadlineSeconds | float64)) -}}
{{- fail (printf "leaderElection.leaseDurationSeconds (%v) must be greater than leaderElection.renewDeadlineSeconds (%v)" $le.leaseDurationSeconds $le.renewDeadlineSeconds) -}}
{{- end -}}
{{- if not (gt ($le.renewDeadlineSeconds | float64) ($le.retryPeriodSeconds | float64)) -}}
{{- fail (printf "leaderElection.renewDeadlineSeconds (%v) must be greater than leaderElection.retryPeriodSeconds (%v)" $le.renewDeadlineSeconds $le.retryPeriodSeconds) -}}
{{- end -}}
{{- if and (gt (int .Values.replicas) 1) (not $le.enabled) -}}
{{- fail (printf "replicas is %v but leaderElection.enabled is false: replicas would reconcile the same FinancialApis at once; enable leader election or set replicas: 1" .Values.replicas) -}}
{{- end -}}
{{- if and (gt (.Values.client.qps | float64) 0.0) (lt (.Values.client.burst | float64) (.Values.client.qps | float64)) -}}
{{- fail (printf "client.burst (%v) must be at least client.qps (%v)" .Values.client.burst .Values.client.qps) -}}
{{- end -}}
{{- if eq (int .Values.metrics.port) (int .Values.healthPort) -}}
{{- fail (printf "metrics.port and healthPort are both %v: the operator serves /metrics and the probes on separate ports" .Values.healthPort) -}}
{{- end -}}
{{- end -}}

{{/* The rules the operator needs where it manages FinancialApis (a Role per watched namespace, or a
ClusterRole). Each is derived from the code; docs/helm.md names the call behind every rule. */}}
{{- define "financialapi-operator.managerRules" -}}
# The primary resource: watched (list + watch); status written with a merge patch.
- apiGroups: [edgartools.io]
  resources: [financialapis]
  verbs: [list, watch]
- apiGroups: [edgartools.io]
  resources: [financialapis/status]
  verbs: [patch]
# Children carry an ownerReference with blockOwnerDeletion: clusters with the
# OwnerReferencesPermissionEnforcement admission plugin require update on the owner's finalizers.
- apiGroups: [edgartools.io]
  resources: [financialapis/finalizers]
  verbs: [update]
# Children: cached by label (list + watch), read when absent from the cache to refuse adopting an object
# the FinancialApi does not control (get), server-side applied (patch; create when new), pruned (delete).
- apiGroups: [""]
  resources: [configmaps, services, persistentvolumeclaims]
  verbs: [get, list, watch, create, patch, delete]
# Secrets likewise, plus get: generated passwords are read back and referenced Secrets read uncached.
- apiGroups: [""]
  resources: [secrets]
  verbs: [get, list, watch, create, patch, delete]
- apiGroups: [apps]
  resources: [deployments, statefulsets]
  verbs: [get, list, watch, create, patch, delete]
- apiGroups: [autoscaling]
  resources: [horizontalpodautoscalers]
  verbs: [get, list, watch, create, patch, delete]
- apiGroups: [policy]
  resources: [poddisruptionbudgets]
  verbs: [get, list, watch, create, patch, delete]
- apiGroups: [networking.k8s.io]
  resources: [networkpolicies]
  verbs: [get, list, watch, create, patch, delete]
# batch: the backup and warm-up CronJobs, the loader Job.
- apiGroups: [batch]
  resources: [cronjobs, jobs]
  verbs: [get, list, watch, create, patch, delete]
# Only used when the cluster serves the Prometheus Operator CRDs (looked up at start).
- apiGroups: [monitoring.coreos.com]
  resources: [servicemonitors, prometheusrules]
  verbs: [get, list, watch, create, patch, delete]
# Events on FinancialApis: created, and patched when one repeats.
- apiGroups: [""]
  resources: [events]
  verbs: [create, patch]
{{- end -}}
