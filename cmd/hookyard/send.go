package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/hookyard/hookyard/internal/config"
	"github.com/hookyard/hookyard/internal/verify"
)

func cmdSend(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "send", "send --provider P --secret S [--topic T] [--id ID] --url URL FILE|-")
	provider := fs.String("provider", "", "provider whose signature scheme to use: "+strings.Join(verify.Names(), ", "))
	secret := fs.String("secret", "", "signing secret (or set HOOKYARD_SEND_SECRET)")
	topic := fs.String("topic", "", "event type, for providers that send it in a header")
	id := fs.String("id", "", "delivery/event id header value (generated when empty)")
	target := fs.String("url", "", "where to POST, e.g. http://127.0.0.1:8080/ingest/shop")
	timeout := fs.Duration("timeout", 10*time.Second, "request timeout")
	webhookID := fs.String("webhook-id", "", "webhook id, for provider paypal (which signs it; the secret is then a PEM RSA private key)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *secret == "" {
		*secret = e.getenv("HOOKYARD_SEND_SECRET")
	}
	switch {
	case *provider == "":
		return errors.New("--provider is required")
	case *target == "":
		return errors.New("--url is required")
	case fs.NArg() != 1:
		return errors.New("give exactly one payload file (or - for standard input)")
	}
	p, ok := verify.Lookup(*provider)
	if !ok {
		return fmt.Errorf("--provider: unknown provider %q (want one of %s)", *provider, strings.Join(verify.Names(), ", "))
	}
	var body []byte
	var err error
	if name := fs.Arg(0); name == "-" {
		body, err = io.ReadAll(e.stdin)
	} else {
		body, err = os.ReadFile(name)
	}
	if err != nil {
		return err
	}
	o := verify.SignOptions{Topic: *topic, ID: *id, Now: time.Now(), URL: *target}
	if *webhookID != "" {
		o.PayPal = &config.PayPal{WebhookID: *webhookID}
	}
	var header http.Header
	if p.SignBody != nil { // the signature travels inside the body (adyen)
		body, header, err = p.SignBody(*secret, body, o)
	} else {
		header, err = p.Sign(*secret, body, o)
	}
	if err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, *target, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header = header
	if req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	fmt.Fprintf(e.stdout, "%s\n%s", resp.Status, out)
	if len(out) > 0 && out[len(out)-1] != '\n' {
		fmt.Fprintln(e.stdout)
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s answered %s", *target, resp.Status)
	}
	return nil
}
