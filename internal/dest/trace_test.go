package dest

import (
	"context"
	"fmt"
	"testing"

	"go.opentelemetry.io/otel/trace"

	"github.com/hookyard/hookyard/internal/tracing"
)

// traced returns a context carrying the span of attempt m.Attempt of m, as
// the delivery worker starts it with tracing on, plus a tracestate (which
// an attempt span has only when something upstream set one), and the
// traceparent and tracestate a destination must receive.
func traced(t *testing.T, m *Message) (ctx context.Context, traceparent, tracestate string) {
	t.Helper()
	tp := tracing.NewProvider(nil)
	t.Cleanup(func() { tp.Shutdown(context.Background()) })
	ctx, span := tracing.New(tp).Attempt(t.Context(), m.Event, m.Delivery, m.Attempt)
	t.Cleanup(func() { span.End() })
	sc := span.SpanContext()
	if got, want := sc.TraceID().String(), tracing.TraceID(m.Event.ID); got != want {
		t.Fatalf("attempt span trace id %s, want the event's %s", got, want)
	}
	ts, err := trace.ParseTraceState("hookyard=t61rcWkgMzE,other=1")
	if err != nil {
		t.Fatal(err)
	}
	ctx = trace.ContextWithSpanContext(ctx, sc.WithTraceState(ts))
	return ctx, fmt.Sprintf("00-%s-%s-01", sc.TraceID(), sc.SpanID()), ts.String()
}

// TestTraceContextOff: without a span (tracing off, the default) there is
// nothing to propagate, as for the HTTP destination.
func TestTraceContextOff(t *testing.T) {
	if got := traceContext(t.Context()); len(got) != 0 {
		t.Fatalf("traceContext without a span = %v, want none", got)
	}
	ctx, tp, ts := traced(t, message(nil, ""))
	got := traceContext(ctx)
	if len(got) != 2 || got[0] != [2]string{"traceparent", tp} || got[1] != [2]string{"tracestate", ts} {
		t.Fatalf("traceContext = %v, want traceparent %s and tracestate %s", got, tp, ts)
	}
}
