package dest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	mathrand "math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/hookyard/hookyard/internal/config"
	"github.com/hookyard/hookyard/internal/outcome"
	"github.com/hookyard/hookyard/internal/webhook"
)

// sqlBackend is one database the SQL destination is tested against: SQLite
// always, PostgreSQL and MySQL/MariaDB when their variables are set. Every
// test body runs against each.
type sqlBackend struct {
	typ    string // destination type
	env    string // variable naming the DSN; "" for sqlite
	sample string // example value for the skip message
	driver string
	// ddl creates the orders (versioned) and lines tables.
	ddl func(orders, lines string) []string
}

var sqlBackends = []sqlBackend{
	{
		typ: "sqlite", driver: "sqlite",
		ddl: func(orders, lines string) []string {
			return []string{
				`CREATE TABLE ` + orders + ` (order_id INTEGER PRIMARY KEY, status TEXT, total NUMERIC, "order" TEXT, meta TEXT, paid BOOLEAN, updated_at INTEGER NOT NULL)`,
				`CREATE TABLE ` + lines + ` (order_id INTEGER NOT NULL, line_id INTEGER NOT NULL, sku TEXT NOT NULL, qty INTEGER, PRIMARY KEY (order_id, line_id))`,
			}
		},
	},
	{
		typ: "postgres", env: "HOOKYARD_TEST_POSTGRES_URL", sample: "postgres://postgres@127.0.0.1:5432/test?sslmode=disable", driver: "pgx",
		ddl: func(orders, lines string) []string {
			return []string{
				`CREATE TABLE ` + orders + ` (order_id BIGINT PRIMARY KEY, status TEXT, total NUMERIC(12,2), "order" TEXT, meta JSONB, paid BOOLEAN, updated_at BIGINT NOT NULL)`,
				`CREATE TABLE ` + lines + ` (order_id BIGINT NOT NULL, line_id BIGINT NOT NULL, sku TEXT NOT NULL, qty INTEGER, PRIMARY KEY (order_id, line_id))`,
			}
		},
	},
	{
		typ: "mysql", env: "HOOKYARD_TEST_MYSQL_DSN", sample: "root@tcp(127.0.0.1:3306)/test", driver: "mysql",
		ddl: func(orders, lines string) []string {
			return []string{
				"CREATE TABLE " + orders + " (order_id BIGINT PRIMARY KEY, status VARCHAR(64), total DECIMAL(12,2), `order` VARCHAR(64), meta JSON, paid BOOLEAN, updated_at BIGINT NOT NULL)",
				"CREATE TABLE " + lines + " (order_id BIGINT NOT NULL, line_id BIGINT NOT NULL, sku VARCHAR(64) NOT NULL, qty INT, PRIMARY KEY (order_id, line_id))",
			}
		},
	},
}

// sqlBundle is what a test gets: the sender, the test's own connection
// and the names of its freshly created tables.
type sqlBundle struct {
	s             *SQL
	db            *sql.DB
	orders, lines string
}

// forEachSQL runs test once per backend, each with new tables dropped at
// the end.
func forEachSQL(t *testing.T, test func(t *testing.T, b *sqlBundle)) {
	for _, be := range sqlBackends {
		t.Run(be.typ, func(t *testing.T) {
			test(t, setupSQL(t, be))
		})
	}
}

func setupSQL(t *testing.T, be sqlBackend) *sqlBundle {
	t.Helper()
	dsn := filepath.Join(t.TempDir(), "warehouse.db")
	if be.env != "" {
		if dsn = os.Getenv(be.env); dsn == "" {
			t.Skipf("%s is unset; set it (e.g. %s) to test the %s destination against a real server", be.env, be.sample, be.typ)
		}
	}
	suffix := randomHex(t)
	orders, lines := "hy_orders_"+suffix, "hy_lines_"+suffix
	testDSN := dsn
	if be.typ == "sqlite" {
		testDSN = "file:" + dsn + "?_pragma=busy_timeout(10000)"
	}
	db, err := sql.Open(be.driver, testDSN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, stmt := range be.ddl(orders, lines) {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	t.Cleanup(func() {
		for _, tbl := range []string{orders, lines} {
			if _, err := db.Exec("DROP TABLE " + tbl); err != nil {
				t.Errorf("drop %s: %v", tbl, err)
			}
		}
	})
	s, err := NewSQL(config.Destination{
		Name: "warehouse", Type: be.typ, DSN: dsn, Concurrency: 4,
		Tables: map[string]config.Table{
			orders: {Key: []string{"order_id"}, VersionColumn: "updated_at"},
			lines:  {Key: []string{"order_id", "line_id"}},
		},
	}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return &sqlBundle{s: s, db: db, orders: orders, lines: lines}
}

func randomHex(t *testing.T) string {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// rows builds a message body from table name to rows.
func rowsMessage(t *testing.T, tables map[string][]map[string]any) *Message {
	t.Helper()
	body, err := json.Marshal(tables)
	if err != nil {
		t.Fatal(err)
	}
	m := message(nil, "")
	m.Payload = body
	return m
}

// orderState is an orders row, normalised across databases.
type orderState struct {
	Status, Total, Order, Meta string
	Paid                       sql.NullBool
	UpdatedAt                  int64
}

func (b *sqlBundle) order(t *testing.T, id int) (orderState, bool) {
	t.Helper()
	q := fmt.Sprintf(`SELECT status, total, %s, meta, paid, updated_at FROM %s WHERE order_id = %d`,
		b.s.dialect.quote("order"), b.orders, id)
	var st orderState
	var status, total, ord, meta sql.NullString
	err := b.db.QueryRow(q).Scan(&status, &total, &ord, &meta, &st.Paid, &st.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return st, false
	}
	if err != nil {
		t.Fatal(err)
	}
	st.Status, st.Order = status.String, ord.String
	if total.Valid {
		f, err := strconv.ParseFloat(total.String, 64)
		if err != nil {
			t.Fatalf("total %q: %v", total.String, err)
		}
		st.Total = strconv.FormatFloat(f, 'f', 2, 64)
	}
	if meta.Valid {
		var v any
		if err := json.Unmarshal([]byte(meta.String), &v); err != nil {
			t.Fatalf("meta %q: %v", meta.String, err)
		}
		j, _ := json.Marshal(v)
		st.Meta = string(j)
	}
	return st, true
}

func (b *sqlBundle) count(t *testing.T, table string) int {
	t.Helper()
	var n int
	if err := b.db.QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func wantOK(t *testing.T, r Response) {
	t.Helper()
	if !r.OK() {
		t.Fatalf("Send: %v", r.Err)
	}
}

func wantPermanent(t *testing.T, r Response, class, text string) {
	t.Helper()
	oe, ok := errors.AsType[*outcome.Error](r.Err)
	if !ok || !oe.Permanent || oe.Class != class {
		t.Fatalf("Send = %v; want a permanent error of class %s", r.Err, class)
	}
	if !strings.Contains(r.Err.Error(), text) {
		t.Errorf("error %q does not contain %q", r.Err, text)
	}
}

func TestSQLUpsert(t *testing.T) {
	forEachSQL(t, func(t *testing.T, b *sqlBundle) {
		ctx := context.Background()
		first := rowsMessage(t, map[string][]map[string]any{
			b.orders: {{"order_id": 1, "status": "paid", "total": json.Number("12.50"), "order": "#1001",
				"meta": map[string]any{"tags": []string{"vip"}}, "paid": true, "updated_at": 1}},
			b.lines: {{"order_id": 1, "line_id": 1, "sku": "A", "qty": 2}, {"order_id": 1, "line_id": 2, "sku": "B", "qty": 1}},
		})
		want := orderState{Status: "paid", Total: "12.50", Order: "#1001", Meta: `{"tags":["vip"]}`, Paid: sql.NullBool{Bool: true, Valid: true}, UpdatedAt: 1}

		// A redelivery of the same message has no second effect.
		for range 3 {
			wantOK(t, b.s.Send(ctx, first))
			if got, _ := b.order(t, 1); got != want {
				t.Fatalf("order 1 = %+v, want %+v", got, want)
			}
			if n, m := b.count(t, b.orders), b.count(t, b.lines); n != 1 || m != 2 {
				t.Fatalf("%d orders, %d lines; want 1 and 2", n, m)
			}
		}

		// Newer: applied. Only the columns present change.
		wantOK(t, b.s.Send(ctx, rowsMessage(t, map[string][]map[string]any{
			b.orders: {{"order_id": 1, "status": "shipped", "updated_at": 3}},
		})))
		want.Status, want.UpdatedAt = "shipped", 3
		if got, _ := b.order(t, 1); got != want {
			t.Fatalf("after a newer event: %+v, want %+v", got, want)
		}

		// Older: ignored, in full.
		wantOK(t, b.s.Send(ctx, rowsMessage(t, map[string][]map[string]any{
			b.orders: {{"order_id": 1, "status": "paid", "total": "99.00", "paid": false, "updated_at": 2}},
		})))
		if got, _ := b.order(t, 1); got != want {
			t.Fatalf("after an older event: %+v, want %+v", got, want)
		}

		// Equal version: applied (a redelivery rewrites the same values).
		wantOK(t, b.s.Send(ctx, rowsMessage(t, map[string][]map[string]any{
			b.orders: {{"order_id": 1, "status": "delivered", "meta": nil, "updated_at": 3}},
		})))
		want.Status, want.Meta = "delivered", ""
		if got, _ := b.order(t, 1); got != want {
			t.Fatalf("after an equal version: %+v, want %+v", got, want)
		}

		// A table without a version column: last write wins.
		wantOK(t, b.s.Send(ctx, rowsMessage(t, map[string][]map[string]any{
			b.lines: {{"order_id": 1, "line_id": 2, "sku": "B2"}},
		})))
		var sku string
		var qty sql.NullInt64
		if err := b.db.QueryRow(fmt.Sprintf("SELECT sku, qty FROM %s WHERE order_id = 1 AND line_id = 2", b.lines)).Scan(&sku, &qty); err != nil || sku != "B2" || qty.Int64 != 1 {
			t.Fatalf("line 2 = %q, %v, %v; want B2 with qty 1 kept", sku, qty, err)
		}

		// An empty object writes nothing and succeeds.
		wantOK(t, b.s.Send(ctx, rowsMessage(t, map[string][]map[string]any{})))
	})
}

// TestSQLVersionGuardShuffled delivers every version of several orders in
// shuffled orders, one message at a time and in one batch; the newest
// version always wins.
func TestSQLVersionGuardShuffled(t *testing.T) {
	forEachSQL(t, func(t *testing.T, b *sqlBundle) {
		const versions = 12
		nextID := 100
		for seed := range uint64(4) {
			for _, batch := range []bool{false, true} {
				ids := []int{nextID, nextID + 1, nextID + 2}
				nextID += 3
				var ms []*Message
				for _, id := range ids {
					for v := 1; v <= versions; v++ {
						ms = append(ms, rowsMessage(t, map[string][]map[string]any{
							b.orders: {{"order_id": id, "status": fmt.Sprintf("v%d", v), "total": fmt.Sprintf("%d.00", v), "updated_at": v}},
						}))
					}
				}
				rng := mathrand.New(mathrand.NewPCG(seed, 0x5eed))
				rng.Shuffle(len(ms), func(i, j int) { ms[i], ms[j] = ms[j], ms[i] })
				if batch {
					for i, r := range b.s.SendBatch(context.Background(), ms) {
						if !r.OK() {
							t.Fatalf("batch message %d: %v", i, r.Err)
						}
					}
				} else {
					for _, m := range ms {
						wantOK(t, b.s.Send(context.Background(), m))
					}
				}
				for _, id := range ids {
					got, ok := b.order(t, id)
					want := orderState{Status: fmt.Sprintf("v%d", versions), Total: fmt.Sprintf("%d.00", versions), UpdatedAt: versions}
					if !ok || got != want {
						t.Errorf("seed %d batch %v: order %d = %+v, want %+v", seed, batch, id, got, want)
					}
				}
			}
		}
	})
}

func TestSQLRejects(t *testing.T) {
	forEachSQL(t, func(t *testing.T, b *sqlBundle) {
		ctx := context.Background()
		good := map[string]any{"order_id": 1, "status": "paid", "updated_at": 1}
		tests := []struct {
			name string
			body string
			text string
		}{
			{"unknown table", fmt.Sprintf(`{%q: [{"order_id": 1, "updated_at": 1}], "users": [{"id": 1}]}`, b.orders), `table "users" is not configured`},
			{"injected table", `{"x; DROP TABLE y": []}`, "is not configured"},
			{"injected column", fmt.Sprintf(`{%q: [{"order_id": 1, "updated_at": 1, "status = 'x' --": "a"}]}`, b.orders), "invalid column name"},
			{"quoted column", fmt.Sprintf(`{%q: [{"order_id": 1, "updated_at": 1, "a\"b": "a"}]}`, b.orders), "invalid column name"},
			{"missing key", fmt.Sprintf(`{%q: [{"updated_at": 1}]}`, b.orders), "key column order_id is missing"},
			{"null key", fmt.Sprintf(`{%q: [{"order_id": null, "updated_at": 1}]}`, b.orders), "key column order_id is missing or null"},
			{"missing version", fmt.Sprintf(`{%q: [{"order_id": 1}]}`, b.orders), "version column updated_at is missing"},
			{"not an object", `[1, 2]`, "must be a JSON object"},
			{"not JSON", `hello`, "must be a JSON object"},
			{"rows not an array", fmt.Sprintf(`{%q: {"order_id": 1}}`, b.orders), "want an array of row objects"},
			{"row not an object", fmt.Sprintf(`{%q: [1]}`, b.orders), "want an array of row objects"},
		}
		for _, tt := range tests {
			m := message(nil, "")
			m.Payload = []byte(tt.body)
			wantPermanent(t, b.s.Send(ctx, m), webhook.ClassTransform, tt.text)
		}
		if n := b.count(t, b.orders); n != 0 {
			t.Fatalf("%d orders written by rejected messages", n)
		}

		// The database refuses a row: the whole message rolls back.
		poison := rowsMessage(t, map[string][]map[string]any{
			b.orders: {good},
			b.lines:  {{"order_id": 1, "line_id": 1, "sku": nil}},
		})
		wantPermanent(t, b.s.Send(ctx, poison), webhook.ClassHTTP4xx, "sql: upsert into "+b.lines)
		if n := b.count(t, b.orders); n != 0 {
			t.Fatalf("the orders row of a failed message was committed")
		}
		// A column the table does not have.
		wantPermanent(t, b.s.Send(ctx, rowsMessage(t, map[string][]map[string]any{
			b.orders: {{"order_id": 1, "updated_at": 1, "colour": "red"}},
		})), webhook.ClassHTTP4xx, "colour")
	})
}

// TestSQLBatch: a batch writes in one transaction, and a message the
// database refuses fails alone.
func TestSQLBatch(t *testing.T) {
	forEachSQL(t, func(t *testing.T, b *sqlBundle) {
		ms := []*Message{
			rowsMessage(t, map[string][]map[string]any{b.orders: {{"order_id": 1, "status": "a", "updated_at": 1}}}),
			rowsMessage(t, map[string][]map[string]any{b.lines: {{"order_id": 1, "line_id": 1, "sku": nil}}}),
			rowsMessage(t, map[string][]map[string]any{b.orders: {{"order_id": 2, "status": "b", "updated_at": 1}}}),
			rowsMessage(t, map[string][]map[string]any{"nope": {{"id": 1}}}),
		}
		rs := b.s.SendBatch(context.Background(), ms)
		if !rs[0].OK() || rs[1].OK() || !rs[2].OK() || rs[3].OK() {
			t.Fatalf("responses %+v; want ok, fail, ok, fail", rs)
		}
		wantPermanent(t, rs[1], webhook.ClassHTTP4xx, "")
		wantPermanent(t, rs[3], webhook.ClassTransform, "not configured")
		if n := b.count(t, b.orders); n != 2 {
			t.Fatalf("%d orders, want 2", n)
		}

		// Many rows, each key three times: several statements, and the
		// last row for a key wins.
		var rows []map[string]any
		for i := range 1200 {
			rows = append(rows, map[string]any{"order_id": 1000 + i%400, "line_id": i % 2, "sku": fmt.Sprintf("s%d", i)})
		}
		wantOK(t, b.s.Send(context.Background(), rowsMessage(t, map[string][]map[string]any{b.lines: rows})))
		if n := b.count(t, b.lines); n != 400 {
			t.Errorf("%d lines, want 400", n)
		}
		var sku string
		if err := b.db.QueryRow(fmt.Sprintf("SELECT sku FROM %s WHERE order_id = 1007 AND line_id = 1", b.lines)).Scan(&sku); err != nil || sku != "s807" {
			t.Errorf("line (1007, 1) = %q, %v; want s807, the last", sku, err)
		}
	})
}

// TestSQLUnreachable: a database that cannot be reached is a retry, not a
// dead letter.
func TestSQLUnreachable(t *testing.T) {
	for _, d := range []config.Destination{
		{Type: "postgres", DSN: "postgres://hookyard@127.0.0.1:1/none?connect_timeout=2&sslmode=disable"},
		{Type: "mysql", DSN: "hookyard@tcp(127.0.0.1:1)/none?timeout=2s"},
		{Type: "sqlite", DSN: filepath.Join(t.TempDir(), "no", "such", "dir", "w.db")},
	} {
		d.Name = "w"
		d.Tables = map[string]config.Table{"t": {Key: []string{"id"}}}
		s, err := NewSQL(d, Options{})
		if err != nil {
			t.Fatal(err)
		}
		r := s.Send(context.Background(), rowsMessage(t, map[string][]map[string]any{"t": {{"id": 1}}}))
		if r.OK() || outcome.IsPermanent(r.Err) {
			t.Errorf("%s: Send = %v, want a retryable error", d.Type, r.Err)
		}
		if strings.Contains(fmt.Sprint(r.Err), "hookyard@") {
			t.Errorf("%s: error %q quotes the DSN", d.Type, r.Err)
		}
		s.Close()
	}
}

func TestSQLStatements(t *testing.T) {
	versioned := sqlTable{name: "fact_orders", key: []string{"order_id"}, version: "updated_at"}
	plain := sqlTable{name: "lines", key: []string{"order_id", "line_id"}}
	row := func(cols ...string) sqlRow { return sqlRow{cols: cols, vals: make([]any, len(cols))} }
	tests := []struct {
		d    sqlDialect
		t    sqlTable
		rows []sqlRow
		want string
	}{
		{postgresDialect, versioned, []sqlRow{row("order_id", "status", "updated_at"), row("order_id", "status", "updated_at")},
			`INSERT INTO "fact_orders" ("order_id", "status", "updated_at") VALUES ($1, $2, $3), ($4, $5, $6) ON CONFLICT ("order_id") DO UPDATE SET "status" = excluded."status", "updated_at" = excluded."updated_at" WHERE "fact_orders"."updated_at" IS NULL OR excluded."updated_at" >= "fact_orders"."updated_at"`},
		{sqliteDialect, plain, []sqlRow{row("line_id", "order_id", "sku")},
			`INSERT INTO "lines" ("line_id", "order_id", "sku") VALUES (?, ?, ?) ON CONFLICT ("order_id", "line_id") DO UPDATE SET "sku" = excluded."sku"`},
		{postgresDialect, plain, []sqlRow{row("line_id", "order_id")},
			`INSERT INTO "lines" ("line_id", "order_id") VALUES ($1, $2) ON CONFLICT ("order_id", "line_id") DO NOTHING`},
		{mysqlDialect, versioned, []sqlRow{row("order_id", "status", "total", "updated_at")},
			"INSERT INTO `fact_orders` (`order_id`, `status`, `total`, `updated_at`) VALUES (?, ?, ?, ?) ON DUPLICATE KEY UPDATE " +
				"`status` = IF(`updated_at` IS NULL OR VALUES(`updated_at`) >= `updated_at`, VALUES(`status`), `status`), " +
				"`total` = IF(`updated_at` IS NULL OR VALUES(`updated_at`) >= `updated_at`, VALUES(`total`), `total`), " +
				"`updated_at` = IF(`updated_at` IS NULL OR VALUES(`updated_at`) >= `updated_at`, VALUES(`updated_at`), `updated_at`)"},
		{mysqlDialect, plain, []sqlRow{row("line_id", "order_id", "sku")},
			"INSERT INTO `lines` (`line_id`, `order_id`, `sku`) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE `sku` = VALUES(`sku`)"},
		{mysqlDialect, plain, []sqlRow{row("line_id", "order_id")},
			"INSERT INTO `lines` (`line_id`, `order_id`) VALUES (?, ?) ON DUPLICATE KEY UPDATE `order_id` = `order_id`"},
	}
	for _, tt := range tests {
		got, args := tt.d.upsert(tt.t, tt.rows)
		if got != tt.want {
			t.Errorf("got  %s\nwant %s", got, tt.want)
		}
		if len(args) != len(tt.rows)*len(tt.rows[0].cols) {
			t.Errorf("%d args for %s", len(args), got)
		}
	}
}

func TestSQLChunk(t *testing.T) {
	r := func(key string, cols ...string) sqlRow { return sqlRow{key: key, cols: cols} }
	tests := []struct {
		rows []sqlRow
		want int
	}{
		{[]sqlRow{r("1", "a"), r("2", "a"), r("3", "a")}, 3},
		{[]sqlRow{r("1", "a"), r("1", "a"), r("3", "a")}, 1}, // a key twice: PostgreSQL would refuse
		{[]sqlRow{r("1", "a"), r("2", "a", "b")}, 1},         // other columns
	}
	for _, tt := range tests {
		if got := chunk(tt.rows); got != tt.want {
			t.Errorf("chunk(%v) = %d, want %d", tt.rows, got, tt.want)
		}
	}
	many := make([]sqlRow, 2000)
	for i := range many {
		many[i] = r(strconv.Itoa(i), "a", "b")
	}
	if got := chunk(many); got != sqlMaxRows {
		t.Errorf("chunk of 2000 rows = %d, want %d", got, sqlMaxRows)
	}
}

func TestSQLValue(t *testing.T) {
	tests := []struct {
		in   string
		want any
	}{
		{`null`, nil},
		{`true`, true},
		{`false`, false},
		{`"a\"b"`, `a"b`},
		{`42`, int64(42)},
		{`-9223372036854775808`, int64(-9223372036854775808)},
		{`9223372036854775808`, "9223372036854775808"}, // beyond int64: exact text
		{`12.50`, "12.50"},
		{`1e3`, "1e3"},
		{`{"a": [1, 2]}`, `{"a":[1,2]}`},
		{`[ ]`, `[]`},
	}
	for _, tt := range tests {
		got, err := sqlValue(json.RawMessage(tt.in))
		if err != nil || got != tt.want {
			t.Errorf("sqlValue(%s) = %#v, %v; want %#v", tt.in, got, err, tt.want)
		}
	}
}

func TestNewSQLRejects(t *testing.T) {
	base := config.Destination{Name: "w", Type: "postgres", DSN: "postgres://h/db", Tables: map[string]config.Table{"t": {Key: []string{"id"}}}}
	tests := []struct {
		name   string
		change func(d *config.Destination)
	}{
		{"no dsn", func(d *config.Destination) { d.DSN = "" }},
		{"no tables", func(d *config.Destination) { d.Tables = nil }},
		{"bad table", func(d *config.Destination) { d.Tables = map[string]config.Table{"a.b": {Key: []string{"id"}}} }},
		{"no key", func(d *config.Destination) { d.Tables = map[string]config.Table{"t": {}} }},
		{"bad key", func(d *config.Destination) { d.Tables = map[string]config.Table{"t": {Key: []string{"id;"}}} }},
		{"version is key", func(d *config.Destination) {
			d.Tables = map[string]config.Table{"t": {Key: []string{"id"}, VersionColumn: "id"}}
		}},
		{"bad version", func(d *config.Destination) {
			d.Tables = map[string]config.Table{"t": {Key: []string{"id"}, VersionColumn: "v-1"}}
		}},
		{"not sql", func(d *config.Destination) { d.Type = "http" }},
	}
	for _, tt := range tests {
		d := base
		tt.change(&d)
		if s, err := NewSQL(d, Options{}); err == nil {
			s.Close()
			t.Errorf("%s: accepted", tt.name)
		}
	}
}
