"""Run the published MAXIM-3S tfjs graph with TensorFlow 2 (PyPI ``tensorflow-cpu``): a second,
much faster reference beside ``run_graph.mjs`` (TensorFlow.js, pure-JavaScript backend).

``model.json``'s ``modelTopology`` is a TensorFlow GraphDef written as JSON without its constant
values; this fills every ``Const`` node from the weight shards and imports the graph.

Needs a scratch environment with TensorFlow (not a deblurgan dependency)::

    python -m venv /tmp/tfenv && /tmp/tfenv/bin/pip install tensorflow-cpu
    /tmp/tfenv/bin/python scripts/maxim_reference/run_graph_tf.py MODEL_DIR in.npy out.npz [NODES]

``in.npy``: float32 NHWC in [0, 1], sides multiples of 64. ``out.npz``: ``arr_0`` the graph's
``Identity`` output, then one array per requested node (full names, ``:0`` implied).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np


def main(argv: list[str]) -> int:
    import tensorflow as tf
    from google.protobuf import json_format

    model_dir, source, target = Path(argv[0]), argv[1], argv[2]
    wanted = [n for n in (argv[3].split(",") if len(argv) > 3 else []) if n]
    model = json.loads((model_dir / "model.json").read_text())
    topology = model["modelTopology"]
    graph_def = tf.compat.v1.GraphDef()
    json_format.ParseDict(
        {k: topology[k] for k in ("node", "library", "versions") if k in topology},
        graph_def,
        ignore_unknown_fields=True,
    )
    dtypes = {"float32": np.float32, "int32": np.int32, "bool": np.bool_}
    constants: dict[str, np.ndarray] = {}
    for group in model["weightsManifest"]:
        data = b"".join((model_dir / p).read_bytes() for p in group["paths"])
        offset = 0
        for entry in group["weights"]:
            dtype = np.dtype(dtypes[entry["dtype"]])
            count = int(np.prod(entry["shape"]))
            array = np.frombuffer(data, dtype, count=count, offset=offset)
            constants[entry["name"]] = array.reshape(entry["shape"])
            offset += count * dtype.itemsize
    for node in graph_def.node:
        if node.op == "Const" and node.name in constants:
            value = constants[node.name]
            node.attr["value"].tensor.CopyFrom(tf.make_tensor_proto(value))
            node.attr["dtype"].type = tf.as_dtype(value.dtype).as_datatype_enum
    graph = tf.Graph()
    with graph.as_default():
        tf.graph_util.import_graph_def(graph_def, name="")
    image = np.load(source).astype(np.float32)
    with tf.compat.v1.Session(graph=graph) as session:
        start = time.perf_counter()
        results = session.run(["Identity:0", *(f"{n}:0" for n in wanted)], {"xs_0:0": image})
        print(
            f"executed {image.shape} in {time.perf_counter() - start:.1f} s (tf {tf.__version__})"
        )
    np.savez(target, *results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
