package fifo

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"strconv"

	"golang.org/x/sys/unix"
)

// owner resolves a user and a group (names or numeric ids; empty means
// unchanged, -1) for chown.
func owner(userName, groupName string) (uid, gid int, err error) {
	uid, gid = -1, -1
	if userName != "" {
		if uid, err = strconv.Atoi(userName); err != nil {
			u, lerr := user.Lookup(userName)
			if lerr != nil {
				return -1, -1, fmt.Errorf("fifo: user %q: %w", userName, lerr)
			}
			uid, _ = strconv.Atoi(u.Uid)
			if groupName == "" {
				gid, _ = strconv.Atoi(u.Gid)
			}
		}
	}
	if groupName != "" {
		if gid, err = strconv.Atoi(groupName); err != nil {
			g, lerr := user.LookupGroup(groupName)
			if lerr != nil {
				return -1, -1, fmt.Errorf("fifo: group %q: %w", groupName, lerr)
			}
			gid, _ = strconv.Atoi(g.Gid)
		}
	}
	return uid, gid, nil
}

// removeStale deletes an old file of the given type (unix.S_IFIFO or
// unix.S_IFSOCK) at path. Any other kind of file is left alone and is an
// error: a typo in the configuration must not delete a regular file.
func removeStale(path string, typ uint32, what string) error {
	var st unix.Stat_t
	err := unix.Lstat(path, &st)
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("fifo: %s: %w", path, err)
	}
	if st.Mode&unix.S_IFMT != typ {
		return fmt.Errorf("fifo: %s: exists and is not a %s; not removing it", path, what)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("fifo: removing the old %s: %w", what, err)
	}
	return nil
}

// setMode applies the configured permissions and owner to path.
func setMode(path string, mode os.FileMode, uid, gid int) error {
	if err := os.Chmod(path, mode); err != nil {
		return fmt.Errorf("fifo: %w", err)
	}
	if uid != -1 || gid != -1 {
		if err := os.Lchown(path, uid, gid); err != nil {
			return fmt.Errorf("fifo: %w", err)
		}
	}
	return nil
}

// fileID is a file's identity, to remove at shutdown only the file this
// server created.
type fileID struct{ dev, ino uint64 }

func statID(path string) (fileID, bool) {
	var st unix.Stat_t
	if unix.Lstat(path, &st) != nil {
		return fileID{}, false
	}
	return fileID{uint64(st.Dev), st.Ino}, true
}

// removeIfSame removes path if it is still the file id.
func removeIfSame(path string, id fileID) {
	if cur, ok := statID(path); ok && cur == id {
		os.Remove(path)
	}
}
