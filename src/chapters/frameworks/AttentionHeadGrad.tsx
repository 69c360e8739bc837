import { useId, useState } from 'react';
import { useEngine } from '../../app/store';
import type { HeadGradients } from '../../engine/jobs/measure';
import { checkSeed, HEAD_INPUTS, HEAD_SIZE, HEAD_T, headFiniteDifferences, headForward, headTensors, type HeadInput } from '../../engine/measure/attention';

/**
 * Autograd through one attention head: the engine computes ∂L/∂Q, ∂L/∂K, ∂L/∂V with `tf.grads`
 * (job `measure.headGrad`); the page recomputes the head in float64 and takes central finite
 * differences of L for every entry; each cell shows both.
 */

const g = (x: number) => (Math.abs(x) < 5e-8 ? '0' : x.toPrecision(5));
const p3 = (x: number) => x.toFixed(3);
const errFmt = (x: number) => (x === 0 ? '0' : x.toExponential(1));

function norm(xs: number[]): number {
  return Math.sqrt(xs.reduce((s, x) => s + x * x, 0));
}

const NAMES: Record<HeadInput, string> = { q: 'Q', k: 'K', v: 'V' };

export function AttentionHeadGrad() {
  const api = useEngine();
  const id = useId();
  const [seedText, setSeedText] = useState('1');
  const [causal, setCausal] = useState(true);
  const [result, setResult] = useState<HeadGradients | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const seed = Number(seedText);
  const seedProblem = seedText.trim() === '' ? 'the seed must be a whole number' : checkSeed(seed);
  const current = result && !seedProblem && result.request.seed === seed && result.request.causal === causal ? result : null;

  async function compute() {
    setError(null);
    if (seedProblem || !api) return;
    setBusy(true);
    try {
      setResult(await api.measure.headGrad({ seed, causal }));
    } catch (err) {
      setError(`tf.grads failed: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      setBusy(false);
    }
  }

  // The page's own forward pass and finite differences, for the inputs tf.grads saw.
  const page = current ? (() => {
    const t = headTensors(current.request.seed);
    return { forward: headForward(t, current.request.causal), fd: headFiniteDifferences(t, current.request.causal) };
  })() : null;

  return (
    <section className="widget head-grad" aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>Autograd through one attention head</h3>
      <p>
        Q, K and V are {HEAD_T} × {HEAD_SIZE} (four positions, head size three), drawn from the seed. The head computes P =
        softmax(Q·Kᵀ/√{HEAD_SIZE}{causal ? ' + causal mask' : ''}) and O = P·V, and L = Σ O ⊙ R for a fixed random R that stands
        in for the rest of the network.
      </p>
      <form
        className="widget-form"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void compute();
        }}
      >
        <div className="input-row">
          <div className="field">
            <label htmlFor={`${id}-seed`}>Seed for Q, K, V and R</label>
            <input
              id={`${id}-seed`}
              type="number"
              min={0}
              max={1000000}
              step={1}
              value={seedText}
              aria-invalid={seedProblem ? true : undefined}
              aria-describedby={seedProblem ? `${id}-seed-error` : undefined}
              onChange={(e) => setSeedText(e.target.value)}
            />
            {seedProblem && (
              <p className="field-error" id={`${id}-seed-error`} role="alert">
                {seedProblem}
              </p>
            )}
          </div>
          <label className="check">
            <input type="checkbox" checked={causal} onChange={(e) => setCausal(e.target.checked)} /> Causal mask (a position sees only itself and
            earlier ones)
          </label>
        </div>
        <div className="button-row">
          <button type="submit" className="primary" disabled={!api || !!seedProblem || busy}>
            {busy ? 'Computing…' : 'Compute ∂L/∂Q, ∂L/∂K, ∂L/∂V'}
          </button>
        </div>
        <p className="busy-note" aria-live="polite">
          {!api
            ? 'The lab is starting; tf.grads runs in its engine once it is ready.'
            : current
              ? `tf.grads ran on the ${current.backend} backend; L = ${current.loss.toPrecision(6)} there and ${page!.forward.loss.toPrecision(6)} in this page.`
              : result
                ? 'The settings changed: compute again.'
                : 'Press the button to run the head and its backward pass in the engine.'}
        </p>
      </form>
      {error && (
        <p className="widget-error" role="alert">
          {error}
        </p>
      )}
      {current && page && (
        <div data-testid="head-result">
          <div className="table-scroll" tabIndex={0} role="region" aria-label="Gradient check summary">
            <table className="data-table" data-testid="head-summary">
              <caption>Each gradient against central differences of L, entry by entry (‖·‖ is the square root of the sum of squares).</caption>
              <thead>
                <tr>
                  <th scope="col">Input</th>
                  <th scope="col">‖∂L/∂X‖ (tf.grads)</th>
                  <th scope="col">largest |tf − fd|</th>
                  <th scope="col">‖tf − fd‖ / ‖fd‖</th>
                </tr>
              </thead>
              <tbody>
                {HEAD_INPUTS.map((name) => {
                  const tfg = current.gradients[name];
                  const fd = page.fd[name];
                  const diff = tfg.map((x, i) => x - fd[i]);
                  const rel = norm(diff) / Math.max(norm(fd), 1e-12);
                  return (
                    <tr key={name} data-input={name}>
                      <th scope="row">{NAMES[name]}</th>
                      <td className="num">{norm(tfg).toPrecision(5)}</td>
                      <td className="num">{errFmt(Math.max(...diff.map(Math.abs)))}</td>
                      <td className={rel < 1e-3 ? 'num good' : 'num bad'} data-col="rel">
                        {errFmt(rel)}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
          <div className="head-grids">
            <div className="table-scroll" tabIndex={0} role="region" aria-label="Attention probabilities">
              <table className="data-table matrix">
                <caption>P, the attention probabilities (row: query position; column: key position)</caption>
                <tbody>
                  {Array.from({ length: HEAD_T }, (_, i) => (
                    <tr key={i}>
                      <th scope="row">{i}</th>
                      {Array.from({ length: HEAD_T }, (_, j) => (
                        <td key={j} className="num">
                          {p3(current.probs[i * HEAD_T + j])}
                        </td>
                      ))}
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            {HEAD_INPUTS.map((name) => (
              <div className="table-scroll" tabIndex={0} role="region" aria-label={`Gradient with respect to ${NAMES[name]}`} key={name}>
                <table className="data-table matrix" data-testid={`head-grad-${name}`}>
                  <caption>
                    ∂L/∂{NAMES[name]}: tf.grads <span className="sep">over</span> finite difference
                  </caption>
                  <tbody>
                    {Array.from({ length: HEAD_T }, (_, i) => (
                      <tr key={i}>
                        <th scope="row">{i}</th>
                        {Array.from({ length: HEAD_SIZE }, (_, d) => {
                          const k = i * HEAD_SIZE + d;
                          return (
                            <td key={d} className="num pair">
                              <span className="g-tf">{g(current.gradients[name][k])}</span>
                              <span className="g-fd">{g(page.fd[name][k])}</span>
                            </td>
                          );
                        })}
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            ))}
          </div>
        </div>
      )}
    </section>
  );
}
