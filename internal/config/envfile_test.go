package config

import (
	"fmt"
	"strings"
)

// envExample renders the .env.example file for the variables of spec: each
// variable with its description and default, ready to copy to .env.
func envExample(spec any) string {
	var b strings.Builder
	b.WriteString("# Every setting of the service, with its default. Copy to .env for local\n")
	b.WriteString("# work; in production the platform sets these in the environment.\n")
	b.WriteString("# Generated from internal/config: go test ./internal/config -update\n")
	for _, v := range Vars(spec) {
		b.WriteString("\n# " + v.Description)
		switch {
		case v.Required:
			b.WriteString(" (required)")
		case v.Secret:
			b.WriteString(" (secret)")
		}
		b.WriteString("\n")
		if v.Default == "" && !v.Required {
			fmt.Fprintf(&b, "# %s=\n", v.Name)
			continue
		}
		fmt.Fprintf(&b, "%s=%s\n", v.Name, v.Default)
	}
	return b.String()
}

// markdownTable renders the variables of spec as a Markdown table for the
// README.
func markdownTable(spec any) string {
	var b strings.Builder
	b.WriteString("| variable | default | description |\n| --- | --- | --- |\n")
	for _, v := range Vars(spec) {
		def := "`" + v.Default + "`"
		switch {
		case v.Required:
			def = "required"
		case v.Default == "":
			def = "unset"
		}
		desc := v.Description
		if v.Secret {
			desc += " (secret: masked when printed)"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", v.Name, def, strings.ReplaceAll(desc, "|", "\\|"))
	}
	return b.String()
}
