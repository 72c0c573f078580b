package train

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// ErrLocked is returned when another process trains in the run directory.
var ErrLocked = errors.New("train: run directory in use")

// lockDir takes the lock of a run directory: it creates LockName holding
// "PID HOST". A lock whose process has ended on this host (killed, or
// crashed) is stale: it is replaced and reported on log. It returns the
// function that releases the lock.
func lockDir(dir string, log io.Writer) (unlock func(), err error) {
	path := filepath.Join(dir, LockName)
	host, _ := os.Hostname()
	if host == "" {
		host = "localhost"
	}
	me := fmt.Sprintf("%d %s\n", os.Getpid(), host)
	for try := 0; try < 2; try++ {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			_, werr := f.WriteString(me)
			if cerr := f.Close(); werr == nil {
				werr = cerr
			}
			if werr != nil {
				os.Remove(path)
				return nil, fmt.Errorf("train: locking %s: %w", dir, werr)
			}
			return func() { os.Remove(path) }, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("train: locking %s: %w", dir, err)
		}
		b, err := os.ReadFile(path)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("train: locking %s: %w", dir, err)
		}
		pid, owner, ok := parseLock(string(b))
		if err == nil && (!ok || owner != host || alive(pid)) {
			who := fmt.Sprintf("process %d on %s", pid, owner)
			if !ok {
				who = fmt.Sprintf("an unreadable lock (%q)", strings.TrimSpace(string(b)))
			}
			return nil, fmt.Errorf("%w: %s is held by %s (lock file %s); wait for it to end, or remove the lock file if no asym process uses the directory",
				ErrLocked, dir, who, path)
		}
		if err == nil {
			if log != nil {
				fmt.Fprintf(log, "asym: removed the stale lock of process %d in %s (it ended without releasing it, e.g. killed)\n", pid, dir)
			}
			if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("train: removing the stale lock %s: %w", path, err)
			}
		}
	}
	return nil, fmt.Errorf("%w: %s: another process took the lock %s meanwhile", ErrLocked, dir, path)
}

func parseLock(s string) (pid int, host string, ok bool) {
	f := strings.Fields(s)
	if len(f) != 2 {
		return 0, "", false
	}
	pid, err := strconv.Atoi(f[0])
	return pid, f[1], err == nil && pid > 0
}

// alive reports whether process pid exists (on this host) and has not
// ended: a zombie — a process that has exited but that its parent has not
// reaped yet, as happens to the ranks of a killed MPI job whose launcher
// is gone — holds no lock.
func alive(pid int) bool {
	if pid == os.Getpid() {
		return true
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	err = p.Signal(syscall.Signal(0))
	if err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	return !zombie(pid)
}

// zombie reports whether /proc says that process pid has exited (state Z
// or X). Where /proc is missing it reports false.
func zombie(pid int) bool {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return false
	}
	// The state follows the command name, which is in parentheses and may
	// itself hold spaces and parentheses.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 || i+2 >= len(b) {
		return false
	}
	switch b[i+2] {
	case 'Z', 'X':
		return true
	}
	return false
}
