package schemas

import (
	"math"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// This file is a small JSON scanner: it checks syntax exactly as
// encoding/json does (json.Valid agrees with it on every input, which a
// fuzz test checks) and records where the members of one object are, so
// the decoders can read the fields they know without building a map or
// using reflection.

// maxDepth is encoding/json's nesting limit, kept so that the decoder and
// a validator built on encoding/json agree on deeply nested input.
const maxDepth = 10000

// span is where a member's value lies: data[start:end]. end == 0 means
// the member is absent (no value starts at offset 0 inside an object).
type span struct{ start, end int }

func (s span) present() bool { return s.end > 0 }

func isWS(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipWS(data []byte, i int) int {
	for i < len(data) && isWS(data[i]) {
		i++
	}
	return i
}

// scanString checks the string starting at data[i] == '"' and returns the
// offset just past its closing quote, and whether it holds an escape.
func scanString(data []byte, i int) (end int, escaped, ok bool) {
	i++
	for i < len(data) {
		c := data[i]
		switch {
		case c == '"':
			return i + 1, escaped, true
		case c == '\\':
			escaped = true
			if i+1 >= len(data) {
				return i, false, false
			}
			switch data[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(data) || !isHex(data[i+2]) || !isHex(data[i+3]) || !isHex(data[i+4]) || !isHex(data[i+5]) {
					return i, false, false
				}
				i += 6
			default:
				return i, false, false
			}
		case c < 0x20:
			return i, false, false
		default:
			i++
		}
	}
	return i, false, false
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// scanNumber checks the number starting at data[i] and returns the offset
// just past it.
func scanNumber(data []byte, i int) (int, bool) {
	if i < len(data) && data[i] == '-' {
		i++
	}
	if i >= len(data) {
		return i, false
	}
	switch {
	case data[i] == '0':
		i++
	case '1' <= data[i] && data[i] <= '9':
		for i < len(data) && isDigit(data[i]) {
			i++
		}
	default:
		return i, false
	}
	if i < len(data) && data[i] == '.' {
		i++
		if i >= len(data) || !isDigit(data[i]) {
			return i, false
		}
		for i < len(data) && isDigit(data[i]) {
			i++
		}
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if i >= len(data) || !isDigit(data[i]) {
			return i, false
		}
		for i < len(data) && isDigit(data[i]) {
			i++
		}
	}
	return i, true
}

// scanScalar checks the string, number or literal at data[i].
func scanScalar(data []byte, i int) (int, bool) {
	switch c := data[i]; {
	case c == '"':
		end, _, ok := scanString(data, i)
		return end, ok
	case c == '-' || isDigit(c):
		return scanNumber(data, i)
	case c == 't':
		return scanLiteral(data, i, "true")
	case c == 'f':
		return scanLiteral(data, i, "false")
	case c == 'n':
		return scanLiteral(data, i, "null")
	}
	return i, false
}

func scanLiteral(data []byte, i int, lit string) (int, bool) {
	if len(data)-i >= len(lit) && string(data[i:i+len(lit)]) == lit {
		return i + len(lit), true
	}
	return i, false
}

// skipValue checks the value starting at data[i] (no leading white space)
// and returns the offset just past it. depth is the number of containers
// already open around the value.
func skipValue(data []byte, i, depth int) (int, bool) {
	if i >= len(data) {
		return i, false
	}
	if c := data[i]; c != '{' && c != '[' {
		return scanScalar(data, i)
	}
	// isObj[n] tells whether the n-th container opened here is an object.
	var isObj [maxDepth/64 + 1]uint64
	n := 0
	top := func() bool { return isObj[(n-1)/64]&(1<<uint((n-1)%64)) != 0 }
	// member reads `"key" :` and leaves i at the value.
	member := func() bool {
		i = skipWS(data, i)
		if i >= len(data) || data[i] != '"' {
			return false
		}
		var ok bool
		if i, _, ok = scanString(data, i); !ok {
			return false
		}
		i = skipWS(data, i)
		if i >= len(data) || data[i] != ':' {
			return false
		}
		i++
		return true
	}
	for {
		// A value is expected at i.
		i = skipWS(data, i)
		if i >= len(data) {
			return i, false
		}
		if c := data[i]; c == '{' || c == '[' {
			if depth+n+1 > maxDepth {
				return i, false
			}
			w, b := n/64, uint64(1)<<uint(n%64)
			if c == '{' {
				isObj[w] |= b
			} else {
				isObj[w] &^= b
			}
			n++
			i = skipWS(data, i+1)
			if i < len(data) && (c == '{' && data[i] == '}' || c == '[' && data[i] == ']') {
				i++
				n--
			} else {
				if c == '{' && !member() {
					return i, false
				}
				continue
			}
		} else {
			var ok bool
			if i, ok = scanScalar(data, i); !ok {
				return i, false
			}
		}
		// A value has ended: close containers, or go on to the next element.
		for {
			if n == 0 {
				return i, true
			}
			i = skipWS(data, i)
			if i >= len(data) {
				return i, false
			}
			obj := top()
			if data[i] == ',' {
				i++
				if obj && !member() {
					return i, false
				}
				break
			}
			if obj && data[i] == '}' || !obj && data[i] == ']' {
				i++
				n--
				continue
			}
			return i, false
		}
	}
}

// validDocument reports whether data is one well-formed JSON value with
// nothing but white space around it, as json.Valid does.
func validDocument(data []byte) bool {
	i := skipWS(data, 0)
	end, ok := skipValue(data, i, 0)
	return ok && skipWS(data, end) == len(data)
}

// scanObject checks the object starting at data[i] == '{' whose nesting
// depth (counting itself) is depth, and records in spans[k] the value of
// each member whose key lookup maps to k >= 0; a key seen twice keeps its
// last value, as encoding/json and JSON Schema validators do. It returns
// the offset just past the object.
func scanObject(data []byte, i, depth int, lookup func(key []byte) int, spans []span) (int, bool) {
	if depth > maxDepth {
		return i, false
	}
	i = skipWS(data, i+1)
	if i < len(data) && data[i] == '}' {
		return i + 1, true
	}
	var keyBuf []byte // for escaped keys, which are rare: allocated on first use
	for {
		if i >= len(data) || data[i] != '"' {
			return i, false
		}
		kend, escaped, ok := scanString(data, i)
		if !ok {
			return i, false
		}
		key := data[i+1 : kend-1]
		if escaped {
			if len(key) <= 6*32 {
				keyBuf = appendUnescaped(keyBuf[:0], key)
				key = keyBuf
			} else {
				key = nil // too long to be a key we know
			}
		}
		k := lookup(key)
		i = skipWS(data, kend)
		if i >= len(data) || data[i] != ':' {
			return i, false
		}
		i = skipWS(data, i+1)
		start := i
		if i, ok = skipValue(data, i, depth); !ok {
			return i, false
		}
		if k >= 0 {
			spans[k] = span{start, i}
		}
		i = skipWS(data, i)
		if i >= len(data) {
			return i, false
		}
		switch data[i] {
		case ',':
			i = skipWS(data, i+1)
		case '}':
			return i + 1, true
		default:
			return i, false
		}
	}
}

// appendUnescaped appends the decoded contents of a well-formed JSON
// string (quotes excluded) to dst, the way encoding/json decodes it: a
// \u escape of a lone surrogate becomes U+FFFD.
func appendUnescaped(dst, raw []byte) []byte {
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' {
			j := i + 1
			for j < len(raw) && raw[j] != '\\' {
				j++
			}
			dst = append(dst, raw[i:j]...)
			i = j
			continue
		}
		switch raw[i+1] {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r := hex4(raw[i+2:])
			i += 6
			if utf16.IsSurrogate(r) {
				if i+6 <= len(raw) && raw[i] == '\\' && raw[i+1] == 'u' {
					if dec := utf16.DecodeRune(r, hex4(raw[i+2:])); dec != utf8.RuneError {
						r = dec
						i += 6
					} else {
						r = utf8.RuneError
					}
				} else {
					r = utf8.RuneError
				}
			}
			dst = utf8.AppendRune(dst, r)
			continue
		default: // '"', '\\', '/'
			dst = append(dst, raw[i+1])
		}
		i += 2
	}
	return dst
}

func hex4(b []byte) rune {
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		default:
			c -= 'A' - 10
		}
		r = r<<4 | rune(c)
	}
	return r
}

// kind names the JSON type of the value starting with c, for messages.
func kind(c byte) string {
	switch c {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// str returns the string value at s in data (which must start with '"'),
// taking the unescaped contents as a substring of whole, data's copy as a
// string, so that most fields cost no allocation of their own.
func str(data []byte, whole string, s span) string {
	raw := data[s.start+1 : s.end-1]
	if strings.IndexByte(whole[s.start+1:s.end-1], '\\') < 0 {
		return whole[s.start+1 : s.end-1]
	}
	var b strings.Builder
	b.Grow(len(raw))
	b.Write(appendUnescaped(make([]byte, 0, len(raw)), raw))
	return b.String()
}

// numberKind classifies a JSON number exactly (as a JSON Schema validator
// does with arbitrary precision, so 4.0 and 40e-1 are the integer 4).
type numberKind int

const (
	notInteger numberKind = iota
	smallInteger
	hugeInteger // an integer outside the range of int64
)

// decimal is a well-formed JSON number read exactly: its value is
// -1^neg * digits * 10^exp, where digits (the significant digits, without
// leading or trailing zeros; empty for zero) are digit(lo) to digit(hi-1).
type decimal struct {
	neg         bool
	intPart     []byte
	frac        []byte
	lo, hi, exp int
}

func (d *decimal) digit(k int) byte {
	if k < len(d.intPart) {
		return d.intPart[k]
	}
	return d.frac[k-len(d.intPart)]
}

func (d *decimal) zero() bool { return d.lo == d.hi }

// magnitude is the number of digits of the value's integer part if it is
// at least 1, or 0 or less if it is below 1: the value lies in
// [10^(magnitude-1), 10^magnitude).
func (d *decimal) magnitude() int { return d.hi - d.lo + d.exp }

func parseDecimal(num []byte) decimal {
	var d decimal
	i := 0
	if num[0] == '-' {
		d.neg = true
		i = 1
	}
	s := i
	for i < len(num) && isDigit(num[i]) {
		i++
	}
	d.intPart = num[s:i]
	if i < len(num) && num[i] == '.' {
		i++
		s = i
		for i < len(num) && isDigit(num[i]) {
			i++
		}
		d.frac = num[s:i]
	}
	exp := 0
	if i < len(num) { // 'e' or 'E'
		i++
		eneg := false
		if num[i] == '+' || num[i] == '-' {
			eneg = num[i] == '-'
			i++
		}
		for ; i < len(num); i++ {
			if exp < 1e9 { // past that, only the sign of the exponent matters
				exp = exp*10 + int(num[i]-'0')
			}
		}
		if eneg {
			exp = -exp
		}
	}
	n := len(d.intPart) + len(d.frac)
	d.lo, d.hi = 0, n
	for d.lo < n && d.digit(d.lo) == '0' {
		d.lo++
	}
	for d.hi > d.lo && d.digit(d.hi-1) == '0' {
		d.hi--
	}
	d.exp = exp - len(d.frac) + (n - d.hi)
	return d
}

// integer reads the well-formed JSON number num: whether it is an
// integer (exactly, as a JSON Schema validator decides it: 4.0 and 40e-1
// are the integer 4) and, when it is small, its value.
func integer(num []byte) (int64, numberKind) {
	d := parseDecimal(num)
	if d.zero() {
		return 0, smallInteger
	}
	if d.exp < 0 { // the last significant digit is not 0
		return 0, notInteger
	}
	if d.magnitude() > 19 {
		return 0, hugeInteger
	}
	var u uint64 // at most 19 digits: below 1e19, within uint64
	for k := d.lo; k < d.hi; k++ {
		u = u*10 + uint64(d.digit(k)-'0')
	}
	for e := d.exp; e > 0; e-- {
		u *= 10
	}
	switch {
	case !d.neg && u <= math.MaxInt64:
		return int64(u), smallInteger
	case d.neg && u <= 1<<63:
		return int64(-u), smallInteger // -u wraps to the right value for 1<<63
	}
	return 0, hugeInteger
}

// unitInterval reports whether the well-formed JSON number num is, exactly,
// from 0 to 1.
func unitInterval(num []byte) bool {
	d := parseDecimal(num)
	switch {
	case d.zero():
		return true
	case d.neg:
		return false
	case d.magnitude() <= 0: // below 1
		return true
	}
	return d.hi-d.lo == 1 && d.digit(d.lo) == '1' && d.exp == 0 // exactly 1
}
