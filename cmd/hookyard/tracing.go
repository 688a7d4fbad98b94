package main

import (
	"context"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/hookyard/hookyard/internal/tracing"
)

// serverOption adjusts startServer: what cmdServe derives from the
// environment, and what tests inject.
type serverOption func(*serverOptions)

type serverOptions struct {
	tracerProvider trace.TracerProvider
}

// withTracing makes the node trace ingest, attempts and transforms on tp
// (see package tracing); without it, tracing is off.
func withTracing(tp trace.TracerProvider) serverOption {
	return func(o *serverOptions) { o.tracerProvider = tp }
}

// setupTracing builds the tracer provider the OTEL_* environment asks for;
// stop flushes the spans still buffered. Both are no-ops when tracing is off.
func setupTracing(ctx context.Context, getenv func(string) string, log *slog.Logger) (opt serverOption, stop func(), err error) {
	tp, err := tracing.Setup(ctx, getenv, version)
	if err != nil || tp == nil {
		return withTracing(nil), func() {}, err
	}
	log.Info("tracing on: exporting spans over OTLP/HTTP")
	return withTracing(tp), func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := tp.Shutdown(sctx); err != nil {
			log.Warn("tracing: spans not flushed at shutdown", "error", err.Error())
		}
	}, nil
}
