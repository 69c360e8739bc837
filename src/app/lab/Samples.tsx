import { useId, useState } from 'react';
import { useLab } from '../store';

/** Text from the model as it learns (plain text, never HTML), the temperature, and a sample on demand. */
export function Samples() {
  const samples = useLab((s) => s.samples);
  const temperature = useLab((s) => s.sampleTemperature);
  const setTemperature = useLab((s) => s.setSampleTemperature);
  const sampleNow = useLab((s) => s.sampleNow);
  const busy = useLab((s) => s.busy);
  const ready = useLab((s) => s.status !== null && s.status.state !== 'starting');
  const [prompt, setPrompt] = useState('Call me ');
  const tempId = useId();

  return (
    <div className="samples">
      <div className="sample-controls">
        <div className="field field-inline">
          <label htmlFor={tempId}>Temperature</label>
          <input
            id={tempId}
            type="range"
            min={0.1}
            max={2}
            step={0.1}
            value={temperature}
            aria-valuetext={temperature.toFixed(1)}
            onChange={(e) => setTemperature(Number(e.target.value))}
          />
          <output htmlFor={tempId}>{temperature.toFixed(1)}</output>
        </div>
        <form
          className="sample-prompt"
          onSubmit={(e) => {
            e.preventDefault();
            void sampleNow(prompt);
          }}
        >
          <label htmlFor="sample-prompt">Prompt</label>
          <input id="sample-prompt" type="text" value={prompt} onChange={(e) => setPrompt(e.target.value)} autoComplete="off" />
          <button type="submit" disabled={!ready || busy !== null}>
            Sample now
          </button>
        </form>
      </div>
      {samples.length === 0 ? (
        <p className="muted">Samples appear here every few seconds while the model trains.</p>
      ) : (
        <ol className="sample-list" reversed>
          {samples.map((s, i) => (
            <li key={`${s.step}-${i}-${s.text.length}`}>
              <p className="sample-meta">At step {s.step}</p>
              <p className="sample-text">
                {s.prompt && <span className="sample-prompt-text">{s.prompt}</span>}
                {s.text}
              </p>
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}
