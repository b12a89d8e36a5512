/**
 * A small builder for ONNX graphs, written with the maintained `onnx-proto` protobuf classes.
 * It is enough to express the converted USE-lite encoder, and the tiny BERT-shaped models the
 * tests generate. Internal: not exported from the package.
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

export const DataType = { FLOAT: 1, INT64: 7 } as const;
type DataType = (typeof DataType)[keyof typeof DataType];

type AttributeValue = number | number[] | string;

export interface GraphInput {
  name: string;
  type: DataType;
  /** Symbolic names (strings) or fixed sizes. */
  shape: ReadonlyArray<string | number>;
}

export class GraphBuilder {
  private readonly nodes: onnxProto.onnx.INodeProto[] = [];
  private readonly initializers: onnxProto.onnx.ITensorProto[] = [];
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
    const model = onnx.ModelProto.create({
      irVersion: 8,
      producerName: options.producer,
      docString: options.docString ?? '',
      opsetImport: [{ domain: '', version: options.opset ?? 17 }],
      graph: {
        name: 'main',
        node: this.nodes,
        initializer: this.initializers,
        input: options.inputs.map(valueInfo),
        output: options.outputs.map(valueInfo),
      },
    });
    return onnx.ModelProto.encode(model).finish();
  }

  private fresh(prefix: string): string {
    this.counter += 1;
    return `${prefix}_${this.counter}`;
  }
}

function valueInfo(input: GraphInput): onnxProto.onnx.IValueInfoProto {
  return {
    name: input.name,
    type: {
      tensorType: {
        elemType: input.type,
        shape: { dim: input.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function attribute(name: string, value: AttributeValue): onnxProto.onnx.IAttributeProto {
  const { AttributeType } = onnx.AttributeProto;
  if (typeof value === 'string') {
    return { name, type: AttributeType.STRING, s: new TextEncoder().encode(value) };
  }
  if (Array.isArray(value)) return { name, type: AttributeType.INTS, ints: value };
  if (Number.isInteger(value) && !Object.is(value, -0)) return { name, type: AttributeType.INT, i: value };
  return { name, type: AttributeType.FLOAT, f: value };
}
