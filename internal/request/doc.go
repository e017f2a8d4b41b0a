// Package request owns the Request record, one provisioned thing kept in
// the desired-state repository under requests/<environment>/<namespace>/,
// and the ways people ask for one: issue-form bodies and /provision
// commands.
package request
