package sercmd

import (
	"fmt"
	"strings"

	"ser/core/rpc"
)

// DSList is dispatcher's ds_list result: the destination sets by
// ascending id (DSSet, DSDest in console.go).
type DSList []DSSet

// WriteBody writes "SET_NO:: n", then per set "SET:: id" and a
// tab-indented "URI:: uri flags=XY priority=n" per destination
// (Kamailio's MI tree as the FIFO prints it).
func (l DSList) WriteBody(b *strings.Builder) {
	fmt.Fprintf(b, "SET_NO:: %d\n", len(l))
	for _, s := range l {
		fmt.Fprintf(b, "SET:: %d\n", s.ID)
		for _, d := range s.Dests {
			p := "X"
			if d.Probing {
				p = "P"
			}
			fmt.Fprintf(b, "\tURI:: %s flags=%s%s priority=%d\n", d.URI, d.State, p, d.Priority)
		}
	}
}

// AsDSList returns ds_list's result from its 200 reply.
func AsDSList(rep *rpc.Reply) DSList { return typed(rep, parseDSList) }

// LCRGateways is lcr's lcr_dump result: the gateways in memory by name.
type LCRGateways []LCRGateway

// LCRGateway is one gateway of lcr_dump.
type LCRGateway struct {
	Name    string `json:"name"`
	GroupID int    `json:"group_id"`
	// URI is the gateway as SER's print_gws wrote it: "sip:" or "sips:",
	// the address, ":port" when set, ":udp"/":tcp"/":tls" when a
	// transport is set.
	URI    string `json:"uri"`
	IP     string `json:"ip"`
	Port   int    `json:"port,omitempty"`
	Scheme string `json:"scheme"`
	// Transport is "udp", "tcp", "tls" or "" when not set.
	Transport string `json:"transport,omitempty"`
	Prefix    string `json:"prefix,omitempty"`
}

// WriteBody writes one URI a line (SER's print_gws).
func (g LCRGateways) WriteBody(b *strings.Builder) {
	for _, gw := range g {
		b.WriteString(gw.URI)
		b.WriteByte('\n')
	}
}
