package check

import (
	"encoding/json"
	"io"
	"sort"

	"github.com/gitvend/gitvend/internal/config"
	"github.com/gitvend/gitvend/internal/policy"
)

// SARIF 2.1.0, the subset code-scanning tools read.
type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool    sarifTool     `json:"tool"`
	Results []sarifResult `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	InformationURI string      `json:"informationUri,omitempty"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID                   string       `json:"id"`
	Name                 string       `json:"name,omitempty"`
	ShortDescription     sarifText    `json:"shortDescription"`
	FullDescription      *sarifText   `json:"fullDescription,omitempty"`
	Help                 *sarifText   `json:"help,omitempty"`
	DefaultConfiguration sarifDefault `json:"defaultConfiguration"`
}

type sarifDefault struct {
	Level string `json:"level"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifResult struct {
	RuleID    string          `json:"ruleId"`
	Level     string          `json:"level"`
	Message   sarifText       `json:"message"`
	Locations []sarifLocation `json:"locations"`
	// Suppressions mark findings waived by an exception.
	Suppressions []sarifSuppression `json:"suppressions,omitempty"`
}

type sarifSuppression struct {
	Kind          string `json:"kind"`
	Justification string `json:"justification"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical `json:"physicalLocation"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           *sarifRegion  `json:"region,omitempty"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine int `json:"startLine"`
}

func sarifLevel(severity string) string {
	if severity == "deny" {
		return "error"
	}
	return "warning"
}

func (f *Writer) writeSARIF(w io.Writer, rep *Report) error {
	driver := sarifDriver{Name: "gitvend", Rules: []sarifRule{}}
	for _, r := range f.rules {
		rule := sarifRule{ID: r.ID, Name: r.Title, ShortDescription: sarifText{Text: r.Title},
			DefaultConfiguration: sarifDefault{Level: sarifLevel(r.Severity)}}
		if r.Description != "" {
			rule.FullDescription = &sarifText{Text: r.Description}
		}
		if r.Fix != "" {
			rule.Help = &sarifText{Text: r.Fix}
		}
		driver.Rules = append(driver.Rules, rule)
	}
	sort.Slice(driver.Rules, func(i, j int) bool { return driver.Rules[i].ID < driver.Rules[j].ID })
	results := []sarifResult{}
	add := func(v policy.Violation, suppressed bool) {
		msg := v.Message
		if v.Kind != "" {
			msg = v.ID.String() + ": " + msg
		}
		res := sarifResult{RuleID: v.Policy, Level: sarifLevel(v.Severity), Message: sarifText{Text: msg}}
		res.Locations = sarifLocations(v.File, v.Line)
		if suppressed {
			res.Suppressions = []sarifSuppression{{Kind: "external", Justification: v.Exception}}
		}
		results = append(results, res)
	}
	for _, v := range rep.Violations {
		add(v, false)
	}
	for _, v := range rep.Excepted {
		add(v, true)
	}
	for _, e := range rep.Errors {
		res := sarifResult{RuleID: "unreadable-input", Level: "error", Message: sarifText{Text: e.Message}}
		res.Locations = sarifLocations(e.File, e.Line)
		results = append(results, res)
	}
	if len(rep.Errors) > 0 {
		driver.Rules = append(driver.Rules, sarifRule{ID: "unreadable-input", ShortDescription: sarifText{Text: "Input that gitvend could not read"},
			DefaultConfiguration: sarifDefault{Level: "error"}})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(sarifLog{
		Schema:  "https://json.schemastore.org/sarif-2.1.0.json",
		Version: "2.1.0",
		Runs:    []sarifRun{{Tool: sarifTool{Driver: driver}, Results: results}},
	})
}

// sarifLocations is the one location of a result. Code scanning rejects
// an upload with a result that has none, so a finding that names no file
// (Check places most of them, see locate) points at the repository's
// gitvend.yaml, where policies are set and waived.
func sarifLocations(file string, line int) []sarifLocation {
	if file == "" {
		file, line = config.RepoFile, 0
	}
	loc := sarifLocation{PhysicalLocation: sarifPhysical{ArtifactLocation: sarifArtifact{URI: file}}}
	if line > 0 {
		loc.PhysicalLocation.Region = &sarifRegion{StartLine: line}
	}
	return []sarifLocation{loc}
}
