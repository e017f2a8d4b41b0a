package gitrepo

import (
	"bytes"
	"compress/zlib"
	"crypto/sha1"
	"encoding/binary"
	"fmt"
	"io"
	"sync"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// minDeltaSize is the size from which an object sent is sent as a delta
// against the object at its place in the parent commit: below it, the
// object compressed is about as small as a delta, and cheaper to make.
const minDeltaSize = 4 << 10

// compressors keeps zlib writers between pushes: each holds most of a
// megabyte of tables, which a push of a few small objects would
// otherwise allocate, and clear, every time.
var compressors = sync.Pool{New: func() any { return zlib.NewWriter(io.Discard) }}

// writeThinPack writes a pack of the objects objs to w, each whole except
// those that bases names an object for, which the remote has: such an
// object larger than minDeltaSize is sent as a delta against that base
// when the delta is less than half its size (a thin pack, as git sends to
// a receive-pack that does not refuse them). An environment root that
// lists thousands of request folders changes by a line a request: sent
// whole, every push deflates it, and the remote inflates it, again.
func writeThinPack(w io.Writer, s storer.EncodedObjectStorer, objs []plumbing.Hash, bases map[plumbing.Hash]plumbing.Hash) error {
	sum := sha1.New()
	out := io.MultiWriter(w, sum)
	var head [12]byte
	copy(head[:4], "PACK")
	binary.BigEndian.PutUint32(head[4:8], 2)
	binary.BigEndian.PutUint32(head[8:], uint32(len(objs)))
	if _, err := out.Write(head[:]); err != nil {
		return err
	}
	zw := compressors.Get().(*zlib.Writer) // reset for each entry
	defer func() { zw.Reset(io.Discard); compressors.Put(zw) }()
	for _, id := range objs {
		typ, data, err := readObject(s, plumbing.AnyObject, id)
		if err != nil {
			return err
		}
		if base, ok := bases[id]; ok && len(data) >= minDeltaSize {
			if _, from, err := readObject(s, typ, base); err == nil {
				if delta := packfile.DiffDelta(from, data); len(delta) < len(data)/2 {
					if err := writePackEntry(out, zw, plumbing.REFDeltaObject, base[:], delta); err != nil {
						return err
					}
					continue
				}
			}
		}
		if err := writePackEntry(out, zw, typ, nil, data); err != nil {
			return err
		}
	}
	_, err := w.Write(sum.Sum(nil))
	return err
}

// readObject reads the type and content of object id, of type t unless
// t is plumbing.AnyObject.
func readObject(s storer.EncodedObjectStorer, t plumbing.ObjectType, id plumbing.Hash) (plumbing.ObjectType, []byte, error) {
	obj, err := s.EncodedObject(t, id)
	if err != nil {
		return 0, nil, fmt.Errorf("read object %s: %w", id, err)
	}
	rd, err := obj.Reader()
	if err != nil {
		return 0, nil, fmt.Errorf("read object %s: %w", id, err)
	}
	defer rd.Close()
	data := make([]byte, 0, obj.Size())
	buf := bytes.NewBuffer(data)
	if _, err := io.Copy(buf, rd); err != nil {
		return 0, nil, fmt.Errorf("read object %s: %w", id, err)
	}
	return obj.Type(), buf.Bytes(), nil
}

// writePackEntry writes one entry of a pack: its type and size, the base
// object's id for a REF_DELTA, and its data compressed with zw.
func writePackEntry(w io.Writer, zw *zlib.Writer, t plumbing.ObjectType, base []byte, data []byte) error {
	size := len(data)
	head := []byte{byte(t)<<4 | byte(size&0x0f)}
	for size >>= 4; size > 0; size >>= 7 {
		head[len(head)-1] |= 0x80
		head = append(head, byte(size&0x7f))
	}
	head = append(head, base...)
	if _, err := w.Write(head); err != nil {
		return err
	}
	zw.Reset(w)
	if _, err := zw.Write(data); err != nil {
		return err
	}
	return zw.Close()
}
