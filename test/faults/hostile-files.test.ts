// Hostile files, round two (issue 33), through the yollava command as a user or a cloned workspace would
// meet them: special files wherever a path is read, paths that lead out, tampered concept artifacts and
// model folders, names that collide with the tokenizer, prompts without limits, and stale locks. Every case
// runs in a process of its own, killed at its time bound, with its peak memory measured: it must end by
// itself, within both bounds, with a message that names the file and what to do, and a good concept must
// come out of it byte for byte.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { encodeSafetensors } from '../../server/src/engine/io/safetensors';
import { writeSubjectWorkspace } from '../../server/src/engine/toyworld/workspace';
import { assertBounded, cli, runCli } from '../helpers/bounded-cli';
import { RED_MUG, writeTinyPersonalizationModel } from '../helpers/tiny-model';

const root = path.join(__dirname, '..', '..');

/** Bounds for a command on the tiny model: far above a healthy run, far below a hang or a runaway. */
const QUICK = { seconds: 30, mb: 700 };

let ws = '';
let bo = '';
let artifact = '';
let good = new Map<string, Buffer>();

function snapshot(dir: string): Map<string, Buffer> {
  return new Map(readdirSync(dir).map((f) => [f, readFileSync(path.join(dir, f))]));
}

/** The trained concept, restored to what training wrote. */
function restoreArtifact(): void {
  rmSync(artifact, { recursive: true, force: true });
  mkdirSync(artifact, { recursive: true });
  for (const [f, b] of good) writeFileSync(path.join(artifact, f), b);
}

function assertConceptUnchanged(): void {
  const now = snapshot(artifact);
  assert.deepEqual([...now.keys()].sort(), [...good.keys()].sort(), 'the artifact folder changed');
  for (const [f, b] of good) assert.ok(now.get(f)!.equals(b), `${f} changed`);
}

function mkfifo(p: string): void {
  execFileSync('mkfifo', [p]);
}

const meta = (): Record<string, unknown> =>
  JSON.parse(good.get('concept.json')!.toString('utf8')) as Record<string, unknown>;

function writeMeta(m: Record<string, unknown>): void {
  writeFileSync(path.join(artifact, 'concept.json'), JSON.stringify(m));
}

const recognizeTest = (): ReturnType<typeof runCli> =>
  runCli(['recognize', bo, path.join(ws, 'bo', 'photos', 'test'), '--mode', 'trained'], {
    timeoutSeconds: QUICK.seconds,
  });

describe('hostile files', () => {
  before(async () => {
    if (!existsSync(cli)) spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'ignore' });
    ws = mkdtempSync(path.join(tmpdir(), 'yollava-hostile-'));
    writeTinyPersonalizationModel(path.join(ws, 'model'));
    bo = await writeSubjectWorkspace(ws, {
      name: 'bo',
      object: RED_MUG,
      train: 4,
      test: 2,
      negatives: 12,
      hard: 4,
      random: 4,
      model: '../model',
      extraYaml: 'training:\n  epochs: 1\n  tokens: 4\n',
    });
    const r = runCli(['train', bo], { timeoutSeconds: 300 });
    assert.equal(r.status, 0, r.stderr);
    artifact = path.join(ws, 'bo', '.yollava', 'bo');
    good = snapshot(artifact);
  });
  after(() => rmSync(ws, { recursive: true, force: true }));

  describe('special files wherever a path is read', () => {
    it('images.train: /dev/null is an error on that field, and the other fields are still checked', () => {
      const f = path.join(ws, 'bo', 'devnull.subject.yaml');
      writeFileSync(
        f,
        readFileSync(bo, 'utf8')
          .replace(/name: bo/, 'name: bodev')
          .replace('train: photos/train', 'train: /dev/null')
          .replace('test: photos/test', 'test: photos/nope'),
      );
      try {
        const r = runCli(['validate', f], { timeoutSeconds: QUICK.seconds });
        assertBounded(r, {
          ok: false,
          message: /images\.train: "\/dev\/null" is a character device, not a folder or a photo/,
          ...QUICK,
        });
        assert.match(r.stdout, /images\.test: folder "photos\/nope" not found/);
      } finally {
        rmSync(f);
      }
    });

    it('a FIFO and a link to /dev/zero among the photos are passed over, and validation ends', () => {
      const fifo = path.join(ws, 'bo', 'photos', 'train', 'pipe.png');
      const zero = path.join(ws, 'bo', 'photos', 'train', 'zero.png');
      mkfifo(fifo);
      symlinkSync('/dev/zero', zero);
      try {
        assertBounded(runCli(['validate', bo], { timeoutSeconds: QUICK.seconds }), { ok: true, ...QUICK });
      } finally {
        rmSync(fifo);
        rmSync(zero);
      }
    });

    it('a subject file that is a FIFO is refused by name, not waited on', () => {
      const f = path.join(ws, 'pipe.subject.yaml');
      mkfifo(f);
      try {
        for (const cmd of ['validate', 'train']) {
          assertBounded(runCli([cmd, f], { timeoutSeconds: QUICK.seconds }), {
            ok: false,
            message: /pipe\.subject\.yaml: a subject file must be a regular file, and this is a FIFO/,
            ...QUICK,
          });
        }
      } finally {
        rmSync(f);
      }
    });

    it('a neighbouring *.subject.yaml that is a FIFO or /dev/zero does not stop the sibling scan', () => {
      const fifo = path.join(ws, 'negatives', 'other.subject.yaml');
      const zero = path.join(ws, 'zero.subject.yaml');
      mkfifo(fifo);
      symlinkSync('/dev/zero', zero);
      try {
        assertBounded(runCli(['validate', bo], { timeoutSeconds: QUICK.seconds }), { ok: true, ...QUICK });
      } finally {
        rmSync(fifo);
        rmSync(zero);
      }
    });

    it('chat --image /dev/zero and a FIFO photo: refused at once, the memory stays flat', () => {
      const fifo = path.join(ws, 'pipe.png');
      mkfifo(fifo);
      try {
        for (const image of ['/dev/zero', fifo]) {
          const r = runCli(['chat', bo, '--ask', 'what is <bo> ?', '--image', image], {
            timeoutSeconds: QUICK.seconds,
          });
          assertBounded(r, {
            ok: false,
            message: /(an image|a photo) must be a regular file, and this is a (character device|FIFO)/,
            ...QUICK,
          });
        }
      } finally {
        rmSync(fifo);
      }
    });

    it('model weights that are a FIFO: refused by name, not waited on', () => {
      const model = path.join(ws, 'model-fifo-weights');
      cpSync(path.join(ws, 'model'), model, { recursive: true });
      rmSync(path.join(model, 'model.safetensors'));
      mkfifo(path.join(model, 'model.safetensors'));
      const f = path.join(ws, 'bo', 'fifoweights.subject.yaml');
      writeFileSync(
        f,
        readFileSync(bo, 'utf8')
          .replace(/name: bo/, 'name: bofifo')
          .replace('../model', '../model-fifo-weights'),
      );
      try {
        assertBounded(
          runCli(['recognize', f, path.join(ws, 'bo', 'photos', 'test'), '--mode', 'reference'], {
            timeoutSeconds: QUICK.seconds,
          }),
          {
            ok: false,
            message: /model\.safetensors: a safetensors file must be a regular file, and this is a FIFO/,
            ...QUICK,
          },
        );
      } finally {
        rmSync(f);
        rmSync(model, { recursive: true });
      }
    });

    it('a model folder whose tokenizer.json is a FIFO and whose config.json is /dev/zero', () => {
      const model = path.join(ws, 'model-special');
      cpSync(path.join(ws, 'model'), model, { recursive: true });
      rmSync(path.join(model, 'tokenizer.json'));
      mkfifo(path.join(model, 'tokenizer.json'));
      assertBounded(runCli(['tokenize', model, 'hello'], { timeoutSeconds: QUICK.seconds }), {
        ok: false,
        message: /tokenizer\.json: tokenizer\.json must be a regular file, and this is a FIFO/,
        ...QUICK,
      });
      rmSync(path.join(model, 'config.json'));
      symlinkSync('/dev/zero', path.join(model, 'config.json'));
      assertBounded(runCli(['inspect', model], { timeoutSeconds: QUICK.seconds }), {
        ok: false,
        message: /config\.json: config\.json must be a regular file, and this is a character device/,
        ...QUICK,
      });
      rmSync(model, { recursive: true });
    });

    it('concept weights swapped for a FIFO: "cannot be used", with the reason and "retrain"', () => {
      const w = meta()['weightsFile'] as string;
      rmSync(path.join(artifact, w));
      mkfifo(path.join(artifact, w));
      try {
        assertBounded(recognizeTest(), {
          ok: false,
          message:
            /concept-[0-9a-f]{16}\.safetensors: this concept cannot be used: a concept's weights must be a regular file, and this is a FIFO \(named pipe\); retrain the subject/,
          ...QUICK,
        });
      } finally {
        restoreArtifact();
      }
    });
  });

  describe('hostile model folders', () => {
    /** A copy of the tiny model with `file`'s JSON edited. */
    function badModel(file: string, edit: (j: Record<string, unknown>) => void): string {
      const dir = mkdtempSync(path.join(ws, 'model-bad-'));
      cpSync(path.join(ws, 'model'), dir, { recursive: true });
      const p = path.join(dir, file);
      const j = existsSync(p) ? (JSON.parse(readFileSync(p, 'utf8')) as Record<string, unknown>) : {};
      edit(j);
      writeFileSync(p, JSON.stringify(j));
      return dir;
    }
    const textConfig = (j: Record<string, unknown>): Record<string, unknown> =>
      j['text_config'] as Record<string, unknown>;

    for (const [field, edit, message] of [
      [
        'rope_theta: 0',
        (j) => (textConfig(j)['rope_theta'] = 0),
        /config\.json: text_config\.rope_theta: 0 is out of range/,
      ],
      [
        'rms_norm_eps: -1',
        (j) => (textConfig(j)['rms_norm_eps'] = -1),
        /config\.json: text_config\.rms_norm_eps: -1 is out of range/,
      ],
      [
        'max_position_embeddings: 1e12',
        (j) => (textConfig(j)['max_position_embeddings'] = 1e12),
        /config\.json: text_config\.max_position_embeddings: 1000000000000 is not a size/,
      ],
      [
        'image_token_index: 1e9',
        (j) => (j['image_token_index'] = 1e9),
        /config\.json: image_token_index: 1000000000 is not an id of the 512-token vocabulary/,
      ],
    ] as [string, (j: Record<string, unknown>) => void, RegExp][]) {
      it(`config.json with ${field}: refused with the file and the field`, () => {
        const dir = badModel('config.json', edit);
        assertBounded(runCli(['inspect', dir], { timeoutSeconds: QUICK.seconds }), {
          ok: false,
          message,
          ...QUICK,
        });
      });
    }

    it('a chat template that loops 1e8 times, or builds a list of 1e8, is stopped by its budget', () => {
      for (const [template, message] of [
        [
          '{% for i in range(10000) %}{% for j in range(10000) %}x{% endfor %}{% endfor %}',
          /rendering took more than 200000 steps/,
        ],
        [
          '{% for i in range(100000000) %}x{% endfor %}',
          /range\(\) of 100000000 items is more than the 100000/,
        ],
        [
          "{% set ns = namespace(s='xxxxxxxx') %}{% for i in range(40) %}{% set ns.s = ns.s + ns.s %}{% endfor %}{{ ns.s }}",
          /rendering made more than 32000000 characters/,
        ],
      ] as const) {
        const dir = badModel('tokenizer_config.json', (j) => (j['chat_template'] = template));
        const r = runCli(['render-chat', dir], {
          timeoutSeconds: QUICK.seconds,
          input: JSON.stringify([{ role: 'user', content: [{ type: 'text', text: 'hi' }] }]),
        });
        assertBounded(r, { ok: false, message, ...QUICK });
        assert.match(r.stdout + r.stderr, /tokenizer_config\.json: chat_template: /);
      }
    });

    it('a tokenizer whose split pattern backtracks exponentially is refused when it loads', () => {
      const dir = badModel('tokenizer.json', (j) => {
        j['pre_tokenizer'] = {
          type: 'Split',
          pattern: { Regex: '(a+)+$' },
          behavior: 'Isolated',
          invert: false,
        };
      });
      assertBounded(runCli(['tokenize', dir, `${'a'.repeat(40)}!`], { timeoutSeconds: QUICK.seconds }), {
        ok: false,
        message: /tokenizer\.json: pre_tokenizer: the pattern "\(a\+\)\+\$" could take exponential time/,
        ...QUICK,
      });
    });

    it('a 40 MB tokenizer.json is refused by its size', () => {
      const dir = badModel('tokenizer.json', (j) => {
        j['padding_note'] = 'x'.repeat(40 << 20);
      });
      assertBounded(runCli(['tokenize', dir, 'hello'], { timeoutSeconds: QUICK.seconds }), {
        ok: false,
        message: /tokenizer\.json: tokenizer\.json is 40 MB, over the 32 MB limit for it/,
        ...QUICK,
      });
    });

    for (const [field, edit, message] of [
      [
        'image_std: [0,0,0]',
        (j) => (j['image_std'] = [0, 0, 0]),
        /preprocessor_config\.json: image_std: \[0,0,0\] must be three numbers from 0\.001 to 10/,
      ],
      [
        'size: 60000',
        (j) => (j['size'] = { shortest_edge: 60000 }),
        /preprocessor_config\.json: size: 60000 must be a whole number of pixels/,
      ],
    ] as [string, (j: Record<string, unknown>) => void, RegExp][]) {
      it(`preprocessor_config.json with ${field}: refused before any photo is read`, () => {
        const dir = badModel('preprocessor_config.json', edit);
        const f = path.join(ws, 'bo', 'badmodel.subject.yaml');
        writeFileSync(
          f,
          readFileSync(bo, 'utf8')
            .replace(/name: bo/, 'name: bobad')
            .replace('../model', path.relative(path.join(ws, 'bo'), dir)),
        );
        try {
          const r = runCli(['recognize', f, path.join(ws, 'bo', 'photos', 'test'), '--mode', 'reference'], {
            timeoutSeconds: QUICK.seconds,
          });
          assertBounded(r, { ok: false, message, ...QUICK });
        } finally {
          rmSync(f);
        }
      });
    }
  });

  describe('paths out of bounds', () => {
    it('validate warns of a photo folder outside the workspace, as the editor does', () => {
      const outside = mkdtempSync(path.join(tmpdir(), 'yollava-hostile-away-'));
      cpSync(path.join(ws, 'bo', 'photos', 'train'), outside, { recursive: true });
      const f = path.join(ws, 'bo', 'away.subject.yaml');
      writeFileSync(
        f,
        readFileSync(bo, 'utf8')
          .replace(/name: bo/, 'name: boaway')
          .replace('train: photos/train', `train: ${outside}`),
      );
      try {
        const r = runCli(['validate', f], { timeoutSeconds: QUICK.seconds });
        assertBounded(r, {
          ok: true,
          message: /warning: images\.train: ".*" is outside the workspace/,
          ...QUICK,
        });
      } finally {
        rmSync(f);
        rmSync(outside, { recursive: true });
      }
    });

    it('concept.json naming ../../outside/x.safetensors is refused without reading it', () => {
      const outside = path.join(ws, 'outside');
      mkdirSync(outside, { recursive: true });
      writeFileSync(path.join(outside, 'x.safetensors'), good.get(meta()['weightsFile'] as string)!);
      writeMeta({ ...meta(), weightsFile: '../../outside/x.safetensors' });
      try {
        assertBounded(recognizeTest(), {
          ok: false,
          message:
            /concept\.json: this concept cannot be used: "weightsFile" must be a file name .* in its own folder/,
          ...QUICK,
        });
      } finally {
        restoreArtifact();
      }
    });
  });

  describe('tampered concept artifacts', () => {
    const cases: [string, (m: Record<string, unknown>) => Record<string, unknown> | string, RegExp][] = [
      ['k: 1e9', (m) => ({ ...m, k: 1e9 }), /"k" must be a whole number from 0 to 64 \(it is 1000000000\)/],
      ['k: -1', (m) => ({ ...m, k: -1 }), /"k" must be a whole number from 0 to 64/],
      ['another name', (m) => ({ ...m, name: 'mam' }), /it was trained for "mam", and this subject is "bo"/],
      ['no weightsSha256', (m) => ({ ...m, weightsSha256: undefined }), /"weightsSha256" is missing/],
      ['createdAt garbage', (m) => ({ ...m, createdAt: 'yesterday-ish' }), /"createdAt" is not a date/],
      ['threshold NaN', (m) => ({ ...m, threshold: 'NaN' }), /"threshold" must be a finite number/],
      ['not JSON', () => '{"format": "yollava-concept/1", ', /not valid JSON/],
    ];
    for (const [what, edit, message] of cases) {
      it(`concept.json with ${what}: "cannot be used" with the reason`, () => {
        const m = edit(meta());
        writeFileSync(path.join(artifact, 'concept.json'), typeof m === 'string' ? m : JSON.stringify(m));
        try {
          assertBounded(recognizeTest(), { ok: false, message, ...QUICK });
        } finally {
          restoreArtifact();
        }
      });
    }

    it('a 192 MB concept.json is refused by its size, not parsed', () => {
      const big = Buffer.alloc(192 << 20, 0x20);
      big.write('{"format":"yollava-concept/1","usedImages":[');
      writeFileSync(path.join(artifact, 'concept.json'), big);
      try {
        assertBounded(recognizeTest(), {
          ok: false,
          message: /concept\.json is 192 MB, over the 1\.0 MB limit for it/,
          ...QUICK,
        });
      } finally {
        restoreArtifact();
      }
    });

    for (const [what, value] of [
      ['NaN', NaN],
      ['3e38', 3e38],
    ] as const) {
      it(`weights holding ${what} (signed to match concept.json) are refused`, () => {
        const m = meta();
        const k = m['k'] as number;
        const old = good.get(m['weightsFile'] as string)!;
        // The tiny model's width, read from the good weights' own header.
        const header = JSON.parse(old.subarray(8, 8 + Number(old.readBigUInt64LE(0))).toString()) as {
          embeddings: { shape: number[] };
        };
        const D = header.embeddings.shape[1]!;
        const rows = new Float32Array((k + 1) * D).fill(0.01);
        rows[3] = value;
        const bytes = encodeSafetensors({
          embeddings: { dtype: 'F32', shape: [k + 1, D], data: rows },
          head: { dtype: 'F32', shape: [k + 1, D], data: new Float32Array((k + 1) * D) },
        });
        const sha = createHash('sha256').update(bytes).digest('hex');
        const file = `concept-${sha.slice(0, 16)}.safetensors`;
        writeFileSync(path.join(artifact, file), bytes);
        writeMeta({ ...m, weightsFile: file, weightsSha256: sha });
        try {
          assertBounded(recognizeTest(), {
            ok: false,
            message: /tensor "embeddings" holds .* \(not finite, or beyond ±10000\); retrain the subject/,
            ...QUICK,
          });
        } finally {
          restoreArtifact();
        }
      });
    }

    it('after every tampered case, the restored concept answers again', () => {
      assertBounded(recognizeTest(), { ok: true, ...QUICK });
      assertConceptUnchanged();
    });
  });

  describe('names that collide with the tokenizer', () => {
    for (const [name, message] of [
      ['unk', /name: "<unk>" is already a token of the model's tokenizer/],
      ['token0', /name: "token0" is the name of one of the concept's own latent tokens/],
      ['the', /name: "the" is already a word in the model's vocabulary/],
    ] as const) {
      it(`name: ${name} is refused by validate and by train, and the good concept stays`, () => {
        const f = path.join(ws, 'bo', `${name}.subject.yaml`);
        writeFileSync(f, readFileSync(bo, 'utf8').replace(/name: bo/, `name: ${name}`));
        try {
          for (const cmd of ['validate', 'train'])
            assertBounded(runCli([cmd, f], { timeoutSeconds: QUICK.seconds }), {
              ok: false,
              message,
              ...QUICK,
            });
          assert.ok(!existsSync(path.join(ws, 'bo', '.yollava', name, 'concept.json')));
        } finally {
          rmSync(f);
        }
      });
    }

    it("a second subject of the same name cannot replace the first's concept", () => {
      const twin = path.join(ws, 'twin');
      mkdirSync(twin, { recursive: true });
      const f = path.join(twin, 'twin.subject.yaml');
      writeFileSync(f, readFileSync(bo, 'utf8').replace('../model', '../model'));
      cpSync(path.join(ws, 'bo', 'photos'), path.join(twin, 'photos'), { recursive: true });
      try {
        assertBounded(runCli(['train', f, '--fresh'], { timeoutSeconds: QUICK.seconds }), {
          ok: false,
          message: /name: "bo" is also the name in .*bo\.subject\.yaml; names must be unique/,
          ...QUICK,
        });
        assertConceptUnchanged();
      } finally {
        rmSync(twin, { recursive: true });
      }
    });
  });

  describe('prompts without limits', () => {
    it('an 8,000-word question gets a clear message, not a crash', () => {
      const question = `what is <bo> ${'red '.repeat(8000)}?`;
      assertBounded(runCli(['chat', bo, '--ask', question], { timeoutSeconds: QUICK.seconds }), {
        ok: false,
        message: /the question is \d+ characters; ask at most 16000/,
        ...QUICK,
      });
    });

    it('a question under the character cap but over the positions: the token count and the limit', () => {
      // The tiny model has 2,048 positions; 3,000 words of its vocabulary are 3,000 tokens.
      const question = `what is <bo> ${'red '.repeat(3000)}?`;
      assertBounded(runCli(['chat', bo, '--ask', question], { timeoutSeconds: QUICK.seconds }), {
        ok: false,
        message:
          /the question \(with the subject and the photo\) is \d+ tokens, and the model takes at most \d+ \(max_position_embeddings/,
        ...QUICK,
      });
    });
  });

  describe('stale locks', () => {
    const lock = (): string => path.join(ws, 'bo', '.yollava', 'bo.train.lock');
    it('a lock naming a live but unrelated PID (its start time differs) is taken over', () => {
      // PID 1 runs, but it is not the trainer that wrote this lock: its start time says so.
      writeFileSync(
        lock(),
        JSON.stringify({
          pid: 1,
          host: hostname(),
          pidStart: 'not-its-start',
          startedAt: '2020-01-01T00:00:00Z',
        }),
      );
      const r = runCli(['train', bo, '--fresh'], { timeoutSeconds: 300 });
      assert.equal(r.status, 0, r.stderr);
      assert.ok(!existsSync(lock()), 'the lock was released after training');
      good = snapshot(artifact);
    });

    it("another host's old lock: the message says how to break it, and unlock --force does", () => {
      writeFileSync(
        lock(),
        JSON.stringify({
          pid: 4242,
          host: 'elsewhere.example',
          pidStart: '77',
          startedAt: '2019-03-01T00:00:00Z',
        }),
      );
      assertBounded(runCli(['train', bo], { timeoutSeconds: QUICK.seconds }), {
        ok: false,
        message:
          /already being trained by process 4242 on elsewhere\.example .*that lock is old and probably left over: .*yollava unlock/,
        ...QUICK,
      });
      assertConceptUnchanged();
      const refused = runCli(['unlock', bo], { timeoutSeconds: QUICK.seconds });
      assertBounded(refused, {
        ok: false,
        message: /held by process 4242 on elsewhere\.example .*--force/,
        ...QUICK,
      });
      assert.ok(existsSync(lock()));
      assertBounded(runCli(['unlock', bo, '--force'], { timeoutSeconds: QUICK.seconds }), {
        ok: true,
        message: /removed \(left by process 4242 on elsewhere\.example/,
        ...QUICK,
      });
      assert.ok(!existsSync(lock()));
    });
  });
});
