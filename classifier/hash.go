package classifier

import (
	"encoding/binary"
	"math/bits"
)

// Feature identity is a 64-bit hash of the normalised token bytes. The hash
// is part of the model file format: changing any constant here changes every
// model, so it is versioned with the format (see format.go).
const (
	fnvOffset = 14695981039346656037 // FNV-1a's constants, as seeds
	fnvPrime  = 1099511628211

	saltNeg  = 0x9e3779b97f4a7c15 // negated token ("NOT_x")
	saltUni  = 0x3c6ef372fe94f82b
	saltBi   = 0xa54ff53a5f1d36f1
	saltTri  = 0x510e527fade682d1
	mulOrder = 0xff51afd7ed558ccd
)

// hashToken hashes a token eight bytes at a time, with overlapping loads
// for the tail (as wyhash does), so a typical word costs one multiply. It
// needs no finaliser: every feature hash built from it is mixed by fmix64,
// and for tokens of up to 8 bytes it is a bijection (no collisions).
func hashToken(b []byte, negated bool) uint64 {
	le := binary.LittleEndian
	h := uint64(fnvOffset) ^ uint64(len(b))*fnvPrime
	for len(b) > 8 {
		h = bits.RotateLeft64((h^le.Uint64(b))*mulOrder, 29)
		b = b[8:]
	}
	var v uint64
	if n := len(b); cap(b) >= 8 {
		// The scratch buffer almost always has room past the token: load
		// eight bytes and mask, with no branch on the length.
		v = le.Uint64(b[:8]) & (1<<(8*uint(n)) - 1 | -uint64(n>>3))
	} else {
		for i, c := range b {
			v |= uint64(c) << (8 * uint(i))
		}
	}
	h = bits.RotateLeft64((h^v)*mulOrder, 29)
	if negated {
		h ^= saltNeg
	}
	return h
}

// hashShort is hashToken of a token of n <= 8 bytes already loaded into
// v (little-endian, the bytes past n zero), not negated.
func hashShort(v uint64, n int) uint64 {
	h := uint64(fnvOffset) ^ uint64(n)*fnvPrime
	return bits.RotateLeft64((h^v)*mulOrder, 29)
}

// fmix64 is MurmurHash3's finaliser: it spreads FNV's weak low bits so a
// hashed model's buckets and the per-document seen sets can index by the
// low bits directly.
func fmix64(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

func featUni(a uint64) uint64 { return nonZero(fmix64(a ^ saltUni)) }

func featBi(a, b uint64) uint64 {
	return nonZero(fmix64(bits.RotateLeft64(a, 31)*mulOrder ^ b ^ saltBi))
}

func featTri(a, b, c uint64) uint64 {
	return nonZero(fmix64(bits.RotateLeft64(a, 17)*mulOrder ^ bits.RotateLeft64(b, 31)*fnvPrime ^ c ^ saltTri))
}

// nonZero keeps 0 free as the empty-slot marker of the lookup table.
func nonZero(h uint64) uint64 {
	if h == 0 {
		return 1
	}
	return h
}
