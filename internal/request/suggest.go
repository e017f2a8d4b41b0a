package request

import (
	"strings"
	"unicode/utf8"
)

// Suggest returns the candidate that word most likely misspells, and false
// when none is close enough to suggest: within one edit for words of up to
// five letters, two for longer ones (an edit inserts, deletes or replaces a
// letter, or swaps two neighbours). Case is ignored; a tie goes to the
// candidate listed first.
func Suggest(word string, candidates []string) (string, bool) {
	n := utf8.RuneCountInString(word)
	if n == 0 || n > 64 {
		return "", false
	}
	limit := 1
	if n > 5 {
		limit = 2
	}
	best, bestD := "", limit+1
	w := strings.ToLower(word)
	for _, c := range candidates {
		if c == word {
			return "", false // not a typo
		}
		if d := distance(w, strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	return best, best != ""
}

// distance is the optimal string alignment distance between a and b, in
// runes: insertions, deletions, substitutions and swaps of two neighbours.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	// Three rows suffice: the one before the previous, the previous and
	// the current.
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}

// Code writes s as a Markdown code span, so that text people wrote is
// shown as they wrote it and never renders as a mention, a link, HTML or
// formatting. Line breaks become spaces. An HTML comment opener is broken
// with a zero-width space: gitvend finds its own comments by the markers
// they carry (<!-- gitvend:… -->), and a marker quoted from someone's text
// must never make a reply pass for another comment.
func Code(s string) string {
	s = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ", "<!--", "<!-\u200b-").Replace(s)
	if strings.TrimSpace(s) == "" {
		return "` `"
	}
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		return fence + " " + s + " " + fence
	}
	return fence + s + fence
}
