// The benchmarks' options: a malformed one is a UsageError naming the option and what was expected,
// which bench/index.ts prints as one line (exit 2) instead of a stack trace.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { positiveInteger, seedRange, UsageError } from '../../bench/arguments';

describe('bench arguments', () => {
  it('reads --seeds A..B and --subjects N, with their defaults when absent', () => {
    assert.deepEqual(seedRange(['toyworld', '--seeds', '7100..7109'], [7000, 7009]), [7100, 7109]);
    assert.deepEqual(seedRange(['toyworld'], [7000, 7009]), [7000, 7009]);
    assert.equal(positiveInteger(['--subjects', '3'], '--subjects', 10), 3);
    assert.equal(positiveInteger([], '--subjects', 10), 10);
  });

  it('a malformed option is a UsageError that names it', () => {
    const bad: [() => unknown, RegExp][] = [
      [() => seedRange(['--seeds', '7000..x'], [0, 1]), /^--seeds 7000\.\.x: expected A\.\.B/],
      [() => seedRange(['--seeds', '9..3'], [0, 1]), /^--seeds 9\.\.3: expected A\.\.B/],
      [() => seedRange(['--seeds'], [0, 1]), /^--seeds needs a value$/],
      [() => seedRange(['--seeds', '--json'], [0, 1]), /^--seeds needs a value$/],
      [
        () => positiveInteger(['--subjects', '0'], '--subjects', 10),
        /^--subjects 0: expected a whole number/,
      ],
      [() => positiveInteger(['--subjects', 'two'], '--subjects', 10), /^--subjects two: expected/],
    ];
    for (const [f, message] of bad)
      assert.throws(f, (e: unknown) => e instanceof UsageError && message.test(e.message));
  });
});
