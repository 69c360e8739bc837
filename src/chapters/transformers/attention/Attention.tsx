import { useId, useState } from 'react';
import { useEngine, useLab } from '../../../app/store';
import type { AttentionView } from '../../../engine/jobs/inspect';
import { EngineWaiting, ErrorLine, StepNote, useDebounced, useEngineCall, PromptField } from '../shared';
import { AllHeads } from './AllHeads';
import { StepByStep } from './StepByStep';

/**
 * Self-attention for the reader's prompt: one head of one layer step by step (StepByStep), then the
 * attention probabilities of every head in every layer as the model's forward pass computed them
 * (AllHeads). Nothing runs until the reader asks; after that, a change of prompt, layer or head
 * looks again (debounced).
 */
export function Attention() {
  const api = useEngine();
  const hp = useLab((s) => s.status?.hp ?? null);
  const ids = useId();
  const [prompt, setPrompt] = useState('Call me Ishmael.');
  const [layer, setLayer] = useState(0);
  const [head, setHead] = useState(0);
  const [asked, setAsked] = useState(false);
  const call = useEngineCall<AttentionView & { step: number }>();

  const layers = hp?.layers ?? call.result?.layers ?? 1;
  const heads = hp?.heads ?? call.result?.heads ?? 1;
  const l = Math.min(layer, layers - 1);
  const h = Math.min(head, heads - 1);
  const empty = prompt.length === 0;
  const look = () => {
    setAsked(true);
    call.run((a) => a.inspect.attention({ prompt, layer: l, head: h }));
  };
  useDebounced(look, [prompt, l, h], asked && api != null && !empty, 400);

  const a = call.result;
  return (
    <div className="tf-widget" data-testid="attention-widget">
      <div className="tf-controls">
        <PromptField id={`${ids}-prompt`} value={prompt} onChange={setPrompt} />
        <div className="field">
          <label htmlFor={`${ids}-layer`}>Layer</label>
          <select id={`${ids}-layer`} value={l} onChange={(e) => setLayer(Number(e.target.value))}>
            {Array.from({ length: layers }, (_, i) => (
              <option key={i} value={i}>
                {i + 1}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${ids}-head`}>Head</label>
          <select id={`${ids}-head`} value={h} onChange={(e) => setHead(Number(e.target.value))}>
            {Array.from({ length: heads }, (_, i) => (
              <option key={i} value={i}>
                {i + 1}
              </option>
            ))}
          </select>
        </div>
        <button type="button" className="primary" onClick={look} disabled={!api || call.busy || empty}>
          {a ? 'Look again' : 'Look inside'}
        </button>
      </div>
      {!api ? <EngineWaiting /> : null}
      <ErrorLine error={call.error} />
      {call.busy ? <p className="busy-note">Running the prompt through the model…</p> : null}
      {a ? (
        <div className="tf-attention" data-testid="attention" data-step={a.step}>
          <StepNote step={a.step} onRefresh={look} busy={call.busy} />
          {a.cropped > 0 ? (
            <p className="tf-note">
              The prompt is longer than the context of {a.T} characters: the model reads its last {a.T}, and so does this
              page ({a.cropped} dropped from the start).
            </p>
          ) : null}
          {a.unknown > 0 ? (
            <p className="tf-note">
              {a.unknown} character{a.unknown === 1 ? ' is' : 's are'} outside the vocabulary and read as the fallback token.
            </p>
          ) : null}
          <StepByStep a={a} />
          <h3>Every head in every layer</h3>
          <p>
            These maps come from the model’s own forward pass (the same one that predicts the next character), not from the
            step-by-step calculation above. Row <em>i</em> is the query at position <em>i</em>; column <em>j</em> is the key
            it looks at. The head shown step by step above is outlined; its map here and its last step above hold the same
            numbers. Pick another map (click it, or focus it and press Enter) to see it step by step.
          </p>
          <AllHeads
            a={a}
            onPick={(nl, nh) => {
              setLayer(nl);
              setHead(nh);
            }}
          />
        </div>
      ) : null}
    </div>
  );
}
