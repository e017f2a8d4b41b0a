package manifest

import (
	"gopkg.in/yaml.v3"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
)

// YAML 1.1 booleans.
//
// gitvend reads YAML 1.2, where `hostNetwork: yes` is the string "yes";
// kubectl (through sigs.k8s.io/yaml) and much of the Kubernetes tool chain
// read YAML 1.1, where the same line is the boolean true. A policy that
// checks `hostNetwork == true` would let such a manifest through, and the
// cluster would run it with the host's network. So the plain (unquoted)
// YAML 1.1 spellings y, yes, on, n, no, off and their capitalised forms
// become booleans, keeping their line, at the fields Kubernetes types as
// boolean.
//
// The conversion is limited to known boolean field names rather than every
// plain scalar: in string fields (ConfigMap data, labels, annotations, env
// values, args) kubectl would send a boolean the API server rejects, so no
// policy question arises there, while rewriting them would change what
// gitvend itself applies and reports, such as `data: {debug: on}` that
// gitvend applies today as the string it is meant to be. Quoted and
// explicitly tagged scalars stay strings, as every YAML version reads them.

// boolFields are the fields of built-in Kubernetes kinds typed boolean.
var boolFields = map[string]bool{
	// Pod spec.
	"hostNetwork": true, "hostPID": true, "hostIPC": true, "hostUsers": true,
	"shareProcessNamespace": true, "automountServiceAccountToken": true,
	"enableServiceLinks": true, "setHostnameAsFQDN": true,
	// Containers and their security contexts.
	"privileged": true, "allowPrivilegeEscalation": true, "readOnlyRootFilesystem": true,
	"runAsNonRoot": true, "hostProcess": true, "stdin": true, "stdinOnce": true, "tty": true,
	// Volumes, volume mounts and references to ConfigMaps and Secrets.
	"readOnly": true, "optional": true, "immutable": true,
	// Workloads and Services.
	"paused": true, "suspend": true, "manualSelector": true,
	"publishNotReadyAddresses": true, "allocateLoadBalancerNodePorts": true,
	// StorageClass.
	"allowVolumeExpansion": true,
}

// stringMaps are fields whose keys are chosen by users and whose values
// are strings, so a key there that happens to be a boolean field's name
// is left alone.
var stringMaps = map[string]bool{
	"data": true, "stringData": true, "binaryData": true, "labels": true, "annotations": true,
	"matchLabels": true, "nodeSelector": true, "selector": true,
}

// yaml11Bool tells whether the scalar value, plain or not, of a field named
// key is a YAML 1.1 boolean that YAML 1.2 reads as a string, and its value
// as YAML 1.1 reads it.
func yaml11Bool(key, value string, plain bool) (truth, ok bool) {
	if !plain || !boolFields[key] || !yaml11Bools[value] {
		return false, false
	}
	switch value[0] {
	case 'y', 'Y':
		return true, true
	case 'o', 'O':
		return value == "on" || value == "On" || value == "ON", true
	}
	return false, true
}

// notPlain gathers the styles of scalars written quoted, as a block or with
// an explicit tag.
const notPlain = yaml.TaggedStyle | yaml.DoubleQuotedStyle | yaml.SingleQuotedStyle | yaml.LiteralStyle | yaml.FoldedStyle

// retagYAML11Bools turns, below n, the plain YAML 1.1 booleans at boolean
// fields into boolean scalars. Aliases are not followed: the node they
// refer to is converted where it is defined, and an alias that is the
// value of a boolean field is replaced by a converted copy of its scalar.
func retagYAML11Bools(n *yaml.Node) {
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			retagYAML11Bools(c)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if v.Kind == yaml.AliasNode && v.Alias != nil && v.Alias.Kind == yaml.ScalarNode {
				target := v.Alias
				if truth, ok := yaml11Bool(k.Value, target.Value, target.Style&notPlain == 0 && target.ShortTag() == "!!str"); ok {
					n.Content[i+1] = boolNode(truth, v.Line, v.Column)
				}
				continue
			}
			if v.Kind == yaml.ScalarNode {
				if truth, ok := yaml11Bool(k.Value, v.Value, v.Style&notPlain == 0 && v.ShortTag() == "!!str"); ok {
					v.Tag, v.Value = "!!bool", boolText(truth)
				}
				continue
			}
			if !stringMaps[k.Value] {
				retagYAML11Bools(v)
			}
		}
	}
}

func boolNode(truth bool, line, column int) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: boolText(truth), Line: line, Column: column}
}

func boolText(truth bool) string {
	if truth {
		return "true"
	}
	return "false"
}

// retagKYAML11Bools does what retagYAML11Bools does on the nodes of
// kustomize's YAML library, for objects that a kustomize build produces.
func retagKYAML11Bools(n *kyaml.Node) {
	notPlain := kyaml.TaggedStyle | kyaml.DoubleQuotedStyle | kyaml.SingleQuotedStyle | kyaml.LiteralStyle | kyaml.FoldedStyle
	switch n.Kind {
	case kyaml.DocumentNode, kyaml.SequenceNode:
		for _, c := range n.Content {
			retagKYAML11Bools(c)
		}
	case kyaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if v.Kind == kyaml.AliasNode && v.Alias != nil && v.Alias.Kind == kyaml.ScalarNode {
				target := v.Alias
				if truth, ok := yaml11Bool(k.Value, target.Value, target.Style&notPlain == 0 && target.ShortTag() == "!!str"); ok {
					n.Content[i+1] = &kyaml.Node{Kind: kyaml.ScalarNode, Tag: "!!bool", Value: boolText(truth), Line: v.Line, Column: v.Column}
				}
				continue
			}
			if v.Kind == kyaml.ScalarNode {
				if truth, ok := yaml11Bool(k.Value, v.Value, v.Style&notPlain == 0 && v.ShortTag() == "!!str"); ok {
					v.Tag, v.Value = "!!bool", boolText(truth)
				}
				continue
			}
			if !stringMaps[k.Value] {
				retagKYAML11Bools(v)
			}
		}
	}
}
