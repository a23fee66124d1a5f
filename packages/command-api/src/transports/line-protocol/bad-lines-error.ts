import { AppError } from '@strata/core';

/** One refused line: its 1-based number, the part concerned (absent for a syntax error), and why. */
export interface LineProblem {
  line: number;
  field?: string;
  reason: string;
}

/**
 * A line-protocol request refused for its lines: every bad line is named (up to acceptEvents' bound),
 * in the message too, since InfluxDB clients print the message and nothing else.
 */
export class BadLinesError extends AppError {
  readonly lines: LineProblem[];
  constructor(lines: LineProblem[], totalLines: number, complete: boolean) {
    const bad = new Set(lines.map((problem) => problem.line)).size;
    const counted = complete ? `${bad}` : `at least ${bad}`;
    const named = lines.map((problem) => `line ${problem.line}: ${problem.field ? `${problem.field}: ` : ''}${problem.reason}`).join('; ');
    super(400, 'invalid', `${counted} of ${totalLines} lines are invalid; nothing was stored. ${named}`);
    this.name = 'BadLinesError';
    this.lines = lines;
  }
}
