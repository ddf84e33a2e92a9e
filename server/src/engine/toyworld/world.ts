// ToyWorld's ontology: object kinds with their own silhouettes, the nameable attributes (colour, pattern,
// accessory), and per-instance fine details that words never name (proportions, the layout of the
// markings, one small mark in a particular place). Two instances can share every nameable attribute and
// still differ in these details, as two yellow labradors do: that is what makes personalization needed.
import type { Rng } from '../util/rng';
import type { Category } from '../personalize/templates';

export interface KindInfo {
  category: Category;
  /** What it is made of, for "What is <subject> made of?". */
  material: string;
}

export const KINDS = {
  dog: { category: 'pet', material: 'fur' },
  cat: { category: 'pet', material: 'fur' },
  bird: { category: 'pet', material: 'feathers' },
  rabbit: { category: 'pet', material: 'fur' },
  teddy: { category: 'object', material: 'fabric' },
  mug: { category: 'object', material: 'ceramic' },
  car: { category: 'object', material: 'metal' },
  lamp: { category: 'object', material: 'glass' },
  house: { category: 'landmark', material: 'brick' },
  tower: { category: 'landmark', material: 'stone' },
  person: { category: 'person', material: 'cloth' },
  monster: { category: 'fiction', material: 'clay' },
} as const satisfies Record<string, KindInfo>;

export type Kind = keyof typeof KINDS;
export const KIND_NAMES = Object.keys(KINDS) as Kind[];
export type Material = (typeof KINDS)[Kind]['material'];
export const MATERIALS = [...new Set(KIND_NAMES.map((k) => KINDS[k].material))] as Material[];

export const COLORS = {
  red: '#d62828',
  green: '#2a9d3f',
  blue: '#1d4ed8',
  yellow: '#f2c230',
  purple: '#7b2cbf',
  orange: '#f77f00',
  white: '#f4f4f4',
  black: '#202020',
  pink: '#f06292',
  brown: '#8d5524',
} as const;
export type Color = keyof typeof COLORS;
export const COLOR_NAMES = Object.keys(COLORS) as Color[];

export const PATTERNS = ['plain', 'striped', 'dotted'] as const;
export type Pattern = (typeof PATTERNS)[number];
export const ACCESSORIES = ['none', 'hat', 'bow', 'scarf'] as const;
export type Accessory = (typeof ACCESSORIES)[number];
export const ACCESSORY_COLORS: Color[] = ['red', 'blue', 'green', 'yellow', 'black', 'white'];

/** Spots on the body (as fractions of its half-extent) where an instance's small mark can sit. */
export const MARK_SPOTS: [number, number][] = [
  [-0.55, -0.35],
  [0, -0.45],
  [0.55, -0.35],
  [-0.55, 0.4],
  [0, 0.45],
  [0.55, 0.4],
];

/** What words never say: they tell look-alikes apart. */
export interface FineDetails {
  /** Width ÷ height of the body, around 1. */
  aspect: number;
  /** Size of the secondary part (head, handle, roof, wheels), around 1. */
  partScale: number;
  /** Offset and spacing of the dots or stripes (fractions of a period), and the stripes' angle. */
  patternPhase: [number, number];
  patternSpacing: number;
  stripeAngle: number;
  /** Index into MARK_SPOTS, and the mark's tone: 0 light, 1 dark. */
  markSpot: number;
  markTone: 0 | 1;
}

export interface ObjectInstance {
  kind: Kind;
  color: Color;
  pattern: Pattern;
  accessory: Accessory;
  accessoryColor: Color;
  details: FineDetails;
}

export function pick<T>(rng: Rng, xs: readonly T[]): T {
  return xs[rng.int(xs.length)]!;
}

export function randomDetails(rng: Rng): FineDetails {
  return {
    aspect: 0.75 + 0.5 * rng.next(),
    partScale: 0.75 + 0.5 * rng.next(),
    patternPhase: [rng.next(), rng.next()],
    patternSpacing: 0.8 + 0.5 * rng.next(),
    stripeAngle: 20 + 50 * rng.next(),
    markSpot: rng.int(MARK_SPOTS.length),
    markTone: rng.int(2) as 0 | 1,
  };
}

export function randomInstance(rng: Rng, kind?: Kind): ObjectInstance {
  const accessory = pick(rng, ACCESSORIES);
  return {
    kind: kind ?? pick(rng, KIND_NAMES),
    color: pick(rng, COLOR_NAMES),
    pattern: pick(rng, PATTERNS),
    accessory,
    accessoryColor: pick(rng, ACCESSORY_COLORS),
    details: randomDetails(rng),
  };
}

/** Another instance with every nameable attribute the same and visibly different fine details. */
export function lookalike(o: ObjectInstance, rng: Rng): ObjectInstance {
  const d = randomDetails(rng);
  // The mark sits elsewhere and has the other tone: a person's dog has its light patch on the left
  // shoulder, and the look-alike at the park a dark one on its back.
  d.markSpot = (o.details.markSpot + 1 + rng.int(MARK_SPOTS.length - 1)) % MARK_SPOTS.length;
  d.markTone = o.details.markTone === 0 ? 1 : 0;
  // Push the proportions apart too, so that two look-alikes never coincide by chance.
  if (Math.abs(d.aspect - o.details.aspect) < 0.2) d.aspect = o.details.aspect < 1 ? 1.15 : 0.8;
  return { ...o, details: d };
}

export type Attribute = 'kind' | 'color' | 'pattern' | 'accessory';

/** The same instance with exactly one nameable attribute changed (a hard negative for descriptions). */
export function oneAttributeOff(o: ObjectInstance, rng: Rng, attr?: Attribute): ObjectInstance {
  const which = attr ?? pick(rng, ['kind', 'color', 'pattern', 'accessory'] as const);
  const other = <T>(xs: readonly T[], cur: T): T =>
    pick(
      rng,
      xs.filter((x) => x !== cur),
    );
  switch (which) {
    case 'kind':
      return { ...o, kind: other(KIND_NAMES, o.kind) };
    case 'color':
      return { ...o, color: other(COLOR_NAMES, o.color) };
    case 'pattern':
      return { ...o, pattern: other(PATTERNS, o.pattern) };
    case 'accessory':
      return o.accessory === 'none' || rng.int(2)
        ? { ...o, accessory: other(ACCESSORIES, o.accessory) }
        : { ...o, accessoryColor: other(ACCESSORY_COLORS, o.accessoryColor) };
  }
}

export function sameAttributes(a: ObjectInstance, b: ObjectInstance): boolean {
  return (
    a.kind === b.kind &&
    a.color === b.color &&
    a.pattern === b.pattern &&
    a.accessory === b.accessory &&
    (a.accessory === 'none' || a.accessoryColor === b.accessoryColor)
  );
}

export function categoryOf(kind: Kind): Category {
  return KINDS[kind].category;
}

/** "a yellow dotted dog with a red bow" */
export function describe(o: ObjectInstance): string {
  const pattern = o.pattern === 'plain' ? '' : `${o.pattern} `;
  return `${article(o.color)} ${o.color} ${pattern}${o.kind}${accessoryPhrase(o)}`;
}

export function accessoryPhrase(o: ObjectInstance): string {
  return o.accessory === 'none' ? '' : ` with a ${o.accessoryColor} ${o.accessory}`;
}

export function article(word: string): 'a' | 'an' {
  return /^[aeiou]/.test(word) ? 'an' : 'a';
}
