#!/usr/bin/env python3
"""PyTorch side of asym's interop checks (needs python3-torch and
python3-torchvision; never needs the safetensors package: files are read
and written with the format's spec and numpy).

  torch_interop.py check-export WEIGHTS INPUT LOGITS --arch resnet18 --classes 10 --input 3,32,32
      Load asym's exported WEIGHTS into torchvision's model (strict), run it
      in eval mode on INPUT (raw float32, NCHW) and compare with LOGITS (raw
      float32 written by asym). Prints the max |difference|; exit 1 above
      the tolerance.
  torch_interop.py make-weights WEIGHTS INPUT LOGITS --arch resnet18 --classes 10 --input 3,32,32
      Write a randomly initialised torchvision model (random batch-norm
      statistics too) as WEIGHTS, a random INPUT batch and its eval-mode
      LOGITS, for asym to import and compare.
"""
import argparse
import json
import struct
import sys

import numpy as np

DTYPES = {"F32": np.float32, "F64": np.float64, "F16": np.float16, "I64": np.int64, "I32": np.int32, "U8": np.uint8}


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        arr = np.frombuffer(data[base + begin:base + end], dtype=DTYPES[info["dtype"]])
        out[name] = arr.reshape(info["shape"]).copy()
    return out


def write_safetensors(path, tensors):
    header, offset, blobs = {}, 0, []
    for name in sorted(tensors):
        arr = np.ascontiguousarray(tensors[name])
        dtype = {np.dtype(np.float32): "F32", np.dtype(np.int64): "I64"}[arr.dtype]
        b = arr.tobytes()
        header[name] = {"dtype": dtype, "shape": list(arr.shape), "data_offsets": [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def model(arch, classes):
    import torchvision

    return getattr(torchvision.models, arch)(num_classes=classes)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("cmd", choices=["check-export", "make-weights"])
    p.add_argument("weights")
    p.add_argument("input")
    p.add_argument("logits")
    p.add_argument("--arch", default="resnet18")
    p.add_argument("--classes", type=int, default=10)
    p.add_argument("--input-shape", default="3,32,32")
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--tol", type=float, default=1e-3)
    a = p.parse_args()

    import torch

    torch.set_num_threads(1)
    shape = [a.batch] + [int(v) for v in a.input_shape.split(",")]
    m = model(a.arch, a.classes)
    if a.cmd == "check-export":
        state = {k: torch.from_numpy(v) for k, v in read_safetensors(a.weights).items()}
        m.load_state_dict(state, strict=True)
        m.eval()
        x = torch.from_numpy(np.fromfile(a.input, dtype=np.float32).reshape(shape))
        want = np.fromfile(a.logits, dtype=np.float32).reshape(a.batch, a.classes)
        with torch.no_grad():
            got = m(x).numpy()
        diff = float(np.max(np.abs(got - want)))
        scale = float(np.max(np.abs(want)))
        print(f"max |torch - asym| = {diff:.3g} (logit scale {scale:.3g})")
        sys.exit(0 if diff <= a.tol * max(1.0, scale) else 1)
    torch.manual_seed(0)
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, torch.nn.BatchNorm2d):
                mod.running_mean.uniform_(-0.5, 0.5)
                mod.running_var.uniform_(0.5, 2.0)
                mod.weight.uniform_(0.5, 1.5)
                mod.bias.uniform_(-0.2, 0.2)
    m.eval()
    state = {k: v.numpy() for k, v in m.state_dict().items()}
    write_safetensors(a.weights, state)
    x = torch.randn(*shape)
    with torch.no_grad():
        y = m(x).numpy().astype(np.float32)
    x.numpy().astype(np.float32).tofile(a.input)
    y.tofile(a.logits)
    print("wrote", a.weights)


if __name__ == "__main__":
    main()
