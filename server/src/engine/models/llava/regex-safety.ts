// Regular expressions that a tokenizer.json brings (its pre-tokenizer's Split, its normalizer's Replace)
// run over every text the user types. JavaScript's engine backtracks, so a pattern with a quantified group
// that itself repeats or branches — "(a+)+$", "(x|x)*" — can take exponential time on a short input and
// pin a core for minutes. Real tokenizers' patterns never quantify such a group; one that does is refused.

/** The patterns found under `json` (any {"Regex": "..."} object, at any depth). */
export function tokenizerPatterns(json: unknown, out: string[] = []): string[] {
  if (Array.isArray(json)) for (const v of json) tokenizerPatterns(v, out);
  else if (json && typeof json === 'object') {
    for (const [k, v] of Object.entries(json as Record<string, unknown>)) {
      if (k === 'Regex' && typeof v === 'string') out.push(v);
      else if (k !== 'model' && k !== 'added_tokens') tokenizerPatterns(v, out); // the vocab holds no patterns
    }
  }
  return out;
}

/**
 * Why `pattern` could backtrack without bound, or null: a group repeated by +, * or {n,} (or {n,m} with
 * m > 1) whose body holds a quantifier or an alternation. Character classes and escapes are skipped.
 */
export function backtrackingRisk(pattern: string): string | null {
  // For each open group: whether its body so far holds a quantifier or a '|'.
  const stack: { risky: boolean; start: number }[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\') {
      i++; // the escaped character, whatever it is
      continue;
    }
    if (c === '[') {
      // a character class: up to its closing ']' (an escaped ']' or a leading one does not close it)
      i++;
      if (pattern[i] === '^') i++;
      if (pattern[i] === ']') i++;
      while (i < pattern.length && pattern[i] !== ']') i += pattern[i] === '\\' ? 2 : 1;
      continue;
    }
    if (c === '(') {
      stack.push({ risky: false, start: i });
      continue;
    }
    if (c === '|' || isQuantifierAt(pattern, i)) {
      if (stack.length) stack[stack.length - 1]!.risky = true;
      continue;
    }
    if (c === ')') {
      const g = stack.pop();
      if (!g) continue;
      if (g.risky && repeatsAt(pattern, i + 1))
        return `the group at character ${g.start + 1} repeats a body that itself repeats or branches`;
      if (g.risky && stack.length) stack[stack.length - 1]!.risky = true;
    }
  }
  return null;
}

function isQuantifierAt(p: string, i: number): boolean {
  const c = p[i];
  return c === '+' || c === '*' || (c === '{' && /^\{\d+,\d*\}/.test(p.slice(i)));
}

/** Whether the quantifier at `i` (if any) lets what precedes it repeat more than once. */
function repeatsAt(p: string, i: number): boolean {
  const c = p[i];
  if (c === '+' || c === '*') return true;
  const m = /^\{(\d+)(,(\d*))?\}/.exec(p.slice(i));
  if (!m) return false;
  if (m[2] === undefined) return Number(m[1]) > 1;
  return m[3] === '' || Number(m[3]) > 1;
}
