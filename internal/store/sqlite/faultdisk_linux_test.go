package sqlite_test

// faultDisk is a disk with a volatile write cache, for power-loss tests.
// It serves one file, disk.img, over FUSE (the kernel protocol spoken
// directly on /dev/fuse); a loop device on that file carries an ext4 file
// system. Writes land in the image at once, but only an fsync of the
// image — which the loop device issues when ext4 flushes, as it does for
// every fsync SQLite makes — makes them durable. powerCut keeps only the
// durable image: everything written since the last flush is gone, as on a
// real disk that loses power.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
)

const (
	fuseLookup      = 1
	fuseForget      = 2
	fuseGetattr     = 3
	fuseSetattr     = 4
	fuseOpen        = 14
	fuseRead        = 15
	fuseWrite       = 16
	fuseStatfs      = 17
	fuseRelease     = 18
	fuseFsync       = 20
	fuseGetxattr    = 22
	fuseListxattr   = 23
	fuseFlush       = 25
	fuseInit        = 26
	fuseOpendir     = 27
	fuseReaddir     = 28
	fuseReleasedir  = 29
	fuseAccess      = 34
	fuseInterrupt   = 36
	fuseDestroy     = 38
	fuseBatchForget = 42

	diskBlock = 4096
	imageNode = 2
)

type faultDisk struct {
	t       *testing.T
	dir     string // FUSE mount point: dir/disk.img
	mnt     string // the ext4 file system
	loop    string // /dev/loopN
	fd      int
	mu      sync.Mutex
	cur     []byte         // what reads see
	durable []byte         // what survives a power cut
	dirty   map[int64]bool // blocks written since the last flush
	dead    bool           // power is off: every request fails
	flushes int
	served  chan struct{}
}

// newFaultDisk makes an ext4 file system of size bytes on a fault disk
// and mounts it; it skips the test where FUSE, loop devices or mounting
// are not available (root is needed).
func newFaultDisk(t *testing.T, size int64) *faultDisk {
	t.Helper()
	base := t.TempDir()
	img := filepath.Join(base, "init.img")
	f, err := os.Create(img)
	if err != nil {
		t.Fatal(err)
	}
	f.Truncate(size)
	f.Close()
	if out, err := exec.Command("mkfs.ext4", "-q", "-F", "-E", "lazy_itable_init=0,lazy_journal_init=0", img).CombinedOutput(); err != nil {
		t.Skipf("mkfs.ext4 unavailable: %v %s", err, out)
	}
	data, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	d := &faultDisk{t: t, dir: filepath.Join(base, "fuse"), mnt: filepath.Join(base, "fs"), cur: data,
		durable: append([]byte(nil), data...), dirty: map[int64]bool{}, served: make(chan struct{})}
	os.Mkdir(d.dir, 0o755)
	os.Mkdir(d.mnt, 0o755)
	d.fd, err = syscall.Open("/dev/fuse", syscall.O_RDWR|syscall.O_CLOEXEC, 0)
	if err != nil {
		t.Skipf("no /dev/fuse: %v", err)
	}
	opts := fmt.Sprintf("fd=%d,rootmode=40000,user_id=0,group_id=0,allow_other", d.fd)
	if err := syscall.Mount("faultdisk", d.dir, "fuse", syscall.MS_NOSUID|syscall.MS_NODEV, opts); err != nil {
		syscall.Close(d.fd)
		t.Skipf("cannot mount FUSE here (needs root): %v", err)
	}
	go d.serve()
	out, err := exec.Command("losetup", "-f", "--show", filepath.Join(d.dir, "disk.img")).CombinedOutput()
	if err != nil {
		d.unmountFUSE()
		t.Skipf("cannot attach a loop device: %v %s", err, out)
	}
	d.loop = strings.TrimSpace(string(out))
	if out, err := exec.Command("mount", "-t", "ext4", d.loop, d.mnt).CombinedOutput(); err != nil {
		d.teardown()
		t.Fatalf("mount ext4: %v %s", err, out)
	}
	t.Cleanup(d.teardown)
	return d
}

// powerCut turns the power off: from now on every request fails, and the
// returned image is what was durable.
func (d *faultDisk) powerCut() []byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.dead = true
	return append([]byte(nil), d.durable...)
}

func (d *faultDisk) teardown() {
	exec.Command("umount", "-l", d.mnt).Run()
	if d.loop != "" {
		exec.Command("losetup", "-d", d.loop).Run()
		d.loop = ""
	}
	d.unmountFUSE()
}

func (d *faultDisk) unmountFUSE() {
	syscall.Unmount(d.dir, syscall.MNT_DETACH)
	syscall.Close(d.fd)
}

func (d *faultDisk) serve() {
	defer close(d.served)
	buf := make([]byte, 1<<20+8192)
	for {
		n, err := syscall.Read(d.fd, buf)
		if err != nil {
			if errors.Is(err, syscall.EINTR) || errors.Is(err, syscall.EAGAIN) {
				continue
			}
			return // ENODEV: unmounted
		}
		if n == 0 {
			return // the connection to the kernel is gone
		}
		if n < 40 {
			continue // shorter than a FUSE request header: nothing to answer
		}
		d.handle(buf[:n])
	}
}

var le = binary.LittleEndian

func (d *faultDisk) reply(unique uint64, errno syscall.Errno, out []byte) {
	h := make([]byte, 16, 16+len(out))
	le.PutUint32(h[0:], uint32(16+len(out)))
	le.PutUint32(h[4:], uint32(-int32(errno)))
	le.PutUint64(h[8:], unique)
	syscall.Write(d.fd, append(h, out...))
}

func (d *faultDisk) attr(node uint64) []byte {
	a := make([]byte, 88)
	le.PutUint64(a[0:], node)
	mode, size := uint32(syscall.S_IFDIR|0o755), uint64(0)
	if node == imageNode {
		d.mu.Lock()
		size = uint64(len(d.cur))
		d.mu.Unlock()
		mode = syscall.S_IFREG | 0o644
	}
	le.PutUint64(a[8:], size)
	le.PutUint64(a[16:], (size+511)/512)
	le.PutUint32(a[60:], mode)
	le.PutUint32(a[64:], 1)    // nlink
	le.PutUint32(a[80:], 4096) // blksize
	return a
}

func (d *faultDisk) handle(req []byte) {
	op := le.Uint32(req[4:])
	unique := le.Uint64(req[8:])
	node := le.Uint64(req[16:])
	in := req[40:]
	d.mu.Lock()
	dead := d.dead
	d.mu.Unlock()
	switch op {
	case fuseForget, fuseBatchForget, fuseInterrupt:
		return // no reply
	case fuseInit:
		out := make([]byte, 64)
		le.PutUint32(out[0:], 7)
		le.PutUint32(out[4:], 31)
		le.PutUint32(out[8:], le.Uint32(in[8:])) // max_readahead
		const bigWrites, maxPages = 1 << 5, 1 << 22
		le.PutUint32(out[12:], le.Uint32(in[12:])&(bigWrites|maxPages))
		le.PutUint16(out[16:], 16)    // max_background
		le.PutUint16(out[18:], 12)    // congestion_threshold
		le.PutUint32(out[20:], 1<<20) // max_write
		le.PutUint32(out[24:], 1)     // time_gran
		le.PutUint16(out[28:], 256)   // max_pages
		d.reply(unique, 0, out)
		return
	case fuseDestroy:
		d.reply(unique, 0, nil)
		return
	}
	if dead && op != fuseRelease && op != fuseFlush && op != fuseReleasedir {
		d.reply(unique, syscall.EIO, nil)
		return
	}
	switch op {
	case fuseLookup:
		name := strings.TrimRight(string(in), "\x00")
		if node != 1 || name != "disk.img" {
			d.reply(unique, syscall.ENOENT, nil)
			return
		}
		out := make([]byte, 40, 128)
		le.PutUint64(out[0:], imageNode)
		d.reply(unique, 0, append(out, d.attr(imageNode)...))
	case fuseGetattr:
		d.reply(unique, 0, append(make([]byte, 16), d.attr(node)...))
	case fuseSetattr:
		const fattrSize = 1 << 3
		if le.Uint32(in[0:])&fattrSize != 0 {
			size := int64(le.Uint64(in[16:]))
			d.mu.Lock()
			if size <= int64(len(d.cur)) {
				d.cur = d.cur[:size]
			} else {
				d.cur = append(d.cur, make([]byte, size-int64(len(d.cur)))...)
			}
			d.mu.Unlock()
		}
		d.reply(unique, 0, append(make([]byte, 16), d.attr(node)...))
	case fuseOpen, fuseOpendir:
		out := make([]byte, 16)
		le.PutUint64(out[0:], 1)
		if op == fuseOpen {
			le.PutUint32(out[8:], 1) // FOPEN_DIRECT_IO: no page cache between the loop device and the image
		}
		d.reply(unique, 0, out)
	case fuseRead:
		off, size := int64(le.Uint64(in[8:])), int64(le.Uint32(in[16:]))
		d.mu.Lock()
		var out []byte
		if off < int64(len(d.cur)) {
			out = append(out, d.cur[off:min(off+size, int64(len(d.cur)))]...)
		}
		d.mu.Unlock()
		d.reply(unique, 0, out)
	case fuseWrite:
		off, size := int64(le.Uint64(in[8:])), int64(le.Uint32(in[16:]))
		data := in[40 : 40+size]
		d.mu.Lock()
		if end := off + size; end > int64(len(d.cur)) {
			d.cur = append(d.cur, make([]byte, end-int64(len(d.cur)))...)
		}
		copy(d.cur[off:], data)
		for b := off / diskBlock; b <= (off+size-1)/diskBlock; b++ {
			d.dirty[b] = true
		}
		d.mu.Unlock()
		out := make([]byte, 8)
		le.PutUint32(out[0:], uint32(size))
		d.reply(unique, 0, out)
	case fuseFsync:
		d.mu.Lock()
		if len(d.durable) != len(d.cur) {
			d.durable = append(d.durable[:0:0], d.cur...)
		} else {
			for b := range d.dirty {
				lo := b * diskBlock
				copy(d.durable[lo:min(lo+diskBlock, int64(len(d.cur)))], d.cur[lo:])
			}
		}
		clear(d.dirty)
		d.flushes++
		d.mu.Unlock()
		d.reply(unique, 0, nil)
	case fuseStatfs:
		out := make([]byte, 80)
		le.PutUint64(out[0:], 1<<20)
		le.PutUint32(out[40:], 4096)
		le.PutUint32(out[44:], 255)
		le.PutUint32(out[48:], 4096)
		d.reply(unique, 0, out)
	case fuseRelease, fuseReleasedir, fuseFlush, fuseAccess:
		d.reply(unique, 0, nil)
	case fuseReaddir:
		d.reply(unique, 0, nil)
	case fuseGetxattr, fuseListxattr:
		d.reply(unique, syscall.ENODATA, nil)
	default:
		d.reply(unique, syscall.ENOSYS, nil)
	}
}

// mountImage writes img to a file, attaches it to a loop device and
// mounts its ext4 file system (replaying the journal, as after a reboot);
// it returns the mount point.
func mountImage(t *testing.T, img []byte) string {
	t.Helper()
	base := t.TempDir()
	file, mnt := filepath.Join(base, "after.img"), filepath.Join(base, "fs")
	if err := os.WriteFile(file, img, 0o600); err != nil {
		t.Fatal(err)
	}
	os.Mkdir(mnt, 0o755)
	out, err := exec.Command("losetup", "-f", "--show", file).CombinedOutput()
	if err != nil {
		t.Fatalf("losetup: %v %s", err, out)
	}
	loop := strings.TrimSpace(string(out))
	if out, err := exec.Command("mount", "-t", "ext4", loop, mnt).CombinedOutput(); err != nil {
		exec.Command("losetup", "-d", loop).Run()
		t.Fatalf("mount the image after the power cut: %v %s", err, out)
	}
	t.Cleanup(func() {
		// Lazily: the SQLite library may keep its -shm mapping a moment
		// after Close.
		exec.Command("umount", "-l", mnt).Run()
		exec.Command("losetup", "-d", loop).Run()
	})
	return mnt
}
