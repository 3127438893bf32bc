package pa

import (
	"strings"
	"testing"
)

func TestParsePIDF(t *testing.T) {
	// baresip's document.
	doc := `<?xml version="1.0" encoding="UTF-8"?>
<presence xmlns="urn:ietf:params:xml:ns:pidf"
    xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model"
    xmlns:rpid="urn:ietf:params:xml:ns:pidf:rpid"
    entity="sip:bob@127.0.0.1">
  <dm:person id="p4159"><rpid:activities><rpid:away/></rpid:activities></dm:person>
  <tuple id="t4109">
    <status>
      <basic>open</basic>
    </status>
    <contact>sip:bob@127.0.0.1</contact>
  </tuple>
</presence>`
	st, err := parsePIDF([]byte(doc))
	if err != nil || st.basic != Open || st.tupleID != "t4109" || st.contact != "sip:bob@127.0.0.1" || st.note != "away" {
		t.Fatalf("parsePIDF = %+v, %v", st, err)
	}
	st, err = parsePIDF([]byte(`<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="x"><tuple id="a"><status><basic>closed</basic></status><note>Gone &amp; away</note></tuple></presence>`))
	if err != nil || st.basic != Closed || st.note != "Gone & away" {
		t.Fatalf("parsePIDF = %+v, %v", st, err)
	}
	for _, bad := range []string{"", "<html/>", "<presence><tuple>"} {
		if _, err := parsePIDF([]byte(bad)); err == nil {
			t.Errorf("parsePIDF(%q) succeeded", bad)
		}
	}
}

func TestPIDFDocument(t *testing.T) {
	doc := pidfDocument("sip:bob@example.com", []publication{{tupleID: "t<1>", basic: Open, note: "a&b", contact: "sip:bob@10.0.0.1"}})
	for _, want := range []string{`entity="sip:bob@example.com"`, `<tuple id="t&lt;1&gt;">`, "<basic>open</basic>", "<note>a&amp;b</note>", "<contact>sip:bob@10.0.0.1</contact>"} {
		if !strings.Contains(doc, want) {
			t.Errorf("document lacks %s:\n%s", want, doc)
		}
	}
	st, err := parsePIDF([]byte(doc))
	if err != nil || st.basic != Open || st.note != "a&b" {
		t.Errorf("round trip: %+v, %v", st, err)
	}
}

func TestCanonURI(t *testing.T) {
	for in, want := range map[string]string{
		"sip:Bob@Example.COM;transport=udp": "sip:bob@example.com",
		"<sip:bob@h>":                       "sip:bob@h",
		"bob@h":                             "sip:bob@h",
	} {
		if got := canonURI(in); got != want {
			t.Errorf("canonURI(%q) = %q, want %q", in, got, want)
		}
	}
}
