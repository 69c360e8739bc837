import { useId, useMemo, useState } from 'react';
import { useEngine } from '../../app/store';
import type { ExpressionGradients } from '../../engine/jobs/measure';
import {
  checkInput,
  DEFAULT_INPUTS,
  evaluate,
  EXPRESSION,
  EXPRESSION_TEXT,
  finiteDifferences,
  INPUT_NAMES,
  NUMBER_OPS,
  relativeError,
  type ExpressionInputs,
  type InputName,
} from '../../engine/measure/expression';

/**
 * Autograd, visibly: f(a, b, c) = tanh(a·b + c)·a drawn as its computation graph. The reader sets
 * a, b, c; the page computes every node's value and a central finite difference of f with respect
 * to every node (plain JavaScript, float64), and the engine computes the same gradients with
 * `tf.grad` (job `measure.grad`). Both sit side by side with their relative error.
 */

/** Where each node's box sits in the drawing (top-left corner), in viewBox units. */
const LAYOUT: Record<string, { x: number; y: number }> = {
  a: { x: 10, y: 36 },
  b: { x: 10, y: 120 },
  c: { x: 10, y: 204 },
  u: { x: 178, y: 78 },
  v: { x: 346, y: 140 },
  w: { x: 514, y: 140 },
  f: { x: 682, y: 66 },
};
const BOX_W = 136;
const BOX_H = 66;
const VIEW_W = 828;
const VIEW_H = 282;

export const fmt = (x: number) => (Number.isFinite(x) ? (Math.abs(x) < 1e-12 ? '0' : x.toPrecision(7)) : '—');
const short = (x: number) => (Number.isFinite(x) ? Number(x.toPrecision(4)).toString() : '—');
const errFmt = (x: number) => (x === 0 ? '0' : x.toExponential(1));

/** The edge from `from` into `to`: a straight line, or an arc over the top for a → f. */
function edgePath(from: string, to: string): string {
  const a = LAYOUT[from];
  const b = LAYOUT[to];
  const x1 = a.x + BOX_W;
  const y1 = a.y + BOX_H / 2;
  const x2 = b.x - 2;
  const y2 = b.y + BOX_H / 2;
  if (from === 'a' && to === 'f') return `M ${x1} ${a.y + 12} C ${x1 + 220} ${-30}, ${x2 - 160} ${-30}, ${x2} ${b.y + 14}`;
  const mid = (x1 + x2) / 2;
  return `M ${x1} ${y1} C ${mid} ${y1}, ${mid} ${y2}, ${x2} ${y2}`;
}

export function ExpressionGraph() {
  const api = useEngine();
  const id = useId();
  const markerId = `arrow-${id.replace(/[^a-zA-Z0-9]/g, '')}`;
  const [text, setText] = useState<Record<InputName, string>>(() => ({
    a: String(DEFAULT_INPUTS.a),
    b: String(DEFAULT_INPUTS.b),
    c: String(DEFAULT_INPUTS.c),
  }));
  const [result, setResult] = useState<ExpressionGradients | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const problems = Object.fromEntries(
    INPUT_NAMES.map((n) => [n, text[n].trim() === '' ? `${n} must be a number` : checkInput(n, Number(text[n]))]),
  ) as Record<InputName, string | null>;
  const valid = INPUT_NAMES.every((n) => problems[n] == null);
  const inputs: ExpressionInputs | null = valid ? { a: Number(text.a), b: Number(text.b), c: Number(text.c) } : null;

  // The page's own forward pass and finite differences (float64), recomputed as the reader types.
  const page = useMemo(() => {
    if (!inputs) return null;
    return { values: evaluate(NUMBER_OPS, inputs), fd: finiteDifferences(inputs) };
  }, [inputs?.a, inputs?.b, inputs?.c]);

  // tf.grad results count only for the inputs they were computed at.
  const current =
    result && inputs && INPUT_NAMES.every((n) => result.inputs[n] === inputs[n]) ? result : null;

  async function compute() {
    setError(null);
    if (!inputs || !api) return;
    setBusy(true);
    try {
      setResult(await api.measure.grad(inputs));
    } catch (err) {
      setError(`tf.grad failed: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      setBusy(false);
    }
  }

  const worst = current && page ? Math.max(...EXPRESSION.map((n) => relativeError(current.gradients[n.id], page.fd.get(n.id)!))) : null;

  return (
    <section className="widget autograd" aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>Autograd on {EXPRESSION_TEXT}</h3>
      <form
        className="widget-form"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void compute();
        }}
      >
        <div className="input-row">
          {INPUT_NAMES.map((n) => (
            <div className="field" key={n}>
              <label htmlFor={`${id}-${n}`}>{n}</label>
              <input
                id={`${id}-${n}`}
                type="number"
                step={0.1}
                min={-10}
                max={10}
                value={text[n]}
                aria-invalid={problems[n] ? true : undefined}
                aria-describedby={problems[n] ? `${id}-${n}-error` : undefined}
                onChange={(e) => setText((t) => ({ ...t, [n]: e.target.value }))}
              />
              {problems[n] && (
                <p className="field-error" id={`${id}-${n}-error`} role="alert">
                  {problems[n]}
                </p>
              )}
            </div>
          ))}
        </div>
        <div className="button-row">
          <button type="submit" className="primary" disabled={!api || !valid || busy}>
            {busy ? 'Computing…' : 'Compute gradients with tf.grad'}
          </button>
        </div>
        <p className="busy-note" aria-live="polite">
          {!api
            ? 'The lab is starting; tf.grad runs in its engine once it is ready.'
            : current
              ? `tf.grad ran on the ${current.backend} backend. Largest relative error against finite differences: ${errFmt(worst!)}.`
              : result
                ? 'The inputs changed: compute again to update the tf.grad column.'
                : 'Values and finite differences update as you type; tf.grad runs when you press the button.'}
        </p>
      </form>
      {error && (
        <p className="widget-error" role="alert">
          {error}
        </p>
      )}

      <svg className="graph" viewBox={`0 0 ${VIEW_W} ${VIEW_H}`} role="img" aria-label={`Computation graph of ${EXPRESSION_TEXT}: inputs a, b and c; u = a·b; v = u + c; w = tanh(v); f = w·a. Each node shows its value and ∂f/∂node; the same numbers are in the table below.`}>
        <defs>
          <marker id={markerId} viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
            <path d="M 0 0 L 10 5 L 0 10 z" className="graph-arrow" />
          </marker>
        </defs>
        {EXPRESSION.flatMap((node) =>
          node.args.map((arg) => <path key={`${arg}-${node.id}`} d={edgePath(arg, node.id)} className="graph-edge" markerEnd={`url(#${markerId})`} />),
        )}
        {EXPRESSION.map((node) => {
          const { x, y } = LAYOUT[node.id];
          const value = page?.values.get(node.id);
          const grad = current?.gradients[node.id];
          return (
            <g key={node.id} className={node.op === 'input' ? 'graph-node graph-input' : node.id === 'f' ? 'graph-node graph-output' : 'graph-node'}>
              <rect x={x} y={y} width={BOX_W} height={BOX_H} rx={8} />
              <text x={x + 10} y={y + 19} className="graph-label">
                {node.label}
              </text>
              <text x={x + 10} y={y + 38} className="graph-value">
                value {value == null ? '—' : short(value)}
              </text>
              <text x={x + 10} y={y + 56} className="graph-grad">
                ∂f/∂{node.id} {grad == null ? '?' : short(grad)}
              </text>
            </g>
          );
        })}
      </svg>

      <div className="table-scroll" tabIndex={0} role="region" aria-label="Values and gradients at every node">
        <table className="data-table grad-table" data-testid="grad-table">
          <caption>Every node: its value, ∂f/∂node from tf.grad (float32, in the engine) and from central differences (float64, in this page).</caption>
          <thead>
            <tr>
              <th scope="col">Node</th>
              <th scope="col">Value</th>
              <th scope="col">∂f/∂node, tf.grad</th>
              <th scope="col">∂f/∂node, finite difference</th>
              <th scope="col">Relative error</th>
            </tr>
          </thead>
          <tbody>
            {EXPRESSION.map((node) => {
              const fd = page?.fd.get(node.id);
              const tfg = current?.gradients[node.id];
              const rel = tfg != null && fd != null ? relativeError(tfg, fd) : null;
              return (
                <tr key={node.id} data-node={node.id}>
                  <th scope="row">{node.label}</th>
                  <td className="num">{page ? fmt(page.values.get(node.id)!) : '—'}</td>
                  <td className="num" data-col="tf">
                    {tfg == null ? '—' : fmt(tfg)}
                  </td>
                  <td className="num" data-col="fd">
                    {fd == null ? '—' : fmt(fd)}
                  </td>
                  <td className={rel == null ? 'num' : rel < 1e-3 ? 'num good' : 'num bad'} data-col="rel">
                    {rel == null ? '—' : errFmt(rel)}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}
