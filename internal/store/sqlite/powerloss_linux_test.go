package sqlite_test

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/store/sqlite"
	"github.com/hookyard/hookyard/internal/webhook"
)

// TestPowerLoss ingests a burst onto a disk that loses everything not yet
// flushed (faultDisk), cuts the power mid-burst, "reboots" from what was
// durable and checks that every acknowledged event is there. With
// synchronous=FULL nothing acknowledged may be lost. The same run with
// synchronous=NORMAL (WAL commits not synced) must lose acknowledged
// events: that proves the disk really drops unflushed writes, i.e. that
// the FULL result means something.
func TestPowerLoss(t *testing.T) {
	if testing.Short() {
		t.Skip("power-loss test mounts a FUSE-backed ext4 file system; skipped with -short")
	}
	for _, tc := range []struct {
		sync     string
		wantLoss bool
	}{{"FULL", false}, {"NORMAL", true}} {
		t.Run("synchronous="+tc.sync, func(t *testing.T) {
			acked, lost, flushes := powerLossRun(t, tc.sync)
			msg := fmt.Sprintf("power-loss test: synchronous=%s acked=%d lost=%d disk_flushes=%d", tc.sync, acked, lost, flushes)
			t.Log(msg)
			fmt.Println(msg)
			if acked == 0 {
				t.Fatal("nothing was acknowledged before the power cut")
			}
			if tc.wantLoss && lost == 0 {
				t.Errorf("synchronous=%s lost nothing: the fault disk did not drop unflushed writes, so the test has no teeth", tc.sync)
			}
			if !tc.wantLoss && lost != 0 {
				t.Errorf("synchronous=%s: %d acknowledged events lost at the power cut", tc.sync, lost)
			}
		})
	}
}

func powerLossRun(t *testing.T, mode string) (acked, lost, flushes int) {
	d := newFaultDisk(t, 96<<20)
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(d.mnt, "hookyard.db"), sqlite.Config{Synchronous: mode})
	if err != nil {
		t.Fatal(err)
	}
	var (
		cutMu sync.RWMutex
		cut   bool
		idsMu sync.Mutex
		ids   []string
		seq   atomic.Int64
		stop  = make(chan struct{})
		wg    sync.WaitGroup
		count atomic.Int64
	)
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				n := seq.Add(1)
				now := time.Now()
				ev := &webhook.Event{ID: webhook.NewID("evt_", now), Source: "shop", Provider: "shopify", Topic: "orders/create",
					DedupKey: fmt.Sprint("k", n), ReceivedAt: now, Headers: http.Header{},
					Body: []byte(fmt.Sprintf(`{"id":%d,"pad":"%0512d"}`, n, n))}
				_, err := st.Ingest(ctx, ev, []webhook.NewDelivery{{Destination: "oms", Route: "r", MaxAttempts: 5}})
				if err != nil {
					continue // after the cut every write fails
				}
				cutMu.RLock()
				if !cut {
					idsMu.Lock()
					ids = append(ids, ev.ID)
					idsMu.Unlock()
				}
				cutMu.RUnlock()
				count.Add(1)
			}
		}()
	}
	// Let the burst run, then cut the power while it is still running.
	deadline := time.Now().Add(60 * time.Second)
	for count.Load() < 2000 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cutMu.Lock()
	cut = true
	img := d.powerCut()
	d.mu.Lock()
	flushes = d.flushes
	d.mu.Unlock()
	ackedIDs := append([]string(nil), ids...)
	cutMu.Unlock()
	close(stop)
	wg.Wait()
	st.Close() // fails: the disk is gone

	mnt := mountImage(t, img)
	st2, err := sqlite.Open(ctx, filepath.Join(mnt, "hookyard.db"), sqlite.Config{})
	if err != nil {
		// A database that cannot even be opened has lost everything.
		t.Logf("after the power cut the database does not open: %v", err)
		return len(ackedIDs), len(ackedIDs), flushes
	}
	defer st2.Close()
	for _, id := range ackedIDs {
		if _, err := st2.EventGet(ctx, id); err != nil {
			lost++
		}
	}
	return len(ackedIDs), lost, flushes
}
