//go:build !unix

package tf

// nonBlock is zero where FIFOs cannot be opened non-blocking; the fstat
// check still refuses them before any read.
const nonBlock = 0
