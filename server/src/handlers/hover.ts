// Hover: the schema's description of the key under the cursor; on image folders also how many images they
// hold and small thumbnails of the first few.
import path from 'node:path';
import sharp from 'sharp';
import type { Hover } from 'vscode-languageserver';
import { keyAtLine, isFolderField, schemaAt } from '../subject/schema-navigation';

export async function hover(
  text: string,
  offset: number,
  images: Map<string, string[]>,
): Promise<{ hover: Hover; start: number; end: number } | null> {
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
      const thumbs = await Promise.all(files.slice(0, 6).map(thumbnail));
      const shown = thumbs.filter(Boolean).map((t, i) => `![${path.basename(files[i]!)}](${t})`);
      if (shown.length) parts.push(shown.join(' '));
    }
  }
  return {
    hover: { contents: { kind: 'markdown', value: parts.filter(Boolean).join('\n\n') } },
    start: key.start,
    end: key.end,
  };
}

async function thumbnail(file: string): Promise<string | null> {
  try {
    const png = await sharp(file, { limitInputPixels: 120_000_000 })
      .resize(48, 48, { fit: 'cover' })
      .png()
      .toBuffer();
    return `data:image/png;base64,${png.toString('base64')}`;
  } catch {
    return null;
  }
}
