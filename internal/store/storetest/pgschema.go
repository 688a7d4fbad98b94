package storetest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// PostgresDSN gives one test a schema of its own in the PostgreSQL named by
// HOOKYARD_TEST_POSTGRES_URL, skipping the test when the variable is unset
// (.ci/run sets it). It returns a DSN whose search_path selects the schema,
// and the schema's name. The schema is dropped when the test ends, over a
// fresh connection (a test may have restarted the server meanwhile).
func PostgresDSN(tb testing.TB, prefix string) (dsn, schema string) {
	tb.Helper()
	base := os.Getenv("HOOKYARD_TEST_POSTGRES_URL")
	if base == "" {
		tb.Skip("HOOKYARD_TEST_POSTGRES_URL not set: skipping a PostgreSQL test (.ci/run sets it)")
	}
	schema = fmt.Sprintf("%s_%d", prefix, time.Now().UnixNano())
	exec := func(sql string) error {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, sql)
		return err
	}
	if err := exec("CREATE SCHEMA " + schema); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { exec("DROP SCHEMA " + schema + " CASCADE") })
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), schema
}
