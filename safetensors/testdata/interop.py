"""Reads and writes safetensors files with numpy only, written from the
format's specification, to test the Go package against an independent
implementation.

    interop.py read FILE EXPECT.json   check FILE against EXPECT, exit 1 on a mismatch
    interop.py write FILE EXPECT.json  write FILE and the values Go must read into EXPECT

EXPECT is {"metadata": {...}, "tensors": {name: {"dtype", "shape", "values"}}}
where values are float32 bit patterns for float tensors (as numpy or torch
convert them to float32) and integers for integer tensors.
"""
import json
import struct
import sys

import numpy as np

NP = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "BF16": "<u2", "I64": "<i8",
      "I32": "<i4", "I16": "<i2", "I8": "i1", "U8": "u1", "BOOL": "u1"}


def fail(msg):
    print("interop.py: " + msg, file=sys.stderr)
    sys.exit(1)


def read(path, expect_path):
    with open(path, "rb") as f:
        b = f.read()
    with open(expect_path) as f:
        expect = json.load(f)
    (n,) = struct.unpack("<Q", b[:8])
    raw = b[8:8 + n]
    if n % 8 != 0:
        fail("header length %d is not a multiple of 8" % n)
    text = raw.decode("utf-8")
    body = text.rstrip(" ")
    if not body.endswith("}") or len(text) - len(body) >= 8:
        fail("header is not JSON padded with fewer than 8 spaces: %r" % text[-16:])
    header = json.loads(text)
    if not isinstance(header, dict):
        fail("header is not an object")
    meta = header.pop("__metadata__", None)
    if (meta or {}) != expect["metadata"]:
        fail("metadata %r != %r" % (meta, expect["metadata"]))
    data = b[8 + n:]
    # Offsets tile the buffer.
    spans = sorted((v["data_offsets"][0], v["data_offsets"][1], k) for k, v in header.items())
    pos = 0
    for s, e, k in spans:
        if s != pos or e < s:
            fail("tensor %r: offsets [%d, %d] after %d" % (k, s, e, pos))
        pos = e
    if pos != len(data):
        fail("tensors cover %d of %d data bytes" % (pos, len(data)))
    if sorted(header) != sorted(expect["tensors"]):
        fail("names %r != %r" % (sorted(header), sorted(expect["tensors"])))
    for name, want in expect["tensors"].items():
        info = header[name]
        if info["dtype"] != want["dtype"] or info["shape"] != want["shape"]:
            fail("%r: %s %r, want %s %r" % (name, info["dtype"], info["shape"], want["dtype"], want["shape"]))
        s, e = info["data_offsets"]
        arr = np.frombuffer(data[s:e], dtype=NP[info["dtype"]])
        if arr.size != int(np.prod(info["shape"], dtype=np.int64)):
            fail("%r: %d elements for shape %r" % (name, arr.size, info["shape"]))
        if info["dtype"] == "F32":
            got = arr.view("<u4").tolist()
        else:
            got = arr.astype(np.int64).tolist()
        if got != want["values"]:
            fail("%r: values %r != %r" % (name, got[:8], want["values"][:8]))
    print("python read %d tensors OK" % len(header))


def bf16_rne(x):
    """Round float32 values to bfloat16 bits, round to nearest even."""
    u = np.asarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    u = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
    return u.astype(np.uint16)


def write(path, expect_path):
    rng = np.random.default_rng(0)
    specials = [0.0, -0.0, 1.0, -2.5, 65504.0, 6e-8, 1e-5, np.inf, -np.inf]
    f32 = rng.standard_normal((3, 5)).astype(np.float32)
    f16 = np.array(specials + list(rng.standard_normal(7)), dtype=np.float16)
    f64 = np.array([0.1, -1e300, 1e-50, np.pi, 2.0 ** -149, 3.4028235677973366e38], dtype=np.float64)
    src = rng.standard_normal(6).astype(np.float32)
    have_torch = False
    try:
        import torch
        t = torch.from_numpy(src).to(torch.bfloat16)
        bf16 = t.view(torch.int16).numpy().view(np.uint16).copy()
        bf16_as_f32 = t.to(torch.float32).numpy()
        have_torch = True
    except ImportError:
        bf16 = bf16_rne(src)
        bf16_as_f32 = (bf16.astype(np.uint32) << 16).view(np.float32)
    with np.errstate(over="ignore"):  # the last F64 value rounds to +Inf
        f64_as_f32 = f64.astype(np.float32)
    tensors = {
        "model.f32": ("F32", f32, f32),
        "model.f16": ("F16", f16, f16.astype(np.float32)),
        "model.f64": ("F64", f64, f64_as_f32),
        "model.bf16": ("BF16", bf16, bf16_as_f32),
        "scalar": ("F32", np.array(7.25, dtype=np.float32), np.array(7.25, dtype=np.float32)),
        "empty": ("F32", np.zeros((0, 2), dtype=np.float32), np.zeros((0, 2), dtype=np.float32)),
        "i64": ("I64", np.array([[-(2 ** 63), 2 ** 63 - 1], [0, -5]], dtype=np.int64), None),
        "i32": ("I32", np.array([-(2 ** 31), 7], dtype=np.int32), None),
        "u8": ("U8", np.arange(250, 256, dtype=np.uint8), None),
    }
    # Lay out in name order (not the reference's alignment order), write
    # the header with json.dumps' default spacing and no padding: readers
    # must accept any valid layout.
    header, chunks, off = {}, [], 0
    for name in sorted(tensors):
        dtype, arr, _ = tensors[name]
        b = np.ascontiguousarray(arr).astype(NP[dtype]).tobytes()
        header[name] = {"dtype": dtype, "shape": list(arr.shape), "data_offsets": [off, off + len(b)]}
        chunks.append(b)
        off += len(b)
    meta = {"format": "pt", "writer": "interop.py", "torch": str(have_torch)}
    header["__metadata__"] = meta
    hb = json.dumps(header).encode("utf-8")
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hb)))
        f.write(hb)
        for b in chunks:
            f.write(b)
    expect = {"metadata": meta, "tensors": {}}
    for name, (dtype, arr, as_f32) in tensors.items():
        if as_f32 is not None:
            values = np.ascontiguousarray(as_f32, dtype=np.float32).reshape(-1).view(np.uint32).tolist()
        else:
            values = arr.reshape(-1).astype(np.int64).tolist()
        expect["tensors"][name] = {"dtype": dtype, "shape": list(arr.shape), "values": values}
    with open(expect_path, "w") as f:
        json.dump(expect, f)
    print("python wrote %d tensors (header %d bytes, torch bf16: %s)" % (len(tensors), len(hb), have_torch))


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] not in ("read", "write"):
        fail(__doc__)
    {"read": read, "write": write}[sys.argv[1]](sys.argv[2], sys.argv[3])
