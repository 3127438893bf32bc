package sercmd

import (
	"fmt"
	"strings"
)

// Commands is which's result: the command names, newest registration
// first, as SER printed them.
type Commands []string

// WriteBody writes one name a line.
func (c Commands) WriteBody(b *strings.Builder) {
	for _, n := range c {
		b.WriteString(n)
		b.WriteByte('\n')
	}
}

// Process is one entry of ps.
type Process struct {
	Index int    `json:"index"`
	PID   int    `json:"pid"`
	Desc  string `json:"desc"`
}

// Processes is ps' result.
type Processes []Process

// WriteBody writes "index<TAB>pid<TAB>description" a line (SER's ps).
func (ps Processes) WriteBody(b *strings.Builder) {
	for _, p := range ps {
		fmt.Fprintf(b, "%d\t%d\t%s\n", p.Index, p.PID, p.Desc)
	}
}
