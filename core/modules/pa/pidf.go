package pa

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"sort"
	"strconv"
	"strings"
)

// The event packages and their document types.
const (
	pkgPresence = "presence"
	pkgWinfo    = "presence.winfo"
	ctPIDF      = "application/pidf+xml"
	ctWinfo     = "application/watcherinfo+xml"
)

// winfoDocument prints the watcher information document (RFC 3858) of
// p's presence subscriptions, full state, with version.
func winfoDocument(p *presentity, version int) string {
	var ws []*watcher
	for _, w := range p.watchers {
		if w.Package == pkgPresence {
			ws = append(ws, w)
		}
	}
	sort.Slice(ws, func(i, j int) bool { return ws[i].SID < ws[j].SID })
	var b strings.Builder
	b.WriteString("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n")
	b.WriteString("<watcherinfo xmlns=\"urn:ietf:params:xml:ns:watcherinfo\" version=\"" + strconv.Itoa(version) + "\" state=\"full\">\r\n")
	b.WriteString("<watcher-list resource=\"" + esc(p.uri) + "\" package=\"presence\">\r\n")
	for _, w := range ws {
		b.WriteString("<watcher id=\"" + esc(w.SID) + "\" event=\"subscribe\" status=\"active\"")
		if w.DisplayName != "" {
			b.WriteString(" display-name=\"" + esc(w.DisplayName) + "\"")
		}
		b.WriteString(">" + esc(w.WURI) + "</watcher>\r\n")
	}
	b.WriteString("</watcher-list>\r\n</watcherinfo>\r\n")
	return b.String()
}

// pidfDocument prints a PIDF document (RFC 3863) with one tuple per
// publication, in a stable order.
func pidfDocument(entity string, pubs []publication) string {
	sort.Slice(pubs, func(i, j int) bool {
		if pubs[i].seq != pubs[j].seq {
			return pubs[i].seq < pubs[j].seq
		}
		return pubs[i].tupleID < pubs[j].tupleID
	})
	var b strings.Builder
	b.WriteString("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n")
	b.WriteString("<presence xmlns=\"urn:ietf:params:xml:ns:pidf\" entity=\"" + esc(entity) + "\">\r\n")
	for _, p := range pubs {
		id := p.tupleID
		if id == "" {
			id = "t" + p.etag
		}
		b.WriteString("<tuple id=\"" + esc(id) + "\">\r\n")
		b.WriteString("<status><basic>" + string(p.basic) + "</basic></status>\r\n")
		if p.contact != "" {
			b.WriteString("<contact>" + esc(p.contact) + "</contact>\r\n")
		}
		if p.note != "" {
			b.WriteString("<note>" + esc(p.note) + "</note>\r\n")
		}
		b.WriteString("</tuple>\r\n")
	}
	b.WriteString("</presence>\r\n")
	return b.String()
}

func esc(s string) string {
	var b bytes.Buffer
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

// pidfState is what pa keeps of a published PIDF document: the first
// tuple's id, the basic state (open when any tuple is open), the first
// note and contact. RPID's <rpid:away/> and friends make a note when the
// document has none.
type pidfState struct {
	tupleID, note, contact string
	basic                  Basic
}

// parsePIDF reads a PIDF (or cpim-pidf) document.
func parsePIDF(doc []byte) (pidfState, error) {
	var st pidfState
	dec := xml.NewDecoder(bytes.NewReader(doc))
	dec.Strict = false
	var path []string
	sawPresence, sawBasic := false, false
	activity := ""
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return st, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			name := t.Name.Local
			if len(path) == 0 {
				if name != "presence" {
					return st, errors.New("root element is not presence")
				}
				sawPresence = true
			}
			if name == "tuple" && st.tupleID == "" {
				for _, a := range t.Attr {
					if a.Name.Local == "id" {
						st.tupleID = a.Value
					}
				}
			}
			if len(path) > 0 && path[len(path)-1] == "activities" && activity == "" {
				activity = name
			}
			path = append(path, name)
		case xml.EndElement:
			if len(path) > 0 {
				path = path[:len(path)-1]
			}
		case xml.CharData:
			if len(path) == 0 {
				continue
			}
			text := strings.TrimSpace(string(t))
			switch path[len(path)-1] {
			case "basic":
				sawBasic = true
				if strings.EqualFold(text, "open") {
					st.basic = Open
				} else if st.basic == "" {
					st.basic = Closed
				}
			case "note":
				if st.note == "" {
					st.note = text
				}
			case "contact":
				if st.contact == "" && len(path) >= 2 && path[len(path)-2] == "tuple" {
					st.contact = text
				}
			}
		}
	}
	if !sawPresence {
		return st, errors.New("no presence element")
	}
	if !sawBasic {
		st.basic = Closed
	}
	if st.note == "" && activity != "" && activity != "unknown" {
		st.note = activity
	}
	return st, nil
}
