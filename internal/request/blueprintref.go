package request

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gitvend/gitvend/internal/config"
)

// MaxBlueprintVersion is the highest version a blueprint may carry.
const MaxBlueprintVersion = 999999

// SplitBlueprint reads a request's blueprint reference: a blueprint name,
// such as web-service, which follows the blueprint as it changes, or a
// name pinned to one version, such as web-service@2. version is 0 when
// the reference pins none.
func SplitBlueprint(ref string) (name string, version int, err error) {
	name, v, pinned := strings.Cut(ref, "@")
	if !config.IsDNSLabel(name) {
		return "", 0, fmt.Errorf("must name a blueprint (a DNS-1123 label: at most 63 lower case letters, digits and '-'), optionally pinned to a version as name@2; got %q", ref)
	}
	if !pinned {
		return name, 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > MaxBlueprintVersion || strconv.Itoa(n) != v {
		return "", 0, fmt.Errorf("version %q of blueprint %s must be a whole number from 1 to %d, such as %s@2", v, name, MaxBlueprintVersion, name)
	}
	return name, n, nil
}

// BlueprintRef writes the reference of blueprint name pinned to version;
// version 0 pins nothing.
func BlueprintRef(name string, version int) string {
	if version == 0 {
		return name
	}
	return name + "@" + strconv.Itoa(version)
}

// Pinned tells whether the request is pinned to a version of its
// blueprint, which blueprint fan-out then leaves alone.
func (r *Request) Pinned() bool {
	_, v, err := SplitBlueprint(r.Spec.Blueprint)
	return err == nil && v > 0
}
