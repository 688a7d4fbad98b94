package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestDiskFullSQLite runs the real binary with its SQLite database on a
// small tmpfs and fills the file system mid-run. Ingest must then answer
// 503 (never 2xx for an event it could not commit), work already stored
// keeps reaching the destination, and once space returns ingest recovers
// without a restart. Every acknowledged event is delivered. Mounting a
// tmpfs needs root (CAP_SYS_ADMIN); CI runs as root.
func TestDiskFullSQLite(t *testing.T) {
	if testing.Short() {
		t.Skip("disk-full test mounts a tmpfs and runs a real process; skipped with -short")
	}
	dir := t.TempDir()
	mnt := filepath.Join(dir, "data")
	if err := os.Mkdir(mnt, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here (needs root): %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", mnt).Run() })

	bin := buildHookyard(t)
	sk := newEffectSink(t)
	const firstWave = 50
	var (
		hmu     sync.Mutex
		held    int
		holding = true
		heldAll = make(chan struct{})
		release = make(chan struct{})
		once    sync.Once
	)
	t.Cleanup(func() { once.Do(func() { close(release) }) })
	// The first wave's deliveries are held at the destination while the
	// disk fills, so that they are in flight when it is full.
	sk.hold = func(*http.Request) int {
		hmu.Lock()
		if !holding {
			hmu.Unlock()
			return 0
		}
		held++
		if held == firstWave {
			close(heldAll)
		}
		hmu.Unlock()
		<-release
		return 0
	}
	node := newChild(t, bin, "node", fmt.Sprintf(`storage:
  path: %s
sources:
  - {name: shop, provider: shopify, secrets: ["%s"]}
destinations:
  - name: oms
    type: http
    url: %s/oms
    timeout: 5s
    concurrency: 64
    retry: {max_attempts: 50, initial_interval: 50ms, max_interval: 500ms}
routes:
  - {source: shop, destination: oms}
`, filepath.Join(mnt, "hookyard.db"), testSecret, sk.srv.URL))
	node.start()
	target := func(int64, int) string { return node.pub }

	// Wave 1: stored and in flight (held at the destination).
	led := newLedger()
	led.send(context.Background(), firstWave, 8, target)
	select {
	case <-heldAll:
	case <-time.After(60 * time.Second):
		t.Fatalf("only %d of %d deliveries reached the destination", held, firstWave)
	}
	hmu.Lock()
	holding = false
	hmu.Unlock()

	// Fill the file system.
	filler := filepath.Join(mnt, "filler")
	if err := fill(filler); err != nil {
		t.Fatal(err)
	}

	// Wave 2: events posted once each while the disk is full. Some may
	// still fit (SQLite reuses space inside its WAL file), and those must
	// be delivered like any other; the rest must get 503.
	full := newLedgerFrom(led, firstWave)
	var statuses = map[int]int{}
	for i := 0; i < 5000 && statuses[503] < 50; i++ {
		code := full.postOnce(int64(firstWave+1+i), node.pub)
		statuses[code]++
	}
	for code := range statuses {
		if code != 503 && code/100 != 2 {
			t.Errorf("disk full: ingest answered %d (%d times); want 2xx for a commit or 503", code, statuses[code])
		}
	}
	if statuses[503] == 0 {
		t.Errorf("disk full: no 503 in %v", statuses)
	}

	// Work stored before the disk filled still reaches the destination.
	once.Do(func() { close(release) })
	wave1 := led.ids()
	lost1, _ := sk.waitDelivered("/oms", wave1, time.Now().Add(60*time.Second))
	if lost1 != 0 {
		t.Errorf("disk full: %d stored events did not reach the destination", lost1)
	}

	// Space returns: ingest recovers in the same process.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	recovered := newLedgerFrom(full, 10000)
	recovered.send(context.Background(), 200, 8, target)
	select {
	case <-node.exited:
		t.Fatal("the node exited")
	default:
	}
	ids := recovered.ids() // carries the earlier waves' acknowledgements
	lost, dups := sk.waitDelivered("/oms", ids, time.Now().Add(leaseOf(5*time.Second)+30*time.Second))
	summary := fmt.Sprintf("disk full test: stored_before=%d full_disk_statuses=%v delivered_while_full=%d/%d acked_total=%d lost=%d duplicate_effects=%d",
		firstWave, statuses, firstWave-lost1, firstWave, len(ids), lost, dups)
	t.Log(summary)
	fmt.Println(summary)
	if recovered.count.Load() != 200 {
		t.Errorf("after space returned only %d of 200 events were acknowledged", recovered.count.Load())
	}
	if lost != 0 || dups != 0 {
		t.Errorf("lost %d, duplicate effects %d", lost, dups)
	}
}

// newLedgerFrom starts a ledger whose event ids begin after offset and that
// carries over the acknowledgements of prev.
func newLedgerFrom(prev *ledger, offset int64) *ledger {
	l := newLedger()
	l.offset = offset
	prev.mu.Lock()
	for id, ev := range prev.acked {
		l.acked[id] = ev
	}
	prev.mu.Unlock()
	return l
}

// fill writes a file until the file system has no space left.
func fill(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	for _, size := range []int{1 << 20, 64 << 10, 4 << 10, 512} {
		buf := make([]byte, size)
		for {
			if _, err := f.Write(buf); err != nil {
				if errors.Is(err, syscall.ENOSPC) {
					break
				}
				return err
			}
		}
	}
	return nil
}
