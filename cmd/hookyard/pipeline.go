package main

import (
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/hookyard/hookyard/internal/config"
	"github.com/hookyard/hookyard/internal/deliver"
	"github.com/hookyard/hookyard/internal/metrics"
	"github.com/hookyard/hookyard/internal/route"
	"github.com/hookyard/hookyard/internal/transform"
)

// buildRoutes compiles every route's expressions and transforms, with the
// commerce functions configured under transforms. Errors name the config
// key and its line; a jq syntax error also names its own line and column.
func buildRoutes(cfg *config.Config, log *slog.Logger, obs route.Observer) (*route.Table, error) {
	lib, err := transformOptions(cfg)
	if err != nil {
		return nil, err
	}
	return buildRoutesWith(cfg, lib, log, obs)
}

// buildRoutesWith is buildRoutes with the commerce functions' options
// already built (serve keeps their lookup tables for the metrics).
func buildRoutesWith(cfg *config.Config, lib transform.Options, log *slog.Logger, obs route.Observer) (*route.Table, error) {
	maxAttempts := map[string]int{}
	for _, d := range cfg.Destinations {
		maxAttempts[d.Name] = deliver.NewPolicy(d.Retry).MaxAttempts
	}
	var routes []*route.Route
	for i, rc := range cfg.Routes {
		p := fmt.Sprintf("routes[%d]", i)
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
					return nil, "", cfg.Errorf(p+"."+field, "route %s: %v", rc.Name, err)
				}
				code = string(b)
			}
			opts := lib
			opts.Name = fmt.Sprintf("routes[%d].%s", i, field)
			prog, err := transform.Compile(code, opts)
			if err != nil {
				return nil, "", cfg.Errorf(p+"."+field, "route %s: %v", rc.Name, err)
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

// transformOptions builds what the commerce functions read from the
// transforms section: the hash_pii key, the lookup tables (each loaded now,
// so a missing or malformed file stops the start with its key and line) and
// the risk rules.
func transformOptions(cfg *config.Config) (transform.Options, error) {
	t := cfg.Transforms
	opts := transform.Options{PIIKey: []byte(t.PIIKey)}
	if len(t.LookupTables) > 0 {
		opts.Tables = transform.NewTables(nil)
		for i, lt := range t.LookupTables {
			if err := opts.Tables.Load(lt.Name, resolve(cfg.Dir, lt.Path), lt.Key); err != nil {
				return opts, cfg.Errorf(fmt.Sprintf("transforms.lookup_tables[%d].path", i), "%v", err)
			}
		}
	}
	if r := t.Risk; r != nil {
		rules := transform.DefaultRiskRules()
		set := func(dst *int, v *int) {
			if v != nil {
				*dst = *v
			}
		}
		if r.HighValue != nil {
			rules.HighValue = *r.HighValue
		}
		rules.HighValueByCurrency = r.HighValueByCurrency
		set(&rules.HighValueScore, r.HighValueScore)
		set(&rules.CountryMismatchScore, r.CountryMismatchScore)
		set(&rules.FirstTimeScore, r.FirstTimeScore)
		set(&rules.VelocityThreshold, r.VelocityThreshold)
		set(&rules.VelocityScore, r.VelocityScore)
		if r.VelocityWindow > 0 {
			rules.Counter = transform.NewVelocityCounter(time.Duration(r.VelocityWindow), 0)
			rules.VelocityBy = r.VelocityBy
		}
		opts.Risk = &rules
	}
	return opts, nil
}

// tableStats reports lookup tables to the metrics.
func tableStats(ts *transform.Tables) func() []metrics.TableStat {
	return func() []metrics.TableStat {
		var out []metrics.TableStat
		for _, t := range ts.Status() {
			out = append(out, metrics.TableStat{Name: t.Name, Rows: t.Rows, Failing: t.Err != nil})
		}
		return out
	}
}

// looksLikeFile tells a transform file name from an inline program.
func looksLikeFile(s string) bool {
	return strings.HasSuffix(s, ".jq") && !strings.ContainsAny(s, "\n|{}()")
}
