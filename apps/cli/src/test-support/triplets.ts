// Authored finance/general triplet files for the prune, score and decoder command tests.
import fs from 'node:fs';

export type TripletRow = [query: string, positive: string, negative: string];

/** Writes rows as triplets JSONL ({query, positive, negative} per line) and returns the file. */
export function writeTriplets(file: string, rows: readonly TripletRow[]): string {
  fs.writeFileSync(file, rows.map(([query, positive, negative]) => JSON.stringify({ query, positive, negative })).join('\n') + '\n');
  return file;
}

export const FINANCE_TRIPLETS: readonly TripletRow[] = [
  ['net sales in 2020', 'Revenue for 2020 was $3.1 billion.', 'The museum reopened in May.'],
  ['quarterly dividend', 'The board declared a dividend of $0.20 per share.', 'Snow fell overnight.'],
  ['long-term borrowings', 'Long-term debt totalled $900 million.', 'He plays the violin.'],
];

export const GENERAL_TRIPLETS: readonly TripletRow[] = [
  ['a cat sleeps', 'the cat is asleep', 'sales rose 3%'],
  ['it is raining', 'rain is falling', 'the bond matured'],
];
