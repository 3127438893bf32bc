package store

import (
	"context"
	"errors"
	"strings"
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

func TestAVPRows(t *testing.T) { forEachEngine(t, testAVPRows) }

func testAVPRows(t *testing.T, e engine) {
	ctx := context.Background()
	s, _ := e.open(t)
	alice := AVPOwner{Username: "alice", Domain: "example.com", UseDomain: true}
	var def AVPSchema
	if err := s.CheckAVPSchema(ctx, def); err != nil {
		t.Fatal(err)
	}
	for _, r := range []AVPRow{{Attribute: "callfwd", Value: "sip:bob@example.net"}, {Attribute: "fwdbusy", Value: "sip:vm@example.net"}, {Attribute: "5", Value: "42", Type: 3}} {
		if err := s.StoreAVP(ctx, def, alice, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.StoreAVP(ctx, def, alice, AVPRow{Attribute: "callfwd", Value: "x"}); !errors.Is(err, ErrExists) {
		t.Errorf("duplicate attribute: %v", err)
	}
	// serctl/console rows: same table, read by avpops.
	if err := s.SetPreference(ctx, Preference{Username: "alice", Domain: "other.org", Attribute: "callfwd", Value: "sip:other@x"}); err != nil {
		t.Fatal(err)
	}
	rows, err := s.LoadAVPs(ctx, def, alice, "callfwd")
	if err != nil || len(rows) != 1 || rows[0].Value != "sip:bob@example.net" || rows[0].Attribute != "callfwd" {
		t.Errorf("load callfwd = %+v, %v", rows, err)
	}
	all, _ := s.LoadAVPs(ctx, def, alice, "")
	if len(all) != 3 {
		t.Errorf("load all = %+v", all)
	}
	noDomain := AVPOwner{Username: "alice"}
	if rows, _ := s.LoadAVPs(ctx, def, noDomain, "callfwd"); len(rows) != 2 {
		t.Errorf("without use_domain: %+v", rows)
	}
	if n, err := s.DeleteAVPs(ctx, def, alice, "callfwd"); err != nil || n != 1 {
		t.Errorf("delete = %d, %v", n, err)
	}
	if n, _ := s.DeleteAVPs(ctx, def, alice, ""); n != 2 {
		t.Errorf("delete all = %d", n)
	}
	byUUID := AVPOwner{ByUUID: true, UUID: "u-17"}
	if err := s.StoreAVP(ctx, def, byUUID, AVPRow{Attribute: "lang", Value: "de"}); err != nil {
		t.Fatal(err)
	}
	if rows, _ := s.LoadAVPs(ctx, def, byUUID, "lang"); len(rows) != 1 || rows[0].Value != "de" {
		t.Errorf("by uuid: %+v", rows)
	}
	// A db_scheme: values of another table's column.
	sub := AVPSchema{Table: "subscriber", Username: "username", Domain: "domain", Value: "email_address", ValuesOnly: true}
	if err := s.AddSubscriber(ctx, Subscriber{Username: "carol", Domain: "example.com", Password: "pw", Email: "carol@example.com"}); err != nil {
		t.Fatal(err)
	}
	if err := s.CheckAVPSchema(ctx, sub); err != nil {
		t.Fatal(err)
	}
	if rows, err := s.LoadAVPs(ctx, sub, AVPOwner{Username: "carol", Domain: "example.com", UseDomain: true}, "ignored"); err != nil || len(rows) != 1 || rows[0].Value != "carol@example.com" {
		t.Errorf("scheme load = %+v, %v", rows, err)
	}
	if err := s.StoreAVP(ctx, sub, alice, AVPRow{Attribute: "a", Value: "b"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("store through a scheme: %v", err)
	}
	if _, err := s.LoadAVPs(ctx, AVPSchema{Table: "usr_preferences; DROP"}, alice, ""); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad table name: %v", err)
	}
	if err := s.StoreAVP(ctx, def, alice, AVPRow{Attribute: strings.Repeat("a", 33), Value: "v"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("long attribute: %v", err)
	}
}
