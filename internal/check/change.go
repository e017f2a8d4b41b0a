package check

import "github.com/gitvend/gitvend/internal/manifest"

// placeID names an object by environment and identity, as placeKey does.
type placeID struct{ env, kind, namespace, name string }

func placeIDOf(env string, id manifest.ID) placeID {
	return placeID{env, id.Kind, id.Namespace, id.Name}
}

// placed is an object's place and content digest. The place is held by
// address: a check copies the placed of every object it keeps.
type placed struct {
	at     *placeID
	digest string
}

// placedAt is the placed of an object at id in env.
func placedAt(env string, id manifest.ID, digest string) placed {
	at := placeIDOf(env, id)
	return placed{&at, digest}
}

// placeIndex holds the objects of a base by place: the digest of the last
// object read at each.
type placeIndex struct {
	index   map[placeID]int // into digests and items
	digests []string
	items   []int // the index of the object among those indexed
}

// indexPlaces indexes objs by place; of two objects at one place, the
// later counts.
func indexPlaces(objs []placed) placeIndex {
	p := placeIndex{index: make(map[placeID]int, len(objs))}
	for i, o := range objs {
		if at, ok := p.index[*o.at]; ok {
			p.digests[at], p.items[at] = o.digest, i
			continue
		}
		p.index[*o.at] = len(p.digests)
		p.digests = append(p.digests, o.digest)
		p.items = append(p.items, i)
	}
	return p
}

// unknownPlace marks a head object whose place in the base is not known.
const unknownPlace = -2

// compareObjects counts what head adds, changes and removes against base
// by place, the last object read at a place counting for it, and returns
// for each head object the index of the base object at its place (-1 for
// none; nil when head reads a place twice) and the index of its place
// among base's (-1 for none). known, when not nil, gives the latter for
// the head objects a comparison with the same base found before
// (unknownPlace for the others), which are not looked up again.
func compareObjects(base placeIndex, head []placed, envs int, known []int32) (*Change, []int, []int32) {
	ch := &Change{Environments: envs}
	matched := make([]bool, len(base.digests))
	added := map[placeID]bool{}
	hint := make([]int, len(head))
	places := make([]int32, len(head))
	for i, h := range head {
		var at int
		var ok bool
		if known != nil && known[i] != unknownPlace {
			at = int(known[i])
			ok = at >= 0
		} else {
			at, ok = base.index[*h.at]
		}
		places[i] = -1
		if ok {
			places[i] = int32(at)
		}
		hint[i] = -1
		switch {
		case !ok:
			if added[*h.at] {
				return compareIndexed(base, indexPlaces(head), envs), nil, nil
			}
			added[*h.at] = true
			ch.Added++
		case matched[at]:
			// Two objects at one place: the last one counts.
			return compareIndexed(base, indexPlaces(head), envs), nil, nil
		default:
			matched[at] = true
			hint[i] = base.items[at]
			if base.digests[at] != h.digest {
				ch.Changed++
			}
		}
	}
	ch.Total = len(head)
	ch.Removed = len(base.digests) - (len(head) - ch.Added)
	return ch, hint, places
}

// compareIndexed is compareObjects of a head indexed by place.
func compareIndexed(base, head placeIndex, envs int) *Change {
	ch := &Change{Total: len(head.digests), Environments: envs}
	for at, h := range head.index {
		b, ok := base.index[at]
		switch {
		case !ok:
			ch.Added++
		case base.digests[b] != head.digests[h]:
			ch.Changed++
		}
	}
	for at := range base.index {
		if _, ok := head.index[at]; !ok {
			ch.Removed++
		}
	}
	return ch
}
