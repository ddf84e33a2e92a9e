// ToyWorld scenes: procedural pictures of objects with a kind, colour, pattern and accessory on a varied
// background, rendered from SVG by sharp. Their ground truth makes personalization measurable.
import sharp from 'sharp';
import { Rng } from '../util/rng';

export const KINDS = ['mug', 'ball', 'box', 'star', 'cone', 'ring'] as const;
export const COLORS: Record<string, string> = {
  red: '#d62828',
  green: '#2a9d3f',
  blue: '#1d4ed8',
  yellow: '#f2c230',
  purple: '#7b2cbf',
  orange: '#f77f00',
  white: '#f1f1f1',
  black: '#222222',
};
export const PATTERNS = ['plain', 'stripes', 'dots'] as const;
export const ACCESSORIES = ['none', 'hat', 'bow'] as const;

export interface ObjectSpec {
  kind: (typeof KINDS)[number];
  color: string;
  pattern: (typeof PATTERNS)[number];
  accessory: (typeof ACCESSORIES)[number];
}

export interface SceneSpec {
  object: ObjectSpec;
  background: string;
  /** Centre and size as fractions of the image. */
  x: number;
  y: number;
  scale: number;
  /** Distractor shapes in the background. */
  clutter: { x: number; y: number; r: number; color: string }[];
}

function shapePath(kind: ObjectSpec['kind'], cx: number, cy: number, r: number): string {
  switch (kind) {
    case 'ball':
      return `<circle cx="${cx}" cy="${cy}" r="${r}"/>`;
    case 'box':
      return `<rect x="${cx - r}" y="${cy - r}" width="${2 * r}" height="${2 * r}"/>`;
    case 'mug':
      return `<rect x="${cx - r * 0.8}" y="${cy - r}" width="${1.6 * r}" height="${2 * r}" rx="${r * 0.2}"/><circle cx="${cx + r}" cy="${cy}" r="${r * 0.45}" fill="none" stroke-width="${r * 0.25}"/>`;
    case 'cone':
      return `<polygon points="${cx},${cy - r} ${cx + r},${cy + r} ${cx - r},${cy + r}"/>`;
    case 'ring':
      return `<circle cx="${cx}" cy="${cy}" r="${r * 0.75}" fill="none" stroke-width="${r * 0.5}"/>`;
    case 'star': {
      const pts: string[] = [];
      for (let i = 0; i < 10; i++) {
        const a = (Math.PI / 5) * i - Math.PI / 2;
        const rr = i % 2 ? r * 0.45 : r;
        pts.push(`${(cx + rr * Math.cos(a)).toFixed(1)},${(cy + rr * Math.sin(a)).toFixed(1)}`);
      }
      return `<polygon points="${pts.join(' ')}"/>`;
    }
  }
}

export function sceneSvg(s: SceneSpec, size: number): string {
  const { object: o } = s;
  const cx = s.x * size;
  const cy = s.y * size;
  const r = s.scale * size * 0.5;
  const fill = COLORS[o.color] ?? o.color;
  const pattern =
    o.pattern === 'stripes'
      ? `<pattern id="p" width="${r / 2}" height="${r / 2}" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="${r / 2}" height="${r / 2}" fill="${fill}"/><rect width="${r / 5}" height="${r / 2}" fill="#ffffff"/></pattern>`
      : o.pattern === 'dots'
        ? `<pattern id="p" width="${r / 2}" height="${r / 2}" patternUnits="userSpaceOnUse"><rect width="${r / 2}" height="${r / 2}" fill="${fill}"/><circle cx="${r / 4}" cy="${r / 4}" r="${r / 10}" fill="#ffffff"/></pattern>`
        : '';
  const paint = o.pattern === 'plain' ? fill : 'url(#p)';
  const accessory =
    o.accessory === 'hat'
      ? `<polygon points="${cx - r * 0.5},${cy - r} ${cx + r * 0.5},${cy - r} ${cx},${cy - r * 1.7}" fill="#111111"/>`
      : o.accessory === 'bow'
        ? `<polygon points="${cx},${cy - r * 1.05} ${cx - r * 0.5},${cy - r * 1.35} ${cx - r * 0.5},${cy - r * 0.75}" fill="#ff4fa3"/><polygon points="${cx},${cy - r * 1.05} ${cx + r * 0.5},${cy - r * 1.35} ${cx + r * 0.5},${cy - r * 0.75}" fill="#ff4fa3"/>`
        : '';
  const clutter = s.clutter
    .map(
      (c) =>
        `<circle cx="${c.x * size}" cy="${c.y * size}" r="${c.r * size}" fill="${c.color}" opacity="0.6"/>`,
    )
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}"><defs>${pattern}</defs><rect width="${size}" height="${size}" fill="${s.background}"/>${clutter}<g fill="${paint}" stroke="${paint}">${shapePath(o.kind, cx, cy, r)}</g>${accessory}</svg>`;
}

export async function renderScene(s: SceneSpec, size = 64): Promise<Buffer> {
  return sharp(Buffer.from(sceneSvg(s, size)))
    .png()
    .toBuffer();
}

export function randomBackground(rng: Rng): string {
  const h = rng.int(360);
  return `hsl(${h}, ${20 + rng.int(30)}%, ${55 + rng.int(35)}%)`;
}

/** A scene of `object` with random placement, background and clutter. */
export function randomScene(object: ObjectSpec, rng: Rng): SceneSpec {
  const clutter = Array.from({ length: rng.int(3) }, () => ({
    x: rng.next(),
    y: rng.next(),
    r: 0.05 + 0.08 * rng.next(),
    color: randomBackground(rng),
  }));
  return {
    object,
    background: randomBackground(rng),
    x: 0.35 + 0.3 * rng.next(),
    y: 0.4 + 0.25 * rng.next(),
    scale: 0.35 + 0.2 * rng.next(),
    clutter,
  };
}

export function randomObject(rng: Rng): ObjectSpec {
  const colors = Object.keys(COLORS);
  return {
    kind: KINDS[rng.int(KINDS.length)]!,
    color: colors[rng.int(colors.length)]!,
    pattern: PATTERNS[rng.int(PATTERNS.length)]!,
    accessory: ACCESSORIES[rng.int(ACCESSORIES.length)]!,
  };
}
