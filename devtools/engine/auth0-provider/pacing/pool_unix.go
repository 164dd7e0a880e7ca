//go:build unix

package pacing

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// openPrivate opens (creating, 0600) the pool file in a directory of the user's own: created
// 0700 unless it exists, then refused unless it is a directory, not a link, owned by the user
// and closed to others; the file itself is never followed through a link.
func openPrivate(path string) (*os.File, error) {
	dir := filepath.Dir(path)
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return nil, err
	}
	info, err := os.Lstat(dir)
	if err != nil {
		return nil, err
	}
	st, ok := info.Sys().(*syscall.Stat_t)
	if !info.IsDir() || !ok || int(st.Uid) != os.Getuid() || info.Mode().Perm()&0o077 != 0 {
		return nil, errors.New(dir + " is not a directory of the user's own, closed to others")
	}
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW, 0o600)
}

// lock and unlock are variables so that a test can fail them as some network file systems do.
// lock waits at most LockWait, in steps, then fails with lockHeld.
var (
	lock = func(f *os.File) error {
		deadline := time.Now().Add(LockWait)
		pause := 500 * time.Microsecond
		for {
			err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
			if !errors.Is(err, syscall.EWOULDBLOCK) {
				return err
			}
			if !time.Now().Before(deadline) {
				return lockHeld{LockWait}
			}
			time.Sleep(pause)
			pause = min(2*pause, 10*time.Millisecond)
		}
	}
	unlock = func(f *os.File) error { return syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }
)
