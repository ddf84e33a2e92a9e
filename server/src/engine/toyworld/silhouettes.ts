// One silhouette per kind, drawn in a unit box (about −1…1 on both axes, y down) that the scene scales and
// places. `paint` fills the parts that carry the instance's colour and pattern; `ps` is the instance's
// part scale (head, handle, roof, wheels). Each kind also says where its body is (for the small mark) and
// where an accessory sits.
import type { Kind } from './world';

export interface Silhouette {
  svg: (paint: string, ps: number) => string;
  /** Body centre and half-extents: the small mark sits on it. */
  body: [number, number, number, number];
  /** Where a hat or bow sits (top of the head), and where a scarf goes (the neck). */
  top: [number, number];
  neck: [number, number];
}

const SHADE = 'fill="#000" opacity="0.3"';
const EYE = '#111';

export const SILHOUETTES: Record<Kind, Silhouette> = {
  dog: {
    svg: (p, ps) =>
      `<g fill="${p}"><ellipse cx="-0.1" cy="0.1" rx="0.7" ry="0.38"/>` +
      ['-0.65', '-0.4', '0.15', '0.4']
        .map((x) => `<rect x="${x}" y="0.3" width="0.15" height="0.6"/>`)
        .join('') +
      `<circle cx="0.62" cy="-0.3" r="${0.3 * ps}"/></g>` +
      `<path d="M -0.75 0 L -1 -0.4" stroke="${p}" stroke-width="0.12"/>` +
      `<ellipse cx="0.48" cy="${-0.3 + 0.05 * ps}" rx="0.1" ry="${0.22 * ps}" ${SHADE}/>` +
      `<circle cx="0.72" cy="-0.36" r="0.06" fill="${EYE}"/>`,
    body: [-0.1, 0.1, 0.7, 0.38],
    top: [0.62, -0.6],
    neck: [0.45, -0.1],
  },
  cat: {
    svg: (p, ps) =>
      `<g fill="${p}"><ellipse cx="-0.05" cy="0.15" rx="0.6" ry="0.33"/>` +
      ['-0.5', '-0.3', '0.2', '0.38']
        .map((x) => `<rect x="${x}" y="0.3" width="0.1" height="0.6"/>`)
        .join('') +
      `<circle cx="0.58" cy="-0.25" r="${0.28 * ps}"/>` +
      `<polygon points="0.38,-0.4 0.45,${-0.25 - 0.5 * ps} 0.58,-0.48"/><polygon points="0.6,-0.48 0.74,${-0.25 - 0.5 * ps} 0.8,-0.38"/></g>` +
      `<path d="M -0.62 0.1 Q -1 -0.2 -0.8 -0.75" fill="none" stroke="${p}" stroke-width="0.1"/>` +
      `<circle cx="0.66" cy="-0.3" r="0.05" fill="${EYE}"/>`,
    body: [-0.05, 0.15, 0.6, 0.33],
    top: [0.58, -0.6],
    neck: [0.42, -0.05],
  },
  bird: {
    svg: (p, ps) =>
      `<g fill="${p}"><ellipse cx="0" cy="0.15" rx="0.6" ry="0.45"/><circle cx="0.45" cy="-0.4" r="${0.27 * ps}"/></g>` +
      `<polygon points="${0.45 + 0.25 * ps},-0.45 ${0.45 + 0.5 * ps},-0.38 ${0.45 + 0.25 * ps},-0.3" fill="#f5a000"/>` +
      `<ellipse cx="-0.1" cy="0.1" rx="0.35" ry="0.2" ${SHADE}/>` +
      `<path d="M -0.1 0.55 L -0.15 0.95 M 0.15 0.55 L 0.2 0.95" stroke="#f5a000" stroke-width="0.07"/>` +
      `<circle cx="0.52" cy="-0.45" r="0.05" fill="${EYE}"/>`,
    body: [0, 0.15, 0.6, 0.45],
    top: [0.45, -0.7],
    neck: [0.35, -0.15],
  },
  rabbit: {
    svg: (p, ps) =>
      `<g fill="${p}"><ellipse cx="-0.1" cy="0.3" rx="0.6" ry="0.42"/><circle cx="0.45" cy="-0.1" r="${0.28 * ps}"/>` +
      `<ellipse cx="0.35" cy="${-0.3 - 0.35 * ps}" rx="0.08" ry="${0.35 * ps}"/><ellipse cx="0.55" cy="${-0.3 - 0.35 * ps}" rx="0.08" ry="${0.35 * ps}"/></g>` +
      `<circle cx="-0.72" cy="0.2" r="0.13" fill="#fafafa"/>` +
      `<circle cx="0.55" cy="-0.15" r="0.05" fill="${EYE}"/>`,
    body: [-0.1, 0.3, 0.6, 0.42],
    top: [0.45, -0.4],
    neck: [0.35, 0.15],
  },
  teddy: {
    svg: (p, ps) =>
      `<g fill="${p}"><circle cx="0" cy="0.35" r="0.5"/><circle cx="0" cy="-0.4" r="${0.38 * ps}"/>` +
      `<circle cx="-0.3" cy="${-0.4 - 0.3 * ps}" r="0.14"/><circle cx="0.3" cy="${-0.4 - 0.3 * ps}" r="0.14"/>` +
      `<ellipse cx="-0.55" cy="0.2" rx="0.15" ry="0.3"/><ellipse cx="0.55" cy="0.2" rx="0.15" ry="0.3"/></g>` +
      `<ellipse cx="0" cy="-0.3" rx="0.14" ry="0.1" fill="#f0e0c8"/>` +
      `<circle cx="-0.12" cy="-0.48" r="0.05" fill="${EYE}"/><circle cx="0.12" cy="-0.48" r="0.05" fill="${EYE}"/>`,
    body: [0, 0.35, 0.45, 0.45],
    top: [0, -0.85],
    neck: [0, -0.05],
  },
  mug: {
    svg: (p, ps) =>
      `<circle cx="0.55" cy="0.05" r="${0.3 * ps}" fill="none" stroke="${p}" stroke-width="0.14"/>` +
      `<rect x="-0.6" y="-0.7" width="1.1" height="1.5" rx="0.08" fill="${p}"/>` +
      `<ellipse cx="-0.05" cy="-0.7" rx="0.55" ry="0.08" ${SHADE}/>`,
    body: [-0.05, 0.05, 0.55, 0.75],
    top: [-0.05, -0.75],
    neck: [-0.05, 0.6],
  },
  car: {
    svg: (p, ps) =>
      `<g fill="${p}"><rect x="-1" y="-0.05" width="2" height="0.5" rx="0.1"/><polygon points="-0.55,-0.05 -0.35,-0.5 0.35,-0.5 0.6,-0.05"/></g>` +
      `<polygon points="-0.4,-0.1 -0.28,-0.42 0.28,-0.42 0.45,-0.1" fill="#bfe3f5"/>` +
      `<circle cx="-0.55" cy="0.48" r="${0.22 * ps}" fill="#151515"/><circle cx="0.55" cy="0.48" r="${0.22 * ps}" fill="#151515"/>`,
    body: [0, 0.2, 0.9, 0.22],
    top: [0, -0.55],
    neck: [-0.8, 0.05],
  },
  lamp: {
    svg: (p, ps) =>
      `<rect x="-0.06" y="-0.25" width="0.12" height="0.95" fill="#555"/>` +
      `<g fill="${p}"><polygon points="-0.55,-0.15 0.55,-0.15 0.32,-0.85 -0.32,-0.85"/><ellipse cx="0" cy="0.75" rx="${0.42 * ps}" ry="0.13"/></g>`,
    body: [0, -0.5, 0.4, 0.3],
    top: [0, -0.88],
    neck: [0, 0.2],
  },
  house: {
    svg: (p, ps) =>
      `<rect x="-0.7" y="-0.2" width="1.4" height="1.05" fill="${p}"/>` +
      `<polygon points="-0.85,-0.2 0,${-0.2 - 0.7 * ps} 0.85,-0.2" fill="#5a3a22"/>` +
      `<rect x="-0.15" y="0.35" width="0.3" height="0.5" fill="#3a2a1a"/><rect x="0.3" y="0" width="0.25" height="0.22" fill="#cfe8f7"/>`,
    body: [0, 0.32, 0.65, 0.5],
    top: [0, -0.2 - 0.7],
    neck: [0, -0.2],
  },
  tower: {
    svg: (p, ps) =>
      `<rect x="-0.3" y="-0.55" width="0.6" height="1.5" fill="${p}"/>` +
      `<polygon points="-0.38,-0.55 0,${-0.55 - 0.45 * ps} 0.38,-0.55" fill="#333"/>` +
      `<rect x="-0.08" y="-0.35" width="0.16" height="0.2" fill="#222"/><rect x="-0.08" y="0.65" width="0.16" height="0.3" fill="#222"/>`,
    body: [0, 0.2, 0.28, 0.7],
    top: [0, -1],
    neck: [0, -0.5],
  },
  person: {
    svg: (p, ps) =>
      `<rect x="-0.25" y="0.3" width="0.2" height="0.65" fill="#2b3a67"/><rect x="0.05" y="0.3" width="0.2" height="0.65" fill="#2b3a67"/>` +
      `<g fill="${p}"><polygon points="-0.35,-0.35 0.35,-0.35 0.45,0.38 -0.45,0.38"/>` +
      `<rect x="-0.6" y="-0.32" width="0.22" height="0.55" rx="0.08"/><rect x="0.38" y="-0.32" width="0.22" height="0.55" rx="0.08"/></g>` +
      `<circle cx="0" cy="-0.6" r="${0.24 * ps}" fill="#f0c8a0"/>` +
      `<path d="M ${-0.24 * ps} -0.62 A ${0.24 * ps} ${0.24 * ps} 0 0 1 ${0.24 * ps} -0.62 Z" fill="#3b2a1a"/>`,
    body: [0, 0, 0.38, 0.32],
    top: [0, -0.6 - 0.24],
    neck: [0, -0.36],
  },
  monster: {
    svg: (p, ps) =>
      `<path d="M -0.1 -0.9 L -0.3 -0.55 M 0.1 -0.9 L 0.3 -0.55" stroke="#333" stroke-width="0.06"/>` +
      `<circle cx="-0.1" cy="-0.9" r="0.08" fill="#333"/><circle cx="0.1" cy="-0.9" r="0.08" fill="#333"/>` +
      `<path d="M -0.7 0.8 L -0.7 0 Q -0.7 -0.6 0 -0.6 Q 0.7 -0.6 0.7 0 L 0.7 0.8 L 0.45 0.6 L 0.2 0.8 L 0 0.6 L -0.2 0.8 L -0.45 0.6 Z" fill="${p}"/>` +
      `<circle cx="0" cy="-0.15" r="${0.24 * ps}" fill="#fff"/><circle cx="0.05" cy="-0.15" r="${0.1 * ps}" fill="#111"/>`,
    body: [0, 0.25, 0.6, 0.45],
    top: [0, -0.62],
    neck: [0, 0.1],
  },
};

/** Hat, bow or scarf at the silhouette's anchors, in the same unit box. */
export function accessorySvg(kind: Kind, accessory: string, color: string): string {
  const s = SILHOUETTES[kind];
  const [tx, ty] = s.top;
  const [nx, ny] = s.neck;
  switch (accessory) {
    case 'hat':
      return `<g fill="${color}"><rect x="${tx - 0.3}" y="${ty - 0.06}" width="0.6" height="0.1"/><rect x="${tx - 0.18}" y="${ty - 0.4}" width="0.36" height="0.36"/></g>`;
    case 'bow':
      return `<g fill="${color}"><polygon points="${tx},${ty} ${tx - 0.3},${ty - 0.18} ${tx - 0.3},${ty + 0.14}"/><polygon points="${tx},${ty} ${tx + 0.3},${ty - 0.18} ${tx + 0.3},${ty + 0.14}"/><circle cx="${tx}" cy="${ty}" r="0.07"/></g>`;
    case 'scarf':
      return `<rect x="${nx - 0.3}" y="${ny - 0.09}" width="0.6" height="0.18" rx="0.05" fill="${color}"/><rect x="${nx - 0.05}" y="${ny}" width="0.14" height="0.35" fill="${color}"/>`;
    default:
      return '';
  }
}
