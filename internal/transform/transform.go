// Package transform evaluates route expressions — filter, priority, ordering
// key and transform — written in jq (github.com/itchyny/gojq) and extended
// with a library of commerce functions: money in minor units, UTC times,
// flattened order lines and recomputed totals, keyed PII hashes, redaction,
// lookup tables, a rule-based risk score and one canonical order shape for
// Shopify, WooCommerce and Stripe. docs/TRANSFORMS.md is the user's
// reference; each function's Go implementation carries the same examples.
//
// The package is pure: it reads lookup-table files when asked to, and
// nothing else. Every evaluation is bounded by a time limit, an output size
// limit and an output count limit, and fails with a typed *Error instead of
// running away, so the caller can dead-letter the delivery with the reason.
//
// Besides evaluation it holds the small pure helpers safe change needs:
// Hash (version stamps), Diff (shadow comparisons) and InCanary.
package transform

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/itchyny/gojq"
)

// Defaults for Options.
const (
	DefaultTimeout        = 100 * time.Millisecond
	DefaultMaxOutputBytes = 1 << 20
	DefaultMaxOutputs     = 1000
)

// Sentinel kinds carried by *Error; test with errors.Is.
var (
	// ErrCompile: the expression does not parse or names something undefined.
	ErrCompile = errors.New("transform: compile error")
	// ErrTimeout: the evaluation ran past its time limit.
	ErrTimeout = errors.New("transform: time limit exceeded")
	// ErrTooLarge: the outputs exceeded the size or count limit.
	ErrTooLarge = errors.New("transform: output too large")
	// ErrFailed: the expression raised an error (a jq runtime error, error/1,
	// a commerce function rejecting its input) or a route helper got a result
	// of the wrong type.
	ErrFailed = errors.New("transform: evaluation failed")
)

// Error is the one error type Compile and Run return (apart from the
// caller's own context being cancelled, which is returned as is). Kind is one
// of ErrCompile, ErrTimeout, ErrTooLarge, ErrFailed; errors.Is matches it.
//
// Kind deliberately does not wrap context.DeadlineExceeded: a transform that
// times out will time out again, so it belongs in the DLQ, not in a retry.
type Error struct {
	Kind    error
	Program string // Options.Name: the transform file or route field
	Message string // the jq error text (or a description of the limit hit)
	Path    string // the input path being read when it failed, when known (".body.line_items[1].price")
	Line    int    // 1-based position in the source, compile errors only
	Column  int
	Value   any // the value given to jq's error/1, if that raised it
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Kind.Error())
	if e.Program != "" || e.Line > 0 {
		b.WriteString(" in ")
		b.WriteString(cmp.Or(e.Program, "expression"))
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d:%d", e.Line, e.Column)
		}
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Path != "" {
		b.WriteString(" (at ")
		b.WriteString(e.Path)
		b.WriteString(")")
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Kind }

// Options configures Compile. The zero value is usable: limits take their
// defaults, hash_pii fails for want of a key, lookup fails for want of tables
// and risk_score uses DefaultRiskRules.
type Options struct {
	Name           string         // named in errors: the transform file, or "route big-orders filter"
	Timeout        time.Duration  // per evaluation; default DefaultTimeout
	MaxOutputBytes int            // total JSON size of all outputs; default DefaultMaxOutputBytes
	MaxOutputs     int            // number of outputs; default DefaultMaxOutputs
	PIIKey         []byte         // HMAC key for hash_pii
	Tables         *Tables        // lookup tables for lookup(table; key)
	Risk           *RiskRules     // rules for risk_score; nil means DefaultRiskRules()
	Vars           map[string]any // bound as $name in the expression (names without "$")
}

// Program is a compiled expression. It is safe for concurrent use.
type Program struct {
	name      string
	code      *gojq.Code
	timeout   time.Duration
	maxBytes  int
	maxOut    int
	varValues []any
}

// Compile parses and compiles src with the commerce function library.
// Errors are *Error of kind ErrCompile and, where gojq reports a position or
// the undefined name can be found in src, carry its line and column.
func Compile(src string, opts Options) (*Program, error) {
	q, err := gojq.Parse(src)
	if err != nil {
		e := &Error{Kind: ErrCompile, Program: opts.Name, Message: err.Error()}
		if pe, ok := errors.AsType[*gojq.ParseError](err); ok {
			off := max(pe.Offset-len(pe.Token), 0)
			e.Line, e.Column = position(src, off)
		}
		return nil, e
	}
	names := slices.Sorted(maps.Keys(opts.Vars))
	vars := make([]string, len(names))
	values := make([]any, len(names))
	for i, n := range names {
		vars[i] = "$" + strings.TrimPrefix(n, "$")
		values[i] = opts.Vars[n]
	}
	lib := newLibrary(opts)
	code, err := gojq.Compile(q, append(lib.compilerOptions(), gojq.WithVariables(vars))...)
	if err != nil {
		e := &Error{Kind: ErrCompile, Program: opts.Name, Message: err.Error()}
		if off := undefinedOffset(src, err.Error()); off >= 0 {
			e.Line, e.Column = position(src, off)
		}
		return nil, e
	}
	return &Program{
		name:      opts.Name,
		code:      code,
		timeout:   cmp.Or(opts.Timeout, DefaultTimeout),
		maxBytes:  cmp.Or(opts.MaxOutputBytes, DefaultMaxOutputBytes),
		maxOut:    cmp.Or(opts.MaxOutputs, DefaultMaxOutputs),
		varValues: values,
	}, nil
}

// Name returns Options.Name.
func (p *Program) Name() string { return p.name }

// Run evaluates the program on input (usually NewEnvelope's result) and
// returns every output. It stops with an *Error of kind ErrTimeout when the
// time limit passes, ErrTooLarge when the outputs together exceed the size or
// count limit, and ErrFailed when the expression raises an error. If ctx
// itself ends first, Run returns ctx's error (wrapped), not an *Error: the
// caller is going away, and the transform is not at fault.
func (p *Program) Run(ctx context.Context, input any) ([]any, error) {
	out, _, err := p.run(ctx, input, -1, false)
	return out, err
}

// RunJSON is Run returning each output already encoded as JSON, which the
// size limit needs anyway; senders can use it to avoid encoding twice.
func (p *Program) RunJSON(ctx context.Context, input any) ([][]byte, error) {
	_, enc, err := p.run(ctx, input, -1, true)
	return enc, err
}

// First evaluates the program and returns its first output, or nil when it
// produces none. Later outputs are not computed.
func (p *Program) First(ctx context.Context, input any) (any, error) {
	out, _, err := p.run(ctx, input, 1, false)
	if err != nil || len(out) == 0 {
		return nil, err
	}
	return out[0], nil
}

// timeoutCause tells our own deadline from the caller's.
var timeoutCause = errors.New("transform deadline")

func (p *Program) run(ctx context.Context, input any, limit int, keepJSON bool) (out []any, enc [][]byte, err error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, fmt.Errorf("transform %s: %w", p.name, err)
	}
	rctx, cancel := context.WithTimeoutCause(ctx, p.timeout, timeoutCause)
	defer cancel()
	defer func() {
		// A panic in a library function must fail this evaluation, not the
		// worker or the ingest request that ran it.
		if r := recover(); r != nil {
			out, enc = nil, nil
			err = &Error{Kind: ErrFailed, Program: p.name, Message: fmt.Sprintf("internal error: panic: %v", r)}
		}
	}()
	iter := p.code.RunWithContext(rctx, input, p.varValues...)
	size := 0
	for {
		v, ok := iter.Next()
		if !ok {
			return out, enc, nil
		}
		if e, isErr := v.(error); isErr {
			return nil, nil, p.evalError(ctx, rctx, e)
		}
		if len(out) >= p.maxOut {
			return nil, nil, &Error{Kind: ErrTooLarge, Program: p.name,
				Message: fmt.Sprintf("more than %d outputs", p.maxOut)}
		}
		var b []byte
		if n, ok := scalarSize(v); ok && !keepJSON && size+n <= p.maxBytes {
			size += n // route fields give small scalars; no need to encode them
		} else {
			var merr error
			if b, merr = gojq.Marshal(v); merr != nil {
				return nil, nil, &Error{Kind: ErrFailed, Program: p.name, Message: "encoding output: " + merr.Error()}
			}
			size += len(b)
		}
		if size > p.maxBytes {
			return nil, nil, &Error{Kind: ErrTooLarge, Program: p.name,
				Message: fmt.Sprintf("outputs exceed %d bytes of JSON (output %d)", p.maxBytes, len(out)+1)}
		}
		out = append(out, v)
		if keepJSON {
			enc = append(enc, b)
		}
		if limit > 0 && len(out) >= limit {
			return out, enc, nil
		}
	}
}

// scalarSize bounds the JSON size of a scalar from above without encoding
// it: a string escapes to at most six bytes per byte, plus quotes.
func scalarSize(v any) (int, bool) {
	switch v := v.(type) {
	case nil, bool:
		return 5, true
	case int, float64:
		return 24, true
	case string:
		return 6*len(v) + 2, true
	}
	return 0, false
}

// evalError turns an error value from gojq into the error Run returns.
func (p *Program) evalError(parent, rctx context.Context, err error) error {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		if parent.Err() != nil {
			return fmt.Errorf("transform %s: %w", p.name, parent.Err())
		}
		if context.Cause(rctx) == timeoutCause {
			return &Error{Kind: ErrTimeout, Program: p.name,
				Message: fmt.Sprintf("stopped after %v: %v", p.timeout, err)}
		}
	}
	e := &Error{Kind: ErrFailed, Program: p.name, Message: err.Error()}
	if fe, ok := errors.AsType[*funcError](err); ok {
		e.Message, e.Path = fe.Error(), fe.path
	} else if ve, ok := errors.AsType[gojq.ValueError](err); ok {
		e.Value = ve.Value()
	}
	return e
}

// position converts a byte offset in src to a 1-based line and column.
func position(src string, off int) (line, col int) {
	off = min(off, len(src))
	line = 1 + strings.Count(src[:off], "\n")
	col = 1 + off - (strings.LastIndexByte(src[:off], '\n') + 1)
	return line, col
}

// undefinedOffset finds, for gojq's "function not defined: name/1" and
// "variable not defined: $name" errors (which carry no position), the first
// place src mentions the name, or -1.
func undefinedOffset(src, msg string) int {
	var name string
	switch {
	case strings.HasPrefix(msg, "function not defined: "):
		name = strings.TrimPrefix(msg, "function not defined: ")
		if i := strings.LastIndexByte(name, '/'); i >= 0 {
			name = name[:i]
		}
	case strings.HasPrefix(msg, "variable not defined: "):
		name = strings.TrimPrefix(msg, "variable not defined: ")
	default:
		return -1
	}
	for i := 0; name != ""; {
		j := strings.Index(src[i:], name)
		if j < 0 {
			return -1
		}
		j += i
		end := j + len(name)
		before := j == 0 || !isIdentByte(src[j-1])
		after := end == len(src) || !isIdentByte(src[end])
		if before && after {
			return j
		}
		i = end
	}
	return -1
}

func isIdentByte(c byte) bool {
	return c == '_' || c == '$' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}
