package textbudget

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Limit is how long a text may be.
type Limit struct {
	// Max is the most characters, or bytes when Bytes is set.
	Max int
	// Bytes counts bytes instead of characters.
	Bytes bool
}

// Chars is a limit of n characters.
func Chars(n int) Limit { return Limit{Max: n} }

// Bytes is a limit of n bytes.
func Bytes(n int) Limit { return Limit{Max: n, Bytes: true} }

// Len is the length of s as l counts it.
func (l Limit) Len(s string) int {
	if l.Bytes {
		return len(s)
	}
	return utf8.RuneCountInString(s)
}

// Fits tells whether s is within l.
func (l Limit) Fits(s string) bool { return l.Len(s) <= l.Max }

// Less is l with n fewer characters (or bytes) to spend, for what a caller
// adds after fitting, such as a marker.
func (l Limit) Less(n int) Limit {
	l.Max = max(l.Max-n, 0)
	return l
}

// Line fits a one-line text, such as a title or a commit status
// description, within l: newlines become spaces, and a text that is too
// long is cut at a character boundary and ends with "…".
func Line(s string, l Limit) string {
	s = strings.Join(strings.Fields(s), " ")
	if l.Fits(s) {
		return s
	}
	return cutAt(s, l.Less(l.Len("…"))) + "…"
}

// cutAt is the longest prefix of s within l that ends on a character
// boundary.
func cutAt(s string, l Limit) string {
	if !l.Bytes {
		n := 0
		for i := range s {
			if n == l.Max {
				return s[:i]
			}
			n++
		}
		return s
	}
	if len(s) <= l.Max {
		return s
	}
	i := l.Max
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i]
}

// Options say how Fit shortens a text.
type Options struct {
	// Shown is how many rows of a list are shown before the rest is
	// collapsed in <details>; 0 never collapses.
	Shown int
	// Where says where the whole list is, for the line that counts the
	// rows not shown, such as "the check run's annotations".
	Where string
	// Noun names the rows of lists that name none ("fields"); "rows"
	// when empty.
	Noun string
}

// Fit returns markdown within l (see the package documentation): every
// table and list of it is a list of rows.
func Fit(markdown string, l Limit, o Options) string {
	return Parse(markdown).Fit(l, o)
}

// Doc is a text made of fixed parts and lists of rows, fitted as a whole.
type Doc struct {
	blocks []block
	// trim drops the newline Parse added to a text that did not end
	// with one.
	trim bool
}

type block struct {
	text string // a fixed part, when list is nil
	list *List
}

// List is a run of rows: Head is repeated above collapsed rows (such as a
// table's header and separator lines); each row is one or more whole lines.
type List struct {
	Head string
	Rows []string
	// Noun names the rows in the line that counts those not shown
	// ("objects"); "rows" when empty.
	Noun string
	// Collapsed tells that the list lies inside a <details> already, so it
	// is never collapsed again.
	Collapsed bool
}

// Text adds a fixed part.
func (d *Doc) Text(s string) {
	if n := len(d.blocks); n > 0 && d.blocks[n-1].list == nil {
		d.blocks[n-1].text += s
		return
	}
	d.blocks = append(d.blocks, block{text: s})
}

// Add adds a list.
func (d *Doc) Add(l List) {
	for i, r := range l.Rows {
		if !strings.HasSuffix(r, "\n") {
			l.Rows[i] = r + "\n"
		}
	}
	if l.Head != "" && !strings.HasSuffix(l.Head, "\n") {
		l.Head += "\n"
	}
	d.blocks = append(d.blocks, block{list: &l})
}

// String is the whole text, nothing cut or collapsed.
func (d *Doc) String() string {
	return d.render(-1, Options{})
}

// Fit renders the text within l. Lists longer than o.Shown show their
// first rows and collapse the rest; when the text is still too long, the
// lists lose rows from their ends, the longest first, each counting what
// it lost; and should the fixed parts alone be too long, the text is cut
// at the last line outside any code fence or <details> that fits.
func (d *Doc) Fit(l Limit, o Options) string {
	if s := d.String(); l.Fits(s) && o.Shown == 0 {
		return s
	}
	if s := d.render(-1, o); l.Fits(s) {
		return s
	}
	// The most rows any list keeps: the largest that fits.
	lo, hi := 0, 0
	for _, b := range d.blocks {
		if b.list != nil {
			hi = max(hi, len(b.list.Rows))
		}
	}
	if least := d.render(0, o); !l.Fits(least) {
		return hardCut(least, l)
	}
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if l.Fits(d.render(mid, o)) {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return d.render(lo, o)
}

// render writes the text with each list keeping at most keep rows (all
// when keep < 0), collapsing those past o.Shown.
func (d *Doc) render(keep int, o Options) string {
	s := d.write(keep, o)
	if d.trim {
		s = strings.TrimSuffix(s, "\n")
	}
	return s
}

func (d *Doc) write(keep int, o Options) string {
	var sb strings.Builder
	for i, b := range d.blocks {
		if b.list == nil {
			sb.WriteString(b.text)
			continue
		}
		ls := b.list
		rows := ls.Rows
		if keep >= 0 && len(rows) > keep {
			rows = rows[:keep]
		}
		dropped := len(ls.Rows) - len(rows)
		shown, folded := rows, []string(nil)
		if o.Shown > 0 && !ls.Collapsed && len(rows) > o.Shown {
			shown, folded = rows[:o.Shown], rows[o.Shown:]
		}
		if len(shown) > 0 || dropped == 0 {
			sb.WriteString(ls.Head)
		}
		for _, r := range shown {
			sb.WriteString(r)
		}
		if len(folded) > 0 {
			fmt.Fprintf(&sb, "\n<details><summary>%d more %s</summary>\n\n%s", len(folded), ls.noun(o), ls.Head)
			for _, r := range folded {
				sb.WriteString(r)
			}
			sb.WriteString("\n</details>\n")
		}
		if dropped > 0 {
			sb.WriteString("\n")
			sb.WriteString(moreLine(dropped, len(rows) > 0, ls.noun(o), o.Where))
			if next := i + 1; next < len(d.blocks) && d.blocks[next].list == nil && !strings.HasPrefix(d.blocks[next].text, "\n") {
				sb.WriteString("\n")
			}
		}
	}
	return sb.String()
}

func (l *List) noun(o Options) string {
	switch {
	case l.Noun != "":
		return l.Noun
	case o.Noun != "":
		return o.Noun
	}
	return "rows"
}

// moreLine says how many rows of a list are not shown and where they are.
func moreLine(n int, some bool, noun, where string) string {
	more := " more"
	if !some {
		more = ""
	}
	s := fmt.Sprintf("…and %d%s %s not shown here, to keep within GitHub's limits", n, more, noun)
	if where != "" {
		s += "; the whole list: " + where
	}
	return s + ".\n"
}

// MoreLine is the line Fit writes under a list that lost n rows, for
// callers and tests that look for it.
func MoreLine(n int, some bool, noun, where string) string {
	return moreLine(n, some, noun, where)
}

// cutNote ends a text cut by hardCut.
const cutNote = "\n\n…(cut to keep within GitHub's limits)\n"

// hardCut cuts s at the last line boundary within l that lies outside any
// code fence or <details>, or, when there is none, at a character
// boundary; either way it ends with a note that says so.
func hardCut(s string, l Limit) string {
	room := l.Less(l.Len(cutNote))
	best := -1
	fence, details := "", 0
	n := 0
	for i := 0; i < len(s); {
		j := strings.IndexByte(s[i:], '\n')
		end := len(s)
		if j >= 0 {
			end = i + j + 1
		}
		line := s[i:end]
		n += l.Len(line)
		if n > room.Max {
			break
		}
		fence, details = scan(line, fence, details)
		if fence == "" && details == 0 {
			best = end
		}
		i = end
	}
	if best < 0 {
		return cutAt(s, room) + cutNote
	}
	return s[:best] + cutNote
}

var fenceLine = regexp.MustCompile("^ {0,3}(`{3,}|~{3,})")

// scan follows the open fence and the depth of <details> across a line.
func scan(line, fence string, details int) (string, int) {
	t := strings.TrimRight(line, "\r\n")
	if m := fenceLine.FindStringSubmatch(t); m != nil {
		switch {
		case fence == "":
			return m[1], details
		case m[1][0] == fence[0] && len(m[1]) >= len(fence) && strings.TrimSpace(t[len(m[0]):]) == "":
			return "", details
		}
	}
	if fence != "" {
		return fence, details
	}
	lower := strings.ToLower(t)
	details += strings.Count(lower, "<details") - strings.Count(lower, "</details>")
	return fence, max(details, 0)
}

var separator = regexp.MustCompile(`^\|?(\s*:?-+:?\s*\|)+\s*(:?-+:?\s*)?$`)

// Parse reads markdown into a Doc: each table's rows (lines starting with
// "|" after its header and separator) and each list's items (lines
// starting with "- " or "* ", with the indented lines that follow) are a
// list; everything else, and anything inside a code fence, is fixed.
func Parse(markdown string) *Doc {
	d := &Doc{}
	if markdown != "" && !strings.HasSuffix(markdown, "\n") {
		markdown += "\n"
		d.trim = true
	}
	lines := strings.SplitAfter(markdown, "\n")
	lines = lines[:len(lines)-1] // after the last newline
	fence, details := "", 0
	for i := 0; i < len(lines); {
		line := lines[i]
		if fence == "" {
			if isRow(line) && i+1 < len(lines) && separator.MatchString(strings.TrimRight(lines[i+1], "\r\n")) {
				ls := List{Head: line + lines[i+1], Collapsed: details > 0}
				i += 2
				for i < len(lines) && isRow(lines[i]) {
					ls.Rows = append(ls.Rows, lines[i])
					i++
				}
				d.addParsed(ls)
				continue
			}
			if isItem(line) {
				ls := List{Collapsed: details > 0}
				for i < len(lines) && isItem(lines[i]) {
					item := lines[i]
					i++
					for i < len(lines) && isContinuation(lines[i]) {
						item += lines[i]
						i++
					}
					ls.Rows = append(ls.Rows, item)
				}
				d.addParsed(ls)
				continue
			}
		}
		fence, details = scan(line, fence, details)
		d.Text(line)
		i++
	}
	return d
}

// addParsed adds a parsed list, whose rows end with their newlines already.
func (d *Doc) addParsed(l List) {
	d.blocks = append(d.blocks, block{list: &l})
}

func isRow(line string) bool { return strings.HasPrefix(line, "|") }

func isItem(line string) bool {
	return strings.HasPrefix(line, "- ") || strings.HasPrefix(line, "* ")
}

func isContinuation(line string) bool {
	return strings.HasPrefix(line, "  ") && strings.TrimSpace(line) != ""
}
