package transform

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestCompileErrorPosition(t *testing.T) {
	tests := []struct {
		src        string
		line, col  int
		msgContain string
	}{
		{".a |", 1, 5, "unexpected EOF"},
		{"{\n  a: .x,\n  b: .y +* 2\n}", 3, 10, "unexpected token"},
		{".body\n| no_such_fn(1)", 2, 3, "function not defined: no_such_fn/1"},
		{"{a: $missing}", 1, 5, "variable not defined: $missing"},
		{`"unterminated`, 1, 14, "unterminated string"},
	}
	for _, tt := range tests {
		_, err := Compile(tt.src, Options{Name: "transforms/x.jq"})
		var e *Error
		if !errors.As(err, &e) || !errors.Is(err, ErrCompile) {
			t.Errorf("Compile(%q) = %v, want *Error of kind ErrCompile", tt.src, err)
			continue
		}
		if e.Line != tt.line || e.Column != tt.col || !strings.Contains(e.Message, tt.msgContain) {
			t.Errorf("Compile(%q): line %d col %d msg %q, want %d:%d containing %q", tt.src, e.Line, e.Column, e.Message, tt.line, tt.col, tt.msgContain)
		}
		if !strings.Contains(err.Error(), "transforms/x.jq:") {
			t.Errorf("error %q does not name the program", err)
		}
	}
}

func TestCompileRejectsOutsideAccess(t *testing.T) {
	// No environment, no files, no inputs: transforms see only their input.
	for _, src := range []string{`import "x" as x; .`, `input`, `debug`, `$__prog_args`} {
		if _, err := Compile(src, Options{}); err == nil {
			if v, err := eval(t, src, 1, Options{}); err == nil {
				t.Errorf("%s ran and gave %v; want an error", src, v)
			}
		}
	}
	if v := mustEval(t, `$ENV | length`, nil, Options{}); v != 0 {
		t.Errorf("$ENV has %v entries; the process environment must not be visible", v)
	}
}

func TestRunLimits(t *testing.T) {
	input := map[string]any{"a": strings.Repeat("x", 1000)}
	tests := []struct {
		name string
		src  string
		opts Options
		kind error
	}{
		{"infinite recursion", `def f: f; f`, Options{}, ErrTimeout},
		{"huge array", `[range(1e9)]`, Options{}, ErrTimeout},
		{"nested recursion", `def f: [f]; f`, Options{}, ErrTimeout},
		{"endless outputs by count", `repeat(1)`, Options{}, ErrTooLarge},
		{"endless outputs by size", `repeat(.)`, Options{MaxOutputs: 1 << 30}, ErrTooLarge},
		{"one output too big", `[range(20000)] | map(tostring) | join(",")`, Options{MaxOutputBytes: 64 << 10, Timeout: 10 * time.Second}, ErrTooLarge},
		{"too many outputs", `range(11)`, Options{MaxOutputs: 10}, ErrTooLarge},
		{"short custom timeout", `last(range(1e9))`, Options{Timeout: 5 * time.Millisecond}, ErrTimeout},
		{"jq error", `.a | tonumber`, Options{}, ErrFailed},
		{"error/1", `error("nope")`, Options{}, ErrFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Name = "test.jq"
			p, err := Compile(tt.src, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			out, err := p.Run(context.Background(), input)
			if !errors.Is(err, tt.kind) {
				t.Fatalf("Run = %d outputs, %v; want %v", len(out), err, tt.kind)
			}
			if out != nil {
				t.Errorf("Run returned %d outputs with an error", len(out))
			}
			if errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("%v wraps context.DeadlineExceeded; a transform timeout must not look retryable", err)
			}
			var e *Error
			if !errors.As(err, &e) || e.Program != "test.jq" || e.Message == "" {
				t.Errorf("error %#v lacks program or message", err)
			}
			// Generous bound: the point is that it stops, not how fast.
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %v to stop", d)
			}
		})
	}
}

func TestRunWithinLimits(t *testing.T) {
	p, err := Compile(`range(3) | {n: ., who: $who}`, Options{Vars: map[string]any{"who": "oms"}, MaxOutputs: 3})
	if err != nil {
		t.Fatal(err)
	}
	out, err := p.Run(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := asJSON(out); got != `[{"n":0,"who":"oms"},{"n":1,"who":"oms"},{"n":2,"who":"oms"}]` {
		t.Errorf("Run = %s", got)
	}
	enc, err := p.RunJSON(context.Background(), nil)
	if err != nil || len(enc) != 3 || string(enc[2]) != `{"n":2,"who":"oms"}` {
		t.Errorf("RunJSON = %q, %v", enc, err)
	}
	// First stops after one output, so an endless program is fine.
	p, _ = Compile(`repeat(1)`, Options{})
	if v, err := p.First(context.Background(), nil); err != nil || v != 1 {
		t.Errorf("First(repeat) = %v, %v", v, err)
	}
	p, _ = Compile(`empty`, Options{})
	if v, err := p.First(context.Background(), nil); err != nil || v != nil {
		t.Errorf("First(empty) = %v, %v", v, err)
	}
}

func TestRunCallerCancelled(t *testing.T) {
	p, err := Compile(`def f: f; f`, Options{Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err = p.Run(ctx, nil)
	var e *Error
	if errors.As(err, &e) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Run with the caller's deadline = %v; want the caller's context error, not *Error", err)
	}
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	if _, err := p.Run(ctx, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run with a cancelled context = %v", err)
	}
}

func TestRunErrorDetails(t *testing.T) {
	p, _ := Compile(`error({code: 42})`, Options{})
	_, err := p.Run(context.Background(), nil)
	var e *Error
	if !errors.As(err, &e) || asJSON(e.Value) != `{"code":42}` {
		t.Errorf("error/1 value = %#v", err)
	}
	// Library functions report where in their input the bad value is.
	p, _ = Compile(`.body | order_totals`, Options{})
	env := map[string]any{"topic": "orders/create", "provider": "shopify", "body": map[string]any{
		"id": 1, "currency": "USD", "total_price": "1.00",
		"line_items": []any{map[string]any{"quantity": 1, "price": "1.00"}, map[string]any{"quantity": 1, "price": "1,00"}},
	}}
	_, err = p.Run(context.Background(), env)
	if !errors.As(err, &e) || e.Path != ".line_items[1].price" || !strings.Contains(e.Message, `"1,00" is not a decimal amount`) {
		t.Errorf("bad price: %v (path %q)", err, e.Path)
	}
	_, err = eval(t, `order_totals`, env, Options{})
	if !errors.As(err, &e) || e.Path != ".body.line_items[1].price" {
		t.Errorf("bad price via envelope: %v", err)
	}
	// try/catch sees library errors like any jq error.
	if v := mustEval(t, `try ("x" | to_minor_units("USD")) catch "caught"`, nil, Options{}); v != "caught" {
		t.Errorf("try/catch = %v", v)
	}
}

func TestProgramConcurrent(t *testing.T) {
	// The test is about sharing one program between goroutines, not the time
	// limit: a loaded machine under -race may take longer than the default.
	p, err := Compile(`.body | canonical_order | .totals.total`, Options{Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	env := sampleEnvelope(t, "shopify_orders_create.json")
	done := make(chan error)
	for range 8 {
		go func() {
			for range 50 {
				v, err := p.First(context.Background(), env)
				if err == nil && v != "598.94" {
					err = errors.New("wrong total")
				}
				if err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

func TestRunStringOutputSize(t *testing.T) {
	// A 300 KB string is 300 KB of JSON, well within 1 MiB, though six bytes
	// per byte is the worst case of escaping.
	p, err := Compile(`"x" * 300000`, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if v, err := p.First(context.Background(), nil); err != nil || len(v.(string)) != 300000 {
		t.Errorf("First of a 300 KB string: %v", err)
	}
	p, _ = Compile(`"\u0001" * 200000`, Options{}) // escapes to \u0001: 1.2 MB
	if _, err := p.First(context.Background(), nil); !errors.Is(err, ErrTooLarge) {
		t.Errorf("First of 1.2 MB of JSON = %v", err)
	}
}
