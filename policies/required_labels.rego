# Labels tie every object to its owner and request: cost allocation,
# inventories and reports rely on them.
package gitvend.policies.required_labels

import data.gitvend.lib

metadata := {
	"id": "required-labels",
	"severity": "deny",
	"title": "Required labels",
	"description": "Every object must carry the required labels with a non-empty value; cost allocation reads gitvend.dev/owner.",
	"fix": "Add the missing labels under metadata.labels; objects rendered by gitvend carry them already.",
	"params": {"labels": {
		"type": "string-array",
		"default": ["app.kubernetes.io/name", "gitvend.dev/owner"],
		"description": "Label keys every object must carry.",
	}},
}

params := lib.params(metadata)

# A value v > "" is a non-empty string: "", null and numbers sort before
# strings in Rego.
violation contains finding if {
	some i, s in input.subjects
	labels := object.get(s.object, ["metadata", "labels"], {})
	some key in params.labels
	not object.get(labels, key, "") > ""
	finding := {
		"subject": i,
		"message": sprintf("missing label %s; add it under metadata.labels with a non-empty value", [key]),
		"path": ["metadata", "labels", key],
	}
}
