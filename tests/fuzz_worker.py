"""Fuzz loop run in a child process by test_fuzz.py, so a crash or hang is seen as such and not as a dead pytest.

    python fuzz_worker.py onnx|plan BASE_FILE SCRATCH_DIR SEED ITERATIONS

Each iteration mutates the base bytes in memory, writes them to one scratch file and hands that file to trtcore.
Only trtcore.Error is an acceptable failure. Before each call the iteration number is written to SCRATCH/progress so
the parent can name the input that crashed; every other exception is reported as one JSON line on stdout and the
offending input is kept as SCRATCH/fail_<iteration>.
"""
import json
import os
import random
import resource
import struct
import sys

INTERESTING = [0, 1, 2, 3, 4, 7, 8, 16, 255, 256, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF, 0x7FFFFFFF, 0x80000000,
               0xFFFFFFFF, 0x100000000, 0x7FFFFFFFFFFFFFFF, 0x8000000000000000, 0xFFFFFFFFFFFFFFFF]


def _varint(v):
    out = bytearray()
    v &= (1 << 64) - 1
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def mutate_bytes(data, r, structured_ints=True):
    """Generic byte-level mutations: flips, random bytes, interesting integers, inserts, deletes, truncation,
    duplicated or swapped chunks; 1-4 of them stacked."""
    b = bytearray(data)
    for _ in range(r.choice((1, 1, 1, 2, 3, 4))):
        n = len(b)
        op = r.randrange(10)
        if n == 0:
            b += bytes(r.randrange(256) for _ in range(r.randrange(1, 16)))
            continue
        p = r.randrange(n)
        if op == 0:
            b[p] ^= 1 << r.randrange(8)
        elif op == 1:
            b[p] = r.randrange(256)
        elif op == 2 and structured_ints:
            width = r.choice((1, 2, 4, 8))
            v = r.choice(INTERESTING) & ((1 << (8 * width)) - 1)
            b[p:p + width] = v.to_bytes(width, "little")
        elif op == 3:
            b[p:p] = bytes(r.randrange(256) for _ in range(r.randrange(1, 9)))
        elif op == 4:
            del b[p:p + r.randrange(1, 17)]
        elif op == 5:
            del b[r.randrange(n):]
        elif op == 6:
            q = r.randrange(n)
            b[q:q] = b[p:p + r.randrange(1, 65)]
        elif op == 7:
            # a protobuf varint with an extreme value (lengths, dims, enum codes)
            b[p:p + r.randrange(1, 4)] = _varint(r.choice(INTERESTING))
        elif op == 8:
            b[p] = r.choice((0x00, 0x08, 0x0A, 0x10, 0x12, 0x1A, 0x22, 0x3A, 0x42, 0x4A, 0xFF))
        else:
            q = r.randrange(n)
            b[p], b[q] = b[q], b[p]
    return bytes(b)


# ---------------------------------------------------------------------------------------------------------------
# ONNX: structured mutations through the onnx Python API, mixed with raw byte mutations

def mutate_onnx_structured(model_bytes, r):
    import onnx

    m = onnx.ModelProto()
    m.ParseFromString(model_bytes)
    g = m.graph
    choice = r.randrange(12)
    if choice == 0 and g.node:
        n = r.choice(g.node)
        n.op_type = r.choice(["Conv", "Relu", "Gemm", "Resize", "Slice", "Reshape", "Concat", "Nope", "", "Pad"])
    elif choice == 1 and g.node:
        n = r.choice(g.node)
        if n.input:
            del n.input[r.randrange(len(n.input))]
        else:
            n.input.append("ghost")
    elif choice == 2 and g.node:
        n = r.choice(g.node)
        n.input.append(r.choice(["", "ghost", n.output[0] if n.output else "x"]))
    elif choice == 3 and g.node:
        n = r.choice(g.node)
        if n.attribute:
            a = r.choice(n.attribute)
            if a.ints:
                a.ints[r.randrange(len(a.ints))] = r.choice([0, -1, -7, 1 << 40, -(1 << 62), 3])
            elif a.type == onnx.AttributeProto.INT:
                a.i = r.choice([0, -1, 1 << 40, 99, -(1 << 62)])
            elif a.type == onnx.AttributeProto.FLOAT:
                a.f = r.choice([float("nan"), float("inf"), -1.0, 0.0, 1e30])
            elif a.type == onnx.AttributeProto.STRING:
                a.s = r.choice([b"", b"bogus", b"\xff\xfe", b"NOTSET"])
            else:
                a.type = r.randrange(0, 16)
    elif choice == 4 and g.initializer:
        t = r.choice(g.initializer)
        if t.dims:
            t.dims[r.randrange(len(t.dims))] = r.choice([0, -1, 1 << 33, 7, 1 << 62])
        else:
            t.dims.append(r.choice([0, 5, 1 << 40]))
    elif choice == 5 and g.initializer:
        t = r.choice(g.initializer)
        t.data_type = r.choice([0, 2, 3, 5, 7, 8, 10, 11, 16, 99])
    elif choice == 6 and g.initializer:
        t = r.choice(g.initializer)
        if t.raw_data:
            t.raw_data = t.raw_data[: r.randrange(len(t.raw_data))]
        else:
            del t.float_data[:]
    elif choice == 7 and g.initializer:
        t = r.choice(g.initializer)
        t.data_location = onnx.TensorProto.EXTERNAL
        del t.external_data[:]
        for k, v in [("location", r.choice(["missing.bin", "../../../etc/passwd", "/dev/zero", "", "a" * 300])),
                     ("offset", str(r.choice([0, -5, 1 << 50]))), ("length", str(r.choice([0, 16, 1 << 50, -1])))]:
            e = t.external_data.add()
            e.key, e.value = k, v
    elif choice == 8:
        for o in m.opset_import:
            o.version = r.choice([0, 1, 7, 8, 21, 22, 99, -3, 1 << 40])
    elif choice == 9 and g.input:
        vi = r.choice(g.input)
        dims = vi.type.tensor_type.shape.dim
        if dims:
            d = dims[r.randrange(len(dims))]
            if r.random() < 0.5:
                d.dim_value = r.choice([0, -1, 1 << 40, 3])
            else:
                d.dim_param = r.choice(["N", "", "weird dim"])
        vi.type.tensor_type.elem_type = r.choice([1, 1, 1, 0, 7, 10, 99])
    elif choice == 10 and len(g.node) > 1:
        # a cycle or a reordering: feed an early node from a late node's output
        a, b = r.sample(range(len(g.node)), 2)
        if g.node[a].input and g.node[b].output:
            g.node[a].input[0] = g.node[b].output[0]
    else:
        g.output.add().name = r.choice(["ghost", g.node[0].output[0] if g.node else "x"])
    return m.SerializeToString()


# ---------------------------------------------------------------------------------------------------------------
# plans: byte mutations; half of them get a valid trailing CRC-64/XZ so the parser behind the checksum is reached

def _crc64_table():
    poly = 0xC96C5795D7870F42
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ poly if c & 1 else c >> 1
        table.append(c)
    return table


_CRC_TABLE = _crc64_table()


def crc64(data):
    crc = 0xFFFFFFFFFFFFFFFF
    t = _CRC_TABLE
    for byte in data:
        crc = t[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFFFFFFFFFF


def with_valid_crc(body):
    return body + struct.pack("<Q", crc64(body))


def mutate_plan(data, r, crc_ok):
    if crc_ok:
        body = data[:-8]
        # keep the magic and version most of the time so the sections are parsed
        head = body[:12] if r.random() < 0.9 else b""
        return with_valid_crc(head + mutate_bytes(body[len(head):], r))
    return mutate_bytes(data, r)


def main():
    kind, base, scratch, seed, iterations = sys.argv[1:6]
    seed, iterations = int(seed), int(iterations)
    limit = 6 << 30
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    import trtcore

    data = open(base, "rb").read()
    r = random.Random(seed)
    target = os.path.join(scratch, "input." + kind)
    progress = os.path.join(scratch, "progress")
    crc_ok = kind == "plan" and crc64(data[:-8]) == struct.unpack("<Q", data[-8:])[0]
    failures = 0
    stats = {"trtcore.Error": 0, "ok": 0}
    for i in range(iterations):
        if kind == "onnx":
            mutated = (mutate_onnx_structured(data, r) if r.random() < 0.35 else mutate_bytes(data, r))
        else:
            mutated = mutate_plan(data, r, crc_ok and r.random() < 0.5)
        with open(target, "wb") as f:
            f.write(mutated)
        with open(progress, "w") as f:
            f.write(str(i))
        try:
            if kind == "onnx":
                trtcore.check_onnx(target)
                if i % 8 == 0:
                    trtcore.load_graph(target, stop_after="optimize")
            else:
                trtcore.Engine(target, threads=1)
            stats["ok"] += 1
        except trtcore.Error:
            stats["trtcore.Error"] += 1
        except BaseException as e:  # noqa: B902 - anything else is a finding
            failures += 1
            keep = os.path.join(scratch, f"fail_{i}.{kind}")
            with open(keep, "wb") as f:
                f.write(mutated)
            print(json.dumps({"iteration": i, "type": type(e).__name__, "message": str(e)[:300], "file": keep}),
                  flush=True)
            if failures >= 20:
                break
    print(json.dumps({"done": True, "crc_fixing": crc_ok, **stats}), flush=True)


if __name__ == "__main__":
    main()
