{{- define "mic.fullname" -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "mic.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "mic.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: serving
{{- end -}}

{{- /* Every silo of the release, serving and trainer: the Orleans cluster. */ -}}
{{- define "mic.clusterLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "mic.trainerSelectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: trainer
{{- end -}}

{{- define "mic.modelClaim" -}}
{{- if .Values.modelStore.existingClaim -}}{{ .Values.modelStore.existingClaim }}{{- else -}}{{ include "mic.fullname" . }}-models{{- end -}}
{{- end -}}


{{- /* Pieces every silo pod shares (serving and trainer Deployments). */ -}}
{{- define "mic.podSecurityContext" -}}
securityContext:
  runAsNonRoot: true
  runAsUser: {{ .Values.securityContext.runAsUser }}
  runAsGroup: {{ .Values.securityContext.runAsGroup }}
  fsGroup: {{ .Values.securityContext.fsGroup }}
  seccompProfile:
    type: RuntimeDefault
{{- end }}

{{- define "mic.siloEnv" -}}
# Downward API: what Orleans' Kubernetes hosting reads.
- name: POD_NAME
  valueFrom: { fieldRef: { fieldPath: metadata.name } }
- name: POD_NAMESPACE
  valueFrom: { fieldRef: { fieldPath: metadata.namespace } }
- name: POD_IP
  valueFrom: { fieldRef: { fieldPath: status.podIP } }
- name: ORLEANS_SERVICE_ID
  valueFrom: { fieldRef: { fieldPath: "metadata.labels['orleans/serviceId']" } }
- name: ORLEANS_CLUSTER_ID
  valueFrom: { fieldRef: { fieldPath: "metadata.labels['orleans/clusterId']" } }
{{- if .Values.existingSecret }}
- name: Silo__Redis
  valueFrom: { secretKeyRef: { name: {{ .Values.existingSecret }}, key: redis-connection } }
- name: Security__ApiKeys__0
  valueFrom: { secretKeyRef: { name: {{ .Values.existingSecret }}, key: api-key, optional: true } }
- name: Security__WriteKeys__0
  valueFrom: { secretKeyRef: { name: {{ .Values.existingSecret }}, key: write-api-key, optional: true } }
- name: Security__ReadKeys__0
  valueFrom: { secretKeyRef: { name: {{ .Values.existingSecret }}, key: read-api-key, optional: true } }
- name: Kafka__Client__sasl.password
  valueFrom: { secretKeyRef: { name: {{ .Values.existingSecret }}, key: kafka-sasl-password, optional: true } }
{{- else }}
- name: Silo__Redis
  value: {{ .Values.redis.connection | quote }}
{{- end }}
{{- end }}

{{- define "mic.siloProbes" -}}
readinessProbe:
  httpGet: { path: /health/ready, port: http }
  periodSeconds: 5
  failureThreshold: 3
livenessProbe:
  httpGet: { path: /health/live, port: http }
  initialDelaySeconds: 20
  periodSeconds: 10
  failureThreshold: 6
startupProbe:
  httpGet: { path: /health/live, port: http }
  periodSeconds: 5
  failureThreshold: 60
{{- end }}

{{- define "mic.siloContainerHardening" -}}
securityContext:
  allowPrivilegeEscalation: false
  readOnlyRootFilesystem: true
  capabilities:
    drop: ["ALL"]
volumeMounts:
  - name: models
    mountPath: /models
  - name: tmp
    mountPath: /tmp
{{- end }}

{{- define "mic.siloVolumes" -}}
volumes:
  - name: models
    persistentVolumeClaim:
      claimName: {{ include "mic.modelClaim" . }}
  - name: tmp
    emptyDir: {}
{{- end }}
