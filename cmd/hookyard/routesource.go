package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/hookyard/hookyard/internal/api"
	"github.com/hookyard/hookyard/internal/config"
	"github.com/hookyard/hookyard/internal/route"
	"github.com/hookyard/hookyard/internal/webhook"
)

// routeSource adapts the route table to the admin API's route endpoints.
type routeSource struct {
	table *route.Table
	infos []api.RouteInfo
}

func newRouteSource(cfg *config.Config, table *route.Table) routeSource {
	rs := routeSource{table: table, infos: []api.RouteInfo{}}
	for _, r := range cfg.Routes {
		info := api.RouteInfo{Name: r.Name, Source: r.Source, Destination: r.Destination}
		if src, ok := cfg.Source(r.Source); ok {
			info.Provider = src.Provider
		}
		rs.infos = append(rs.infos, info)
	}
	return rs
}

func (rs routeSource) Routes() []api.RouteInfo { return rs.infos }

func (rs routeSource) Preview(ctx context.Context, name string, ev *webhook.Event) (any, error) {
	st, err := rs.table.Preview(ctx, name, ev)
	if errors.Is(err, route.ErrNoRoute) {
		return nil, fmt.Errorf("%w: %w", webhook.ErrNotFound, err)
	}
	return st, err
}
