package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestPreferences(t *testing.T) { forEachEngine(t, testPreferences) }

func testPreferences(t *testing.T, e engine) {
	ctx := context.Background()
	s, c := e.open(t)
	if err := s.SetPreferenceType(ctx, PreferenceType{Name: "fw_on_busy", RawType: 2, DefaultValue: "0"}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetPreferenceType(ctx, PreferenceType{Name: "lang", RichType: "list", TypeSpec: "en,de"}); err != nil {
		t.Fatal(err)
	}
	types, _ := s.PreferenceTypes(ctx)
	if len(types) != 2 || types[0].RichType != "string" || types[1].TypeSpec != "en,de" {
		t.Errorf("PreferenceTypes = %+v", types)
	}
	if err := s.SetPreference(ctx, Preference{Username: "alice", Domain: "example.com", Attribute: "lang", Value: "en", Type: 2}); err != nil {
		t.Fatal(err)
	}
	c.Set(t0.Add(time.Hour))
	if err := s.SetPreference(ctx, Preference{Username: "alice", Domain: "example.com", Attribute: "lang", Value: "de", Type: 2}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetPreference(ctx, Preference{Username: "alice", Domain: "example.com", Attribute: "fw_on_busy", Value: "1"}); err != nil {
		t.Fatal(err)
	}
	ps, _ := s.Preferences(ctx, "alice", "example.com")
	if len(ps) != 2 || ps[1].Attribute != "lang" || ps[1].Value != "de" || !ps[1].Modified.Equal(t0.Add(time.Hour)) {
		t.Errorf("Preferences = %+v", ps)
	}
	if err := s.DeletePreferenceType(ctx, "lang"); err != nil {
		t.Fatal(err)
	}
	if ps, _ := s.Preferences(ctx, "alice", "example.com"); len(ps) != 1 {
		t.Errorf("deleting the type kept its values: %+v", ps)
	}
	if err := s.DeletePreferenceType(ctx, "lang"); !errors.Is(err, ErrNotFound) {
		t.Errorf("delete missing type: %v", err)
	}
	if err := s.DeletePreference(ctx, "alice", "example.com", "fw_on_busy"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeletePreference(ctx, "alice", "example.com", "fw_on_busy"); !errors.Is(err, ErrNotFound) {
		t.Errorf("delete missing preference: %v", err)
	}
}
