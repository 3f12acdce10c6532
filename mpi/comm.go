package mpi

import "fmt"

// Special ranks and tags. Their values are the library's, read at package
// initialisation.
var (
	// AnySource matches a message from any rank (MPI_ANY_SOURCE).
	AnySource int
	// AnyTag matches a message with any tag (MPI_ANY_TAG).
	AnyTag int
	// ProcNull is the null rank: sends to it and receives from it complete
	// at once (MPI_PROC_NULL).
	ProcNull int
	// Undefined is MPI_UNDEFINED, for example the color of a rank that
	// joins no communicator in Split.
	Undefined int
)

// Comm is a communicator. World and Self are predefined; Dup, Split,
// SplitType, Create, CartCreate and CartSub make new ones, which the program
// frees with Free. All communicators return errors as values
// (MPI_ERRORS_RETURN). Calls on a Comm are collective over its group unless
// documented as local.
type Comm struct {
	h       commH
	name    string
	rank    int
	size    int
	tagUB   int
	builtin bool
	cart    *cartInfo
}

type cartInfo struct {
	dims    []int
	periods []bool
}

func newComm(h commH, name string, builtin bool) (*Comm, error) {
	rank, size, rc := lowCommRankSize(h)
	if rc != 0 {
		return nil, codeErr(rc, "MPI_Comm_rank")
	}
	return &Comm{h: h, name: name, rank: rank, size: size, tagUB: lowTagUB(h), builtin: builtin}, nil
}

// Rank returns this process's rank in c (local).
func (c *Comm) Rank() int { return c.rank }

// Size returns the number of processes in c (local).
func (c *Comm) Size() int { return c.size }

// TagUB returns the largest tag the library accepts on c (MPI_TAG_UB):
// 2^31-1 for Open MPI over shared memory and TCP, 2^23-1 over UCX, 2^28-1 for
// MPICH. Valid tags are 0..TagUB().
func (c *Comm) TagUB() int { return c.tagUB }

func (c *Comm) String() string {
	if c == nil {
		return "mpi.Comm(nil)"
	}
	return fmt.Sprintf("%s(rank %d of %d)", c.name, c.rank, c.size)
}

// check returns an error if c cannot be used for call.
func (c *Comm) check(call string) error {
	if !live() {
		return stateErr(call)
	}
	if c == nil {
		return argErr(clsComm, call, "nil communicator")
	}
	if c.h == commNull {
		return argErr(clsComm, call, "communicator %s was freed", c.name)
	}
	return nil
}

func (c *Comm) checkDest(call string, dest int) error {
	if (dest < 0 || dest >= c.size) && dest != ProcNull {
		return argErr(clsRank, call, "rank %d out of range for %s of size %d", dest, c.name, c.size)
	}
	return nil
}

func (c *Comm) checkSource(call string, src int) error {
	if (src < 0 || src >= c.size) && src != ProcNull && src != AnySource {
		return argErr(clsRank, call, "source rank %d out of range for %s of size %d", src, c.name, c.size)
	}
	return nil
}

func (c *Comm) checkRoot(call string, root int) error {
	if root < 0 || root >= c.size {
		return argErr(clsRoot, call, "root %d out of range for %s of size %d", root, c.name, c.size)
	}
	return nil
}

func (c *Comm) checkTag(call string, tag int, recv bool) error {
	if (tag < 0 || tag > c.tagUB) && !(recv && tag == AnyTag) {
		return argErr(clsTag, call, "tag %d outside 0..%d (MPI_TAG_UB of %s)", tag, c.tagUB, c.name)
	}
	return nil
}

func (c *Comm) derived(h commH, rc int, call, what string) (*Comm, error) {
	if rc != 0 {
		return nil, codeErr(rc, call)
	}
	if h == commNull {
		return nil, nil
	}
	return newComm(h, fmt.Sprintf("%s/%s", c.name, what), false)
}

// Dup returns a new communicator with the same group as c and a separate
// message space (collective).
func (c *Comm) Dup() (*Comm, error) {
	if err := c.check("MPI_Comm_dup"); err != nil {
		return nil, err
	}
	h, rc := lowCommDup(c.h)
	return c.derived(h, rc, "MPI_Comm_dup", "dup")
}

// Split partitions c by color, ordering ranks in each part by key, then by
// rank in c (collective). A rank that passes color Undefined gets a nil
// communicator and no error.
func (c *Comm) Split(color, key int) (*Comm, error) {
	if err := c.check("MPI_Comm_split"); err != nil {
		return nil, err
	}
	if color < 0 && color != Undefined {
		return nil, argErr(clsArg, "MPI_Comm_split", "color %d is negative (use mpi.Undefined to opt out)", color)
	}
	h, rc := lowCommSplit(c.h, color, key)
	return c.derived(h, rc, "MPI_Comm_split", fmt.Sprintf("split(%d)", color))
}

// SplitShared splits c into communicators of ranks that can share memory,
// usually one per node (MPI_Comm_split_type with MPI_COMM_TYPE_SHARED;
// collective).
func (c *Comm) SplitShared(key int) (*Comm, error) {
	if err := c.check("MPI_Comm_split_type"); err != nil {
		return nil, err
	}
	h, rc := lowCommSplitShared(c.h, key)
	return c.derived(h, rc, "MPI_Comm_split_type", "shared")
}

// CompareResult is the result of Compare.
type CompareResult int

// Results of Compare.
const (
	// Ident: the same communicator.
	Ident CompareResult = iota
	// Congruent: same group, same order, different context (a Dup).
	Congruent
	// Similar: same members in a different order.
	Similar
	// Unequal: different members.
	Unequal
)

func (r CompareResult) String() string {
	return [...]string{"MPI_IDENT", "MPI_CONGRUENT", "MPI_SIMILAR", "MPI_UNEQUAL"}[r]
}

// Compare compares c with o (local).
func (c *Comm) Compare(o *Comm) (CompareResult, error) {
	if err := c.check("MPI_Comm_compare"); err != nil {
		return Unequal, err
	}
	if err := o.check("MPI_Comm_compare"); err != nil {
		return Unequal, err
	}
	r, rc := lowCommCompare(c.h, o.h)
	if rc != 0 {
		return Unequal, codeErr(rc, "MPI_Comm_compare")
	}
	return r, nil
}

// Free releases c (collective). World and Self cannot be freed. Freeing a
// communicator twice returns an ErrComm error.
func (c *Comm) Free() error {
	if err := c.check("MPI_Comm_free"); err != nil {
		return err
	}
	if c.builtin {
		return argErr(clsComm, "MPI_Comm_free", "cannot free predefined communicator %s", c.name)
	}
	rc := lowCommFree(c.h)
	c.h = commNull
	if rc != 0 {
		return codeErr(rc, "MPI_Comm_free")
	}
	return nil
}

// Abort aborts every process of c's job; see the package function Abort.
func (c *Comm) Abort(code int, msg string) error { return Abort(c, code, msg) }

// Group is a set of ranks (MPI_Group), used to build communicators.
type Group struct {
	h groupH
}

// Group returns c's group (local). Free it when done.
func (c *Comm) Group() (*Group, error) {
	if err := c.check("MPI_Comm_group"); err != nil {
		return nil, err
	}
	h, rc := lowCommGroup(c.h)
	if rc != 0 {
		return nil, codeErr(rc, "MPI_Comm_group")
	}
	return &Group{h: h}, nil
}

// Size returns the number of ranks in g.
func (g *Group) Size() int { n, _ := lowGroupSizeRank(g.h); return n }

// Rank returns this process's rank in g, or Undefined.
func (g *Group) Rank() int { _, r := lowGroupSizeRank(g.h); return r }

// Incl returns the group of g's ranks listed, in that order.
func (g *Group) Incl(ranks []int) (*Group, error) { return g.sub(ranks, false) }

// Excl returns g without the listed ranks.
func (g *Group) Excl(ranks []int) (*Group, error) { return g.sub(ranks, true) }

func (g *Group) sub(ranks []int, excl bool) (*Group, error) {
	call := "MPI_Group_incl"
	if excl {
		call = "MPI_Group_excl"
	}
	if !live() {
		return nil, stateErr(call)
	}
	n := g.Size()
	seen := make(map[int]bool, len(ranks))
	for i, r := range ranks {
		if r < 0 || r >= n {
			return nil, argErr(clsRank, call, "ranks[%d] = %d out of range for a group of %d", i, r, n)
		}
		if seen[r] {
			return nil, argErr(clsRank, call, "ranks[%d] = %d appears twice", i, r)
		}
		seen[r] = true
	}
	h, rc := lowGroupSub(g.h, toC32(ranks), excl)
	if rc != 0 {
		return nil, codeErr(rc, call)
	}
	return &Group{h: h}, nil
}

// TranslateRanks maps ranks of g to the corresponding ranks of o
// (Undefined where a rank is not in o).
func (g *Group) TranslateRanks(ranks []int, o *Group) ([]int, error) {
	if !live() {
		return nil, stateErr("MPI_Group_translate_ranks")
	}
	out := make([]int32, len(ranks))
	if rc := lowGroupTranslate(g.h, toC32(ranks), o.h, out); rc != 0 {
		return nil, codeErr(rc, "MPI_Group_translate_ranks")
	}
	res := make([]int, len(out))
	for i, v := range out {
		res[i] = int(v)
	}
	return res, nil
}

// Free releases g.
func (g *Group) Free() error {
	if !live() {
		return stateErr("MPI_Group_free")
	}
	if g.h == groupNull {
		return argErr(clsGroup, "MPI_Group_free", "group already freed")
	}
	rc := lowGroupFree(g.h)
	g.h = groupNull
	if rc != 0 {
		return codeErr(rc, "MPI_Group_free")
	}
	return nil
}

// Create makes a communicator of the ranks of c in g (collective over c).
// Ranks not in g get a nil communicator.
func (c *Comm) Create(g *Group) (*Comm, error) {
	if err := c.check("MPI_Comm_create"); err != nil {
		return nil, err
	}
	h, rc := lowCommCreate(c.h, g.h)
	return c.derived(h, rc, "MPI_Comm_create", "create")
}

// CreateGroup makes a communicator of the ranks of c in g, collective over
// the members of g only (MPI_Comm_create_group): ranks outside g do not
// call it. tag tells apart concurrent creations over overlapping groups
// (0..TagUB). The new communicator's ranks follow g's order.
func (c *Comm) CreateGroup(g *Group, tag int) (*Comm, error) {
	const call = "MPI_Comm_create_group"
	if err := c.check(call); err != nil {
		return nil, err
	}
	if g == nil || g.h == groupNull {
		return nil, argErr(clsGroup, call, "nil or freed group")
	}
	if err := c.checkTag(call, tag, false); err != nil {
		return nil, err
	}
	if g.Rank() == Undefined {
		return nil, argErr(clsGroup, call, "rank %d of %s is not in the group", c.rank, c.name)
	}
	h, rc := lowCommCreateGroup(c.h, g.h, tag)
	return c.derived(h, rc, call, "create_group")
}

// toC32 converts ints to the C ints MPI takes.
func toC32(v []int) []int32 {
	out := make([]int32, len(v))
	for i, x := range v {
		out[i] = int32(x)
	}
	return out
}
