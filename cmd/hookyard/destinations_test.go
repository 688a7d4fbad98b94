package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/api"
	"github.com/hookyard/hookyard/internal/webhook"
)

// nodeCLI runs the real program's admin subcommands against n.
func nodeCLI(t *testing.T, n *node, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	getenv := func(k string) string {
		return map[string]string{"HOOKYARD_TOKEN": adminToken, "HOOKYARD_ADMIN_URL": "http://" + n.adminAddr}[k]
	}
	if err := run(context.Background(), args, getenv, strings.NewReader(""), &out, &errOut); err != nil {
		t.Fatalf("hookyard %s: %v\n%s", strings.Join(args, " "), err, errOut.String())
	}
	return out.String()
}

func eventuallyTrue(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestDestinationsPauseResumeCLI: a paused destination accumulates its
// deliveries (reported as held in the queue depth) while its neighbour
// keeps delivering; resume sends every one of them, once.
func TestDestinationsPauseResumeCLI(t *testing.T) {
	oms, crm := newSink(t, nil), newSink(t, nil)
	n := startNode(t, httpDest("oms", oms.srv.URL, "")+httpDest("crm", crm.srv.URL, ""),
		"  - {source: shop, destination: oms}\n  - {source: shop, destination: crm}")
	if out := nodeCLI(t, n, "destinations", "pause", "oms", "--reason", "OMS upgrade"); out != "oms is paused\n" {
		t.Fatalf("pause: %q", out)
	}
	for i := range 3 {
		if resp, body := post(t, n.ingestURL("shop"), orderBody(i), fmt.Sprint("p-", i)); resp.StatusCode != 202 {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
	}
	for range 3 {
		crm.next(t)
	}
	if c := oms.count(); c != 0 {
		t.Fatalf("paused destination received %d requests", c)
	}
	held := `hookyard_queue_depth{destination="oms",state="held"}`
	eventuallyTrue(t, "held depth 3", func() bool { return scrape(t, n)[held] == 3 })
	if m := scrape(t, n); m[`hookyard_queue_depth{destination="oms",state="due"}`] != 0 {
		t.Errorf("paused work also counted as due: %v", m[`hookyard_queue_depth{destination="oms",state="due"}`])
	}
	list := nodeCLI(t, n, "destinations", "list")
	if !strings.Contains(list, "oms ") || !strings.Contains(list, "paused") || !strings.Contains(list, "paused by ops: OMS upgrade") {
		t.Fatalf("list:\n%s", list)
	}
	if out := nodeCLI(t, n, "destinations", "resume", "oms"); out != "oms is active\n" {
		t.Fatalf("resume: %q", out)
	}
	for range 3 {
		oms.next(t)
	}
	eventuallyTrue(t, "queue empty", func() bool { return scrape(t, n)[held] == 0 })
	if c := oms.count(); c != 3 {
		t.Fatalf("oms received %d requests after resume, want 3", c)
	}
}

// TestGoneDisablesEnableDrainsCLI: a 410 disables the destination for the
// whole node (state in the store, alert raised); later work is held; the
// CLI's enable drains it, and the 410'd delivery is found by a filtered
// dry-run replay.
func TestGoneDisablesEnableDrainsCLI(t *testing.T) {
	oms := newSink(t, func(n int) int {
		if n == 0 {
			return 410
		}
		return 200
	})
	n := startNode(t, httpDest("oms", oms.srv.URL, ""), "  - {source: shop, destination: oms}")
	_, body := post(t, n.ingestURL("shop"), orderBody(1), "g-1")
	first, _ := decodeAck(t, body)
	waitState(t, n, first, webhook.StateDead)
	eventuallyTrue(t, "disabled", func() bool { return strings.Contains(nodeCLI(t, n, "destinations", "list"), "disabled") })
	list := nodeCLI(t, n, "destinations", "list")
	if !strings.Contains(list, "HTTP 410") {
		t.Fatalf("list does not say why:\n%s", list)
	}
	req, _ := http.NewRequest(http.MethodGet, "http://"+n.adminAddr+"/api/v1/alerts", nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var alerts api.AlertList
	err = json.NewDecoder(resp.Body).Decode(&alerts)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, a := range alerts.Firing {
		found = found || (a.Subject == "oms" && strings.Contains(a.Rule, "disabled"))
	}
	if !found {
		t.Errorf("no destination-disabled alert firing: %+v", alerts.Firing)
	}
	_, body = post(t, n.ingestURL("shop"), orderBody(2), "g-2")
	second, _ := decodeAck(t, body)
	eventuallyTrue(t, "held depth 1", func() bool {
		return scrape(t, n)[`hookyard_queue_depth{destination="oms",state="held"}`] == 1
	})
	if c := oms.count(); c != 1 {
		t.Fatalf("disabled destination got %d requests, want only the 410", c)
	}
	if out := nodeCLI(t, n, "destinations", "enable", "oms"); out != "oms is active\n" {
		t.Fatalf("enable: %q", out)
	}
	d := waitState(t, n, second, webhook.StateSucceeded)
	if d.Attempts != 1 {
		t.Errorf("held delivery used %d attempts", d.Attempts)
	}
	out := nodeCLI(t, n, "dlq", "replay", "--destination", "oms", "--class", "4xx", "--since", "1h", "--dry-run")
	if out != "dry run: 1 dead deliveries would be replayed\n" {
		t.Fatalf("filtered dry run: %q", out)
	}
	if out := nodeCLI(t, n, "dlq", "replay", "--class", "5xx", "--dry-run"); out != "dry run: 0 dead deliveries would be replayed\n" {
		t.Fatalf("5xx dry run: %q", out)
	}
}
