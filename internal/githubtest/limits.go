package githubtest

import (
	"fmt"
	"net/http"
	"unicode/utf8"
)

// GitHub's limits on the text the REST API accepts. GitHub refuses text
// over a limit with 422; it never cuts it.
const (
	// maxBody bounds issue, pull request and comment bodies, in characters.
	maxBody = 65536
	// maxTitle bounds issue and pull request titles, in characters.
	maxTitle = 256
	// maxCheckOutput bounds a check run's output.summary and output.text;
	// GitHub counts characters and, in practice, also refuses more bytes.
	maxCheckOutput = 65535
	// maxAnnotations bounds the annotations of one check run request.
	maxAnnotations = 50
	// maxStatusDescription bounds a commit status's description, in characters.
	maxStatusDescription = 140
)

// errTooLong is GitHub's 422 for a text field over its limit of
// characters: {"resource": ..., "code": "custom", "field": ..., "message":
// "<field> is too long (maximum is N characters)"}.
func errTooLong(resource, field string, limit int) *apiError {
	return errValidation(resource, field, "custom", fmt.Sprintf("%s is too long (maximum is %d characters)", field, limit))
}

// checkLength refuses text of more than limit characters.
func checkLength(resource, field, text string, limit int) error {
	if utf8.RuneCountInString(text) > limit {
		return errTooLong(resource, field, limit)
	}
	return nil
}

// checkIssueText checks the title and body of an issue or pull request
// (GitHub names both resources "Issue" in these errors); nil pointers are
// fields not sent.
func checkIssueText(title, body *string) error {
	if title != nil {
		if err := checkLength("Issue", "title", *title, maxTitle); err != nil {
			return err
		}
	}
	if body != nil {
		if err := checkLength("Issue", "body", *body, maxBody); err != nil {
			return err
		}
	}
	return nil
}

// checkOutputText checks a check run's output.summary or output.text the
// way GitHub does: more than 65535 characters is an "Invalid request";
// fewer characters but more than 65535 bytes (multi-byte characters) is a
// validation error on the field's byte size.
func checkOutputText(field, text string) error {
	if n := utf8.RuneCountInString(text); n > maxCheckOutput {
		return errStatus(http.StatusUnprocessableEntity, "Invalid request.\n\nOnly %d characters are allowed; %d were supplied.", maxCheckOutput, n)
	}
	if len(text) > maxCheckOutput {
		return errValidation("CheckRun", field, "custom", fmt.Sprintf("%s exceeds a maximum bytesize of %d", field, maxCheckOutput))
	}
	return nil
}

// errTooManyItems is GitHub's 422 for a list over its limit, such as the
// annotations of one check run request.
func errTooManyItems(limit, n int) *apiError {
	return errStatus(http.StatusUnprocessableEntity, "Invalid request.\n\nNo more than %d items are allowed; %d were supplied.", limit, n)
}
