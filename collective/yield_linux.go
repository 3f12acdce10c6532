package collective

import "syscall"

// osYield gives the core to another thread (sched_yield), as Open MPI's
// mpi_yield_when_idle does, so that ranks oversubscribing the cores let
// each other run while one waits.
func osYield() { syscall.Syscall(syscall.SYS_SCHED_YIELD, 0, 0, 0) }
