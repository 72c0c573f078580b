//go:build ignore

// This program generates kernels_amd64.s: the SGEMM micro-kernels of
// package sgemm (AVX-512 and AVX2+FMA) and the 8×8 transpose that
// packs transposed operands (AVX). Run it with
// `go generate` in package sgemm.
package main

import (
	"bytes"
	"fmt"
	"os"
)

var b bytes.Buffer

func p(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }

// isa describes a vector instruction set: its register prefix, the number
// of registers, the lanes per register and the bytes per register.
type isa struct {
	name  string // suffix of the kernel's name
	reg   string // "Z" or "Y"
	nregs int
	lanes int
}

var (
	avx512 = isa{"AVX512", "Z", 32, 16}
	avx2   = isa{"AVX2", "Y", 16, 8}
)

// unroll is how many steps of k the main loop of a kernel does per
// iteration; a second loop does the remaining k mod unroll.
const unroll = 4

// kernel emits sgemm<mr>x<nr><isa>, the mr×nr micro-kernel (nr = nv vector
// registers): with packed a (k steps of mr floats) and b (k steps of nr
// floats) it computes the tile t = alpha·Σ_p a[p·mr+i]·b[p·nr+j] and stores
// c[i·ldc+j] = t + beta·c[i·ldc+j] when load ≠ 0, else t (c is then never
// read). The accumulators are registers 0 … mr·nv−1, the rows of b the next
// nv registers, and one or two more take the broadcasts of a.
//
// Its Go declaration is
//
//	func sgemm<mr>x<nr><isa>(k int, a, b, c *float32, ldc int, alpha, beta float32, load int)
func kernel(s isa, mr, nv int) {
	nr := nv * s.lanes
	vb := 4 * s.lanes // bytes per vector
	name := fmt.Sprintf("sgemm%dx%d%s", mr, nr, s.name)
	nacc := mr * nv
	if nacc+nv+1 > s.nregs {
		panic(name + ": too many registers")
	}
	r := func(i int) string { return fmt.Sprintf("%s%d", s.reg, i) }
	acc := func(i, v int) string { return r(i*nv + v) }
	bReg := func(v int) string { return r(nacc + v) }
	bc := []string{r(nacc + nv), r(nacc + nv + 1)}
	if nacc+nv+2 > s.nregs { // one register left for the broadcasts
		bc[1] = bc[0]
	}
	zero := "VPXORD"
	if s.reg == "Y" {
		zero = "VPXOR"
	}

	// step emits one step of k at offset u (in steps) from SI and DI.
	step := func(u int) {
		for v := 0; v < nv; v++ {
			p("\tVMOVUPS %d(DI), %s", 4*(u*nr+v*s.lanes), bReg(v))
		}
		for i := 0; i < mr; i++ {
			br := bc[i%2]
			p("\tVBROADCASTSS %d(SI), %s", 4*(u*mr+i), br)
			for v := 0; v < nv; v++ {
				p("\tVFMADD231PS %s, %s, %s", bReg(v), br, acc(i, v))
			}
		}
	}

	p("// func %s(k int, a, b, c *float32, ldc int, alpha, beta float32, load int)", name)
	p("TEXT ·%s(SB), NOSPLIT, $0-56", name)
	p("\tMOVQ k+0(FP), CX")
	p("\tMOVQ a+8(FP), SI")
	p("\tMOVQ b+16(FP), DI")
	p("\tMOVQ c+24(FP), DX")
	p("\tMOVQ ldc+32(FP), R9")
	p("\tSHLQ $2, R9")
	for i := 0; i < nacc; i++ {
		p("\t%s %s, %s, %s", zero, r(i), r(i), r(i))
	}
	p("\tMOVQ CX, BX")
	p("\tSHRQ $%d, BX", log2(unroll))
	p("\tANDQ $%d, CX", unroll-1)
	p("\tTESTQ BX, BX")
	p("\tJZ %s_tail", name)
	p("%s_loop:", name)
	for u := 0; u < unroll; u++ {
		step(u)
	}
	p("\tADDQ $%d, SI", 4*mr*unroll)
	p("\tADDQ $%d, DI", 4*nr*unroll)
	p("\tDECQ BX")
	p("\tJNZ %s_loop", name)
	p("%s_tail:", name)
	p("\tTESTQ CX, CX")
	p("\tJZ %s_store", name)
	p("%s_tailloop:", name)
	step(0)
	p("\tADDQ $%d, SI", 4*mr)
	p("\tADDQ $%d, DI", 4*nr)
	p("\tDECQ CX")
	p("\tJNZ %s_tailloop", name)
	p("%s_store:", name)
	p("\tVBROADCASTSS alpha+40(FP), %s", bc[0])
	for i := 0; i < nacc; i++ {
		p("\tVMULPS %s, %s, %s", bc[0], r(i), r(i))
	}
	p("\tMOVQ load+48(FP), AX")
	p("\tTESTQ AX, AX")
	p("\tJZ %s_nobeta", name)
	p("\tVBROADCASTSS beta+44(FP), %s", bReg(0))
	p("\tMOVQ DX, R10")
	for i := 0; i < mr; i++ {
		for v := 0; v < nv; v++ {
			p("\tVFMADD231PS %d(R10), %s, %s", v*vb, bReg(0), acc(i, v))
		}
		if i < mr-1 {
			p("\tADDQ R9, R10")
		}
	}
	p("%s_nobeta:", name)
	for i := 0; i < mr; i++ {
		for v := 0; v < nv; v++ {
			p("\tVMOVUPS %s, %d(DX)", acc(i, v), v*vb)
		}
		if i < mr-1 {
			p("\tADDQ R9, DX")
		}
	}
	p("\tVZEROUPPER")
	p("\tRET")
	p("")
}

// transpose emits transpose8: for q < n/8 it transposes the 8×8 block of
// the 8 rows src, src+lds, … (columns 8q … 8q+7) into the rows 8q … 8q+7 of
// dst (ldd floats apart), 8 floats each. It needs AVX only.
//
// Its Go declaration is
//
//	func transpose8(dst *float32, ldd int, src *float32, lds int, n int)
func transpose() {
	p("// func transpose8(dst *float32, ldd int, src *float32, lds int, n int)")
	p("TEXT ·transpose8(SB), NOSPLIT, $0-40")
	p("\tMOVQ dst+0(FP), DX")
	p("\tMOVQ ldd+8(FP), R11")
	p("\tSHLQ $2, R11")
	p("\tLEAQ (R11)(R11*2), R12") // 3·ldd
	p("\tMOVQ src+16(FP), SI")
	p("\tMOVQ lds+24(FP), R8")
	p("\tSHLQ $2, R8")
	p("\tLEAQ (R8)(R8*2), R9")  // 3·lds
	p("\tLEAQ (SI)(R8*4), R10") // row 4
	p("\tMOVQ n+32(FP), CX")
	p("\tSHRQ $3, CX")
	p("\tJZ transpose8_done")
	p("transpose8_loop:")
	rows := []string{"(SI)", "(SI)(R8*1)", "(SI)(R8*2)", "(SI)(R9*1)", "(R10)", "(R10)(R8*1)", "(R10)(R8*2)", "(R10)(R9*1)"}
	for i, a := range rows {
		p("\tVMOVUPS %s, Y%d", a, i)
	}
	// t[2i] = unpcklps(r[2i], r[2i+1]), t[2i+1] = unpckhps(r[2i], r[2i+1])
	for i := 0; i < 4; i++ {
		p("\tVUNPCKLPS Y%d, Y%d, Y%d", 2*i+1, 2*i, 8+2*i)
		p("\tVUNPCKHPS Y%d, Y%d, Y%d", 2*i+1, 2*i, 8+2*i+1)
	}
	// s: rows 0-3 from (t0,t2), (t1,t3); rows 4-7 from (t4,t6), (t5,t7)
	sh := [][4]int{{8, 10, 0x44, 0}, {8, 10, 0xEE, 1}, {9, 11, 0x44, 2}, {9, 11, 0xEE, 3}, {12, 14, 0x44, 4}, {12, 14, 0xEE, 5}, {13, 15, 0x44, 6}, {13, 15, 0xEE, 7}}
	for _, x := range sh {
		p("\tVSHUFPS $0x%02x, Y%d, Y%d, Y%d", x[2], x[1], x[0], x[3])
	}
	for i := 0; i < 4; i++ {
		p("\tVPERM2F128 $0x20, Y%d, Y%d, Y%d", i+4, i, 8+i)
		p("\tVPERM2F128 $0x31, Y%d, Y%d, Y%d", i+4, i, 12+i)
	}
	outs := []string{"(DX)", "(DX)(R11*1)", "(DX)(R11*2)", "(DX)(R12*1)"}
	for i, a := range outs {
		p("\tVMOVUPS Y%d, %s", 8+i, a)
	}
	p("\tLEAQ (DX)(R11*4), DX")
	for i, a := range outs {
		p("\tVMOVUPS Y%d, %s", 12+i, a)
	}
	p("\tLEAQ (DX)(R11*4), DX")
	p("\tADDQ $32, SI")
	p("\tADDQ $32, R10")
	p("\tDECQ CX")
	p("\tJNZ transpose8_loop")
	p("transpose8_done:")
	p("\tVZEROUPPER")
	p("\tRET")
	p("")
}

// transpose4 emits transpose4: for q < n/8 it transposes the 4×8 block of
// the 4 rows src, src+lds, src+2·lds, src+3·lds (columns 8q … 8q+7) into 8
// rows of 4 floats at dst+32q: a panel of 4 rows of packed A. It needs AVX
// only.
//
// Its Go declaration is
//
//	func transpose4(dst, src *float32, lds, n int)
func transpose4() {
	p("// func transpose4(dst, src *float32, lds, n int)")
	p("TEXT ·transpose4(SB), NOSPLIT, $0-32")
	p("\tMOVQ dst+0(FP), DX")
	p("\tMOVQ src+8(FP), SI")
	p("\tMOVQ lds+16(FP), R8")
	p("\tSHLQ $2, R8")
	p("\tLEAQ (R8)(R8*2), R9") // 3·lds
	p("\tMOVQ n+24(FP), CX")
	p("\tSHRQ $3, CX")
	p("\tJZ transpose4_done")
	p("transpose4_loop:")
	for i, a := range []string{"(SI)", "(SI)(R8*1)", "(SI)(R8*2)", "(SI)(R9*1)"} {
		p("\tVMOVUPS %s, Y%d", a, i)
	}
	// t0 = a0 b0 a1 b1 | a4 b4 a5 b5, t1 = a2 b2 a3 b3 | a6 …, t2, t3 for c, d
	p("\tVUNPCKLPS Y1, Y0, Y4")
	p("\tVUNPCKHPS Y1, Y0, Y5")
	p("\tVUNPCKLPS Y3, Y2, Y6")
	p("\tVUNPCKHPS Y3, Y2, Y7")
	// s0 = a0 b0 c0 d0 | a4 …, s1 = a1 … | a5 …, s2 = a2 … | a6 …, s3 = a3 … | a7 …
	p("\tVSHUFPS $0x44, Y6, Y4, Y0")
	p("\tVSHUFPS $0xee, Y6, Y4, Y1")
	p("\tVSHUFPS $0x44, Y7, Y5, Y2")
	p("\tVSHUFPS $0xee, Y7, Y5, Y3")
	// rows 0 1 | 2 3 | 4 5 | 6 7 of the panel
	p("\tVPERM2F128 $0x20, Y1, Y0, Y4")
	p("\tVPERM2F128 $0x20, Y3, Y2, Y5")
	p("\tVPERM2F128 $0x31, Y1, Y0, Y6")
	p("\tVPERM2F128 $0x31, Y3, Y2, Y7")
	for i := 0; i < 4; i++ {
		p("\tVMOVUPS Y%d, %d(DX)", 4+i, 32*i)
	}
	p("\tADDQ $128, DX")
	p("\tADDQ $32, SI")
	p("\tDECQ CX")
	p("\tJNZ transpose4_loop")
	p("transpose4_done:")
	p("\tVZEROUPPER")
	p("\tRET")
	p("")
}

// copyRows emits copy<w>: it copies n rows of w floats, lds floats apart
// at src, to dst, w floats apart (a panel of packed A or B whose rows are
// contiguous in the operand). It needs AVX only.
//
// Its Go declaration is
//
//	func copy<w>(dst, src *float32, lds, n int)
func copyRows(w int) {
	name := fmt.Sprintf("copy%d", w)
	if w%4 != 0 {
		panic(name + ": width not a multiple of 4")
	}
	p("// func %s(dst, src *float32, lds, n int)", name)
	p("TEXT ·%s(SB), NOSPLIT, $0-32", name)
	p("\tMOVQ dst+0(FP), DI")
	p("\tMOVQ src+8(FP), SI")
	p("\tMOVQ lds+16(FP), R8")
	p("\tSHLQ $2, R8")
	p("\tMOVQ n+24(FP), CX")
	p("\tTESTQ CX, CX")
	p("\tJZ %s_done", name)
	p("%s_loop:", name)
	nv := w / 8
	for v := 0; v < nv; v++ {
		p("\tVMOVUPS %d(SI), Y%d", 32*v, v)
	}
	if w%8 != 0 {
		p("\tVMOVUPS %d(SI), X%d", 32*nv, nv)
	}
	for v := 0; v < nv; v++ {
		p("\tVMOVUPS Y%d, %d(DI)", v, 32*v)
	}
	if w%8 != 0 {
		p("\tVMOVUPS X%d, %d(DI)", nv, 32*nv)
	}
	p("\tADDQ R8, SI")
	p("\tADDQ $%d, DI", 4*w)
	p("\tDECQ CX")
	p("\tJNZ %s_loop", name)
	p("%s_done:", name)
	p("\tVZEROUPPER")
	p("\tRET")
	p("")
}

func log2(n int) int {
	l := 0
	for 1<<l < n {
		l++
	}
	if 1<<l != n {
		panic("unroll must be a power of two")
	}
	return l
}

func main() {
	p("// Code generated by asm_gen.go; DO NOT EDIT.")
	p("")
	p("//go:build amd64 && !purego")
	p("")
	p("#include \"textflag.h\"")
	p("")
	// 8×48: 24 accumulators, 3 rows of b, 2 broadcasts; 8×32 and 8×16
	// for the last panel of B when it is narrower.
	for nv := 3; nv >= 1; nv-- {
		kernel(avx512, 8, nv)
	}
	// 4×24: 12 accumulators, 3 rows of b, 1 broadcast (of 16 registers).
	for nv := 3; nv >= 1; nv-- {
		kernel(avx2, 4, nv)
	}
	transpose()
	transpose4()
	for _, w := range []int{4, 8, 16, 24, 32, 48} {
		copyRows(w)
	}
	if err := os.WriteFile("kernels_amd64.s", b.Bytes(), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
