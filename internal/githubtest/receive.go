package githubtest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// A push is received here, not by git receive-pack, so that its cost is
// that of what it carries, as on GitHub, and not that of the repository:
// git receive-pack checks a push's connectivity with `rev-list --objects
// <new> --not --all`, which reads every tree of every ref's tip (tens of
// milliseconds for fifty thousand files) before it finds the few objects
// the push added. The rules are git's and GitHub's:
//
//   - the pack is unpacked into a quarantine beside the repository's
//     objects (loose below git's unpack limit of 100 objects, a pack
//     above it); a pack git cannot read is refused whole ("unpack" status
//     other than ok, every ref "unpacker error");
//   - every object an updated ref's new commit reaches must be present:
//     the walk reads the quarantined objects and stops at the first object
//     the repository had, which must exist with the type its referrer
//     gives it; otherwise the ref is refused "missing necessary objects";
//   - objects leave the quarantine only when every updated ref of the push
//     passes; a push with a ref that fails moves none (the refs that
//     passed are "refused with the push: another ref lacks objects"). So the repository only ever
//     holds objects whose whole closure it holds, which is what lets the
//     walk stop at the first object it had (the API's tree and commit
//     writes keep the same rule: they refer only to objects that exist);
//   - refs/pull/ refs are hidden and refused ("deny updating a hidden
//     ref"), the default branch cannot be deleted, a ref's old id must be
//     the one the push names ("failed to update ref"), and with the atomic
//     capability all refs move or none does (the others "atomic
//     transaction failed").

// unpackLimit is git's transfer.unpackLimit: packs of fewer objects are
// kept as loose objects.
const unpackLimit = 100

// maxPushBody bounds the request body a push may have (GitHub refuses
// pushes over 2 GiB; the double keeps them in memory, so it is smaller).
const maxPushBody = 512 << 20

// pushCommand is one ref update of a push.
type pushCommand struct {
	old, new, ref string
	status        string // "ok", or why the ref was refused
}

func (c *pushCommand) deletes() bool { return c.new == zeroSHA }

// pushRequest is a receive-pack request.
type pushRequest struct {
	commands []*pushCommand
	caps     map[string]bool
	pack     []byte // nil when the push carries none
}

// readPushRequest parses a receive-pack request body: pkt-lines of ref
// updates, the first with the capabilities after a NUL, a flush-pkt, push
// options ended by a flush-pkt when negotiated, then the pack.
func readPushRequest(body io.Reader) (*pushRequest, error) {
	br := bufio.NewReader(body)
	req := &pushRequest{caps: map[string]bool{}}
	for {
		line, flush, err := readPktLine(br)
		if err != nil {
			return nil, err
		}
		if flush {
			break
		}
		line = strings.TrimSuffix(line, "\n")
		if strings.HasPrefix(line, "shallow ") {
			continue // a shallow client's boundary; the walk still wants every object
		}
		if len(req.commands) == 0 {
			if cmd, caps, found := strings.Cut(line, "\x00"); found {
				line = cmd
				for _, c := range strings.Fields(caps) {
					name, _, _ := strings.Cut(c, "=")
					req.caps[name] = true
				}
			}
		}
		f := strings.Fields(line)
		if len(f) != 3 || !isSHA(f[0]) || !isSHA(f[1]) {
			return nil, fmt.Errorf("protocol error: expected old/new/ref, got %q", line)
		}
		req.commands = append(req.commands, &pushCommand{old: f[0], new: f[1], ref: f[2]})
	}
	if len(req.commands) == 0 {
		return req, nil
	}
	if req.caps["push-options"] {
		for {
			_, flush, err := readPktLine(br)
			if err != nil {
				return nil, err
			}
			if flush {
				break
			}
		}
	}
	pack, err := io.ReadAll(io.LimitReader(br, maxPushBody+1))
	if err != nil {
		return nil, fmt.Errorf("read pack: %w", err)
	}
	if len(pack) > maxPushBody {
		return nil, errors.New("pack exceeds maximum allowed size")
	}
	if len(pack) > 0 {
		req.pack = pack
	}
	return req, nil
}

// readPktLine reads one pkt-line; flush is true for a flush-pkt.
func readPktLine(r *bufio.Reader) (line string, flush bool, err error) {
	var head [4]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return "", false, fmt.Errorf("protocol error: read pkt-line: %w", err)
	}
	n, err := strconv.ParseUint(string(head[:]), 16, 16)
	switch {
	case err != nil || (n > 0 && n < 4):
		return "", false, fmt.Errorf("protocol error: bad pkt-line length %q", head[:])
	case n == 0:
		return "", true, nil
	}
	buf := make([]byte, n-4)
	if _, err := io.ReadFull(r, buf); err != nil {
		return "", false, fmt.Errorf("protocol error: read pkt-line: %w", err)
	}
	return string(buf), false, nil
}

// receivePack applies a push to r and writes the report; it returns the
// ref updates made.
func (s *Server) receivePack(ctx context.Context, w http.ResponseWriter, httpReq *http.Request, r *repo) []refUpdate {
	body := io.Reader(httpReq.Body)
	if enc := httpReq.Header.Get("Content-Encoding"); enc == "gzip" || enc == "x-gzip" {
		zr, err := gzip.NewReader(httpReq.Body)
		if err != nil {
			writeGitError(w, http.StatusBadRequest, "bad gzip body")
			return nil
		}
		body = zr
	}
	req, err := readPushRequest(body)
	if err != nil {
		writeGitError(w, http.StatusBadRequest, err.Error())
		return nil
	}
	if req.pack != nil {
		objects := -1
		if len(req.pack) >= 12 && string(req.pack[:4]) == "PACK" {
			objects = int(binary.BigEndian.Uint32(req.pack[8:12]))
		}
		r.packs = append(r.packs, ReceivedPack{Objects: objects, Bytes: int64(len(req.pack))})
	}
	unpack := s.receiveCommands(ctx, r, req)
	var updates []refUpdate
	for _, c := range req.commands {
		if c.status == "ok" && c.old != c.new { // a ref named where it is moves nothing
			updates = append(updates, refUpdate{ref: c.ref, before: c.old, after: c.new})
		}
	}
	w.Header().Set("Content-Type", "application/x-git-receive-pack-result")
	w.Header().Set("Cache-Control", "no-cache")
	if !req.caps["report-status"] && !req.caps["report-status-v2"] {
		return updates
	}
	var report bytes.Buffer
	writePkt(&report, "unpack "+unpack+"\n")
	for _, c := range req.commands {
		if c.status == "ok" {
			writePkt(&report, "ok "+c.ref+"\n")
		} else {
			writePkt(&report, "ng "+c.ref+" "+c.status+"\n")
		}
	}
	report.WriteString("0000")
	if !req.caps["side-band-64k"] && !req.caps["side-band"] {
		_, _ = w.Write(report.Bytes())
		return updates
	}
	chunk := 65519 - 1 // a pkt-line's payload, less the band byte
	if !req.caps["side-band-64k"] {
		chunk = 999 - 1
	}
	var out bytes.Buffer
	for data := report.Bytes(); len(data) > 0; {
		n := min(len(data), chunk)
		writePkt(&out, "\x01"+string(data[:n]))
		data = data[n:]
	}
	out.WriteString("0000")
	_, _ = w.Write(out.Bytes())
	return updates
}

func writePkt(b *bytes.Buffer, payload string) {
	fmt.Fprintf(b, "%04x%s", len(payload)+4, payload)
}

// receiveCommands unpacks the push, checks and moves its refs, setting
// each command's status, and returns the unpack status.
func (s *Server) receiveCommands(ctx context.Context, r *repo, req *pushRequest) string {
	// settle gives why to every command not settled yet.
	settle := func(why string) {
		for _, c := range req.commands {
			if c.status == "" {
				c.status = why
			}
		}
	}
	updating := false
	for _, c := range req.commands {
		switch {
		case !validRefName(c.ref) || c.old == zeroSHA && c.new == zeroSHA:
			c.status = "funny refname"
		case strings.HasPrefix(c.ref, "refs/pull/"):
			c.status = "deny updating a hidden ref"
		case c.deletes() && c.ref == "refs/heads/"+r.defaultBranch:
			c.status = "refusing to delete the current branch: " + c.ref
		case !c.deletes():
			updating = true
		}
	}
	unpack := "ok"
	if req.pack != nil || updating {
		q, err := s.quarantine(ctx, r, req.pack)
		if err != nil {
			settle("unpacker error")
			return err.Error()
		}
		defer os.RemoveAll(q.root)
		if !s.connected(ctx, r, q, req.commands) {
			settle("refused with the push: another ref lacks objects")
			return unpack
		}
		if err := q.migrate(r.git.dir); err != nil {
			s.log.Error("move pushed objects into the repository", "repo", r.fullName(), "err", err)
			settle("failed to write objects")
			return unpack
		}
	}
	refs, err := r.git.refs(ctx)
	if err != nil {
		s.log.Error("list refs before a push", "repo", r.fullName(), "err", err)
		settle("failed to update ref")
		return unpack
	}
	for _, c := range req.commands {
		if at, ok := refs[c.ref]; c.status == "" && (at != c.old && (ok || c.old != zeroSHA)) {
			c.status = "failed to update ref"
		}
	}
	var batch []*pushCommand
	for _, c := range req.commands {
		if c.status == "" {
			batch = append(batch, c)
		} else if req.caps["atomic"] {
			settle("atomic transaction failed")
			return unpack
		}
	}
	// One transaction with the atomic capability, one per ref without.
	groups := [][]*pushCommand{batch}
	if !req.caps["atomic"] {
		groups = groups[:0]
		for _, c := range batch {
			groups = append(groups, []*pushCommand{c})
		}
	}
	for _, group := range groups {
		var stdin bytes.Buffer
		for _, c := range group {
			fmt.Fprintf(&stdin, "update %s %s %s\n", c.ref, c.new, c.old)
		}
		status := "ok"
		if _, err := r.git.run(ctx, stdin.Bytes(), nil, "update-ref", "--stdin"); err != nil {
			status = "failed to update ref"
		}
		for _, c := range group {
			c.status = status
		}
	}
	return unpack
}

// quarantined is where a push's objects wait until its refs are checked:
// a directory laid out as a git directory whose objects the quarantine's
// git processes write, the repository's objects as their alternate.
type quarantined struct {
	root    string
	objects string
	store   *filesystem.Storage
	// loose and packs are what the unpacking left, listed once: the walk
	// looks an object up in the quarantine only when it is one of them
	// (not on disk for each object it leaves the quarantine for), and
	// the move into the repository moves them.
	loose map[plumbing.Hash]bool
	packs []string // file names in objects/pack
}

// quarantine unpacks pack into a new quarantine of r.
func (s *Server) quarantine(ctx context.Context, r *repo, pack []byte) (*quarantined, error) {
	// Errors are reported as git reports them, by the tool that failed.
	root, err := os.MkdirTemp(r.git.dir, "incoming-")
	if err != nil {
		return nil, errors.New("unpack-objects abnormal exit")
	}
	q := &quarantined{root: root, objects: filepath.Join(root, "objects")}
	if err := os.MkdirAll(filepath.Join(q.objects, "pack"), 0o755); err != nil {
		os.RemoveAll(root)
		return nil, errors.New("unpack-objects abnormal exit")
	}
	if pack != nil {
		env := []string{"GIT_OBJECT_DIRECTORY=" + q.objects, "GIT_ALTERNATE_OBJECT_DIRECTORIES=" + filepath.Join(r.git.dir, "objects")}
		args, tool := []string{"unpack-objects", "-q"}, "unpack-objects"
		if len(pack) < 12 || binary.BigEndian.Uint32(pack[8:12]) >= unpackLimit {
			args, tool = []string{"index-pack", "--stdin", "--fix-thin"}, "index-pack"
		}
		if _, err := r.git.run(ctx, pack, env, args...); err != nil {
			os.RemoveAll(root)
			return nil, errors.New(tool + " abnormal exit")
		}
	}
	q.store = filesystem.NewStorage(osfs.New(root), cache.NewObjectLRUDefault())
	if err := q.list(); err != nil {
		os.RemoveAll(root)
		return nil, errors.New("unpack-objects abnormal exit")
	}
	return q, nil
}

// list lists the quarantine's loose objects and pack files.
func (q *quarantined) list() error {
	packs, err := os.ReadDir(filepath.Join(q.objects, "pack"))
	if err != nil {
		return err
	}
	for _, p := range packs {
		q.packs = append(q.packs, p.Name())
	}
	fans, err := os.ReadDir(q.objects)
	if err != nil {
		return err
	}
	q.loose = map[plumbing.Hash]bool{}
	for _, f := range fans {
		if !f.IsDir() || len(f.Name()) != 2 {
			continue
		}
		names, err := os.ReadDir(filepath.Join(q.objects, f.Name()))
		if err != nil {
			return err
		}
		for _, n := range names {
			if name := f.Name() + n.Name(); isSHA(name) {
				q.loose[plumbing.NewHash(name)] = true
			}
		}
	}
	return nil
}

// connected walks each updating command's new commit through the
// quarantined objects and checks that every object the walk leaves the
// quarantine for exists in r with the type its referrer gives it. It sets
// "missing necessary objects" on the commands that fail and returns
// whether all passed.
func (s *Server) connected(ctx context.Context, r *repo, q *quarantined, cmds []*pushCommand) bool {
	outside := map[*pushCommand][]objectLink{}
	broken := map[*pushCommand]bool{}
	read := map[plumbing.Hash][]objectLink{} // links of quarantined objects, by object
	for _, c := range cmds {
		if c.status != "" || c.deletes() {
			continue
		}
		seen := map[string]bool{}
		stack := []objectLink{{c.new, "commit"}}
		for len(stack) > 0 && !broken[c] {
			e := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if seen[e.sha] {
				continue
			}
			seen[e.sha] = true
			h := plumbing.NewHash(e.sha)
			links, known := read[h]
			if !known {
				var inside bool
				var err error
				links, inside, err = q.links(h, e.kind)
				switch {
				case err != nil:
					broken[c] = true
					continue
				case !inside:
					outside[c] = append(outside[c], e)
					continue
				}
				read[h] = links
			}
			stack = append(stack, links...)
		}
	}
	var ask bytes.Buffer
	for _, c := range cmds {
		for _, e := range outside[c] {
			ask.WriteString(e.sha + "\n")
		}
	}
	kinds := map[string]string{}
	if ask.Len() > 0 {
		out, err := r.git.run(ctx, ask.Bytes(), nil, "cat-file", "--batch-check=%(objectname) %(objecttype)")
		if err != nil {
			s.log.Error("check pushed objects", "repo", r.fullName(), "err", err)
			return false
		}
		for _, line := range strings.Split(string(out), "\n") {
			if sha, kind, ok := strings.Cut(line, " "); ok {
				kinds[sha] = kind
			}
		}
	}
	all := true
	for _, c := range cmds {
		if c.status != "" || c.deletes() {
			continue
		}
		ok := !broken[c]
		for _, e := range outside[c] {
			if kinds[e.sha] != e.kind {
				ok = false
			}
		}
		if !ok {
			c.status = "missing necessary objects"
			all = false
		}
	}
	return all
}

// objectLink is an object another refers to, with the type it must have.
type objectLink struct{ sha, kind string }

// links reads object h from the quarantine and lists what it refers to
// with the type each must have. inside is false when the quarantine does
// not hold h. A quarantined object of another type than kind is an error,
// as is one git's own walk could not read.
func (q *quarantined) links(h plumbing.Hash, kind string) (links []objectLink, inside bool, err error) {
	if len(q.packs) == 0 && !q.loose[h] {
		return nil, false, nil
	}
	st := q.store
	o, err := st.EncodedObject(plumbing.AnyObject, h)
	if errors.Is(err, plumbing.ErrObjectNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, true, err
	}
	if o.Type().String() != kind {
		return nil, true, fmt.Errorf("object %s is a %s, not a %s", h, o.Type(), kind)
	}
	type edge = objectLink
	switch o.Type() {
	case plumbing.CommitObject:
		c, err := object.DecodeCommit(st, o)
		if err != nil {
			return nil, true, err
		}
		links = append(links, edge{c.TreeHash.String(), "tree"})
		for _, p := range c.ParentHashes {
			links = append(links, edge{p.String(), "commit"})
		}
	case plumbing.TreeObject:
		t, err := object.DecodeTree(st, o)
		if err != nil {
			return nil, true, err
		}
		for _, e := range t.Entries {
			switch e.Mode {
			case filemode.Submodule:
			case filemode.Dir:
				links = append(links, edge{e.Hash.String(), "tree"})
			default:
				links = append(links, edge{e.Hash.String(), "blob"})
			}
		}
	case plumbing.TagObject:
		t, err := object.DecodeTag(st, o)
		if err != nil {
			return nil, true, err
		}
		links = append(links, edge{t.Target.String(), t.TargetType.String()})
	}
	return links, true, nil
}

// migrate moves the quarantined objects into the repository in dir:
// loose objects, then packs with their index last, so that git never
// sees a pack without its index.
func (q *quarantined) migrate(dir string) error {
	dst := filepath.Join(dir, "objects")
	made := map[string]bool{} // fan-out folders known to exist
	for h := range q.loose {
		name := h.String()
		fan, rest := name[:2], name[2:]
		target := filepath.Join(dst, fan, rest)
		if _, err := os.Stat(target); err == nil {
			continue // the repository has it already
		}
		if !made[fan] {
			if err := os.MkdirAll(filepath.Join(dst, fan), 0o755); err != nil {
				return err
			}
			made[fan] = true
		}
		if err := os.Rename(filepath.Join(q.objects, fan, rest), target); err != nil {
			return err
		}
	}
	names := slices.Clone(q.packs)
	rank := func(name string) int {
		for i, ext := range []string{".keep", ".pack", ".rev", ".idx"} {
			if strings.HasSuffix(name, ext) {
				return i
			}
		}
		return 4
	}
	slices.SortStableFunc(names, func(a, b string) int { return rank(a) - rank(b) })
	if err := os.MkdirAll(filepath.Join(dst, "pack"), 0o755); err != nil {
		return err
	}
	for _, name := range names {
		if err := os.Rename(filepath.Join(q.objects, "pack", name), filepath.Join(dst, "pack", name)); err != nil {
			return err
		}
	}
	return nil
}
