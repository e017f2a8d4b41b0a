package github

import (
	"fmt"
	"unicode/utf8"
)

// GitHub's limits on the text an App posts. Bodies and titles are counted in
// characters (Unicode code points); a check run's output is refused past
// MaxCheckOutput characters and, in practice, past as many bytes, so a
// budget for it counts bytes. Text that exceeds a limit is refused with 422,
// never cut by GitHub, so every text gitvend posts is budgeted before it is
// sent.
const (
	// MaxBody bounds issue, pull request and comment bodies.
	MaxBody = 65536
	// MaxTitle bounds issue and pull request titles.
	MaxTitle = 256
	// MaxCheckOutput bounds a check run's output.summary and output.text.
	MaxCheckOutput = 65535
	// MaxStatusDescription bounds a commit status's description.
	MaxStatusDescription = 140
	// MaxAnnotationsPerCall bounds the annotations of one check run create
	// or update; more are sent in further updates.
	MaxAnnotationsPerCall = 50
)

// checkChars refuses text of more than limit characters, as GitHub does
// for bodies, titles and descriptions.
func checkChars(field, text string, limit int) error {
	if n := utf8.RuneCountInString(text); n > limit {
		return fmt.Errorf("%s: %d characters; GitHub allows at most %d", field, n, limit)
	}
	return nil
}

// checkOptChars is checkChars for a field that may be left unset.
func checkOptChars(field string, text *string, limit int) error {
	if text == nil {
		return nil
	}
	return checkChars(field, *text, limit)
}

// checkOutput refuses a check run summary or text of more than
// MaxCheckOutput bytes: GitHub counts characters and also refuses that
// many bytes, so bytes are the binding count.
func checkOutput(field, text string) error {
	if n := len(text); n > MaxCheckOutput {
		return fmt.Errorf("%s: %d bytes; GitHub allows at most %d characters and, in practice, as many bytes", field, n, MaxCheckOutput)
	}
	return nil
}
