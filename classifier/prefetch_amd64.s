#include "textflag.h"

// func prefetchSlots(words []uint32, at []uint64, stride int) uint32
TEXT ·prefetchSlots(SB), NOSPLIT, $0-60
	MOVQ words_base+0(FP), AX
	MOVQ at_base+24(FP), BX
	MOVQ at_len+32(FP), CX
	MOVQ stride+48(FP), DX
	TESTQ CX, CX
	JZ done
loop:
	MOVQ (BX), SI
	IMULQ DX, SI
	PREFETCHT0 (AX)(SI*4)
	ADDQ $8, BX
	DECQ CX
	JNZ loop
done:
	MOVL $0, ret+56(FP)
	RET
