/**
 * A small builder for ONNX graphs, serialised with our own protobuf writer (field numbers from
 * onnx.proto). It is enough to express the converted USE-lite encoder, and the tiny BERT-shaped
 * models the tests generate. Internal: not exported from the package.
 */
import { ProtoWriter } from './protobuf-writer.js';

interface TensorSpec {
  name: string;
  dims: number[];
  dataType: number;
  rawData: Uint8Array;
}

/** Where one tensor's bytes sit in an external weights file. */
interface ExternalPlace {
  offset: number;
  length: number;
}

/**
 * Large tensors kept outside the model file, in one weights file that several models may share
 * (ONNX external data: TensorProto.external_data with location, offset and length).
 *
 * Why: onnxruntime copies an inline tensor three times on the way in (file read, protobuf
 * parse, the session's own buffer) before packing the matrices, and on a virtual machine each
 * fresh page costs a fault: the 18.6 MB int8 model took ~150 ms of CPU to open, ~12,000 page
 * faults. External tensors at aligned offsets are mapped from the file instead: ~45 ms, ~3,000
 * faults, the same vectors bit for bit (bench `cli`; test/embeddings/use-lite.test.ts).
 */
export class ExternalWeights {
  private readonly chunks: Uint8Array[] = [];
  private readonly placed = new Map<string, ExternalPlace & { bytes: Uint8Array }>();
  private size = 0;

  /**
   * @param location the weights file's name, relative to the model files that refer to it.
   * @param alignment offsets are multiples of it: onnxruntime maps a tensor from the file only
   *   at a multiple of the allocation granularity (4 KiB on Linux, 64 KiB on Windows).
   * @param minBytes smaller tensors stay inline: a mapping per tiny bias costs more than it saves.
   */
  constructor(
    readonly location: string,
    readonly alignment = 65536,
    readonly minBytes = 65536,
  ) {}

  /**
   * The place of tensor `name`. A name placed before by another model is shared, and must hold
   * the same bytes: two models disagreeing about one weight is a converter bug.
   */
  place(name: string, bytes: Uint8Array): ExternalPlace {
    const known = this.placed.get(name);
    if (known !== undefined) {
      if (!sameBytes(known.bytes, bytes)) throw new Error(`external tensor ${name}: two different contents`);
      return { offset: known.offset, length: known.length };
    }
    const padding = (this.alignment - (this.size % this.alignment)) % this.alignment;
    if (padding > 0) this.chunks.push(new Uint8Array(padding));
    const place = { offset: this.size + padding, length: bytes.length };
    this.chunks.push(bytes);
    this.size = place.offset + bytes.length;
    this.placed.set(name, { ...place, bytes });
    return place;
  }

  /** The weights file's contents. */
  finish(): Uint8Array {
    const out = new Uint8Array(this.size);
    let at = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, at);
      at += chunk.length;
    }
    return out;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

type AttributeSpec =
  | { name: string; type: 'INT'; i: number }
  | { name: string; type: 'FLOAT'; f: number }
  | { name: string; type: 'STRING'; s: string }
  | { name: string; type: 'INTS'; ints: number[] };

interface NodeSpec {
  opType: string;
  name: string;
  input: string[];
  output: string[];
  attribute: AttributeSpec[];
}

/** onnx.proto's AttributeProto.AttributeType. */
const ATTRIBUTE_TYPE = { FLOAT: 1, INT: 2, STRING: 3, INTS: 7 } as const;

export const DataType = { FLOAT: 1, UINT8: 2, INT8: 3, INT64: 7 } as const;
type DataType = (typeof DataType)[keyof typeof DataType];

type AttributeValue = number | number[] | string;

export interface GraphInput {
  name: string;
  type: DataType;
  /** Symbolic names (strings) or fixed sizes. */
  shape: ReadonlyArray<string | number>;
}

export class GraphBuilder {
  private readonly nodes: NodeSpec[] = [];
  private readonly initializers: TensorSpec[] = [];
  private counter = 0;
  /** Bytes of this model's tensors in the external weights file, after `encode`. */
  externalBytes = 0;

  /** Adds a constant tensor and returns its name. */
  floatTensor(name: string, dims: readonly number[], data: Float32Array): string {
    const expected = dims.reduce((a, b) => a * b, 1);
    if (expected !== data.length) {
      throw new Error(`tensor ${name}: ${data.length} values for dims [${dims.join(', ')}]`);
    }
    this.initializers.push({
      name,
      dims: [...dims],
      dataType: DataType.FLOAT,
      rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    });
    return name;
  }

  int8Tensor(name: string, dims: readonly number[], data: Int8Array): string {
    this.initializers.push({
      name,
      dims: [...dims],
      dataType: DataType.INT8,
      rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    });
    return name;
  }

  uint8Tensor(name: string, dims: readonly number[], data: Uint8Array): string {
    this.initializers.push({
      name,
      dims: [...dims],
      dataType: DataType.UINT8,
      rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    });
    return name;
  }

  int64Tensor(name: string, dims: readonly number[], data: readonly number[]): string {
    const raw = new BigInt64Array(data.map((v) => BigInt(v)));
    this.initializers.push({
      name,
      dims: [...dims],
      dataType: DataType.INT64,
      rawData: new Uint8Array(raw.buffer),
    });
    return name;
  }

  scalar(value: number): string {
    return this.floatTensor(this.fresh('const'), [], new Float32Array([value]));
  }

  uint8Scalar(value: number): string {
    const name = this.fresh('const');
    this.initializers.push({ name, dims: [], dataType: DataType.UINT8, rawData: new Uint8Array([value]) });
    return name;
  }

  ints(values: readonly number[]): string {
    return this.int64Tensor(this.fresh('ints'), [values.length], values);
  }

  /** Adds a node with one output and returns the output's name. */
  op(
    opType: string,
    inputs: readonly string[],
    attributes: Record<string, AttributeValue> = {},
    output?: string,
  ): string {
    const out = output ?? this.fresh(opType);
    this.nodes.push({
      opType,
      name: `${opType}_${this.counter}`,
      input: [...inputs],
      output: [out],
      attribute: Object.entries(attributes).map(([name, value]) => attribute(name, value)),
    });
    return out;
  }

  /** Adds a node with several outputs. */
  opMulti(
    opType: string,
    inputs: readonly string[],
    outputs: number,
    attributes: Record<string, AttributeValue> = {},
  ): string[] {
    const names = Array.from({ length: outputs }, () => this.fresh(opType));
    this.nodes.push({
      opType,
      name: `${opType}_${this.counter}`,
      input: [...inputs],
      output: names,
      attribute: Object.entries(attributes).map(([name, value]) => attribute(name, value)),
    });
    return names;
  }

  /**
   * Serialises the model (IR 8, default-domain opset `opset`). With `external`, tensors of at
   * least its `minBytes` go to that weights file instead of the model.
   */
  encode(options: {
    inputs: GraphInput[];
    outputs: GraphInput[];
    opset?: number;
    producer: string;
    docString?: string;
    external?: ExternalWeights | undefined;
  }): Uint8Array {
    const external = options.external;
    this.externalBytes = 0;
    const place = (tensor: TensorSpec): ExternalPlace => {
      this.externalBytes += tensor.rawData.length;
      return external!.place(tensor.name, tensor.rawData);
    };
    // ModelProto, its fields in number order: ir_version 1, producer_name 2, doc_string 6,
    // graph 7, opset_import 8.
    return new ProtoWriter()
      .int(1, 8)
      .string(2, options.producer)
      .string(6, options.docString ?? '')
      .message(7, (graph) => {
        // GraphProto: node 1, name 2, initializer 5, input 11, output 12.
        for (const node of this.nodes) graph.message(1, (w) => writeNode(w, node));
        graph.string(2, 'main');
        for (const tensor of this.initializers)
          graph.message(5, (w) =>
            external !== undefined && tensor.rawData.length >= external.minBytes
              ? writeExternalTensor(w, tensor, external.location, place(tensor))
              : writeTensor(w, tensor),
          );
        for (const input of options.inputs) graph.message(11, (w) => writeValueInfo(w, input));
        for (const output of options.outputs) graph.message(12, (w) => writeValueInfo(w, output));
      })
      .message(8, (opset) => opset.string(1, '').int(2, options.opset ?? 17))
      .finish();
  }

  private fresh(prefix: string): string {
    this.counter += 1;
    return `${prefix}_${this.counter}`;
  }
}

/** NodeProto: input 1, output 2, name 3, op_type 4, attribute 5. */
function writeNode(w: ProtoWriter, node: NodeSpec): void {
  for (const input of node.input) w.string(1, input);
  for (const output of node.output) w.string(2, output);
  w.string(3, node.name).string(4, node.opType);
  for (const a of node.attribute) w.message(5, (aw) => writeAttribute(aw, a));
}

/** AttributeProto: name 1, f 2, i 3, s 4, ints 8, type 20. */
function writeAttribute(w: ProtoWriter, a: AttributeSpec): void {
  w.string(1, a.name);
  if (a.type === 'FLOAT') w.float(2, a.f);
  else if (a.type === 'INT') w.int(3, a.i);
  else if (a.type === 'STRING') w.bytes(4, new TextEncoder().encode(a.s));
  else w.packedInts(8, a.ints);
  w.int(20, ATTRIBUTE_TYPE[a.type]);
}

/** TensorProto: dims 1, data_type 2, name 8, raw_data 9. */
function writeTensor(w: ProtoWriter, t: TensorSpec): void {
  w.packedInts(1, t.dims).int(2, t.dataType).string(8, t.name).bytes(9, t.rawData);
}

/**
 * TensorProto with its bytes elsewhere: dims 1, data_type 2, name 8, external_data 13
 * (StringStringEntryProto: key 1, value 2), data_location 14 (EXTERNAL = 1).
 */
function writeExternalTensor(w: ProtoWriter, t: TensorSpec, location: string, place: ExternalPlace): void {
  w.packedInts(1, t.dims).int(2, t.dataType).string(8, t.name);
  const entries: Array<[string, string]> = [
    ['location', location],
    ['offset', String(place.offset)],
    ['length', String(place.length)],
  ];
  for (const [key, value] of entries) w.message(13, (e) => e.string(1, key).string(2, value));
  w.int(14, 1);
}

/** ValueInfoProto: name 1, type 2 (TypeProto: tensor_type 1 → elem_type 1, shape 2 → dim 1 → dim_value 1 | dim_param 2). */
function writeValueInfo(w: ProtoWriter, input: GraphInput): void {
  w.string(1, input.name).message(2, (type) =>
    type.message(1, (tensor) =>
      tensor.int(1, input.type).message(2, (shape) => {
        for (const d of input.shape)
          shape.message(1, (dim) => (typeof d === 'number' ? dim.int(1, d) : dim.string(2, d)));
      }),
    ),
  );
}

function attribute(name: string, value: AttributeValue): AttributeSpec {
  if (typeof value === 'string') return { name, type: 'STRING', s: value };
  if (Array.isArray(value)) return { name, type: 'INTS', ints: value };
  if (Number.isInteger(value) && !Object.is(value, -0)) return { name, type: 'INT', i: value };
  return { name, type: 'FLOAT', f: value };
}
