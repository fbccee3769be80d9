package deploy

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	psaapi "k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// The Kustomize directories, relative to this module.
const (
	k8sBase   = "k8s/base"
	k8sDev    = "k8s/overlays/dev"
	k8sProd   = "k8s/overlays/prod"
	secretEx  = "k8s/base/secret-example.yaml"
	container = "capastan" // the worker's container in the Deployment
)

// manifests is one kustomize build, every object decoded strictly into its
// type: upstream Go types for the Kubernetes API and the Prometheus
// Operator (github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring,
// a small module on the same k8s.io/api), and the minimal structs below
// for KEDA.
type manifests struct {
	Namespaces      []corev1.Namespace
	ServiceAccounts []corev1.ServiceAccount
	ConfigMaps      []corev1.ConfigMap
	Secrets         []corev1.Secret
	Services        []corev1.Service
	Deployments     []appsv1.Deployment
	PDBs            []policyv1.PodDisruptionBudget
	HPAs            []autoscalingv2.HorizontalPodAutoscaler
	NetworkPolicies []networkingv1.NetworkPolicy
	ServiceMonitors []monitoringv1.ServiceMonitor
	PrometheusRules []monitoringv1.PrometheusRule
	ScaledObjects   []scaledObject
	TriggerAuths    []triggerAuthentication
}

// KEDA (keda.sh/v1alpha1). Its upstream types live in
// github.com/kedacore/keda/v2, whose module is the whole operator
// (controller-runtime, the cloud SDKs of its scalers); these minimal
// structs cover the fields of keda.sh's ScaledObject and
// TriggerAuthentication reference that the manifests use, and decoding is
// strict, so a misspelt or unsupported field still fails.
type scaledObject struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		ScaleTargetRef struct {
			APIVersion             string `json:"apiVersion,omitempty"`
			Kind                   string `json:"kind,omitempty"`
			Name                   string `json:"name"`
			EnvSourceContainerName string `json:"envSourceContainerName,omitempty"`
		} `json:"scaleTargetRef"`
		PollingInterval  *int32 `json:"pollingInterval,omitempty"`
		CooldownPeriod   *int32 `json:"cooldownPeriod,omitempty"`
		IdleReplicaCount *int32 `json:"idleReplicaCount,omitempty"`
		MinReplicaCount  *int32 `json:"minReplicaCount,omitempty"`
		MaxReplicaCount  *int32 `json:"maxReplicaCount,omitempty"`
		Advanced         *struct {
			RestoreToOriginalReplicaCount bool `json:"restoreToOriginalReplicaCount,omitempty"`
			HorizontalPodAutoscalerConfig *struct {
				Name     string                                         `json:"name,omitempty"`
				Behavior *autoscalingv2.HorizontalPodAutoscalerBehavior `json:"behavior,omitempty"`
			} `json:"horizontalPodAutoscalerConfig,omitempty"`
		} `json:"advanced,omitempty"`
		Fallback *struct {
			FailureThreshold int32 `json:"failureThreshold"`
			Replicas         int32 `json:"replicas"`
		} `json:"fallback,omitempty"`
		Triggers []struct {
			Type              string            `json:"type"`
			Name              string            `json:"name,omitempty"`
			Metadata          map[string]string `json:"metadata"`
			MetricType        string            `json:"metricType,omitempty"`
			UseCachedMetrics  bool              `json:"useCachedMetrics,omitempty"`
			AuthenticationRef *struct {
				Name string `json:"name"`
				Kind string `json:"kind,omitempty"`
			} `json:"authenticationRef,omitempty"`
		} `json:"triggers"`
	} `json:"spec"`
}

type triggerAuthentication struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		SecretTargetRef []struct {
			Parameter string `json:"parameter"`
			Name      string `json:"name"`
			Key       string `json:"key"`
		} `json:"secretTargetRef,omitempty"`
		Env []struct {
			Parameter     string `json:"parameter"`
			Name          string `json:"name"`
			ContainerName string `json:"containerName,omitempty"`
		} `json:"env,omitempty"`
	} `json:"spec"`
}

// kafkaTriggerParams are the kafka scaler's metadata parameters
// (keda.sh/docs/latest/scalers/apache-kafka). KEDA ignores unknown ones,
// so a misspelt one would silently do nothing: the test rejects them.
var kafkaTriggerParams = []string{"bootstrapServers", "bootstrapServersFromEnv", "consumerGroup", "consumerGroupFromEnv",
	"topic", "topicFromEnv", "lagThreshold", "activationLagThreshold", "offsetResetPolicy", "allowIdleConsumers",
	"scaleToZeroOnInvalidOffset", "excludePersistentLag", "limitToPartitionsWithLag", "ensureEvenDistributionOfPartitions",
	"partitionLimitation", "version", "sasl", "tls", "unsafeSsl", "awsRegion", "awsEndpoint"}

// strictUnmarshal decodes JSON as the API server's strict field validation
// does: field names are case-sensitive, and unknown or duplicate fields
// are errors.
func strictUnmarshal(data []byte, v any) error {
	strict, err := sigsjson.UnmarshalStrict(data, v, sigsjson.DisallowDuplicateFields, sigsjson.DisallowUnknownFields)
	if err != nil {
		return err
	}
	return errors.Join(strict...)
}

func decodeInto[T any](doc []byte, list *[]T) error {
	var v T
	if err := strictUnmarshal(doc, &v); err != nil {
		return err
	}
	*list = append(*list, v)
	return nil
}

// decode decodes each JSON object into its type. An object of a kind this
// test has no type for is an error: everything shipped is checked.
func decode(docs [][]byte) (*manifests, error) {
	m := &manifests{}
	var errs []error
	for _, doc := range docs {
		var tm struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Metadata   struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		if err := json.Unmarshal(doc, &tm); err != nil {
			errs = append(errs, err)
			continue
		}
		var err error
		switch tm.APIVersion + " " + tm.Kind {
		case "v1 Namespace":
			err = decodeInto(doc, &m.Namespaces)
		case "v1 ServiceAccount":
			err = decodeInto(doc, &m.ServiceAccounts)
		case "v1 ConfigMap":
			err = decodeInto(doc, &m.ConfigMaps)
		case "v1 Secret":
			err = decodeInto(doc, &m.Secrets)
		case "v1 Service":
			err = decodeInto(doc, &m.Services)
		case "apps/v1 Deployment":
			err = decodeInto(doc, &m.Deployments)
		case "policy/v1 PodDisruptionBudget":
			err = decodeInto(doc, &m.PDBs)
		case "autoscaling/v2 HorizontalPodAutoscaler":
			err = decodeInto(doc, &m.HPAs)
		case "networking.k8s.io/v1 NetworkPolicy":
			err = decodeInto(doc, &m.NetworkPolicies)
		case "monitoring.coreos.com/v1 ServiceMonitor":
			err = decodeInto(doc, &m.ServiceMonitors)
		case "monitoring.coreos.com/v1 PrometheusRule":
			err = decodeInto(doc, &m.PrometheusRules)
		case "keda.sh/v1alpha1 ScaledObject":
			err = decodeInto(doc, &m.ScaledObjects)
		case "keda.sh/v1alpha1 TriggerAuthentication":
			err = decodeInto(doc, &m.TriggerAuths)
		default:
			err = errors.New("no typed check for this apiVersion and kind: add one to decode")
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s %s %q: %w", tm.APIVersion, tm.Kind, tm.Metadata.Name, err))
		}
	}
	return m, errors.Join(errs...)
}

// build runs kustomize (krusty, as `kubectl apply -k` does) on dir of fsys
// and decodes the result.
func build(fsys filesys.FileSystem, dir string) (*manifests, error) {
	rm, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("kustomize build %s: %w", dir, err)
	}
	var docs [][]byte
	for _, r := range rm.Resources() {
		b, err := r.MarshalJSON()
		if err != nil {
			return nil, fmt.Errorf("kustomize build %s: %s: %w", dir, r.CurId(), err)
		}
		docs = append(docs, b)
	}
	m, err := decode(docs)
	if err != nil {
		return nil, fmt.Errorf("kustomize build %s: %w", dir, err)
	}
	return m, nil
}

func buildOnDisk(t *testing.T, dir string) *manifests {
	t.Helper()
	m, err := build(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// exampleSecret is k8s/base/secret-example.yaml, decoded strictly.
func exampleSecret(t *testing.T) corev1.Secret {
	t.Helper()
	b, err := os.ReadFile(secretEx)
	if err != nil {
		t.Fatal(err)
	}
	j, err := yaml.YAMLToJSON(b)
	if err != nil {
		t.Fatalf("%s: %v", secretEx, err)
	}
	var s corev1.Secret
	if err := strictUnmarshal(j, &s); err != nil {
		t.Fatalf("%s: %v", secretEx, err)
	}
	if s.APIVersion != "v1" || s.Kind != "Secret" {
		t.Fatalf("%s: %s %s, want a v1 Secret", secretEx, s.APIVersion, s.Kind)
	}
	return s
}

// shutdownSlack is what the pod's grace period must leave beyond
// CAPASTAN_SHUTDOWN_TIMEOUT: `capastan serve` finishes the batch in hand
// and the HTTP requests in flight within it (the HTTP server gets at least
// a second), then closes its Kafka clients; and the kubelet's clock
// started before the signal reached the process.
const shutdownSlack = 10 * time.Second

// workerEnv is what the worker container's process sees of the CAPASTAN_*
// variables: the binary's defaults, overridden by envFrom ConfigMaps,
// overridden by env (Kubernetes' precedence). Variables whose value comes
// from a fieldRef or a Secret are in dynamic, not in values.
type workerEnv struct {
	values  map[string]string
	dynamic map[string]bool
}

func (e workerEnv) get(name string) (string, error) {
	if e.dynamic[name] {
		return "", fmt.Errorf("%s is set at run time (valueFrom); this check needs a literal", name)
	}
	v, ok := e.values[name]
	if !ok {
		return "", fmt.Errorf("%s is not set and has no default", name)
	}
	return v, nil
}

func findConfigMap(m *manifests, name string) *corev1.ConfigMap {
	for i := range m.ConfigMaps {
		if m.ConfigMaps[i].Name == name {
			return &m.ConfigMaps[i]
		}
	}
	return nil
}

func environment(m *manifests, c *corev1.Container, known map[string]setting) (workerEnv, []error) {
	var errs []error
	env := workerEnv{values: map[string]string{}, dynamic: map[string]bool{}}
	for name, s := range known {
		env.values[name] = s.Default
	}
	for _, ef := range c.EnvFrom {
		switch {
		case ef.ConfigMapRef != nil:
			cm := findConfigMap(m, ef.ConfigMapRef.Name)
			if cm == nil {
				if ef.ConfigMapRef.Optional == nil || !*ef.ConfigMapRef.Optional {
					errs = append(errs, fmt.Errorf("container %s: envFrom ConfigMap %q is not in the build", c.Name, ef.ConfigMapRef.Name))
				}
				continue
			}
			for _, k := range slices.Sorted(mapsKeys(cm.Data)) {
				name := ef.Prefix + k
				if !strings.HasPrefix(name, "CAPASTAN_") {
					errs = append(errs, fmt.Errorf("ConfigMap %s: key %s becomes the variable %s, which capastan does not read (not CAPASTAN_*)", cm.Name, k, name))
				}
				env.values[name] = cm.Data[k]
				delete(env.dynamic, name)
			}
			if len(cm.BinaryData) > 0 {
				errs = append(errs, fmt.Errorf("ConfigMap %s: binaryData cannot be environment variables", cm.Name))
			}
		case ef.SecretRef != nil:
			errs = append(errs, fmt.Errorf("container %s: envFrom Secret %q: its keys cannot be checked; use env valueFrom secretKeyRef, one variable each", c.Name, ef.SecretRef.Name))
		}
	}
	for _, e := range c.Env {
		if err := checkVar(known, e.Name, e.Value, e.ValueFrom == nil); err != nil {
			errs = append(errs, fmt.Errorf("container %s env: %w", c.Name, err))
		}
		if e.ValueFrom != nil {
			env.dynamic[e.Name] = true
			delete(env.values, e.Name)
		} else {
			env.values[e.Name] = e.Value
			delete(env.dynamic, e.Name)
		}
	}
	return env, errs
}

func mapsKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// checkConfigMaps checks every CAPASTAN_* key of every ConfigMap: a name
// the binary accepts, with a value it can parse.
func checkConfigMaps(m *manifests, known map[string]setting) []error {
	var errs []error
	for _, cm := range m.ConfigMaps {
		for _, k := range slices.Sorted(mapsKeys(cm.Data)) {
			if err := checkVar(known, k, cm.Data[k], true); err != nil {
				errs = append(errs, fmt.Errorf("ConfigMap %s: %w", cm.Name, err))
			}
		}
	}
	return errs
}

func workerContainer(d *appsv1.Deployment) *corev1.Container {
	for i := range d.Spec.Template.Spec.Containers {
		if d.Spec.Template.Spec.Containers[i].Name == container {
			return &d.Spec.Template.Spec.Containers[i]
		}
	}
	return nil
}

// resolvePort is the container port number a probe or Service port names.
func resolvePort(c *corev1.Container, p intstr.IntOrString) (int, error) {
	if p.Type == intstr.Int {
		return p.IntValue(), nil
	}
	for _, cp := range c.Ports {
		if cp.Name == p.StrVal {
			return int(cp.ContainerPort), nil
		}
	}
	return 0, fmt.Errorf("container %s has no port named %q", c.Name, p.StrVal)
}

// servicesOf returns the Services that select the pods of d.
func servicesOf(m *manifests, d *appsv1.Deployment) []*corev1.Service {
	var out []*corev1.Service
	for i, s := range m.Services {
		if len(s.Spec.Selector) > 0 && labels.SelectorFromSet(s.Spec.Selector).Matches(labels.Set(d.Spec.Template.Labels)) {
			out = append(out, &m.Services[i])
		}
	}
	return out
}

// checkHTTP checks that the probes, the scrape annotations, the Service,
// the ServiceMonitor and the NetworkPolicy all use the port
// CAPASTAN_HTTP_ADDR makes the binary listen on, with the right paths.
func checkHTTP(m *manifests, d *appsv1.Deployment, c *corev1.Container, env workerEnv) []error {
	var errs []error
	addr, err := env.get("CAPASTAN_HTTP_ADDR")
	if err != nil {
		return []error{err}
	}
	if addr == "" {
		return []error{errors.New("CAPASTAN_HTTP_ADDR is empty: the HTTP side port is off, and the probes and scraping need it")}
	}
	port, err := httpPort(addr)
	if err != nil {
		return []error{err}
	}
	named := false
	for _, cp := range c.Ports {
		if cp.Name == "http" {
			named = true
			if int(cp.ContainerPort) != port || (cp.Protocol != "" && cp.Protocol != corev1.ProtocolTCP) {
				errs = append(errs, fmt.Errorf("container port http is %d/%s, but CAPASTAN_HTTP_ADDR=%s listens on %d/TCP", cp.ContainerPort, cp.Protocol, addr, port))
			}
		}
	}
	if !named {
		errs = append(errs, errors.New("the container has no port named http"))
	}
	for _, p := range []struct {
		kind     string
		probe    *corev1.Probe
		path     string
		optional bool
	}{
		{"liveness", c.LivenessProbe, "/healthz", false},
		{"readiness", c.ReadinessProbe, "/readyz", false},
		{"startup", c.StartupProbe, "/healthz", true},
	} {
		switch {
		case p.probe == nil && p.optional:
		case p.probe == nil:
			errs = append(errs, fmt.Errorf("no %s probe", p.kind))
		case p.probe.HTTPGet == nil:
			errs = append(errs, fmt.Errorf("the %s probe is not an HTTP GET", p.kind))
		default:
			g := p.probe.HTTPGet
			if g.Path != p.path {
				errs = append(errs, fmt.Errorf("the %s probe GETs %q, want %s", p.kind, g.Path, p.path))
			}
			if g.Scheme != "" && g.Scheme != corev1.URISchemeHTTP {
				errs = append(errs, fmt.Errorf("the %s probe uses %s; the side port is plain HTTP", p.kind, g.Scheme))
			}
			if got, err := resolvePort(c, g.Port); err != nil {
				errs = append(errs, fmt.Errorf("the %s probe: %w", p.kind, err))
			} else if got != port {
				errs = append(errs, fmt.Errorf("the %s probe uses port %d, but CAPASTAN_HTTP_ADDR=%s listens on %d", p.kind, got, addr, port))
			}
		}
	}
	ann := d.Spec.Template.Annotations
	for k, want := range map[string]string{"prometheus.io/scrape": "true", "prometheus.io/port": strconv.Itoa(port), "prometheus.io/path": "/metrics"} {
		if ann[k] != want {
			errs = append(errs, fmt.Errorf("pod annotation %s = %q, want %q", k, ann[k], want))
		}
	}

	svcs := servicesOf(m, d)
	if len(svcs) == 0 {
		errs = append(errs, errors.New("no Service selects the worker's pods"))
	}
	for _, s := range svcs {
		for _, sp := range s.Spec.Ports {
			tp := sp.TargetPort
			if tp.Type == intstr.Int && tp.IntVal == 0 {
				tp = intstr.FromInt32(sp.Port) // an unset targetPort is the port
			}
			if got, err := resolvePort(c, tp); err != nil {
				errs = append(errs, fmt.Errorf("Service %s port %s: %w", s.Name, sp.Name, err))
			} else if sp.Name == "http" && got != port {
				errs = append(errs, fmt.Errorf("Service %s port http targets %d, not the side port %d", s.Name, got, port))
			}
		}
	}

	if len(m.ServiceMonitors) == 0 {
		errs = append(errs, errors.New("no ServiceMonitor"))
	}
	for _, sm := range m.ServiceMonitors {
		sel, err := metav1.LabelSelectorAsSelector(&sm.Spec.Selector)
		if err != nil || sel.Empty() {
			errs = append(errs, fmt.Errorf("ServiceMonitor %s: selector %v: %v", sm.Name, sm.Spec.Selector, err))
			continue
		}
		var selected []*corev1.Service
		for _, s := range svcs {
			if sel.Matches(labels.Set(s.Labels)) {
				selected = append(selected, s)
			}
		}
		if len(selected) == 0 {
			errs = append(errs, fmt.Errorf("ServiceMonitor %s selects no Service of the worker", sm.Name))
		}
		if len(sm.Spec.Endpoints) == 0 {
			errs = append(errs, fmt.Errorf("ServiceMonitor %s has no endpoint", sm.Name))
		}
		for _, ep := range sm.Spec.Endpoints {
			if ep.Path != "/metrics" {
				errs = append(errs, fmt.Errorf("ServiceMonitor %s scrapes path %q, want /metrics", sm.Name, ep.Path))
			}
			if ep.Scheme != nil && strings.ToLower(string(*ep.Scheme)) != "http" {
				errs = append(errs, fmt.Errorf("ServiceMonitor %s scrapes with %s; the side port is plain HTTP", sm.Name, *ep.Scheme))
			}
			for _, s := range selected {
				found := false
				for _, sp := range s.Spec.Ports {
					if sp.Name != "" && sp.Name == ep.Port {
						found = true
						if got, err := resolvePort(c, sp.TargetPort); err != nil || got != port {
							errs = append(errs, fmt.Errorf("ServiceMonitor %s port %s reaches container port %d (%v), not the side port %d", sm.Name, ep.Port, got, err, port))
						}
					}
				}
				if !found {
					errs = append(errs, fmt.Errorf("ServiceMonitor %s scrapes port %q, which Service %s does not name", sm.Name, ep.Port, s.Name))
				}
			}
		}
	}

	if len(m.NetworkPolicies) == 0 {
		errs = append(errs, errors.New("no NetworkPolicy"))
	}
	for _, np := range m.NetworkPolicies {
		open := false
		for _, r := range np.Spec.Ingress {
			for _, p := range r.Ports {
				if p.Port == nil {
					open = true
				} else if got, err := resolvePort(c, *p.Port); err == nil && got == port {
					open = true
				}
			}
		}
		if !open {
			errs = append(errs, fmt.Errorf("NetworkPolicy %s lets nothing in on the side port %d (probes, Prometheus)", np.Name, port))
		}
	}
	return errs
}

// checkShutdown checks the grace period covers CAPASTAN_SHUTDOWN_TIMEOUT.
func checkShutdown(d *appsv1.Deployment, env workerEnv) []error {
	v, err := env.get("CAPASTAN_SHUTDOWN_TIMEOUT")
	if err != nil {
		return []error{err}
	}
	timeout, err := time.ParseDuration(v)
	if err != nil {
		return []error{fmt.Errorf("CAPASTAN_SHUTDOWN_TIMEOUT=%q: %v", v, err)}
	}
	grace := 30 * time.Second // the Kubernetes default
	if g := d.Spec.Template.Spec.TerminationGracePeriodSeconds; g != nil {
		grace = time.Duration(*g) * time.Second
	}
	if grace < timeout+shutdownSlack {
		return []error{fmt.Errorf("terminationGracePeriodSeconds is %s: it must exceed CAPASTAN_SHUTDOWN_TIMEOUT (%s) by %s, or the kubelet kills the worker before the batch in hand commits", grace, timeout, shutdownSlack)}
	}
	return nil
}

// checkSecurity checks the pod meets the "restricted" Pod Security
// Standard and runs as the image's user with a read-only root.
func checkSecurity(d *appsv1.Deployment) []error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	ps := d.Spec.Template.Spec
	psc := ps.SecurityContext
	if psc == nil {
		psc = &corev1.PodSecurityContext{}
	}
	if ps.HostNetwork || ps.HostPID || ps.HostIPC {
		bad("the pod shares a host namespace")
	}
	if ps.AutomountServiceAccountToken == nil || *ps.AutomountServiceAccountToken {
		bad("the pod mounts a service account token; the worker calls no Kubernetes API")
	}
	for _, v := range ps.Volumes {
		if v.HostPath != nil {
			bad("volume %s is a hostPath", v.Name)
		}
	}
	for _, c := range slices.Concat(ps.InitContainers, ps.Containers) {
		sc := c.SecurityContext
		if sc == nil {
			bad("container %s has no securityContext", c.Name)
			continue
		}
		runAsNonRoot := cmpOr(sc.RunAsNonRoot, psc.RunAsNonRoot)
		if runAsNonRoot == nil || !*runAsNonRoot {
			bad("container %s: runAsNonRoot is not true", c.Name)
		}
		if uid := cmpOr(sc.RunAsUser, psc.RunAsUser); uid == nil || *uid != imageUID {
			bad("container %s: runAsUser is %v, want %d (the image's user)", c.Name, deref(uid), imageUID)
		}
		if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			bad("container %s: allowPrivilegeEscalation is not false", c.Name)
		}
		if sc.Privileged != nil && *sc.Privileged {
			bad("container %s is privileged", c.Name)
		}
		if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
			bad("container %s: readOnlyRootFilesystem is not true", c.Name)
		}
		if sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") {
			bad("container %s does not drop ALL capabilities", c.Name)
		} else if len(sc.Capabilities.Add) > 0 {
			bad("container %s adds capabilities %v", c.Name, sc.Capabilities.Add)
		}
		seccomp := cmpOr(sc.SeccompProfile, psc.SeccompProfile)
		if seccomp == nil || seccomp.Type != corev1.SeccompProfileTypeRuntimeDefault {
			bad("container %s: seccompProfile is not RuntimeDefault", c.Name)
		}
	}
	return errs
}

// psaEvaluator is the Pod Security Admission library the API server
// enforces the namespaces' pod-security.kubernetes.io labels with.
var psaEvaluator = sync.OnceValues(func() (policy.Evaluator, error) {
	return policy.NewEvaluator(policy.DefaultChecks(), nil)
})

// checkPodSecurity evaluates the pod template against the "restricted"
// Pod Security Standard, latest version, as admission would.
func checkPodSecurity(d *appsv1.Deployment) []error {
	e, err := psaEvaluator()
	if err != nil {
		return []error{err}
	}
	var errs []error
	lv := psaapi.LevelVersion{Level: psaapi.LevelRestricted, Version: psaapi.LatestVersion()}
	for _, r := range e.EvaluatePod(lv, &d.Spec.Template.ObjectMeta, &d.Spec.Template.Spec) {
		if !r.Allowed {
			errs = append(errs, fmt.Errorf("Pod Security Standard %q forbids the pod: %s (%s)", lv.Level, r.ForbiddenReason, r.ForbiddenDetail))
		}
	}
	return errs
}

func cmpOr[T any](a, b *T) *T {
	if a != nil {
		return a
	}
	return b
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

// checkSelectors checks every selector of the build selects the worker's
// pods, and that the pod's service account is there.
func checkSelectors(m *manifests, d *appsv1.Deployment) []error {
	var errs []error
	pods := labels.Set(d.Spec.Template.Labels)
	matches := func(what string, ls *metav1.LabelSelector) {
		sel, err := metav1.LabelSelectorAsSelector(ls)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("%s: %v", what, err))
		case !sel.Matches(pods):
			errs = append(errs, fmt.Errorf("%s (%s) does not select the worker's pods (%s)", what, sel, pods))
		}
	}
	matches("Deployment "+d.Name+" selector", d.Spec.Selector)
	for _, tsc := range d.Spec.Template.Spec.TopologySpreadConstraints {
		matches("topologySpreadConstraint "+tsc.TopologyKey, tsc.LabelSelector)
	}
	if len(m.PDBs) == 0 {
		errs = append(errs, errors.New("no PodDisruptionBudget"))
	}
	for _, p := range m.PDBs {
		matches("PodDisruptionBudget "+p.Name, p.Spec.Selector)
	}
	for _, np := range m.NetworkPolicies {
		matches("NetworkPolicy "+np.Name, &np.Spec.PodSelector)
	}
	if sa := d.Spec.Template.Spec.ServiceAccountName; sa != "" {
		found := false
		for _, s := range m.ServiceAccounts {
			found = found || s.Name == sa
		}
		if !found {
			errs = append(errs, fmt.Errorf("service account %q is not in the build", sa))
		}
	}
	return errs
}

// kedaSASL is the kafka scaler's name for each CAPASTAN_KAFKA_SASL_MECHANISM.
var kedaSASL = map[string]string{"": "", "PLAIN": "plaintext", "SCRAM-SHA-256": "scram_sha256", "SCRAM-SHA-512": "scram_sha512"}

// checkScaling checks at most one autoscaler drives the Deployment, within
// the input topic's partitions, and that KEDA watches what the workers
// consume, the way they connect.
func checkScaling(m *manifests, d *appsv1.Deployment, env workerEnv) []error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	partitions := 0
	if v, err := env.get("CAPASTAN_TOPIC_PARTITIONS"); err != nil {
		bad("%v", err)
	} else if partitions, err = strconv.Atoi(v); err != nil {
		bad("CAPASTAN_TOPIC_PARTITIONS=%q: %v", v, err)
	}
	targets := func(apiVersion, kind, name string) bool {
		return kind == "Deployment" && name == d.Name && (apiVersion == "" || apiVersion == "apps/v1")
	}
	replicas := func(what string, minR, maxR int32) {
		if minR < 1 || maxR < minR {
			bad("%s: replicas %d to %d", what, minR, maxR)
		}
		if int(maxR) > partitions {
			bad("%s scales to %d replicas, but the input topic has %d partitions: the workers beyond them would idle", what, maxR, partitions)
		}
	}
	scalers := 0
	for _, h := range m.HPAs {
		r := h.Spec.ScaleTargetRef
		if !targets(r.APIVersion, r.Kind, r.Name) {
			bad("HorizontalPodAutoscaler %s scales %s %s, not in the build", h.Name, r.Kind, r.Name)
			continue
		}
		scalers++
		replicas("HorizontalPodAutoscaler "+h.Name, deref1(h.Spec.MinReplicas), h.Spec.MaxReplicas)
		if len(h.Spec.Metrics) == 0 {
			bad("HorizontalPodAutoscaler %s has no metric", h.Name)
		}
	}
	for _, so := range m.ScaledObjects {
		r := so.Spec.ScaleTargetRef
		if !targets(r.APIVersion, cmpOrStr(r.Kind, "Deployment"), r.Name) {
			bad("ScaledObject %s scales %s %s, not in the build", so.Name, r.Kind, r.Name)
			continue
		}
		scalers++
		if so.Spec.MaxReplicaCount == nil {
			bad("ScaledObject %s has no maxReplicaCount (KEDA's default is 100)", so.Name)
		} else {
			replicas("ScaledObject "+so.Name, deref1(so.Spec.MinReplicaCount), *so.Spec.MaxReplicaCount)
		}
		errs = append(errs, checkKafkaTriggers(m, so, env)...)
	}
	switch {
	case scalers > 1:
		bad("%d autoscalers drive Deployment %s: they fight over its replica count (KEDA creates an HPA of its own)", scalers, d.Name)
	case scalers == 1 && d.Spec.Replicas != nil:
		bad("Deployment %s sets spec.replicas and is autoscaled: every apply would reset the autoscaler's count (and rebalance the group)", d.Name)
	case scalers == 0 && d.Spec.Replicas == nil:
		bad("Deployment %s has neither spec.replicas nor an autoscaler", d.Name)
	}
	return errs
}

func deref1(p *int32) int32 {
	if p == nil {
		return 1
	}
	return *p
}

func cmpOrStr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func checkKafkaTriggers(m *manifests, so scaledObject, env workerEnv) []error {
	var errs []error
	bad := func(format string, a ...any) {
		errs = append(errs, fmt.Errorf("ScaledObject %s: "+format, append([]any{so.Name}, a...)...))
	}
	if len(so.Spec.Triggers) == 0 {
		bad("no trigger")
	}
	for _, tr := range so.Spec.Triggers {
		if tr.Type != "kafka" {
			bad("trigger type %q; the workers' load is their consumer lag (kafka)", tr.Type)
			continue
		}
		md := tr.Metadata
		for _, k := range slices.Sorted(mapsKeys(md)) {
			if !slices.Contains(kafkaTriggerParams, k) {
				bad("kafka trigger parameter %q is not one KEDA knows (it would be ignored)", k)
			}
		}
		for param, variable := range map[string]string{"bootstrapServers": "CAPASTAN_KAFKA_BROKERS", "consumerGroup": "CAPASTAN_GROUP", "topic": "CAPASTAN_INPUT_TOPIC"} {
			want, err := env.get(variable)
			if err != nil {
				errs = append(errs, err)
			} else if md[param] != want {
				bad("kafka trigger %s = %q, but the workers' %s = %q", param, md[param], variable, want)
			}
		}
		if n, err := strconv.Atoi(md["lagThreshold"]); err != nil || n < 1 {
			bad("lagThreshold %q is not a positive integer", md["lagThreshold"])
		}
		if md["allowIdleConsumers"] == "true" {
			bad("allowIdleConsumers lets KEDA scale past the partition count")
		}
		if mech, err := env.get("CAPASTAN_KAFKA_SASL_MECHANISM"); err != nil {
			errs = append(errs, err)
		} else if got, want := strings.TrimPrefix(md["sasl"], "none"), kedaSASL[strings.ToUpper(mech)]; got != want {
			bad("kafka trigger sasl = %q, but the workers use CAPASTAN_KAFKA_SASL_MECHANISM=%q (KEDA: %q)", md["sasl"], mech, want)
		}
		if v, err := env.get("CAPASTAN_KAFKA_TLS"); err != nil {
			errs = append(errs, err)
		} else if tls, _ := strconv.ParseBool(v); tls != (md["tls"] == "enable") {
			bad("kafka trigger tls = %q, but the workers use CAPASTAN_KAFKA_TLS=%q", md["tls"], v)
		}
		if md["sasl"] == "" || md["sasl"] == "none" {
			continue
		}
		if tr.AuthenticationRef == nil {
			bad("SASL without an authenticationRef")
			continue
		}
		var ta *triggerAuthentication
		for i := range m.TriggerAuths {
			if m.TriggerAuths[i].Name == tr.AuthenticationRef.Name {
				ta = &m.TriggerAuths[i]
			}
		}
		if ta == nil || (tr.AuthenticationRef.Kind != "" && tr.AuthenticationRef.Kind != "TriggerAuthentication") {
			bad("authenticationRef %v is not a TriggerAuthentication of the build", *tr.AuthenticationRef)
			continue
		}
		var params []string
		for _, r := range ta.Spec.SecretTargetRef {
			params = append(params, r.Parameter)
		}
		for _, p := range []string{"username", "password"} {
			if !slices.Contains(params, p) {
				bad("TriggerAuthentication %s gives no %s for SASL", ta.Name, p)
			}
		}
	}
	return errs
}

// checkSecretRefs checks every Secret the build reads is the one
// secret-example.yaml documents, with keys it has.
func checkSecretRefs(m *manifests, ex corev1.Secret) []error {
	var errs []error
	keys := map[string]bool{}
	for k := range ex.StringData {
		keys[k] = true
	}
	for k := range ex.Data {
		keys[k] = true
	}
	ref := func(what, name, key string) {
		if name != ex.Name || !keys[key] {
			errs = append(errs, fmt.Errorf("%s reads Secret %s key %s, which %s does not document", what, name, key, secretEx))
		}
	}
	for _, d := range m.Deployments {
		for _, c := range d.Spec.Template.Spec.Containers {
			for _, e := range c.Env {
				if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
					ref("env "+e.Name, e.ValueFrom.SecretKeyRef.Name, e.ValueFrom.SecretKeyRef.Key)
				}
			}
		}
	}
	for _, ta := range m.TriggerAuths {
		for _, r := range ta.Spec.SecretTargetRef {
			ref("TriggerAuthentication "+ta.Name+" "+r.Parameter, r.Name, r.Key)
		}
	}
	return errs
}

var jobMatcher = regexp.MustCompile(`\bjob\s*=~?\s*"([^"]*)"`)

// checkRules checks the PrometheusRule's job selectors name the job the
// ServiceMonitor produces (the Service name, unless jobLabel says else).
func checkRules(m *manifests) []error {
	var errs []error
	jobs := map[string]bool{}
	for _, sm := range m.ServiceMonitors {
		for _, s := range m.Services {
			sel, err := metav1.LabelSelectorAsSelector(&sm.Spec.Selector)
			if err == nil && sel.Matches(labels.Set(s.Labels)) {
				job := s.Name
				if sm.Spec.JobLabel != "" && s.Labels[sm.Spec.JobLabel] != "" {
					job = s.Labels[sm.Spec.JobLabel]
				}
				jobs[job] = true
			}
		}
	}
	for _, pr := range m.PrometheusRules {
		for _, g := range pr.Spec.Groups {
			for _, r := range g.Rules {
				for _, sub := range jobMatcher.FindAllStringSubmatch(r.Expr.String(), -1) {
					re, err := regexp.Compile("^(?:" + sub[1] + ")$")
					if !jobs[sub[1]] && (err != nil || !re.MatchString(firstKey(jobs))) {
						errs = append(errs, fmt.Errorf("PrometheusRule %s, rule %s%s: selects job %q, but the ServiceMonitor's job is %v", pr.Name, r.Alert, r.Record, sub[1], slices.Sorted(mapsKeys(jobs))))
					}
				}
			}
		}
	}
	return errs
}

func firstKey(m map[string]bool) string {
	for k := range m {
		return k
	}
	return ""
}

// check runs every check that must hold for any build of the worker.
func check(m *manifests, known map[string]setting) []error {
	if len(m.Deployments) != 1 {
		return []error{fmt.Errorf("want one Deployment, got %d", len(m.Deployments))}
	}
	d := &m.Deployments[0]
	c := workerContainer(d)
	if c == nil {
		return []error{fmt.Errorf("Deployment %s has no container %q", d.Name, container)}
	}
	env, errs := environment(m, c, known)
	errs = append(errs, checkConfigMaps(m, known)...)
	errs = append(errs, checkHTTP(m, d, c, env)...)
	errs = append(errs, checkShutdown(d, env)...)
	errs = append(errs, checkSecurity(d)...)
	errs = append(errs, checkPodSecurity(d)...)
	errs = append(errs, checkSelectors(m, d)...)
	errs = append(errs, checkScaling(m, d, env)...)
	errs = append(errs, checkRules(m)...)
	return errs
}

var pinnedImage = regexp.MustCompile(`^[^@\s]+(@sha256:[0-9a-f]{64}|:[\w][\w.-]{0,127})$`)

func TestKustomize(t *testing.T) {
	known := settings(t)
	secret := exampleSecret(t)
	cases := []struct {
		dir       string
		namespace string
		replicas  *int32 // nil: autoscaled
		hpa, keda bool
		env       map[string]string // effective values expected
		pinned    bool
	}{
		{dir: k8sBase, hpa: true, env: map[string]string{"CAPASTAN_DELIVERY": "exactly-once"}},
		{dir: k8sDev, namespace: "capastan-dev", replicas: ptr[int32](1),
			env: map[string]string{"CAPASTAN_DELIVERY": "at-least-once", "CAPASTAN_CREATE_TOPICS": "true"}},
		{dir: k8sProd, namespace: "capastan", keda: true, pinned: true,
			env: map[string]string{"CAPASTAN_DELIVERY": "exactly-once", "CAPASTAN_CREATE_TOPICS": "false",
				"CAPASTAN_KAFKA_TLS": "true", "CAPASTAN_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512"}},
	}
	for _, tc := range cases {
		t.Run(path.Base(tc.dir), func(t *testing.T) {
			m := buildOnDisk(t, tc.dir)
			for _, err := range check(m, known) {
				t.Error(err)
			}
			for _, err := range checkSecretRefs(m, secret) {
				t.Error(err)
			}
			d := &m.Deployments[0]
			c := workerContainer(d)
			env, _ := environment(m, c, known)
			for k, want := range tc.env {
				if got, err := env.get(k); err != nil || got != want {
					t.Errorf("%s = %q (%v), want %q", k, got, err, want)
				}
			}
			// Each pod's own ids: unique among live workers, stable across
			// container restarts.
			for _, name := range []string{"CAPASTAN_GROUP_INSTANCE_ID", "CAPASTAN_TRANSACTIONAL_ID"} {
				if !fromPodName(c, name) {
					t.Errorf("%s does not come from the pod name (fieldRef metadata.name)", name)
				}
			}
			if got := deref(d.Spec.Replicas); fmt.Sprint(got) != fmt.Sprint(deref(tc.replicas)) {
				t.Errorf("spec.replicas = %v, want %v", got, deref(tc.replicas))
			}
			if got := len(m.HPAs) > 0; got != tc.hpa {
				t.Errorf("HorizontalPodAutoscaler present: %v, want %v", got, tc.hpa)
			}
			if got := len(m.ScaledObjects) > 0; got != tc.keda {
				t.Errorf("KEDA ScaledObject present: %v, want %v", got, tc.keda)
			}
			if tc.keda {
				if got := deref1(m.ScaledObjects[0].Spec.MinReplicaCount); got != 3 {
					t.Errorf("KEDA minReplicaCount = %d, want 3", got)
				}
			}
			if len(m.PrometheusRules) != 1 {
				t.Errorf("%d PrometheusRules, want 1 (prometheusrule.yaml)", len(m.PrometheusRules))
			}
			if tc.pinned && (!pinnedImage.MatchString(c.Image) || strings.HasSuffix(c.Image, ":latest")) {
				t.Errorf("image %q is not pinned to a tag or digest", c.Image)
			}
			if tc.namespace != "" {
				checkNamespace(t, m, tc.namespace)
			}
			if tc.env["CAPASTAN_KAFKA_SASL_MECHANISM"] != "" {
				for _, name := range []string{"CAPASTAN_KAFKA_SASL_USER", "CAPASTAN_KAFKA_SASL_PASSWORD"} {
					if ref := secretRef(c, name); ref == nil || (ref.Optional != nil && *ref.Optional) {
						t.Errorf("%s is not read from a required Secret key", name)
					}
				}
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func fromPodName(c *corev1.Container, name string) bool {
	for _, e := range c.Env {
		if e.Name == name {
			return e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.name"
		}
	}
	return false
}

func secretRef(c *corev1.Container, name string) *corev1.SecretKeySelector {
	for _, e := range c.Env {
		if e.Name == name && e.ValueFrom != nil {
			return e.ValueFrom.SecretKeyRef
		}
	}
	return nil
}

// checkNamespace checks the overlay's Namespace enforces the restricted
// Pod Security Standard and holds every namespaced object.
func checkNamespace(t *testing.T, m *manifests, ns string) {
	t.Helper()
	if len(m.Namespaces) != 1 || m.Namespaces[0].Name != ns {
		t.Errorf("want the Namespace %s in the build, got %d namespaces", ns, len(m.Namespaces))
	} else if got := m.Namespaces[0].Labels["pod-security.kubernetes.io/enforce"]; got != "restricted" {
		t.Errorf("Namespace %s enforces pod security %q, want restricted", ns, got)
	}
	var metas []metav1.ObjectMeta
	for _, d := range m.Deployments {
		metas = append(metas, d.ObjectMeta)
	}
	for _, s := range m.Services {
		metas = append(metas, s.ObjectMeta)
	}
	for _, c := range m.ConfigMaps {
		metas = append(metas, c.ObjectMeta)
	}
	for _, s := range m.ScaledObjects {
		metas = append(metas, s.ObjectMeta)
	}
	for _, s := range m.TriggerAuths {
		metas = append(metas, s.ObjectMeta)
	}
	for _, s := range m.ServiceMonitors {
		metas = append(metas, s.ObjectMeta)
	}
	for _, meta := range metas {
		if meta.Namespace != ns {
			t.Errorf("%s is in namespace %q, want %q", meta.Name, meta.Namespace, ns)
		}
	}
}

// memFS copies this module's k8s/ directory into an in-memory file system
// at /k8s, for builds of overlays written by the tests.
func memFS(t *testing.T) filesys.FileSystem {
	t.Helper()
	mem := filesys.MakeFsInMemory()
	err := filepath.WalkDir("k8s", func(p string, de fs.DirEntry, err error) error {
		if err != nil || de.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return mem.WriteFile("/"+filepath.ToSlash(p), b)
	})
	if err != nil {
		t.Fatal(err)
	}
	return mem
}

// TestChecksCatchMistakes builds overlays with one mistake each, in
// memory on top of the real base, and expects the checks to name it.
func TestChecksCatchMistakes(t *testing.T) {
	known := settings(t)
	const envPatch = `
  - target: {kind: Deployment, name: capastan}
    patch: |-
      - op: add
        path: /spec/template/spec/containers/0/env/-
        value: {name: %s, value: "%s"}`
	const containerPatch = `
  - patch: |-
      apiVersion: apps/v1
      kind: Deployment
      metadata: {name: capastan}
      spec:
        template:
          spec:
            containers:
              - name: capastan
                %s`
	cases := []struct {
		name, kustomization, want string
		copy                      []string // files of k8s/overlays/ copied beside the kustomization
	}{
		{"unknown variable in the ConfigMap",
			"configMapGenerator:\n  - {name: capastan, behavior: merge, literals: [CAPASTAN_NOT_A_SETTING=1]}\n",
			"CAPASTAN_NOT_A_SETTING is not a variable capastan accepts", nil},
		{"unknown variable in env",
			"patches:" + fmt.Sprintf(envPatch, "CAPASTAN_HTTP_ADRR", ":8080") + "\n",
			"CAPASTAN_HTTP_ADRR is not a variable capastan accepts", nil},
		{"a ConfigMap key without the prefix",
			"configMapGenerator:\n  - {name: capastan, behavior: merge, literals: [KAFKA_BROKERS=kafka:9092]}\n",
			"which capastan does not read", nil},
		{"a duration without a unit",
			"configMapGenerator:\n  - {name: capastan, behavior: merge, literals: [CAPASTAN_SESSION_TIMEOUT=10]}\n",
			"not a duration", nil},
		{"a shutdown longer than the grace period",
			"configMapGenerator:\n  - {name: capastan, behavior: merge, literals: [CAPASTAN_SHUTDOWN_TIMEOUT=60s]}\n",
			"terminationGracePeriodSeconds", nil},
		{"the side port moved without the probes",
			"configMapGenerator:\n  - {name: capastan, behavior: merge, literals: [\"CAPASTAN_HTTP_ADDR=:9090\"]}\n",
			"the liveness probe uses port 8080", nil},
		{"a misspelt field",
			"patches:" + fmt.Sprintf(containerPatch, "livenessprobe: {periodSeconds: 5}") + "\n",
			`unknown field "spec.template.spec.containers[0].livenessprobe"`, nil},
		{"privilege escalation",
			"patches:" + fmt.Sprintf(containerPatch, "securityContext: {allowPrivilegeEscalation: true}") + "\n",
			"allowPrivilegeEscalation is not false", nil},
		{"a host port (Pod Security Admission)",
			"patches:\n  - target: {kind: Deployment, name: capastan}\n    patch: |-\n      - {op: add, path: /spec/template/spec/containers/0/ports/0/hostPort, value: 8080}\n",
			`Pod Security Standard "restricted" forbids the pod: hostPort`, nil},
		{"KEDA on top of the HPA",
			"resources:\n  - scaledobject.yaml\n  - triggerauthentication.yaml\n",
			"2 autoscalers drive Deployment capastan",
			[]string{"prod/scaledobject.yaml", "prod/triggerauthentication.yaml"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fsys := memFS(t)
			k := "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ../../base\n" + tc.kustomization
			// A second resources: list would be a duplicate key: merge it.
			k = strings.Replace(k, "  - ../../base\nresources:\n", "  - ../../base\n", 1)
			if err := fsys.WriteFile("/k8s/overlays/bad/kustomization.yaml", []byte(k)); err != nil {
				t.Fatal(err)
			}
			for _, f := range tc.copy {
				b, err := fsys.ReadFile("/k8s/overlays/" + f)
				if err == nil {
					err = fsys.WriteFile("/k8s/overlays/bad/"+path.Base(f), b)
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			m, err := build(fsys, "/k8s/overlays/bad")
			var errs []error
			if err != nil {
				errs = []error{err}
			} else {
				errs = check(m, known)
			}
			joined := errors.Join(errs...)
			if joined == nil || !strings.Contains(joined.Error(), tc.want) {
				t.Errorf("want an error containing %q, got: %v\nkustomization:\n%s", tc.want, joined, k)
			}
		})
	}
}

// TestStrictDecoding checks decode rejects what the API server's strict
// field validation would, for the CRDs' structs too.
func TestStrictDecoding(t *testing.T) {
	for name, doc := range map[string]string{
		"unknown field":        `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"x"},"spec":{"replica":1}}`,
		"wrong case":           `{"apiVersion":"v1","kind":"Service","metadata":{"name":"x"},"spec":{"Type":"ClusterIP"}}`,
		"duplicate field":      `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"},"data":{"a":"1"},"data":{"b":"2"}}`,
		"HPA field in KEDA":    `{"apiVersion":"keda.sh/v1alpha1","kind":"ScaledObject","metadata":{"name":"x"},"spec":{"scaleTargetRef":{"name":"x"},"minReplicas":1,"triggers":[]}}`,
		"ServiceMonitor typo":  `{"apiVersion":"monitoring.coreos.com/v1","kind":"ServiceMonitor","metadata":{"name":"x"},"spec":{"selector":{},"endpoints":[{"port":"http","metricsPath":"/metrics"}]}}`,
		"unknown kind":         `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"x"}}`,
		"old autoscaling API":  `{"apiVersion":"autoscaling/v1","kind":"HorizontalPodAutoscaler","metadata":{"name":"x"}}`,
		"TriggerAuth misspelt": `{"apiVersion":"keda.sh/v1alpha1","kind":"TriggerAuthentication","metadata":{"name":"x"},"spec":{"secretTargetRefs":[]}}`,
	} {
		if _, err := decode([][]byte{[]byte(doc)}); err == nil {
			t.Errorf("%s: decoded without error: %s", name, doc)
		}
	}
	ok := `{"apiVersion":"keda.sh/v1alpha1","kind":"ScaledObject","metadata":{"name":"x"},"spec":{"scaleTargetRef":{"name":"x"},"minReplicaCount":1,"triggers":[{"type":"kafka","metadata":{"topic":"t"}}]}}`
	if _, err := decode([][]byte{[]byte(ok)}); err != nil {
		t.Errorf("a valid ScaledObject: %v", err)
	}
}
