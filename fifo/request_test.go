package fifo_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"ser/fifo"
)

func TestParseFIFO(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		want  *fifo.Request
		error error
	}{
		{name: "serctl request", in: ":ul_rm:ser_receiver_42\nlocation\nbob\n\n",
			want: &fifo.Request{Cmd: "ul_rm", Reply: "ser_receiver_42", Lines: []string{"location", "bob"}}},
		{name: "no reply name", in: ":ps:\n\n", want: &fifo.Request{Cmd: "ps", Lines: []string{}}},
		{name: "leading empty lines", in: "\n \n:ps:r\n", want: &fifo.Request{Cmd: "ps", Reply: "r", Lines: []string{}}},
		{name: "only one terminator dropped", in: ":print:r\n\n\n", want: &fifo.Request{Cmd: "print", Reply: "r", Lines: []string{""}}},
		{name: "lines right-trimmed", in: ":echo:r \r\n a \t\r\n\r\n", want: &fifo.Request{Cmd: "echo", Reply: "r", Lines: []string{" a"}}},
		{name: "colon in reply name", in: ":ps:a:b\n", want: &fifo.Request{Cmd: "ps", Reply: "a:b", Lines: []string{}}},
		{name: "longest first line", in: ":p:" + strings.Repeat("r", 507) + "\n",
			want: &fifo.Request{Cmd: "p", Reply: strings.Repeat("r", 507), Lines: []string{}}},
		{name: "longest first line with CRLF", in: ":p:" + strings.Repeat("r", 507) + "\r\n",
			want: &fifo.Request{Cmd: "p", Reply: strings.Repeat("r", 507), Lines: []string{}}},
		{name: "first line too long", in: ":p:" + strings.Repeat("r", 508) + "\n", error: fifo.ErrMalformed},
		{name: "empty", in: "\n\n", error: fifo.ErrMalformed},
		{name: "short", in: ":a\n", error: fifo.ErrMalformed},
		{name: "no leading colon", in: "ps:r\n", error: fifo.ErrMalformed},
		{name: "no separator", in: ":ps\n", error: fifo.ErrMalformed},
		{name: "empty command", in: "::r\n", error: fifo.ErrMalformed},
		{name: "dot in reply name", in: ":ps:a.b\n", error: fifo.ErrForbiddenReply},
		{name: "slash in reply name", in: ":ps:/etc/passwd\n", error: fifo.ErrForbiddenReply},
		{name: "backslash in reply name", in: ":ps:a\\b\n", error: fifo.ErrForbiddenReply},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := fifo.ParseFIFO([]byte(tt.in))
			if tt.error != nil {
				if !errors.Is(err, tt.error) {
					t.Fatalf("err = %v, want %v", err, tt.error)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestParseDatagram(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		want  *fifo.Request
		error error
	}{
		{name: "sc_unixsock request", in: ":ul_rm:\nlocation\nbob\n\n",
			want: &fifo.Request{Cmd: "ul_rm", Lines: []string{"location", "bob"}}},
		{name: "reply name ignored", in: ":ps:whatever\n", want: &fifo.Request{Cmd: "ps"}},
		{name: "CR filtered", in: ":ps:\r\na\r\rb\r\n", want: &fifo.Request{Cmd: "ps", Lines: []string{"ab"}}},
		{name: "empty command", in: "::\n", want: &fifo.Request{Cmd: ""}},
		{name: "no line feed", in: ":ps:", want: &fifo.Request{Cmd: "ps"}},
		{name: "leading empty line", in: "\n:ps:\n", error: fifo.ErrMalformed},
		{name: "short", in: ":p", error: fifo.ErrMalformed},
		{name: "no closing colon", in: ":ps\n:\n", error: fifo.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := fifo.ParseDatagram([]byte(tt.in))
			if tt.error != nil {
				if !errors.Is(err, tt.error) {
					t.Fatalf("err = %v, want %v", err, tt.error)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func FuzzParseFIFO(f *testing.F) {
	for _, s := range []string{":ps:r\n\n", ":t_uac_dlg:r\nMESSAGE\nsip:a@b\n.\nFrom: a\n.\nhi\n.\n\n", "\n", "::", ":a:b.c"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := fifo.ParseFIFO(b)
		if err != nil {
			return
		}
		if req.Cmd == "" || strings.ContainsAny(req.Reply, `./\`) {
			t.Fatalf("accepted %q as %#v", b, req)
		}
		for _, l := range req.Lines {
			if strings.ContainsAny(l, "\n") || strings.TrimRight(l, "\r\n \t") != l {
				t.Fatalf("untrimmed line %q", l)
			}
		}
	})
}

func FuzzParseDatagram(f *testing.F) {
	for _, s := range []string{":ps:\n", ":sets:\nM\nA\n.\nb\n.\n", "x", "::"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := fifo.ParseDatagram(b)
		if err != nil {
			return
		}
		for _, l := range append([]string{req.Cmd}, req.Lines...) {
			if strings.ContainsAny(l, "\r\n") {
				t.Fatalf("line with CR/LF %q", l)
			}
		}
	})
}
