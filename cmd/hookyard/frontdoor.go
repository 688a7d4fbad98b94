package main

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/hookyard/hookyard/internal/config"
	"github.com/hookyard/hookyard/internal/ingest"
	"github.com/hookyard/hookyard/internal/schema"
)

// frontDoor applies a source's hardening settings: IP allow-list, rate
// limit and JSON Schemas.
func frontDoor(dir string, i int, src *config.Source, is *ingest.Source) error {
	p := fmt.Sprintf("sources[%d]", i)
	if len(src.AllowIPs) > 0 || len(src.TrustedProxies) > 0 {
		is.IP = &ingest.IPPolicy{}
		for _, c := range src.AllowIPs {
			n, err := config.ParsePrefix(c)
			if err != nil {
				return fmt.Errorf("%s.allow_ips: %w", p, err)
			}
			is.IP.Allow = append(is.IP.Allow, n)
		}
		for _, c := range src.TrustedProxies {
			n, err := config.ParsePrefix(c)
			if err != nil {
				return fmt.Errorf("%s.trusted_proxies: %w", p, err)
			}
			is.IP.TrustedProxies = append(is.IP.TrustedProxies, n)
		}
	}
	if src.RateLimit != "" {
		rate, err := config.ParseRate(src.RateLimit)
		if err != nil {
			return fmt.Errorf("%s.rate_limit: %w", p, err)
		}
		is.Limiter = ingest.NewLimiter(rate, src.RateBurst)
	}
	if len(src.Schemas) > 0 {
		is.Schemas = map[string]*schema.Schema{}
		topics := make([]string, 0, len(src.Schemas))
		for t := range src.Schemas {
			topics = append(topics, t)
		}
		sort.Strings(topics)
		for _, topic := range topics {
			sc, err := schema.Load(resolve(dir, src.Schemas[topic]))
			if err != nil {
				return fmt.Errorf("%s.schemas[%q]: %w", p, topic, err)
			}
			is.Schemas[topic] = sc
		}
	}
	return nil
}

// resolve makes a config-relative file name absolute.
func resolve(dir, name string) string {
	if name == "" || filepath.IsAbs(name) || dir == "" {
		return name
	}
	return filepath.Join(dir, name)
}

// certReloader serves the public listener's certificate and re-reads it
// when the files change (checked at most once a second), so certificates
// rotate without a restart.
type certReloader struct {
	certFile, keyFile string
	log               *slog.Logger
	mu                sync.Mutex
	cert              *tls.Certificate
	modCert, modKey   time.Time
	checked           time.Time
}

func newCertReloader(certFile, keyFile string, log *slog.Logger) (*certReloader, error) {
	c := &certReloader{certFile: certFile, keyFile: keyFile, log: log}
	if err := c.load(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *certReloader) load() error {
	ci, err := os.Stat(c.certFile)
	if err != nil {
		return err
	}
	ki, err := os.Stat(c.keyFile)
	if err != nil {
		return err
	}
	cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return err
	}
	c.cert, c.modCert, c.modKey = &cert, ci.ModTime(), ki.ModTime()
	return nil
}

func (c *certReloader) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now := time.Now(); now.Sub(c.checked) >= time.Second {
		c.checked = now
		ci, err1 := os.Stat(c.certFile)
		ki, err2 := os.Stat(c.keyFile)
		if err1 == nil && err2 == nil && (!ci.ModTime().Equal(c.modCert) || !ki.ModTime().Equal(c.modKey)) {
			if err := c.load(); err != nil {
				// Keep serving the old certificate; a half-written pair
				// must not take the listener down.
				c.log.Warn("certificate reload failed; keeping the previous one", "error", err.Error())
			} else {
				c.log.Info("certificate reloaded")
			}
		}
	}
	return c.cert, nil
}
