//go:build ignore

// This program generates kernels_amd64.s: the AVX-512 micro-kernels of the
// direct convolution (see direct.go), its row copies, and the vectorised
// elementwise and batch-normalisation loops (see simd.go). Run it with
// `go generate` in package engine.
package main

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"strings"
)

var b bytes.Buffer

func p(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }

// tile emits convTile<mr>x<16·nv>: c[i][0:16·nv] = Σ_t a[t·mr+i]·b[offs[t]:][0:16·nv]
// for i < mr (c rows ldc floats apart).
func tile(mr, nv int) {
	name := fmt.Sprintf("convTile%dx%d", mr, 16*nv)
	nacc := mr * nv
	bReg := func(v int) string { return fmt.Sprintf("Z%d", nacc+v) }
	bc := []string{fmt.Sprintf("Z%d", nacc+nv), fmt.Sprintf("Z%d", nacc+nv+1)}
	if nacc+nv+2 > 32 {
		panic(name + ": too many registers")
	}
	p("// func %s(a, b *float32, offs *int32, t int, c *float32, ldc int)", name)
	p("TEXT ·%s(SB), NOSPLIT, $0-48", name)
	p("\tMOVQ a+0(FP), SI")
	p("\tMOVQ b+8(FP), DI")
	p("\tMOVQ offs+16(FP), R8")
	p("\tMOVQ t+24(FP), CX")
	p("\tMOVQ c+32(FP), DX")
	p("\tMOVQ ldc+40(FP), R9")
	p("\tSHLQ $2, R9")
	for i := 0; i < nacc; i++ {
		p("\tVPXORD Z%d, Z%d, Z%d", i, i, i)
	}
	p("%s_loop:", name)
	p("\tMOVLQSX (R8), AX")
	p("\tLEAQ (DI)(AX*4), BX")
	for v := 0; v < nv; v++ {
		p("\tVMOVUPS %d(BX), %s", 64*v, bReg(v))
	}
	for i := 0; i < mr; i++ {
		r := bc[i%2]
		p("\tVBROADCASTSS %d(SI), %s", 4*i, r)
		for v := 0; v < nv; v++ {
			p("\tVFMADD231PS %s, %s, Z%d", bReg(v), r, i*nv+v)
		}
	}
	p("\tADDQ $%d, SI", 4*mr)
	p("\tADDQ $4, R8")
	p("\tDECQ CX")
	p("\tJNZ %s_loop", name)
	for i := 0; i < mr; i++ {
		for v := 0; v < nv; v++ {
			p("\tVMOVUPS Z%d, %d(DX)", i*nv+v, 64*v)
		}
		if i < mr-1 {
			p("\tADDQ R9, DX")
		}
	}
	p("\tVZEROUPPER")
	p("\tRET")
	p("")
}

// dot emits wgradTile<mo>x<nt>: out[o·nt+t] = Σ_{k<n} Σ_l dy[o·ldd + 16k + l]·
// x[offs[t] + 16k + l] for o < mo, t < nt: 16-lane partial sums reduced
// at the end (lanes l and l+8, then l+4, l+2, l+1).
func dot(mo, nt int) {
	name := fmt.Sprintf("wgradTile%dx%d", mo, nt)
	nacc := mo * nt
	if nacc+mo+2 > 32 || nacc > 28 || nt > 6 || mo != 4 {
		panic(name + ": unsupported shape")
	}
	offRegs := []string{"AX", "BX", "CX", "DX", "DI", "R9"}
	p("// func %s(dy *float32, ldd int, x *float32, offs *int32, n int, out *float32)", name)
	p("TEXT ·%s(SB), NOSPLIT, $0-48", name)
	p("\tMOVQ dy+0(FP), R8")
	p("\tMOVQ ldd+8(FP), R10")
	p("\tSHLQ $2, R10")
	p("\tLEAQ (R10)(R10*2), R11")
	p("\tMOVQ x+16(FP), SI")
	p("\tMOVQ offs+24(FP), R12")
	for t := 0; t < nt; t++ {
		p("\tMOVLQSX %d(R12), %s", 4*t, offRegs[t])
		p("\tSHLQ $2, %s", offRegs[t])
	}
	p("\tMOVQ n+32(FP), R12")
	p("\tMOVQ out+40(FP), R13")
	for i := 0; i < nacc; i++ {
		p("\tVPXORD Z%d, Z%d, Z%d", i, i, i)
	}
	p("%s_loop:", name)
	dyAddr := []string{"(R8)", "(R8)(R10*1)", "(R8)(R10*2)", "(R8)(R11*1)"}
	for o := 0; o < mo; o++ {
		p("\tVMOVUPS %s, Z%d", dyAddr[o], nacc+o)
	}
	for t := 0; t < nt; t++ {
		r := fmt.Sprintf("Z%d", nacc+mo+t%2)
		p("\tVMOVUPS (SI)(%s*1), %s", offRegs[t], r)
		for o := 0; o < mo; o++ {
			p("\tVFMADD231PS Z%d, %s, Z%d", nacc+o, r, o*nt+t)
		}
	}
	p("\tADDQ $64, R8")
	p("\tADDQ $64, SI")
	p("\tDECQ R12")
	p("\tJNZ %s_loop", name)
	for i := 0; i < nacc; i++ {
		p("\tVEXTRACTF64X4 $1, Z%d, Y28", i)
		p("\tVADDPS Z28, Z%d, Z28", i)
		p("\tVEXTRACTF32X4 $1, Z28, X29")
		p("\tVADDPS Z29, Z28, Z28")
		p("\tVPERMILPS $0x4e, Z28, Z29")
		p("\tVADDPS Z29, Z28, Z28")
		p("\tVPERMILPS $0xb1, Z28, Z29")
		p("\tVADDPS Z29, Z28, Z28")
		p("\tVMOVSS X28, %d(R13)", 4*i)
	}
	p("\tVZEROUPPER")
	p("\tRET")
	p("")
}

// loop emits the body of an elementwise kernel over n floats (a multiple
// of 16, in CX) in blocks of 64 then 16: body(i, off) handles the 16 floats
// at byte offset off with temporaries Z(4i)..Z(4i+3); ptrs are advanced
// after each block.
func loop(name string, ptrs []string, body func(i, off int)) {
	p("\tSHRQ $4, CX")
	p("%s_loop4:", name)
	p("\tCMPQ CX, $4")
	p("\tJB %s_loop1", name)
	for i := 0; i < 4; i++ {
		body(i, 64*i)
	}
	for _, r := range ptrs {
		p("\tADDQ $256, %s", r)
	}
	p("\tSUBQ $4, CX")
	p("\tJMP %s_loop4", name)
	p("%s_loop1:", name)
	p("\tTESTQ CX, CX")
	p("\tJZ %s_done", name)
	body(0, 0)
	for _, r := range ptrs {
		p("\tADDQ $64, %s", r)
	}
	p("\tDECQ CX")
	p("\tJMP %s_loop1", name)
	p("%s_done:", name)
}

func z(i int) string { return fmt.Sprintf("Z%d", i) }

func elementwise() {
	p("// func reluAVX512(y, x *float32, n int)")
	p("TEXT ·reluAVX512(SB), NOSPLIT, $0-24")
	p("\tMOVQ y+0(FP), DI")
	p("\tMOVQ x+8(FP), SI")
	p("\tMOVQ n+16(FP), CX")
	loop("relu", []string{"DI", "SI"}, func(i, off int) {
		a, m := z(4*i), z(4*i+1)
		p("\tVMOVUPS %d(SI), %s", off, a)
		p("\tVPSRAD $31, %s, %s", a, m)
		p("\tVPANDND %s, %s, %s", a, m, a)
		p("\tVMOVUPS %s, %d(DI)", a, off)
	})
	p("\tVZEROUPPER")
	p("\tRET")
	p("")

	p("// func reluGradAVX512(dx, dy, y *float32, n int)")
	p("TEXT ·reluGradAVX512(SB), NOSPLIT, $0-32")
	p("\tMOVQ dx+0(FP), DI")
	p("\tMOVQ dy+8(FP), SI")
	p("\tMOVQ y+16(FP), BX")
	p("\tMOVQ n+24(FP), CX")
	p("\tVPXORD Z31, Z31, Z31")
	loop("relugrad", []string{"DI", "SI", "BX"}, func(i, off int) {
		a, d := z(4*i), z(4*i+1)
		k := fmt.Sprintf("K%d", i+1)
		p("\tVMOVUPS %d(BX), %s", off, a)
		p("\tVPCMPGTD Z31, %s, %s", a, k)
		p("\tVMOVUPS.Z %d(SI), %s, %s", off, k, d)
		p("\tVMOVUPS %s, %d(DI)", d, off)
	})
	p("\tVZEROUPPER")
	p("\tRET")
	p("")

	p("// func addAVX512(d, a, b *float32, n int)")
	p("TEXT ·addAVX512(SB), NOSPLIT, $0-32")
	p("\tMOVQ d+0(FP), DI")
	p("\tMOVQ a+8(FP), SI")
	p("\tMOVQ b+16(FP), BX")
	p("\tMOVQ n+24(FP), CX")
	loop("add", []string{"DI", "SI", "BX"}, func(i, off int) {
		a := z(4 * i)
		p("\tVMOVUPS %d(SI), %s", off, a)
		p("\tVADDPS %d(BX), %s, %s", off, a, a)
		p("\tVMOVUPS %s, %d(DI)", a, off)
	})
	p("\tVZEROUPPER")
	p("\tRET")
	p("")

	p("// func addReLUAVX512(d, a, b *float32, n int)")
	p("TEXT ·addReLUAVX512(SB), NOSPLIT, $0-32")
	p("\tMOVQ d+0(FP), DI")
	p("\tMOVQ a+8(FP), SI")
	p("\tMOVQ b+16(FP), BX")
	p("\tMOVQ n+24(FP), CX")
	loop("addrelu", []string{"DI", "SI", "BX"}, func(i, off int) {
		a, m := z(4*i), z(4*i+1)
		p("\tVMOVUPS %d(SI), %s", off, a)
		p("\tVADDPS %d(BX), %s, %s", off, a, a)
		p("\tVPSRAD $31, %s, %s", a, m)
		p("\tVPANDND %s, %s, %s", a, m, a)
		p("\tVMOVUPS %s, %d(DI)", a, off)
	})
	p("\tVZEROUPPER")
	p("\tRET")
	p("")

	p("// func affineAVX512(y, x *float32, n int, a, b float32)")
	p("TEXT ·affineAVX512(SB), NOSPLIT, $0-32")
	p("\tMOVQ y+0(FP), DI")
	p("\tMOVQ x+8(FP), SI")
	p("\tMOVQ n+16(FP), CX")
	p("\tVBROADCASTSS a+24(FP), Z30")
	p("\tVBROADCASTSS b+28(FP), Z31")
	loop("affine", []string{"DI", "SI"}, func(i, off int) {
		a := z(4 * i)
		p("\tVMOVUPS %d(SI), %s", off, a)
		p("\tVFMADD213PS Z31, Z30, %s", a)
		p("\tVMOVUPS %s, %d(DI)", a, off)
	})
	p("\tVZEROUPPER")
	p("\tRET")
	p("")

	p("// func affineReLUAVX512(y, x *float32, n int, a, b float32)")
	p("TEXT ·affineReLUAVX512(SB), NOSPLIT, $0-32")
	p("\tMOVQ y+0(FP), DI")
	p("\tMOVQ x+8(FP), SI")
	p("\tMOVQ n+16(FP), CX")
	p("\tVBROADCASTSS a+24(FP), Z30")
	p("\tVBROADCASTSS b+28(FP), Z31")
	loop("affinerelu", []string{"DI", "SI"}, func(i, off int) {
		a, m := z(4*i), z(4*i+1)
		p("\tVMOVUPS %d(SI), %s", off, a)
		p("\tVFMADD213PS Z31, Z30, %s", a)
		p("\tVPSRAD $31, %s, %s", a, m)
		p("\tVPANDND %s, %s, %s", a, m, a)
		p("\tVMOVUPS %s, %d(DI)", a, off)
	})
	p("\tVZEROUPPER")
	p("\tRET")
	p("")

	// out = k·((d − mdy) − ((x − mu)·is)·mdyx); the masked variant takes d
	// as zero where y ≤ 0 (the ReLU above), as reluGrad does.
	for _, masked := range []bool{false, true} {
		name, args, frame := "bnGradAVX512", "out, x, d *float32, n int, k, mdy, mdyx, mu, is float32", 52
		sc := 32
		if masked {
			name, args, frame, sc = "bnGradMaskedAVX512", "out, x, d, y *float32, n int, k, mdy, mdyx, mu, is float32", 60, 40
		}
		p("// func %s(%s)", name, args)
		p("TEXT ·%s(SB), NOSPLIT, $0-%d", name, frame)
		p("\tMOVQ out+0(FP), DI")
		p("\tMOVQ x+8(FP), SI")
		p("\tMOVQ d+16(FP), BX")
		if masked {
			p("\tMOVQ y+24(FP), DX")
			p("\tMOVQ n+32(FP), CX")
			p("\tVPXORD Z26, Z26, Z26")
		} else {
			p("\tMOVQ n+24(FP), CX")
		}
		p("\tVBROADCASTSS k+%d(FP), Z27", sc)
		p("\tVBROADCASTSS mdy+%d(FP), Z28", sc+4)
		p("\tVBROADCASTSS mdyx+%d(FP), Z29", sc+8)
		p("\tVBROADCASTSS mu+%d(FP), Z30", sc+12)
		p("\tVBROADCASTSS is+%d(FP), Z31", sc+16)
		ptrs := []string{"DI", "SI", "BX"}
		if masked {
			ptrs = append(ptrs, "DX")
		}
		loop(strings.ToLower(strings.TrimSuffix(name, "AVX512")), ptrs, func(i, off int) {
			a, b := z(4*i), z(4*i+1)
			p("\tVMOVUPS %d(SI), %s", off, a)
			p("\tVSUBPS Z30, %s, %s", a, a)
			p("\tVMULPS Z31, %s, %s", a, a)
			if masked {
				k := fmt.Sprintf("K%d", i+1)
				p("\tVMOVUPS %d(DX), %s", off, z(4*i+2))
				p("\tVPCMPGTD Z26, %s, %s", z(4*i+2), k)
				p("\tVMOVUPS.Z %d(BX), %s, %s", off, k, b)
			} else {
				p("\tVMOVUPS %d(BX), %s", off, b)
			}
			p("\tVSUBPS Z28, %s, %s", b, b)
			p("\tVFNMADD231PS Z29, %s, %s", a, b)
			p("\tVMULPS Z27, %s, %s", b, b)
			p("\tVMOVUPS %s, %d(DI)", b, off)
		})
		p("\tVZEROUPPER")
		p("\tRET")
		p("")
	}

	// Σx and Σx² in float64: accumulators Z16–Z19 (sums), Z20–Z23 (squares).
	p("// func sumsAVX512(x *float32, n int) (s, sq float64)")
	p("TEXT ·sumsAVX512(SB), NOSPLIT, $0-32")
	p("\tMOVQ x+0(FP), SI")
	p("\tMOVQ n+8(FP), CX")
	for i := 16; i < 24; i++ {
		p("\tVPXORQ Z%d, Z%d, Z%d", i, i, i)
	}
	loop("sums", []string{"SI"}, func(i, off int) {
		lo, hi := z(4*i), z(4*i+1)
		s0, s1 := z(16+(2*i)%4), z(17+(2*i)%4)
		q0, q1 := z(20+(2*i)%4), z(21+(2*i)%4)
		p("\tVCVTPS2PD %d(SI), %s", off, lo)
		p("\tVCVTPS2PD %d(SI), %s", off+32, hi)
		p("\tVADDPD %s, %s, %s", lo, s0, s0)
		p("\tVADDPD %s, %s, %s", hi, s1, s1)
		p("\tVFMADD231PD %s, %s, %s", lo, lo, q0)
		p("\tVFMADD231PD %s, %s, %s", hi, hi, q1)
	})
	p("\tVADDPD Z17, Z16, Z16")
	p("\tVADDPD Z19, Z18, Z18")
	p("\tVADDPD Z18, Z16, Z0")
	p("\tVADDPD Z21, Z20, Z20")
	p("\tVADDPD Z23, Z22, Z22")
	p("\tVADDPD Z22, Z20, Z2")
	hsum("Z0", "Y0", "X0", "Y1", "X1")
	hsum("Z2", "Y2", "X2", "Y3", "X3")
	p("\tVMOVSD X0, s+16(FP)")
	p("\tVMOVSD X2, sq+24(FP)")
	p("\tVZEROUPPER")
	p("\tRET")
	p("")

	// Σd and Σd·(x − mu) in float64; the masked variant takes d as zero
	// where y ≤ 0.
	for _, masked := range []bool{false, true} {
		name, args, frame, mu, ret := "centeredDotAVX512", "d, x *float32, n int, mu float64) (sd, sdx float64", 48, 24, 32
		if masked {
			name, args, frame, mu, ret = "centeredDotMaskedAVX512", "d, y, x *float32, n int, mu float64) (sd, sdx float64", 56, 32, 40
		}
		p("// func %s(%s)", name, args)
		p("TEXT ·%s(SB), NOSPLIT, $0-%d", name, frame)
		p("\tMOVQ d+0(FP), SI")
		if masked {
			p("\tMOVQ y+8(FP), DX")
			p("\tMOVQ x+16(FP), BX")
			p("\tMOVQ n+24(FP), CX")
			p("\tVPXORD Z30, Z30, Z30")
		} else {
			p("\tMOVQ x+8(FP), BX")
			p("\tMOVQ n+16(FP), CX")
		}
		p("\tVBROADCASTSD mu+%d(FP), Z31", mu)
		for i := 16; i < 24; i++ {
			p("\tVPXORQ Z%d, Z%d, Z%d", i, i, i)
		}
		ptrs := []string{"SI", "BX"}
		if masked {
			ptrs = append(ptrs, "DX")
		}
		loop(strings.ToLower(strings.TrimSuffix(name, "AVX512")), ptrs, func(i, off int) {
			dl, dh, xl, xh := z(4*i), z(4*i+1), z(4*i+2), z(4*i+3)
			s0, s1 := z(16+(2*i)%4), z(17+(2*i)%4)
			q0, q1 := z(20+(2*i)%4), z(21+(2*i)%4)
			if masked {
				k, t := fmt.Sprintf("K%d", i+1), z(24+i)
				p("\tVMOVUPS %d(DX), %s", off, t)
				p("\tVPCMPGTD Z30, %s, %s", t, k)
				p("\tVMOVUPS.Z %d(SI), %s, %s", off, k, t)
				p("\tVEXTRACTF64X4 $1, %s, %s", t, strings.Replace(dh, "Z", "Y", 1))
				p("\tVCVTPS2PD %s, %s", strings.Replace(t, "Z", "Y", 1), dl)
				p("\tVCVTPS2PD %s, %s", strings.Replace(dh, "Z", "Y", 1), dh)
			} else {
				p("\tVCVTPS2PD %d(SI), %s", off, dl)
				p("\tVCVTPS2PD %d(SI), %s", off+32, dh)
			}
			p("\tVCVTPS2PD %d(BX), %s", off, xl)
			p("\tVCVTPS2PD %d(BX), %s", off+32, xh)
			p("\tVSUBPD Z31, %s, %s", xl, xl)
			p("\tVSUBPD Z31, %s, %s", xh, xh)
			p("\tVADDPD %s, %s, %s", dl, s0, s0)
			p("\tVADDPD %s, %s, %s", dh, s1, s1)
			p("\tVFMADD231PD %s, %s, %s", xl, dl, q0)
			p("\tVFMADD231PD %s, %s, %s", xh, dh, q1)
		})
		p("\tVADDPD Z17, Z16, Z16")
		p("\tVADDPD Z19, Z18, Z18")
		p("\tVADDPD Z18, Z16, Z0")
		p("\tVADDPD Z21, Z20, Z20")
		p("\tVADDPD Z23, Z22, Z22")
		p("\tVADDPD Z22, Z20, Z2")
		hsum("Z0", "Y0", "X0", "Y1", "X1")
		hsum("Z2", "Y2", "X2", "Y3", "X3")
		p("\tVMOVSD X0, sd+%d(FP)", ret)
		p("\tVMOVSD X2, sdx+%d(FP)", ret+8)
		p("\tVZEROUPPER")
		p("\tRET")
		p("")
	}
}

// copyRows emits copyRowsAVX512: every row r < rows of dst (rows dld floats
// apart) becomes zpre zeros, the width floats of row r of src (sld apart)
// and zpost zeros; zpre and zpost are at most 16.
func copyRows() {
	p("// func copyRowsAVX512(dst *float32, dld int, src *float32, sld int, rows, width, zpre, zpost int)")
	p("TEXT ·copyRowsAVX512(SB), NOSPLIT, $0-64")
	p("\tMOVQ dst+0(FP), DI")
	p("\tMOVQ dld+8(FP), R8")
	p("\tSHLQ $2, R8")
	p("\tMOVQ src+16(FP), SI")
	p("\tMOVQ sld+24(FP), R9")
	p("\tSHLQ $2, R9")
	p("\tMOVQ rows+32(FP), R10")
	p("\tMOVQ width+40(FP), R13")
	p("\tMOVQ R13, R12")
	p("\tANDQ $15, R12")
	p("\tSHRQ $4, R13")
	p("\tMOVQ zpre+48(FP), R11")
	for _, m := range [][2]string{{"R11", "K1"}, {"R12", "K2"}} {
		p("\tMOVQ %s, CX", m[0])
		p("\tMOVQ $1, AX")
		p("\tSHLQ CX, AX")
		p("\tDECQ AX")
		p("\tKMOVW AX, %s", m[1])
	}
	p("\tMOVQ zpost+56(FP), CX")
	p("\tMOVQ $1, AX")
	p("\tSHLQ CX, AX")
	p("\tDECQ AX")
	p("\tKMOVW AX, K3")
	p("\tSHLQ $2, R11")
	p("\tSHLQ $2, R12")
	p("\tVPXORD Z31, Z31, Z31")
	p("\tTESTQ R10, R10")
	p("\tJZ copyrows_done")
	p("copyrows_row:")
	p("\tMOVQ DI, BX")
	p("\tVMOVUPS Z31, K1, (BX)")
	p("\tADDQ R11, BX")
	p("\tMOVQ SI, DX")
	p("\tMOVQ R13, CX")
	p("copyrows_chunk:")
	p("\tTESTQ CX, CX")
	p("\tJZ copyrows_tail")
	p("\tVMOVUPS (DX), Z0")
	p("\tVMOVUPS Z0, (BX)")
	p("\tADDQ $64, DX")
	p("\tADDQ $64, BX")
	p("\tDECQ CX")
	p("\tJMP copyrows_chunk")
	p("copyrows_tail:")
	p("\tVMOVUPS.Z (DX), K2, Z0")
	p("\tVMOVUPS Z0, K2, (BX)")
	p("\tADDQ R12, BX")
	p("\tVMOVUPS Z31, K3, (BX)")
	p("\tADDQ R8, DI")
	p("\tADDQ R9, SI")
	p("\tDECQ R10")
	p("\tJNZ copyrows_row")
	p("copyrows_done:")
	p("\tVZEROUPPER")
	p("\tRET")
	p("")
}

// table emits a 16-entry int32 constant.
func table(name string, v func(i int) int) {
	for i := 0; i < 16; i++ {
		p("DATA %s<>+%d(SB)/4, $%d", name, 4*i, v(i))
	}
	p("GLOBL %s<>(SB), RODATA|NOPTR, $64", name)
	p("")
}

// maskFrom emits KMOVW of (1<<count)−1 (count in CX, 0..16) into k.
func maskFrom(k string) {
	p("\tMOVQ $1, AX")
	p("\tSHLQ CX, AX")
	p("\tDECQ AX")
	p("\tKMOVW AX, %s", k)
}

// strided emits gatherRows2AVX512 and interleaveRows2AVX512 (see
// gatherRows2 and interleaveRows2 in simd.go).
func strided() {
	table("evenIdx", func(i int) int { return 2 * i })
	table("loIdx", func(i int) int { return i/2 + 16*(i%2) })
	table("hiIdx", func(i int) int { return 8 + i/2 + 16*(i%2) })

	p("// func gatherRows2AVX512(dst *float32, dld int, src *float32, sld int, rows, n, zpre, zpost int)")
	p("TEXT ·gatherRows2AVX512(SB), NOSPLIT, $0-64")
	p("\tMOVQ dst+0(FP), DI")
	p("\tMOVQ dld+8(FP), R8")
	p("\tSHLQ $2, R8")
	p("\tMOVQ src+16(FP), SI")
	p("\tMOVQ sld+24(FP), R9")
	p("\tSHLQ $2, R9")
	p("\tMOVQ n+40(FP), R13")
	p("\tMOVQ zpre+48(FP), CX")
	maskFrom("K1")
	p("\tMOVQ CX, R11")
	p("\tSHLQ $2, R11")
	p("\tMOVQ zpost+56(FP), CX")
	maskFrom("K5")
	// The last chunk of every row has r = n − 16·⌊(n−1)/16⌋ ∈ [1, 16]
	// outputs, reading 2r − 1 inputs.
	p("\tLEAQ -1(R13), CX")
	p("\tANDQ $15, CX")
	p("\tINCQ CX")
	p("\tMOVQ CX, R12")
	maskFrom("K4")
	p("\tLEAQ -1(R12)(R12*1), R10")
	p("\tMOVQ R10, CX")
	p("\tMOVQ $16, DX")
	p("\tCMPQ CX, DX")
	p("\tCMOVQGT DX, CX")
	maskFrom("K2")
	p("\tMOVQ R10, CX")
	p("\tSUBQ $16, CX")
	p("\tMOVQ $0, DX")
	p("\tCMPQ CX, DX")
	p("\tCMOVQLT DX, CX")
	maskFrom("K3")
	p("\tSHLQ $2, R12")
	p("\tVMOVDQU32 evenIdx<>(SB), Z30")
	p("\tVPXORD Z31, Z31, Z31")
	p("\tMOVQ rows+32(FP), CX")
	p("\tTESTQ CX, CX")
	p("\tJLE gatherrows2_done")
	p("gatherrows2_row:")
	p("\tMOVQ DI, BX")
	p("\tVMOVUPS Z31, K1, (BX)")
	p("\tADDQ R11, BX")
	p("\tMOVQ SI, DX")
	p("\tMOVQ R13, R10")
	p("gatherrows2_chunk:")
	p("\tCMPQ R10, $16")
	p("\tJLE gatherrows2_last")
	p("\tVMOVUPS (DX), Z0")
	p("\tVMOVUPS 64(DX), Z1")
	p("\tVPERMT2PS Z1, Z30, Z0")
	p("\tVMOVUPS Z0, (BX)")
	p("\tADDQ $128, DX")
	p("\tADDQ $64, BX")
	p("\tSUBQ $16, R10")
	p("\tJMP gatherrows2_chunk")
	p("gatherrows2_last:")
	p("\tVMOVUPS.Z (DX), K2, Z0")
	p("\tVMOVUPS.Z 64(DX), K3, Z1")
	p("\tVPERMT2PS Z1, Z30, Z0")
	p("\tVMOVUPS Z0, K4, (BX)")
	p("\tADDQ R12, BX")
	p("\tVMOVUPS Z31, K5, (BX)")
	p("\tADDQ R8, DI")
	p("\tADDQ R9, SI")
	p("\tDECQ CX")
	p("\tJNZ gatherrows2_row")
	p("gatherrows2_done:")
	p("\tVZEROUPPER")
	p("\tRET")
	p("")

	p("// func interleaveRows2AVX512(dst *float32, dld int, a, b *float32, sld, rows, n int)")
	p("TEXT ·interleaveRows2AVX512(SB), NOSPLIT, $0-56")
	p("\tMOVQ dst+0(FP), DI")
	p("\tMOVQ dld+8(FP), R8")
	p("\tSHLQ $2, R8")
	p("\tMOVQ a+16(FP), SI")
	p("\tMOVQ b+24(FP), BX")
	p("\tMOVQ sld+32(FP), R9")
	p("\tSHLQ $2, R9")
	p("\tMOVQ n+48(FP), R13")
	// The last chunk of every row has r = n − 32·⌊(n−1)/32⌋ ∈ [1, 32]
	// outputs: ⌈r/2⌉ values of a, ⌊r/2⌋ of b.
	p("\tLEAQ -1(R13), R12")
	p("\tANDQ $31, R12")
	p("\tINCQ R12")
	p("\tLEAQ 1(R12), CX")
	p("\tSHRQ $1, CX")
	maskFrom("K1")
	p("\tMOVQ R12, CX")
	p("\tSHRQ $1, CX")
	maskFrom("K2")
	p("\tMOVQ R12, CX")
	p("\tMOVQ $16, DX")
	p("\tCMPQ CX, DX")
	p("\tCMOVQGT DX, CX")
	maskFrom("K3")
	p("\tMOVQ R12, CX")
	p("\tSUBQ $16, CX")
	p("\tMOVQ $0, DX")
	p("\tCMPQ CX, DX")
	p("\tCMOVQLT DX, CX")
	maskFrom("K4")
	p("\tVMOVDQU32 loIdx<>(SB), Z30")
	p("\tVMOVDQU32 hiIdx<>(SB), Z31")
	p("\tMOVQ rows+40(FP), CX")
	p("\tTESTQ CX, CX")
	p("\tJLE interleaverows2_done")
	p("interleaverows2_row:")
	p("\tMOVQ DI, R10")
	p("\tMOVQ SI, R11")
	p("\tMOVQ BX, DX")
	p("\tMOVQ R13, AX")
	p("interleaverows2_chunk:")
	p("\tCMPQ AX, $32")
	p("\tJLE interleaverows2_last")
	p("\tVMOVUPS (R11), Z0")
	p("\tVMOVUPS (DX), Z1")
	p("\tVMOVAPS Z0, Z2")
	p("\tVPERMT2PS Z1, Z30, Z0")
	p("\tVPERMT2PS Z1, Z31, Z2")
	p("\tVMOVUPS Z0, (R10)")
	p("\tVMOVUPS Z2, 64(R10)")
	p("\tADDQ $64, R11")
	p("\tADDQ $64, DX")
	p("\tADDQ $128, R10")
	p("\tSUBQ $32, AX")
	p("\tJMP interleaverows2_chunk")
	p("interleaverows2_last:")
	p("\tVMOVUPS.Z (R11), K1, Z0")
	p("\tVMOVUPS.Z (DX), K2, Z1")
	p("\tVMOVAPS Z0, Z2")
	p("\tVPERMT2PS Z1, Z30, Z0")
	p("\tVPERMT2PS Z1, Z31, Z2")
	p("\tVMOVUPS Z0, K3, (R10)")
	p("\tVMOVUPS Z2, K4, 64(R10)")
	p("\tADDQ R8, DI")
	p("\tADDQ R9, SI")
	p("\tADDQ R9, BX")
	p("\tDECQ CX")
	p("\tJNZ interleaverows2_row")
	p("interleaverows2_done:")
	p("\tVZEROUPPER")
	p("\tRET")
	p("")
}

// hsum reduces the 8 doubles of zr (whose low halves are yr, xr) into
// the low lane of xr, using ty/tx as temporaries.
func hsum(zr, yr, xr, ty, tx string) {
	p("\tVEXTRACTF64X4 $1, %s, %s", zr, ty)
	p("\tVADDPD %s, %s, %s", ty, yr, yr)
	p("\tVEXTRACTF128 $1, %s, %s", yr, tx)
	p("\tVADDPD %s, %s, %s", tx, xr, xr)
	p("\tVPERMILPD $1, %s, %s", xr, tx)
	p("\tVADDSD %s, %s, %s", tx, xr, xr)
}

func main() {
	p("// Code generated by asm_gen.go; DO NOT EDIT.")
	p("")
	p("//go:build amd64 && !purego")
	p("")
	p("#include \"textflag.h\"")
	p("")
	p("// func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)")
	p("TEXT ·cpuid(SB), NOSPLIT, $0-24")
	p("\tMOVL eaxArg+0(FP), AX")
	p("\tMOVL ecxArg+4(FP), CX")
	p("\tCPUID")
	p("\tMOVL AX, eax+8(FP)")
	p("\tMOVL BX, ebx+12(FP)")
	p("\tMOVL CX, ecx+16(FP)")
	p("\tMOVL DX, edx+20(FP)")
	p("\tRET")
	p("")
	p("// func xgetbv() (eax, edx uint32)")
	p("TEXT ·xgetbv(SB), NOSPLIT, $0-8")
	p("\tMOVL $0, CX")
	p("\tXGETBV")
	p("\tMOVL AX, eax+0(FP)")
	p("\tMOVL DX, edx+4(FP)")
	p("\tRET")
	p("")
	for _, s := range [][2]int{{8, 3}, {4, 3}} {
		tile(s[0], s[1])
	}
	dot(4, 6)
	elementwise()
	copyRows()
	strided()
	transformer()
	if err := os.WriteFile("kernels_amd64.s", b.Bytes(), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// The kernels of the Transformer layers (see mathf.go): exp, erfc and
// GELU polynomials, softmax rows, layer normalisation and bias sums. They
// take any n ≥ 0: the last partial vector runs under mask K1 (zeroing
// loads, masked stores), so every element goes through the same
// instructions whatever its position.

// kernel emits the comment and TEXT line of the kernel name with Go
// signature sig ("(args) results", taking frame bytes) and loads its
// leading arguments, given as "name:register" in declaration order:
// pointers and ints (8 bytes) into general registers, float32 values
// (4 bytes) broadcast into Z registers. The offsets follow from the order,
// so a signature and its loads cannot disagree (go vet checks the names
// and offsets against the Go declarations).
func kernel(name, sig string, frame int, args ...string) {
	p("// func %s%s", name, sig)
	p("TEXT ·%s(SB), NOSPLIT, $0-%d", name, frame)
	off := 0
	for _, a := range args {
		arg, reg, _ := strings.Cut(a, ":")
		if strings.HasPrefix(reg, "Z") {
			p("\tVBROADCASTSS %s+%d(FP), %s", arg, off, reg)
			off += 4
		} else {
			off = (off + 7) &^ 7
			p("\tMOVQ %s+%d(FP), %s", arg, off, reg)
			off += 8
		}
	}
}

// end emits the epilogue of a kernel.
func end() {
	p("\tVZEROUPPER")
	p("\tRET")
	p("")
}

// mathConst lists the constants of mathc<>, in the order of mathf.go.
var mathConst = []struct {
	name string
	v    float64
}{
	{"log2e", math.Log2E}, {"ln2hi", 0.693359375}, {"ln2lo", -2.12194440e-4},
	{"e5", 1.9875691500e-4}, {"e4", 1.3981999507e-3}, {"e3", 8.3334519073e-3},
	{"e2", 4.1665795894e-2}, {"e1", 1.6666665459e-1}, {"e0", 5.0000001201e-1},
	{"one", 1}, {"explo", -110}, {"exphi", 88.7}, {"invsqrt2", 1 / math.Sqrt2},
	{"half", 0.5}, {"two", 2}, {"invsqrt2pi", 1 / math.Sqrt(2*math.Pi)}, {"erfcmax", 12},
	{"c0", -1.26551223}, {"c1", 1.00002368}, {"c2", 0.37409196}, {"c3", 0.09678418},
	{"c4", -0.18628806}, {"c5", 0.27886807}, {"c6", -1.13520398}, {"c7", 1.48851587},
	{"c8", -0.82215223}, {"c9", 0.17087277},
}

// mc returns the memory operand of constant name in mathc<>.
func mc(name string) string {
	for i, c := range mathConst {
		if c.name == name {
			return fmt.Sprintf("mathc<>+%d(SB)", 4*i)
		}
	}
	panic("unknown constant " + name)
}

// mloop emits a loop over the n floats in CX, 16 at a time, and a last
// partial vector under mask K1; body(k) emits the work on one vector at
// offset 0 of the pointers (k is "" for a full vector, "K1" for the last),
// and the pointers advance by 64 bytes. Clobbers AX.
func mloop(name string, ptrs []string, body func(k string)) {
	p("%s_loop:", name)
	p("\tCMPQ CX, $16")
	p("\tJB %s_tail", name)
	body("")
	for _, r := range ptrs {
		p("\tADDQ $64, %s", r)
	}
	p("\tSUBQ $16, CX")
	p("\tJMP %s_loop", name)
	p("%s_tail:", name)
	p("\tTESTQ CX, CX")
	p("\tJZ %s_done", name)
	maskFrom("K1")
	body("K1")
	p("%s_done:", name)
}

// load emits a (masked, zeroing) load of 16 floats.
func load(k, mem, dst string) {
	if k == "" {
		p("\tVMOVUPS %s, %s", mem, dst)
	} else {
		p("\tVMOVUPS.Z %s, %s, %s", mem, k, dst)
	}
}

// store emits a (masked) store of 16 floats.
func store(k, src, mem string) {
	if k == "" {
		p("\tVMOVUPS %s, %s", src, mem)
	} else {
		p("\tVMOVUPS %s, %s, %s", src, k, mem)
	}
}

// masked returns the op with merge-masking under k ("op a, b, k, dst").
func masked(k, op, a, b, dst string) {
	if k == "" {
		p("\t%s %s, %s, %s", op, a, b, dst)
	} else {
		p("\t%s %s, %s, %s, %s", op, a, b, k, dst)
	}
}

// expRegs loads the registers expv needs: Z30 = explo, Z31 = exphi.
func expRegs() {
	p("\tVBROADCASTSS %s, Z30", mc("explo"))
	p("\tVBROADCASTSS %s, Z31", mc("exphi"))
}

// expv emits x = e^x (Cephes' expf: x = n·ln2 + r, e^r by a degree-7
// polynomial, scaled by 2^n with VSCALEFPS), using temporaries n and q.
// The clamps keep a NaN (it is the second operand).
func expv(x, n, q string) {
	p("\tVMAXPS %s, Z30, %s", x, x)
	p("\tVMINPS %s, Z31, %s", x, x)
	p("\tVMULPS.BCST %s, %s, %s", mc("log2e"), x, n)
	p("\tVRNDSCALEPS $0, %s, %s", n, n)
	p("\tVFNMADD231PS.BCST %s, %s, %s", mc("ln2hi"), n, x)
	p("\tVFNMADD231PS.BCST %s, %s, %s", mc("ln2lo"), n, x)
	p("\tVBROADCASTSS %s, %s", mc("e5"), q)
	for _, c := range []string{"e4", "e3", "e2", "e1", "e0"} {
		p("\tVFMADD213PS.BCST %s, %s, %s", mc(c), x, q)
	}
	// 1 + x + x²·q = 1 + x·(1 + x·q), then scaled by 2^n.
	p("\tVFMADD213PS.BCST %s, %s, %s", mc("one"), x, q)
	p("\tVFMADD213PS.BCST %s, %s, %s", mc("one"), x, q)
	p("\tVSCALEFPS %s, %s, %s", n, q, x)
}

// phiv emits phi = Φ(x), the standard normal distribution function, via
// erfc(|x|/√2) (see erfcf), using temporaries a, t, u, n, q. Needs Z26 = 0,
// Z27 = 2, Z28 = 1/2, Z29 = 1, Z25 = erfcmax and the expv registers.
func phiv(x, phi, a, t, u, n, q string) {
	p("\tVMULPS.BCST %s, %s, %s", mc("invsqrt2"), x, a)
	p("\tVPANDD.BCST absmask<>(SB), %s, %s", a, a)
	p("\tVMINPS %s, Z25, %s", a, a)
	// t = 1/(1 + a/2): a 14-bit reciprocal and one Newton step.
	p("\tVMOVAPS Z29, %s", u)
	p("\tVFMADD231PS Z28, %s, %s", a, u)
	p("\tVRCP14PS %s, %s", u, t)
	p("\tVFNMADD213PS Z27, %s, %s", t, u) // u = 2 − t·u
	p("\tVMULPS %s, %s, %s", u, t, t)
	// u = P(t) − a², then erfc(a) = t·e^u.
	p("\tVBROADCASTSS %s, %s", mc("c9"), u)
	for i := 8; i >= 0; i-- {
		p("\tVFMADD213PS.BCST %s, %s, %s", mc(fmt.Sprintf("c%d", i)), t, u)
	}
	p("\tVFNMADD231PS %s, %s, %s", a, a, u)
	expv(u, n, q)
	p("\tVMULPS %s, %s, %s", t, u, u) // erfc(a)
	p("\tVMULPS Z28, %s, %s", u, u)   // h = erfc(a)/2 = Φ(−|x|)
	p("\tVSUBPS %s, Z29, %s", u, phi) // 1 − h
	p("\tVPCMPGTD %s, Z26, K2", x)    // x < 0 (sign bit set)
	p("\tVMOVAPS %s, K2, %s", u, phi)
}

// geluRegs loads the constants of phiv and expv.
func geluRegs() {
	expRegs()
	p("\tVPXORD Z26, Z26, Z26")
	p("\tVBROADCASTSS %s, Z27", mc("two"))
	p("\tVBROADCASTSS %s, Z28", mc("half"))
	p("\tVBROADCASTSS %s, Z29", mc("one"))
	p("\tVBROADCASTSS %s, Z25", mc("erfcmax"))
}

// hred16 reduces the 16 floats of Z0 with op (VMAXPS, VADDPS) into X0's low lane
// (temporaries Y1, X1), in a fixed order.
func hred16(op string) {
	p("\tVEXTRACTF64X4 $1, Z0, Y1")
	p("\t%s Y1, Y0, Y0", op)
	p("\tVEXTRACTF128 $1, Y0, X1")
	p("\t%s X1, X0, X0", op)
	p("\tVPERMILPS $0x4e, X0, X1")
	p("\t%s X1, X0, X0", op)
	p("\tVPERMILPS $0xb1, X0, X1")
	p("\t%s X1, X0, X0", op)
}

func transformer() {
	for _, c := range mathConst {
		p("DATA mathc<>+%d(SB)/4, $0x%08x // %s", 4*indexOf(c.name), math.Float32bits(float32(c.v)), c.name)
	}
	p("GLOBL mathc<>(SB), RODATA|NOPTR, $%d", 4*len(mathConst))
	p("")
	p("DATA absmask<>+0(SB)/4, $0x7fffffff")
	p("GLOBL absmask<>(SB), RODATA|NOPTR, $4")
	p("")

	kernel("geluAVX512", "(y, x *float32, n int)", 24, "y:DI", "x:SI", "n:CX")
	geluRegs()
	mloop("gelu", []string{"DI", "SI"}, func(k string) {
		load(k, "(SI)", "Z0")
		phiv("Z0", "Z1", "Z2", "Z3", "Z4", "Z5", "Z6")
		p("\tVMULPS Z1, Z0, Z0")
		store(k, "Z0", "(DI)")
	})
	end()

	// dx = dy·(Φ(x) + x·φ(x)), φ(x) = e^(−x²/2)/√(2π).
	kernel("geluGradAVX512", "(dx, dy, x *float32, n int)", 32, "dx:DI", "dy:BX", "x:SI", "n:CX")
	geluRegs()
	mloop("gelugrad", []string{"DI", "BX", "SI"}, func(k string) {
		load(k, "(SI)", "Z0")
		phiv("Z0", "Z1", "Z2", "Z3", "Z4", "Z5", "Z6")
		// Z2 still holds a = min(|x|/√2, erfcmax): e^(−a²) = e^(−x²/2).
		p("\tVMULPS Z2, Z2, Z2")
		p("\tVSUBPS Z2, Z26, Z2")
		expv("Z2", "Z5", "Z6")
		p("\tVMULPS.BCST %s, Z2, Z2", mc("invsqrt2pi"))
		p("\tVFMADD231PS Z2, Z0, Z1")
		load(k, "(BX)", "Z3")
		p("\tVMULPS Z3, Z1, Z1")
		store(k, "Z1", "(DI)")
	})
	end()

	kernel("maxAVX512", "(x *float32, n int) float32", 20, "x:SI", "n:CX")
	p("\tMOVL $0xff800000, AX")
	p("\tVPBROADCASTD AX, Z0")
	mloop("max", []string{"SI"}, func(k string) {
		load(k, "(SI)", "Z1")
		masked(k, "VMAXPS", "Z1", "Z0", "Z0")
	})
	hred16("VMAXPS")
	p("\tVMOVSS X0, ret+16(FP)")
	end()

	// y = e^(x − shift), returning Σy (lane sums reduced in a fixed order).
	kernel("expShiftAVX512", "(y, x *float32, n int, shift float32) float32", 36, "y:DI", "x:SI", "n:CX", "shift:Z29")
	expRegs()
	p("\tVPXORD Z0, Z0, Z0")
	mloop("expshift", []string{"DI", "SI"}, func(k string) {
		load(k, "(SI)", "Z1")
		p("\tVSUBPS Z29, Z1, Z1")
		expv("Z1", "Z2", "Z3")
		store(k, "Z1", "(DI)")
		masked(k, "VADDPS", "Z1", "Z0", "Z0")
	})
	hred16("VADDPS")
	p("\tVMOVSS X0, ret+32(FP)")
	end()

	kernel("scaleAVX512", "(y, x *float32, n int, a float32)", 28, "y:DI", "x:SI", "n:CX", "a:Z29")
	mloop("scale", []string{"DI", "SI"}, func(k string) {
		load(k, "(SI)", "Z1")
		p("\tVMULPS Z29, Z1, Z1")
		store(k, "Z1", "(DI)")
	})
	end()

	kernel("dotAVX512", "(a, b *float32, n int) float32", 28, "a:SI", "b:BX", "n:CX")
	p("\tVPXORD Z0, Z0, Z0")
	mloop("dot", []string{"SI", "BX"}, func(k string) {
		load(k, "(SI)", "Z1")
		load(k, "(BX)", "Z2")
		p("\tVFMADD231PS Z2, Z1, Z0")
	})
	hred16("VADDPS")
	p("\tVMOVSS X0, ret+24(FP)")
	end()

	// dx = y·(dy − s): the softmax input gradient.
	kernel("mulSubAVX512", "(dx, y, dy *float32, n int, s float32)", 36, "dx:DI", "y:SI", "dy:BX", "n:CX", "s:Z29")
	mloop("mulsub", []string{"DI", "SI", "BX"}, func(k string) {
		load(k, "(BX)", "Z1")
		p("\tVSUBPS Z29, Z1, Z1")
		p("\tVMULPS (SI), Z1, Z1")
		store(k, "Z1", "(DI)")
	})
	end()

	// y = ((x − mu)·is)·γ + β: layer normalisation of one row.
	kernel("normAffineAVX512", "(y, x, gam, b *float32, n int, mu, is float32)", 48, "y:DI", "x:SI", "gam:BX", "b:DX", "n:CX", "mu:Z28", "is:Z29")
	mloop("normaffine", []string{"DI", "SI", "BX", "DX"}, func(k string) {
		load(k, "(SI)", "Z1")
		load(k, "(BX)", "Z2")
		load(k, "(DX)", "Z3")
		p("\tVSUBPS Z28, Z1, Z1")
		p("\tVMULPS Z29, Z1, Z1")
		p("\tVFMADD213PS Z3, Z2, Z1")
		store(k, "Z1", "(DI)")
	})
	end()

	// Σγ·dy and Σγ·dy·x̂ (x̂ = (x − mu)·is) of one row.
	kernel("lnDotsAVX512", "(x, dy, gam *float32, n int, mu, is float32) (sg, sgx float32)", 48, "x:SI", "dy:BX", "gam:DX", "n:CX", "mu:Z28", "is:Z29")
	p("\tVPXORD Z0, Z0, Z0")
	p("\tVPXORD Z10, Z10, Z10")
	mloop("lndots", []string{"SI", "BX", "DX"}, func(k string) {
		load(k, "(SI)", "Z1")
		load(k, "(BX)", "Z2")
		load(k, "(DX)", "Z3")
		p("\tVSUBPS Z28, Z1, Z1")
		p("\tVMULPS Z29, Z1, Z1")
		p("\tVMULPS Z3, Z2, Z2")
		p("\tVADDPS Z2, Z0, Z0")
		p("\tVFMADD231PS Z2, Z1, Z10")
	})
	hred16("VADDPS")
	p("\tVMOVSS X0, sg+40(FP)")
	p("\tVMOVAPS Z10, Z0")
	hred16("VADDPS")
	p("\tVMOVSS X0, sgx+44(FP)")
	end()

	// dx = is·(γ·dy − sg − x̂·sgx) of one row (sg, sgx the means).
	kernel("lnGradAVX512", "(dx, x, dy, gam *float32, n int, mu, is, sg, sgx float32)", 56, "dx:DI", "x:SI", "dy:BX", "gam:DX", "n:CX", "mu:Z26", "is:Z27", "sg:Z28", "sgx:Z29")
	mloop("lngrad", []string{"DI", "SI", "BX", "DX"}, func(k string) {
		load(k, "(SI)", "Z1")
		load(k, "(BX)", "Z2")
		load(k, "(DX)", "Z3")
		p("\tVSUBPS Z26, Z1, Z1")
		p("\tVMULPS Z27, Z1, Z1")
		p("\tVMULPS Z3, Z2, Z2")
		p("\tVSUBPS Z28, Z2, Z2")
		p("\tVFNMADD231PS Z29, Z1, Z2")
		p("\tVMULPS Z27, Z2, Z2")
		store(k, "Z2", "(DI)")
	})
	end()

	// acc += x in float64 (8 lanes per half vector; the tail's halves take
	// the low and high bytes of K1).
	f64acc := func(k string, src, acc string) {
		for h := 0; h < 2; h++ {
			lo := fmt.Sprintf("Y%d", 20+h)
			p("\tVEXTRACTF64X4 $%d, %s, %s", h, src, lo)
			p("\tVCVTPS2PD %s, Z%d", lo, 20+h)
			kk := k
			if k != "" && h == 1 {
				p("\tKSHIFTRW $8, K1, K3")
				kk = "K3"
			}
			load64 := fmt.Sprintf("%d(%s)", 64*h, acc)
			if kk == "" {
				p("\tVADDPD %s, Z%d, Z%d", load64, 20+h, 20+h)
				p("\tVMOVUPD Z%d, %s", 20+h, load64)
			} else {
				p("\tVMOVUPD.Z %s, %s, Z22", load64, kk)
				p("\tVADDPD Z22, Z%d, Z%d", 20+h, 20+h)
				p("\tVMOVUPD Z%d, %s, %s", 20+h, kk, load64)
			}
		}
	}
	kernel("accF64AVX512", "(acc *float64, x *float32, n int)", 24, "acc:DI", "x:SI", "n:CX")
	p("accf64_loop:")
	p("\tCMPQ CX, $16")
	p("\tJB accf64_tail")
	p("\tVMOVUPS (SI), Z1")
	f64acc("", "Z1", "DI")
	p("\tADDQ $128, DI")
	p("\tADDQ $64, SI")
	p("\tSUBQ $16, CX")
	p("\tJMP accf64_loop")
	p("accf64_tail:")
	p("\tTESTQ CX, CX")
	p("\tJZ accf64_done")
	maskFrom("K1")
	p("\tVMOVUPS.Z (SI), K1, Z1")
	f64acc("K1", "Z1", "DI")
	p("accf64_done:")
	end()

	// accg += dy·x̂ and accb += dy in float64: the parameter gradients of
	// layer normalisation, one row at a time.
	kernel("lnAccAVX512", "(accg, accb *float64, x, dy *float32, n int, mu, is float32)", 48, "accg:DI", "accb:DX", "x:SI", "dy:BX", "n:CX", "mu:Z28", "is:Z29")
	body := func(k string) {
		load(k, "(SI)", "Z1")
		load(k, "(BX)", "Z2")
		p("\tVSUBPS Z28, Z1, Z1")
		p("\tVMULPS Z29, Z1, Z1")
		p("\tVMULPS Z2, Z1, Z1")
		f64acc(k, "Z1", "DI")
		f64acc(k, "Z2", "DX")
	}
	p("lnacc_loop:")
	p("\tCMPQ CX, $16")
	p("\tJB lnacc_tail")
	body("")
	p("\tADDQ $128, DI")
	p("\tADDQ $128, DX")
	p("\tADDQ $64, SI")
	p("\tADDQ $64, BX")
	p("\tSUBQ $16, CX")
	p("\tJMP lnacc_loop")
	p("lnacc_tail:")
	p("\tTESTQ CX, CX")
	p("\tJZ lnacc_done")
	maskFrom("K1")
	body("K1")
	p("lnacc_done:")
	end()
}

func indexOf(name string) int {
	for i, c := range mathConst {
		if c.name == name {
			return i
		}
	}
	panic(name)
}
