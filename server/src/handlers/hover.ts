// Hover: the schema's description of the key under the cursor; on image folders also how many images they
// hold and thumbnails of the first few; on an image path its thumbnail. Images the last recognition
// preview scored carry their score.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import type { Hover } from 'vscode-languageserver';
import { FILE_CAPS, keyAtLine, isFolderField, readRegularFile, schemaAt } from '../engine';
import type { RecognitionReport } from '../protocol';

const IMAGE_EXTENSION = /\.(?:png|jpe?g|webp|gif|bmp|tiff?)$/i;
/** How far around the cursor a path is looked for: a hostile line may be megabytes long. */
const WINDOW = 1024;

/** The token under the cursor (delimited by spaces, quotes, brackets and commas) and where it starts. */
function tokenAt(text: string, offset: number): { token: string; start: number } | null {
  const delimiter = /[\s"'[\],{}]/;
  let start = offset;
  let end = offset;
  while (start > 0 && offset - start < WINDOW && !delimiter.test(text[start - 1]!)) start--;
  while (end < text.length && end - offset < WINDOW && !delimiter.test(text[end]!)) end++;
  return end > start ? { token: text.slice(start, end), start } : null;
}

function scoreLine(file: string, report: RecognitionReport | undefined): string {
  const item = report?.items.find((i) => path.resolve(i.image) === path.resolve(file));
  if (!item) return '';
  const mark = item.present ? '✓' : '✗';
  return ` ${mark} score ${item.score.toFixed(2)} (threshold ${report!.threshold.toFixed(2)})${item.wrong ? ' — wrong' : ''}`;
}

export async function hover(
  text: string,
  offset: number,
  images: Map<string, string[]>,
  recognition?: RecognitionReport,
  subjectFile?: string,
  /** Whether a thumbnail of `file` may be read (Restricted Mode: only inside the workspace). */
  mayRead: (file: string) => boolean = () => true,
): Promise<{ hover: Hover; start: number; end: number } | null> {
  // An image path under the cursor: its thumbnail and score.
  const under = tokenAt(text, offset);
  if (under && subjectFile && IMAGE_EXTENSION.test(under.token)) {
    const start = under.start;
    const end = start + under.token.length;
    const file = path.resolve(path.dirname(subjectFile), under.token);
    const parts = [`**${path.basename(file)}**${scoreLine(file, recognition)}`];
    if (!mayRead(file)) {
      parts.push('outside the workspace: not shown in Restricted Mode');
      return { hover: { contents: { kind: 'markdown', value: parts.join('\n\n') } }, start, end };
    }
    const thumb = await thumbnail(file, 96);
    if (thumb) parts.push(`![${path.basename(file)}](${thumb})`);
    else parts.push('not a readable image');
    return { hover: { contents: { kind: 'markdown', value: parts.join('\n\n') } }, start, end };
  }
  const key = keyAtLine(text, offset);
  if (!key) return null;
  const node = schemaAt(key.path);
  if (!node) return null;
  const parts = [`**${key.path.join('.')}**`, node.description ?? ''];
  if (node.enum) parts.push(`One of: ${node.enum.map((e) => `\`${e}\``).join(', ')}`);
  if (node.default !== undefined) parts.push(`Default: \`${JSON.stringify(node.default)}\``);
  if (isFolderField(key.path)) {
    const field = key.path.join('.');
    const files =
      field === 'negatives.pools'
        ? [...images.entries()].filter(([k]) => k.startsWith('negatives.pools')).flatMap(([, v]) => v)
        : (images.get(field) ?? []);
    if (field !== 'model') {
      parts.push(`${files.length} image(s)`);
      const shownFiles = files.filter(mayRead).slice(0, 6);
      const thumbs = await Promise.all(shownFiles.map((f) => thumbnail(f, 48)));
      const scored = shownFiles.some((f) => scoreLine(f, recognition));
      const shown = thumbs
        .map((t, i) => (t ? { t, f: shownFiles[i]! } : null))
        .filter((x): x is { t: string; f: string } => x !== null);
      if (shown.length && scored)
        parts.push(
          shown.map(({ t, f }) => `![${path.basename(f)}](${t})${scoreLine(f, recognition)}`).join('\n\n'),
        );
      else if (shown.length) parts.push(shown.map(({ t, f }) => `![${path.basename(f)}](${t})`).join(' '));
    }
  }
  return {
    hover: { contents: { kind: 'markdown', value: parts.filter(Boolean).join('\n\n') } },
    start: key.start,
    end: key.end,
  };
}

/** Thumbnails made, by file, size, modification time and side: hovering again costs a stat. */
const thumbnails = new Map<string, Promise<string | null>>();
const MAX_THUMBNAILS = 512;

/**
 * A PNG data URI of `file` cropped to `side` px, or null when it is not a readable image. Concurrent hovers
 * on the same file share one decode, and the result is kept (least recently used out first): a thousand
 * hovers at once made a thousand decodes, and sharp's few threads queued them for seconds.
 */
async function thumbnail(file: string, side: number): Promise<string | null> {
  let key: string;
  try {
    const st = await stat(file);
    key = `${file}\0${side}\0${st.mtimeMs}\0${st.size}`;
  } catch {
    return null;
  }
  let made = thumbnails.get(key);
  if (made) {
    thumbnails.delete(key);
  } else {
    made = makeThumbnail(file, side);
    if (thumbnails.size >= MAX_THUMBNAILS) thumbnails.delete(thumbnails.keys().next().value!);
  }
  thumbnails.set(key, made);
  return made;
}

async function makeThumbnail(file: string, side: number): Promise<string | null> {
  try {
    // Bytes read as a regular file first: sharp would open a FIFO on libuv's pool and wait there for good.
    const bytes = await readRegularFile(file, 'a photo', FILE_CAPS.image);
    const png = await sharp(bytes, { limitInputPixels: 120_000_000 })
      .resize(side, side, { fit: 'cover' })
      .png()
      .toBuffer();
    return `data:image/png;base64,${png.toString('base64')}`;
  } catch {
    return null;
  }
}
