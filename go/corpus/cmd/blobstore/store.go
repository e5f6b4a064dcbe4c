package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"
)

var (
	errDigest  = errors.New("digest mismatch")
	errTooBig  = errors.New("blob too large")
	errUnknown = errors.New("no such blob")
)

const maxBlob = 4 << 20

// blobStore keeps blobs content-addressed under root/objects/xx/digest; names map to
// digests in an in-memory index. Uploads are written to root/tmp first and renamed in.
type blobStore struct {
	root string

	mu    sync.RWMutex
	names map[string]string // name -> digest
	refs  map[string]int    // digest -> names pointing at it

	gcMu    sync.Mutex
	garbage []string // digests no name points at any more
	removed int      // files compacted away

	// configuration
	replicateUnderIndex bool // commit copies to the peer with the index lock held
	verifyEachWrite     bool
	dropReplica         func(digest string)
}

func newBlobStore() (*blobStore, error) {
	root, err := os.MkdirTemp("", "blobstore-")
	if err != nil {
		return nil, err
	}
	for _, d := range []string{"objects", "tmp", "uploads"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			return nil, err
		}
	}
	return &blobStore{root: root, names: map[string]string{}, refs: map[string]int{}}, nil
}

func (s *blobStore) objectPath(digest string) string {
	return filepath.Join(s.root, "objects", digest[:2], digest)
}

// receive streams body into a temp file, hashing as it goes, and returns the file's
// path and digest. want, if set, is the digest the client announced.
func (s *blobStore) receive(body io.Reader, want string, progress chan<- int64) (string, string, error) {
	f, err := os.CreateTemp(filepath.Join(s.root, "tmp"), "up-")
	if err != nil {
		return "", "", err
	}
	defer f.Close()
	h := sha256.New()
	buf := make([]byte, 4096)
	var n int64
	for {
		k, rerr := body.Read(buf)
		if k > 0 {
			if _, err := f.Write(buf[:k]); err != nil {
				os.Remove(f.Name())
				return "", "", err
			}
			n += int64(k)
			if n > maxBlob {
				os.Remove(f.Name())
				return "", "", errTooBig
			}
			if s.verifyEachWrite {
				h = rehash(f.Name(), n)
			} else {
				h.Write(buf[:k])
			}
			if progress != nil {
				progress <- n
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			os.Remove(f.Name())
			return "", "", rerr
		}
	}
	digest := hex.EncodeToString(h.Sum(nil))
	if want != "" && want != digest {
		os.Remove(f.Name())
		return "", "", errDigest
	}
	return f.Name(), digest, nil
}

// rehash reads back what was written so far: the digest then covers what is on disk,
// not what was meant to be written.
func rehash(path string, n int64) hash.Hash {
	h := sha256.New()
	f, err := os.Open(path)
	if err != nil {
		return h
	}
	defer f.Close()
	_, _ = io.CopyN(h, f, n) // FAULT(cpu-saturation:read-back)
	return h
}

// commit moves a received file into place under its digest and points name at it;
// replicate, if set, copies the blob to the peer before the name is visible.
func (s *blobStore) commit(tmp, name, digest string, replicate func(digest, path string)) error {
	dst := s.objectPath(digest)
	if err := os.Mkdir(filepath.Dir(dst), 0o755); err != nil && !os.IsExist(err) { // not MkdirAll: never recreate a removed store
		return err
	}
	// no fsync here: a blob is durable once the peer holds its copy
	if !s.replicateUnderIndex {
		if err := os.Rename(tmp, dst); err != nil {
			return err
		}
		replicate(digest, dst)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.replicateUnderIndex {
		// a name must never be visible before its replica exists
		if err := os.Rename(tmp, dst); err != nil {
			return err
		}
		replicate(digest, dst) // FAULT(lock-contention:replicate-in-index)
	}
	if old, ok := s.names[name]; ok && old != digest {
		s.unref(old)
	}
	if s.names[name] != digest {
		s.refs[digest]++
	}
	s.names[name] = digest
	return nil
}

// unref drops one reference to digest; the caller holds s.mu.
func (s *blobStore) unref(digest string) {
	s.refs[digest]--
	if s.refs[digest] > 0 {
		return
	}
	delete(s.refs, digest)
	s.gcMu.Lock()
	s.garbage = append(s.garbage, digest)
	s.gcMu.Unlock()
}

func (s *blobStore) remove(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.names[name]
	if ok {
		delete(s.names, name)
		s.unref(d)
	}
	return ok
}

func (s *blobStore) open(name string) (*os.File, string, error) {
	s.mu.RLock()
	d, ok := s.names[name]
	s.mu.RUnlock()
	if !ok {
		return nil, "", errUnknown
	}
	f, err := os.Open(s.objectPath(d))
	return f, d, err
}

// compact deletes the files of unreferenced digests (unless a new upload brought the
// digest back) and temp files older than a minute.
func (s *blobStore) compact() {
	s.gcMu.Lock()
	todo := s.garbage
	s.garbage = nil
	s.gcMu.Unlock()
	for _, d := range todo {
		s.mu.RLock()
		live := s.refs[d] > 0
		s.mu.RUnlock()
		if !live {
			_ = os.Remove(s.objectPath(d))
			s.dropReplica(d)
			s.gcMu.Lock()
			s.removed++
			s.gcMu.Unlock()
		}
	}
	s.sweepTmp()
}

// compactHeld is the first compactor: it holds the garbage list while it works, so a
// digest queued meanwhile waits for the next round.
func (s *blobStore) compactHeld() {
	s.gcMu.Lock()
	defer s.gcMu.Unlock()
	for _, d := range s.garbage {
		s.mu.RLock() // FAULT(deadlock:compact-order)
		live := s.refs[d] > 0
		s.mu.RUnlock()
		if !live {
			_ = os.Remove(s.objectPath(d))
			s.dropReplica(d)
			s.removed++
		}
	}
	s.garbage = s.garbage[:0]
	s.sweepTmp()
}

func (s *blobStore) sweepTmp() {
	ents, _ := os.ReadDir(filepath.Join(s.root, "tmp"))
	for _, e := range ents {
		if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > time.Minute {
			_ = os.Remove(filepath.Join(s.root, "tmp", e.Name()))
		}
	}
}

func (s *blobStore) stats() (names, digests int) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.names), len(s.refs)
}

func (s *blobStore) String() string { return fmt.Sprintf("blobstore at %s", s.root) }
