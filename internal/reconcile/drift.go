package reconcile

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	ssajsondiff "github.com/fluxcd/pkg/ssa/jsondiff"
	wjsondiff "github.com/wI2L/jsondiff"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitvend/gitvend/internal/manifest"
)

// Masked replaces every value of a Secret's data, stringData and
// annotations in a drift report.
const Masked = "(masked)"

// maxValueLen bounds the length of one value in a drift report.
const maxValueLen = 200

// DriftReport is how a target's live objects differ from Git.
type DriftReport struct {
	Target string `json:"target"`
	// Revision is the Git revision compared with, when the caller knows it.
	Revision string `json:"revision,omitempty"`
	// Checked counts the objects compared.
	Checked int `json:"checked"`
	// Objects are the objects that differ, sorted by namespace, kind, name
	// and apiVersion.
	Objects []ObjectDrift `json:"objects"`
}

// ObjectDrift is how one live object differs from Git.
type ObjectDrift struct {
	ID manifest.ID `json:"id"`
	// Missing is set when the object is not in the cluster.
	Missing bool `json:"missing,omitempty"`
	// Changes are the fields that differ, sorted by path.
	Changes []FieldChange `json:"changes,omitempty"`
	// Error is set when the object could not be compared.
	Error string `json:"error,omitempty"`
}

// FieldChange is one field whose live value differs from Git's.
//
// A drift report leaves the cluster (it becomes a GitHub issue), so only
// fields known to hold no secrets show their values: see shownInClear.
// Every other value is hidden: each scalar is replaced by a fingerprint,
// "#" and 8 hex digits of an HMAC-SHA256 keyed with a key the Reconciler
// draws when it is made (Masked for a Secret's data), keeping map keys, so
// that a reader sees which field changed and can tell two values apart
// without learning either, nor guessing a short one from its hash.
// Fingerprints change when gitvend restarts.
type FieldChange struct {
	// Path names the field, such as
	// spec.template.spec.containers[name=app].image.
	Path string `json:"path"`
	// Git is the JSON value Git sets, "" when Git does not have the field.
	Git string `json:"git"`
	// Live is the JSON value in the cluster, "" when the field is absent.
	Live string `json:"live"`
	// Hidden is set when Git and Live hold fingerprints, not values.
	Hidden bool `json:"hidden,omitempty"`
}

// HasDrift tells whether any object differs from Git.
func (d *DriftReport) HasDrift() bool { return len(d.Objects) > 0 }

// Drift compares Git's objects with the live ones: each object is applied
// as a server-side dry-run (field manager gitvend) and the result compared
// with the live object, so that defaults, status, server-set metadata and
// fields owned by other managers do not count, while a change to a field
// gitvend sets does, and an object deleted by hand is missing. An object
// whose live version and Git content are those of an earlier comparison is
// not dry-run again. Objects the target refuses are not compared. Values
// are hidden outside the few fields known to hold no secrets (see
// FieldChange). The error is non-nil when the cluster could not be asked.
func (r *Reconciler) Drift(ctx context.Context, objs []*unstructured.Unstructured) (*DriftReport, error) {
	start := time.Now()
	rep, err := r.drift(ctx, objs)
	r.metrics.observeDrift(r.target.Name, rep, time.Since(start).Seconds(), err)
	if err != nil {
		return nil, err
	}
	r.log.Debug("drift checked", "checked", rep.Checked, "drifted", len(rep.Objects), "duration", time.Since(start))
	return rep, nil
}

func (r *Reconciler) drift(ctx context.Context, objs []*unstructured.Unstructured) (*DriftReport, error) {
	items, err := r.prepareAll(ctx, objs)
	if err != nil {
		return nil, err
	}
	var compared []*item
	for _, it := range items {
		if it.res.Action != Refused {
			compared = append(compared, it)
		}
	}
	r.seedOnce(ctx, compared)
	r.listLive(ctx, compared)
	rep := &DriftReport{Target: r.target.Name, Checked: len(compared)}
	results := make([]ObjectDrift, len(compared))
	errs := make([]error, len(compared))
	r.forEach(len(compared), func(i int) {
		results[i], errs[i] = r.driftOne(ctx, compared[i])
	})
	if r.compared != nil {
		r.compared(results)
	}
	for i, d := range results {
		if errs[i] != nil {
			return nil, fmt.Errorf("compare %s with the cluster: %w", compared[i].key, errs[i])
		}
		if r.withoutQuiet(&d) {
			rep.Objects = append(rep.Objects, d)
		}
	}
	slices.SortStableFunc(rep.Objects, func(a, b ObjectDrift) int { return compareIDs(a.ID, b.ID) })
	return rep, nil
}

// driftOne compares one object with the cluster: from the list of live
// objects when it is missing, from the last comparison when the live
// object has not changed since, and otherwise through ssa's dry-run diff.
// An error is returned only when the cluster could not be asked.
func (r *Reconciler) driftOne(ctx context.Context, it *item) (ObjectDrift, error) {
	d := ObjectDrift{ID: it.res.ID}
	if it.res.Action == Failed {
		d.Error = it.res.Message
		return d, nil
	}
	if it.listed && !it.existed {
		d.Missing = true
		return d, nil
	}
	if changes, ok := r.seen.lookup(it.key, it.digest, it.live); it.listed && ok {
		d.Changes = changes
		return d, nil
	}
	// NotFound: the object's namespace is gone.
	if err := r.compareLive(ctx, it, &d, apierrors.IsNotFound); err != nil || d.Missing || d.Error != "" {
		return d, err
	}
	if it.listed {
		// The comparison may have read a newer version than the list:
		// recording the listed one errs on the side of comparing again.
		r.seen.put(it.key, it.digest, it.live.versionOnly(), d.Changes)
	}
	return d, nil
}

// compareLive dry-runs it against the cluster and fills d: Missing when
// it would be created (or when missing says of the dry-run's error that it
// would be), Changes when it would change, Error when the API server
// rejects it. An error is returned only when the cluster could not be
// asked. Drift and the plan compare through it alike.
func (r *Reconciler) compareLive(ctx context.Context, it *item, d *ObjectDrift, missing func(error) bool) error {
	diff, err := ssajsondiff.Unstructured(ctx, r.client, it.obj.DeepCopy(),
		ssajsondiff.FieldOwner(FieldManager), ssajsondiff.MaskSecrets(true))
	var status apierrors.APIStatus
	switch {
	case err == nil:
	case missing(err):
		d.Missing = true
		return nil
	case errors.As(err, &status):
		d.Error = unwrapDryRun(err).Error()
		return nil
	default:
		return err
	}
	switch diff.Type {
	case ssajsondiff.DiffTypeCreate:
		d.Missing = true
	case ssajsondiff.DiffTypeUpdate:
		d.Changes = r.changesOf(it, diff)
	}
	return nil
}

// changesOf is the field changes of an update diff of it, its values
// hidden as changes hides them.
func (r *Reconciler) changesOf(it *item, diff *ssajsondiff.Diff) []FieldChange {
	var live map[string]any
	if u, ok := diff.ClusterObject.(*unstructured.Unstructured); ok {
		live = u.Object
	}
	secret := it.key.Group == "" && it.key.Kind == "Secret"
	return changes(diff.Patch, live, secret, r.fingerprint)
}

// changes turns a JSON patch from the live object to the dry-run result
// into field changes, hiding every value outside shownInClear: a Secret's
// sensitive fields as Masked, others by fingerprint.
func changes(patch wjsondiff.Patch, live map[string]any, secret bool, fingerprint func(any) string) []FieldChange {
	out := make([]FieldChange, 0, len(patch))
	for _, op := range patch {
		tokens := pointerTokens(op.Path)
		c := FieldChange{Path: fieldPath(tokens, live)}
		git, liveVal := op.Value, op.OldValue
		switch {
		case secret && sensitive(tokens):
			c.Hidden = true
			masked := func(any) string { return Masked }
			git, liveVal = hide(git, masked), hide(liveVal, masked)
		case !shownInClear(tokens):
			c.Hidden = true
			git, liveVal = hide(git, fingerprint), hide(liveVal, fingerprint)
		}
		switch op.Type {
		case wjsondiff.OperationAdd:
			c.Git = render(git)
		case wjsondiff.OperationRemove:
			c.Live = render(liveVal)
		default:
			c.Git, c.Live = render(git), render(liveVal)
		}
		out = append(out, c)
	}
	slices.SortStableFunc(out, func(a, b FieldChange) int { return strings.Compare(a.Path, b.Path) })
	return out
}

// sensitive tells whether a Secret's field at tokens may hold secret
// values: data, stringData, and annotations (kubectl's last-applied
// configuration copies the data there).
func sensitive(tokens []string) bool {
	if len(tokens) == 0 {
		return true
	}
	switch tokens[0] {
	case "data", "stringData":
		return true
	case "metadata":
		return len(tokens) == 1 || tokens[1] == "annotations"
	}
	return false
}

// containerLists are the fields that hold a pod's containers, at whatever
// depth the pod template sits.
var containerLists = map[string]bool{"containers": true, "initContainers": true, "ephemeralContainers": true}

// shownInClear tells whether a drift report may show the values of the
// field at tokens and everything below it. Only structure that holds no
// secrets is shown:
//
//   - metadata.labels, the object's or a pod template's
//   - spec.replicas, spec.minReplicas, spec.maxReplicas
//   - spec.selector (label selectors)
//   - spec.type and spec.ports (a Service's)
//   - spec.resources (a PersistentVolumeClaim's size)
//   - of every container, init container and ephemeral container at any
//     depth: image, imagePullPolicy, resources and ports
//
// Everything else is hidden: env values, ConfigMap data and binaryData,
// annotations, command and args, and any field not listed.
func shownInClear(tokens []string) bool {
	for i := 0; i+1 < len(tokens); i++ {
		if tokens[i] == "metadata" && tokens[i+1] == "labels" && (i == 0 || tokens[i-1] == "template") {
			return true
		}
	}
	switch {
	case len(tokens) == 2 && tokens[0] == "spec" && (tokens[1] == "replicas" || tokens[1] == "minReplicas" || tokens[1] == "maxReplicas" || tokens[1] == "type"):
		return true
	case len(tokens) >= 2 && tokens[0] == "spec" && (tokens[1] == "selector" || tokens[1] == "ports" || tokens[1] == "resources"):
		return true
	}
	for i := 0; i+2 < len(tokens); i++ {
		if !containerLists[tokens[i]] || !isIndex(tokens[i+1]) {
			continue
		}
		switch tokens[i+2] {
		case "image", "imagePullPolicy":
			return i+3 == len(tokens)
		case "resources", "ports":
			return true
		}
		return false
	}
	return false
}

// isIndex tells whether a JSON pointer token is a list index.
func isIndex(t string) bool {
	_, err := strconv.Atoi(t)
	return err == nil
}

// hide replaces every scalar of v by fp of it, keeping map keys; a list is
// replaced whole.
func hide(v any, fp func(any) string) any {
	switch t := v.(type) {
	case nil:
		return nil
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = hide(e, fp)
		}
		return out
	}
	return fp(v)
}

// fingerprint returns "#" and the first 8 hex digits of the HMAC-SHA256 of
// v's JSON, keyed with the Reconciler's key.
func (r *Reconciler) fingerprint(v any) string {
	data, err := json.Marshal(v)
	if err != nil {
		data = []byte(fmt.Sprintf("%v", v))
	}
	mac := hmac.New(sha256.New, r.maskKey)
	mac.Write(data)
	return "#" + hex.EncodeToString(mac.Sum(nil))[:8]
}

// render writes a value as compact JSON, shortened past maxValueLen.
func render(v any) string {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	s := string(data)
	if utf8.RuneCountInString(s) > maxValueLen {
		s = string([]rune(s)[:maxValueLen]) + "…"
	}
	return s
}

// pointerTokens splits a JSON pointer (RFC 6901) into its unescaped tokens.
func pointerTokens(ptr string) []string {
	if ptr == "" || ptr == "/" {
		return nil
	}
	tokens := strings.Split(strings.TrimPrefix(ptr, "/"), "/")
	for i, t := range tokens {
		tokens[i] = strings.ReplaceAll(strings.ReplaceAll(t, "~1", "/"), "~0", "~")
	}
	return tokens
}

var plainKey = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// fieldPath names the field at tokens the way people read it:
// spec.containers[name=app].image, metadata.labels[gitvend.dev/owner],
// walking doc to name list elements by their name where they have one.
func fieldPath(tokens []string, doc any) string {
	var b strings.Builder
	cur := doc
	for _, t := range tokens {
		if list, ok := cur.([]any); ok {
			i, err := strconv.Atoi(t)
			if err == nil && i >= 0 && i < len(list) {
				cur = list[i]
				if m, ok := cur.(map[string]any); ok {
					if name, ok := m["name"].(string); ok && name != "" {
						fmt.Fprintf(&b, "[name=%s]", name)
						continue
					}
				}
			} else {
				cur = nil
			}
			fmt.Fprintf(&b, "[%s]", t)
			continue
		}
		if m, ok := cur.(map[string]any); ok {
			cur = m[t]
		} else {
			cur = nil
		}
		if plainKey.MatchString(t) {
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(t)
		} else {
			fmt.Fprintf(&b, "[%s]", t)
		}
	}
	return b.String()
}
