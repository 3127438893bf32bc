package daemon

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"ser/core"
	"ser/core/rpc"
	"ser/fifo"
	"ser/internal/frontend"
)

// runXMLRPC runs the XML-RPC bridge stand-alone, in front of a running
// ser's FIFO (or unix socket), as Granig's bridge ran beside SER:
//
//	ser xmlrpc -fifo /tmp/ser_fifo -listen 127.0.0.1:5080
func runXMLRPC(args []string) int {
	fs := flag.NewFlagSet("ser xmlrpc", flag.ContinueOnError)
	fifoPath := fs.String("fifo", "/tmp/ser_fifo", "ser's FIFO")
	replyDir := fs.String("fifo-dir", "/tmp/", "reply directory (ser's fifo_dir)")
	unixPath := fs.String("unix", "", "use ser's unix socket (unix_sock) instead of the FIFO")
	listen := fs.String("listen", "127.0.0.1:5080", "HTTP listen address")
	user := fs.String("user", "", "basic-auth user name (with -password)")
	password := fs.String("password", "", "basic-auth password: plain, or {SHA256} and its SHA-256 digest in hex or base64")
	allow := fs.String("allow", "", "admitted client networks, comma-separated (default loopback only)")
	hosts := fs.String("host", "", "more names the Host header may carry, comma-separated (\"*\": no Host check)")
	cert := fs.String("cert", "", "TLS certificate file (with -key)")
	key := fs.String("key", "", "TLS key file")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 1
	}
	var exec rpc.Executor
	if *unixPath != "" {
		exec = fifo.NewUnixClient(*unixPath)
	} else {
		c := fifo.NewClient(*fifoPath)
		c.ReplyDir = *replyDir
		exec = c
	}
	var allowList []string
	if *allow != "" {
		allowList = strings.Split(*allow, ",")
	}
	var hostList []string
	if *hosts != "" {
		hostList = strings.Split(*hosts, ",")
	}
	log := core.NewLogger(core.LogConfig{Debug: 2, Stderr: true})
	fe, err := frontend.Start(exec, frontend.Options{
		Listen: *listen, User: *user, Password: *password, Allow: allowList,
		Hosts: hostList, CertFile: *cert, KeyFile: *key, Log: log,
		Ready: func(ctx context.Context) error { return serAnswers(ctx, exec) },
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "ser xmlrpc: %v\n", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	select {
	case <-ctx.Done():
	case err := <-fe.Done():
		if err != nil {
			fmt.Fprintf(os.Stderr, "ser xmlrpc: %v\n", err)
			return 1
		}
	}
	fe.Close()
	return 0
}

// serAnswers is the stand-alone bridge's /ready check: the ser behind the
// FIFO (or unix socket) answers a command.
func serAnswers(ctx context.Context, exec rpc.Executor) error {
	rep, err := exec.Execute(ctx, "version", nil)
	if err != nil {
		return fmt.Errorf("ser does not answer: %w", err)
	}
	if rep.Code >= 300 {
		return fmt.Errorf("ser answers version with %d %s", rep.Code, rep.Reason())
	}
	return nil
}
