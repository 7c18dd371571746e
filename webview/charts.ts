/** Draws chart series with Chart.js (bundled; nothing from a CDN), styled from the theme. */
import {
  BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, LineController, LineElement, LogarithmicScale, PointElement, Tooltip,
  type ChartConfiguration, type ChartDataset,
} from 'chart.js';
import type { ChartSeries, HistogramPanel } from './chartData';
import type { Theme } from './theme';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, LineController, LineElement, LogarithmicScale, PointElement, Tooltip, Legend);

function lineDatasets(data: ChartSeries, theme: Theme): ChartDataset<'line', (number | null)[]>[] {
  return data.series.map((s) => {
    const colour = theme.palette[s.colour % theme.palette.length];
    return {
      label: s.label,
      data: [...s.values],
      borderColor: colour,
      backgroundColor: colour,
      borderDash: s.style === 'solid' ? [] : s.style === 'dashed' ? [6, 4] : [2, 3],
      borderWidth: s.style === 'threshold' ? 1 : 2,
      pointRadius: s.style === 'threshold' ? 0 : 2,
      spanGaps: false,
    };
  });
}

function axes(theme: Theme, yTitle: string, log: boolean, xTitle: string) {
  const common = { ticks: { color: theme.foreground }, grid: { color: theme.grid } };
  // On a log axis, label powers of ten only, as 1e-6 rather than 0.000001.
  const logTicks = {
    color: theme.foreground,
    callback: (value: number | string) => {
      const v = Number(value);
      const exponent = Math.log10(v);
      return Math.abs(exponent - Math.round(exponent)) < 1e-9 ? `1e${Math.round(exponent)}` : '';
    },
  };
  return {
    x: { ...common, title: { display: true, text: xTitle, color: theme.foreground } },
    y: {
      ...common,
      ...(log ? { ticks: logTicks } : {}),
      type: log ? ('logarithmic' as const) : ('linear' as const),
      title: { display: true, text: yTitle, color: theme.foreground },
    },
  };
}

/** A line chart (log or linear y axis). */
export function lineChart(canvas: HTMLCanvasElement, data: ChartSeries, theme: Theme, options: { yTitle: string; xTitle: string; log: boolean }): Chart {
  const config: ChartConfiguration<'line', (number | null)[], string> = {
    type: 'line',
    data: { labels: [...data.labels], datasets: lineDatasets(data, theme) },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      scales: axes(theme, options.yTitle, options.log, options.xTitle),
      plugins: { legend: { labels: { color: theme.foreground, boxWidth: 12 } } },
    },
  };
  return new Chart(canvas, config);
}

/** Bars for the measured series and lines for the thresholds (chart 3). */
export function barsWithThresholds(canvas: HTMLCanvasElement, data: ChartSeries, theme: Theme, yTitle: string): Chart {
  const datasets = data.series.map((s) => {
    const colour = theme.palette[s.colour % theme.palette.length];
    return s.style === 'threshold'
      ? { type: 'line' as const, label: s.label, data: [...s.values], borderColor: colour, borderDash: [4, 4], borderWidth: 1, pointRadius: 0 }
      : { type: 'bar' as const, label: s.label, data: [...s.values], backgroundColor: colour };
  });
  return new Chart(canvas, {
    type: 'bar',
    data: { labels: [...data.labels], datasets },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      scales: { ...axes(theme, yTitle, false, 'layer'), y: { ...axes(theme, yTitle, false, 'layer').y, min: 0, max: 100 } },
      plugins: { legend: { labels: { color: theme.foreground, boxWidth: 12 } } },
    },
  } as ChartConfiguration);
}

/** One histogram panel; the bin holding the mean is drawn in the accent colour. */
export function histogramChart(canvas: HTMLCanvasElement, panel: HistogramPanel, theme: Theme): Chart {
  const colours = panel.counts.map((_, i) => (i === panel.meanBin ? theme.palette[1] : theme.palette[0]));
  return new Chart(canvas, {
    type: 'bar',
    data: { labels: panel.binCentres.map((c) => c.toPrecision(2)), datasets: [{ label: 'activations', data: [...panel.counts], backgroundColor: colours, barPercentage: 1, categoryPercentage: 1 }] },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      scales: { x: { ticks: { color: theme.foreground, maxTicksLimit: 5 }, grid: { display: false } }, y: { ticks: { color: theme.foreground, maxTicksLimit: 4 }, grid: { color: theme.grid } } },
      plugins: { legend: { display: false } },
    },
  });
}
