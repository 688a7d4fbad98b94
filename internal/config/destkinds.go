package config

import (
	"encoding/base64"
	"fmt"
	"maps"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/template"
)

// This file validates the destination types beyond http and file, and the
// keys that only some types read. destinations() in validate.go calls
// destKind for every type it does not know and destOptions for every
// destination.

var (
	sqlDestTypes = []string{"postgres", "mysql", "sqlite"}
	httpMethods  = []string{"POST", "PUT", "PATCH"}
	authTypes    = []string{"bearer", "basic", "header"}
	// sqlIdentRE is what an SQL destination accepts as a table or column
	// name: names are quoted in statements, and this keeps quoting trivial.
	sqlIdentRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}$`)
	// kafkaTopicRE is Kafka's own rule for topic names.
	kafkaTopicRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,249}$`)
)

// destKind validates the keys of a destination whose type is neither http
// nor file, and reports an unknown type.
func (v *validator) destKind(p string, d *Destination) {
	switch d.Type {
	case "postgres", "mysql", "sqlite":
		v.destSQL(p, d)
	case "nats":
		v.kindURL(p+".url", d.URL, "nats", "nats", "tls", "ws", "wss")
		v.natsSubject(p+".subject", d.Subject)
	case "amqp":
		v.kindURL(p+".url", d.URL, "amqp", "amqp", "amqps")
		if d.Exchange == "" && d.RoutingKey == "" {
			v.errorf(p+".routing_key", "is required with the default exchange (exchange absent or empty): it names the queue")
		}
		v.noControl(p+".exchange", d.Exchange)
		v.noControl(p+".routing_key", d.RoutingKey)
	case "redis":
		v.kindURL(p+".url", d.URL, "redis", "redis", "rediss", "unix")
		if d.Stream == "" {
			v.errorf(p+".stream", "is required for type redis (the stream key to XADD to)")
		}
		if d.MaxLen < 0 {
			v.errorf(p+".max_len", "must not be negative, got %d", d.MaxLen)
		}
		if _, set := v.d.lines[p+".idempotency_ttl"]; set {
			v.positive(p+".idempotency_ttl", d.IdempotencyTTL)
		}
	case "kafka":
		if len(d.Brokers) == 0 {
			v.errorf(p+".brokers", "at least one broker (host:port) is required for type kafka")
		}
		for i, b := range d.Brokers {
			if _, port, err := net.SplitHostPort(b); err != nil || port == "" {
				v.errorf(fmt.Sprintf("%s.brokers[%d]", p, i), "%s is not host:port", v.show(fmt.Sprintf("%s.brokers[%d]", p, i), b))
			}
		}
		switch {
		case d.Topic == "":
			v.errorf(p+".topic", "is required for type kafka")
		case !kafkaTopicRE.MatchString(d.Topic) || d.Topic == "." || d.Topic == "..":
			v.errorf(p+".topic", "invalid Kafka topic %s: use 1-249 of a-z, A-Z, 0-9, . _ -", v.show(p+".topic", d.Topic))
		}
	default:
		v.errorf(p+".type", "unknown destination type %s (want one of %s)", v.show(p+".type", d.Type), strings.Join(destTypes, ", "))
	}
}

func (v *validator) destSQL(p string, d *Destination) {
	if d.DSN == "" {
		v.errorf(p+".dsn", "is required for type %s", d.Type)
	}
	if len(d.Tables) == 0 {
		v.errorf(p+".tables", "at least one table is required (tables: {name: {key: [columns]}})")
	}
	for _, name := range slices.Sorted(maps.Keys(d.Tables)) {
		t := d.Tables[name]
		tp := mapKeyPath(p+".tables", name)
		if !sqlIdentRE.MatchString(name) {
			v.errorf(tp, "invalid table name: use a letter or _ then up to 62 letters, digits or _")
		}
		if len(t.Key) == 0 {
			v.errorf(tp+".key", "at least one key column is required (the columns of the primary key or a unique index)")
		}
		seen := map[string]bool{}
		for i, c := range t.Key {
			cp := fmt.Sprintf("%s.key[%d]", tp, i)
			switch {
			case !sqlIdentRE.MatchString(c):
				v.errorf(cp, "invalid column name %s: use a letter or _ then up to 62 letters, digits or _", v.show(cp, c))
			case seen[c]:
				v.errorf(cp, "column %s is listed twice", v.show(cp, c))
			}
			seen[c] = true
		}
		if c := t.VersionColumn; c != "" {
			switch {
			case !sqlIdentRE.MatchString(c):
				v.errorf(tp+".version_column", "invalid column name %s: use a letter or _ then up to 62 letters, digits or _", v.show(tp+".version_column", c))
			case seen[c]:
				v.errorf(tp+".version_column", "must not be a key column")
			}
		}
	}
}

// kindURL checks a required broker URL. It is never quoted back: it may
// carry credentials.
func (v *validator) kindURL(path, raw, typ string, schemes ...string) {
	if raw == "" {
		v.errorf(path, "is required for type %s", typ)
		return
	}
	u, err := url.Parse(raw)
	if err != nil || !slices.Contains(schemes, u.Scheme) || (u.Host == "" && u.Scheme != "unix") {
		v.errorf(path, "must be an absolute URL with scheme %s", strings.Join(schemes, ", "))
	}
}

// natsSubject checks a publish subject: dot-separated tokens without
// wildcards or whitespace.
func (v *validator) natsSubject(path, s string) {
	if s == "" {
		v.errorf(path, "is required for type nats")
		return
	}
	for tok := range strings.SplitSeq(s, ".") {
		if tok == "" || tok == "*" || tok == ">" || strings.ContainsAny(tok, " \t\r\n\x00") {
			v.errorf(path, "invalid subject %s: dot-separated tokens, no empty tokens, wildcards or whitespace", v.show(path, s))
			return
		}
	}
}

func (v *validator) noControl(path, s string) {
	if strings.ContainsAny(s, "\r\n\x00") {
		v.errorf(path, "must not contain CR, LF or NUL")
	}
}

// destOptions rejects keys d's type does not read, and checks the keys
// only http reads. url, path and headers of http and file destinations are
// checked in destinations().
func (v *validator) destOptions(p string, d *Destination) {
	sql := slices.Contains(sqlDestTypes, d.Type)
	if !slices.Contains(destTypes, d.Type) {
		return // unknown or absent type: already reported
	}
	own := d.Type != "http" && d.Type != "file"
	keys := []struct {
		key   string
		set   bool
		used  bool
		types string
	}{
		{"url", own && d.URL != "", d.Type == "nats" || d.Type == "amqp" || d.Type == "redis", "http, nats, amqp and redis"},
		{"path", own && d.Path != "", false, "file"},
		{"headers", own && len(d.Headers) > 0, false, "http"},
		{"method", d.Method != "", d.Type == "http", "http"},
		{"auth", d.Auth != nil, d.Type == "http", "http"},
		{"signing", d.Signing != nil, d.Type == "http", "http"},
		{"tls", d.TLS != nil, d.Type == "http", "http"},
		{"allow_private", len(d.AllowPrivate) > 0, d.Type == "http", "http"},
		{"max_bytes", d.MaxBytes != 0, d.Type == "file", "file"},
		{"keep", d.Keep != 0, d.Type == "file", "file"},
		{"dsn", d.DSN != "", sql, "postgres, mysql and sqlite"},
		{"tables", len(d.Tables) > 0, sql, "postgres, mysql and sqlite"},
		{"subject", d.Subject != "", d.Type == "nats", "nats"},
		{"exchange", d.Exchange != "", d.Type == "amqp", "amqp"},
		{"routing_key", d.RoutingKey != "", d.Type == "amqp", "amqp"},
		{"stream", d.Stream != "", d.Type == "redis", "redis"},
		{"max_len", d.MaxLen != 0, d.Type == "redis", "redis"},
		{"idempotency_ttl", d.IdempotencyTTL != 0, d.Type == "redis", "redis"},
		{"brokers", len(d.Brokers) > 0, d.Type == "kafka", "kafka"},
		{"topic", d.Topic != "", d.Type == "kafka", "kafka"},
	}
	for _, k := range keys {
		if k.set && !k.used {
			v.errorf(p+"."+k.key, "is only used by type %s", k.types)
		}
	}

	switch d.Type {
	case "http":
		v.destHTTP(p, d)
	case "file":
		if d.MaxBytes < 0 {
			v.errorf(p+".max_bytes", "must not be negative, got %d", d.MaxBytes)
		}
		switch {
		case d.Keep < 0:
			v.errorf(p+".keep", "must not be negative, got %d", d.Keep)
		case d.Keep > 0 && d.MaxBytes == 0:
			v.errorf(p+".keep", "is only used with max_bytes (rotation by size)")
		}
	}
}

func (v *validator) destHTTP(p string, d *Destination) {
	if d.Method != "" && !slices.Contains(httpMethods, d.Method) {
		v.errorf(p+".method", "unknown method %s (want one of %s)", v.show(p+".method", d.Method), strings.Join(httpMethods, ", "))
	}
	for _, k := range slices.Sorted(maps.Keys(d.Headers)) {
		if val := d.Headers[k]; strings.Contains(val, "{{") {
			if _, err := template.New(k).Option("missingkey=error").Parse(val); err != nil {
				v.errorf(mapKeyPath(p+".headers", k), "header template: %v", err)
			}
		}
	}
	if a := d.Auth; a != nil {
		v.destAuth(p+".auth", a)
		for _, k := range slices.Sorted(maps.Keys(d.Headers)) {
			if strings.EqualFold(k, "Authorization") && a.Type != "header" || a.Type == "header" && strings.EqualFold(k, a.Header) {
				v.errorf(mapKeyPath(p+".headers", k), "is also set by auth; keep one")
			}
		}
	}
	if s := d.Signing; s != nil {
		if len(s.Secrets) == 0 {
			v.errorf(p+".signing.secrets", "at least one whsec_ secret is required (two while rotating)")
		}
		for i, sec := range s.Secrets {
			sp := fmt.Sprintf("%s.signing.secrets[%d]", p, i)
			rest, ok := strings.CutPrefix(sec, "whsec_")
			if !ok {
				v.errorf(sp, "want whsec_ followed by base64 (e.g. whsec_$(openssl rand -base64 32))")
				continue
			}
			key, err := base64.StdEncoding.DecodeString(rest)
			if err != nil {
				key, err = base64.RawStdEncoding.DecodeString(rest)
			}
			if err != nil || len(key) < 16 {
				v.errorf(sp, "the part after whsec_ must be base64 of at least 16 bytes")
			}
		}
	}
	if t := d.TLS; t != nil {
		switch {
		case t.CAFile == "" && t.CertFile == "" && t.KeyFile == "":
			v.errorf(p+".tls", "set ca_file, or cert_file and key_file, or all three")
		case t.CertFile != "" && t.KeyFile == "":
			v.errorf(p+".tls.key_file", "is required with cert_file")
		case t.KeyFile != "" && t.CertFile == "":
			v.errorf(p+".tls.cert_file", "is required with key_file")
		}
		if t.CAFile != "" || t.CertFile != "" {
			if u, err := url.Parse(d.URL); err == nil && u.Scheme == "http" {
				v.errorf(p+".tls", "is only used with an https:// url")
			}
		}
	}
	v.allowPrivate(p+".allow_private", d.AllowPrivate)
}

// allowPrivate checks server.allow_private or destinations[].allow_private.
func (v *validator) allowPrivate(path string, cidrs []string) {
	for i, c := range cidrs {
		if _, err := ParsePrefix(c); err != nil {
			v.errorf(fmt.Sprintf("%s[%d]", path, i), "%v", err)
		}
	}
}

func (v *validator) destAuth(p string, a *Auth) {
	used := map[string]bool{}
	switch a.Type {
	case "bearer":
		used["token"] = true
		if a.Token == "" {
			v.errorf(p+".token", "is required for auth type bearer (use ${VAR})")
		}
		v.noControl(p+".token", a.Token)
	case "basic":
		used["username"], used["password"] = true, true
		switch {
		case a.Username == "":
			v.errorf(p+".username", "is required for auth type basic")
		case strings.Contains(a.Username, ":"):
			v.errorf(p+".username", "must not contain a colon (HTTP Basic separates username and password with one)")
		}
		if a.Password == "" {
			v.errorf(p+".password", "is required for auth type basic (use ${VAR})")
		}
	case "header":
		used["header"], used["value"] = true, true
		switch {
		case a.Header == "":
			v.errorf(p+".header", "is required for auth type header (the header's name)")
		case !isToken(a.Header):
			v.errorf(p+".header", "invalid header name %s", v.show(p+".header", a.Header))
		}
		if a.Value == "" {
			v.errorf(p+".value", "is required for auth type header (use ${VAR})")
		}
		v.noControl(p+".value", a.Value)
	case "":
		v.errorf(p+".type", "is required (want one of %s)", strings.Join(authTypes, ", "))
		return
	default:
		v.errorf(p+".type", "unknown auth type %s (want one of %s)", v.show(p+".type", a.Type), strings.Join(authTypes, ", "))
		return
	}
	for _, f := range []struct {
		key string
		set bool
	}{
		{"token", a.Token != ""}, {"username", a.Username != ""}, {"password", a.Password != ""},
		{"header", a.Header != ""}, {"value", a.Value != ""},
	} {
		if f.set && !used[f.key] {
			v.errorf(p+"."+f.key, "is not used by auth type %s", strconv.Quote(a.Type))
		}
	}
}
