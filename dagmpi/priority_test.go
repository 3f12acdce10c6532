package dagmpi_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/spmd-go/spmd/dagmpi"
	"github.com/spmd-go/spmd/dagmpi/inproc"
)

// TestPriorityOrder: with one worker busy on a gate task, tasks that become
// ready together run by priority (higher first), ties in submission order.
func TestPriorityOrder(t *testing.T) {
	checkNoLeak(t)
	var order []int
	errs := spmd(t, inproc.Config{Ranks: 1}, []dagmpi.Option{dagmpi.WithWorkers(1)}, func(rt *dagmpi.Runtime) error {
		gate, err := newF64(rt, 1, 0, 0)
		if err != nil {
			return err
		}
		open := make(chan struct{})
		if err := rt.Submit(func(*dagmpi.Task) error { <-open; return nil }, gate.ReadWrite(), dagmpi.Name("gate")); err != nil {
			return err
		}
		prios := []int{0, 5, -1, 5, 9, 0, 3}
		for i, p := range prios {
			if err := rt.Submit(func(*dagmpi.Task) error {
				order = append(order, i)
				return nil
			}, gate.Read(), dagmpi.Priority(p)); err != nil {
				return err
			}
		}
		close(open)
		if err := rt.Wait(); err != nil {
			return err
		}
		want := []int{4, 1, 3, 6, 0, 5, 2}
		if !slices.Equal(order, want) {
			return fmt.Errorf("tasks ran in order %v, want %v (priorities %v)", order, want, prios)
		}
		return nil
	})
	noErrors(t, errs)
}
