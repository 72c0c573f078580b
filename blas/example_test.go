package blas_test

import (
	"fmt"

	gblas "gonum.org/v1/gonum/blas"

	"github.com/asymlab/asym/blas"
)

// Select a BLAS by name once at start-up; the engine then calls it.
func ExampleUse() {
	if err := blas.Use("go"); err != nil {
		fmt.Println(err)
		return
	}
	c := make([]float32, 1)
	blas.Current().Sgemm(gblas.NoTrans, gblas.NoTrans, 1, 1, 2, 1, []float32{1, 2}, 2, []float32{3, 4}, 1, 0, c, 1)
	fmt.Println(blas.CurrentName(), c)
	fmt.Println(blas.Use("mkl"))
	// Output:
	// go [11]
	// blas: unknown implementation "mkl"; valid: auto, go
}
