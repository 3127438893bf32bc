package sipmsg

import (
	"errors"
	"testing"
)

func TestParseAVPName(t *testing.T) {
	for in, want := range map[string]AVPName{
		"i:5": IntName(5), "I:660": IntName(660), "s:callfwd": StrName("callfwd"),
		"S:Email": StrName("Email"), "fwd": StrName("fwd"), "x": StrName("x"),
	} {
		got, err := ParseAVPName(in)
		if err != nil || got != want {
			t.Errorf("ParseAVPName(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "i:", "s:", "i:abc", "i:-1", "i:70000", "x:foo"} {
		if _, err := ParseAVPName(bad); err == nil {
			t.Errorf("ParseAVPName(%q) accepted", bad)
		}
	}
	if got := StrName("callfwd").String() + " " + IntName(3).String(); got != "s:callfwd i:3" {
		t.Errorf("String = %q", got)
	}
}

func TestAVPAliases(t *testing.T) {
	a := AVPAliases{}
	if err := a.Add("uuid=I:660;email=s:email_addr; fwd = i:753"); err != nil {
		t.Fatal(err)
	}
	if n, err := a.ParseSpec("$Email"); err != nil || n != StrName("email_addr") {
		t.Errorf("$Email = %v %v", n, err)
	}
	if n, err := a.ParseSpec("$fwd"); err != nil || n != IntName(753) {
		t.Errorf("$fwd = %v %v", n, err)
	}
	if n, err := a.ParseSpec("i:4"); err != nil || n != IntName(4) {
		t.Errorf("i:4 = %v %v", n, err)
	}
	for _, bad := range []string{"$nope", "$"} {
		if _, err := a.ParseSpec(bad); err == nil {
			t.Errorf("ParseSpec(%q) accepted", bad)
		}
	}
	for _, bad := range []string{"uuid=i:1", "other=i:660", "x", "=i:1", "y=", "z=q:1"} {
		if err := a.Add(bad); err == nil {
			t.Errorf("Add(%q) accepted", bad)
		}
	}
}

func TestAVPList(t *testing.T) {
	m := &Msg{}
	if m.AVPs() != nil {
		t.Fatal("new message has a list")
	}
	if _, ok := m.AVPs().First(IntName(1)); ok {
		t.Fatal("nil list found something")
	}
	m.AddAVP(StrName("Fwd"), StrValue("a"))
	m.AddAVP(IntName(1), IntValue(10))
	m.AddAVP(StrName("fwd"), StrValue("b"))
	if v, ok := m.AVPs().First(StrName("FWD")); !ok || v.Str != "b" {
		t.Errorf("First = %v %v, want the newest, case-insensitive", v, ok)
	}
	if vs := m.AVPs().Values(StrName("fwd")); len(vs) != 2 || vs[0].Str != "b" || vs[1].Str != "a" {
		t.Errorf("Values = %v", vs)
	}
	if _, ok := m.AVPs().First(StrName("1")); ok {
		t.Error("s:1 matched i:1")
	}
	c := m.AVPs().Clone()
	if n := m.AVPs().Delete(func(a *AVP) bool { return a.Name.Is(StrName("fwd")) }, false); n != 1 {
		t.Errorf("Delete one = %d", n)
	}
	if v, _ := m.AVPs().First(StrName("fwd")); v.Str != "a" {
		t.Errorf("after deleting the newest: %v", v)
	}
	if c.Len() != 3 {
		t.Errorf("the clone changed with the original: %d", c.Len())
	}
	if n := c.Delete(func(*AVP) bool { return true }, true); n != 3 || c.Len() != 0 {
		t.Errorf("Delete all = %d, left %d", n, c.Len())
	}
	for i := m.AVPs().Len(); i < MaxAVPs; i++ {
		if err := m.AddAVP(IntName(2), IntValue(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.AddAVP(IntName(2), IntValue(0)); !errors.Is(err, ErrTooManyAVPs) {
		t.Errorf("beyond MaxAVPs: %v", err)
	}
}
