import t from 'tap';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PROMTOOL } from '@strata/testkit';

// The shipped Prometheus files (deploy/prometheus/) as promtool sees them, and the promises the
// runbooks make: every alert is unit-tested both ways and points at a section of docs/operations.md.
const DEPLOY = fileURLToPath(new URL('../../deploy/prometheus/', import.meta.url));
const rulesText = readFileSync(`${DEPLOY}alerts.yml`, 'utf8');
const testsText = readFileSync(`${DEPLOY}alerts.test.yml`, 'utf8');
const operations = readFileSync(new URL('../../docs/operations.md', import.meta.url), 'utf8');
const SKIP = PROMTOOL ? false : 'promtool is not installed (apt-get install prometheus)';

const promtool = (...args: string[]) => {
  const result = spawnSync(PROMTOOL as string, args, { cwd: DEPLOY, encoding: 'utf8', timeout: 120_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}`.trim() };
};

interface Alert {
  name: string;
  /** The rule's lines, from `- alert:` up to the next rule or group. */
  body: string;
}

/** Each alerting rule with its text: enough to check labels and annotations without a YAML parser. */
function alerts(text: string): Alert[] {
  return text.split(/^\s*- alert: /m).slice(1).map((chunk) => ({ name: chunk.split('\n')[0]?.trim() ?? '', body: chunk.split(/^\s*- name: /m)[0] ?? '' }));
}

/** GitHub's anchor for a Markdown heading. */
function anchor(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\w\- ]/g, '').replace(/ /g, '-');
}

const rules = alerts(rulesText);

t.test('promtool accepts the scrape configuration and the rules', { skip: SKIP }, async (t) => {
  const config = promtool('check', 'config', 'prometheus.yml');
  t.equal(config.status, 0, config.output);
  const checked = promtool('check', 'rules', 'alerts.yml');
  t.equal(checked.status, 0, checked.output);
  t.match(checked.output, new RegExp(`SUCCESS: ${rules.length} rules found`), 'promtool counts the rules this test reads');
});

t.test('promtool test rules: every unit test of alerts.test.yml passes', { skip: SKIP }, async (t) => {
  const tested = promtool('test', 'rules', 'alerts.test.yml');
  t.equal(tested.status, 0, tested.output);
  t.match(tested.output, /SUCCESS/);
});

t.test('every alert is tested firing and quiet', async (t) => {
  t.ok(rules.length >= 10, `${rules.length} alerts`);
  for (const { name } of rules) {
    const cases = testsText.split(/^\s*- eval_time: /m).filter((step) => new RegExp(`alertname: ${name}\\s*$`, 'm').test(step));
    t.ok(cases.some((step) => /exp_alerts:\s*\n\s*- exp_labels:/.test(step)), `${name} has a case where it fires`);
    t.ok(cases.some((step) => /exp_alerts: \[\]/.test(step)), `${name} has a case where it stays quiet`);
  }
});

t.test('every alert has a severity, a summary, a description and a runbook section', async (t) => {
  const headings = new Set([...operations.matchAll(/^#{2,4} (.+)$/gm)].map((match) => anchor(match[1] as string)));
  for (const { name, body } of rules) {
    t.match(body, /^\s+severity: (critical|warning)$/m, `${name}: severity critical or warning`);
    t.match(body, /^\s+summary: "\S/m, `${name}: summary`);
    t.match(body, /^\s+description: "\S/m, `${name}: description`);
    const runbook = /^\s+runbook: docs\/operations\.md#(\S+)$/m.exec(body)?.[1];
    t.equal(runbook, name.toLowerCase(), `${name}: runbook points at its own section`);
    t.ok(runbook && headings.has(runbook), `${name}: docs/operations.md has the section #${runbook}`);
  }
});

t.test('each runbook section says what it means, what to check and what to do', async (t) => {
  for (const { name } of rules) {
    const section = operations.split(new RegExp(`^### ${name}$`, 'm'))[1]?.split(/^##/m)[0] ?? '';
    for (const part of ['Means', 'Check', 'Do']) t.match(section, new RegExp(`^\\*\\*${part}\\*\\*`, 'm'), `${name}: ${part}`);
  }
});
