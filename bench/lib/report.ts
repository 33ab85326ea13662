import { cpus, totalmem, platform, release, arch } from 'node:os';

/** Plain tables, printed to the console and written as Markdown. */

export interface Table {
  title: string;
  /** What was measured and how, in a sentence or two (Markdown). */
  note?: string;
  columns: string[];
  rows: string[][];
}

export interface Report {
  title: string;
  machine: MachineInfo;
  date: string;
  mode: 'full' | 'quick';
  tables: Table[];
  /** Targets with their verdicts, in issue order. */
  targets: TargetLine[];
  /** Free-text findings (Markdown paragraphs). */
  findings: string[];
  /** Markdown appended verbatim: the hand-written notes of docs/benchmarks.md, kept across runs. */
  appendix?: string;
}

export interface TargetLine {
  target: string;
  measured: string;
  verdict: string;
}

export interface MachineInfo {
  cpu: string;
  cores: number;
  memory: string;
  os: string;
  node: string;
}

export function machineInfo(): MachineInfo {
  const list = cpus();
  return {
    cpu: list[0]?.model.trim() ?? 'unknown',
    cores: list.length,
    memory: `${Math.round(totalmem() / 2 ** 30)} GiB`,
    os: `${platform()} ${release()} ${arch()}`,
    node: process.version,
  };
}

function escapeCell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export function markdownTable(t: Table): string {
  const lines = [
    `| ${t.columns.map(escapeCell).join(' | ')} |`,
    `| ${t.columns.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`,
    ...t.rows.map((r) => `| ${r.map(escapeCell).join(' | ')} |`),
  ];
  return lines.join('\n');
}

export function consoleTable(t: Table): string {
  const widths = t.columns.map((c, i) => Math.max(c.length, ...t.rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  return [`== ${t.title}`, line(t.columns), widths.map((w) => '-'.repeat(w)).join('  '), ...t.rows.map(line)].join('\n');
}

export function renderMarkdown(r: Report): string {
  const m = r.machine;
  const out: string[] = [
    `# ${r.title}`,
    '',
    '<!-- Written by `npm run bench` (bench/run.ts). Do not edit by hand: re-run the benchmark. -->',
    '',
    `Measured ${r.date} (${r.mode} run) on ${m.cpu}, ${m.cores} cores, ${m.memory} RAM, ${m.os}, Node.js ${m.node}.`,
    'Every timing is a ratio to a baseline measured in the same run, because these machines are noisy;',
    'the absolute milliseconds are shown for orientation only.',
    '',
    '## Targets',
    '',
    markdownTable({ title: 'Targets', columns: ['Target', 'Measured', 'Verdict'], rows: r.targets.map((t) => [t.target, t.measured, t.verdict]) }),
    '',
  ];
  for (const t of r.tables) {
    out.push(`## ${t.title}`, '');
    if (t.note) out.push(t.note, '');
    out.push(markdownTable(t), '');
  }
  if (r.findings.length > 0) {
    out.push('## Findings', '');
    for (const f of r.findings) out.push(f, '');
  }
  if (r.appendix) out.push(r.appendix.trim(), '');
  return out.join('\n');
}

export function renderConsole(r: Report): string {
  return [
    ...r.tables.map(consoleTable),
    consoleTable({ title: 'Targets', columns: ['Target', 'Measured', 'Verdict'], rows: r.targets.map((t) => [t.target, t.measured, t.verdict]) }),
  ].join('\n\n');
}
