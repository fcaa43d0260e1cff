/**
 * `npm run docs`: writes the settings, request and operating-point tables into README.md,
 * docs/configuration.md and `help` from the contracts and the stack's settings table, between
 * `<!-- generated:NAME -->` markers. A test
 * (__tests__/scripts/docs.test.ts) fails when a table in the files differs from what this generates.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CLEANUP_ENV } from '../functions/cleanup/contract';
import { WEB_API_ENV } from '../functions/web-api/contract';
import { accepted, kebabCase, markdownTable, shownDefault, type EnvSchema } from '../functions/common/schema';
import { DETECT_ENV, DETECT_REQUEST, LOOKS_TEXT, MARK_OPERATING_POINT, OPERATING_POINTS, type OperatingPointName } from '../functions/detect-faces/contract';
import { STACK_SETTINGS } from '../stack/settings';

export const PROJECT_ROOT = path.resolve(__dirname, '..');


function envTable(schema: EnvSchema): string {
  return markdownTable(Object.values(schema).map((s) => ({ name: s.env, spec: s })), 'variable');
}

/** YuNet's operating points with the figures that chose them (contract/operating-points.ts). */
function operatingPointsTable(): string {
  const rows = (Object.keys(OPERATING_POINTS) as OperatingPointName[]).map((name) => {
    const p = OPERATING_POINTS[name];
    const marks = Object.entries(MARK_OPERATING_POINT).filter(([, n]) => n === name).map(([m]) => `\`${m}\``).join(', ');
    const r = p.measured.recall;
    return `| ${marks} | ${name} first | ${p.minScore} | ${LOOKS_TEXT[p.looks]} | ${r.clean}% | ${r.occluded}% | ${r.pose}% | ${r.blurred}% | ${r.all}% | ${p.measured.precision}% |`;
  });
  return ['| mark | operating point | default `minScore` | looks | recall: clean | occluded | atypical pose | heavily blurred | all faces >= 20 px | precision |', '|---|---|---|---|---|---|---|---|---|---|', ...rows].join('\n');
}

/** Every generated section, by marker name. */
export function generatedSections(): Record<string, string> {
  const stackRows = Object.entries(STACK_SETTINGS).map(([name, s]) => `| \`${name}\` | \`${s.env}\` | ${shownDefault(s.spec)} | ${accepted(s.spec)} | ${s.spec.doc} |`);
  return {
    'stack-settings': ['| setting (context) | environment | default | accepted | meaning |', '|---|---|---|---|---|', ...stackRows].join('\n'),
    'detect-request': markdownTable(
      Object.entries(DETECT_REQUEST).map(([name, spec]) => ({ name, spec })),
      'field',
    ),
    'detect-env': envTable(DETECT_ENV),
    'operating-points': operatingPointsTable(),
    'cleanup-env': envTable(CLEANUP_ENV),
    'web-api-env': envTable(WEB_API_ENV),
    'help-settings': Object.entries(STACK_SETTINGS)
      .map(([name, s]) => `    ${s.env.padEnd(32)}${`(${name})`.padEnd(26)}default ${shownDefault(s.spec).replace(/`/g, '')}`)
      .join('\n'),
    'help-request': Object.entries(DETECT_REQUEST)
      .map(([name, spec]) => `    --${kebabCase(name)} ${spec.kind === 'enum' ? 'NAME' : 'N'}`.padEnd(30) + `"${name}": ${accepted(spec)}`)
      .join('\n'),
  };
}

// `<!-- generated:NAME -->` in Markdown, `# generated:NAME` in the plain-text help.
const MARKER = /((?:<!-- |# )generated:([a-z-]+)(?: -->)?\n)(?:[\s\S]*?\n)?((?:<!-- |# )\/generated:\2(?: -->)?)/g;

/** The file's text with every generated section replaced by what the sources say now. */
export function regenerate(text: string, sections = generatedSections()): string {
  return text.replace(MARKER, (all, open: string, name: string, close: string) => (name in sections ? `${open}${sections[name]}\n${close}` : all));
}

export const DOC_FILES = ['README.md', 'docs/configuration.md', 'help'];

if (require.main === module) {
  for (const file of DOC_FILES) {
    const full = path.join(PROJECT_ROOT, file);
    const before = fs.readFileSync(full, 'utf8');
    const after = regenerate(before);
    if (after !== before) fs.writeFileSync(full, after);
    process.stdout.write(`${file}: ${after === before ? 'up to date' : 'updated'}\n`);
  }
}
