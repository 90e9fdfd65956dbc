/**
 * "did you mean …?" for mistyped flags, commands, class and model names: the closest candidates by
 * edit distance (optimal string alignment: insertions, deletions, substitutions and adjacent swaps each
 * cost 1, case-insensitive), kept when the distance is small for the word's length.
 */

/** Optimal-string-alignment distance between a and b (Damerau–Levenshtein without repeated edits of a substring). */
export function editDistance(a: string, b: string): number {
  const m = a.length,
    n = b.length;
  const d: number[][] = Array.from({ length: m + 1 }, (_, i) =>
    Array.from({ length: n + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= m; i++) {
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[m][n];
}

/**
 * Candidates close to `word`, best first (at most `max`): distance ≤ max(1, ⌊len/3⌋), or `word` is a
 * prefix of the candidate (`--epoch` → `--epochs`, `--lr-back` → `--lr-backbone`).
 */
export function closest(word: string, candidates: readonly string[], max = 3): string[] {
  const w = word.toLowerCase();
  const limit = Math.max(1, Math.floor(w.length / 3));
  return candidates
    .map((c) => ({ c, d: editDistance(w, c.toLowerCase()), prefix: w.length >= 3 && c.toLowerCase().startsWith(w) }))
    .filter((x) => x.d > 0 && (x.d <= limit || x.prefix))
    .sort((x, y) => x.d - y.d || x.c.localeCompare(y.c))
    .slice(0, max)
    .map((x) => x.c);
}

/** `; did you mean '--epochs'?` (or `… '--a' or '--b'?`), or '' when nothing is close. */
export function didYouMean(word: string, candidates: readonly string[], quote = (s: string) => `'${s}'`): string {
  const c = closest(word, candidates);
  return c.length ? `did you mean ${c.map(quote).join(' or ')}?` : '';
}
