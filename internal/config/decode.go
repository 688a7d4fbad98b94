package config

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// decoder fills a Config from a yaml.Node tree. It is hand-rolled rather
// than node.Decode so that every problem names its key path and line, and
// so that no value read from the environment ever reaches an error message.
type decoder struct {
	getenv func(string) string
	errs   []*Error
	lines  map[string]int  // key path -> line, for validation messages
	env    map[string]bool // key paths whose value used ${VAR}
	bad    map[string]bool // key paths that failed to decode
}

// defaulter is implemented by types that fill their absent fields before
// their YAML mapping is decoded, so an explicit zero stays zero (and is
// then rejected by validation) instead of silently becoming the default.
type defaulter interface{ setDefaults() }

var durationType = reflect.TypeFor[Duration]()

func reflectValue(cfg *Config) reflect.Value { return reflect.ValueOf(cfg).Elem() }

func (d *decoder) errorf(line int, path, format string, args ...any) {
	d.bad[path] = true
	d.errs = append(d.errs, &Error{Line: line, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// decode stores n into v. line is where path is reported: the key's line
// for a mapping value, the item's line for a sequence item.
func (d *decoder) decode(n *yaml.Node, path string, line int, v reflect.Value) {
	for n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if _, ok := d.lines[path]; !ok {
		d.lines[path] = line
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return // absent: keep the default
	}

	if v.Type() == durationType {
		s, ok := d.scalar(n, path, line)
		if !ok {
			return
		}
		dur, err := ParseDuration(s)
		switch {
		case err != nil && d.env[path]:
			d.errorf(line, path, "invalid duration from the environment (want e.g. 15s, 1h30m or 3d)")
		case err != nil:
			d.errorf(line, path, "%v", err)
		default:
			v.Set(reflect.ValueOf(dur))
		}
		return
	}

	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.decode(n, path, line, v.Elem())

	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			d.errorf(line, path, "want a mapping of keys, got %s", kindName(n))
			return
		}
		if df, ok := v.Addr().Interface().(defaulter); ok {
			df.setDefaults()
		}
		fields, names := structFields(v.Type())
		seen := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			key := k.Value
			p := join(path, key)
			if k.Kind != yaml.ScalarNode {
				d.errorf(k.Line, path, "keys must be plain names")
				continue
			}
			if first, dup := seen[key]; dup {
				d.errorf(k.Line, p, "duplicate key (first at line %d)", first)
				continue
			}
			seen[key] = k.Line
			idx, ok := fields[key]
			if !ok {
				d.errorf(k.Line, p, "unknown key (want one of %s)", strings.Join(names, ", "))
				continue
			}
			d.decode(val, p, k.Line, v.Field(idx))
		}

	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.errorf(line, path, "want a list, got %s", kindName(n))
			return
		}
		if len(n.Content) == 0 {
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, item := range n.Content {
			d.decode(item, fmt.Sprintf("%s[%d]", path, i), item.Line, s.Index(i))
		}
		v.Set(s)

	case reflect.Map: // map[string]string: destination headers
		if n.Kind != yaml.MappingNode {
			d.errorf(line, path, "want a mapping, got %s", kindName(n))
			return
		}
		if len(n.Content) == 0 {
			return
		}
		m := reflect.MakeMapWithSize(v.Type(), len(n.Content)/2)
		seen := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			p := mapKeyPath(path, k.Value)
			if k.Kind != yaml.ScalarNode {
				d.errorf(k.Line, path, "keys must be plain names")
				continue
			}
			if first, dup := seen[k.Value]; dup {
				d.errorf(k.Line, p, "duplicate key (first at line %d)", first)
				continue
			}
			seen[k.Value] = k.Line
			elem := reflect.New(v.Type().Elem()).Elem()
			d.decode(val, p, k.Line, elem)
			m.SetMapIndex(reflect.ValueOf(k.Value), elem)
		}
		v.Set(m)

	case reflect.String:
		if s, ok := d.scalar(n, path, line); ok {
			v.SetString(s)
		}

	case reflect.Int, reflect.Int64:
		s, ok := d.scalar(n, path, line)
		if !ok {
			return
		}
		i, err := strconv.ParseInt(strings.TrimSpace(s), 10, v.Type().Bits())
		switch {
		case err != nil && d.env[path]:
			d.errorf(line, path, "want a whole number; the environment value is not one")
		case err != nil:
			d.errorf(line, path, "want a whole number, got %q", s)
		default:
			v.SetInt(i)
		}

	case reflect.Bool:
		s, ok := d.scalar(n, path, line)
		if !ok {
			return
		}
		switch strings.TrimSpace(s) {
		case "true":
			v.SetBool(true)
		case "false":
			v.SetBool(false)
		default:
			d.errorf(line, path, "want true or false, got %q", s)
		}

	case reflect.Float64:
		s, ok := d.scalar(n, path, line)
		if !ok {
			return
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		switch {
		case err != nil && d.env[path]:
			d.errorf(line, path, "want a number; the environment value is not one")
		case err != nil:
			d.errorf(line, path, "want a number, got %q", s)
		default:
			v.SetFloat(f)
		}

	default:
		// Only reachable if a field of an unsupported kind is added to the
		// types; fail loudly in tests rather than ignore the key.
		panic(fmt.Sprintf("config: cannot decode into %s at %s", v.Type(), path))
	}
}

// scalar returns n's value with ${VAR} expanded.
func (d *decoder) scalar(n *yaml.Node, path string, line int) (string, bool) {
	if n.Kind != yaml.ScalarNode {
		d.errorf(line, path, "want a single value, got %s", kindName(n))
		return "", false
	}
	s, used, err := expand(n.Value, d.getenv)
	if err != nil {
		d.errorf(line, path, "%v", err)
		return "", false
	}
	if used {
		d.env[path] = true
	}
	return s, true
}

// expand replaces ${NAME} with getenv("NAME") and $$ with $. used reports
// whether any variable was read, so callers keep the result out of errors.
// Errors name the variable, never its value.
func expand(s string, getenv func(string) string) (out string, used bool, err error) {
	if !strings.Contains(s, "$") {
		return s, false, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '$' {
			b.WriteByte(c)
			continue
		}
		switch {
		case i+1 < len(s) && s[i+1] == '$':
			b.WriteByte('$')
			i++
		case i+1 < len(s) && s[i+1] == '{':
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				return "", false, fmt.Errorf("unterminated ${ (write $$ for a literal $)")
			}
			name := s[i+2 : i+2+end]
			if !validEnvName(name) {
				return "", false, fmt.Errorf("invalid environment variable name %q in ${...} (write $$ for a literal $)", name)
			}
			val := getenv(name)
			if val == "" {
				return "", false, fmt.Errorf("environment variable %s is not set (or is empty)", name)
			}
			b.WriteString(val)
			used = true
			i += 2 + end
		default:
			return "", false, fmt.Errorf("a $ must start ${NAME} or be doubled as $$ for a literal $")
		}
	}
	return b.String(), used, nil
}

func validEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_', 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z':
		case '0' <= c && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// structFields maps yaml key names to field indexes, and lists the keys in
// declaration order for "want one of" messages.
func structFields(t reflect.Type) (map[string]int, []string) {
	fields := make(map[string]int, t.NumField())
	var names []string
	for i := range t.NumField() {
		tag, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if tag == "" || tag == "-" {
			continue
		}
		fields[tag] = i
		names = append(names, tag)
	}
	return fields, names
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return "a single value"
	}
	return "something else"
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// mapKeyPath names a map entry: headers.X-Api-Key, or headers["odd key"]
// when the key is not a plain token.
func mapKeyPath(path, key string) string {
	if key != "" && isToken(key) {
		return path + "." + key
	}
	return path + "[" + strconv.Quote(key) + "]"
}

// parent returns the enclosing key path: a.b[2].c -> a.b[2] -> a.b -> a.
func parent(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}
