package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"ser/core/store"
)

// cmdACL is "acl show [<user>]", "acl grant <user> <group>…" and
// "acl revoke <user> [<group>]" on the grp table (the group module's
// is_user_in reads it).
func (a *app) cmdACL(ctx context.Context, args []string) error {
	if len(args) < 1 {
		return usagef("acl: too few parameters")
	}
	switch sub := args[0]; {
	case sub == "show" && len(args) <= 2:
		st, err := a.store(ctx)
		if err != nil {
			return err
		}
		user, dom := "", ""
		if len(args) == 2 {
			if user, dom, err = a.setUser(args[1]); err != nil {
				return err
			}
			if ok, err := a.isUser(ctx, st, user, dom); err != nil {
				return err
			} else if !ok {
				return errNoUser
			}
		}
		return a.showACL(ctx, st, user, dom)
	case sub == "grant" && len(args) >= 3:
		user, dom, err := a.setUser(args[1])
		if err != nil {
			return err
		}
		st, err := a.store(ctx)
		if err != nil {
			return err
		}
		if ok, err := a.isUser(ctx, st, user, dom); err != nil {
			return err
		} else if !ok {
			return errNoUser
		}
		for _, grp := range args[2:] {
			if a.cfg.verifyACL && !slices.Contains(a.cfg.aclGroups, grp) {
				a.warnf("Invalid privilege: %s ignored", grp)
				continue
			}
			err := st.Grant(ctx, user, dom, grp)
			if errors.Is(err, store.ErrExists) {
				return fmt.Errorf("%s@%s is a member of %s already", user, dom, grp)
			}
			if err != nil {
				return fmt.Errorf("SQL Error: %w", err)
			}
		}
		return a.showACL(ctx, st, user, dom)
	case sub == "revoke" && (len(args) == 2 || len(args) == 3):
		user, dom, err := a.setUser(args[1])
		if err != nil {
			return err
		}
		st, err := a.store(ctx)
		if err != nil {
			return err
		}
		grp := ""
		if len(args) == 3 {
			grp = args[2]
		}
		// As SER: revoking what is not granted is not an error; the
		// listing that follows shows the state.
		if err := st.Revoke(ctx, user, dom, grp); err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("SQL Error: %w", err)
		}
		return a.showACL(ctx, st, user, dom)
	case sub == "show" || sub == "grant" || sub == "revoke":
		return usagef("acl %s: wrong number of parameters", sub)
	default:
		return usagef("acl: unknown subcommand %q", sub)
	}
}

// showACL prints "select * from grp [where username and domain]".
func (a *app) showACL(ctx context.Context, st *store.Store, user, dom string) error {
	ms, err := st.Memberships(ctx, user, dom)
	if err != nil {
		return err
	}
	writeACL(a.stdout, ms)
	return nil
}

// writeACL prints grp rows with the table's columns.
func writeACL(w io.Writer, ms []store.Membership) {
	t := newTable("username", "domain", "grp", "last_modified")
	for _, m := range ms {
		t.add(m.Username, m.Domain, m.Group, sqlTime(m.LastModified))
	}
	t.write(w)
}

// cmdDomain is "domain show" (domain_dump), "domain add <d>" and
// "domain rm <d>" (the domain table, then domain_reload).
func (a *app) cmdDomain(ctx context.Context, args []string) error {
	switch {
	case len(args) == 1 && args[0] == "show":
		return a.fifoPrint(ctx, "domain_dump")
	case len(args) == 2 && (args[0] == "add" || args[0] == "rm"):
		st, err := a.store(ctx)
		if err != nil {
			return err
		}
		if args[0] == "add" {
			err = st.AddDomain(ctx, args[1])
			if errors.Is(err, store.ErrExists) {
				return fmt.Errorf("domain %s exists already", args[1])
			}
		} else {
			err = st.DeleteDomain(ctx, args[1])
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("domain %s not found", args[1])
			}
		}
		if err != nil {
			return err
		}
		err = a.fifoPrint(ctx, "domain_reload")
		if errors.Is(err, errFIFOUnavailable) {
			a.warnf("domain table changed, but not reloaded: ser is not running (it loads the table when it starts)")
			return nil
		}
		return err
	default:
		return usagef("domain: show, add <domainname> or rm <domainname> expected")
	}
}

// cmdShowDB is "showdb|userdb [<user>]": the user's e-mail and location
// rows, or every location row joined with its subscriber, then SER's note
// that the server's cache may differ.
func (a *app) cmdShowDB(ctx context.Context, args []string) error {
	if len(args) > 1 {
		return usagef("showdb: [<username>] expected")
	}
	st, err := a.store(ctx)
	if err != nil {
		return err
	}
	if len(args) == 1 {
		user, dom, err := a.setUser(args[0])
		if err != nil {
			return err
		}
		u, err := st.Subscriber(ctx, user, dom)
		if err = noUser(err); err != nil {
			return err
		}
		t := newTable("email_address")
		t.add(u.Email)
		t.write(a.stdout)
		if err := a.showLocation(ctx, st, user); err != nil {
			return err
		}
	} else if err := a.showOnlineDB(ctx, st); err != nil {
		return err
	}
	fmt.Fprintln(a.stdout, "Note: Due to usage of cache, server's list may differ from DB list.")
	return nil
}

// showLocation prints "select location.* from location where username=…
// order by expires desc".
func (a *app) showLocation(ctx context.Context, st *store.Store, user string) error {
	cs, err := st.UserContacts(ctx, a.cfg.ulTable, user)
	if err != nil {
		return err
	}
	t := newTable("username", "domain", "contact", "received", "expires", "q>", "callid", "cseq>",
		"last_modified", "replicate>", "state>", "flags>", "user_agent")
	for _, c := range cs {
		t.add(c.Username, c.Domain, c.Contact, nullable(c.Received), sqlTime(c.Expires),
			fmt.Sprintf("%.2f", c.Q), c.CallID, fmt.Sprint(c.CSeq), sqlTime(c.LastModified),
			fmt.Sprint(c.Replicate), fmt.Sprint(c.State), fmt.Sprint(c.Flags), c.UserAgent)
	}
	t.write(a.stdout)
	return nil
}

// showOnlineDB prints the location rows of subscribers with their e-mail
// address (SER: username, email_address, callid).
func (a *app) showOnlineDB(ctx context.Context, st *store.Store) error {
	us, err := st.OnlineUsers(ctx, a.cfg.ulTable)
	if err != nil {
		return err
	}
	t := newTable("username", "domain", "email_address", "callid")
	for _, u := range us {
		t.add(u.Username, u.Domain, u.Email, u.CallID)
	}
	t.write(a.stdout)
	return nil
}
