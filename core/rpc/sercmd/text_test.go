package sercmd

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"ser/core/rpc"
)

func body(text string) []string { return rpc.Raw(text).Lines() }

func TestParseShowContact(t *testing.T) {
	tests := []struct {
		name string
		text string
		want Contacts
	}{
		{name: "one", text: "200 OK\n<sip:john@10.0.0.1:5060>;q=1;expires=3600\n",
			want: Contacts{{URI: "sip:john@10.0.0.1:5060", Q: "1", Expires: 3600}}},
		{name: "permanent and unset q", text: "200 OK\n<sip:a@b;transport=tcp>;q=0.5;expires=-12\n<sip:c@d>;q=;expires=5\n",
			want: Contacts{{URI: "sip:a@b;transport=tcp", Q: "0.5", Expires: -12, Permanent: true}, {URI: "sip:c@d", Expires: 5}}},
		{name: "garbage skipped", text: "200 OK\nhello\n", want: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := parseShowContact(body(tc.text)); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

const dumpText = `200 ok
===Domain list===
---Domain---
name : 'aliases'
size : 512
table: 0x1002
d_ll {
    n    : 1
    first: 0x100c
    last : 0x100c
}

...Record(0x100c)...
domain: 'aliases'
aor   : '8885551192'
~~~Contact(0x100b)~~~
domain    : 'aliases'
aor       : '8885551192'
Contact   : 'sip:john.doe@foo.bar'
Expires   : -5
q         : 1
Call-ID   : 'The-Answer-To-The-Ultimate-Question-Of-Life-Universe-And-Everything'
CSeq      : 42
replic    : 0
User-Agent: 'SIP Express Router FIFO'
received  : ''
State     : CS_NEW
Flags     : 128
next      : (nil)
prev      : (nil)
~~~/Contact~~~~
.../Record...

---/Domain---
---Domain---
name : 'location'
size : 512
table: 0x1001
d_ll {
    n    : 1
    first: 0x1005
    last : 0x1005
}

...Record(0x1005)...
domain: 'location'
aor   : 'john'
~~~Contact(0x1007)~~~
domain    : 'location'
aor       : 'john'
Contact   : 'sip:john@192.168.1.20:5062;transport=tcp'
Expires   : 1695
q         : 1
Call-ID   : 'abc@host'
CSeq      : 7
replic    : 0
User-Agent: 'Linphone/3.0 (it's)'
received  : 'sip:1.2.3.4:5060'
State     : CS_NEW
Flags     : 0
next      : (nil)
prev      : (nil)
~~~/Contact~~~~
.../Record...

---/Domain---
===/Domain list===
`

func TestParseDump(t *testing.T) {
	got, err := parseDump(body(dumpText))
	if err != nil {
		t.Fatal(err)
	}
	want := Dump{
		{ID: 0x1002, Size: 512, Name: "aliases", Records: []Record{{ID: 0x100c, AOR: "8885551192", Contacts: []Contact{{ID: 0x100b,
			URI: "sip:john.doe@foo.bar", Q: "1", Expires: -5, Permanent: true, Flags: 128, CSeq: 42, State: "CS_NEW",
			CallID: "The-Answer-To-The-Ultimate-Question-Of-Life-Universe-And-Everything", UserAgent: "SIP Express Router FIFO"}}}}},
		{ID: 0x1001, Size: 512, Name: "location", Records: []Record{{ID: 0x1005, AOR: "john", Contacts: []Contact{{ID: 0x1007,
			URI: "sip:john@192.168.1.20:5062;transport=tcp", Q: "1", Expires: 1695, CallID: "abc@host", CSeq: 7,
			UserAgent: "Linphone/3.0 (it's)", Received: "sip:1.2.3.4:5060", State: "CS_NEW"}}}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	// The text renders back byte for byte.
	if text := rpc.Typed("200 ok", got).Text; text != dumpText {
		t.Errorf("rendered:\n%s\nwant:\n%s", text, dumpText)
	}
	if _, err := parseDump(body("200 ok\n...Record(0x1)...\n")); err == nil {
		t.Error("record outside a domain accepted")
	}
	if _, err := parseDump(body("200 ok\n---Domain---\n~~~Contact(0x1)~~~\n")); err == nil {
		t.Error("contact outside a record accepted")
	}
}

func TestParseStats(t *testing.T) {
	ts := parseTStats(body("200 ok\nCurrent: 3 (1 waiting) Total: 120 (7 local)       \nReplied localy: 4      \n" +
		"Completion status 6xx: 1, 5xx: 2, 4xx: 3, 3xx: 4,2xx: 5      \n"))
	want := TStats{Current: 3, Waiting: 1, Total: 120, Local: 7, RepliedLocally: 4, Completed: [5]uint64{5, 4, 3, 2, 1}}
	if ts != want {
		t.Errorf("t_stats %+v, want %+v", ts, want)
	}
	sl := parseSLStats(body("200 ok\n200: 10 202: 0 2xx: 11      \n300: 0 301: 0 302: 1 3xx: 1      \n" +
		"400: 0 401: 5 403: 0 404: 2 407: 0 408: 0 483: 0 4xx: 7      \n500: 1 5xx: 1      \n6xx: 0      \nxxx: 0      \nfailures: 3      \n"))
	if sl.R200 != 10 || sl.R2xx != 11 || sl.R401 != 5 || sl.Failures != 3 || sl.Replies() != 39 {
		t.Errorf("sl_stats %v (replies %d)", sl, sl.Replies())
	}
	ul := parseULStats(body("200 ok\nDomain Registered Expired\n'aliases' 1 0\n'location' 42 3\n"))
	if !reflect.DeepEqual(ul, ULStats{{Table: "aliases", Registered: 1}, {Table: "location", Registered: 42, Expired: 3}}) {
		t.Errorf("ul_stats %+v", ul)
	}
	up := parseUptime(body("200 ok\nNow: Fri Dec  6 17:56:10 2002\nUp Since: Fri Dec  6 17:56:07 2002\nUp time: 3 [sec]\n"))
	if up != (Uptime{Now: "Fri Dec  6 17:56:10 2002", Since: "Fri Dec  6 17:56:07 2002", Seconds: 3}) {
		t.Errorf("uptime %+v", up)
	}
	if v := parseVersion(body("200 ok\nServer: Sip EXpress router (0.9.6 (i386/linux))\r\n")); v.Server != "Sip EXpress router (0.9.6 (i386/linux))" {
		t.Errorf("version %q", v)
	}
}

func TestBodyLines(t *testing.T) {
	tests := []struct {
		name, body string
		want       []string
	}{
		{name: "empty", body: "", want: nil},
		{name: "plain", body: "hello\r\nworld\r\n", want: []string{"hello", "world"}},
		{name: "dot escaped", body: "a\n.\nb\n.  \n", want: []string{"a", " .", "b", " ."}},
		{name: "dots kept", body: "..\n. x", want: []string{"..", ". x"}},
		{name: "blank lines kept", body: "a\n\nb", want: []string{"a", "", "b"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := BodyLines(tc.body); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %q want %q", got, tc.want)
			}
		})
	}
}

// TestMessageParamsFraming reads messageParams the way t_uac_dlg does
// (rpc.Lines: line, line, line, header set, body) and checks that no body
// line ends the body early.
func TestMessageParamsFraming(t *testing.T) {
	m := Message{From: "sip:alice@example.com", To: "sip:bob@example.com", Body: "hi\n.\nbye"}
	p := rpc.Lines(messageParams(m))
	var first []string
	for range 3 {
		l, _ := p.Line()
		first = append(first, l)
	}
	if !reflect.DeepEqual(first, []string{"MESSAGE", "sip:bob@example.com", "."}) {
		t.Fatalf("first lines %q", first)
	}
	hdrs, _ := p.LineSet()
	if want := []string{"From: <sip:alice@example.com>", "To: <sip:bob@example.com>", "Content-Type: text/plain; charset=UTF-8"}; !reflect.DeepEqual(hdrs, want) {
		t.Errorf("headers %q", hdrs)
	}
	b, _ := p.Body()
	if strings.Join(b, "|") != "hi| .|bye" {
		t.Errorf("body %q", b)
	}
	if l, ok := p.Line(); ok {
		t.Errorf("left over %q", l)
	}
}

func TestErrors(t *testing.T) {
	e := &Error{Cmd: "ul_add", Code: 400, Reason: "Table 'aliases' not found in memory, use save(\"aliases\")"}
	if !IsNoTable(e) || Code(e) != 400 || IsNotAvailable(e) {
		t.Errorf("classification of %v", e)
	}
	if !IsNoTable(&Error{Code: 400, Reason: "table (x) not found"}) {
		t.Error("ul_show_contact's wording")
	}
	if !IsNotAvailable(&Error{Code: 500, Reason: "command 't_stats' not available"}) {
		t.Error("not available")
	}
	if e.Error() != `ser: ul_add: 400 Table 'aliases' not found in memory, use save("aliases")` {
		t.Errorf("message %q", e.Error())
	}
}

// TestTextRoundTrip: every result type's text parses back to the value,
// and the status line is the one given.
func TestTextRoundTrip(t *testing.T) {
	values := []rpc.Body{
		Contacts{{URI: "sip:a@b;transport=tcp", Q: "0.5", Expires: 60}, {URI: "sip:c@d", Q: "1", Expires: -3, Permanent: true}},
		Dump{{ID: 2, Name: "location", Size: 512}, {ID: 1, Name: "aliases", Size: 512, Records: []Record{
			{ID: 7, AOR: "bob", Contacts: []Contact{
				{ID: 8, URI: "sip:bob@1.2.3.4", Q: "0.5", Expires: -20, CallID: "c1", CSeq: 3, UserAgent: "x 'y'", Received: "sip:5.6.7.8:5060", State: "CS_SYNC", Flags: 1, Replicate: 4294967295},
				{ID: 9, URI: "sip:bob@5.6.7.8", Q: "", Expires: 3600, Permanent: true, Flags: 128 | 1, State: "CS_NEW"},
			}},
			{ID: 10, AOR: "empty"},
		}}},
		TStats{Current: 1, Waiting: 2, Total: 3, Local: 4, RepliedLocally: 5, Completed: [5]uint64{6, 7, 8, 9, 10}},
		SLStats{R200: 1, R202: 2, R2xx: 3, R300: 4, R301: 5, R302: 6, R3xx: 7, R400: 8, R401: 9, R403: 10, R404: 11,
			R407: 12, R408: 13, R483: 14, R4xx: 15, R500: 16, R5xx: 17, R6xx: 18, Rxxx: 19, Failures: 20},
		ULStats{{Table: "aliases", Registered: 1}, {Table: "location", Registered: 42, Expired: 3}},
		CoreStats{{"requests", 12}, {"tcp_connections", 0}},
		Uptime{Now: "Fri Dec  6 17:56:10 2002", Since: "Fri Dec  6 17:56:07 2002", Seconds: 3},
		Version{Server: "Sip EXpress router (0.9.6 (i386/linux))"},
	}
	for _, v := range values {
		t.Run(reflect.TypeOf(v).Name(), func(t *testing.T) {
			rep := rpc.Typed("200 OK", v)
			if rep.Code != 200 || rep.Reason() != "OK" || rep.Value == nil {
				t.Fatalf("reply %+v", rep)
			}
			text := rpc.Raw(rep.Text) // as a transport delivers it
			var got any
			switch v.(type) {
			case Contacts:
				got = AsContacts(text)
			case Dump:
				got, _ = AsDump(text)
			case TStats:
				got = AsTStats(text)
			case SLStats:
				got = AsSLStats(text)
			case ULStats:
				got = AsULStats(text)
			case CoreStats:
				got = AsCoreStats(text)
			case Uptime:
				got = AsUptime(text)
			case Version:
				got = AsVersion(text)
			}
			if !reflect.DeepEqual(got, v) {
				t.Errorf("parsed %+v\nwant   %+v\ntext:\n%s", got, v, rep.Text)
			}
		})
	}
}

func TestParseDSList(t *testing.T) {
	got := parseDSList([]string{"SET_NO:: 2", "SET:: 1", "\tURI:: sip:10.0.0.1:5060 flags=AP priority=5",
		"\tURI:: sip:10.0.0.2:5060 flags=IX priority=0", "SET:: 7", "\tURI:: sip:gw.example.com flags=DX priority=1", "junk"})
	want := DSList{{1, []DSDest{{URI: "sip:10.0.0.1:5060", State: "A", Probing: true, Priority: 5}, {URI: "sip:10.0.0.2:5060", State: "I"}}},
		{7, []DSDest{{URI: "sip:gw.example.com", State: "D", Priority: 1}}}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("parseDSList = %+v", got)
	}
	// The value writes the text it was read from (but the set count).
	var b strings.Builder
	want.WriteBody(&b)
	if b.String() != "SET_NO:: 2\nSET:: 1\n\tURI:: sip:10.0.0.1:5060 flags=AP priority=5\n\tURI:: sip:10.0.0.2:5060 flags=IX priority=0\nSET:: 7\n\tURI:: sip:gw.example.com flags=DX priority=1\n" {
		t.Errorf("DSList text:\n%s", b.String())
	}
}
