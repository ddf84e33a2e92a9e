// The editor experience end to end in a real VS Code (code-server + chromium), on the samples and the
// embedded default model: saving trains with percent and loss shown and the CodeLens updated in place;
// three quick saves train once; chat streams an answer about <bo>; the recognition preview ranks photos
// with a threshold and legend, and the Explorer marks them; HTML in model output and file names stays
// text; Enter after a mapping key indents. Screenshots go to test-results/e2e/.
import assert from 'node:assert/strict';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { FrameLocator, Page } from 'playwright-core';
import { setupTools, startWorkbench, waitUntil, type Workbench } from '../helpers/code-server';

const root = path.join(__dirname, '..', '..');
const shots = path.join(root, 'test-results', 'e2e');
const XSS_NAME = '<img src=x onerror=window.__xss=1>.png';

/**
 * Runs a command from the palette. A palette that a closing widget took down again, or whose input got
 * other text, is opened and filled again until it lists the command first.
 */
async function command(page: Page, title: string): Promise<void> {
  const input = page.locator('.quick-input-widget input');
  await page.keyboard.press('F1');
  await waitUntil(`"${title}" in the palette`, async () => {
    if (!(await input.isVisible())) {
      await page.keyboard.press('F1');
      return false;
    }
    if ((await input.inputValue()) !== `>${title}`) {
      await input.fill(`>${title}`);
      return false;
    }
    return (await page.locator('.quick-input-list .monaco-list-row').first().innerText()).includes(
      title.split(': ').pop()!,
    );
  });
  await page.keyboard.press('Enter');
}

/** The webview whose document has `selector` (each panel is an iframe in an iframe). */
async function webview(page: Page, selector: string): Promise<FrameLocator> {
  return waitUntil(
    `a webview with ${selector}`,
    async () => {
      const n = await page.locator('iframe.webview.ready').count();
      for (let i = 0; i < n; i++) {
        const f = page.frameLocator('iframe.webview.ready').nth(i).frameLocator('#active-frame');
        if (await f.locator(selector).count()) return f;
      }
      return null;
    },
    60_000,
  );
}

/**
 * Closes whatever is open (widgets, editors, panels) and shows a subject file (the sample's, unless named)
 * in one editor, waiting until its text holds `shows`.
 */
async function openSubject(page: Page, file = 'bo.subject.yaml', shows = 'category'): Promise<void> {
  await page.keyboard.press('Escape');
  await page.keyboard.press('Escape');
  await command(page, 'View: Close All Editor Groups');
  await page.keyboard.press('Control+P');
  await page.waitForSelector('.quick-input-widget input');
  await page.keyboard.type(file);
  await waitUntil('the file in quick open', async () =>
    (await page.locator('.quick-input-list .monaco-list-row').first().innerText()).includes(file),
  );
  await page.keyboard.press('Enter');
  await waitUntil('the subject in the editor', async () =>
    (await page.locator('.monaco-editor .view-lines').first().innerText()).includes(shows),
  );
}

/** The text of an Output channel, from the log file VS Code writes for it. */
function outputChannel(userData: string, channel: string): string {
  const logs = path.join(userData, 'logs');
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name === `${channel}.log`) out.push(readFileSync(p, 'utf8'));
    }
  };
  walk(logs);
  return out.join('\n');
}

async function bodyText(page: Page): Promise<string> {
  return page.locator('body').innerText();
}

describe('VS Code editor experience', { timeout: 20 * 60_000 }, () => {
  let wb: Workbench;
  let page: Page;
  before(async () => {
    mkdirSync(shots, { recursive: true });
    const { tools, vsix } = setupTools();
    wb = await startWorkbench(tools, vsix, path.join(root, 'samples'));
    page = wb.page;
    // The samples, trained lighter so that the test takes seconds, not a minute; a comment line to edit.
    const file = path.join(wb.workspace, 'bo', 'bo.subject.yaml');
    writeFileSync(
      file,
      `${readFileSync(file, 'utf8').replace('hard: 50', 'hard: 12').replace('random: 50', 'random: 12').trimEnd()}\ntraining:\n  epochs: 3\n# e2e`,
    );
    // A concept trained on this machine is not part of the samples.
    rmSync(path.join(wb.workspace, 'bo', '.yollava'), { recursive: true, force: true });
    // A subject without test photos, for the preview's offer. Written now: quick open finds a new file
    // only once its index has caught up, which took about 30 s.
    writeFileSync(
      path.join(wb.workspace, 'bo', 'nemo.subject.yaml'),
      'name: nemo\ncategory: pet\nimages:\n  train: photos/train\n',
    );
    // A negative whose file name is HTML: it must show as text in the preview.
    const negatives = path.join(wb.workspace, 'bo', 'negatives');
    copyFileSync(
      path.join(
        negatives,
        readdirSync(negatives).find((f) => f.endsWith('.png'))!,
      ),
      path.join(negatives, XSS_NAME),
    );
  });
  after(async () => {
    await wb?.close();
  });

  it('saving trains once per burst of saves, with percent and loss, and the CodeLens updates in place', async () => {
    await openSubject(page);
    await waitUntil(
      'the CodeLens',
      async () =>
        (await page.locator('.codelens-decoration').allInnerTexts()).join(' ').includes('not trained yet'),
      90_000,
    );
    await page.locator('.monaco-editor .view-lines').click();
    await page.keyboard.press('Control+End');
    for (const key of ['x', 'y', 'Backspace']) {
      await page.keyboard.press(key);
      await page.keyboard.press('Control+S');
    }
    const seen = await waitUntil(
      'progress with percent and loss',
      async () => /training \d+% · loss \d+\.\d+/.exec(await bodyText(page))?.[0],
      120_000,
    );
    await page.screenshot({ path: path.join(shots, '4-training-progress.png') });
    assert.match(seen, /training \d+% · loss/);
    await waitUntil(
      'the CodeLens to show the result',
      async () =>
        /recognition \d\.\d\d \(training photos\) · trained just now/.test(
          (await page.locator('.codelens-decoration').allInnerTexts()).join(' '),
        ),
      300_000,
    );
    await page.screenshot({ path: path.join(shots, '5-trained-codelens.png') });
    // The Output channel logs each job that started: one training for three saves. VS Code keeps the
    // channel in a log file as well, which is read here rather than the virtualized Output view.
    const log = await waitUntil('the yollava log', () => {
      const text = outputChannel(wb.userData, 'yollava');
      return text.includes('trained <bo>') ? text : null;
    });
    assert.equal(log.split('training <bo> started').length - 1, 1, log);
  });

  it('the training dashboard shows the run: loss per step and recognition per epoch', async () => {
    await openSubject(page);
    await command(page, 'yollava: Show Training Dashboard');
    const f = await webview(page, '#dashboard');
    await waitUntil('the charts', async () => (await f.locator('#loss-chart polyline').count()) > 0, 30_000);
    assert.equal(await f.locator('#epochs > div').count(), 3);
    assert.match(await f.locator('#run-state').innerText(), /^done · loss \d/);
    // The loss chart spans the whole run from its first step, with the min–max band under the mean,
    // and its y-axis is the data's own range.
    assert.equal(await f.locator('#loss-chart polygon.band').count(), 1);
    assert.ok(Number(await f.locator('#loss-chart .x-min').textContent()) <= 2);
    const [yMin, yMax] = await Promise.all(
      ['.y-min', '.y-max'].map(async (c) => Number(await f.locator(`#loss-chart ${c}`).textContent())),
    );
    assert.ok(yMin >= 0 && yMax > yMin, `y-axis ${yMin}..${yMax}`);
    await page.screenshot({ path: path.join(shots, '6-dashboard.png') });
  });

  it('an auto-save that does not train says so in the CodeLens, and Ctrl+S trains even when it lands with an auto-save', async () => {
    await openSubject(page);
    const file = path.join(wb.workspace, 'bo', 'bo.subject.yaml');
    const lens = async (): Promise<string> =>
      (await page.locator('.codelens-decoration').allInnerTexts()).join(' ');
    // Web VS Code auto-saves a second after the last keystroke (files.autoSave: afterDelay).
    await page.locator('.monaco-editor .view-lines').click();
    await page.keyboard.press('Control+End');
    const original = readFileSync(file, 'utf8');
    await page.keyboard.type('a');
    await waitUntil('the auto-save', () => readFileSync(file, 'utf8') === `${original}a`, 30_000);
    await waitUntil(
      'the note in the CodeLens',
      async () => (await lens()).includes('saved: not training'),
      30_000,
    );
    await page.screenshot({ path: path.join(shots, '5b-auto-saved-codelens.png') });
    const count = (what: string): number => outputChannel(wb.userData, 'yollava').split(what).length - 1;
    const started = count('training <bo> started');
    // The file is saved already: only the extension's Ctrl+S can say that the user saved it.
    await page.keyboard.press('Backspace');
    await waitUntil('the second auto-save', () => readFileSync(file, 'utf8') === original, 30_000);
    await page.keyboard.press('Control+S');
    await waitUntil('the hand save to train', () => count('training <bo> started') > started, 60_000);
    await waitUntil('the CodeLens without the note', async () => {
      const t = await lens();
      return /training/.test(t) && !t.includes('saved: not training');
    });
    // The user's own Cancel: logged as information, not as an error, and the trained concept stays.
    await command(page, 'yollava: Cancel Training');
    const cancelled = await waitUntil('the training to be cancelled', () =>
      outputChannel(wb.userData, 'yollava')
        .split('\n')
        .find((l) => l.includes('training <bo> cancelled')),
    );
    assert.match(cancelled, /\[info\].*previous concept \(if any\) is kept/);
    await waitUntil('the CodeLens with the kept concept', async () =>
      /recognition \d\.\d\d \(training photos\)/.test(await lens()),
    );
  });

  it('chat answers about <bo> as the answer streams, and HTML stays text', async () => {
    await openSubject(page);
    await command(page, 'yollava: Open Chat');
    const f = await webview(page, '#question');
    await f.locator('#question').fill('What color is <bo>?');
    await f.locator('#send').click();
    const answer = await waitUntil(
      'an answer',
      async () => {
        const done = await f.locator('#stop').isDisabled();
        const t = await f.locator('.msg.answer').last().innerText();
        return done && t.trim() ? t : null;
      },
      120_000,
    );
    await page.screenshot({ path: path.join(shots, '7-chat.png') });
    assert.match(answer.toLowerCase(), /blue/, `the answer names bo's colour (blue): "${answer}"`);
    // The question that loaded the model says where it runs (executionProvider: auto; no GPU here).
    assert.match(await f.locator('.msg.answer .note').last().innerText(), /model loaded on cpu/);
    assert.match((await f.locator('#question').getAttribute('placeholder')) ?? '', /<bo>\?$/);
    const hostile = '<script>window.__xss=2</script><img src=x onerror="window.__xss=3">';
    await f.locator('#question').fill(hostile);
    await f.locator('#send').click();
    await waitUntil(
      'the second answer',
      async () => (await f.locator('.msg.answer').count()) === 2 && (await f.locator('#stop').isDisabled()),
      120_000,
    );
    assert.equal(await f.locator('.msg.you').last().innerText(), hostile);
    assert.equal(await f.locator('#log img, #log script').count(), 0);
    assert.equal(
      await f.locator('body').evaluate(() => (globalThis as unknown as { __xss?: number }).__xss),
      undefined,
    );

    // A photo dropped on the panel (as the Explorer drops a file) becomes the image to ask about.
    const testDir = path.join(wb.workspace, 'bo', 'photos', 'test');
    const photo = path.join(testDir, readdirSync(testDir).sort()[0]!);
    await f.locator('#drop').evaluate((el, uri) => {
      const g = globalThis as unknown as {
        DataTransfer: new () => { setData(type: string, value: string): void };
        DragEvent: new (type: string, init: object) => unknown;
      };
      const dt = new g.DataTransfer();
      dt.setData('text/uri-list', uri);
      (el as unknown as { dispatchEvent(e: unknown): void }).dispatchEvent(
        new g.DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }),
      );
    }, pathToFileURL(photo).toString());
    await waitUntil(
      'the dropped photo in the panel',
      async () => (await f.locator('#drop img').count()) === 1,
      30_000,
    );
    assert.match(await f.locator('#drop').innerText(), new RegExp(`asking about ${path.basename(photo)}`));
    await f.locator('#question').fill('Is <bo> in this photo?');
    await f.locator('#send').click();
    await waitUntil(
      'the answer about the photo',
      async () => (await f.locator('.msg.answer').count()) === 3 && (await f.locator('#stop').isDisabled()),
      120_000,
    );
    assert.ok((await f.locator('.msg.answer').last().innerText()).trim().length > 0);
    await page.screenshot({ path: path.join(shots, '7b-chat-dropped-photo.png') });
  });

  it('the recognition preview ranks photos by score with the threshold, and the Explorer marks them', async () => {
    await openSubject(page);
    await command(page, 'yollava: Show Recognition Preview');
    const f = await webview(page, '#folder');
    await f.locator('#folder').fill('photos/test, negatives');
    await f.locator('#run').click();
    await waitUntil('the scored grid', async () => (await f.locator('.tile').count()) > 200, 180_000);
    await page.screenshot({ path: path.join(shots, '8-recognition.png') });
    assert.equal(await f.locator('.threshold').count(), 1);
    assert.equal(await f.locator('.legend span').count(), 3);
    const scores = await f.locator('.tile').evaluateAll((tiles) =>
      tiles.map((t) => ({
        score: Number((t.querySelector('.score')?.textContent ?? '').replace(/^[✓✗] /, '')),
        label: (t.querySelector('.label')?.textContent ?? '').split(' ')[0],
        name: t.getAttribute('title') ?? '',
      })),
    );
    for (let i = 1; i < scores.length; i++)
      assert.ok(scores[i - 1]!.score >= scores[i]!.score, 'sorted by score');
    const mean = (l: string): number => {
      const s = scores.filter((x) => x.label === l).map((x) => x.score);
      return s.reduce((a, b) => a + b, 0) / s.length;
    };
    assert.equal(scores.filter((x) => x.label === 'positive').length, 10);
    assert.ok(
      mean('positive') > mean('negative'),
      `positives score higher on average: ${mean('positive')} vs ${mean('negative')}`,
    );
    // The HTML file name is shown as text.
    assert.ok(scores.some((x) => x.name.endsWith(XSS_NAME)));
    assert.equal(await f.locator('.grid img[src="x"]').count(), 0);
    assert.equal(
      await f.locator('body').evaluate(() => (globalThis as unknown as { __xss?: number }).__xss),
      undefined,
    );

    // Explorer decorations: open a test photo (the Explorer reveals it) and read its badge.
    const photo = readdirSync(path.join(wb.workspace, 'bo', 'photos', 'test')).sort()[0]!;
    await page.keyboard.press('Escape');
    await page.keyboard.press('Control+P');
    await page.waitForSelector('.quick-input-widget input');
    await page.keyboard.type(photo);
    await waitUntil('the photo in quick open', async () =>
      (await page.locator('.quick-input-list .monaco-list-row').first().innerText()).includes(photo),
    );
    await page.keyboard.press('Enter');
    const badge = await waitUntil(
      'a decorated photo in the Explorer',
      async () => {
        const label = page
          .locator('.explorer-folders-view .monaco-list-row', { hasText: photo })
          .locator('.monaco-icon-label');
        if (!(await label.count())) return null;
        const after = await label
          .first()
          .evaluate(
            (e) =>
              (
                globalThis as unknown as { getComputedStyle(e: unknown, p: string): { content: string } }
              ).getComputedStyle(e, '::after').content,
          );
        return /[✓✗]/.test(after) ? after : null;
      },
      30_000,
    );
    await page.screenshot({ path: path.join(shots, '9-explorer-decorations.png') });
    assert.match(badge, /[✓✗]/);
  });

  it('the preview of a subject without test photos offers its training photos instead of an error', async () => {
    const file = path.join(wb.workspace, 'bo', 'nemo.subject.yaml');
    try {
      await openSubject(page, 'nemo.subject.yaml', 'nemo');
      await command(page, 'yollava: Show Recognition Preview');
      const f = await webview(page, '#no-test-photos');
      assert.match(await f.locator('#no-test-photos').innerText(), /no test photos/);
      assert.equal(await f.locator('.msg.error').count(), 0);
      await page.screenshot({ path: path.join(shots, '9b-preview-no-test-photos.png') });
      await f.locator('#score-training').click();
      const n = readdirSync(path.join(wb.workspace, 'bo', 'photos', 'train')).length;
      await waitUntil(
        'the training photos scored',
        async () => (await f.locator('.tile').count()) === n,
        180_000,
      );
      assert.match(await f.locator('#summary').innerText(), /in the training photos/);
    } finally {
      rmSync(file, { force: true });
    }
  });

  it('New Subject from Folder offers the negative pools the workspace uses, and writes them into the file', async () => {
    await page.keyboard.press('Escape');
    await command(page, 'yollava: New Subject from Folder');
    // Web VS Code's own folder dialog: a quick input that takes a path.
    const input = page.locator('.quick-input-widget input');
    await input.waitFor();
    const photos = path.join(wb.workspace, 'bo', 'photos', 'train');
    const widget = page.locator('.quick-input-widget');
    // The dialog's own path first; then the folder, which Enter accepts when it ends in a separator.
    // It opens on a folder of its own choosing (the workspace, or the last one used), set once it is up.
    await waitUntil('the folder dialog', async () => /^\/.*\/$/.test(await input.inputValue()));
    // The dialog goes into the folder it was given (it lists no files, and train has no subfolder:
    // only "..") before Enter accepts it. A value it was still setting can land over the typed one: then
    // the path is typed again.
    const target = `${photos}/`;
    await waitUntil('the dialog in the photos folder', async () => {
      if ((await input.inputValue()) !== target) {
        await input.fill(target);
        return false;
      }
      const list = (await page.locator('.quick-input-list').innerText()).trim();
      return list === '..' && !(await widget.innerText()).includes('does not exist');
    });
    await page.keyboard.press('Enter');
    await waitUntil(
      'the name prompt',
      async () => /Name of the subject/.test(await widget.innerText()),
      30_000,
    ).catch(async (e: Error) => {
      await page.screenshot({ path: path.join(shots, '10-new-subject-failed.png') });
      throw new Error(`${e.message}; the quick input shows: ${await widget.innerText()}`);
    });
    // The dialog closes and the name box opens in its place: wait until the box is up before typing.
    await input.waitFor({ state: 'visible' });
    await input.fill('mixy');
    await page.keyboard.press('Enter');
    await waitUntil(
      'the pools to pick',
      async () => /Negative photos for <mixy>/.test(await widget.innerText()),
      30_000,
    );
    await page.screenshot({ path: path.join(shots, '10-new-subject-pools.png') });
    assert.match(await page.locator('.quick-input-list').innerText(), /negatives[\s\S]*used by bo/);
    await page.keyboard.press('Enter');
    const file = path.join(wb.workspace, 'bo', 'photos', 'mixy.subject.yaml');
    try {
      const text = await waitUntil(
        'the new subject file',
        () => (existsSync(file) ? readFileSync(file, 'utf8') : null),
        30_000,
      );
      assert.match(text, /negatives:\n {2}pools: \["\.\.\/negatives"\]/);
    } finally {
      rmSync(file, { force: true });
    }
  });

  it('Enter after a mapping key indents the next line', async () => {
    await openSubject(page);
    const editor = page.locator('.monaco-editor', { hasText: 'negatives:' }).first();
    await editor.locator('.view-lines').click();
    // Keys sent before the editor holds the focus can land elsewhere (a CodeLens, the Explorer).
    await waitUntil('the subject editor focused', () =>
      editor.evaluate((e) => e.classList.contains('focused')),
    );
    await page.keyboard.press('Control+End');
    await page.keyboard.press('Enter');
    await page.keyboard.type('extra:');
    const viewLines = async (): Promise<string[]> =>
      (await editor.locator('.view-line').allInnerTexts()).map((l) => l.replace(/\u00a0/g, ' '));
    await waitUntil('the key typed', async () => (await viewLines()).some((l) => l === 'extra:'), 10_000);
    await page.keyboard.press('Enter');
    await page.keyboard.type('zz');
    // The view renders the model a frame later: poll it rather than read it once.
    const typed = await waitUntil(
      'the next line indented',
      async () => (await viewLines()).find((l) => /^ {2}zz/.test(l)),
      5_000,
    ).catch(async () => assert.fail(`no indented "zz" line:\n${(await viewLines()).join('\n')}`));
    await page.screenshot({ path: path.join(shots, '10-enter-indents.png') });
    assert.match(typed, /^ {2}zz/);
    await page.keyboard.press('Control+Z');
  });
});
