// Concept files: YAML syntax and schema errors at exact places, with messages that say what to do.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CATEGORIES } from '../../server/src/engine/subject/category';
import { describe, it } from 'node:test';
import {
  formatDiagnostic,
  lineColumn,
  MAX_DIAGNOSTICS,
  parseSubject,
} from '../../server/src/engine/subject/subject-file';

const GOOD = `name: bo
category: pet
description: my golden retriever
images:
  train: photos/train
  test: [photos/test]
negatives:
  pools: [../negatives]
  hard: 100
training:
  epochs: 15
  headRows: all
`;

function at(text: string, d: { start: number; end: number }): string {
  return text.slice(d.start, d.end);
}

describe('parseSubject', () => {
  it('a valid file has no diagnostics and gives its value', () => {
    const p = parseSubject(GOOD);
    assert.deepEqual(p.diagnostics, []);
    assert.equal(p.value!.name, 'bo');
    assert.deepEqual(p.value!.images!.test, ['photos/test']);
  });

  it('a YAML syntax error is reported where it is, and nothing else', () => {
    const text = 'name: bo\ncategory: [pet\nimages:\n  train: x\n';
    const p = parseSubject(text);
    assert.ok(p.diagnostics.length >= 1);
    assert.ok(p.diagnostics.every((d) => d.severity === 'error' && d.message.startsWith('YAML: ')));
    assert.equal(p.value, null);
    assert.match(
      formatDiagnostic('bo.subject.yaml', p, p.diagnostics[0]!),
      /^bo\.subject\.yaml:\d+:\d+: error: YAML: /,
    );
  });

  it('a wrong enum value is marked on the value, with the allowed values', () => {
    const text = GOOD.replace('category: pet', 'category: dog');
    const [d] = parseSubject(text).diagnostics;
    assert.equal(at(text, d!), 'dog');
    assert.match(d!.message, /^category: must be one of "person", "pet", "object", "landmark", "fiction"$/);
    assert.equal(
      formatDiagnostic('bo.subject.yaml', parseSubject(text), d!),
      'bo.subject.yaml:2:11: error: ' + d!.message,
    );
  });

  it('a typo in a key is marked on the key, with a suggestion', () => {
    const text = GOOD.replace('  epochs: 15', '  epocs: 15');
    const [d] = parseSubject(text).diagnostics;
    assert.equal(at(text, d!), 'epocs');
    assert.equal(d!.message, 'training.epocs: unknown field (did you mean "epochs"?)');
  });

  it('a missing required field is reported; a bad name says what a name may be', () => {
    const p = parseSubject('name: "my dog"\ncategory: pet\n');
    const msgs = p.diagnostics.map((d) => d.message);
    assert.ok(msgs.includes('the file: missing required field "images"'));
    assert.ok(msgs.some((m) => m.startsWith('name: use letters, digits')));
    const nameDiag = p.diagnostics.find((d) => d.field === 'name')!;
    assert.equal(at(p.text, nameDiag), '"my dog"');
  });

  it('wrong types: a number where a folder goes, a negative count', () => {
    const text = GOOD.replace('train: photos/train', 'train: 5').replace('hard: 100', 'hard: -3');
    const ds = parseSubject(text).diagnostics;
    const train = ds.find((d) => d.field === 'images.train')!;
    assert.equal(at(text, train), '5');
    assert.equal(train.message, 'images.train: must be a folder or glob, or a list of them');
    const hard = ds.find((d) => d.field === 'negatives.hard')!;
    assert.equal(at(text, hard), '-3');
  });

  it('an empty file and a duplicate key are errors, not crashes', () => {
    assert.match(parseSubject('').diagnostics[0]!.message, /the file is empty/);
    const dup = parseSubject('name: bo\nname: bo2\ncategory: pet\nimages: {train: x}\n');
    assert.ok(dup.diagnostics.some((d) => /YAML: .*unique|duplicate/i.test(d.message)));
  });

  it('deep nesting, an alias bomb and a duplicate key get a diagnostic at their position, not a crash', () => {
    const deep = `name: bo\ncategory: pet\nx: ${'['.repeat(5000)}`;
    const d = parseSubject(deep);
    assert.equal(d.value, null);
    assert.equal(d.diagnostics.length, 1);
    assert.equal(d.diagnostics[0]!.code, 'too-deep');
    assert.equal(d.diagnostics[0]!.start, deep.indexOf('[') + 64);
    assert.deepEqual(lineColumn(d, d.diagnostics[0]!.start), { line: 3, column: 68 });
    const blocks = `name: bo\n${Array.from({ length: 300 }, (_, i) => `${' '.repeat(2 * i)}k${i}:`).join('\n')}\n`;
    assert.equal(parseSubject(blocks).diagnostics[0]!.code, 'too-deep');

    const bomb =
      'a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n' +
      'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n' +
      'e: [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n';
    const b = parseSubject(bomb).diagnostics;
    assert.equal(b[0]!.code, 'alias-count');
    assert.equal(at(bomb, b[0]!), '*');
    assert.equal(b[0]!.start, bomb.indexOf('*a'));

    const dup = 'name: bo\ncategory: pet\nname: mo\nimages: {train: x}\n';
    const u = parseSubject(dup).diagnostics.find((x) => x.code === 'DUPLICATE_KEY')!;
    assert.equal(u.start, dup.lastIndexOf('name'));
  });

  it('thousands of problems: the first 100 are shown, then one line that counts the rest', () => {
    const text = `${GOOD}${Array.from({ length: 5000 }, (_, i) => `extra${i}: ${i}`).join('\n')}\n`;
    const ds = parseSubject(text).diagnostics;
    assert.equal(ds.length, MAX_DIAGNOSTICS + 1);
    assert.equal(ds[0]!.message.startsWith('extra0: unknown field'), true);
    assert.match(ds[MAX_DIAGNOSTICS]!.message, /^4900 more problem\(s\) in this file are not shown/);
  });
});

describe('parseSubject on files far larger than a subject file', () => {
  it('500,000 keys: each unknown key at its line, capped with a count, the known fields still checked', () => {
    const head = 'name: bo\ncategory: vase\nimages:\n  train: photos\n';
    const text = head + Array.from({ length: 500_000 }, (_, i) => `k${i}: v\n`).join('');
    const p = parseSubject(text);
    assert.ok(p.diagnostics.length <= MAX_DIAGNOSTICS + 1);
    const k0 = p.diagnostics.find((d) => d.message.startsWith('k0: unknown field'))!;
    assert.deepEqual(lineColumn(p, k0.start), { line: 5, column: 1 });
    // The known fields went through the schema as usual, at their own position.
    const category = p.diagnostics.find((d) => d.message.startsWith('category: must be one of'))!;
    assert.deepEqual(lineColumn(p, category.start), { line: 2, column: 11 });
    assert.match(p.diagnostics.at(-1)!.message, /^500000 unknown fields in all; the first \d+ are shown$/);
    assert.equal(p.value?.name, 'bo');
    assert.deepEqual(lineColumn(p, p.rangeOf(['images', 'train']).start), { line: 4, column: 10 });
  });

  it('a large file of the right fields only (one huge description) is parsed whole, positions exact', () => {
    const text = `name: bo\ncategory: pet\ndescription: ${'x'.repeat(400_000)}\nimages:\n  train: photos\ntraining:\n  epochs: many\n`;
    const p = parseSubject(text);
    const epochs = p.diagnostics.find((d) => d.message.startsWith('training.epochs'))!;
    assert.deepEqual(lineColumn(p, epochs.start), { line: 7, column: 11 });
  });
});

describe('the subject schema and the code agree', () => {
  it('lists the same categories as subject/category.ts', () => {
    const schema = JSON.parse(
      readFileSync(path.join(__dirname, '..', '..', 'schemas', 'subject.schema.json'), 'utf8'),
    ) as { properties: { category: { enum: string[] } } };
    assert.deepEqual([...schema.properties.category.enum].sort(), [...CATEGORIES].sort());
  });
});
