package kernels

// Tran computes C = beta C + alpha Aᵀ for the m x n column-major A and the
// n x m column-major C, as PBLAS PDTRAN does on one process (its local
// kernel). With beta = 0, C is not read (NaN or Inf there do not
// propagate, as in BLAS); with alpha = 1 and beta = 0 it is Transpose.
// Pure Go in both builds: a transpose moves memory, there is no arithmetic
// for BLAS to speed up.
func Tran(m, n int, alpha float64, a []float64, lda int, beta float64, c []float64, ldc int) {
	checkArray(m, n, a, lda)
	checkArray(n, m, c, ldc)
	if alpha == 1 && beta == 0 {
		Transpose(m, n, a, lda, c, ldc)
		return
	}
	const blk = 32 // cache blocking, as Transpose
	for jj := 0; jj < n; jj += blk {
		for ii := 0; ii < m; ii += blk {
			for j := jj; j < min(jj+blk, n); j++ {
				for i := ii; i < min(ii+blk, m); i++ {
					v := alpha * a[i+j*lda]
					if beta != 0 {
						v += beta * c[j+i*ldc]
					}
					c[j+i*ldc] = v
				}
			}
		}
	}
}
