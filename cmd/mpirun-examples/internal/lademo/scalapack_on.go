//go:build scalapack && cgo && !mpich

package lademo

const scalapackBuilt = true
