import { formatLoss } from '../../app/format';
import { history, useLab } from '../../app/store';
import { useTheme } from '../../app/theme';
import { LossChart } from '../../ui/LossChart';

const chartData = () => history.chartData();
const onHistoryChange = (cb: () => void) =>
  useLab.subscribe((s, prev) => {
    if (s.historyVersion !== prev.historyVersion) cb();
  });

/** The lab's own loss chart (the same history the dock draws), in the chapter's text. */
export function LabLoss() {
  const theme = useTheme((s) => s.theme);
  const latest = useLab((s) => s.latest);
  const status = useLab((s) => s.status);
  const vocab = status?.hp?.vocabSize ?? null;
  const label = latest
    ? `The lab's loss by step. At step ${latest.step} the train loss is ${formatLoss(latest.trainLoss)}.`
    : 'The lab’s loss by step: no steps yet in this session.';
  return (
    <figure className="lab-loss">
      <LossChart getData={chartData} subscribe={onHistoryChange} theme={theme} label={label} height={200} />
      <figcaption>
        <span className="swatch swatch-train" aria-hidden="true" /> train loss{' '}
        <span className="swatch swatch-val" aria-hidden="true" /> validation loss, in nats per character
        {vocab ? ` (an even guess over ${vocab} characters scores ln ${vocab} = ${Math.log(vocab).toFixed(2)})` : ''}.{' '}
        {latest ? '' : 'Press Train in the lab to draw it.'}
      </figcaption>
    </figure>
  );
}
