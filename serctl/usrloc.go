package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"ser/core/rpc/sercmd"
)

// Permanent contacts, as SER 0.9's serctl adds them: expires 0, q 1.00,
// replicate 0, flags FL_PERMANENT (128).
const (
	permExpires   = "0"
	permQ         = "1.00"
	permReplicate = "0"
	permFlags     = "128"
)

// cmdUsrloc is "alias …" (table aliases) and "ul …" (table location):
// show [<user>], add <user> <uri>, rm <user> — all through the FIFO, so
// the server's memory is what changes.
func (a *app) cmdUsrloc(ctx context.Context, table string, alias bool, args []string) error {
	name := "ul"
	if alias {
		name = "alias"
	}
	if len(args) < 1 {
		return usagef("%s: too few parameters", name)
	}
	switch sub := args[0]; {
	case sub == "show" && len(args) == 2:
		user, dom, err := a.setUser(args[1])
		if err != nil {
			return err
		}
		return a.fifoPrint(ctx, "ul_show_contact", table, user+"@"+dom)
	case sub == "show" && len(args) == 1:
		if !a.confirm("Dumping all contacts may take long: are you sure you want to proceed? [Y|N] ") {
			return nil
		}
		return a.fifoPrint(ctx, "ul_dump")
	case sub == "add" && len(args) == 3:
		user, dom, err := a.setUser(args[1])
		if err != nil {
			return err
		}
		uri := args[2]
		if err := a.checkURI(uri); err != nil {
			return err
		}
		if alias {
			st, err := a.store(ctx)
			if err != nil {
				return err
			}
			if ok, err := a.isUser(ctx, st, user, dom); err != nil {
				return err
			} else if ok {
				return fmt.Errorf("overlap of alias with an existing subscriber name: %s@%s", user, dom)
			}
			if isAlias, err := a.checkAlias(ctx, user, dom, false); err != nil {
				return err
			} else if isAlias {
				return fmt.Errorf("alias %s@%s exists already (serctl alias rm %s@%s first)", user, dom, user, dom)
			}
		}
		return a.fifoPrint(ctx, "ul_add", table, user+"@"+dom, uri, permExpires, permQ, permReplicate, permFlags)
	case sub == "rm" && len(args) == 2:
		user, dom, err := a.setUser(args[1])
		if err != nil {
			return err
		}
		return a.fifoPrint(ctx, "ul_rm", table, user+"@"+dom)
	case sub == "show" || sub == "add" || sub == "rm":
		return usagef("%s %s: wrong number of parameters", name, sub)
	default:
		return usagef("%s: unknown subcommand %q", name, sub)
	}
}

// confirm asks a yes/no question on stderr and reads the answer from
// stdin; only "y" or "Y" is a yes.
func (a *app) confirm(question string) bool {
	fmt.Fprint(a.stderr, question)
	line, err := bufio.NewReader(a.stdin).ReadString('\n')
	if err != nil && line == "" {
		fmt.Fprintln(a.stderr)
	}
	answer := strings.TrimSpace(line)
	return answer == "y" || answer == "Y"
}

// cmdOnline is "online": ul_dump | grep aor | awk '{print $3}' | sort -u —
// the AOR of every record in the server's memory, all tables, quoted as
// ul_dump prints them. SER's grep matched "aor" anywhere in a line, which
// also caught contacts and user agents containing it; the dump is read
// here as records (sercmd.AsDump).
func (a *app) cmdOnline(ctx context.Context, args []string) error {
	if len(args) != 0 {
		return usagef("online takes no parameters")
	}
	rep, err := a.fifoCmd(ctx, "ul_dump")
	if err != nil {
		return err
	}
	if rep.Code >= 300 {
		io.WriteString(a.stdout, filterFL(rep.Text))
		return replyStatus(rep)
	}
	dump, err := sercmd.AsDump(rep)
	if err != nil {
		return err
	}
	var aors []string
	for _, t := range dump {
		for _, r := range t.Records {
			aors = append(aors, "'"+r.AOR+"'")
		}
	}
	slices.Sort(aors)
	for _, v := range slices.Compact(aors) {
		fmt.Fprintln(a.stdout, v)
	}
	return nil
}
