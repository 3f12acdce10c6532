//go:build cuda && cgo

// The CUDA runtime, loaded at run time. Twin of cuda_omit.go, which keeps
// the API without the cuda tag.
//
// The build needs no CUDA header or library: the few types, constants and
// function signatures used are declared below (they are the stable C ABI of
// the CUDA runtime API), and libcudart is opened with dlopen on first use.
// Where it cannot be loaded or sees no device, CUDA and CUDACount return an
// ErrNoCUDA error naming the reason. Each C function below is one cgo
// crossing: it makes the device current on the calling thread (goroutines
// move between threads, and the current device is per thread) and makes
// the call.

package cudaaware

/*
#cgo LDFLAGS: -ldl
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int spmd_cuda_err;    // cudaError_t
typedef void *spmd_cuda_stream; // cudaStream_t
typedef void *spmd_cuda_event;  // cudaEvent_t

enum {
	SPMD_CUDA_SUCCESS = 0,            // cudaSuccess
	SPMD_CUDA_NOT_READY = 600,        // cudaErrorNotReady
	SPMD_CUDA_HTOD = 1,               // cudaMemcpyHostToDevice
	SPMD_CUDA_DTOH = 2,               // cudaMemcpyDeviceToHost
	SPMD_CUDA_DTOD = 3,               // cudaMemcpyDeviceToDevice
	SPMD_CUDA_STREAM_NONBLOCKING = 1, // cudaStreamNonBlocking
	SPMD_CUDA_EVENT_NO_TIMING = 2,    // cudaEventDisableTiming
};

static struct {
	void *lib;
	spmd_cuda_err (*getDeviceCount)(int *);
	spmd_cuda_err (*setDevice)(int);
	spmd_cuda_err (*malloc)(void **, size_t);
	spmd_cuda_err (*free)(void *);
	spmd_cuda_err (*mallocHost)(void **, size_t);
	spmd_cuda_err (*freeHost)(void *);
	spmd_cuda_err (*streamCreateWithFlags)(spmd_cuda_stream *, unsigned int);
	spmd_cuda_err (*streamDestroy)(spmd_cuda_stream);
	spmd_cuda_err (*streamSynchronize)(spmd_cuda_stream);
	spmd_cuda_err (*streamWaitEvent)(spmd_cuda_stream, spmd_cuda_event, unsigned int);
	spmd_cuda_err (*eventCreateWithFlags)(spmd_cuda_event *, unsigned int);
	spmd_cuda_err (*eventDestroy)(spmd_cuda_event);
	spmd_cuda_err (*eventRecord)(spmd_cuda_event, spmd_cuda_stream);
	spmd_cuda_err (*eventSynchronize)(spmd_cuda_event);
	spmd_cuda_err (*eventQuery)(spmd_cuda_event);
	spmd_cuda_err (*memcpyAsync)(void *, const void *, size_t, int, spmd_cuda_stream);
	spmd_cuda_err (*deviceSynchronize)(void);
	const char *(*getErrorName)(spmd_cuda_err);
	const char *(*getErrorString)(spmd_cuda_err);
} cu;

// spmd_cuda_load opens libcudart (the library at path if path is not
// empty) and resolves the functions; on failure it writes the reason to msg
// and returns -1.
static int spmd_cuda_load(const char *path, char *msg, int len) {
	static const char *names[] = {"libcudart.so", "libcudart.so.12", "libcudart.so.11.0", "libcudart.so.11", NULL};
	const char *last = "";
	if (path[0] != '\0') {
		cu.lib = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
		if (cu.lib == NULL) {
			const char *e = dlerror();
			snprintf(msg, len, "cannot load the CUDA runtime %s: %s", path, e ? e : "");
			return -1;
		}
	}
	for (int i = 0; names[i] != NULL && cu.lib == NULL; i++) {
		cu.lib = dlopen(names[i], RTLD_NOW | RTLD_GLOBAL);
		if (cu.lib == NULL) {
			const char *e = dlerror();
			last = e ? e : names[i];
		}
	}
	if (cu.lib == NULL) {
		snprintf(msg, len, "cannot load the CUDA runtime (tried libcudart.so, .so.12, .so.11.0, .so.11): %s", last);
		return -1;
	}
#define SYM(field, name) \
	if ((*(void **)&cu.field = dlsym(cu.lib, name)) == NULL) { \
		snprintf(msg, len, "the CUDA runtime has no %s", name); \
		return -1; \
	}
	SYM(getDeviceCount, "cudaGetDeviceCount")
	SYM(setDevice, "cudaSetDevice")
	SYM(malloc, "cudaMalloc")
	SYM(free, "cudaFree")
	SYM(mallocHost, "cudaMallocHost")
	SYM(freeHost, "cudaFreeHost")
	SYM(streamCreateWithFlags, "cudaStreamCreateWithFlags")
	SYM(streamDestroy, "cudaStreamDestroy")
	SYM(streamSynchronize, "cudaStreamSynchronize")
	SYM(streamWaitEvent, "cudaStreamWaitEvent")
	SYM(eventCreateWithFlags, "cudaEventCreateWithFlags")
	SYM(eventDestroy, "cudaEventDestroy")
	SYM(eventRecord, "cudaEventRecord")
	SYM(eventSynchronize, "cudaEventSynchronize")
	SYM(eventQuery, "cudaEventQuery")
	SYM(memcpyAsync, "cudaMemcpyAsync")
	SYM(deviceSynchronize, "cudaDeviceSynchronize")
	SYM(getErrorName, "cudaGetErrorName")
	SYM(getErrorString, "cudaGetErrorString")
#undef SYM
	return 0;
}

typedef struct { void *p; spmd_cuda_err rc; } spmd_cuda_ptr;

static spmd_cuda_err spmd_cuda_count(int *n) { return cu.getDeviceCount(n); }
static const char *spmd_cuda_err_name(spmd_cuda_err e) { return cu.getErrorName(e); }
static const char *spmd_cuda_err_string(spmd_cuda_err e) { return cu.getErrorString(e); }

#define ON(dev) do { spmd_cuda_err _e = cu.setDevice(dev); if (_e != SPMD_CUDA_SUCCESS) return _e; } while (0)
#define ONP(dev, r) do { r.rc = cu.setDevice(dev); if (r.rc != SPMD_CUDA_SUCCESS) return r; } while (0)

static spmd_cuda_ptr spmd_cuda_malloc(int dev, size_t n) {
	spmd_cuda_ptr r = {NULL, 0};
	ONP(dev, r);
	r.rc = cu.malloc(&r.p, n);
	return r;
}
static spmd_cuda_err spmd_cuda_free(int dev, void *p) { ON(dev); return cu.free(p); }
static spmd_cuda_ptr spmd_cuda_malloc_host(int dev, size_t n) {
	spmd_cuda_ptr r = {NULL, 0};
	ONP(dev, r);
	r.rc = cu.mallocHost(&r.p, n);
	return r;
}
static spmd_cuda_err spmd_cuda_free_host(int dev, void *p) { ON(dev); return cu.freeHost(p); }
static spmd_cuda_ptr spmd_cuda_stream_create(int dev) {
	spmd_cuda_ptr r = {NULL, 0};
	ONP(dev, r);
	r.rc = cu.streamCreateWithFlags(&r.p, SPMD_CUDA_STREAM_NONBLOCKING);
	return r;
}
static spmd_cuda_err spmd_cuda_stream_destroy(int dev, spmd_cuda_stream s) { ON(dev); return cu.streamDestroy(s); }
static spmd_cuda_err spmd_cuda_stream_sync(int dev, spmd_cuda_stream s) { ON(dev); return cu.streamSynchronize(s); }
static spmd_cuda_err spmd_cuda_stream_wait(int dev, spmd_cuda_stream s, spmd_cuda_event e) { ON(dev); return cu.streamWaitEvent(s, e, 0); }
static spmd_cuda_ptr spmd_cuda_event_create(int dev) {
	spmd_cuda_ptr r = {NULL, 0};
	ONP(dev, r);
	r.rc = cu.eventCreateWithFlags(&r.p, SPMD_CUDA_EVENT_NO_TIMING);
	return r;
}
static spmd_cuda_err spmd_cuda_event_destroy(int dev, spmd_cuda_event e) { ON(dev); return cu.eventDestroy(e); }
static spmd_cuda_err spmd_cuda_event_record(int dev, spmd_cuda_event e, spmd_cuda_stream s) { ON(dev); return cu.eventRecord(e, s); }
static spmd_cuda_err spmd_cuda_event_sync(int dev, spmd_cuda_event e) { ON(dev); return cu.eventSynchronize(e); }
static spmd_cuda_err spmd_cuda_event_query(int dev, spmd_cuda_event e) { ON(dev); return cu.eventQuery(e); }
static spmd_cuda_err spmd_cuda_memcpy_async(int dev, void *dst, const void *src, size_t n, int kind, spmd_cuda_stream s) {
	ON(dev);
	return cu.memcpyAsync(dst, src, n, kind, s);
}
static spmd_cuda_err spmd_cuda_device_sync(int dev) { ON(dev); return cu.deviceSynchronize(); }
*/
import "C"

import (
	"fmt"
	"os"
	"sync"
	"unsafe"
)

var load struct {
	once sync.Once
	err  error
}

// loadCUDA opens the CUDA runtime once: the library EnvCUDART names, or
// the first of libcudart.so, .so.12, .so.11.0, .so.11 that dlopen finds.
func loadCUDA() error {
	load.once.Do(func() {
		var msg [512]C.char
		path := C.CString(os.Getenv(EnvCUDART))
		defer C.free(unsafe.Pointer(path))
		if C.spmd_cuda_load(path, &msg[0], C.int(len(msg))) != 0 {
			load.err = fmt.Errorf("%w: %s", ErrNoCUDA, C.GoString(&msg[0]))
		}
	})
	return load.err
}

func cudaErr(call string, rc C.spmd_cuda_err) error {
	if rc == C.SPMD_CUDA_SUCCESS {
		return nil
	}
	return &CUDAError{Call: call, Code: int(rc),
		Name: C.GoString(C.spmd_cuda_err_name(rc)), Msg: C.GoString(C.spmd_cuda_err_string(rc))}
}

// CUDACount returns the number of CUDA devices, or an ErrNoCUDA error when
// the CUDA runtime cannot be loaded or sees none.
func CUDACount() (int, error) {
	if err := loadCUDA(); err != nil {
		return 0, err
	}
	var n C.int
	if rc := C.spmd_cuda_count(&n); rc != C.SPMD_CUDA_SUCCESS {
		return 0, fmt.Errorf("%w: %v", ErrNoCUDA, cudaErr("cudaGetDeviceCount", rc))
	}
	if n == 0 {
		return 0, fmt.Errorf("%w: the CUDA runtime loaded but sees no device", ErrNoCUDA)
	}
	return int(n), nil
}

// devices holds one Device per ordinal: memory, streams and events are
// matched to their device by identity.
var devices struct {
	sync.Mutex
	m map[int]*cudaDevice
}

// CUDA returns GPU ordinal (0 <= ordinal < CUDACount()); the same Device
// for the same ordinal.
func CUDA(ordinal int) (Device, error) {
	n, err := CUDACount()
	if err != nil {
		return nil, err
	}
	if ordinal < 0 || ordinal >= n {
		return nil, errf("CUDA", "device %d out of range: %d devices", ordinal, n)
	}
	devices.Lock()
	defer devices.Unlock()
	if devices.m == nil {
		devices.m = map[int]*cudaDevice{}
	}
	d := devices.m[ordinal]
	if d == nil {
		d = &cudaDevice{ord: C.int(ordinal)}
		devices.m[ordinal] = d
	}
	return d, nil
}

type cudaDevice struct{ ord C.int }

var _ Device = (*cudaDevice)(nil)

func (d *cudaDevice) String() string { return fmt.Sprintf("CUDA device %d", int(d.ord)) }
func (d *cudaDevice) host() bool     { return false }

func (d *cudaDevice) Alloc(bytes int) (*Mem, error) {
	if bytes < 0 {
		return nil, errf("Alloc", "negative size %d on %s", bytes, d)
	}
	m := &Mem{dev: d, n: bytes}
	if bytes == 0 {
		return m, nil
	}
	r := C.spmd_cuda_malloc(d.ord, C.size_t(bytes))
	if err := cudaErr("cudaMalloc", r.rc); err != nil {
		return nil, fmt.Errorf("%w (%d bytes on %s)", err, bytes, d)
	}
	m.ptr = r.p
	m.free = func() error { return cudaErr("cudaFree", C.spmd_cuda_free(d.ord, r.p)) }
	return m, nil
}

func (d *cudaDevice) AllocHost(bytes int) (*HostMem, error) {
	if bytes < 0 {
		return nil, errf("AllocHost", "negative size %d on %s", bytes, d)
	}
	if bytes == 0 {
		return &HostMem{}, nil
	}
	r := C.spmd_cuda_malloc_host(d.ord, C.size_t(bytes))
	if err := cudaErr("cudaMallocHost", r.rc); err != nil {
		return nil, fmt.Errorf("%w (%d bytes for %s)", err, bytes, d)
	}
	return &HostMem{
		b:    unsafe.Slice((*byte)(r.p), bytes),
		free: func() error { return cudaErr("cudaFreeHost", C.spmd_cuda_free_host(d.ord, r.p)) },
	}, nil
}

func (d *cudaDevice) Synchronize() error {
	return cudaErr("cudaDeviceSynchronize", C.spmd_cuda_device_sync(d.ord))
}

type cudaStream struct {
	dev *cudaDevice
	s   C.spmd_cuda_stream
}

func (d *cudaDevice) NewStream() (Stream, error) {
	r := C.spmd_cuda_stream_create(d.ord)
	if err := cudaErr("cudaStreamCreateWithFlags", r.rc); err != nil {
		return nil, err
	}
	return &cudaStream{dev: d, s: C.spmd_cuda_stream(r.p)}, nil
}

// live refuses a closed stream: its NULL handle would be CUDA's legacy
// default stream, which synchronises with everything.
func (s *cudaStream) live(call string) error {
	if s.s == nil {
		return errf(call, "stream on %s is closed", s.dev)
	}
	return nil
}

func (s *cudaStream) own(call string, m *Mem) error {
	if err := s.live(call); err != nil {
		return err
	}
	if m.dev != Device(s.dev) {
		return errf(call, "memory of %s used on a stream of %s", m.dev, s.dev)
	}
	return nil
}

func (s *cudaStream) copy(call string, dst, src unsafe.Pointer, n int, kind C.int) error {
	if n == 0 {
		return nil
	}
	return cudaErr(call, C.spmd_cuda_memcpy_async(s.dev.ord, dst, src, C.size_t(n), kind, s.s))
}

func (s *cudaStream) CopyHtoD(dst *Mem, off int, src []byte) error {
	if err := checkRange("CopyHtoD", dst, off, len(src)); err != nil {
		return err
	}
	if err := s.own("CopyHtoD", dst); err != nil {
		return err
	}
	return s.copy("cudaMemcpyAsync(HtoD)", dst.at(off), unsafe.Pointer(unsafe.SliceData(src)), len(src), C.SPMD_CUDA_HTOD)
}

func (s *cudaStream) CopyDtoH(dst []byte, src *Mem, off int) error {
	if err := checkRange("CopyDtoH", src, off, len(dst)); err != nil {
		return err
	}
	if err := s.own("CopyDtoH", src); err != nil {
		return err
	}
	return s.copy("cudaMemcpyAsync(DtoH)", unsafe.Pointer(unsafe.SliceData(dst)), src.at(off), len(dst), C.SPMD_CUDA_DTOH)
}

func (s *cudaStream) CopyDtoD(dst *Mem, dstOff int, src *Mem, srcOff, n int) error {
	if err := checkRange("CopyDtoD", dst, dstOff, n); err != nil {
		return err
	}
	if err := checkRange("CopyDtoD", src, srcOff, n); err != nil {
		return err
	}
	if err := s.own("CopyDtoD", dst); err != nil {
		return err
	}
	if err := s.own("CopyDtoD", src); err != nil {
		return err
	}
	return s.copy("cudaMemcpyAsync(DtoD)", dst.at(dstOff), src.at(srcOff), n, C.SPMD_CUDA_DTOD)
}

func (s *cudaStream) event(call string, e Event) (*cudaEvent, error) {
	if err := s.live(call); err != nil {
		return nil, err
	}
	ce, ok := e.(*cudaEvent)
	if !ok || ce == nil {
		return nil, errf(call, "event %T is not an event of %s", e, s.dev)
	}
	if ce.dev != s.dev {
		return nil, errf(call, "event of %s used on a stream of %s", ce.dev, s.dev)
	}
	if ce.e == nil {
		return nil, errf(call, "event on %s is closed", s.dev)
	}
	return ce, nil
}

func (s *cudaStream) Record(e Event) error {
	ce, err := s.event("Record", e)
	if err != nil {
		return err
	}
	return cudaErr("cudaEventRecord", C.spmd_cuda_event_record(s.dev.ord, ce.e, s.s))
}

func (s *cudaStream) Wait(e Event) error {
	ce, err := s.event("Wait", e)
	if err != nil {
		return err
	}
	return cudaErr("cudaStreamWaitEvent", C.spmd_cuda_stream_wait(s.dev.ord, s.s, ce.e))
}

func (s *cudaStream) Synchronize() error {
	if err := s.live("Synchronize"); err != nil {
		return err
	}
	return cudaErr("cudaStreamSynchronize", C.spmd_cuda_stream_sync(s.dev.ord, s.s))
}

func (s *cudaStream) Close() error {
	if s.s == nil {
		return nil
	}
	err := s.Synchronize()
	if e := cudaErr("cudaStreamDestroy", C.spmd_cuda_stream_destroy(s.dev.ord, s.s)); err == nil {
		err = e
	}
	s.s = nil
	return err
}

type cudaEvent struct {
	dev *cudaDevice
	e   C.spmd_cuda_event
}

func (d *cudaDevice) NewEvent() (Event, error) {
	r := C.spmd_cuda_event_create(d.ord)
	if err := cudaErr("cudaEventCreateWithFlags", r.rc); err != nil {
		return nil, err
	}
	return &cudaEvent{dev: d, e: C.spmd_cuda_event(r.p)}, nil
}

func (e *cudaEvent) Synchronize() error {
	return cudaErr("cudaEventSynchronize", C.spmd_cuda_event_sync(e.dev.ord, e.e))
}

func (e *cudaEvent) Done() (bool, error) {
	rc := C.spmd_cuda_event_query(e.dev.ord, e.e)
	if rc == C.SPMD_CUDA_NOT_READY {
		return false, nil
	}
	return rc == C.SPMD_CUDA_SUCCESS, cudaErr("cudaEventQuery", rc)
}

func (e *cudaEvent) Close() error {
	if e.e == nil {
		return nil
	}
	err := cudaErr("cudaEventDestroy", C.spmd_cuda_event_destroy(e.dev.ord, e.e))
	e.e = nil
	return err
}
