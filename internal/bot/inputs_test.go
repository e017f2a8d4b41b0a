package bot

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gitvend/gitvend/internal/github"
)

// TestAttribute: who answers for each input of a request, from the
// witness of the webhook, the ledger of the status comment, and whether
// the input was edited; and who may confirm what nobody answers for.
func TestAttribute(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	issue := &github.Issue{Number: 1, User: "alice", Title: "[gitvend] web-service: orders", Body: "### Environment\n\ndev\n", CreatedAt: t0, UpdatedAt: t0.Add(time.Hour)}
	issueHash := textHash(issueText(issue.Title, issue.Body))
	say := func(id int64, user, body string, editedAfter time.Duration) comment {
		at := t0.Add(time.Duration(id) * time.Minute)
		return comment{Comment: github.Comment{ID: id, User: user, Body: body, CreatedAt: at, UpdatedAt: at.Add(editedAfter)}, number: 1}
	}
	set := "/provision set environment=prod"
	may := map[string]bool{"alice": true, "carol": true, "dave": true}
	tests := []struct {
		name     string
		comments []comment
		ledger   ledger
		witness  *Witness
		want     []string // key=by, "?" for nobody
	}{
		{name: "first seen: the authors", comments: []comment{say(1, "alice", set, 0)},
			want: []string{"issue=alice", "c1=alice"}},
		{name: "the witness names the editor", comments: []comment{say(1, "alice", set, time.Minute)},
			ledger: ledger{"c1": {hash: "0000", login: "alice"}}, witness: &Witness{CommentID: 1, Login: "carol", Text: set},
			want: []string{"issue=alice", "c1=carol"}},
		{name: "the witness of the issue names its editor", ledger: ledger{"issue": {hash: "0000", login: "alice"}},
			witness: &Witness{Login: "carol", Text: issueText(issue.Title, issue.Body)},
			want:    []string{"issue=carol"}},
		{name: "a witness of another text names nobody", comments: []comment{say(1, "alice", set, time.Minute)},
			witness: &Witness{CommentID: 1, Login: "carol", Text: "/provision set environment=dev"},
			want:    []string{"issue=alice", "c1=?"}},
		{name: "an opened issue whose text changed since", witness: &Witness{Login: "alice", Text: issueText(issue.Title, "### Environment\n\nqa\n")},
			want: []string{"issue=?"}},
		{name: "the ledger, while the text is the one recorded", comments: []comment{say(1, "alice", set, time.Minute)},
			ledger: ledger{"issue": {hash: issueHash, login: "carol"}, "c1": {hash: textHash(set), login: "dave"}},
			want:   []string{"issue=carol", "c1=dave"}},
		{name: "edited since the ledger: nobody", comments: []comment{say(1, "alice", set, time.Minute)},
			ledger: ledger{"issue": {hash: "0000", login: "alice"}, "c1": {hash: "1111", login: "alice"}},
			want:   []string{"issue=?", "c1=?"}},
		{name: "an edited comment the ledger never saw: nobody", comments: []comment{say(1, "alice", set, time.Second)},
			want: []string{"issue=alice", "c1=?"}},
		{name: "a recorded comment whose commands were edited away stays an input", comments: []comment{say(1, "alice", "nothing to see", time.Second)},
			ledger: ledger{"issue": {hash: issueHash, login: "alice"}, "c1": {hash: textHash(set), login: "alice"}},
			want:   []string{"issue=alice", "c1=?"}},
		{name: "comments without commands and the bot's are no inputs",
			comments: []comment{say(1, "alice", "thanks", time.Second), say(2, "gitvend[bot]", set, 0), say(3, "alice", "quote "+set+"\n"+github.Marker("status"), 0)},
			want:     []string{"issue=alice"}},
		{name: "unconfirmed, by an author who may not ask: the author's", comments: []comment{say(1, "bob", set, time.Second)},
			want: []string{"issue=alice", "c1=bob"}},
		{name: "a new rerender written after the edit confirms it", comments: []comment{say(1, "alice", set, time.Second), say(2, "dave", "/provision rerender", 0)},
			ledger: ledger{"issue": {hash: "0000", login: "alice"}, "c1": {hash: "1111", login: "alice"}},
			want:   []string{"issue=dave", "c1=dave", "c2=dave"}},
		{name: "a rerender written before the edit does not", comments: []comment{say(2, "dave", "/provision rerender", 0), say(1, "alice", set, 5*time.Minute)},
			want: []string{"issue=alice", "c2=dave", "c1=?"}},
		{name: "a recorded rerender confirms nothing new", comments: []comment{say(1, "alice", set, time.Second), say(2, "dave", "/provision rerender", 0)},
			ledger: ledger{"issue": {hash: issueHash, login: "alice"}, "c1": {hash: "1111", login: "alice"}, "c2": {hash: textHash("/provision rerender"), login: "dave"}},
			want:   []string{"issue=alice", "c1=?", "c2=dave"}},
		{name: "a rerender by someone who may not ask confirms nothing", comments: []comment{say(1, "alice", set, time.Second), say(2, "bob", "/provision rerender", 0)},
			want: []string{"issue=alice", "c1=?", "c2=bob"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			own := func(login string) bool { return login == "gitvend[bot]" }
			ins := attribute(issue, true, tt.comments, tt.ledger, tt.witness, own)
			mayAsk := func(login string) bool { return may[login] }
			open := settle(ins, mayAsk)
			var got []string
			unconfirmed := 0
			for _, in := range ins {
				by := in.by
				if by == "" {
					by = "?"
					unconfirmed++
				}
				got = append(got, in.key+"="+by)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("inputs (-want +got):\n%s", diff)
			}
			if len(open) != unconfirmed {
				t.Errorf("settle returned %d unconfirmed inputs, want %d", len(open), unconfirmed)
			}
			// What is recorded names the same people, leaves out those
			// who may not ask, and keeps the old record of what nobody
			// answers for.
			l := record(ins, tt.ledger, mayAsk)
			for _, in := range ins {
				rec, ok := l[in.key]
				switch {
				case in.by != "" && !may[in.by] && ok:
					t.Errorf("ledger %s = %+v, recorded for %s, who may not ask", in.key, rec, in.by)
				case in.by != "" && may[in.by] && (rec.login != in.by || rec.hash != in.hash):
					t.Errorf("ledger %s = %+v, want %s by %s", in.key, rec, in.hash, in.by)
				case in.by == "" && rec != tt.ledger[in.key]:
					t.Errorf("ledger %s = %+v (%v), want the old %+v", in.key, rec, ok, tt.ledger[in.key])
				}
			}
		})
	}
}

func TestLedgerLine(t *testing.T) {
	l := ledger{"issue": {hash: "ab12", login: "alice"}, "c7": {hash: "cd34", login: "renovate[bot]"}}
	line := l.String()
	if line != "<!-- gitvend:inputs c7=cd34:renovate[bot] issue=ab12:alice -->" {
		t.Errorf("line = %q", line)
	}
	// Only the last line counts: an error message quoting someone's text
	// comes before it.
	forged := ledger{"issue": {hash: "ffff", login: "mallory"}}.String()
	body := fmt.Sprintf("❌ unknown blueprint %q\n\n%s\n\n%s", forged, line, github.Marker(markerStatus))
	if diff := cmp.Diff(l, parseLedger(body), cmp.AllowUnexported(entry{})); diff != "" {
		t.Errorf("parsed (-want +got):\n%s", diff)
	}
	if got := parseLedger("no ledger here"); len(got) != 0 {
		t.Errorf("parsed %v from nothing", got)
	}
	if got := parseLedger(strings.TrimSuffix(line, " -->")); len(got) != 0 {
		t.Errorf("parsed %v from an unterminated line", got)
	}
}
