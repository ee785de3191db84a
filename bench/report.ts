// Turns a bench results JSON into a markdown table and an SVG bar chart (req/s and CPU per call per variant).
import { writeFileSync } from 'node:fs';

interface VariantSummary {
  label: string;
  rps: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  cpuUsPerCall: number;
  rssMb: number;
  peakRssMb: number;
  errors: number;
  stockCpuUsPerCall?: number;
  exchangesPerCall?: number;
}
interface Results {
  startedAt: string;
  smoke: boolean;
  variants: Record<string, VariantSummary>;
  ratios: Record<string, number>;
  goal: Record<string, boolean | null>;
  soak?: { seconds: number; rps: number; rssMbAfter: number; peakRssMb: number; errors: number };
  keycloakExchangeLatency: { count: number; p50Ms: number; p99Ms: number };
  settings: Record<string, unknown>;
}

const fmt = (n: number | undefined, digits = 0) => (n === undefined || Number.isNaN(n) ? '–' : n.toFixed(digits));
const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

export function markdown(results: Results): string {
  const rows = Object.entries(results.variants).map(
    ([, v]) =>
      `| ${v.label} | ${fmt(v.rps)} | ${fmt(v.p50Ms, 1)} / ${fmt(v.p90Ms, 1)} / ${fmt(v.p99Ms, 1)} | ${fmt(v.cpuUsPerCall)} | ${fmt(v.stockCpuUsPerCall)} | ${fmt(v.peakRssMb)} | ${v.exchangesPerCall === undefined ? '–' : fmt(v.exchangesPerCall, 3)} | ${v.errors} |`,
  );
  const goals = Object.entries(results.goal)
    .map(([k, v]) => `${v === null ? '–' : v ? 'met' : 'NOT met'}: ${k}`)
    .join('; ');
  return [
    `# Bench ${results.startedAt}${results.smoke ? ' (smoke)' : ''}`,
    '',
    `Settings: ${JSON.stringify(results.settings)}`,
    '',
    '| variant | req/s | p50 / p90 / p99 ms | server CPU µs/call | stock API CPU µs/call | peak RSS MB | exchanges/call | errors |',
    '|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    `Ratios: ${Object.entries(results.ratios)
      .map(([k, v]) => `${k} ${v.toFixed(2)}x`)
      .join(', ')}`,
    '',
    `Goal: ${goals}`,
    results.soak
      ? `\nSoak ${results.soak.seconds} s (variant 4): ${fmt(results.soak.rps)} req/s, RSS after ${fmt(results.soak.rssMbAfter)} MB, peak ${fmt(results.soak.peakRssMb)} MB, errors ${results.soak.errors}`
      : '',
    `\nKeycloak token exchange (${results.keycloakExchangeLatency.count} sequential): p50 ${fmt(results.keycloakExchangeLatency.p50Ms, 1)} ms, p99 ${fmt(results.keycloakExchangeLatency.p99Ms, 1)} ms`,
    '',
  ].join('\n');
}

export function svg(results: Results): string {
  const entries = Object.values(results.variants);
  const maxRps = Math.max(...entries.map((v) => v.rps), 1);
  const maxCpu = Math.max(...entries.map((v) => v.cpuUsPerCall), 1);
  const rowH = 34;
  const left = 360;
  const width = 980;
  const barW = (width - left - 40) / 2 - 20;
  const height = 70 + entries.length * rowH + 30;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="13">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="16" y="24" font-size="16" font-weight="bold">MCP server bench ${escapeXml(results.startedAt)}${results.smoke ? ' (smoke)' : ''}: warm vs SDK default ${results.ratios.warmVsSdkDefault?.toFixed(2)}x</text>`,
    `<text x="${left}" y="52" font-weight="bold">requests/s (higher is better)</text>`,
    `<text x="${left + barW + 40}" y="52" font-weight="bold">server CPU µs per call (lower is better)</text>`,
  ];
  entries.forEach((v, i) => {
    const y = 64 + i * rowH;
    const ours = v.label.includes('ours');
    const rpsW = (v.rps / maxRps) * barW;
    const cpuW = (v.cpuUsPerCall / maxCpu) * barW;
    parts.push(
      `<text x="16" y="${y + 18}">${escapeXml(v.label)}</text>`,
      `<rect x="${left}" y="${y + 4}" width="${rpsW.toFixed(1)}" height="20" fill="${ours ? '#2b7bb9' : '#9aa5b1'}"/>`,
      `<text x="${left + rpsW + 4}" y="${y + 18}">${Math.round(v.rps)}</text>`,
      `<rect x="${left + barW + 40}" y="${y + 4}" width="${cpuW.toFixed(1)}" height="20" fill="${ours ? '#d9822b' : '#c3c9d0'}"/>`,
      `<text x="${left + barW + 44 + cpuW}" y="${y + 18}">${Math.round(v.cpuUsPerCall)}</text>`,
    );
  });
  parts.push(
    `<text x="16" y="${height - 10}" fill="#555">2 cores, wrk on loopback; medians over rounds; see docs/performance.md</text>`,
    '</svg>',
  );
  return parts.join('\n');
}

export function writeReport(jsonFile: string, results: unknown): void {
  const r = results as Results;
  writeFileSync(jsonFile.replace(/\.json$/, '.md'), markdown(r));
  writeFileSync(jsonFile.replace(/\.json$/, '.svg'), svg(r));
}
