import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import type { SupportHealth } from '../lib/types';

type Point = SupportHealth['series']['points'][number];

const SERIES: Array<{ key: keyof Point; label: string; stroke: string; dash?: number[] }> = [
  { key: 'processor_calls', label: 'Processor calls', stroke: '#1d4ed8' },
  { key: 'processor_errors', label: 'Processor errors', stroke: '#b91c1c', dash: [6, 4] },
  { key: 'webhook_succeeded', label: 'Webhooks delivered', stroke: '#15803d' },
  { key: 'webhook_failed', label: 'Webhook failures', stroke: '#a16207', dash: [2, 3] },
];

/**
 * The last hour per minute, drawn by uPlot on a canvas. Series differ by dash as well as
 * colour; the figure's caption states the totals for those who cannot see the chart.
 */
export function HourChart({ points }: { points: Point[] }) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!host.current) return;
    const data: uPlot.AlignedData = [points.map((point) => Date.parse(point.at) / 1000), ...SERIES.map((series) => points.map((point) => Number(point[series.key] ?? 0)))];
    const width = Math.max(320, Math.min(960, host.current.clientWidth || 720));
    const plot = new uPlot(
      {
        width,
        height: 240,
        series: [{}, ...SERIES.map((series) => ({ label: series.label, stroke: series.stroke, width: 2, dash: series.dash }))],
        axes: [{ stroke: '#1f2937' }, { stroke: '#1f2937', label: 'per minute' }],
        scales: { y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
        cursor: { drag: { x: false, y: false } },
      },
      data,
      host.current,
    );
    return () => plot.destroy();
  }, [points]);
  const totals = SERIES.map((series) => `${series.label}: ${points.reduce((sum, point) => sum + Number(point[series.key] ?? 0), 0)}`).join(', ');
  return (
    <figure class="chart">
      <div ref={host} role="img" aria-label={`Last hour per minute. ${totals}.`} />
      <figcaption>Last hour, per minute (UTC). Totals: {totals}.</figcaption>
    </figure>
  );
}
