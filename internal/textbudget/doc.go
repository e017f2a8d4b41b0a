// Package textbudget fits the Markdown gitvend posts within GitHub's
// limits. A text that is too long is never cut mid-row, mid-character or
// inside an open code fence or <details>: its lists (table rows, list
// items, or rows a caller names) lose rows from their ends, longest lists
// first, and each list that lost rows ends with a line that says how many
// rows are not shown and where the whole list is. Long lists that fit show
// their first rows and collapse the rest in a <details> section.
//
// Limits count characters (Unicode code points) for bodies and titles, and
// bytes for a check run's output (see github.MaxCheckOutput).
package textbudget
