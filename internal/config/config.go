// Package config reads hookyard's YAML configuration file. Parsing walks the
// yaml.Node tree so that every problem is reported with its key path and
// line; ${VAR} references are expanded from an injected getenv on that tree;
// defaults fill absent keys; and validation collects every problem before
// returning, so a config is either wholly usable or rejected.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Options are the facts Parse needs from packages that import config.
type Options struct {
	// Providers lists the valid values of sources[].provider. The verify
	// package owns this list (it imports config, so config cannot import
	// it); callers pass verify's provider names. Nil skips the check.
	Providers []string
}

// maxErrors bounds how many problems one error reports; past that, the rest
// are usually consequences of the first few.
const maxErrors = 20

// Error is one problem in a config file. Parse and Load return these joined
// with errors.Join, so errors.As finds the first one.
type Error struct {
	Line int    // 1-based; 0 when the problem has no single place in the file
	Path string // key path such as sources[0].secrets[1]; empty for the whole file
	Msg  string // never contains a value read from the environment
}

// Error formats e as "config line 12: sources[0].provider: message".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("config")
	if e.Line > 0 {
		b.WriteString(" line ")
		b.WriteString(strconv.Itoa(e.Line))
	}
	b.WriteString(": ")
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Load reads and parses the config file at path; see Parse.
func Load(path string, getenv func(string) string, opts Options) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	cfg, err := Parse(data, getenv, opts)
	if err != nil {
		return nil, err
	}
	cfg.Dir = filepath.Dir(path)
	return cfg, nil
}

// Parse parses, expands, defaults and validates a YAML config. ${NAME} in a
// value is replaced by getenv("NAME") (an unset or empty variable is an
// error) and $$ stands for a literal $. A nil getenv treats every variable
// as unset. On error the returned error lists up to 20 problems, one per
// line, each naming its key path and line, and the Config is nil.
func Parse(data []byte, getenv func(string) string, opts Options) (*Config, error) {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	root, err := parseYAML(data)
	if err != nil {
		return nil, err
	}

	cfg := &Config{}
	cfg.setDefaults()
	d := &decoder{
		getenv: getenv,
		lines:  map[string]int{},
		env:    map[string]bool{},
		bad:    map[string]bool{},
	}
	if root != nil {
		d.decode(root, "", root.Line, reflectValue(cfg))
	}
	cfg.setDerivedDefaults()

	v := &validator{cfg: cfg, opts: opts, d: d}
	v.validate()

	errs := append(d.errs, v.errs...)
	if len(errs) == 0 {
		cfg.lines = d.lines
		return cfg, nil
	}
	return nil, joinErrors(errs)
}

// yamlErrLine matches the position yaml.v3 puts in syntax errors.
var yamlErrLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseYAML returns the top-level node of the single document in data, or
// nil for an empty document.
func parseYAML(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, syntaxError(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, &Error{Line: extra.Line, Msg: "only one YAML document is allowed"}
	} else if !errors.Is(err, io.EOF) {
		return nil, syntaxError(err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, nil
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return nil, nil
	}
	return root, nil
}

func syntaxError(err error) error {
	if m := yamlErrLine.FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Error{Line: line, Msg: "invalid YAML: " + m[2]}
	}
	return &Error{Msg: "invalid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}
}

// joinErrors orders errs by line and joins at most maxErrors of them.
func joinErrors(errs []*Error) error {
	sort.SliceStable(errs, func(i, j int) bool {
		li, lj := errs[i].Line, errs[j].Line
		if li == 0 || lj == 0 {
			return li != 0 && lj == 0 // placeless problems last
		}
		return li < lj
	})
	n := min(len(errs), maxErrors)
	out := make([]error, 0, n+1)
	for _, e := range errs[:n] {
		out = append(out, e)
	}
	if len(errs) > n {
		out = append(out, fmt.Errorf("config: %d more problems not shown", len(errs)-n))
	}
	return errors.Join(out...)
}

// Source returns the source called name.
func (c *Config) Source(name string) (*Source, bool) {
	for i := range c.Sources {
		if c.Sources[i].Name == name {
			return &c.Sources[i], true
		}
	}
	return nil, false
}

// Destination returns the destination called name.
func (c *Config) Destination(name string) (*Destination, bool) {
	for i := range c.Destinations {
		if c.Destinations[i].Name == name {
			return &c.Destinations[i], true
		}
	}
	return nil, false
}
