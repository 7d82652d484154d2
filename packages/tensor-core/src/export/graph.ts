// A small builder for ONNX graphs over the `onnx-proto` protobuf bindings (protobufjs): named
// nodes, float32/int64 initializers, and serialisation with optional external data (weights in a
// side file, the route past protobuf's 2 GB message limit). Architecture-specific graphs
// (export/architectures.ts) are written against this, never against protobuf messages directly.
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
type INodeProto = onnxProto.onnx.INodeProto;
type ITensorProto = onnxProto.onnx.ITensorProto;
type IAttributeProto = onnxProto.onnx.IAttributeProto;
type IValueInfoProto = onnxProto.onnx.IValueInfoProto;

/** ONNX IR version written (onnx-proto's schema is ONNX 1.10, IR 8). */
export const ONNX_IR_VERSION = 8;
/** Default-domain opset: 17 has LayerNormalization and ReduceSum with axes as an input. */
export const ONNX_OPSET = 17;

export type AttributeValue = number | number[] | string | { float: number };

export type ElemType = 'float32' | 'int64';
const ELEM: Record<ElemType, number> = { float32: onnx.TensorProto.DataType.FLOAT, int64: onnx.TensorProto.DataType.INT64 };

export interface GraphIo {
  name: string;
  type: ElemType;
  /** fixed sizes, or names of dynamic axes */
  shape: (number | string)[];
}

export interface SerializeOptions {
  /** put initializers in an external data file when their total size exceeds this many bytes */
  externalDataThreshold?: number;
  /** file name of the external data, relative to the model file (default "model.onnx_data") */
  externalDataName?: string;
}

export interface SerializedModel {
  /** the ModelProto bytes */
  model: Uint8Array;
  /** external data file contents (in order), when weights went to a side file */
  externalData?: { name: string; chunks: Uint8Array[]; bytes: number };
}

/** Initializers of at least this many bytes go to the external file (small constants stay inline). */
const EXTERNAL_MIN_BYTES = 1024;

export class GraphBuilder {
  private readonly nodes: INodeProto[] = [];
  private readonly initializers: { name: string; dims: number[]; type: ElemType; bytes: Uint8Array }[] = [];
  private readonly used = new Set<string>();
  private readonly constants = new Map<string, string>();
  private counter = 0;
  private parameterCount = 0;

  /** A fresh value name starting with `hint`. */
  fresh(hint: string): string {
    let name = hint;
    while (this.used.has(name)) name = `${hint}_${++this.counter}`;
    this.used.add(name);
    return name;
  }

  /** Adds a node with one output; returns the output name. */
  op(opType: string, inputs: string[], attributes: Record<string, AttributeValue> = {}, outputHint?: string): string {
    const out = this.fresh(outputHint ?? opType.toLowerCase());
    this.nodes.push({ opType, input: inputs, output: [out], name: `${opType}_${this.nodes.length}`, attribute: Object.entries(attributes).map(([k, v]) => attribute(k, v)) });
    return out;
  }

  /** A float32 initializer (`data` row-major in `dims`); `parameter` false for graph constants. */
  float(name: string, data: Float32Array, dims: number[], parameter = true): string {
    if (data.length !== dims.reduce((a, b) => a * b, 1)) throw new Error(`initializer "${name}": ${data.length} values do not fill shape [${dims.join(', ')}]`);
    const n = this.fresh(name);
    this.initializers.push({ name: n, dims, type: 'float32', bytes: littleEndian(data) });
    if (parameter) this.parameterCount += data.length;
    return n;
  }

  /** An int64 initializer. */
  int64(name: string, values: readonly number[], dims: number[] = [values.length]): string {
    const n = this.fresh(name);
    this.initializers.push({ name: n, dims, type: 'int64', bytes: littleEndian(BigInt64Array.from(values, (v) => BigInt(v))) });
    return n;
  }

  /** A shared scalar or vector constant (one initializer per distinct value). */
  constant(type: ElemType, values: readonly number[], dims: number[] = [values.length]): string {
    const key = `${type}:${dims.join('x')}:${values.join(',')}`;
    const known = this.constants.get(key);
    if (known) return known;
    const name = type === 'int64' ? this.int64('const_i64', values, dims) : this.float('const_f32', Float32Array.from(values), dims, false);
    this.constants.set(key, name);
    return name;
  }

  /** Total bytes of float and int initializers. */
  get initializerBytes(): number {
    return this.initializers.reduce((a, t) => a + t.bytes.byteLength, 0);
  }

  /** Number of float32 parameter values (the model's weights as exported, without graph constants). */
  get floatParameters(): number {
    return this.parameterCount;
  }

  serialize(io: { inputs: GraphIo[]; outputs: GraphIo[]; name: string; metadata: Record<string, string>; docString?: string }, options: SerializeOptions = {}): SerializedModel {
    const threshold = options.externalDataThreshold ?? EXTERNAL_DATA_THRESHOLD;
    const external = this.initializerBytes > threshold;
    const externalName = options.externalDataName ?? 'model.onnx_data';
    const chunks: Uint8Array[] = [];
    let offset = 0;
    const initializer: ITensorProto[] = this.initializers.map((t) => {
      const base: ITensorProto = { name: t.name, dims: t.dims, dataType: ELEM[t.type] };
      if (!external || t.bytes.byteLength < EXTERNAL_MIN_BYTES) return { ...base, rawData: t.bytes };
      // 64-byte alignment lets runtimes map the file and read tensors in place
      const pad = (64 - (offset % 64)) % 64;
      if (pad > 0) chunks.push(new Uint8Array(pad));
      offset += pad;
      chunks.push(t.bytes);
      const entry = { ...base, dataLocation: onnx.TensorProto.DataLocation.EXTERNAL, externalData: [
        { key: 'location', value: externalName }, { key: 'offset', value: String(offset) }, { key: 'length', value: String(t.bytes.byteLength) },
      ] };
      offset += t.bytes.byteLength;
      return entry;
    });
    const model = onnx.ModelProto.encode(onnx.ModelProto.create({
      irVersion: ONNX_IR_VERSION,
      opsetImport: [{ domain: '', version: ONNX_OPSET }],
      producerName: 'prunekit',
      ...(io.docString ? { docString: io.docString } : {}),
      metadataProps: Object.entries(io.metadata).map(([key, value]) => ({ key, value })),
      graph: {
        name: io.name,
        node: this.nodes,
        initializer,
        input: io.inputs.map(valueInfo),
        output: io.outputs.map(valueInfo),
      },
    })).finish();
    return external ? { model, externalData: { name: externalName, chunks, bytes: offset } } : { model };
  }
}

/** Weights above this size go to external data by default: protobuf messages cannot exceed 2 GiB. */
export const EXTERNAL_DATA_THRESHOLD = 1.8 * 1024 ** 3;

function valueInfo(v: GraphIo): IValueInfoProto {
  return {
    name: v.name,
    type: { tensorType: { elemType: ELEM[v.type], shape: { dim: v.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  };
}

function attribute(name: string, v: AttributeValue): IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(v) };
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new Error(`attribute "${name}": ${v} is not an integer; wrap floats as { float: x }`);
    return { name, type: T.INT, i: v };
  }
  if (Array.isArray(v)) return { name, type: T.INTS, ints: v };
  return { name, type: T.FLOAT, f: v.float };
}

/** Little-endian bytes of a typed array (ONNX raw_data is little-endian; so is every host we run on). */
function littleEndian(a: Float32Array | BigInt64Array): Uint8Array {
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('ONNX export needs a little-endian host');
  return new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
}
