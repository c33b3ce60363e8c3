"""Speed of the quantization kernels, measured side by side in one run.

    python benchmarks/bench_quant.py                # 1 BLAS thread (the default)
    python benchmarks/bench_quant.py --threads 2    # let the float GEMMs use 2 threads

1. ``int_matmul`` (exact int8 x int8 -> int32 through float BLAS) against NumPy's integer
   matmul on the same int8 data (cast to int32 beforehand, so NumPy is not charged for the
   cast; ``int_matmul`` is charged for its own casts), and float32 GEMM for reference.
2. ``xnor_matmul`` (packed bits, XOR + popcount) against the float32 dot product of the
   same +-1 matrices, and their memory.

Times are medians over interleaved repeats (a shared machine is noisy); ratios are of
medians.  NumPy's integer matmul and the XNOR kernel run on one thread whatever the
setting; ``--threads 1`` (the default) compares like with like, more BLAS threads make the
float side faster on an idle machine (and, on a machine shared with other jobs, can make
it much slower).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

_pre = argparse.ArgumentParser(add_help=False)
_pre.add_argument("--threads", type=int, default=1)
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = str(_pre.parse_known_args()[0].threads)  # before numpy loads BLAS
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from minicompress.quantize import int_matmul, pack_signs, xnor_matmul  # noqa: E402


def median_times(fns: dict, repeats: int) -> dict:
    """Interleave the candidates, ``repeats`` rounds, one call each per round; medians in s."""
    for fn in fns.values():
        fn()  # warm-up
    times = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return {name: float(np.median(t)) for name, t in times.items()}


def bench_int(M: int, K: int, N: int, repeats: int, rng) -> None:
    a = rng.integers(-128, 128, (M, K)).astype(np.int8)
    b = rng.integers(-128, 128, (K, N)).astype(np.int8)
    a32, b32 = a.astype(np.int32), b.astype(np.int32)
    af, bf = a.astype(np.float32), b.astype(np.float32)
    assert np.array_equal(int_matmul(a, b), a32 @ b32), "int_matmul must be exact"
    t = median_times({"int_matmul": lambda: int_matmul(a, b), "numpy int32 matmul": lambda: a32 @ b32,
                      "float32 GEMM": lambda: af @ bf}, repeats)
    print(f"\nint8 x int8 -> int32, {M} x {K} x {N}  (exact via "
          f"{'float32' if K * 128 * 128 < 2**24 else 'float64'} BLAS)")
    for name, s in t.items():
        print(f"  {name:<20s} {1e3 * s:9.2f} ms")
    print(f"  ratio numpy int / int_matmul: {t['numpy int32 matmul'] / t['int_matmul']:.1f}x")


def bench_xnor(M: int, K: int, N: int, repeats: int, rng) -> None:
    A, B = rng.standard_normal((M, K)), rng.standard_normal((N, K))
    a_bits, b_bits = pack_signs(A), pack_signs(B)
    sa = np.where(A >= 0, 1, -1).astype(np.float32)
    sb_t = np.ascontiguousarray(np.where(B >= 0, 1, -1).astype(np.float32).T)
    assert np.array_equal(xnor_matmul(a_bits, b_bits, K), sa @ sb_t), "xnor must equal the float dot"
    t = median_times({"xnor_matmul": lambda: xnor_matmul(a_bits, b_bits, K),
                      "float32 dot of signs": lambda: sa @ sb_t}, repeats)
    print(f"\n+-1 dot products, {M} x {K} x {N}")
    for name, s in t.items():
        print(f"  {name:<20s} {1e3 * s:9.2f} ms")
    print(f"  ratio float32 / xnor: {t['float32 dot of signs'] / t['xnor_matmul']:.2f}x  "
          f"(> 1 means xnor is faster)")
    packed, dense = a_bits.nbytes + b_bits.nbytes, sa.nbytes + sb_t.nbytes
    print(f"  memory of the operands: {packed} bytes packed vs {dense} bytes float32 ({dense / packed:.0f}x)")


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=1, help="BLAS threads for the float GEMMs (default 1)")
    p.add_argument("--repeats", type=int, default=7, help="interleaved timed repeats (default 7)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    threads = {k: os.environ.get(k, "unset")
               for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    print(f"numpy {np.__version__}, python {platform.python_version()}, {os.cpu_count()} CPUs, {threads}")
    bench_int(512, 512, 512, args.repeats, rng)
    bench_int(256, 4096, 256, args.repeats, rng)
    bench_xnor(512, 512, 512, args.repeats, rng)


if __name__ == "__main__":
    main()
