"use client";
// Duration and archive size of the backups over time, as plain inline SVG (no chart library): size as bars on the
// right axis, duration as a line on the left axis, failed backups as red dots. One `role="img"` with a summary in
// words; the table below holds every figure for anyone who can't see the picture.
import type { ChartPoint } from "@/server/history/history-view";
import { formatBytes, formatDate, formatDuration } from "../format";
import { plural } from "@/server/isomorphic/plural";

const W = 760, H = 260;
const PAD = { left: 70, right: 78, top: 16, bottom: 44 };
const PLOT_W = W - PAD.left - PAD.right, PLOT_H = H - PAD.top - PAD.bottom;

const shortDate = (iso: string) => new Date(iso).toLocaleString(undefined, { dateStyle: "short", timeStyle: "short" });

function range(values: number[]): [number, number] {
  return [Math.min(...values), Math.max(...values)];
}

/** Axis tops whose halves read well ("1 min", "30 s"): seconds. */
const DURATION_TOPS = [1, 2, 4, 10, 20, 30, 60, 120, 240, 600, 1200, 1800, 3600, 7200, 14_400, 36_000, 72_000];

function durationTop(maxMs: number): number {
  const s = maxMs / 1000;
  const top = DURATION_TOPS.find((t) => t >= s) ?? Math.ceil(s / 72_000) * 72_000;
  return top * 1000;
}

/** 1, 2 or 5 times a power of ten, so the half-way tick is a round figure too. */
function sizeTop(maxBytes: number): number {
  const p = 10 ** Math.floor(Math.log10(Math.max(1, maxBytes)));
  return [1, 2, 5, 10].map((m) => m * p).find((t) => t >= maxBytes)!;
}

/** Below 10 s a tick needs its tenths ("0.5 s"); above, the page's usual words. */
const durationTick = (ms: number) => (ms < 10_000 ? `${Number((ms / 1000).toFixed(1))} s` : formatDuration(ms));

export function HistoryChart({ points, backups }: { points: ChartPoint[]; backups: number }) {
  if (points.length === 0) {
    return <p className="text-sm text-slate-600">No backups yet: the chart of duration and size appears once backups have run.</p>;
  }
  if (points.length === 1) {
    const p = points[0];
    return (
      <p className="text-sm text-slate-600">
        One backup so far (#{p.number}, {formatDate(p.startingDate)}): {formatDuration(p.duration)}, archive {formatBytes(p.archiveSize)}.
        The chart appears from the second backup.
      </p>
    );
  }
  const times = points.map((p) => Date.parse(p.startingDate));
  const [t0, t1] = range(times);
  const maxDuration = durationTop(Math.max(1, ...points.map((p) => p.duration)));
  const sizes = points.map((p) => p.archiveSize).filter((s): s is number => s !== null);
  const maxSize = sizeTop(Math.max(1, ...sizes));
  const barW = Math.max(2, Math.min(18, (PLOT_W / points.length) * 0.6));
  // Points stay clear of the axes by half a bar and a little air.
  const inset = barW / 2 + 8, span = PLOT_W - 2 * inset;
  // By time when the points are spread; evenly when they all share one instant (nothing to spread them by).
  const x = (i: number) => PAD.left + inset + (t1 > t0 ? ((times[i] - t0) / (t1 - t0)) * span : (i / (points.length - 1)) * span);
  const yDuration = (ms: number) => PAD.top + PLOT_H - (ms / maxDuration) * PLOT_H;
  const ySize = (b: number) => PAD.top + PLOT_H - (b / maxSize) * PLOT_H;
  const line = points.map((p, i) => `${i ? "L" : "M"}${x(i).toFixed(1)},${yDuration(p.duration).toFixed(1)}`).join(" ");
  const [dMin, dMax] = range(points.map((p) => p.duration));
  const failed = points.filter((p) => p.outcome !== "success").length;
  const label = `Chart of the last ${plural(points.length, "backup")}${backups > points.length ? ` (of ${backups} kept)` : ""}, from ${formatDate(points[0].startingDate)} to ${formatDate(points.at(-1)!.startingDate)}: `
    + `duration from ${formatDuration(dMin)} to ${formatDuration(dMax)}; `
    + (sizes.length ? `archive size from ${formatBytes(Math.min(...sizes))} to ${formatBytes(Math.max(...sizes))}` : "no archive kept")
    + (failed ? `; ${failed} not successful.` : "; all successful.");
  const ticks = [0, 0.5, 1];
  return (
    <figure>
      <svg role="img" aria-label={label} viewBox={`0 0 ${W} ${H}`} className="h-auto w-full max-w-full text-slate-500">
        {/* Grid and axes */}
        {ticks.map((f) => (
          <g key={f}>
            <line x1={PAD.left} x2={W - PAD.right} y1={PAD.top + PLOT_H * (1 - f)} y2={PAD.top + PLOT_H * (1 - f)} stroke="#e2e8f0" />
            <text x={PAD.left - 6} y={PAD.top + PLOT_H * (1 - f) + 4} textAnchor="end" fontSize="11" fill="#334155">{durationTick(maxDuration * f)}</text>
            <text x={W - PAD.right + 6} y={PAD.top + PLOT_H * (1 - f) + 4} fontSize="11" fill="#1d4ed8">{formatBytes(Math.round(maxSize * f))}</text>
          </g>
        ))}
        <line x1={PAD.left} x2={PAD.left} y1={PAD.top} y2={PAD.top + PLOT_H} stroke="#94a3b8" />
        <line x1={W - PAD.right} x2={W - PAD.right} y1={PAD.top} y2={PAD.top + PLOT_H} stroke="#94a3b8" />
        <line x1={PAD.left} x2={W - PAD.right} y1={PAD.top + PLOT_H} y2={PAD.top + PLOT_H} stroke="#94a3b8" />
        <text x={14} y={PAD.top + PLOT_H / 2} fontSize="12" fill="#334155" textAnchor="middle" transform={`rotate(-90 14 ${PAD.top + PLOT_H / 2})`}>Duration</text>
        <text x={W - 10} y={PAD.top + PLOT_H / 2} fontSize="12" fill="#1d4ed8" textAnchor="middle" transform={`rotate(90 ${W - 10} ${PAD.top + PLOT_H / 2})`}>Archive size</text>
        <text x={PAD.left + inset} y={H - 22} fontSize="11" fill="#334155" textAnchor="middle">{shortDate(points[0].startingDate)}</text>
        <text x={W - PAD.right - inset} y={H - 22} fontSize="11" fill="#334155" textAnchor="middle">{shortDate(points.at(-1)!.startingDate)}</text>
        <text x={PAD.left + PLOT_W / 2} y={H - 6} fontSize="12" fill="#334155" textAnchor="middle">Started</text>

        {/* Archive size: bars */}
        {points.map((p, i) => p.archiveSize === null ? null : (
          <rect key={`s-${p.id}`} x={x(i) - barW / 2} y={ySize(p.archiveSize)} width={barW} height={PAD.top + PLOT_H - ySize(p.archiveSize)}
            fill="#bfdbfe" stroke="#60a5fa">
            <title>{`#${p.number}: archive ${formatBytes(p.archiveSize)}`}</title>
          </rect>
        ))}
        {/* Duration: line and dots */}
        <path d={line} fill="none" stroke="#0f172a" strokeWidth="1.5" />
        {points.map((p, i) => (
          <circle key={`d-${p.id}`} cx={x(i)} cy={yDuration(p.duration)} r={p.outcome === "success" ? 3 : 4.5}
            fill={p.outcome === "success" ? "#0f172a" : p.outcome === "partial" ? "#d97706" : "#dc2626"}>
            <title>{`#${p.number}, ${formatDate(p.startingDate)}: ${formatDuration(p.duration)}${p.outcome === "success" ? "" : ` (${p.outcome})`}`}</title>
          </circle>
        ))}
      </svg>
      <figcaption className="mt-2 flex flex-wrap gap-4 text-xs text-slate-600">
        <span><span aria-hidden="true" className="mr-1 inline-block h-0.5 w-4 bg-slate-900 align-middle" />Duration (left axis)</span>
        <span><span aria-hidden="true" className="mr-1 inline-block h-3 w-3 border border-blue-400 bg-blue-200 align-middle" />Archive size (right axis)</span>
        <span><span aria-hidden="true" className="mr-1 inline-block h-2.5 w-2.5 rounded-full bg-amber-600 align-middle" />Partial</span>
        <span><span aria-hidden="true" className="mr-1 inline-block h-2.5 w-2.5 rounded-full bg-red-600 align-middle" />Failed or stopped</span>
      </figcaption>
    </figure>
  );
}
