import { useId, useState, type CSSProperties, type ReactNode } from 'react';
import { useEngine } from '../../app/store';
import type { BlockView } from '../../engine/jobs/inspect';
import { EngineWaiting, ErrorLine, ScrollBox, StepNote, useDebounced, useEngineCall, PromptField } from './shared';

/**
 * A block: the model drawn as the path a prompt takes, each part with the shape of what it outputs
 * for the reader's prompt, its parameter count from the live config, and how large its activations
 * are (root-mean-square), which colours the part. Then the parameter counts as a table.
 */

const fmt = (n: number) => n.toLocaleString('en');

function shape(dims: number[]): string {
  return `(${dims.join(' × ')})`;
}

interface PartProps {
  name: string;
  code?: string;
  out: string;
  params?: number;
  rms?: number;
  max: number;
  children?: ReactNode;
  kind?: 'plus' | 'part';
}

function Part({ name, code, out, params, rms, max, children, kind = 'part' }: PartProps) {
  const glow = rms != null && max > 0 ? Math.min(1, rms / max) : 0;
  return (
    <li className={`tf-part tf-part-${kind}`} style={{ '--glow': glow } as CSSProperties} data-rms={rms}>
      <div className="tf-part-head">
        <span className="tf-part-name">
          {name}
          {code ? (
            <>
              {' '}
              <code>{code}</code>
            </>
          ) : null}
        </span>
        <span className="tf-part-out">→ {out}</span>
      </div>
      {children ? <div className="tf-part-note">{children}</div> : null}
      <div className="tf-part-facts">
        {params != null ? <span>{params === 0 ? 'no parameters of its own' : `${fmt(params)} parameters`}</span> : null}
        {rms != null ? (
          <span>
            RMS {rms.toFixed(3)}
            <span className="tf-bar" aria-hidden="true">
              <span style={{ width: `${(100 * glow).toFixed(1)}%` }} />
            </span>
          </span>
        ) : null}
      </div>
    </li>
  );
}

export function Block() {
  const api = useEngine();
  const ids = useId();
  const [prompt, setPrompt] = useState('Call me Ishmael.');
  const [layer, setLayer] = useState(0);
  const [asked, setAsked] = useState(false);
  const call = useEngineCall<BlockView & { step: number }>();
  const empty = prompt.length === 0;
  const measure = () => {
    setAsked(true);
    call.run((a) => a.inspect.block({ prompt }));
  };
  useDebounced(measure, [prompt], asked && api != null && !empty, 400);

  const b = call.result;
  const l = b ? Math.min(layer, b.config.layers - 1) : 0;
  const part = (key: string) => b!.parts.find((p) => p.key === key)!;
  const rms = (name: string, at = l) => b?.rms[name]?.[at];
  // The colour scale: the largest activation inside the model (the logits, on their own scale, are left out).
  const max = b ? Math.max(...Object.entries(b.rms).flatMap(([name, v]) => (name === 'logits' ? [] : v))) : 1;

  return (
    <div className="tf-widget" data-testid="block-widget">
      <div className="tf-controls">
        <PromptField id={`${ids}-prompt`} value={prompt} onChange={setPrompt} />
        {b ? (
          <div className="field">
            <label htmlFor={`${ids}-layer`}>Block</label>
            <select id={`${ids}-layer`} value={l} onChange={(e) => setLayer(Number(e.target.value))}>
              {Array.from({ length: b.config.layers }, (_, i) => (
                <option key={i} value={i}>
                  {i + 1} of {b.config.layers}
                </option>
              ))}
            </select>
          </div>
        ) : null}
        <button type="button" className="primary" onClick={measure} disabled={!api || call.busy || empty}>
          {b ? 'Measure again' : 'Measure the model'}
        </button>
      </div>
      {!api ? <EngineWaiting /> : null}
      <ErrorLine error={call.error} />
      {b ? (
        <>
          <StepNote step={b.step} onRefresh={measure} busy={call.busy} />
          <p className="tf-note">
            T = {b.T} positions (the prompt{b.chars.length < [...prompt].length ? ', cropped to the context' : ''}), C ={' '}
            {b.config.width} channels, {b.config.heads} heads of {b.config.width / b.config.heads}, V = {b.config.vocabSize}{' '}
            tokens, {b.config.layers} blocks. A part’s colour and bar show the root-mean-square of its output for this
            prompt, against the largest inside the model ({max.toFixed(2)}).
          </p>
          <ol className="tf-diagram" data-testid="block-diagram">
            <Part name="Token embedding" code="wte" out={shape(part('wte').output)} params={part('wte').parameters} rms={rms('tokenEmbedding', 0)} max={max}>
              Row <em>id</em> of a {b.config.vocabSize} × {b.config.width} table for each character.
            </Part>
            <Part name="+ Position embedding" code="wpe" out={shape(part('wpe').output)} params={part('wpe').parameters} rms={rms('embedded', 0)} max={max} kind="plus">
              Row <em>t</em> of a {b.config.contextLength} × {b.config.width} table for each position, added in: the residual stream begins.
            </Part>
            <li className="tf-block-group">
              <p className="tf-block-title">
                Block {l + 1} (of {b.config.layers}, all shaped alike)
              </p>
              <ol>
                <Part name="LayerNorm" code="ln_1" out={shape(part('ln_1').output)} params={part('ln_1').parameters} rms={rms('ln_1')} max={max}>
                  Each row rescaled to mean 0 and variance 1, then a learned scale and shift.
                </Part>
                <Part
                  name="Attention"
                  code="c_attn, c_proj"
                  out={shape(part('attn_c_proj').output)}
                  params={part('c_attn').parameters + part('attn_c_proj').parameters}
                  rms={rms('attention')}
                  max={max}
                >
                  <code>c_attn</code> {shape([b.T, b.config.width])} → q, k, v {shape([b.config.heads, b.T, b.config.width / b.config.heads])} each (
                  {fmt(part('c_attn').parameters)} parameters); weights {shape([b.config.heads, b.T, b.T])}; heads joined and mixed by{' '}
                  <code>c_proj</code> ({fmt(part('attn_c_proj').parameters)}).
                </Part>
                <Part name="+ Residual" out={shape([b.T, b.config.width])} rms={rms('residual_1')} max={max} kind="plus">
                  The attention’s output is added to the stream; nothing is replaced.
                </Part>
                <Part name="LayerNorm" code="ln_2" out={shape(part('ln_2').output)} params={part('ln_2').parameters} rms={rms('ln_2')} max={max} />
                <Part name="MLP, inner layer + GELU" code="c_fc" out={shape(part('c_fc').output)} params={part('c_fc').parameters} rms={rms('mlp_hidden')} max={max}>
                  Four times wider, applied to every position on its own.
                </Part>
                <Part name="MLP, back to the width" code="mlp.c_proj" out={shape(part('mlp_c_proj').output)} params={part('mlp_c_proj').parameters} rms={rms('mlp')} max={max} />
                <Part name="+ Residual" out={shape([b.T, b.config.width])} rms={rms('residual_2')} max={max} kind="plus" />
              </ol>
            </li>
            <Part name="Final LayerNorm" code="ln_f" out={shape(part('ln_f').output)} params={part('ln_f').parameters} rms={rms('ln_f', 0)} max={max} />
            <Part name="Output head (tied to wte)" code="lm_head" out={shape(part('lm_head').output)} params={0} rms={rms('logits', 0)} max={max}>
              Each row scored against every token’s embedding: one logit per character of the vocabulary.
            </Part>
          </ol>
          <ParameterTable b={b} />
        </>
      ) : null}
    </div>
  );
}

function ParameterTable({ b }: { b: BlockView }) {
  const labels: Record<string, string> = {
    wte: 'Token embedding wte',
    wpe: 'Position embedding wpe',
    ln_1: 'LayerNorm ln_1',
    c_attn: 'Attention c_attn (q, k, v)',
    attn_c_proj: 'Attention c_proj',
    ln_2: 'LayerNorm ln_2',
    c_fc: 'MLP c_fc',
    mlp_c_proj: 'MLP c_proj',
    ln_f: 'Final LayerNorm ln_f',
    lm_head: 'Output head (tied to wte)',
  };
  return (
    <ScrollBox label="Parameters per part">
      <table className="tf-table tf-numbers" data-testid="parameter-table">
        <caption>Parameters of the live model, per part</caption>
        <thead>
          <tr>
            <th scope="col">Part</th>
            <th scope="col">Shapes</th>
            <th scope="col">Each</th>
            <th scope="col">Copies</th>
            <th scope="col">Total</th>
            <th scope="col">Share</th>
          </tr>
        </thead>
        <tbody>
          {b.parts.map((p) => {
            const copies = p.where === 'block' ? b.config.layers : 1;
            return (
              <tr key={p.key}>
                <th scope="row">{labels[p.key] ?? p.key}</th>
                <td>{p.shapes.length === 0 ? '—' : p.shapes.map((s) => `[${s.shape.join(', ')}]`).join(' + ')}</td>
                <td>{fmt(p.parameters)}</td>
                <td>{copies}</td>
                <td data-value={p.parameters * copies}>{fmt(p.parameters * copies)}</td>
                <td>{((100 * p.parameters * copies) / b.total).toFixed(1)}%</td>
              </tr>
            );
          })}
        </tbody>
        <tfoot>
          <tr>
            <th scope="row">Model</th>
            <td />
            <td>{fmt(b.perBlock)} per block</td>
            <td />
            <td data-value={b.total} data-testid="parameter-total">
              {fmt(b.total)}
            </td>
            <td>100%</td>
          </tr>
        </tfoot>
      </table>
    </ScrollBox>
  );
}
