package main

import (
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/hookyard/hookyard/internal/config"
	"github.com/hookyard/hookyard/internal/deliver"
	"github.com/hookyard/hookyard/internal/route"
	"github.com/hookyard/hookyard/internal/transform"
)

// buildRoutes compiles every route's expressions and transforms. Errors
// name the route and field; a jq syntax error names its line and column.
func buildRoutes(cfg *config.Config, log *slog.Logger, obs route.Observer) (*route.Table, error) {
	maxAttempts := map[string]int{}
	for _, d := range cfg.Destinations {
		maxAttempts[d.Name] = deliver.NewPolicy(d.Retry).MaxAttempts
	}
	var routes []*route.Route
	for i, rc := range cfg.Routes {
		p := fmt.Sprintf("routes[%d] (%s)", i, rc.Name)
		r := &route.Route{Name: rc.Name, Source: rc.Source, Destination: rc.Destination,
			MaxAttempts: maxAttempts[rc.Destination], BlockOnDead: rc.OnDead == "block"}
		compile := func(field, src string, allowFile bool) (*transform.Program, string, error) {
			if src == "" {
				return nil, "", nil
			}
			code := src
			if allowFile && looksLikeFile(src) {
				b, err := os.ReadFile(resolve(cfg.Dir, src))
				if err != nil {
					return nil, "", fmt.Errorf("%s.%s: %w", p, field, err)
				}
				code = string(b)
			}
			prog, err := transform.Compile(code, transform.Options{Name: fmt.Sprintf("routes[%d].%s", i, field)})
			if err != nil {
				return nil, "", fmt.Errorf("%s.%s: %w", p, field, err)
			}
			return prog, code, nil
		}
		var err error
		var filterSrc, prioSrc, keySrc, transformSrc, canarySrc string
		if r.Filter, filterSrc, err = compile("filter", rc.Filter, false); err != nil {
			return nil, err
		}
		if r.Priority, prioSrc, err = compile("priority", rc.Priority, false); err != nil {
			return nil, err
		}
		if r.OrderingKey, keySrc, err = compile("ordering_key", rc.OrderingKey, false); err != nil {
			return nil, err
		}
		if r.Transform, transformSrc, err = compile("transform", rc.Transform, true); err != nil {
			return nil, err
		}
		if r.Shadow, _, err = compile("shadow", rc.Shadow, true); err != nil {
			return nil, err
		}
		if rc.Canary != nil {
			if r.Canary, canarySrc, err = compile("canary.transform", rc.Canary.Transform, true); err != nil {
				return nil, err
			}
			r.CanaryPercent = rc.Canary.Percent
		}
		// The version stamp covers what decides and shapes a delivery.
		r.Version = transform.Hash(rc.Name, rc.Destination, filterSrc, prioSrc, keySrc, rc.OnDead, transformSrc)
		if r.Canary != nil {
			r.CanaryVersion = transform.Hash(rc.Name, rc.Destination, filterSrc, prioSrc, keySrc, rc.OnDead, canarySrc)
		}
		routes = append(routes, r)
	}
	return route.New(routes, log, obs), nil
}

// looksLikeFile tells a transform file name from an inline program.
func looksLikeFile(s string) bool {
	return strings.HasSuffix(s, ".jq") && !strings.ContainsAny(s, "\n|{}()")
}
