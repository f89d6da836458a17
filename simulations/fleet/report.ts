/**
 * `--report DIR`: the run as JSON (`report.json`) and as one self-contained HTML page
 * (`report.html`) with inline SVG charts — convergence over time, roles over time, traffic per
 * node. No scripts, stylesheets, fonts or images from anywhere else.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunReport, TimelineSample } from './run-scenario.js';

export async function writeReport(dir: string, report: RunReport, replay: string): Promise<{ json: string; html: string }> {
  await mkdir(dir, { recursive: true });
  const json = join(dir, 'report.json');
  const html = join(dir, 'report.html');
  await writeFile(json, `${JSON.stringify({ ...report, replay }, null, 2)}\n`);
  await writeFile(html, renderHtml(report, replay));
  return { json, html };
}

const W = 760;
const H = 220;
const PAD = { left: 56, right: 16, top: 16, bottom: 32 };

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1)} s`;
}

interface Series {
  name: string;
  color: string;
  points: [number, number][];
}

function lineChart(title: string, series: Series[], xMax: number, yMax: number, yLabel: (v: number) => string, marks: { x: number; label: string }[] = []): string {
  const iw = W - PAD.left - PAD.right;
  const ih = H - PAD.top - PAD.bottom;
  const sx = (x: number): number => PAD.left + (xMax === 0 ? 0 : (x / xMax) * iw);
  const sy = (y: number): number => PAD.top + ih - (yMax === 0 ? 0 : (y / yMax) * ih);
  const grid: string[] = [];
  for (let i = 0; i <= 4; i++) {
    const v = (yMax * i) / 4;
    grid.push(`<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${sy(v).toFixed(1)}" y2="${sy(v).toFixed(1)}" stroke="#ddd"/><text x="${PAD.left - 6}" y="${(sy(v) + 4).toFixed(1)}" text-anchor="end">${esc(yLabel(v))}</text>`);
  }
  for (let i = 0; i <= 5; i++) {
    const v = (xMax * i) / 5;
    grid.push(`<text x="${sx(v).toFixed(1)}" y="${H - 10}" text-anchor="middle">${esc(seconds(Math.round(v)))}</text>`);
  }
  const lines = series.map((s) => `<polyline fill="none" stroke="${s.color}" stroke-width="1.5" points="${s.points.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ')}"/>`);
  const markLines = marks.map((m) => `<line x1="${sx(m.x).toFixed(1)}" x2="${sx(m.x).toFixed(1)}" y1="${PAD.top}" y2="${PAD.top + ih}" stroke="#c33" stroke-dasharray="3,3"/><text x="${(sx(m.x) + 3).toFixed(1)}" y="${PAD.top + 10}" fill="#c33">${esc(m.label)}</text>`);
  const legend = series.map((s) => `<span style="color:${s.color}">■ ${esc(s.name)}</span>`).join(' ');
  return `<figure><figcaption>${esc(title)}</figcaption><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-size="11" font-family="sans-serif">${grid.join('')}${markLines.join('')}${lines.join('')}</svg><div class="legend">${legend}</div></figure>`;
}

function barChart(title: string, bars: { label: string; value: number }[], unit: string): string {
  const iw = W - PAD.left - PAD.right;
  const ih = H - PAD.top - PAD.bottom;
  const max = Math.max(1, ...bars.map((b) => b.value));
  const bw = iw / Math.max(1, bars.length);
  const rects = bars.map((b, i) => {
    const h = (b.value / max) * ih;
    return `<rect x="${(PAD.left + i * bw).toFixed(2)}" y="${(PAD.top + ih - h).toFixed(1)}" width="${Math.max(0.5, bw - (bars.length > 100 ? 0 : 1)).toFixed(2)}" height="${h.toFixed(1)}" fill="#4a7fb5"><title>${esc(`${b.label}: ${b.value.toFixed(0)} ${unit}`)}</title></rect>`;
  });
  const labels = bars.length <= 40 ? bars.map((b, i) => `<text x="${(PAD.left + i * bw + bw / 2).toFixed(1)}" y="${H - 10}" text-anchor="middle">${esc(b.label)}</text>`) : [];
  const axis = [0, 0.5, 1].map((f) => `<text x="${PAD.left - 6}" y="${(PAD.top + ih - f * ih + 4).toFixed(1)}" text-anchor="end">${esc((max * f).toFixed(0))}</text>`);
  return `<figure><figcaption>${esc(title)}</figcaption><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-size="11" font-family="sans-serif">${axis.join('')}${rects.join('')}${labels.join('')}</svg></figure>`;
}

export function renderHtml(report: RunReport, replay: string): string {
  const t: TimelineSample[] = report.timeline;
  const xMax = report.metrics.virtualMs;
  const maxLive = Math.max(1, ...t.map((s) => s.live));
  const convergence = lineChart(
    'Convergence over time: share of live nodes holding the most common document heads (blue), fleet converged (green = 1)',
    [
      { name: 'heads agreement', color: '#4a7fb5', points: t.map((s) => [s.t, s.headsAgreement]) },
      { name: 'converged', color: '#2a9d4a', points: t.map((s) => [s.t, s.converged ? 1 : 0]) },
    ],
    xMax,
    1,
    (v) => `${Math.round(v * 100)}%`,
    [{ x: report.metrics.quietAtMs, label: 'last fault' }],
  );
  const roleColors: Record<string, string> = { 'manager+worker': '#c0392b', manager: '#e67e22', worker: '#2980b9', none: '#7f8c8d', unassigned: '#bbb' };
  const roles = lineChart(
    'Roles over time (number of live nodes per role)',
    (Object.keys(roleColors) as (keyof TimelineSample['roles'])[]).map((r) => ({ name: r, color: roleColors[r]!, points: t.map((s) => [s.t, s.roles[r]] as [number, number]) })),
    xMax,
    maxLive,
    (v) => v.toFixed(0),
  );
  const seconds_ = Math.max(1, report.metrics.virtualMs / 1000);
  const traffic = barChart('Traffic per node: wire bytes sent per second', report.traffic.map((x) => ({ label: x.node, value: x.wireBytesOut / seconds_ })), 'B/s');
  const m = report.metrics;
  const rows: [string, string][] = [
    ['result', report.violations.length === 0 ? 'PASS — every checker held' : `VIOLATED — ${report.violations.length} violation(s)`],
    ['first converged', m.firstConvergedMs === undefined ? 'never' : seconds(m.firstConvergedMs)],
    ['converged after the last fault', m.timeToConvergeMs === undefined ? 'never' : seconds(m.timeToConvergeMs)],
    ['failure → reassignment', m.reassignments.map((r) => `${r.node} at ${seconds(r.crashedAt)}: ${r.ms === undefined ? 'never' : seconds(r.ms)}`).join('; ') || '—'],
    ['traffic per node', `${m.messagesPerNodePerSec} messages/s, ${m.bytesPerNodePerSec} B/s`],
    ['role changes', `${m.roleChanges} (plus ${m.firstRoles} first roles)`],
    ['events', `${m.schedulerEvents} scheduler events, ${m.traceEvents} trace events`],
    ['wall time', `${(m.wallMs / 1000).toFixed(1)} s for ${seconds(m.virtualMs)} virtual`],
    ['trace hash', report.traceHash],
    ['replay', replay],
  ];
  const violations = report.violations.length === 0 ? '<p>None.</p>' : `<table><tr><th>checker</th><th>time</th><th>details</th></tr>${report.violations.map((v) => `<tr><td>${esc(v.checker)}</td><td>${esc(seconds(v.time))}</td><td>${esc(v.details)}</td></tr>`).join('')}</table>`;
  const params = Object.entries(report.parameters).map(([k, v]) => `<tr><td>${esc(k)}</td><td>${esc(String(v))}</td></tr>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>pace sim: ${esc(report.scenario)} seed ${report.seed}</title>
<style>body{font:14px/1.4 sans-serif;margin:2em;max-width:820px}table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 8px;text-align:left;vertical-align:top}figure{margin:1.5em 0}figcaption{font-weight:bold;margin-bottom:.3em}.legend span{margin-right:1em}code{background:#f4f4f4}</style>
</head><body>
<h1>${esc(report.scenario)} — seed ${report.seed}, ${report.nodes} nodes</h1>
<p>Scenario file <code>${esc(report.file)}</code>.</p>
<h2>Summary</h2><table>${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</table>
<h2>Violations</h2>${violations}
<h2>Charts</h2>${convergence}${roles}${traffic}
<h2>Parameters</h2><table>${params}</table>
</body></html>
`;
}
