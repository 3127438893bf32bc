package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"ser/core/store"
)

// errNoUser is SER's "non-existent user".
var errNoUser = errors.New("non-existent user")

// noUser turns the store's "not found" into SER's "non-existent user".
func noUser(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return errNoUser
	}
	return err
}

// setUser is SER 0.9's set_user: "user" or "user@domain"; the domain
// defaults to SIP_DOMAIN, else to the host name in lower case (the web
// console's and the built-in default config's domain; SER's serctl
// required SIP_DOMAIN), and is the digest realm of the user's
// credentials.
func (a *app) setUser(arg string) (user, domain string, err error) {
	user, domain, _ = strings.Cut(arg, "@")
	if domain == "" {
		domain = a.cfg.domain
	}
	if domain == "" {
		hostname := a.hostname
		if hostname == nil {
			hostname = os.Hostname
		}
		domain = store.DomainOfHost(hostname)
	}
	if user == "" || strings.ContainsAny(arg, "\r\n") {
		return "", "", fmt.Errorf("invalid user name %q", arg)
	}
	return user, domain, nil
}

// isUser is SER's is_user: does the subscriber exist?
func (a *app) isUser(ctx context.Context, st *store.Store, user, domain string) (bool, error) {
	_, err := st.Subscriber(ctx, user, domain)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, store.ErrNotFound):
		return false, nil
	default:
		return false, err
	}
}

// cmdAdd is "add <user> <password> <email>": credentials, the user must
// not exist, check_alias, then the subscriber and uri rows.
func (a *app) cmdAdd(ctx context.Context, args []string) error {
	if len(args) != 3 {
		return usagef("add: <username> <password> <email> expected")
	}
	user, dom, err := a.setUser(args[0])
	if err != nil {
		return err
	}
	pw, email := args[1], args[2]
	st, err := a.store(ctx)
	if err != nil {
		return err
	}
	if ok, err := a.isUser(ctx, st, user, dom); err != nil {
		return err
	} else if ok {
		return errors.New("user already exists")
	}
	if isAlias, err := a.checkAlias(ctx, user, dom, true); err != nil {
		return err
	} else if isAlias {
		return fmt.Errorf("user name and alias overlap: %s@%s is an alias (serctl alias show %s@%s)", user, dom, user, dom)
	}
	err = st.AddSubscriber(ctx, store.Subscriber{
		Username: user, Domain: dom, Password: pw, Email: email,
		// ha1 and ha1b are the store's defaults (realm = domain);
		// SER's serctl set phplib_id to the HA1.
		PHPLibID: store.HA1(user, dom, pw),
	})
	if errors.Is(err, store.ErrExists) {
		return errors.New("user already exists")
	}
	if err != nil {
		return fmt.Errorf("introducing a new user to the database failed: %w", err)
	}
	fmt.Fprintln(a.stdout, "new user added")
	return nil
}

// checkAlias is SER 0.9's check_alias: ul_show_contact on the aliases
// table. 404 means the name is free, 400 that the server does not use
// aliases; a 200 means the name is an alias already. Without a running
// server the check cannot be made: with skipIfDown a warning says so,
// else that is an error.
func (a *app) checkAlias(ctx context.Context, user, dom string, skipIfDown bool) (isAlias bool, err error) {
	rep, err := a.fifoCmd(ctx, "ul_show_contact", a.cfg.aliasTable, user+"@"+dom)
	if err != nil {
		if skipIfDown && errors.Is(err, errFIFOUnavailable) {
			a.warnf("aliases not checked: ser's FIFO %s is not available", a.cfg.fifo)
			return false, nil
		}
		return false, err
	}
	switch {
	case rep.Code == 404, rep.Code == 400:
		return false, nil
	case rep.Code == 500 && strings.Contains(rep.Reason(), "not available"):
		return false, nil // no usrloc: no aliases
	case rep.Code == 200:
		return true, nil
	default:
		return false, fmt.Errorf("alias check failed: %s", rep.Reason())
	}
}

// cmdPasswd is "passwd <user> <password>": new password, ha1 and ha1b.
func (a *app) cmdPasswd(ctx context.Context, args []string) error {
	if len(args) != 2 {
		return usagef("passwd: <username> <passwd> expected")
	}
	user, dom, err := a.setUser(args[0])
	if err != nil {
		return err
	}
	st, err := a.store(ctx)
	if err != nil {
		return err
	}
	err = st.SetPassword(ctx, user, dom, args[1])
	if errors.Is(err, store.ErrNotFound) {
		return errNoUser
	}
	if err != nil {
		return fmt.Errorf("password change failed: %w", err)
	}
	fmt.Fprintln(a.stdout, "password change succeeded")
	return nil
}

// cmdRm is "rm <user>": the subscriber with its uri, grp and privilege
// rows, then its contacts in the server (ul_rm, quietly, as SER).
func (a *app) cmdRm(ctx context.Context, args []string) error {
	if len(args) != 1 {
		return usagef("rm: <username> expected")
	}
	user, dom, err := a.setUser(args[0])
	if err != nil {
		return err
	}
	st, err := a.store(ctx)
	if err != nil {
		return err
	}
	if err := noUser(st.DeleteSubscriber(ctx, user, dom)); err != nil {
		return err
	}
	if _, err := a.fifoCmd(ctx, "ul_rm", a.cfg.ulTable, user+"@"+dom); err != nil && !errors.Is(err, errFIFOUnavailable) {
		a.warnf("contacts of %s@%s not removed: %v", user, dom, err)
	}
	fmt.Fprintln(a.stdout, "user removed")
	return nil
}

// cmdMail is "mail <user>": mail(1) to the user's e-mail address, the
// message read from stdin.
func (a *app) cmdMail(ctx context.Context, args []string) error {
	if len(args) != 1 {
		return usagef("mail: <username> expected")
	}
	user, dom, err := a.setUser(args[0])
	if err != nil {
		return err
	}
	st, err := a.store(ctx)
	if err != nil {
		return err
	}
	u, err := st.Subscriber(ctx, user, dom)
	if err = noUser(err); err != nil {
		return err
	}
	if u.Email == "" {
		return fmt.Errorf("%s@%s has no email address", user, dom)
	}
	mail := a.lookPath("mail")
	if mail == "" {
		return errors.New("mail: command not found: install a mail(1) client (mailutils or bsd-mailx) to send e-mail")
	}
	fmt.Fprintf(a.stdout, "Write email to %s: %s now ...\n", args[0], u.Email)
	cmd := exec.CommandContext(ctx, mail, "-s", "Message from "+dom+" SIP admin", u.Email)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = a.stdin, a.stdout, a.stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("sending message failed: %w", err)
	}
	fmt.Fprintln(a.stdout, "message sent")
	return nil
}

// lookPath finds an executable in the app's PATH.
func (a *app) lookPath(name string) string {
	for _, dir := range filepath.SplitList(a.getenv("PATH")) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
			return p
		}
	}
	return ""
}

// cmdRPID is "rpid add <user> <rpid>", "rpid rm <user>" (rpid set to
// NULL) and "rpid show [<user>]".
func (a *app) cmdRPID(ctx context.Context, args []string) error {
	if len(args) < 1 {
		return usagef("rpid: too few parameters")
	}
	switch sub := args[0]; {
	case sub == "show" && len(args) <= 2:
		st, err := a.store(ctx)
		if err != nil {
			return err
		}
		var subs []store.Subscriber
		if len(args) == 2 {
			user, dom, err := a.setUser(args[1])
			if err != nil {
				return err
			}
			u, err := st.Subscriber(ctx, user, dom)
			if err = noUser(err); err != nil {
				return err
			}
			subs = []store.Subscriber{u}
		} else if subs, _, err = st.ListSubscribers(ctx, store.SubscriberFilter{}); err != nil {
			return err
		}
		t := newTable("username", "domain", "rpid")
		for _, u := range subs {
			t.add(u.Username, u.Domain, nullable(u.RPID))
		}
		t.write(a.stdout)
		return nil
	case (sub == "add" && len(args) == 3) || (sub == "rm" && len(args) == 2):
		user, dom, err := a.setUser(args[1])
		if err != nil {
			return err
		}
		st, err := a.store(ctx)
		if err != nil {
			return err
		}
		rpid := ""
		if sub == "add" {
			rpid = args[2]
			if rpid == "" {
				return usagef("rpid add: empty rpid (use rpid rm)")
			}
		}
		if err := noUser(st.SetRPID(ctx, user, dom, rpid)); err != nil {
			return err
		}
		return a.cmdRPID(ctx, []string{"show", user + "@" + dom})
	default:
		return usagef("rpid: add <username> <rpid>, rm <username> or show [<username>] expected")
	}
}
