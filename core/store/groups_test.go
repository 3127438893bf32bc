package store

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestGroups(t *testing.T) { forEachEngine(t, testGroups) }

func testGroups(t *testing.T, e engine) {
	ctx := context.Background()
	s, _ := e.open(t)
	for _, g := range []struct{ u, d, grp string }{
		{"alice", "example.com", "ld"}, {"alice", "example.com", "local"}, {"bob", "example.com", "ld"},
		{"alice", "example.org", "int"},
	} {
		if err := s.Grant(ctx, g.u, g.d, g.grp); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Grant(ctx, "alice", "example.com", "ld"); !errors.Is(err, ErrExists) {
		t.Errorf("duplicate grant: %v, want ErrExists", err)
	}
	if err := s.Grant(ctx, "alice", "example.com", ""); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty group: %v, want ErrInvalid", err)
	}
	in := []struct {
		name             string
		gs               GroupSchema
		user, dom, group string
		want             bool
	}{
		{"member", GroupSchema{UseDomain: true}, "alice", "example.com", "ld", true},
		{"not member", GroupSchema{UseDomain: true}, "bob", "example.com", "local", false},
		{"other domain", GroupSchema{UseDomain: true}, "alice", "example.org", "ld", false},
		{"domain ignored", GroupSchema{}, "alice", "whatever", "int", true},
		{"explicit schema", GroupSchema{Table: "grp", UserColumn: "username", DomainColumn: "domain", GroupColumn: "grp", UseDomain: true}, "bob", "example.com", "ld", true},
	}
	for _, tc := range in {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.InGroup(ctx, tc.gs, tc.user, tc.dom, tc.group)
			if err != nil || got != tc.want {
				t.Errorf("InGroup = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
	if _, err := s.InGroup(ctx, GroupSchema{Table: "grp x"}, "a", "b", "c"); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad table: %v", err)
	}
	if g, _ := s.UserGroups(ctx, "alice", "example.com"); !reflect.DeepEqual(g, []string{"ld", "local"}) {
		t.Errorf("UserGroups = %v", g)
	}
	ms, _ := s.GroupMembers(ctx, "ld")
	if len(ms) != 2 || ms[0].Username != "alice" || ms[1].Username != "bob" || !ms[0].LastModified.Equal(t0) {
		t.Errorf("GroupMembers = %+v", ms)
	}
	if all, _ := s.Memberships(ctx, "", ""); len(all) != 4 || all[3].Domain != "example.org" {
		t.Errorf("Memberships all = %+v", all)
	}
	if one, _ := s.Memberships(ctx, "alice", "example.com"); len(one) != 2 {
		t.Errorf("Memberships alice = %+v", one)
	}
	if err := s.Revoke(ctx, "alice", "example.com", "ld"); err != nil {
		t.Fatal(err)
	}
	if err := s.Revoke(ctx, "alice", "example.com", "ld"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second revoke: %v, want ErrNotFound", err)
	}
	if err := s.Revoke(ctx, "alice", "example.org", ""); err != nil {
		t.Fatal(err)
	}
	if all, _ := s.Memberships(ctx, "", ""); len(all) != 2 {
		t.Errorf("after revokes %+v", all)
	}
}

func TestPrivileges(t *testing.T) { forEachEngine(t, testPrivileges) }

func testPrivileges(t *testing.T, e engine) {
	ctx := context.Background()
	s, _ := e.open(t)
	for _, p := range []Privilege{
		{"admin", "example.com", PrivIsAdmin, "1"}, {"admin", "example.com", PrivChangePrivileges, "1"},
		{"admin", "example.com", PrivACLControl, "ld"}, {"admin", "example.com", PrivACLControl, "local"},
		{"helper", "example.com", PrivACLControl, "ld"},
	} {
		if err := s.GrantPrivilege(ctx, p.Username, p.Domain, p.Name, p.Value); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.GrantPrivilege(ctx, "admin", "example.com", PrivIsAdmin, "1"); !errors.Is(err, ErrExists) {
		t.Errorf("duplicate: %v", err)
	}
	if ok, _ := s.IsAdmin(ctx, "admin", "example.com"); !ok {
		t.Error("admin is not admin")
	}
	if ok, _ := s.IsAdmin(ctx, "helper", "example.com"); ok {
		t.Error("helper is admin")
	}
	if ok, _ := s.HasPrivilege(ctx, "helper", "example.com", PrivACLControl, "ld"); !ok {
		t.Error("helper lacks acl_control=ld")
	}
	if ps, _ := s.Privileges(ctx, "admin", "example.com"); len(ps) != 4 || ps[0].Name != PrivACLControl || ps[0].Value != "ld" {
		t.Errorf("Privileges = %+v", ps)
	}
	if as, _ := s.Admins(ctx); len(as) != 1 || as[0].Username != "admin" {
		t.Errorf("Admins = %+v", as)
	}
	if err := s.RevokePrivilege(ctx, "admin", "example.com", PrivACLControl, ""); err != nil {
		t.Fatal(err)
	}
	if ps, _ := s.Privileges(ctx, "admin", "example.com"); len(ps) != 2 {
		t.Errorf("after revoking acl_control %+v", ps)
	}
	if err := s.RevokePrivilege(ctx, "admin", "example.com", PrivACLControl, "ld"); !errors.Is(err, ErrNotFound) {
		t.Errorf("revoke missing: %v", err)
	}
}

func TestDomains(t *testing.T) { forEachEngine(t, testDomains) }

func testDomains(t *testing.T, e engine) {
	ctx := context.Background()
	s, _ := e.open(t)
	for _, d := range []string{"b.example", "A.Example"} {
		if err := s.AddDomain(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AddDomain(ctx, "a.example"); !errors.Is(err, ErrExists) {
		t.Errorf("duplicate domain: %v", err)
	}
	ds, _ := s.Domains(ctx)
	if len(ds) != 2 || ds[0].Domain != "a.example" || !ds[0].LastModified.Equal(t0) {
		t.Errorf("Domains = %+v", ds)
	}
	if ok, _ := s.IsLocalDomain(ctx, "B.EXAMPLE"); !ok {
		t.Error("B.EXAMPLE not local")
	}
	if ok, _ := s.IsLocalDomain(ctx, "c.example"); ok {
		t.Error("c.example local")
	}
	if names, err := s.LocalDomains(ctx, DomainSchema{}); err != nil || strings.Join(names, ",") != "a.example,b.example" {
		t.Errorf("LocalDomains = %q, %v", names, err)
	}
	// A table of another name, with another column (domain_table,
	// domain_col), and names that are not identifiers.
	if err := s.RawExec(ctx, "CREATE TABLE served (name VARCHAR(128) NOT NULL PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	if err := s.RawExec(ctx, "INSERT INTO served (name) VALUES ('c.example')"); err != nil {
		t.Fatal(err)
	}
	alt := DomainSchema{Table: "served", Column: "name"}
	if ok, err := s.IsLocalDomainIn(ctx, alt, "C.example"); !ok || err != nil {
		t.Errorf("IsLocalDomainIn(served) = %v, %v", ok, err)
	}
	if names, err := s.LocalDomains(ctx, alt); err != nil || strings.Join(names, ",") != "c.example" {
		t.Errorf("LocalDomains(served) = %q, %v", names, err)
	}
	if _, err := s.LocalDomains(ctx, DomainSchema{Table: "x; DROP"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad table name: %v", err)
	}
	if err := s.DeleteDomain(ctx, "A.example"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteDomain(ctx, "a.example"); !errors.Is(err, ErrNotFound) {
		t.Errorf("delete missing domain: %v", err)
	}
}

func TestURIsAndReserved(t *testing.T) { forEachEngine(t, testURIsAndReserved) }

func testURIsAndReserved(t *testing.T, e engine) {
	ctx := context.Background()
	s, _ := e.open(t)
	if err := s.AddURI(ctx, "alice", "example.com", "0431"); err != nil {
		t.Fatal(err)
	}
	if err := s.AddURI(ctx, "alice", "example.com", "0431"); !errors.Is(err, ErrExists) {
		t.Errorf("duplicate uri: %v", err)
	}
	if ok, _ := s.URIAllowed(ctx, "alice", "example.com", "0431"); !ok {
		t.Error("0431 not allowed")
	}
	if ok, _ := s.URIAllowed(ctx, "bob", "example.com", "0431"); ok {
		t.Error("bob may use 0431")
	}
	if err := s.DeleteURI(ctx, "alice", "example.com", "0431"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteURI(ctx, "alice", "example.com", "0431"); !errors.Is(err, ErrNotFound) {
		t.Errorf("delete missing uri: %v", err)
	}

	for _, n := range []string{"root", "admin"} {
		if err := s.AddReserved(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AddReserved(ctx, "root"); !errors.Is(err, ErrExists) {
		t.Errorf("duplicate reserved: %v", err)
	}
	if ok, _ := s.IsReserved(ctx, "root"); !ok {
		t.Error("root not reserved")
	}
	if ok, _ := s.IsReserved(ctx, "alice"); ok {
		t.Error("alice reserved")
	}
	if names, _ := s.ReservedNames(ctx); !reflect.DeepEqual(names, []string{"admin", "root"}) {
		t.Errorf("ReservedNames = %v", names)
	}
	if err := s.DeleteReserved(ctx, "root"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteReserved(ctx, "root"); !errors.Is(err, ErrNotFound) {
		t.Errorf("delete missing reserved: %v", err)
	}
}
