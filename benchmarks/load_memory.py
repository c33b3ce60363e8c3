"""What a load allocates: the peak (tracemalloc) of ``formats.load_model`` over the storage
formats, as a multiple of the target model's float32 size, and the peak of refusing a 3 KB
file that declares a 60000 x 60000 float32 array (13.4 GiB).

    python benchmarks/load_memory.py

The target is the text's ConvNet (27,210 parameters, 108,840 bytes in float32), loaded as a
plain float model and as the model whose every layer stores its weight in the format; the
hostile file is that of a small MLP (4-3-2) with fc1.weight's header and values replaced.
"""

from __future__ import annotations

import io
import os
import tempfile
import tracemalloc
import zipfile

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from minicompress import formats as F  # noqa: E402
from minicompress.nn import Conv2d, ConvNet, Linear, ReLU, Sequential  # noqa: E402
from minicompress.nn.layers import replace_layers  # noqa: E402

CASES = [("fp32", {}), ("fp16", {}), ("int", {"bits": 2}), ("int", {"bits": 8}), ("int", {"bits": 16}),
         ("int8_channel", {}), ("bitmask", {}), ("bitmask", {"bits": 4}), ("csr", {}), ("csr", {"bits": 16}),
         ("lowrank", {"rank": 3})]


def peak(fn) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def stored(fmt, options, seed):
    return replace_layers(ConvNet(rng=seed), (Linear, Conv2d), lambda m: F.compress_layer(m, fmt, **options))


def small(seed=0):
    return Sequential(fc1=Linear(4, 3, rng=seed), relu=ReLU(), fc2=Linear(3, 2, rng=seed + 1))


def huge_file(path) -> None:
    """A small model's file whose fc1.weight declares 60000 x 60000 float32 values."""
    F.save_model(path, small(1), "fp32")
    with zipfile.ZipFile(path) as z:
        members = {n: z.read(n) for n in z.namelist()}
    text = repr({"descr": "<f4", "fortran_order": False, "shape": (60000 * 60000,)})
    text += " " * (-(len(text) + 11) % 64) + "\n"
    header = io.BytesIO()
    np.save(header, np.array([60000, 60000], np.int32))
    members["fc1.weight/fp32/header.npy"] = header.getvalue()
    members["fc1.weight/fp32/values.npy"] = b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + \
        text.encode() + b"\0" * 512
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)


def main() -> None:
    dense = sum(p.nbytes for p in ConvNet().parameters())
    print(f"target: ConvNet, {dense:,} bytes in float32\n")
    print(f"{'format':22s} {'plain peak':>11s} {'x':>5s} {'stored peak':>12s} {'x':>5s}")
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "m.npz")
        worst = 0.0
        for fmt, options in CASES:
            F.save_model(path, ConvNet(rng=1), fmt, **options)
            target = ConvNet(rng=2)
            plain = peak(lambda t=target: F.load_model(path, t))
            F.save_model(path, stored(fmt, options, 1), "auto")
            target = stored(fmt, options, 2)
            held = peak(lambda t=target: F.load_model(path, t))
            worst = max(worst, plain / dense, held / dense)
            label = fmt + "".join(f" {k}={v}" for k, v in options.items())
            print(f"{label:22s} {plain:11,d} {plain / dense:5.2f} {held:12,d} {held / dense:5.2f}")
        print(f"\nworst peak: {worst:.2f} x the model's float32 size")
        huge_file(path)
        size = os.path.getsize(path)
        refused, target = [], small(2)
        p = peak(lambda: refused.append(_refusal(path, target)))
        print(f"a {size:,}-byte file declaring 60000 x 60000 float32 (13.4 GiB): refused with a peak of "
              f"{p:,} bytes\n  {refused[0]}")


def _refusal(path, target) -> str:
    try:
        F.load_model(path, target)
    except ValueError as err:
        return str(err).replace(os.path.dirname(path), "...")
    return "NOT REFUSED"


if __name__ == "__main__":
    main()
