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

  /** Serialises the model (IR 8, default-domain opset `opset`). */
  encode(options: {
    inputs: GraphInput[];
    outputs: GraphInput[];
    opset?: number;
    producer: string;
    docString?: string;
  }): Uint8Array {
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
        for (const tensor of this.initializers) graph.message(5, (w) => writeTensor(w, tensor));
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
