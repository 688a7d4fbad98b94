package config

import (
	"strings"
	"testing"
	"time"
)

// destDoc is a config with one destination made of lines (indented under
// "  - name: d").
func destDoc(lines ...string) string {
	all := []string{"destinations:", "  - name: d"}
	for _, l := range lines {
		all = append(all, "    "+l)
	}
	return doc(all...)
}

func TestDestKindsValid(t *testing.T) {
	tests := []struct {
		name  string
		yaml  string
		check func(t *testing.T, d Destination)
	}{
		{
			name: "postgres",
			yaml: destDoc("type: postgres", "dsn: postgres://u@h/db",
				"tables:", "  fact_orders: {key: [order_id], version_column: updated_at}", "  dim_line_items: {key: [order_id, line_id]}"),
			check: func(t *testing.T, d Destination) {
				if got := d.Tables["fact_orders"]; len(got.Key) != 1 || got.VersionColumn != "updated_at" {
					t.Errorf("fact_orders = %+v", got)
				}
				if got := d.Tables["dim_line_items"].Key; len(got) != 2 {
					t.Errorf("dim_line_items key = %v", got)
				}
			},
		},
		{name: "mysql", yaml: destDoc("type: mysql", "dsn: root@tcp(h:3306)/db", "tables: {t: {key: [id]}}")},
		{name: "sqlite", yaml: destDoc("type: sqlite", "dsn: ./w.db", "tables: {t: {key: [id]}}")},
		{name: "nats", yaml: destDoc("type: nats", "url: nats://h:4222", "subject: shop.orders")},
		{name: "amqp default exchange", yaml: destDoc("type: amqp", "url: amqp://g:g@h:5672/", "routing_key: orders")},
		{name: "amqp exchange", yaml: destDoc("type: amqp", "url: amqps://h/", "exchange: shop")},
		{
			name: "redis",
			yaml: destDoc("type: redis", "url: redis://h:6379/0", "stream: orders", "max_len: 100000", "idempotency_ttl: 3d"),
			check: func(t *testing.T, d Destination) {
				if d.IdempotencyTTL.D() != 72*time.Hour || d.MaxLen != 100000 {
					t.Errorf("got ttl %v max_len %d", d.IdempotencyTTL, d.MaxLen)
				}
			},
		},
		{name: "kafka", yaml: destDoc("type: kafka", "brokers: [k1:9092, k2:9092]", "topic: shop.orders")},
		{
			name: "file rotation",
			yaml: destDoc("type: file", "path: ./a.jsonl", "max_bytes: 1048576", "keep: 3"),
			check: func(t *testing.T, d Destination) {
				if d.MaxBytes != 1<<20 || d.Keep != 3 {
					t.Errorf("got max_bytes %d keep %d", d.MaxBytes, d.Keep)
				}
			},
		},
		{
			name: "http everything",
			yaml: destDoc("type: http", "url: https://oms.example/hooks", "method: PUT",
				"headers: {X-Topic: '{{ .topic }}'}",
				"auth: {type: basic, username: u, password: p}",
				"signing: {secrets: [whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw, whsec_c2VjcmV0LXR3by1zZWNyZXQtdHdv]}",
				"tls: {ca_file: ca.pem, cert_file: c.pem, key_file: k.pem}",
				"allow_private: [10.0.0.0/8, 192.168.1.7]"),
			check: func(t *testing.T, d Destination) {
				if d.Method != "PUT" || d.Auth.Type != "basic" || len(d.Signing.Secrets) != 2 || d.TLS.CAFile != "ca.pem" || len(d.AllowPrivate) != 2 {
					t.Errorf("got %+v", d)
				}
			},
		},
		{name: "server allow_private", yaml: doc("server:", "  allow_private: [10.1.0.0/16]")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse([]byte(tt.yaml), envOf(nil), testOpts)
			if err != nil {
				t.Fatal(err)
			}
			if tt.check != nil {
				tt.check(t, cfg.Destinations[0])
			}
		})
	}
}

func TestDestKindsErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{
			name: "sql",
			yaml: destDoc("type: postgres", "tables:", "  bad-name: {key: [id]}", "  t: {key: [id, id, 'x;drop'], version_column: id}", "  u: {}"),
			want: []string{
				"destinations[0].dsn: is required for type postgres",
				`destinations[0].tables.bad-name: invalid table name`,
				`destinations[0].tables.t.key[1]: column "id" is listed twice`,
				`destinations[0].tables.t.key[2]: invalid column name "x;drop"`,
				"destinations[0].tables.t.version_column: must not be a key column",
				"destinations[0].tables.u.key: at least one key column is required",
			},
		},
		{name: "sql no tables", yaml: destDoc("type: mysql", "dsn: x"), want: []string{"destinations[0].tables: at least one table is required"}},
		{
			name: "nats",
			yaml: destDoc("type: nats", "url: http://h", "subject: shop.*"),
			want: []string{"destinations[0].url: must be an absolute URL with scheme nats, tls, ws, wss", `destinations[0].subject: invalid subject "shop.*"`},
		},
		{
			name: "amqp",
			yaml: destDoc("type: amqp", "url: amqp://h/"),
			want: []string{"destinations[0].routing_key: is required with the default exchange"},
		},
		{
			name: "redis",
			yaml: destDoc("type: redis", "max_len: -1", "idempotency_ttl: 0s"),
			want: []string{"destinations[0].url: is required for type redis", "destinations[0].stream: is required", "destinations[0].max_len: must not be negative", "destinations[0].idempotency_ttl: must be greater than zero"},
		},
		{
			name: "kafka",
			yaml: destDoc("type: kafka", "brokers: [nohost]", "topic: 'a b'"),
			want: []string{`destinations[0].brokers[0]: "nohost" is not host:port`, `destinations[0].topic: invalid Kafka topic "a b"`},
		},
		{
			name: "keys of another type",
			yaml: destDoc("type: nats", "url: nats://h", "subject: s", "path: x", "dsn: y", "method: PUT", "topic: t", "headers: {X-A: b}"),
			want: []string{
				"destinations[0].path: is only used by type file",
				"destinations[0].dsn: is only used by type postgres, mysql and sqlite",
				"destinations[0].method: is only used by type http",
				"destinations[0].topic: is only used by type kafka",
				"destinations[0].headers: is only used by type http",
			},
		},
		{
			name: "http",
			yaml: destDoc("type: http", "url: http://h/", "method: GET",
				"headers: {Authorization: x, X-T: '{{ .topic '}",
				"auth: {type: bearer, username: u}",
				"signing: {secrets: [nope, whsec_!!]}",
				"tls: {cert_file: c.pem}",
				"allow_private: [10.0.0.0/33]"),
			want: []string{
				`destinations[0].method: unknown method "GET" (want one of POST, PUT, PATCH)`,
				"destinations[0].headers.X-T: header template:",
				"destinations[0].headers.Authorization: is also set by auth",
				"destinations[0].auth.token: is required for auth type bearer",
				`destinations[0].auth.username: is not used by auth type "bearer"`,
				"destinations[0].signing.secrets[0]: want whsec_",
				"destinations[0].signing.secrets[1]: the part after whsec_ must be base64",
				"destinations[0].tls.key_file: is required with cert_file",
				"destinations[0].tls: is only used with an https:// url",
				"destinations[0].allow_private[0]:",
			},
		},
		{
			name: "auth header",
			yaml: destDoc("type: http", "url: https://h/", "auth: {type: header, header: 'X A', value: v}"),
			want: []string{`destinations[0].auth.header: invalid header name "X A"`},
		},
		{
			name: "file rotation",
			yaml: destDoc("type: file", "path: ./a", "max_bytes: -1", "keep: -2"),
			want: []string{"destinations[0].max_bytes: must not be negative", "destinations[0].keep: must not be negative"},
		},
		{name: "keep without max_bytes", yaml: destDoc("type: file", "path: ./a", "keep: 2"), want: []string{"destinations[0].keep: is only used with max_bytes"}},
		{name: "server allow_private", yaml: doc("server:", "  allow_private: [nonsense]"), want: []string{"server.allow_private[0]:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml), envOf(nil), testOpts)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain\n  %q\ngot\n  %s", w, err)
				}
			}
		})
	}
}

// TestDestKindsDSNNotQuoted: a DSN carries a password; no message may
// repeat it.
func TestDestKindsDSNNotQuoted(t *testing.T) {
	_, err := Parse([]byte(destDoc("type: nats", "url: 'http://u:hunter2@h/'", "subject: s")), envOf(nil), testOpts)
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("got %v", err)
	}
}
