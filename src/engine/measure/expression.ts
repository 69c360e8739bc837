/**
 * The Frameworks chapter's small expression, f(a, b, c) = tanh(a·b + c)·a, as a computation graph:
 * one node per operation, in the order the forward pass computes them.
 *
 * Plain JavaScript, no tfjs: the page imports it to draw the graph and to compute central finite
 * differences itself (in float64), and the engine job (gradients.ts) walks the same list with tfjs
 * ops to get the gradients `tf.grad` computes. Two independent routes to one number.
 *
 * The gradient shown at a node is its *adjoint*, ∂f/∂node: how f changes when that node's value
 * changes while everything upstream of it stays put. For an input it is the ordinary partial
 * derivative; `a` is used twice, so its adjoint is the sum of what flows back along both edges.
 */

export type ExpressionOp = 'input' | 'mul' | 'add' | 'tanh';

export interface ExpressionNode {
  id: string;
  op: ExpressionOp;
  /** The ids of the nodes it reads (none for an input). */
  args: string[];
  /** How the page writes it. */
  label: string;
}

export const INPUT_NAMES = ['a', 'b', 'c'] as const;
export type InputName = (typeof INPUT_NAMES)[number];
export type ExpressionInputs = Record<InputName, number>;

/** f(a, b, c) = tanh(a·b + c)·a, one operation per node. */
export const EXPRESSION: readonly ExpressionNode[] = [
  { id: 'a', op: 'input', args: [], label: 'a' },
  { id: 'b', op: 'input', args: [], label: 'b' },
  { id: 'c', op: 'input', args: [], label: 'c' },
  { id: 'u', op: 'mul', args: ['a', 'b'], label: 'u = a·b' },
  { id: 'v', op: 'add', args: ['u', 'c'], label: 'v = u + c' },
  { id: 'w', op: 'tanh', args: ['v'], label: 'w = tanh(v)' },
  { id: 'f', op: 'mul', args: ['w', 'a'], label: 'f = w·a' },
];

export const OUTPUT_ID = 'f';
export const EXPRESSION_TEXT = 'f(a, b, c) = tanh(a·b + c)·a';
export const DEFAULT_INPUTS: ExpressionInputs = { a: 0.8, b: -1.5, c: 0.6 };

/** Inputs beyond this size saturate tanh so hard that every gradient but one rounds to zero. */
export const INPUT_LIMIT = 10;

/** A value the reader typed that cannot be used: `field` names the input. */
export class MeasureInputError extends Error {
  readonly field: string;
  constructor(field: string, message: string) {
    super(message);
    this.name = 'MeasureInputError';
    this.field = field;
  }
}

/** The message for one input, or null when it is fine. */
export function checkInput(name: string, value: unknown): string | null {
  if (typeof value !== 'number' || !Number.isFinite(value)) return `${name} must be a number`;
  if (Math.abs(value) > INPUT_LIMIT) return `${name} must lie between −${INPUT_LIMIT} and ${INPUT_LIMIT}`;
  return null;
}

/** Throws MeasureInputError on the first bad input; returns the three as plain numbers. */
export function validateInputs(inputs: Partial<Record<InputName, unknown>>): ExpressionInputs {
  const out = {} as ExpressionInputs;
  for (const name of INPUT_NAMES) {
    const problem = checkInput(name, inputs[name]);
    if (problem) throw new MeasureInputError(name, problem);
    out[name] = inputs[name] as number;
  }
  return out;
}

/** The three operations on plain numbers, the same ones the tfjs walk uses. */
export interface Ops<T> {
  mul(x: T, y: T): T;
  add(x: T, y: T): T;
  tanh(x: T): T;
}

export const NUMBER_OPS: Ops<number> = {
  mul: (x, y) => x * y,
  add: (x, y) => x + y,
  tanh: (x) => Math.tanh(x),
};

/**
 * Every node's value, in graph order. With `replace`, that node takes the given value instead of
 * computing it (an input is replaced everywhere it is read): differentiating the result with
 * respect to that value gives the node's adjoint.
 */
export function evaluate<T>(
  ops: Ops<T>,
  inputs: Record<InputName, T>,
  replace?: { id: string; value: T },
  nodes: readonly ExpressionNode[] = EXPRESSION,
): Map<string, T> {
  const values = new Map<string, T>();
  for (const node of nodes) {
    let value: T;
    if (replace && replace.id === node.id) value = replace.value;
    else if (node.op === 'input') value = inputs[node.id as InputName];
    else {
      const [x, y] = node.args.map((id) => values.get(id)!);
      value = node.op === 'mul' ? ops.mul(x, y) : node.op === 'add' ? ops.add(x, y) : ops.tanh(x);
    }
    values.set(node.id, value);
  }
  return values;
}

/** f at these inputs, with one node optionally replaced (see `evaluate`). */
export function outputOf(inputs: ExpressionInputs, replace?: { id: string; value: number }): number {
  return evaluate(NUMBER_OPS, inputs, replace).get(OUTPUT_ID)!;
}

/**
 * Central finite difference of f with respect to each node's value: (f(x + h) − f(x − h)) / 2h,
 * in float64. Its error is about h²·|f'''| plus rounding of order 1e-16/h; h = 1e-5 keeps both
 * near 1e-10, far below float32's 1e-7 (the precision tfjs computes in).
 */
export function finiteDifferences(inputs: ExpressionInputs, h = 1e-5): Map<string, number> {
  const values = evaluate(NUMBER_OPS, inputs);
  const out = new Map<string, number>();
  for (const node of EXPRESSION) {
    const x = values.get(node.id)!;
    const up = outputOf(inputs, { id: node.id, value: x + h });
    const down = outputOf(inputs, { id: node.id, value: x - h });
    out.set(node.id, (up - down) / (2 * h));
  }
  return out;
}

/**
 * |p − q| relative to the larger of the two; 0 when both are exactly 0. Below `floor` in size both
 * count as zero (a gradient of 1e-12 against one of 0 is agreement, not a 100% error).
 */
export function relativeError(p: number, q: number, floor = 1e-6): number {
  const scale = Math.max(Math.abs(p), Math.abs(q));
  if (scale < floor) return Math.abs(p - q) / floor;
  return Math.abs(p - q) / scale;
}
