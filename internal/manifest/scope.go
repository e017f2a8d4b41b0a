package manifest

import "strings"

// clusterScoped lists the cluster-scoped kinds of Kubernetes' built-in API
// groups, by "Kind.group" ("Kind" for the core group).
var clusterScoped = map[string]bool{
	"Namespace": true, "Node": true, "PersistentVolume": true, "ComponentStatus": true,
	"ClusterRole.rbac.authorization.k8s.io":                         true,
	"ClusterRoleBinding.rbac.authorization.k8s.io":                  true,
	"CustomResourceDefinition.apiextensions.k8s.io":                 true,
	"StorageClass.storage.k8s.io":                                   true,
	"CSIDriver.storage.k8s.io":                                      true,
	"CSINode.storage.k8s.io":                                        true,
	"VolumeAttachment.storage.k8s.io":                               true,
	"VolumeAttributesClass.storage.k8s.io":                          true,
	"PriorityClass.scheduling.k8s.io":                               true,
	"RuntimeClass.node.k8s.io":                                      true,
	"IngressClass.networking.k8s.io":                                true,
	"IPAddress.networking.k8s.io":                                   true,
	"ServiceCIDR.networking.k8s.io":                                 true,
	"MutatingWebhookConfiguration.admissionregistration.k8s.io":     true,
	"ValidatingWebhookConfiguration.admissionregistration.k8s.io":   true,
	"ValidatingAdmissionPolicy.admissionregistration.k8s.io":        true,
	"ValidatingAdmissionPolicyBinding.admissionregistration.k8s.io": true,
	"MutatingAdmissionPolicy.admissionregistration.k8s.io":          true,
	"MutatingAdmissionPolicyBinding.admissionregistration.k8s.io":   true,
	"APIService.apiregistration.k8s.io":                             true,
	"CertificateSigningRequest.certificates.k8s.io":                 true,
	"ClusterTrustBundle.certificates.k8s.io":                        true,
	"FlowSchema.flowcontrol.apiserver.k8s.io":                       true,
	"PriorityLevelConfiguration.flowcontrol.apiserver.k8s.io":       true,
	"DeviceClass.resource.k8s.io":                                   true,
	"ResourceSlice.resource.k8s.io":                                 true,
	"TokenReview.authentication.k8s.io":                             true,
	"SelfSubjectReview.authentication.k8s.io":                       true,
	"SubjectAccessReview.authorization.k8s.io":                      true,
	"SelfSubjectAccessReview.authorization.k8s.io":                  true,
	"SelfSubjectRulesReview.authorization.k8s.io":                   true,
	"StorageVersion.internal.apiserver.k8s.io":                      true,
	"StorageVersionMigration.storagemigration.k8s.io":               true,
}

// namespaced lists the namespaced kinds of the built-in API groups.
var namespaced = map[string]bool{
	"Pod": true, "Service": true, "ConfigMap": true, "Secret": true, "ServiceAccount": true,
	"PersistentVolumeClaim": true, "ReplicationController": true, "Endpoints": true,
	"LimitRange": true, "ResourceQuota": true, "Event": true, "PodTemplate": true, "Binding": true,
	"Deployment.apps": true, "StatefulSet.apps": true, "DaemonSet.apps": true,
	"ReplicaSet.apps": true, "ControllerRevision.apps": true,
	"Job.batch": true, "CronJob.batch": true,
	"HorizontalPodAutoscaler.autoscaling": true,
	"PodDisruptionBudget.policy":          true,
	"Ingress.networking.k8s.io":           true, "NetworkPolicy.networking.k8s.io": true,
	"Role.rbac.authorization.k8s.io": true, "RoleBinding.rbac.authorization.k8s.io": true,
	"Lease.coordination.k8s.io":                     true,
	"EndpointSlice.discovery.k8s.io":                true,
	"Event.events.k8s.io":                           true,
	"CSIStorageCapacity.storage.k8s.io":             true,
	"ResourceClaim.resource.k8s.io":                 true,
	"ResourceClaimTemplate.resource.k8s.io":         true,
	"LocalSubjectAccessReview.authorization.k8s.io": true,
}

// Scope tells whether the kind of id is namespaced. known is false for kinds
// outside Kubernetes' built-in API groups, such as custom resources, whose
// scope only a cluster's discovery can tell.
func Scope(id ID) (isNamespaced, known bool) {
	namespaced, known := scopes[groupKind{id.Group(), id.Kind}]
	return namespaced, known
}

// groupKind is a kind and its API group, which a map looks up without
// joining them.
type groupKind struct{ group, kind string }

// scopes holds every kind of clusterScoped and namespaced: true for the
// namespaced ones.
var scopes = func() map[groupKind]bool {
	out := make(map[groupKind]bool, len(clusterScoped)+len(namespaced))
	for set, isNamespaced := range map[*map[string]bool]bool{&clusterScoped: false, &namespaced: true} {
		for gk := range *set {
			kind, group, _ := strings.Cut(gk, ".")
			out[groupKind{group, kind}] = isNamespaced
		}
	}
	return out
}()

// BuiltinClusterScopedGroup returns the API group of the cluster-scoped
// kind named kind in Kubernetes' built-in API groups ("" for the core
// group); ok is false when no built-in cluster-scoped kind has that name.
func BuiltinClusterScopedGroup(kind string) (group string, ok bool) {
	for gk := range clusterScoped {
		k, g, _ := strings.Cut(gk, ".")
		if k == kind {
			return g, true
		}
	}
	return "", false
}
