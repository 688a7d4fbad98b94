package console

import (
	"net/http"
	"testing"
	"time"
)

func TestSessionsEvictClosestToExpiry(t *testing.T) {
	now := time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)
	s := newSessions(time.Hour, 2, func() time.Time { return now })
	req := func(id string) *http.Request {
		r, _ := http.NewRequest(http.MethodGet, "/console/", nil)
		r.AddCookie(&http.Cookie{Name: sessionCookie, Value: id})
		return r
	}
	first, _ := s.create("t1", "a", "viewer")
	now = now.Add(time.Minute)
	second, _ := s.create("t2", "b", "viewer")
	third, _ := s.create("t3", "c", "viewer") // over the bound: the first goes
	if s.get(req(first)) != nil {
		t.Error("the session closest to expiry survived the bound")
	}
	if s.get(req(second)) == nil || s.get(req(third)) == nil {
		t.Error("a newer session was evicted")
	}
	if got := s.get(req(third)); got == nil || got.token != "t3" || got.csrf == "" || got.csrf == third {
		t.Errorf("session = %+v", got)
	}
	if s.get(req("not-a-session")) != nil {
		t.Error("an unknown cookie found a session")
	}
}
