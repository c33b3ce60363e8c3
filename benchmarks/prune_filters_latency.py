"""Does filter pruning make ConvNet faster?  Unstructured pruning vs physically removed filters.

Times the forward pass of 256 test images, side by side in one run, for:
  dense ConvNet, the same with 90% of its weights zeroed (unstructured: the tensors keep
  their size), and ConvNet with conv1 cut to 8 and 4 filters by prune_filters.
Prints the median time and the ratio to dense.  Run with OPENBLAS_NUM_THREADS=1 on a shared
machine, from the repository root:

    OPENBLAS_NUM_THREADS=1 PYTHONPATH=. python benchmarks/prune_filters_latency.py
"""

import copy
import time

import numpy as np

from minicompress import ConvNet, load_mnist5k
from minicompress.prune import prune_filters, prune_model


def median_ms(model, x, repeats=15):
    model(x)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        model(x)
        times.append(time.perf_counter() - t0)
    return 1e3 * float(np.median(times))


def main():
    x = load_mnist5k().X_test[:256]
    dense = ConvNet(rng=0)
    sparse = copy.deepcopy(dense)
    prune_model(sparse, 0.9, scope="global")
    models = {"dense (16 filters)": dense, "90% zeros, unstructured": sparse,
              "prune_filters -> 8": prune_filters(dense, "conv1", 8)[0],
              "prune_filters -> 4": prune_filters(dense, "conv1", 4)[0]}
    times = {name: median_ms(m, x) for name, m in models.items()}
    base = times["dense (16 filters)"]
    print(f"{'model':26s} {'params':>7s} {'ms/256':>8s} {'vs dense':>9s}")
    for name, m in models.items():
        print(f"{name:26s} {m.num_parameters():7d} {times[name]:8.2f} {times[name] / base:8.2f}x")


if __name__ == "__main__":
    main()
