// Package cudaaware moves device (GPU) memory over MPI: device buffers as a
// buffer kind for point-to-point transfers, detection of a CUDA-aware MPI,
// and, where MPI is not CUDA-aware, a chunked pipeline that stages through
// pinned host memory and overlaps the copies with the transfers.
//
// # Devices
//
// A Device allocates device memory (Mem, and typed views of it, Buffer[T])
// and pinned host memory (HostMem), and makes streams (ordered queues of
// asynchronous copies) and events (markers on a stream that other streams
// and the host can wait for). Two implementations:
//
//   - CUDA(ordinal), built with the cuda build tag: the CUDA runtime,
//     opened with dlopen on first use (the library SPMD_CUDART names, else
//     libcudart.so, .so.12, .so.11.0, .so.11), so the build needs no CUDA
//     header or library and a binary built with the tag runs on machines
//     without CUDA. Without the tag, or where the runtime cannot be loaded
//     or sees no GPU, CUDA and CUDACount return an ErrNoCUDA error that says
//     why. testdata/fakecudart is a fake runtime (host memory behind the
//     same C ABI) that lets the tests run this layer without a GPU.
//   - HostDevice: host memory standing in for a GPU, with one goroutine
//     per stream, so everything above runs, and is tested, without a GPU.
//     Its copies can be slowed down so a missing synchronisation shows as
//     wrong data.
//
// # Choosing the path
//
// MPISupport reports whether MPI reads device memory: the SPMD_CUDA_AWARE
// environment variable (0 or 1) if set, otherwise Open MPI's (and MPICH
// 4's) MPIX_Query_cuda_support, looked up at run time so MPI libraries
// without it still link. NewPipeline with Path Auto takes the direct path
// when it reports a CUDA-aware MPI and the staged path otherwise; Direct
// and Staged force one. Set the override for the whole job, so every rank
// decides alike (although a receiver handles any sender, see below).
//
// # Transfers
//
// SendDevice and RecvDevice move a Buffer[T] between two ranks through a
// Pipeline, which owns a copy stream, one event per staging buffer, and
// Depth pinned staging buffers of ChunkBytes, allocated once and reused.
//
//	p, _ := cudaaware.NewPipeline(dev, cudaaware.Options{ChunkBytes: 1 << 20})
//	defer p.Close()
//	err := cudaaware.SendDevice(p, comm, buf, dest, tag)
//	st, err := cudaaware.RecvDevice(p, comm, buf, source, tag)
//
// On the wire a transfer is a small header (element count, elements per
// chunk, element size) followed by the chunks, in order, on the same tag.
// The direct path sends the buffer as one chunk from its device address
// (mpi.IsendUnsafe) and receives each chunk straight into device memory.
// The staged send copies chunk k device-to-host into staging buffer k mod
// Depth on the stream and records that buffer's event; once the event
// completes, the chunk goes out with mpi.Isend, and the buffer of chunk k-1
// is refilled with chunk k-1+Depth only when its send has completed: the
// copy of one chunk runs while the previous one is on the wire. The staged
// receive is the mirror image: chunk k arrives in staging buffer k mod
// Depth and is copied host-to-device on the stream (so chunks land in
// order); the buffer of chunk k-1 takes the receive of chunk k-1+Depth once
// its copy has completed.
//
// The receiver follows the chunking its sender announces, so the two sides
// may use different paths, chunk sizes and depths. A message longer than
// the receive buffer, or of another element size, is received, dropped and
// reported as an mpi.ErrTruncate or mpi.ErrType error, so the sender never
// blocks on a receiver that gave up. A shorter message is fine
// (Status.Count tells the length), as with MPI_Recv.
//
// # Rules
//
// SendDevice and RecvDevice are local, blocking point-to-point calls: they
// return once the buffer may be reused (send) or holds the data (receive).
// They call MPI from the calling goroutine, so the thread level must allow
// that goroutine to call MPI (MULTIPLE when several goroutines transfer at
// once). A Pipeline serves one transfer at a time (ErrBusy otherwise): use
// one per goroutine. Two transfers between the same pair of ranks on the
// same communicator and tag must not overlap in time, or their chunks would
// interleave. Device memory is never a Go pointer: the host only hands it
// to copies and to MPI. With MPICH 4.0 (Debian 12), a rank that sends to
// itself from one goroutine while receiving in another can hang inside
// MPICH (two threads blocked on a message to self), so avoid self
// transfers across goroutines there.
//
// # Device tasks
//
// Graph runs tasks on a pool of streams of one device: each task declares
// the device memory it reads and writes, gets a stream (round robin, so
// independent tasks overlap), and its stream waits with events, never on
// the host, for the earlier tasks it conflicts with (read after write,
// write after read, write after write, tracked per allocation). Graph.Wait
// is the one host synchronisation.
//
// # dagmpi device handles and device tasks
//
// DagmpiDevice turns a Device into the dagmpi.Device that
// Runtime.AddDevice takes (dagmpi does not import this package). Then
// dagmpi.NewDeviceData makes handles whose replicas live in device memory,
// and tasks submitted with dagmpi.OnDevice get a stream of the pool (round
// robin): the body enqueues work on TaskStream(t), on the replicas
// TaskBuffer(d, t), and returns without waiting. The runtime makes device
// tasks that conflict wait for each other with events on their streams;
// host tasks, sends and Fetch wait until the progress goroutine sees the
// event complete. Transfers of device handles are inferred like any other:
// direct from device memory over package p2p when MPISupport reports a
// CUDA-aware MPI, otherwise chunk by chunk through pinned host memory (the
// copy of one chunk overlaps the transfer of the previous one, as in a
// Pipeline, but driven by the progress goroutine, not blocking). On the
// host stand-in, LaunchHost enqueues a host function as a kernel and
// HostView gives it the stand-in memory.
//
// # Not yet
//
// There are no kernels on GPUs: GEMM tiles would need cuBLAS, which is not
// wrapped, and LaunchHost works only on the host stand-in (a GPU stream
// would need cudaLaunchHostFunc and a cgo callback). Graph and dagmpi's
// device tasks are two schedulers of the same idea; Graph stays for code
// that uses streams without dagmpi.
package cudaaware
