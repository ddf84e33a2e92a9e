// End to end in a real VS Code (code-server + chromium): the packaged extension activates on samples/,
// validates bo.subject.yaml, shows a diagnostic when a field breaks and clears it when fixed.
// Screenshots go to test-results/e2e/.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setupTools, startWorkbench, waitUntil, type Workbench } from '../helpers/code-server';

const root = path.join(__dirname, '..', '..');
const shots = path.join(root, 'test-results', 'e2e');

describe('VS Code end to end', { timeout: 15 * 60_000 }, () => {
  let wb: Workbench;
  before(async () => {
    mkdirSync(shots, { recursive: true });
    const { tools, vsix } = setupTools();
    wb = await startWorkbench(tools, vsix, path.join(root, 'samples'));
  });
  after(async () => {
    await wb?.close();
  });

  it('a broken field shows a diagnostic, and fixing it clears the diagnostic', async () => {
    const { page } = wb;
    await page.keyboard.press('Control+P');
    await page.waitForSelector('.quick-input-widget input');
    await page.keyboard.type('bo.subject.yaml');
    await waitUntil('the file in quick open', () =>
      page.locator('.quick-input-list .monaco-list-row').count(),
    );
    await page.keyboard.press('Enter');
    await waitUntil('the editor to show the subject', async () =>
      (await page.locator('.monaco-editor .view-lines').innerText()).includes('category'),
    );
    // The language server validated the file: the status bar names the subject with no problems.
    const status = page.locator('.statusbar-item', { hasText: '<bo>' });
    await waitUntil('the yollava status bar item', () => status.count(), 90_000);
    await page.screenshot({ path: path.join(shots, '1-valid.png') });
    assert.equal(await page.locator('.monaco-editor .squiggly-error').count(), 0);

    // Break "category: pet" (line 2) into "category: pat".
    await page.locator('.monaco-editor .view-lines').click();
    await page.keyboard.press('Control+G');
    await page.keyboard.type('2');
    await page.keyboard.press('Enter');
    await page.keyboard.press('End');
    for (let i = 0; i < 3; i++) await page.keyboard.press('Backspace');
    await page.keyboard.type('pat');
    await page.keyboard.press('Escape');
    await waitUntil(
      'an error squiggle',
      () => page.locator('.monaco-editor .squiggly-error').count(),
      30_000,
    );
    // The Problems panel lists the server's message.
    await page.keyboard.press('Control+Shift+M');
    await waitUntil(
      'the message in the Problems panel',
      async () => (await page.locator('.markers-panel').innerText()).includes('category: must be one of'),
      15_000,
    );
    await page.screenshot({ path: path.join(shots, '2-broken.png') });

    await page.locator('.monaco-editor .view-lines').click();
    await page.keyboard.press('Control+G');
    await page.keyboard.type('2');
    await page.keyboard.press('Enter');
    await page.keyboard.press('End');
    for (let i = 0; i < 3; i++) await page.keyboard.press('Backspace');
    await page.keyboard.type('pet');
    await page.keyboard.press('Escape');
    await waitUntil(
      'the squiggle to clear',
      async () => (await page.locator('.monaco-editor .squiggly-error').count()) === 0,
      30_000,
    );
    await page.screenshot({ path: path.join(shots, '3-fixed.png') });
  });
});
