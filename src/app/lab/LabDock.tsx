import type { ReactNode } from 'react';
import { BackendBadge } from '../../ui/BackendBadge';
import { LossChart } from '../../ui/LossChart';
import { formatLoss } from '../format';
import { useTheme } from '../theme';
import { history, useLab } from '../store';
import { Banners } from './Banners';
import { CheckpointPanel } from './CheckpointPanel';
import { CorpusPanel } from './CorpusPanel';
import { Figures } from './Figures';
import { HyperparametersPanel } from './HyperparametersPanel';
import { LabBar } from './LabBar';
import { RunControls } from './RunControls';
import { RunLink } from './RunLink';
import { Samples } from './Samples';
import './lab.css';

const chartData = () => history.chartData();
const onHistoryChange = (cb: () => void) =>
  useLab.subscribe((s, prev) => {
    if (s.historyVersion !== prev.historyVersion) cb();
  });

function Section({ id, title, children }: { id: string; title: string; children: ReactNode }) {
  return (
    <section className={`lab-section lab-${id}`} aria-labelledby={`lab-${id}-title`}>
      <h3 id={`lab-${id}-title`}>{title}</h3>
      {children}
    </section>
  );
}

function ChartSection() {
  const theme = useTheme((s) => s.theme);
  const latest = useLab((s) => s.latest);
  const label = latest
    ? `Loss by step. At step ${latest.step} the train loss is ${formatLoss(latest.trainLoss)}.`
    : 'Loss by step: no steps yet in this run.';
  return (
    <figure className="chart-figure">
      <LossChart getData={chartData} subscribe={onHistoryChange} theme={theme} label={label} />
      {!latest && <p className="chart-empty">The curve appears when the model trains.</p>}
      <figcaption className="chart-legend">
        <span className="swatch swatch-train" aria-hidden="true" /> train loss
        <span className="swatch swatch-val" aria-hidden="true" /> validation loss (nats per character)
      </figcaption>
    </figure>
  );
}

function BackendSection() {
  const choice = useLab((s) => s.status?.backend ?? null);
  const rates = useLab((s) => s.rates);
  const busy = useLab((s) => s.busy);
  const state = useLab((s) => s.status?.state ?? null);
  const { setBackend, calibrate } = useLab.getState();
  return (
    <BackendBadge
      choice={choice}
      rates={rates}
      disabled={busy !== null || state === null || state === 'starting'}
      calibrating={busy === 'calibrate'}
      onSelect={(n) => void setBackend(n)}
      onCalibrate={() => void calibrate()}
    />
  );
}

/** The lab, on every page: a side panel on wide screens, a bar that opens into a sheet on narrow ones. */
export function LabDock() {
  const open = useLab((s) => s.dockOpen);
  return (
    <aside className="lab" aria-labelledby="lab-title" data-open={open}>
      <LabBar />
      <Banners />
      <div id="lab-body" className="lab-body" hidden={!open}>
        <Section id="run" title="Run">
          <RunControls />
          <Figures />
        </Section>
        <Section id="loss" title="Loss">
          <ChartSection />
        </Section>
        <Section id="samples" title="Samples">
          <Samples />
        </Section>
        <Section id="backend" title="Backend">
          <BackendSection />
        </Section>
        <Section id="hyperparameters" title="Hyperparameters">
          <HyperparametersPanel />
        </Section>
        <Section id="corpus" title="Your own text">
          <CorpusPanel />
        </Section>
        <Section id="checkpoints" title="Checkpoints and links">
          <CheckpointPanel />
          <RunLink />
        </Section>
      </div>
    </aside>
  );
}
