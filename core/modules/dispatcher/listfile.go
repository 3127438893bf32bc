package dispatcher

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// listFormat is the line format named in error messages.
const listFormat = "setid destination [flags [priority]]"

// parseList parses a dispatcher list file (Kamailio's format): one
// destination per line, "setid destination [flags [priority]]", fields
// separated by spaces or tabs; empty lines and everything from a "#" that
// starts a field are ignored. Every bad line is reported, as
// "name:line:col: message".
func parseList(name string, data []byte) ([]entry, error) {
	var (
		entries []entry
		errs    []error
	)
	for i, line := range bytes.Split(data, []byte("\n")) {
		ln := i + 1
		fields, cols := splitFields(strings.TrimRight(string(line), "\r"))
		if len(fields) == 0 {
			continue
		}
		fail := func(f int, format string, a ...any) {
			errs = append(errs, fmt.Errorf("%s:%d:%d: %s", name, ln, cols[f], fmt.Sprintf(format, a...)))
		}
		if len(fields) < 2 {
			fail(0, "missing destination (the format is: %s)", listFormat)
			continue
		}
		if len(fields) > 4 {
			fail(4, "unexpected field %q (the format is: %s)", fields[4], listFormat)
			continue
		}
		setID, err := strconv.Atoi(fields[0])
		if err != nil || setID < 0 {
			fail(0, "bad set id %q: want a number >= 0", fields[0])
			continue
		}
		flags, priority := 0, 0
		if len(fields) > 2 {
			if flags, err = strconv.Atoi(fields[2]); err != nil {
				fail(2, "bad flags %q: want a number", fields[2])
				continue
			}
		}
		if len(fields) > 3 {
			if priority, err = strconv.Atoi(fields[3]); err != nil {
				fail(3, "bad priority %q: want a number", fields[3])
				continue
			}
		}
		e, err := newEntry(setID, fields[1], flags, priority)
		if err != nil {
			col := 1
			if strings.HasPrefix(err.Error(), "flags") {
				col = 2
			}
			fail(col, "%v", err)
			continue
		}
		e.pos = fmt.Sprintf("%s:%d", name, ln)
		entries = append(entries, e)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("dispatcher: list file: %w", errors.Join(errs...))
	}
	return entries, nil
}

// splitFields splits a line at spaces and tabs, dropping a comment (a
// field starting with "#" and the rest of the line), and returns each
// field with its 1-based column.
func splitFields(line string) ([]string, []int) {
	var (
		fields []string
		cols   []int
	)
	i := 0
	for i < len(line) {
		for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
			i++
		}
		if i >= len(line) || line[i] == '#' {
			break
		}
		start := i
		for i < len(line) && line[i] != ' ' && line[i] != '\t' {
			i++
		}
		fields = append(fields, line[start:i])
		cols = append(cols, start+1)
	}
	return fields, cols
}
