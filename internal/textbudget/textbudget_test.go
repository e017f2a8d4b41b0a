package textbudget

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// table is a Markdown table of n rows, each with multibyte characters, so
// that a limit in characters and one in bytes differ.
func table(n int) (string, []string) {
	var rows []string
	for i := range n {
		rows = append(rows, fmt.Sprintf("| ❌ deny | `Deployment/team-ü/app-%04d` | image „x“ is not from an allowed registry |\n", i))
	}
	return "### ❌ failed\n\n| | object | message |\n|---|---|---|\n" + strings.Join(rows, "") + "\nSee the checks.\n", rows
}

var moreRe = regexp.MustCompile(`…and (\d+)( more)? (\w+) not shown here`)

// checkCut asserts what every cut text must be: within the limit, valid
// UTF-8, made of whole rows of the original, no <details> or fence left
// open, and with a count of the rows not shown that adds up.
func checkCut(t *testing.T, got string, l Limit, rows []string) (shown int) {
	t.Helper()
	if !l.Fits(got) {
		t.Fatalf("%d long, limit %d (bytes: %v)", l.Len(got), l.Max, l.Bytes)
	}
	if !utf8.ValidString(got) {
		t.Fatal("cut mid-character")
	}
	whole := map[string]bool{}
	for _, r := range rows {
		whole[r] = true
	}
	for _, line := range strings.SplitAfter(got, "\n") {
		if strings.HasPrefix(line, "| ❌") && !whole[line] {
			t.Fatalf("row cut: %q", line)
		}
		if strings.HasPrefix(line, "| ❌") {
			shown++
		}
	}
	if o, c := strings.Count(got, "<details>"), strings.Count(got, "</details>"); o != c {
		t.Fatalf("%d <details> but %d </details>", o, c)
	}
	if strings.Count(got, "```")%2 != 0 {
		t.Fatal("code fence left open")
	}
	dropped := 0
	for _, m := range moreRe.FindAllStringSubmatch(got, -1) {
		n, _ := strconv.Atoi(m[1])
		dropped += n
	}
	if shown+dropped != len(rows) {
		t.Fatalf("%d rows shown and %d said not shown, of %d", shown, dropped, len(rows))
	}
	return shown
}

func TestFitCutsAtRowBoundaries(t *testing.T) {
	md, rows := table(1000)
	for _, l := range []Limit{Chars(65536), Bytes(65535), Chars(5000), Bytes(777)} {
		t.Run(fmt.Sprintf("%d bytes=%v", l.Max, l.Bytes), func(t *testing.T) {
			got := Fit(md, l, Options{Shown: 20, Where: "the check run's annotations"})
			shown := checkCut(t, got, l, rows)
			if shown == 0 || shown == len(rows) {
				t.Errorf("%d rows shown of %d", shown, len(rows))
			}
			if !strings.HasPrefix(got, "### ❌ failed\n") || !strings.HasSuffix(got, "See the checks.\n") {
				t.Errorf("fixed parts lost:\n%.300s…%s", got, got[max(0, len(got)-300):])
			}
			if !strings.Contains(got, "the whole list: the check run's annotations.") {
				t.Error("does not say where the whole list is")
			}
			// The first rows are the ones shown.
			if !strings.Contains(got, rows[0]) {
				t.Error("first row not shown")
			}
		})
	}
}

func TestFitCollapsesLongListsThatFit(t *testing.T) {
	md, rows := table(30)
	got := Fit(md, Chars(65536), Options{Shown: 10})
	checkCut(t, got, Chars(65536), rows)
	want := "\n<details><summary>20 more rows</summary>\n\n| | object | message |\n|---|---|---|\n" + rows[10]
	if !strings.Contains(got, want) || strings.Contains(got, "not shown") {
		t.Errorf("not collapsed after 10 rows:\n%s", got)
	}
	if i, j := strings.Index(got, rows[9]), strings.Index(got, "<details>"); i < 0 || i > j {
		t.Errorf("row 10 not above the collapsed part:\n%s", got)
	}
	if short := "a\n\n- one\n- two\n"; Fit(short, Chars(100), Options{Shown: 10}) != short {
		t.Errorf("short text changed: %q", Fit(short, Chars(100), Options{Shown: 10}))
	}
	if md2, _ := table(3); Fit(md2, Chars(65536), Options{}) != md2 {
		t.Error("a text that fits changed")
	}
}

func TestFitNeverCutsInsideFenceOrDetails(t *testing.T) {
	fence := "```\n" + strings.Repeat("| inside | a fence |\n", 200) + "```\n"
	details := "<details><summary>x</summary>\n\n" + strings.Repeat("words words words\n", 200) + "\n</details>\n"
	md := "head\n\n" + fence + "\n" + details + "\ntail\n"
	l := Chars(3000)
	got := Fit(md, l, Options{})
	if !l.Fits(got) {
		t.Fatalf("%d characters", l.Len(got))
	}
	if strings.Count(got, "```")%2 != 0 || strings.Count(got, "<details>") != strings.Count(got, "</details>") {
		t.Errorf("cut inside a fence or <details>:\n%s", got)
	}
	if !strings.HasSuffix(got, cutNote) {
		t.Errorf("no note that the text was cut: %q", got[max(0, len(got)-100):])
	}
	// Rows inside a fence are not rows of a table.
	if strings.Contains(got, "not shown") {
		t.Errorf("rows counted inside a fence:\n%s", got)
	}
}

func TestFitDropsRowsInsideDetailsWithoutNesting(t *testing.T) {
	var items []string
	for i := range 500 {
		items = append(items, fmt.Sprintf("- note %d: ✓ something\n", i))
	}
	md := "<details><summary>Notes</summary>\n\n" + strings.Join(items, "") + "\n</details>\n"
	l := Chars(2000)
	got := Fit(md, l, Options{Shown: 5, Where: "`gitvend check`"})
	if !l.Fits(got) || strings.Count(got, "<details>") != 1 || !strings.HasSuffix(got, "</details>\n") {
		t.Errorf("got:\n%s", got)
	}
	m := moreRe.FindStringSubmatch(got)
	if m == nil {
		t.Fatalf("no count of notes not shown:\n%s", got)
	}
	n, _ := strconv.Atoi(m[1])
	if shown := strings.Count(got, "- note "); shown+n != 500 {
		t.Errorf("%d shown + %d not shown != 500", shown, n)
	}
}

func TestDocRowsOfSeveralLines(t *testing.T) {
	var d Doc
	d.Text("Drift on target prod:\n\n")
	var rows []string
	for i := range 500 {
		rows = append(rows, fmt.Sprintf("### Deployment team/app-%d\n\n| field | Git | live |\n| --- | --- | --- |\n| `image` | `a` | `b` |\n\n", i))
	}
	d.Add(List{Rows: rows, Noun: "objects"})
	d.Text("---\nfooter\n")
	l := Chars(10000)
	got := d.Fit(l, Options{Where: "the status page"})
	if !l.Fits(got) || !strings.HasSuffix(got, "footer\n") {
		t.Fatalf("%d characters:\n%s", l.Len(got), got)
	}
	shown := strings.Count(got, "### Deployment")
	if !strings.Contains(got, MoreLine(500-shown, true, "objects", "the status page")) {
		t.Errorf("%d shown, no right count:\n%s", shown, got)
	}
	for _, r := range rows[:shown] {
		if !strings.Contains(got, r) {
			t.Errorf("object cut: %q", r)
		}
	}
}

func TestLine(t *testing.T) {
	long := strings.Repeat("ü", 300)
	got := Line(long, Chars(140))
	if utf8.RuneCountInString(got) != 140 || !strings.HasSuffix(got, "…") || !utf8.ValidString(got) {
		t.Errorf("%d characters: %q", utf8.RuneCountInString(got), got)
	}
	if got := Line(long, Bytes(11)); len(got) > 11 || !utf8.ValidString(got) {
		t.Errorf("%d bytes: %q", len(got), got)
	}
	if got := Line("a\nb  c", Chars(10)); got != "a b c" {
		t.Errorf("%q", got)
	}
}
