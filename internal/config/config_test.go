package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// testOpts mirrors the verify package's provider registry.
var testOpts = Options{Providers: []string{"shopify", "stripe", "github", "standard-webhooks", "hmac", "none"}}

// doc joins lines with newlines, so line i+1 of the YAML is argument i.
func doc(lines ...string) string { return strings.Join(lines, "\n") + "\n" }

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// minimal is the smallest useful config; tests below append to it.
var minimal = []string{
	"sources:", //  1
	"  - name: shop",
	"    provider: shopify",
	`    secrets: ["s1"]`,
	"destinations:", //  5
	"  - name: local",
	"    type: file",
	"    path: ./out.jsonl",
	"routes:",
	"  - source: shop", // 10
	"    destination: local",
}

func TestParseDefaults(t *testing.T) {
	cfg, err := Parse([]byte(doc(minimal...)), nil, testOpts)
	if err != nil {
		t.Fatal(err)
	}
	want := &Config{
		Server: Server{
			Listen:            "127.0.0.1:8080",
			AdminListen:       "127.0.0.1:8081",
			MaxBodyBytes:      1 << 20,
			ShutdownTimeout:   Duration(15 * time.Second),
			ReadHeaderTimeout: Duration(5 * time.Second),
			ReadTimeout:       Duration(30 * time.Second),
			WriteTimeout:      Duration(30 * time.Second),
			IdleTimeout:       Duration(120 * time.Second),
			MaxJSONDepth:      64,
			MaxInFlight:       1024,
		},
		Storage: Storage{Driver: "sqlite", Path: "./data/hookyard.db", Retention: Retention{MaxAge: Duration(30 * 24 * time.Hour), Interval: Duration(10 * time.Minute), BatchSize: 500}},
		Sources: []Source{{
			Name: "shop", Provider: "shopify", Secrets: []string{"s1"},
			// An absent tolerance stays zero: the provider's default.
		}},
		Destinations: []Destination{{
			Name: "local", Type: "file", Path: "./out.jsonl",
			Timeout:     Duration(15 * time.Second),
			Concurrency: 16, DisableAfter: Duration(5 * 24 * time.Hour),
			Retry: Retry{
				MaxAttempts:     50,
				InitialInterval: Duration(5 * time.Second),
				MaxInterval:     Duration(6 * time.Hour),
			},
		}},
		Routes: []Route{{Name: "shop->local", Source: "shop", Destination: "local"}},
	}
	cfg.lines = nil // key positions, for Errorf (TestTransformsConfig)
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("got  %+v\nwant %+v", cfg, want)
	}
}

const fullYAML = `server:
  listen: 0.0.0.0:9000
  admin_listen: 127.0.0.1:9001
  max_body_bytes: 2097152
  shutdown_timeout: 20s
  read_header_timeout: 2s
  read_timeout: 10s
  write_timeout: 11s
  idle_timeout: 1m30s
storage:
  driver: postgres
  dsn: ${PG_DSN}
admin:
  tokens:
    - name: ops
      token: ${ADMIN_TOKEN}
      role: operator
    - name: ro
      token: viewer-token-0123456789
      role: viewer
  pii_paths: [customer.email, "*.phone"]
sources:
  - name: shop
    provider: shopify
    secrets: ["${SHOPIFY_SECRET}", old-secret]
  - name: custom.hooks
    provider: hmac
    secrets: [k1]
    tolerance: 10m
    hmac:
      algorithm: sha512
      encoding: base64
      header: X-Signature
      prefix: "v1="
      content: "{timestamp}.{body}"
      timestamp_header: X-Timestamp
      id_header: X-Id
      topic_header: X-Topic
  - name: open
    provider: none
destinations:
  - name: api
    type: http
    url: https://api.example.com/hooks?key=${API_KEY}
    timeout: 3s
    concurrency: 4
    headers:
      Authorization: Bearer ${API_KEY}
      X-Source: hookyard
    retry:
      max_attempts: 10
      initial_interval: 1s
      max_interval: 3d
  - name: local
    type: file
    path: ./data/out.jsonl
routes:
  - source: shop
    destination: api
  - name: custom-to-local
    source: custom.hooks
    destination: local
`

var fullEnv = map[string]string{
	"PG_DSN":         "postgres://u:p@db/hookyard",
	"ADMIN_TOKEN":    "admin-token-0123456789",
	"SHOPIFY_SECRET": "shpss_abc",
	"API_KEY":        "k3y",
}

func fullWant() *Config {
	return &Config{
		Server: Server{
			Listen:            "0.0.0.0:9000",
			AdminListen:       "127.0.0.1:9001",
			MaxBodyBytes:      2 << 20,
			ShutdownTimeout:   Duration(20 * time.Second),
			ReadHeaderTimeout: Duration(2 * time.Second),
			ReadTimeout:       Duration(10 * time.Second),
			WriteTimeout:      Duration(11 * time.Second),
			IdleTimeout:       Duration(90 * time.Second),
			MaxJSONDepth:      64,
			MaxInFlight:       1024,
		},
		Storage: Storage{Driver: "postgres", DSN: "postgres://u:p@db/hookyard", Retention: Retention{MaxAge: Duration(30 * 24 * time.Hour), Interval: Duration(10 * time.Minute), BatchSize: 500}},
		Admin: Admin{Tokens: []Token{
			{Name: "ops", Token: "admin-token-0123456789", Role: "operator"},
			{Name: "ro", Token: "viewer-token-0123456789", Role: "viewer"},
		}, PIIPaths: []string{"customer.email", "*.phone"}},
		Sources: []Source{
			{Name: "shop", Provider: "shopify", Secrets: []string{"shpss_abc", "old-secret"}},
			{
				Name: "custom.hooks", Provider: "hmac", Secrets: []string{"k1"}, Tolerance: Duration(10 * time.Minute),
				HMAC: &HMAC{
					Algorithm: "sha512", Encoding: "base64", Header: "X-Signature", Prefix: "v1=",
					Content: "{timestamp}.{body}", TimestampHeader: "X-Timestamp", IDHeader: "X-Id", TopicHeader: "X-Topic",
				},
			},
			{Name: "open", Provider: "none"},
		},
		Destinations: []Destination{
			{
				Name: "api", Type: "http", URL: "https://api.example.com/hooks?key=k3y",
				Timeout: Duration(3 * time.Second), Concurrency: 4, DisableAfter: Duration(5 * 24 * time.Hour),
				Headers: map[string]string{"Authorization": "Bearer k3y", "X-Source": "hookyard"},
				Retry:   Retry{MaxAttempts: 10, InitialInterval: Duration(time.Second), MaxInterval: Duration(72 * time.Hour)},
			},
			{
				Name: "local", Type: "file", Path: "./data/out.jsonl",
				Timeout: Duration(15 * time.Second), Concurrency: 16, DisableAfter: Duration(5 * 24 * time.Hour),
				Retry: Retry{MaxAttempts: 50, InitialInterval: Duration(5 * time.Second), MaxInterval: Duration(6 * time.Hour)},
			},
		},
		Routes: []Route{
			{Name: "shop->api", Source: "shop", Destination: "api"},
			{Name: "custom-to-local", Source: "custom.hooks", Destination: "local"},
		},
	}
}

func TestParseFull(t *testing.T) {
	cfg, err := Parse([]byte(fullYAML), envOf(fullEnv), testOpts)
	if err != nil {
		t.Fatal(err)
	}
	cfg.lines = nil
	if want := fullWant(); !reflect.DeepEqual(cfg, want) {
		t.Fatalf("got  %+v\nwant %+v", cfg, want)
	}

	// Round trip: marshalling the parsed config and parsing it again (with
	// no environment: values are already expanded) gives the same config.
	out, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Parse(out, nil, testOpts)
	if err != nil {
		t.Fatalf("reparse: %v\n%s", err, out)
	}
	again.lines = nil
	if !reflect.DeepEqual(again, cfg) {
		t.Errorf("round trip changed the config:\ngot  %+v\nwant %+v\n%s", again, cfg, out)
	}
}

func TestParseEnv(t *testing.T) {
	tests := []struct {
		name  string
		value string
		env   map[string]string
		want  string
	}{
		{"plain", "abc", nil, "abc"},
		{"whole", "${S}", map[string]string{"S": "x1"}, "x1"},
		{"embedded", "pre-${S}-${T}", map[string]string{"S": "a", "T": "b"}, "pre-a-b"},
		{"escaped dollar", "$$5 and $${NOT_A_VAR}", nil, "$5 and ${NOT_A_VAR}"},
		{"escape next to var", "$$${S}", map[string]string{"S": "x"}, "$x"},
		{"no re-expansion", "${S}", map[string]string{"S": "$${T}"}, "$${T}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			y := doc(
				"sources:",
				"  - name: shop",
				"    provider: shopify",
				"    secrets:",
				"      - '"+tt.value+"'",
			)
			cfg, err := Parse([]byte(y), envOf(tt.env), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.Sources[0].Secrets[0]; got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	with := func(extra ...string) string { return doc(append(append([]string{}, minimal...), extra...)...) }
	tests := []struct {
		name    string
		yaml    string
		env     map[string]string
		want    []string // each must appear in the error
		notWant []string // none may appear
		count   int      // number of problems, when nonzero
	}{
		{
			name: "unknown provider",
			yaml: doc("sources:", "  - name: shop", "    provider: shopfy", "    secrets: [x]"),
			want: []string{`config line 3: sources[0].provider: unknown provider "shopfy" (want one of shopify, stripe, github, standard-webhooks, hmac, none)`},
		},
		{
			name: "missing env var",
			yaml: doc(
				"sources:",
				"  - name: shop",
				"    provider: shopify",
				"    secrets:",
				"      - ${SHOPIFY_SECRET}",
				"      - ${SHOPIFY_SECRET_OLD}",
			),
			env:   map[string]string{"SHOPIFY_SECRET": "current-secret"},
			want:  []string{"config line 6: sources[0].secrets[1]: environment variable SHOPIFY_SECRET_OLD is not set"},
			count: 1,
		},
		{
			name: "empty env var",
			yaml: doc("storage:", "  driver: postgres", "  dsn: ${PG_DSN}"),
			env:  map[string]string{"PG_DSN": ""},
			want: []string{"config line 3: storage.dsn: environment variable PG_DSN is not set"},
		},
		{
			name: "lone dollar",
			yaml: doc("sources:", "  - name: shop", "    provider: shopify", "    secrets: [ab$cd]"),
			want: []string{"config line 4: sources[0].secrets[0]: a $ must start ${NAME} or be doubled as $$"},
		},
		{
			name: "unterminated var",
			yaml: doc("sources:", "  - name: shop", "    provider: shopify", "    secrets: [\"${ABC\"]"),
			want: []string{"config line 4: sources[0].secrets[0]: unterminated ${"},
		},
		{
			name: "bad var name",
			yaml: doc("server:", "  listen: ${1X}"),
			want: []string{`config line 2: server.listen: invalid environment variable name "1X"`},
		},
		{
			name:    "env value never printed",
			yaml:    doc("sources:", "  - name: shop", "    provider: ${P}", "    secrets: [x]", "    tolerance: ${T}"),
			env:     map[string]string{"P": "hunter2-provider", "T": "hunter2-duration"},
			want:    []string{"config line 3: sources[0].provider: unknown provider (value from the environment)", "config line 5: sources[0].tolerance: invalid duration from the environment"},
			notWant: []string{"hunter2"},
		},
		{
			name: "unknown top-level key",
			yaml: doc("sever:", "  listen: :8080"),
			want: []string{"config line 1: sever: unknown key (want one of server, storage, admin, sources, destinations, routes, transforms, drift, slos, alerts)"},
		},
		{
			name: "unknown nested key",
			yaml: doc("sources:", "  - name: shop", "    provder: shopify", "    secrets: [x]"),
			want: []string{"config line 3: sources[0].provder: unknown key (want one of name, provider, secrets, tolerance, hmac, notification_url, basic_auth, token, paypal, allow_ips, trusted_proxies, rate_limit, rate_burst, schemas, reconcile)"},
		},
		{
			name: "duplicate key",
			yaml: doc("server:", "  listen: :1", "  listen: :2"),
			want: []string{"config line 3: server.listen: duplicate key (first at line 2)"},
		},
		{
			name: "duplicate source name",
			yaml: doc(
				"sources:",
				"  - name: shop",
				"    provider: shopify",
				"    secrets: [x]",
				"  - name: shop",
				"    provider: stripe",
				"    secrets: [y]",
			),
			want: []string{`config line 5: sources[1].name: duplicate source name "shop" (first at line 2)`},
		},
		{
			name: "duplicate destination name",
			yaml: doc(
				"destinations:",
				"  - name: out",
				"    type: file",
				"    path: a",
				"  - name: out",
				"    type: file",
				"    path: b",
			),
			want: []string{`config line 5: destinations[1].name: duplicate destination name "out" (first at line 2)`},
		},
		{
			name: "duplicate token name",
			yaml: doc(
				"admin:",
				"  tokens:",
				"    - {name: a, token: aaaaaaaaaaaaaaaaaaaa, role: admin}",
				"    - {name: a, token: bbbbbbbbbbbbbbbbbbbb, role: viewer}",
			),
			want: []string{`config line 4: admin.tokens[1].name: duplicate token name "a" (first at line 3)`},
		},
		{
			name: "duplicate token value",
			yaml: doc(
				"admin:",
				"  tokens:",
				"    - {name: a, token: aaaaaaaaaaaaaaaaaaaa, role: admin}",
				"    - {name: b, token: aaaaaaaaaaaaaaaaaaaa, role: viewer}",
			),
			want:    []string{"config line 4: admin.tokens[1].token: is the same token as admin.tokens[0]"},
			notWant: []string{"aaaaaaaa"},
		},
		{
			name: "missing name",
			yaml: doc("sources:", "  - provider: shopify", "    secrets: [x]"),
			want: []string{"config line 2: sources[0].name: is required"},
		},
		{
			name: "bad name",
			yaml: doc("sources:", "  - name: Shop", "    provider: shopify", "    secrets: [x]"),
			want: []string{`config line 2: sources[0].name: invalid source name "Shop"`},
		},
		{
			name:  "bad duration",
			yaml:  doc("server:", "  read_timeout: 5 minutes"),
			want:  []string{`config line 2: server.read_timeout: invalid duration "5 minutes"`},
			count: 1, // no second "must be greater than zero"
		},
		{
			name: "duration without unit",
			yaml: doc("destinations:", "  - name: d", "    type: file", "    path: p", "    timeout: 15"),
			want: []string{`config line 5: destinations[0].timeout: invalid duration "15"`},
		},
		{
			name: "fractional days",
			yaml: doc("sources:", "  - name: shop", "    provider: shopify", "    secrets: [x]", "    tolerance: 1.5d"),
			want: []string{`config line 5: sources[0].tolerance: invalid duration "1.5d"`},
		},
		{
			name: "duration is a list",
			yaml: doc("server:", "  idle_timeout: [1s]"),
			want: []string{"config line 2: server.idle_timeout: want a single value, got a list"},
		},
		{
			name: "zero timeout",
			yaml: doc("destinations:", "  - name: d", "    type: file", "    path: p", "    timeout: 0s"),
			want: []string{"config line 5: destinations[0].timeout: must be greater than zero, got 0s"},
		},
		{
			name: "negative server timeout",
			yaml: doc("server:", "  shutdown_timeout: -1s"),
			want: []string{"config line 2: server.shutdown_timeout: must be greater than zero"},
		},
		{
			name: "retry bounds",
			yaml: doc(
				"destinations:",
				"  - name: d",
				"    type: file",
				"    path: p",
				"    concurrency: 0",
				"    retry:",
				"      max_attempts: 0",
				"      initial_interval: 2h",
				"      max_interval: 1h",
			),
			want: []string{
				"config line 5: destinations[0].concurrency: must be at least 1, got 0",
				"config line 7: destinations[0].retry.max_attempts: must be at least 1, got 0",
				"config line 8: destinations[0].retry.initial_interval: 2h0m0s is longer than retry.max_interval 1h0m0s",
			},
			count: 3,
		},
		{
			name: "route to unknown source",
			yaml: doc(append(minimal[:8:8], "routes:", "  - source: shopp", "    destination: local")...),
			want: []string{`config line 10: routes[0].source: unknown source "shopp" (defined: shop)`},
		},
		{
			name: "route to unknown destination",
			yaml: doc(append(minimal[:8:8], "routes:", "  - source: shop", "    destination: locl")...),
			want: []string{`config line 11: routes[0].destination: unknown destination "locl" (defined: local)`},
		},
		{
			name: "route missing ends",
			yaml: doc("routes:", "  - name: r"),
			want: []string{"config line 2: routes[0].source: is required", "config line 2: routes[0].destination: is required"},
		},
		{
			name: "route repeated",
			yaml: with("  - source: shop", "    destination: local"),
			want: []string{`config line 12: routes[1]: duplicate route name "shop->local" (first at line 10)`},
		},
		{
			name: "secrets required",
			yaml: doc("sources:", "  - name: shop", "    provider: stripe"),
			want: []string{"config line 2: sources[0].secrets: at least one secret is required for provider \"stripe\""},
		},
		{
			name: "empty secret",
			yaml: doc("sources:", "  - name: shop", "    provider: stripe", `    secrets: [a, ""]`),
			want: []string{"config line 4: sources[0].secrets[1]: must not be empty"},
		},
		{
			name: "none takes no secrets",
			yaml: doc("sources:", "  - name: open", "    provider: none", "    secrets: [x]"),
			want: []string{"config line 4: sources[0].secrets: must be empty for provider none"},
		},
		{
			name: "hmac block required",
			yaml: doc("sources:", "  - name: h", "    provider: hmac", "    secrets: [x]"),
			want: []string{"config line 2: sources[0].hmac: is required for provider hmac"},
		},
		{
			name: "hmac header required",
			yaml: doc("sources:", "  - name: h", "    provider: hmac", "    secrets: [x]", "    hmac:", "      algorithm: md5"),
			want: []string{
				"config line 5: sources[0].hmac.header: is required",
				`config line 6: sources[0].hmac.algorithm: unknown algorithm "md5" (want one of sha1, sha256, sha512)`,
			},
			count: 2,
		},
		{
			name: "hmac timestamp template needs header",
			yaml: doc("sources:", "  - name: h", "    provider: hmac", "    secrets: [x]", "    hmac:", "      header: X-Sig", `      content: "{timestamp}.{body}"`),
			want: []string{"config line 7: sources[0].hmac.content: uses {timestamp}, so timestamp_header is required"},
		},
		{
			name: "hmac block on other provider",
			yaml: doc("sources:", "  - name: s", "    provider: stripe", "    secrets: [x]", "    hmac:", "      header: X-Sig"),
			want: []string{"config line 5: sources[0].hmac: is only used by provider hmac"},
		},
		{
			name: "http url required",
			yaml: doc("destinations:", "  - name: d", "    type: http"),
			want: []string{"config line 2: destinations[0].url: is required for type http"},
		},
		{
			name:    "http url not absolute",
			yaml:    doc("destinations:", "  - name: d", "    type: http", "    url: /hooks?token=sekrit"),
			want:    []string{"config line 4: destinations[0].url: must be an absolute http:// or https:// URL"},
			notWant: []string{"sekrit"},
		},
		{
			name: "http url wrong scheme",
			yaml: doc("destinations:", "  - name: d", "    type: http", "    url: ftp://x.example/"),
			want: []string{"config line 4: destinations[0].url: must be an absolute http:// or https:// URL"},
		},
		{
			name: "file path required",
			yaml: doc("destinations:", "  - name: d", "    type: file", "    url: http://x/"),
			want: []string{"config line 2: destinations[0].path: is required for type file", "config line 4: destinations[0].url: is only used by type http"},
		},
		{
			name: "unknown destination type",
			yaml: doc("destinations:", "  - name: d", "    type: pigeon"),
			want: []string{`config line 3: destinations[0].type: unknown destination type "pigeon" (want one of http, file, postgres, mysql, sqlite, nats, amqp, redis, kafka)`},
		},
		{
			name: "header value with CRLF",
			yaml: doc("destinations:", "  - name: d", "    type: http", "    url: http://x/", "    headers:", `      X-A: "a\r\nX-Evil: 1"`),
			want: []string{"config line 6: destinations[0].headers.X-A: header value must not contain CR, LF or NUL"},
		},
		{
			name: "header name with LF",
			yaml: doc("destinations:", "  - name: d", "    type: http", "    url: http://x/", "    headers:", `      "X-A\nB": v`),
			want: []string{`config line 6: destinations[0].headers["X-A\nB"]: header name must not contain CR or LF`},
		},
		{
			name: "token role and length",
			yaml: doc("admin:", "  tokens:", "    - name: t", "      token: short", "      role: root"),
			want: []string{
				"config line 4: admin.tokens[0].token: is too short: use at least 16 characters",
				`config line 5: admin.tokens[0].role: unknown role "root" (want one of admin, operator, viewer)`,
			},
			notWant: []string{"short\""},
		},
		{
			name: "pii path with an empty segment",
			yaml: doc("admin:", "  pii_paths:", "    - customer.email", "    - customer..phone", `    - " name"`),
			want: []string{
				`config line 4: admin.pii_paths[1]: "customer..phone": want dot-separated keys (customer.email, items.card, *.ssn), with no empty key or whitespace`,
				`config line 5: admin.pii_paths[2]: " name": want dot-separated keys`,
			},
		},
		{
			name: "token role missing",
			yaml: doc("admin:", "  tokens:", "    - name: t", "      token: 0123456789abcdef"),
			want: []string{"config line 3: admin.tokens[0].role: is required"},
		},
		{
			name: "unknown storage driver",
			yaml: doc("storage:", "  driver: mysql"),
			want: []string{`config line 2: storage.driver: unknown driver "mysql" (want one of sqlite, postgres)`},
		},
		{
			name: "postgres needs dsn",
			yaml: doc("storage:", "  driver: postgres"),
			want: []string{"config line 1: storage.dsn: is required for driver postgres"},
		},
		{
			name: "sqlite takes no dsn",
			yaml: doc("storage:", "  dsn: postgres://x"),
			want: []string{"config line 2: storage.dsn: is only used by driver postgres"},
		},
		{
			name: "retention negative age",
			yaml: doc("storage:", "  retention:", "    max_age: -1h"),
			want: []string{"config line 3: storage.retention.max_age: must not be negative (0 keeps everything), got -1h0m0s"},
		},
		{
			name: "retention batch too large",
			yaml: doc("storage:", "  retention: {batch_size: 10001}"),
			want: []string{"config line 2: storage.retention.batch_size: must be between 1 and 10000, got 10001"},
		},
		{
			name: "retention interval zero",
			yaml: doc("storage:", "  retention:", "    interval: 0s"),
			want: []string{"config line 3: storage.retention.interval: must be greater than zero, got 0s"},
		},
		{
			name: "retention unknown key",
			yaml: doc("storage:", "  retention:", "    max_days: 3"),
			want: []string{"config line 3: storage.retention.max_days: unknown key"},
		},
		{
			name: "max body zero",
			yaml: doc("server:", "  max_body_bytes: 0"),
			want: []string{"config line 2: server.max_body_bytes: must be between 1 and 67108864 (64 MiB), got 0"},
		},
		{
			name: "max body too large",
			yaml: doc("server:", "  max_body_bytes: 67108865"),
			want: []string{"config line 2: server.max_body_bytes: must be between 1 and 67108864"},
		},
		{
			name:  "max body not a number",
			yaml:  doc("server:", "  max_body_bytes: 1MB"),
			want:  []string{`config line 2: server.max_body_bytes: want a whole number, got "1MB"`},
			count: 1,
		},
		{
			name: "listen without port",
			yaml: doc("server:", "  listen: localhost"),
			want: []string{`config line 2: server.listen: "localhost" is not host:port`},
		},
		{
			name: "listen bad port",
			yaml: doc("server:", "  admin_listen: 127.0.0.1:http"),
			want: []string{`config line 2: server.admin_listen: "127.0.0.1:http": port must be a number`},
		},
		{
			name: "same listen addresses",
			yaml: doc("server:", "  listen: :9000", "  admin_listen: :9000"),
			want: []string{"config line 3: server.admin_listen: must differ from server.listen"},
		},
		{
			name: "wrong shape",
			yaml: doc("sources: shop"),
			want: []string{"config line 1: sources: want a list, got a single value"},
		},
		{
			name: "root not a mapping",
			yaml: doc("- a"),
			want: []string{"config line 1: want a mapping of keys, got a list"},
		},
		{
			name: "yaml syntax",
			yaml: doc("server:", "  listen: :8080", " bad: [", ""),
			want: []string{"config line ", "invalid YAML"},
		},
		{
			name: "two documents",
			yaml: doc("server: {}", "---", "server: {}"),
			want: []string{"config line 2: only one YAML document is allowed"},
		},
		{
			name: "problems are collected and ordered by line",
			yaml: doc(
				"server:",
				"  listen: nope",
				"sources:",
				"  - name: shop",
				"    provider: shopfy",
				"    secrets: [x]",
				"routes:",
				"  - source: nowhere",
				"    destination: nothing",
			),
			want: []string{
				"config line 2: server.listen: \"nope\" is not host:port (e.g. 127.0.0.1:8080 or :8080)\n" +
					"config line 5: sources[0].provider: unknown provider \"shopfy\"",
				"config line 8: routes[0].source: unknown source \"nowhere\" (defined: shop)\n" +
					"config line 9: routes[0].destination: unknown destination \"nothing\" (defined: none)",
			},
			count: 4,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse([]byte(tt.yaml), envOf(tt.env), testOpts)
			if err == nil {
				t.Fatalf("no error; config %+v", cfg)
			}
			if cfg != nil {
				t.Errorf("config returned with an error: %+v", cfg)
			}
			msg := err.Error()
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error does not contain\n  %q\ngot\n  %s", w, msg)
				}
			}
			for _, nw := range tt.notWant {
				if strings.Contains(msg, nw) {
					t.Errorf("error contains %q:\n  %s", nw, msg)
				}
			}
			if got := strings.Count(msg, "\n") + 1; tt.count != 0 && got != tt.count {
				t.Errorf("got %d problems, want %d:\n%s", got, tt.count, msg)
			}
			var e *Error
			if !errors.As(err, &e) || !strings.HasPrefix(msg, e.Error()) {
				t.Errorf("errors.As(*Error) did not find the first problem in %q", msg)
			}
		})
	}
}

func TestParseErrorLimit(t *testing.T) {
	lines := []string{"sources:"}
	for range 30 {
		lines = append(lines, "  - provider: shopify", "    secrets: [x]")
	}
	_, err := Parse([]byte(doc(lines...)), nil, testOpts)
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	if n := strings.Count(msg, "name: is required"); n != maxErrors {
		t.Errorf("reported %d problems, want %d", n, maxErrors)
	}
	if !strings.HasSuffix(msg, "config: 10 more problems not shown") {
		t.Errorf("missing tail line:\n%s", msg)
	}
}

func TestParseNoProviderList(t *testing.T) {
	y := doc("sources:", "  - name: s", "    provider: anything", "    secrets: [x]")
	if _, err := Parse([]byte(y), nil, Options{}); err != nil {
		t.Errorf("with no provider list, any provider is accepted: %v", err)
	}
	if _, err := Parse([]byte(y), nil, testOpts); err == nil {
		t.Error("with a provider list, an unknown provider is rejected")
	}
}

func TestParseEmpty(t *testing.T) {
	for _, y := range []string{"", "# only a comment\n", "---\n"} {
		cfg, err := Parse([]byte(y), nil, testOpts)
		if err != nil {
			t.Fatalf("%q: %v", y, err)
		}
		if cfg.Server.Listen != "127.0.0.1:8080" || cfg.Storage.Path != "./data/hookyard.db" {
			t.Errorf("%q: defaults not applied: %+v", y, cfg)
		}
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{"15s", 15 * time.Second, false},
		{"1h30m", 90 * time.Minute, false},
		{"72h", 72 * time.Hour, false},
		{"3d", 72 * time.Hour, false},
		{"1d12h", 36 * time.Hour, false},
		{"0d", 0, false},
		{"", 0, true},
		{"15", 0, true},
		{"d", 0, true},
		{"1.5d", 0, true},
		{"-1d", 0, true},
		{"1d-1h", 0, true},
		{"2dd", 0, true},
		{"999999999d", 0, true},
		{"soon", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseDuration(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if got.D() != tt.want {
			t.Errorf("ParseDuration(%q) = %v, want %v", tt.in, got.D(), tt.want)
		}
	}
}

func TestDurationYAML(t *testing.T) {
	var v struct {
		D Duration `yaml:"d"`
	}
	if err := yaml.Unmarshal([]byte("d: 2d\n"), &v); err != nil {
		t.Fatal(err)
	}
	if v.D.D() != 48*time.Hour {
		t.Errorf("got %v", v.D)
	}
	out, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != "d: 48h0m0s\n" {
		t.Errorf("marshalled %q", out)
	}
	if err := yaml.Unmarshal([]byte("d: nope\n"), &v); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("bad duration: err = %v", err)
	}
}

func TestLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hookyard.yaml")
	if err := os.WriteFile(path, []byte(doc(minimal...)), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path, nil, testOpts)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Routes) != 1 {
		t.Errorf("routes = %+v", cfg.Routes)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.yaml"), nil, testOpts); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: err = %v", err)
	}
}

// TestExample keeps examples/hookyard.yaml loadable with no environment.
func TestExample(t *testing.T) {
	cfg, err := Load("../../examples/hookyard.yaml", func(string) string { return "" }, testOpts)
	if err != nil {
		t.Fatal(err)
	}
	src, ok := cfg.Source("shop")
	if !ok || src.Provider != "shopify" || len(src.Secrets) == 0 {
		t.Errorf("source shop = %+v, %v", src, ok)
	}
	dst, ok := cfg.Destination("local")
	if !ok || dst.Type != "file" || dst.Path != "./data/deliveries.jsonl" {
		t.Errorf("destination local = %+v, %v", dst, ok)
	}
	if cfg.Storage.Driver != "sqlite" || cfg.Storage.Path != "./data/hookyard.db" {
		t.Errorf("storage = %+v", cfg.Storage)
	}
	if len(cfg.Routes) != 1 || cfg.Routes[0].Name != "shop->local" {
		t.Errorf("routes = %+v", cfg.Routes)
	}
	if len(cfg.Admin.Tokens) != 1 || cfg.Admin.Tokens[0].Role != "admin" {
		t.Errorf("admin tokens = %d", len(cfg.Admin.Tokens))
	}
}

func TestLookups(t *testing.T) {
	cfg, err := Parse([]byte(fullYAML), envOf(fullEnv), testOpts)
	if err != nil {
		t.Fatal(err)
	}
	if s, ok := cfg.Source("custom.hooks"); !ok || s.HMAC == nil || s.HMAC.Header != "X-Signature" {
		t.Errorf("Source(custom.hooks) = %+v, %v", s, ok)
	}
	if _, ok := cfg.Source("nope"); ok {
		t.Error("Source(nope) found")
	}
	if d, ok := cfg.Destination("api"); !ok || d.Concurrency != 4 {
		t.Errorf("Destination(api) = %+v, %v", d, ok)
	}
	if _, ok := cfg.Destination("nope"); ok {
		t.Error("Destination(nope) found")
	}
}

// TestParseSourceAuth covers the keys of batch-B providers: notification_url
// (URL-bound schemes), basic_auth and token, and the tolerance default.
func TestParseSourceAuth(t *testing.T) {
	opts := Options{} // provider names are verify's business here
	ok := []sourceOK{
		{"twilio", oneSource("    provider: twilio", "    secrets: [t]", "    notification_url: https://hooks.example.com/ingest/s?x=1"),
			Source{Name: "s", Provider: "twilio", Secrets: []string{"t"}, NotificationURL: "https://hooks.example.com/ingest/s?x=1"}},
		{"basic", oneSource("    provider: basic", "    basic_auth: {username: u, password: p}"),
			Source{Name: "s", Provider: "basic", BasicAuth: &BasicAuth{Username: "u", Password: "p"}}},
		{"token", oneSource("    provider: token", "    secrets: [a, b]", "    token: {header: Authorization, prefix: 'Bearer '}"),
			Source{Name: "s", Provider: "token", Secrets: []string{"a", "b"}, Token: &HeaderToken{Header: "Authorization", Prefix: "Bearer "}}},
		{"tolerance absent stays zero", oneSource("    provider: recharge", "    secrets: [r]"),
			Source{Name: "s", Provider: "recharge", Secrets: []string{"r"}}},
		{"tolerance set", oneSource("    provider: recharge", "    secrets: [r]", "    tolerance: 1h"),
			Source{Name: "s", Provider: "recharge", Secrets: []string{"r"}, Tolerance: Duration(time.Hour)}},
	}
	bad := []sourceBad{
		{"url required", oneSource("    provider: mandrill", "    secrets: [k]"),
			"config line 2: sources[0].notification_url: is required for provider mandrill"},
		{"url on another provider", oneSource("    provider: shopify", "    secrets: [k]", "    notification_url: https://a.example/x"),
			"config line 5: sources[0].notification_url: is only used by providers"},
		{"url relative", oneSource("    provider: twilio", "    secrets: [k]", "    notification_url: /ingest/s"),
			"config line 5: sources[0].notification_url: must be an absolute http:// or https:// URL"},
		{"url with fragment", oneSource("    provider: twilio", "    secrets: [k]", "    notification_url: 'https://a.example/x#rc=2'"),
			"config line 5: sources[0].notification_url: must not contain a fragment"},
		{"basic required", oneSource("    provider: basic"),
			"config line 2: sources[0].basic_auth: is required for provider basic"},
		{"basic secrets", oneSource("    provider: basic", "    secrets: [x]", "    basic_auth: {username: u, password: p}"),
			"config line 4: sources[0].secrets: must be empty for provider basic"},
		{"basic fields", oneSource("    provider: basic", "    basic_auth: {username: 'a:b'}"),
			"sources[0].basic_auth.username: must not contain a colon"},
		{"basic password", oneSource("    provider: basic", "    basic_auth: {username: u}"),
			"sources[0].basic_auth.password: is required"},
		{"basic on another provider", oneSource("    provider: shopify", "    secrets: [k]", "    basic_auth: {username: u, password: p}"),
			"config line 5: sources[0].basic_auth: is only used by providers"},
		{"token required", oneSource("    provider: token", "    secrets: [k]"),
			"config line 2: sources[0].token: is required for provider token"},
		{"token header", oneSource("    provider: token", "    secrets: [k]", "    token: {prefix: x}"),
			"sources[0].token.header: is required"},
		{"token bad header", oneSource("    provider: token", "    secrets: [k]", "    token: {header: 'X Token'}"),
			`sources[0].token.header: invalid header name "X Token"`},
		{"token secrets", oneSource("    provider: token", "    token: {header: X-Token}"),
			"sources[0].secrets: at least one secret is required for provider \"token\""},
		{"token on another provider", oneSource("    provider: shopify", "    secrets: [k]", "    token: {header: X-Token}"),
			"config line 5: sources[0].token: is only used by provider token"},
		{"explicit zero tolerance", oneSource("    provider: recharge", "    secrets: [r]", "    tolerance: 0s"),
			"config line 5: sources[0].tolerance: must be greater than zero, got 0s"},
	}
	checkSources(t, nil, opts, "", ok, bad)
}
