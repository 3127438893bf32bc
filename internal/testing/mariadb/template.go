package mariadb

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

// templateFormat changes when the template's content changes (users,
// options), so that an old cached template is not used.
const templateFormat = "1"

// bootstrapSQL runs in the new data directory (mariadbd --bootstrap):
// SER's users and database, and the replication account. FLUSH
// PRIVILEGES loads the grant tables, which --bootstrap skips.
var bootstrapSQL = strings.Join([]string{
	"FLUSH PRIVILEGES",
	"CREATE DATABASE `" + Database + "` CHARACTER SET utf8mb4",
	"CREATE USER '" + User + "'@'%' IDENTIFIED BY '" + Password + "'",
	"CREATE USER '" + User + "'@'localhost' IDENTIFIED BY '" + Password + "'",
	"GRANT ALL PRIVILEGES ON `" + Database + "`.* TO '" + User + "'@'%', '" + User + "'@'localhost'",
	"GRANT ALL PRIVILEGES ON `" + Database + "\\_%`.* TO '" + User + "'@'%', '" + User + "'@'localhost'",
	"CREATE USER '" + ROUser + "'@'%' IDENTIFIED BY '" + ROPassword + "'",
	"CREATE USER '" + ROUser + "'@'localhost' IDENTIFIED BY '" + ROPassword + "'",
	"GRANT SELECT ON `" + Database + "`.* TO '" + ROUser + "'@'%', '" + ROUser + "'@'localhost'",
	"GRANT SELECT ON `" + Database + "\\_%`.* TO '" + ROUser + "'@'%', '" + ROUser + "'@'localhost'",
	"CREATE USER '" + replUser + "'@'%' IDENTIFIED BY '" + replPassword + "'",
	"GRANT REPLICATION SLAVE ON *.* TO '" + replUser + "'@'%'",
	"",
}, ";\n")

var (
	templateMu   sync.Mutex
	templateDir  string
	templateErr  error
	templateDone bool
)

// template returns the directory holding an initialised data directory
// (data/) with the users of bootstrapSQL, making it on first use. It is
// cached per machine, MariaDB version and template format under
// os.UserCacheDir() (or the temporary directory), and built in a
// directory of its own that is renamed into place, so that test processes
// running at once never see a half-made template.
func template(tl tools) (string, error) {
	templateMu.Lock()
	defer templateMu.Unlock()
	if templateDone {
		return templateDir, templateErr
	}
	templateDir, templateErr = makeTemplate(tl)
	templateDone = true
	return templateDir, templateErr
}

func makeTemplate(tl tools) (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	key := sha256.Sum256([]byte(tl.version + "\x00" + templateFormat + "\x00" + strings.Join(innodbArgs, " ") +
		fmt.Sprint(os.Geteuid())))
	final := filepath.Join(base, "ser-mariadb", hex.EncodeToString(key[:8]))
	if _, err := os.Stat(filepath.Join(final, "ready")); err == nil {
		return final, nil
	}
	if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(final), "build-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp) // after a successful rename there is nothing left
	data := filepath.Join(tmp, "data")
	args := append([]string{"--no-defaults", "--datadir=" + data, "--auth-root-authentication-method=normal",
		"--skip-test-db"}, innodbArgs...)
	args = append(args, userArgs()...)
	if out, err := exec.Command(tl.installDB, args...).CombinedOutput(); err != nil {
		return "", fmt.Errorf("mariadb-install-db: %v\n%s", err, out)
	}
	args = append([]string{"--no-defaults", "--bootstrap", "--datadir=" + data,
		"--log-error=" + filepath.Join(tmp, "bootstrap.log")}, innodbArgs...)
	args = append(args, userArgs()...)
	cmd := exec.Command(tl.mariadbd, args...)
	cmd.Stdin = strings.NewReader(bootstrapSQL)
	if out, err := cmd.CombinedOutput(); err != nil {
		log, _ := os.ReadFile(filepath.Join(tmp, "bootstrap.log"))
		return "", fmt.Errorf("mariadbd --bootstrap: %v\n%s%s", err, out, log)
	}
	if err := os.WriteFile(filepath.Join(tmp, "ready"), []byte(tl.version+"\n"), 0o644); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, final); err != nil {
		// Another process was quicker: use its template.
		if _, serr := os.Stat(filepath.Join(final, "ready")); serr == nil {
			return final, nil
		}
		return "", fmt.Errorf("install the template: %w", err)
	}
	return final, nil
}

// copyTree copies the directory src to dst (regular files and
// directories, with their permissions).
func copyTree(src, dst string) error {
	return filepath.Walk(src, func(path string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		switch {
		case fi.IsDir():
			return os.MkdirAll(target, fi.Mode().Perm()|0o700)
		case fi.Mode().IsRegular():
			return copyFile(path, target, fi.Mode().Perm())
		}
		return nil // sockets, pid files: not in a template
	})
}

// copyFile copies one regular file.
func copyFile(src, dst string, perm os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm|0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
