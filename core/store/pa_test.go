package store

import (
	"context"
	"testing"
	"time"
)

func TestPATables(t *testing.T) { forEachEngine(t, testPATables) }

func testPATables(t *testing.T, eng engine) {
	ctx := context.Background()
	s, _ := eng.open(t)
	var tb PATables
	if err := s.CheckPATables(ctx, tb); err != nil {
		t.Fatal(err)
	}
	exp := time.Unix(1_700_000_000, 0)
	tp := PublishedTuple{PDomain: "registrar", URI: "sip:bob@example.com", ETag: "e1", TupleID: "t1", Basic: "open", Note: "Online", Expires: exp}
	if err := s.PutPublished(ctx, tb, "", tp); err != nil {
		t.Fatal(err)
	}
	// A modification changes the entity tag: the old row goes.
	tp.ETag, tp.Basic = "e2", "closed"
	if err := s.PutPublished(ctx, tb, "e1", tp); err != nil {
		t.Fatal(err)
	}
	got, err := s.PublishedTuples(ctx, tb, "registrar")
	if err != nil || len(got) != 1 || got[0].ETag != "e2" || got[0].Basic != "closed" || got[0].Note != "Online" || !got[0].Expires.Equal(exp) {
		t.Fatalf("PublishedTuples = %+v, %v", got, err)
	}
	if err := s.DeletePublished(ctx, tb, "registrar", tp.URI, "e2"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.PublishedTuples(ctx, tb, "registrar"); len(got) != 0 {
		t.Fatalf("after delete: %+v", got)
	}

	w := Watcher{SID: "s1", PDomain: "registrar", RURI: "sip:bob@example.com", WURI: "sip:alice@example.com",
		Package: "presence", Status: "active", Expires: exp, CallID: "c1", FromTag: "f", ToTag: "t",
		Contact: "sip:alice@127.0.0.1:5070", Route: "<sip:p1;lr>, <sip:p2;lr>", CSeq: 3}
	if err := s.PutWatcher(ctx, tb, w); err != nil {
		t.Fatal(err)
	}
	w.CSeq = 4
	if err := s.PutWatcher(ctx, tb, w); err != nil {
		t.Fatal(err)
	}
	if err := s.RejectWatcher(ctx, tb, "sip:bob@example.com", "sip:mallory@example.com"); err != nil {
		t.Fatal(err)
	}
	if err := s.RejectWatcher(ctx, tb, "sip:bob@example.com", "sip:mallory@example.com"); err != nil {
		t.Fatal(err)
	}
	ws, err := s.Watchers(ctx, tb, "registrar")
	if err != nil || len(ws) != 1 || ws[0] != w {
		t.Fatalf("Watchers = %+v, %v; want %+v", ws, err, w)
	}
	for _, c := range []struct {
		w    string
		deny bool
	}{{"sip:mallory@example.com", true}, {"sip:alice@example.com", false}} {
		if got, err := s.WatcherRejectedFor(ctx, tb, "sip:bob@example.com", c.w); err != nil || got != c.deny {
			t.Errorf("WatcherRejectedFor(%s) = %v, %v", c.w, got, err)
		}
	}
	if err := s.DeleteWatcher(ctx, tb, "s1"); err != nil {
		t.Fatal(err)
	}
	if ws, _ := s.Watchers(ctx, tb, "registrar"); len(ws) != 0 {
		t.Fatalf("after delete: %+v", ws)
	}
	if ok, _ := s.WatcherRejectedFor(ctx, tb, "sip:bob@example.com", "sip:mallory@example.com"); !ok {
		t.Error("the rule went with the subscriptions")
	}
	if err := s.PutWatcher(ctx, tb, Watcher{SID: "x", Route: string(make([]byte, 600))}); err == nil {
		t.Error("an over-long route was stored")
	}
}
